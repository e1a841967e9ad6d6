"""Load every real Paser data file in ../shared/data through the loaders.

The files are not part of the repository (see DESIGN.md section 8). They are found beside the
project, or where the environment variable TOWERPLAN_SHARED_DATA points; the tests skip when
they are absent. Expected figures come from ../shared/data/SOURCES.md.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import shapely

from towerplan.io.demand import read_district_population, read_settlements
from towerplan.io.landcover import read_landmask
from towerplan.io.terrain import read_dem, utm_crs_for
from towerplan.io.towers import read_towers
from towerplan.io.villages import read_villages
from towerplan.scenario import VillageColumns

pytestmark = pytest.mark.shared_data

VILLAGES = "paser_villages.geojson"
DISTRICTS = "paser_districts.geojson"
REGENCY = "paser_regency.geojson"
REGENCY_ALT = "paser_regency_alt_yusufsyaifudin.geojson"
DEM = "paser_dem_coarse_srtm30plus.tif"
LANDMASK = "paser_landmask_globe_1km.tif"
TOWERS = "paser_towers.csv"
PLACES = "paser_places_geonames.csv"
KECAMATAN = "paser_kecamatan_population_2020.csv"
REPORTS_2021 = "paser_signal_reports_2021.csv"
REPORTS_2022 = "paser_signal_reports_2022.csv"
KNOWN_FILES = {VILLAGES, DISTRICTS, REGENCY, REGENCY_ALT, DEM, LANDMASK, TOWERS, PLACES,
               KECAMATAN, REPORTS_2021, REPORTS_2022, "SOURCES.md"}

VILLAGE_COLUMNS = VillageColumns(district="district_name")
AREA_COLUMNS = VillageColumns(district="", district_code="", kind="", population="")
GRID_M = 500.0


@pytest.fixture(scope="module")
def data_dir() -> Path:
    override = os.environ.get("TOWERPLAN_SHARED_DATA")
    path = Path(override) if override else (
        Path(__file__).resolve().parents[2].parent / "shared" / "data")
    if not (path / VILLAGES).is_file():
        pytest.skip(f"shared data not found at {path} (expected {VILLAGES}); put the Paser "
                    "data beside the project or set TOWERPLAN_SHARED_DATA")
    return path


@pytest.fixture(scope="module")
def villages(data_dir):
    return read_villages(data_dir / VILLAGES, columns=VILLAGE_COLUMNS)


@pytest.fixture(scope="module")
def dem(data_dir, villages):
    gdf, _ = villages
    centroid = gdf.dissolve().to_crs("EPSG:6933").centroid.to_crs("EPSG:4326").iloc[0]
    crs = utm_crs_for(centroid.x, centroid.y)
    local = gdf.to_crs(crs)
    west, south, east, north = local.total_bounds
    pad = 5_000.0
    grid, report = read_dem([data_dir / DEM], dst_crs=crs,
                            bounds=(west - pad, south - pad, east + pad, north + pad),
                            resolution_m=GRID_M, require_bounds=(west, south, east, north))
    xs, ys = grid.xy()
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(local.union_all(), gx, gy)
    return grid, report, inside


def test_every_shared_file_is_covered(data_dir):
    present = {p.name for p in data_dir.iterdir() if p.is_file()}
    assert present - KNOWN_FILES == set(), "a new shared file needs a loader test here"


def test_villages(villages):
    gdf, report = villages
    assert len(gdf) == 144
    assert gdf.crs.to_epsg() == 4326
    assert gdf["kind"].value_counts().to_dict() == {"desa": 139, "kelurahan": 5}
    assert gdf["code"].is_unique
    assert gdf["code"].str.startswith("64.01.").all()
    assert set(gdf.loc[gdf["kind"] == "kelurahan", "code"]) == {
        "64.01.04.1001", "64.01.05.1001", "64.01.06.1001", "64.01.07.1001", "64.01.08.1001"}
    assert gdf["district_code"].nunique() == 10
    assert gdf.loc[gdf["code"] == "64.01.08.2008", "name"].item() == "Muara Toyu"
    assert gdf.loc[gdf["code"] == "64.01.08.2008", "district"].item() == "Long Kali"
    assert gdf["population"].isna().all()
    assert report.repairs == ()
    np.testing.assert_allclose(report.extent, (115.62, -2.41, 116.60, -0.97), atol=0.01)
    assert report.count == 144
    area_km2 = gdf.to_crs("EPSG:32750").area.sum() / 1e6
    assert area_km2 == pytest.approx(10_761.6, rel=1e-3)


def test_districts_and_regency(data_dir):
    districts, report = read_villages(data_dir / DISTRICTS, columns=AREA_COLUMNS)
    assert len(districts) == 10
    assert districts["code"].tolist() == [f"64.01.{i:02d}" for i in range(1, 11)]
    assert "Long Kali" in districts["name"].tolist()
    np.testing.assert_allclose(report.extent, (115.62, -2.41, 116.60, -0.97), atol=0.01)
    regency, report = read_villages(
        data_dir / REGENCY,
        columns=VillageColumns(district="", district_code="", kind="", population=""))
    assert len(regency) == 1
    assert regency["code"].item() == "64.01"
    assert regency.crs.to_epsg() == 4326
    assert regency.to_crs("EPSG:32750").area.item() / 1e6 == pytest.approx(10_761.6, rel=1e-3)


def test_alternative_regency_outline(data_dir):
    alt, report = read_villages(data_dir / REGENCY_ALT, columns=AREA_COLUMNS)
    assert len(alt) == 1
    assert alt["name"].item() == "Kabupaten Paser"
    assert alt.crs.to_epsg() == 4326
    # Islets in the Makassar Strait reach far east of the village layer.
    assert report.extent[2] == pytest.approx(117.94, abs=0.01)
    assert alt.to_crs("EPSG:32750").area.item() / 1e6 == pytest.approx(10_754.7, rel=1e-3)


def test_dem(data_dir, dem):
    grid, report, inside = dem
    assert grid.crs.to_epsg() == 32750
    assert report.crs == "EPSG:32750"
    assert grid.resolution_m == GRID_M
    assert "GTiff 72x86 int16, EPSG:4326" in report.notes[0]
    assert report.repairs == ()
    heights = grid.array[inside]
    assert not np.isnan(heights).any()
    assert np.median(heights) == pytest.approx(98, abs=30)
    assert heights.max() == pytest.approx(938, abs=60)
    assert heights.min() < 0  # sea cells along the coast
    west, south, east, north = report.extent
    assert west < 115.62 and east > 116.60 and south < -2.41 and north > -0.97


def test_landmask(data_dir, dem):
    grid, _, inside = dem
    land, report = read_landmask(data_dir / LANDMASK, dst_crs=grid.crs,
                                 transform=grid.transform, shape=grid.shape)
    assert land.shape == grid.shape
    assert report.crs == "EPSG:32750"
    assert "180x216 uint8, EPSG:4326" in report.notes[0]
    assert land[inside].mean() > 0.95
    land_heights = grid.array[inside & land]
    assert np.median(land_heights) == pytest.approx(98, abs=30)
    assert land_heights.max() == pytest.approx(938, abs=60)


def test_towers(data_dir, villages):
    towers, report = read_towers(data_dir / TOWERS)
    assert towers.crs.to_epsg() == 4326
    assert towers["cells"].sum() == 434
    assert 50 < len(towers) < 434
    assert "layout: OpenCelliD" in report.notes
    assert set(towers["operator"].str.split("/").explode()) <= {
        "Telkomsel", "Indosat", "XL Axiata", "Smartfren", "Indosat (IM3)", "Tri"}
    west, south, east, north = report.extent
    assert west >= 115.2 and east <= 116.9 and south >= -2.7 and north <= -0.7
    union = villages[0].union_all()
    assert not towers.within(union).any()


def test_places(data_dir, villages):
    places, report = read_settlements(data_dir / PLACES)
    assert len(places) == 42
    assert places.crs.to_epsg() == 4326
    inside = places[places.within(villages[0].union_all())]
    assert set(inside["name"]) == {"Tana Paser", "Kuaro", "Longikis", "Longkali", "Muarakomam",
                                   "Batusopang", "Kerang"}
    assert inside["population"].isna().all()
    assert any("populations of 0 read as unknown" in n for n in report.notes)


def test_kecamatan_population(data_dir, villages):
    table, report = read_district_population(data_dir / KECAMATAN)
    assert len(table) == 10
    assert table["population"].sum() == 277_400
    assert table.loc[table["district"] == "Tanah Grogot", "population"].item() == 78_018
    assert set(table["district_code"]) == set(villages[0]["district_code"])
    assert report.count == 10


def test_signal_reports_name_real_villages(data_dir, villages):
    """The village signal reports of 2021 and 2022 (SOURCES.md: six blank desa, two semi blank):
    every row names a village of the boundary file by code and name, with a known status."""
    import pandas as pd

    gdf, _ = villages
    names = dict(zip(gdf["code"], gdf["name"], strict=True))
    districts = dict(zip(gdf["code"], gdf["district"], strict=True))
    expected = {REPORTS_2021: ("none", 6, "2021-09-28"), REPORTS_2022: ("weak", 2, "2022-11-16")}
    for name, (status, rows, date) in expected.items():
        table = pd.read_csv(data_dir / name, dtype=str)
        assert list(table.columns) == ["code", "village", "kecamatan", "status", "date",
                                       "source", "note"]
        assert len(table) == rows and table["code"].is_unique
        assert set(table["status"]) == {status}
        assert set(table["date"]) == {date}
        for _, row in table.iterrows():
            assert names[row["code"]] == row["village"]
            assert districts[row["code"]] == row["kecamatan"]
    blank = pd.read_csv(data_dir / REPORTS_2021, dtype=str)
    assert "64.01.08.2008" in set(blank["code"])  # Muara Toyu, one of the 2022 towers
