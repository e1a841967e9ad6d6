"""Why a village is still blank after the plan: its cheapest site, what that costs, and why.

For every village still blank after the plan (:func:`why_not`):

- **site**: the candidate not chosen that serves the village's people most cheaply, i.e. with
  the lowest cost per person it would newly serve *in that village* (with the plan's sites in
  place);
- **cost per person**: that site's cost divided by those people, rupiah;
- **extra budget**: what it takes on top of the budget left to lift the village out of
  ``blank`` (its served share reaching ``coverage.blank_below``): the cost of the cheapest set
  of candidates that lifts it (one small MILP per village, over the candidates that reach
  it), or, when no set of candidates can lift it, the cost of the cheapest site; minus the
  budget left, never below 0;
- **reason**, in this order: ``no_candidate`` (no candidate serves anyone in it),
  ``excluded`` (its cheapest site is excluded by ``selection.must_exclude``),
  ``lower_yield`` (that site newly serves fewer people per rupiah, over all villages, than
  each chosen site did at its step of the build order), ``over_budget`` (it would do as well
  as a chosen site, but costs more than the budget left).

The kernel takes arrays only; people are the demand weights (km2 when the demand basis is
area).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.selection_exact import aggregate_demand, native_stdout_silenced

__all__ = ["REASONS", "WHY_NOT_COLUMNS", "WhyNotInputs", "why_not"]

log = logging.getLogger(__name__)

#: Reason codes, in the order they are tested.
REASONS: tuple[str, ...] = ("no_candidate", "excluded", "lower_yield", "over_budget")

#: The columns :func:`why_not` returns (the last columns of ``VILLAGE_COLUMNS``).
WHY_NOT_COLUMNS: tuple[str, ...] = ("why_not_site", "why_not_cost_per_person_idr",
                                    "why_not_extra_budget_idr", "why_not_reason")


@dataclass(frozen=True, slots=True)
class WhyNotInputs:
    """The plan as arrays.

    Attributes
    ----------
    coverage : scipy.sparse.csr_matrix, shape (n_sites, n_units)
        Candidate j covers demand unit i.
    weight : numpy.ndarray, shape (n_units,)
        People per unit.
    village : numpy.ndarray of int, shape (n_units,)
        Village row of each unit.
    covered_after : numpy.ndarray of bool, shape (n_units,)
        Units served after the plan.
    cost_idr : numpy.ndarray, shape (n_sites,)
        Cost per candidate, rupiah.
    excluded : numpy.ndarray of bool, shape (n_sites,)
        Candidates the scenario excludes.
    budget_left_idr : float
        Budget minus what the plan spends, rupiah.
    chosen_yield_min : float
        Fewest people per rupiah any chosen site newly served at its build step (0 when
        nothing is chosen).
    """

    coverage: sp.csr_matrix
    weight: np.ndarray
    village: np.ndarray
    covered_after: np.ndarray
    cost_idr: np.ndarray
    excluded: np.ndarray
    budget_left_idr: float
    chosen_yield_min: float


def why_not(inp: WhyNotInputs, still_blank: np.ndarray, total: np.ndarray,
            blank_below: float, site_ids: np.ndarray) -> pd.DataFrame:
    """Cheapest site, its cost per person, the extra budget and the reason, per village.

    Parameters
    ----------
    inp : WhyNotInputs
        The plan as arrays.
    still_blank : numpy.ndarray of bool, shape (n_villages,)
        Villages blank after the plan; the others get empty values.
    total : numpy.ndarray, shape (n_villages,)
        People per village.
    blank_below : float
        A village stops being blank when this share of its people is served.
    site_ids : numpy.ndarray of str, shape (n_sites,)
        Candidate ids.

    Returns
    -------
    pandas.DataFrame
        One row per village (index 0..n-1), columns :data:`WHY_NOT_COLUMNS`.

    Examples
    --------
    Village 0 (10 people, blank below 50 %): site 0 serves 4 for 8, site 1 serves 6 for 6;
    site 1 (1 per person) alone lifts it; Rp 2 are left, so Rp 4 more would buy it.

    >>> import numpy as np, scipy.sparse as sp
    >>> a = sp.csr_matrix(np.array([[1, 0], [0, 1]], bool))
    >>> inp = WhyNotInputs(a, np.array([4., 6.]), np.array([0, 0]), np.zeros(2, bool),
    ...                    np.array([8., 6.]), np.zeros(2, bool), 2.0, 0.0)
    >>> row = why_not(inp, np.array([True]), np.array([10.]), 0.5, np.array(["S0", "S1"]))
    >>> [str(x) for x in row.iloc[0]]
    ['S1', '1.0', '4.0', 'over_budget']
    """
    t0 = time.perf_counter()
    n_v = len(still_blank)
    out = pd.DataFrame({"why_not_site": [""] * n_v,
                        "why_not_cost_per_person_idr": np.full(n_v, np.nan),
                        "why_not_extra_budget_idr": np.full(n_v, np.nan),
                        "why_not_reason": [""] * n_v})
    rows = np.flatnonzero(still_blank)
    if not len(rows):
        return out
    a = sp.csr_matrix(inp.coverage, dtype=bool)
    fresh = ~np.asarray(inp.covered_after, bool) & (inp.weight > 0)
    open_ = fresh & np.isin(inp.village, rows)
    units = np.flatnonzero(open_)
    by_village = sp.csr_matrix((inp.weight[units], (units, inp.village[units])),
                               shape=(a.shape[1], n_v))
    gain = sp.csc_matrix(a.astype(float) @ by_village)  # people per site and village
    site_yield = np.asarray(a.astype(float) @ np.where(fresh, inp.weight, 0.0)).ravel() \
        / inp.cost_idr
    served = np.bincount(inp.village[~fresh], weights=inp.weight[~fresh], minlength=n_v)
    need = blank_below * np.asarray(total, float) - served
    for v in rows:
        col = slice(gain.indptr[v], gain.indptr[v + 1])
        sites, people = gain.indices[col], gain.data[col]
        keep = people > 0
        sites, people = sites[keep], people[keep]
        if not len(sites):
            out.loc[v, "why_not_reason"] = "no_candidate"
            continue
        per_person = inp.cost_idr[sites] / people
        best = int(sites[np.argmin(per_person)])
        out.loc[v, "why_not_site"] = str(site_ids[best])
        out.loc[v, "why_not_cost_per_person_idr"] = float(per_person.min())
        usable = sites[~inp.excluded[sites]]
        lift = _cheapest_lift(a, inp, usable, np.flatnonzero(open_ & (inp.village == v)),
                              float(need[v]))
        cost = float(inp.cost_idr[best]) if lift is None else lift
        out.loc[v, "why_not_extra_budget_idr"] = max(0.0, cost - inp.budget_left_idr)
        out.loc[v, "why_not_reason"] = _reason(inp, best, float(site_yield[best]))
    log.info("why not: %d villages still blank, %.2f s", len(rows), time.perf_counter() - t0)
    return out


def _reason(inp: WhyNotInputs, site: int, site_yield: float) -> str:
    if inp.excluded[site]:
        return "excluded"
    if site_yield < inp.chosen_yield_min * (1 - 1e-9):
        return "lower_yield"
    return "over_budget"


def _cheapest_lift(a: sp.csr_matrix, inp: WhyNotInputs, sites: np.ndarray,
                   units: np.ndarray, need: float) -> float | None:
    """Least cost of a set of *sites* newly serving at least *need* people of *units*.

    None when all of them together serve fewer.
    """
    from scipy.optimize import LinearConstraint, milp

    if not len(sites):
        return None
    red, wg, _ = aggregate_demand(sp.csr_matrix(a[sites][:, units]), inp.weight[units])
    tol = 1e-9 * max(need, 1.0)
    if wg.sum() < need - tol:
        return None
    c = inp.cost_idr[sites]
    if need <= tol:
        return 0.0
    # no set costs less than its cheapest site: when a site of the least cost lifts the
    # village alone, it is the answer without a MILP (most blank villages, one site each)
    alone = np.asarray(red.astype(float) @ wg).ravel()
    lifts = alone >= need - tol
    if lifts.any() and c[lifts].min() <= c.min():
        return float(c[lifts].min())
    n_s, n_y = red.shape
    cover = sp.hstack([-sp.csr_matrix(red.T, dtype=float), sp.identity(n_y)], format="csr")
    people = sp.csr_matrix(np.concatenate([np.zeros(n_s), wg])[None, :])
    with native_stdout_silenced():
        res = milp(np.concatenate([c, np.zeros(n_y)]),
                   constraints=[LinearConstraint(cover, -np.inf, 0.0),
                                LinearConstraint(people, need - tol, np.inf)],
                   integrality=np.concatenate([np.ones(n_s), np.zeros(n_y)]), bounds=(0, 1),
                   options={"disp": False})
    return None if res.x is None else float(c[res.x[:n_s] > 0.5].sum())
