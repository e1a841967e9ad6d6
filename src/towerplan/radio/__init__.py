"""Radio engine: path-loss kernels and the link budget. Pure numeric code, no file I/O."""

from towerplan.radio.linkbudget import eirp_dbm, mapl_db, rsrp_dbm, subcarriers
from towerplan.radio.models import fspl_db, hata_db

__all__ = ["eirp_dbm", "fspl_db", "hata_db", "mapl_db", "rsrp_dbm", "subcarriers"]
