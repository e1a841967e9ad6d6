"""The layers of the outputs that depend only on the terrain and today's coverage.

The map's relief image and today's coverage image (:mod:`towerplan.outputs.map_rasters`),
and the outline of today's coverage in ``plan.gpkg``
(:func:`towerplan.outputs.exports.coverage_polygons`), are the same for every budget. The
plan computes them once in its stage ``base_layers`` and keeps them in the stage cache, so a
re-plan with another budget does not draw and outline them again; the writers draw them
themselves when a result comes without them, or with them made at another threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.outputs.exports import coverage_polygons
from towerplan.outputs.map_rasters import coverage_uri, relief_uri
from towerplan.results import BaseLayers, MapImage

if TYPE_CHECKING:
    from towerplan.io.rasters import RasterGrid

__all__ = ["base_layers"]


def base_layers(dem: RasterGrid, rsrp_before: RasterGrid,
                threshold_rsrp_dbm: float) -> BaseLayers:
    """Draw the relief of *dem*, and the image and outline of *rsrp_before* (dBm) at
    *threshold_rsrp_dbm*: what the map and ``plan.gpkg`` would draw from them."""
    relief = MapImage(*relief_uri(dem))
    before = MapImage(*coverage_uri(rsrp_before, threshold_rsrp_dbm))
    outline = coverage_polygons(rsrp_before.array, rsrp_before.transform, threshold_rsrp_dbm)
    return BaseLayers(float(threshold_rsrp_dbm), relief, before, outline)
