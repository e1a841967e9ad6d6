"""Candidate coverage from cached RSRP rows: the coverage matrix at any threshold, and a
threshold moved by up to 5 dB sweeps nothing again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import CRS

from tests.unit.coverage.factories import fractal_relief
from towerplan.coverage.composite import coverage_matrix
from towerplan.coverage.context import radio_context
from towerplan.io.cache import StageCache
from towerplan.io.rasters import RasterGrid
from towerplan.pipeline.graph import StageContext
from towerplan.pipeline.stages import coverage
from towerplan.scenario import Radio, Scenario

CELL_M = 30.0


def _setup(threshold_dbm: float) -> tuple:
    dem = RasterGrid(fractal_relief(400, seed=3, relief_m=250.0),
                     Affine(CELL_M, 0, 500_000.0, 0, -CELL_M, 9_000_000.0),
                     CRS.from_epsg(32748))
    radio = dataclasses.replace(Radio(), model="hata-suburban+deygout", max_radius_km=6.0,
                                threshold_rsrp_dbm=threshold_dbm)
    return radio_context(radio, dem)


def _ctx(cache: StageCache | None) -> StageContext:
    return StageContext(Scenario(), None, cache, "k", "base", "part")


RNG = np.random.default_rng(11)
SITES = np.array([500_000.0, 9_000_000.0]) + RNG.uniform(500, 11_500, (6, 2)) \
    * np.array([1.0, -1.0])
HEIGHTS = np.array([32.0, 42.0, 42.0, 52.0, 42.0, 60.0])
UNITS = np.array([500_000.0, 9_000_000.0]) + RNG.uniform(0, 12_000, (3_000, 2)) \
    * np.array([1.0, -1.0])


@pytest.mark.parametrize("threshold_dbm", [-105.0, -100.0, -96.5, -112.0])
def test_rows_are_the_coverage_matrix(tmp_path: Path, threshold_dbm: float) -> None:
    link, context = _setup(threshold_dbm)
    if threshold_dbm == -112.0:
        assert link.uplink_shortfall_db > 0  # the uplink limits: the shortfall is applied
    rows = coverage.coverage_rows(_ctx(StageCache(tmp_path)), "s", SITES, HEIGHTS, UNITS,
                                  link, context)
    expected = coverage_matrix(SITES, HEIGHTS, UNITS, link, context)
    assert rows.dtype == bool and rows.shape == expected.shape
    assert 0 < expected.nnz < expected.shape[0] * expected.shape[1]
    assert (rows != expected).nnz == 0
    again = coverage.coverage_rows(_ctx(None), "s", SITES, HEIGHTS, UNITS, link, context)
    assert (again != expected).nnz == 0


def test_a_threshold_moved_by_5_db_reads_the_cached_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = StageCache(tmp_path)
    coverage.coverage_rows(_ctx(cache), "s", SITES, HEIGHTS, UNITS, *_setup(-105.0))
    calls: list[int] = []
    real = coverage.rsrp_matrix

    def counted(xy: np.ndarray, *args: object, **kwargs: object) -> object:
        calls.append(len(xy))
        return real(xy, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(coverage, "rsrp_matrix", counted)
    for threshold in (-100.0, -110.0, -105.0):
        link, context = _setup(threshold)
        rows = coverage.coverage_rows(_ctx(cache), "s", SITES, HEIGHTS, UNITS, link, context)
        assert (rows != coverage_matrix(SITES, HEIGHTS, UNITS, link, context)).nnz == 0
    assert calls == []
    # one new site among the old ones: only it is swept
    more = np.vstack([SITES, SITES[:1] + 500.0])
    coverage.coverage_rows(_ctx(cache), "s", more, np.append(HEIGHTS, 42.0), UNITS,
                           *_setup(-100.0))
    assert calls == [1]
    # 10 dB higher is beyond the cached floors' reach: swept again
    coverage.coverage_rows(_ctx(cache), "s", SITES, HEIGHTS, UNITS, *_setup(-95.0))
    assert calls == [1, len(SITES)]
