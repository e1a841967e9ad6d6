"""The Paser 2022 scenario on the real open data in ../shared/data (DESIGN.md section 8).

Runs ``scenarios/paser-2022.toml`` end to end once per module and checks what the outputs
must say about these inputs: the register matching of all 144 villages, the kecamatan
population apportioned by area, the coarse DEM called a placeholder, no existing tower inside
Paser, and the audit of the five villages chosen by hand in 2022. Reference figures come from
../shared/data/SOURCES.md and the packaged register (builtin:paser-register). Skipped when
the data is absent.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import shared_data_dir, shared_data_scenario
from towerplan.commands.plan import run_plan
from towerplan.io.register import match_register, packaged_register, read_register
from towerplan.outputs.writers import OUTPUT_FILES
from towerplan.scenario import Scenario

pytestmark = [pytest.mark.shared_data, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "paser-2022.toml"
REGISTER = packaged_register()
NEEDED = ("paser_villages.geojson", "paser_dem_coarse_srtm30plus.tif", "paser_towers.csv",
          "paser_places_geonames.csv", "paser_landmask_globe_1km.tif",
          "paser_kecamatan_population_2020.csv", "paser_signal_reports_2021.csv",
          "paser_signal_reports_2022.csv")

#: The five villages of 2022 with their Kemendagri codes and kecamatan (SOURCES.md).
AUDITED = {"Muara Toyu": ("64.01.08.2008", "Long Kali"),
           "Belimbing": ("64.01.06.2012", "Long Ikis"),
           "Muara Payang": ("64.01.07.2009", "Muara Komam"),
           "Segendang": ("64.01.09.2003", "Batu Engau"),
           "Muara Andeh": ("64.01.10.2009", "Muara Samu")}
#: The six desa reported without signal in 2021 (Tribun Kaltim 2021-09-28).
BLANK_2021 = {"64.01.07.2011": "Swan Slutung", "64.01.07.2008": "Long Sayo",
              "64.01.09.2003": "Segendang", "64.01.08.2012": "Kepala Telake",
              "64.01.08.2008": "Muara Toyu", "64.01.01.2016": "Rantau Layung"}
#: The two desa reported semi blank in 2022 (Liputan6 2022-11-16).
SEMI_BLANK_2022 = {"64.01.09.2005": "Riwang", "64.01.02.2006": "Tanjung Aru"}
#: Dukcapil 2020 population of Paser, sum of the ten kecamatan (SOURCES.md).
PASER_PEOPLE = 277_400
TOWER_IDR = 1_700_000_000
BUDGET_IDR = 8_500_000_000


@pytest.fixture(scope="module")
def data_dir() -> Path:
    return shared_data_dir(NEEDED)


@pytest.fixture(scope="module")
def scenario(data_dir: Path) -> Scenario:
    return shared_data_scenario(SCENARIO, data_dir)


@pytest.fixture(scope="module")
def run(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("paser") / "paser-2022"
    started = time.perf_counter()
    result = run_plan(scenario, out).result
    runtime_s = time.perf_counter() - started
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"out": out, "result": result, "summary": summary, "runtime_s": runtime_s}


def test_scenario_names_the_real_inputs(scenario: Scenario) -> None:
    inp = scenario.inputs
    assert Path(inp.villages).name == "paser_villages.geojson"
    assert inp.register == "builtin:paser-register"
    assert Path(inp.district_population).name == "paser_kecamatan_population_2020.csv"
    assert scenario.budget.total_idr == BUDGET_IDR
    assert scenario.costs.tower_idr == TOWER_IDR
    assert set(scenario.audit.villages) == set(AUDITED)


def test_the_five_villages_of_2022_are_register_names() -> None:
    register, _ = read_register(REGISTER)
    names = list(AUDITED)
    report = match_register(names, [AUDITED[n][1] for n in names], register)
    assert [(m.status, m.code) for m in report.villages] == [
        ("exact", AUDITED[n][0]) for n in names]


def test_full_output_set_with_the_matching_report(run: dict[str, Any]) -> None:
    out: Path = run["out"]
    written = {p.name for p in out.iterdir()}
    assert set(OUTPUT_FILES) <= written
    assert "register_match.csv" in written
    assert "village_mapping_todo.csv" not in written  # every name is settled
    with (out / "register_match.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    villages = [r for r in rows if r["level"] == "village"]
    assert len(villages) == 144
    assert {r["status"] for r in villages} == {"exact"}
    assert len([r for r in rows if r["level"] == "kecamatan"]) == 10
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        listed = list(csv.DictReader(fh))
    assert len(listed) == 144
    assert {r["code"] for r in listed} == {r["code"] for r in villages}


def test_summary_states_what_the_data_allows(run: dict[str, Any]) -> None:
    s = run["summary"]
    assert s["synthetic"] is False
    assert s["villages_total"] == 144
    assert (s["register_matched"], s["register_ambiguous"], s["register_unmatched"],
            s["register_without_polygon"]) == (144, 0, 0, 0)
    assert s["village_geometry_source"].endswith(
        "desa/kelurahan polygons (paser_villages.geojson, 144)")
    assert s["demand_basis"] == "population"
    assert s["demand_total"] == pytest.approx(PASER_PEOPLE, abs=0.5)
    assert "apportioned to villages by area" in s["demand_basis_note"].split(" / ")[1]
    english = [text.split(" / ")[1] for text in s["limitations"]]
    assert len(english) == 3
    assert english[0].startswith("Terrain: source DEM cells ~2.3 km (working grid 90 m), so "
                                 "terrain detail is a placeholder, not RF-grade; the radio "
                                 "model uses no terrain")
    # model = "auto" on the 2.3 km DEM: distance only, and the outputs say why.
    choice = s["model_choice"]
    assert (choice["requested"], choice["chain"], choice["reason"]) == (
        "auto", "hata-suburban", "coarse_dem")
    assert choice["dem_cell_m"] > 2000 and choice["uses_terrain"] is False
    assert "cannot resolve hills and valleys" in s["model_chain"]
    assert english[1] == (f"None of the {s['existing_towers']} existing towers within 30 km "
                          "lies inside the area: today's coverage comes only from towers "
                          "outside it; if the area does have towers, the tower data is "
                          "incomplete and blank spots are overstated")
    assert english[2].startswith("No population per village: kecamatan totals "
                                 "(paser_kecamatan_population_2020.csv) apportioned")
    assert all(" / " in text for text in s["limitations"])  # Bahasa Indonesia / English


def test_plan_figures_are_consistent(run: dict[str, Any]) -> None:
    s = run["summary"]
    assert s["existing_towers"] > 0  # towers within 30 km exist, all outside Paser
    assert s["towers_selected"] == BUDGET_IDR // TOWER_IDR
    assert s["spent_idr"] <= s["budget_idr"]
    assert s["optimality_gap"] is not None and s["optimality_gap"] <= 1e-4
    assert s["objective"] >= s["greedy_objective"] - 1e-6
    assert s["blank_villages_after"] <= s["blank_villages_before"] <= 144
    assert s["demand_covered_before"] <= s["demand_covered_after"] <= s["demand_total"]
    assert s["demand_covered_after"] == pytest.approx(
        s["demand_covered_before"] + s["objective"], rel=1e-6)


def _villages_csv(out: Path) -> list[dict[str, str]]:
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_before_state_follows_the_signal_reports(run: dict[str, Any]) -> None:
    """The 2021 report's six desa are blank today, the two of 2022 semi blank, the rest have
    signal (the 2021 report lists every blank desa); the model alone called all 144 blank."""
    s = run["summary"]
    assert s["before_state"] == "reports"
    ev = s["evidence"]
    assert (ev["target"], ev["villages_reported"], ev["blank_reported"],
            ev["semi_blank_reported"], ev["served_reported"]) == ("signal", 144, 6, 2, 136)
    assert [Path(f).name for f in ev["files"]] == ["paser_signal_reports_2021.csv",
                                                   "paser_signal_reports_2022.csv"]
    rows = {r["code"]: r for r in _villages_csv(run["out"])}
    blank = {c for c, r in rows.items() if r["status_before"] == "blank"}
    semi = {c for c, r in rows.items() if r["status_reported"] == "semi_blank"}
    assert blank == set(BLANK_2021)
    assert semi == set(SEMI_BLANK_2022)
    assert {rows[c]["status_before"] for c in semi} == {"partial"}
    assert (s["blank_villages_before"], s["partial_villages_before"]) == (6, 2)
    assert all(r["status_source"].startswith("report: ") for r in rows.values())
    # the model has no tower inside Paser: it disagrees wherever a desa is reported served
    modelled_blank = sum(r["status_model"] == "blank" for r in rows.values())
    assert modelled_blank > 100
    assert ev["conflicts"] == sum(r["conflict"] == "true" for r in rows.values())
    assert ev["conflicts"] >= modelled_blank - 8
    assert ev["conflicts_reported_served"] == sum(
        r["conflict"] == "true" and r["status_reported"] == "served" for r in rows.values())
    assert ev["conflicts_reported_served"] + ev["conflicts_reported_blank"] == ev["conflicts"]
    # the statement says why the model disagrees: no tower of the file stands in Paser
    assert "tidak memuat satu pun menara di dalam wilayah" in s["before_state_note"]
    assert "holds no tower inside the area" in s["before_state_note"]
    for code in SEMI_BLANK_2022:
        assert rows[code]["signal_reported"] == "weak"
        assert rows[code]["reported_date"] == "2022-11-16"


def test_the_optimum_serves_only_villages_without_signal(run: dict[str, Any]) -> None:
    """No chosen tower gains anything in desa the reports call served: every tower adds
    people, and only blank or semi-blank desa gain coverage."""
    with (run["out"] / "ranking.csv").open(encoding="utf-8") as fh:
        ranking = list(csv.DictReader(fh))
    assert ranking and all(float(r["new_demand"]) > 0 for r in ranking)
    rows = _villages_csv(run["out"])
    gained = {r["code"] for r in rows
              if float(r["demand_covered_after"]) > float(r["demand_covered_before"]) + 1e-6}
    assert gained and gained <= set(BLANK_2021) | set(SEMI_BLANK_2022)
    s = run["summary"]
    assert s["blank_villages_after"] < s["blank_villages_before"]


def test_the_plan_builds_in_the_villages(run: dict[str, Any]) -> None:
    """Candidates are anchored on settlements: GeoNames holds no point in these desa, so the
    towers stand at the village centres (measured plan, people from kecamatan totals)."""
    with (run["out"] / "ranking.csv").open(encoding="utf-8") as fh:
        ranking = list(csv.DictReader(fh))
    assert [(r["village"], round(float(r["new_demand"]))) for r in ranking] == [
        ("Muara Toyu", 7597), ("Rantau Layung", 6122), ("Kepala Telake", 4276),
        ("Swan Slutung", 2953), ("Riwang", 2622)]
    assert {r["land_status"] for r in ranking} == {"in_settlement"}
    assert all(float(r["cost_total_idr"]) == TOWER_IDR for r in ranking)
    s = run["summary"]
    assert s["objective"] == pytest.approx(23_568.5, abs=0.5)
    assert (s["blank_villages_before"], s["blank_villages_after"]) == (6, 2)
    assert s["access_road_from"] == "settlements or village centres"
    assert s["exclusion_layers"] == []


def test_audit_of_the_five_villages(run: dict[str, Any]) -> None:
    """``plan`` carries the audit of the scenario's ``[audit]`` villages into summary.json."""
    assert "audit" in run["summary"], "plan dropped the audit of [audit] villages"
    audit = run["summary"]["audit"]
    assert sorted(audit["audit_villages"]) == sorted(AUDITED)
    assert audit["audit_cost_idr"] == pytest.approx(5 * TOWER_IDR)
    assert audit["optimum_cost_idr"] <= BUDGET_IDR
    assert audit["optimum_demand"] >= audit["audit_demand"] - 1e-6
    assert 0.0 < audit["share_of_optimum"] <= 1.0 + 1e-9
    assert audit["share_of_optimum"] == pytest.approx(
        audit["audit_demand"] / audit["optimum_demand"], abs=1e-4)
    assert audit["demand_basis"] == "population"


def test_kecamatan_polygons_stand_in_when_village_polygons_are_missing(
        scenario: Scenario, data_dir: Path) -> None:
    from towerplan.inputs import load_inputs
    from towerplan.scenario import VillageColumns

    districts = data_dir / "paser_districts.geojson"
    if not districts.is_file():
        pytest.skip(f"{districts} not found")
    fallback = dataclasses.replace(scenario, inputs=dataclasses.replace(
        scenario.inputs, villages=str(districts), signal_reports=(),
        village_columns=VillageColumns(district="", district_code="", kind="",
                                       population="")))
    data = load_inputs(fallback)
    assert len(data.villages) == 10
    assert data.village_geometry_source.endswith(
        "kecamatan polygons in place of villages (paser_districts.geojson, 10)")
    english = [text.split(" / ")[1] for text in data.limitations]
    assert ("No village polygons: the 10 kecamatan polygons are the units; results per village "
            "and the audit of single villages are not available") in english
    assert data.register_match is not None
    assert data.register_match.counts()["exact"] == 10
    # each unit holds its own kecamatan's people
    assert data.villages["population"].sum() == pytest.approx(PASER_PEOPLE)
    long_kali = data.villages.loc[data.villages["code"] == "64.01.08", "population"]
    assert long_kali.tolist() == [pytest.approx(26_991)]


def test_people_stand_at_places_or_village_points(run: dict[str, Any]) -> None:
    """Without desa totals or settlements with population, each desa's kecamatan share stands
    at the GeoNames places inside it (7 desa) or at its representative point, never spread
    over its forest."""
    s = run["summary"]
    rules = s["population_rules"]
    assert {r: v["villages"] for r, v in rules.items()} == {"settlements": 7, "centroid": 137}
    assert sum(v["people"] for v in rules.values()) == pytest.approx(PASER_PEOPLE, abs=1.0)
    rows = _villages_csv(run["out"])
    assert {r["population_source"] for r in rows} == {"district_population"}
    assert sum(r["population_rule"] == "centroid" for r in rows) == 137


def test_the_workbook_prints_on_at_most_twelve_pages(run: dict[str, Any],
                                                     tmp_path: Path) -> None:
    import openpyxl

    from tests.unit.outputs.office import SOFFICE, convert, pdf_pages

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    book = openpyxl.load_workbook(run["out"] / "report.xlsx", data_only=True)
    costs = book["Biaya"]
    not_costed = [c.value for row in costs.iter_rows() for c in row
                  if c.value == "tidak dihitung"]
    assert len(not_costed) == 3 * 5  # road, power and backhaul of the five towers
    scope = {row[0].value: row[1].value for row in book["Ringkasan"].iter_rows()}
    assert scope["Cakupan biaya"] == ("Rp 1.700.000.000 per menara: menara saja; jalan akses, "
                                      "listrik, backhaul tidak dihitung")
    assert scope["Terpakai"] == BUDGET_IDR  # the cached value of the formula
    assert run["summary"]["cost_parts_not_costed"] == [
        "cost_road_idr", "cost_power_idr", "cost_backhaul_idr"]
    report = (run["out"] / "report.html").read_text(encoding="utf-8")
    assert scope["Cakupan biaya"] + "." in report
    # 134 pages before page setup; now every sheet one page wide
    assert pdf_pages(convert(run["out"] / "report.xlsx", "pdf", tmp_path)) <= 12
