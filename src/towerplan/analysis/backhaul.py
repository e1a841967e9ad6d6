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
    One MILP chooses the sites and the backhaul together
    (:mod:`towerplan.analysis.backhaul_joint`).

Checking every pair is the costly part; pairs are pruned by distance (k-d tree), then by the
hop budget at their length (no terrain needed), and site-to-site pairs are only checked where
one end could gain from a relay (its own path costs more than a relayed hop).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from affine import Affine
from scipy.spatial import cKDTree

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
    "Nodes",
    "SitePaths",
    "backhaul_arcs",
    "backhaul_graph",
    "check_hops",
    "hop_margin_db",
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
