"""``towerplan sweep``: coverage against budget for the exact selection and the greedy rule."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from towerplan.analysis.selection import covered_weight
from towerplan.analysis.selection_plan import select_many
from towerplan.commands.plan import CacheArg
from towerplan.i18n import check_lang, t
from towerplan.io.atomic import atomic_output
from towerplan.io.outdir import staged_directory
from towerplan.outputs.charts import sweep_png
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run, selection_problem
from towerplan.scenario import Scenario

__all__ = ["sweep"]


def sweep(scenario: Scenario, budgets: Sequence[float], out_dir: str | Path, *,
          overwrite: bool = False, lang: str | None = None,
          progress: ProgressFn | None = None, cache: CacheArg = True) -> pd.DataFrame:
    """Coverage against rupiah for the MILP and greedy: ``towerplan sweep`` (sweep.csv,
    sweep.png). Returns the table.

    ``marginal_demand_per_extra_tower`` is the MILP's demand gained since the previous budget
    (the first: since no new tower) per tower's worth (``costs.tower_idr``) of extra budget,
    so it stays defined when more money buys better rather than more sites. *lang* is the
    language of sweep.png (default ``scenario.outputs.lang``).
    """
    language = check_lang(lang or scenario.outputs.lang)
    with staged_directory(Path(out_dir), overwrite=overwrite) as staging:
        problem = selection_problem(new_run(scenario, cache=cache, progress=progress))
        state = problem.state
        if progress is not None:
            progress(f"selection 0/{len(budgets)} budgets")
        results = select_many(scenario.selection, problem, budgets, progress=progress,
                              covered_at_least=scenario.coverage.covered_at_least)
        fresh = state.fresh_weight
        table = _table(budgets, results, float(state.units.weight[state.covered].sum()),
                       float(state.units.weight.sum()), scenario.costs.tower_idr,
                       lambda sites: covered_weight(problem.matrix, fresh, sites))
        with atomic_output(staging / "sweep.csv") as tmp:
            table.to_csv(tmp, index=False, lineterminator="\n")
        png = sweep_png(table["budget_idr"].to_numpy(float),
                        table["demand_covered_milp"].to_numpy(float),
                        table["demand_covered_greedy"].to_numpy(float),
                        table["marginal_demand_per_extra_tower"].to_numpy(float),
                        title=scenario.scenario.title,
                        unit=t("unit.people" if state.units.basis == "population"
                               else "unit.km2", language), lang=language)
        with atomic_output(staging / "sweep.png") as tmp:
            Path(tmp).write_bytes(png)
    return table


def _table(budgets: Sequence[float], results: list, base: float, total: float,
           tower_idr: float, gained: Callable[[Sequence[int]], float]) -> pd.DataFrame:
    """One row per budget; *gained* gives the demand a selection newly covers (whatever the
    objective maximised), the greedy shortfall compares objectives."""
    rows = []
    prev_demand, prev_budget = base, 0.0
    for budget, (exact, greedy) in zip(budgets, results, strict=True):
        demand = base + gained(exact.sites)
        extra = (budget - prev_budget) / tower_idr  # towers' worth of extra budget
        rows.append({
            "budget_idr": budget, "towers_milp": len(exact.sites), "spent_milp_idr": exact.cost,
            "demand_covered_milp": round(demand, 3),
            "share_covered_milp": round(demand / total, 5) if total else 0.0,
            "gap_milp": exact.gap, "towers_greedy": len(greedy.sites),
            "spent_greedy_idr": greedy.cost,
            "demand_covered_greedy": round(base + gained(greedy.sites), 3),
            "greedy_shortfall_pct": round(100 * (1 - greedy.objective / exact.objective), 3)
            if exact.objective > 0 else 0.0,
            "marginal_demand_per_extra_tower": round((demand - prev_demand) / extra, 3)
            if extra > 0 else 0.0,
        })
        prev_demand, prev_budget = demand, budget
    return pd.DataFrame(rows)
