"""Stage ``base_layers``: the map's relief image and today's coverage image and outline
(:mod:`towerplan.outputs.layers`), which a new budget does not change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.io.rasters import RasterGrid
from towerplan.outputs.layers import base_layers
from towerplan.pipeline.graph import Stage, StageContext
from towerplan.results import BaseLayers

if TYPE_CHECKING:
    from towerplan.inputs import TerrainInputs
    from towerplan.pipeline.stages.existing import ExistingCoverage

__all__ = ["STAGE"]


def _layers(ctx: StageContext, *, terrain: TerrainInputs,
            existing_coverage: ExistingCoverage) -> BaseLayers:
    dem = terrain.dem
    before = RasterGrid(existing_coverage.grid.rsrp_dbm, dem.transform, dem.crs, None)
    return base_layers(dem, before, ctx.scenario.radio.threshold_rsrp_dbm)


STAGE = Stage(name="base_layers", run=_layers, needs=("terrain", "existing_coverage"),
              label="map layers", reads=("radio.threshold_rsrp_dbm",))
