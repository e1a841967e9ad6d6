"""Tests of the synthetic demo province (towerplan.io.demo_province)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from towerplan.errors import OutputError, ScenarioError
from towerplan.inputs import validate_inputs
from towerplan.io.demo import DemoManifest, ensure_demo
from towerplan.io.demo_province import PROVINCE_SCENARIO, generate_province
from towerplan.scenario import Scenario

UTM = "EPSG:32748"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoManifest, list[str]]:
    labels: list[str] = []
    manifest = generate_province(tmp_path_factory.mktemp("province") / "p", kabupaten=2,
                                 progress=labels.append)
    return manifest, labels


@pytest.fixture(scope="module")
def villages(province: tuple[DemoManifest, list[str]]) -> gpd.GeoDataFrame:
    return gpd.read_file(province[0].villages, layer="villages").to_crs(UTM)


def _elevation(path: Path, xy: np.ndarray) -> np.ndarray:
    with rasterio.open(path) as src:
        return np.array([v[0] for v in src.sample(xy)])


def test_progress_and_manifest(province: tuple[DemoManifest, list[str]],
                               villages: gpd.GeoDataFrame) -> None:
    manifest, labels = province
    assert labels == ["kabupaten 1/2", "kabupaten 2/2", "writing"]
    meta = json.loads((manifest.directory / "manifest.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    kab = meta["province"]["kabupaten"]
    assert [k["code"] for k in kab] == ["99.01", "99.02"]
    assert [k["seed"] for k in kab] == [2022, 2023]
    assert sum(k["villages"] for k in kab) == len(villages) == meta["facts"]["villages"]
    assert sum(k["population"] for k in kab) == int(villages["population"].sum())


def test_first_kabupaten_is_the_demo_unmoved(province: tuple[DemoManifest, list[str]],
                                             villages: gpd.GeoDataFrame) -> None:
    demo = ensure_demo(seed=2022)
    alone = gpd.read_file(demo.villages, layer="villages").to_crs(UTM)
    first = villages[villages["code"].str.startswith("99.01.")].reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.DataFrame(first.drop(columns="geometry")),
                                  pd.DataFrame(alone.drop(columns="geometry")))
    assert np.allclose(first.area, alone.area)
    assert np.allclose(first.centroid.x, alone.centroid.x)
    points = np.column_stack([first.representative_point().x,
                              first.representative_point().y])
    assert np.allclose(_elevation(province[0].dem, points), _elevation(demo.dem, points))


def test_kabupaten_lie_apart_on_land_with_unique_identifiers(
        province: tuple[DemoManifest, list[str]], villages: gpd.GeoDataFrame) -> None:
    manifest = province[0]
    first = villages[villages["code"].str.startswith("99.01.")]
    second = villages[villages["code"].str.startswith("99.02.")]
    assert len(first) + len(second) == len(villages)
    assert 100 < len(second) < 200
    assert second.total_bounds[0] > first.total_bounds[2]  # the second lies east, apart
    assert villages["code"].is_unique
    points = np.column_stack([second.representative_point().x,
                              second.representative_point().y])
    assert (_elevation(manifest.dem, points) > 0).mean() > 0.95  # land under its villages
    towers = pd.read_csv(manifest.towers)
    assert towers["tower_id"].is_unique
    assert set(towers["tower_id"].str[:4]) == {"K01-", "K02-"}


def test_its_scenario_is_valid(province: tuple[DemoManifest, list[str]]) -> None:
    scenario = Scenario.from_toml(province[0].directory / PROVINCE_SCENARIO)
    assert scenario.budget.total_idr == 2 * 8.5e9
    assert not scenario.uses_demo
    report = validate_inputs(scenario)
    assert report.ok, report


def test_refuses_bad_counts_and_non_empty_output(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="kabupaten"):
        generate_province(tmp_path / "a", kabupaten=0)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="not an empty folder"):
        generate_province(tmp_path / "b", kabupaten=1)
