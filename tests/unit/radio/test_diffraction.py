"""Diffraction kernels: closed forms, each multiple-edge construction, validation and batch."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

from towerplan.errors import ModelDomainError
from towerplan.radio import diffraction
from towerplan.radio.diffraction import (
    diffraction_db,
    diffraction_many_db,
    earth_bulge_m,
    fresnel_parameter,
    fresnel_radius_m,
    knife_edge_db,
)

METHODS = ("deygout", "bullington", "epstein-peterson")
FLAT = math.inf  # k factor of a flat earth: keeps the hand calculations below short


def _nu(h_top: float, x_top: float, x_a: float, z_a: float, x_b: float, z_b: float,
        f_mhz: float) -> float:
    """Fresnel parameter of a top at x_top over the straight line (x_a, z_a)-(x_b, z_b)."""
    line = z_a + (z_b - z_a) * (x_top - x_a) / (x_b - x_a)
    return float(fresnel_parameter(h_top - line, x_top - x_a, x_b - x_top, f_mhz))


# ---------------------------------------------------------------------------- closed forms


def test_knife_edge_is_zero_up_to_minus_0_78_then_increasing() -> None:
    nu = np.linspace(-3.0, 5.0, 801)
    loss = knife_edge_db(nu)
    assert isinstance(loss, np.ndarray)
    assert loss.shape == nu.shape
    assert np.all(loss[nu <= -0.78] == 0.0)
    assert np.all(np.diff(loss[nu > -0.78]) > 0)
    # Continuous to within 0.01 dB at the cut-off, and ~20 log10(nu) + 13 for large nu.
    assert float(knife_edge_db(-0.7799)) < 0.01
    assert knife_edge_db(10.0) == pytest.approx(20 * math.log10(10.0) + 13.0, abs=0.2)
    assert math.isnan(float(knife_edge_db(math.nan)))


def test_fresnel_parameter_is_sqrt2_h_over_first_fresnel_radius() -> None:
    d1 = np.array([500.0, 3000.0, 12_000.0])
    d2 = np.array([9500.0, 7000.0, 500.0])
    h = np.array([-4.0, 0.0, 7.5])
    nu = fresnel_parameter(h, d1, d2, 900.0)
    r1 = fresnel_radius_m(d1, d2, 900.0)
    np.testing.assert_allclose(nu, np.sqrt(2.0) * h / r1, rtol=1e-12)
    with pytest.raises(ModelDomainError):
        fresnel_parameter(1.0, 0.0, 100.0, 900.0)


def test_fresnel_radius_zones_ends_and_validation() -> None:
    r1 = fresnel_radius_m(4000.0, 6000.0, 900.0)
    assert fresnel_radius_m(4000.0, 6000.0, 900.0, zone=4) == pytest.approx(2 * r1)
    lam = 299_792_458.0 / 900e6
    assert r1 == pytest.approx(math.sqrt(lam * 2400.0), rel=1e-12)
    ends = np.asarray(fresnel_radius_m(np.array([0.0, 10.0]), np.array([10.0, 0.0]), 900.0))
    assert ends.tolist() == [0.0, 0.0]
    with pytest.raises(ModelDomainError, match="zone"):
        fresnel_radius_m(1.0, 1.0, 900.0, zone=0)


def test_earth_bulge_scales_with_k_and_vanishes_on_a_flat_earth() -> None:
    b43 = earth_bulge_m(20_000.0, 30_000.0)
    assert earth_bulge_m(20_000.0, 30_000.0, k_factor=1.0) == pytest.approx(b43 * 4 / 3)
    assert earth_bulge_m(20_000.0, 30_000.0, k_factor=math.inf) == 0.0
    assert b43 == pytest.approx(20_000.0 * 30_000.0 / (2 * 4 / 3 * 6_371_000.0))
    with pytest.raises(ModelDomainError, match="k_factor"):
        earth_bulge_m(1.0, 1.0, k_factor=0.0)


# -------------------------------------------------------------------- multiple-edge methods


def _three_ridges() -> tuple[np.ndarray, float]:
    z = np.zeros(401)
    z[60], z[200], z[330] = 70.0, 140.0, 60.0
    return z, 25.0


def test_deygout_principal_plus_one_secondary_each_side() -> None:
    z, step = _three_ridges()
    h_tx, h_rx, f = 30.0, 5.0, 900.0
    x = np.arange(z.size) * step
    total = x[-1]
    zt, zr = h_tx, h_rx
    nu_p = _nu(140.0, x[200], 0.0, zt, total, zr, f)
    nu_t = _nu(70.0, x[60], 0.0, zt, x[200], 140.0, f)
    nu_r = _nu(60.0, x[330], x[200], 140.0, total, zr, f)
    expected = float(knife_edge_db(nu_p) + knife_edge_db(nu_t) + knife_edge_db(nu_r))
    assert diffraction_db(z, step, h_tx, h_rx, f, "deygout", FLAT) == pytest.approx(expected)


def test_deygout_stops_after_three_edges() -> None:
    z, step = _three_ridges()
    z[60] = 90.0
    with_fourth = z.copy()
    with_fourth[80] = 100.0  # a tertiary edge between ridge 60 and the principal ridge 200
    x = np.arange(z.size) * step
    # Ridge 60 stays the secondary edge on the transmitter side ...
    assert (_nu(90.0, x[60], 0.0, 30.0, x[200], 140.0, 900.0)
            > _nu(100.0, x[80], 0.0, 30.0, x[200], 140.0, 900.0))
    # ... and the new ridge does obstruct the path from ridge 60 to the principal edge.
    assert _nu(100.0, x[80], x[60], 90.0, x[200], 140.0, 900.0) > 0
    assert diffraction_db(with_fourth, step, 30.0, 5.0, 900.0, "deygout", FLAT) == (
        pytest.approx(diffraction_db(z, step, 30.0, 5.0, 900.0, "deygout", FLAT), abs=1e-9))


def test_bullington_equivalent_edge_at_the_steepest_lines() -> None:
    z = np.zeros(401)
    z[100], z[300] = 100.0, 90.0
    step, h_tx, h_rx, f = 25.0, 30.0, 5.0, 900.0
    total = 400 * step
    zt, zr = h_tx, h_rx
    s_tim = (100.0 - zt) / (100 * step)
    s_rim = (90.0 - zr) / (100 * step)
    d_b = (zr - zt + s_rim * total) / (s_tim + s_rim)
    h_b = zt + s_tim * d_b
    expected = float(knife_edge_db(_nu(h_b, d_b, 0.0, zt, total, zr, f)))
    loss = diffraction_db(z, step, h_tx, h_rx, f, "bullington", FLAT)
    assert loss == pytest.approx(expected, abs=1e-9)
    # One equivalent edge: less than Deygout's two edges here.
    assert loss < diffraction_db(z, step, h_tx, h_rx, f, "deygout", FLAT)


def test_bullington_applies_no_empirical_correction() -> None:
    z = np.zeros(401)
    z[150] = 100.0
    x150 = 150 * 25.0
    expected = float(knife_edge_db(_nu(100.0, x150, 0.0, 30.0, 400 * 25.0, 5.0, 900.0)))
    loss = diffraction_db(z, 25.0, 30.0, 5.0, 900.0, "bullington", FLAT)
    assert loss == pytest.approx(expected, abs=1e-9)  # no (1 - e^(-L/6)) (10 + 0.02 d) term


def test_epstein_peterson_sums_the_hull_edges_and_skips_hidden_ones() -> None:
    z = np.zeros(401)
    z[100], z[300] = 100.0, 90.0
    z[200] = 60.0  # below the line between the two ridge tops: not on the hull
    step, h_tx, h_rx, f = 25.0, 30.0, 5.0, 900.0
    x = np.arange(z.size) * step
    total = x[-1]
    nu1 = _nu(100.0, x[100], 0.0, h_tx, x[300], 90.0, f)
    nu2 = _nu(90.0, x[300], x[100], 100.0, total, h_rx, f)
    expected = float(knife_edge_db(nu1) + knife_edge_db(nu2))
    loss = diffraction_db(z, step, h_tx, h_rx, f, "epstein-peterson", FLAT)
    assert loss == pytest.approx(expected, abs=1e-9)


def test_epstein_peterson_treats_a_smooth_hill_as_one_obstacle() -> None:
    x = np.arange(801) * 12.5
    z = 80.0 * np.exp(-((x - 5000.0) ** 2) / (2 * 600.0**2))
    loss = diffraction_db(z, 12.5, 30.0, 5.0, 900.0, "epstein-peterson", FLAT)
    top = int(np.argmax(z))
    single = float(knife_edge_db(_nu(z[top], x[top], 0.0, 30.0, x[-1], 5.0, 900.0)))
    assert loss == pytest.approx(single, abs=0.5)


def test_partly_obstructed_line_of_sight_uses_the_worst_point() -> None:
    # The ridge stays below the ray but inside the first Fresnel zone: -0.78 < nu < 0.
    z = np.zeros(201)
    z[100] = 25.0
    x100, total = 100 * 50.0, 200 * 50.0
    nu = _nu(25.0, x100, 0.0, 30.0, total, 30.0, 900.0)
    assert -0.78 < nu < 0
    for method in METHODS:
        loss = diffraction_db(z, 50.0, 30.0, 30.0, 900.0, method, FLAT)
        assert loss == pytest.approx(float(knife_edge_db(nu)), abs=1e-9)
        assert 0 < loss < 6.03


def test_two_point_profile_has_no_diffraction() -> None:
    for method in METHODS:
        assert diffraction_db([100.0, 500.0], 1000.0, 30.0, 1.5, 900.0, method) == 0.0


def test_loss_grows_with_frequency_over_a_ridge() -> None:
    z = np.zeros(201)
    z[120] = 90.0
    for method in METHODS:
        loss = [diffraction_db(z, 50.0, 30.0, 1.5, f, method) for f in (450, 900, 1800, 2600)]
        assert np.all(np.diff(loss) > 0)


def test_invalid_inputs_are_reported_together() -> None:
    with pytest.raises(ModelDomainError) as info:
        diffraction_db([0.0, np.nan, 0.0], -5.0, -1.0, 1.5, 0.0)
    text = str(info.value)
    for name in ("heights_m", "step_m", "h_tx_m", "freq_mhz"):
        assert name in text
    with pytest.raises(ModelDomainError, match="method .* step_m"):
        diffraction_db(np.zeros(10), -10.0, 30.0, 1.5, 900.0, "vogler")
    with pytest.raises(ModelDomainError, match="method"):
        diffraction_many_db(np.zeros((1, 10)), None, 10.0, 30.0, 1.5, 900.0, "vogler")
    with pytest.raises(ModelDomainError, match="k_factor"):
        diffraction_db(np.zeros(10), 10.0, 30.0, 1.5, 900.0, k_factor=-1.0)


# ------------------------------------------------------------------------------------ batch


def test_batch_padding_and_per_row_parameters() -> None:
    z, step = _three_ridges()
    rows = np.full((3, 450), np.nan)
    rows[0, :401] = z
    rows[1, :401] = z
    rows[2, :201] = z[:201]
    out = diffraction_many_db(rows, [401, 401, 201], [step, step, step], 30.0,
                              [5.0, 15.0, 5.0], 900.0)
    assert out.shape == (3,)
    assert out[0] == pytest.approx(diffraction_db(z, step, 30.0, 5.0, 900.0), abs=1e-9)
    assert out[1] == pytest.approx(diffraction_db(z, step, 30.0, 15.0, 900.0), abs=1e-9)
    assert out[2] == pytest.approx(diffraction_db(z[:201], step, 30.0, 5.0, 900.0), abs=1e-9)


def test_batch_without_n_points_uses_full_rows_and_k_factor() -> None:
    z = np.zeros((4, 301))
    out = diffraction_many_db(z, None, 100.0, 30.0, 1.5, 900.0, "bullington", k_factor=FLAT)
    ref = diffraction_db(z[0], 100.0, 30.0, 1.5, 900.0, "bullington", k_factor=FLAT)
    np.testing.assert_allclose(out, ref, atol=1e-12)
    assert diffraction_many_db(np.zeros((0, 5)), None, 1.0, 1.0, 1.0, 900.0).shape == (0,)


def test_batch_validation_lists_every_problem() -> None:
    z = np.zeros((3, 10))
    z[1, 2] = np.nan
    with pytest.raises(ModelDomainError) as info:
        diffraction_many_db(z, [10, 10, 10], [1.0, -1.0, 1.0], 30.0, 1.5, 900.0)
    assert "non-finite" in str(info.value)
    assert "step_m" in str(info.value)
    with pytest.raises(ModelDomainError, match="n_points"):
        diffraction_many_db(z, [10, 1, 11], 1.0, 30.0, 1.5, 900.0)
    with pytest.raises(ModelDomainError, match="n_points must be integers"):
        diffraction_many_db(z, np.array([10.0, 10.0, 10.0]), 1.0, 30.0, 1.5, 900.0)
    with pytest.raises(ModelDomainError, match="one value per profile"):
        diffraction_many_db(z, None, [1.0, 2.0], 30.0, 1.5, 900.0)
    with pytest.raises(ModelDomainError, match="2-D"):
        diffraction_many_db(np.zeros(10), None, 1.0, 30.0, 1.5, 900.0)


def test_batch_nan_padding_beyond_n_points_is_ignored() -> None:
    z = np.full((1, 50), np.nan)
    z[0, :30] = np.linspace(0.0, 20.0, 30)
    out = diffraction_many_db(z, 30, 20.0, 30.0, 1.5, 900.0)
    assert np.isfinite(out).all()


def test_docstring_examples() -> None:
    result = doctest.testmod(diffraction, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
