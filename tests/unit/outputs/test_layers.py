"""The layers drawn once per terrain and today's coverage (stage ``base_layers``) give the same
files as the writers drawing them themselves."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import shapely

from towerplan.outputs.exports import coverage_polygons, write_plan_gpkg
from towerplan.outputs.layers import base_layers
from towerplan.outputs.maps import write_map
from towerplan.results import BaseLayers, MapImage, PlanResult


def _coverage_rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT stage, threshold_rsrp_dbm, area_km2, geom FROM coverage "
                          "ORDER BY stage").fetchall()


def test_the_map_and_geopackage_are_the_same_with_the_layers_drawn_before(
        plan_result: PlanResult, tmp_path: Path) -> None:
    threshold = plan_result.scenario.radio.threshold_rsrp_dbm
    layers = base_layers(plan_result.dem, plan_result.rsrp_before, threshold)
    with_layers = dataclasses.replace(plan_result, layers=layers)
    assert layers.relief.uri.startswith("data:image/png;base64,")
    before = plan_result.rsrp_before
    assert shapely.equals(layers.outline_before,
                          coverage_polygons(before.array, before.transform, threshold))
    drawn = write_map(plan_result, tmp_path / "a.html")
    given = write_map(with_layers, tmp_path / "b.html")
    assert drawn.read_bytes() == given.read_bytes()
    assert layers.relief.uri in given.read_text(encoding="utf-8")
    a = write_plan_gpkg(plan_result, tmp_path / "a.gpkg")
    b = write_plan_gpkg(with_layers, tmp_path / "b.gpkg")
    assert _coverage_rows(a) == _coverage_rows(b) and len(_coverage_rows(a)) == 2


def test_layers_made_at_another_threshold_are_not_used(plan_result: PlanResult,
                                                       tmp_path: Path) -> None:
    threshold = plan_result.scenario.radio.threshold_rsrp_dbm
    box = [[0.0, 0.0], [1.0, 1.0]]
    wrong = BaseLayers(threshold + 5.0, MapImage("data:image/png;base64,UkVMSUVG", box),
                       MapImage("data:image/png;base64,QkVGT1JF", box), shapely.MultiPolygon())
    assert wrong.at(threshold) is None and wrong.at(threshold + 5.0) is wrong
    text = write_map(dataclasses.replace(plan_result, layers=wrong),
                     tmp_path / "m.html").read_text(encoding="utf-8")
    assert "UkVMSUVG" not in text and "QkVGT1JF" not in text
    rows = _coverage_rows(write_plan_gpkg(dataclasses.replace(plan_result, layers=wrong),
                                          tmp_path / "p.gpkg"))
    assert rows == _coverage_rows(write_plan_gpkg(plan_result, tmp_path / "q.gpkg"))
