"""Stage ``backhaul``: hops from the network to every candidate over the terrain, and each
candidate's cost with its own cheapest backhaul (fibre, microwave, VSAT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from towerplan.analysis.backhaul_plan import BackhaulPlan, plan_backhaul
from towerplan.analysis.problem import with_demand_alone
from towerplan.inputs import combine_inputs
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import scipy.sparse as sp

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.existing import ExistingCoverage

__all__ = ["STAGE", "CostedCandidates"]


@dataclass(frozen=True, slots=True)
class CostedCandidates:
    """Candidates with their backhaul costed.

    Attributes
    ----------
    plan : BackhaulPlan
        Hops, graph and per-site backhaul of every candidate (disabled for
        ``[backhaul] model = "fixed"`` or without points of presence).
    candidates : pandas.DataFrame
        The candidates with ``cost_backhaul_idr`` / ``cost_total_idr`` of the plan.
    """

    plan: BackhaulPlan
    candidates: pd.DataFrame


def _backhaul(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
              demand: DemandUnits, existing_coverage: ExistingCoverage,
              candidates: pd.DataFrame, candidate_coverage: sp.csr_matrix) -> CostedCandidates:
    threshold = ctx.scenario.radio.threshold_rsrp_dbm
    covered = existing_coverage.points.rsrp_dbm >= threshold
    if (later := existing_coverage.committed_covered(threshold)) is not None:
        covered = covered | later
    fresh = np.where(covered, 0.0, demand.weight)
    with_gain = with_demand_alone(candidates, candidate_coverage, fresh)
    plan, costed = plan_backhaul(ctx.scenario, combine_inputs(load, terrain), with_gain,
                                 progress=ctx.progress)
    return CostedCandidates(plan, costed.drop(columns=["demand_alone"]))


STAGE = Stage(name="backhaul", run=_backhaul,
              needs=("load", "terrain", "demand", "existing_coverage", "candidates",
                     "candidate_coverage"),
              label="backhaul",
              reads=("backhaul", "costs.backhaul", "costs.vsat", "radio.threshold_rsrp_dbm"))
