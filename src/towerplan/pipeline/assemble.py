"""Cheap assembly of stage results into the value objects the analysis adapters read.

:func:`current_state` (today's state) and :func:`selection_problem` (candidates and their
coverage) are recomputed from cached stage results rather than cached themselves: they only
combine references, so storing them would duplicate the terrain in the cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from towerplan.analysis.problem import CurrentState, SelectionProblem, Sites, with_demand_alone
from towerplan.coverage.context import radio_context
from towerplan.inputs import combine_inputs

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.existing import ExistingCoverage
    from towerplan.scenario import Radio

__all__ = ["current_state", "selection_problem"]


def current_state(radio: Radio, load: VectorInputs, terrain: TerrainInputs,
                  demand: DemandUnits, existing: ExistingCoverage,
                  before: pd.DataFrame, maps: MapCoverage | None = None) -> CurrentState:
    """Today's state from the results of the first stages (reads ``[radio]``); *maps* are
    the coverage maps' units (stage ``coverage_maps``)."""
    link, context = radio_context(radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    return CurrentState(combine_inputs(load, terrain), link, context, load.villages, demand,
                        Sites.from_points(load.towers), existing.points, before,
                        None if maps is None or not maps.maps else maps.covered,
                        existing.committed_covered(radio.threshold_rsrp_dbm))


def selection_problem(state: CurrentState, candidates: pd.DataFrame,
                      matrix: object) -> SelectionProblem:
    """The selection problem: candidates (with ``demand_alone``) and their coverage."""
    cands = with_demand_alone(candidates, matrix, state.fresh_weight)
    return SelectionProblem(state, cands, Sites.from_xy_columns(cands), matrix)
