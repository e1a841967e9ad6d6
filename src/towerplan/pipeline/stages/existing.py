"""Stage ``existing_coverage``: the existing towers' best server at every demand unit and on
the terrain grid (each tower evaluated once for both).

Only towers that serve the coverage target count as coverage at the target
(:func:`~towerplan.io.towers.counts_at_target`: with ``[coverage] target = "4g"`` a 2G or 3G
tower does not; a tower of unknown technology is assumed to). The towers below the target
are kept apart (``points_any``: where some signal reaches, for the semi-blank rule), and so
are the committed towers that go on air after the plan year (``committed``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from towerplan.analysis.problem import Sites
from towerplan.coverage.composite import BestServer, best_server_both, combine
from towerplan.coverage.context import radio_context, site_antennas
from towerplan.io.towers import counts_at_target
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.radio.antenna import AntennaPattern
    from towerplan.scenario import Scenario

__all__ = ["STAGE", "ExistingCoverage", "at_target", "future_committed"]


@dataclass(frozen=True, slots=True)
class ExistingCoverage:
    """Today's coverage by the existing towers.

    Attributes
    ----------
    points : BestServer
        At each demand unit, of the towers on air by the plan year that serve the coverage
        target (server = index into ``load.towers``).
    grid : BestServer
        The same on the terrain grid (``coverage_before.tif``).
    points_any : BestServer or None
        At each demand unit, of every tower on air whatever its technology; None when every
        tower serves the target (then equal to ``points``).
    committed : BestServer or None
        At each demand unit, of the committed towers that go on air after the plan year and
        serve the target (server = index into ``committed_years``); None without any.
    committed_years : numpy.ndarray
        On-air year of each of those committed towers.
    """

    points: BestServer
    grid: BestServer
    points_any: BestServer | None = None
    committed: BestServer | None = None
    committed_years: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def committed_covered(self, threshold_rsrp_dbm: float) -> np.ndarray | None:
        """Demand units the later committed towers will serve at the target (bool), or None."""
        if self.committed is None:
            return None
        return np.asarray(self.committed.rsrp_dbm >= threshold_rsrp_dbm)


def at_target(towers: gpd.GeoDataFrame, target: str) -> np.ndarray:
    """Which towers serve the coverage *target* (bool per tower; all without ``technology``)."""
    if "technology" not in towers:
        return np.ones(len(towers), dtype=bool)
    return np.array([counts_at_target(str(t), target) for t in towers["technology"]],
                    dtype=bool)


def future_committed(load: VectorInputs, scenario: Scenario) -> gpd.GeoDataFrame | None:
    """The committed towers that go on air after the plan year (None without a file)."""
    if load.committed is None:
        return None
    committed = load.committed
    return committed[committed["on_air_year"] > scenario.scenario.plan_year]


def _remap(best: BestServer, index: np.ndarray) -> BestServer:
    """*best* with its server indices (into a subset of sites) mapped through *index*."""
    if not len(index):
        return best
    server = np.where(best.server >= 0, index[np.maximum(best.server, 0)], -1)
    return BestServer(best.rsrp_dbm, server.astype(best.server.dtype), best.n_servers)


def _existing(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
              demand: DemandUnits) -> ExistingCoverage:
    sc = ctx.scenario
    link, context = radio_context(sc.radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    dem = terrain.dem
    towers = load.towers
    sites = Sites.from_points(towers)
    antennas = site_antennas(
        link.antenna,
        list(towers["azimuths"].astype(str)) if "azimuths" in towers else None,
        list(towers["beamwidth_deg"].astype(float)) if "beamwidth_deg" in towers else None)

    def evaluate(index: np.ndarray, xy: np.ndarray, height_m: np.ndarray,
                 pattern: list[AntennaPattern] | None) -> tuple[BestServer, BestServer]:
        grid, points = best_server_both(dem.transform, dem.shape, xy[index], height_m[index],
                                        link, context, demand.xy, antennas=pattern)
        return _remap(grid, index), _remap(points, index)

    def patterns(index: np.ndarray) -> list[AntennaPattern] | None:
        return None if antennas is None else [antennas[i] for i in index]

    serves = at_target(towers, sc.coverage.target)
    up, below = np.flatnonzero(serves), np.flatnonzero(~serves)
    grid, points = evaluate(up, sites.xy, sites.height_m, patterns(up))
    points_any = None
    if below.size:
        _, low = evaluate(below, sites.xy, sites.height_m, patterns(below))
        points_any = combine(points, low, offset=0)
    committed, years = None, np.zeros(0, dtype=np.int64)
    later = future_committed(load, sc)
    if later is not None and len(later):
        later = later[at_target(later, sc.coverage.target)]
        csites = Sites.from_points(later)
        every = np.arange(len(later))
        _, committed = evaluate(every, csites.xy, csites.height_m, None)
        years = later["on_air_year"].to_numpy(np.int64)
    return ExistingCoverage(points, grid, points_any, committed, years)


STAGE = Stage(name="existing_coverage", run=_existing, needs=("load", "terrain", "demand"),
              label="coverage before", reads=("radio", "coverage.target", "scenario.year"))
