"""The backhaul of the chosen sites: the per-site or joint model applied after the selection.

:func:`finish_backhaul` runs after the selection: with ``[backhaul] model = "joint"`` it
replaces the selection by the joint site-and-backhaul MILP, and with ``compare`` it solves the
other model too; it returns the links of the chosen sites, their per-site columns for the
ranking, the ``backhaul`` entry of summary.json and the candidates' costs under the model
used. Inputs are never changed.

With the per-site model the comparison (the joint MILP, the longest part) changes nothing but
the summary entry: ``finish_backhaul(..., defer_comparison=True)`` leaves it out, and
:func:`compare_backhaul` computes it apart (the plan runs it beside the coverage after), to
be put in by :func:`with_comparison`, the same entry as without deferring.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from towerplan.analysis.backhaul import COLOCATED, VSAT
from towerplan.analysis.backhaul_joint import JointResult, joint_selection
from towerplan.analysis.backhaul_plan import BackhaulPlan
from towerplan.analysis.selection_plan import selection_options
from towerplan.columns import BACKHAUL_COLUMNS
from towerplan.errors import ScenarioError

if TYPE_CHECKING:
    from towerplan.analysis.problem import SelectionProblem
    from towerplan.analysis.selection import SelectionResult
    from towerplan.scenario import Scenario

__all__ = ["BackhaulOutcome", "check_objective", "compare_backhaul", "finish_backhaul",
           "with_comparison"]

_SOLVER = "joint milp (HiGHS): sites + backhaul"


@dataclass(frozen=True, slots=True)
class BackhaulOutcome:
    """Backhaul of the chosen sites: summary entry, links and ranking columns."""

    summary: dict[str, Any]
    links: gpd.GeoDataFrame | None
    sites: pd.DataFrame

    def annotate(self, ranking: Any) -> Any:
        """Add ``backhaul_technology``, ``backhaul_hops``, ``backhaul_worst_clearance``."""
        cols = ["backhaul_technology", "backhaul_hops", "backhaul_worst_clearance"]
        out = ranking.drop(columns=[c for c in cols if c in ranking.columns])
        table = self.sites.set_index("site_id")
        ids = out["site_id"].astype(str)
        out["backhaul_technology"] = ids.map(table["backhaul_technology"]).fillna("").to_numpy()
        out["backhaul_hops"] = ids.map(table["backhaul_hops"]).fillna(0).astype(int).to_numpy()
        out["backhaul_worst_clearance"] = ids.map(table["backhaul_worst_clearance"]).to_numpy(
            float)
        return out


def finish_backhaul(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
                    selection: SelectionResult, *, defer_comparison: bool = False
                    ) -> tuple[SelectionResult, BackhaulOutcome, pd.DataFrame]:
    """Apply the backhaul model to the selection; links, ranking columns and summary.

    With *defer_comparison*, the per-site model's comparison with the joint model is left
    out of the summary (``joint`` None): :func:`compare_backhaul` computes it.

    Returns
    -------
    SelectionResult
        The selection: *selection*, or with ``[backhaul] model = "joint"`` the joint MILP's.
    BackhaulOutcome
        Summary entry, links and ranking columns of the chosen sites.
    pandas.DataFrame
        The candidates under the model used: a copy of ``problem.candidates`` in which, for the
        joint model, the chosen sites' ``cost_backhaul_idr``/``cost_total_idr`` are their share
        of the joint plan (``problem`` itself keeps the per-site costs).
    """
    cands = problem.candidates
    b = scenario.backhaul
    check_objective(scenario)
    people_only = scenario.selection.terms == {"people": 1.0}
    if not plan.enabled:
        table = pd.DataFrame({"site_id": cands["site_id"].astype(str),
                              "backhaul_technology": "", "backhaul_hops": 0,
                              "backhaul_worst_clearance": np.nan})
        return selection, BackhaulOutcome({"model": "fixed", "note": plan.note,
                                           "backhaul_idr_per_site":
                                           float(scenario.costs.backhaul_idr)}, None, table), \
            cands
    runs: dict[str, dict[str, Any] | None] = {"per-site": None, "joint": None}
    joint: JointResult | None = None
    notes: list[str] = []
    compare = b.compare
    if compare and not people_only:
        compare = False
        notes.append("joint backhaul comparison skipped: the joint model maximises people "
                     f"newly served only, the selection {_terms(scenario)}")
    if compare and scenario.selection.method == "milp-by-kabupaten":
        compare = False
        notes.append("joint backhaul comparison skipped: the selection is made kabupaten by "
                     "kabupaten, the joint model is one MILP over the whole area")
    if defer_comparison and b.model != "joint":
        compare = False  # compare_backhaul
    if b.model == "joint" or compare:
        joint = _best_joint(plan, scenario, problem, selection)
    chosen, final = selection, cands
    if b.model == "joint" and joint is not None:
        chosen = _as_selection(joint, selection)
        final = _with_joint_costs(cands, joint)
    runs["per-site"] = _model_summary(problem, selection, plan, None)
    if joint is not None:
        runs["joint"] = _model_summary(problem, _as_selection(joint, selection), plan, joint)
    used = "joint" if chosen is not selection else "per-site"
    summary: dict[str, Any] = {"model": used, "hop_model": plan.note, **plan.stats,
                               "vsat_idr_per_site": plan.vsat_idr, **runs, "notes": notes}
    if joint is not None and compare:
        summary = with_comparison(summary, _comparison(plan, scenario, problem, selection,
                                                       joint, summary["joint"]))
    links, table = _links(plan, problem, chosen, joint if chosen is not selection else None)
    return chosen, BackhaulOutcome(summary, links, table), final


def compare_backhaul(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
                     selection: SelectionResult) -> dict[str, Any] | None:
    """The comparison ``finish_backhaul(..., defer_comparison=True)`` left out, for
    :func:`with_comparison`; None when it left nothing out (no backhaul plan, the joint
    model, no ``compare``, or an objective the joint model does not serve).

    *selection* is the per-site selection (``finish_backhaul``'s input).
    """
    b = scenario.backhaul
    if (not plan.enabled or b.model == "joint" or not b.compare
            or scenario.selection.terms != {"people": 1.0}
            or scenario.selection.method == "milp-by-kabupaten"):
        return None
    joint = _best_joint(plan, scenario, problem, selection)
    return _comparison(plan, scenario, problem, selection, joint,
                       _model_summary(problem, _as_selection(joint, selection), plan, joint))


def _best_joint(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
                selection: SelectionResult) -> JointResult:
    """The joint model's optimum, started from the per-site plan of *selection* when it
    keeps the budget."""
    return _joint(plan, scenario, problem, start=_own_plan(plan, selection.sites)
                  if selection.cost <= scenario.budget.total_idr + 1e-6 else None)


def _comparison(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
                selection: SelectionResult, joint: JointResult, jt: dict[str, Any]
                ) -> dict[str, Any]:
    """The per-site model's run with what its sites' backhaul costs with shared relays, the
    joint model's run *jt* (of *joint*), and their difference (for :func:`with_comparison`)."""
    same = _joint(plan, scenario, problem, fixed=selection.sites,
                  start=_own_plan(plan, selection.sites))
    per_site = _model_summary(problem, selection, plan, None)
    per_site["backhaul_idr_with_shared_relays"] = round(
        float(same.backhaul_idr[list(selection.sites)].sum()), 0)
    return {"per-site": per_site, "joint": jt, "difference_joint_minus_per_site": {
        "demand_covered": round(jt["demand_covered"] - per_site["demand_covered"], 3),
        "total_cost_idr": round(jt["total_cost_idr"] - per_site["total_cost_idr"], 0),
        "backhaul_idr_same_sites": round(per_site["backhaul_idr_with_shared_relays"]
                                         - per_site["backhaul_idr"], 0)}}


def with_comparison(summary: dict[str, Any], comparison: dict[str, Any] | None
                    ) -> dict[str, Any]:
    """The ``backhaul`` summary entry with the comparison of :func:`compare_backhaul` put
    in (a copy; *summary* itself when there is none)."""
    if comparison is None:
        return summary
    return {**summary, **comparison}


def check_objective(scenario: Scenario) -> None:
    """Refuse the joint backhaul model with an objective other than people newly served.

    Raises
    ------
    ScenarioError
        When ``[backhaul] model = "joint"`` meets another ``[selection]`` objective.
    """
    if scenario.backhaul.model == "joint" and scenario.selection.terms != {"people": 1.0}:
        msg = ("[backhaul] model = 'joint' maximises people newly served only; it cannot be "
               f"combined with the objective {_terms(scenario)}: use model = 'per-site' or "
               "the people objective")
        raise ScenarioError(msg)


def _terms(scenario: Scenario) -> str:
    return " + ".join(f"{w:g} x {t}" for t, w in scenario.selection.terms.items())


def _own_plan(plan: BackhaulPlan, sites: tuple[int, ...]
              ) -> dict[int, Sequence[tuple[int, int]] | None]:
    """The per-site plan of *sites* as ``(tail, head)`` node pairs (start of the joint MILP)."""
    assert plan.per_site is not None and plan.own_arcs is not None
    arcs = plan.own_arcs
    return {j: [(int(arcs.tail[k]), int(arcs.head[k]))
                for k in plan.per_site.path[int(plan.node_of_site[j])]]
            if plan.needs[j] else None for j in sites}


def _joint(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
           fixed: tuple[int, ...] | None = None,
           start: dict[int, Sequence[tuple[int, int]] | None] | None = None
           ) -> JointResult:
    assert plan.nodes is not None and plan.arcs is not None
    cands = problem.candidates
    site_idr = (cands["cost_total_idr"] - cands["cost_backhaul_idr"]).to_numpy(float)
    state = problem.state
    kwargs = selection_options(scenario.selection, problem, with_groups=fixed is None)
    kwargs["time_limit_s"] = scenario.selection.time_limit_s
    budget = scenario.budget.total_idr
    if fixed is not None:
        kwargs["must_include"] = list(fixed)
        kwargs["must_exclude"] = [j for j in range(len(cands)) if j not in set(fixed)]
        budget = float(cands["cost_total_idr"].to_numpy(float)[list(fixed)].sum()) + 1.0
    return joint_selection(problem.matrix, state.units.weight, state.covered, site_idr, budget,
                           plan.nodes, plan.node_of_site, plan.arcs, plan.vsat_idr,
                           needs_backhaul=plan.needs, start=start, **kwargs)


def _as_selection(joint: JointResult, like: SelectionResult) -> SelectionResult:
    return dataclasses.replace(like, sites=joint.sites, objective=joint.objective,
                               cost=joint.cost_idr, gap=joint.gap, bound=None, solver=_SOLVER,
                               status=joint.status, runtime_s=joint.runtime_s)


def _with_joint_costs(cands: pd.DataFrame, joint: JointResult) -> pd.DataFrame:
    """A copy of *cands* with the chosen sites' backhaul at their share of the joint plan."""
    chosen = list(joint.sites)
    old = cands["cost_backhaul_idr"].to_numpy(float)
    new = old.copy()
    new[chosen] = joint.backhaul_idr[chosen]
    out = cands.copy()
    out["cost_backhaul_idr"] = new
    out["cost_total_idr"] = cands["cost_total_idr"].to_numpy(float) - old + new
    return out


def _model_summary(problem: SelectionProblem, sel: SelectionResult, plan: BackhaulPlan,
                   joint: JointResult | None) -> dict[str, Any]:
    cands = problem.candidates
    sites = list(sel.sites)
    if joint is None:
        assert plan.per_site is not None
        backhaul = np.where(plan.needs, plan.per_site.cost_idr[plan.node_of_site], 0.0)
        tech = np.where(plan.needs, plan.per_site.technology[plan.node_of_site], COLOCATED)
    else:
        backhaul = joint.backhaul_idr
        tech = np.array([_joint_tech(plan, joint, j) for j in range(len(cands))], dtype=object)
    base = (cands["cost_total_idr"] - cands["cost_backhaul_idr"]).to_numpy(float)
    used = pd.Series(tech[sites]).value_counts()
    out: dict[str, Any] = {
        "sites": [str(s) for s in cands["site_id"].to_numpy()[sites]],
        "towers": len(sites),
        "demand_covered": round(float(sel.objective), 3),
        "total_cost_idr": round(float(base[sites].sum() + backhaul[sites].sum()), 0),
        "backhaul_idr": round(float(backhaul[sites].sum()), 0),
        "sites_by_technology": {str(k): int(v) for k, v in used.items()},
        "solver": sel.solver, "optimality_gap": sel.gap, "runtime_s": round(sel.runtime_s, 2)}
    return out


def _joint_tech(plan: BackhaulPlan, joint: JointResult, j: int) -> str:
    assert plan.arcs is not None
    if not plan.needs[j]:
        return COLOCATED
    if j in joint.vsat or not joint.path.get(j):
        return VSAT
    return str(plan.arcs.technology[joint.path[j][0]])


def _links(plan: BackhaulPlan, problem: SelectionProblem, sel: SelectionResult,
           joint: JointResult | None) -> tuple[Any, pd.DataFrame]:
    """Hops of the chosen sites' backhaul (site side first) and their ranking columns."""
    assert plan.nodes is not None and plan.arcs is not None and plan.hops is not None
    assert plan.per_site is not None and plan.own_arcs is not None
    cands, nodes, hops = problem.candidates, plan.nodes, plan.hops
    arcs = plan.arcs if joint is not None else plan.own_arcs  # the arcs the paths index
    crs = problem.state.villages.crs
    rows, table = [], []
    for j in sel.sites:
        if joint is not None:
            route = joint.path.get(j, ())
            tech = _joint_tech(plan, joint, j)
            share = [joint.arc_idr.get(k, 0.0) for k in route]
        else:
            v = int(plan.node_of_site[j])
            route = plan.per_site.path[v] if plan.needs[j] else ()
            tech = str(plan.per_site.technology[v]) if plan.needs[j] else COLOCATED
            share = [float(arcs.cost_idr[k]) for k in route]
        ratios = [hops.clearance_ratio[arcs.hop[k]] for k in route if arcs.hop[k] >= 0]
        table.append({"site_id": str(cands["site_id"].iloc[j]), "backhaul_technology": tech,
                      "backhaul_hops": len(route),
                      "backhaul_worst_clearance": round(float(min(ratios)), 3) if ratios
                      else np.nan})
        for k, cost in zip(route, share, strict=True):
            h = int(arcs.hop[k])
            rows.append({"site_id": str(cands["site_id"].iloc[j]),
                         "from": int(arcs.head[k]), "to": int(arcs.tail[k]),
                         "technology": str(arcs.technology[k]),
                         "clearance_ratio": float(hops.clearance_ratio[h]) if h >= 0 else np.nan,
                         "margin_db": float(hops.margin_db[h]) if h >= 0 else np.nan,
                         "cost_idr": round(float(cost), 0)})
    frame = pd.DataFrame(rows, columns=["site_id", "from", "to", "technology",
                                        "clearance_ratio", "margin_db", "cost_idr"])
    a, z = nodes.xy[frame["from"].to_numpy(int)], nodes.xy[frame["to"].to_numpy(int)]
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    alon, alat = to_ll.transform(a[:, 0], a[:, 1]) if len(a) else ([], [])
    zlon, zlat = to_ll.transform(z[:, 0], z[:, 1]) if len(z) else ([], [])
    links = pd.DataFrame({
        "link_id": [f"L{k + 1:03d}" for k in range(len(frame))],
        "site_id": frame["site_id"], "from_id": nodes.ids[frame["from"].to_numpy(int)],
        "to_id": nodes.ids[frame["to"].to_numpy(int)],
        "from_lon": np.round(alon, 6), "from_lat": np.round(alat, 6),
        "to_lon": np.round(zlon, 6), "to_lat": np.round(zlat, 6),
        "technology": frame["technology"],
        "distance_km": np.round(np.hypot(*(z - a).T) / 1000.0, 3),
        "clearance_ratio": frame["clearance_ratio"].round(3),
        "margin_db": frame["margin_db"].round(2), "feasible": True,
        "cost_idr": frame["cost_idr"]}, columns=list(BACKHAUL_COLUMNS))
    geometry = shapely.linestrings(np.stack([a, z], axis=1)) if len(a) else []
    return (gpd.GeoDataFrame(links, geometry=geometry, crs=crs),
            pd.DataFrame(table, columns=["site_id", "backhaul_technology", "backhaul_hops",
                                         "backhaul_worst_clearance"]))


