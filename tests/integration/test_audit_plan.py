"""The audit of a past decision: inside ``plan`` and through ``towerplan audit --sites``."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from towerplan import load_scenario
from towerplan.analysis.blankspots import BLANK
from towerplan.columns import AUDIT_COLUMNS
from towerplan.commands.audit import audit as run_audit
from towerplan.pipeline.plan import current_state, new_run, plan
from towerplan.scenario import Scenario

FIGURES = ("audit_cost_idr", "audit_demand", "optimum_cost_idr", "optimum_demand",
           "share_of_optimum", "villages_served_only_by_optimum",
           "villages_served_only_by_audit", "blank_villages_after_audit",
           "blank_villages_after_optimum")


def _sites_csv(path: Path, summary: dict[str, Any]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lon", "lat", "site_id"])
        for k, site in enumerate(summary["audit_sites"], start=1):
            writer.writerow([f"{site['lon']:.6f}", f"{site['lat']:.6f}", f"P{k}"])
    return path


def _same_figures(a: dict[str, Any], b: dict[str, Any]) -> None:
    for key in FIGURES:
        if isinstance(a[key], float):
            assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-6), key
        else:
            assert b[key] == a[key], key


def test_plan_with_an_audit_fills_the_audit_fields(small_scenario: Callable[..., Path]) -> None:
    sc = load_scenario(small_scenario(extra='[audit]\nvillages = ["Desa 1", "desa 5"]\n'))
    result = plan(sc)
    audit, summary = result.audit, result.audit_summary
    assert audit is not None and summary is not None
    assert list(audit.columns[: len(AUDIT_COLUMNS)]) == list(AUDIT_COLUMNS)
    assert audit.crs == result.villages.crs
    assert (audit.geom_type == "Point").all()
    assert audit["audit_id"].tolist() == ["A1", "A2"]
    assert audit["village"].tolist() == ["Desa 1", "Desa 5"]
    assert (audit["source"] == "village").all()
    assert result.summary["audit"] == summary
    # The audited sites are the best candidates inside the named villages.
    cands = result.candidates
    for _, row in audit.iterrows():
        inside = cands[cands["village"] == row["village"]]
        assert row["new_demand"] == pytest.approx(inside["demand_alone"].max())
    # Same pool, same budget, no extra constraint: the audit's optimum is the plan's.
    assert summary["optimum_demand"] == pytest.approx(result.summary["objective"])
    assert summary["audit_demand"] <= summary["optimum_demand"] + 1e-6
    assert summary["percent_of_optimum"] == pytest.approx(100 * summary["share_of_optimum"],
                                                          abs=0.01)
    assert summary["audit_cost_idr"] == pytest.approx(audit["cost_total_idr"].sum())
    assert summary["blank_villages_after_optimum"] == result.summary["blank_villages_after"]
    assert summary["blank_villages_before"] == result.summary["blank_villages_before"]


def test_plan_without_an_audit_has_none(small_scenario: Callable[..., Path]) -> None:
    result = plan(load_scenario(small_scenario()))
    assert result.audit is None and result.audit_summary is None
    assert "audit" not in result.summary
    s = result.summary
    assert s["greedy_shortfall_percent"] == pytest.approx(
        100 * (1 - s["greedy_objective"] / s["objective"]), abs=1e-3)
    assert s["cost_model"].split(" / ")[1].startswith("tower Rp 1,700,000,000")
    assert s["cost_model"].startswith("menara Rp 1.700.000.000")
    assert s["candidates_colocation"] == 0  # the one tower covers its own village


def test_audit_sites_give_the_villages_figures(tmp_path: Path,
                                               small_scenario: Callable[..., Path],
                                               run_cli: Callable[..., Any]) -> None:
    sc = small_scenario()
    # Desa 1 holds the existing tower: its people stand at its centre, which the tower
    # already covers, so its best site would be the colocation on that tower, and a --sites
    # point there counts as a new tower; villages without a tower compare like for like.
    proc = run_cli("audit", sc, "--villages", "Desa 3,Desa 5", "--out", tmp_path / "v")
    assert proc.returncode == 0, proc.stderr
    by_village = json.loads((tmp_path / "v" / "audit.json").read_text(encoding="utf-8"))
    assert not any(s["site_id"].startswith("C-") for s in by_village["audit_sites"])
    sites = _sites_csv(tmp_path / "sites.csv", by_village)
    proc = run_cli("audit", sc, "--sites", sites, "--out", tmp_path / "s")
    assert proc.returncode == 0, proc.stderr
    by_site = json.loads((tmp_path / "s" / "audit.json").read_text(encoding="utf-8"))
    assert by_site["audit_source"] == "sites"
    assert [s["audit_id"] for s in by_site["audit_sites"]] == ["P1", "P2"]
    assert by_site["audit_villages"] == ["Desa 3", "Desa 5"]
    _same_figures(by_village, by_site)
    with (tmp_path / "s" / "audit.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["audit_id"] for r in rows] == ["P1", "P2"]
    assert list(rows[0])[: len(AUDIT_COLUMNS)] == list(AUDIT_COLUMNS)


def test_bad_audit_sites_file_is_one_line_and_exit_2(tmp_path: Path,
                                                      small_scenario: Callable[..., Path],
                                                      run_cli: Callable[..., Any]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n116.0,-95\n", encoding="utf-8")
    proc = run_cli("audit", small_scenario(), "--sites", bad, "--out", tmp_path / "x")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.csv: line 2: lon/lat" in lines[0]
    assert not (tmp_path / "x").exists()


def test_audit_sites_outside_the_candidates_join_the_optimum_pool(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    sites = tmp_path / "sites.csv"
    sites.write_text("lon,lat,site_id,height_m,cost_total_idr\n116.0,-1.7,MAST,150,100000000\n",
                     encoding="utf-8")
    sc = load_scenario(small_scenario(extra=f'[audit]\nsites = "{sites}"\n',
                                      budget="1_700_000_000"))
    # Grid candidates only: a tower at a village centre would reach everyone as the mast does.
    sc = dataclasses.replace(sc, candidates=dataclasses.replace(sc.candidates,
                                                                include_settlements=False))
    result = plan(sc)
    s = result.audit_summary
    assert s is not None and s["audit_source"] == "sites"
    assert s["audit_cost_idr"] == 1e8
    # A 150 m mast in the middle reaches more than any single new tower the budget buys, so
    # the optimum over candidates and audited sites is the mast, and the audit is optimal.
    assert s["audit_demand"] > result.summary["objective"]
    assert "MAST" in {site["site_id"] for site in s["optimum_sites"]}
    assert s["optimum_demand"] >= s["audit_demand"] - 1e-6
    assert s["share_of_optimum"] == pytest.approx(s["audit_demand"] / s["optimum_demand"],
                                                  abs=1e-4)


@pytest.mark.slow
def test_demo_audit_by_sites_equals_audit_by_villages(tmp_path: Path) -> None:
    sc = Scenario.default()
    state = current_state(new_run(sc))
    blank = state.villages["name"][state.stats["status"].to_numpy() == BLANK]
    names = [str(n) for n in blank.iloc[[0, len(blank) // 2]]]
    by_village = run_audit(sc, tmp_path / "v", villages=names)
    assert by_village["audit_villages"] == names
    sites = _sites_csv(tmp_path / "sites.csv", by_village)
    by_site = run_audit(dataclasses.replace(sc), tmp_path / "s", sites=sites)
    _same_figures(by_village, by_site)
    assert by_site["optimum_gap"] == pytest.approx(0.0, abs=1e-9)
