"""Points of presence: read_pops."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from towerplan.columns import POP_COLUMNS
from towerplan.errors import InputDataError, InputFileError
from towerplan.io.pops import read_pops


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pops.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_ids_kinds_and_capacity(tmp_path: Path) -> None:
    pops, report = read_pops(_write(tmp_path, "pop_id,lon,lat,kind,capacity_mbps\n"
                                              "STO-A,116.10,-1.80,fibre,10000\n"
                                              "STO-B,116.20,-1.90,,\n"))
    assert list(pops.columns[:-1]) == list(POP_COLUMNS)
    assert pops.crs.to_epsg() == 4326
    assert pops["pop_id"].tolist() == ["STO-A", "STO-B"]
    assert pops["kind"].tolist() == ["fibre", "fibre"]  # default kind
    assert pops["capacity_mbps"].iloc[0] == 10000 and math.isnan(pops["capacity_mbps"].iloc[1])
    assert pops.geometry.x.tolist() == [116.10, 116.20]
    assert report.count == 2 and report.extent == (116.10, -1.90, 116.20, -1.80)


def test_generates_ids_and_accepts_semicolons_with_decimal_commas(tmp_path: Path) -> None:
    pops, report = read_pops(_write(tmp_path, "longitude;latitude;capacity\n"
                                              "116,10;-1,80;100\n116,30;-1,70;50\n"))
    assert pops["pop_id"].tolist() == ["POP01", "POP02"]
    assert pops["lon"].tolist() == [116.1, 116.3]
    assert pops["capacity_mbps"].tolist() == [100.0, 50.0]
    assert any("generated" in n for n in report.notes)


def test_every_bad_row_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, "pop_id,lon,lat,capacity_mbps\nA,200,-1.8,10\nB,116.1,x,10\n"
                            "A,116.2,-1.7,-5\n")
    with pytest.raises(InputDataError) as info:
        read_pops(path)
    problems = " ".join(info.value.problems)
    for expected in ("line 2: lon '200'", "line 3: lat 'x'", "line 4: capacity '-5'",
                     "pop_id A is used on lines 2, 4"):
        assert expected in problems


def test_missing_columns_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="need lon and lat"):
        read_pops(_write(tmp_path, "name,east,north\nA,1,2\n"))
    with pytest.raises(InputFileError, match="not found"):
        read_pops(tmp_path / "absent.csv")
