"""The statements every output carries: the model chain actually run and why, and the link
budget's margins, uplink and antenna with the resulting coverage radius on flat ground."""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Any

from towerplan.coverage.raster import LinkParams, coverage_radius_m
from towerplan.errors import ModelValidityWarning
from towerplan.i18n import bilingual
from towerplan.radio.chain import ModelChoice, choose_chain, parse_chain
from towerplan.radio.models import base_model

if TYPE_CHECKING:
    from towerplan.scenario import Radio, Scenario

__all__ = ["RADIUS_CASES", "link_budget_summary", "link_budget_text", "model_chain_text",
           "model_choice", "model_choice_summary"]


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
    if chain.base == "itm":
        itm = link.itm
        terrain = (f", terrain {scenario.terrain.resolution_m:g} m, ground eps {itm.epsilon:g} "
                   f"sigma {itm.sigma:g} S/m, N0 {itm.n0:g}, {itm.climate} climate, "
                   f"{itm.polarization} polarisation, {itm.time_pct:g} % time / "
                   f"{itm.situation_pct:g} % situations")
    elif chain.uses_terrain:
        terrain = f", earth k = {r.k_factor:.4g}, terrain {scenario.terrain.resolution_m:g} m"
    else:
        terrain = " (distance only, no terrain)"
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


#: Comparison cases of the flat-ground coverage radius: name, location probability, indoor.
RADIUS_CASES: tuple[tuple[str, float, bool], ...] = (
    ("median_outdoor", 0.5, False),
    ("p90_outdoor", 0.9, False),
    ("p90_indoor", 0.9, True),
)


def _flat_link(scenario: Scenario, **changes: Any) -> LinkParams | None:
    """Link budget of the chain's base model over flat ground (None for a profile model)."""
    radio = dataclasses.replace(scenario.radio, **changes)
    base = parse_chain(LinkParams.from_radio(radio).model).base
    if base_model(base).loss_db is None:
        return None
    return dataclasses.replace(LinkParams.from_radio(radio), model=base)


def _radius_km(link: LinkParams | None, h_tx_m: float) -> float | None:
    if link is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        return round(coverage_radius_m(link, h_tx_m) / 1000.0, 3)


def link_budget_summary(scenario: Scenario) -> dict[str, Any]:
    """The margins, uplink and antenna in use and the resulting flat-ground radius.

    The radius is that of a new tower (``radio.tower_height_m``) by the chain's base model
    over flat ground, along a sector's boresight (:func:`coverage_radius_m`); ``None`` for a
    profile model. ``radius_cases_km`` gives it for median outdoor, 90 % outdoor and 90 %
    indoor coverage (the scenario's indoor loss, else a traditional building of ITU-R
    P.2109), with the scenario's other settings.
    """
    r = scenario.radio
    link = LinkParams.from_radio(r)
    h = r.tower_height_m
    cases: dict[str, float | None] = {}
    for name, p, indoor in RADIUS_CASES:
        if not indoor:
            changes: dict[str, Any] = {"indoor_loss_db": 0.0, "indoor_building": "none"}
        elif r.indoor_loss_db or r.indoor_building != "none":
            changes = {}
        else:
            changes = {"indoor_building": "traditional"}
        cases[name] = _radius_km(_flat_link(scenario, location_probability=p, **changes), h)
    return {
        "location_probability": r.location_probability,
        "shadow_sigma_db": r.shadow_sigma_db,
        "shadow_margin_db": round(link.shadow_margin_db, 2),
        "body_loss_db": r.body_loss_db,
        "indoor_loss_db": round(link.indoor_loss_db, 2),
        "indoor_building": r.indoor_building,
        "margins_db": round(link.margins_db, 2),
        "downlink_mapl_db": round(link.downlink_mapl_db, 2),
        "ue_tx_power_dbm": r.ue_tx_power_dbm,
        "bs_sensitivity_dbm": r.bs_sensitivity_dbm,
        "uplink_mapl_db": round(link.uplink_mapl_db, 2),
        "uplink_limited": link.uplink_limited,
        "mapl_db": round(link.mapl_db, 2),
        "antenna": link.antenna.describe(),
        "coverage_radius_flat_km": _radius_km(_flat_link(scenario), h),
        "radius_cases_km": cases,
    }


def link_budget_text(scenario: Scenario) -> str:
    """One-line statement of the margins, the uplink and the antenna in use (English).

    Examples
    --------
    >>> from towerplan.scenario import Scenario
    >>> print(link_budget_text(Scenario.default()))
    location probability 50 % (shadowing sigma 8 dB: margin 0 dB), body loss 0 dB, outdoor; \
uplink 23 dBm to -101.5 dBm (MAPL 139.5 dB, downlink 138.2 dB: not limiting); antenna omni; \
MAPL with margins 138.2 dB; radius on flat ground 4.94 km
    """
    s = link_budget_summary(scenario)
    r = scenario.radio
    indoor = ("outdoor" if not s["indoor_loss_db"] else
              f"indoor loss {s['indoor_loss_db']:g} dB"
              + (f" ({r.indoor_building}, ITU-R P.2109)" if r.indoor_building != "none"
                 else ""))
    limit = "uplink-limited" if s["uplink_limited"] else "not limiting"
    radius = s["coverage_radius_flat_km"]
    radius_text = "" if radius is None else f"; radius on flat ground {radius:.2f} km"
    return (
        f"location probability {100 * r.location_probability:g} % (shadowing sigma "
        f"{r.shadow_sigma_db:g} dB: margin {s['shadow_margin_db']:g} dB), body loss "
        f"{r.body_loss_db:g} dB, {indoor}; uplink {r.ue_tx_power_dbm:g} dBm to "
        f"{r.bs_sensitivity_dbm:g} dBm (MAPL {s['uplink_mapl_db']:.1f} dB, downlink "
        f"{s['downlink_mapl_db']:.1f} dB: {limit}); antenna {s['antenna']}; MAPL with margins "
        f"{s['mapl_db']:.1f} dB{radius_text}"
    )
