"""Backhaul: how each new site reaches the network, and what that costs (DESIGN.md section 6).

Nodes are the fibre points of presence (PoPs), the existing towers and the candidate sites.
A microwave hop between two nodes at most ``max_hop_km`` apart is feasible when

* the first Fresnel zone is clear by ``min_clearance`` of its radius over the terrain at the
  effective earth radius factor ``k`` (profile sampled along the straight line in the working
  CRS at the DEM cell size with :func:`~towerplan.radio.profile.sample_bilinear`; geometry as
  :func:`~towerplan.radio.profile.line_of_sight`), and
* the fade margin of the hop budget covers the rain attenuation exceeded for
  ``100 - availability`` % of the year: received power = transmitter power + two dish gains -
  losses - free space (ITU-R P.525) - gases (ITU-R P.676-10 Annex 2, tropical atmosphere of
  ITU-R P.835); rain by ITU-R P.838-3 and P.530-17 (:mod:`towerplan.radio.rain`). Multipath
  (clear-air) fading is not modelled.

Feasible hops become arcs of a directed graph (networkx), oriented from the network towards
the site, weighted ``microwave_pair_idr`` (plus ``relay_idr`` when the upstream end is a relay
tower rather than a PoP); sites near a PoP may take fibre instead. Two models use the graph:

``per-site``
    Multi-source Dijkstra from the PoPs over PoPs and existing towers gives each site its
    cheapest own path; VSAT (capex + years x opex) when that is dearer or no path exists.
    The cost enters the site's cost before the usual selection.
``joint``
    One MILP chooses the sites and the backhaul together: single-commodity flow from the
    PoPs, one unit per chosen site not on VSAT, arcs activated by binaries (an arc carries
    flow only when built; a new site relays only when chosen), so a relay hop shared by
    several sites is paid once. It maximises newly covered demand within the budget, then
    minimises the cost of that coverage.

Checking every pair is the costly part; pairs are pruned by distance (k-d tree), then by the
hop budget at their length (no terrain needed), and site-to-site pairs are only checked where
one end could gain from a relay (its own path costs more than a relayed hop).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from affine import Affine
from scipy.spatial import cKDTree

from towerplan.analysis.selection import share_targets
from towerplan.analysis.selection_exact import aggregate_demand
from towerplan.radio.diffraction import earth_bulge_m, fresnel_radius_m
from towerplan.radio.models import fspl_db
from towerplan.radio.profile import sample_bilinear
from towerplan.radio.rain import (
    TROPICAL_SURFACE,
    dish_gain_dbi,
    gaseous_specific_attenuation_db_km,
    rain_attenuation_db,
)

if TYPE_CHECKING:
    import networkx as nx

    from towerplan.scenario import Backhaul, BackhaulCosts

__all__ = [
    "Arcs",
    "HopParams",
    "HopTable",
    "JointResult",
    "Nodes",
    "SitePaths",
    "backhaul_arcs",
    "backhaul_graph",
    "check_hops",
    "hop_margin_db",
    "joint_selection",
    "site_paths",
    "worst_clearance_ratio",
]

log = logging.getLogger(__name__)

POP, EXISTING, SITE = "pop", "existing", "site"
FIBRE, MICROWAVE, VSAT, COLOCATED = "fibre", "microwave", "vsat", "existing"
REASON_OK, REASON_RAIN = "ok", "rain margin"
REASON_FRESNEL, REASON_BLOCKED, REASON_OUTSIDE = ("fresnel clearance", "no line of sight",
                                                   "outside terrain")
#: Samples evaluated per chunk of the batch clearance (bounds memory, ~200 MB).
_CHUNK_SAMPLES = 2_000_000


# ------------------------------------------------------------------------------ hop budget
@dataclass(frozen=True, slots=True)
class HopParams:
    """Numbers of the hop check (from ``[backhaul]``).

    Attributes
    ----------
    freq_ghz, polarisation, rain_rate_mm_h, availability, k_factor, min_clearance
        As in :class:`~towerplan.scenario.Backhaul` (availability in % of the year).
    latitude_deg : float
        Latitude of the area (selects the P.530 percentage scaling).
    max_hop_m : float
        Longest hop, m.
    tx_power_dbm, antenna_gain_dbi, losses_db, rx_threshold_dbm : float
        Hop budget: power, gain of each dish, losses of both ends, receiver threshold.
    surface : tuple of float
        Pressure hPa, temperature deg C, water vapour g/m3 for the gaseous attenuation.
    """

    freq_ghz: float = 7.0
    polarisation: str = "vertical"
    rain_rate_mm_h: float = 100.0
    availability: float = 99.99
    latitude_deg: float = 0.0
    k_factor: float = 4.0 / 3.0
    min_clearance: float = 0.6
    max_hop_m: float = 50_000.0
    tx_power_dbm: float = 25.0
    antenna_gain_dbi: float = 36.3
    losses_db: float = 2.0
    rx_threshold_dbm: float = -75.0
    surface: tuple[float, float, float] = TROPICAL_SURFACE

    @classmethod
    def from_backhaul(cls, b: Backhaul, latitude_deg: float) -> HopParams:
        """Hop parameters of a scenario's ``[backhaul]`` at *latitude_deg*."""
        return cls(freq_ghz=b.band_ghz, polarisation=b.polarisation,
                   rain_rate_mm_h=b.rain_rate_mm_h, availability=b.availability,
                   latitude_deg=latitude_deg, k_factor=b.k_factor,
                   min_clearance=b.min_clearance, max_hop_m=b.max_hop_km * 1000.0,
                   tx_power_dbm=b.tx_power_dbm,
                   antenna_gain_dbi=float(dish_gain_dbi(b.antenna_diameter_m, b.band_ghz)),
                   losses_db=b.losses_db, rx_threshold_dbm=b.rx_threshold_dbm)

    @property
    def percent_time(self) -> float:
        """Percentage of the year the rain attenuation may exceed the fade margin."""
        return round(100.0 - self.availability, 6)

    def describe(self) -> str:
        """One-line statement of the hop model."""
        p, t, rho = self.surface
        return (f"{self.freq_ghz:g} GHz {self.polarisation}, {self.tx_power_dbm:g} dBm, dishes "
                f"{self.antenna_gain_dbi:.1f} dBi, losses {self.losses_db:g} dB, threshold "
                f"{self.rx_threshold_dbm:g} dBm; first Fresnel zone clear by "
                f"{self.min_clearance:g} at k = {self.k_factor:.4g}; rain ITU-R P.838-3 + "
                f"P.530-17 at R0.01 = {self.rain_rate_mm_h:g} mm/h for {self.availability:g} %"
                f" availability; gases ITU-R P.676-10 Annex 2 at {p:.0f} hPa, {t:g} C, "
                f"{rho:.1f} g/m3 (ITU-R P.835 low latitude); multipath fading not modelled")


def hop_margin_db(distance_m: np.ndarray, params: HopParams) -> np.ndarray:
    """Fade margin left after rain on hops of the given lengths, dB (>= 0 = budget holds).

    ``P_tx + 2 G - losses - FSPL - A_gas - threshold - A_rain(p)``.

    Examples
    --------
    >>> m = hop_margin_db(np.array([10_000.0, 50_000.0]), HopParams(freq_ghz=13.0,
    ...                   antenna_gain_dbi=41.7))
    >>> bool(m[0] > 0), bool(m[1] < 0)
    (True, False)
    """
    d_km = np.maximum(np.asarray(distance_m, dtype=float), 1.0) / 1000.0
    p, t, rho = params.surface
    gas = float(gaseous_specific_attenuation_db_km(params.freq_ghz, pressure_hpa=p,
                                                   temperature_c=t, water_vapour_g_m3=rho))
    rx = (params.tx_power_dbm + 2.0 * params.antenna_gain_dbi - params.losses_db
          - np.asarray(fspl_db(d_km, params.freq_ghz * 1000.0)) - gas * d_km)
    rain = np.asarray(rain_attenuation_db(d_km, params.freq_ghz, params.rain_rate_mm_h,
                                          polarisation=params.polarisation,
                                          percent_time=params.percent_time,
                                          latitude_deg=params.latitude_deg))
    return rx - params.rx_threshold_dbm - rain


# ------------------------------------------------------------------------ nodes and hops
@dataclass(frozen=True, slots=True)
class Nodes:
    """Network nodes in the working CRS.

    Attributes
    ----------
    ids : numpy.ndarray of str
        ``pop_id``, ``tower_id`` or ``site_id``.
    kind : numpy.ndarray of str
        ``"pop"``, ``"existing"`` or ``"site"``.
    xy : numpy.ndarray
        ``(n, 2)`` positions, m.
    antenna_m : numpy.ndarray
        Dish height above ground, m.
    """

    ids: np.ndarray
    kind: np.ndarray
    xy: np.ndarray
    antenna_m: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def concat(cls, *parts: tuple[Any, str, Any, Any]) -> Nodes:
        """Nodes from ``(ids, kind, xy, antenna_m)`` groups, in order."""
        ids = np.array([i for p in parts for i in map(str, p[0])], dtype=object)
        kind = np.array([p[1] for p in parts for _ in p[0]], dtype=object)
        xy = np.concatenate([np.asarray(p[2], float).reshape(-1, 2) for p in parts])
        ant = np.concatenate([np.broadcast_to(np.asarray(p[3], float), (len(p[0]),))
                              for p in parts])
        return cls(ids, kind, xy, ant)


@dataclass(frozen=True, slots=True)
class HopTable:
    """Every hop checked: node pair, length, worst clearance, margin, verdict and reason."""

    a: np.ndarray
    b: np.ndarray
    distance_m: np.ndarray
    clearance_ratio: np.ndarray
    margin_db: np.ndarray
    feasible: np.ndarray
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def concat(cls, tables: Sequence[HopTable]) -> HopTable:
        """One table of all rows of *tables*."""
        return cls(*(np.concatenate([getattr(t, f) for t in tables])
                     for f in ("a", "b", "distance_m", "clearance_ratio", "margin_db",
                               "feasible", "reason")))


def worst_clearance_ratio(heights_m: np.ndarray, counts: np.ndarray, length_m: np.ndarray,
                          h_start_m: np.ndarray, h_end_m: np.ndarray, freq_mhz: float,
                          k_factor: float) -> np.ndarray:
    """Worst first-Fresnel clearance ratio of many profiles at once.

    The same geometry as :func:`~towerplan.radio.profile.line_of_sight` (straight ray between
    the antenna tips, terrain raised by the earth bulge, clearance over the first Fresnel
    radius at the intermediate samples), vectorised over concatenated profiles.

    Parameters
    ----------
    heights_m : numpy.ndarray
        Terrain heights of all profiles, concatenated; each profile at equal spacing from its
        start (index 0) to its end.
    counts : numpy.ndarray of int
        Samples of each profile (>= 2).
    length_m : numpy.ndarray
        Length of each profile, m.
    h_start_m, h_end_m : numpy.ndarray
        Antenna heights above the ground at each end, m.
    freq_mhz : float
        Frequency, MHz.
    k_factor : float
        Effective earth radius factor.

    Returns
    -------
    numpy.ndarray
        Smallest clearance / first-Fresnel radius of each profile (``inf`` without an
        intermediate sample, ``nan`` when a height is missing).
    """
    counts = np.asarray(counts, dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    hop = np.repeat(np.arange(len(counts)), counts)
    i = np.arange(len(hop)) - starts[hop]
    t = i / (counts[hop] - 1)
    d1 = t * length_m[hop]
    d2 = length_m[hop] - d1
    z = np.asarray(heights_m, dtype=float)
    z0, z1 = z[starts], z[starts + counts - 1]
    a0 = z0 + h_start_m
    ray = a0[hop] + (z1 + h_end_m - a0)[hop] * t
    terrain = z + np.asarray(earth_bulge_m(d1, d2, k_factor))
    inner = (i > 0) & (i < counts[hop] - 1)
    ratio = np.full(len(hop), np.inf)
    radius = np.asarray(fresnel_radius_m(d1[inner], d2[inner], freq_mhz))
    ratio[inner] = (ray - terrain)[inner] / radius
    ratio[np.isnan(z)] = np.nan
    return np.asarray(np.minimum.reduceat(ratio, starts)) if len(counts) else np.zeros(0)


def _profile_ratios(dem: np.ndarray, transform: Affine, start: np.ndarray, end: np.ndarray,
                    h_start: np.ndarray, h_end: np.ndarray, params: HopParams) -> np.ndarray:
    """Worst clearance ratio of straight hops over the DEM, in chunks of samples."""
    step = min(abs(transform.a), abs(transform.e))
    length = np.hypot(*(end - start).T)
    counts = np.maximum(np.ceil(length / step).astype(np.int64), 1) + 1
    out = np.empty(len(length))
    bounds = np.searchsorted(np.cumsum(counts), np.arange(_CHUNK_SAMPLES,
                                                            int(counts.sum()) + _CHUNK_SAMPLES,
                                                            _CHUNK_SAMPLES), side="right")
    lo = 0
    for hi in (*np.unique(np.maximum(bounds, 1)), len(length)):
        hi = int(min(max(hi, lo + 1), len(length)))
        if lo >= hi:
            continue
        sl = slice(lo, hi)
        c = counts[sl]
        hop = np.repeat(np.arange(hi - lo), c)
        i = np.arange(len(hop)) - np.concatenate([[0], np.cumsum(c)[:-1]])[hop]
        t = i / (c[hop] - 1)
        s, e = start[sl][hop], end[sl][hop]
        z = sample_bilinear(dem, transform, s[:, 0] + t * (e[:, 0] - s[:, 0]),
                            s[:, 1] + t * (e[:, 1] - s[:, 1]))
        out[sl] = worst_clearance_ratio(z, c, length[sl], h_start[sl], h_end[sl],
                                        params.freq_ghz * 1000.0, params.k_factor)
        lo = hi
    return out


def check_hops(dem: np.ndarray, transform: Affine, nodes: Nodes, pairs: np.ndarray,
               params: HopParams) -> HopTable:
    """Check hops between node pairs: hop budget first, then the terrain clearance.

    Parameters
    ----------
    dem : numpy.ndarray
        Terrain heights in the working CRS, m (nan = no data).
    transform : affine.Affine
        DEM grid transform (north-up, metric).
    nodes : Nodes
        Network nodes.
    pairs : numpy.ndarray of int
        ``(m, 2)`` node index pairs.
    params : HopParams
        Hop budget and clearance criterion.

    Returns
    -------
    HopTable
        One row per pair; the clearance is ``nan`` where the budget already fails.
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    dist = np.hypot(*(nodes.xy[b] - nodes.xy[a]).T)
    margin = hop_margin_db(dist, params) if len(pairs) else np.zeros(0)
    ratio = np.full(len(pairs), np.nan)
    budget = margin >= 0.0
    if budget.any():
        ratio[budget] = _profile_ratios(dem, transform, nodes.xy[a[budget]],
                                        nodes.xy[b[budget]], nodes.antenna_m[a[budget]],
                                        nodes.antenna_m[b[budget]], params)
    reason = np.full(len(pairs), REASON_OK, dtype=object)
    reason[~budget] = REASON_RAIN
    reason[budget & np.isnan(ratio)] = REASON_OUTSIDE
    reason[budget & (ratio < params.min_clearance)] = REASON_FRESNEL
    reason[budget & (ratio < 0.0)] = REASON_BLOCKED
    feasible = reason == REASON_OK
    return HopTable(a, b, dist, ratio, margin, feasible, reason)


# ------------------------------------------------------------------------------ graph
@dataclass(frozen=True, slots=True)
class Arcs:
    """Directed arcs of the backhaul graph, from the network side (tail) to the site (head).

    ``hop`` indexes the :class:`HopTable` row of a microwave arc (-1 for fibre).
    """

    tail: np.ndarray
    head: np.ndarray
    cost_idr: np.ndarray
    technology: np.ndarray
    hop: np.ndarray

    def __len__(self) -> int:
        return len(self.tail)


def backhaul_arcs(nodes: Nodes, hops: HopTable, costs: BackhaulCosts, *,
                  relay_sites: bool) -> Arcs:
    """Arcs of the feasible hops, plus fibre from each PoP to nodes within reach.

    A microwave arc u -> v costs ``microwave_pair_idr``, plus ``relay_idr`` unless u is a PoP.
    Arcs never end at a PoP. Without *relay_sites* a new site is only ever a head (it relays
    for nobody). Of parallel arcs between the same ends only the cheaper is kept.
    """
    tails, heads, cost, tech, hop = [], [], [], [], []
    ok = np.flatnonzero(hops.feasible)
    for u_arr, v_arr in ((hops.a[ok], hops.b[ok]), (hops.b[ok], hops.a[ok])):
        keep = nodes.kind[v_arr] != POP
        if not relay_sites:
            keep &= nodes.kind[u_arr] != SITE
        tails.append(u_arr[keep])
        heads.append(v_arr[keep])
        cost.append(costs.microwave_pair_idr
                    + np.where(nodes.kind[u_arr[keep]] == POP, 0.0, costs.relay_idr))
        tech.append(np.full(int(keep.sum()), MICROWAVE, dtype=object))
        hop.append(ok[keep])
    pops = np.flatnonzero(nodes.kind == POP)
    others = np.flatnonzero(nodes.kind != POP)
    if len(pops) and len(others) and costs.fibre_max_km > 0:
        near = cKDTree(nodes.xy[pops]).query_ball_point(nodes.xy[others],
                                                         costs.fibre_max_km * 1000.0)
        pairs = np.array([(pops[j], v) for v, js in zip(others, near, strict=True) for j in js],
                         dtype=np.int64).reshape(-1, 2)
        d_km = np.hypot(*(nodes.xy[pairs[:, 1]] - nodes.xy[pairs[:, 0]]).T) / 1000.0
        tails.append(pairs[:, 0])
        heads.append(pairs[:, 1])
        cost.append(d_km * costs.fibre_idr_per_km)
        tech.append(np.full(len(pairs), FIBRE, dtype=object))
        hop.append(np.full(len(pairs), -1))
    frame = pd.DataFrame({"tail": np.concatenate(tails) if tails else [],
                          "head": np.concatenate(heads) if heads else [],
                          "cost": np.concatenate(cost) if cost else [],
                          "tech": np.concatenate(tech) if tech else [],
                          "hop": np.concatenate(hop) if hop else []})
    frame = frame.sort_values(["tail", "head", "cost"], kind="stable").drop_duplicates(
        ["tail", "head"])
    return Arcs(frame["tail"].to_numpy(np.int64), frame["head"].to_numpy(np.int64),
                frame["cost"].to_numpy(float), frame["tech"].to_numpy(object),
                frame["hop"].to_numpy(np.int64))


def backhaul_graph(nodes: Nodes, arcs: Arcs) -> nx.DiGraph:
    """networkx graph of the arcs: node attributes ``id``/``kind``, edge ``cost``/``arc``."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from((k, {"id": nodes.ids[k], "kind": nodes.kind[k]})
                         for k in range(len(nodes)))
    graph.add_edges_from((int(u), int(v), {"cost": float(c), "arc": k})
                         for k, (u, v, c) in enumerate(zip(arcs.tail, arcs.head, arcs.cost_idr,
                                                           strict=True)))
    return graph


@dataclass(frozen=True, slots=True)
class SitePaths:
    """Cheapest backhaul of each node on its own (per-site model).

    ``cost_idr`` is the cheaper of the graph path and VSAT; ``path`` lists the arcs from the
    node towards the PoP (empty for VSAT); ``technology`` is that of the node's own link.
    """

    cost_idr: np.ndarray
    technology: np.ndarray
    hops: np.ndarray
    worst_clearance: np.ndarray
    path: tuple[tuple[int, ...], ...]


def site_paths(nodes: Nodes, arcs: Arcs, hops: HopTable, vsat_idr: float) -> SitePaths:
    """Per-site backhaul: multi-source Dijkstra from the PoPs, VSAT when cheaper or needed.

    Examples
    --------
    Two PoP-to-site hops of 1 and a relay path: the site takes the cheaper.

    >>> nodes = Nodes.concat((["P"], "pop", [[0, 0]], 30), (["S"], "site", [[9e3, 0]], 40))
    >>> arcs = Arcs(np.array([0]), np.array([1]), np.array([3.5e8]),
    ...             np.array(["microwave"], object), np.array([0]))
    >>> hops = HopTable(np.array([0]), np.array([1]), np.array([9e3]), np.array([0.9]),
    ...                 np.array([5.0]), np.array([True]), np.array(["ok"], object))
    >>> p = site_paths(nodes, arcs, hops, 1.05e9)
    >>> float(p.cost_idr[1]), str(p.technology[1]), int(p.hops[1])
    (350000000.0, 'microwave', 1)
    """
    import networkx as nx

    graph = backhaul_graph(nodes, arcs)
    pops = [k for k in range(len(nodes)) if nodes.kind[k] == POP]
    dist, paths = nx.multi_source_dijkstra(graph, pops, weight="cost") if pops else ({}, {})
    n = len(nodes)
    cost = np.full(n, float(vsat_idr))
    tech = np.full(n, VSAT, dtype=object)
    count = np.zeros(n, np.int64)
    worst = np.full(n, np.nan)
    arc_paths: list[tuple[int, ...]] = [() for _ in range(n)]
    for v, d in dist.items():
        if nodes.kind[v] == POP or d > vsat_idr:
            continue
        route = paths[v]
        used = tuple(graph.edges[route[k], route[k + 1]]["arc"]
                     for k in range(len(route) - 2, -1, -1))
        cost[v], tech[v], count[v] = d, arcs.technology[used[0]], len(used)
        ratios = [hops.clearance_ratio[arcs.hop[a]] for a in used if arcs.hop[a] >= 0]
        worst[v] = min(ratios) if ratios else np.nan
        arc_paths[v] = used
    tech[nodes.kind == POP] = FIBRE
    cost[nodes.kind == POP] = 0.0
    return SitePaths(cost, tech, count, worst, tuple(arc_paths))


# ------------------------------------------------------------------------------ joint MILP
@dataclass(frozen=True, slots=True)
class JointResult:
    """Sites and backhaul chosen together.

    Attributes
    ----------
    sites : tuple of int
        Chosen candidate indices (rows of the coverage matrix), sorted.
    objective : float
        Newly covered demand.
    cost_idr : float
        Total cost: sites plus backhaul (arcs and VSAT).
    backhaul_idr : numpy.ndarray
        Backhaul cost allocated to each candidate (arc costs shared equally among the sites
        whose flow uses them, VSAT, 0 when not chosen).
    arcs : tuple of int
        Arcs built.
    vsat : tuple of int
        Chosen candidates on VSAT.
    path : dict of int to tuple of int
        Arcs from each chosen candidate towards its PoP.
    arc_idr : dict of int to float
        Cost of each built arc per site it serves, rupiah.
    gap, status, runtime_s
        Solver report of the coverage stage; runtime of both stages.
    """

    sites: tuple[int, ...]
    objective: float
    cost_idr: float
    backhaul_idr: np.ndarray
    arcs: tuple[int, ...]
    vsat: tuple[int, ...]
    path: dict[int, tuple[int, ...]]
    arc_idr: dict[int, float]
    gap: float | None
    status: str
    runtime_s: float


@dataclass(frozen=True, slots=True)
class _Layout:
    """Column offsets of the joint MILP: x (sites), s (VSAT), z (arcs), f (flows), y (demand)."""

    n_sites: int
    n_arcs: int
    n_y: int

    @property
    def s(self) -> int:
        return self.n_sites

    @property
    def z(self) -> int:
        return 2 * self.n_sites

    @property
    def f(self) -> int:
        return 2 * self.n_sites + self.n_arcs

    @property
    def y(self) -> int:
        return 2 * self.n_sites + 2 * self.n_arcs

    @property
    def size(self) -> int:
        return self.y + self.n_y


def _rows(entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_rows: int,
          n_cols: int) -> sp.csr_matrix:
    r = np.concatenate([e[0] for e in entries]) if entries else np.zeros(0, np.int64)
    c = np.concatenate([e[1] for e in entries]) if entries else np.zeros(0, np.int64)
    v = np.concatenate([e[2] for e in entries]) if entries else np.zeros(0)
    return sp.csr_matrix((v, (r, c)), shape=(n_rows, n_cols))


def _flow_rows(lay: _Layout, node_of_site: np.ndarray, needs: np.ndarray, arcs: Arcs,
               n_nodes: int, kinds: np.ndarray) -> sp.csr_matrix:
    """in - out flow - (x - s) = 0 at every node that is not a PoP."""
    node_row = np.full(n_nodes, -1)
    inner = np.flatnonzero(kinds != POP)
    node_row[inner] = np.arange(len(inner))
    k = np.arange(len(arcs))
    h, t = node_row[arcs.head], node_row[arcs.tail]
    entries = [(h[h >= 0], lay.f + k[h >= 0], np.ones(int((h >= 0).sum()))),
               (t[t >= 0], lay.f + k[t >= 0], -np.ones(int((t >= 0).sum())))]
    j = np.flatnonzero(needs)
    rows = node_row[node_of_site[j]]
    entries += [(rows, j, -np.ones(len(j))), (rows, lay.s + j, np.ones(len(j)))]
    return _rows(entries, len(inner), lay.size)


def _link_rows(lay: _Layout, arcs: Arcs, site_of_node: np.ndarray, kinds: np.ndarray,
               needs: np.ndarray, big_m: float) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Arc activation rows and their bounds.

    ``f_a - M z_a <= 0`` (flow only on built arcs); ``z_a - x_u <= 0`` for a site tail u (a
    new site relays only when built); ``sum_in z + s_v - x_v = 0`` for a site v (a chosen site
    has exactly one parent or VSAT: the arborescence, which also makes the LP bound charge
    every chosen site its link); ``sum_in z <= 1`` at an existing tower.
    """
    k = np.arange(len(arcs))
    entries = [(k, lay.f + k, np.ones(len(k))), (k, lay.z + k, -big_m * np.ones(len(k)))]
    lower, upper = [np.full(len(k), -np.inf)], [np.zeros(len(k))]
    row = len(k)
    tail_site = site_of_node[arcs.tail]
    sel = np.flatnonzero(tail_site >= 0)
    rows = row + np.arange(len(sel))
    entries += [(rows, lay.z + sel, np.ones(len(sel))), (rows, tail_site[sel], -np.ones(len(sel)))]
    lower.append(np.full(len(sel), -np.inf))
    upper.append(np.zeros(len(sel)))
    row += len(sel)
    js = np.flatnonzero(needs)
    site_row = np.full(lay.n_sites, -1)
    site_row[js] = row + np.arange(len(js))
    head_site = site_of_node[arcs.head]
    into = np.flatnonzero(head_site >= 0)
    into = into[site_row[head_site[into]] >= 0]
    entries += [(site_row[head_site[into]], lay.z + into, np.ones(len(into))),
                (site_row[js], lay.s + js, np.ones(len(js))), (site_row[js], js,
                                                              -np.ones(len(js)))]
    lower.append(np.zeros(len(js)))
    upper.append(np.zeros(len(js)))
    row += len(js)
    towers = np.flatnonzero(kinds == EXISTING)
    tower_row = np.full(len(kinds), -1)
    tower_row[towers] = row + np.arange(len(towers))
    into = np.flatnonzero(tower_row[arcs.head] >= 0)
    entries.append((tower_row[arcs.head[into]], lay.z + into, np.ones(len(into))))
    lower.append(np.full(len(towers), -np.inf))
    upper.append(np.ones(len(towers)))
    row += len(towers)
    return _rows(entries, row, lay.size), np.concatenate(lower), np.concatenate(upper)


def joint_selection(coverage: sp.spmatrix, weights: np.ndarray, covered: np.ndarray,
                    site_idr: np.ndarray, budget_idr: float, nodes: Nodes,
                    node_of_site: np.ndarray, arcs: Arcs, vsat_idr: float, *,
                    needs_backhaul: np.ndarray | None = None,
                    must_include: Sequence[int] = (), must_exclude: Sequence[int] = (),
                    groups: np.ndarray | None = None, max_per_group: int = 0,
                    unit_group: np.ndarray | None = None,
                    min_share: dict[int, float] | None = None,
                    time_limit_s: float | None = None,
                    start: dict[int, Sequence[tuple[int, int]] | None] | None = None
                    ) -> JointResult:
    """Choose sites and their backhaul together (flow MILP solved by HiGHS).

    Two stages: the most newly covered demand within the budget, then the least total cost
    of that coverage. Variables: sites x, VSAT s, arcs z (binary), arc flows f and covered
    demand groups y; constraint families: budget, cover, flow conservation, arc activation
    and arborescence (:func:`_link_rows`), optional group limit and minimum village shares.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_sites, n_demand)
        Nonzero where a candidate covers a demand unit.
    weights : numpy.ndarray
        Demand weight per unit.
    covered : numpy.ndarray of bool
        Units already served (they add nothing).
    site_idr : numpy.ndarray
        Cost of each candidate without backhaul, rupiah.
    budget_idr : float
        Budget for sites and backhaul together, rupiah.
    nodes : Nodes
        Network nodes; ``node_of_site[j]`` is the node of candidate j.
    node_of_site : numpy.ndarray of int
        Node index of each candidate.
    arcs : Arcs
        Arcs that may be built (see :func:`backhaul_arcs`, ``relay_sites=True``).
    vsat_idr : float
        VSAT cost per site, rupiah.
    needs_backhaul : numpy.ndarray of bool, optional
        False for candidates that need none (co-location on an existing tower).
    must_include, must_exclude, groups, max_per_group, unit_group, min_share, time_limit_s
        As in :func:`towerplan.analysis.selection.select_sites` (the time limit applies to
        each stage; existing coverage counts towards a village's share).
    start : dict of int to sequence of (int, int), optional
        A known solution to start from (e.g. the per-site plan): chosen candidate ->
        ``(tail, head)`` node pairs of its path (empty = VSAT, None = needs no backhaul).
        Then the result is never worse than it.

    Returns
    -------
    JointResult

    Raises
    ------
    InfeasibleSelectionError
        When the forced sites cannot be afforded or the solver finds no solution.
    """
    from towerplan.errors import InfeasibleSelectionError

    t0 = time.perf_counter()
    a = sp.csr_matrix(coverage, dtype=bool)
    n_sites = a.shape[0]
    needs = np.ones(n_sites, bool) if needs_backhaul is None else np.asarray(needs_backhaul)
    w_eff = np.where(np.asarray(covered, bool), 0.0, np.asarray(weights, float))
    shares = share_targets(np.asarray(weights, float), np.asarray(covered, bool), unit_group,
                           min_share)
    red, wg, village = aggregate_demand(a, w_eff, None if shares is None else shares.of_unit)
    lay = _Layout(n_sites, len(arcs), len(wg))
    site_of_node = np.full(len(nodes), -1)
    site_of_node[node_of_site] = np.arange(n_sites)
    base = np.asarray(site_idr, float)
    big_m = float(min(n_sites, max(1, math.floor(budget_idr / max(base.min(), 1.0)))))
    cost = np.zeros(lay.size)
    cost[:n_sites] = base
    cost[lay.s:lay.z] = vsat_idr
    cost[lay.z:lay.f] = arcs.cost_idr
    cover = sp.hstack([-red.T.astype(float), sp.csr_matrix((lay.n_y, lay.y - n_sites)),
                       sp.identity(lay.n_y)], format="csr")
    link, link_lo, link_hi = _link_rows(lay, arcs, site_of_node, nodes.kind, needs, big_m)
    flow = _flow_rows(lay, node_of_site, needs, arcs, len(nodes), nodes.kind)
    blocks = [(sp.csr_matrix(cost[None, :]), [-np.inf], [budget_idr]),
              (cover, np.full(lay.n_y, -np.inf), np.zeros(lay.n_y)),
              (flow, np.zeros(flow.shape[0]), np.zeros(flow.shape[0])),
              (link, link_lo, link_hi)]
    if groups is not None and max_per_group > 0:
        g = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
        n_g = int(g.max()) + 1
        blocks.append((_rows([(g, np.arange(n_sites), np.ones(n_sites))], n_g, lay.size),
                       np.full(n_g, -np.inf), np.full(n_g, float(max_per_group))))
    if shares is not None:  # sum of covered weight per village >= what it still needs
        in_v = np.flatnonzero(village >= 0)
        blocks.append((_rows([(village[in_v], lay.y + in_v, wg[in_v])], len(shares.need),
                              lay.size), shares.need - shares.tol, np.full(len(shares.need),
                                                                           np.inf)))
    lower, upper = np.zeros(lay.size), np.ones(lay.size)
    upper[lay.f:lay.y] = big_m
    upper[:n_sites][base > budget_idr] = 0.0
    upper[list(must_exclude)] = 0.0
    lower[list(must_include)] = 1.0
    upper[lay.s:lay.z][~needs] = 0.0
    integrality = np.ones(lay.size, bool)
    integrality[lay.f:] = False
    objective = np.zeros(lay.size)
    objective[lay.y:] = -wg
    x0 = _start_vector(start, lay, arcs, red) if start is not None else None
    solver = _Highs(objective, sp.vstack([b[0] for b in blocks], format="csc"),
                    np.concatenate([b[1] for b in blocks]),
                    np.concatenate([b[2] for b in blocks]), lower, upper, integrality,
                    time_limit_s)
    first = solver.solve(x0)
    if first is None:
        msg = f"joint site and backhaul selection has no feasible solution: {solver.status}"
        raise InfeasibleSelectionError(msg, status=solver.status)
    best = float(wg @ first[lay.y:])
    gap, status = solver.gap, solver.status
    t1 = time.perf_counter()
    solver.least_cost(cost, lay.y, wg, best - 1e-7 * max(1.0, abs(best)))
    second = solver.solve(first)
    x = second if second is not None else first
    log.info("joint selection: %d sites x %d arcs x %d demand groups; coverage %.6g in "
             "%.1f s (%s), least cost in %.1f s (%s)", n_sites, len(arcs), lay.n_y, best,
             t1 - t0, status, time.perf_counter() - t1, solver.status)
    return _joint_result(x, lay, arcs, node_of_site, base, vsat_idr, a, w_eff, gap, status,
                         time.perf_counter() - t0)


def _start_vector(start: dict[int, Sequence[tuple[int, int]] | None], lay: _Layout,
                  arcs: Arcs, red: sp.csr_matrix) -> np.ndarray | None:
    """Variable values of a known plan; None when one of its arcs is not in the model."""
    index = {(int(u), int(v)): k for k, (u, v) in enumerate(zip(arcs.tail, arcs.head,
                                                                   strict=True))}
    x = np.zeros(lay.size)
    for j, path in start.items():
        x[j] = 1.0
        if path is not None and not path:
            x[lay.s + j] = 1.0
        for u, v in path or ():
            k = index.get((int(u), int(v)))
            if k is None:
                return None
            x[lay.z + k] = 1.0
            x[lay.f + k] += 1.0
    chosen = np.zeros(lay.n_sites)
    chosen[list(start)] = 1.0
    x[lay.y:] = (red.T.astype(float) @ chosen > 0).astype(float)
    return x


class _Highs:
    """One MILP in HiGHS (highspy), solved from an optional start, re-solved for least cost."""

    def __init__(self, objective: np.ndarray, matrix: sp.csc_matrix, row_lower: np.ndarray,
                 row_upper: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                 integrality: np.ndarray, time_limit_s: float | None) -> None:
        import highspy

        from towerplan.analysis.selection_exact import native_stdout_silenced

        with native_stdout_silenced():
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        if time_limit_s is not None:
            self.h.setOptionValue("time_limit", float(time_limit_s))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
        lp.col_cost_ = np.asarray(objective, float)
        lp.col_lower_, lp.col_upper_ = np.asarray(lower, float), np.asarray(upper, float)
        inf = highspy.kHighsInf
        lp.row_lower_ = np.where(np.isfinite(row_lower), row_lower, -inf)
        lp.row_upper_ = np.where(np.isfinite(row_upper), row_upper, inf)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else
                           highspy.HighsVarType.kContinuous for i in integrality]
        self.h.passModel(lp)
        self.status: str = ""
        self.gap: float | None = None

    def solve(self, start: np.ndarray | None) -> np.ndarray | None:
        """Solve; the solution, or None when none was found."""
        import highspy

        from towerplan.analysis.selection_exact import native_stdout_silenced

        if start is not None:
            sol = highspy.HighsSolution()
            sol.col_value = list(map(float, start))
            self.h.setSolution(sol)
        with native_stdout_silenced():
            self.h.run()
        info = self.h.getInfo()
        self.status = self.h.modelStatusToString(self.h.getModelStatus())
        self.gap = float(info.mip_gap) if math.isfinite(info.mip_gap) else None
        if info.primal_solution_status != 2:  # kSolutionStatusFeasible
            return None
        return np.asarray(self.h.getSolution().col_value, dtype=float)

    def least_cost(self, cost: np.ndarray, y0: int, wg: np.ndarray, floor: float) -> None:
        """Switch to minimising *cost* with the demand of ``y`` at least *floor*."""
        n = len(cost)
        self.h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(cost, float))
        idx = np.arange(y0, y0 + len(wg), dtype=np.int32)
        self.h.addRow(floor, 1e30, len(idx), idx, np.asarray(wg, float))


def _joint_result(x: np.ndarray, lay: _Layout, arcs: Arcs, node_of_site: np.ndarray,
                  base: np.ndarray, vsat_idr: float, a: sp.csr_matrix, w_eff: np.ndarray,
                  gap: float | None, status: str, runtime_s: float) -> JointResult:
    """Chosen sites, coverage, cost, per-site backhaul share, arcs, VSAT and paths."""
    sites = tuple(int(j) for j in np.flatnonzero(x[:lay.n_sites] > 0.5))
    vsat = tuple(int(j) for j in np.flatnonzero(x[lay.s:lay.z] > 0.5))
    built = np.flatnonzero(x[lay.z:lay.f] > 0.5)
    flow = x[lay.f:lay.y]
    into: dict[int, int] = {}
    for k in sorted(built, key=lambda k: -flow[k]):
        into.setdefault(int(arcs.head[k]), int(k))
    share = np.zeros(lay.n_sites)
    paths: dict[int, tuple[int, ...]] = {}
    for j in sites:
        if j in vsat:
            share[j] = vsat_idr
            paths[j] = ()
            continue
        route: list[int] = []
        node = int(node_of_site[j])
        while node in into and len(route) <= len(into):
            arc = into[node]
            route.append(arc)
            node = int(arcs.tail[arc])
        paths[j] = tuple(route)
        share[j] = sum(arcs.cost_idr[k] / max(round(flow[k]), 1) for k in route)
    hit = np.zeros(a.shape[1], bool)
    for j in sites:
        hit[a.indices[a.indptr[j]:a.indptr[j + 1]]] = True
    objective = float(w_eff[hit].sum())
    total = float(base[list(sites)].sum() + share.sum())
    arc_idr = {int(k): float(arcs.cost_idr[k] / max(round(flow[k]), 1)) for k in built}
    return JointResult(sites, objective, total, share, tuple(int(k) for k in built), vsat,
                       paths, arc_idr, gap, status, runtime_s)
