"""Budgeted maximum coverage: choose sites that cover the most demand within a budget.

The core works on matrices only: ``coverage`` is a scipy.sparse matrix of shape
(n_sites, n_demand) whose row j flags the demand units site j covers.

Problem (DESIGN.md section 5)::

    maximise   sum_i w_i y_i
    subject to sum_j c_j x_j <= B
               y_i <= sum_{j covers i} x_j
               x_j in {0, 1},  0 <= y_i <= 1
               (demand already covered by existing towers is left out)

``method="milp"`` solves it exactly with HiGHS (highspy) after exact reductions, a heuristic
incumbent and reduced-cost fixing (:mod:`towerplan.analysis.selection_exact`) and reports the
optimality gap; :class:`SelectionModel` and :func:`select_sites_sweep` prepare the reductions
and the LP relaxation once and solve many budgets with warm starts. ``method="greedy"`` is the
classic marginal-gain-per-rupiah rule with the best-single-site fallback (Khuller, Moss and
Naor 1999); ``method="bruteforce"`` enumerates all subsets and is meant for tiny cases and
tests.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.selection_exact import (
    Core,
    Relaxation,
    aggregate_demand,
    native_stdout_silenced,
    reduce_core,
    solve_core,
)
from towerplan.errors import InfeasibleSelectionError

__all__ = ["SelectionModel", "SelectionResult", "blank_village_shares", "build_order",
           "select_sites", "select_sites_sweep", "share_targets"]

log = logging.getLogger(__name__)

_BRUTEFORCE_MAX_SITES = 22


@dataclass(frozen=True, slots=True)
class SelectionResult:
    """Outcome of a selection.

    Attributes
    ----------
    sites : tuple of int
        Chosen site indices, sorted.
    objective : float
        Demand weight covered by the chosen sites beyond what is already covered.
    cost : float
        Total cost of the chosen sites.
    gap : float or None
        Relative optimality gap (0 = proven optimal); None for the greedy heuristic.
    bound : float or None
        Upper bound on the objective proven by the solver; None for greedy.
    solver : str
        ``"milp (HiGHS)"``, ``"greedy"`` or ``"bruteforce"``.
    status : str
        Solver status text.
    runtime_s : float
        Wall time of the selection, s.
    """

    sites: tuple[int, ...]
    objective: float
    cost: float
    gap: float | None
    bound: float | None
    solver: str
    status: str
    runtime_s: float


@dataclass(frozen=True, slots=True)
class _Shares:
    """Villages whose minimum share is not met yet by the already covered demand.

    ``of_unit`` maps each demand unit to its row in ``labels`` (-1 = unconstrained);
    ``need`` is the weight still to cover in each village.
    """

    labels: np.ndarray
    share: np.ndarray
    total: np.ndarray
    need: np.ndarray
    of_unit: np.ndarray

    @property
    def tol(self) -> np.ndarray:
        return 1e-9 * np.maximum(self.total, 1.0)

    def describe(self, rows: Iterable[Any]) -> str:
        return ", ".join(f"{int(self.labels[k])} (>= {100 * self.share[k]:.4g} %)" for k in rows)


@dataclass(frozen=True, slots=True)
class _Problem:
    """Matrix form of one selection: effective weights (0 where already covered) and rules."""

    a: sp.csr_matrix
    w: np.ndarray
    c: np.ndarray
    budget: float
    allowed: np.ndarray
    forced: list[int]
    group_of: np.ndarray | None
    max_per_group: int
    shares: _Shares | None

    def village_gain(self, covered: np.ndarray) -> np.ndarray:
        """Newly covered weight per constrained village given a covered-unit mask."""
        sh = self.shares
        if sh is None:
            return np.zeros(0)
        hit = covered & (sh.of_unit >= 0)
        return np.bincount(sh.of_unit[hit], weights=self.w[hit], minlength=len(sh.labels))


def select_sites(
    coverage: sp.spmatrix,
    weights: np.ndarray,
    costs: np.ndarray,
    budget: float,
    covered: np.ndarray | None = None,
    method: str = "milp",
    *,
    must_include: Sequence[int] = (),
    must_exclude: Sequence[int] = (),
    groups: np.ndarray | None = None,
    max_per_group: int = 0,
    unit_group: np.ndarray | None = None,
    min_share: dict[int, float] | None = None,
    time_limit_s: float | None = None,
) -> SelectionResult:
    """Choose sites maximising newly covered demand weight within a budget.

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_sites, n_demand)
        Nonzero where site j covers demand unit i.
    weights : numpy.ndarray, shape (n_demand,)
        Demand weight per unit (people or km2), >= 0.
    costs : numpy.ndarray, shape (n_sites,)
        Cost per site (rupiah), > 0.
    budget : float
        Budget (rupiah).
    covered : numpy.ndarray of bool, shape (n_demand,), optional
        Units already served (by existing towers); they add nothing.
    method : {"milp", "greedy", "bruteforce"}
        Solver.
    must_include, must_exclude : sequence of int, keyword-only
        Site indices forced in or out.
    groups : numpy.ndarray, shape (n_sites,), optional
        Group (e.g. kecamatan) of each site, for ``max_per_group``.
    max_per_group : int
        At most this many sites per group; 0 = no limit.
    unit_group : numpy.ndarray of int, shape (n_demand,), optional
        Village of each demand unit (-1 = none), for ``min_share``.
    min_share : dict of int to float, optional
        Village -> minimum share (0..1) of its total demand weight that must be covered after
        the selection, counting units already covered.
    time_limit_s : float, optional
        Solver time limit (MILP only).

    Returns
    -------
    SelectionResult

    Raises
    ------
    InfeasibleSelectionError
        When the forced sites alone exceed the budget or the constraints admit no solution
        (the message names the villages whose minimum share cannot be met).

    Examples
    --------
    The budgeted-coverage trap where greedy loses (DESIGN.md section 4):

    >>> import scipy.sparse as sp, numpy as np
    >>> a = sp.csr_matrix(np.array([[0,1,0,0,0],[0,0,1,0,0],[1,1,0,0,0],[0,0,1,1,1]], bool))
    >>> w, c = np.array([3.,5,1,1,1]), np.array([1.,1,5,5])
    >>> select_sites(a, w, c, 10, method="milp").objective
    11.0
    >>> select_sites(a, w, c, 10, method="greedy").objective
    9.0
    """
    t0 = time.perf_counter()
    a = sp.csr_matrix(coverage, dtype=bool)
    a.sum_duplicates()
    a.sort_indices()
    n_sites, n_dem = a.shape
    w = np.asarray(weights, dtype=float)
    c = np.asarray(costs, dtype=float)
    _check_inputs(a, w, c, budget, covered, must_include, must_exclude, groups, unit_group,
                  min_share)
    done = np.zeros(n_dem, bool) if covered is None else np.asarray(covered, dtype=bool)
    w_eff = np.where(done, 0.0, w)
    forced_in = sorted(set(int(j) for j in must_include))
    forced_out = [int(j) for j in must_exclude]
    if c[forced_in].sum() > budget + 1e-6:
        msg = (f"must-include sites cost Rp {c[forced_in].sum():,.0f}, more than the budget "
               f"Rp {budget:,.0f}")
        raise InfeasibleSelectionError(msg)
    allowed = c <= budget + 1e-6
    allowed[forced_out] = False
    group_of = None
    if groups is not None and max_per_group > 0:
        group_of = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    shares = share_targets(w, done, unit_group, min_share)
    prob = _Problem(a, w_eff, c, float(budget), allowed, forced_in, group_of, max_per_group,
                    shares)
    if method == "milp":
        model = SelectionModel(a, w, c, done, must_include=forced_in, must_exclude=forced_out,
                               groups=groups, max_per_group=max_per_group,
                               unit_group=unit_group, min_share=min_share)
        res = model.solve(budget, time_limit_s=time_limit_s)
        return replace(res, runtime_s=time.perf_counter() - t0)
    if method == "greedy":
        sites = _greedy(prob)
        gap, bound, status, solver = None, None, "heuristic", "greedy"
    elif method == "bruteforce":
        sites = _bruteforce(prob)
        gap, bound, status, solver = 0.0, None, "optimal", "bruteforce"
    else:
        msg = f"unknown selection method {method!r}; choose 'milp', 'greedy' or 'bruteforce'"
        raise ValueError(msg)
    chosen = tuple(sorted(sites))
    objective = covered_weight(a, w_eff, chosen)
    runtime = time.perf_counter() - t0
    log.info("selection %s: %d sites, objective %.6g, %.2f s", solver, len(chosen), objective,
             runtime)
    return SelectionResult(chosen, objective, float(c[list(chosen)].sum()), gap, bound, solver,
                           status, runtime)


class SelectionModel:
    """Exact selection for one coverage matrix, prepared once and solved for many budgets.

    The constructor applies the budget-independent reductions (forced sites folded in,
    demand classes merged, dominated sites dropped); :meth:`solve` reuses them, warm-starts
    the LP relaxation from the previous budget and starts from the previous optimum.
    Parameters are those of :func:`select_sites` without the budget and the method.

    Examples
    --------
    >>> import scipy.sparse as sp, numpy as np
    >>> a = sp.csr_matrix(np.array([[0,1,0,0,0],[0,0,1,0,0],[1,1,0,0,0],[0,0,1,1,1]], bool))
    >>> model = SelectionModel(a, np.array([3.,5,1,1,1]), np.array([1.,1,5,5]))
    >>> [model.solve(b).objective for b in (1, 2, 10)]
    [5.0, 6.0, 11.0]
    """

    def __init__(self, coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                 covered: np.ndarray | None = None, *, must_include: Sequence[int] = (),
                 must_exclude: Sequence[int] = (), groups: np.ndarray | None = None,
                 max_per_group: int = 0, unit_group: np.ndarray | None = None,
                 min_share: dict[int, float] | None = None) -> None:
        t0 = time.perf_counter()
        a = sp.csr_matrix(coverage, dtype=bool)
        a.sum_duplicates()
        a.sort_indices()
        w = np.asarray(weights, dtype=float)
        c = np.asarray(costs, dtype=float)
        _check_inputs(a, w, c, 0.0, covered, must_include, must_exclude, groups, unit_group,
                      min_share)
        done = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
        self._a, self._c, self._w = a, c, np.where(done, 0.0, w)
        self._forced = sorted(set(int(j) for j in must_include))
        allowed = np.ones(a.shape[0], dtype=bool)
        allowed[[int(j) for j in must_exclude]] = False
        self._excluded = ~allowed.copy()
        allowed[self._forced] = False
        self._group_of: np.ndarray | None = None
        self._max_per_group = max_per_group
        cap = None
        if groups is not None and max_per_group > 0:
            self._group_of = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
            n_groups = int(self._group_of.max()) + 1
            cap = max_per_group - np.bincount(self._group_of[self._forced], minlength=n_groups)
        self._shares = share_targets(w, done, unit_group, min_share)
        gone = done | _hit(a, self._forced)
        core_shares = share_targets(w, gone, unit_group, min_share)
        self._core: Core = reduce_core(
            a, np.where(gone, 0.0, w), c, allowed,
            None if core_shares is None else core_shares.of_unit, self._group_of, cap,
            None if core_shares is None else core_shares.need - core_shares.tol)
        self._relax = Relaxation(self._core) if self._core.plain else None
        self._last: list[int] = []
        self.prepare_s = time.perf_counter() - t0
        log.info("selection model: %d of %d sites, %d demand classes, %.2f s",
                 self._core.n_sites, a.shape[0], self._core.a.shape[1], self.prepare_s)

    @property
    def core(self) -> Core:
        """The reduced problem (sites left after the reductions, demand classes)."""
        return self._core

    def solve(self, budget: float, *, time_limit_s: float | None = None) -> SelectionResult:
        """Exact selection within *budget* (rupiah); ``runtime_s`` excludes the preparation.

        Raises
        ------
        InfeasibleSelectionError
            As :func:`select_sites`.
        """
        t0 = time.perf_counter()
        if not budget >= 0:
            msg = f"budget must be >= 0, got {budget}"
            raise ValueError(msg)
        c, core = self._c, self._core
        forced_cost = float(c[self._forced].sum())
        if forced_cost > budget + 1e-6:
            msg = (f"must-include sites cost Rp {forced_cost:,.0f}, more than the budget "
                   f"Rp {budget:,.0f}")
            raise InfeasibleSelectionError(msg)
        if core.cap is not None and np.any(core.cap < 0):
            msg = "no selection satisfies the group limit with the must-include sites"
            raise InfeasibleSelectionError(msg, status="infeasible")
        sol = solve_core(core, budget - forced_cost, self._relax, [self._last], time_limit_s)
        if sol is None:
            raise InfeasibleSelectionError(self._infeasible_message(budget), status="2")
        if sol.value == -np.inf:
            msg = f"selection has no feasible solution: {sol.status}"
            raise InfeasibleSelectionError(msg, status=sol.status)
        self._last = list(sol.sites)
        chosen = tuple(sorted([*self._forced, *(int(j) for j in core.sites[list(sol.sites)])]))
        objective = covered_weight(self._a, self._w, chosen)
        bound = objective - sol.value + sol.bound
        gap = max(bound - objective, 0.0) / max(abs(objective), 1.0)
        gap = 0.0 if gap < 1e-9 else gap
        runtime = time.perf_counter() - t0
        log.info("selection milp (HiGHS): %d sites, objective %.6g, gap %.3g, %.2f s",
                 len(chosen), objective, gap, runtime)
        return SelectionResult(chosen, objective, float(c[list(chosen)].sum()), gap,
                               max(bound, objective), "milp (HiGHS)", sol.status, runtime)

    def _infeasible_message(self, budget: float) -> str:
        sh = self._shares
        if sh is None:
            return "selection has no feasible solution"
        allowed = ~self._excluded & (self._c <= budget + 1e-6)
        p = _Problem(self._a, self._w, self._c, float(budget), allowed, self._forced,
                     self._group_of, self._max_per_group, sh)
        red, wg, village = aggregate_demand(p.a, p.w, sh.of_unit)
        return _share_message(sh, _villages_out_of_budget(p, red, wg, village), budget)


def select_sites_sweep(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                       budgets: Sequence[float], covered: np.ndarray | None = None, *,
                       must_include: Sequence[int] = (), must_exclude: Sequence[int] = (),
                       groups: np.ndarray | None = None, max_per_group: int = 0,
                       unit_group: np.ndarray | None = None,
                       min_share: dict[int, float] | None = None,
                       time_limit_s: float | None = None,
                       progress: Callable[[int, int], None] | None = None
                       ) -> list[SelectionResult]:
    """Exact selections for many budgets at once (``method="milp"`` of :func:`select_sites`).

    Budgets are solved in increasing order on one :class:`SelectionModel`; each result equals
    that of an independent :func:`select_sites` call up to ties between optimal selections.
    ``time_limit_s`` applies to each budget; ``progress(done, total)`` is called after each.

    Returns
    -------
    list of SelectionResult
        In the order of *budgets*.
    """
    model = SelectionModel(coverage, weights, costs, covered, must_include=must_include,
                           must_exclude=must_exclude, groups=groups, max_per_group=max_per_group,
                           unit_group=unit_group, min_share=min_share)
    out: dict[int, SelectionResult] = {}
    for done, k in enumerate(np.argsort(np.asarray(budgets, dtype=float), kind="stable"), 1):
        out[int(k)] = model.solve(float(budgets[k]), time_limit_s=time_limit_s)
        if progress is not None:
            progress(done, len(budgets))
    return [out[k] for k in range(len(budgets))]


def covered_weight(a: sp.csr_matrix, w: np.ndarray, sites: Sequence[int]) -> float:
    """Total weight of the demand units covered by *sites*."""
    if len(sites) == 0:
        return 0.0
    return float(w[_hit(a, sites)].sum())


def build_order(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                sites: Sequence[int], covered: np.ndarray | None = None
                ) -> list[tuple[int, float]]:
    """Order chosen sites for building: each step adds the largest marginal gain per rupiah.

    Returns
    -------
    list of (site, marginal_gain)
        Build order with the demand weight each site newly covers at its step.
    """
    a = sp.csr_matrix(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float).copy()
    if covered is not None:
        w[np.asarray(covered, dtype=bool)] = 0.0
    left = list(sites)
    order: list[tuple[int, float]] = []
    while left:
        gains = [_gain(a, w, j) for j in left]
        ratios = [g / costs[j] for g, j in zip(gains, left, strict=True)]
        k = int(np.argmax(ratios))
        j = left.pop(k)
        order.append((j, gains[k]))
        w[a[j].indices] = 0.0
    return order


def _gain(a: sp.csr_matrix, w: np.ndarray, j: int) -> float:
    return float(w[a.indices[a.indptr[j]:a.indptr[j + 1]]].sum())


def _hit(a: sp.csr_matrix, sites: Sequence[int]) -> np.ndarray:
    """Mask of the demand units covered by *sites*."""
    hit = np.zeros(a.shape[1], dtype=bool)
    for j in sites:
        hit[a.indices[a.indptr[j]:a.indptr[j + 1]]] = True
    return hit


def _check_inputs(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float,
                  covered: np.ndarray | None, must_include: Sequence[int],
                  must_exclude: Sequence[int], groups: np.ndarray | None,
                  unit_group: np.ndarray | None, min_share: dict[int, float] | None) -> None:
    n_sites, n_dem = a.shape
    problems = []
    if w.shape != (n_dem,):
        problems.append(f"weights has shape {w.shape}, expected ({n_dem},)")
    elif np.any(w < 0) or not np.all(np.isfinite(w)):
        problems.append("weights must be finite and >= 0")
    if c.shape != (n_sites,):
        problems.append(f"costs has shape {c.shape}, expected ({n_sites},)")
    elif np.any(c <= 0) or not np.all(np.isfinite(c)):
        problems.append("costs must be finite and > 0")
    if not budget >= 0:
        problems.append(f"budget must be >= 0, got {budget}")
    if covered is not None and np.shape(covered) != (n_dem,):
        problems.append(f"covered has shape {np.shape(covered)}, expected ({n_dem},)")
    if groups is not None and np.shape(groups) != (n_sites,):
        problems.append(f"groups has shape {np.shape(groups)}, expected ({n_sites},)")
    bad = [j for j in (*must_include, *must_exclude) if not 0 <= int(j) < n_sites]
    if bad:
        problems.append(f"site indices out of range: {bad[:5]}")
    both = set(must_include) & set(must_exclude)
    if both:
        problems.append(f"sites both forced in and out: {sorted(both)[:5]}")
    problems += _share_problems(n_dem, unit_group, min_share)
    if problems:
        raise ValueError("; ".join(problems))


def _share_problems(n_dem: int, unit_group: np.ndarray | None,
                    min_share: dict[int, float] | None) -> list[str]:
    problems = []
    if unit_group is not None and np.shape(unit_group) != (n_dem,):
        problems.append(f"unit_group has shape {np.shape(unit_group)}, expected ({n_dem},)")
    if not min_share:
        return problems
    if unit_group is None:
        problems.append("min_share needs unit_group (the village of each demand unit)")
    bad_share = [v for v, s in min_share.items() if not 0.0 <= s <= 1.0]
    if bad_share:
        problems.append(f"min_share values must lie in [0, 1]; villages {bad_share[:5]}")
    if unit_group is not None and np.shape(unit_group) == (n_dem,):
        present = set(np.unique(np.asarray(unit_group)).tolist())
        missing = [v for v in min_share if v < 0 or v not in present]
        if missing:
            problems.append(f"min_share names villages without demand units: {missing[:5]}")
    return problems


def blank_village_shares(unit_village: np.ndarray, weights: np.ndarray, blank: np.ndarray,
                         share: float) -> dict[int, float]:
    """``min_share`` for every blank village with demand: village row -> *share*."""
    with_demand = np.bincount(unit_village, weights=weights, minlength=len(blank)) > 0
    return {int(v): float(share) for v in np.flatnonzero(np.asarray(blank, bool) & with_demand)}


def share_targets(w: np.ndarray, done: np.ndarray, unit_group: np.ndarray | None,
                  min_share: dict[int, float] | None) -> _Shares | None:
    """Weight each village still needs; villages already at their share are dropped.

    ``min_share`` maps a village (a value of ``unit_group``) to the least share of its
    weight ``w`` that must be covered, counting units already covered (``done``).
    """
    if not min_share or unit_group is None:
        return None
    ug = np.asarray(unit_group, dtype=np.int64)
    labels = np.array(sorted(min_share), dtype=np.int64)
    share = np.array([float(min_share[int(v)]) for v in labels])
    pos = np.clip(np.searchsorted(labels, ug), 0, len(labels) - 1)
    member = labels[pos] == ug
    of_unit = np.where(member, pos, -1)
    total = np.bincount(of_unit[member], weights=w[member], minlength=len(labels))
    met = member & done
    have = np.bincount(of_unit[met], weights=w[met], minlength=len(labels))
    need = share * total - have
    active = need > 1e-9 * np.maximum(total, 1.0)
    if not active.any():
        return None
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[active] = np.arange(int(active.sum()))
    of_unit = np.where(member, remap[pos], -1)
    return _Shares(labels[active], share[active], total[active], need[active], of_unit)


def _candidate_mask(p: _Problem, in_sel: np.ndarray, spent: float,
                    counts: np.ndarray | None) -> np.ndarray:
    """Sites that can still be added: allowed, not chosen, affordable, group not full."""
    ok = p.allowed & ~in_sel & (spent + p.c <= p.budget + 1e-6)
    if p.group_of is not None and counts is not None:
        ok &= counts[p.group_of] < p.max_per_group
    return ok


def _greedy(p: _Problem) -> list[int]:
    """Meet the minimum shares, then marginal gain per rupiah; then the best-single fallback."""
    a, c = p.a, p.c
    chosen = list(p.forced)
    in_sel = np.zeros(a.shape[0], dtype=bool)
    in_sel[chosen] = True
    w_left = p.w.copy()
    w_left[_hit(a, chosen)] = 0.0
    counts = None if p.group_of is None else np.bincount(p.group_of[chosen],
                                                          minlength=p.group_of.max() + 1)
    spent = float(c[chosen].sum())
    af = a.astype(np.float64)
    if p.shares is not None:
        spent = _greedy_shares(p, chosen, in_sel, w_left, counts, spent)
    while True:
        ok = _candidate_mask(p, in_sel, spent, counts)
        ratio = np.where(ok, (af @ w_left) / c, 0.0)
        best_j = int(np.argmax(ratio))
        if ratio[best_j] <= 0.0:
            break
        chosen.append(best_j)
        in_sel[best_j] = True
        spent += c[best_j]
        if counts is not None and p.group_of is not None:
            counts[p.group_of[best_j]] += 1
        w_left[_gain_units(a, best_j)] = 0.0
    single = [j for j in map(int, np.flatnonzero(p.allowed))
              if c[j] + c[p.forced].sum() <= p.budget + 1e-6 and j not in p.forced
              and _group_ok([*p.forced, j], p.group_of, p.max_per_group)
              and _shares_met(p, [*p.forced, j])]
    if single:
        gains = [covered_weight(a, p.w, [*p.forced, j]) for j in single]
        k = int(np.argmax(gains))
        if gains[k] > covered_weight(a, p.w, chosen):
            return [*p.forced, single[k]]
    return chosen


def _gain_units(a: sp.csr_matrix, j: int) -> np.ndarray:
    return a.indices[a.indptr[j]:a.indptr[j + 1]]


def _greedy_shares(p: _Problem, chosen: list[int], in_sel: np.ndarray, w_left: np.ndarray,
                   counts: np.ndarray | None, spent: float) -> float:
    """Add the cheapest site per unit of missing village weight until every share is met."""
    sh = p.shares
    assert sh is not None
    member = np.flatnonzero(sh.of_unit >= 0)
    missing = sh.need - p.village_gain(_hit(p.a, chosen))
    while np.any(missing > sh.tol):
        village_w = sp.csr_matrix((w_left[member], (member, sh.of_unit[member])),
                                  shape=(p.a.shape[1], len(sh.labels)))
        gain = sp.coo_matrix(p.a.astype(float) @ village_w)
        capped = np.minimum(gain.data, np.maximum(missing, 0.0)[gain.col])
        useful = np.bincount(gain.row, weights=capped, minlength=p.a.shape[0])
        ok = _candidate_mask(p, in_sel, spent, counts)
        ratio = np.where(ok, useful / p.c, 0.0)
        j = int(np.argmax(ratio))
        if ratio[j] <= 0.0:
            short = np.flatnonzero(missing > sh.tol)
            msg = (f"greedy selection cannot meet the minimum share of villages "
                   f"{sh.describe(short)} within the budget Rp {p.budget:,.0f}")
            raise InfeasibleSelectionError(msg, status="heuristic")
        chosen.append(j)
        in_sel[j] = True
        spent += float(p.c[j])
        if counts is not None and p.group_of is not None:
            counts[p.group_of[j]] += 1
        units = _gain_units(p.a, j)
        inside = units[sh.of_unit[units] >= 0]
        missing -= np.bincount(sh.of_unit[inside], weights=w_left[inside],
                               minlength=len(sh.labels))
        w_left[units] = 0.0
    return spent


def _group_ok(chosen: Sequence[int], group_of: np.ndarray | None, max_per_group: int) -> bool:
    if group_of is None or not chosen:
        return True
    return bool(np.bincount(group_of[list(chosen)]).max() <= max_per_group)


def _shares_met(p: _Problem, chosen: Sequence[int]) -> bool:
    if p.shares is None:
        return True
    return bool(np.all(p.village_gain(_hit(p.a, chosen)) >= p.shares.need - p.shares.tol))


def _bruteforce(p: _Problem, chunk: int = 4096) -> list[int]:
    """Enumerate every subset of the free sites in vectorised chunks."""
    free = [int(j) for j in np.flatnonzero(p.allowed) if j not in p.forced]
    if len(free) > _BRUTEFORCE_MAX_SITES:
        msg = (f"bruteforce selection handles at most {_BRUTEFORCE_MAX_SITES} free sites, "
               f"got {len(free)}; use method='milp'")
        raise ValueError(msg)
    dense = p.a.toarray()
    chunk = max(64, min(chunk, int(2e7 // (max(len(free), 1) * max(p.a.shape[1], 1)))))
    base = _hit(p.a, p.forced)
    base_cost = float(p.c[p.forced].sum())
    sh = p.shares
    k = 0 if sh is None else len(sh.labels)
    member_w = np.zeros((p.a.shape[1], k))
    if sh is not None:
        inside = np.flatnonzero(sh.of_unit >= 0)
        member_w[inside, sh.of_unit[inside]] = p.w[inside]
    ever_met = np.zeros(k, dtype=bool)
    best: list[int] | None = None
    best_val = -np.inf
    combos = itertools.chain.from_iterable(
        itertools.combinations(free, r) for r in range(len(free) + 1))
    while block := list(itertools.islice(combos, chunk)):
        idx = np.zeros((len(block), len(free) or 1), dtype=np.int64)
        size = np.array([len(b) for b in block])
        mask = np.arange(idx.shape[1]) < size[:, None]
        idx[mask] = np.fromiter(itertools.chain.from_iterable(block), dtype=np.int64)
        hit = base | (dense[idx] & mask[:, :, None]).any(axis=1)
        feasible = base_cost + np.where(mask, p.c[idx], 0.0).sum(axis=1) <= p.budget + 1e-6
        if p.group_of is not None:
            feasible &= _combo_groups_ok(p, idx, mask)
        if sh is not None:
            met = hit @ member_w >= sh.need - sh.tol
            ever_met |= (met & feasible[:, None]).any(axis=0)
            feasible &= met.all(axis=1)
        val = np.where(feasible, hit @ p.w, -np.inf)
        i = int(np.argmax(val))
        if feasible[i] and val[i] > best_val + 1e-12:
            best, best_val = [*p.forced, *block[i]], float(val[i])
    if best is None and sh is None:
        msg = "no selection satisfies the group limit with the must-include sites"
        raise InfeasibleSelectionError(msg, status="infeasible")
    if best is None:
        assert sh is not None
        msg = _share_message(sh, np.flatnonzero(~ever_met), p.budget)
        raise InfeasibleSelectionError(msg, status="infeasible")
    return best


def _combo_groups_ok(p: _Problem, idx: np.ndarray, mask: np.ndarray) -> np.ndarray:
    assert p.group_of is not None
    n_labels = int(p.group_of.max()) + 1
    base = np.bincount(p.group_of[p.forced], minlength=n_labels)
    onehot = (p.group_of[idx][:, :, None] == np.arange(n_labels)) & mask[:, :, None]
    counts = onehot.sum(axis=1) + base
    return np.asarray(counts.max(axis=1) <= p.max_per_group)


def _share_message(sh: _Shares, alone: np.ndarray, budget: float) -> str:
    if len(alone):
        return (f"minimum share cannot be met within the budget Rp {budget:,.0f} "
                f"for villages {sh.describe(alone)}")
    return (f"minimum shares of villages {sh.describe(range(len(sh.labels)))} cannot all be "
            f"met together within the budget Rp {budget:,.0f}")


def _site_bounds(p: _Problem, n_y: int) -> object:
    """0 <= x_j <= 1 (x_j = 1 forced in, x_j = 0 when not allowed) and 0 <= y_i <= 1."""
    from scipy.optimize import Bounds

    n_sites = p.a.shape[0]
    lower = np.zeros(n_sites + n_y)
    upper = np.ones(n_sites + n_y)
    upper[:n_sites][~p.allowed] = 0.0
    lower[p.forced] = 1.0
    return Bounds(lower, upper)


def _villages_out_of_budget(p: _Problem, red: sp.csr_matrix, wg: np.ndarray,
                            village: np.ndarray) -> np.ndarray:
    """Villages whose share alone costs more than the budget (cheapest cover, MILP each)."""
    from scipy.optimize import milp

    sh = p.shares
    assert sh is not None
    n_sites, n_y = red.shape
    objective = np.concatenate([p.c, np.zeros(n_y)])
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_y)])
    base = [_cover_rows(red)]
    if p.group_of is not None:
        base.append(_group_rows(p.group_of, n_y, p.max_per_group))
    short = []
    for v in range(len(sh.labels)):
        lower = np.full(len(sh.labels), -np.inf)
        lower[v] = sh.need[v] - sh.tol[v]
        with native_stdout_silenced():
            res = milp(objective, constraints=[*base, _share_rows(village, wg, lower, n_sites)],
                       integrality=integrality, bounds=_site_bounds(p, n_y),
                       options={"disp": False})
        if res.x is None or float(res.fun) > p.budget + 1e-6:
            short.append(v)
    return np.array(short, dtype=np.int64)


def _cover_rows(red: sp.csr_matrix) -> object:
    """y_i - sum_{j covers i} x_j <= 0 for every demand group i."""
    from scipy.optimize import LinearConstraint

    n_y = red.shape[1]
    mat = sp.hstack([-red.T.astype(float), sp.identity(n_y)], format="csr")
    return LinearConstraint(mat, -np.inf, 0.0)


def _group_rows(group_of: np.ndarray, n_y: int, max_per_group: int) -> object:
    """sum_{j in g} x_j <= max_per_group for every group g (``group_of`` = 0..n_groups-1)."""
    from scipy.optimize import LinearConstraint

    n_sites = len(group_of)
    mat = sp.csr_matrix((np.ones(n_sites), (group_of, np.arange(n_sites))),
                        shape=(int(group_of.max()) + 1, n_sites + n_y))
    return LinearConstraint(mat, -np.inf, float(max_per_group))


def _share_rows(village: np.ndarray, wg: np.ndarray, lower: np.ndarray, n_sites: int) -> object:
    """sum_{i in v} w_i y_i >= lower_v for every village v with a minimum share.

    ``lower_v`` is the share of the village's weight minus what is already covered; y_i is
    bounded by actual coverage through :func:`_cover_rows`.
    """
    from scipy.optimize import LinearConstraint

    n_y = len(wg)
    sel = np.flatnonzero(village >= 0)
    mat = sp.csr_matrix((wg[sel], (village[sel], n_sites + sel)),
                        shape=(len(lower), n_sites + n_y))
    return LinearConstraint(mat, lower, np.inf)
