"""Budgeted maximum coverage: choose sites that cover the most demand within a budget.

The core works on matrices only: ``coverage`` is a scipy.sparse matrix of shape
(n_sites, n_demand) whose row j flags the demand units site j covers.

Problem (DESIGN.md section 5)::

    maximise   sum_i w_i y_i
    subject to sum_j c_j x_j <= B
               y_i <= sum_{j covers i} x_j
               x_j in {0, 1},  0 <= y_i <= 1
               (demand already covered by existing towers is left out)

An :class:`Objective` replaces ``w_i`` by any value per unit and may add a value per village
*lifted* (its covered share reaching a given level; binary ``lift_v`` with
``sum_{i in v} w_i y_i >= need_v lift_v``), for every method.

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

__all__ = ["Objective", "SelectionModel", "SelectionResult", "ShareShortfall", "covered_weight",
           "blank_village_shares", "build_order", "select_sites", "select_sites_sweep",
           "share_targets"]

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
class Objective:
    """What a selection maximises when it is not only the demand weight newly covered.

    The objective of a selection is ``sum_i unit_value_i`` over the demand units it newly
    covers plus ``lift_value`` times the number of villages it *lifts*: a village of
    ``lift_share`` is lifted when the share of its demand weight covered after the
    selection (counting units already covered) reaches its value there. A village short of
    it by any amount counts nothing.

    Attributes
    ----------
    unit_value : numpy.ndarray or None, shape (n_demand,)
        Value of each unit when newly covered, >= 0 (None = the demand weights).
    lift_share : dict of int to float or None
        Village (a value of ``unit_group``) -> share (0..1) of its weight that lifts it.
    lift_value : float
        Value of one lifted village, >= 0.
    """

    unit_value: np.ndarray | None = None
    lift_share: dict[int, float] | None = None
    lift_value: float = 0.0


@dataclass(frozen=True, slots=True)
class ShareShortfall:
    """A village whose minimum share the selection cannot meet.

    Attributes
    ----------
    village : int
        The village (a value of ``unit_group``).
    required : float
        Its minimum share, 0..1.
    reachable : float
        The largest share of its demand weight any selection within the budget (and the
        other rules: forced and excluded sites, group limits) covers, 0..1.
    budget : float
        The budget, rupiah.
    """

    village: int
    required: float
    reachable: float
    budget: float


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

    def gain(self, covered: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Weight *w* of the units *covered* per village."""
        hit = covered & (self.of_unit >= 0)
        return np.bincount(self.of_unit[hit], weights=w[hit], minlength=len(self.labels))


@dataclass(frozen=True, slots=True)
class _Value:
    """Objective of a selection: unit values newly covered plus villages lifted."""

    a: sp.csr_matrix
    u: np.ndarray
    w: np.ndarray
    lift: _Shares | None
    lift_value: float

    def __call__(self, sites: Sequence[int]) -> float:
        if len(sites) == 0:
            return 0.0
        hit = _hit(self.a, sites)
        return float(self.u[hit].sum()) + self.lift_value * self.lifted(hit)

    def lifted(self, hit: np.ndarray) -> int:
        """Villages lifted with the units *hit* covered."""
        lift = self.lift
        if lift is None:
            return 0
        return int(np.count_nonzero(lift.gain(hit, self.w) >= lift.need - lift.tol))


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
    value: _Value

    def village_gain(self, covered: np.ndarray) -> np.ndarray:
        """Newly covered weight per constrained village given a covered-unit mask."""
        sh = self.shares
        if sh is None:
            return np.zeros(0)
        return sh.gain(covered, self.w)


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
    objective: Objective | None = None,
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
    objective : Objective, optional
        What to maximise (default: the demand weight newly covered); lifted villages need
        ``unit_group``.
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
                  min_share, objective)
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
                    shares, _objective_value(a, w, done, unit_group, objective))
    if method == "milp":
        model = SelectionModel(a, w, c, done, must_include=forced_in, must_exclude=forced_out,
                               groups=groups, max_per_group=max_per_group,
                               unit_group=unit_group, min_share=min_share, objective=objective)
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
    value = prob.value(chosen)
    runtime = time.perf_counter() - t0
    log.info("selection %s: %d sites, objective %.6g, %.2f s", solver, len(chosen), value,
             runtime)
    return SelectionResult(chosen, value, float(c[list(chosen)].sum()), gap, bound, solver,
                           status, runtime)


def _objective_value(a: sp.csr_matrix, w: np.ndarray, done: np.ndarray,
                     unit_group: np.ndarray | None, objective: Objective | None) -> _Value:
    """The objective of *objective* over units not yet covered (*done*)."""
    if objective is None:
        return _Value(a, np.where(done, 0.0, w), np.where(done, 0.0, w), None, 0.0)
    u = w if objective.unit_value is None else np.asarray(objective.unit_value, dtype=float)
    lift = share_targets(w, done, unit_group, objective.lift_share)
    return _Value(a, np.where(done, 0.0, u), np.where(done, 0.0, w), lift,
                  float(objective.lift_value))


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
                 min_share: dict[int, float] | None = None,
                 objective: Objective | None = None) -> None:
        t0 = time.perf_counter()
        a = sp.csr_matrix(coverage, dtype=bool)
        a.sum_duplicates()
        a.sort_indices()
        w = np.asarray(weights, dtype=float)
        c = np.asarray(costs, dtype=float)
        _check_inputs(a, w, c, 0.0, covered, must_include, must_exclude, groups, unit_group,
                      min_share, objective)
        done = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
        self._a, self._c, self._w = a, c, np.where(done, 0.0, w)
        self._value = _objective_value(a, w, done, unit_group, objective)
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
        self._core: Core = _core(a, w, c, gone, allowed, unit_group, objective,
                                 core_shares, self._group_of, cap)
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
            raise self._infeasible(budget)
        if sol.value == -np.inf:
            msg = f"selection has no feasible solution: {sol.status}"
            raise InfeasibleSelectionError(msg, status=sol.status)
        self._last = list(sol.sites)
        chosen = tuple(sorted([*self._forced, *(int(j) for j in core.sites[list(sol.sites)])]))
        objective = self._value(chosen)
        bound = objective - sol.value + sol.bound
        gap = max(bound - objective, 0.0) / max(abs(objective), 1.0)
        gap = 0.0 if gap < 1e-9 else gap
        runtime = time.perf_counter() - t0
        log.info("selection milp (HiGHS): %d sites, objective %.6g, gap %.3g, %.2f s",
                 len(chosen), objective, gap, runtime)
        return SelectionResult(chosen, objective, float(c[list(chosen)].sum()), gap,
                               max(bound, objective), "milp (HiGHS)", sol.status, runtime)

    def _infeasible(self, budget: float) -> InfeasibleSelectionError:
        sh = self._shares
        if sh is None:
            return InfeasibleSelectionError("selection has no feasible solution", status="2")
        allowed = ~self._excluded & (self._c <= budget + 1e-6)
        p = _Problem(self._a, self._w, self._c, float(budget), allowed, self._forced,
                     self._group_of, self._max_per_group, sh, self._value)
        return _share_error(p, "2")


def _core(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, gone: np.ndarray,
          allowed: np.ndarray, unit_group: np.ndarray | None, objective: Objective | None,
          shares: _Shares | None, group_of: np.ndarray | None, cap: np.ndarray | None) -> Core:
    """The reduced core over units not yet covered (*gone*): objective, shares and lifts."""
    w_left = np.where(gone, 0.0, w)
    unit_share = None if shares is None else shares.of_unit
    need = None if shares is None else shares.need - shares.tol
    if objective is None:
        return reduce_core(a, w_left, c, allowed, unit_share, group_of, cap, need)
    u = w if objective.unit_value is None else np.asarray(objective.unit_value, dtype=float)
    lift = share_targets(w, gone, unit_group, objective.lift_share)
    people = None
    if objective.unit_value is not None:
        rows = np.zeros(a.shape[1], dtype=bool)
        for sh in (shares, lift):
            if sh is not None:
                rows |= sh.of_unit >= 0
        people = np.where(rows, w_left, 0.0)
    return reduce_core(a, np.where(gone, 0.0, u), c, allowed, unit_share, group_of, cap, need,
                       people=people, unit_lift=None if lift is None else lift.of_unit,
                       lift_need=None if lift is None else lift.need - lift.tol,
                       lift_value=float(objective.lift_value))


def select_sites_sweep(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                       budgets: Sequence[float], covered: np.ndarray | None = None, *,
                       must_include: Sequence[int] = (), must_exclude: Sequence[int] = (),
                       groups: np.ndarray | None = None, max_per_group: int = 0,
                       unit_group: np.ndarray | None = None,
                       min_share: dict[int, float] | None = None,
                       objective: Objective | None = None,
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
                           unit_group=unit_group, min_share=min_share, objective=objective)
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
                  unit_group: np.ndarray | None, min_share: dict[int, float] | None,
                  objective: Objective | None = None) -> None:
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
    if objective is not None:
        problems += _objective_problems(n_dem, unit_group, objective)
    if problems:
        raise ValueError("; ".join(problems))


def _objective_problems(n_dem: int, unit_group: np.ndarray | None,
                        objective: Objective) -> list[str]:
    problems = []
    u = objective.unit_value
    if u is not None and np.shape(u) != (n_dem,):
        problems.append(f"objective.unit_value has shape {np.shape(u)}, expected ({n_dem},)")
    elif u is not None and (np.any(np.asarray(u) < 0) or not np.all(np.isfinite(u))):
        problems.append("objective.unit_value must be finite and >= 0")
    if not objective.lift_value >= 0:
        problems.append(f"objective.lift_value must be >= 0, got {objective.lift_value}")
    if objective.lift_share:
        problems += [p.replace("min_share", "objective.lift_share")
                     for p in _share_problems(n_dem, unit_group, objective.lift_share)]
    return problems


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
    """Meet the minimum shares, then marginal gain per rupiah; then the best-single fallback.

    The gain of a site is the value of the units it newly covers plus the value of the
    villages it lifts; when no site adds either, the site closing the largest part of the
    lift villages' missing weight per rupiah is taken.
    """
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
    u_left = np.where(_hit(a, chosen), 0.0, p.value.u)
    while True:
        ok = _candidate_mask(p, in_sel, spent, counts)
        gain = af @ u_left
        lifts, progress = _lift_gains(p, af, w_left)
        ratio = np.where(ok, (gain + p.value.lift_value * lifts) / c, 0.0)
        if ratio.max(initial=0.0) <= 0.0:
            ratio = np.where(ok, progress / c, 0.0)
        best_j = int(np.argmax(ratio))
        if ratio[best_j] <= 0.0:
            break
        chosen.append(best_j)
        in_sel[best_j] = True
        spent += c[best_j]
        if counts is not None and p.group_of is not None:
            counts[p.group_of[best_j]] += 1
        w_left[_gain_units(a, best_j)] = 0.0
        u_left[_gain_units(a, best_j)] = 0.0
    single = [j for j in map(int, np.flatnonzero(p.allowed))
              if c[j] + c[p.forced].sum() <= p.budget + 1e-6 and j not in p.forced
              and _group_ok([*p.forced, j], p.group_of, p.max_per_group)
              and _shares_met(p, [*p.forced, j])]
    if single:
        gains = [p.value([*p.forced, j]) for j in single]
        k = int(np.argmax(gains))
        if gains[k] > p.value(chosen):
            return [*p.forced, single[k]]
    return chosen


def _lift_gains(p: _Problem, af: sp.csr_matrix, w_left: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per site: villages it would lift now, and the share of their missing weight it closes."""
    lift = p.value.lift
    n_sites = p.a.shape[0]
    if lift is None or p.value.lift_value <= 0:
        return np.zeros(n_sites), np.zeros(n_sites)
    missing = lift.need - lift.gain(w_left == 0, p.value.w)
    open_ = missing > lift.tol
    member = np.flatnonzero((lift.of_unit >= 0) & (w_left > 0))
    member = member[open_[lift.of_unit[member]]]
    village_w = sp.csr_matrix((w_left[member], (member, lift.of_unit[member])),
                              shape=(p.a.shape[1], len(lift.labels)))
    g = sp.coo_matrix(af @ village_w)
    done = g.data >= missing[g.col] - lift.tol[g.col]
    lifts = np.bincount(g.row[done], minlength=n_sites).astype(float)
    part = np.minimum(g.data, missing[g.col]) / np.maximum(lift.need[g.col], 1e-12)
    return lifts, np.bincount(g.row, weights=part, minlength=n_sites)


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
            raise _share_error(p, "heuristic")
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
    lift = p.value.lift
    lift_w = np.zeros((p.a.shape[1], 0 if lift is None else len(lift.labels)))
    if lift is not None:
        inside = np.flatnonzero(lift.of_unit >= 0)
        lift_w[inside, lift.of_unit[inside]] = p.value.w[inside]
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
            feasible &= met.all(axis=1)
        val = hit @ p.value.u
        if lift is not None:
            lifted = (hit @ lift_w >= lift.need - lift.tol).sum(axis=1)
            val = val + p.value.lift_value * lifted
        val = np.where(feasible, val, -np.inf)
        i = int(np.argmax(val))
        if feasible[i] and val[i] > best_val + 1e-12:
            best, best_val = [*p.forced, *block[i]], float(val[i])
    if best is None and sh is None:
        msg = "no selection satisfies the group limit with the must-include sites"
        raise InfeasibleSelectionError(msg, status="infeasible")
    if best is None:
        raise _share_error(p, "infeasible")
    return best


def _combo_groups_ok(p: _Problem, idx: np.ndarray, mask: np.ndarray) -> np.ndarray:
    assert p.group_of is not None
    n_labels = int(p.group_of.max()) + 1
    base = np.bincount(p.group_of[p.forced], minlength=n_labels)
    onehot = (p.group_of[idx][:, :, None] == np.arange(n_labels)) & mask[:, :, None]
    counts = onehot.sum(axis=1) + base
    return np.asarray(counts.max(axis=1) <= p.max_per_group)


def _share_error(p: _Problem, status: str) -> InfeasibleSelectionError:
    """The error of minimum shares that no selection meets, with each village's best share.

    Villages whose share no selection within the budget reaches are listed; when each can be
    met alone but not all together, every village is listed with what it reaches alone.
    """
    sh = p.shares
    assert sh is not None
    reach = _reachable_shares(p)
    alone = np.flatnonzero(reach < sh.share - 1e-9)
    rows = alone if len(alone) else np.arange(len(sh.labels))
    short = tuple(ShareShortfall(int(sh.labels[k]), float(sh.share[k]), float(reach[k]),
                                 p.budget) for k in rows)
    if len(alone):
        msg = (f"minimum share cannot be met within the budget Rp {p.budget:,.0f} for "
               f"villages {sh.describe(alone)}")
    else:
        msg = (f"minimum shares of villages {sh.describe(rows)} cannot all be met together "
               f"within the budget Rp {p.budget:,.0f}")
    if status == "heuristic":
        msg = f"greedy selection: {msg}"
    return InfeasibleSelectionError(msg, status=status, shortfalls=short)


def _reachable_shares(p: _Problem) -> np.ndarray:
    """Largest share of each constrained village any selection within the budget covers.

    One small MILP per village: maximise its newly covered weight over the sites that reach
    it, within the budget left after the forced sites and the group limits.
    """
    from scipy.optimize import LinearConstraint, milp

    sh = p.shares
    assert sh is not None
    have = sh.share * sh.total - sh.need
    base = _hit(p.a, p.forced)
    left = p.budget - float(p.c[p.forced].sum())
    out = np.empty(len(sh.labels))
    for v in range(len(sh.labels)):
        units = np.flatnonzero((sh.of_unit == v) & ~base & (p.w > 0))
        sub = sp.csc_matrix(p.a[:, units])
        reach = np.asarray(sub.sum(axis=1)).ravel() > 0
        sites = np.flatnonzero(p.allowed & reach)
        sites = sites[~np.isin(sites, p.forced)]
        red, wg, _ = aggregate_demand(sp.csr_matrix(sub[sites]), p.w[units])
        gain = 0.0
        if len(sites) and len(wg):
            n_s, n_y = red.shape
            rows: list[Any] = [_cover_rows(red),
                               LinearConstraint(np.concatenate([p.c[sites], np.zeros(n_y)])
                                                [None, :], -np.inf, max(left, 0.0))]
            if p.group_of is not None:
                cap = p.max_per_group - np.bincount(p.group_of[p.forced],
                                                    minlength=int(p.group_of.max()) + 1)
                names, grp = np.unique(p.group_of[sites], return_inverse=True)
                mat = sp.csr_matrix((np.ones(n_s), (grp.ravel(), np.arange(n_s))),
                                    shape=(len(names), n_s + n_y))
                rows.append(LinearConstraint(mat, -np.inf, cap[names].astype(float)))
            with native_stdout_silenced():
                res = milp(-np.concatenate([np.zeros(n_s), wg]), constraints=rows,
                           integrality=np.concatenate([np.ones(n_s), np.zeros(n_y)]),
                           bounds=(0, 1), options={"disp": False})
            gain = 0.0 if res.x is None else -float(res.fun)
        forced_gain = float(sh.gain(base, p.w)[v])
        out[v] = min(1.0, (have[v] + forced_gain + gain) / max(float(sh.total[v]), 1e-12))
    return out


def _cover_rows(red: sp.csr_matrix) -> object:
    """y_i - sum_{j covers i} x_j <= 0 for every demand group i."""
    from scipy.optimize import LinearConstraint

    n_y = red.shape[1]
    mat = sp.hstack([-red.T.astype(float), sp.identity(n_y)], format="csr")
    return LinearConstraint(mat, -np.inf, 0.0)
