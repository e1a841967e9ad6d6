"""Re-planning with the stage cache: a changed budget re-runs only the selection onward; a
changed threshold sweeps only the candidates that are new."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from towerplan.analysis.problem import Sites
from towerplan.commands.plan import run_plan
from towerplan.scenario import Scenario

BEFORE_SELECTION = ("load", "terrain", "demand", "existing_coverage", "coverage_maps", "before",
                    "candidates",
                    "candidate_coverage", "backhaul")


def _terrain_demo() -> Scenario:
    """The demo with a terrain chain (Deygout diffraction and clutter), 10 km radius."""
    base = Scenario()
    return dataclasses.replace(
        base, radio=dataclasses.replace(base.radio, model="hata-suburban+deygout+clutter",
                                        max_radius_km=10.0),
        candidates=dataclasses.replace(base.candidates, grid_spacing_m=6000.0))


@pytest.mark.slow
def test_budget_only_replan_reruns_selection_onward(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    scenario = _terrain_demo()
    first = run_plan(scenario, tmp_path / "first", cache=tmp_path / "cache")
    assert first.reused == ()
    assert set(BEFORE_SELECTION) <= set(first.computed)
    richer = dataclasses.replace(scenario, budget=dataclasses.replace(scenario.budget,
                                                                      total_idr=11.9e9))
    with caplog.at_level(logging.INFO, logger="towerplan"):
        second = run_plan(richer, tmp_path / "second", cache=tmp_path / "cache")
    # the relief and today's coverage image and outline are not drawn again
    assert set(second.reused) == {*BEFORE_SELECTION, "base_layers"}
    assert set(second.computed) == {"selection", "backhaul_comparison", "audit", "after"}
    for stage in BEFORE_SELECTION:
        assert f"stage {stage}: reused from the cache" in caplog.text
    assert "stage selection: computed" in caplog.text
    s1, s2 = first.summary, second.summary
    assert "deygout" in s2["model_chain"]
    assert s2["towers_selected"] >= s1["towers_selected"]
    assert s2["demand_covered_after"] >= s1["demand_covered_after"]
    assert s2["demand_covered_before"] == s1["demand_covered_before"]


@pytest.mark.slow
def test_threshold_only_replan_sweeps_only_new_candidates(tmp_path: Path) -> None:
    """The candidates' RSRP rows do not depend on the threshold: a 5 dB stricter threshold
    reuses every row of a candidate already swept and sweeps only the candidates new to the
    plan (those in villages that are no longer covered today). Without the survey, so that
    the model decides today's status."""
    base = _terrain_demo()
    scenario = dataclasses.replace(base, inputs=dataclasses.replace(base.inputs,
                                                                    signal_reports=()))
    cache = tmp_path / "cache"
    first = run_plan(scenario, tmp_path / "first", cache=cache)
    store = cache / "candidate_coverage"
    rows_before = set(store.glob("*.pkl"))
    stricter = dataclasses.replace(scenario, radio=dataclasses.replace(
        scenario.radio, threshold_rsrp_dbm=scenario.radio.threshold_rsrp_dbm + 5.0))
    second = run_plan(stricter, tmp_path / "second", cache=cache)
    assert {"load", "terrain", "demand", "coverage_maps"} <= set(second.reused)
    assert {"existing_coverage", "before", "candidates", "candidate_coverage",
            "base_layers"} <= set(second.computed)

    def sites(run: object) -> set[tuple[float, float, float]]:
        s = Sites.from_xy_columns(run.result.candidates)  # type: ignore[attr-defined]
        return {(float(x), float(y), float(h)) for (x, y), h in zip(s.xy, s.height_m,
                                                                      strict=True)}

    new_sites = sites(second) - sites(first)
    added = set(store.glob("*.pkl")) - rows_before
    assert len(added) == len(new_sites) + 1  # a row per new site, and the stage's matrix
    s1, s2 = first.summary, second.summary
    assert s2["demand_covered_before"] < s1["demand_covered_before"]
    assert s2["candidates_total"] >= s1["candidates_total"]


def test_the_cli_says_what_it_reused(
        tmp_path: Path, small_scenario: Callable[..., Path],
        run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    toml = small_scenario()
    cache = tmp_path / "cache"
    first = run_cli("plan", toml, "--out", tmp_path / "a", "--cache-dir", cache)
    assert first.returncode == 0, first.stderr
    assert "reused from the cache" not in first.stdout
    assert (cache / "selection").is_dir() and (cache / "candidate_coverage").is_dir()
    second = run_cli("plan", toml, "--out", tmp_path / "b", "--cache-dir", cache)
    assert second.returncode == 0, second.stderr
    assert "reused from the cache: load, terrain" in " ".join(second.stdout.split())
    third = run_cli("plan", toml, "--out", tmp_path / "c", "--no-cache", "--cache-dir", cache)
    assert third.returncode == 0, third.stderr
    assert "reused from the cache" not in third.stdout
