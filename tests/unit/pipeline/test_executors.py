"""Executors of ``[compute] scheduler``: every executor gives the in-process coverage to the
byte, a dead worker fails with one line and leaves a cache the next run resumes from."""

from __future__ import annotations

import dataclasses
import doctest
import functools
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from affine import Affine
from pyproj import CRS

from tests.unit.coverage.factories import fractal_relief
from towerplan.coverage.context import radio_context
from towerplan.errors import ExecutorError, MissingDependencyError, ScenarioError
from towerplan.io.cache import StageCache
from towerplan.io.rasters import RasterGrid
from towerplan.pipeline import executors
from towerplan.pipeline.executors import (
    BatchFn,
    CountFn,
    DaskExecutor,
    Executor,
    InProcessExecutor,
    ProcessPoolExecutor,
    executor_for,
)
from towerplan.pipeline.graph import StageContext
from towerplan.pipeline.stages import coverage
from towerplan.scenario import Compute, Radio, Scenario, parse_scheduler

CELL_M = 30.0
RNG = np.random.default_rng(5)
SITES = np.array([500_000.0, 9_000_000.0]) + RNG.uniform(500, 11_500, (8, 2)) \
    * np.array([1.0, -1.0])
HEIGHTS = np.array([32.0, 42.0, 42.0, 52.0, 42.0, 60.0, 35.0, 45.0])
UNITS = np.array([500_000.0, 9_000_000.0]) + RNG.uniform(0, 12_000, (2_000, 2)) \
    * np.array([1.0, -1.0])


def _link() -> tuple[Any, Any]:
    dem = RasterGrid(fractal_relief(400, seed=3, relief_m=250.0),
                     Affine(CELL_M, 0, 500_000.0, 0, -CELL_M, 9_000_000.0),
                     CRS.from_epsg(32748))
    radio = dataclasses.replace(Radio(), model="hata-suburban+deygout", max_radius_km=6.0)
    return radio_context(radio, dem)


def _ctx(cache: StageCache | None, executor: Executor | None) -> StageContext:
    return StageContext(Scenario(), None, cache, "k", "base", "part", executor)


def _arrays(m: sp.csr_matrix) -> tuple[bytes, ...]:
    return (m.data.tobytes(), m.indices.tobytes(), m.indptr.tobytes(), str(m.dtype).encode(),
            repr(m.shape).encode())


def _both(executor: Executor | None, cache: StageCache | None = None
          ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Coverage rows at the threshold (terrain chain) and an RSRP matrix down to -110 dBm."""
    link, context = _link()
    rows = coverage.coverage_rows(_ctx(cache, executor), "s", SITES, HEIGHTS, UNITS, link,
                                  context)
    rsrp = coverage.coverage_rows(_ctx(cache, executor), "r", SITES, HEIGHTS, UNITS, link,
                                  context, floor_dbm=-110.0)
    return rows, rsrp


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 2 sites: 4 batches of the 8 sites, spread over the workers."""
    monkeypatch.setattr(coverage, "BATCH_SITES", 2)


def _check_same(executor: Executor) -> None:
    reference = _both(None)
    assert reference[0].nnz > 0 and reference[1].nnz > reference[0].nnz
    try:
        found = _both(executor)
    finally:
        executor.close()
    for ref, got in zip(reference, found, strict=True):
        assert _arrays(got) == _arrays(ref)


@pytest.mark.usefixtures("small_batches")
def test_local_process_pool_gives_the_in_process_bytes() -> None:
    _check_same(executor_for("local:2"))


def _malloc_env() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in executors.WORKER_MALLOC_ENV}


@pytest.mark.usefixtures("small_batches")
def test_dask_local_cluster_gives_the_in_process_bytes() -> None:
    """... and its workers run with glibc's buffers kept on the heap, not Dask's trim
    setting that maps and unmaps every buffer of 128 KiB or more."""
    executor = executor_for("dask-local:2")
    assert isinstance(executor, DaskExecutor)
    found = executor._connect().run(_malloc_env)
    assert len(found) == 2
    assert all(env == executors.WORKER_MALLOC_ENV for env in found.values())
    _check_same(executor)


def test_in_process_executor_is_the_default_path() -> None:
    calls: list[int] = []
    got = list(InProcessExecutor().map_batches(
        _scaled, [1, 2, 3], shared=10, progress=lambda done, total: calls.append(done)))
    assert got == [(0, 10), (1, 20), (2, 30)]
    assert calls == [1, 2, 3]


def _scaled(shared: int, task: int) -> int:
    return shared * task


# ----------------------------------------------------------------------- a worker dies


def _dies_at(doomed: int, fn: BatchFn, shared: Any, item: tuple[int, Any]) -> Any:
    """Run batch ``item = (index, task)``; the worker process dies at batch *doomed*."""
    index, task = item
    if index == doomed:
        os._exit(17)
    return fn(shared, task)


class _Killing:
    """An executor whose worker dies at one batch (every call of the run)."""

    def __init__(self, inner: Executor, doomed: int) -> None:
        self.inner, self.doomed, self.name = inner, doomed, inner.name

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        return self.inner.map_batches(functools.partial(_dies_at, self.doomed, fn),
                                      list(enumerate(tasks)), shared=shared,
                                      progress=progress)

    def close(self) -> None:
        self.inner.close()


def test_a_killed_worker_fails_in_one_line_and_the_next_run_reuses_every_finished_row(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage, "BATCH_SITES", 1)
    cache = StageCache(tmp_path)
    link, context = _link()
    doomed = len(SITES) - 1
    with pytest.raises(ExecutorError) as err:
        coverage.coverage_rows(_ctx(cache, _Killing(ProcessPoolExecutor(2), doomed)), "s",
                               SITES, HEIGHTS, UNITS, link, context)
    message = str(err.value)
    assert "\n" not in message and "local:2" in message and "run again" in message
    stored = sorted(p for p in (tmp_path / "s").rglob("*") if p.is_file())
    found = re.search(r"the (\d+) finished are cached", message)
    assert found is not None, message
    finished = int(found.group(1))
    assert 1 <= finished < len(SITES)
    # every row that finished is in the cache, whole: the next run computes only the others
    calls: list[int] = []
    real = coverage.rsrp_matrix

    def counted(xy: np.ndarray, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(xy))
        return real(xy, *args, **kwargs)

    monkeypatch.setattr(coverage, "rsrp_matrix", counted)
    rows = coverage.coverage_rows(_ctx(cache, None), "s", SITES, HEIGHTS, UNITS, link, context)
    assert sum(calls) == len(SITES) - finished
    assert cache.notes == []  # no entry was damaged or discarded
    assert stored  # what the failed run kept
    monkeypatch.setattr(coverage, "rsrp_matrix", real)
    reference = coverage.coverage_rows(_ctx(None, None), "s", SITES, HEIGHTS, UNITS, link,
                                       context)
    assert _arrays(rows) == _arrays(reference)


def _dies_once(marker: str, doomed: int, fn: BatchFn, shared: Any,
               item: tuple[int, Any]) -> Any:
    """As :func:`_dies_at`, only the first time (*marker* is the file that remembers it)."""
    index, task = item
    if index == doomed and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(17)
    return fn(shared, task)


@pytest.mark.usefixtures("small_batches")
def test_dask_retries_the_batch_of_a_killed_worker(tmp_path: Path) -> None:
    marker = tmp_path / "killed"
    executor = executor_for("dask-local:2")
    link, context = _link()

    class Once(_Killing):
        def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                        progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
            return self.inner.map_batches(
                functools.partial(_dies_once, str(marker), 1, fn), list(enumerate(tasks)),
                shared=shared, progress=progress)

    try:
        rows = coverage.coverage_rows(_ctx(StageCache(tmp_path / "c"), Once(executor, 1)),
                                      "s", SITES, HEIGHTS, UNITS, link, context)
    finally:
        executor.close()
    assert marker.exists()  # a worker died
    reference = coverage.coverage_rows(_ctx(None, None), "s", SITES, HEIGHTS, UNITS, link,
                                       context)
    assert _arrays(rows) == _arrays(reference)


# ------------------------------------------------------------------------ the setting


@pytest.mark.parametrize(("value", "parsed"), [
    ("inprocess", ("inprocess", 0)), ("local:3", ("local", 3)),
    ("dask-local:2", ("dask-local", 2)), ("tcp://10.0.0.5:8786", ("tcp", "tcp://10.0.0.5:8786")),
])
def test_scheduler_values(value: str, parsed: tuple[str, Any]) -> None:
    assert parse_scheduler(value) == parsed
    assert Compute(scheduler=value).scheduler == value
    assert executor_for(value).name == value


@pytest.mark.parametrize("value", ["", "local", "local:0", "local:-1", "local:x", "local:257",
                                   "dask:2", "tcp://host", "tcp://:8786", "tcp://h:99999",
                                   "http://h:8786", "inprocess "])
def test_bad_scheduler_is_one_problem(value: str) -> None:
    with pytest.raises(ScenarioError) as err:
        Compute(scheduler=value)
    text = str(err.value)
    assert "\n" not in text and "'compute.scheduler'" in text and repr(value) in text


def test_scheduler_is_not_part_of_the_scenario_hash() -> None:
    base = Scenario()
    other = dataclasses.replace(base, compute=Compute(scheduler="dask-local:4"))
    assert other.content_hash() == base.content_hash()
    assert "compute" not in base.to_dict() and other.to_dict()["compute"] == {
        "scheduler": "dask-local:4"}


def test_missing_dask_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    executor = executor_for("dask-local:2")
    with pytest.raises(MissingDependencyError, match=r"pip install 'towerplan\[dask\]'"):
        list(executor.map_batches(_scaled, [1], shared=1))


def test_unreachable_scheduler_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 1.0)
    executor = executor_for("tcp://127.0.0.1:9")
    with pytest.raises(ExecutorError, match=r"cannot reach the Dask scheduler at tcp://127\."):
        list(executor.map_batches(_scaled, [1], shared=1))
    executor.close()


# ------------------------------------------------------- batches and their part of the DEM


class _Recorded(Sequence[int]):
    """Tasks 0 .. n - 1 that note when each is made (taken by the executor)."""

    def __init__(self, n: int) -> None:
        self.n, self.made = n, 0

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self.n))]
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.made += 1
        return int(i)


@pytest.mark.parametrize("scheduler", ["inprocess", "local:2"])
def test_executors_take_only_the_batches_they_can_run_soon(scheduler: str) -> None:
    """A batch's inputs are made when it is queued, at most QUEUED_PER_WORKER per worker
    ahead, not all at the start: the driver never holds every batch's terrain at once."""
    tasks = _Recorded(12)
    executor = executor_for(scheduler)
    made_at_first: list[int] = []
    try:
        got = []
        for i, result in executor.map_batches(_scaled, tasks, shared=3):
            made_at_first.append(tasks.made)
            got.append((i, result))
    finally:
        executor.close()
    assert sorted(got) == [(i, 3 * i) for i in range(12)]
    assert tasks.made == 12
    workers = 1 if scheduler == "inprocess" else 2
    assert made_at_first[0] <= max(1, executors.QUEUED_PER_WORKER * workers) + 1


def test_a_batch_is_sent_its_part_of_the_terrain_not_the_whole_grid() -> None:
    """Each task holds the terrain its sites' sweeps read; the parts give the whole grid's
    RSRP matrix to the byte."""
    import pickle

    link, context = _link()
    near = np.array([500_000.0, 9_000_000.0]) + np.array([[2_000.0, -2_000.0],
                                                            [2_500.0, -1_800.0]])
    short = dataclasses.replace(link, max_radius_m=1_500.0)
    tasks = coverage.SiteBatches(near, np.array([40.0, 45.0]), [np.array([0, 1])], context,
                              short.max_radius_m)
    xy, height_m, part = tasks[0]
    assert part is not None and min(part.offset) > 0 and part.shape == context.shape
    assert part.dem_m.nbytes < context.dem_m.nbytes / 10
    assert len(pickle.dumps(tasks[0])) < len(pickle.dumps(context)) / 10
    from towerplan.coverage.composite import rsrp_matrix

    whole = rsrp_matrix(xy, height_m, UNITS, short, context, floor_dbm=-115.0)
    got = coverage._batch(coverage._Shared(UNITS, short, -115.0), tasks[0])
    assert whole.nnz > 0 and _arrays(got) == _arrays(whole)


@pytest.mark.usefixtures("small_batches")
def test_rows_in_spatial_batches_come_back_in_the_sites_order() -> None:
    """The batches group nearby sites; every row still belongs to its own site."""
    from towerplan.coverage.composite import coverage_matrix, rsrp_matrix

    link, context = _link()
    rows, rsrp = _both(None)
    assert _arrays(rsrp) == _arrays(rsrp_matrix(SITES, HEIGHTS, UNITS, link, context,
                                                floor_dbm=-110.0))
    assert _arrays(rows) == _arrays(coverage_matrix(SITES, HEIGHTS, UNITS, link, context))


class _Dropping(InProcessExecutor):
    """Yields only the first batch: an executor that loses results without raising."""

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        yield 0, fn(shared, tasks[0])


@pytest.mark.usefixtures("small_batches")
def test_rows_an_executor_lost_are_one_executor_error_not_empty_rows() -> None:
    link, context = _link()
    with pytest.raises(ExecutorError, match="6 of 8 rows missing after the batches"):
        coverage.coverage_rows(_ctx(None, _Dropping()), "s", SITES, HEIGHTS, UNITS, link,
                               context)


def test_spatial_order_makes_compact_batches() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 100_000, (1_024, 2))
    order = coverage.spatial_order(xy)
    assert sorted(order.tolist()) == list(range(1_024))

    def mean_extent(idx: np.ndarray) -> float:
        boxes = [np.ptp(xy[idx[b:b + 64]], axis=0).prod() for b in range(0, 1_024, 64)]
        return float(np.mean(boxes))

    assert mean_extent(order) < mean_extent(np.arange(1_024)) / 8


def test_units_in_reach_hold_every_unit_within_the_radius() -> None:
    """The units a batch evaluates are a superset of those within the radius of any of its
    sites, and lie in the sites' box widened by the radius."""
    rng = np.random.default_rng(4)
    units = rng.uniform(0, 100_000, (20_000, 2))
    sites = rng.uniform(40_000, 55_000, (7, 2))
    radius_m = 9_000.0
    near = coverage.units_in_reach(units, sites, radius_m)
    assert np.all(np.diff(near) > 0)
    dist = np.hypot(*(units[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    within = np.flatnonzero((dist <= radius_m).any(axis=1))
    assert set(within.tolist()) <= set(near.tolist())
    assert len(within) > 500 and len(near) < len(units) / 4
    box = (units[near] >= sites.min(axis=0) - radius_m - 1.0) \
        & (units[near] <= sites.max(axis=0) + radius_m + 1.0)
    assert box.all()
    assert coverage.units_in_reach(units, np.empty((0, 2)), radius_m).size == 0
    assert doctest.testmod(coverage).failed == 0


@pytest.mark.parametrize("chain", ["hata-suburban+deygout", "hata-suburban"])
@pytest.mark.parametrize("floor_dbm", [None, -110.0])
def test_a_batch_among_far_units_equals_the_matrix_over_all_units(
        chain: str, floor_dbm: float | None) -> None:
    """A batch evaluated against only the units in its reach gives the matrix over all the
    units to the byte, with the columns of all units, when most units are out of reach."""
    from towerplan.coverage.composite import coverage_matrix, rsrp_matrix

    dem = RasterGrid(fractal_relief(400, seed=3, relief_m=250.0),
                     Affine(CELL_M, 0, 500_000.0, 0, -CELL_M, 9_000_000.0),
                     CRS.from_epsg(32748))
    radio = dataclasses.replace(Radio(), model=chain, max_radius_km=3.0)
    link, context = radio_context(radio, dem)
    rng = np.random.default_rng(8)
    far = np.array([500_000.0, 9_000_000.0]) + rng.uniform(0, 12_000, (6_000, 2)) \
        * np.array([1.0, -1.0])
    sites = np.array([[503_000.0, 8_997_000.0], [504_000.0, 8_996_000.0],
                      [503_500.0, 8_995_500.0]])
    near = coverage.units_in_reach(far, sites, link.max_radius_m)
    assert len(near) < len(far) / 2
    part = None if context is None else context.part(sites, link.max_radius_m)
    got = coverage._batch(coverage._Shared(far, link, floor_dbm), (sites, HEIGHTS[:3], part))
    if floor_dbm is None:
        want = coverage_matrix(sites, HEIGHTS[:3], far, link, context)
    else:
        want = rsrp_matrix(sites, HEIGHTS[:3], far, link, context, floor_dbm=floor_dbm)
    assert want.nnz > 0 and _arrays(got) == _arrays(want)


def test_a_pool_that_breaks_between_batches_is_one_executor_error() -> None:
    """A worker that dies after its batch finished breaks the pool before the next batch is
    queued: the batches not queued count as lost, in the one line, never a traceback."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    def submit(i: int) -> Future[Any]:
        if i >= 2:
            raise BrokenProcessPool("a child process terminated abruptly")
        fut: Future[Any] = Future()
        fut.set_result(10 * i)
        return fut

    got: list[tuple[int, Any]] = []
    with pytest.raises(ExecutorError, match="3 of 5 batches not computed; the 2 finished"):
        got.extend(executors._harvest(submit, 5, 2, None, "local:2"))
    assert got == [(0, 0), (1, 10)]
