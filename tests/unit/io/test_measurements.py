"""Tests of the drive-test measurements reader (towerplan.io.measurements)."""

from __future__ import annotations

from pathlib import Path

import pytest

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.measurements import MEASUREMENT_COLUMNS, read_measurements


def _write(tmp_path: Path, lines: list[str], name: str = "drive.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(n: int, sep: str = ",", site: bool = True) -> list[str]:
    return [sep.join([f"{116.0 + k / 1000:.4f}", f"{-1.7 - k / 1000:.4f}", f"{-80.0 - k:.1f}",
                      *(["T01" if k % 2 else ""] if site else [])]) for k in range(n)]


def test_reads_columns_with_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path, ["lon,lat,rsrp_dbm,site_id", *_rows(12)])
    table, report = read_measurements(path)
    assert list(table.columns) == list(MEASUREMENT_COLUMNS)
    assert table.index.name == "line"
    assert table.index.tolist() == list(range(2, 14))
    assert table["rsrp_dbm"].iloc[3] == -83.0
    assert table["site_id"].tolist()[:3] == ["", "T01", ""]
    assert report.layer == "measurements"
    assert report.count == 12
    assert report.extent == pytest.approx((116.0, -1.711, 116.011, -1.7))
    assert "6 of 12 readings name their serving site; the others are served by the nearest " \
           "tower" in report.notes


def test_aliases_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    rows = [r.replace(".", ",") for r in _rows(10, sep=";", site=False)]
    path = _write(tmp_path, ["Longitude;Latitude;RSRP", *rows])
    table, report = read_measurements(path)
    assert table["lon"].iloc[1] == pytest.approx(116.001)
    assert table["rsrp_dbm"].iloc[9] == -89.0
    assert (table["site_id"] == "").all()
    assert any(n.startswith("columns mapped: longitude -> lon") for n in report.notes)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="measurements file not found"):
        read_measurements(tmp_path / "nope.csv")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "drive.csv"
    path.write_bytes(b"lon,lat\x00\x01")
    with pytest.raises(InputFileError, match="binary"):
        read_measurements(path)


def test_missing_column_names_what_was_found(tmp_path: Path) -> None:
    path = _write(tmp_path, ["lon,lat,signal", *_rows(12, site=False)])
    with pytest.raises(InputDataError, match=r"column\(s\) rsrp_dbm missing; columns found: "
                                             r"lon, lat, signal"):
        read_measurements(path)


def test_every_bad_line_is_listed_at_once(tmp_path: Path) -> None:
    rows = _rows(12)
    rows[0] = "abc,-1.7,-80"  # line 2
    rows[3] = "116.0,-95.0,-80"  # line 5
    rows[5] = "116.0,-1.7,-10"  # line 7
    rows[6] = "116.0,-1.7,-170.5"  # line 8
    rows[8] = "116.0,-1.7,"  # line 10
    path = _write(tmp_path, ["lon,lat,rsrp_dbm,site_id", *rows])
    with pytest.raises(InputDataError) as info:
        read_measurements(path)
    problems = info.value.problems
    assert problems == (
        "line 2: lon 'abc' is not a number",
        "line 5: lat -95.0 outside -90..90",
        "line 7: rsrp_dbm -10 outside -160..-20",
        "line 8: rsrp_dbm -170.5 outside -160..-20",
        "line 10: rsrp_dbm is empty",
    )
    assert str(info.value).startswith(f"{path}: 5 problems: line 2:")


def test_too_few_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, ["lon,lat,rsrp_dbm", *_rows(9, site=False)])
    with pytest.raises(InputDataError, match="9 readings; a calibration needs at least 10"):
        read_measurements(path)


def test_too_few_rows_and_bad_values_in_one_message(tmp_path: Path) -> None:
    path = _write(tmp_path, ["lon,lat,rsrp_dbm", "116,-1.7,x"])
    with pytest.raises(InputDataError) as info:
        read_measurements(path)
    assert info.value.problems == ("line 2: rsrp_dbm 'x' is not a number",
                                   "1 reading; a calibration needs at least 10")


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, [""])
    with pytest.raises(InputDataError, match="file is empty"):
        read_measurements(path)
