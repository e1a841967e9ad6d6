"""Tests of the committed-tower and technology rules (towerplan.analysis.committed)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from affine import Affine

from towerplan.analysis.blankspots import DemandUnits
from towerplan.analysis.committed import (
    committed_summary,
    committed_year,
    near_committed,
    technology_summary,
)


def _units(village: list[int], weight: list[float]) -> DemandUnits:
    n = len(village)
    return DemandUnits(np.zeros(n), np.zeros(n), np.asarray(village), np.ones(n),
                       np.asarray(weight, float), "population", "", Affine.identity(), (1, n))


def test_committed_year_earliest_serving_year_above_the_share():
    # village 0: units of 10, 30, 60 people; 1: 50, 50; 2: 100 (area basis where 0 people)
    units = _units([0, 0, 0, 1, 1, 2], [10, 30, 60, 50, 50, 0])
    covered = np.array([True, True, False, True, False, False])
    server = np.array([1, 0, -1, 0, -1, -1])
    years = np.array([2027, 2026])
    # village 0: 40 % served by towers of 2027 and 2026 -> 2026; village 1: 50 % -> 2027;
    # village 2: nothing
    out = committed_year(units, 3, covered, server, years, at_least=0.1)
    assert out.tolist() == [2026, 2027, 0]
    # below the share: village 0 is 40 %, village 1 50 %
    assert committed_year(units, 3, covered, server, years, at_least=0.45).tolist() == [
        0, 2027, 0]


def test_near_committed_within_distance():
    points = np.array([[0.0, 0.0], [300.0, 400.0], [301.0, 400.0]])  # 0, 500, 500.8 m away
    assert near_committed(points, np.array([[0.0, 0.0]]), 500.0).tolist() == [
        True, True, False]
    assert near_committed(points, np.empty((0, 2)), 500.0).tolist() == [False] * 3


def test_technology_summary_counts_unknown_as_serving():
    towers = gpd.GeoDataFrame({"technology": ["2g", "4g", "unknown", "3g", "5g"]})
    summary = technology_summary(towers, "4g")
    assert summary["by_technology"] == {"2g": 1, "3g": 1, "4g": 1, "5g": 1, "unknown": 1}
    assert (summary["serving_target"], summary["unknown_assumed_serving"]) == (3, 1)
    assert technology_summary(towers, "signal")["serving_target"] == 5


def test_committed_summary_by_plan_year():
    committed = gpd.GeoDataFrame({"on_air_year": [2023, 2025, 2026, 2028]})
    block = committed_summary(committed, "c.csv", 2025, 500.0)
    assert (block["count"], block["on_air_by_year"], block["future"]) == (4, 2, 2)
    assert block["future_years"] == [2026, 2028]
    assert committed_summary(None, "", 2025, 500.0)["count"] == 0
