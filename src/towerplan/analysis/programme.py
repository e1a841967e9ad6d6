"""Multi-year programme: which tower option to build in which year under yearly budgets.

A programme builds at most one option (a tower type) per candidate site over a horizon of
``Y`` years. Option ``k`` built in year ``b`` covers its demand units from year ``b`` on,
pays its capex ``pay[k, c]`` to each channel ``c`` (APBD, an operator, ...) in year ``b`` and
its opex ``opex[k, c]`` in every year from ``b`` on. Each channel has a budget per year;
with ``carry_over`` money a channel leaves unspent moves to the next year. The value of a
programme is the discounted people-years served: ``sum_y discount[y] * people_served[y]``.

The exact kernel (:func:`optimise_programme`) is a MILP solved by HiGHS
(``docs/programme.md`` gives the maths). In the binaries ``x_kb`` (build ``k`` in year
``b``) it reads::

    max   sum_y D_y sum_i w_i z_iy
    s.t.  sum_{k at s, b} x_kb                <= 1           every site s
          sum_{k, b} coef_kb(t, c) x_kb       <= L_tc        every year t, channel c
          z_iy - sum_{k covers i, b <= y} x_kb <= 0          every class i, year y < t_i
          x binary, 0 <= z <= 1

where ``coef_kb(t, c)`` is what building ``k`` in ``b`` spends in year ``t`` (summed over
the years up to ``t`` with carry-over, where ``L`` is the cumulative budget). The model is
built in ``X_kt = sum_{b <= t} x_kb`` ("built by year t"), where a cover row needs one
entry per covering option instead of one per option and year, plus count rows that tighten
the LP relaxation. Exact reductions come first: units of no weight, served in every year or
coverable by no option go; units with the same covering options and the same first year
served merge into a class; options dominated by another (a superset of coverage for no more
capex or opex in any channel, at the same site, or by every option of another site) go; a
class whose covering options all sit at one site needs no ``z`` (at most one of them is
built, so its value is linear in ``x``). The greedy plan (:func:`greedy_programme`),
improved by dropping one build and refilling, is the start; a branch and bound over the LP
relaxation with count rows, cover cuts of the budget rows and lazy cover rows, split on the
build counts per year and channel, then on single builds
(:mod:`towerplan.analysis.programme_search`), proves the optimum.

Locked builds ``(k, y)`` are facts (years already built or committed): their coverage
counts, their site takes no other option, their capex and opex appear in ``spend_idr``, but
budgets are **not** checked against them: the budgets are what is left for new builds. A
caller whose budgets include the locked builds' spend subtracts that spend first.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.programme_search import Knapsack, NodeLp
from towerplan.analysis.selection_exact import (
    LpParts,
    aggregate_demand,
    highs_model,
    run_highs,
    subset_pairs,
)
from towerplan.errors import InfeasibleSelectionError, InputDataError

__all__ = ["ProgrammeResult", "brute_force_programme", "greedy_programme",
           "optimise_programme", "programme_spend", "programme_value"]

log = logging.getLogger(__name__)

Build = tuple[int, int]
_BRUTE_FORCE_MAX = 2_000_000  # plans
_IMPROVE_SHARE = 0.15  # of the time limit spent improving the greedy start
_POLISH_S = 1.0  # at most this long on each new best programme of the search, s


@dataclass(frozen=True, slots=True)
class ProgrammeResult:
    """A programme and its figures.

    Attributes
    ----------
    builds : tuple of (int, int)
        (option k, year index y) of every build, locked ones included, sorted by y then k.
    objective : float
        ``sum_y discount[y] * people_served[y]``, people-years.
    bound : float
        Proven upper bound of the objective (equal to it when optimal; for the greedy plan
        the trivial bound "every coverable unit served from year 0").
    gap : float
        ``(bound - objective) / max(bound, 1e-9)``.
    status : str
        ``"optimal"``, ``"time_limit"``, ``"greedy"`` or ``"brute_force"``.
    spend_idr : numpy.ndarray, shape (Y, C)
        What each channel pays in each year (capex and opex, locked builds included), rupiah.
    people_served : numpy.ndarray, shape (Y,)
        Weight covered in each year (already served or covered by a build of that year or
        earlier).
    newly_served : numpy.ndarray, shape (Y,)
        ``people_served[y] - people_served[y - 1]``; for year 0 minus the weight already
        served in year 0.
    runtime_s : float
        Wall-clock time, s.
    method : str
        How the programme was found.
    """

    builds: tuple[Build, ...]
    objective: float
    bound: float
    gap: float
    status: str
    spend_idr: np.ndarray
    people_served: np.ndarray
    newly_served: np.ndarray
    runtime_s: float
    method: str


# --- public helpers --------------------------------------------------------------------------

def programme_value(cover: sp.csr_matrix, weights: np.ndarray, served: np.ndarray,
                    discount: np.ndarray, builds: Sequence[Build]) -> float:
    """Discounted people-years served by *builds* (locked builds included).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> cover = sp.csr_matrix(np.array([[True, False]]))
    >>> served = np.array([[False, True], [False, True]])
    >>> programme_value(cover, np.array([10.0, 5.0]), served, np.array([1.0, 0.5]), [(0, 1)])
    12.5
    """
    w = np.asarray(weights, dtype=float)
    first = _coverage_year(sp.csr_matrix(cover, dtype=bool), _first_served(served), builds)
    return float(np.asarray(discount, float) @ _people(first, w, len(discount)))


def programme_spend(pay: np.ndarray, opex: np.ndarray, builds: Sequence[Build],
                    n_years: int) -> np.ndarray:
    """What each channel pays in each year, shape (n_years, C), rupiah.

    Capex in the build year, opex in that year and every later one.
    """
    spend = np.zeros((n_years, np.shape(pay)[1]))
    for k, y in builds:
        spend[y] += pay[k]
        spend[y:] += opex[k]
    return spend


# --- the problem -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Programme:
    """Validated inputs and what every method needs from them."""

    cover: sp.csr_matrix      # (K, U) bool
    site_of: np.ndarray       # (K,)
    weights: np.ndarray       # (U,)
    served: np.ndarray        # (Y, U) bool
    first: np.ndarray         # (U,) first year served with the locked builds, Y = never
    pay: np.ndarray           # (K, C)
    opex: np.ndarray          # (K, C)
    discount: np.ndarray      # (Y,)
    coef: np.ndarray          # (K, Y, Y, C): row (t, c) activity of building k in year b
    limit: np.ndarray         # (Y, C) row limits, tolerance included
    money_to: np.ndarray      # (Y, C) budgets of years 0..y, tolerance included
    locked: tuple[Build, ...]
    buildable: np.ndarray     # (K, Y) bool: free option, fits the budgets alone in year b

    @property
    def n_years(self) -> int:
        return len(self.discount)

    def fits(self, builds: Sequence[Build]) -> bool:
        """True when the free *builds* keep every budget row."""
        act = np.zeros_like(self.limit)
        for k, b in builds:
            act += self.coef[k, b]
        return bool(np.all(act <= self.limit))

    def gain_per_unit(self, first: np.ndarray, year: int) -> np.ndarray:
        """Value of covering each unit from *year* on, given when it is covered now."""
        cum = np.concatenate([[0.0], np.cumsum(self.discount)])
        return self.weights * np.maximum(cum[first] - cum[year], 0.0)


def _prepare(cover: Any, site_of: Any, weights: Any, served: Any, pay: Any, opex: Any,
             budget: Any, discount: Any, carry_over: bool, locked: Sequence[Build],
             forbidden: Sequence[int]) -> _Programme:
    a = sp.csr_matrix(cover, dtype=bool)
    a.sort_indices()
    site = np.asarray(site_of)
    w = np.asarray(weights, dtype=float)
    srv = np.asarray(served, dtype=bool)
    p = np.asarray(pay, dtype=float)
    o = np.asarray(opex, dtype=float)
    bud = np.asarray(budget, dtype=float)
    d = np.asarray(discount, dtype=float)
    _check_shapes(a, site, w, srv, p, o, bud, d)
    lock = tuple((int(k), int(y)) for k, y in locked)
    forb = np.asarray(list(forbidden), dtype=np.int64)
    _check_builds(lock, forb, site, len(d))
    n_k, n_y = a.shape[0], len(d)
    coef = _row_coef(p, o, n_y, carry_over)
    money_to = np.cumsum(bud, axis=0)
    money_to += 1e-6 + 1e-9 * money_to
    limit = money_to if carry_over else bud + 1e-6 + 1e-9 * bud
    free = np.ones(n_k, dtype=bool)
    free[forb] = False
    if lock:
        lk = np.array([k for k, _ in lock])
        free &= ~np.isin(site, site[lk])
    buildable = free[:, None] & np.all(coef <= limit[None, None], axis=(2, 3))
    first = _coverage_year(a, _first_served(srv), lock)
    return _Programme(a, site.astype(np.int64), w, srv, first, p, o, d, coef, limit, money_to,
                      lock, buildable)


def _check_shapes(a: sp.csr_matrix, site: np.ndarray, w: np.ndarray, srv: np.ndarray,
                  p: np.ndarray, o: np.ndarray, bud: np.ndarray, d: np.ndarray) -> None:
    """Collect every shape and sign problem, then raise one InputDataError."""
    n_k, n_u = a.shape
    n_y = len(d) if d.ndim == 1 else -1
    n_c = bud.shape[1] if bud.ndim == 2 else -1
    expect = {"site_of": (site, (n_k,)), "weights": (w, (n_u,)), "served": (srv, (n_y, n_u)),
              "pay": (p, (n_k, n_c)), "opex": (o, (n_k, n_c)), "budget": (bud, (n_y, n_c))}
    problems = [f"{name} has shape {arr.shape}, expected {shape}"
                for name, (arr, shape) in expect.items() if arr.shape != shape]
    if n_y < 1:
        problems.append(f"discount must be a non-empty vector, got shape {d.shape}")
    for name, arr in (("weights", w), ("pay", p), ("opex", o), ("budget", bud)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            problems.append(f"{name} must be finite and >= 0")
    if not np.all(np.isfinite(d)) or np.any(d <= 0):
        problems.append("discount must be finite and > 0")
    if site.size and (site.dtype.kind not in "iu" or site.min() < 0):
        problems.append("site_of must hold site indices >= 0")
    if not problems and n_y > 1 and np.any(srv[:-1] & ~srv[1:]):
        problems.append("served must not fall back: a unit served in a year stays served")
    if problems:
        msg = "programme inputs: " + "; ".join(problems)
        raise InputDataError(msg, tuple(problems))


def _check_builds(lock: tuple[Build, ...], forb: np.ndarray, site: np.ndarray,
                  n_y: int) -> None:
    n_k = len(site)
    bad = [f"({k}, {y})" for k, y in lock if not (0 <= k < n_k and 0 <= y < n_y)]
    if bad or np.any((forb < 0) | (forb >= n_k)):
        msg = (f"programme: locked builds {', '.join(bad) or 'none'} or forbidden options "
               f"out of range ({n_k} options, {n_y} years)")
        raise InputDataError(msg)
    clash = sorted({k for k, _ in lock} & set(forb.tolist()))
    if clash:
        msg = f"programme: options {clash} are both locked and forbidden"
        raise InfeasibleSelectionError(msg)
    sites = site[[k for k, _ in lock]] if lock else np.zeros(0, np.int64)
    twice = sorted(int(s) for s in np.unique(sites) if np.count_nonzero(sites == s) > 1)
    if twice:
        msg = f"programme: sites {twice} have more than one locked build (one tower per site)"
        raise InfeasibleSelectionError(msg)


def _row_coef(pay: np.ndarray, opex: np.ndarray, n_y: int, carry_over: bool) -> np.ndarray:
    """coef[k, b, t, c]: what building k in year b adds to budget row (t, c).

    Without carry-over row (t, c) is year t's spend; with it, the spend of years 0..t.
    """
    b = np.arange(n_y)[:, None]
    t = np.arange(n_y)[None, :]
    capex_at = (t == b).astype(float)
    opex_at = (t >= b).astype(float)
    if carry_over:
        capex_at, opex_at = np.cumsum(capex_at, axis=1), np.cumsum(opex_at, axis=1)
    return (pay[:, None, None, :] * capex_at[None, :, :, None]
            + opex[:, None, None, :] * opex_at[None, :, :, None])


def _first_served(served: np.ndarray) -> np.ndarray:
    srv = np.asarray(served, dtype=bool)
    return np.where(srv.any(axis=0), srv.argmax(axis=0), srv.shape[0]).astype(np.int64)


def _coverage_year(a: sp.csr_matrix, first: np.ndarray, builds: Sequence[Build]) -> np.ndarray:
    year = first.copy()
    for k, y in builds:
        idx = a.indices[a.indptr[k]:a.indptr[k + 1]]
        year[idx] = np.minimum(year[idx], y)
    return year


def _people(first: np.ndarray, w: np.ndarray, n_y: int) -> np.ndarray:
    return np.cumsum(np.bincount(first, weights=w, minlength=n_y + 1)[:n_y])


def _result(prob: _Programme, free: Sequence[Build], bound: float, status: str, method: str,
            t0: float) -> ProgrammeResult:
    builds = tuple(sorted({*prob.locked, *free}, key=lambda kb: (kb[1], kb[0])))
    n_y = prob.n_years
    people = _people(_coverage_year(prob.cover, prob.first, builds), prob.weights, n_y)
    objective = float(prob.discount @ people)
    if status in ("optimal", "brute_force"):
        bound = objective
    bound = max(bound, objective)
    before = float(prob.weights[prob.served[0]].sum())
    newly = np.diff(people, prepend=before)
    spend = programme_spend(prob.pay, prob.opex, builds, n_y)
    return ProgrammeResult(builds, objective, bound, (bound - objective) / max(bound, 1e-9),
                           status, spend, people, newly, time.perf_counter() - t0, method)


def _trivial_bound(prob: _Programme) -> float:
    """Every unit some buildable option covers served from year 0 (the greedy's bound)."""
    reach = np.asarray(prob.cover[prob.buildable.any(axis=1)].sum(axis=0)).ravel() > 0
    first = np.where(reach, 0, prob.first)
    return float(prob.discount @ _people(first, prob.weights, prob.n_years))


# --- greedy ----------------------------------------------------------------------------------

def greedy_programme(cover: sp.csr_matrix, site_of: np.ndarray, weights: np.ndarray,
                     served: np.ndarray, pay: np.ndarray, opex: np.ndarray,
                     budget: np.ndarray, discount: np.ndarray, *, carry_over: bool = True,
                     locked: Sequence[Build] = (), forbidden: Sequence[int] = ()
                     ) -> ProgrammeResult:
    """Year by year, add the option of most value per rupiah that the budgets still allow.

    In year ``y`` an option's value is the discounted people-years it newly serves from
    ``y`` to the horizon; its price is its capex plus its opex up to the horizon, summed over
    channels. It must fit every budget row from year ``y`` on (its opex in later years
    included). Arguments as :func:`optimise_programme`.
    """
    t0 = time.perf_counter()
    prob = _prepare(cover, site_of, weights, served, pay, opex, budget, discount, carry_over,
                    locked, forbidden)
    builds = _greedy(prob)
    return _result(prob, builds, _trivial_bound(prob), "greedy", "greedy year-by-year", t0)


def _greedy(prob: _Programme, fixed: Sequence[Build] = (), banned: int = -1) -> list[Build]:
    """The greedy programme added to the free builds *fixed*, never using option *banned*."""
    a = sp.csr_matrix(prob.cover, dtype=float)
    n_k, n_y = a.shape[0], prob.n_years
    builds = list(fixed)
    first = _coverage_year(prob.cover, prob.first, builds)
    act = np.zeros_like(prob.limit)
    for k, y in builds:
        act += prob.coef[k, y]
    open_site = np.ones(int(prob.site_of.max(initial=-1)) + 1, dtype=bool)
    open_site[prob.site_of[[k for k, _ in (*prob.locked, *builds)]]] = False
    allowed = prob.buildable.copy()
    if banned >= 0:
        allowed[banned] = False
    for y in range(n_y):
        price = (prob.pay + prob.opex * (n_y - y)).sum(axis=1)
        while True:
            ok = (allowed[:, y] & open_site[prob.site_of]
                  & np.all(act[None] + prob.coef[:, y] <= prob.limit[None], axis=(1, 2)))
            gain = a @ prob.gain_per_unit(first, y)
            ratio = np.where(ok & (gain > 0), gain / np.maximum(price, 1.0), -1.0)
            k = int(np.argmax(ratio)) if n_k else 0
            if not n_k or ratio[k] <= 0:
                break
            builds.append((k, y))
            act += prob.coef[k, y]
            open_site[prob.site_of[k]] = False
            first = _coverage_year(prob.cover, first, [(k, y)])
    return builds


def _improve(prob: _Programme, builds: list[Build], seconds: float) -> list[Build]:
    """Take one build out, refill greedily without its option; keep the first that gains.

    Repeated until no build's removal gains or *seconds* have passed.
    """
    t0 = time.perf_counter()
    value = _value(prob, builds)
    better = True
    while better and time.perf_counter() - t0 < seconds:
        better = False
        for out in list(builds):
            cand = _greedy(prob, [kb for kb in builds if kb != out], banned=out[0])
            if _value(prob, cand) > value + 1e-9 * max(1.0, value):
                builds, value, better = cand, _value(prob, cand), True
                break
            if time.perf_counter() - t0 >= seconds:
                break
    return builds


# --- brute force -----------------------------------------------------------------------------

def brute_force_programme(cover: sp.csr_matrix, site_of: np.ndarray, weights: np.ndarray,
                          served: np.ndarray, pay: np.ndarray, opex: np.ndarray,
                          budget: np.ndarray, discount: np.ndarray, *, carry_over: bool = True,
                          locked: Sequence[Build] = (), forbidden: Sequence[int] = ()
                          ) -> ProgrammeResult:
    """Best programme by trying every plan (each free site: nothing or one option and year).

    A reference for tests on small instances; raises InputDataError beyond 2 million plans.
    Arguments as :func:`optimise_programme`.
    """
    t0 = time.perf_counter()
    prob = _prepare(cover, site_of, weights, served, pay, opex, budget, discount, carry_over,
                    locked, forbidden)
    choices = [[(-1, -1)] + [(int(k), y) for k in np.flatnonzero(prob.site_of == s)
                             for y in range(prob.n_years) if prob.buildable[k, y]]
               for s in np.unique(prob.site_of[prob.buildable.any(axis=1)])]
    n_plans = int(np.prod([len(c) for c in choices]))
    if n_plans > _BRUTE_FORCE_MAX:
        msg = f"brute force: {n_plans:,} plans is too many (at most {_BRUTE_FORCE_MAX:,})"
        raise InputDataError(msg)
    best: list[Build] = []
    best_value = -np.inf
    for plan in itertools.product(*choices):
        free = [kb for kb in plan if kb[0] >= 0]
        if not prob.fits(free):
            continue
        first = _coverage_year(prob.cover, prob.first, free)
        value = float(prob.discount @ _people(first, prob.weights, prob.n_years))
        if value > best_value * (1 + 1e-12) + 1e-12:
            best, best_value = free, value
    return _result(prob, best, best_value, "brute_force", "brute force", t0)


# --- MILP ------------------------------------------------------------------------------------

def optimise_programme(cover: sp.csr_matrix, site_of: np.ndarray, weights: np.ndarray,
                       served: np.ndarray, pay: np.ndarray, opex: np.ndarray,
                       budget: np.ndarray, discount: np.ndarray, *, carry_over: bool = True,
                       locked: Sequence[Build] = (), forbidden: Sequence[int] = (),
                       time_limit_s: float | None = 60.0,
                       warm_start: Sequence[Build] | None = None,
                       threads: int | None = None) -> ProgrammeResult:
    """Best multi-year programme within the yearly channel budgets (module docstring).

    Parameters
    ----------
    cover : scipy.sparse.csr_matrix of bool, shape (K, U)
        Option k covers demand unit u.
    site_of : numpy.ndarray of int, shape (K,)
        Site of each option; a site gets at most one option over the whole horizon.
    weights : numpy.ndarray, shape (U,)
        People per unit, >= 0.
    served : numpy.ndarray of bool, shape (Y, U)
        Unit already served in year y without any new build (monotone in y).
    pay, opex : numpy.ndarray, shape (K, C)
        Capex paid by channel c in the build year; opex paid in the build year and every
        later one, rupiah, >= 0.
    budget : numpy.ndarray, shape (Y, C)
        Budget of channel c in year y for new builds, rupiah, >= 0.
    discount : numpy.ndarray, shape (Y,)
        Weight of year y in the objective, > 0.
    carry_over : bool
        Money a channel leaves unspent in a year moves to the next.
    locked : sequence of (int, int)
        Builds (k, y) that are facts; budgets are not checked against their spend.
    forbidden : sequence of int
        Options that may not be built.
    time_limit_s : float or None
        HiGHS time limit, s (None = none).
    warm_start : sequence of (int, int) or None
        A programme of free builds to start from when it keeps the budgets; the greedy
        programme is always tried too.
    threads : int or None
        Node LPs the branch and bound solves at once, each in its own thread (default
        :func:`~towerplan.analysis.programme_search.search_threads`: the usable cores, at
        most 2). The programme does not depend on the threads' timing.

    Returns
    -------
    ProgrammeResult
        Status ``"optimal"`` or ``"time_limit"`` (best programme found, with HiGHS's bound).

    Raises
    ------
    InputDataError
        Shapes, negative money or people, falling ``served``, builds out of range.
    InfeasibleSelectionError
        A locked option is forbidden, or a site has two locked builds.
    """
    t0 = time.perf_counter()
    prob = _prepare(cover, site_of, weights, served, pay, opex, budget, discount, carry_over,
                    locked, forbidden)
    start = _improve(prob, _greedy(prob), _IMPROVE_SHARE * (time_limit_s or 60.0))
    if warm_start is not None:
        given = [(int(k), int(y)) for k, y in warm_start]
        if _valid_plan(prob, given) and _value(prob, given) > _value(prob, start):
            start = given
    deadline = None if time_limit_s is None else t0 + time_limit_s
    builds, bound, status = _solve_exact(prob, start, deadline, threads)
    result = _result(prob, builds, bound, status, "milp (HiGHS)", t0)
    log.info("programme: %d options, %d builds, %s, gap %.2g, %.2f s", prob.cover.shape[0],
             len(result.builds), status, result.gap, result.runtime_s)
    return result


def _left(deadline: float | None, share: float = 1.0) -> float | None:
    return None if deadline is None else max(0.1, share * (deadline - time.perf_counter()))


def _solve_exact(prob: _Programme, start: list[Build], deadline: float | None,
                 threads: int | None = None) -> tuple[list[Build], float, str]:
    """Root LP, then branch and bound on counts and builds.

    The LP relaxation with one count row per year and channel and the cover rows of the
    classes left lazy (:mod:`programme_search`) is solved at the root; the branch and bound
    proves the best programme from the start, its bound or the start's value bounding every
    programme.
    """
    model = _Model.build(prob)
    if model.parts.n_x == 0:
        return model.solve(start, _left(deadline))
    lp = NodeLp(model.parts, model.reach.ravel(), _knapsacks(prob, model.opts, bands=True),
                n_lazy=len(model.z_class))
    base = _value(prob, [])
    try:
        solved = lp.root(_left(deadline))
    except TimeoutError:
        return start, _trivial_bound(prob), "time_limit"
    if solved is None:  # cannot happen (building nothing is a programme); HiGHS decides
        return model.solve(start, _left(deadline))
    value = _value(prob, start)
    log.debug("programme root: bound %.6g, start %.6g, %.2f s", base + solved.bound, value,
              lp.seconds)

    best = [value]
    rounded: dict[tuple[Build, ...], tuple[list[Build], float]] = {}  # by whole builds

    def complete(x: np.ndarray) -> tuple[list[Build], float]:
        fixed = _whole_builds(prob, model.opts, x.reshape(-1, prob.n_years))
        key = tuple(fixed)
        if key in rounded:  # the same whole builds round to the same programme
            return rounded[key]
        plan = _greedy(prob, fixed)
        got = _value(prob, plan)
        if got > best[0]:  # a new best programme: drop-and-refill may improve it further
            plan = _improve(prob, plan, _POLISH_S)
            got = _value(prob, plan)
            log.debug("programme search: new best programme %.6g", got)
        best[0] = max(best[0], got)
        rounded[key] = (plan, got - base)
        return rounded[key]

    found = lp.search(solved, value - base, complete, deadline, threads)
    log.debug("programme search: %d nodes, %.2f s of LP, %s", found.nodes, lp.seconds,
              found.status)
    builds = start if found.plan is None else found.plan
    return builds, base + found.bound, found.status


def _whole_builds(prob: _Programme, opts: np.ndarray, built_by: np.ndarray) -> list[Build]:
    """The builds an LP solution makes whole (X[k, Y-1] = 1); none if they break a rule.

    The greedy fill of these (:func:`_greedy`) is the LP solution's rounded programme.
    """
    rows = np.flatnonzero(built_by[:, -1] > 1.0 - 1e-6)
    fixed = [(int(opts[i]), int(np.argmax(built_by[i] > 0.5))) for i in rows]
    return fixed if _valid_plan(prob, fixed) else []


def _value(prob: _Programme, free: Sequence[Build]) -> float:
    first = _coverage_year(prob.cover, prob.first, free)
    return float(prob.discount @ _people(first, prob.weights, prob.n_years))


def _valid_plan(prob: _Programme, free: Sequence[Build]) -> bool:
    n_k, n_y = prob.buildable.shape
    if not all(0 <= k < n_k and 0 <= y < n_y and prob.buildable[k, y] for k, y in free):
        return False
    sites = prob.site_of[[k for k, _ in free]] if free else np.zeros(0, np.int64)
    return len(np.unique(sites)) == len(sites) and prob.fits(free)


@dataclass(frozen=True, slots=True)
class _Model:
    """The reduced MILP over X[k, t] = "option opts[k] built in year t or earlier".

    X columns (k * Y + t) first, then z columns. A build in year b is X[k, b] - X[k, b-1];
    in these columns a cover row needs one entry per covering option instead of one per
    option and year.
    """

    prob: _Programme
    opts: np.ndarray          # option of each model row k
    parts: LpParts
    z_class: np.ndarray       # class of each z column
    z_year: np.ndarray        # year of each z column
    classes: sp.csr_matrix    # (len(opts), n_classes) cover of the classes with a z
    n_classes: int

    @classmethod
    def build(cls, prob: _Programme) -> _Model:
        opts, a, w, t = _reduce(prob)
        n, n_y = len(opts), prob.n_years
        site = prob.site_of[opts]
        one_site = _single_site_classes(a, site)
        cum = np.concatenate([[0.0], np.cumsum(prob.discount)])
        folded = sp.csr_matrix(a[:, one_site], dtype=float)
        x_gain = np.zeros((n, n_y))
        for b in range(n_y):
            x_gain[:, b] = folded @ (w[one_site] * np.maximum(cum[t[one_site]] - cum[b], 0.0))
        multi = np.flatnonzero(~one_site)
        a_multi = sp.csc_matrix(a[:, multi], dtype=float)
        zc, zy = np.nonzero(np.arange(n_y)[None, :] < t[multi][:, None])
        z_gain = w[multi][zc] * prob.discount[zy]
        n_z = len(zc)
        count, most = _count_rows(prob, opts, n_z)
        order, order_lo, order_hi = _order_rows(prob.buildable[opts], n_z)
        blocks = [order, _site_rows(site, n_y, n_z), _budget_rows(prob, opts, n_z), count,
                  _cover_rows(a_multi, zc, zy, n_y)]
        n_cover = blocks[4].shape[0]
        lower = np.concatenate([order_lo, np.full(blocks[1].shape[0] + blocks[2].shape[0]
                                                  + len(most) + n_cover, -np.inf)])
        upper = np.concatenate([order_hi, np.ones(blocks[1].shape[0]), _budget_limits(prob),
                                most, np.zeros(n_cover)])
        matrix = sp.csc_matrix(sp.vstack(blocks, format="csr"))
        cost = -np.concatenate([_by_year_to_built_by(x_gain).ravel(), z_gain])
        parts = LpParts(matrix, cost, lower, upper, n * n_y)
        return cls(prob, opts, parts, zc, zy, sp.csr_matrix(a_multi), len(w))

    def solve(self, start: list[Build], time_limit_s: float | None
              ) -> tuple[list[Build], float, str]:
        """Free builds, upper bound and status of the MILP started from *start*."""
        import highspy

        if self.parts.n_x == 0:
            return [], 0.0, "optimal"
        t0 = time.perf_counter()
        h = self._run(start, time_limit_s)
        sol = h.getSolution()
        if sol.value_valid and not _consistent(h, self.parts.cost):
            # HiGHS (1.16) can report its incumbent's value with the start's columns; such a
            # run proves nothing, so it is solved again without the start.
            log.debug("HiGHS returned the start instead of its incumbent; solving again")
            left = None if time_limit_s is None else max(
                0.1, time_limit_s - (time.perf_counter() - t0))
            h = self._run(None, left)
            sol = h.getSolution()
        base = _value(self.prob, [])
        dual = float(h.getInfo().mip_dual_bound)
        bound = base - dual if np.isfinite(dual) else _trivial_bound(self.prob)
        if not sol.value_valid:
            return start, bound, "time_limit"
        built_by = np.asarray(sol.col_value[:self.parts.n_x]).reshape(-1, self.prob.n_years)
        rows = np.flatnonzero(built_by[:, -1] > 0.5)
        builds = [(int(self.opts[i]), int(np.argmax(built_by[i] > 0.5))) for i in rows]
        if not self.prob.fits(builds) or _value(self.prob, start) > _value(self.prob, builds):
            builds = start  # within HiGHS's tolerances but over a budget or below the start
        ok = h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        return builds, bound, "optimal" if ok else "time_limit"

    @property
    def reach(self) -> np.ndarray:
        """(n, Y) upper bounds of X: 1 from the first year option opts[k] may be built."""
        return (np.cumsum(self.prob.buildable[self.opts], axis=1) > 0).astype(float)

    def _run(self, start: list[Build] | None, time_limit_s: float | None) -> Any:
        options: dict[str, Any] = {"mip_rel_gap": 0.0, "mip_abs_gap": 1e-7}
        if time_limit_s is not None:
            options["time_limit"] = float(time_limit_s)
        h = highs_model(self.parts, self.reach.ravel(), True, options)
        if start is not None:
            self._set_start(h, start)
        run_highs(h)
        return h

    def _set_start(self, h: Any, start: list[Build]) -> None:
        import highspy

        n_y = self.prob.n_years
        row = {int(o): i for i, o in enumerate(self.opts)}
        x = np.zeros((len(self.opts), n_y))
        for k, y in start:
            if k in row:  # a dominated option the start used is left out
                x[row[k], y] = 1.0
        built_by = np.cumsum(x, axis=1)
        z = np.zeros(len(self.z_class))
        if len(z):
            covered = (self.classes.T @ built_by) > 0.5
            z = covered[self.z_class, self.z_year].astype(float)
        sol = highspy.HighsSolution()
        sol.col_value = list(np.concatenate([built_by.ravel(), z]))
        sol.value_valid = True
        h.setSolution(sol)


def _by_year_to_built_by(per_build: np.ndarray) -> np.ndarray:
    """Coefficients of X[k, t] from those of a build in year b: c_t - c_{t+1}."""
    return per_build - np.concatenate([per_build[:, 1:], np.zeros_like(per_build[:, :1])],
                                      axis=1)


def _consistent(h: Any, cost: np.ndarray) -> bool:
    """The solution HiGHS returns has the objective value HiGHS reports."""
    claimed = float(h.getInfo().objective_function_value)
    value = float(cost @ np.asarray(h.getSolution().col_value))
    return abs(value - claimed) <= 1e-7 * max(1.0, abs(claimed))


def _reduce(prob: _Programme) -> tuple[np.ndarray, sp.csr_matrix, np.ndarray, np.ndarray]:
    """Options and demand classes of the model (module docstring): opts, cover, w, first."""
    opts = np.flatnonzero(prob.buildable.any(axis=1))
    units = np.flatnonzero((prob.weights > 0) & (prob.first > 0))
    a, w, t = aggregate_demand(prob.cover[opts][:, units], prob.weights[units],
                               prob.first[units])
    useful = np.diff(a.indptr) > 0
    opts, a = opts[useful], a[useful]
    drop = _dominated(a, prob, opts)
    if drop.any():
        opts = opts[~drop]
        a, w, t = aggregate_demand(a[~drop], w, t)
    return opts, a, w, t


def _dominated(a: sp.csr_matrix, prob: _Programme, opts: np.ndarray) -> np.ndarray:
    """Options others make redundant (module docstring, docs/programme.md).

    k *beats* j when it covers a superset of j's classes for no more capex and no more opex
    in any channel (among identical options the lower index wins); a strict order. j goes
    when an option at its own site beats it, or when every option at another site beats it:
    whatever that site builds, it can take j's place (moved to j's year when built later) at
    no more spend in any budget row.
    """
    j, k, same = subset_pairs(a)
    pay, opex = prob.pay[opts], prob.opex[opts]
    can = prob.buildable[opts]
    no_more = (np.all(pay[k] <= pay[j], axis=1) & np.all(opex[k] <= opex[j], axis=1)
               & np.all(can[k] >= can[j], axis=1))  # k may be built whenever j may
    less = np.any(pay[k] < pay[j], axis=1) | np.any(opex[k] < opex[j], axis=1)
    beats = no_more & (less | ~same | (k < j))
    j, k = j[beats], k[beats]
    site = prob.site_of[opts]
    drop = np.zeros(len(opts), dtype=bool)
    drop[j[site[j] == site[k]]] = True
    other = site[j] != site[k]
    pair, n_beating = np.unique(np.column_stack([j[other], site[k[other]]]), axis=0,
                                return_counts=True)
    if len(pair):
        everyone = n_beating == np.bincount(site)[pair[:, 1]]
        drop[pair[everyone, 0]] = True
    return drop


def _single_site_classes(a: sp.csr_matrix, site: np.ndarray) -> np.ndarray:
    """Classes whose covering options all sit at one site (their value is linear in x)."""
    c = sp.csc_matrix(a)
    if c.shape[1] == 0:
        return np.zeros(0, dtype=bool)
    s = site[c.indices]
    starts = c.indptr[:-1]
    return np.minimum.reduceat(s, starts) == np.maximum.reduceat(s, starts)


def _order_rows(buildable: np.ndarray, n_z: int
                ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """0 <= X[k, t] - X[k, t-1] <= 1 if option k may be built in year t, else = 0."""
    n, n_y = buildable.shape
    if n_y == 1:
        return sp.csr_matrix((0, n + n_z)), np.zeros(0), np.zeros(0)
    k, t = np.nonzero(np.ones((n, n_y - 1), dtype=bool))
    t = t + 1
    r = np.arange(len(k))
    m = sp.csr_matrix((np.concatenate([np.ones(len(k)), -np.ones(len(k))]),
                       (np.concatenate([r, r]), np.concatenate([k * n_y + t, k * n_y + t - 1]))),
                      shape=(len(k), n * n_y + n_z))
    return m, np.zeros(len(k)), buildable[k, t].astype(float)


def _site_rows(site: np.ndarray, n_y: int, n_z: int) -> sp.csr_matrix:
    """sum over the options k of site s of X[k, Y-1] <= 1 (one build per site)."""
    uniq, row = np.unique(site, return_inverse=True)
    n = len(site)
    cols = np.arange(n) * n_y + n_y - 1
    return sp.csr_matrix((np.ones(n), (row, cols)), shape=(len(uniq), n * n_y + n_z))


def _budget_rows(prob: _Programme, opts: np.ndarray, n_z: int) -> sp.csr_matrix:
    """Spend of the builds in row (t, c) <= limit[t, c] for every year t and channel c.

    Each row is divided by its limit (rupiah are badly scaled for HiGHS's tolerances).
    """
    n_y, n_c = prob.limit.shape
    coef = prob.coef[opts]                              # (n, b, t, c)
    coef = coef - np.concatenate([coef[:, 1:], np.zeros_like(coef[:, :1])], axis=1)
    dense = coef.transpose(2, 3, 0, 1).reshape(n_y * n_c, len(opts) * n_y)
    dense = dense / _row_scale(prob)[:, None]
    return sp.hstack([sp.csr_matrix(dense), sp.csr_matrix((n_y * n_c, n_z))], format="csr")


def _row_scale(prob: _Programme) -> np.ndarray:
    return np.maximum(prob.limit.ravel(), 1.0)


def _count_rows(prob: _Programme, opts: np.ndarray, n_z: int
                ) -> tuple[sp.csr_matrix, np.ndarray]:
    """Builds paid by channel c up to year t <= most the channel's money up to t buys.

    Every build paid by c costs it at least capex plus one year of opex by year t, and the
    spend up to t is at most the budgets up to t (with or without carry-over), so the row
    holds for every programme. Implied for binary X but not for the LP relaxation.
    """
    n_col = len(opts) * prob.n_years + n_z
    rows, most = [], []
    for k in _knapsacks(prob, opts):
        if k.most < len(k.cols):
            rows.append(sp.csr_matrix((np.ones(len(k.cols)), (np.zeros(len(k.cols), int),
                                                              k.cols)), shape=(1, n_col)))
            most.append(float(k.most))
    if not rows:
        return sp.csr_matrix((0, n_col)), np.zeros(0)
    return sp.csr_matrix(sp.vstack(rows)), np.array(most)


def _knapsacks(prob: _Programme, opts: np.ndarray, *, bands: bool = False
               ) -> list[Knapsack]:
    """Money of channel c up to year t: what each build by t costs c at least (capex plus
    one year of opex, building in t) <= the budgets up to t (see :func:`_count_rows`).

    With *bands* also the same budget over the cheaper and the dearer half of the options
    alone (their counts are what the search splits on after the whole one's).
    """
    n_y, n_c = prob.limit.shape
    money = prob.pay[opts] + prob.opex[opts]
    out = []
    for t, c in itertools.product(range(n_y), range(n_c)):
        paid = np.flatnonzero(money[:, c] > 0)
        cap = float(prob.money_to[t, c])
        out.append(Knapsack(paid * n_y + t, money[paid, c], cap))
        if bands and len(paid) > 1:
            dear = money[paid, c] > np.median(money[paid, c])
            for part in (paid[dear], paid[~dear]):
                if 0 < len(part) < len(paid):
                    out.append(Knapsack(part * n_y + t, money[part, c], cap))
    return out


def _budget_limits(prob: _Programme) -> np.ndarray:
    return prob.limit.ravel() / _row_scale(prob)


def _cover_rows(a_multi: sp.csc_matrix, zc: np.ndarray, zy: np.ndarray,
                n_y: int) -> sp.csr_matrix:
    """z[i, y] - sum_{k covers i} X[k, y] <= 0 for every z column."""
    n = a_multi.shape[0]
    coo = sp.coo_matrix(sp.csr_matrix(a_multi.T)[zc])  # (n_z, n): options covering the class
    x_part = sp.csr_matrix((-coo.data, (coo.row, coo.col * n_y + zy[coo.row])),
                           shape=(len(zc), n * n_y))
    return sp.hstack([x_part, sp.identity(len(zc), format="csr")], format="csr")
