"""``towerplan candidates``, ``sweep`` and ``audit`` on a small generated scenario."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from towerplan.commands.options import parse_budgets
from towerplan.errors import InputDataError


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_candidates_sweep_and_audit(tmp_path: Path, small_scenario: Callable[..., Path],
                                    run_cli: Callable[..., Any]) -> None:
    sc = small_scenario()
    proc = run_cli("candidates", sc, "--out", tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    cands = _rows(tmp_path / "c" / "candidates.csv")
    # In a settlement (or at a village centre): the tower alone; away from every one, more
    # than 1 km of access road at Rp 500 M/km on top (and own solar beyond the grid).
    home = [r for r in cands if r["land_status"] == "in_settlement"]
    assert home and all(float(r["cost_total_idr"]) == 1.7e9 for r in home)
    away = [r for r in cands if r["land_status"] == "needs_road_land"]
    assert away and all(float(r["cost_road_idr"]) > 0.5e9 for r in away)
    assert all(float(r["cost_power_idr"]) in (0.0, 0.6e9) for r in away)
    assert {r["land_status"] for r in cands} <= {"in_settlement", "needs_road_land"}
    assert {r["origin"] for r in cands} <= {"grid", "hilltop", "settlement", "village_centre",
                                            "user"}
    with closing(sqlite3.connect(tmp_path / "c" / "candidates.gpkg")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
        assert db.execute("SELECT f_table_name, useAsDefault FROM layer_styles").fetchall() == [
            ("candidates", 1)]
        lon_lat = db.execute("SELECT count(lon), count(lat), count(*) FROM candidates").fetchone()
    assert lon_lat == (len(cands), len(cands), len(cands))

    proc = run_cli("sweep", sc, "--budgets", "1.7e9:6.8e9:1.7e9", "--out", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    sweep = _rows(tmp_path / "s" / "sweep.csv")
    assert [float(r["budget_idr"]) for r in sweep] == [1.7e9, 3.4e9, 5.1e9, 6.8e9]
    milp = [float(r["demand_covered_milp"]) for r in sweep]
    greedy = [float(r["demand_covered_greedy"]) for r in sweep]
    assert milp == sorted(milp)  # more money never covers less
    assert all(m >= g - 1e-6 for m, g in zip(milp, greedy, strict=True))
    assert all(float(r["spent_milp_idr"]) <= float(r["budget_idr"]) for r in sweep)
    # demand gained per tower's worth (Rp 1.7 bn, the step here) of extra budget
    marginal = [float(r["marginal_demand_per_extra_tower"]) for r in sweep]
    gained = [b - a for a, b in zip(milp[:-1], milp[1:], strict=True)]
    assert marginal[1:] == pytest.approx(gained, abs=2e-3)
    assert (tmp_path / "s" / "sweep.png").stat().st_size > 0
    proc = run_cli("sweep", sc, "--budgets", "1.7e9:6.8e9:1.7e9", "--lang", "en",
                   "--out", tmp_path / "s_en")
    assert proc.returncode == 0, proc.stderr
    assert _rows(tmp_path / "s_en" / "sweep.csv") == sweep  # same figures, English labels
    png = (tmp_path / "s" / "sweep.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png != (tmp_path / "s_en" / "sweep.png").read_bytes()

    proc = run_cli("audit", sc, "--villages", "Desa 1,Desa 19", "--out", tmp_path / "a")
    assert proc.returncode != 0 and "no village named 'Desa 19'" in proc.stderr
    proc = run_cli("audit", sc, "--villages", "Desa 1,desa 5", "--out", tmp_path / "a")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "a" / "audit.json").read_text(encoding="utf-8"))
    assert summary["audit_villages"] == ["Desa 1", "Desa 5"]
    assert summary["audit_demand"] <= summary["optimum_demand"] + 1e-6
    assert 0 <= summary["share_of_optimum"] <= 1
    assert summary["optimum_gap"] == pytest.approx(0.0, abs=1e-9)
    layers = {name for name, _ in pyogrio.list_layers(tmp_path / "a" / "audit.gpkg")}
    assert layers == {"audit_sites", "optimum_sites"}


def test_parse_budgets() -> None:
    assert parse_budgets("1e9,2e9") == [1e9, 2e9]
    assert len(parse_budgets("1.7e9:17e9:1.7e9")) == 10
    for bad in ("x", "5:1:1", "1:5:0", "-1,2"):
        with pytest.raises(InputDataError):
            parse_budgets(bad)


def test_min_share_refusal_names_each_village_with_its_reachable_share(
        tmp_path: Path, small_scenario: Callable[..., Path],
        run_cli: Callable[..., Any]) -> None:
    import re

    cache = tmp_path / "cache"
    free = tmp_path / "free"
    proc = run_cli("plan", small_scenario(budget="1_700_000_000"), "--out", free,
                   "--cache-dir", cache)
    assert proc.returncode == 0, proc.stderr
    villages = {r["name"]: r for r in _rows(free / "villages.csv")}
    blank = {n for n, r in villages.items() if r["status_before"] == "blank"}
    line = re.compile(r"^  (\S+ \d+) \((\S+)\): needs 100 % of its demand served, "
                      r"(?:reaches (\d+\.\d) % on its own|at most (\d+\.\d) % reachable "
                      r"within the budget)$")

    def refused(extra: str) -> tuple[str, list[re.Match[str]]]:
        out = tmp_path / "plan"
        proc = run_cli("plan", small_scenario(budget="1_700_000_000", extra=extra),
                       "--out", out, "--cache-dir", cache)
        assert proc.returncode == 2, proc.stderr
        assert not out.exists()  # nothing written
        lines = proc.stderr.strip().splitlines()
        assert lines[0].startswith("towerplan: error: 'selection.min_share_blank_village': ")
        assert "Rp 1,700,000,000" in lines[0]
        rows = [line.match(x) for x in lines[1:]]
        assert rows and all(rows), lines
        found = [m for m in rows if m is not None]
        names = [m.group(1) for m in found]
        assert len(set(names)) == len(names) and set(names) <= blank  # one line each
        for m in found:  # name and Kemendagri code of the village
            assert villages[m.group(1)]["code"] == m.group(2)
        return lines[0], found

    # one tower serves any one blank village in full, but not all of them together
    head, rows = refused("[selection]\nmin_share_blank_village = 1.0\n")
    assert f"{len(blank)} villages cannot all reach their minimum share together" in head
    assert {m.group(1) for m in rows} == blank
    assert all(m.group(3) == "100.0" for m in rows)

    # with every candidate but one excluded, the villages it cannot serve in full are
    # listed with the share it gives them
    ids = [r["site_id"] for r in _rows(free / "candidates.csv")] if \
        (free / "candidates.csv").exists() else []
    if not ids:
        ids = [str(f["site_id"]) for f in pyogrio.read_dataframe(
            free / "plan.gpkg", layer="candidates").to_dict("records")]
    keep = ids[0]
    exclude = ", ".join(f'"{i}"' for i in ids[1:])
    head, rows = refused(f"[selection]\nmin_share_blank_village = 1.0\n"
                         f"must_exclude = [{exclude}]\n")
    assert re.search(r": (\d+) village\(s\) cannot reach their minimum share within", head)
    assert int(re.search(r": (\d+) village", head).group(1)) == len(rows)  # type: ignore[union-attr]
    assert all(m.group(4) is not None and float(m.group(4)) < 100.0 for m in rows), keep


def test_objectives_through_the_plan(tmp_path: Path, small_scenario: Callable[..., Path],
                                     run_cli: Callable[..., Any]) -> None:
    cache = tmp_path / "cache"
    runs = {}
    for name, extra in (("people", ""), ("lift", '[selection]\nobjective = "blank_villages"\n'),
                        ("mixed", "[selection.weights]\npeople = 1\nblank_villages = 5000\n"),
                        ("blank_people", '[selection]\nobjective = "blank_people"\n')):
        out = tmp_path / name
        proc = run_cli("plan", small_scenario(budget="3_400_000_000", extra=extra),
                       "--out", out, "--cache-dir", cache)
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        villages = _rows(out / "villages.csv")
        lifted = sum(r["status_before"] == "blank" and r["status_after"] == "covered"
                     for r in villages)
        gained = summary["demand_covered_after"] - summary["demand_covered_before"]
        runs[name] = (summary, lifted, gained)
        if name == "blank_people":  # people newly served in villages blank before the plan
            in_blank = sum(float(r["demand_covered_after"]) - float(r["demand_covered_before"])
                           for r in villages if r["status_before"] == "blank")
            assert summary["objective"] == pytest.approx(in_blank, abs=0.05 * len(villages))
            assert summary["optimality_gap"] == 0.0
    people, lift, mixed = runs["people"], runs["lift"], runs["mixed"]
    assert runs["blank_people"][0]["objective"] >= sum(
        float(r["demand_covered_after"]) - float(r["demand_covered_before"])
        for r in _rows(tmp_path / "people" / "villages.csv")
        if r["status_before"] == "blank") - 1e-2  # the optimum of its own objective
    assert people[0]["objective_terms"] == {"people": 1.0}
    assert people[0]["objective"] == pytest.approx(people[2], abs=1e-3)
    assert lift[0]["objective_terms"] == {"blank_villages": 1.0}
    assert lift[0]["objective"] == lift[1]  # the objective is the number of villages lifted
    assert lift[0]["optimality_gap"] == 0.0
    assert lift[1] >= people[1]
    assert mixed[0]["objective"] == pytest.approx(mixed[2] + 5000 * mixed[1], abs=1e-2)
    assert mixed[0]["objective"] >= people[2] + 5000 * people[1] - 1e-2

    proc = run_cli("plan", small_scenario(extra='[selection]\nobjective = "facilities"\n'),
                   "--out", tmp_path / "fac", "--cache-dir", cache)
    assert proc.returncode == 2 and "set 'inputs.facilities'" in proc.stderr
    assert not (tmp_path / "fac").exists()
    proc = run_cli("plan", small_scenario(
        extra='[selection]\nobjective = "blank_people"\n[selection.weights]\npeople = 1\n'),
        "--out", tmp_path / "bad")
    assert proc.returncode == 2 and "disagrees with [selection.weights]" in proc.stderr
    proc = run_cli("plan", small_scenario(
        extra='[selection]\nobjective = "blank_people"\n[backhaul]\nmodel = "joint"\n'),
        "--out", tmp_path / "joint", "--cache-dir", cache)
    assert proc.returncode == 2 and "model = 'joint'" in proc.stderr
