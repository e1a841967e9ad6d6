"""Why a village is still blank at the end of a programme, and what would add it.

For every village still blank (no signal, *tidak ada*) in the programme's last year
(:func:`programme_why_not`):

- **option**: of the build options (site, tower type, channel) whose site the programme does
  not use, the one that serves the village's people most cheaply, i.e. with the lowest capital
  cost per person it would newly serve *in that village* (with every programme tower in place),
  among the options that alone lift the village out of blank (its served share reaching
  ``coverage.blank_below``); when no single option does, among those that reach anyone there
  (reason ``no_single``);
- **earliest year and extra budget**: over the open programme years and the funding channels
  that may build that site and type, the build year and channel needing the least extra money
  beside the programme (ties: the earliest year). The extra per paying channel is
  :func:`extra_budget_idr`: what its budget lacks to pay the option's capex in the build year
  and its opex in every later programme year on top of what the programme spends;
- **reason**: ``no_candidate`` (no option reaches anyone in it), ``no_single`` (no single tower
  lifts it), ``lower_yield`` (the money is there: the programme serves more people-years
  with it) or ``over_budget`` (the channels lack the extra money).

Works on arrays; the adapter in :mod:`towerplan.analysis.programme_plan` names the rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["PROGRAMME_WHY_NOT_COLUMNS", "WhyNotProgramme", "extra_budget_idr",
           "programme_why_not"]

#: Columns of ``ProgrammeOutcome.why_not`` (one row per village blank at the end).
PROGRAMME_WHY_NOT_COLUMNS: tuple[str, ...] = (
    "code", "name", "district", "population", "site_id", "tower_type", "channel",
    "people_new", "cost_per_person_idr", "capex_idr", "opex_idr_per_year", "year",
    "extra_budget_idr", "extra_channel", "reason")


def extra_budget_idr(spend: np.ndarray, budget: np.ndarray, pay: np.ndarray,
                     opex: np.ndarray, year: int, *, carry_over: bool) -> np.ndarray:
    """Return the extra money each channel needs to pay one more option built in *year*.

    Parameters
    ----------
    spend, budget : ndarray, shape (Y, C)
        What each channel spends in each year (the programme) and its budget, rupiah
        (``inf`` = no limit).
    pay, opex : ndarray, shape (C,)
        The option's capital cost (paid in the build year) and running cost per year (paid
        from the build year on) by channel.
    year : int
        Build year index.
    carry_over : bool
        With carry-over, the extra is one amount added to the budget of *year* (it carries on
        to the later years); without, the sum of the shortfalls of *year* and every later year.

    Returns
    -------
    ndarray, shape (C,)
        Rupiah, at least 0.

    Examples
    --------
    >>> spend = np.array([[4.0], [5.0], [5.0]]); budget = np.full((3, 1), 5.0)
    >>> extra_budget_idr(spend, budget, np.array([2.0]), np.array([0.5]), 1,
    ...                  carry_over=True).tolist()
    [2.0]
    >>> extra_budget_idr(spend, budget, np.array([2.0]), np.array([0.5]), 1,
    ...                  carry_over=False).tolist()
    [3.0]
    """
    add = np.zeros_like(np.asarray(spend, dtype=float))
    add[year] += pay
    add[year:] += opex
    with np.errstate(invalid="ignore"):
        over = np.asarray(spend, dtype=float) + add - np.asarray(budget, dtype=float)
    over = np.nan_to_num(over, nan=0.0, neginf=-np.inf)
    if carry_over:
        worst = np.cumsum(over, axis=0)[year:].max(axis=0)
    else:
        worst = np.maximum(over[year:], 0.0).sum(axis=0)
    return np.maximum(np.where(np.isfinite(worst), worst, 0.0), 0.0)


@dataclass(frozen=True, slots=True)
class WhyNotProgramme:
    """A solved programme as arrays.

    Attributes
    ----------
    cover : scipy.sparse.csr_matrix, shape (K, U)
        Units each option covers.
    site, type_index, channel_index : ndarray of int, shape (K,)
        Site, tower type and funding channel of each option.
    capex_idr : ndarray, shape (K,)
        Capital cost of each option (every payer).
    pay, opex : ndarray, shape (K, C)
        What each channel pays of each option: capital cost, running cost per year.
    weight, area_km2 : ndarray, shape (U,)
        People and area of each demand unit.
    unit_village : ndarray of int, shape (U,)
        Village row of each unit.
    covered_end : ndarray of bool, shape (U,)
        Units served in the programme's last year.
    used_sites : ndarray of bool, shape (n_sites,)
        Sites the programme builds on.
    spend, budget : ndarray, shape (Y, C)
        The programme's spending and the budgets, rupiah.
    first_open : int
        Index of the first year open to new towers.
    """

    cover: sp.csr_matrix
    site: np.ndarray
    type_index: np.ndarray
    channel_index: np.ndarray
    capex_idr: np.ndarray
    pay: np.ndarray
    opex: np.ndarray
    weight: np.ndarray
    area_km2: np.ndarray
    unit_village: np.ndarray
    covered_end: np.ndarray
    used_sites: np.ndarray
    spend: np.ndarray
    budget: np.ndarray
    first_open: int


def programme_why_not(inp: WhyNotProgramme, blank_villages: np.ndarray, *,
                      blank_below: float, carry_over: bool) -> pd.DataFrame:
    """Return, for each blank village, its cheapest option and what would add it.

    Parameters
    ----------
    inp : WhyNotProgramme
    blank_villages : ndarray of int
        Rows of the villages blank at the end of the programme.
    blank_below, carry_over
        ``[coverage] blank_below`` and ``[programme] carry_over``.

    Returns
    -------
    pandas.DataFrame
        One row per blank village: ``village`` (row), ``option`` (-1 = none), ``year`` (index,
        -1 = none), ``people_new``, ``cost_per_person_idr``, ``extra_budget_idr`` (total),
        ``extra`` (array per channel) and ``reason``.
    """
    cover = inp.cover.tocsc()
    usable = ~inp.used_sites[inp.site] if len(inp.site) else np.zeros(0, bool)
    n_years = inp.spend.shape[0]
    rows = []
    for v in np.asarray(blank_villages, dtype=np.int64):
        units = np.flatnonzero(inp.unit_village == v)
        total = float(inp.weight[units].sum())
        value = inp.weight if total > 0 else inp.area_km2
        whole = total if total > 0 else float(inp.area_km2[units].sum())
        have = float(value[units][inp.covered_end[units]].sum())
        free = units[~inp.covered_end[units]]
        sub = cover[:, free]
        gained = np.asarray(sub @ value[free], dtype=float).ravel()
        people = np.asarray(sub @ inp.weight[free], dtype=float).ravel()
        reach = usable & (gained > 0)
        lifts = reach & ((have + gained) / max(whole, 1e-12) >= blank_below)
        pool = lifts if lifts.any() else reach
        row: dict[str, object] = {"village": int(v), "option": -1, "year": -1,
                                  "people_new": np.nan, "cost_per_person_idr": np.nan,
                                  "extra_budget_idr": np.nan,
                                  "extra": np.full(inp.spend.shape[1], np.nan),
                                  "reason": "no_candidate"}
        if pool.any():
            per_person = np.where(pool & (people > 0),
                                  inp.capex_idr / np.where(people > 0, people, 1.0), np.inf)
            order = np.lexsort((inp.capex_idr, per_person))
            best = int(order[0])
            same = np.flatnonzero(pool & (inp.site == inp.site[best])
                                  & (inp.type_index == inp.type_index[best]))
            choice = min(((float(extra.sum()), y, int(k), extra)
                          for k in same for y in range(inp.first_open, n_years)
                          for extra in (extra_budget_idr(inp.spend, inp.budget, inp.pay[k],
                                                         inp.opex[k], y,
                                                         carry_over=carry_over),)),
                         key=lambda c: (c[0], c[1], c[2]), default=None)
            row.update(option=best, people_new=float(people[best]),
                       cost_per_person_idr=float(per_person[best]),
                       reason="no_single" if not lifts.any() else "over_budget")
            if choice is not None:
                total_extra, year, option, extra = choice
                row.update(option=option, year=year, extra_budget_idr=total_extra,
                           extra=extra, people_new=float(people[option]),
                           cost_per_person_idr=float(per_person[option]))
                if lifts.any() and total_extra <= 0:
                    row["reason"] = "lower_yield"
        rows.append(row)
    return pd.DataFrame(rows, columns=["village", "option", "year", "people_new",
                                       "cost_per_person_idr", "extra_budget_idr", "extra",
                                       "reason"])
