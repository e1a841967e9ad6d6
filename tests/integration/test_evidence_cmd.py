"""``towerplan evidence``: the confusion table of modelled against reported status.

The small generated scenario (``small_scenario``): in the model, the existing tower covers
Desa 1 (64.01.01.2001) and leaves Desa 3 (64.01.01.2003) and Desa 6 (64.01.01.2006) blank.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from towerplan import load_scenario
from towerplan.commands.evidence import NO_REPORTS, evidence
from towerplan.errors import ScenarioError
from towerplan.pipeline.plan import new_run

Factory = Callable[..., Path]

DESA1, DESA3, DESA6 = "64.01.01.2001", "64.01.01.2003", "64.01.01.2006"
MODEL_COLS = ("blank", "partial", "covered")


def _with_reports(small_scenario: Factory, tmp_path: Path) -> Path:
    reports = tmp_path / "reports.csv"
    reports.write_text("code,status,date,source\n"
                       f"{DESA1},tidak ada sinyal,2021-09-28,Survei\n"
                       f"{DESA3},4G,2022,Survei\n"
                       f"{DESA6},none,2022,Survei\n", encoding="utf-8")
    path = small_scenario()
    text = path.read_text(encoding="utf-8").replace(
        'settlements = ""\n', f'settlements = ""\nsignal_reports = ["{reports}"]\n')
    path.write_text(text, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_confusion_table_by_hand(tmp_path: Path, small_scenario: Factory) -> None:
    sc = load_scenario(_with_reports(small_scenario, tmp_path))
    cache = tmp_path / "cache"
    run = new_run(sc, cache=cache)
    codes = run.get("load").villages["code"].astype(str).tolist()
    model = dict(zip(codes, run.get("before")["status_model"], strict=True))
    assert (model[DESA1], model[DESA3], model[DESA6]) == ("covered", "blank", "blank")

    result = evidence(sc, tmp_path / "out", cache=cache)
    # By hand: Desa 1 reported blank, modelled covered; Desa 6 reported blank, modelled blank;
    # Desa 3 reported served, modelled blank; the six others unknown, by their modelled status.
    expected = {("blank", "covered"): 1, ("blank", "blank"): 1, ("served", "blank"): 1}
    for code, status in model.items():
        if code not in (DESA1, DESA3, DESA6):
            expected[("unknown", status)] = expected.get(("unknown", status), 0) + 1
    table = result.overall.villages
    for rep in ("blank", "semi_blank", "served", "unknown"):
        for mod in MODEL_COLS:
            assert table.loc[rep, mod] == expected.get((rep, mod), 0), (rep, mod)
    assert (result.overall.reported, result.overall.agreeing) == (3, 1)
    assert result.overall.accuracy == pytest.approx(1 / 3)
    # known 3 x 3 table [[1, 0, 1], [0, 0, 0], [1, 0, 0]]: p_o = 1/3, p_e = 5/9 -> -0.5
    assert result.overall.kappa == pytest.approx(-0.5)
    assert set(result.disagreeing["code"]) == {DESA1, DESA3}

    rows = {r["code"]: r for r in _rows(tmp_path / "out" / "evidence.csv")}
    assert len(rows) == 9
    assert (rows[DESA1]["agrees"], rows[DESA6]["agrees"], rows[DESA3]["agrees"]) == (
        "false", "true", "false")
    assert rows["64.01.01.2002"]["agrees"] == ""
    people = {c: float(r["demand_total"]) for c, r in rows.items()}
    long = _rows(tmp_path / "out" / "evidence_agreement.csv")
    overall = {(r["measure"], r["reported"], r["modelled"]): float(r["value"])
               for r in long if r["district_code"] == ""}
    assert overall[("villages", "served", "blank")] == 1
    assert overall[("people", "blank", "covered")] == pytest.approx(people[DESA1], abs=0.1)
    assert overall[("people", "blank", "blank")] == pytest.approx(people[DESA6], abs=0.1)
    assert sum(v for (m, _, _), v in overall.items() if m == "villages") == 9
    summary = json.loads((tmp_path / "out" / "evidence.json").read_text(encoding="utf-8"))
    assert summary["villages_reported"] == 3 and summary["villages_agreeing"] == 1
    assert summary["kappa"] == pytest.approx(-0.5)
    assert summary["villages"]["blank"]["covered"] == 1
    assert sum(d["villages_reported"] for d in summary["per_kecamatan"].values()) == 3


def test_evidence_cli_prints_the_table(tmp_path: Path, small_scenario: Factory,
                                       run_cli: Callable[..., Any]) -> None:
    scenario = _with_reports(small_scenario, tmp_path)
    done = run_cli("evidence", scenario, "--out", tmp_path / "o", "--lang", "en",
                   "--cache-dir", tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    assert "Agreement of the modelled status with the signal reports" in done.stdout
    assert "Accuracy 33.3 % (1/3), Cohen's kappa -0.50" in done.stdout
    assert DESA1 in done.stdout and DESA3 in done.stdout
    assert (tmp_path / "o" / "evidence.json").is_file()


def test_without_reports_exit_2_and_nothing_written(tmp_path: Path, small_scenario: Factory,
                                                    run_cli: Callable[..., Any]) -> None:
    scenario = small_scenario()
    with pytest.raises(ScenarioError, match="nothing to compare"):
        evidence(load_scenario(scenario), tmp_path / "x", cache=False)
    done = run_cli("evidence", scenario, "--out", tmp_path / "o")
    assert done.returncode == 2
    assert NO_REPORTS in done.stderr
    assert not (tmp_path / "o").exists()


def test_calibrate_from_reports_writes_an_applicable_offset(
        tmp_path: Path, small_scenario: Factory, run_cli: Callable[..., Any]) -> None:
    scenario = _with_reports(small_scenario, tmp_path)
    done = run_cli("calibrate", scenario, "--from-reports", "--folds", "3", "--out",
                   tmp_path / "cal", "--cache-dir", tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "cal" / "calibration.json").read_text(encoding="utf-8"))
    assert data["labels"] == "signal reports"
    assert data["n"] == 3 and data["criterion"] == "kappa"
    assert data["cross_validation"]["k"] == 3
    assert len(data["cross_validation"]["fold_offset_change_db"]) == 3
    fit = data["fit"]
    assert fit["before"]["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    assert fit["after"]["kappa"] >= fit["before"]["kappa"]
    assert -20.0 <= fit["offset_db"] <= 20.0
    # the snippet appended to the scenario loads and reproduces the fitted agreement
    snippet = (tmp_path / "cal" / "calibration.toml").read_text(encoding="utf-8")
    calibrated = tmp_path / "calibrated.toml"
    calibrated.write_text(scenario.read_text(encoding="utf-8") + "\n" + snippet,
                          encoding="utf-8")
    sc = load_scenario(calibrated)
    assert sc.radio.calibration.offset_db == pytest.approx(fit["offset_db"])
    result = evidence(sc, tmp_path / "after", cache=tmp_path / "cache")
    assert result.overall.accuracy == pytest.approx(fit["after"]["accuracy"], abs=1e-4)


def test_calibrate_needs_measurements_or_reports(tmp_path: Path, small_scenario: Factory,
                                                 run_cli: Callable[..., Any]) -> None:
    done = run_cli("calibrate", small_scenario(), "--out", tmp_path / "cal")
    assert done.returncode == 2
    assert "--measurements FILE" in done.stderr and "--from-reports" in done.stderr
    done = run_cli("calibrate", small_scenario(), "--from-reports", "--out", tmp_path / "cal")
    assert done.returncode == 2
    assert NO_REPORTS in done.stderr
    assert not (tmp_path / "cal").exists()
