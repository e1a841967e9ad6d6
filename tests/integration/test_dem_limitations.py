"""A DEM mostly repaired by interpolation, or with holes left unfilled, is planned on, and
every output states it as a limitation; the holes are never computed as flat ground."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import rasterio

from towerplan.cli import main

Factory = Callable[..., Path]

pytestmark = pytest.mark.filterwarnings("default")


def _holed(small_scenario: Factory, rewrite_dem: Factory, path: Path, rows: slice) -> Path:
    """The small scenario's DEM with rows *rows*, columns 20..199 made nodata."""
    text = small_scenario().read_text(encoding="utf-8")
    dem = Path(text.split('dem = ["')[1].split('"')[0])

    def hole(array: np.ndarray) -> np.ndarray:
        array[rows, 20:200] = np.nan
        return array

    return rewrite_dem(dem, path, hole)


def _plan(scenario: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    try:
        main(["plan", str(scenario), "--out", str(out), "--no-cache", "--quiet"])
    except SystemExit as stop:
        assert not stop.code, capsys.readouterr().err
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def _outputs_state(out: Path, words: str, kata: str) -> None:
    """summary.json states *words* (English) and *kata* (Bahasa Indonesia, the language of
    the map and the report by default)."""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any(words in text and kata in text for text in summary["limitations"]), \
        summary["limitations"]
    assert kata in (out / "map.html").read_text(encoding="utf-8")
    reports = sorted(out.glob("report*.html"))
    assert reports and all(kata in p.read_text(encoding="utf-8") for p in reports)


def test_mostly_filled_dem_is_a_limitation_of_every_output(
        tmp_path: Path, small_scenario: Factory, rewrite_dem: Factory,
        capsys: pytest.CaptureFixture[str]) -> None:
    # 180 x 180 of the 220 x 220 cells
    holed = _holed(small_scenario, rewrite_dem, tmp_path / "holed.tif", slice(20, 200))
    out = tmp_path / "out"
    _plan(small_scenario(dem_path=holed), out, capsys)
    _outputs_state(out, "of the DEM cells are nodata holes filled by interpolation (more "
                        "than 25 %)", "sel DEM adalah lubang nodata yang diisi dengan "
                        "interpolasi (lebih dari 25 %)")


def test_unfilled_holes_are_excluded_and_stated(
        tmp_path: Path, small_scenario: Factory, rewrite_dem: Factory,
        capsys: pytest.CaptureFixture[str]) -> None:
    holed = _holed(small_scenario, rewrite_dem, tmp_path / "holed.tif", slice(100, 110))
    scenario = small_scenario(dem_path=holed, extra="[terrain]\nfill_nodata = false\n")
    out = tmp_path / "out"
    summary = _plan(scenario, out, capsys)
    _outputs_state(out, "have no elevation (nodata holes left unfilled)",
                   "tidak punya ketinggian (lubang nodata tidak diisi)")
    assert any("have no elevation (nodata holes left unfilled)" in text
               for text in summary["limitations"])
    # The hole's cells get no RSRP at all; the rows just north of it, as near the tower, do.
    with rasterio.open(holed) as dem_ds:
        t = dem_ds.transform
    with rasterio.open(out / "coverage_before.tif") as ds:
        rsrp = ds.read(1)

        def at(row: int, col: int) -> float:
            r, c = ds.index(*(t @ (col + 0.5, row + 0.5)))
            return float(rsrp[r, c])

        inside = [at(r, c) for r in range(101, 109) for c in range(40, 110, 3)]
        north = [at(r, c) for r in range(90, 98) for c in range(40, 110, 3)]
    assert np.isnan(inside).all()
    assert np.isfinite(north).sum() > len(north) // 2
