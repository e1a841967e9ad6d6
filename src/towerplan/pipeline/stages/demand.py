"""Stage ``demand``: demand units (grid cells in villages) and the people placed on them."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import shapely
from affine import Affine

from towerplan.analysis.blankspots import DemandUnits, build_demand_units
from towerplan.i18n import join_statements
from towerplan.io.rasters import demand_grid
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.inputs import TerrainInputs, VectorInputs

__all__ = ["STAGE", "footprint_grid"]


def footprint_grid(buildings: gpd.GeoDataFrame, transform: Affine,
                   shape: tuple[int, int]) -> np.ndarray:
    """Building footprint area per demand-grid cell, m2 (each building in the cell of its
    centroid).

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Footprint polygons in the grid's (metric) CRS.
    transform : affine.Affine
        Cell-to-CRS transform of the demand grid.
    shape : tuple of int
        Rows and columns of the demand grid.

    Examples
    --------
    >>> import geopandas as gpd
    >>> b = gpd.GeoDataFrame(geometry=[shapely.box(10, -20, 20, -10)])
    >>> footprint_grid(b, Affine(100, 0, 0, 0, -100, 0), (1, 2)).tolist()
    [[100.0, 0.0]]
    """
    geoms = buildings.geometry.to_numpy()
    centre = shapely.centroid(geoms)
    # a north-up grid (demand_grid): column and row straight from the offsets
    col = np.floor((shapely.get_x(centre) - transform.c) / transform.a).astype(int)
    row = np.floor((shapely.get_y(centre) - transform.f) / transform.e).astype(int)
    inside = (row >= 0) & (row < shape[0]) & (col >= 0) & (col < shape[1])
    flat = row[inside] * shape[1] + col[inside]
    area = np.bincount(flat, weights=shapely.area(geoms)[inside], minlength=shape[0] * shape[1])
    return area.reshape(shape)


def _xy(points: gpd.GeoDataFrame | None) -> np.ndarray | None:
    if points is None or not len(points):
        return None
    return np.column_stack([points.geometry.x, points.geometry.y])


def _demand(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs) -> DemandUnits:
    cell_m = ctx.scenario.coverage.demand_cell_m
    villages = load.villages
    grid = demand_grid(tuple(villages.total_bounds), cell_m)
    st = load.settlements
    st_pop = st["population"].to_numpy(float) if st is not None and len(st) else None
    buildings = None if load.buildings is None else footprint_grid(load.buildings, *grid)
    fac = load.facilities
    fac_w = None
    if fac is not None and len(fac):
        fac_w = fac["weight"].fillna(ctx.scenario.coverage.facility_weight).to_numpy(float)
    units = build_demand_units(
        villages.geometry.to_numpy(), cell_m,
        village_population=villages["population"].to_numpy(float),
        settlement_xy=_xy(st), settlement_population=st_pop,
        population_grid=terrain.population, grid=grid, building_grid=buildings,
        office_xy=_xy(load.village_offices), facility_xy=_xy(fac), facility_weight=fac_w)
    if load.population_note and units.basis == "population":
        units = dataclasses.replace(units, basis_note=join_statements(load.population_note,
                                                                      units.basis_note))
    return units


STAGE = Stage(name="demand", run=_demand, needs=("load", "terrain"), label="demand",
              reads=("coverage.demand_cell_m", "coverage.facility_weight"))
