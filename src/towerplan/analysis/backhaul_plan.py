"""The backhaul stage of ``plan``: adapter between the pipeline and :mod:`.backhaul`.

:func:`plan_backhaul` runs before the selection: it loads the points of presence, checks the
hops, and writes each candidate's per-site backhaul cost into ``cost_backhaul_idr`` (and the
total). :func:`finish_backhaul` runs after it: with ``[backhaul] model = "joint"`` it replaces
the selection by the joint site-and-backhaul MILP, and with ``compare`` it solves the other
model too; it returns the links of the chosen sites, their per-site columns for the ranking
and the ``backhaul`` entry of summary.json.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from towerplan.analysis.backhaul import (
    COLOCATED,
    EXISTING,
    POP,
    SITE,
    VSAT,
    Arcs,
    HopParams,
    HopTable,
    Nodes,
    SitePaths,
    backhaul_arcs,
    check_hops,
    site_paths,
)
from towerplan.analysis.backhaul_joint import JointResult, joint_selection
from towerplan.analysis.selection import blank_village_shares

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.selection import SelectionResult
    from towerplan.pipeline import CurrentState, SelectionProblem
    from towerplan.scenario import Scenario

__all__ = ["BackhaulOutcome", "BackhaulPlan", "BackhaulRun", "backhaul_costs_of", "candidate_pairs",
           "finish_backhaul", "hop_frame", "plan_backhaul", "read_scenario_pops", "run_backhaul"]

log = logging.getLogger(__name__)

_SOLVER = "joint milp (HiGHS): sites + backhaul"
#: Relay arcs from other new sites kept into each site of the joint model (the shortest).
RELAY_ARCS_PER_SITE = 8


@dataclass(frozen=True, slots=True)
class BackhaulPlan:
    """Hops, graph and per-site backhaul of every candidate (before the selection).

    ``enabled`` is False for ``model = "fixed"`` or without points of presence; ``note`` then
    says why and the candidates keep ``costs.backhaul_idr``.
    """

    enabled: bool
    note: str
    params: HopParams | None = None
    nodes: Nodes | None = None
    hops: HopTable | None = None
    arcs: Arcs | None = None
    own_arcs: Arcs | None = None
    per_site: SitePaths | None = None
    node_of_site: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    needs: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    vsat_idr: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


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


def read_scenario_pops(scenario: Scenario, state: CurrentState) -> Any:
    """Points of presence of the scenario in the working CRS, or None when there are none."""
    from towerplan.io.pops import read_pops
    from towerplan.scenario import BUILTIN_DEMO

    value = scenario.inputs.pops
    if value == BUILTIN_DEMO:
        demo = state.data.paths.demo
        path = demo.pops if demo is not None else None
    else:
        path = scenario.resolve(value) if value else None
    if path is None:
        return None
    pops, _ = read_pops(path)
    return pops.to_crs(state.data.crs)


def plan_backhaul(scenario: Scenario, state: CurrentState, problem: SelectionProblem, *,
                  progress: Callable[[str], None] | None = None) -> BackhaulPlan:
    """Check hops and cost each candidate's own backhaul; update its cost columns in place.

    Returns
    -------
    BackhaulPlan
        Disabled (costs untouched) for ``[backhaul] model = "fixed"`` or without points of
        presence.
    """
    b, costs = scenario.backhaul, scenario.costs
    if b.model == "fixed":
        return BackhaulPlan(False, "[backhaul] model = fixed: costs.backhaul_idr per site")
    pops = read_scenario_pops(scenario, state)
    if pops is None or not len(pops):
        return BackhaulPlan(False, "no points of presence given ([inputs] pops): backhaul "
                                   "costed at costs.backhaul_idr per site")
    if progress is not None:
        progress("backhaul")
    t0 = time.perf_counter()
    cands, towers = problem.candidates, state.data.towers
    needs = (cands["origin"].astype(str) != "colocation").to_numpy() if len(cands) \
        else np.zeros(0, bool)
    net = _own_network(scenario, state, pops, cands["site_id"], cands[["x", "y"]].to_numpy(float),
                       needs)
    params, nodes, node_of_site, dem_t = net.params, net.nodes, net.node_of_site, net.dem_t
    hops1, own_arcs, per_site, vsat_idr = net.hops, net.arcs, net.per_site, net.vsat_idr
    c = costs.backhaul
    active = np.ones(len(nodes), bool)
    active[node_of_site[~needs]] = False
    # a relayed hop costs at least pair + relay: only sites paying more can gain from one
    gain = per_site.cost_idr > c.microwave_pair_idr + c.relay_idr + 1e-6
    relays = np.ones(len(nodes), bool)
    relays[node_of_site] = cands["demand_alone"].to_numpy(float) > 0
    hops2 = _relay_hops(dem_t, nodes, params, gain & active, relays & active)
    second = np.column_stack([hops2.a, hops2.b])
    hops = HopTable.concat([hops1, hops2])
    arcs = _prune(backhaul_arcs(nodes, hops, c, relay_sites=True), nodes, per_site, hops,
                  relays)
    own = np.where(needs, per_site.cost_idr[node_of_site], 0.0)
    old = cands["cost_backhaul_idr"].to_numpy(float)
    # sites with user cost overrides keep the figures the user gave
    given = cands["cost_overridden"].to_numpy(bool) if "cost_overridden" in cands \
        else np.zeros(len(cands), bool)
    cands["cost_backhaul_idr"] = np.where(needs & ~given, own, old)
    cands["cost_total_idr"] = cands["cost_total_idr"].to_numpy(float) - old \
        + cands["cost_backhaul_idr"].to_numpy(float)
    runtime = time.perf_counter() - t0
    tech = pd.Series(per_site.technology[node_of_site[needs]]).value_counts()
    stats = {"points_of_presence": int(len(pops)), "existing_towers": int(len(towers)),
             "candidates": int(len(cands)), "hop_pairs_checked": int(len(hops)),
             "hop_pairs_site_to_site": int(len(second)),
             "hops_feasible": int(hops.feasible.sum()), "arcs_joint_model": int(len(arcs)),
             "candidates_by_technology": {str(k): int(v) for k, v in tech.items()},
             "hop_runtime_s": round(runtime, 2)}
    log.info("backhaul: %d candidates, %d hop pairs checked (%d site-to-site), %d feasible; "
             "per-site %s; %.1f s", len(cands), len(hops), len(second), hops.feasible.sum(),
             stats["candidates_by_technology"], runtime)
    return BackhaulPlan(True, params.describe(), params, nodes, hops, arcs, own_arcs,
                        per_site, node_of_site, needs, vsat_idr, stats)


@dataclass(frozen=True, slots=True)
class _OwnNetwork:
    """Nodes, first-level hops (to PoPs and existing towers) and each site's own path."""

    params: HopParams
    nodes: Nodes
    node_of_site: np.ndarray
    dem_t: tuple[np.ndarray, Any]
    hops: HopTable
    arcs: Arcs
    per_site: SitePaths
    vsat_idr: float


def _own_network(scenario: Scenario, state: CurrentState, pops: Any, site_ids: Any,
                 site_xy: np.ndarray, needs: np.ndarray) -> _OwnNetwork:
    """Check the hops of PoPs, existing towers and *site_xy* (working CRS) and find each
    site's cheapest own path to the network (no relay through another new site)."""
    b, costs = scenario.backhaul, scenario.costs
    towers, dem = state.data.towers, state.data.dem
    lat = float(np.mean(state.villages.to_crs("EPSG:4326").total_bounds[[1, 3]])) \
        if len(state.villages) else 0.0
    params = HopParams.from_backhaul(b, lat)
    nodes = Nodes.concat(
        (pops["pop_id"], POP, np.column_stack([pops.geometry.x, pops.geometry.y]),
         b.pop_antenna_m),
        (towers["tower_id"], EXISTING, np.column_stack([towers.geometry.x, towers.geometry.y])
         if len(towers) else np.empty((0, 2)), towers["height_m"].to_numpy(float)),
        (site_ids, SITE, site_xy, b.site_antenna_m))
    node_of_site = np.arange(len(nodes) - len(site_xy), len(nodes))
    active = np.ones(len(nodes), bool)
    active[node_of_site[~needs]] = False
    dem_t = (dem.array.astype(float), dem.transform)
    first = _pairs(nodes, params.max_hop_m, active, ((POP, EXISTING), (EXISTING, EXISTING),
                                                     (POP, SITE), (EXISTING, SITE)))
    hops = check_hops(*dem_t, nodes, first, params)
    vsat_idr = costs.vsat.capex_idr + costs.vsat.years * costs.vsat.opex_idr_per_year
    arcs = backhaul_arcs(nodes, hops, costs.backhaul, relay_sites=False)
    per_site = site_paths(nodes, arcs, hops, vsat_idr)
    return _OwnNetwork(params, nodes, node_of_site, dem_t, hops, arcs, per_site, vsat_idr)


def backhaul_costs_of(scenario: Scenario, state: CurrentState,
                      site_xy: np.ndarray) -> np.ndarray | None:
    """Own backhaul cost (rupiah) of extra sites such as audited ones, costed exactly like a
    candidate's in :func:`plan_backhaul`; None when the backhaul model is off (``fixed`` or no
    points of presence), so the fixed ``costs.backhaul_idr`` applies."""
    if scenario.backhaul.model == "fixed":
        return None
    pops = read_scenario_pops(scenario, state)
    if pops is None or not len(pops):
        return None
    xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    ids = pd.Series([f"extra-{k}" for k in range(len(xy))])
    net = _own_network(scenario, state, pops, ids, xy, np.ones(len(xy), bool))
    return np.asarray(net.per_site.cost_idr[net.node_of_site], dtype=float)


def candidate_pairs(nodes: Nodes, max_hop_m: float, *, kinds: tuple[str, str]) -> np.ndarray:
    """Node pairs of the two *kinds* at most *max_hop_m* apart (each unordered pair once)."""
    ia = np.flatnonzero(nodes.kind == kinds[0])
    ib = np.flatnonzero(nodes.kind == kinds[1])
    if not len(ia) or not len(ib):
        return np.empty((0, 2), np.int64)
    if kinds[0] == kinds[1]:
        found = cKDTree(nodes.xy[ia]).query_pairs(max_hop_m, output_type="ndarray")
        return np.column_stack([ia[found[:, 0]], ia[found[:, 1]]]) if len(found) \
            else np.empty((0, 2), np.int64)
    near = cKDTree(nodes.xy[ib]).query_ball_point(nodes.xy[ia], max_hop_m)
    rows = [(i, ib[j]) for i, js in zip(ia, near, strict=True) for j in js]
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def _pairs(nodes: Nodes, max_hop_m: float, active: np.ndarray,
           kinds: tuple[tuple[str, str], ...]) -> np.ndarray:
    found = [candidate_pairs(nodes, max_hop_m, kinds=k) for k in kinds]
    pairs = np.concatenate(found) if found else np.empty((0, 2), np.int64)
    return pairs[active[pairs[:, 0]] & active[pairs[:, 1]]]


def _relay_hops(dem_t: tuple[np.ndarray, Any], nodes: Nodes, params: HopParams,
                heads: np.ndarray, tails: np.ndarray) -> HopTable:
    """Site-to-site hops into the sites in *heads*, nearest tails first.

    For each head, tails (sites in *tails*) are checked in order of distance, in growing
    blocks, until :data:`RELAY_ARCS_PER_SITE` feasible ones are found: the joint model keeps
    no more relay arcs per site than these, so farther pairs need no terrain check.
    """
    head = np.flatnonzero(heads & (nodes.kind == SITE))
    pool = np.flatnonzero(tails & (nodes.kind == SITE))
    if not len(head) or len(pool) < 2:
        return check_hops(*dem_t, nodes, np.empty((0, 2), np.int64), params)
    k = min(len(pool), 400)
    dist, idx = cKDTree(nodes.xy[pool]).query(nodes.xy[head], k=k,
                                              distance_upper_bound=params.max_hop_m)
    near = np.where(np.isfinite(dist), pool[np.minimum(idx, len(pool) - 1)], -1)
    found = np.zeros(len(head), np.int64)
    seen: set[tuple[int, int]] = set()
    tables = []
    lo = 0
    for hi in (12, 24, 48, 96, 192, k):
        todo = np.flatnonzero(found < RELAY_ARCS_PER_SITE)
        if hi <= lo or not len(todo):
            break
        rows, cols = np.nonzero(near[todo, lo:hi] >= 0)
        pairs = np.column_stack([head[todo[rows]], near[todo[rows], lo + cols]])
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        key = np.sort(pairs, axis=1)
        fresh = [i for i, (u, v) in enumerate(map(tuple, key)) if (u, v) not in seen]
        seen.update(map(tuple, key[fresh].tolist()))
        table = check_hops(*dem_t, nodes, key[fresh], params)
        tables.append(table)
        ok = {(int(u), int(v)) for u, v, f in zip(table.a, table.b, table.feasible,
                                                 strict=True) if f}
        hit = np.array([(min(h, t), max(h, t)) in ok for h, t in pairs], dtype=bool)
        owner = np.searchsorted(head, pairs[:, 0])
        found += np.bincount(owner[hit], minlength=len(head))
        lo = hi
    return HopTable.concat(tables)


def _prune(arcs: Arcs, nodes: Nodes, per_site: SitePaths, hops: HopTable,
           relays: np.ndarray) -> Arcs:
    """Arcs of the joint model.

    Dropped: arcs into a site dearer than that site's own backhaul, and relay arcs from other
    sites costing as much as it (its own path is at least as cheap, so some optimum uses none
    of them); arcs out of sites in
    ``~relays`` (sites covering no new demand are never built); of the relay arcs from other
    new sites into a site, all but the :data:`RELAY_ARCS_PER_SITE` shortest hops.
    """
    head_site = nodes.kind[arcs.head] == SITE
    tail_site = nodes.kind[arcs.tail] == SITE
    own = per_site.cost_idr[arcs.head]
    keep = ~head_site | np.where(tail_site, arcs.cost_idr < own - 1e-6,
                                 arcs.cost_idr <= own + 1e-6)
    keep &= ~tail_site | relays[arcs.tail]
    length = np.where(arcs.hop >= 0, hops.distance_m[np.maximum(arcs.hop, 0)], 0.0)
    rank = pd.Series(np.where(keep & tail_site, length, np.inf)).groupby(
        arcs.head).rank(method="first").to_numpy()
    keep &= ~(head_site & tail_site) | (rank <= RELAY_ARCS_PER_SITE)
    return Arcs(*(getattr(arcs, f)[keep] for f in ("tail", "head", "cost_idr", "technology",
                                                    "hop")))


def finish_backhaul(plan: BackhaulPlan, scenario: Scenario, problem: SelectionProblem,
                    selection: SelectionResult) -> tuple[SelectionResult, BackhaulOutcome]:
    """Apply the backhaul model to the selection; links, ranking columns and summary.

    With ``[backhaul] model = "joint"`` the selection is replaced by the joint MILP and the
    chosen sites' ``cost_backhaul_idr``/``cost_total_idr`` by their share of the joint plan.
    """
    cands = problem.candidates
    if not plan.enabled:
        table = pd.DataFrame({"site_id": cands["site_id"].astype(str),
                              "backhaul_technology": "", "backhaul_hops": 0,
                              "backhaul_worst_clearance": np.nan})
        return selection, BackhaulOutcome({"model": "fixed", "note": plan.note,
                                           "backhaul_idr_per_site":
                                           float(scenario.costs.backhaul_idr)}, None, table)
    b = scenario.backhaul
    runs: dict[str, dict[str, Any] | None] = {"per-site": None, "joint": None}
    joint: JointResult | None = None
    notes: list[str] = []
    if b.model == "joint" or b.compare:
        joint = _joint(plan, scenario, problem, start=_own_plan(plan, selection.sites)
                       if selection.cost <= scenario.budget.total_idr + 1e-6 else None)
    chosen = selection
    if b.model == "joint" and joint is not None:
        chosen = _as_selection(joint, selection)
        _apply_joint_costs(cands, joint)
    per_site_summary = _model_summary(problem, selection, plan, None)
    compared = joint is not None and b.compare
    if compared:
        same = _joint(plan, scenario, problem, fixed=selection.sites,
                      start=_own_plan(plan, selection.sites))
        per_site_summary["backhaul_idr_with_shared_relays"] = round(
            float(same.backhaul_idr[list(selection.sites)].sum()), 0)
    if joint is not None:
        runs["joint"] = _model_summary(problem, _as_selection(joint, selection), plan, joint)
    runs["per-site"] = per_site_summary
    used = "joint" if chosen is not selection else "per-site"
    summary: dict[str, Any] = {"model": used, "hop_model": plan.note, **plan.stats,
                               "vsat_idr_per_site": plan.vsat_idr, **runs, "notes": notes}
    if compared:
        ps, jt = runs["per-site"], runs["joint"]
        assert ps is not None and jt is not None
        summary["difference_joint_minus_per_site"] = {
            "demand_covered": round(jt["demand_covered"] - ps["demand_covered"], 3),
            "total_cost_idr": round(jt["total_cost_idr"] - ps["total_cost_idr"], 0),
            "backhaul_idr_same_sites": round(ps["backhaul_idr_with_shared_relays"]
                                             - ps["backhaul_idr"], 0)}
    links, table = _links(plan, problem, chosen, joint if chosen is not selection else None)
    return chosen, BackhaulOutcome(summary, links, table)


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
    sel = scenario.selection
    index = {sid: j for j, sid in enumerate(cands["site_id"].astype(str))}
    site_idr = (cands["cost_total_idr"] - cands["cost_backhaul_idr"]).to_numpy(float)
    state = problem.state
    kwargs: dict[str, Any] = {"must_include": [index[s] for s in sel.must_include if s in index],
                              "must_exclude": [index[s] for s in sel.must_exclude if s in index],
                              "time_limit_s": sel.time_limit_s}
    budget = scenario.budget.total_idr
    if fixed is not None:
        kwargs["must_include"] = list(fixed)
        kwargs["must_exclude"] = [j for j in range(len(cands)) if j not in set(fixed)]
        budget = float(cands["cost_total_idr"].to_numpy(float)[list(fixed)].sum()) + 1.0
    elif sel.max_per_kecamatan:
        kwargs["groups"] = cands["district_code"].astype(str).to_numpy()
        kwargs["max_per_group"] = sel.max_per_kecamatan
    if sel.min_share_blank_village > 0:
        kwargs["unit_group"] = state.units.village
        kwargs["min_share"] = blank_village_shares(
            state.units.village, state.units.weight,
            state.stats["status"].to_numpy() == "blank", sel.min_share_blank_village)
    return joint_selection(problem.matrix, state.units.weight, state.covered, site_idr, budget,
                           plan.nodes, plan.node_of_site, plan.arcs, plan.vsat_idr,
                           needs_backhaul=plan.needs, start=start, **kwargs)


def _as_selection(joint: JointResult, like: SelectionResult) -> SelectionResult:
    return dataclasses.replace(like, sites=joint.sites, objective=joint.objective,
                               cost=joint.cost_idr, gap=joint.gap, bound=None, solver=_SOLVER,
                               status=joint.status, runtime_s=joint.runtime_s)


def _apply_joint_costs(cands: pd.DataFrame, joint: JointResult) -> None:
    chosen = list(joint.sites)
    old = cands["cost_backhaul_idr"].to_numpy(float)
    new = old.copy()
    new[chosen] = joint.backhaul_idr[chosen]
    cands["cost_backhaul_idr"] = new
    cands["cost_total_idr"] = cands["cost_total_idr"].to_numpy(float) - old + new


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
    import geopandas as gpd
    import shapely
    from pyproj import Transformer

    from towerplan.outputs.columns import BACKHAUL_COLUMNS

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


@dataclass(frozen=True, slots=True)
class BackhaulRun:
    """Outcome of ``towerplan backhaul``: the selection, its backhaul and the files written."""

    selection: SelectionResult
    outcome: BackhaulOutcome
    problem: SelectionProblem
    files: tuple[str, ...]


def run_backhaul(scenario: Scenario, out_dir: Any, *, overwrite: bool = False,
                 progress: Callable[[str], None] | None = None) -> BackhaulRun:
    """Select sites with their backhaul and write links.gpkg, links.csv and hops.csv.

    Library entry point of ``towerplan backhaul``. ``[backhaul] model = "fixed"`` is treated
    as ``per-site`` here (the command exists to analyse the backhaul).

    Raises
    ------
    InputDataError
        When the scenario gives no points of presence.
    """
    import shutil
    from pathlib import Path

    from towerplan.errors import InputDataError
    from towerplan.pipeline import (
        current_state,
        publish_output_dir,
        select,
        selection_problem,
        stage_output_dir,
    )

    if scenario.backhaul.model == "fixed":
        scenario = dataclasses.replace(scenario, backhaul=dataclasses.replace(
            scenario.backhaul, model="per-site"))
    target = Path(out_dir)
    staging = stage_output_dir(target, overwrite=overwrite)
    try:
        state = current_state(scenario, progress=progress)
        problem = selection_problem(scenario, state, progress=progress)
        plan = plan_backhaul(scenario, state, problem, progress=progress)
        if not plan.enabled:
            msg = f"{plan.note}; set [inputs] pops to a CSV of fibre points of presence"
            raise InputDataError(msg)
        if progress is not None:
            progress("selection")
        blank = (state.stats["status"] == "blank").to_numpy()
        selection, _ = select(scenario, problem.candidates, problem.matrix, state.units,
                              state.covered, blank_villages=blank)
        chosen, outcome = finish_backhaul(plan, scenario, problem, selection)
        files = _write_backhaul(staging, plan, outcome, state)
        publish_output_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackhaulRun(chosen, outcome, problem, files)


def hop_frame(plan: BackhaulPlan, crs: Any) -> pd.DataFrame:
    """Every hop checked, with node ids and positions (``HOP_COLUMNS``)."""
    from pyproj import Transformer

    from towerplan.outputs.columns import HOP_COLUMNS

    assert plan.nodes is not None and plan.hops is not None
    nodes, hops = plan.nodes, plan.hops
    to_ll = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    (alon, zlon), (alat, zlat) = (np.array(v) for v in zip(
        to_ll.transform(*nodes.xy[hops.a].T), to_ll.transform(*nodes.xy[hops.b].T),
        strict=True))
    return pd.DataFrame({
        "from_id": nodes.ids[hops.a], "to_id": nodes.ids[hops.b],
        "from_lon": np.round(alon, 6), "from_lat": np.round(alat, 6),
        "to_lon": np.round(zlon, 6), "to_lat": np.round(zlat, 6),
        "distance_km": np.round(hops.distance_m / 1000.0, 3),
        "clearance_ratio": np.round(hops.clearance_ratio, 3),
        "margin_db": np.round(hops.margin_db, 2), "feasible": hops.feasible,
        "reason": hops.reason}, columns=list(HOP_COLUMNS))


def _write_backhaul(staging: Any, plan: BackhaulPlan, outcome: BackhaulOutcome,
                    state: CurrentState) -> tuple[str, ...]:
    import json

    from towerplan.io.atomic import atomic_output
    from towerplan.io.vectors import write_gpkg_layers
    from towerplan.outputs.columns import BACKHAUL_COLUMNS, HOP_COLUMNS
    from towerplan.outputs.exports import (
        DATA_SOURCE_SYNTHETIC,
        DATA_SOURCE_USER,
        typed_layer,
        write_table_csv,
    )

    source = DATA_SOURCE_SYNTHETIC if state.data.paths.demo is not None else DATA_SOURCE_USER
    links = outcome.links
    assert links is not None
    crs = state.villages.crs
    write_gpkg_layers(staging / "links.gpkg", [
        ("links", typed_layer(links, BACKHAUL_COLUMNS, crs, source), "LineString")])
    write_table_csv(links, BACKHAUL_COLUMNS, "links", staging / "links.csv", source)
    write_table_csv(hop_frame(plan, crs), HOP_COLUMNS, "hops", staging / "hops.csv", source)
    with atomic_output(staging / "backhaul.json") as tmp:
        tmp.write_text(json.dumps(_finite(outcome.summary), indent=2, ensure_ascii=False,
                                  allow_nan=False) + "\n", encoding="utf-8")
    return ("links.gpkg", "links.csv", "hops.csv", "backhaul.json")


def _finite(value: Any) -> Any:
    """JSON-ready copy: non-finite floats become None, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
