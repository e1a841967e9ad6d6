"""Tests of the demand loaders (towerplan.io.demand)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.demand import (
    read_district_population,
    read_population_raster,
    read_settlements,
)
from towerplan.io.rasters import RasterGrid, write_raster

UTM50S = CRS.from_epsg(32750)
ORIGIN = (385_000.0, 9_815_000.0)


def _csv(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- settlements ---------------------------------------------------------------------------

def test_settlements_csv(tmp_path):
    path = _csv(tmp_path, "name,lon,lat,population\nKuaro,116.08,-1.82,1500\n"
                          "Kerang,116.07,-2.23,\n")
    settlements, report = read_settlements(path)
    assert list(settlements.columns) == ["name", "population", "geometry"]
    assert settlements.crs.to_epsg() == 4326
    assert settlements["name"].tolist() == ["Kuaro", "Kerang"]
    assert settlements["population"].iloc[0] == 1500.0
    assert np.isnan(settlements["population"].iloc[1])
    assert settlements.geometry.x.tolist() == [116.08, 116.07]
    assert report.layer == "settlements"
    assert report.count == 2
    assert report.extent == (116.07, -2.23, 116.08, -1.82)
    assert "population known for 1 of 2 settlements, total 1,500" in report.notes


def test_geonames_zero_population_is_unknown(tmp_path):
    path = _csv(tmp_path, "geonameid,name,latitude,longitude,population\n"
                          "1,Kuaro,-1.8198,116.0797,0\n2,Tanjung,-2.17,115.41,37291\n")
    settlements, report = read_settlements(path)
    assert np.isnan(settlements["population"].iloc[0])
    assert settlements["population"].iloc[1] == 37291.0
    assert "1 populations of 0 read as unknown (GeoNames uses 0 for unknown)" in report.notes


def test_zero_population_kept_outside_geonames(tmp_path):
    settlements, _ = read_settlements(_csv(tmp_path, "lon,lat,population\n116,-1.7,0\n"))
    assert settlements["population"].tolist() == [0.0]


def test_settlements_without_name_or_population(tmp_path):
    settlements, report = read_settlements(_csv(tmp_path, "x,y\n116,-1.7\n116.1,-1.8\n"))
    assert settlements["name"].tolist() == ["", ""]
    assert settlements["population"].isna().all()
    assert "no population given: settlements mark locations only" in report.notes


def test_settlements_bad_rows_listed(tmp_path):
    path = _csv(tmp_path, "lon,lat,population\n116,-1.7,10\nabc,-1.7,5\n116,-99,x\n"
                          "116,-1.7,-4\n")
    with pytest.raises(InputDataError) as info:
        read_settlements(path)
    assert info.value.problems == (
        "line 3: lon 'abc' not a coordinate in degrees",
        "line 4: lat '-99' not a coordinate in degrees",
        "line 4: population 'x' is not a number",
        "line 5: population -4 is negative",
    )


def test_settlements_without_coordinates(tmp_path):
    with pytest.raises(InputDataError, match="no coordinate columns; columns found: name, "
                                             "kecamatan; expected lon,lat"):
        read_settlements(_csv(tmp_path, "name,kecamatan\nKuaro,Kuaro\n"))


def test_settlements_vector_reprojected(write_layer):
    points = gpd.GeoDataFrame({"name": ["A", "B"], "population": [120, None]},
                              geometry=[shapely.Point(116.0, -1.7), shapely.Point(116.1, -1.7)],
                              crs="EPSG:4326").to_crs(UTM50S)
    settlements, report = read_settlements(write_layer(points, "places"))
    assert settlements.crs.to_epsg() == 4326
    assert settlements.geometry.x.tolist() == pytest.approx([116.0, 116.1])
    assert settlements["population"].iloc[0] == 120.0
    assert np.isnan(settlements["population"].iloc[1])
    assert report.count == 2


def test_settlements_vector_must_be_points(write_layer, village_gdf):
    with pytest.raises(InputDataError, match="2 features are not points"):
        read_settlements(write_layer(village_gdf(2), "polys"))


def test_settlements_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="settlements file not found"):
        read_settlements(tmp_path / "none.csv")


# -- population raster ---------------------------------------------------------------------

def _population(tmp_path, res, crs=UTM50S, origin=ORIGIN, shape=(40, 40), seed=1):
    people = np.random.default_rng(seed).uniform(0, 50, shape).astype(np.float32)
    transform = Affine(res, 0, origin[0], 0, -res, origin[1])
    path = write_raster(tmp_path / "pop.tif", RasterGrid(people, transform, crs))
    return path, float(people.astype(np.float64).sum())


@pytest.mark.parametrize("res_m", [250.0, 100.0, 1000.0, 330.0])
def test_population_total_preserved(tmp_path, res_m):
    path, total = _population(tmp_path, 500.0)
    transform = Affine(res_m, 0, ORIGIN[0] - 2 * res_m, 0, -res_m, ORIGIN[1] + 2 * res_m)
    size = int(np.ceil(20_000 / res_m)) + 4
    people, report = read_population_raster(path, dst_crs=UTM50S, transform=transform,
                                            shape=(size, size))
    assert people.dtype == np.float64
    assert np.nansum(people) == pytest.approx(total, rel=1e-6)
    assert report.layer == "population"
    assert report.notes[0].startswith(f"total before resampling {total:,.0f} people")
    assert report.notes[0].endswith(f"after {total:,.0f}")
    assert not any(p.startswith("total changed") for p in report.problems)


def test_population_total_preserved_across_crs(tmp_path):
    res_deg = 0.003
    path, total = _population(tmp_path, res_deg, crs=CRS.from_epsg(4326),
                              origin=(115.95, -1.65))
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    west, south, east, north = to_utm.transform_bounds(115.95, -1.65 - 40 * res_deg,
                                                       115.95 + 40 * res_deg, -1.65)
    transform = Affine(100.0, 0, west - 1000, 0, -100.0, north + 1000)
    shape = (int((north - south + 2000) // 100) + 1, int((east - west + 2000) // 100) + 1)
    people, _ = read_population_raster(path, dst_crs=UTM50S, transform=transform, shape=shape)
    assert np.nansum(people) == pytest.approx(total, rel=1e-6)


def test_population_partial_grid(tmp_path):
    path, total = _population(tmp_path, 500.0)
    transform = Affine(500.0, 0, ORIGIN[0] + 10_000, 0, -500.0, ORIGIN[1])
    people, report = read_population_raster(path, dst_crs=UTM50S, transform=transform,
                                            shape=(40, 40))
    assert np.isnan(people[:, 20:]).all()
    assert np.nansum(people) < total
    assert report.problems == ("800 cells have no population data",)
    assert report.count == 800


def test_population_negative_counts(tmp_path):
    people = np.ones((4, 4), dtype=np.float32)
    people[0, 0] = -3
    transform = Affine(100.0, 0, ORIGIN[0], 0, -100.0, ORIGIN[1])
    path = write_raster(tmp_path / "neg.tif", RasterGrid(people, transform, UTM50S))
    with pytest.raises(InputDataError, match="1 cells hold negative population counts"):
        read_population_raster(path, dst_crs=UTM50S, transform=transform, shape=(4, 4))


# -- population per district ---------------------------------------------------------------

TABLE = ("district_code,district_name,population_2020,desa,kelurahan\n"
         "64.01.01,Batu Sopang,24484,9,0\n64.01.02,Tanjung Harapan,8925,7,0\n")


def test_district_population(tmp_path):
    table, report = read_district_population(_csv(tmp_path, TABLE))
    assert list(table.columns) == ["district_code", "district", "population"]
    assert table["district_code"].tolist() == ["64.01.01", "64.01.02"]
    assert table["district"].tolist() == ["Batu Sopang", "Tanjung Harapan"]
    assert table["population"].tolist() == [24484.0, 8925.0]
    assert report.count == 2
    assert "population from column 'population_2020' (year 2020)" in report.notes
    assert "2 districts, total 33,409 people" in report.notes


def test_district_population_latest_year_and_plain_column(tmp_path):
    path = _csv(tmp_path, "code,name,population_2010,population_2020\nA,a,1,2\n")
    table, report = read_district_population(path)
    assert table["population"].tolist() == [2.0]
    assert any("other years ignored: 2010" in n for n in report.notes)
    table, _ = read_district_population(_csv(tmp_path, "kode,kecamatan,population\nA,a,7\n",
                                             name="plain.csv"))
    assert table["population"].tolist() == [7.0]
    assert table["district"].tolist() == ["a"]


def test_district_population_problems(tmp_path):
    path = _csv(tmp_path, "district_code,population\nA,10\nA,x\n,5\n")
    with pytest.raises(InputDataError) as info:
        read_district_population(path)
    assert set(info.value.problems) == {
        "line 4: empty district code",
        "district code A appears 2 times; codes must be unique",
        "line 3: population 'x' is not a count of people",
    }


def test_district_population_missing_columns(tmp_path):
    with pytest.raises(InputDataError, match="no population column; columns found: "
                                             "district_code, jumlah"):
        read_district_population(_csv(tmp_path, "district_code,jumlah\nA,1\n"))
    with pytest.raises(InputFileError, match="not found"):
        read_district_population(tmp_path / "none.csv")
