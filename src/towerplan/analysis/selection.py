"""Budgeted maximum coverage: choose sites that cover the most demand within a budget.

The core works on matrices only: ``coverage`` is a scipy.sparse matrix of shape
(n_sites, n_demand) whose row j flags the demand units site j covers.

Problem (DESIGN.md section 5)::

    maximise   sum_i w_i y_i
    subject to sum_j c_j x_j <= B
               y_i <= sum_{j covers i} x_j
               x_j in {0, 1},  0 <= y_i <= 1
               (demand already covered by existing towers is left out)

``method="milp"`` solves it exactly with HiGHS through :func:`scipy.optimize.milp` and reports
the optimality gap; ``method="greedy"`` is the classic marginal-gain-per-rupiah rule with the
best-single-site fallback (Khuller, Moss and Naor 1999); ``method="bruteforce"`` enumerates all
subsets and is meant for tiny cases and tests.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from towerplan.errors import InfeasibleSelectionError

__all__ = ["SelectionResult", "build_order", "select_sites"]

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
    groups : numpy.ndarray of int, shape (n_sites,), optional
        Group (e.g. kecamatan) of each site, for ``max_per_group``.
    max_per_group : int
        At most this many sites per group; 0 = no limit.
    time_limit_s : float, optional
        Solver time limit (MILP only).

    Returns
    -------
    SelectionResult

    Raises
    ------
    InfeasibleSelectionError
        When the forced sites alone exceed the budget or the constraints admit no solution.

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
    n_sites, n_dem = a.shape
    w = np.asarray(weights, dtype=float)
    c = np.asarray(costs, dtype=float)
    _check_inputs(a, w, c, budget, covered, must_include, must_exclude, groups)
    w_eff = w.copy()
    if covered is not None:
        w_eff[np.asarray(covered, dtype=bool)] = 0.0
    forced_in = sorted(set(int(j) for j in must_include))
    forced_out = set(int(j) for j in must_exclude)
    if c[forced_in].sum() > budget + 1e-6:
        msg = (f"must-include sites cost Rp {c[forced_in].sum():,.0f}, more than the budget "
               f"Rp {budget:,.0f}")
        raise InfeasibleSelectionError(msg)
    allowed = np.array([j not in forced_out and c[j] <= budget + 1e-6 for j in range(n_sites)],
                       dtype=bool)
    grp = None if groups is None or max_per_group <= 0 else np.asarray(groups)
    if method == "milp":
        sites, gap, bound, status = _solve_milp(a, w_eff, c, budget, allowed, forced_in, grp,
                                                max_per_group, time_limit_s)
        solver = "milp (HiGHS)"
    elif method == "greedy":
        sites = _greedy(a, w_eff, c, budget, allowed, forced_in, grp, max_per_group)
        gap, bound, status, solver = None, None, "heuristic", "greedy"
    elif method == "bruteforce":
        sites = _bruteforce(a, w_eff, c, budget, allowed, forced_in, grp, max_per_group)
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


def covered_weight(a: sp.csr_matrix, w: np.ndarray, sites: Sequence[int]) -> float:
    """Total weight of the demand units covered by *sites*."""
    if len(sites) == 0:
        return 0.0
    hit = np.asarray(a[list(sites)].sum(axis=0)).ravel() > 0
    return float(w[hit].sum())


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


def _check_inputs(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float,
                  covered: np.ndarray | None, must_include: Sequence[int],
                  must_exclude: Sequence[int], groups: np.ndarray | None) -> None:
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
    if problems:
        raise ValueError("; ".join(problems))


def _group_ok(chosen: Sequence[int], grp: np.ndarray | None, max_per_group: int) -> bool:
    if grp is None or not chosen:
        return True
    _, counts = np.unique(grp[list(chosen)], return_counts=True)
    return bool(counts.max() <= max_per_group)


def _greedy(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float, allowed: np.ndarray,
            forced: list[int], grp: np.ndarray | None, max_per_group: int) -> list[int]:
    """Marginal gain per rupiah, then compare with the best affordable single site."""
    chosen = list(forced)
    w_left = w.copy()
    for j in chosen:
        w_left[a[j].indices] = 0.0
    spent = float(c[chosen].sum())
    cand = [int(j) for j in np.flatnonzero(allowed) if j not in chosen]
    while True:
        best_j, best_ratio = -1, 0.0
        for j in cand:
            if spent + c[j] > budget + 1e-6 or not _group_ok([*chosen, j], grp, max_per_group):
                continue
            ratio = _gain(a, w_left, j) / c[j]
            if ratio > best_ratio:
                best_j, best_ratio = j, ratio
        if best_j < 0:
            break
        chosen.append(best_j)
        cand.remove(best_j)
        spent += c[best_j]
        w_left[a[best_j].indices] = 0.0
    single = [j for j in map(int, np.flatnonzero(allowed))
              if c[j] + c[forced].sum() <= budget + 1e-6 and j not in forced
              and _group_ok([*forced, j], grp, max_per_group)]
    if single:
        gains = [covered_weight(a, w, [*forced, j]) for j in single]
        k = int(np.argmax(gains))
        if gains[k] > covered_weight(a, w, chosen):
            return [*forced, single[k]]
    return chosen


def _bruteforce(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float,
                allowed: np.ndarray, forced: list[int], grp: np.ndarray | None,
                max_per_group: int) -> list[int]:
    free = [int(j) for j in np.flatnonzero(allowed) if j not in forced]
    if len(free) > _BRUTEFORCE_MAX_SITES:
        msg = (f"bruteforce selection handles at most {_BRUTEFORCE_MAX_SITES} free sites, "
               f"got {len(free)}; use method='milp'")
        raise ValueError(msg)
    best, best_val = list(forced), covered_weight(a, w, forced)
    base_cost = float(c[forced].sum())
    for r in range(1, len(free) + 1):
        for combo in itertools.combinations(free, r):
            chosen = [*forced, *combo]
            if base_cost + c[list(combo)].sum() > budget + 1e-6:
                continue
            if not _group_ok(chosen, grp, max_per_group):
                continue
            val = covered_weight(a, w, chosen)
            if val > best_val + 1e-12:
                best, best_val = chosen, val
    return best


def _aggregate_demand(a: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Drop zero-weight units and merge units covered by the same set of sites.

    Returns the reduced matrix (n_sites, n_groups) and the summed weight per group.
    """
    keep = np.flatnonzero(w > 0)
    sub = sp.csc_matrix(a[:, keep])
    sub.sort_indices()
    keys: dict[bytes, int] = {}
    group_of = np.empty(len(keep), dtype=np.int64)
    for k in range(len(keep)):
        rows = sub.indices[sub.indptr[k]:sub.indptr[k + 1]]
        key = rows.tobytes()
        group_of[k] = keys.setdefault(key, len(keys))
    n_groups = len(keys)
    w_group = np.bincount(group_of, weights=w[keep], minlength=n_groups)
    merge = sp.csr_matrix((np.ones(len(keep)), (np.arange(len(keep)), group_of)),
                          shape=(len(keep), n_groups))
    reduced = sp.csr_matrix((sub @ merge) > 0)
    nonempty = np.asarray(reduced.sum(axis=0)).ravel() > 0
    return sp.csr_matrix(reduced[:, nonempty]), w_group[nonempty]


def _solve_milp(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float,
                allowed: np.ndarray, forced: list[int], grp: np.ndarray | None,
                max_per_group: int, time_limit_s: float | None
                ) -> tuple[list[int], float | None, float | None, str]:
    from scipy.optimize import Bounds, milp

    n_sites = a.shape[0]
    red, wg = _aggregate_demand(a, w)
    n_y = red.shape[1]
    # Variables: x (n_sites, binary) then y (n_y, continuous in [0, 1]).
    objective = np.concatenate([np.zeros(n_sites), -wg])
    constraints = [_budget_row(c, n_y, budget), _cover_rows(red)]
    if grp is not None:
        constraints.append(_group_rows(grp, n_y, max_per_group))
    lower = np.zeros(n_sites + n_y)
    upper = np.ones(n_sites + n_y)
    upper[:n_sites][~allowed] = 0.0
    lower[forced] = 1.0
    integrality = np.concatenate([np.ones(n_sites), np.zeros(n_y)])
    options: dict[str, float | bool] = {"disp": False, "mip_rel_gap": 0.0}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    with _native_stdout_silenced():
        res = milp(objective, constraints=constraints, integrality=integrality,
                   bounds=Bounds(lower, upper), options=options)
    if res.x is None:
        msg = f"selection has no feasible solution: {res.message}"
        raise InfeasibleSelectionError(msg, status=str(res.status))
    sites = [int(j) for j in np.flatnonzero(res.x[:n_sites] > 0.5)]
    value = -float(res.fun)
    bound = -float(res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None \
        else value
    gap = float(res.mip_gap) if getattr(res, "mip_gap", None) is not None else 0.0
    return sites, max(gap, 0.0), max(bound, value), str(res.message)


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """Silence what the HiGHS library prints to the process's stdout despite ``disp=False``."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured or replaced stdout
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _budget_row(c: np.ndarray, n_y: int, budget: float) -> object:
    from scipy.optimize import LinearConstraint

    row = sp.csr_matrix(np.concatenate([c, np.zeros(n_y)])[None, :])
    return LinearConstraint(row, -np.inf, budget)


def _cover_rows(red: sp.csr_matrix) -> object:
    """y_i - sum_{j covers i} x_j <= 0 for every demand group i."""
    from scipy.optimize import LinearConstraint

    n_y = red.shape[1]
    mat = sp.hstack([-red.T.astype(float), sp.identity(n_y)], format="csr")
    return LinearConstraint(mat, -np.inf, 0.0)


def _group_rows(grp: np.ndarray, n_y: int, max_per_group: int) -> object:
    """sum_{j in g} x_j <= max_per_group for every group g."""
    from scipy.optimize import LinearConstraint

    labels, inv = np.unique(grp, return_inverse=True)
    n_sites = len(grp)
    mat = sp.csr_matrix((np.ones(n_sites), (inv, np.arange(n_sites))),
                        shape=(len(labels), n_sites + n_y))
    return LinearConstraint(mat, -np.inf, float(max_per_group))
