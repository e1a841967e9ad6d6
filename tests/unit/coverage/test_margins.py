"""Margins, uplink and antenna patterns in the three coverage paths: distance-only coverage,
the terrain sweep and point sampling."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from affine import Affine
from scipy.optimize import brentq

from towerplan.coverage.composite import best_server_both, coverage_matrix, rsrp_at
from towerplan.coverage.context import site_antennas
from towerplan.coverage.raster import (
    LinkParams,
    coverage_radius_m,
    path_loss_db,
    site_rsrp_window,
)
from towerplan.coverage.sweep import sweep_site
from towerplan.radio.antenna import AntennaPattern, bearing_deg
from towerplan.radio.chain import parse_chain
from towerplan.scenario import Radio, Scenario

CELL = 100.0
H_TX = 42.0
LINK = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 8000.0)
TRI = AntennaPattern((0.0, 120.0, 240.0))
SHAPE = (161, 161)
TRANSFORM = Affine(CELL, 0, 0, 0, -CELL, SHAPE[0] * CELL)
SITE = (80.5 * CELL, 80.5 * CELL)  # the centre of the middle cell


def _hata_distance_m(loss_db: float) -> float:
    """Distance at which Hata suburban reaches a loss, m (an independent root find)."""
    return float(brentq(lambda d: float(path_loss_db(d, model="hata-suburban",
                                                      freq_mhz=900.0, h_tx_m=H_TX,
                                                      h_rx_m=1.5)) - loss_db, 1000.0, 30000.0))


def _link(radio: Radio, **changes: object) -> LinkParams:
    return LinkParams.from_radio(dataclasses.replace(radio, **changes))


def test_defaults_leave_the_link_budget_as_it_was() -> None:
    link = LinkParams.from_radio(Scenario.default().radio)
    assert link.budget_offset_db == 0.0
    assert not link.adjusted
    assert not link.uplink_limited
    assert link.uplink_mapl_db == 139.5
    assert link.mapl_db == link.downlink_mapl_db
    old = LinkParams(link.model, link.freq_mhz, link.h_rx_m, link.eirp_dbm, link.bandwidth_mhz,
                     link.rx_gain_dbi, link.threshold_rsrp_dbm, link.max_radius_m)
    assert coverage_radius_m(link, H_TX) == coverage_radius_m(old, H_TX)


def test_location_probability_shrinks_the_radius_by_its_margin() -> None:
    radio = Scenario.default().radio
    median, p90 = _link(radio), _link(radio, location_probability=0.9)
    assert p90.margins_db == pytest.approx(10.25, abs=0.005)
    r90 = coverage_radius_m(p90, H_TX)
    assert r90 == pytest.approx(_hata_distance_m(median.mapl_db - 10.2524), rel=1e-3)
    assert r90 < 0.55 * coverage_radius_m(median, H_TX)


def test_body_and_indoor_loss_reduce_the_allowable_path_loss() -> None:
    radio = Scenario.default().radio
    base = _link(radio)
    indoor = _link(radio, indoor_building="traditional", body_loss_db=3.0)
    assert base.mapl_db - indoor.mapl_db == pytest.approx(14.24 + 3.0, abs=0.01)
    assert _link(radio, indoor_loss_db=12.0).margins_db == 12.0
    assert coverage_radius_m(indoor, H_TX) < coverage_radius_m(base, H_TX)


def test_an_uplink_shorter_than_the_downlink_limits_the_radius() -> None:
    radio = Scenario.default().radio
    link = _link(radio, bs_sensitivity_dbm=-95.0)  # uplink MAPL 133 dB < downlink 138.2 dB
    assert link.uplink_mapl_db == 133.0
    assert link.uplink_limited
    assert link.mapl_db == 133.0
    radius = coverage_radius_m(link, H_TX)
    assert radius == pytest.approx(_hata_distance_m(133.0), rel=1e-4)
    assert radius < coverage_radius_m(_link(radio), H_TX)
    # both links share the margins: the uplink radius at 90 % is where loss = 133 - 10.25
    p90 = _link(radio, bs_sensitivity_dbm=-95.0, location_probability=0.9)
    assert coverage_radius_m(p90, H_TX) == pytest.approx(_hata_distance_m(133.0 - 10.2524),
                                                         rel=1e-3)


def test_a_stronger_uplink_changes_nothing() -> None:
    radio = Scenario.default().radio
    strong = _link(radio, bs_sensitivity_dbm=-110.0)
    assert strong.budget_offset_db == 0.0
    assert coverage_radius_m(strong, H_TX) == coverage_radius_m(_link(radio), H_TX)


def test_sectors_lose_ten_db_between_sectors_on_flat_ground() -> None:
    link = dataclasses.replace(LINK, antenna=TRI)
    omni = site_rsrp_window(TRANSFORM, SHAPE, *SITE, H_TX, LINK)
    sect = site_rsrp_window(TRANSFORM, SHAPE, *SITE, H_TX, link)
    assert omni is not None and sect is not None
    diff = sect[2] - omni[2]
    # a cell 4 km from the site at a bearing of 60 degrees (between sectors 0 and 120)
    d = 4000.0
    r = int(80 - round(d * np.cos(np.radians(60.0)) / CELL))
    c = int(80 + round(d * np.sin(np.radians(60.0)) / CELL))
    dx, dy = (c - 80) * CELL, (80 - r) * CELL
    expected = float(TRI.gain_db(bearing_deg(dx, dy),
                                 np.degrees(np.arctan2(H_TX - 1.5, np.hypot(dx, dy)))))
    assert float(diff[r, c]) == pytest.approx(expected, abs=1e-3)
    assert float(diff[r, c]) == pytest.approx(-10.22, abs=0.5)
    # on boresight (due north) at the same distance, only the vertical pattern (< 0.1 dB)
    assert float(diff[40, 80]) == pytest.approx(0.0, abs=0.1)


def test_sectors_cover_fewer_cells_than_omni() -> None:
    link = dataclasses.replace(LINK, antenna=TRI)
    omni = site_rsrp_window(TRANSFORM, SHAPE, *SITE, H_TX, LINK)
    sect = site_rsrp_window(TRANSFORM, SHAPE, *SITE, H_TX, link)
    assert omni is not None and sect is not None
    n_omni = int(np.sum(omni[2] >= LINK.threshold_rsrp_dbm))
    n_sect = int(np.sum(sect[2] >= LINK.threshold_rsrp_dbm))
    assert n_sect < 0.9 * n_omni
    assert n_sect > 0.5 * n_omni
    # the boresight radius is the omni radius less the vertical pattern's few metres
    assert coverage_radius_m(link, H_TX) == pytest.approx(coverage_radius_m(LINK, H_TX),
                                                          rel=0.01)
    assert coverage_radius_m(link, H_TX, bearing=60.0) < 0.6 * coverage_radius_m(LINK, H_TX)


def test_sweep_applies_the_pattern_and_margins_after_its_kernel() -> None:
    dem = np.zeros(SHAPE, dtype=np.float32)
    chain = parse_chain("hata-suburban+deygout")
    base = sweep_site(dem, TRANSFORM, *SITE, H_TX, link=LINK, chain=chain)
    adjusted = dataclasses.replace(LINK, antenna=TRI, location_probability=0.9)
    cov = sweep_site(dem, TRANSFORM, *SITE, H_TX, link=adjusted, chain=chain)
    assert base is not None and cov is not None
    np.testing.assert_array_equal(cov.loss_db, base.loss_db)  # path loss is unchanged
    rows = np.arange(cov.rsrp_dbm.shape[0])[:, None]
    cols = np.arange(cov.rsrp_dbm.shape[1])[None, :]
    dx = (cols + cov.cols.start + 0.5) * CELL - SITE[0]
    dy = SITE[1] - (rows + cov.rows.start + 0.5) * CELL
    depression = np.degrees(np.arctan2(H_TX - 1.5, np.hypot(dx, dy)))
    expected = TRI.gain_db(bearing_deg(dx, dy), depression) - adjusted.shadow_margin_db
    ok = np.isfinite(base.rsrp_dbm)
    np.testing.assert_allclose((cov.rsrp_dbm - base.rsrp_dbm)[ok], expected[ok], atol=1e-3)
    covered = int(np.sum(cov.rsrp_dbm >= LINK.threshold_rsrp_dbm))
    assert 0 < covered < 0.5 * int(np.sum(base.rsrp_dbm >= LINK.threshold_rsrp_dbm))


def test_sweep_with_defaults_is_unchanged() -> None:
    dem = np.zeros(SHAPE, dtype=np.float32)
    chain = parse_chain("hata-suburban+deygout")
    link = LinkParams.from_radio(dataclasses.replace(Scenario.default().radio,
                                                     max_radius_km=8.0))
    a = sweep_site(dem, TRANSFORM, *SITE, H_TX, link=LINK, chain=chain)
    b = sweep_site(dem, TRANSFORM, *SITE, H_TX, link=link, chain=chain)
    assert a is not None and b is not None
    np.testing.assert_array_equal(a.rsrp_dbm, b.rsrp_dbm)


def test_point_sampling_agrees_with_the_grid_for_sectors_and_margins() -> None:
    link = dataclasses.replace(LINK, antenna=TRI, body_loss_db=3.0)
    rng = np.random.default_rng(7)
    points = rng.uniform(0.0, SHAPE[1] * CELL, size=(3000, 2))
    site = np.array([SITE])
    matrix = coverage_matrix(site, np.array([H_TX]), points, link)
    expected = np.flatnonzero(rsrp_at(points, site[0], H_TX, link) >= link.threshold_rsrp_dbm)
    within = np.hypot(*(points - site[0]).T) <= link.max_radius_m
    expected = expected[within[expected]]
    np.testing.assert_array_equal(matrix.indices, expected)
    omni = coverage_matrix(site, np.array([H_TX]), points,
                           dataclasses.replace(LINK, body_loss_db=3.0))
    assert matrix.nnz < omni.nnz
    assert set(matrix.indices) <= set(omni.indices)


def test_per_site_antennas_of_existing_towers() -> None:
    xy = np.array([SITE])
    grid_a, _ = best_server_both(TRANSFORM, SHAPE, xy, np.array([H_TX]), LINK,
                                 antennas=[TRI])
    grid_b, _ = best_server_both(TRANSFORM, SHAPE, xy, np.array([H_TX]),
                                 dataclasses.replace(LINK, antenna=TRI))
    np.testing.assert_array_equal(grid_a.rsrp_dbm, grid_b.rsrp_dbm)
    ants = site_antennas(AntennaPattern(), ["0;120;240", "", "90"], [np.nan, 90.0, 33.0])
    assert ants is not None
    assert ants[0] == TRI
    assert ants[1].omni
    assert ants[2] == AntennaPattern((90.0,), beamwidth_deg=33.0)
    assert site_antennas(TRI, None, None) is None
