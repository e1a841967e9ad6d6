"""Root bounds of the multi-year programme MILP: Lagrangian bound per option and build year.

:mod:`towerplan.analysis.programme` builds its MILP in the columns ``X[k, t]`` ("option k
built in year t or earlier", ``Y`` columns per option, first in the model). This module
solves the model's LP relaxation once (interior point method, no crossover: the bounds below
hold for any row multipliers, so an approximate dual is enough) and turns the row duals into
the Lagrangian bound of every build: with the rows priced by ``pi`` every column lies in its
box independently, so the bound of the programmes that build option ``k`` in year ``b``
(``X[k, t] = 0`` for ``t < b`` and 1 from ``b`` on) is the free bound with option ``k``'s
columns set to that pattern. A build whose bound cannot reach a programme already known is in
no optimal programme (reduced-cost fixing; Nemhauser and Wolsey 1988, section II.5.1).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from towerplan.analysis.selection_exact import LpParts, highs_model, lagrangian_bounds, run_highs

__all__ = ["RootBounds", "bounds_from_duals", "root_bounds"]


@dataclass(frozen=True, slots=True)
class RootBounds:
    """What the LP relaxation says about the builds.

    Attributes
    ----------
    bound : float
        Upper bound of the model's gain (the negated minimum), any programme.
    build_bound : numpy.ndarray, shape (n, Y)
        Upper bound of the gain of the programmes that build model option k in year b
        (``-inf`` where the build is not allowed).
    built_by : numpy.ndarray, shape (n, Y)
        The LP's ``X`` columns.
    seconds : float
        Time of the LP, s.
    """

    bound: float
    build_bound: np.ndarray
    built_by: np.ndarray
    seconds: float


def root_bounds(parts: LpParts, col_upper_x: np.ndarray, n_years: int,
                time_limit_s: float | None = None) -> RootBounds | None:
    """Lagrangian bounds from the LP relaxation of *parts* (module docstring).

    *parts* minimises; its first ``parts.n_x`` columns are ``X[k, t]`` (k major) with upper
    bounds *col_upper_x*, the rest lie in [0, 1]. Returns None when the LP stops without a
    dual (time limit).
    """
    import highspy

    t0 = time.perf_counter()
    options: dict[str, object] = {"solver": "ipm", "run_crossover": "off"}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    h = highs_model(parts, col_upper_x, False, options)
    run_highs(h)
    sol = h.getSolution()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal or not sol.dual_valid:
        return None
    return bounds_from_duals(parts, col_upper_x, n_years, np.asarray(sol.row_dual, dtype=float),
                             np.asarray(sol.col_value, dtype=float), time.perf_counter() - t0)


def bounds_from_duals(parts: LpParts, col_upper_x: np.ndarray, n_years: int,
                      row_dual: np.ndarray, col_value: np.ndarray, seconds: float
                      ) -> RootBounds:
    """Lagrangian bounds of every build from the row multipliers *row_dual* (any vector).

    *col_value* is the LP solution the multipliers come from (its X columns are kept as
    ``built_by``); *seconds* the time it took.
    """
    bound, with_1, with_0 = lagrangian_bounds(parts.matrix, parts.cost, col_upper_x,
                                              parts.row_lower, parts.row_upper, row_dual)
    # per X column: its best box value lowers the bound by bound - with_0, and set to 1 it
    # changes the bound by with_1 - with_0; option k built in year b has X[k, t] = 1 for t >= b
    n_x = parts.n_x
    free = bound - (bound - with_0).reshape(-1, n_years).sum(axis=1)
    step = (with_1 - with_0).reshape(-1, n_years)
    from_b = np.cumsum(step[:, ::-1], axis=1)[:, ::-1]  # sum over t >= b
    allowed = col_upper_x.reshape(-1, n_years) > 0  # X[k, b] may be 1: b is reachable
    build = np.where(allowed, free[:, None] + from_b, -np.inf)
    x = col_value[:n_x].reshape(-1, n_years)
    return RootBounds(bound, build, x, seconds)
