"""Candidate generation on a synthetic DEM."""

from __future__ import annotations

import numpy as np
import shapely
from affine import Affine

from towerplan.analysis.candidates import candidate_points, hilltops, slope_deg, thin_points
from towerplan.analysis.costs import site_costs


def _dem():
    y, x = np.mgrid[0:100, 0:100].astype(float)
    hill = 300.0 * np.exp(-((x - 30) ** 2 + (y - 40) ** 2) / 50.0)
    dem = 50.0 + hill
    dem[:, 90:] = -5.0  # sea on the east
    return dem, Affine(90.0, 0, 0, 0, -90.0, 9000.0)


def test_hilltop_found_at_the_peak() -> None:
    dem, _ = _dem()
    r, c = hilltops(dem, 90.0, 1000.0)
    assert (40, 30) in set(zip(r.tolist(), c.tolist(), strict=True))


def test_slope_of_a_plane() -> None:
    dem = np.tile(np.arange(10.0) * 90.0 * np.tan(np.radians(20)), (10, 1))
    assert np.allclose(slope_deg(dem, 90.0), 20.0)


def test_thinning_keeps_priority_and_spacing() -> None:
    xy = np.array([[0.0, 0.0], [500.0, 0.0], [2000.0, 0.0]])
    kept = thin_points(xy, np.array([3, 0, 3]), 1000.0)
    assert kept.tolist() == [1, 2]


def test_candidates_exclude_water_and_steep_ground() -> None:
    dem, t = _dem()
    region = shapely.box(0, 0, 9000, 9000)
    xy, origin, excluded = candidate_points(
        region, region, dem, t, grid_spacing_m=900.0, include_hilltops=True,
        hilltop_window_m=1000.0, settlement_xy=np.array([[4000.0, 4000.0]]), user_xy=None,
        min_spacing_m=500.0, max_slope_deg=8.0)
    assert "hilltop" in origin and "settlement" in origin
    assert excluded["water"] > 0 and excluded["steep"] > 0
    cols = (xy[:, 0] / 90.0).astype(int)
    assert np.all(cols < 90)
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert d[np.triu_indices(len(xy), 1)].min() >= 500.0


def test_site_costs_parts_add_up() -> None:
    df = site_costs(np.array([[0.0, 0.0], [0.0, 2000.0]]), tower_idr=1.7e9,
                    access_road_idr_per_km=5e8, power_idr=1e8, backhaul_idr=2e8,
                    settlement_xy_m=np.array([[0.0, 0.0]]),
                    tower_override_idr=np.array([np.nan, 1.0e9]))
    assert df["cost_total_idr"].tolist() == [2.0e9, 1.0e9 + 1.0e9 + 3e8]
