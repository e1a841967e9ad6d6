"""Stage ``demand``: demand units (grid cells in villages, or settlements) and their weights."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np

from towerplan.analysis.blankspots import DemandUnits, build_demand_units
from towerplan.io.rasters import demand_grid
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from towerplan.inputs import TerrainInputs, VectorInputs

__all__ = ["STAGE"]


def _demand(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs) -> DemandUnits:
    cell_m = ctx.scenario.coverage.demand_cell_m
    villages = load.villages
    grid = demand_grid(tuple(villages.total_bounds), cell_m)
    st = load.settlements
    st_xy = np.column_stack([st.geometry.x, st.geometry.y]) if st is not None and len(st) \
        else None
    st_pop = st["population"].to_numpy(float) if st is not None and len(st) else None
    vpop = villages["population"].to_numpy(float)
    units = build_demand_units(
        villages.geometry.to_numpy(), cell_m,
        village_population=vpop if np.isfinite(vpop).all() else None,
        settlement_xy=st_xy, settlement_population=st_pop, population_grid=terrain.population,
        grid=grid)
    if load.population_note and units.basis == "population" and np.allclose(
            np.bincount(units.village, weights=units.weight, minlength=len(vpop)), vpop):
        units = dataclasses.replace(units, basis_note=f"{load.population_note}; spread evenly "
                                                      "over each village's area")
    return units


STAGE = Stage(name="demand", run=_demand, needs=("load", "terrain"), label="demand",
              reads=("coverage.demand_cell_m",))
