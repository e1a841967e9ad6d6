"""Radio engine: path-loss kernels, terrain diffraction, clutter, ITM and the link budget.

Pure numeric code: functions take scalars, numpy arrays and an ``Affine``, never a path, and
the package imports without geopandas or rasterio.
"""

from towerplan.radio.chain import LossTerms, ModelChain, chain_loss, parse_chain
from towerplan.radio.clutter import WORLDCOVER_CLUTTER, clutter_loss_db, vegetation_depth_m
from towerplan.radio.diffraction import (
    diffraction_db,
    diffraction_many_db,
    earth_bulge_m,
    fresnel_parameter,
    fresnel_radius_m,
    knife_edge_db,
)
from towerplan.radio.itm import ItmResult, ItmSettings, itm_p2p, itm_p2p_db
from towerplan.radio.linkbudget import eirp_dbm, mapl_db, margin_db, rsrp_dbm, subcarriers
from towerplan.radio.models import fspl_db, hata_db, rma_db
from towerplan.radio.profile import Clearance, Profile, line_of_sight, terrain_profile

__all__ = [
    "WORLDCOVER_CLUTTER",
    "Clearance",
    "ItmResult",
    "ItmSettings",
    "LossTerms",
    "ModelChain",
    "Profile",
    "chain_loss",
    "clutter_loss_db",
    "diffraction_db",
    "diffraction_many_db",
    "earth_bulge_m",
    "eirp_dbm",
    "fresnel_parameter",
    "fresnel_radius_m",
    "fspl_db",
    "hata_db",
    "itm_p2p",
    "itm_p2p_db",
    "knife_edge_db",
    "line_of_sight",
    "mapl_db",
    "margin_db",
    "parse_chain",
    "rma_db",
    "rsrp_dbm",
    "subcarriers",
    "terrain_profile",
    "vegetation_depth_m",
]
