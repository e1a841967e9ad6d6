"""Stage ``candidates``: where a new tower may go, with village, elevation and cost parts
(backhaul at the fixed rate until the backhaul stage costs it)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pandas as pd

from towerplan.analysis.blankspots import COVERED
from towerplan.analysis.candidates import candidate_table
from towerplan.analysis.committed import near_committed
from towerplan.analysis.problem import Sites
from towerplan.analysis.village_lookup import audit_villages
from towerplan.inputs import combine_inputs
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from towerplan.inputs import TerrainInputs, VectorInputs

__all__ = ["STAGE"]

log = logging.getLogger(__name__)


def _candidates(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
                before: pd.DataFrame) -> pd.DataFrame:
    """Candidates in and around every village that is not covered today, and in every
    village an audit names (or holding an audited site); none within
    ``candidates.committed_distance_m`` of a committed tower (any on-air year)."""
    sc = ctx.scenario
    need = before["status"].to_numpy() != COVERED
    extra = audit_villages(sc.audit, load.villages, load.siting)
    if extra is not None:
        need = need | extra
    frame, excluded = candidate_table(sc, combine_inputs(load, terrain), load.villages, need)
    log.info("candidate exclusions: %s", excluded)
    if load.committed is not None and len(load.committed) and len(frame):
        near = near_committed(frame[["x", "y"]].to_numpy(float),
                              Sites.from_points(load.committed).xy,
                              sc.candidates.committed_distance_m)
        log.info("%d candidates within %g m of a committed tower removed", int(near.sum()),
                 sc.candidates.committed_distance_m)
        areas = frame.attrs.get("exclusions", [])
        frame = frame[~near].reset_index(drop=True)
        frame.attrs["exclusions"] = areas
    return frame


STAGE = Stage(name="candidates", run=_candidates, needs=("load", "terrain", "before"),
              label="candidates",
              reads=("candidates", "costs", "radio.tower_height_m", "audit.villages"))
