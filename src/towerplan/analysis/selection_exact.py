"""Exact budgeted maximum coverage: problem reductions, bounds and the HiGHS model.

:mod:`towerplan.analysis.selection` prepares one selection (forced sites, villages with a
minimum share) and hands the rest here as a :class:`Core`: the sites still free to choose and
the demand classes they can newly cover. Every step below keeps at least one optimal selection:

1. **Reductions** (:func:`reduce_core`): units with no weight or no covering site go; units with
   the same covering sites (and village) merge into one class; sites not allowed, covering
   nothing, or *dominated* (another allowed site of the same group covers a superset for no
   more money) go; classes are merged again. A class covered by one site only adds its weight
   to that site's objective coefficient instead of a variable and a row (:func:`_lp_parts`).
2. **Incumbent**: the cost-ratio greedy, the LP rounded down and the previous budget's optimum,
   each improved by add and swap moves (:func:`local_search`), then by taking one site out
   and refilling.
3. **Root bound** (:class:`Relaxation`): the LP relaxation with the row "at most as many sites
   as the budget buys", solved once by the interior point method and warm-started by dual
   simplex for further budgets. Any dual vector gives a Lagrangian bound ``L``; with reduced
   costs ``d`` a site whose bound with ``x_j = 1`` cannot beat the incumbent is fixed to 0,
   and one that cannot do without is fixed to 1 (reduced-cost fixing; Nemhauser and Wolsey
   1988, section II.5.1).
4. **Split by the number of sites** (:func:`_count_branches`): the LP optimum mixes two
   counts (say 11.7 sites: part cheap, part dear), so its bound lies above the bound of each
   whole count. Every selection has a whole number of sites k, so the problem splits into
   one subproblem per k with ``sum x_j = k``. The LP value is concave in k, so only the
   counts around the LP's own count whose bound beats the incumbent are kept; on the
   benchmark this removes most of the root gap (22.1 bn: 2.1 % -> 0.4 %) and all but one or
   two counts.
5. **Kernel**: per kept count, the LP support and the sites with the best bounds are solved
   as a small MILP for a better incumbent, which fixes more sites.
6. **Proof**: per kept count, from the best bound down, HiGHS solves the MILP over the sites
   left free, started from the incumbent, to a relative gap of 0.

A core with minimum shares (``need``) or villages to lift (``lift_need``, an objective term
worth ``lift_value`` per village whose gained weight reaches its need; binary ``lift_v`` with
``sum_{i in v} p_i y_i >= need_v lift_v``) is not *plain*: steps 2 to 5 assume that every
budget-feasible selection is feasible and that the objective is a sum over classes, so HiGHS
solves it over all its sites. Classes are then also kept apart by village, and carry the
village weight ``people`` beside the objective weight ``w`` when the two differ.

References
----------
Khuller, Moss and Naor (1999), The budgeted maximum coverage problem, IPL 70(1).
Nemhauser and Wolsey (1988), Integer and Combinatorial Optimization, Wiley.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

log = logging.getLogger(__name__)

__all__ = ["Core", "CoreSolution", "Relaxation", "local_search", "reduce_core", "solve_core"]

_COST_TOL = 1e-6  # rupiah; the budget check used everywhere in selection
_INF = float("inf")


@dataclass(frozen=True, slots=True)
class Core:
    """Reduced selection problem over the free sites.

    Attributes
    ----------
    sites : numpy.ndarray of int, shape (n,)
        Index of each core site in the caller's site list.
    a : scipy.sparse.csr_matrix of bool, shape (n, n_classes)
        Site j covers demand class i.
    w : numpy.ndarray, shape (n_classes,)
        Weight of each class (sum of its units' weights), > 0.
    village : numpy.ndarray of int, shape (n_classes,)
        Row of the class's village in ``need`` (-1 = no minimum share).
    c : numpy.ndarray, shape (n,)
        Cost per core site, rupiah.
    group : numpy.ndarray of int or None, shape (n,)
        Group row of each site in ``cap`` (None = no group limit).
    cap : numpy.ndarray of int or None
        Sites still allowed per group.
    need : numpy.ndarray or None
        Weight each village still needs covered (tolerance already taken off).
    people : numpy.ndarray or None, shape (n_classes,)
        Weight of each class in the village rows (``need``, ``lift_need``) when the
        objective weight ``w`` differs from it (None = ``w``).
    lift : numpy.ndarray of int or None, shape (n_classes,)
        Row of the class's village in ``lift_need`` (-1 = none).
    lift_need : numpy.ndarray or None
        Weight each village must gain to count as lifted (tolerance already taken off).
    lift_value : float
        Objective value of each lifted village.
    """

    sites: np.ndarray
    a: sp.csr_matrix
    w: np.ndarray
    village: np.ndarray
    c: np.ndarray
    group: np.ndarray | None = None
    cap: np.ndarray | None = None
    need: np.ndarray | None = None
    people: np.ndarray | None = None
    lift: np.ndarray | None = None
    lift_need: np.ndarray | None = None
    lift_value: float = 0.0

    @property
    def n_sites(self) -> int:
        return int(self.a.shape[0])

    @property
    def plain(self) -> bool:
        """No minimum shares and no lifted villages: only weights per class count."""
        return self.need is None and self.lift_need is None

    @property
    def village_w(self) -> np.ndarray:
        """Weight of each class in the village rows."""
        return self.w if self.people is None else self.people

    def hit(self, sites: Any) -> np.ndarray:
        """Classes covered by core sites *sites* (bool)."""
        hit = np.zeros(self.a.shape[1], dtype=bool)
        for j in sites:
            hit[self.a.indices[self.a.indptr[j]:self.a.indptr[j + 1]]] = True
        return hit

    def lifted(self, hit: np.ndarray) -> np.ndarray:
        """Villages of ``lift_need`` reached with the classes *hit* covered (bool)."""
        if self.lift_need is None or self.lift is None:
            return np.zeros(0, dtype=bool)
        sel = hit & (self.lift >= 0)
        gain = np.bincount(self.lift[sel], weights=self.village_w[sel],
                           minlength=len(self.lift_need))
        return np.asarray(gain >= self.lift_need)

    def value(self, sites: Any) -> float:
        """Objective of core sites *sites*: class weight covered plus the lifted villages."""
        hit = self.hit(sites)
        return float(self.w[hit].sum()) + self.lift_value * int(self.lifted(hit).sum())


@dataclass(frozen=True, slots=True)
class CoreSolution:
    """Best selection found (core indices), its value, the proven bound and the status."""

    sites: tuple[int, ...]
    value: float
    bound: float
    status: str


def reduce_core(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, allowed: np.ndarray,
                unit_village: np.ndarray | None = None, group: np.ndarray | None = None,
                cap: np.ndarray | None = None, need: np.ndarray | None = None, *,
                people: np.ndarray | None = None, unit_lift: np.ndarray | None = None,
                lift_need: np.ndarray | None = None, lift_value: float = 0.0) -> Core:
    """Exact reductions of a selection problem (module docstring, step 1).

    Parameters
    ----------
    a : scipy.sparse.csr_matrix of bool, shape (n_sites, n_units)
        Coverage.
    w : numpy.ndarray, shape (n_units,)
        Weight still to gain per unit (0 = already covered).
    c : numpy.ndarray, shape (n_sites,)
        Cost per site, rupiah.
    allowed : numpy.ndarray of bool, shape (n_sites,)
        Sites that may be chosen.
    unit_village, group, cap, need
        Village row of each unit (-1 = none), group row of each site, sites allowed per group
        and weight needed per village; see :class:`Core`.
    people, unit_lift, lift_need, lift_value : keyword-only
        Weight of each unit in the village rows when it differs from *w*, row of each unit's
        village in *lift_need* (-1 = none), weight each village needs to count as lifted and
        the objective value of a lifted village; see :class:`Core`.

    Returns
    -------
    Core
    """
    n = a.shape[1]
    village = np.full(n, -1, np.int64) if unit_village is None else unit_village
    lift = np.full(n, -1, np.int64) if unit_lift is None else unit_lift
    keep = np.flatnonzero(allowed)
    base = Core(keep, a, w, village, c, group, cap, need, people,
                lift if lift_need is not None else None, lift_need, lift_value)
    core = _regroup(base, keep, a[keep], c[keep], None if group is None else group[keep])
    used = np.diff(core.a.indptr) > 0
    core = replace(core, sites=core.sites[used], a=core.a[used], c=core.c[used],
                   group=None if core.group is None else core.group[used])
    drop = dominated_sites(core.a, core.c, core.group)
    if drop.any():
        core = core_subset(core, np.flatnonzero(~drop))
    return core


def _regroup(core: Core, sites: np.ndarray, a: sp.csr_matrix, c: np.ndarray,
             group: np.ndarray | None) -> Core:
    """*core* over *sites* with coverage *a* (columns = ``core``'s classes), classes merged
    again by village, lift village and covering sites; *c* and *group* per row of *a*."""
    n_lift = 0 if core.lift_need is None else len(core.lift_need)
    lift = core.lift
    label = (core.village + 1) * (n_lift + 1) + (0 if lift is None else lift + 1)
    weights = core.w if core.people is None else np.column_stack([core.w, core.people])
    cls, wc, lab = aggregate_demand(a, weights, label)
    village, lift_row = np.divmod(lab, n_lift + 1)
    return replace(core, sites=sites, a=cls, w=wc[:, 0] if wc.ndim == 2 else wc,
                   village=village - 1, c=np.asarray(c, dtype=float), group=group,
                   people=wc[:, 1] if wc.ndim == 2 else None,
                   lift=None if lift is None else lift_row - 1)


def core_subset(core: Core, rows: np.ndarray) -> Core:
    """The core restricted to sites *rows* (core indices), classes merged again."""
    return _regroup(core, core.sites[rows], core.a[rows], core.c[rows],
                    None if core.group is None else core.group[rows])


def dominated_sites(a: sp.csr_matrix, c: np.ndarray, group: np.ndarray | None = None
                    ) -> np.ndarray:
    """Sites another site makes redundant: it covers a superset, costs no more, same group.

    Among identical sites the cheapest, then the lowest index, stays. Dominance is a strict
    order, so every dropped site keeps a dominator that stays.
    """
    n = a.shape[0]
    j, k, same = subset_pairs(a)
    wins = (c[k] < c[j]) | ((c[k] == c[j]) & (~same | (k < j)))
    if group is not None:
        wins &= group[j] == group[k]
    drop = np.zeros(n, dtype=bool)
    drop[j[wins]] = True
    return drop


def subset_pairs(a: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of rows (j, k), j != k, with cover(j) a subset of cover(k).

    Returns j, k and whether the two covers are equal.
    """
    counts = sp.csr_matrix(a, dtype=np.int32)
    overlap = sp.coo_matrix(counts @ counts.T)
    size = np.diff(sp.csr_matrix(a).indptr)
    j, k = overlap.row, overlap.col  # |cover(j) & cover(k)| = overlap.data
    sub = (j != k) & (overlap.data == size[j])
    j, k = j[sub], k[sub]
    return j, k, size[j] == size[k]


def aggregate_demand(a: sp.csr_matrix, w: np.ndarray, label: np.ndarray | None = None
                     ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Drop zero-weight units and merge units with the same label and set of covering sites.

    Returns the reduced matrix (n_sites, n_groups), the summed weight per group and the label
    of each group (-1 when no labels are given). Units covered by no site are dropped. *w*
    may hold several weights per unit, shape (n_units, k): a unit is kept when any is above
    0, and each is summed (shape (n_groups, k)).
    """
    w2 = w if w.ndim == 2 else w[:, None]
    keep = np.flatnonzero((w2 > 0).any(axis=1))
    lab = np.full(len(keep), -1, np.int64) if label is None else np.asarray(label)[keep]
    sub = sp.csc_matrix(a[:, keep], dtype=bool)
    sub.sum_duplicates()
    sub.sort_indices()
    first, group_of = group_columns(sub, lab)
    sums = np.column_stack([np.bincount(group_of, weights=w2[keep, k], minlength=len(first))
                            for k in range(w2.shape[1])])
    nonempty = np.diff(sub.indptr)[first] > 0
    reduced = sp.csr_matrix(sub[:, first[nonempty]])
    reduced.sort_indices()
    w_group = sums[nonempty]
    return reduced, w_group if w.ndim == 2 else w_group[:, 0], lab[first[nonempty]]


def group_columns(sub: sp.csc_matrix, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First column of each (label, row set) class and the class of every column.

    Columns are keyed by two random 64-bit set hashes; the classes are then checked row by
    row and the exact (slow) grouping is used should a hash collision ever occur.
    """
    n_rows, n_cols = sub.shape
    if n_cols == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    rng = np.random.default_rng(20240917)
    nnz = np.diff(sub.indptr)
    keys = [lab.astype(np.int64), nnz.astype(np.int64)]
    for _ in range(2):
        r = rng.integers(0, np.iinfo(np.int64).max, n_rows, dtype=np.int64).view(np.uint64)
        cum = np.concatenate([np.zeros(1, np.uint64), np.cumsum(r[sub.indices], dtype=np.uint64)])
        keys.append((cum[sub.indptr[1:]] - cum[sub.indptr[:-1]]).view(np.int64))
    _, first, group_of = np.unique(np.column_stack(keys), axis=0, return_index=True,
                                   return_inverse=True)
    group_of = group_of.ravel()
    rep = first[group_of]
    col_of_nz = np.repeat(np.arange(n_cols), nnz)
    offset = np.arange(sub.nnz) - sub.indptr[col_of_nz]
    if np.array_equal(sub.indices, sub.indices[sub.indptr[rep][col_of_nz] + offset]):
        return first, group_of
    return group_columns_exact(sub, lab)


def group_columns_exact(sub: sp.csc_matrix, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference grouping of :func:`group_columns` by exact keys (slow)."""
    keys: dict[tuple[int, bytes], int] = {}
    first: list[int] = []
    group_of = np.empty(sub.shape[1], dtype=np.int64)
    for k in range(sub.shape[1]):
        key = (int(lab[k]), sub.indices[sub.indptr[k]:sub.indptr[k + 1]].tobytes())
        g = keys.setdefault(key, len(keys))
        if g == len(first):
            first.append(k)
        group_of[k] = g
    return np.array(first, dtype=np.int64), group_of


# --- incumbent -------------------------------------------------------------------------------

def greedy_core(core: Core, budget: float) -> list[int]:
    """Cost-ratio greedy on the core (group limits kept, minimum shares ignored)."""
    af = core.a.astype(np.float64)
    cnt = np.zeros(core.a.shape[1])
    return _fill(core, af, budget, [], cnt)


def _fill(core: Core, af: sp.csr_matrix, budget: float, sites: list[int],
          cnt: np.ndarray) -> list[int]:
    """Add sites by best newly covered weight per rupiah while the budget allows."""
    sites = list(sites)
    spent = float(core.c[sites].sum())
    while True:
        ok = _addable(core, sites, spent, budget)
        ratio = np.where(ok, (af @ np.where(cnt == 0, core.w, 0.0)) / core.c, 0.0)
        k = int(np.argmax(ratio))
        if ratio[k] <= 0.0:
            return sites
        sites.append(k)
        spent += float(core.c[k])
        cnt[core.a.indices[core.a.indptr[k]:core.a.indptr[k + 1]]] += 1


def _addable(core: Core, sites: list[int], spent: float, budget: float) -> np.ndarray:
    ok = spent + core.c <= budget + _COST_TOL
    ok[sites] = False
    if core.group is not None and core.cap is not None:
        used = np.bincount(core.group[sites], minlength=len(core.cap))
        ok &= used[core.group] < core.cap[core.group]
    return ok


def local_search(core: Core, budget: float, sites: Any, max_moves: int = 500) -> list[int]:
    """Improve a selection by the best add or one-for-one swap until none gains.

    Group limits are kept; minimum shares are not looked at (use on plain cores only when
    the result must meet them).
    """
    a, w, c = core.a, core.w, core.c
    af = a.astype(np.float64)
    at = sp.csr_matrix(af.T)
    sel = [int(j) for j in sites]
    cnt = np.zeros(a.shape[1])
    for j in sel:
        cnt[a.indices[a.indptr[j]:a.indptr[j + 1]]] += 1
    spent = float(c[sel].sum())
    for _ in range(max_moves):
        gain = af @ np.where(cnt == 0, w, 0.0)
        best, out, into = 1e-9 * max(1.0, float(w.sum())), -1, -1
        ok = _addable(core, sel, spent, budget)
        if ok.any():
            k = int(np.argmax(np.where(ok, gain, -1.0)))
            if ok[k] and gain[k] > best:
                best, into = float(gain[k]), k
        if sel:
            only = np.where(cnt == 1, w, 0.0)
            loss = af[sel] @ only
            kept = sp.csc_matrix(at[:, sel].multiply(only[:, None]))
            delta = gain[:, None] - loss[None, :] + (af @ kept).toarray()
            feas = spent - c[sel][None, :] + c[:, None] <= budget + _COST_TOL
            feas[sel, :] = False
            if core.group is not None and core.cap is not None:
                used = np.bincount(core.group[sel], minlength=len(core.cap))
                g = core.group
                feas &= ((g[:, None] == g[sel][None, :])
                         | (used[g] < core.cap[g])[:, None])
            delta = np.where(feas, delta, -np.inf)
            flat = int(np.argmax(delta))
            k_in, s_out = divmod(flat, len(sel))
            if delta[k_in, s_out] > best:
                best, out, into = float(delta[k_in, s_out]), s_out, k_in
        if into < 0:
            break
        if out >= 0:
            j = sel[out]
            cnt[a.indices[a.indptr[j]:a.indptr[j + 1]]] -= 1
            spent -= float(c[j])
            sel[out] = into
        else:
            sel.append(into)
        spent += float(c[into])
        cnt[a.indices[a.indptr[into]:a.indptr[into + 1]]] += 1
    return sel


# --- HiGHS model -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LpParts:
    """Column-wise matrix, objective (minimised) and row bounds of a model.

    The first ``n_x`` columns are the binaries (x), then the continuous coverage columns in
    [0, 1], then ``n_lift`` village-lift columns (binaries in a MILP).
    """

    matrix: sp.csc_matrix
    cost: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    n_x: int
    n_lift: int = 0


def _lp_parts(core: Core, budget: float) -> LpParts:
    """Minimise -(sum wx_j x_j + sum w_i y_i + lift_value sum lift_v); one function per
    constraint family."""
    n = core.n_sites
    degree = np.diff(sp.csc_matrix(core.a).indptr)
    multi = np.flatnonzero(degree > 1)
    single = sp.csc_matrix(core.a[:, degree == 1])
    wx = single @ core.w[degree == 1]  # classes only one site covers fold into x_j
    m = len(multi)
    blocks = [_budget_row(core.c, m), _count_row(n, m), _cover_rows(core.a[:, multi])]
    lower = [np.array([-_INF, -_INF]), np.full(m, -_INF)]
    upper = [np.array([budget, max_sites(core.c, budget)]), np.zeros(m)]
    if core.group is not None and core.cap is not None:
        blocks.append(_group_rows(core.group, len(core.cap), m))
        lower.append(np.full(len(core.cap), -_INF))
        upper.append(core.cap.astype(float))
    if core.need is not None:
        blocks.append(_village_rows(core, degree, multi, core.village, len(core.need)))
        lower.append(core.need.astype(float))
        upper.append(np.full(len(core.need), _INF))
    n_lift = 0 if core.lift_need is None or core.lift is None else len(core.lift_need)
    matrix = sp.vstack(blocks, format="csr")
    if n_lift:
        assert core.lift is not None and core.lift_need is not None
        matrix = sp.vstack([sp.hstack([matrix, sp.csr_matrix((matrix.shape[0], n_lift))]),
                            _lift_rows(core, degree, multi)], format="csr")
        lower.append(np.zeros(n_lift))
        upper.append(np.full(n_lift, _INF))
    cost = -np.concatenate([wx, core.w[multi], np.full(n_lift, core.lift_value)])
    return LpParts(sp.csc_matrix(matrix), cost, np.concatenate(lower), np.concatenate(upper),
                    n, n_lift)


def _budget_row(c: np.ndarray, n_y: int) -> sp.csr_matrix:
    """sum_j c_j x_j <= budget (rupiah, unscaled: the interior point method likes it)."""
    return sp.csr_matrix(np.concatenate([c, np.zeros(n_y)])[None, :])


def _count_row(n: int, n_y: int) -> sp.csr_matrix:
    """sum_j x_j <= k, k = most sites the budget buys (the cheapest ones).

    Implied for integer x but not for the LP relaxation, whose bound it tightens a lot when
    the budget buys few sites.
    """
    return sp.csr_matrix(np.concatenate([np.ones(n), np.zeros(n_y)])[None, :])


def max_sites(c: np.ndarray, budget: float) -> int:
    """Largest number of sites whose total cost fits in *budget*."""
    return int(np.searchsorted(np.cumsum(np.sort(c)), budget + _COST_TOL, side="right"))


def _cover_rows(a_multi: sp.csr_matrix) -> sp.csr_matrix:
    """y_i - sum_{j covers i} x_j <= 0 for every class covered by two or more sites."""
    n_y = a_multi.shape[1]
    return sp.hstack([-sp.csr_matrix(a_multi.T, dtype=float), sp.identity(n_y)], format="csr")


def _group_rows(group: np.ndarray, n_groups: int, n_y: int) -> sp.csr_matrix:
    """sum_{j in g} x_j <= cap_g for every group g."""
    n = len(group)
    return sp.csr_matrix((np.ones(n), (group, np.arange(n))), shape=(n_groups, n + n_y))


def _village_rows(core: Core, degree: np.ndarray, multi: np.ndarray, row: np.ndarray,
                  k: int) -> sp.csr_matrix:
    """sum_{i in v} p_i y_i + sum_j px_vj x_j for every village row v (p = village weight).

    *row* gives each class's village row (-1 = none); classes only one site covers count
    through that site's x_j.
    """
    n, p = core.n_sites, core.village_w
    y_sel = np.flatnonzero(row[multi] >= 0)
    y_part = sp.csr_matrix((p[multi][y_sel], (row[multi][y_sel], y_sel)), shape=(k, len(multi)))
    one = np.flatnonzero((degree == 1) & (row >= 0))
    a_one = sp.csc_matrix(core.a[:, one], dtype=float)
    owner = a_one.indices  # one site per class
    x_part = sp.csr_matrix((p[one], (row[one], owner)), shape=(k, n))
    return sp.hstack([x_part, y_part], format="csr")


def _lift_rows(core: Core, degree: np.ndarray, multi: np.ndarray) -> sp.csr_matrix:
    """sum_{i in v} p_i y_i + sum_j px_vj x_j - need_v lift_v >= 0 for every lift village v:
    a village counts as lifted only when its weight gained reaches its need."""
    assert core.lift is not None and core.lift_need is not None
    k = len(core.lift_need)
    return sp.hstack([_village_rows(core, degree, multi, core.lift, k),
                      sp.diags(-core.lift_need.astype(float))], format="csr")


def highs_model(parts: LpParts, col_upper_x: np.ndarray, integer: bool,
                options: dict[str, Any]) -> Any:
    """A silent ``highspy.Highs`` holding *parts*; x columns bounded by *col_upper_x*.

    *integer* makes the x columns integer (a MILP); *options* are HiGHS option values.
    """
    import highspy

    with native_stdout_silenced():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for name, val in options.items():
        h.setOptionValue(name, val)  # unknown options (older HiGHS) are ignored
    lp = highspy.HighsLp()
    n_col = parts.matrix.shape[1]
    lp.num_col_, lp.num_row_ = n_col, parts.matrix.shape[0]
    lp.col_cost_ = parts.cost
    lp.col_lower_ = np.zeros(n_col)
    lp.col_upper_ = np.concatenate([col_upper_x, np.ones(n_col - parts.n_x)])
    lp.row_lower_ = np.where(np.isfinite(parts.row_lower), parts.row_lower, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(parts.row_upper), parts.row_upper, highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = parts.matrix.indptr
    lp.a_matrix_.index_ = parts.matrix.indices
    lp.a_matrix_.value_ = parts.matrix.data
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n_col, parts.matrix.shape[0]
    if integer:
        lp.integrality_ = ([highspy.HighsVarType.kInteger] * parts.n_x
                           + [highspy.HighsVarType.kContinuous]
                           * (n_col - parts.n_x - parts.n_lift)
                           + [highspy.HighsVarType.kInteger] * parts.n_lift)
    h.passModel(lp)
    return h


def run_highs(h: Any) -> None:
    """Run a HiGHS model with the library's own printing silenced."""
    with native_stdout_silenced():
        h.run()


class Relaxation:
    """LP relaxation of a core, re-solved with a warm start for each budget.

    The budget enters only as the budget row's bound and as upper bound 0 on the sites that
    cost more, so the basis of one budget is a dual feasible start for the next.
    """

    def __init__(self, core: Core) -> None:
        self.core = core
        self.parts = _lp_parts(core, 0.0)
        self._h: Any = None
        self.seconds = 0.0
        self.x = np.zeros(core.n_sites)

    def bounds(self, budget: float, count: tuple[int, int] | None = None
               ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Lagrangian bound of the maximisation at *budget* and the bounds with x_j fixed.

        *count* = (lo, hi) limits the number of sites chosen (default: at most as many as the
        budget buys).

        Returns
        -------
        (bound, bound_with_1, bound_with_0) or None
            Upper bounds on the weight covered by any selection, by any selection containing
            site j, and by any selection without site j; None when the LP has no solution.
        """
        import highspy

        t0 = time.perf_counter()
        core = self.core
        up_x = (core.c <= budget + _COST_TOL).astype(float)
        if self._h is None:
            self._h = highs_model(self.parts, up_x, False, {"solver": "ipm"})
        else:
            self._h.changeColsBounds(core.n_sites, np.arange(core.n_sites, dtype=np.int32),
                                     np.zeros(core.n_sites), up_x)
            self._h.setOptionValue("solver", "simplex")
        lo, hi = (0, max_sites(core.c, budget)) if count is None else count
        self._h.changeRowBounds(0, -highspy.kHighsInf, float(budget))
        self._h.changeRowBounds(1, float(lo), float(hi))
        run_highs(self._h)
        self.seconds += time.perf_counter() - t0
        if self._h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = self._h.getSolution()
        self.x = np.asarray(solution.col_value[:core.n_sites], dtype=float)
        row_dual = np.asarray(solution.row_dual, dtype=float)
        lower = self.parts.row_lower.copy()
        upper = self.parts.row_upper.copy()
        upper[:2] = budget, hi
        lower[1] = lo
        return lagrangian_bounds(self.parts.matrix, self.parts.cost, up_x, lower, upper,
                                 row_dual)


def lagrangian_bounds(matrix: sp.csc_matrix, cost: np.ndarray, up_x: np.ndarray,
                      row_lower: np.ndarray, row_upper: np.ndarray, row_dual: np.ndarray
                      ) -> tuple[float, np.ndarray, np.ndarray]:
    """Bounds from any row multipliers of min cost.x, row_lower <= A x <= row_upper, 0<=x<=u.

    Multipliers of the wrong sign for a one-sided row are set to 0, so the bound holds
    whatever the accuracy of *row_dual*. The x columns come first (``len(up_x)`` of them);
    all other columns lie in [0, 1]. Returned as upper bounds of the maximisation (negated).
    """
    pi = np.where(np.isfinite(row_upper), row_dual, np.maximum(row_dual, 0.0))
    pi = np.where(np.isfinite(row_lower), pi, np.minimum(pi, 0.0))
    n_x = len(up_x)
    upper = np.concatenate([up_x, np.ones(matrix.shape[1] - n_x)])
    d = cost - matrix.T @ pi
    contrib = np.minimum(d * upper, 0.0)
    rows = np.where(pi > 0, pi * np.where(np.isfinite(row_lower), row_lower, 0.0),
                    pi * np.where(np.isfinite(row_upper), row_upper, 0.0))
    low = float(contrib.sum() + rows.sum())
    with_1 = low - contrib[:n_x] + d[:n_x]
    with_0 = low - contrib[:n_x]
    return -low, -with_1, -with_0


def solve_core(core: Core, budget: float, relax: Relaxation | None, starts: list[list[int]],
               time_limit_s: float | None = None) -> CoreSolution | None:
    """Best selection of the core within *budget* (module docstring, steps 2 to 6).

    On plain cores (no minimum shares) the greedy selection and *starts* (selections in core
    indices, e.g. the optimum of a smaller budget) are improved by :func:`local_search` and
    the best becomes the incumbent; the bounds of *relax* then fix sites before HiGHS proves
    optimality. Returns None when no selection meets the minimum shares; a solution with value
    ``-inf`` when HiGHS stopped (time limit) before it found one.
    """
    t0 = time.perf_counter()
    if core.n_sites == 0:
        return _mip(core, np.zeros(0, np.int64), budget, None, None)
    if not core.plain or relax is None:
        return _mip(core, np.arange(core.n_sites), budget, None, _left(time_limit_s, t0))
    b = relax.bounds(budget)
    if b is None:  # cannot happen without shares; prove on the whole core
        return _mip(core, np.arange(core.n_sites), budget, None, _left(time_limit_s, t0))
    bound = b[0]
    incumbent: list[int] = []
    value = 0.0
    for start in [*starts, greedy_core(core, budget), _rounded(core, budget, relax.x)]:
        if float(core.c[start].sum()) > budget + _COST_TOL:
            continue
        cand = local_search(core, budget, start)
        if core.value(cand) > value:
            incumbent, value = cand, core.value(cand)
    if _tight(bound, value):
        incumbent, value = _drop_and_refill(core, budget, incumbent, value)
    if bound <= value + _tol(value):
        return CoreSolution(tuple(sorted(incumbent)), value, value, "Optimal (root bound)")
    log.debug("root bound %.6g, incumbent %.6g, %.2f s", bound, value, time.perf_counter() - t0)
    branches = _count_branches(core, budget, relax, value)
    if not branches:
        return CoreSolution(tuple(sorted(incumbent)), value, value, "Optimal (count bounds)")
    proven = value
    stopped = False
    branches.sort(key=lambda b: -b[1])
    log.debug("counts %s, %.2f s", [b[0] for b in branches], time.perf_counter() - t0)
    for k, bound_k, with_1, _, x in branches:
        if bound_k > value + _tol(value):
            incumbent, value = _kernel(core, budget, k, incumbent, value, with_1, x,
                                       _left(time_limit_s, t0))
    for k, bound_k, with_1, with_0, _ in branches:
        if bound_k <= value + _tol(value):
            continue
        given = incumbent if len(incumbent) == k else None
        rows = np.flatnonzero(with_1 > value + _tol(value))
        if given is not None:
            rows = np.union1d(rows, given).astype(np.int64)
        must = np.intersect1d(np.flatnonzero(with_0 <= value - _tol(value)), rows)
        log.debug("%d sites: bound %.6g, proof over %d sites (%d fixed to 1), incumbent %.6g,"
                  " %.2f s", k, bound_k, len(rows), len(must), value, time.perf_counter() - t0)
        sol = _mip(core, rows, budget, given, _left(time_limit_s, t0), must, count=k)
        if sol is not None and sol.value > value:
            incumbent, value = list(sol.sites), sol.value
        if sol is not None and sol.status.lower() != "optimal":
            stopped = True
            proven = max(proven, min(sol.bound, bound_k))
    log.debug("proof done: %.6g, %.2f s", value, time.perf_counter() - t0)
    if stopped:
        return CoreSolution(tuple(sorted(incumbent)), value, min(max(proven, value), bound),
                            "Time limit reached")
    return CoreSolution(tuple(sorted(incumbent)), value, value, "Optimal")


def _count_branches(core: Core, budget: float, relax: Relaxation, value: float
                    ) -> list[tuple[int, float, np.ndarray, np.ndarray, np.ndarray]]:
    """Selections split by their number of sites k, each with its LP bound (cardinality split).

    The LP with "at most K sites" mixes a cheaper and a dearer number of sites, so its bound
    lies above the bound of every whole number k; fixing sum x_j = k removes that slack.
    The LP value v(k) is concave in k (a right-hand side parameter) and largest at the LP
    optimum's count s = sum x_j, so counts are tried from s upwards and from s downwards,
    each direction stopping at the first k whose bound cannot beat *value*. *relax* must
    hold the solution of the budget's LP without a count (``relax.x``). Returns (k, bound,
    bound_with_1, bound_with_0, LP solution x) for each count whose bound beats *value*.
    """
    top = max_sites(core.c, budget)
    s = float(relax.x.sum())
    first = min(top, max(1, int(np.ceil(s - 1e-6))))
    out = []
    for counts in (range(first, top + 1), range(first - 1, 0, -1)):
        for k in counts:
            eq = relax.bounds(budget, (k, k))
            if eq is None or eq[0] <= value + _tol(value):
                break
            out.append((k, *eq, relax.x.copy()))
    return out


def _drop_and_refill(core: Core, budget: float, sites: list[int], value: float,
                     passes: int = 2) -> tuple[list[int], float]:
    """Take one site out, refill by the ratio rule, then swap; keep the best (1-k moves)."""
    af = core.a.astype(np.float64)
    for _ in range(passes):
        better = False
        for out in list(sites):
            rest = [j for j in sites if j != out]
            cnt = np.zeros(core.a.shape[1])
            for j in rest:
                cnt[core.a.indices[core.a.indptr[j]:core.a.indptr[j + 1]]] += 1
            cand = local_search(core, budget, _fill(core, af, budget, rest, cnt))
            if core.value(cand) > value + _tol(value):
                sites, value, better = cand, core.value(cand), True
                break
        if not better:
            break
    return sites, value


def _rounded(core: Core, budget: float, x: np.ndarray) -> list[int]:
    """Sites by decreasing LP value while the budget (and group limits) allow."""
    sites: list[int] = []
    spent = 0.0
    for j in np.argsort(-x, kind="stable"):
        if x[j] <= 1e-6:
            break
        if _addable(core, sites, spent, budget)[j]:
            sites.append(int(j))
            spent += float(core.c[j])
    return sites


def _tight(bound: float, value: float) -> bool:
    return bound > value * (1 + 1e-3)


def _tol(value: float) -> float:
    return 1e-9 * max(1.0, abs(value))


def _left(limit_s: float | None, t0: float) -> float | None:
    return None if limit_s is None else max(0.1, limit_s - (time.perf_counter() - t0))


def _kernel(core: Core, budget: float, k: int, incumbent: list[int], value: float,
            with_1: np.ndarray, x: np.ndarray, limit_s: float | None
            ) -> tuple[list[int], float]:
    """Best selection of *k* sites among a kernel of promising sites (a better incumbent).

    The kernel is the LP's support, the incumbent and the sites with the best bounds
    *with_1*, solved as a small MILP with a short time limit and polished by local search.
    """
    free = np.flatnonzero(with_1 > value + _tol(value))
    size = max(2 * k + 10, int(np.count_nonzero(x > 1e-6)))
    best = free[np.argsort(-with_1[free], kind="stable")[:size]]
    rows = np.union1d(np.union1d(best, np.flatnonzero(x > 1e-6)), incumbent).astype(np.int64)
    if len(rows) >= len(free) + len(incumbent):
        return incumbent, value
    limit = 1.0 + 0.02 * len(rows)
    sol = _mip(core, rows, budget, incumbent if len(incumbent) == k else None,
               limit if limit_s is None else min(limit_s / 3, limit), count=k)
    if sol is not None and sol.value > value:
        cand = local_search(core, budget, list(sol.sites))
        if core.value(cand) > sol.value:
            return cand, core.value(cand)
        return list(sol.sites), sol.value
    return incumbent, value


def _mip(core: Core, rows: np.ndarray, budget: float, incumbent: list[int] | None,
         limit_s: float | None, must: np.ndarray | None = None, count: int | None = None
         ) -> CoreSolution | None:
    """HiGHS MILP over core sites *rows* (others fixed to 0), started from *incumbent*.

    *count*, when given, is the exact number of sites to choose.
    """
    import highspy

    if len(rows) == 0:
        if core.need is not None and np.any(core.need > 0):
            return None
        return CoreSolution((), 0.0, 0.0, "optimal")
    sub = core_subset(core, rows)
    parts = _lp_parts(sub, budget)
    up_x = (sub.c <= budget + _COST_TOL).astype(float)
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": "off", "mip_allow_restart": False,
                               "mip_lp_solver": "ipm", "mip_heuristic_effort": 0.05}
    if limit_s is not None:
        options["time_limit"] = float(limit_s)
    h = highs_model(parts, up_x, True, options)
    if count is not None:
        h.changeRowBounds(1, float(count), float(count))
    if must is not None and len(must):
        pos = np.searchsorted(rows, must)
        h.changeColsBounds(len(pos), pos.astype(np.int32), np.ones(len(pos)), np.ones(len(pos)))
    if incumbent is not None:
        _set_start(h, sub, parts, np.searchsorted(rows, incumbent))
    run_highs(h)
    info = h.getInfo()
    status = h.getModelStatus()
    sol = h.getSolution()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if not sol.value_valid:
        return CoreSolution((), -_INF, _INF, h.modelStatusToString(status))
    x = np.asarray(sol.col_value[:sub.n_sites]) > 0.5
    chosen = rows[np.flatnonzero(x)]
    value = core.value(chosen)
    bound = -float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else _INF
    return CoreSolution(tuple(int(j) for j in chosen), value, max(bound, value),
                        h.modelStatusToString(status))


def _set_start(h: Any, sub: Core, parts: LpParts, chosen: np.ndarray) -> None:
    import highspy

    x = np.zeros(sub.n_sites)
    x[chosen] = 1.0
    degree = np.diff(sp.csc_matrix(sub.a).indptr)
    hit = (sp.csr_matrix(sub.a.T, dtype=float) @ x) > 0
    lifted = sub.lifted(hit)[:parts.n_lift].astype(float)
    start = highspy.HighsSolution()
    start.col_value = list(np.concatenate([x, hit[degree > 1].astype(float), lifted]))
    start.value_valid = True
    h.setSolution(start)


#: Threads inside :func:`native_stdout_silenced`, and the stdout kept meanwhile.
_SILENCED: dict[str, int] = {"depth": 0, "fd": -1, "saved": -1}
_SILENCED_LOCK = threading.Lock()


@contextlib.contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """Silence what the HiGHS library prints to the process's stdout (banner, messages).

    Safe when threads solve at once (the plan solves the backhaul comparison beside the
    coverage after): the first thread in points stdout at the null device, the last one out
    puts it back, so none restores another's null device as "the" stdout.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # captured or replaced stdout
        yield
        return
    with _SILENCED_LOCK:
        if _SILENCED["depth"] == 0:
            sys.stdout.flush()
            _SILENCED.update(fd=fd, saved=os.dup(fd))
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), fd)
        _SILENCED["depth"] += 1
    try:
        yield
    finally:
        with _SILENCED_LOCK:
            _SILENCED["depth"] -= 1
            if _SILENCED["depth"] == 0:
                os.dup2(_SILENCED["saved"], _SILENCED["fd"])
                os.close(_SILENCED["saved"])
