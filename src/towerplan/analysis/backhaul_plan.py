"""The backhaul costing of candidates: adapter between the scenario and :mod:`.backhaul`.

:func:`plan_backhaul` runs before the selection: it checks the hops from the points of
presence and existing towers to every candidate and returns a copy of the candidates with
each one's per-site backhaul cost in ``cost_backhaul_idr`` (and the total), with the
:class:`BackhaulPlan` (nodes, hops, arcs, paths) that :mod:`.backhaul_choice` applies to the
chosen sites. Inputs are never changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

from towerplan.analysis.backhaul import (
    EXISTING,
    POP,
    SITE,
    Arcs,
    HopParams,
    HopTable,
    Nodes,
    SitePaths,
    backhaul_arcs,
    check_hops,
    site_paths,
)
from towerplan.columns import HOP_COLUMNS
from towerplan.i18n import bilingual

if TYPE_CHECKING:
    from towerplan.inputs import LoadedInputs
    from towerplan.scenario import Scenario

__all__ = ["BackhaulPlan", "backhaul_costs_of", "candidate_pairs", "hop_frame",
           "plan_backhaul"]

log = logging.getLogger(__name__)

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


def plan_backhaul(scenario: Scenario, data: LoadedInputs, candidates: pd.DataFrame, *,
                  progress: Callable[[str], None] | None = None
                  ) -> tuple[BackhaulPlan, pd.DataFrame]:
    """Check hops and cost each candidate's own backhaul.

    Parameters
    ----------
    scenario : Scenario
        Reads ``[backhaul]``, ``[costs.backhaul]`` and ``[costs.vsat]``.
    data : LoadedInputs
        Points of presence, existing towers, terrain and villages in the working CRS.
    candidates : pandas.DataFrame
        Candidates with ``site_id``, ``x``, ``y``, ``origin``, ``demand_alone`` and cost
        columns (``cost_overridden`` marks costs the user gave); not changed.

    Returns
    -------
    BackhaulPlan
        Disabled for ``[backhaul] model = "fixed"`` or without points of presence.
    pandas.DataFrame
        A copy of *candidates* with ``cost_backhaul_idr`` and ``cost_total_idr`` updated
        (unchanged when the plan is disabled).
    """
    b, costs = scenario.backhaul, scenario.costs
    if b.model == "fixed":
        return BackhaulPlan(False, bilingual("backhaul.fixed")), \
            candidates
    pops = data.pops
    if pops is None or not len(pops):
        return BackhaulPlan(False, bilingual("backhaul.no_pops")), candidates
    if progress is not None:
        progress("backhaul")
    t0 = time.perf_counter()
    cands, towers = candidates.copy(), data.towers
    needs = (cands["origin"].astype(str) != "colocation").to_numpy() if len(cands) \
        else np.zeros(0, bool)
    net = _own_network(scenario, data, pops, cands["site_id"],
                       cands[["x", "y"]].to_numpy(float), needs)
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
                        per_site, node_of_site, needs, vsat_idr, stats), cands


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


def _own_network(scenario: Scenario, data: LoadedInputs, pops: Any, site_ids: Any,
                 site_xy: np.ndarray, needs: np.ndarray) -> _OwnNetwork:
    """Check the hops of PoPs, existing towers and *site_xy* (working CRS) and find each
    site's cheapest own path to the network (no relay through another new site)."""
    b, costs = scenario.backhaul, scenario.costs
    towers, dem, villages = data.towers, data.dem, data.villages
    lat = float(np.mean(villages.to_crs("EPSG:4326").total_bounds[[1, 3]])) \
        if len(villages) else 0.0
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


def backhaul_costs_of(scenario: Scenario, data: LoadedInputs,
                      site_xy: np.ndarray) -> np.ndarray | None:
    """Own backhaul cost (rupiah) of extra sites such as audited ones, costed exactly like a
    candidate's in :func:`plan_backhaul`; None when the backhaul model is off (``fixed`` or no
    points of presence), so the fixed ``costs.backhaul_idr`` applies."""
    if scenario.backhaul.model == "fixed":
        return None
    pops = data.pops
    if pops is None or not len(pops):
        return None
    xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    ids = pd.Series([f"extra-{k}" for k in range(len(xy))])
    net = _own_network(scenario, data, pops, ids, xy, np.ones(len(xy), bool))
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


def hop_frame(plan: BackhaulPlan, crs: Any) -> pd.DataFrame:
    """Every hop checked, with node ids and positions (``HOP_COLUMNS``)."""
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
