"""Stage ``coverage_maps``: what the operator or crowd coverage maps (``[inputs]
coverage_maps``) show at every demand unit and on the terrain grid, at the coverage target."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.analysis.coverage_maps import MapCoverage, map_coverage
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.inputs import TerrainInputs, VectorInputs

__all__ = ["STAGE"]


def _maps(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
          demand: DemandUnits) -> MapCoverage:
    target = ctx.scenario.coverage.target
    if not load.coverage_maps:
        return MapCoverage.empty(len(demand.weight), target)
    dem = terrain.dem
    return map_coverage(load.coverage_maps, demand, load.crs, target,
                        grid=(dem.transform, dem.shape))


STAGE = Stage(name="coverage_maps", run=_maps, needs=("load", "terrain", "demand"),
              reads=("coverage.target",))
