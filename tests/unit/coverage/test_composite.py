"""Coverage kernels: radius, composite, coverage matrix agree with each other."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from towerplan.coverage.composite import best_server, best_server_points, coverage_matrix
from towerplan.coverage.raster import LinkParams, coverage_radius_m, path_loss_db
from towerplan.errors import ModelDomainError
from towerplan.radio import hata_db
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
    with pytest.raises(ModelDomainError, match="not available"):
        path_loss_db(1000.0, model="itm", freq_mhz=900.0, h_tx_m=42.0, h_rx_m=1.5)


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
