"""Signal reports decide today's status of the villages they name; the model the rest.

The small generated scenario (``small_scenario``): in the model, the existing tower covers
Desa 1 (64.01.01.2001) and leaves Desa 3 (64.01.01.2003) and Desa 6 (64.01.01.2006) blank.
"""

from __future__ import annotations

import csv
import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan import load_scenario, run_plan
from towerplan.outputs.kml import KML_NAMESPACE
from towerplan.pipeline.plan import current_state, new_run, selection_problem

Factory = Callable[..., Path]
Runner = Callable[..., Any]

DESA1, DESA3, DESA6 = "64.01.01.2001", "64.01.01.2003", "64.01.01.2006"


def _reports(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    lines = [f"{code},{status},{date},test {path.stem}\n" for code, status, date in rows]
    path.write_text("code,status,date,source\n" + "".join(lines), encoding="utf-8")
    return path


def _scenario(small_scenario: Factory, entries: str, target: str = "4g",
              towers: Path | None = None) -> Path:
    path = small_scenario(**({"towers_path": towers} if towers else {}))
    text = path.read_text(encoding="utf-8")
    text = text.replace('settlements = ""\n',
                        f'settlements = ""\nsignal_reports = [{entries}]\n')
    text = text.replace("demand_cell_m = 250\n", f'demand_cell_m = 250\ntarget = "{target}"\n')
    path.write_text(text, encoding="utf-8")
    return path


def _before(tmp_path: Path, scenario: Path) -> Any:
    run = new_run(load_scenario(scenario), cache=tmp_path / "cache")
    stats = run.get("before").copy()
    stats.index = run.get("load").villages["code"].astype(str).to_numpy()
    return run, stats


def test_without_reports_the_model_decides(tmp_path: Path, small_scenario: Factory) -> None:
    _, stats = _before(tmp_path, small_scenario())
    assert stats.loc[DESA1, "status"] == "covered"
    assert stats.loc[DESA3, "status"] == "blank"
    assert (stats["status"] == stats["status_model"]).all()
    assert set(stats["status_source"]) == {"model"}
    assert set(stats["status_reported"]) == {"unknown"}
    assert not stats["conflict"].any()


def test_reports_override_the_model_both_ways(tmp_path: Path,
                                              small_scenario: Factory) -> None:
    reports = _reports(tmp_path / "r.csv", [(DESA1, "none", "2021-09-28"),
                                            (DESA3, "4g", "2022")])
    run, stats = _before(tmp_path, _scenario(small_scenario, f'"{reports}"'))
    one, three = stats.loc[DESA1], stats.loc[DESA3]
    assert (one["status"], one["status_model"], one["status_reported"]) == (
        "blank", "covered", "blank")
    assert one["conflict"] and one["signal_reported"] == "none"
    assert one["status_source"] == "report: test r 2021-09-28"
    assert (three["status"], three["status_model"], three["status_reported"]) == (
        "covered", "blank", "served")
    assert three["conflict"] and three["reported_date"] == "2022"
    others = stats.drop(index=[DESA1, DESA3])
    assert (others["status"] == others["status_model"]).all()
    assert not others["conflict"].any()

    state = current_state(run)
    village = state.villages["code"].astype(str).to_numpy()[state.units.village]
    fresh = state.fresh_weight
    assert fresh[village == DESA3].sum() == 0  # reported served: nothing to gain there
    assert state.covered_model[village == DESA1].all()
    assert not state.covered[village == DESA1].any()  # reported blank: fresh again
    assert fresh[village == DESA1].sum() == pytest.approx(
        state.units.weight[village == DESA1].sum())
    problem = selection_problem(run)
    gain_in_desa3 = problem.matrix[:, np.flatnonzero(village == DESA3)] @ fresh[village == DESA3]
    assert np.allclose(gain_in_desa3, 0.0)
    chosen = run.get("selection").selection.sites
    outcome = run.get("after")
    after = dict(zip(outcome.villages["code"], outcome.villages["status_after"], strict=True))
    assert after[DESA3] == "covered"
    assert len(chosen) > 0


def test_latest_report_wins_across_files(tmp_path: Path, small_scenario: Factory) -> None:
    old = _reports(tmp_path / "old.csv", [(DESA1, "none", "2021")])
    new = _reports(tmp_path / "new.csv", [(DESA1, "4g", "2022-11-16")])
    _, stats = _before(tmp_path, _scenario(small_scenario, f'"{old}", "{new}"'))
    assert stats.loc[DESA1, "status"] == "covered"
    assert stats.loc[DESA1, "status_source"] == "report: test new 2022-11-16"
    assert not stats.loc[DESA1, "conflict"]


@pytest.mark.parametrize(("target", "status", "reported", "covered"), [
    ("signal", "covered", "served", True),
    ("4g", "partial", "semi_blank", False),
])
def test_a_2g_report_against_the_target(tmp_path: Path, small_scenario: Factory, target: str,
                                        status: str, reported: str, covered: bool) -> None:
    reports = _reports(tmp_path / "r.csv", [(DESA6, "2g", "2022")])
    run, stats = _before(tmp_path, _scenario(small_scenario, f'"{reports}"', target))
    assert stats.loc[DESA6, "status"] == status
    assert stats.loc[DESA6, "status_reported"] == reported
    assert stats.loc[DESA6, "status_model"] == "blank"
    state = current_state(run)
    village = state.villages["code"].astype(str).to_numpy()[state.units.village]
    assert (state.covered[village == DESA6] == covered).all()


@pytest.mark.parametrize(("target", "others"), [("signal", "covered"), ("4g", None)])
def test_unlisted_rule(tmp_path: Path, small_scenario: Factory, target: str,
                       others: str | None) -> None:
    reports = _reports(tmp_path / "blank.csv", [(DESA3, "none", "2021-09-28")])
    entry = f'{{ path = "{reports}", unlisted = "signal" }}'
    _, stats = _before(tmp_path, _scenario(small_scenario, entry, target))
    assert stats.loc[DESA3, "status"] == "blank"
    rest = stats.drop(index=[DESA3])
    if others is None:  # 'signal' says nothing about 4G: the model decides
        assert (rest["status"] == rest["status_model"]).all()
        assert set(rest["status_reported"]) == {"unknown"}
    else:
        assert set(rest["status"]) == {others}
        assert set(rest["status_reported"]) == {"served"}
        assert rest["status_source"].str.startswith("report: unlisted in blank.csv").all()
        assert rest["conflict"].sum() == int((rest["status_model"] == "blank").sum())


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_plan_outputs_carry_both_statuses(tmp_path: Path, small_scenario: Factory) -> None:
    reports = _reports(tmp_path / "r.csv", [(DESA1, "none", "2021-09-28"),
                                            (DESA3, "weak", "2022")])
    out = tmp_path / "out"
    run_plan(load_scenario(_scenario(small_scenario, f'"{reports}"')), out,
             cache=tmp_path / "cache")
    rows = {r["code"]: r for r in _read_csv(out / "villages.csv")}
    assert rows[DESA1]["status_before"] == "blank"
    assert rows[DESA1]["status_model"] == "covered"
    assert rows[DESA1]["conflict"] == "true"
    assert rows[DESA3]["status_before"] == "partial"
    assert rows[DESA3]["status_reported"] == "semi_blank"
    assert rows[DESA3]["signal_reported"] == "weak"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["before_state"] == "reports"
    ev = summary["evidence"]
    assert (ev["villages_reported"], ev["blank_reported"], ev["semi_blank_reported"],
            ev["served_reported"], ev["conflicts"], ev["target"]) == (2, 1, 1, 0, 1, "4g")
    # Desa 1: reported blank where the model covers it; the tower stands inside the area
    assert (ev["conflicts_reported_served"], ev["conflicts_reported_blank"]) == (0, 1)
    assert "holds no tower inside the area" not in summary["before_state_note"]
    assert ev["files"] == ["r.csv"]  # relative to the scenario file (small.toml beside it)
    assert summary["blank_villages_before"] == sum(
        r["status_before"] == "blank" for r in rows.values())
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "Status menurut laporan" in page
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Status menurut laporan" in report
    assert "Status sebelum: laporan sinyal dan model" in report
    # The first page says where today's status comes from before any figure.
    lead = report.index('class="before-reports"')
    assert lead < report.index('class="kpis"')
    assert "Status sebelum: laporan sinyal" in report[lead:report.index('class="kpis"')]
    # KML: the blank villages folder carries both statuses and the source of the one used
    kml = ET.parse(out / "plan.kml").getroot()
    data = {}
    for mark in kml.iter(f"{{{KML_NAMESPACE}}}Placemark"):
        fields = {d.get("name"): d.findtext(f"{{{KML_NAMESPACE}}}value")
                  for d in mark.iter(f"{{{KML_NAMESPACE}}}Data")}
        if "status_source" in fields:
            data[fields["code"]] = fields
    assert data[DESA1]["status_model"] == "covered"
    assert data[DESA1]["status_source"] == "report: test r 2021-09-28"
    assert data[DESA1]["conflict"] == "True"
    assert set(data) == {r["code"] for r in rows.values() if r["status_before"] == "blank"}


def test_blankspots_carries_both_statuses(tmp_path: Path, small_scenario: Factory,
                                          run_cli: Runner) -> None:
    reports = _reports(tmp_path / "r.csv", [(DESA1, "none", "2021-09-28"),
                                            (DESA3, "4g", "2022")])
    out = tmp_path / "bs"
    proc = run_cli("blankspots", _scenario(small_scenario, f'"{reports}"'), "--out", out)
    assert proc.returncode == 0, proc.stderr
    rows = {r["code"]: r for r in _read_csv(out / "villages.csv")}
    assert (rows[DESA1]["status"], rows[DESA1]["status_model"],
            rows[DESA1]["status_reported"], rows[DESA1]["conflict"]) == (
        "blank", "covered", "blank", "true")
    assert rows[DESA1]["status_source"] == "report: test r 2021-09-28"
    assert (rows[DESA3]["status"], rows[DESA3]["status_model"],
            rows[DESA3]["status_reported"]) == ("covered", "blank", "served")
    assert rows[DESA6]["status_source"] == "model"
    assert rows[DESA6]["status"] == rows[DESA6]["status_model"]


def test_unknown_before_state_leads_map_and_report(tmp_path: Path, small_scenario: Factory,
                                                   make_towers_csv: Factory) -> None:
    outside = make_towers_csv([{"lon": 115.94, "lat": -1.68, "height_m": 40, "operator": "A"}],
                              name="outside.csv")
    out = tmp_path / "out"
    run_plan(load_scenario(small_scenario(towers_path=outside)), out, cache=tmp_path / "c",
             lang="en")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["before_state"] == "unknown"
    assert summary["before_state_note"].startswith("Cakupan saat ini tidak diketahui")
    assert "evidence" not in summary
    for name in ("map.html", "report.html"):
        text = html.unescape((out / name).read_text(encoding="utf-8"))
        assert "Today's coverage is unknown" in text, name


def test_bad_evidence_stops_validate_and_plan(tmp_path: Path, small_scenario: Factory,
                                              run_cli: Runner) -> None:
    import openpyxl

    bad = tmp_path / "bad.csv"
    bad.write_text("code,status,date,source\n"
                   f"{DESA1},lemahh,2021,typo\n"
                   "64.01.99.2999,none,2021,nowhere\n"
                   f"{DESA3},none,2999-01-01,future\n"
                   f"{DESA6},none,2022-11-16,a\n"
                   f"{DESA6},4g,2022-11-16,b\n", encoding="utf-8")
    book = openpyxl.Workbook()
    book.active.append(["desa", "keterangan"])
    book.active.append(["Desa 1", "ada"])
    xlsx = tmp_path / "nocolumns.xlsx"
    book.save(xlsx)
    scenario = _scenario(small_scenario, f'"{bad}", "{xlsx}"')
    out = tmp_path / "o"

    checked = run_cli("validate", scenario)
    assert checked.returncode == 2, checked.stderr
    problems = [ln for ln in checked.stdout.splitlines() if ln.startswith("problem: ")]
    assert len(problems) == 5, checked.stdout
    for line, fragment in zip(sorted(problems), (
            "bad.csv row 2: status 'lemahh'", "bad.csv row 3: unknown village 64.01.99.2999",
            "bad.csv row 4: date 2999-01-01 is in the future",
            "bad.csv row 5 and bad.csv row 6: contradictory reports of the same date",
            "nocolumns.xlsx: no sheet has the columns"), strict=True):
        assert line.startswith(f"problem: signal_reports: {fragment}"), line
    error = [ln for ln in checked.stderr.splitlines() if ln.strip()]
    assert len(error) == 1 and error[0].startswith("towerplan: error: 5 input problem(s)")

    planned = run_cli("plan", scenario, "--out", out)
    assert planned.returncode == 2, planned.stderr
    lines = [ln for ln in planned.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("towerplan: error: ")
    for fragment in ("lemahh", "64.01.99.2999", "2999-01-01", "contradictory", "nocolumns"):
        assert fragment in lines[0], lines[0]
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]
