"""The adapter from a scenario's ``[selection]`` to the matrix core of :mod:`.selection`.

:func:`selection_options` is the one translation of the scenario's selection rules
(must-include / must-exclude ids, at most N per kecamatan, minimum share per blank village,
the objective) into the keyword options of
:func:`~towerplan.analysis.selection.select_sites`; the plan, the sweep, the audit and the
joint backhaul model all use it. :func:`select_many` runs the scenario's method and the
greedy baseline for one or more budgets.

Objectives (``[selection] objective`` or the weighted sum of ``[selection.weights]``), as
:class:`~towerplan.analysis.selection.Objective`: ``people`` and ``blank_people`` weigh each
demand unit by its people (``blank_people`` only in villages blank today), ``facilities``
by the public facilities placed on it, and ``blank_villages`` adds a value for each village
blank today whose served share reaches ``coverage.covered_at_least`` after the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from towerplan.analysis.problem import SelectionProblem
from towerplan.analysis.selection import (
    Objective,
    SelectionResult,
    blank_village_shares,
    select_sites,
    select_sites_sweep,
)
from towerplan.analysis.selection_regions import kabupaten_of, select_by_region
from towerplan.errors import InfeasibleSelectionError, InputDataError, ScenarioError
from towerplan.scenario import Selection

__all__ = ["by_kabupaten", "objective_of", "select_many", "selection_options"]


def objective_of(rules: Selection, problem: SelectionProblem, *,
                 covered_at_least: float) -> Objective | None:
    """The :class:`Objective` of the rules' terms; None for people alone (the default).

    Parameters
    ----------
    rules : towerplan.scenario.Selection
        The scenario's ``[selection]``.
    problem : SelectionProblem
        Demand units, today's state and its blank villages.
    covered_at_least : float, keyword-only
        Share of a village's demand that makes it served (``coverage.covered_at_least``).

    Raises
    ------
    InputDataError
        When the objective counts facilities and no public facility lies on the demand.
    """
    terms = rules.terms
    if terms == {"people": 1.0}:
        return None
    units, state = problem.state.units, problem.state
    blank = np.asarray(state.blank_villages, dtype=bool)
    in_blank = blank[units.village]
    value = np.zeros(len(units))
    value += terms.get("people", 0.0) * units.weight
    value += terms.get("blank_people", 0.0) * np.where(in_blank, units.weight, 0.0)
    if "facilities" in terms:
        count = units.facility_count
        if len(count) != len(units) or not count.sum() > 0:
            msg = ("the selection objective counts public facilities, but none lies on the "
                   "villages' demand: set 'inputs.facilities' (a CSV of lon,lat points inside "
                   "the villages) or choose another objective")
            raise InputDataError(msg)
        value += terms["facilities"] * count
    lift = None
    if "blank_villages" in terms:
        lift = blank_village_shares(units.village, units.weight, blank, covered_at_least)
    return Objective(value, lift, terms.get("blank_villages", 0.0))


def selection_options(rules: Selection, problem: SelectionProblem, *,
                      with_groups: bool = True,
                      covered_at_least: float | None = None) -> dict[str, Any]:
    """Keyword options of :func:`~towerplan.analysis.selection.select_sites` from the rules.

    Parameters
    ----------
    rules : towerplan.scenario.Selection
        The scenario's ``[selection]``.
    problem : SelectionProblem
        Candidates (``site_id``, ``district_code``) and today's state.
    with_groups : bool, keyword-only
        Apply ``max_per_kecamatan`` (default True).
    covered_at_least : float, optional, keyword-only
        ``coverage.covered_at_least``; needed by the ``blank_villages`` objective, and the
        objective is left out (people) when it is None.

    Raises
    ------
    ScenarioError
        When ``must_include`` / ``must_exclude`` name ids that are not candidates.
    """
    cands = problem.candidates
    index = {str(sid): j for j, sid in enumerate(cands["site_id"])}
    unknown = [s for s in (*rules.must_include, *rules.must_exclude) if s not in index]
    if unknown:
        msg = (f"'selection.must_include'/'must_exclude' name unknown candidate ids: "
               f"{', '.join(unknown[:5])}; see candidates in plan.gpkg for valid ids")
        raise ScenarioError(msg)
    kwargs: dict[str, Any] = {
        "must_include": [index[s] for s in rules.must_include],
        "must_exclude": [index[s] for s in rules.must_exclude],
    }
    if with_groups and rules.max_per_kecamatan:
        kwargs["groups"] = cands["district_code"].astype(str).to_numpy()
        kwargs["max_per_group"] = rules.max_per_kecamatan
    if rules.min_share_blank_village > 0:
        units = problem.state.units
        kwargs["unit_group"] = units.village
        kwargs["min_share"] = blank_village_shares(units.village, units.weight,
                                                   problem.state.blank_villages,
                                                   rules.min_share_blank_village)
    if covered_at_least is not None:
        objective = objective_of(rules, problem, covered_at_least=covered_at_least)
        if objective is not None:
            kwargs["unit_group"] = problem.state.units.village
            kwargs["objective"] = objective
    return kwargs


def select_many(rules: Selection, problem: SelectionProblem, budgets: Sequence[float], *,
                covered_at_least: float,
                progress: Callable[[str], None] | None = None
                ) -> list[tuple[SelectionResult, SelectionResult]]:
    """The rules' method and the greedy baseline for each budget.

    The exact model is prepared once and warm-started from budget to budget
    (:func:`~towerplan.analysis.selection.select_sites_sweep`). *progress* gets
    ``"selection i/n budgets"`` after each exact solve. *covered_at_least* is
    ``coverage.covered_at_least`` (for the ``blank_villages`` objective).

    Returns
    -------
    list of (SelectionResult, SelectionResult)
        Per budget: the selection by ``rules.method`` and the greedy one.

    Raises
    ------
    InfeasibleSelectionError
        When the minimum shares cannot be met; the message names each village short of its
        share (name and code) with the best share any selection within the budget gives it,
        one line each in ``details``.
    """
    kwargs = selection_options(rules, problem, covered_at_least=covered_at_least)
    state = problem.state
    costs = problem.costs
    weight, covered = state.units.weight, state.covered
    try:
        exact: list[SelectionResult] = []
        if rules.method == "milp-by-kabupaten":
            exact = [by_kabupaten(problem, b, time_limit_s=rules.time_limit_s)
                     for b in budgets]
        elif rules.method != "greedy":
            exact = select_sites_sweep(problem.matrix, weight, costs, list(budgets), covered,
                                       time_limit_s=rules.time_limit_s,
                                       progress=lambda done, total: _step(progress, done, total),
                                       **kwargs)
        greedy = [select_sites(problem.matrix, weight, costs, b, covered, "greedy", **kwargs)
                  for b in budgets]
    except InfeasibleSelectionError as exc:
        raise _named(exc, problem) from None
    if rules.method == "greedy":
        return [(g, g) for g in greedy]
    return list(zip(exact, greedy, strict=True))


def by_kabupaten(problem: SelectionProblem, budget: float, *,
                 time_limit_s: float | None = None) -> SelectionResult:
    """Method ``milp-by-kabupaten``: the exact selection of each kabupaten (of the candidates'
    and the demand units' village codes) under one *budget*
    (:func:`~towerplan.analysis.selection_regions.select_by_region`), as a
    :class:`SelectionResult` without a gap or a bound (not proven optimal for the whole
    area). The rules it cannot keep are refused by the scenario's ``[selection]`` check.
    """
    state = problem.state
    codes = state.villages["code"].to_numpy()
    village = np.asarray(state.units.village)
    unit_region = np.where(village >= 0, kabupaten_of(codes[np.maximum(village, 0)]), "")
    site_region = kabupaten_of(problem.candidates["village_code"].to_numpy())
    res = select_by_region(problem.matrix, state.units.weight, problem.costs, budget,
                           site_region, unit_region, state.covered, time_limit_s=time_limit_s)
    n = len(res.budget_by_region)
    status = (f"decomposed: exact in each of {n} kabupaten, the budget shared on a lattice of "
              f"Rp {res.step_idr / 1e6:,.0f} million ({res.solves} solves); not proven "
              "optimal for the whole area")
    return SelectionResult(res.sites, res.objective, res.cost, None, None,
                           "milp by kabupaten (HiGHS)", status, res.runtime_s)


def _step(progress: Callable[[str], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(f"selection {done}/{total} budgets")


def _named(exc: InfeasibleSelectionError, problem: SelectionProblem
           ) -> InfeasibleSelectionError:
    """*exc* with the villages short of their minimum share named, one line each."""
    if not exc.shortfalls:
        return exc
    villages = problem.state.villages
    short = exc.shortfalls
    together = all(s.reachable >= s.required - 1e-9 for s in short)
    lines = []
    for s in short:
        row = villages.iloc[int(s.village)]
        reach = (f"reaches {100 * s.reachable:.1f} % on its own" if together
                 else f"at most {100 * s.reachable:.1f} % reachable within the budget")
        lines.append(f"{row['name']} ({row['code']}): needs {100 * s.required:.4g} % of its "
                     f"demand served, {reach}")
    budget = f"Rp {short[0].budget:,.0f}"
    if together:
        msg = (f"'selection.min_share_blank_village': {len(short)} villages cannot all reach "
               f"their minimum share together within the budget {budget}, though each can "
               "on its own:")
    else:
        msg = (f"'selection.min_share_blank_village': {len(short)} village(s) cannot reach "
               f"their minimum share within the budget {budget}:")
    return InfeasibleSelectionError(msg, status=exc.status, shortfalls=short,
                                    details=tuple(lines))
