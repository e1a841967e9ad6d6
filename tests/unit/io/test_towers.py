"""Tests of the existing-towers loader (towerplan.io.towers)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from towerplan.columns import TOWER_COLUMNS
from towerplan.errors import InputDataError, InputFileError
from towerplan.io.towers import (
    counts_at_target,
    parse_technology,
    read_tower_positions,
    read_towers,
)

# About 11 m per 0.0001 degree near the equator.
SITE_A = (116.0000, -1.7000)
SITE_B = (116.0100, -1.7000)  # 1.1 km east of A


def _cells() -> list[dict]:
    """Three cells of one site (two operators, two radios) and one cell of another."""
    return [
        {"radio": "LTE", "net": 10, "lon": SITE_A[0], "lat": SITE_A[1]},
        {"radio": "GSM", "net": 10, "lon": SITE_A[0] + 0.0002, "lat": SITE_A[1]},
        {"radio": "LTE", "net": 1, "lon": SITE_A[0] + 0.0001, "lat": SITE_A[1] + 0.0001},
        {"radio": "UMTS", "net": 11, "lon": SITE_B[0], "lat": SITE_B[1]},
    ]


def test_simple_layout(make_towers_csv):
    path = make_towers_csv([{"lon": 116.0, "lat": -1.7}, {"lon": 116.1, "lat": -1.8}])
    towers, report = read_towers(path)
    assert list(towers.columns) == [*TOWER_COLUMNS, "geometry"]
    assert towers.crs.to_epsg() == 4326
    assert towers["tower_id"].tolist() == ["T0001", "T0002"]
    assert towers["height_m"].tolist() == [42.0, 42.0]
    assert towers["cells"].tolist() == [1, 1]
    assert towers.geometry.x.tolist() == [116.0, 116.1]
    assert report.layer == "towers"
    assert report.count == 2
    assert report.extent == (116.0, -1.8, 116.1, -1.7)
    assert "layout: simple" in report.notes
    assert "2 towers without height get the default 42 m" in report.notes


@pytest.mark.parametrize(("lon", "lat", "height"), [
    ("longitude", "latitude", "height"), ("lng", "y", "height_m"), ("x", "y", "height"),
    ("LON", "Lat", "Height_M"),
])
def test_simple_aliases(make_towers_csv, lon, lat, height):
    path = make_towers_csv([{lon: 116.0, lat: -1.7, height: 72, "operator": "Telkomsel",
                             "tower_id": "BTS-1"}])
    towers, _ = read_towers(path)
    row = towers.iloc[0]
    assert (row["lon"], row["lat"], row["height_m"]) == (116.0, -1.7, 72.0)
    assert row["operator"] == "Telkomsel"
    assert row["tower_id"] == "BTS-1"


def test_simple_missing_heights_use_default(make_towers_csv):
    path = make_towers_csv([{"lon": 116.0, "lat": -1.7, "height_m": 30},
                            {"lon": 116.1, "lat": -1.7, "height_m": ""}])
    towers, report = read_towers(path, default_height_m=50.0)
    assert towers["height_m"].tolist() == [30.0, 50.0]
    assert "1 towers without height get the default 50 m" in report.notes


def test_bad_heights_and_duplicate_ids(make_towers_csv):
    path = make_towers_csv([
        {"tower_id": "A", "lon": 116.0, "lat": -1.7, "height_m": "tinggi"},
        {"tower_id": "A", "lon": 116.1, "lat": -1.7, "height_m": -3},
    ])
    with pytest.raises(InputDataError) as info:
        read_towers(path)
    problems = info.value.problems
    assert "line 2: height 'tinggi' is not a height in metres (0 < height <= 500)" in problems
    assert any(p.startswith("line 3: height '-3'") for p in problems)
    assert "tower_id A is used on lines 2, 3; ids must be unique" in problems


def test_bad_coordinates_listed_with_lines(make_towers_csv):
    path = make_towers_csv([
        {"lon": 116.0, "lat": -1.7},
        {"lon": "abc", "lat": -1.7},
        {"lon": 116.0, "lat": 95},
        {"lon": 190.5, "lat": ""},
    ])
    with pytest.raises(InputDataError) as info:
        read_towers(path)
    assert info.value.problems == (
        "line 3: lon 'abc' is not a number",
        "line 4: lat 95 outside -90..90",
        "line 5: lon 190.5 outside -180..180, lat '' is not a number",
    )
    assert str(info.value).startswith(f"{path}: 3 problems: line 3: lon 'abc'")


def test_opencellid_cells_grouped_into_sites(make_towers_csv):
    towers, report = read_towers(make_towers_csv(_cells(), layout="opencellid"))
    assert len(towers) == 2
    a, b = towers.iloc[0], towers.iloc[1]
    assert a["cells"] == 3 and b["cells"] == 1
    assert a["radio"] == "GSM/LTE"
    assert a["operator"] == "Indosat/Telkomsel"
    assert b["operator"] == "XL Axiata" and b["radio"] == "UMTS"
    assert a["lon"] == pytest.approx(SITE_A[0] + 0.0001)
    assert a["lat"] == pytest.approx(SITE_A[1] + 0.0001 / 3)
    assert towers["height_m"].tolist() == [42.0, 42.0]
    assert towers["cells"].sum() == 4
    assert report.count == 2
    assert "layout: OpenCelliD" in report.notes
    assert any("4 cell records grouped into 2 towers" in n for n in report.notes)
    assert any(n.startswith("operator derived from MCC/MNC") for n in report.notes)
    assert any("every tower gets the default 42 m" in n for n in report.notes)


def test_opencellid_variant_and_headerless_agree(make_towers_csv):
    standard, _ = read_towers(make_towers_csv(_cells(), layout="opencellid", name="a.csv"))
    rows = [{("mnc" if k == "net" else k): v for k, v in r.items()} for r in _cells()]
    variant, _ = read_towers(make_towers_csv(rows, layout="opencellid-variant", name="b.csv"))
    bare, report = read_towers(make_towers_csv(_cells(), layout="opencellid", header=False,
                                               name="c.csv"))
    assert "layout: OpenCelliD (no header)" in report.notes
    for other in (variant, bare):
        assert other.drop(columns="geometry").equals(standard.drop(columns="geometry"))


def test_opencellid_custom_height(make_towers_csv):
    towers, _ = read_towers(make_towers_csv(_cells(), layout="opencellid"),
                            default_height_m=60.0)
    assert (towers["height_m"] == 60.0).all()


def test_separate_sites_beyond_50_m(make_towers_csv):
    rows = [{"lon": 116.0, "lat": -1.7}, {"lon": 116.0 + 0.0007, "lat": -1.7}]  # ~78 m
    towers, _ = read_towers(make_towers_csv(rows, layout="opencellid"))
    assert len(towers) == 2


@pytest.mark.parametrize(("mcc", "mnc", "operator"), [
    (510, 1, "Indosat"), (510, 10, "Telkomsel"), (510, 11, "XL Axiata"),
    (510, 9, "Smartfren"), (510, 28, "Smartfren"), (510, 21, "Indosat (IM3)"),
    (510, 89, "Tri"), (510, 99, "MCC 510 MNC 99"), (502, 12, "MCC 502 MNC 12"),
])
def test_operator_from_mnc(make_towers_csv, mcc, mnc, operator):
    path = make_towers_csv([{"mcc": mcc, "net": mnc}], layout="opencellid")
    towers, _ = read_towers(path)
    assert towers["operator"].tolist() == [operator]


def test_header_only_gives_no_towers(make_towers_csv):
    towers, report = read_towers(make_towers_csv([], layout="opencellid"))
    assert len(towers) == 0
    assert list(towers.columns) == [*TOWER_COLUMNS, "geometry"]
    assert towers.crs.to_epsg() == 4326
    assert report.count == 0
    assert "header only: no towers" in report.notes
    assert all(np.isnan(report.extent))


def test_unknown_layout(tmp_path):
    path = tmp_path / "towers.csv"
    path.write_text("nama,alamat\nBTS Desa,Jalan 1\n")
    with pytest.raises(InputDataError, match="unknown towers layout; columns found: nama, "
                                             "alamat; expected lon,lat") as info:
        read_towers(path)
    assert "radio,mcc,net,area,cell" in str(info.value)


def test_missing_empty_and_binary_files(tmp_path):
    with pytest.raises(InputFileError, match="towers file not found"):
        read_towers(tmp_path / "none.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(InputDataError, match="file is empty"):
        read_towers(empty)
    binary = tmp_path / "towers.xlsx"
    binary.write_bytes(b"PK\x03\x04\x00\x00\xff\xfe\x00")
    with pytest.raises(InputFileError, match="towers.xlsx"):
        read_towers(binary)


def test_semicolon_and_decimal_comma(tmp_path):
    path = tmp_path / "towers.csv"
    path.write_text("lon;lat;height_m\n116,05;-1,75;52,5\n", encoding="utf-8")
    towers, _ = read_towers(path)
    assert (towers.iloc[0]["lon"], towers.iloc[0]["lat"]) == (116.05, -1.75)
    assert towers.iloc[0]["height_m"] == 52.5


def test_invalid_default_height(make_towers_csv):
    with pytest.raises(ValueError, match="default_height_m"):
        read_towers(make_towers_csv([{"lon": 116, "lat": -1.7}]), default_height_m=0)


def test_simple_layout_antenna_columns(make_towers_csv):
    path = make_towers_csv([
        {"lon": 116.0, "lat": -1.7, "azimuths": "0;120;240", "beamwidth_deg": 65},
        {"lon": 116.1, "lat": -1.8, "azimuths": "", "beamwidth_deg": ""},
    ])
    towers, _ = read_towers(path)
    assert list(towers.columns) == [*TOWER_COLUMNS, "azimuths", "beamwidth_deg", "geometry"]
    assert towers["azimuths"].tolist() == ["0;120;240", ""]
    assert towers["beamwidth_deg"].iloc[0] == 65.0
    assert np.isnan(towers["beamwidth_deg"].iloc[1])


def test_simple_layout_bad_antenna_columns(make_towers_csv):
    path = make_towers_csv([{"lon": 116.0, "lat": -1.7, "azimuths": "north",
                             "beamwidth_deg": "-5"}])
    with pytest.raises(InputDataError) as err:
        read_towers(path)
    assert "azimuths 'north'" in str(err.value)
    assert "beamwidth_deg '-5'" in str(err.value)


@pytest.mark.parametrize("layout", ["simple", "opencellid"])
def test_positions_are_those_of_read_towers(make_towers_csv, layout):
    rows = (_cells() if layout == "opencellid"
            else [{"lon": 116.0, "lat": -1.7, "height_m": 30, "tower_id": "A"},
                  {"lon": 116.1, "lat": -1.8, "height_m": "", "tower_id": "B"}])
    path = make_towers_csv(rows, layout=layout)
    towers, _ = read_towers(path, default_height_m=50.0)
    assert len(towers) == 2
    positions = read_tower_positions(path, default_height_m=50.0)
    assert positions.tower_id == towers["tower_id"].tolist()
    assert positions.lon.tolist() == towers["lon"].tolist()
    assert positions.lat.tolist() == towers["lat"].tolist()
    assert positions.height_m.tolist() == towers["height_m"].tolist()


def test_positions_of_a_simple_file_need_no_pandas(make_towers_csv):
    path = make_towers_csv([{"lon": 116.0, "lat": -1.7}])
    code = ("import sys; from towerplan.io.towers import read_tower_positions; "
            f"p = read_tower_positions({str(path)!r}); "
            "assert p.tower_id == ['T0001'] and p.height_m.tolist() == [42.0]; "
            "print(sorted(m for m in ('pandas', 'geopandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


# --------------------------------------------------------------------------- technology


def test_opencellid_site_takes_the_highest_technology(make_towers_csv):
    # site A groups LTE, GSM and LTE cells -> 4g; site B has one UMTS cell -> 3g
    towers, report = read_towers(make_towers_csv(_cells(), layout="opencellid"))
    assert towers["technology"].tolist() == ["4g", "3g"]
    assert "technology: 3g 1, 4g 1" in report.notes


def test_opencellid_gsm_only_and_nr_sites(make_towers_csv):
    rows = [{"radio": "GSM", "lon": SITE_A[0], "lat": SITE_A[1]},
            {"radio": "GSM", "lon": SITE_A[0] + 0.0001, "lat": SITE_A[1]},
            {"radio": "NR", "lon": SITE_B[0], "lat": SITE_B[1]},
            {"radio": "CDMA", "lon": SITE_B[0], "lat": SITE_B[1] + 0.0001}]
    towers, _ = read_towers(make_towers_csv(rows, layout="opencellid"))
    assert towers["technology"].tolist() == ["2g", "5g"]


@pytest.mark.parametrize(("column", "values", "expected"), [
    ("technology", ["4G", "2g", "", "GSM/LTE"], ["4g", "2g", "unknown", "4g"]),
    ("teknologi", ["3g", "5G", "unknown", "2.5G"], ["3g", "5g", "unknown", "2g"]),
    ("radio", ["LTE", "GSM", "UMTS", "NR"], ["4g", "2g", "3g", "5g"]),
])
def test_simple_technology_columns(make_towers_csv, column, values, expected):
    rows = [{"lon": 116.0 + k / 100, "lat": -1.7, column: v} for k, v in enumerate(values)]
    towers, _ = read_towers(make_towers_csv(rows))
    assert towers["technology"].tolist() == expected


def test_simple_without_technology_is_unknown(make_towers_csv):
    towers, _ = read_towers(make_towers_csv([{"lon": 116.0, "lat": -1.7}]))
    assert towers["technology"].tolist() == ["unknown"]


def test_bad_technology_listed_with_file_line_and_value(make_towers_csv):
    rows = [{"lon": 116.0, "lat": -1.7, "technology": "4g"},
            {"lon": 116.1, "lat": -1.7, "technology": "6g"},
            {"lon": 116.2, "lat": -1.7, "technology": "wifi"}]
    path = make_towers_csv(rows)
    with pytest.raises(InputDataError) as err:
        read_towers(path)
    assert len(err.value.problems) == 2
    assert err.value.problems[0].startswith("line 3: technology '6g' is not a technology")
    assert err.value.problems[1].startswith("line 4: technology 'wifi' is not a technology")
    assert str(path) in str(err.value)


@pytest.mark.parametrize(("technology", "target", "expected"), [
    ("2g", "4g", False), ("3g", "4g", False), ("4g", "4g", True), ("5g", "4g", True),
    ("unknown", "4g", True), ("2g", "signal", True), ("unknown", "signal", True),
])
def test_counts_at_target(technology, target, expected):
    assert counts_at_target(technology, target) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", "unknown"), ("LTE", "4g"), ("gsm / umts", "3g"), ("unknown/2G", "2g"),
    ("edge", "2g"), ("4G LTE", "4g"), ("x", None), ("4g/x", None),
])
def test_parse_technology(text, expected):
    assert parse_technology(text) == expected


@pytest.mark.parametrize(("mcc", "mnc", "expected"), [
    ("510", "10", "Telkomsel"), ("inf", "", "MCC inf MNC ?"), ("nan", "1", "MCC nan MNC 1"),
    ("510", "-inf", "MCC 510 MNC -inf"), ("x", "y", "MCC x MNC y")])
def test_operator_of_unreadable_codes_is_the_text_as_given(mcc, mnc, expected):
    from towerplan.io.towers import _operator

    assert _operator(mcc, mnc) == expected


def test_an_infinite_country_code_in_a_cell_file_is_not_a_crash(tmp_path):
    path = tmp_path / "cells.csv"
    path.write_text("radio,mcc,net,lon,lat\n,inf", encoding="utf-8")
    with pytest.raises(InputDataError, match="fewer than 5 fields: 2; line 2: lon"):
        read_towers(path)  # the file's real problems, not an OverflowError on "inf"
