"""Today's coverage (stage ``existing_coverage``) in batches of towers on the run's executor:
the best server on the grid and at the demand units equals the composite of all towers at
once to the bit, ties included, whatever order the batches finish in."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from tests.unit.coverage.factories import fractal_relief
from towerplan.coverage.composite import BestServer, best_server_both, merge_best
from towerplan.coverage.context import radio_context
from towerplan.io.rasters import RasterGrid
from towerplan.pipeline.executors import Executor, InProcessExecutor, executor_for
from towerplan.pipeline.graph import StageContext
from towerplan.pipeline.stages import existing
from towerplan.radio.antenna import AntennaPattern
from towerplan.scenario import Radio, Scenario

CELL_M = 30.0
ORIGIN = (500_000.0, 9_000_000.0)
RNG = np.random.default_rng(21)
TOWERS = np.array(ORIGIN) + RNG.uniform(500, 11_500, (7, 2)) * np.array([1.0, -1.0])
HEIGHTS = np.array([32.0, 42.0, 42.0, 52.0, 42.0, 60.0, 35.0])
UNITS = np.array(ORIGIN) + RNG.uniform(0, 12_000, (2_500, 2)) * np.array([1.0, -1.0])


def _context(relief_m: float) -> tuple[Any, Any]:
    heights = (fractal_relief(400, seed=3, relief_m=relief_m) if relief_m
               else np.zeros((400, 400), dtype=np.float32))
    dem = RasterGrid(heights, Affine(CELL_M, 0, ORIGIN[0], 0, -CELL_M, ORIGIN[1]),
                     CRS.from_epsg(32748))
    radio = dataclasses.replace(Radio(), model="hata-suburban+deygout", max_radius_km=4.0)
    return radio_context(radio, dem)


class _Reversed(InProcessExecutor):
    """Runs the batches last to first: the merge must not depend on the order."""

    def map_batches(self, fn: Any, tasks: Any, *, shared: Any, progress: Any = None) -> Any:
        for k in reversed(range(len(tasks))):
            yield k, fn(shared, tasks[k])


def _arrays(best: BestServer) -> tuple[bytes, ...]:
    return tuple(a.tobytes() for a in (best.rsrp_dbm, best.server, best.n_servers))


def _batched(executor: Executor, xy: np.ndarray, heights: np.ndarray, link: Any,
             context: Any, antennas: list[AntennaPattern] | None = None
             ) -> tuple[BestServer, BestServer]:
    ctx = StageContext(Scenario(), None, None, "k", "base", "part", executor)
    try:
        return existing.composite_in_batches(ctx, xy, heights, antennas, UNITS, link, context)
    finally:
        executor.close()


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(existing, "TOWERS_PER_BATCH", 2)


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("executor", [InProcessExecutor, _Reversed])
def test_batches_give_the_composite_of_all_towers_to_the_bit(executor: type) -> None:
    link, context = _context(250.0)
    grid, points = _batched(executor(), TOWERS, HEIGHTS, link, context)
    want_grid, want_points = best_server_both(context.transform, context.shape, TOWERS,
                                              HEIGHTS, link, context, UNITS)
    assert np.isfinite(want_grid.rsrp_dbm).mean() > 0.5
    assert len(np.unique(want_points.server)) >= 5
    assert _arrays(grid) == _arrays(want_grid)
    assert _arrays(points) == _arrays(want_points)


@pytest.mark.usefixtures("small_batches")
def test_sectors_of_each_tower_travel_with_its_batch() -> None:
    link, context = _context(250.0)
    antennas = [AntennaPattern(azimuths_deg=(30.0 * i, 30.0 * i + 120.0, 30.0 * i + 240.0))
                if i % 2 else link.antenna for i in range(len(HEIGHTS))]
    grid, points = _batched(_Reversed(), TOWERS, HEIGHTS, link, context, antennas)
    want_grid, want_points = best_server_both(context.transform, context.shape, TOWERS,
                                              HEIGHTS, link, context, UNITS,
                                              antennas=antennas)
    omni, _ = best_server_both(context.transform, context.shape, TOWERS, HEIGHTS, link,
                               context, UNITS)
    assert _arrays(want_grid) != _arrays(omni)
    assert _arrays(grid) == _arrays(want_grid)
    assert _arrays(points) == _arrays(want_points)


def test_a_tie_goes_to_the_lower_tower_whichever_batch_finishes_first(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On flat ground two towers of one height mirrored about a column give equal RSRP to
    the bit on the cells of that column; one tower per batch, the higher number merged
    first, the lower number still serves them, as composing in tower order does."""
    monkeypatch.setattr(existing, "TOWERS_PER_BATCH", 1)
    link, context = _context(0.0)
    axis_x = ORIGIN[0] + 200 * CELL_M + CELL_M / 2  # centre of column 200
    y = ORIGIN[1] - 200 * CELL_M - CELL_M / 2
    towers = np.array([[axis_x - 1_500.0, y], [axis_x + 1_500.0, y]])
    heights = np.array([40.0, 40.0])
    grid, points = _batched(_Reversed(), towers, heights, link, context)
    want, want_points = best_server_both(context.transform, context.shape, towers, heights,
                                         link, context, UNITS)
    column = want.rsrp_dbm[:, 200]
    assert np.isfinite(column).sum() > 50
    alone = [best_server_both(context.transform, context.shape, towers[i:i + 1],
                              heights[i:i + 1], link, context)[0].rsrp_dbm[:, 200]
             for i in (0, 1)]
    assert np.array_equal(alone[0], alone[1], equal_nan=True)  # ties, to the bit
    assert np.all(want.server[np.isfinite(column), 200] == 0)
    assert _arrays(grid) == _arrays(want)
    assert _arrays(points) == _arrays(want_points)


def test_a_tower_whose_window_misses_the_grid_adds_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A tower 50 km off the grid (its own batch: an empty part) serves no cell and no
    unit, as when every tower is composed at once."""
    monkeypatch.setattr(existing, "TOWERS_PER_BATCH", 1)
    link, context = _context(250.0)
    towers = np.vstack([TOWERS[:3], [[ORIGIN[0] - 50_000.0, ORIGIN[1]]]])
    heights = np.full(4, 40.0)
    grid, points = _batched(_Reversed(), towers, heights, link, context)
    want, want_points = best_server_both(context.transform, context.shape, towers, heights,
                                         link, context, UNITS)
    assert 3 not in want.server and 3 not in want_points.server
    assert _arrays(grid) == _arrays(want)
    assert _arrays(points) == _arrays(want_points)


def test_merge_keeps_the_strongest_and_adds_the_counts() -> None:
    nan = np.nan
    best = BestServer(np.array([nan, -90.0, -80.0, -95.0], np.float32),
                      np.array([-1, 4, 4, 6], np.int32), np.array([0, 1, 1, 1], np.uint16))
    part = BestServer(np.array([-100.0, -95.0, -80.0, -95.0], np.float32),
                      np.array([2, 1, 7, 3], np.int32), np.array([1, 1, 1, 0], np.uint16))
    merge_best(best, np.arange(4), part)
    assert best.rsrp_dbm.tolist() == [-100.0, -90.0, -80.0, -95.0]
    assert best.server.tolist() == [2, 4, 4, 3]
    assert best.n_servers.tolist() == [1, 2, 2, 1]


@pytest.mark.usefixtures("small_batches")
def test_a_process_pool_gives_the_in_process_composite() -> None:
    link, context = _context(250.0)
    reference = _batched(InProcessExecutor(), TOWERS, HEIGHTS, link, context)
    found = _batched(executor_for("local:2"), TOWERS, HEIGHTS, link, context)
    for ref, got in zip(reference, found, strict=True):
        assert _arrays(got) == _arrays(ref)
