"""Stage ``before``: each village's coverage statistics and blank-spot status today, from
the signal reports where a village has one and from the model elsewhere (with the units the
coverage maps cover at the target counted as served)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from towerplan.analysis.evidence import before_state
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.inputs import VectorInputs
    from towerplan.pipeline.stages.existing import ExistingCoverage

__all__ = ["STAGE"]


def _before(ctx: StageContext, *, load: VectorInputs, demand: DemandUnits,
            existing_coverage: ExistingCoverage, coverage_maps: MapCoverage) -> pd.DataFrame:
    sc = ctx.scenario
    best = existing_coverage.points
    return before_state(demand, load.villages["code"].astype(str).tolist(),
                        best.rsrp_dbm >= sc.radio.threshold_rsrp_dbm, best.rsrp_dbm,
                        best.server, load.signal_reports, target=sc.coverage.target,
                        blank_below=sc.coverage.blank_below,
                        covered_at_least=sc.coverage.covered_at_least,
                        covered_maps=coverage_maps.covered if coverage_maps.maps else None)


STAGE = Stage(name="before", run=_before,
              needs=("load", "demand", "existing_coverage", "coverage_maps"),
              reads=("radio.threshold_rsrp_dbm", "coverage.blank_below",
                     "coverage.covered_at_least", "coverage.target"))
