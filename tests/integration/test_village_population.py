"""Official desa totals, building footprints and facilities through ``towerplan plan``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

Factory = Callable[..., Path]
Runner = Callable[..., Any]

# the 8 desa of the small scenario get 100..800 people; the kelurahan (64.01.01.1001) none
TOTALS = {f"64.01.01.{2001 + i}": 100.0 * (i + 1) for i in range(8)}


def _scenario(small_scenario: Factory, lines: str) -> Path:
    """The small scenario without the villages' own population, plus ``[inputs]`` lines."""
    path = small_scenario(extra="[inputs.village_columns]\npopulation = \"\"\n")
    path.write_text(path.read_text(encoding="utf-8").replace("[inputs]\n", f"[inputs]\n{lines}"),
                    encoding="utf-8")
    return path


def _totals_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("kode;jumlah_penduduk;tahun;sumber\n" + "".join(f"{r}\n" for r in rows),
                    encoding="utf-8")
    return path


def test_bad_village_population_is_refused_line_by_line(tmp_path: Path, small_scenario: Factory,
                                                        run_cli: Runner) -> None:
    bad = _totals_csv(tmp_path / "desa.csv", [
        "64.01.01.2001;100;2022;BPS", "64.01.01.2001;120;2022;BPS", "64.01.01.2002;-5;2022;BPS",
        "64.01.01.2003;banyak;2022;BPS"])
    sc = _scenario(small_scenario, f'village_population = "{bad}"\n')
    out = tmp_path / "o"
    proc = run_cli("validate", sc)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    for fragment in ("code 64.01.01.2001 appears 2 times; one row per village",
                     "line 4: jumlah_penduduk '-5' is not a count of people",
                     "line 5: jumlah_penduduk 'banyak' is not a count of people"):
        assert fragment in text, text
    proc = run_cli("plan", sc, "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() or not (out / "summary.json").exists()


def test_unknown_code_is_refused(tmp_path: Path, small_scenario: Factory,
                                 run_cli: Runner) -> None:
    bad = _totals_csv(tmp_path / "desa.csv", ["64.01.01.2001;100;2022;BPS",
                                              "64.01.99.2001;50;2022;BPS"])
    sc = _scenario(small_scenario, f'village_population = "{bad}"\n')
    proc = run_cli("validate", sc)
    assert proc.returncode == 2
    assert "code 64.01.99.2001 is no village of the villages layer" in proc.stdout + proc.stderr
    out = tmp_path / "o"
    assert run_cli("plan", sc, "--out", out).returncode == 2
    assert not (out / "summary.json").exists()


@pytest.fixture
def planned(tmp_path: Path, small_scenario: Factory, village_gdf: Callable[..., gpd.GeoDataFrame],
            run_cli: Runner) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    villages = village_gdf(9, size_deg=0.03).set_index("code")
    totals = _totals_csv(tmp_path / "desa.csv",
                         [f"{code};{people:.0f};2022;Dukcapil" for code, people in TOTALS.items()])
    # two roofs in desa 2001 (in different demand cells), none elsewhere
    centre = villages.geometry["64.01.01.2001"].centroid
    roofs = gpd.GeoDataFrame(geometry=[
        shapely.box(centre.x, centre.y, centre.x + 0.0002, centre.y + 0.0002),
        shapely.box(centre.x + 0.008, centre.y, centre.x + 0.0084, centre.y + 0.0002)],
        crs="EPSG:4326")
    roofs.to_file(tmp_path / "roofs.gpkg", engine="pyogrio")
    school = villages.geometry["64.01.01.2002"].centroid
    facilities = tmp_path / "facilities.csv"
    facilities.write_text(f"lon,lat,kind,weight\n{school.x},{school.y},school,25\n"
                          f"{school.x + 0.001},{school.y},health,\n", encoding="utf-8")
    sc = _scenario(small_scenario, f'village_population = "{totals}"\n'
                                   f'buildings = "{tmp_path / "roofs.gpkg"}"\n'
                                   f'facilities = "{facilities}"\n')
    out = tmp_path / "o"
    proc = run_cli("plan", sc, "--out", out)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        rows = {r["code"]: r for r in csv.DictReader(fh)}
    return summary, rows


def test_desa_totals_are_kept_and_the_rule_is_stated(planned) -> None:
    summary, rows = planned
    assert rows["64.01.01.2001"]["population_rule"] == "buildings"
    assert {rows[c]["population_rule"] for c in TOTALS if c != "64.01.01.2001"} == {"centroid"}
    assert rows["64.01.01.1001"]["population_rule"] == "area"
    assert rows["64.01.01.1001"]["population_source"] == ""
    assert rows["64.01.01.2003"]["population_source"] == "village_population"
    # the dasymetric sum per desa is its official total (desa 2002 also has its facilities)
    for code, people in TOTALS.items():
        extra = 125.0 if code == "64.01.01.2002" else 0.0
        assert float(rows[code]["demand_total"]) == pytest.approx(people + extra, abs=0.01)
    # the kelurahan has no total: the mean density of the others over its (equal) area
    assert float(rows["64.01.01.1001"]["demand_total"]) == pytest.approx(450.0, rel=0.01)
    rules = summary["population_rules"]
    assert rules["buildings"] == {"villages": 1, "people": 100.0}
    assert rules["centroid"] == {"villages": 7, "people": 3500.0}
    assert rules["area"]["villages"] == 1
    # facilities: 25 given, 100 (coverage.facility_weight) for the one without a weight
    assert summary["facility_demand"] == 125.0
    assert summary["demand_total"] == pytest.approx(3600.0 + 125.0 + 450.0, rel=1e-3)
