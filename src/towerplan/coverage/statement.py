"""The statements every output carries: the model chain actually run and why, and the link
budget's margins, uplink and antenna with the resulting coverage radius on flat ground."""

from __future__ import annotations

import dataclasses
import warnings
from typing import TYPE_CHECKING, Any

from towerplan.coverage.raster import LinkParams, coverage_radius_m
from towerplan.errors import ModelValidityWarning
from towerplan.i18n import bilingual, t
from towerplan.radio.chain import ModelChoice, choose_chain, parse_chain
from towerplan.radio.models import base_model

if TYPE_CHECKING:
    from towerplan.scenario import Radio, Scenario

__all__ = ["RADIUS_CASES", "link_budget_summary", "link_budget_text", "model_chain_text",
           "model_choice", "model_choice_summary", "stated_model_chain"]


def model_choice(radio: Radio, dem_cell_m: float) -> ModelChoice:
    """The chain ``[radio]`` runs on a DEM whose coarsest cell is *dem_cell_m* (m).

    ``model = "auto"`` picks ``auto_terrain_model`` when ``dem_cell_m <= auto_max_cell_m``
    and ``auto_distance_model`` otherwise; a named chain is used as named.
    """
    return choose_chain(radio.model, dem_cell_m, max_cell_m=radio.auto_max_cell_m,
                        terrain_chain=radio.auto_terrain_model,
                        distance_chain=radio.auto_distance_model)


def model_chain_text(scenario: Scenario, choice: ModelChoice, lang: str = "en") -> str:
    """One-line statement of the model chain actually run, why, and its parameters, in
    *lang* (``"en"`` or ``"id"``; model names stay as named).

    Reads ``[radio]`` and ``terrain.resolution_m``.
    """
    r = scenario.radio
    chain = choice.chain
    link = LinkParams.from_radio(r)
    if chain.base == "itm":
        itm = link.itm
        terrain = t("stmt.itm_terrain", lang).format(
            res=scenario.terrain.resolution_m, eps=itm.epsilon, sigma=itm.sigma, n0=itm.n0,
            climate=itm.climate, pol=itm.polarization, time=itm.time_pct,
            situations=itm.situation_pct)
    elif chain.uses_terrain:
        terrain = t("stmt.terrain", lang).format(k=r.k_factor, res=scenario.terrain.resolution_m)
    else:
        terrain = t("stmt.distance_only", lang)
    calib = r.calibration
    calibrated = (t("stmt.calibration", lang).format(offset=calib.offset_db,
                                                     slope=calib.slope_db_per_decade)
                  if calib.offset_db or calib.slope_db_per_decade else "")
    if not choice.auto:
        why = ""
    elif lang == "en":
        why = f" [{choice.explain()}]"
    else:
        why = " [" + t(f"model.{choice.reason}", lang).format(
            cell_m=choice.dem_cell_m, max_m=choice.max_cell_m, chain=chain.name) + "]"
    return f"{chain.name}: {chain.describe()}{terrain}{calibrated}{why}; " + t(
        "stmt.chain_tail", lang).format(
        freq=r.freq_mhz, tower=r.tower_height_m, rx=r.rx_height_m, eirp=link.eirp_dbm,
        bw=r.bandwidth_mhz, thr=r.threshold_rsrp_dbm, mapl=link.mapl_db,
        radius=r.max_radius_km)


def stated_model_chain(scenario: Scenario, summary: dict[str, Any], default: str,
                       lang: str) -> str:
    """:func:`model_chain_text` in *lang* for a run whose summary.json holds *summary*
    (its ``model_choice`` gives the DEM cell the choice was made on); *default* (the text
    stored with the run) when the summary has no ``model_choice``."""
    choice = summary.get("model_choice")
    if not isinstance(choice, dict) or "dem_cell_m" not in choice:
        return default
    return model_chain_text(scenario, model_choice(scenario.radio, float(choice["dem_cell_m"])),
                            lang)


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


def link_budget_text(scenario: Scenario, lang: str = "en") -> str:
    """One-line statement of the margins, the uplink and the antenna in use, in *lang*
    (``"en"`` or ``"id"``).

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
    if not s["indoor_loss_db"]:
        indoor = t("stmt.outdoor", lang)
    else:
        indoor = t("stmt.indoor", lang).format(loss=s["indoor_loss_db"]) + (
            f" ({r.indoor_building}, ITU-R P.2109)" if r.indoor_building != "none" else "")
    limit = t("stmt.uplink_limited" if s["uplink_limited"] else "stmt.not_limiting", lang)
    radius = s["coverage_radius_flat_km"]
    radius_text = "" if radius is None else t("stmt.flat_radius", lang).format(radius=radius)
    return t("stmt.link_budget", lang).format(
        p=100 * r.location_probability, sigma=r.shadow_sigma_db, margin=s["shadow_margin_db"],
        body=r.body_loss_db, indoor=indoor, ue=r.ue_tx_power_dbm, bs=r.bs_sensitivity_dbm,
        up=s["uplink_mapl_db"], down=s["downlink_mapl_db"], limit=limit,
        antenna=s["antenna"], mapl=s["mapl_db"]) + radius_text
