"""The model chain a scenario runs, and the one-line statement every output carries."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.coverage.raster import LinkParams
from towerplan.i18n import bilingual
from towerplan.radio.chain import ModelChoice, choose_chain

if TYPE_CHECKING:
    from towerplan.scenario import Radio, Scenario

__all__ = ["model_chain_text", "model_choice", "model_choice_summary"]


def model_choice(radio: Radio, dem_cell_m: float) -> ModelChoice:
    """The chain ``[radio]`` runs on a DEM whose coarsest cell is *dem_cell_m* (m).

    ``model = "auto"`` picks ``auto_terrain_model`` when ``dem_cell_m <= auto_max_cell_m``
    and ``auto_distance_model`` otherwise; a named chain is used as named.
    """
    return choose_chain(radio.model, dem_cell_m, max_cell_m=radio.auto_max_cell_m,
                        terrain_chain=radio.auto_terrain_model,
                        distance_chain=radio.auto_distance_model)


def model_chain_text(scenario: Scenario, choice: ModelChoice) -> str:
    """One-line statement of the model chain actually run, why, and its parameters.

    Reads ``[radio]`` and ``terrain.resolution_m``.
    """
    r = scenario.radio
    chain = choice.chain
    link = LinkParams.from_radio(r)
    terrain = (f", earth k = {r.k_factor:.4g}, terrain {scenario.terrain.resolution_m:g} m"
               if chain.uses_terrain else " (distance only, no terrain)")
    calib = r.calibration
    calibrated = (f", drive-test calibration {calib.offset_db:+.2f} dB "
                  f"{calib.slope_db_per_decade:+.2f} dB/decade"
                  if calib.offset_db or calib.slope_db_per_decade else "")
    why = f" [{choice.explain()}]" if choice.auto else ""
    return (
        f"{chain.name}: {chain.describe()}{terrain}{calibrated}{why}; {r.freq_mhz:g} MHz, "
        f"tower {r.tower_height_m:g} m, handset {r.rx_height_m:g} m, EIRP {link.eirp_dbm:g} dBm, "
        f"{r.bandwidth_mhz:g} MHz channel, covered at RSRP >= {r.threshold_rsrp_dbm:g} dBm "
        f"(MAPL {link.mapl_db:.1f} dB), radius {r.max_radius_km:g} km"
    )


def model_choice_summary(choice: ModelChoice) -> dict[str, object]:
    """The ``model_choice`` entry of summary.json: the chain run, what was asked and why."""
    return {
        "requested": choice.requested,
        "chain": choice.chain.name,
        "uses_terrain": choice.chain.uses_terrain,
        "reason": choice.reason,
        "dem_cell_m": round(choice.dem_cell_m, 1),
        "auto_max_cell_m": choice.max_cell_m,
        "why": bilingual(f"model.{choice.reason}", cell_m=choice.dem_cell_m,
                         max_m=choice.max_cell_m, chain=choice.chain.name),
    }
