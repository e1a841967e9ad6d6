"""Demand units and village statistics on known geometry."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine

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


def _grid():
    """The demand grid of ``_two_villages``: 250 m cells over x 0..3250, y 0..2000."""
    return Affine(250.0, 0.0, 0.0, 0.0, -250.0, 2000.0), (8, 13)


def test_each_village_takes_the_first_rule_it_has_data_for() -> None:
    pop = np.zeros((8, 13))
    pop[0, 0], pop[7, 7] = 30.0, 10.0           # two raster cells in the west village
    u = build_demand_units(_two_villages(), 250.0, grid=_grid(), population_grid=pop,
                           village_population=np.array([640.0, 32.0, 1.0]),
                           settlement_xy=np.array([[2400.0, 1100.0]]),
                           settlement_population=np.array([np.nan]))
    assert u.population_rule.tolist() == ["raster", "settlements", "centroid"]
    assert u.basis == "population"
    # the raster's 40 people scaled to the official 640: 30 -> 480, 10 -> 160
    west = u.village == 0
    assert sorted(u.weight[west][u.weight[west] > 0].tolist()) == pytest.approx([160.0, 480.0])
    k = int(np.argmax(u.weight))
    assert (u.x_m[k], u.y_m[k]) == (125.0, 1875.0)
    # the east village has no raster people: its 32 go to the unit nearest its settlement
    east = np.flatnonzero(u.weight * (u.village == 1))
    assert len(east) == 1
    assert (u.x_m[east[0]], u.y_m[east[0]], u.weight[east[0]]) == (2375.0, 1125.0, 32.0)
    assert np.bincount(u.village, weights=u.weight).tolist() == pytest.approx([640, 32, 1])
    assert u.rule_counts() == {"raster": {"villages": 1, "people": 640.0},
                               "settlements": {"villages": 1, "people": 32.0},
                               "centroid": {"villages": 1, "people": 1.0}}
    assert u.basis_note.split(" / ")[1].startswith(
        "people placed per village: population raster 1, settlement points 1, "
        "village centre point 1")
    assert u.basis_note.split(" / ")[0].startswith(
        "penduduk ditempatkan per desa: raster penduduk 1, titik permukiman 1, "
        "titik tengah desa 1")


def test_buildings_are_scaled_to_the_total_then_office_then_area() -> None:
    footprints = np.zeros((8, 13))
    footprints[0, 0], footprints[0, 1] = 300.0, 100.0     # m2 of roofs in two west cells
    u = build_demand_units(_two_villages(), 250.0, grid=_grid(), building_grid=footprints,
                           village_population=np.array([640.0, 32.0, np.nan]),
                           office_xy=np.array([[2900.0, 100.0], [9000.0, 9000.0]]))
    assert u.population_rule.tolist() == ["buildings", "office", "area"]
    west = u.weight[u.village == 0]
    assert sorted(west[west > 0].tolist()) == pytest.approx([160.0, 480.0])
    k = int(np.flatnonzero((u.village == 1) & (u.weight > 0))[0])
    assert (u.x_m[k], u.y_m[k], u.weight[k]) == (2875.0, 125.0, 32.0)
    # no total for the tiny village: the others' mean density, 672 people / 6 km2, x 0.01 km2
    assert u.weight[u.village == 2].sum() == pytest.approx(1.12)


def test_buildings_need_a_total_and_raster_without_totals_is_kept_as_is() -> None:
    footprints = np.ones((8, 13))
    pop = np.zeros((8, 13))
    pop[0, 0] = 7.0
    u = build_demand_units(_two_villages(), 250.0, grid=_grid(), building_grid=footprints,
                           population_grid=pop)
    # the raster says where people live even without totals (east: raster 0 = nobody)
    assert u.population_rule.tolist() == ["raster", "raster", "raster"]
    assert np.bincount(u.village, weights=u.weight).tolist() == pytest.approx([7.0, 0.0, 0.0])


def test_facilities_add_their_weight_at_the_nearest_unit_of_their_village() -> None:
    u = build_demand_units(_two_villages(), 250.0,
                           village_population=np.array([640.0, 32.0, 1.0]),
                           facility_xy=np.array([[100.0, 100.0], [9000.0, 9000.0]]),
                           facility_weight=np.array([50.0, 80.0]))
    assert u.facility_weight.sum() == 50.0    # the facility outside every village is ignored
    k = int(np.argmax(u.facility_weight))
    assert (u.x_m[k], u.y_m[k]) == (125.0, 125.0)
    assert u.facility_count.sum() == 1.0 and u.facility_count[k] == 1.0  # counted, unweighted
    assert u.weight.sum() == pytest.approx(673.0 + 50.0)
    assert u.rule_counts()["centroid"] == {"villages": 3, "people": 673.0}
    assert "1 public facilities add 50 people-equivalents" in u.basis_note


def test_facilities_do_not_count_on_an_area_basis() -> None:
    u = build_demand_units(_two_villages(), 250.0, facility_xy=np.array([[100.0, 100.0]]),
                           facility_weight=np.array([50.0]))
    assert u.basis == "area_km2"
    assert u.weight.sum() == pytest.approx(6.01)
    assert u.facility_count.sum() == 0.0


def test_settlements_split_the_total_by_their_people_or_equally() -> None:
    st_xy = np.array([[100.0, 100.0], [1900.0, 1900.0], [2100.0, 100.0], [2900.0, 1900.0]])
    u = build_demand_units(_two_villages(), 250.0,
                           village_population=np.array([600.0, 40.0, 1.0]),
                           settlement_xy=st_xy,
                           settlement_population=np.array([100.0, 200.0, 5.0, np.nan]))
    assert u.population_rule.tolist() == ["settlements", "settlements", "centroid"]
    by_xy = {(float(a), float(b)): float(w) for a, b, w in zip(u.x_m, u.y_m, u.weight,
                                                                strict=True) if w > 0}
    # west: both known, 600 split 1:2; east: one unknown, so 40 split equally
    assert by_xy[(125.0, 125.0)] == pytest.approx(200.0)
    assert by_xy[(1875.0, 1875.0)] == pytest.approx(400.0)
    assert by_xy[(2125.0, 125.0)] == pytest.approx(20.0)
    assert by_xy[(2875.0, 1875.0)] == pytest.approx(20.0)


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
