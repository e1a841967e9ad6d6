"""Selection by region under one budget: a province planned kabupaten by kabupaten.

A provincial plan can be too large for one exact selection. The decomposition here solves
each region (kabupaten) on its own and then shares one budget between them:

1. **Regions.** Region *r*'s problem has the candidates of *r* and the demand units of *r*
   only: a candidate's coverage of units across the border counts in its own region's
   problem for nothing (it still counts in the result, step 4).
2. **Value curves.** For each region, the exact selection
   (:class:`~towerplan.analysis.selection.SelectionModel`, prepared once, warm-started from
   budget to budget) at every budget of a lattice ``0, step, 2 step, ... <= budget``: the
   best value ``V_r(b)`` and its sites. A curve stops early once it reaches the region's
   whole reachable demand.
3. **Sharing the budget.** A multiple-choice knapsack over the regions (dynamic programming,
   exact on the lattice) picks one lattice budget per region with the largest total value
   whose lattice budgets add up to at most the provincial budget. The sites spent cost at
   most their lattice budget, so the plan is within the budget. Then the budget left
   unspent (the lattice rounds every region down) is offered to each region in turn: its
   exact selection at what it spent plus all that is left, kept when it is worth more.
4. **Result.** The union of the regions' sites, valued on the whole problem (cross-border
   coverage included, each unit counted once).

What it gives up against one exact selection over the province (the *gap*, measured by
:func:`decomposition_gap` against the monolithic optimum where both can be solved):

- coverage across region borders: a candidate whose value lies in the next region is not
  chosen for it, and two regions may cover the same border units twice;
- the lattice: the budgets are shared in multiples of ``step``, so a region whose best plan
  costs just over a lattice point gets the plan of the point below, and only the budget
  left over after the sharing goes back to the regions (step 3). With every cost a multiple
  of ``step`` (e.g. one tower price) nothing is lost to the lattice.

Without cross-border coverage and with costs on the lattice, the decomposition is exact:
its value equals the monolithic optimum (tested).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.selection import SelectionModel, select_sites

__all__ = ["DecompositionGap", "RegionalSelection", "decomposition_gap", "kabupaten_of",
           "select_by_region"]

#: Largest number of lattice budgets per region.
MAX_LATTICE_POINTS = 200


@dataclass(frozen=True, slots=True)
class RegionalSelection:
    """A selection made region by region under one budget.

    Attributes
    ----------
    sites : tuple of int
        Chosen site indices (of the whole problem), sorted.
    objective : float
        Demand weight newly covered by the sites, on the whole problem (each unit once).
    cost : float
        Cost of the sites, rupiah.
    budget_by_region : dict
        Region -> what its sites cost, rupiah (the allocation of step 3).
    value_by_region : dict
        Region -> the value of its sites within its own units.
    step_idr : float
        Lattice step, rupiah.
    solves : int
        Exact selections solved (every region's lattice budgets).
    runtime_s : float
        Wall time, s.
    """

    sites: tuple[int, ...]
    objective: float
    cost: float
    budget_by_region: dict[Any, float]
    value_by_region: dict[Any, float]
    step_idr: float
    solves: int
    runtime_s: float


@dataclass(frozen=True, slots=True)
class DecompositionGap:
    """The decomposition against one exact selection over the whole problem.

    Attributes
    ----------
    regional, monolithic : float
        Objective of each (demand weight newly covered).
    gap : float
        ``(monolithic - regional) / monolithic`` (0 when the monolithic objective is 0).
    regional_s, monolithic_s : float
        Wall time of each, s.
    monolithic_gap : float or None
        The monolithic solver's own optimality gap (0: proven optimal).
    """

    regional: float
    monolithic: float
    gap: float
    regional_s: float
    monolithic_s: float
    monolithic_gap: float | None


_KABUPATEN = re.compile(r"^\s*(\d{2})\.(\d{2})(?:\.|$)")


def kabupaten_of(codes: Any) -> np.ndarray:
    """Kabupaten/kota of Kemendagri village codes (``"64.01.01.2001"`` -> ``"64.01"``); ``""``
    for a code that does not start with a province and a kabupaten number.

    Examples
    --------
    >>> kabupaten_of(["64.01.01.2001", "64.02", "V-17", None]).tolist()
    ['64.01', '64.02', '', '']
    """
    out = []
    for code in codes:
        m = _KABUPATEN.match("" if code is None else str(code))
        out.append(f"{m.group(1)}.{m.group(2)}" if m else "")
    return np.array(out, dtype=object)


def _default_step(costs: np.ndarray, budget: float) -> float:
    """Half the cheapest site's cost (a tower price and its multiples fall on the lattice),
    but at least ``budget / MAX_LATTICE_POINTS``."""
    cheapest = float(costs.min()) if costs.size else budget
    return max(cheapest / 2.0, budget / MAX_LATTICE_POINTS)


def _curve(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, done: np.ndarray,
           points: np.ndarray, time_limit_s: float | None
           ) -> tuple[list[float], list[tuple[int, ...]], int, SelectionModel | None]:
    """A region's best value and sites at each lattice budget *points* (increasing), the
    number of solves and the region's model (None when it can reach nothing)."""
    values: list[float] = []
    chosen: list[tuple[int, ...]] = []
    reach = float(np.where(done, 0.0, w)[np.asarray(a.sum(axis=0)).ravel() > 0].sum())
    model = SelectionModel(a, w, c, done) if reach > 0 else None
    solves = 0
    for b in points:
        if model is None or (values and values[-1] >= reach - 1e-9 * max(reach, 1.0)):
            values.append(values[-1] if values else 0.0)
            chosen.append(chosen[-1] if chosen else ())
            continue
        res = model.solve(float(b), time_limit_s=time_limit_s)
        solves += 1
        values.append(float(res.objective))
        chosen.append(tuple(int(j) for j in res.sites))
    return values, chosen, solves, model


def _share(curves: list[list[float]], n_points: int) -> list[int]:
    """Multiple-choice knapsack: one lattice index per curve, indices adding up to at most
    ``n_points - 1``, the largest sum of values (ties: the smaller budget)."""
    best = np.zeros(n_points)  # best[k]: largest value of the regions so far within k steps
    picks: list[np.ndarray] = []
    for curve in curves:
        v = np.asarray(curve)
        new = np.full(n_points, -np.inf)
        pick = np.zeros(n_points, dtype=np.int64)
        for k in range(n_points):
            options = best[k - np.arange(k + 1)] + v[:k + 1]
            j = int(np.argmax(options))
            new[k], pick[k] = options[j], j
        best = new
        picks.append(pick)
    out = [0] * len(curves)
    k = n_points - 1
    for r in range(len(curves) - 1, -1, -1):
        out[r] = int(picks[r][k])
        k -= out[r]
    return out


def select_by_region(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                     budget: float, site_region: np.ndarray, unit_region: np.ndarray,
                     covered: np.ndarray | None = None, *, step_idr: float | None = None,
                     time_limit_s: float | None = None) -> RegionalSelection:
    """Sites chosen region by region under one *budget* (see the module documentation).

    Parameters
    ----------
    coverage : scipy.sparse matrix, shape (n_sites, n_units)
        Nonzero where a site covers a unit.
    weights : numpy.ndarray, shape (n_units,)
        Demand weight per unit, >= 0.
    costs : numpy.ndarray, shape (n_sites,)
        Cost per site, rupiah, > 0.
    budget : float
        The one budget, rupiah.
    site_region, unit_region : numpy.ndarray
        Region label of each site and of each unit (any hashable values; a unit whose label
        no site has is valued only in the result).
    covered : numpy.ndarray of bool, optional
        Units already served.
    step_idr : float, optional, keyword-only
        Lattice step of the regions' budgets, rupiah (default: half the cheapest site's
        cost, at least ``budget / 200``).
    time_limit_s : float, optional, keyword-only
        Time limit of each exact selection, s.

    Examples
    --------
    Two regions that do not cover each other's units: the decomposition is exact.

    >>> a = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]))
    >>> res = select_by_region(a, np.array([5., 1, 2, 4]), np.ones(4), 2,
    ...                        np.array(["A", "A", "B", "B"]), np.array(["A", "A", "B", "B"]))
    >>> res.sites, res.objective, res.budget_by_region
    ((0, 3), 12.0, {'A': 1.0, 'B': 1.0})
    """
    t0 = time.perf_counter()
    a = sp.csr_matrix(coverage, dtype=bool)
    w = np.asarray(weights, dtype=float)
    c = np.asarray(costs, dtype=float)
    done = np.zeros(a.shape[1], bool) if covered is None else np.asarray(covered, bool)
    site_region = np.asarray(site_region)
    unit_region = np.asarray(unit_region)
    if site_region.shape != (a.shape[0],) or unit_region.shape != (a.shape[1],):
        msg = (f"site_region has shape {site_region.shape} and unit_region "
               f"{unit_region.shape}; the coverage matrix is {a.shape}")
        raise ValueError(msg)
    if not (math.isfinite(budget) and budget >= 0):
        msg = f"budget must be a finite amount >= 0, got {budget}"
        raise ValueError(msg)
    step = float(step_idr) if step_idr is not None else _default_step(c, float(budget))
    if not step > 0:
        msg = f"step_idr must be > 0, got {step}"
        raise ValueError(msg)
    n_points = min(int(math.floor(budget / step + 1e-9)) + 1, MAX_LATTICE_POINTS + 1)
    points = step * np.arange(n_points)
    regions = list(dict.fromkeys(site_region.tolist()))
    curves, sets, models, site_rows, solves = [], [], [], [], 0
    for region in regions:
        rows = np.flatnonzero(site_region == region)
        cols = np.flatnonzero(unit_region == region)
        sub = a[rows][:, cols]
        values, chosen, n, model = _curve(sp.csr_matrix(sub), w[cols], c[rows], done[cols],
                                          points, time_limit_s)
        curves.append(values)
        sets.append(chosen)
        models.append(model)
        site_rows.append(rows)
        solves += n
    picks = _share(curves, n_points)
    # step 3b: the budget the lattice left unspent goes, region by region, to whichever
    # region's exact selection gains from it
    local = [sets[r][k] for r, k in enumerate(picks)]
    value = [curves[r][k] for r, k in enumerate(picks)]
    spent = [float(c[site_rows[r][list(local[r])]].sum()) for r in range(len(regions))]
    for r, model in enumerate(models):
        left = float(budget) - sum(spent)
        if model is None or left <= 1e-6:
            continue
        res = model.solve(spent[r] + left, time_limit_s=time_limit_s)
        solves += 1
        if res.objective > value[r] + 1e-9 * max(abs(value[r]), 1.0):
            local[r] = tuple(int(j) for j in res.sites)
            value[r], spent[r] = float(res.objective), float(res.cost)
    sites = tuple(sorted(int(site_rows[r][j]) for r in range(len(regions)) for j in local[r]))
    hit = np.asarray(a[list(sites)].sum(axis=0)).ravel() > 0 if sites else np.zeros(
        a.shape[1], bool)
    objective = float(w[hit & ~done].sum())
    return RegionalSelection(
        sites, objective, float(c[list(sites)].sum()),
        {reg: spent[r] for r, reg in enumerate(regions)},
        {reg: value[r] for r, reg in enumerate(regions)},
        step, solves, time.perf_counter() - t0)


def decomposition_gap(coverage: sp.spmatrix, weights: np.ndarray, costs: np.ndarray,
                      budget: float, site_region: np.ndarray, unit_region: np.ndarray,
                      covered: np.ndarray | None = None, *, step_idr: float | None = None,
                      time_limit_s: float | None = None) -> DecompositionGap:
    """:func:`select_by_region` against one exact selection over the whole problem."""
    regional = select_by_region(coverage, weights, costs, budget, site_region, unit_region,
                                covered, step_idr=step_idr, time_limit_s=time_limit_s)
    t0 = time.perf_counter()
    mono = select_sites(coverage, weights, costs, budget, covered, "milp",
                        time_limit_s=time_limit_s)
    mono_s = time.perf_counter() - t0
    gap = ((mono.objective - regional.objective) / mono.objective if mono.objective > 0
           else 0.0)
    return DecompositionGap(regional.objective, float(mono.objective), float(gap),
                            regional.runtime_s, mono_s, mono.gap)
