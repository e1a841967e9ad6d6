"""Stage ``backhaul_comparison``: the per-site backhaul model compared with the joint
site-and-backhaul MILP (``[backhaul] compare``), which changes only the ``backhaul`` entry of
the summary (:func:`~towerplan.analysis.backhaul_choice.compare_backhaul`); the plan solves
it beside the coverage after (HiGHS releases the GIL)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towerplan.analysis.backhaul_choice import compare_backhaul
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
    from towerplan.pipeline.stages.selection import Chosen

__all__ = ["STAGE"]


def _compare(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
             demand: DemandUnits, existing_coverage: ExistingCoverage, before: pd.DataFrame,
             backhaul: CostedCandidates, candidate_coverage: sp.csr_matrix,
             coverage_maps: MapCoverage, selection: Chosen) -> dict[str, Any] | None:
    sc = ctx.scenario
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    return compare_backhaul(backhaul.plan, sc, problem, selection.per_site)


STAGE = Stage(name="backhaul_comparison", run=_compare,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps", "selection"),
              reads=("budget", "selection", "backhaul", "radio", "costs.backhaul_idr",
                     "coverage.covered_at_least"))
