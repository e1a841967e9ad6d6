"""The cost model: parts, the grid/solar rule, co-location, overrides and what stands in for
the power grid."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from towerplan.analysis.costs import (
    COST_PARTS,
    apply_overrides,
    cost_context,
    cost_scope_text,
    cost_summary,
    nearest_km,
    not_costed,
    parts_not_costed,
    power_costs,
    site_costs,
    with_not_costed,
)
from towerplan.errors import InputDataError
from towerplan.io.siting import SitingInputs
from towerplan.scenario import Costs

CRS = "EPSG:32750"
COSTS = Costs(tower_idr=1.7e9, access_road_idr_per_km=5e8, power_idr=1e8, backhaul_idr=2e8,
              grid_idr_per_km=3e8, grid_max_km=5.0, solar_idr=9e8, colocation_idr=4e8)


def test_parts_add_up_to_the_total() -> None:
    df = site_costs(np.array([[0.0, 0.0], [0.0, 2000.0]]), COSTS,
                    road_km=np.array([0.0, 2.0]), grid_km=np.array([1.0, 10.0]))
    assert df["cost_tower_idr"].tolist() == [1.7e9, 1.7e9]
    assert df["cost_road_idr"].tolist() == [0.0, 1.0e9]
    assert df["cost_power_idr"].tolist() == [3e8 + 1e8, 9e8 + 1e8]
    assert df["power_source"].tolist() == ["grid", "solar"]
    assert df["cost_total_idr"].tolist() == pytest.approx(
        [1.7e9 + 4e8 + 2e8, 1.7e9 + 1e9 + 1e9 + 2e8])
    assert np.allclose(df[list(COST_PARTS)].sum(axis=1), df["cost_total_idr"])


def test_power_switches_from_grid_to_solar_at_grid_max_km() -> None:
    d = np.array([0.0, 4.999, 5.0, 5.001, 40.0, np.inf])
    cost, source = power_costs(d, grid_idr_per_km=3e8, grid_max_km=5.0, solar_idr=9e8)
    assert source.tolist() == ["grid", "grid", "grid", "solar", "solar", "solar"]
    assert cost[:3] == pytest.approx([0.0, 4.999 * 3e8, 1.5e9])
    assert cost[3:].tolist() == [9e8, 9e8, 9e8]
    # Grid cost is monotone in distance up to the limit.
    assert np.all(np.diff(cost[:3]) >= 0)


def test_no_grid_known_means_solar_everywhere() -> None:
    df = site_costs(np.zeros((3, 2)), COSTS)
    assert df["power_source"].tolist() == ["solar"] * 3
    assert df["cost_power_idr"].tolist() == [1e9] * 3
    assert df["cost_road_idr"].tolist() == [0.0] * 3  # no road or settlement: not costed


def test_colocation_costs_only_the_fee() -> None:
    df = site_costs(np.zeros((2, 2)), COSTS, road_km=np.array([7.0, 7.0]),
                    grid_km=np.array([50.0, 50.0]), colocation=np.array([True, False]))
    coloc = df.iloc[0]
    assert coloc["cost_tower_idr"] == 0.0
    assert coloc["cost_road_idr"] == coloc["cost_power_idr"] == coloc["cost_backhaul_idr"] == 0
    assert coloc["cost_colocation_idr"] == 4e8
    assert coloc["cost_total_idr"] == 4e8
    assert coloc["power_source"] == "colocation"
    assert df.iloc[1]["cost_colocation_idr"] == 0.0
    assert df.iloc[1]["cost_tower_idr"] == 1.7e9


def test_nearest_km_to_lines_and_points() -> None:
    line = shapely.LineString([(0, 0), (10_000, 0)])
    point = shapely.Point(20_000, 3_000)
    d = nearest_km(np.array([[5_000.0, 4_000.0], [20_000.0, 0.0], [-3_000.0, -4_000.0]]),
                   [line, point])
    assert d == pytest.approx([4.0, 3.0, 5.0])
    assert np.isinf(nearest_km(np.zeros((2, 2)), [])).all()


def test_given_costs_replace_parts_or_total() -> None:
    given = pd.DataFrame({"cost_tower_idr": [9e8, np.nan, np.nan],
                          "cost_total_idr": [np.nan, 1.0e9, np.nan]})
    df = site_costs(np.zeros((3, 2)), Costs(), given=given)
    assert df["cost_tower_idr"].tolist() == [9e8, 1.7e9, 1.7e9]
    assert df["cost_total_idr"].tolist() == [9e8, 1.0e9, 1.7e9]


def _frame(ids: list[str]) -> pd.DataFrame:
    costs = site_costs(np.zeros((len(ids), 2)), COSTS, road_km=np.ones(len(ids)),
                       grid_km=np.ones(len(ids)))
    return pd.concat([pd.DataFrame({"site_id": ids}), costs], axis=1)


def test_overrides_replace_costs_by_site_id() -> None:
    frame = _frame(["S0001", "S0002", "S0003"])
    overrides = pd.DataFrame({"site_id": ["S0003", "S0001"],
                              "cost_road_idr": [0.0, np.nan],
                              "cost_total_idr": [np.nan, 2.5e9]})
    out, applied = apply_overrides(frame, overrides)
    assert applied == 2
    assert out["cost_total_idr"].iloc[0] == 2.5e9  # total replaced, parts kept
    assert out["cost_road_idr"].iloc[0] == frame["cost_road_idr"].iloc[0]
    assert out.iloc[1].equals(frame.iloc[1])  # not named: unchanged
    assert out["cost_road_idr"].iloc[2] == 0.0  # a part replaced: total re-added
    assert out["cost_total_idr"].iloc[2] == pytest.approx(
        frame["cost_total_idr"].iloc[2] - frame["cost_road_idr"].iloc[2])
    assert frame["cost_road_idr"].iloc[2] == 5e8  # the input frame is not modified


def test_overrides_with_unknown_ids_are_refused() -> None:
    with pytest.raises(InputDataError, match="unknown site ids: S9999"):
        apply_overrides(_frame(["S0001"]), pd.DataFrame({"site_id": ["S9999"],
                                                         "cost_total_idr": [1e9]}))


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": ["desa", "kelurahan"], "name": ["A", "B"]},
                            geometry=[shapely.box(0, 0, 10_000, 10_000),
                                      shapely.box(10_000, 0, 12_000, 2_000)], crs=CRS)


def _data(siting: SitingInputs | None, settlements: gpd.GeoDataFrame | None = None
          ) -> SimpleNamespace:
    return SimpleNamespace(siting=siting, settlements=settlements)


def test_power_input_wins_over_stand_ins() -> None:
    power = gpd.GeoDataFrame({"kind": ["line"]},
                             geometry=[shapely.LineString([(0, 5_000), (1, 5_000)])], crs=CRS)
    ctx = cost_context(_data(SitingInputs(power=power, power_source="power")), _villages())
    assert ctx.grid_source == "power"
    df = ctx.costs(np.array([[0.0, 0.0]]), COSTS)
    assert df["grid_km"].iloc[0] == pytest.approx(5.0)
    assert df["power_source"].iloc[0] == "grid"


def test_kelurahan_stand_in_for_the_grid_and_the_summary_says_so() -> None:
    ctx = cost_context(_data(SitingInputs()), _villages())
    assert ctx.grid_source == "kelurahan"
    df = ctx.costs(np.array([[11_000.0, 1_000.0], [0.0, 9_000.0]]), COSTS)
    assert df["power_source"].tolist() == ["grid", "solar"]
    sites = df.assign(origin=["grid", "grid"])
    summary = cost_summary(COSTS, ctx, sites)
    assert summary["power_grid_basis"] == "kelurahan"
    assert "kelurahan" in summary["power_grid_basis_note"]
    assert summary["candidates_on_grid"] == 1 and summary["candidates_on_solar"] == 1
    assert "within 5 km" in summary["cost_model"].split(" / ")[1]
    assert "dalam 5 km" in summary["cost_model"].split(" / ")[0]
    # Neither roads nor settlements: the access road runs from the nearest village centre.
    assert summary["access_road_from"] == "village centres"
    assert summary["access_road_note"].startswith("Tanpa lapisan jalan")
    assert ("nearest village centre (villages without a settlement point) stands in"
            in summary["access_road_note"])


def test_settlements_are_road_targets_and_roads_too() -> None:
    settlements = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 3_000)],
                                   crs=CRS)
    roads = gpd.GeoDataFrame({"kind": [""]},
                             geometry=[shapely.LineString([(1_000, -5_000), (1_000, 5_000)])],
                             crs=CRS)
    ctx = cost_context(_data(SitingInputs(roads=roads), settlements), _villages())
    # Village B holds no settlement: its centre is a road target too (11 km away here).
    assert ctx.road_basis == "roads and settlements or village centres"
    df = ctx.costs(np.array([[0.0, 0.0], [0.0, 2_900.0]]), COSTS)
    assert df["road_km"].tolist() == pytest.approx([1.0, 0.1])
    assert df["cost_road_idr"].tolist() == pytest.approx([5e8, 5e7])


def test_sites_needing_road_and_land_carry_the_remote_road_and_power() -> None:
    costs = Costs(tower_idr=1.7e9, access_road_idr_per_km=1e8, grid_idr_per_km=3e8,
                  solar_idr=2e8, remote_road_idr_per_km=5e8, remote_power_idr=6e8)
    road = np.array([3.0, 3.0, 3.0, 3.0])
    grid = np.array([9.0, 9.0, 1.0, 9.0])
    remote = np.array([False, True, True, True])
    df = site_costs(np.zeros((4, 2)), costs, road_km=road, grid_km=grid, remote=remote,
                    colocation=np.array([False, False, False, True]))
    # In the settlement: the village rate; remote: the larger remote rate per km.
    assert df["cost_road_idr"].tolist() == pytest.approx([3e8, 1.5e9, 1.5e9, 0.0])
    # Own solar at least Rp 600 M beyond the grid; a grid connection within reach as usual.
    assert df["cost_power_idr"].tolist() == pytest.approx([2e8, 6e8, 3e8, 0.0])
    assert df["cost_total_idr"].tolist() == pytest.approx(
        [1.7e9 + 5e8, 1.7e9 + 2.1e9, 1.7e9 + 1.8e9, costs.colocation_idr])
    higher = Costs(access_road_idr_per_km=8e8, solar_idr=9e8)
    again = site_costs(np.zeros((1, 2)), higher, road_km=road[:1], grid_km=grid[:1],
                       remote=remote[1:2])
    assert again["cost_road_idr"].iloc[0] == pytest.approx(2.4e9)
    assert again["cost_power_idr"].iloc[0] == pytest.approx(9e8)


def test_anchor_points_are_settlements_and_centres_of_villages_without_one() -> None:
    from towerplan.analysis.costs import anchor_points

    villages = _villages().geometry.to_numpy()
    settlements = gpd.GeoDataFrame(geometry=[shapely.Point(5_000, 5_000),
                                             shapely.Point(6_000, 5_000)], crs=CRS)
    points, n_centres = anchor_points(settlements, villages)
    assert n_centres == 1 and len(points) == 3
    assert shapely.get_coordinates(points[:2]).tolist() == [[5_000, 5_000], [6_000, 5_000]]
    assert villages[1].contains(points[2])
    none, n_all = anchor_points(None, villages)
    assert n_all == 2 and all(v.contains(p) for v, p in zip(villages, none, strict=True))


# --------------------------------------------------------------------------- not costed


def _paser_sites() -> pd.DataFrame:
    """Two new towers in settlements, one remote site, one co-location, under Paser's costs
    (tower only)."""
    xy = np.array([[0.0, 0.0], [100.0, 0.0], [9000.0, 0.0], [200.0, 0.0]])
    parts = site_costs(xy, Costs(), road_km=np.array([0.0, 0.0, 2.0, 0.0]),
                       colocation=np.array([False, False, False, True]),
                       remote=np.array([False, False, True, False]))
    return parts.assign(backhaul_technology=["", "", "", "existing"])


def test_zero_parts_of_a_tower_only_scenario_are_not_costed():
    sites = _paser_sites()
    missing = not_costed(sites, Costs())
    # settlement towers: road, power, backhaul; the remote one pays the remote road and
    # power figures, so only its backhaul; the co-location's zeros are real
    assert missing.to_numpy().tolist() == [[True, True, True], [True, True, True],
                                           [False, False, True], [False, False, False]]
    assert sites.loc[2, "cost_road_idr"] == 2 * 5e8
    assert parts_not_costed(sites, Costs()) == ["cost_backhaul_idr"]
    assert parts_not_costed(sites.iloc[:2], Costs()) == [
        "cost_road_idr", "cost_power_idr", "cost_backhaul_idr"]
    assert parts_not_costed(sites.iloc[3:], Costs()) == []  # no new tower


def test_a_costed_part_or_a_planned_backhaul_is_never_called_not_costed():
    sites = _paser_sites().iloc[:2]
    assert not not_costed(sites, COSTS).to_numpy().any()
    planned = sites.assign(backhaul_technology=["microwave", ""])
    assert not_costed(planned, Costs())["cost_backhaul_idr"].tolist() == [False, True]


def test_not_costed_cells_read_as_words_and_the_scope_is_stated():
    sites = _paser_sites().iloc[:2]
    shown = with_not_costed(sites, Costs(), "en")
    assert shown["cost_road_idr"].tolist() == ["not costed"] * 2
    assert shown["cost_tower_idr"].tolist() == [1.7e9] * 2
    assert sites["cost_road_idr"].tolist() == [0.0, 0.0]  # input not modified
    assert cost_scope_text(sites, Costs(), "id") == (
        "Rp 1.700.000.000 per menara: menara saja; jalan akses, listrik, backhaul tidak "
        "dihitung")
    costed = site_costs(np.zeros((1, 2)), COSTS, road_km=np.array([1.0]))
    assert cost_scope_text(costed, COSTS, "en") == (
        "Rp 3,400,000,000 per tower: tower, access road, power, backhaul")
    assert cost_scope_text(_paser_sites().iloc[3:], Costs(), "en") == ""
