"""``towerplan coverage SCENARIO``: best-server rasters of a scenario's existing towers.

The scenario's inputs are loaded on the working grid (pandas and geopandas); the rasters are
those of :mod:`towerplan.commands.coverage`, which covers given sites over a DEM without them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from towerplan.commands.coverage import Clock, CoverageResult, with_radio, write_coverage
from towerplan.inputs import load_inputs
from towerplan.pipeline.plan import ensure_demo_survey

if TYPE_CHECKING:
    from towerplan.pipeline.graph import ProgressFn
    from towerplan.scenario import Scenario

__all__ = ["coverage_of_towers"]


def coverage_of_towers(scenario: Scenario, out: str | Path, *, height_m: float | None = None,
                       radius_km: float | None = None, freq_mhz: float | None = None,
                       model: str | None = None, overwrite: bool = False,
                       progress: ProgressFn | None = None) -> CoverageResult:
    """Coverage of a scenario's existing towers: ``towerplan coverage SCENARIO``.

    *height_m*, *radius_km*, *freq_mhz* and *model* override ``[radio]``.

    Raises
    ------
    ScenarioError
        When an override is invalid.
    """
    clock = Clock()
    with clock.phase("inputs"):
        scenario = with_radio(scenario, height_m=height_m, radius_km=radius_km,
                              freq_mhz=freq_mhz, model=model)
    if progress is not None:
        progress("inputs")
    with clock.phase("inputs"):
        ensure_demo_survey(scenario)
        data = load_inputs(scenario)
    if progress is not None:
        progress("coverage")
    towers = data.towers
    xy = (np.column_stack([towers.geometry.x, towers.geometry.y]) if len(towers)
          else np.empty((0, 2)))
    heights = towers["height_m"].to_numpy(float) if len(towers) else np.empty(0)
    return write_coverage(scenario, data.dem, data.landcover, xy, heights,
                          tuple(towers["tower_id"].astype(str)), Path(out),
                          overwrite=overwrite, clock=clock, source_cell_m=data.source_cell_m)
