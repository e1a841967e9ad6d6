"""Candidate generation on a synthetic DEM: exclusions, co-location, user points, thinning."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from affine import Affine

from towerplan.analysis.candidates import (
    EXCLUSION_REASONS,
    candidate_points,
    hilltops,
    slope_deg,
    thin_points,
    village_of,
)

REGION = shapely.box(0, 0, 9000, 9000)


def _dem():
    y, x = np.mgrid[0:100, 0:100].astype(float)
    hill = 300.0 * np.exp(-((x - 30) ** 2 + (y - 40) ** 2) / 50.0)
    dem = 50.0 + hill
    dem[:, 90:] = -5.0  # sea on the east
    return dem, Affine(90.0, 0, 0, 0, -90.0, 9000.0)


def _points(**kwargs):
    dem, t = _dem()
    args = {"grid_spacing_m": 900.0, "include_hilltops": False, "hilltop_window_m": 1000.0,
            "settlement_xy": None, "user_xy": None, "min_spacing_m": 500.0,
            "max_slope_deg": 8.0}
    args.update(kwargs)
    return candidate_points(REGION, REGION, dem, t, **args)


def _min_distance(xy: np.ndarray) -> float:
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    return float(d[np.triu_indices(len(xy), 1)].min())


def test_hilltop_found_at_the_peak() -> None:
    dem, _ = _dem()
    r, c = hilltops(dem, 90.0, 1000.0)
    assert (40, 30) in set(zip(r.tolist(), c.tolist(), strict=True))


def test_slope_of_a_plane() -> None:
    dem = np.tile(np.arange(10.0) * 90.0 * np.tan(np.radians(20)), (10, 1))
    assert np.allclose(slope_deg(dem, 90.0), 20.0)


@pytest.mark.parametrize("shape", [(2, 2), (3, 7), (40, 55)])
def test_slope_at_cells_is_the_whole_grids_slope_there(shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(7)
    dem = rng.normal(100.0, 60.0, shape).astype(np.float32)
    dem[0, 1] = np.nan  # nan spreads to its neighbours' slopes, as in numpy.gradient
    rows, cols = (a.ravel() for a in np.meshgrid(np.arange(shape[0]), np.arange(shape[1]),
                                                  indexing="ij"))
    picked = rng.permutation(len(rows))  # any order, edges and corners included
    at_cells = slope_deg(dem, 30.0, rows[picked], cols[picked])
    np.testing.assert_array_equal(at_cells, slope_deg(dem, 30.0)[rows[picked], cols[picked]])


def test_thinning_keeps_priority_and_spacing() -> None:
    xy = np.array([[0.0, 0.0], [500.0, 0.0], [2000.0, 0.0]])
    kept = thin_points(xy, np.array([3, 0, 3]), 1000.0)
    assert kept.tolist() == [1, 2]


def test_thinning_keeps_fixed_points_however_close_and_they_block_others() -> None:
    xy = np.array([[0.0, 0.0], [300.0, 0.0], [900.0, 0.0], [2500.0, 0.0]])
    kept = thin_points(xy, np.array([0, 0, 2, 2]), 1000.0, keep=np.array([1, 1, 0, 0], bool))
    assert kept.tolist() == [0, 1, 3]  # 900 m is within 1 km of the fixed point at 300 m


def test_candidates_exclude_water_and_steep_ground() -> None:
    dem, t = _dem()
    pts = candidate_points(
        REGION, REGION, dem, t, grid_spacing_m=900.0, include_hilltops=True,
        hilltop_window_m=1000.0, settlement_xy=np.array([[4000.0, 4000.0]]), user_xy=None,
        min_spacing_m=500.0, max_slope_deg=8.0)
    assert "hilltop" in pts.origin and "settlement" in pts.origin
    assert set(pts.excluded) == set(EXCLUSION_REASONS)
    assert pts.excluded["water"] > 0 and pts.excluded["steep"] > 0
    cols = (pts.xy[:, 0] / 90.0).astype(int)
    assert np.all(cols < 90)
    assert _min_distance(pts.xy) >= 500.0


def test_no_candidate_inside_an_exclusion_polygon() -> None:
    forest = shapely.Polygon([(0, 0), (4500, 0), (4500, 4500), (0, 4500)])
    without = _points(settlement_xy=np.array([[2000.0, 2000.0]]),
                      user_xy=np.array([[1000.0, 3000.0]]))
    inside_before = shapely.intersects_xy(forest, without.xy[:, 0], without.xy[:, 1])
    assert inside_before.sum() >= 10  # the area holds candidates without the exclusion
    pts = _points(settlement_xy=np.array([[2000.0, 2000.0]]),
                  user_xy=np.array([[1000.0, 3000.0]]), exclude=forest)
    assert not shapely.intersects_xy(forest, pts.xy[:, 0], pts.xy[:, 1]).any()
    # Counted before thinning: excluded points are more than those surviving without it.
    assert pts.excluded["excluded_area"] >= int(inside_before.sum())
    # Outside the polygon every candidate stays (excluded points block no one).
    outside = without.xy[~inside_before]
    assert {tuple(p) for p in outside} <= {tuple(p) for p in pts.xy}
    assert "user" not in pts.origin and "settlement" not in pts.origin


def test_exclusion_boundary_counts_as_inside() -> None:
    edge = shapely.box(1800, 1800, 2700, 2700)  # grid points at 1800 and 2700 lie on it
    pts = _points(exclude=edge)
    assert not np.any((pts.xy[:, 0] == 1800) & (pts.xy[:, 1] == 1800))
    assert not np.any((pts.xy[:, 0] == 2700) & (pts.xy[:, 1] == 2700))


def test_colocation_candidates_sit_on_the_towers_and_are_never_excluded() -> None:
    towers = np.array([
        [8550.0, 5000.0],  # at sea (the DEM is below 0 m there)
        [30 * 90 + 45.0, 9000 - 40 * 90 - 45 + 200.0],  # on the steep hillside
        [6000.0, 6000.0],  # in the exclusion polygon
        [20000.0, 20000.0],  # outside the target: not a candidate
    ])
    forest = shapely.box(5000, 5000, 7000, 7000)
    pts = _points(colocation_xy=towers, exclude=forest)
    coloc = pts.origin == "colocation"
    assert coloc.sum() == 3
    assert np.array_equal(pts.xy[coloc], towers[:3])
    assert pts.source_index[coloc].tolist() == [0, 1, 2]
    assert np.all(pts.source_index[~coloc] == -1)


def test_colocation_neither_blocks_nor_is_blocked_by_generated_candidates() -> None:
    base = _points()
    tower = base.xy[0] + np.array([100.0, 0.0])  # 100 m from a grid candidate
    pts = _points(colocation_xy=tower[None, :])
    assert {tuple(p) for p in base.xy} <= {tuple(p) for p in pts.xy}
    assert len(pts.xy) == len(base.xy) + 1


def test_user_points_are_kept_together_and_thin_generated_ones() -> None:
    users = np.array([[4000.0, 4000.0], [4200.0, 4000.0]])  # 200 m apart
    pts = _points(user_xy=users, min_spacing_m=1000.0)
    user = pts.origin == "user"
    assert np.array_equal(pts.xy[user], users)
    assert pts.source_index[user].tolist() == [0, 1]
    others = pts.xy[~user]
    d = np.hypot(others[:, None, 0] - users[None, :, 0], others[:, None, 1] - users[None, :, 1])
    assert d.min() >= 1000.0
    assert _min_distance(others) >= 1000.0


def test_user_point_outside_the_region_is_dropped_and_counted() -> None:
    pts = _points(user_xy=np.array([[-500.0, 4000.0], [4000.0, 4000.0]]))
    assert pts.excluded["outside_region"] == 1
    assert pts.source_index[pts.origin == "user"].tolist() == [1]


def test_village_of_points() -> None:
    geoms = np.array([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    owner = village_of(np.array([[5.0, 5.0], [15.0, 5.0], [10.0, 5.0], [50.0, 5.0]]), geoms)
    assert owner.tolist() == [0, 1, 0, -1]


@pytest.mark.parametrize("spacing", [0.0, 250.0])
def test_spacing_zero_or_small_keeps_every_grid_point(spacing: float) -> None:
    pts = _points(min_spacing_m=spacing)
    assert pts.excluded["spacing"] == 0


def test_each_named_exclusion_area_counts_the_candidates_it_removed() -> None:
    forest = shapely.box(0, 0, 2700, 9000)   # grid columns 0, 900, 1800, 2700
    reserve = shapely.box(1800, 0, 4500, 9000)  # overlaps the forest on 1800 and 2700
    alone = _points(exclude=reserve)
    both = _points(exclude=[forest, reserve])
    union = _points(exclude=shapely.union_all([forest, reserve]))
    assert both.xy.tolist() == union.xy.tolist()
    n_forest, n_reserve = both.excluded_by_area
    assert n_forest + n_reserve == both.excluded["excluded_area"] \
        == union.excluded["excluded_area"]
    # Points on the overlap count for the first area only: the reserve alone removes more.
    assert n_reserve < alone.excluded["excluded_area"]
    assert n_forest > 0 and n_reserve > 0


def test_land_status_anchors_generated_candidates_on_settlements() -> None:
    from towerplan.analysis.candidates import land_status

    origin = np.array(["grid", "hilltop", "grid", "settlement", "colocation", "user"])
    xy = np.array([[1000.0, 0.0], [0.0, 1000.001], [3000.0, 4000.0], [9e4, 0.0],
                   [9e4, 9e4], [-9e4, 0.0]])
    anchors = np.array([[0.0, 0.0], [3000.0, 0.0]])
    got = land_status(origin, xy, anchors, 1000.0)
    # 1,000 m exactly is in the settlement; 1,000.001 m and 4,000 m away need road and land.
    assert got.tolist() == ["in_settlement", "needs_road_land", "needs_road_land",
                            "in_settlement", "colocation", "user"]
    assert land_status(origin[:1], xy[:1], np.empty((0, 2)), 1000.0).tolist() == \
        ["needs_road_land"]
