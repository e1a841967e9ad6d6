"""Stage ``existing_coverage``: the existing towers' best server at every demand unit and on
the terrain grid (each tower evaluated once for both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from towerplan.analysis.problem import Sites
from towerplan.coverage.composite import BestServer, best_server_both
from towerplan.coverage.context import radio_context, site_antennas
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.inputs import TerrainInputs, VectorInputs

__all__ = ["STAGE", "ExistingCoverage"]


@dataclass(frozen=True, slots=True)
class ExistingCoverage:
    """Today's coverage by the existing towers.

    Attributes
    ----------
    points : BestServer
        At each demand unit.
    grid : BestServer
        On the terrain grid (``coverage_before.tif``).
    """

    points: BestServer
    grid: BestServer


def _existing(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
              demand: DemandUnits) -> ExistingCoverage:
    link, context = radio_context(ctx.scenario.radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    sites = Sites.from_points(load.towers)
    dem = terrain.dem
    towers = load.towers
    antennas = site_antennas(
        link.antenna,
        list(towers["azimuths"].astype(str)) if "azimuths" in towers else None,
        list(towers["beamwidth_deg"].astype(float)) if "beamwidth_deg" in towers else None)
    grid, points = best_server_both(dem.transform, dem.shape, sites.xy, sites.height_m, link,
                                    context, demand.xy, antennas=antennas)
    return ExistingCoverage(points, grid)


STAGE = Stage(name="existing_coverage", run=_existing, needs=("load", "terrain", "demand"),
              label="coverage before", reads=("radio",))
