"""Operator or crowd coverage maps count as today's coverage at the coverage target.

The small generated scenario (``small_scenario``): in the model, the existing tower covers
Desa 1 (64.01.01.2001) and leaves Desa 3 (64.01.01.2003) blank. Desa 3 has 3000 people.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
from affine import Affine

from towerplan import load_scenario, run_plan
from towerplan.pipeline.plan import current_state, new_run, selection_problem

Factory = Callable[..., Path]
Runner = Callable[..., Any]

DESA1, DESA3 = "64.01.01.2001", "64.01.01.2003"


def _village_map(scenario: Path, path: Path, code: str, technology: str | None = None
                 ) -> Path:
    """Write the polygon of village *code* as a GeoJSON coverage map (EPSG:4326)."""
    villages = gpd.read_file(load_scenario(scenario).resolve(
        load_scenario(scenario).inputs.villages), engine="pyogrio")
    one = villages[villages["code"] == code][["geometry"]].to_crs("EPSG:4326")
    if technology is not None:
        one["technology"] = technology
    one.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def _with_maps(scenario: Path, entries: str, target: str = "4g", reports: str = "") -> Path:
    text = scenario.read_text(encoding="utf-8")
    lines = f"coverage_maps = [{entries}]\n" + (f"signal_reports = [{reports}]\n"
                                                 if reports else "")
    text = text.replace('settlements = ""\n', f'settlements = ""\n{lines}')
    text = text.replace("demand_cell_m = 250\n", f'demand_cell_m = 250\ntarget = "{target}"\n')
    scenario.write_text(text, encoding="utf-8")
    return scenario


def _before(tmp_path: Path, scenario: Path) -> Any:
    run = new_run(load_scenario(scenario), cache=tmp_path / "cache")
    stats = run.get("before").copy()
    stats.index = run.get("load").villages["code"].astype(str).to_numpy()
    return run, stats


def _units_of(state: Any, code: str) -> np.ndarray:
    return state.villages["code"].astype(str).to_numpy()[state.units.village] == code


def test_a_4g_map_covers_a_village_the_model_leaves_blank(tmp_path: Path,
                                                          small_scenario: Factory) -> None:
    scenario = small_scenario()
    cov = _village_map(scenario, tmp_path / "tsel.geojson", DESA3)
    entry = f'{{ path = "{cov}", technology = "4g", operator = "Telkomsel" }}'
    run, stats = _before(tmp_path, _with_maps(scenario, entry))
    three = stats.loc[DESA3]
    assert (three["status"], three["status_model"], three["status_source"]) == (
        "covered", "blank", "coverage_map")
    assert three["share_covered"] == pytest.approx(1.0)
    assert three["demand_covered"] == pytest.approx(3000.0)
    others = stats.drop(index=[DESA3])
    assert (others["status"] == others["status_model"]).all()
    assert set(others["status_source"]) == {"model"}

    maps = run.get("coverage_maps")
    desa3 = _units_of(current_state(run), DESA3)
    assert (maps.covered == desa3).all()  # the polygon covers Desa 3's units, no other
    state = current_state(run)
    assert not state.covered_model[desa3].any()
    assert state.covered[desa3].all()
    assert state.fresh_weight[desa3].sum() == 0.0
    problem = selection_problem(run)
    gain = problem.matrix[:, np.flatnonzero(desa3)] @ state.fresh_weight[desa3]
    assert np.allclose(gain, 0.0)  # no candidate gains Desa 3's people
    assert problem.candidates["demand_alone"].to_numpy() == pytest.approx(
        problem.matrix @ state.fresh_weight)
    entry_summary, = maps.maps
    assert entry_summary == {
        "file": "tsel.geojson", "kind": "polygons", "technology": ["4g"],
        "operator": "Telkomsel", "date": "", "source": "", "units_covered": int(desa3.sum()),
        "units_covered_at_target": int(desa3.sum()), "demand_covered": 3000.0}


@pytest.mark.parametrize(("target", "status", "source"), [
    ("4g", "blank", "model"), ("signal", "covered", "coverage_map")])
def test_a_2g_map_counts_only_under_the_signal_target(
        tmp_path: Path, small_scenario: Factory, target: str, status: str,
        source: str) -> None:
    scenario = small_scenario()
    cov = _village_map(scenario, tmp_path / "gsm.geojson", DESA3)
    run, stats = _before(tmp_path, _with_maps(
        scenario, f'{{ path = "{cov}", technology = "2g" }}', target))
    assert (stats.loc[DESA3, "status"], stats.loc[DESA3, "status_source"]) == (status, source)
    state = current_state(run)
    desa3 = _units_of(state, DESA3)
    assert (state.covered[desa3] == (target == "signal")).all()
    assert run.get("coverage_maps").level[desa3].tolist() == [2] * int(desa3.sum())


def test_a_feature_technology_overrides_the_entry(tmp_path: Path,
                                                  small_scenario: Factory) -> None:
    scenario = small_scenario()
    cov = _village_map(scenario, tmp_path / "mixed.geojson", DESA3, technology="LTE")
    _, stats = _before(tmp_path, _with_maps(scenario, f'{{ path = "{cov}", technology = "2g" }}'))
    assert stats.loc[DESA3, "status"] == "covered"


def test_a_signal_report_wins_over_a_map(tmp_path: Path, small_scenario: Factory) -> None:
    scenario = small_scenario()
    cov = _village_map(scenario, tmp_path / "tsel.geojson", DESA3)
    reports = tmp_path / "r.csv"
    reports.write_text(f"code,status,date,source\n{DESA3},none,2022-11-16,survey\n",
                       encoding="utf-8")
    run, stats = _before(tmp_path, _with_maps(
        scenario, f'{{ path = "{cov}", technology = "4g" }}', reports=f'"{reports}"'))
    assert (stats.loc[DESA3, "status"], stats.loc[DESA3, "status_source"]) == (
        "blank", "report: survey 2022-11-16")
    state = current_state(run)
    assert not state.covered[_units_of(state, DESA3)].any()


def test_plan_lists_the_maps_and_draws_them(tmp_path: Path, small_scenario: Factory) -> None:
    import rasterio

    scenario = small_scenario()
    cov = _village_map(scenario, tmp_path / "tsel <4G>.geojson", DESA3)
    # An RSRP raster over the whole area: -100 dBm (covered at -105) in its western half.
    values = np.full((40, 40), -120.0, dtype="float32")
    values[:, :20] = -100.0
    tif = tmp_path / "crowd.tif"
    with rasterio.open(tif, "w", driver="GTiff", height=40, width=40, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999.0,
                       transform=Affine(0.005, 0.0, 115.90, 0.0, -0.005, -1.58)) as ds:
        ds.write(values, 1)
    entries = (f'{{ path = "{cov}", technology = "4g", operator = "Telkomsel", '
               f'date = "2024-06" }}, {{ path = "{tif}", technology = "signal" }}')
    out = tmp_path / "out"
    run_plan(load_scenario(_with_maps(scenario, entries)), out, cache=tmp_path / "cache")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["before_state"] == "coverage_maps"
    assert summary["before_state_note"].startswith(
        "Status sebelum: peta cakupan operator atau kerumunan untuk 1 desa")
    assert (summary["coverage_maps"]["target"], summary["coverage_maps"]["villages_from_maps"]) \
        == ("4g", 1)
    polygons, raster = summary["coverage_maps"]["maps"]
    assert (polygons["file"], polygons["kind"], polygons["demand_covered"]) == (
        "tsel <4G>.geojson", "polygons", 3000.0)
    assert (raster["kind"], raster["technology"], raster["threshold_dbm"]) == (
        "rsrp", ["signal"], -105.0)
    assert raster["units_covered"] > 0 and raster["units_covered_at_target"] == 0
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "tsel <4G>" not in page
    # one toggleable layer per map, names and popups escaped (JSON-escaped inside <script>)
    assert '"Peta cakupan: tsel \\u0026lt;4G\\u0026gt;.geojson" : geo_json_layer' in page
    assert '"Peta cakupan: crowd.tif" : geo_json_layer' in page
    assert '"v":["4g","Telkomsel","polygons","2024-06",""]' in page


def test_bad_maps_stop_validate_and_plan(tmp_path: Path, small_scenario: Factory,
                                         run_cli: Runner) -> None:
    import rasterio

    scenario = small_scenario()
    empty = tmp_path / "empty.tif"
    with rasterio.open(empty, "w", driver="GTiff", height=4, width=4, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-9999.0,
                       transform=Affine(0.05, 0.0, 115.90, 0.0, -0.05, -1.58)) as ds:
        ds.write(np.full((4, 4), -9999.0, dtype="float32"), 1)
    far = gpd.GeoDataFrame(geometry=gpd.GeoSeries.from_xy([120.0], [2.0]).buffer(0.1),
                           crs="EPSG:4326")
    far.to_file(tmp_path / "far.geojson", driver="GeoJSON", engine="pyogrio")
    typo = _village_map(scenario, tmp_path / "typo.geojson", DESA1, technology="4.5g")
    entries = ", ".join(f'"{p}"' for p in (tmp_path / "missing.kml", empty,
                                            tmp_path / "far.geojson", typo))
    _with_maps(scenario, entries)
    out = tmp_path / "o"

    checked = run_cli("validate", scenario)
    assert checked.returncode == 2, checked.stderr
    problems = [ln for ln in checked.stdout.splitlines() if ln.startswith("problem: ")]
    assert len(problems) == 4, checked.stdout
    for line, fragment in zip(problems, (
            "coverage map file not found", "coverage map has no data over the villages",
            "coverage map does not overlap the villages",
            "1 features have an unknown 'technology' (#1 '4.5g')"), strict=True):
        assert line.startswith("problem: coverage_maps: ") and fragment in line, line

    planned = run_cli("plan", scenario, "--out", out)
    assert planned.returncode == 2, planned.stderr
    lines = [ln for ln in planned.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("towerplan: error: ")
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_bad_technology_in_the_scenario_is_refused(tmp_path: Path, small_scenario: Factory,
                                                     run_cli: Runner) -> None:
    scenario = _with_maps(small_scenario(), '{ path = "x.geojson", technology = "4.5g" }')
    checked = run_cli("validate", scenario)
    assert checked.returncode == 2
    assert "inputs.coverage_maps.technology" in checked.stderr + checked.stdout
