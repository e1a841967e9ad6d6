"""Stage ``existing_coverage``: the existing towers' best server at every demand unit and on
the terrain grid (each tower evaluated once for both).

Only towers that serve the coverage target count as coverage at the target
(:func:`~towerplan.io.towers.counts_at_target`: with ``[coverage] target = "4g"`` a 2G or 3G
tower does not; a tower of unknown technology is assumed to). The towers below the target
are kept apart (``points_any``: where some signal reaches, for the semi-blank rule), and so
are the committed towers that go on air after the plan year (``committed``).

With a terrain chain and a scheduler of other processes (``[compute] scheduler``
``local:N``, Dask) the towers are swept on the workers in batches of
:data:`TOWERS_PER_BATCH` towers near each other, each batch with only its part of the
terrain; each batch returns its towers' best server over that part and at the demand units
in their reach, and this process merges the batches as they finish
(:func:`composite_in_batches`): the same composite, to the bit, as sweeping every tower here
(a tie keeps the lower tower number whatever order the batches finish in). A distance-only
chain (closed form) and the in-process scheduler evaluate every tower here, composing one
grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.analysis.problem import Sites
from towerplan.coverage.composite import (
    BestServer,
    best_server_both,
    best_server_part,
    combine,
    merge_best,
)
from towerplan.coverage.context import radio_context, site_antennas
from towerplan.io.towers import counts_at_target
from towerplan.pipeline.graph import Stage, StageContext
from towerplan.pipeline.stages.coverage import (
    SiteBatches,
    spatial_order,
    units_in_reach,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.coverage.composite import TerrainContext
    from towerplan.coverage.raster import LinkParams
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.radio.antenna import AntennaPattern
    from towerplan.scenario import Scenario

__all__ = ["STAGE", "TOWERS_PER_BATCH", "ExistingCoverage", "at_target",
           "composite_in_batches", "future_committed"]

#: Towers per batch on a scheduler of other processes: fewer than the candidates' batches,
#: since existing towers lie farther apart and a batch's part of the grid (sent to the
#: worker, and its best server sent back) spans all of their windows.
TOWERS_PER_BATCH = 16


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
        if context is None or not ctx.distributed:
            # here: a distance-only chain is closed form, and in this process one composite
            # of the whole grid costs less memory than batches over parts of it
            grid, points = best_server_both(dem.transform, dem.shape, xy[index],
                                            height_m[index], link, context, demand.xy,
                                            antennas=pattern)
        else:
            grid, points = composite_in_batches(ctx, xy[index], height_m[index], pattern,
                                                demand.xy, link, context)
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


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every batch of towers needs, sent to each worker once: the demand units
    ``(k, 2)``, m, and the link."""

    demand_xy: np.ndarray
    link: LinkParams


class _TowerBatches(SiteBatches):
    """The executor's tasks: batch *k* is the towers ``chunks[k]`` (their numbers,
    positions, heights and antennas) with the part of the terrain their sweeps read."""

    def __init__(self, xy: np.ndarray, height_m: np.ndarray, chunks: list[np.ndarray],
                 context: TerrainContext, radius_m: float,
                 antennas: list[AntennaPattern] | None) -> None:
        super().__init__(xy, height_m, chunks, context, radius_m)
        self.antennas = antennas

    def __getitem__(self, k: Any) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        xy, height_m, part = super().__getitem__(k)
        idx = self.chunks[k]
        pattern = None if self.antennas is None else [self.antennas[i] for i in idx]
        return idx, xy, height_m, pattern, part


def _tower_batch(shared: _Shared, task: tuple[np.ndarray, np.ndarray, np.ndarray,
                                               list[AntennaPattern] | None, TerrainContext]
                 ) -> tuple[tuple[int, int], BestServer, np.ndarray, BestServer]:
    """One batch of towers: their best server over their part of the grid (with its first
    row and column) and at the demand units in their reach (with those units' indices).
    Runs on a worker of the run's executor."""
    idx, xy, height_m, pattern, part = task
    near = units_in_reach(shared.demand_xy, xy, shared.link.max_radius_m)
    grid, points = best_server_part(idx, xy, height_m, shared.link, part,
                                    shared.demand_xy[near], antennas=pattern)
    return part.offset, grid, near, points


def composite_in_batches(ctx: StageContext, xy: np.ndarray, height_m: np.ndarray,
                         antennas: list[AntennaPattern] | None, demand_xy: np.ndarray,
                         link: LinkParams, context: TerrainContext
                         ) -> tuple[BestServer, BestServer]:
    """Best server of towers ``(n, 2)`` on the whole terrain grid and at the demand units,
    evaluated by the run's executor in batches of :data:`TOWERS_PER_BATCH` towers near each
    other, each with only its part of the terrain, and merged here as each batch finishes
    (:func:`~towerplan.coverage.composite.merge_best`): the same composite, to the bit, as
    :func:`~towerplan.coverage.composite.best_server_both` over all towers at once."""
    n = len(height_m)
    grid, points = BestServer.empty(context.shape), BestServer.empty((len(demand_xy),))
    order = spatial_order(xy)
    chunks = [order[b:b + TOWERS_PER_BATCH] for b in range(0, n, TOWERS_PER_BATCH)]
    tasks = _TowerBatches(xy, height_m, chunks, context, float(link.max_radius_m), antennas)
    done = 0
    for k, ((row, col), part, near, at) in ctx.map_batches(
            _tower_batch, tasks, shared=_Shared(demand_xy, link)):
        rows, cols = part.rsrp_dbm.shape
        merge_best(grid, (slice(row, row + rows), slice(col, col + cols)), part)
        merge_best(points, near, at)
        done += len(chunks[k])
        ctx.report(f"coverage before {done}/{n}")
    return grid, points


STAGE = Stage(name="existing_coverage", run=_existing, needs=("load", "terrain", "demand"),
              label="coverage before", reads=("radio", "coverage.target", "scenario.year"))
