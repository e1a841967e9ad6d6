"""A ridge between a tower and a village changes the village's blank-spot status.

A hand-built world: a 100 m plain, an existing 42 m tower, a north-south ridge 2.5 km east of
it and four villages: in front of the ridge (1-2 km east), behind it (3-4 km east), on the
open west side (3-4 km west) and near the edge of coverage to the south (3.8-4.6 km). Hata
suburban covers about 4.9 km with the default link budget, so every village is covered over
flat ground. With the terrain chain
``hata-suburban+deygout`` the village behind the ridge turns blank, the others keep their
status, and over a flat DEM the terrain chain gives what distance-only Hata gives (its
diffraction term charges only the excess over smooth earth).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from tests.conftest import REF_LONLAT
from towerplan import load_scenario
from towerplan.commands.blankspots import blankspots
from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.scenario import Scenario

CRS_UTM = "EPSG:32750"
RES_M = 90.0
SHAPE = (120, 160)  # 10.8 x 14.4 km, the tower in the middle
RIDGE_EAST_M = 2500.0  # crest, east of the tower
VILLAGES = {  # name: (west, south, east, north) edges from the tower, m
    "Depan": (1000.0, -500.0, 2000.0, 500.0),
    "Belakang": (3000.0, -500.0, 4000.0, 500.0),
    "Barat": (-4000.0, -500.0, -3000.0, 500.0),
    # near the edge of coverage, over open flat ground south of the tower
    "Selatan": (-400.0, -4600.0, 400.0, -3800.0),
}


def _tower_xy() -> tuple[float, float]:
    return Transformer.from_crs(4326, CRS_UTM, always_xy=True).transform(*REF_LONLAT)


def _write_world(folder: Path, *, ridge: bool) -> tuple[Path, Path, Path]:
    """DEM (flat 100 m plain, with or without the ridge), villages and the tower."""
    tx, ty = _tower_xy()
    rows, cols = SHAPE
    west, north = tx - cols * RES_M / 2, ty + rows * RES_M / 2
    x = west + RES_M * (np.arange(cols) + 0.5) - tx
    height = np.full(SHAPE, 100.0)
    if ridge:  # 150 m high, 200 m standard deviation across
        height += 150.0 * np.exp(-((x - RIDGE_EAST_M) ** 2) / (2 * 200.0**2))[None, :]
    dem = write_raster(folder / f"dem_{'ridge' if ridge else 'flat'}.tif",
                       RasterGrid(height.astype(np.float32),
                                  Affine(RES_M, 0.0, west, 0.0, -RES_M, north),
                                  CRS.from_user_input(CRS_UTM), None))
    records = [{
        "code": f"64.01.01.{2001 + i}", "name": name, "district_code": "64.01.01",
        "district": "Kecamatan Satu", "kind": "desa", "population": 2000.0,
        "geometry": shapely.box(tx + w, ty + s, tx + e, ty + n),
    } for i, (name, (w, s, e, n)) in enumerate(VILLAGES.items())]
    villages = folder / "villages.gpkg"
    gpd.GeoDataFrame(records, geometry="geometry", crs=CRS_UTM).to_crs(4326).to_file(
        villages, driver="GPKG", engine="pyogrio")
    towers = folder / "towers.csv"
    towers.write_text(f"lon,lat,height_m,operator\n{REF_LONLAT[0]},{REF_LONLAT[1]},42,A\n",
                      encoding="utf-8")
    return dem, villages, towers


def _scenario(folder: Path, *, ridge: bool, model: str) -> Scenario:
    dem, villages, towers = _write_world(folder, ridge=ridge)
    path = folder / "scenario.toml"
    path.write_text(f"""
[scenario]
name = "ridge"

[inputs]
villages = "{villages}"
dem = ["{dem}"]
towers = "{towers}"
settlements = ""

[radio]
max_radius_km = 8

[coverage]
demand_cell_m = 100
""", encoding="utf-8")
    scenario = load_scenario(path)
    return dataclasses.replace(scenario, radio=dataclasses.replace(scenario.radio,
                                                                   model=model))


def _statuses(tmp_path: Path, name: str, *, ridge: bool, model: str
              ) -> dict[str, tuple[str, float]]:
    """``towerplan blankspots``: village name -> (status, share covered)."""
    folder = tmp_path / name
    folder.mkdir()
    out = folder / "out"
    blankspots(_scenario(folder, ridge=ridge, model=model), out, cache=False)
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        return {row["name"]: (row["status"], float(row["share_covered"]))
                for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, tuple[str, float]]]:
    tmp = tmp_path_factory.mktemp("terrain-status")
    cases = {
        "ridge, terrain chain": (True, "hata-suburban+deygout"),
        "ridge, distance only": (True, "hata-suburban"),
        "flat, terrain chain": (False, "hata-suburban+deygout"),
        "ridge, default": (True, "auto"),
    }
    done = {name: _statuses(tmp, f"case{i}", ridge=r, model=m)
            for i, (name, (r, m)) in enumerate(cases.items())}
    return done.__getitem__


def test_every_village_is_covered_without_the_ridge(
        runs: Callable[[str], dict[str, tuple[str, float]]]) -> None:
    # Over flat ground the terrain chain is Hata: charging the full knife-edge loss of the
    # ground near the handset (1-2 dB there) left Selatan partial, 89 % covered.
    for case in ("ridge, distance only", "flat, terrain chain"):
        assert runs(case) == {name: ("covered", 1.0) for name in VILLAGES}, case


def test_the_ridge_blanks_the_village_behind_it(
        runs: Callable[[str], dict[str, tuple[str, float]]]) -> None:
    terrain = runs("ridge, terrain chain")
    # The default model ("auto") runs the terrain chain on this 30 m DEM.
    assert runs("ridge, default") == terrain
    assert terrain["Belakang"] == ("blank", 0.0)
    assert terrain["Depan"] == ("covered", 1.0)
    assert terrain["Barat"] == ("covered", 1.0)
    assert terrain["Selatan"] == ("covered", 1.0)
