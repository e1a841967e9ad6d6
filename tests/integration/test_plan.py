"""End-to-end runs of ``towerplan plan``: a small generated scenario and the built-in demo."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pytest

from towerplan import load_scenario, run_plan
from towerplan.columns import RANKING_COLUMNS, SUMMARY_KEYS, VILLAGE_COLUMNS
from towerplan.outputs.writers import OUTPUT_FILES

DESIGN_SUMMARY_KEYS = ("scenario", "budget_idr", "spent_idr", "towers_selected",
                       "villages_total", "blank_villages_before", "blank_villages_after",
                       "demand_covered_before", "demand_covered_after", "solver",
                       "optimality_gap", "runtime_s")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _check_plan_outputs(out: Path, n_villages: int, tower_cost: float) -> dict[str, Any]:
    for name in OUTPUT_FILES:
        assert (out / name).stat().st_size > 0, name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(DESIGN_SUMMARY_KEYS) <= set(summary)
    assert set(SUMMARY_KEYS) <= set(summary)
    assert summary["villages_total"] == n_villages
    assert summary["spent_idr"] <= summary["budget_idr"]
    assert summary["blank_villages_after"] <= summary["blank_villages_before"]
    assert summary["demand_covered_after"] >= summary["demand_covered_before"]
    assert summary["objective"] == pytest.approx(
        summary["demand_covered_after"] - summary["demand_covered_before"], rel=1e-6, abs=1e-3)
    assert summary["objective"] >= summary["greedy_objective"] - 1e-6
    assert summary["optimality_gap"] == pytest.approx(0.0, abs=1e-6)
    budget = summary["link_budget"]
    for key in ("location_probability", "shadow_margin_db", "body_loss_db", "indoor_loss_db",
                "uplink_mapl_db", "uplink_limited", "mapl_db", "antenna",
                "coverage_radius_flat_km", "radius_cases_km"):
        assert key in budget, key
    assert "uplink" in summary["link_budget_text"]
    villages = _read_csv(out / "villages.csv")
    assert len(villages) == n_villages
    assert list(villages[0])[: len(VILLAGE_COLUMNS)] == list(VILLAGE_COLUMNS)
    for row in villages:  # a reason for each village still blank, and only for those
        blank = row["status_after"] == "blank"
        assert (row["why_not_reason"] != "") == blank, row["name"]
        if blank and row["why_not_reason"] != "no_candidate":
            assert float(row["why_not_cost_per_person_idr"]) > 0
            assert float(row["why_not_extra_budget_idr"]) >= 0
    ranking = _read_csv(out / "ranking.csv")
    assert len(ranking) == summary["towers_selected"]
    assert list(ranking[0])[: len(RANKING_COLUMNS)] == list(RANKING_COLUMNS) if ranking else True
    cum = [float(r["cumulative_cost_idr"]) for r in ranking]
    assert cum == sorted(cum)
    if ranking:
        assert cum[-1] == pytest.approx(summary["spent_idr"])
        assert sum(float(r["cost_total_idr"]) for r in ranking) == pytest.approx(
            summary["spent_idr"])
        parts = [c for c in ranking[0] if c.startswith("cost_") and c != "cost_total_idr"]
        for row in ranking:  # the cost parts add up to each site's total
            assert sum(float(row[c] or 0) for c in parts) == pytest.approx(
                float(row["cost_total_idr"]))
            assert float(row["cost_tower_idr"]) == pytest.approx(tower_cost)
        gains = sum(float(r["new_demand"]) for r in ranking)
        assert gains == pytest.approx(summary["objective"], rel=1e-6)
    layers = {name for name, _ in pyogrio.list_layers(out / "plan.gpkg")}
    assert {"villages", "candidates", "selected", "existing"} <= layers
    return summary


def _output_texts(out: Path) -> dict[str, bytes]:
    """Every output's bytes as a reader of it would see them: zip members (xlsx, kmz) and
    the PDF's streams unpacked, every text value of every GeoPackage table."""
    import re
    import sqlite3
    import zipfile
    import zlib
    from contextlib import closing

    texts: dict[str, bytes] = {}
    for path in sorted(out.iterdir()):
        data = path.read_bytes()
        texts[path.name] = data
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    texts[f"{path.name}/{member}"] = archive.read(member)
        elif path.suffix == ".pdf":
            for k, match in enumerate(re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data,
                                                  re.S)):
                with contextlib.suppress(zlib.error):
                    texts[f"{path.name}/stream{k}"] = zlib.decompress(match.group(1))
        elif path.suffix == ".gpkg":
            with closing(sqlite3.connect(path)) as db:
                tables = [r[0] for r in db.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")]
                for table in tables:
                    rows = db.execute(f'SELECT * FROM "{table}"').fetchall()
                    texts[f"{path.name}/{table}"] = "\n".join(
                        str(v) for row in rows for v in row if isinstance(v, str)).encode()
    return texts


def _assert_no_local_path(out: Path, *folders: Path) -> None:
    """No output names any of *folders* (absolute paths of this machine)."""
    needles = {str(f.resolve()).encode() for f in folders} | {str(f).encode() for f in folders}
    found = sorted({(name, needle.decode()) for name, data in _output_texts(out).items()
                    for needle in needles if needle in data})
    assert found == []


def test_outputs_name_inputs_relative_to_the_scenario(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    """The small scenario names its inputs by absolute paths in *tmp_path*: the outputs name
    them relative to the scenario file, never by the absolute path."""
    scenario = load_scenario(small_scenario())
    out = tmp_path / "out"
    run_plan(scenario, out)
    _assert_no_local_path(out, tmp_path, Path.home())
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    terrain = [s for s in summary["data_sources"] if s.startswith("terrain: ")]
    assert terrain and not terrain[0].startswith("terrain: /")


def test_small_scenario_plan(tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario = load_scenario(small_scenario())
    out = tmp_path / "out"
    result = run_plan(scenario, out).result
    summary = _check_plan_outputs(out, 9, 1.7e9)
    assert summary["synthetic"] is False
    assert summary["towers_selected"] == 2
    assert summary["demand_basis"] == "population"  # the villages carry a population column
    assert summary["crs"] == "EPSG:32750"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for name in OUTPUT_FILES:  # shared like any file the user creates, not private temp files
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o666 & ~umask, name
    sel = gpd.read_file(out / "plan.gpkg", layer="selected", engine="pyogrio")
    assert len(sel) == 2 and sel.crs.to_epsg() == 32750
    assert summary.pop("outputs_skipped") == []
    assert result.summary == summary


def test_rerun_needs_overwrite_and_replaces_files(tmp_path: Path,
                                                  small_scenario: Callable[..., Path]) -> None:
    from towerplan.errors import OutputError

    scenario = load_scenario(small_scenario())
    out = tmp_path / "out"
    run_plan(scenario, out)
    with pytest.raises(OutputError, match="--overwrite"):
        run_plan(scenario, out)
    run_plan(scenario, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_budget_for_one_tower_selects_the_best_single_site(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario = load_scenario(small_scenario(budget="1_700_000_000"))
    result = run_plan(scenario, tmp_path / "out").result
    assert result.summary["towers_selected"] == 1
    best = result.candidates["demand_alone"].max()
    assert result.summary["objective"] == pytest.approx(best)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """``towerplan plan`` with no scenario, run from a foreign directory (with the session's
    cache: every stage computed without a cache is checked in test_stages.py)."""
    import subprocess
    import sys

    work = tmp_path_factory.mktemp("demo")
    proc = subprocess.run([sys.executable, "-m", "towerplan", "plan"], cwd=work,
                          capture_output=True, text=True, check=False, timeout=900)
    return work / "towerplan-out", proc


def test_demo_plan_default_run(demo_run: tuple[Path, Any]) -> None:
    out, proc = demo_run
    assert proc.returncode == 0, proc.stderr
    summary = _check_plan_outputs(out, 144, 1.7e9)
    assert summary["synthetic"] is True
    assert summary["budget_idr"] == 8.5e9
    # Rp 1.7 bn tower + Rp 350 M microwave backhaul per site: four sites fit Rp 8.5 bn.
    assert summary["towers_selected"] == 4
    assert summary["spent_idr"] == pytest.approx(4 * (1.7e9 + 0.35e9))
    # Candidates anchored on settlements (no hilltops; grid points away from a settlement
    # need road and land and cost more): measured 49,589 people newly served, 13 of 109
    # blank villages out of blank, all four towers in settlements.
    assert summary["objective"] == pytest.approx(49_589.0)
    assert (summary["blank_villages_before"], summary["blank_villages_after"]) == (109, 96)
    assert summary["candidates_land_status"] == {
        "colocation": 4, "in_settlement": 253, "needs_road_land": 521}
    assert "straight-line distance to the nearest settlement" in summary["access_road_note"]
    ranking = _read_csv(out / "ranking.csv")
    assert {r["backhaul_technology"] for r in ranking} <= {"fibre", "microwave", "vsat"}
    assert [r["village"] for r in ranking] == ["Tihalat", "Bakitut", "Sakupin", "Lajulat"]
    assert {r["land_status"] for r in ranking} == {"in_settlement"}
    assert summary["solver"] == "milp (HiGHS)"
    # model = "auto" on the 90 m demo DEM: the terrain chain, and the outputs say why.
    assert summary["model_choice"] == {
        "requested": "auto", "chain": "hata-suburban+deygout", "uses_terrain": True,
        "reason": "terrain", "dem_cell_m": 90.0, "auto_max_cell_m": 100.0,
        "why": summary["model_choice"]["why"]}
    assert summary["model_chain"].startswith("hata-suburban+deygout: ")
    assert "the DEM cell (90 m) resolves terrain" in summary["model_chain"]
    assert summary["demand_basis"] == "population"
    assert math.isfinite(summary["runtime_s"]) and summary["runtime_s"] > 0
    assert any("synthetic" in s.lower() for s in summary["data_sources"])
    assert "SYNTHETIC" in proc.stdout


def test_demo_outputs_name_no_local_folder(demo_run: tuple[Path, Any]) -> None:
    out, proc = demo_run
    assert proc.returncode == 0, proc.stderr
    # the demo's data sit in the cache folder inside the run's folder (TOWERPLAN_CACHE_DIR)
    _assert_no_local_path(out, out.parent, out.parent / "cache", Path.home())


def test_demo_outputs_say_synthetic(demo_run: tuple[Path, Any]) -> None:
    out, _ = demo_run
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "SINTETIS" in html.upper()
    villages = _read_csv(out / "villages.csv")
    assert all("synthetic" in row["data_source"] for row in villages)
    statuses = {row["status_before"] for row in villages}
    assert statuses <= {"blank", "partial", "covered"} and "blank" in statuses


def test_terrain_chain_plan_covers_no_more_than_distance_only_and_is_cached(
        tmp_path: Path, small_scenario: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    monkeypatch.setenv("TOWERPLAN_CACHE_DIR", str(tmp_path / "cache"))
    small = load_scenario(small_scenario())
    # 12 km from the existing tower reaches over the ridge (its crest 8.3 km east of it).
    base = dataclasses.replace(small, radio=dataclasses.replace(
        small.radio, max_radius_km=12.0, model="hata-suburban"))
    terrain = dataclasses.replace(
        base, radio=dataclasses.replace(base.radio, model="hata-suburban+deygout"))
    flat = run_plan(base, tmp_path / "flat").result
    hilly = run_plan(terrain, tmp_path / "hilly").result
    assert "deygout" in hilly.summary["model_chain"]
    # Diffraction only adds loss: terrain-aware coverage is a subset of distance-only coverage.
    assert hilly.summary["demand_covered_before"] <= flat.summary["demand_covered_before"]
    rb_flat, rb_hilly = flat.rsrp_before.array, hilly.rsrp_before.array
    both = np.isfinite(rb_flat) & np.isfinite(rb_hilly)
    # The sweep evaluates each cell at its nearest radial sample (within a cell of its centre),
    # so distances, and hence base losses, differ by a fraction of a dB near the site.
    assert np.all(rb_hilly[both] <= rb_flat[both] + 1.0)
    # Hata is charged only the diffraction in excess of smooth earth: the ridge's rising
    # western flank costs nothing, the land behind the crest loses up to about 36 dB.
    shadowed = rb_hilly[both] < rb_flat[both] - 1.5
    assert 0 < shadowed.sum() < both.sum() / 4
    assert np.max(rb_flat[both] - rb_hilly[both]) > 20.0
    store = tmp_path / "cache" / "stages" / "candidate_coverage"
    cached = sorted(store.glob("*.pkl"))
    assert len(cached) >= 2  # both chains' matrices (and their site batches)
    again = run_plan(terrain, tmp_path / "again")
    assert again.result.summary["objective"] == hilly.summary["objective"]
    assert again.computed == () and {"after", "selection"} <= set(again.reused)
    assert sorted(store.glob("*.pkl")) == cached


def test_min_share_per_blank_village_is_honoured_or_refused(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    import dataclasses

    from towerplan.errors import InfeasibleSelectionError

    base = load_scenario(small_scenario(budget="8_500_000_000"))
    free = run_plan(base, tmp_path / "free").result
    blank = free.villages["status_before"] == "blank"
    assert blank.any()
    ruled = dataclasses.replace(base, selection=dataclasses.replace(
        base.selection, min_share_blank_village=0.5))
    try:
        result = run_plan(ruled, tmp_path / "ruled").result
    except InfeasibleSelectionError as exc:
        assert "share" in str(exc)
        return
    shares = result.villages.loc[blank.to_numpy(), "share_covered_after"]
    assert (shares >= 0.5 - 1e-9).all()
    assert result.summary["objective"] <= free.summary["objective"] + 1e-6
