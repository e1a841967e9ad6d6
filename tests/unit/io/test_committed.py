"""Tests of the committed-towers reader (towerplan.io.committed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from towerplan.errors import InputDataError
from towerplan.io.committed import COMMITTED_COLUMNS, read_committed_towers


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "committed.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_columns_aliases_and_defaults(tmp_path):
    path = _write(tmp_path, "lon;lat;tahun;teknologi;operator;sumber;nama;height_m\n"
                            "116,0;-1,7;2024;4G;Telkomsel;BAKTI;BTS Muara;\n"
                            "116,1;-1,8;2027;;;Operator;;35\n")
    committed, report = read_committed_towers(path, plan_year=2025, default_height_m=40.0)
    assert list(committed.columns) == [*COMMITTED_COLUMNS, "geometry"]
    assert committed["committed_id"].tolist() == ["C0001", "C0002"]
    assert committed["lon"].tolist() == [116.0, 116.1]
    assert committed["on_air_year"].tolist() == [2024, 2027]
    assert committed["technology"].tolist() == ["4g", "unknown"]
    assert committed["programme"].tolist() == ["BAKTI", "Operator"]
    assert committed["name"].tolist() == ["BTS Muara", ""]
    assert committed["height_m"].tolist() == [40.0, 35.0]
    assert report.count == 2
    assert report.notes[0].startswith("plan year 2025: 1 on air by then (existing today), "
                                      "1 later")


def test_every_problem_one_line_with_file_line_and_value(tmp_path):
    path = _write(tmp_path, "id,lon,lat,on_air_year,technology\n"
                            "A,,-1.7,2024,4g\n"          # line 2: lon missing
                            "B,116.0,-1.7,20x4,4g\n"     # line 3: bad year
                            "C,116.0,-1.7,2040,4g\n"     # line 4: beyond 2025 + 10
                            "D,116.0,-1.7,2024,6g\n"     # line 5: bad technology
                            "E,116.0,-1.7,,4g\n"         # line 6: year missing
                            "A,116.0,-1.7,2024,4g\n")    # line 7: duplicate id
    with pytest.raises(InputDataError) as err:
        read_committed_towers(path, plan_year=2025)
    assert err.value.problems == (
        "committed.csv line 2: lon is missing",
        "committed.csv line 3: on_air_year '20x4' is not a year",
        "committed.csv line 4: on_air_year 2040 is outside 1980..2035 (at most 10 years "
        "after the plan year 2025)",
        "committed.csv line 6: on_air_year is missing",
        "committed.csv line 5: technology '6g' is not one of 2g, 3g, 4g, 5g, unknown (or GSM, "
        "UMTS, CDMA, LTE, NR)",
        "committed.csv line 7: id A is already used on line 2",
    )


def test_missing_columns_named(tmp_path):
    path = _write(tmp_path, "lon,lat,operator\n116,-1.7,X\n")
    with pytest.raises(InputDataError, match="missing column"):
        read_committed_towers(path, plan_year=2025)
