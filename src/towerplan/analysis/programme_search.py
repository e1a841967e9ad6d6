"""Branch and bound of the multi-year programme: first on build counts, then on builds.

:mod:`towerplan.analysis.programme` builds its model in the columns ``X[k, t]`` ("option k
built in year t or earlier"). Its LP relaxation is nearly integral in the builds but spends
every budget to the last rupiah with a few fractional towers, and that is most of the root
gap. Every programme builds a whole number of towers paid by channel ``c`` by year ``t``, so
the search splits first on these counts ``n_tc = sum_{k paid by c} X[k, t]`` (one row per
year and channel, ``0 <= n_tc <= most_tc``): a count fixed to a whole number takes the
fractional tower out of the budget and its bound drops far below the root's. Once every
count of a node's LP is whole it splits on a fractional ``X[k, t]`` (0 or 1); among the
fractional ones, by pseudocosts.

Nodes are LPs solved by HiGHS's dual simplex, warm-started from their parent's basis
(only bounds change), best bound first with plunges (the child the LP rounds to next, a few
levels deep). With two or more threads the search solves that many node LPs at once, each in
its own HiGHS instance holding the same rows (HiGHS releases the GIL while it solves): the
plunge's next child (or the best open node) and the next best open nodes. The results are
taken in that fixed order once every LP of the batch is solved, and rows are added to every
instance between batches, so the search does the same steps whatever the threads' timing.

A node's bound is the Lagrangian bound of its row duals (valid for any multipliers, so an
inexact LP never prunes an optimum); a node whose bound cannot beat the incumbent by more than
the tolerance goes, and the multipliers of a node, its parent and the root fix the columns and
counts that cannot move without losing all room above the incumbent. Every LP solution is
rounded (its builds at 1, then the greedy fill) for a better incumbent.

References
----------
Nemhauser and Wolsey (1988), Integer and Combinatorial Optimization, Wiley, section II.4.
Benichou, Gauthier, Girodet, Hentges, Ribiere and Vincent (1971), Experiments in
mixed-integer linear programming, Mathematical Programming 1, 76-94 (pseudocosts).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.selection_exact import (
    LpParts,
    highs_model,
    native_stdout_silenced,
)

__all__ = ["Basis", "Duals", "Knapsack", "Node", "NodeLp", "Pseudocosts", "SearchResult",
           "search_threads", "search_tolerance", "separate_cover", "threshold_covers",
           "tighten"]

log = logging.getLogger(__name__)

_INT_TOL = 1e-6  # an LP value this close to a whole number counts as whole
_PLUNGE_DEPTH = 12  # children a plunge goes down at most
_PLUNGE_SHARE = 0.5  # it goes on while the bound keeps this share of the best open room
_MOST_THREADS = 2  # node LPs solved at once by default, at most


def search_threads() -> int:
    """Node LPs the search solves at once by default: the cores this process may use, at
    most two (the batch beyond the plunge's child is speculative: more threads solve more
    nodes that a better incumbent would have pruned)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(_MOST_THREADS, cores))


def search_tolerance(value: float) -> float:
    """Absolute tolerance of the proof at objective *value*: 1e-9 of it (at least 1e-9)."""
    return 1e-9 * max(1.0, abs(value))


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Outcome of :meth:`NodeLp.search`.

    Attributes
    ----------
    plan : object or None
        Best plan found by the search (None: none better than the incumbent given).
    gain : float
        Gain of the best plan known (the incumbent's when ``plan`` is None).
    bound : float
        Proven upper bound of the gain of every programme.
    status : str
        ``"optimal"`` or ``"time_limit"``.
    nodes : int
        LPs solved.
    """

    plan: Any
    gain: float
    bound: float
    status: str
    nodes: int


@dataclass(frozen=True, slots=True)
class Node:
    """Bounds of a subproblem and, once solved, its LP.

    ``lo``/``up`` bound the X columns (0 or 1), ``count_lo``/``count_hi`` the count rows;
    ``bound`` is the gain bound (the parent's until solved); ``x``, ``pi`` and ``d`` are the
    LP's column values, row duals and the reduced costs of the X columns; ``basis`` the
    optimal basis of the LP (or of the parent's, unsolved), the warm start of the node's LP
    (:class:`Basis`); ``parent`` the parent's :class:`Duals` (fixing again when
    the incumbent improves); ``branch`` the split that made the node: (variable, 0 down or
    1 up, distance the parent's LP value moved), for the pseudocosts.
    """

    lo: np.ndarray
    up: np.ndarray
    count_lo: np.ndarray
    count_hi: np.ndarray
    bound: float
    x: np.ndarray | None = None
    pi: np.ndarray | None = None
    d: np.ndarray | None = None
    basis: Basis | None = None
    parent: Duals | None = None
    branch: tuple[int, int, float] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Basis:
    """A basis as HiGHS returned it (``highspy.HighsBasis``, kept without conversion) and the
    columns and rows of the LP it belongs to (rows and columns are only ever appended)."""

    status: Any
    n_col: int
    n_row: int


@dataclass(frozen=True, slots=True)
class Duals:
    """What a solved node's Lagrangian bound says about every subproblem of it.

    For a programme x in the node's box and rows, the gain is at most
    ``bound - sum_j |d_j| * (distance of x_j from the bound it sits at in the LP)
    - sum_i |pi_i| * (distance of count i from the bound its multiplier prices)``, so a
    column or count that cannot move without leaving no room above the incumbent is fixed
    (:func:`tighten`).
    """

    bound: float
    d: np.ndarray
    lo: np.ndarray
    up: np.ndarray
    count_pi: np.ndarray
    count_lo: np.ndarray
    count_hi: np.ndarray


@dataclass(frozen=True, slots=True)
class Knapsack:
    """A budget every programme keeps: ``sum weight[i] * X[cols[i]] <= capacity``.

    ``cols`` are X columns (0/1 in every programme), ``weight`` > 0 what each costs.
    """

    cols: np.ndarray
    weight: np.ndarray
    capacity: float

    @property
    def most(self) -> int:
        """Most columns at 1 that fit: the cheapest ones."""
        return int(np.searchsorted(np.cumsum(np.sort(self.weight)), self.capacity,
                                   side="right"))


@dataclass(slots=True, eq=False)
class _Worker:
    """One HiGHS instance of the node LP and the node basis it holds (None: another)."""

    h: Any
    loaded: Basis | None = field(default=None)


class NodeLp:
    """The LP relaxation with count rows, cover cuts and lazy cover rows, in one HiGHS instance.

    Parameters
    ----------
    parts : LpParts
        The model (minimised); its first ``parts.n_x`` columns are ``X[k, t]``, k major.
    col_upper_x : numpy.ndarray
        Upper bounds of the X columns at the root.
    knapsacks : list of Knapsack
        One per year and channel; each gives a count row ``sum X[cols] <= most`` and the
        cover cuts (:func:`threshold_covers`, :func:`separate_cover`).
    n_lazy : int
        The last *n_lazy* rows of *parts* are cover rows ``z_i - sum_{j in S_i} X_j <= 0``
        whose ``z_i`` (in [0, 1], gain ``g_i = -cost >= 0``) are the last *n_lazy* columns,
        in the same order. They start out of the LP, each ``z_i`` replaced by
        ``sum_{j in S_i} X_j`` (gain ``g_i`` on each of those X columns): as
        ``z_i <= min(1, sum X)`` that LP is a relaxation, so its Lagrangian bounds hold. A
        row and its ``z_i`` join the LP when an LP solution has ``sum_{j in S_i} X_j > 1``;
        every LP is re-solved until none has, so a solved node's LP has the optimum of the
        full one (it only leaves out rows that do not bind).
    """

    def __init__(self, parts: LpParts, col_upper_x: np.ndarray,
                 knapsacks: list[Knapsack], n_lazy: int = 0) -> None:
        n_x = parts.n_x
        n_row, n_col = parts.matrix.shape[0] - n_lazy, parts.matrix.shape[1] - n_lazy
        full = sp.csr_matrix(parts.matrix)
        self.lazy_x = sp.csr_matrix(-full[n_row:, :n_x])
        self.lazy_gain = -np.asarray(parts.cost[n_col:], dtype=float)
        if np.any(self.lazy_gain < 0) or full[n_row:, n_x:n_col].nnz:
            msg = "lazy cover rows need gains >= 0 and entries in X columns only"
            raise ValueError(msg)
        self.lazy_in = np.zeros(n_lazy, dtype=bool)
        cost = np.asarray(parts.cost[:n_col], dtype=float).copy()
        cost[:n_x] -= self.lazy_x.T @ self.lazy_gain
        self.knapsacks = knapsacks
        counts = _rows([k.cols for k in knapsacks], n_col)
        most = np.array([float(min(k.most, len(k.cols))) for k in knapsacks])
        matrix = sp.csc_matrix(sp.vstack([full[:n_row, :n_col], counts], format="csr"))
        self.parts = LpParts(matrix, cost,
                             np.concatenate([parts.row_lower[:n_row], np.zeros(len(most))]),
                             np.concatenate([parts.row_upper[:n_row], most]), n_x)
        self.cost = cost.copy()  # grows with the z columns that join
        self.n_rows0 = n_row
        self.up_x = col_upper_x.astype(float)
        self.counts = counts[:, :n_x]
        self._t = sp.csr_matrix(matrix.T)
        self.cuts = sp.csr_matrix((0, n_col))  # rows added: cover cuts and lazy cover rows
        self.cut_upper = np.zeros(0)
        # primal simplex solves the root fastest; nodes re-solve by dual simplex
        self.workers = [_Worker(highs_model(self.parts, self.up_x, False,
                                            {"solver": "simplex", "simplex_strategy": 4}))]
        self._pool: ThreadPoolExecutor | None = None
        self.seconds = 0.0
        static = [c for k in knapsacks for c in threshold_covers(k)]
        self._add_cuts(static)

    @property
    def h(self) -> Any:
        """The first HiGHS instance (every instance holds the same rows and columns)."""
        return self.workers[0].h

    def _add_cuts(self, cuts: list[tuple[np.ndarray, int]]) -> None:
        """Add rows ``sum X[cols] <= rhs`` (each distinct row once)."""
        seen: set[tuple[int, bytes]] = set()
        unique = []
        for cols, rhs in cuts:
            key = (int(rhs), np.sort(cols).tobytes())
            if key not in seen:
                seen.add(key)
                unique.append((cols, rhs))
        if unique:
            self._add_rows(_rows([c for c, _ in unique], len(self.cost)),
                           np.array([float(r) for _, r in unique]))

    def _add_rows(self, rows: sp.csr_matrix, rhs: np.ndarray) -> None:
        """Add rows ``rows @ columns <= rhs`` over the columns the LP has now."""
        import highspy

        rows = sp.csr_matrix(rows)
        self.cuts = sp.csr_matrix(sp.vstack([self.cuts, rows]))
        self.cut_upper = np.concatenate([self.cut_upper, rhs])
        for w in self.workers:
            w.h.addRows(len(rhs), np.full(len(rhs), -highspy.kHighsInf), rhs, rows.nnz,
                        rows.indptr[:-1].astype(np.int32), rows.indices.astype(np.int32),
                        rows.data.astype(float))

    def _add_lazy(self, which: np.ndarray) -> None:
        """Bring the lazy cover rows *which* and their z columns into the LP."""
        n_new, n_col, n_x = len(which), len(self.cost), self.parts.n_x
        gain = self.lazy_gain[which]
        back = np.zeros(n_col)
        back[:n_x] = self.lazy_x[which].T @ gain  # the X columns lose the linear stand-in
        changed = np.flatnonzero(back)
        self.cost[changed] += back[changed]
        for w in self.workers:
            w.h.changeColsCost(len(changed), changed.astype(np.int32), self.cost[changed])
            w.h.addCols(n_new, -gain, np.zeros(n_new), np.ones(n_new), 0,
                        np.zeros(n_new, np.int32), np.zeros(0, np.int32), np.zeros(0))
        self.cost = np.concatenate([self.cost, -gain])
        self.cuts = sp.csr_matrix(sp.hstack([self.cuts, sp.csr_matrix((len(self.cut_upper),
                                                                       n_new))]))
        rows = sp.hstack([-self.lazy_x[which], sp.csr_matrix((n_new, n_col - n_x)),
                          sp.identity(n_new, format="csr")], format="csr")
        self._add_rows(rows, np.zeros(n_new))
        self.lazy_in[which] = True

    def _broken(self, x: np.ndarray) -> np.ndarray:
        """Lazy cover rows out of the LP whose X sum exceeds 1 at *x*."""
        if not len(self.lazy_in):
            return np.zeros(0, dtype=np.int64)
        total = self.lazy_x @ x[:self.parts.n_x]
        return np.flatnonzero(~self.lazy_in & (total > 1.0 + _INT_TOL))

    def root(self, time_limit_s: float | None = None, rounds: int = 20) -> Node | None:
        """The root node, solved, with cover cuts separated for up to *rounds* rounds."""
        node = Node(np.zeros(len(self.up_x), np.int8), (self.up_x > 0).astype(np.int8),
                    self.parts.row_lower[self.n_rows0:].copy(),
                    self.parts.row_upper[self.n_rows0:].copy(), np.inf)
        return self._solve_batch([node], _deadline(time_limit_s), rounds)[0][0]

    def solve(self, node: Node, time_limit_s: float | None = None) -> Node | None:
        """*node* with its LP solved: Lagrangian gain bound, values, reduced costs of X.

        None when its LP has no solution. Raises TimeoutError when the LP stops early.
        """
        return self._solve_batch([node], _deadline(time_limit_s), 0)[0][0]

    def _solve_batch(self, nodes: list[Node], deadline: float | None, rounds: int
                     ) -> list[tuple[Node | None, _Worker]]:
        """Solve *nodes* at once, one per HiGHS instance, each with up to *rounds* rounds of
        the cover cuts its LP breaks (valid everywhere): each solved node with its instance.

        Each LP is solved until it breaks no lazy cover row left out of it; the rows and cuts
        any LP of a pass asks for join every instance after the pass, in the order of
        *nodes*. Raises TimeoutError when an LP stops at *deadline*.
        """
        t0 = time.perf_counter()
        free = list(self.workers[:len(nodes)])
        mine: list[_Worker | None] = []
        for node in nodes:  # the instance already holding the node's start basis, if any
            w = next((w for w in free if node.basis is not None and w.loaded is node.basis),
                     None)
            if w is not None:
                free.remove(w)
            mine.append(w)
        out: list[tuple[Node | None, _Worker]] = []
        todo: list[int] = []
        for i, node in enumerate(nodes):
            out.append((None, mine[i] or free.pop(0)))
            if not (np.any(node.lo > node.up) or np.any(node.count_lo > node.count_hi)):
                todo.append(i)
        left = dict.fromkeys(todo, rounds)
        first = set(todo)
        try:
            while todo:
                tasks = [(out[i][1], nodes[i], i in first, left[i] > 0) for i in todo]
                first = set()
                again, lazy, cuts = [], [], []
                for i, (kind, value) in zip(todo, self._run(tasks, deadline), strict=True):
                    w = out[i][1]
                    if kind == "infeasible":
                        out[i] = (None, w)
                    elif kind == "lazy":
                        lazy.append(value)
                        again.append(i)
                    else:
                        solved, new = value
                        out[i] = (solved, w)
                        if new:
                            cuts.extend(new)
                            left[i] -= 1
                            again.append(i)
                if lazy:
                    self._add_lazy(np.unique(np.concatenate(lazy)))
                self._add_cuts(cuts)
                todo = again
        finally:
            self.seconds += time.perf_counter() - t0
        return out

    def _run(self, tasks: list[tuple[_Worker, Node, bool, bool]], deadline: float | None
             ) -> list[tuple[str, Any]]:
        """Solve each task's LP, at once in threads when there are several (:meth:`_pass`)."""
        if len(tasks) == 1 or self._pool is None:
            with native_stdout_silenced():
                return [self._pass(*task, deadline) for task in tasks]
        with native_stdout_silenced():
            futures = [self._pool.submit(self._pass, *task, deadline) for task in tasks]
            wait(futures)  # every instance idle before any error leaves
            return [f.result() for f in futures]

    def _pass(self, w: _Worker, node: Node, load: bool, cut: bool, deadline: float | None
              ) -> tuple[str, Any]:
        """One LP solve of *node* on instance *w* (in a thread: it changes nothing but *w*).

        *load* sets the node's bounds and start basis first; *cut* separates the cover cuts
        its solution breaks. Returns ``("infeasible", None)``, ``("lazy", rows)`` (lazy
        cover rows the solution breaks: solve again once they joined) or ``("solved",
        (node, cuts))``. Raises TimeoutError when the LP stops at *deadline*.
        """
        import highspy

        if load:
            n_x = len(self.up_x)
            w.h.changeColsBounds(n_x, np.arange(n_x, dtype=np.int32),
                                 node.lo.astype(float), node.up.astype(float))
            for r, (lo, hi) in enumerate(zip(node.count_lo, node.count_hi, strict=True)):
                w.h.changeRowBounds(self.n_rows0 + r, float(lo), float(hi))
            if node.basis is not None and node.basis is not w.loaded:
                self._set_basis(w, node.basis)
        limit = highspy.kHighsInf if deadline is None else (  # HiGHS counts from its creation
            w.h.getRunTime() + max(deadline - time.perf_counter(), 0.01))
        w.h.setOptionValue("time_limit", float(limit))
        w.h.run()
        w.loaded = None
        w.h.setOptionValue("simplex_strategy", 1)
        status = w.h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return "infeasible", None
        if status != highspy.HighsModelStatus.kOptimal:
            msg = f"programme search: LP stopped with {w.h.modelStatusToString(status)}"
            raise TimeoutError(msg)
        sol = w.h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        broken = self._broken(x)
        if len(broken):
            return "lazy", broken
        solved = self._solved(node, x, np.asarray(sol.row_dual, dtype=float))
        new = [c for k in self.knapsacks if (c := separate_cover(k, x)) is not None] if cut \
            else []
        return "solved", (solved, new)

    def _solved(self, node: Node, x: np.ndarray, pi: np.ndarray) -> Node:
        """*node* with the LP solution *x*, row duals *pi*, its Lagrangian bound and the
        reduced costs of the X columns, over the rows and columns the LP has now."""
        n_x = len(self.up_x)
        n_z = len(self.cost) - n_x
        n_cut = len(self.cut_upper)
        row_lo = np.concatenate([self.parts.row_lower[:self.n_rows0], node.count_lo,
                                 np.full(n_cut, -np.inf)])
        row_up = np.concatenate([self.parts.row_upper[:self.n_rows0], node.count_hi,
                                 self.cut_upper])
        lo_x, up_x = node.lo.astype(float), node.up.astype(float)
        bound, d = _dual_bound(self._t, self.cuts, self.cost,
                               np.concatenate([lo_x, np.zeros(n_z)]),
                               np.concatenate([up_x, np.ones(n_z)]), row_lo, row_up, pi)
        return Node(node.lo, node.up, node.count_lo, node.count_hi, bound, x, pi, d[:n_x])

    def _n_rows(self) -> int:
        return self.n_rows0 + len(self.knapsacks) + len(self.cut_upper)

    def _basis(self, w: _Worker) -> Basis:
        """The basis instance *w* holds (that of the LP it solved last)."""
        w.loaded = Basis(w.h.getBasis(), len(self.cost), self._n_rows())
        return w.loaded

    def _set_basis(self, w: _Worker, basis: Basis) -> None:
        """Start *w* from a node's basis; rows added since then start basic, columns at
        their lower bound 0."""
        import highspy

        start = basis.status
        n_col, n_row = len(self.cost), self._n_rows()
        if (basis.n_col, basis.n_row) != (n_col, n_row):
            start = highspy.HighsBasis()
            start.col_status = basis.status.col_status + (
                [highspy.HighsBasisStatus.kLower] * (n_col - basis.n_col))
            start.row_status = basis.status.row_status + (
                [highspy.HighsBasisStatus.kBasic] * (n_row - basis.n_row))
            start.valid = True
        w.h.setBasis(start)
        w.loaded = basis

    @contextmanager
    def _threads(self, n: int) -> Iterator[None]:
        """*n* HiGHS instances with the same LP, solved in *n* threads, while in the block."""
        import highspy

        while len(self.workers) < n:
            with native_stdout_silenced():  # the library's banner
                h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("solver", "simplex")
            h.setOptionValue("simplex_strategy", 1)
            h.passModel(self.h.getLp())
            self.workers.append(_Worker(h))
        if n <= 1:
            yield
            return
        with ThreadPoolExecutor(max_workers=n, thread_name_prefix="node-lp") as pool:
            self._pool = pool
            try:
                yield
            finally:
                self._pool = None

    def search(self, root: Node, gain: float,
               complete: Callable[[np.ndarray], tuple[Any, float]],
               deadline: float | None, threads: int | None = None) -> SearchResult:
        """Best-bound branch and bound from the solved *root* (module docstring).

        *gain* is the incumbent's gain; *complete* turns the X values of an LP solution into
        a plan and its gain (a plan that keeps every budget). *threads* node LPs are solved
        at once (default :func:`search_threads`); the result does not depend on the threads'
        timing.
        """
        n_par = search_threads() if threads is None else max(1, int(threads))
        with self._threads(n_par):
            return self._search(root, gain, complete, deadline, n_par)

    def _search(self, root: Node, gain: float,
                complete: Callable[[np.ndarray], tuple[Any, float]],
                deadline: float | None, n_par: int) -> SearchResult:
        plan: Any = None
        tie = itertools.count()
        heap: list[tuple[float, int, Node]] = []
        nodes = 1
        pseudo = Pseudocosts(len(self.knapsacks) + self.parts.n_x)
        top_duals: Duals | None = None  # the root's: they fix columns in every node
        dive: tuple[float, Node, int] | None = None  # the child the plunge goes on with
        # each LP solved last: the node as it was split off, solved, its instance and depth
        done: list[tuple[Node | None, Node | None, _Worker, int]] = [
            (None, root, self.workers[0], 0)]
        while True:
            for node, solved, worker, depth in done:
                if solved is None or solved.x is None:
                    continue
                cand, cand_gain = complete(solved.x[:self.parts.n_x])
                if cand_gain > gain + search_tolerance(gain):
                    plan, gain = cand, cand_gain
                if node is not None and node.branch is not None:
                    pseudo.update(node.branch, node.bound - solved.bound)
                duals = self._duals(solved)
                top_duals = top_duals or duals
                if solved.bound <= gain + search_tolerance(gain):
                    continue
                with_basis = replace(tighten(solved, duals, gain),
                                     basis=self._basis(worker))  # the LP it solved last
                kids = [replace(c, parent=duals) for c in self._children(with_basis, pseudo)]
                if kids and dive is None and depth < _PLUNGE_DEPTH and (
                        not heap or solved.bound - gain
                        >= _PLUNGE_SHARE * (-heap[0][0] - gain)):
                    dive, kids = (solved.bound, kids[0], depth + 1), kids[1:]
                for child in kids:
                    heapq.heappush(heap, (-solved.bound, next(tie), child))
            while heap and -heap[0][0] <= gain + search_tolerance(gain):
                heapq.heappop(heap)
            if dive is None and not heap:
                return SearchResult(plan, gain, gain, "optimal", nodes)
            open_bound = max(-heap[0][0] if heap else gain, dive[0] if dive else gain)
            left = None if deadline is None else deadline - time.perf_counter()
            if left is not None and left <= 0:
                return SearchResult(plan, gain, max(gain, open_bound), "time_limit", nodes)
            picks: list[tuple[Node, int]] = []
            if dive is not None:
                picks.append((dive[1], dive[2]))
                dive = None
            while heap and len(picks) < n_par:
                picks.append((heapq.heappop(heap)[2], 0))
            batch = []
            for node, _ in picks:
                if node.parent is not None:  # the incumbent may have improved since the split
                    node = tighten(node, node.parent, gain)
                if top_duals is not None:
                    node = tighten(node, top_duals, gain)
                batch.append(node)
            try:
                solved_all = self._solve_batch(batch, deadline, rounds=2)
            except TimeoutError:
                return SearchResult(plan, gain, max(gain, open_bound), "time_limit", nodes)
            done = [(node, s, w, depth) for (node, depth), (s, w)
                    in zip(zip(batch, (d for _, d in picks), strict=True), solved_all,
                           strict=True)]
            nodes += len(batch)
            if nodes % 20 < len(batch):
                log.debug("search: %d nodes, %d open, bound %.6g, gain %.6g", nodes, len(heap),
                          open_bound, gain)

    def _duals(self, node: Node) -> Duals:
        """The Lagrangian multipliers of the solved *node* that :func:`tighten` uses."""
        assert node.d is not None and node.pi is not None
        n = len(self.knapsacks)
        return Duals(node.bound, node.d, node.lo, node.up,
                     node.pi[self.n_rows0:self.n_rows0 + n], node.count_lo, node.count_hi)

    def _children(self, node: Node, pseudo: Pseudocosts) -> list[Node]:
        """Split on a fractional count row, else on a fractional X column.

        Among the fractional ones, the one of the best pseudocost score (:class:`Pseudocosts`).
        The child the LP value rounds to comes first (the plunge goes on with it).
        """
        n_x, n_c = self.parts.n_x, len(self.knapsacks)
        assert node.x is not None
        x = node.x[:n_x]
        count = self.counts @ x
        frac = count - np.floor(count)
        cand = np.flatnonzero((frac > _INT_TOL) & (frac < 1 - _INT_TOL))
        if cand.size:
            i = int(cand[np.argmax(pseudo.score(cand, frac[cand]))])
            hi, lo = node.count_hi.copy(), node.count_lo.copy()
            hi[i], lo[i] = np.floor(count[i]), np.ceil(count[i])
            kids = [Node(node.lo, node.up, node.count_lo, hi, node.bound, basis=node.basis,
                         branch=(i, 0, float(frac[i]))),
                    Node(node.lo, node.up, lo, node.count_hi, node.bound, basis=node.basis,
                         branch=(i, 1, float(1 - frac[i])))]
            return kids if frac[i] < 0.5 else kids[::-1]
        f = x - node.lo
        cand = np.flatnonzero((node.lo < node.up) & (f > _INT_TOL) & (f < 1 - _INT_TOL))
        if not cand.size:
            return []
        j = int(cand[np.argmax(pseudo.score(n_c + cand, f[cand]))])
        one, zero = node.lo.copy(), node.up.copy()
        one[j], zero[j] = 1, 0
        kids = [Node(one, node.up, node.count_lo, node.count_hi, node.bound, basis=node.basis,
                     branch=(n_c + j, 1, float(1 - f[j]))),
                Node(node.lo, zero, node.count_lo, node.count_hi, node.bound, basis=node.basis,
                     branch=(n_c + j, 0, float(f[j])))]
        return kids if f[j] >= 0.5 else kids[::-1]


class Pseudocosts:
    """Bound lost per unit of a split, learnt from the nodes solved (Benichou et al. 1971).

    Variable i is a count row (first) or an X column; direction 0 moves its LP value down
    to the floor, 1 up to the ceiling. A split's score is the product of the losses each
    child is expected to have (the mean of the variables seen for one never split yet).
    """

    def __init__(self, n: int) -> None:
        self.total = np.zeros((n, 2))
        self.seen = np.zeros((n, 2))

    def update(self, branch: tuple[int, int, float], drop: float) -> None:
        """Record that split *branch* lowered the bound by *drop*."""
        i, way, dist = branch
        if dist > _INT_TOL and np.isfinite(drop):
            self.total[i, way] += max(drop, 0.0) / dist
            self.seen[i, way] += 1

    def score(self, idx: np.ndarray, frac: np.ndarray) -> np.ndarray:
        """Score of splitting variables *idx* at fractional parts *frac*."""
        seen = self.seen.sum(axis=0)
        mean = np.where(seen > 0, self.total.sum(axis=0) / np.maximum(seen, 1), 1.0)
        unit = np.where(self.seen[idx] > 0, self.total[idx] / np.maximum(self.seen[idx], 1),
                        mean[None])
        eps = 1e-6
        return (np.maximum(unit[:, 0] * frac, eps) * np.maximum(unit[:, 1] * (1 - frac), eps))


def _deadline(time_limit_s: float | None) -> float | None:
    return None if time_limit_s is None else time.perf_counter() + time_limit_s


def tighten(node: Node, duals: Duals, gain: float) -> Node:
    """*node* with every X column and count fixed that no programme beating *gain* moves.

    *duals* are those of *node* or of an ancestor. Moving a column off the bound it has in
    that LP lowers the Lagrangian bound by its reduced cost per unit, moving a count off the
    bound its multiplier prices by the multiplier; when that leaves no room above *gain*,
    the column keeps its bound and the count stays within the room (reduced-cost fixing;
    Nemhauser and Wolsey 1988, section II.5.1). A node whose bounds cross has no programme
    beating *gain*.
    """
    room = duals.bound - gain - search_tolerance(gain)
    if room <= 0:
        return node
    lo, up = node.lo.copy(), node.up.copy()
    d = duals.d
    up = np.where(d > room, np.minimum(up, duals.lo), up).astype(node.up.dtype)
    lo = np.where(-d > room, np.maximum(lo, duals.up), lo).astype(node.lo.dtype)
    pi = duals.count_pi
    count_lo, count_hi = node.count_lo.copy(), node.count_hi.copy()
    with np.errstate(divide="ignore"):
        reach = room / np.abs(pi)
    low = pi > 0  # priced at its lower bound: the count stays below lower + room / pi
    high = pi < 0
    count_hi[low] = np.minimum(count_hi[low],
                               np.ceil(duals.count_lo[low] + reach[low] + 1e-7) - 1)
    count_lo[high] = np.maximum(count_lo[high],
                                np.floor(duals.count_hi[high] - reach[high] - 1e-7) + 1)
    return replace(node, lo=lo, up=up, count_lo=count_lo, count_hi=count_hi)


def _dual_bound(matrix_t: sp.csr_matrix, cuts: sp.csr_matrix, cost: np.ndarray, col_lo: np.ndarray,
                col_up: np.ndarray, row_lo: np.ndarray, row_up: np.ndarray,
                row_dual: np.ndarray) -> tuple[float, np.ndarray]:
    """Upper bound of the gain -min(cost.x) over the box and rows, from any row multipliers.

    Multipliers of the wrong sign for a one-sided row are set to 0, so the bound holds
    whatever the accuracy of *row_dual*. Also returns the reduced costs.
    """
    pi = np.where(np.isfinite(row_up), row_dual, np.maximum(row_dual, 0.0))
    pi = np.where(np.isfinite(row_lo), pi, np.minimum(pi, 0.0))
    n = matrix_t.shape[1]
    d = cost - cuts.T @ pi[n:]
    d[:matrix_t.shape[0]] -= matrix_t @ pi[:n]
    low = float(np.minimum(d * col_lo, d * col_up).sum())
    rows = np.where(pi > 0, pi * np.where(np.isfinite(row_lo), row_lo, 0.0),
                    pi * np.where(np.isfinite(row_up), row_up, 0.0))
    return -(low + float(rows.sum())), d


def _rows(cols: list[np.ndarray], n_col: int) -> sp.csr_matrix:
    """0/1 rows with ones in *cols*."""
    indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])]).astype(np.int64)
    idx = np.concatenate(cols).astype(np.int64) if cols else np.zeros(0, np.int64)
    return sp.csr_matrix((np.ones(len(idx)), idx, indptr), shape=(len(cols), n_col))


def threshold_covers(k: Knapsack) -> list[tuple[np.ndarray, int]]:
    """Rows ``sum X[cols with weight > capacity / (r + 1)] <= r`` that cut something.

    r + 1 columns each dearer than ``capacity / (r + 1)`` do not fit, so at most r of them
    are 1 (a cover inequality; Nemhauser and Wolsey 1988, section II.2.2).
    """
    cuts = []
    for r in range(1, k.most + 1):
        dear = k.weight > k.capacity / (r + 1)
        if np.count_nonzero(dear) > r and np.count_nonzero(dear) < len(k.cols):
            cuts.append((k.cols[dear], r))
    return cuts


def separate_cover(k: Knapsack, x: np.ndarray) -> tuple[np.ndarray, int] | None:
    """An extended cover inequality the LP solution *x* breaks, or None.

    A cover C (columns whose weights exceed the capacity) allows at most ``|C| - 1`` of
    them at 1, and so of C with every column at least as dear as C's dearest (extended
    cover; Nemhauser and Wolsey 1988, section II.2.2). C is built greedily from the columns
    the LP sets highest per rupiah, then made minimal.
    """
    xv = x[k.cols]
    on = np.flatnonzero(xv > _INT_TOL)
    if k.weight[on].sum() <= k.capacity:
        return None
    order = on[np.lexsort((-k.weight[on], (1.0 - xv[on]) / k.weight[on]))]
    n = int(np.searchsorted(np.cumsum(k.weight[order]), k.capacity, side="right")) + 1
    cover = list(order[:n])
    for i in sorted(cover, key=lambda i: xv[i]):
        if k.weight[cover].sum() - k.weight[i] > k.capacity:
            cover.remove(i)
    ext = np.union1d(np.flatnonzero(k.weight >= k.weight[cover].max()), cover)
    if xv[ext].sum() <= len(cover) - 1 + _INT_TOL:
        return None
    return k.cols[ext], len(cover) - 1
