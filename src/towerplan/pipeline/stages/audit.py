"""Stage ``audit``: a past or proposed choice (``[audit]`` villages and/or sites) against the
optimum for the same budget; None when the scenario names no audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.analysis.audit import PlanAudit, audit_plan
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_chain_text, model_choice
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

__all__ = ["STAGE"]


def _audit(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
           demand: DemandUnits, existing_coverage: ExistingCoverage, before: pd.DataFrame,
           backhaul: CostedCandidates, candidate_coverage: sp.csr_matrix,
           coverage_maps: MapCoverage) -> PlanAudit | None:
    sc = ctx.scenario
    siting = load.siting
    if not sc.audit.villages and (siting is None or siting.audit_sites is None
                                  or not len(siting.audit_sites)):
        return None
    ctx.report("audit")
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    choice = model_choice(sc.radio, dem_cell_m(terrain.dem, terrain.source_cell_m))
    return audit_plan(sc, problem, model_chain=model_chain_text(sc, choice))


STAGE = Stage(name="audit", run=_audit,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps"),
              reads=("audit", "budget", "selection.time_limit_s", "costs", "backhaul", "radio",
                     "terrain.resolution_m", "coverage", "scenario.name"))
