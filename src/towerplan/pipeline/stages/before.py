"""Stage ``before``: each village's coverage statistics and blank-spot status today, from
the signal reports where a village has one and from the model elsewhere (coverage at the
target by the towers on air by the plan year, with the units the coverage maps cover at the
target counted as served; a village reached only below the target is semi blank), with the
year of the later committed towers that will serve the part of it nothing on air serves at
the target."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from towerplan.analysis.committed import committed_year
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
    threshold = sc.radio.threshold_rsrp_dbm
    best = existing_coverage.points
    some = existing_coverage.points_any
    maps = coverage_maps.covered if coverage_maps.maps else None
    stats = before_state(demand, load.villages["code"].astype(str).tolist(),
                         best.rsrp_dbm >= threshold, best.rsrp_dbm, best.server,
                         load.signal_reports, target=sc.coverage.target,
                         blank_below=sc.coverage.blank_below,
                         covered_at_least=sc.coverage.covered_at_least,
                         covered_maps=maps,
                         covered_any=None if some is None else some.rsrp_dbm >= threshold)
    later = existing_coverage.committed
    if later is not None:
        served_now = best.rsrp_dbm >= threshold
        if maps is not None:
            served_now = served_now | maps
        stats["committed_year"] = committed_year(
            demand, len(load.villages), (later.rsrp_dbm >= threshold) & ~served_now,
            later.server, existing_coverage.committed_years, at_least=sc.coverage.blank_below)
    return stats


STAGE = Stage(name="before", run=_before,
              needs=("load", "demand", "existing_coverage", "coverage_maps"),
              reads=("radio.threshold_rsrp_dbm", "coverage.blank_below",
                     "coverage.covered_at_least", "coverage.target"))
