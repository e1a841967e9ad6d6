"""Tests of the villages loader (towerplan.io.villages)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.villages import problems_message, read_villages
from towerplan.scenario import VillageColumns

COLUMNS = ["code", "name", "district_code", "district", "kind", "population", "geometry"]


def test_reads_generated_villages(make_villages):
    villages, report = read_villages(make_villages(n=6))
    assert list(villages.columns) == COLUMNS
    assert len(villages) == 6
    assert villages.crs.to_epsg() == 4326
    assert villages["code"].tolist()[:2] == ["64.01.01.2001", "64.01.01.2002"]
    assert villages["kind"].value_counts().to_dict() == {"desa": 5, "kelurahan": 1}
    assert villages["population"].dtype == np.float64
    assert villages["population"].sum() == pytest.approx(21000.0)
    assert report.layer == "villages"
    assert report.count == 6
    assert report.crs == "EPSG:4326"
    assert report.repairs == ()
    west, south, east, north = report.extent
    assert west == pytest.approx(116.0 - 0.0225)
    assert east == pytest.approx(116.0 + 0.0225)
    assert south == pytest.approx(-1.7 - 0.015)
    assert north == pytest.approx(-1.7 + 0.015)


@pytest.mark.parametrize(("fmt", "crs"), [
    ("gpkg", "EPSG:4326"), ("geojson", "EPSG:4326"), ("fgb", "EPSG:32750"),
    ("shp", "EPSG:32750"),
])
def test_formats_and_source_crs_kept(make_villages, fmt, crs):
    path = make_villages(n=4, crs=crs, fmt=fmt)
    # Shapefile field names are cut to 10 characters: map the district code column.
    columns = VillageColumns(district_code="district_c") if fmt == "shp" else VillageColumns()
    villages, report = read_villages(path, columns=columns)
    assert len(villages) == 4
    assert villages.crs.equals(crs)
    assert report.crs == crs
    assert (villages["district_code"] == "64.01.01").all()
    assert report.extent[0] == pytest.approx(115.985, abs=1e-6)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="villages file not found"):
        read_villages(tmp_path / "nope.gpkg")


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_not_a_vector_file(tmp_path, suffix):
    path = tmp_path / f"junk{suffix}"
    path.write_text("this is not geodata")
    with pytest.raises(InputFileError, match=f"cannot read villages file .*junk{suffix}"):
        read_villages(path)


def test_no_crs(write_layer, village_gdf):
    gdf = village_gdf(3).set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        path = write_layer(gdf, "nocrs")
    with pytest.raises(InputDataError, match="has no CRS; set one, e.g. with ogr2ogr "
                                             "-a_srs EPSG:4326") as info:
        read_villages(path)
    assert "nocrs.gpkg" in str(info.value)


def test_no_crs_and_missing_name_reported_with_other_problems(write_layer, village_gdf):
    gdf = village_gdf(3, duplicate_code=True).set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        path = write_layer(gdf, "nocrs")
    with pytest.raises(InputDataError) as info:
        read_villages(path, columns=VillageColumns(name="nama"))
    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("file has no CRS")
    assert problems[1].startswith("name column 'nama' not found")
    assert problems[2].startswith("code 64.01.01.2001 is used by 2 villages")


def test_empty_layer(write_layer):
    empty = gpd.GeoDataFrame({"name": [], "code": []}, geometry=[], crs="EPSG:4326")
    with pytest.raises(InputDataError, match="layer is empty"):
        read_villages(write_layer(empty, "empty"))


def test_duplicate_codes_listed(make_villages):
    with pytest.raises(InputDataError) as info:
        read_villages(make_villages(n=4, duplicate_code=True))
    message = str(info.value)
    assert "code 64.01.01.2001 is used by 2 villages (Desa 1, Desa 2)" in message
    assert len(info.value.problems) == 1


def test_empty_codes_listed(write_layer, village_gdf):
    gdf = village_gdf(4)
    gdf.loc[[1, 2], "code"] = ["", "  "]
    with pytest.raises(InputDataError, match=r"2 villages have an empty code: #2 \(Desa 2\), "
                                             r"#3 \(Desa 3\)"):
        read_villages(write_layer(gdf, "nocode"))


def test_null_and_non_polygon_geometries(write_layer, village_gdf):
    gdf = village_gdf(4)
    gdf.loc[1, "geometry"] = None
    gdf.loc[2, "geometry"] = shapely.Point(116.0, -1.7)
    with pytest.raises(InputDataError) as info:
        read_villages(write_layer(gdf, "mixed", fmt="geojson"))
    problems = info.value.problems
    assert any("64.01.01.2002 (Desa 2): no geometry" in p for p in problems)
    assert any("64.01.01.2003 (Desa 3): geometry is a Point" in p for p in problems)


def test_all_problems_collected_in_one_error(write_layer, village_gdf):
    gdf = village_gdf(16)
    gdf["code"] = "X"  # one duplicate group
    gdf.loc[0, "geometry"] = None
    gdf.loc[1:12, "geometry"] = [shapely.LineString([(0, 0), (1, 1)])] * 12
    gdf.loc[3, "population"] = -5.0
    with pytest.raises(InputDataError) as info:
        read_villages(write_layer(gdf, "bad", fmt="geojson"))
    problems = info.value.problems
    assert len(problems) == 1 + 1 + 1 + 12
    message = str(info.value)
    assert "\n" not in message
    assert message.count("; ") >= 9
    assert f"{len(problems)} problems:" in message
    assert "and 5 more" in message
    assert "population -5 is negative" in message


def test_bow_tie_repaired_and_reported(make_villages):
    villages, report = read_villages(make_villages(n=4, invalid=1))
    assert villages.geometry.is_valid.all()
    assert villages.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    side = 0.015
    assert villages.geometry.iloc[0].area == pytest.approx(side * side / 2)
    assert len(report.repairs) == 1
    assert report.repairs[0].startswith(
        "village 64.01.01.2001 (Desa 1): invalid geometry repaired (Self-intersection[")


def test_missing_name_column_lists_available(make_villages):
    with pytest.raises(InputDataError, match="name column 'nama' not found; available "
                                             "columns: code, name, district_code") as info:
        read_villages(make_villages(n=2), columns=VillageColumns(name="nama"))
    assert "[inputs.village_columns]" in str(info.value)


def test_column_mapping(write_layer, village_gdf):
    gdf = village_gdf(3).rename(columns={"name": "NAMOBJ", "code": "KDEPUM",
                                         "district": "WADMKC", "population": "jiwa"})
    columns = VillageColumns(name="NAMOBJ", code="KDEPUM", district="WADMKC",
                             population="jiwa")
    villages, report = read_villages(write_layer(gdf, "mapped"), columns=columns)
    assert list(villages.columns) == COLUMNS
    assert villages["name"].tolist() == ["Desa 1", "Desa 2", "Kelurahan 3"]
    assert villages["district"].iloc[0] == "Kecamatan Satu"
    assert villages["population"].tolist() == [1000.0, 2000.0, 3000.0]
    assert "column 'NAMOBJ' read as name" in report.notes


def test_generated_codes_when_code_absent(write_layer, village_gdf):
    gdf = village_gdf(3).drop(columns=["code"])
    villages, report = read_villages(write_layer(gdf, "nocodes"))
    assert villages["code"].tolist() == ["V0001", "V0002", "V0003"]
    assert any("codes V0001..V0003 generated in file order" in n for n in report.notes)


def test_optional_columns_absent(write_layer, village_gdf):
    gdf = village_gdf(3)[["code", "name", "geometry"]]
    villages, report = read_villages(write_layer(gdf, "minimal"))
    assert villages["population"].isna().all()
    assert villages["population"].dtype == np.float64
    assert (villages["district"] == "").all()
    assert "column 'population' not found: population left empty" in report.notes
    assert "column 'district' not found: district left empty" in report.notes
    # Kemendagri codes give kind and district code.
    assert villages["kind"].tolist() == ["desa", "desa", "kelurahan"]
    assert (villages["district_code"] == "64.01.01").all()
    assert any(n.startswith("kind inferred from Kemendagri codes") for n in report.notes)


def test_kind_left_empty_without_kemendagri_codes(write_layer, village_gdf):
    gdf = village_gdf(2)[["name", "geometry"]]
    villages, _ = read_villages(write_layer(gdf, "plain"))
    assert villages["kind"].tolist() == ["", ""]


def test_whitespace_stripped_and_kind_normalised(write_layer, village_gdf):
    gdf = village_gdf(3)
    gdf["name"] = ["  Desa Satu ", "Desa Dua\t", " Kel Tiga"]
    gdf["code"] = [" 64.01.01.2001", "64.01.01.2002 ", "64.01.01.1001"]
    gdf["kind"] = ["Desa", " DESA", "Kelurahan "]
    villages, _ = read_villages(write_layer(gdf, "spaces"))
    assert villages["name"].tolist() == ["Desa Satu", "Desa Dua", "Kel Tiga"]
    assert villages["code"].tolist() == ["64.01.01.2001", "64.01.01.2002", "64.01.01.1001"]
    assert villages["kind"].tolist() == ["desa", "desa", "kelurahan"]


def test_unknown_kind_is_an_error(write_layer, village_gdf):
    gdf = village_gdf(2)
    gdf["kind"] = ["desa", "kota"]
    with pytest.raises(InputDataError, match="kind values 'kota' are neither desa nor "
                                             "kelurahan"):
        read_villages(write_layer(gdf, "kinds"))


def test_numeric_codes_become_text(write_layer, village_gdf):
    gdf = village_gdf(2)
    gdf["code"] = [6401012001, 6401012002]
    villages, _ = read_villages(write_layer(gdf, "numeric"))
    assert villages["code"].tolist() == ["6401012001", "6401012002"]


def test_non_numeric_population(write_layer, village_gdf):
    gdf = village_gdf(2)
    gdf["population"] = ["1200", "banyak"]
    with pytest.raises(InputDataError, match="row 2: population 'banyak' is not a number"):
        read_villages(write_layer(gdf, "pop"))


def test_projected_coordinates_with_geographic_crs(write_layer, village_gdf):
    gdf = village_gdf(2).to_crs("EPSG:32750").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(InputDataError, match="CRS is probably wrong"):
        read_villages(write_layer(gdf, "wrongcrs"))


def test_layers(tmp_path, village_gdf):
    path = tmp_path / "multi.gpkg"
    village_gdf(2).to_file(path, layer="desa", engine="pyogrio")
    village_gdf(5).to_file(path, layer="semua", engine="pyogrio")
    first, report = read_villages(path)
    assert len(first) == 2
    assert any("read the first, 'desa'" in n for n in report.notes)
    chosen, _ = read_villages(path, layer="semua")
    assert len(chosen) == 5
    with pytest.raises(InputDataError, match="layer 'x' not found; the file has layers "
                                             "'desa', 'semua'"):
        read_villages(path, layer="x")


def test_problems_message():
    assert problems_message("f.gpkg", ["only"]) == "f.gpkg: only"
    many = [f"p{i}" for i in range(12)]
    message = problems_message("f.gpkg", many)
    assert message.startswith("f.gpkg: 12 problems: p0; p1;")
    assert message.endswith("p9; ... and 2 more")
