"""Candidates of a whole scenario on generated files: co-location, exclusion polygons, user
points, cost overrides and the grid/solar rule."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from towerplan.analysis.blankspots import COVERED
from towerplan.analysis.candidates import candidate_table
from towerplan.analysis.costs import COST_PARTS, cost_context, cost_summary
from towerplan.errors import InputDataError, InputFileError
from towerplan.inputs import validate_inputs
from towerplan.pipeline.plan import current_state, new_run
from towerplan.scenario import Scenario

TOWERS = [{"tower_id": "T1", "lon": 115.97, "lat": -1.68, "height_m": 40},
          {"tower_id": "T2", "lon": 116.03, "lat": -1.73, "height_m": 30}]


@pytest.fixture
def scenario(tmp_path: Path, make_dem: Callable[..., Path], make_villages: Callable[..., Path],
             make_towers_csv: Callable[..., Path]) -> Callable[..., Scenario]:
    """Factory of a scenario over 9 generated villages (about 10 x 10 km) with two towers whose
    short reach (RSRP >= -80 dBm) leaves every village blank or partial."""
    dem = make_dem(shape=(220, 220), kind="flat", res_m=90.0)
    villages = make_villages(n=9, size_deg=0.03)
    towers = make_towers_csv(TOWERS)

    def factory(**sections: dict[str, Any]) -> Scenario:
        data: dict[str, Any] = {
            "inputs": {"villages": str(villages), "dem": [str(dem)], "towers": str(towers),
                       "settlements": ""},
            "radio": {"max_radius_km": 6, "threshold_rsrp_dbm": -80},
            "candidates": {"grid_spacing_m": 1500, "include_hilltops": False},
        }
        for name, values in sections.items():
            data[name] = {**data.get(name, {}), **values}
        return Scenario.from_dict(data, base_dir=tmp_path)

    return factory


def _table(sc: Scenario) -> tuple[pd.DataFrame, Any]:
    state = current_state(new_run(sc))
    need = state.stats["status"].to_numpy() != COVERED
    frame, _ = candidate_table(sc, state.data, state.villages, need)
    return frame, state


def test_existing_towers_become_colocation_candidates(scenario: Callable[..., Scenario]
                                                       ) -> None:
    frame, state = _table(scenario(costs={"colocation_idr": 450_000_000}))
    assert (state.stats["status"] != COVERED).all()
    coloc = frame[frame["origin"] == "colocation"].set_index("site_id")
    assert sorted(coloc.index) == ["C-T1", "C-T2"]
    towers = state.data.towers.set_index("tower_id")
    for tid in ("T1", "T2"):
        site = coloc.loc[f"C-{tid}"]
        assert (site["x"], site["y"]) == (towers.geometry[tid].x, towers.geometry[tid].y)
        assert site["height_m"] == towers.at[tid, "height_m"]
        assert site["cost_tower_idr"] == 0.0
        assert site["cost_colocation_idr"] == 4.5e8 == site["cost_total_idr"]
        village = state.villages.geometry[state.villages["name"] == site["village"]].iloc[0]
        assert village.intersects(shapely.Point(site["x"], site["y"]))
    new = frame[frame["origin"] != "colocation"]
    assert (new["cost_tower_idr"] == 1.7e9).all() and (new["cost_colocation_idr"] == 0).all()
    off, _ = _table(scenario(candidates={"include_colocation": False}))
    assert "colocation" not in set(off["origin"])
    assert len(off) == len(frame) - 2


def test_no_candidate_inside_an_exclusion_polygon_in_another_crs(
        scenario: Callable[..., Scenario], write_layer: Callable[..., Path]) -> None:
    forest = gpd.GeoDataFrame({"name": ["hutan lindung"]},
                              geometry=[shapely.box(115.95, -1.76, 115.99, -1.70)],
                              crs="EPSG:4326")
    path = write_layer(forest.to_crs("EPSG:3857"), "forest", "gpkg")
    before, state = _table(scenario())
    area = forest.to_crs(state.data.crs).geometry.iloc[0]
    inside = shapely.intersects_xy(area, before["x"], before["y"])
    assert inside.sum() >= 5
    after, _ = _table(scenario(candidates={"exclude_areas": [str(path)]}))
    new = after[after["origin"] != "colocation"]
    assert not shapely.intersects_xy(area, new["x"], new["y"]).any()
    kept = set(zip(after["x"], after["y"], strict=True))
    assert set(zip(before["x"][~inside], before["y"][~inside], strict=True)) <= kept


def test_named_exclusion_layers_count_what_each_removed(
        scenario: Callable[..., Scenario], write_layer: Callable[..., Path]) -> None:
    forest = gpd.GeoDataFrame(geometry=[shapely.box(115.95, -1.76, 115.99, -1.70)],
                              crs="EPSG:4326")
    reserve = gpd.GeoDataFrame({"name": ["Cagar alam"]},
                               geometry=[shapely.box(115.99, -1.76, 116.02, -1.70)],
                               crs="EPSG:4326")
    old_key = write_layer(forest, "lindung", "gpkg")
    named = write_layer(reserve, "cagar", "gpkg")
    before, state = _table(scenario())
    after, _ = _table(scenario(candidates={
        "exclude_areas": [str(old_key)],
        "exclusions": [{"path": str(named), "kind": "nature_reserve"}]}))
    layers = after.attrs["exclusions"]
    assert [(a["name"], a["kind"]) for a in layers] == [("lindung", "other"),
                                                         ("Cagar alam", "nature_reserve")]
    counts = [a["candidates_removed"] for a in layers]
    assert min(counts) > 0
    # Every candidate of the first run inside a layer is gone; counts are before thinning.
    for frame, n in zip((forest, reserve), counts, strict=True):
        area = frame.to_crs(state.data.crs).geometry.iloc[0]
        new = after[after["origin"] != "colocation"]
        assert not shapely.intersects_xy(area, new["x"], new["y"]).any()
        assert n >= int(shapely.intersects_xy(area, before["x"], before["y"]).sum()) - 2


def test_land_status_without_settlements_anchors_on_village_centres(
        scenario: Callable[..., Scenario]) -> None:
    near, state = _table(scenario(candidates={"grid_spacing_m": 1500,
                                              "anchor_distance_m": 1e6}))
    generated = near["origin"].isin(["grid", "hilltop"])
    assert (near.loc[generated, "land_status"] == "in_settlement").all()
    assert (near.loc[near["origin"] == "colocation", "land_status"] == "colocation").all()
    far, _ = _table(scenario(candidates={"anchor_distance_m": 300},
                             costs={"remote_road_idr_per_km": 1e9, "remote_power_idr": 6e8}))
    remote = far[far["land_status"] == "needs_road_land"]
    centres = shapely.get_coordinates(shapely.point_on_surface(
        state.villages.geometry.to_numpy()))
    d = np.hypot(*(remote[["x", "y"]].to_numpy()[:, None, :] - centres[None]).transpose(2, 0, 1))
    assert len(remote) and (d.min(axis=1) > 300).all()
    # The road runs from the nearest village centre: at least 0.3 km at Rp 1 bn/km.
    assert np.allclose(remote["road_km"], d.min(axis=1) / 1000)
    assert (remote["cost_road_idr"] == remote["road_km"] * 1e9).all()
    solar = remote["power_source"] == "solar"
    assert (remote.loc[solar, "cost_power_idr"] == 6e8).all()
    assert (remote.loc[~solar, "cost_power_idr"] == 0).all()  # grid line not costed


def test_bad_exclusion_files_are_input_problems(scenario: Callable[..., Scenario],
                                                tmp_path: Path,
                                                write_layer: Callable[..., Path]) -> None:
    missing = tmp_path / "nowhere.gpkg"
    report = validate_inputs(scenario(candidates={"exclude_areas": [str(missing)]}))
    assert any("exclude_areas: exclusion area file not found" in p for p in report.problems)
    with pytest.raises(InputFileError, match="exclusion area file not found"):
        current_state(new_run(scenario(candidates={"exclude_areas": [str(missing)]})))
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(116, -1.7), (116.01, -1.7)])],
                             crs="EPSG:4326")
    path = write_layer(lines, "lines", "gpkg")
    with pytest.raises(InputDataError, match="not polygons"):
        current_state(new_run(scenario(candidates={"exclude_areas": [str(path)]})))


def test_user_candidates_keep_ids_heights_and_costs(scenario: Callable[..., Scenario],
                                                    tmp_path: Path) -> None:
    csv = tmp_path / "user.csv"
    csv.write_text("lon,lat,site_id,height_m,cost_idr\n116.0,-1.70,S0001,60,900000000\n"
                   "116.002,-1.70,BUKIT,,\n", encoding="utf-8")
    frame, _ = _table(scenario(candidates={"user_csv": str(csv), "min_spacing_m": 1000}))
    users = frame[frame["origin"] == "user"].set_index("site_id")
    assert sorted(users.index) == ["BUKIT", "S0001"]  # 220 m apart: both kept
    assert users.at["S0001", "height_m"] == 60 and users.at["BUKIT", "height_m"] == 42
    assert users.at["S0001", "cost_total_idr"] == 9e8
    assert users.at["BUKIT", "cost_total_idr"] == 1.7e9
    assert bool(users.at["S0001", "cost_overridden"]) and not users.at["BUKIT", "cost_overridden"]
    assert frame["site_id"].is_unique  # generated ids skip the user's S0001
    others = frame[~frame["origin"].isin(["user", "colocation"])]
    d = np.hypot(others["x"].to_numpy()[:, None] - users["x"].to_numpy()[None, :],
                 others["y"].to_numpy()[:, None] - users["y"].to_numpy()[None, :])
    assert d.min() >= 1000.0


def test_cost_overrides_file_replaces_costs(scenario: Callable[..., Scenario],
                                            tmp_path: Path) -> None:
    base, _ = _table(scenario())
    grid = base[base["origin"] == "grid"]
    first, second = grid["site_id"].iloc[0], grid["site_id"].iloc[1]
    path = tmp_path / "overrides.csv"
    path.write_text(f"site_id,cost_total_idr,cost_road_idr\n{first},2500000000,\n"
                    f"{second},,300000000\n", encoding="utf-8")
    sc = scenario(costs={"overrides": str(path)})
    frame, state = _table(sc)
    row = frame.set_index("site_id")
    assert row.at[first, "cost_total_idr"] == 2.5e9
    assert row.at[second, "cost_road_idr"] == 3e8
    # The other parts stay: a grid point away from the villages' centres has its own solar.
    power = base.set_index("site_id").at[second, "cost_power_idr"]
    assert power in (0.0, 6e8)
    assert row.at[second, "cost_total_idr"] == 1.7e9 + 3e8 + power
    assert row["cost_overridden"].sum() == 2
    untouched = frame[~frame["site_id"].isin([first, second])]
    assert np.array_equal(untouched["cost_total_idr"].to_numpy(),
                          base.set_index("site_id").loc[untouched["site_id"],
                                                        "cost_total_idr"].to_numpy())
    summary = cost_summary(sc.costs, cost_context(state.data, state.villages), frame)
    assert summary["cost_overrides_applied"] == 2
    path.write_text("site_id,cost_total_idr\nS9999,1\n", encoding="utf-8")
    with pytest.raises(InputDataError, match="unknown site ids: S9999"):
        _table(scenario(costs={"overrides": str(path)}))


def test_power_rule_on_a_grid_file(scenario: Callable[..., Scenario], tmp_path: Path) -> None:
    grid = tmp_path / "grid.csv"
    grid.write_text("lon,lat\n116.0,-1.7\n", encoding="utf-8")
    costs = {"grid_idr_per_km": 100_000_000, "grid_max_km": 2.0, "solar_idr": 900_000_000,
             "power_idr": 10_000_000}
    sc = scenario(inputs={"power": str(grid)}, costs=costs)
    frame, state = _table(sc)
    new = frame[frame["origin"] != "colocation"]
    on_grid = new["grid_km"] <= 2.0
    assert on_grid.any() and (~on_grid).any()
    assert (new["power_source"] == np.where(on_grid, "grid", "solar")).all()
    expected = np.where(on_grid, new["grid_km"] * 1e8, 9e8) + 1e7
    assert np.allclose(new["cost_power_idr"], expected)
    assert np.allclose(new[list(COST_PARTS)].sum(axis=1), new["cost_total_idr"])
    ctx = cost_context(state.data, state.villages)
    assert ctx.grid_source == "power"
    summary = cost_summary(sc.costs, ctx, frame)
    assert summary["candidates_on_grid"] == int(on_grid.sum())
    assert summary["power_grid_basis"] == "power"
