"""The audit of a past decision: a given set of sites against the optimum for the same budget.

:func:`audit_sites` works on matrices only, like :mod:`towerplan.analysis.selection`. The
adapter (:func:`audit_villages`, :func:`audit_plan`) turns a scenario's ``[audit]`` (village
names and/or a CSV of sites) into those matrices and back into a table and a summary, for
``towerplan audit`` and ``towerplan plan`` alike.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.backhaul_plan import backhaul_costs_of
from towerplan.analysis.blankspots import BLANK, at_least, classify
from towerplan.analysis.candidates import village_of
from towerplan.analysis.costs import cost_context
from towerplan.analysis.selection import SelectionResult, covered_weight, select_sites
from towerplan.analysis.village_lookup import audit_site_frame, find_villages
from towerplan.columns import AUDIT_COLUMNS, COST_PARTS
from towerplan.coverage.composite import coverage_matrix
from towerplan.errors import InputDataError

if TYPE_CHECKING:
    from towerplan.analysis.problem import CurrentState, SelectionProblem
    from towerplan.scenario import Scenario

__all__ = [
    "AuditResult",
    "PlanAudit",
    "audit_plan",
    "audit_sites",
    "site_rows",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditResult:
    """A given choice of sites compared with the optimum.

    Attributes
    ----------
    sites : tuple of int
        The audited sites (rows of the pool: candidates, then any extra rows).
    objective : float
        Demand weight the audited sites newly cover.
    cost : float
        Their total cost.
    optimum : SelectionResult
        The exact optimum for the same budget over the pool.
    share_of_optimum : float
        ``objective / optimum.objective`` (1 when both are 0).
    villages_only_optimum : tuple of int
        Villages that gain coverage under the optimum but not under the audited choice.
    villages_only_audit : tuple of int
        Villages that gain coverage under the audited choice but not under the optimum.
    """

    sites: tuple[int, ...]
    objective: float
    cost: float
    optimum: SelectionResult
    share_of_optimum: float
    villages_only_optimum: tuple[int, ...]
    villages_only_audit: tuple[int, ...]


def _gaining_villages(a: sp.csr_matrix, weights: np.ndarray, covered: np.ndarray,
                      sites: Sequence[int], unit_village: np.ndarray) -> set[int]:
    if not len(sites):
        return set()
    hit = (np.asarray(a[list(sites)].sum(axis=0)).ravel() > 0) & ~covered & (weights > 0)
    return {int(v) for v in np.unique(unit_village[hit]) if v >= 0}


def audit_sites(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                sites: Sequence[int], budget: float, unit_village: np.ndarray,
                covered: np.ndarray | None = None, *,
                time_limit_s: float | None = None,
                extra_coverage: sp.spmatrix | None = None,
                extra_costs: np.ndarray | None = None) -> AuditResult:
    """Compare *sites* with the exact optimum for *budget*.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_candidates, n_demand)
        Coverage of the candidates.
    weights : numpy.ndarray
        Demand weight per unit.
    costs : numpy.ndarray
        Cost per candidate, rupiah.
    sites : sequence of int
        Audited rows of the pool ``vstack([coverage, extra_coverage])``.
    budget : float
        Budget of the optimum, rupiah.
    unit_village : numpy.ndarray of int
        Village of each demand unit.
    covered : numpy.ndarray of bool, optional
        Units already served.
    time_limit_s : float, optional
        MILP time limit.
    extra_coverage : scipy.sparse matrix, shape (k, n_demand), optional
        Audited sites that are not candidates (e.g. read from a CSV); they join the pool, so
        the optimum may choose them too.
    extra_costs : numpy.ndarray, shape (k,), optional
        Their costs, rupiah.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> a = sp.csr_matrix(np.array([[0,1,0,0,0],[0,0,1,0,0],[1,1,0,0,0],[0,0,1,1,1]], bool))
    >>> r = audit_sites(a, np.array([3.,5,1,1,1]), np.array([1.,1,5,5]), [0, 1], 10,
    ...                 np.arange(5))
    >>> r.objective, r.optimum.objective, round(r.share_of_optimum, 3)
    (6.0, 11.0, 0.545)
    """
    a = sp.csr_matrix(coverage, dtype=bool)
    c = np.asarray(costs, dtype=float)
    if extra_coverage is not None and extra_coverage.shape[0]:
        a = sp.csr_matrix(sp.vstack([a, sp.csr_matrix(extra_coverage, dtype=bool)]),
                          dtype=bool)
        c = np.concatenate([c, np.asarray(extra_costs, dtype=float)])
    w = np.asarray(weights, dtype=float)
    cov = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
    w_new = np.where(cov, 0.0, w)
    chosen = tuple(sorted(int(j) for j in sites))
    objective = covered_weight(a, w_new, chosen)
    optimum = select_sites(a, w, c, budget, cov, "milp", time_limit_s=time_limit_s)
    share = objective / optimum.objective if optimum.objective > 0 else 1.0
    audit_v = _gaining_villages(a, w, cov, chosen, unit_village)
    opt_v = _gaining_villages(a, w, cov, optimum.sites, unit_village)
    return AuditResult(chosen, objective, float(c[list(chosen)].sum()),
                       optimum, share, tuple(sorted(opt_v - audit_v)),
                       tuple(sorted(audit_v - opt_v)))


# -- adapter -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanAudit:
    """An audit in table form.

    Attributes
    ----------
    sites : geopandas.GeoDataFrame
        Audited sites (``AUDIT_COLUMNS`` plus ``site_id``), working CRS, points.
    optimum : geopandas.GeoDataFrame
        Sites of the optimum (``site_id, village_code, village, district, lon, lat,
        cost_total_idr, demand_alone``), working CRS, points.
    summary : dict
        Audit figures (audit.json and the ``audit`` entry of summary.json).
    result : AuditResult
        The matrix-level result.
    """

    sites: gpd.GeoDataFrame
    optimum: gpd.GeoDataFrame
    summary: dict[str, Any]
    result: AuditResult


def audit_plan(scenario: Scenario, problem: SelectionProblem, *,
               model_chain: str = "") -> PlanAudit:
    """Audit the scenario's ``[audit]`` villages and sites against the optimum.

    Each named village gets its best candidate (most new demand on its own); each CSV site
    gets its coverage computed like a candidate's and its cost from the cost model unless
    the file gives one. The optimum is the exact MILP optimum for ``budget.total_idr`` over
    the candidates and the audited sites.

    Parameters
    ----------
    scenario : Scenario
        The scenario (``audit``, ``budget``, ``costs``, ``selection.time_limit_s``).
    problem : SelectionProblem
        Candidates and coverage, built with :func:`audit_villages` as extra villages.
    model_chain : str
        Model chain statement copied into the summary.

    Raises
    ------
    InputDataError
        When a named village is unknown, ambiguous or holds no candidate.
    """
    state = problem.state
    villages = state.villages
    cands = problem.candidates
    chosen_v = find_villages(villages, scenario.audit.villages)
    rows, problems = [], []
    for v in chosen_v:
        inside = np.flatnonzero(cands["village_code"].to_numpy() == villages["code"].iloc[v])
        if not len(inside):
            problems.append(f"no candidate site inside {villages['name'].iloc[v]}")
            continue
        rows.append(int(inside[np.argmax(cands["demand_alone"].to_numpy()[inside])]))
    if problems:
        raise InputDataError("audit: " + "; ".join(problems), problems=tuple(problems))
    csv_sites = audit_site_frame(state.data.siting)
    extra, extra_costs = site_rows(scenario, problem, csv_sites)
    n_cand = len(cands)
    audited = [*rows, *(n_cand + np.arange(extra.shape[0])).tolist()]
    res = audit_sites(problem.matrix, state.units.weight, problem.costs, audited,
                      scenario.budget.total_idr, state.units.village, state.covered,
                      time_limit_s=scenario.selection.time_limit_s,
                      extra_coverage=extra, extra_costs=extra_costs["cost_total_idr"])
    pool = _pool_frame(cands, extra_costs, villages.crs)
    fresh = np.where(state.covered, 0.0, state.units.weight)
    pool_matrix = sp.vstack([problem.matrix, extra]).tocsr() if extra.shape[0] \
        else problem.matrix
    pool["demand_alone"] = np.asarray(pool_matrix @ fresh, dtype=float).ravel()
    table = pool.iloc[audited].copy()
    used = set(table["site_id"].astype(str))
    ids = iter(f"A{k}" for k in range(1, 10 * len(audited) + 2) if f"A{k}" not in used)
    table["audit_id"] = [next(ids) for _ in rows] + table["site_id"].iloc[len(rows):].tolist()
    table["source"] = ["village"] * len(rows) + ["sites"] * (len(audited) - len(rows))
    table["new_demand"] = table["demand_alone"]
    table = table[[*AUDIT_COLUMNS, *(c for c in table.columns if c not in AUDIT_COLUMNS)]]
    optimum = pool.iloc[list(res.optimum.sites)].copy()
    summary = _summary(scenario, state, res, table, optimum, model_chain, pool_matrix)
    log.info("audit: %d sites, %.6g of optimum %.6g (%.1f %%)", len(audited), res.objective,
             res.optimum.objective, 100 * res.share_of_optimum)
    return PlanAudit(table.reset_index(drop=True), optimum.reset_index(drop=True), summary, res)


def site_rows(scenario: Scenario, problem: SelectionProblem, sites: Any
               ) -> tuple[sp.csr_matrix, Any]:
    """Coverage rows and costs of extra sites such as audited ones (computed like the
    candidates'): the sites' ``site_id``, geometry (working CRS), ``height_m`` and cost parts
    (NaN: from the cost model)."""
    state = problem.state
    n_dem = len(state.units.weight)
    columns = [*COST_PARTS, "cost_total_idr"]
    if sites is None or not len(sites):
        empty = pd.DataFrame({"site_id": [], "x": [], "y": [], **{c: [] for c in columns}})
        return sp.csr_matrix((0, n_dem), dtype=bool), empty
    xy = np.column_stack([sites.geometry.x, sites.geometry.y])
    height = sites["height_m"].to_numpy(float)
    matrix = coverage_matrix(xy, height, state.units.xy, state.link, state.terrain)
    given = sites[columns].reset_index(drop=True)
    costs = cost_context(state.data, state.villages).costs(xy, scenario.costs, given=given)
    backhaul = backhaul_costs_of(scenario, state.data, xy)
    if backhaul is not None:  # costed like the candidates; figures the user gave are kept
        user = given.notna().any(axis=1).to_numpy()
        old = costs["cost_backhaul_idr"].to_numpy(float)
        new = np.where(user, old, backhaul)
        costs["cost_backhaul_idr"] = new
        costs["cost_total_idr"] = costs["cost_total_idr"].to_numpy(float) - old + new
    owner = village_of(xy, state.villages.geometry.to_numpy())

    def attr(name: str) -> np.ndarray:
        values = state.villages[name].astype(str).to_numpy()
        return np.where(owner >= 0, values[np.maximum(owner, 0)], "")

    frame = pd.DataFrame({
        "site_id": sites["site_id"].astype(str).to_numpy(), "x": xy[:, 0], "y": xy[:, 1],
        "origin": "audit", "village_code": attr("code"), "village": attr("name"),
        "district": attr("district"), "height_m": height,
    })
    return matrix, pd.concat([frame, costs[columns]], axis=1)


def _pool_frame(cands: Any, extra: Any, crs: Any) -> Any:
    """Candidates and audit sites as one point GeoDataFrame with lon/lat."""

    cols = ["site_id", "x", "y", "village_code", "village", "district", "cost_total_idr"]
    pool = pd.concat([cands[cols], extra[cols]], ignore_index=True) if len(extra) \
        else cands[cols].reset_index(drop=True)
    gdf = gpd.GeoDataFrame(pool, geometry=gpd.points_from_xy(pool["x"], pool["y"]), crs=crs)
    if len(gdf):
        ll = gdf.geometry.to_crs("EPSG:4326")
        gdf["lon"], gdf["lat"] = ll.x.round(6).to_numpy(), ll.y.round(6).to_numpy()
    else:
        gdf["lon"], gdf["lat"] = [], []
    return gdf


def _blank_after(state: CurrentState, scenario: Scenario, matrix: sp.csr_matrix,
                 sites: Sequence[int]) -> int:
    """Villages still blank when *sites* are added to the existing towers."""

    units = state.units
    covered = state.covered.copy()
    if len(sites):
        covered |= np.asarray(matrix[list(sites)].sum(axis=0)).ravel() > 0
    n_v = len(state.villages)
    tot = np.bincount(units.village, weights=units.weight, minlength=n_v)
    got = np.bincount(units.village, weights=units.weight * covered, minlength=n_v)
    area = np.bincount(units.village, weights=units.area_km2, minlength=n_v)
    area_got = np.bincount(units.village, weights=units.area_km2 * covered, minlength=n_v)
    share = np.where(tot > 0, got / np.where(tot > 0, tot, 1),
                     area_got / np.where(area > 0, area, 1))
    status = at_least(classify(share, scenario.coverage.blank_below,
                               scenario.coverage.covered_at_least),
                      state.stats["status"].to_numpy())
    return int((status == BLANK).sum())


def _summary(scenario: Scenario, state: CurrentState, res: AuditResult, table: Any,
             optimum: Any, model_chain: str, pool_matrix: sp.csr_matrix) -> dict[str, Any]:
    names = state.villages["name"].astype(str).to_numpy()

    def listing(frame: Any) -> list[dict[str, Any]]:
        return [{**({"audit_id": str(r["audit_id"])} if "audit_id" in frame else {}),
                 "site_id": str(r["site_id"]), "village": str(r["village"]),
                 "lon": float(r["lon"]), "lat": float(r["lat"]),
                 "cost_total_idr": float(r["cost_total_idr"]),
                 "new_demand": round(float(r["demand_alone"]), 3)}
                for _, r in frame.iterrows()]

    sources = sorted(set(table["source"]))
    return {
        "scenario": scenario.scenario.name,
        "budget_idr": float(scenario.budget.total_idr),
        "audit_source": "+".join("villages" if s == "village" else s for s in sources),
        "audit_villages": [str(v) for v in table["village"]],
        "audit_sites": listing(table),
        "audit_towers": len(table),
        "audit_cost_idr": float(res.cost),
        "audit_demand": round(res.objective, 3),
        "audit_within_budget": bool(res.cost <= scenario.budget.total_idr + 1e-6),
        "optimum_towers": len(res.optimum.sites),
        "optimum_cost_idr": float(res.optimum.cost),
        "optimum_demand": round(res.optimum.objective, 3),
        "optimum_gap": res.optimum.gap,
        "share_of_optimum": round(res.share_of_optimum, 4),
        "percent_of_optimum": round(100 * res.share_of_optimum, 2),
        "demand_shortfall": round(res.optimum.objective - res.objective, 3),
        "optimum_sites": listing(optimum),
        "villages_served_only_by_optimum": [str(names[v]) for v in res.villages_only_optimum],
        "villages_served_only_by_audit": [str(names[v]) for v in res.villages_only_audit],
        "blank_villages_before": _blank_after(state, scenario, pool_matrix, ()),
        "blank_villages_after_audit": _blank_after(state, scenario, pool_matrix, res.sites),
        "blank_villages_after_optimum": _blank_after(state, scenario, pool_matrix,
                                                     res.optimum.sites),
        "demand_basis": state.units.basis,
        "model_chain": model_chain,
        "synthetic": state.data.paths.demo is not None,
    }
