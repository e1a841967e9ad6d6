"""Stage ``terrain``: DEM, land cover, land mask and population raster on the working grid."""

from __future__ import annotations

from typing import Any

from towerplan.inputs import TerrainInputs, VectorInputs, load_terrain, resolve_paths
from towerplan.pipeline.graph import Stage, StageContext, file_fingerprint
from towerplan.scenario import Scenario

__all__ = ["STAGE"]


def _terrain(ctx: StageContext, *, load: VectorInputs) -> TerrainInputs:
    return load_terrain(ctx.scenario, load)


def _files(scenario: Scenario) -> list[Any]:
    paths = resolve_paths(scenario)  # reports name files relative to the scenario's folder
    return [*file_fingerprint(paths.terrain_files()), str(paths.base_dir)]


STAGE = Stage(
    name="terrain", run=_terrain, needs=("load",), label="terrain",
    reads=("terrain", "radio.max_radius_km", "coverage.demand_cell_m", "inputs.dem",
           "inputs.landcover", "inputs.landmask", "inputs.population", "demo"),
    fingerprint=_files)
