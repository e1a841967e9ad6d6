"""The one-line statement of a scenario's model chain that every output carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.coverage.raster import LinkParams
from towerplan.radio.chain import parse_chain

if TYPE_CHECKING:
    from towerplan.scenario import Scenario

__all__ = ["model_chain_text"]


def model_chain_text(scenario: Scenario) -> str:
    """One-line statement of the model chain and its parameters.

    Reads ``[radio]`` and ``terrain.resolution_m``.
    """
    r = scenario.radio
    link = LinkParams.from_radio(r)
    chain = parse_chain(r.model)
    terrain = (f", earth k = {r.k_factor:.4g}, terrain {scenario.terrain.resolution_m:g} m"
               if chain.uses_terrain else " (distance only, no terrain)")
    calib = r.calibration
    calibrated = (f", drive-test calibration {calib.offset_db:+.2f} dB "
                  f"{calib.slope_db_per_decade:+.2f} dB/decade"
                  if calib.offset_db or calib.slope_db_per_decade else "")
    return (
        f"{chain.name}: {chain.describe()}{terrain}{calibrated}; {r.freq_mhz:g} MHz, "
        f"tower {r.tower_height_m:g} m, handset {r.rx_height_m:g} m, EIRP {link.eirp_dbm:g} dBm, "
        f"{r.bandwidth_mhz:g} MHz channel, covered at RSRP >= {r.threshold_rsrp_dbm:g} dBm "
        f"(MAPL {link.mapl_db:.1f} dB), radius {r.max_radius_km:g} km"
    )
