"""A small, complete scenario on generated files, and a runner for the real CLI."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from towerplan.scenario import Scenario


@pytest.fixture
def small_scenario(tmp_path: Path, make_dem: Callable[..., Path],
                   make_villages: Callable[..., Path],
                   make_towers_csv: Callable[..., Path]) -> Callable[..., Path]:
    """Return a factory writing a scenario over 9 generated villages (about 10 x 10 km).

    Keyword arguments replace or add TOML lines (``extra``), or swap input paths.
    """
    dem = make_dem(shape=(220, 220), kind="ridge", res_m=90.0)
    villages = make_villages(n=9, size_deg=0.03)
    towers = make_towers_csv([{"lon": 115.97, "lat": -1.68, "height_m": 40, "operator": "A"}])

    def factory(*, villages_path: Path | str = villages, dem_path: Path | str = dem,
                towers_path: Path | str = towers, extra: str = "",
                budget: str = "3_400_000_000") -> Path:
        text = f"""
[scenario]
name = "small"
title = "Small generated test scenario"

[inputs]
villages = "{villages_path}"
dem = ["{dem_path}"]
towers = "{towers_path}"
settlements = ""

[radio]
max_radius_km = 6

[coverage]
demand_cell_m = 250

[candidates]
grid_spacing_m = 1500

[budget]
total_idr = {budget}
{extra}
"""
        path = tmp_path / "small.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return factory


def _run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "towerplan", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, env=env, check=False,
                          timeout=600)


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return a runner of ``python -m towerplan ARGS`` capturing its output."""
    return _run_cli


def shared_data_scenario(path: Path, data_dir: Path) -> Scenario:
    """The scenario at *path* with its ``../shared/data`` inputs read from *data_dir*."""
    sc = Scenario.from_toml(path)
    inp = sc.inputs

    def moved(value: str) -> str:
        return str(data_dir / Path(value).name) if "shared/data" in value else value

    return dataclasses.replace(sc, inputs=dataclasses.replace(
        inp, villages=moved(inp.villages), dem=tuple(moved(d) for d in inp.dem),
        towers=moved(inp.towers), settlements=moved(inp.settlements),
        landmask=moved(inp.landmask), district_population=moved(inp.district_population),
        signal_reports=tuple(dataclasses.replace(f, path=moved(f.path))
                             for f in inp.signal_reports)))


#: The open Paser files the Paser scenarios read (../shared/data, see its SOURCES.md).
PASER_FILES = ("paser_villages.geojson", "paser_dem_coarse_srtm30plus.tif", "paser_towers.csv",
               "paser_places_geonames.csv", "paser_landmask_globe_1km.tif",
               "paser_kecamatan_population_2020.csv", "paser_signal_reports_2021.csv",
               "paser_signal_reports_2022.csv")


def shared_data_dir(needed: tuple[str, ...] = PASER_FILES) -> Path:
    """The open data folder (``$TOWERPLAN_SHARED_DATA``, else ``../shared/data`` beside the
    project); skips the test with the reason when a needed file is missing."""
    override = os.environ.get("TOWERPLAN_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[3] / "shared" / "data"
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        pytest.skip(f"Paser open data not found in {path} (missing {', '.join(missing)}); put "
                    "it beside the project as ../shared/data or set TOWERPLAN_SHARED_DATA")
    return path


def _rewrite_dem(good: Path, path: Path, change: Callable[[Any], Any],
                 nodata: float | None = float("nan")) -> Path:
    """Write *path*: the DEM *good* (as float32, nodata *nodata*) with its cells changed by
    *change* (array -> array)."""
    import rasterio

    with rasterio.open(good) as src:
        profile = {**src.profile, "driver": "GTiff", "nodata": nodata, "dtype": "float32"}
        array = change(src.read(1).astype("float32"))
    for key in ("blockxsize", "blockysize", "tiled", "compress", "interleave"):
        profile.pop(key, None)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array, 1)
    return path


@pytest.fixture
def rewrite_dem() -> Callable[..., Path]:
    """Return a writer of a changed copy of a DEM: ``rewrite_dem(good, path, change)``."""
    return _rewrite_dem


@pytest.fixture
def cli_in_process(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Return a runner of ``towerplan ARGS`` in this process: (exit code, stdout, stderr)."""
    from towerplan.cli import main

    def run(*args: str | Path) -> tuple[int, str, str]:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as stop:
            code = int(stop.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
