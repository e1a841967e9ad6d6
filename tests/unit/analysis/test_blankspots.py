"""Demand units and village statistics on known geometry."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from towerplan.analysis.blankspots import build_demand_units, classify, village_statistics


def _two_villages():
    west = shapely.box(0, 0, 2000, 2000)        # 4 km2
    east = shapely.box(2000, 0, 3000, 2000)     # 2 km2
    tiny = shapely.box(3000, 0, 3100, 100)      # 0.01 km2: no cell centre inside
    return np.array([west, east, tiny], dtype=object)


def test_units_tile_village_areas_and_small_villages_get_a_unit() -> None:
    u = build_demand_units(_two_villages(), 250.0)
    area = np.bincount(u.village, weights=u.area_km2)
    assert area == pytest.approx([4.0, 2.0, 0.01])
    assert np.bincount(u.village).tolist() == [64, 32, 1]
    assert u.basis == "area_km2"


def test_settlement_people_go_to_the_nearest_unit_of_their_village() -> None:
    st_xy = np.array([[100.0, 100.0], [2500.0, 1000.0], [9000.0, 9000.0]])
    u = build_demand_units(_two_villages(), 250.0, settlement_xy=st_xy,
                           settlement_population=np.array([100.0, 50.0, 7.0]))
    assert u.basis == "population"
    per_village = np.bincount(u.village, weights=u.weight, minlength=3)
    assert per_village[0] == 100.0
    assert per_village[1] == 50.0
    assert u.weight.sum() == 150.0  # the settlement outside every village is ignored
    assert "1 settlements outside every village ignored" in u.basis_note
    k = int(np.argmax(u.weight))
    assert (u.x_m[k], u.y_m[k]) == (125.0, 125.0)


def test_village_population_spread_evenly() -> None:
    u = build_demand_units(_two_villages(), 250.0,
                           village_population=np.array([640.0, 32.0, 1.0]))
    assert np.allclose(u.weight[u.village == 0], 10.0)
    assert np.allclose(u.weight[u.village == 1], 1.0)


def test_classify_thresholds() -> None:
    out = classify(np.array([0.0, 0.0999, 0.1, 0.5, 0.8999, 0.9, 1.0]), 0.1, 0.9)
    assert out.tolist() == ["blank", "blank", "partial", "partial", "partial", "covered",
                            "covered"]


def test_village_statistics_shares_and_best_server() -> None:
    u = build_demand_units(_two_villages(), 250.0)
    covered = u.x_m < 1000.0          # left half of the west village
    rsrp = np.where(covered, -90.0, np.nan)
    server = np.where(covered, 3, -1)
    st = village_statistics(u, 3, covered, rsrp, server, blank_below=0.1, covered_at_least=0.9)
    assert st["share_covered"].tolist() == pytest.approx([0.5, 0.0, 0.0])
    assert st["status"].tolist() == ["partial", "blank", "blank"]
    assert st["best_server"].tolist() == [3, -1, -1]
    assert st["median_rsrp_dbm"].iloc[0] == -90.0
    assert np.isnan(st["median_rsrp_dbm"].iloc[1])


def test_settlements_all_outside_fall_back_to_area() -> None:
    u = build_demand_units(_two_villages(), 250.0, settlement_xy=np.array([[9e3, 9e3]]),
                           settlement_population=np.array([7.0]))
    assert u.basis == "area_km2"
