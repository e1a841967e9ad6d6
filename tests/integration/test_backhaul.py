"""Backhaul in ``plan``, ``towerplan backhaul`` and ``towerplan link --band-ghz``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyogrio
import pytest

from towerplan import load_scenario
from towerplan.columns import BACKHAUL_COLUMNS, HOP_COLUMNS
from towerplan.pipeline.plan import plan

TECHNOLOGIES = {"fibre", "microwave", "vsat", "existing"}


def _with_pops(path: Path, tmp_path: Path, extra: str = "") -> Path:
    pops = tmp_path / "pops.csv"
    pops.write_text("pop_id,lon,lat,kind,capacity_mbps\nSTO1,115.985,-1.690,fibre,1000\n",
                    encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace("[inputs]\n", f'[inputs]\npops = "{pops}"\n')
    path.write_text(text + extra, encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_plan_gives_every_selected_site_a_backhaul_plan(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario = load_scenario(_with_pops(small_scenario(), tmp_path))
    result = plan(scenario)
    s = result.summary["backhaul"]
    assert s["model"] == "per-site" and s["points_of_presence"] == 1
    assert s["hop_pairs_checked"] > 0 and "P.530-17" in s["hop_model"]
    assert {"per-site", "joint", "difference_joint_minus_per_site"} <= set(s)
    assert s["joint"]["demand_covered"] >= s["per-site"]["demand_covered"] - 1e-6
    sel = result.selected
    assert len(sel) == result.summary["towers_selected"] > 0
    assert set(sel["backhaul_technology"]) <= TECHNOLOGIES
    assert result.summary["spent_idr"] == pytest.approx(sel["cost_total_idr"].sum())
    vsat = scenario.costs.vsat
    assert (sel["cost_backhaul_idr"] <= vsat.capex_idr + vsat.years * vsat.opex_idr_per_year
            + 1e-3).all()
    links = result.links
    assert links is not None and list(links.columns[:-1]) == list(BACKHAUL_COLUMNS)
    assert links.crs == result.villages.crs
    assert set(links.geom_type) <= {"LineString"}
    for _, site in sel.iterrows():
        hops = links[links["site_id"] == site["site_id"]]
        assert len(hops) == site["backhaul_hops"]
        if site["backhaul_technology"] in ("microwave", "fibre"):
            chain = [site["site_id"], *hops["to_id"]]
            assert hops["from_id"].tolist() == chain[:-1]  # consecutive hops connect
            assert chain[-1] == "STO1"  # and end at the point of presence
            assert hops["cost_idr"].sum() == pytest.approx(site["cost_backhaul_idr"])
        if site["backhaul_technology"] == "microwave":
            assert site["backhaul_worst_clearance"] >= scenario.backhaul.min_clearance


def test_backhaul_command_writes_links_and_every_hop(
        tmp_path: Path, small_scenario: Callable[..., Path],
        run_cli: Callable[..., Any]) -> None:
    sc = _with_pops(small_scenario(), tmp_path, '\n[backhaul]\nmodel = "joint"\n')
    proc = run_cli("backhaul", sc, "--out", tmp_path / "bh")
    assert proc.returncode == 0, proc.stderr
    assert "joint" in proc.stdout and "hops checked" in proc.stdout
    out = tmp_path / "bh"
    hops = _rows(out / "hops.csv")
    assert hops and list(hops[0])[:len(HOP_COLUMNS)] == list(HOP_COLUMNS)
    assert {h["reason"] for h in hops} <= {"ok", "rain margin", "fresnel clearance",
                                            "no line of sight", "outside terrain"}
    assert all((h["reason"] == "ok") == (h["feasible"] == "true") for h in hops)
    links = _rows(out / "links.csv")
    assert all(r["feasible"] == "true" for r in links)
    assert {name for name, _ in pyogrio.list_layers(out / "links.gpkg")} == {"links"}
    summary = json.loads((out / "backhaul.json").read_text(encoding="utf-8"))
    assert summary["model"] == "joint"
    assert summary["joint"]["solver"].startswith("joint milp")
    # the joint model chose, and is compared with the per-site one in the same summary
    ps, jt = summary["per-site"], summary["joint"]
    assert list(summary)[-1] == "difference_joint_minus_per_site"
    diff = summary["difference_joint_minus_per_site"]
    assert diff["total_cost_idr"] == round(jt["total_cost_idr"] - ps["total_cost_idr"], 0)
    assert diff["backhaul_idr_same_sites"] == round(
        ps["backhaul_idr_with_shared_relays"] - ps["backhaul_idr"], 0)


def test_backhaul_command_needs_points_of_presence(
        tmp_path: Path, small_scenario: Callable[..., Path],
        run_cli: Callable[..., Any]) -> None:
    proc = run_cli("backhaul", small_scenario(), "--out", tmp_path / "bh")
    assert proc.returncode == 2
    assert "no points of presence" in proc.stderr and "[inputs] pops" in proc.stderr


def test_link_reports_a_microwave_hop(tmp_path: Path, make_dem: Callable[..., Path],
                                      run_cli: Callable[..., Any]) -> None:
    dem = make_dem(shape=(120, 160), kind="ridge", res_m=90.0)
    args = ("link", "--from", "115.955,-1.70", "--to", "116.06,-1.70", "--dem", dem,
            "--band-ghz", "13", "--png", tmp_path / "p.png", "--json")
    low = run_cli(*args, "--h-tx-m", "30", "--h-rx-m", "30")
    assert low.returncode == 0, low.stderr
    mw = json.loads(low.stdout)["microwave"]
    assert mw["band_ghz"] == 13 and mw["reason"] == "no line of sight" and not mw["feasible"]
    assert mw["clearance_ratio"] < 0 and mw["rain_db"] > 0
    tall = json.loads(run_cli(*args, "--h-tx-m", "380", "--h-rx-m", "380").stdout)["microwave"]
    assert tall["feasible"] and tall["clearance_ratio"] >= 0.6
    assert tall["margin_db"] == pytest.approx(tall["fade_margin_db"] - tall["rain_db"], abs=0.02)
    table = run_cli(*args[:-1], "--h-tx-m", "380", "--h-rx-m", "380")
    assert "margin after rain" in table.stdout and "feasible" in table.stdout


def test_the_comparison_solved_beside_the_coverage_after_gives_the_same_summary(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    """The plan leaves the joint comparison out of stage ``selection`` and solves it in stage
    ``backhaul_comparison`` beside ``after``: the summary entry is the one finish_backhaul
    gives in one go, key for key and in the same order; the joint model itself (which
    chooses the sites) is not deferred."""
    from towerplan.analysis.backhaul_choice import (
        compare_backhaul,
        finish_backhaul,
        with_comparison,
    )
    from towerplan.pipeline.plan import new_run, plan_result, selection_problem

    scenario = load_scenario(_with_pops(small_scenario(), tmp_path))
    run = new_run(scenario, cache=tmp_path / "cache")
    result = plan_result(run)
    assert "backhaul_comparison" in run.computed
    chosen = run.get("selection")
    assert chosen.backhaul.summary["joint"] is None  # deferred
    problem = selection_problem(run)
    plan_ = run.get("backhaul").plan
    direct = finish_backhaul(plan_, scenario, problem, chosen.per_site)[1].summary
    merged = with_comparison(chosen.backhaul.summary,
                             compare_backhaul(plan_, scenario, problem, chosen.per_site))
    def text(value: object) -> str:  # the solver times differ between two solves
        def timeless(v: Any) -> Any:
            if isinstance(v, dict):
                return {k: timeless(x) for k, x in v.items() if not k.endswith("runtime_s")}
            return v

        return json.dumps(timeless(value), default=str)

    assert text(merged) == text(direct)
    assert text(result.summary["backhaul"]) == text(direct)
    assert direct["joint"] is not None and "difference_joint_minus_per_site" in direct
    again = new_run(scenario, cache=tmp_path / "cache")
    assert text(plan_result(again).summary["backhaul"]) == text(direct)
    assert "backhaul_comparison" in again.reused
    joint = load_scenario(_with_pops(small_scenario(), tmp_path,
                                     '\n[backhaul]\nmodel = "joint"\n'))
    assert compare_backhaul(plan_, joint, problem, chosen.per_site) is None
