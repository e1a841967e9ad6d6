"""Desa population tables, building footprints and facilities read from hand-written files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from towerplan.errors import InputDataError
from towerplan.io.people import (
    apply_village_population,
    read_buildings,
    read_facilities,
    read_village_population,
)
from towerplan.pipeline.stages.demand import footprint_grid


def test_indonesian_headers_year_and_source(tmp_path: Path) -> None:
    path = tmp_path / "desa.csv"
    path.write_text("Kode;Jumlah_Penduduk;Tahun;Sumber\n64.01.08.2008;1_234;2023;Dukcapil\n"
                    "64.01.08.2011;0;2023;Dukcapil\n", encoding="utf-8")
    table, report = read_village_population(path)
    assert table["code"].tolist() == ["64.01.08.2008", "64.01.08.2011"]
    assert table["population"].tolist() == [1234.0, 0.0]
    assert table["source"].tolist() == ["Dukcapil", "Dukcapil"]
    assert report.notes == ("2 villages, total 1,234 people (column 'jumlah_penduduk')",
                            "year 2023")


def test_xlsx_first_sheet(tmp_path: Path) -> None:
    path = tmp_path / "desa.xlsx"
    pd.DataFrame({"Kode": ["64.01.08.2008", "64.01.08.2011"], "Penduduk": [1500, 320],
                  "Sumber": ["BPS 2023", "BPS 2023"]}).to_excel(path, index=False)
    table, _ = read_village_population(path)
    assert table["code"].tolist() == ["64.01.08.2008", "64.01.08.2011"]
    assert table["population"].tolist() == [1500.0, 320.0]
    assert table["year"].tolist() == ["", ""]


def test_every_bad_row_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "desa.csv"
    path.write_text("code,population\n1,10\n1,11\n,5\n2,-3\n3,x\n4,\n", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_village_population(path)
    assert err.value.problems == (
        "line 4: empty code",
        "code 1 appears 2 times; one row per village",
        "line 5: population '-3' is not a count of people (a number >= 0)",
        "line 6: population 'x' is not a count of people (a number >= 0)",
        "line 7: population '' is not a count of people (a number >= 0)",
    )


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "desa.csv"
    path.write_text("nama,jiwa\nA,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="no code and no population column; columns "
                                             "found: nama, jiwa"):
        read_village_population(path)


def test_codes_are_matched_and_unknown_codes_are_problems() -> None:
    table = pd.DataFrame({"code": ["A", "B", "Z"], "population": [10.0, 20.0, 5.0]})
    people, notes, problems = apply_village_population(pd.Series(["B", "A", "C"]), table)
    assert people[:2].tolist() == [20.0, 10.0] and np.isnan(people[2])
    assert problems == ["code Z is no village of the villages layer"]
    assert notes == ["2 of 3 villages have an official total, 30 people",
                     "1 villages not in the table: C"]


def test_buildings_must_be_polygons(tmp_path: Path) -> None:
    good = gpd.GeoDataFrame(geometry=[shapely.box(116.0, -1.5, 116.0001, -1.4999)],
                            crs="EPSG:4326")
    good.to_file(tmp_path / "roofs.gpkg", engine="pyogrio")
    frame, report = read_buildings(tmp_path / "roofs.gpkg")
    assert len(frame) == 1 and report.count == 1
    bad = gpd.GeoDataFrame(geometry=[shapely.Point(116.0, -1.5)], crs="EPSG:4326")
    bad.to_file(tmp_path / "points.gpkg", engine="pyogrio")
    with pytest.raises(InputDataError, match="1 features are not polygons"):
        read_buildings(tmp_path / "points.gpkg")


def test_footprint_area_per_cell_by_centroid() -> None:
    roofs = gpd.GeoDataFrame(geometry=[shapely.box(10, -20, 30, -10),      # 200 m2, cell 0
                                       shapely.box(110, -60, 120, -50),    # 100 m2, cell 1
                                       shapely.box(500, -50, 510, -40)])   # off the grid
    grid = footprint_grid(roofs, Affine(100, 0, 0, 0, -100, 0), (1, 2))
    assert grid.tolist() == [[200.0, 100.0]]


def test_facilities_with_and_without_weight(tmp_path: Path) -> None:
    path = tmp_path / "fasilitas.csv"
    path.write_text("lon,lat,jenis,bobot\n116.1,-1.5,School,40\n116.2,-1.6,puskesmas,\n",
                    encoding="utf-8")
    frame, report = read_facilities(path)
    assert frame["kind"].tolist() == ["school", "puskesmas"]
    assert frame["weight"].iloc[0] == 40.0 and np.isnan(frame["weight"].iloc[1])
    assert report.notes == ("2 facilities: school 1, puskesmas 1",)
    path.write_text("lon,lat,weight\n116.1,-1.5,-1\n200,-1.6,\n", encoding="utf-8")
    with pytest.raises(InputDataError) as err:
        read_facilities(path)
    assert err.value.problems == ("line 3: '200, -1.6' is not a coordinate in degrees",
                                  "line 2: weight '-1' is not a number of people (>= 0)")
