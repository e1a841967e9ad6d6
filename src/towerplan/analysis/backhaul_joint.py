"""Joint site and backhaul selection: one flow MILP over sites and arcs (DESIGN.md section 6).

Single-commodity flow from the points of presence, one unit per chosen site not on VSAT,
arcs activated by binaries (an arc carries flow only when built; a new site relays only when
chosen), so a relay hop shared by several sites is paid once. Stage one maximises newly
covered demand within the budget; stage two minimises the cost of that coverage. The arcs
and nodes come from :mod:`towerplan.analysis.backhaul`; the model is solved by HiGHS.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.backhaul import EXISTING, POP, Arcs, Nodes
from towerplan.analysis.selection import share_targets
from towerplan.analysis.selection_exact import aggregate_demand, native_stdout_silenced
from towerplan.errors import InfeasibleSelectionError

__all__ = ["JointResult", "joint_selection"]

log = logging.getLogger(__name__)

#: HiGHS ``presolve_rule_off`` bits of its presolve probing and enumeration.
_NO_PROBING = 1 << 15
_NO_ENUMERATION = 1 << 16


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

        with native_stdout_silenced():
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("mip_rel_gap", 0.0)
        # Presolve probing on the arc-activation rows (f <= M z) took 52 of 54 s on the demo's
        # 778 sites x 4,959 arcs and fixed nothing the search does not fix in a second; without
        # it the coverage stage solves to gap 0 in 1-3 s (HiGHS 1.7-1.16; rule 15 = probing).
        # Presolve's enumeration (rule 16) then took most of what was left: on the 30 m
        # demo's 774 sites x 4,882 arcs 0.9-1.35 s of the coverage stage and 1.15 s of the
        # least-cost stage, 0.22 s each without it, the same optimum (HiGHS 1.16).
        self.h.setOptionValue("presolve_rule_off", _NO_PROBING | _NO_ENUMERATION)
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
