"""The content of ``summary.json``: the plan's figures, the solver, the costs and every
statement of what the inputs cannot support."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.analysis.blankspots import BLANK, COVERED
from towerplan.analysis.committed import committed_summary, technology_summary
from towerplan.analysis.costs import cost_context, cost_summary, parts_not_costed
from towerplan.analysis.evidence import evidence_summary
from towerplan.analysis.programme_outcome import programme_totals
from towerplan.coverage.statement import link_budget_summary, link_budget_text
from towerplan.i18n import bilingual, statement, target_text
from towerplan.inputs import input_limitations

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from towerplan.analysis.problem import CurrentState
    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.analysis.selection import SelectionResult
    from towerplan.inputs import LoadedInputs
    from towerplan.results import Provenance
    from towerplan.scenario import Scenario

__all__ = ["before_basis", "limitations", "plan_summary", "programme_summary"]


def plan_summary(scenario: Scenario, prov: Provenance, state: CurrentState,
                 sel: SelectionResult, greedy: SelectionResult, villages: gpd.GeoDataFrame,
                 covered_after: np.ndarray, cands: gpd.GeoDataFrame,
                 runtime_s: float) -> dict[str, Any]:
    """``summary.json`` of a plan (without the ``audit`` and ``backhaul`` entries)."""
    data, units = state.data, state.units
    covered_before = state.served_today

    def count(col: str, value: str) -> int:
        return int((villages[col] == value).sum())

    return {
        "scenario": scenario.scenario.name,
        "title": scenario.scenario.title,
        "synthetic": prov.synthetic,
        "budget_idr": float(scenario.budget.total_idr),
        "spent_idr": float(sel.cost),
        "towers_selected": len(sel.sites),
        "villages_total": len(villages),
        "blank_villages_before": count("status_before", BLANK),
        "blank_villages_after": count("status_after", BLANK),
        "partial_villages_before": count("status_before", "partial"),
        "partial_villages_after": count("status_after", "partial"),
        "covered_villages_before": count("status_before", COVERED),
        "covered_villages_after": count("status_after", COVERED),
        **_before_entries(scenario, state),
        **_tower_entries(scenario, state),
        "demand_total": round(float(units.weight.sum()), 3),
        "demand_basis": units.basis,
        "demand_basis_note": units.basis_note,
        "population_rules": units.rule_counts(),
        "facility_demand": round(float(units.facility_weight.sum()), 1),
        "demand_covered_before": round(float(units.weight[covered_before].sum()), 3),
        "demand_covered_after": round(float(units.weight[covered_after].sum()), 3),
        "solver": sel.solver,
        "solver_status": sel.status,
        "optimality_gap": sel.gap,
        "objective": round(sel.objective, 3),
        "objective_terms": scenario.selection.terms,
        "objective_bound": None if sel.bound is None else round(sel.bound, 3),
        "greedy_objective": round(greedy.objective, 3),
        "greedy_shortfall_percent": round(100 * (1 - greedy.objective / sel.objective), 3)
        if sel.objective > 0 else 0.0,
        "greedy_spent_idr": float(greedy.cost),
        "solver_runtime_s": round(sel.runtime_s, 3),
        "model_chain": prov.model_chain,
        "threshold_rsrp_dbm": scenario.radio.threshold_rsrp_dbm,
        "link_budget_text": link_budget_text(scenario),
        "coverage_radius_flat_km": link_budget_summary(scenario)["coverage_radius_flat_km"],
        "link_budget": link_budget_summary(scenario),
        "tower_cost_idr": float(scenario.costs.tower_idr),
        # zero for every selected new tower because the scenario does not cost them
        "cost_parts_not_costed": parts_not_costed(cands.iloc[list(sel.sites)],
                                                  scenario.costs),
        **cost_summary(scenario.costs, cost_context(data, villages), cands),
        "candidates_total": len(cands),
        "anchor_distance_m": float(scenario.candidates.anchor_distance_m),
        "existing_towers": len(data.towers),
        "crs": data.crs.to_string(),
        "scenario_hash": prov.scenario_hash,
        "towerplan_version": prov.version,
        "data_sources": list(prov.data_sources),
        "village_geometry_source": data.village_geometry_source,
        **_register_counts(data),
        "limitations": limitations(scenario, state),
        "runtime_s": round(runtime_s, 2),
        "created_utc": prov.created_utc,
    }


def _towers_inside(state: CurrentState) -> bool:
    """Whether any existing tower stands inside the villages."""
    towers = state.data.towers
    return bool(len(towers)) and bool(
        towers.within(state.villages.geometry.union_all()).any())


def before_basis(state: CurrentState) -> str:
    """What today's status rests on: ``"reports"`` (signal reports for some villages, the
    model for the rest), ``"coverage_maps"`` (operator or crowd coverage maps, the model
    elsewhere), ``"model"`` (existing towers inside the area), or ``"unknown"`` (no signal
    report, no coverage map and no existing tower inside the area: the model alone,
    unchecked)."""
    data = state.data
    if data.signal_reports is not None:
        return "reports"
    if state.covered_maps is not None:
        return "coverage_maps"
    if _towers_inside(state):
        return "model"
    return "unknown"


def _before_entries(scenario: Scenario, state: CurrentState) -> dict[str, Any]:
    """``before_state``, its statement, and the ``evidence`` figures when there are reports."""
    basis = before_basis(state)
    out: dict[str, Any] = {"before_state": basis}
    if basis == "unknown":
        out["before_state_note"] = bilingual("before.unknown")
    elif (reports := state.data.signal_reports) is not None:
        ev = evidence_summary(state.stats, [state.data.paths.shown(str(f)) for f in reports.files],
                              scenario.coverage.target)
        parts: list[tuple[str, dict[str, object]]] = [("before.reports", {
            "n": ev["villages_reported"], "blank": ev["blank_reported"],
            "semi": ev["semi_blank_reported"], "served": ev["served_reported"],
            "target": target_text(scenario.coverage.target), "conflicts": ev["conflicts"],
            "served_blank": ev["conflicts_reported_served"],
            "blank_covered": ev["conflicts_reported_blank"]})]
        if not _towers_inside(state):
            parts.append(("before.reports_no_towers", {}))
        out["before_state_note"] = statement(*parts, sep=". ")
        out["evidence"] = ev
    elif basis == "coverage_maps":
        n = int((state.stats["status_source"].astype(str) == "coverage_map").sum())
        out["before_state_note"] = statement(
            ("before.coverage_maps", {"n": n, "target": target_text(scenario.coverage.target)}))
    return out


def _tower_entries(scenario: Scenario, state: CurrentState) -> dict[str, Any]:
    """``plan_year``, ``existing_technology`` and ``committed_towers`` with their statements
    (the technology one only when some tower does not serve the target or is unknown)."""
    data, target = state.data, scenario.coverage.target
    year = scenario.scenario.plan_year
    tech = technology_summary(data.towers, target)
    notes = []
    if tech["unknown_assumed_serving"] or tech["serving_target"] < tech["towers"]:
        notes.append(bilingual("before.technology", target=target.upper(),
                               serving=tech["serving_target"], towers=tech["towers"],
                               below=tech["towers"] - tech["serving_target"],
                               unknown=tech["unknown_assumed_serving"]))
    path = data.paths.committed_towers
    committed = committed_summary(data.committed, data.paths.shown(str(path)) if path else "", year,
                                  scenario.candidates.committed_distance_m)
    if data.committed is not None:
        notes.append(bilingual("before.committed", year=year,
                               on_air=committed["on_air_by_year"], future=committed["future"],
                               distance_m=scenario.candidates.committed_distance_m))
    out: dict[str, Any] = {"plan_year": year, "existing_technology": tech,
                           "committed_towers": committed}
    if notes:
        out["towers_note"] = notes
    return out


def _register_counts(data: LoadedInputs) -> dict[str, int]:
    """Register matching figures for summary.json (none without a register)."""
    if data.register_match is None:
        return {}
    c = data.register_match.counts()
    return {"register_matched": c["matched"], "register_ambiguous": c["ambiguous"],
            "register_unmatched": c["unmatched"],
            "register_without_polygon": c["register_without_name"]}


def limitations(scenario: Scenario, state: CurrentState) -> list[str]:
    """What the outputs cannot say, in both languages: the inputs' statements and demand."""
    data, units = state.data, state.units
    out = list(input_limitations(scenario, data))
    if units.basis == "area_km2":
        out.append(bilingual("limit.area_basis"))
    elif data.population_note:
        source = data.paths.district_population.name if data.paths.district_population \
            else ""
        out.append(bilingual("limit.apportioned", source=source))
    return out


def programme_summary(outcome: ProgrammeOutcome) -> dict[str, Any]:
    """The programme's headline figures for ``summary.json``: per year and channel, the
    totals, the solver's figures, the greedy plan's regret, the audit band and why each
    village still blank at the end was left out."""
    totals = programme_totals(outcome)

    def rows(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
        if frame is None:
            return []
        return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]

    return {
        "years": list(outcome.years), "channels": list(outcome.channels),
        "towers": int(totals["towers"]), "people_new": round(totals["people_new"], 3),
        "capex_idr": totals["capex_idr"], "spent_idr": totals["spent_idr"],
        "cost_per_person_idr": _plain(totals["cost_per_person_idr"]),
        "objective": outcome.objective, "objective_value": round(outcome.objective_value, 3),
        "bound": round(outcome.bound, 3), "gap": outcome.gap, "status": outcome.status,
        "method": outcome.method, "runtime_s": round(outcome.runtime_s, 2),
        "greedy_value": round(outcome.greedy_value, 3),
        "greedy_regret_pct": round(outcome.greedy_regret_pct, 3),
        "by_year_channel": rows(outcome.by_year_channel),
        "builds": rows(outcome.builds.drop(columns=["lon", "lat"], errors="ignore")),
        "audit": rows(outcome.audit), "notes": list(outcome.notes),
        "why_not": rows(outcome.why_not),
    }


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python ones, NaN as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
