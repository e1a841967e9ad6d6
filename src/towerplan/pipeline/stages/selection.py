"""Stage ``selection``: the sites to build within the budget (the scenario's method and the
greedy baseline), with the backhaul model applied (per-site, or the joint site-and-backhaul
MILP)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towerplan.analysis.backhaul_choice import BackhaulOutcome, check_objective, finish_backhaul
from towerplan.analysis.selection import SelectionResult
from towerplan.analysis.selection_plan import select_many
from towerplan.pipeline.assemble import current_state, selection_problem
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.backhaul import CostedCandidates
    from towerplan.pipeline.stages.existing import ExistingCoverage

__all__ = ["STAGE", "Chosen"]


@dataclass(frozen=True, slots=True)
class Chosen:
    """The selection of a plan.

    Attributes
    ----------
    selection : SelectionResult
        The sites chosen (by the scenario's method, or the joint backhaul MILP).
    greedy : SelectionResult
        The greedy baseline for the same budget.
    backhaul : BackhaulOutcome
        Links, ranking columns and summary of the chosen sites' backhaul; with the per-site
        model, without the comparison with the joint model (stage ``backhaul_comparison``).
    candidates : pandas.DataFrame
        Candidates with the costs of the backhaul model used.
    per_site : SelectionResult
        The selection under per-site backhaul costs (equal to ``selection`` unless the
        joint model chose).
    """

    selection: SelectionResult
    greedy: SelectionResult
    backhaul: BackhaulOutcome
    candidates: pd.DataFrame
    per_site: SelectionResult


def _select(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
            demand: DemandUnits, existing_coverage: ExistingCoverage, before: pd.DataFrame,
            backhaul: CostedCandidates, candidate_coverage: sp.csr_matrix,
            coverage_maps: MapCoverage) -> Chosen:
    sc = ctx.scenario
    check_objective(sc)
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    (exact, greedy), = select_many(sc.selection, problem, [sc.budget.total_idr],
                                   covered_at_least=sc.coverage.covered_at_least)
    chosen, outcome, final = finish_backhaul(backhaul.plan, sc, problem, exact,
                                             defer_comparison=True)
    return Chosen(chosen, greedy, outcome, final.drop(columns=["demand_alone"]), exact)


STAGE = Stage(name="selection", run=_select,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps"),
              label="selection",
              reads=("budget", "selection", "backhaul", "radio", "costs.backhaul_idr",
                     "coverage.covered_at_least"))
