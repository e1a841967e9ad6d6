"""The adapter from a scenario's ``[selection]`` to the matrix core of :mod:`.selection`.

:func:`selection_options` is the one translation of the scenario's selection rules
(must-include / must-exclude ids, at most N per kecamatan, minimum share per blank village)
into the keyword options of :func:`~towerplan.analysis.selection.select_sites`; the plan, the
sweep, the audit and the joint backhaul model all use it. :func:`select_many` runs the
scenario's method and the greedy baseline for one or more budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from towerplan.analysis.problem import SelectionProblem
from towerplan.analysis.selection import (
    SelectionResult,
    blank_village_shares,
    select_sites,
    select_sites_sweep,
)
from towerplan.errors import ScenarioError
from towerplan.scenario import Selection

__all__ = ["select_many", "selection_options"]


def selection_options(rules: Selection, problem: SelectionProblem, *,
                      with_groups: bool = True) -> dict[str, Any]:
    """Keyword options of :func:`~towerplan.analysis.selection.select_sites` from the rules.

    Parameters
    ----------
    rules : towerplan.scenario.Selection
        The scenario's ``[selection]``.
    problem : SelectionProblem
        Candidates (``site_id``, ``district_code``) and today's state.
    with_groups : bool, keyword-only
        Apply ``max_per_kecamatan`` (default True).

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
    return kwargs


def select_many(rules: Selection, problem: SelectionProblem, budgets: Sequence[float], *,
                progress: Callable[[str], None] | None = None
                ) -> list[tuple[SelectionResult, SelectionResult]]:
    """The rules' method and the greedy baseline for each budget.

    The exact model is prepared once and warm-started from budget to budget
    (:func:`~towerplan.analysis.selection.select_sites_sweep`). *progress* gets
    ``"selection i/n budgets"`` after each exact solve.

    Returns
    -------
    list of (SelectionResult, SelectionResult)
        Per budget: the selection by ``rules.method`` and the greedy one.
    """
    kwargs = selection_options(rules, problem)
    state = problem.state
    costs = problem.costs
    weight, covered = state.units.weight, state.covered
    greedy = [select_sites(problem.matrix, weight, costs, b, covered, "greedy", **kwargs)
              for b in budgets]
    if rules.method == "greedy":
        return [(g, g) for g in greedy]

    def step(done: int, total: int) -> None:
        if progress is not None:
            progress(f"selection {done}/{total} budgets")

    exact = select_sites_sweep(problem.matrix, weight, costs, list(budgets),
                               covered, time_limit_s=rules.time_limit_s, progress=step,
                               **kwargs)
    return list(zip(exact, greedy, strict=True))
