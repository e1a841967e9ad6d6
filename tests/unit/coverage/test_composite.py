"""Coverage kernels: radius, composite, coverage matrix agree with each other."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from affine import Affine

from towerplan.coverage.composite import best_server, best_server_points, coverage_matrix
from towerplan.coverage.raster import LinkParams, coverage_radius_m, path_loss_db
from towerplan.errors import ModelDomainError
from towerplan.radio import fspl_db, hata_db, rma_db
from towerplan.scenario import Radio

LINK = LinkParams.from_radio(Radio())


def test_default_link_budget() -> None:
    assert LINK.eirp_dbm == 61.0
    assert LINK.mapl_db == pytest.approx(138.218, abs=1e-3)


def test_coverage_radius_is_where_loss_equals_mapl() -> None:
    r = coverage_radius_m(LINK, 42.0)
    assert hata_db(r / 1000.0, 900.0, 42.0, 1.5, "suburban") == pytest.approx(LINK.mapl_db,
                                                                              abs=1e-6)
    assert 4000 < r < 6000  # suburban Hata at 900 MHz, 42 m: about 4.9 km
    assert coverage_radius_m(LINK, 60.0) > r


def test_path_loss_rejects_unknown_model() -> None:
    with pytest.raises(ModelDomainError, match="not available.*point-to-point only"):
        path_loss_db(1000.0, model="itm", freq_mhz=900.0, h_tx_m=42.0, h_rx_m=1.5)
    with pytest.raises(ModelDomainError, match="not available"):
        path_loss_db(1000.0, model="hata-suburban+deygout", freq_mhz=900.0, h_tx_m=42.0,
                     h_rx_m=1.5)


def test_path_loss_follows_the_distance_rule_of_each_model() -> None:
    d = np.array([0.0, 300.0, 4000.0])
    fspl = path_loss_db(d, model="fspl", freq_mhz=900.0, h_tx_m=42.0, h_rx_m=1.5)
    assert np.allclose(fspl, fspl_db(np.hypot(d, 40.5) / 1000.0, 900.0))  # slant, flat ground
    hata = path_loss_db(d, model="hata-open", freq_mhz=900.0, h_tx_m=42.0, h_rx_m=1.5)
    assert np.allclose(hata, hata_db(np.maximum(d, 1000.0) / 1000.0, 900.0, 42.0, 1.5, "open"))
    rma = path_loss_db(d, model="rma", freq_mhz=900.0, h_tx_m=42.0, h_rx_m=1.5,
                       los=np.array([True, True, False]))
    assert np.allclose(rma, rma_db(np.maximum(d, 10.0), 0.9, 42.0, 1.5, [True, True, False]))


def test_best_server_grid_matches_points_and_matrix() -> None:
    t = Affine(250.0, 0, 0, 0, -250.0, 40_000.0)
    shape = (160, 160)
    sites = np.array([[10_000.0, 30_000.0], [30_000.0, 10_000.0], [12_000.0, 28_000.0]])
    heights = np.array([42.0, 42.0, 60.0])
    comp = best_server(t, shape, sites, heights, LINK)
    cols, rows = np.meshgrid(np.arange(160), np.arange(160))
    pts = np.column_stack([(cols.ravel() + 0.5) * 250.0, 40_000.0 - (rows.ravel() + 0.5) * 250.0])
    pt = best_server_points(pts, sites, heights, LINK)
    assert np.allclose(comp.rsrp_dbm.ravel(), pt.rsrp_dbm, equal_nan=True, atol=1e-4)
    assert np.array_equal(comp.server.ravel(), pt.server)
    covered = comp.rsrp_dbm.ravel() >= LINK.threshold_rsrp_dbm
    m = coverage_matrix(sites, heights, pts, LINK)
    any_cov = np.asarray(m.sum(axis=0)).ravel() > 0
    # The matrix and the composite disagree at most on cells exactly at the radius.
    assert (any_cov != covered).sum() <= 2
    assert np.array_equal(np.asarray(m.sum(axis=0)).ravel() > 0,
                          comp.n_servers.ravel() > 0) or (any_cov != covered).sum() <= 2
    # The taller site 3 (index 2) dominates near itself.
    assert comp.server[int((40_000 - 28_000) / 250), int(12_000 / 250)] == 2


def test_drive_test_calibration_shifts_rsrp_everywhere() -> None:
    import dataclasses

    from towerplan.coverage.sweep import sweep_site
    from towerplan.radio.chain import parse_chain

    cal = dataclasses.replace(LINK, calibration_offset_db=6.0,
                              calibration_slope_db_per_decade=-10.0)
    assert cal.calibration_db(1000.0) == pytest.approx(6.0)
    assert cal.calibration_db(10_000.0) == pytest.approx(-4.0)
    t = Affine(90.0, 0, 0, 0, -90.0, 18_000.0)
    site = (np.array([[9000.0, 9000.0]]), np.array([42.0]))
    plain = best_server(t, (200, 200), *site, LINK).rsrp_dbm
    shifted = best_server(t, (200, 200), *site, cal).rsrp_dbm
    ok = np.isfinite(plain)
    x = (np.arange(200) + 0.5) * 90.0
    d = np.hypot(x[None, :] - 9000.0, 18_000.0 - x[:, None] - 9000.0)
    assert shifted[ok] == pytest.approx(plain[ok] + cal.calibration_db(d[ok]), abs=1e-3)
    # The closed-form radius follows the calibrated loss.
    r = coverage_radius_m(cal, 42.0)
    assert hata_db(r / 1000, 900.0, 42.0, 1.5, "suburban") - float(cal.calibration_db(r)) == \
        pytest.approx(LINK.mapl_db, abs=1e-6)
    # The terrain sweep applies the same correction.
    dem = np.zeros((200, 200))
    chain = parse_chain("hata-suburban+deygout")
    a = sweep_site(dem, t, 9000.0, 9000.0, 42.0, link=LINK, chain=chain)
    b = sweep_site(dem, t, 9000.0, 9000.0, 42.0, link=cal, chain=chain)
    assert a is not None and b is not None
    both = np.isfinite(a.rsrp_dbm)
    assert np.allclose(b.rsrp_dbm[both] - a.rsrp_dbm[both],
                       cal.calibration_db(d[a.rows, a.cols][both]), atol=1e-3)


def test_rsrp_matrix_read_at_moved_thresholds_is_the_coverage_matrix_there() -> None:
    """One RSRP matrix down to a floor gives the coverage at thresholds 5 dB either side;
    5 dB lower makes the uplink the limit, which lowers the design RSRP (the link budget's
    offset), so the level read on the matrix is the threshold plus that offset's change."""
    import dataclasses

    from towerplan.coverage.composite import rsrp_matrix

    rng = np.random.default_rng(7)
    sites = rng.uniform(0, 20_000, (5, 2))
    heights = np.array([32.0, 42.0, 52.0, 62.0, 72.0])
    pts = rng.uniform(-10_000, 30_000, (4_000, 2))
    floor = LINK.threshold_rsrp_dbm - 5
    values = rsrp_matrix(sites, heights, pts, LINK, floor_dbm=floor)
    assert values.dtype == np.float32 and values.data.min() >= floor
    moved_low = dataclasses.replace(LINK, threshold_rsrp_dbm=LINK.threshold_rsrp_dbm - 5)
    assert moved_low.budget_offset_db > LINK.budget_offset_db  # the uplink now limits
    for offset in (-5.0, 0.0, 5.0):
        moved = dataclasses.replace(LINK, threshold_rsrp_dbm=LINK.threshold_rsrp_dbm + offset)
        level = moved.threshold_rsrp_dbm + moved.budget_offset_db - LINK.budget_offset_db
        hit = values.copy()
        hit.data = hit.data >= level
        hit.eliminate_zeros()
        expected = coverage_matrix(sites, heights, pts, moved)
        # distance-only chains cover by radius: at most a unit exactly at the edge differs
        assert (hit.astype(bool) != expected.astype(bool)).nnz <= 2, offset


def test_sweep_folded_into_the_composite_equals_composing_the_site_windows() -> None:
    from towerplan.coverage.composite import BestServer, TerrainContext, _update
    from towerplan.coverage.sweep import sweep_site, sweep_site_into
    from towerplan.radio.chain import parse_chain

    rng = np.random.default_rng(7)
    t = Affine(100.0, 0, 0, 0, -100.0, 12_000.0)
    dem = (rng.normal(0.0, 30.0, (120, 120)).cumsum(axis=0).cumsum(axis=1) / 40.0
           ).astype(np.float32)
    dem[50:53, :] += 120.0  # a ridge between the sites
    sites = np.array([[3_000.0, 9_000.0], [8_500.0, 3_500.0], [3_100.0, 8_900.0]])
    heights = np.array([42.0, 30.0, 60.0])
    link = LinkParams.from_radio(Radio(max_radius_km=6.0))
    chain = parse_chain("hata-suburban+deygout")
    want = BestServer.empty(dem.shape)
    for i, ((x, y), h) in enumerate(zip(sites, heights, strict=True)):
        cov = sweep_site(dem, t, x, y, h, link=link, chain=chain)
        assert cov is not None
        _update(want, (cov.rows, cov.cols), cov.rsrp_dbm, i, link.threshold_rsrp_dbm)
    got = best_server(t, dem.shape, sites, heights, link, TerrainContext(dem, t, chain))
    np.testing.assert_array_equal(got.rsrp_dbm, want.rsrp_dbm)
    np.testing.assert_array_equal(got.server, want.server)
    np.testing.assert_array_equal(got.n_servers, want.n_servers)
    assert set(np.unique(got.server).tolist()) == {-1, 0, 1, 2}
    assert got.n_servers.max() == 3
    one = BestServer.empty(dem.shape)  # folded by the sweep itself: one site where it reaches
    assert sweep_site_into((one.rsrp_dbm, one.server, one.n_servers), 0, dem, t, *sites[0],
                           42.0, link=link, chain=chain)
    first = sweep_site(dem, t, *sites[0], 42.0, link=link, chain=chain)
    assert first is not None
    np.testing.assert_array_equal(one.rsrp_dbm[first.rows, first.cols], first.rsrp_dbm)
    assert np.isnan(one.rsrp_dbm).sum() == np.isnan(first.rsrp_dbm).sum() + (
        one.rsrp_dbm.size - first.rsrp_dbm.size)
    # a calibrated link corrects the RSRP after the sweep: not folded, nothing changed
    calibrated = replace(link, calibration_offset_db=3.0)
    untouched = BestServer.empty(dem.shape)
    assert not sweep_site_into((untouched.rsrp_dbm, untouched.server, untouched.n_servers), 0,
                               dem, t, 3_000.0, 9_000.0, 42.0, link=calibrated, chain=chain)
    assert np.isnan(untouched.rsrp_dbm).all() and (untouched.server == -1).all()


@pytest.mark.parametrize("with_landcover", [False, True])
def test_folding_with_points_equals_composing_the_site_windows_at_grid_and_points(
        with_landcover: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """With points, a folding sweep takes each site's values at the points' cells from
    ``sweep_points``: the grid, the points and what *each_site* receives equal the site
    windows' of :func:`sweep_site`, to the bit; also with a land cover that the chain (no
    clutter term) does not use."""
    from towerplan.coverage.composite import BestServer, TerrainContext, _update, best_server_both
    from towerplan.coverage.sweep import sweep_site
    from towerplan.radio.chain import parse_chain

    rng = np.random.default_rng(5)
    t = Affine(100.0, 0, 0, 0, -100.0, 12_000.0)
    dem = (rng.normal(0.0, 30.0, (120, 120)).cumsum(axis=0).cumsum(axis=1) / 40.0
           ).astype(np.float32)
    dem[60:62, 10:110] += 150.0  # a ridge
    sites = np.array([[3_000.0, 9_000.0], [8_500.0, 3_500.0], [6_000.0, 6_500.0]])
    heights = np.array([42.0, 30.0, 60.0])
    link = LinkParams.from_radio(Radio(max_radius_km=6.0))
    chain = parse_chain("hata-suburban+deygout")
    points = rng.uniform(200.0, 11_800.0, (3_000, 2))
    landcover = rng.choice(np.array([10, 40, 50], np.uint8), dem.shape) if with_landcover \
        else None
    rows = np.floor((points[:, 1] - t.f) / t.e).astype(int)
    cols = np.floor((points[:, 0] - t.c) / t.a).astype(int)
    want_grid, want_at = BestServer.empty(dem.shape), BestServer.empty((len(points),))
    want_each = {}
    for i, ((x, y), h) in enumerate(zip(sites, heights, strict=True)):
        cov = sweep_site(dem, t, x, y, h, link=link, chain=chain, landcover=landcover)
        assert cov is not None
        _update(want_grid, (cov.rows, cov.cols), cov.rsrp_dbm, i, link.threshold_rsrp_dbm)
        r, c = rows - cov.rows.start, cols - cov.cols.start
        inside = (r >= 0) & (c >= 0) & (r < cov.rsrp_dbm.shape[0]) & (c < cov.rsrp_dbm.shape[1])
        values = np.full(len(points), np.nan, np.float32)
        values[inside] = cov.rsrp_dbm[r[inside], c[inside]]
        reach = np.hypot(*(points - (x, y)).T) <= link.max_radius_m  # the points in reach
        idx = np.flatnonzero(np.isfinite(values) & reach)
        _update(want_at, idx, values[idx], i, link.threshold_rsrp_dbm)
        want_each[i] = (idx, values[idx])
    got_each = {}

    def keep(i: int, idx: np.ndarray, rsrp: np.ndarray) -> None:
        order = np.argsort(idx)
        got_each[i] = (idx[order], rsrp[order])

    from towerplan.coverage import composite

    def no_window(*_args: object) -> None:
        raise AssertionError("a site window was swept: the sites were not folded")

    monkeypatch.setattr(composite, "_window", no_window)
    grid, at = best_server_both(t, dem.shape, sites, heights, link,
                                TerrainContext(dem, t, chain, landcover=landcover), points,
                                each_site=keep)
    for got, want in ((grid, want_grid), (at, want_at)):
        np.testing.assert_array_equal(got.rsrp_dbm, want.rsrp_dbm)
        np.testing.assert_array_equal(got.server, want.server)
        np.testing.assert_array_equal(got.n_servers, want.n_servers)
    assert set(np.unique(at.server).tolist()) == {-1, 0, 1, 2}
    assert sorted(got_each) == [0, 1, 2]
    for i, (idx, values) in want_each.items():
        assert len(idx) > 300
        np.testing.assert_array_equal(got_each[i][0], idx)
        np.testing.assert_array_equal(got_each[i][1], values)


@pytest.mark.parametrize("with_points", [False, True])
@pytest.mark.parametrize("terrain_chain", [False, True])
def test_composing_onto_another_composite_equals_combining_the_two(
        with_points: bool, terrain_chain: bool) -> None:
    """``best_server_both(..., onto=first, offset=n)`` is ``combine(first, grid, offset=n)``
    to the bit (the plan's coverage after adds the chosen sites onto today's composite),
    by the folding sweep (no points) and by site windows, with ties kept by *first*; *first*
    is not changed."""
    from towerplan.coverage.composite import TerrainContext, best_server_both, combine
    from towerplan.radio.chain import parse_chain

    rng = np.random.default_rng(11)
    t = Affine(100.0, 0, 0, 0, -100.0, 12_000.0)
    dem = (rng.normal(0.0, 30.0, (120, 120)).cumsum(axis=0).cumsum(axis=1) / 40.0
           ).astype(np.float32)
    link = LinkParams.from_radio(Radio(max_radius_km=6.0))
    terrain = TerrainContext(dem, t, parse_chain("hata-suburban+deygout")) \
        if terrain_chain else None
    today = np.array([[3_000.0, 9_000.0], [8_500.0, 3_500.0]])
    new = np.array([[3_000.0, 9_000.0], [6_000.0, 6_000.0], [9_000.0, 9_500.0]])  # 1st: a tie
    points = rng.uniform(500.0, 11_500.0, (400, 2)) if with_points else None
    first, _ = best_server_both(t, dem.shape, today, np.array([42.0, 30.0]), link, terrain)
    kept = [first.rsrp_dbm.copy(), first.server.copy(), first.n_servers.copy()]
    heights = np.array([42.0, 35.0, 50.0])
    alone, at_alone = best_server_both(t, dem.shape, new, heights, link, terrain, points)
    onto, at = best_server_both(t, dem.shape, new, heights, link, terrain, points,
                                onto=first, offset=2)
    want = combine(first, alone, offset=2)
    np.testing.assert_array_equal(onto.rsrp_dbm, want.rsrp_dbm)
    np.testing.assert_array_equal(onto.server, want.server)
    np.testing.assert_array_equal(onto.n_servers, want.n_servers)
    np.testing.assert_array_equal(at.server, at_alone.server)  # the points are the new sites'
    assert set(np.unique(onto.server).tolist()) >= {0, 1, 3, 4}
    assert not (onto.server == 2).any()  # the tie at the first site keeps today's server 0
    for before, now in zip(kept, (first.rsrp_dbm, first.server, first.n_servers), strict=True):
        np.testing.assert_array_equal(before, now)
