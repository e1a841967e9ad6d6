"""Radio engine against public reference values (DESIGN.md section 4) and physical invariants.

RMa: 3GPP TR 38.901 Table 7.4.1-1. Knife edge and Fresnel geometry: ITU-R P.526-15.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio.diffraction import (
    diffraction_db,
    diffraction_many_db,
    earth_bulge_m,
    fresnel_parameter,
    fresnel_radius_m,
    knife_edge_db,
)
from towerplan.radio.models import rma_db

METHODS = ("deygout", "bullington", "epstein-peterson")


# ------------------------------------------------------------------------ reference values


@pytest.mark.parametrize(("distance_m", "los", "expected"), [
    (100.0, True, 87.2965),
    (1000.0, True, 108.5577),
    (1000.0, False, 133.5223),
])
def test_rma_tr38901_reference(distance_m: float, los: bool, expected: float) -> None:
    loss = rma_db(distance_m, 5.0, 35.0, 1.5, los, h_building_m=5.0, street_width_m=20.0)
    assert loss == pytest.approx(expected, abs=0.001)


def test_rma_reference_as_one_array_call() -> None:
    loss = rma_db(np.array([100.0, 1000.0, 1000.0]), 5.0, 35.0, 1.5,
                  np.array([True, True, False]))
    assert isinstance(loss, np.ndarray)
    np.testing.assert_allclose(loss, [87.2965, 108.5577, 133.5223], atol=0.001)


@pytest.mark.parametrize(("nu", "expected"), [(0.0, 6.03), (1.0, 13.93)])
def test_knife_edge_p526_reference(nu: float, expected: float) -> None:
    assert knife_edge_db(nu) == pytest.approx(expected, abs=0.01)


def test_fresnel_radius_13_ghz_20_km_midpoint() -> None:
    assert fresnel_radius_m(10_000.0, 10_000.0, 13_000.0) == pytest.approx(10.7, abs=0.05)


def test_earth_bulge_20_km_midpoint_k_four_thirds() -> None:
    # 10 km * 10 km / (2 * 4/3 * 6371 km) = 5.886 m.
    assert earth_bulge_m(10_000.0, 10_000.0) == pytest.approx(5.886, abs=0.001)


# ------------------------------------------------------------------------------ RMa invariants


def test_rma_loss_grows_with_distance_and_nlos_is_not_below_los() -> None:
    d = np.linspace(10.0, 5000.0, 400)
    los = rma_db(d, 0.9, 42.0, 1.5, True)
    nlos = rma_db(d, 0.9, 42.0, 1.5, False)
    assert np.all(np.diff(los) > 0)
    assert np.all(np.diff(nlos) > 0)
    assert np.all(nlos >= los)


def test_rma_breakpoint_switches_to_pl2() -> None:
    # d_BP = 2 pi 35 1.5 5e9 / 3e8 = 5497.8 m; beyond it the slope is 40 dB/decade.
    d_bp = 2 * math.pi * 35.0 * 1.5 * 5e9 / 3e8
    near = np.asarray(rma_db(np.array([d_bp - 1.0, d_bp + 1.0]), 5.0, 35.0, 1.5, True))
    assert abs(near[1] - near[0]) < 0.05
    far = np.asarray(rma_db(np.array([7000.0, 9000.0]), 5.0, 35.0, 1.5, True))
    d3 = np.hypot([7000.0, 9000.0], 33.5)
    assert far[1] - far[0] == pytest.approx(40 * np.log10(d3[1] / d3[0]), abs=1e-9)


def test_rma_validity_ranges_are_reported_together() -> None:
    with pytest.raises(ModelDomainError) as info:
        rma_db(12_000.0, 40.0, 200.0, 1.5, True)
    text = str(info.value)
    assert "freq_ghz = 40" in text
    assert "h_bs_m = 200" in text
    assert "distance_2d_m (LOS) = 12000" in text
    with pytest.raises(ModelDomainError, match="NLOS"):
        rma_db(6000.0, 0.9, 42.0, 1.5, False)
    with pytest.warns(ModelValidityWarning, match="distance_2d_m"):
        loss = rma_db(6000.0, 0.9, 42.0, 1.5, False, strict=False)
    assert loss > rma_db(5000.0, 0.9, 42.0, 1.5, False)
    with pytest.raises(ModelDomainError, match="distance_2d_m must be finite"):
        rma_db(-1.0, 0.9, 42.0, 1.5, True, strict=False)


def test_rma_input_not_modified() -> None:
    d = np.linspace(100.0, 4000.0, 20)
    los = np.arange(20) % 2 == 0
    d0, los0 = d.copy(), los.copy()
    rma_db(d, 0.9, 42.0, 1.5, los)
    assert np.array_equal(d, d0)
    assert np.array_equal(los, los0)


# ------------------------------------------------------------------------ diffraction invariants


@pytest.mark.parametrize("method", METHODS)
def test_flat_earth_loss_grows_with_distance(method: str) -> None:
    step = 50.0
    n_values = np.arange(21, 1201, 20)  # 1 km to 60 km
    loss = np.array([diffraction_db(np.zeros(n), step, 30.0, 1.5, 900.0, method)
                     for n in n_values])
    assert np.all(np.diff(loss) >= 0)
    # Radio horizon of 30 m and 1.5 m antennas over a 4/3 earth: about 27.6 km.
    horizon = math.sqrt(2 * 4 / 3 * 6_371_000.0) * (math.sqrt(30.0) + math.sqrt(1.5))
    beyond = loss[(n_values - 1) * step > horizon + 2000.0]
    assert beyond.size > 10
    assert np.all(np.diff(beyond) > 0)
    assert beyond[-1] > beyond[0] + 3.0


@pytest.mark.parametrize("method", METHODS)
def test_flat_earth_without_curvature_and_high_masts_is_clear(method: str) -> None:
    assert diffraction_db(np.zeros(401), 50.0, 60.0, 60.0, 900.0, method, math.inf) == 0.0
    # The same masts over a 4/3 earth at 20 km still clear the bulge (5.9 m) by far.
    assert diffraction_db(np.zeros(401), 50.0, 60.0, 60.0, 900.0, method) == 0.0


def _knife_edge_profile() -> tuple[np.ndarray, float]:
    z = np.zeros(201)
    z[80] = 120.0
    return z, 50.0


@pytest.mark.parametrize("method", METHODS)
def test_single_knife_edge_equals_closed_form(method: str) -> None:
    z, step = _knife_edge_profile()
    total = (z.size - 1) * step
    d1, d2 = 80 * step, total - 80 * step
    h_tx, h_rx, f = 30.0, 10.0, 900.0
    ray = h_tx + (h_rx - h_tx) * d1 / total
    h = z[80] + earth_bulge_m(d1, d2) - ray
    expected = knife_edge_db(fresnel_parameter(h, d1, d2, f))
    assert diffraction_db(z, step, h_tx, h_rx, f, method) == pytest.approx(expected, abs=1e-9)


def test_single_knife_edge_same_for_all_methods() -> None:
    z, step = _knife_edge_profile()
    losses = [diffraction_db(z, step, 30.0, 10.0, 900.0, m) for m in METHODS]
    assert max(losses) - min(losses) < 1e-9
    assert losses[0] > 6.0


def test_deygout_not_below_single_knife_edge_on_two_obstacles() -> None:
    z = np.zeros(301)
    z[100], z[200] = 90.0, 80.0
    step, h_tx, h_rx, f = 40.0, 30.0, 3.0, 900.0
    x = np.arange(z.size) * step
    total = x[-1]
    y = z + earth_bulge_m(x, total - x)
    ray = h_tx + (h_rx - h_tx) * x / total
    nu = fresnel_parameter((y - ray)[1:-1], x[1:-1], total - x[1:-1], f)
    single = float(knife_edge_db(np.max(nu)))
    deygout = diffraction_db(z, step, h_tx, h_rx, f, "deygout")
    assert deygout >= single
    assert deygout > single + 1.0  # the second ridge adds its own loss


@pytest.mark.parametrize("method", METHODS)
def test_clear_path_with_full_fresnel_clearance_is_zero(method: str) -> None:
    # A valley between two hill tops: every point clears the ray by more than
    # 0.78 / sqrt(2) first Fresnel radii, i.e. nu <= -0.78 everywhere.
    x = np.arange(301) * 30.0
    total = x[-1]
    z = 300.0 - 250.0 * np.sin(np.pi * x / total)
    h_tx, h_rx, f = 40.0, 10.0, 900.0
    y = z + earth_bulge_m(x, total - x)
    ray = (z[0] + h_tx) + (z[-1] + h_rx - z[0] - h_tx) * x / total
    nu = fresnel_parameter((y - ray)[1:-1], x[1:-1], total - x[1:-1], f)
    assert np.max(nu) <= -0.78
    assert diffraction_db(z, 30.0, h_tx, h_rx, f, method) == 0.0


def _random_profiles(rows: int, width: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = rng.integers(2, width + 1, rows)
    z = 150.0 + np.cumsum(rng.normal(0.0, 6.0, (rows, width)), axis=1)
    z[np.arange(width) >= n[:, None]] = np.nan
    return {"z": z, "n": n, "step": rng.uniform(10.0, 90.0, rows),
            "h_tx": rng.uniform(10.0, 72.0, rows), "h_rx": rng.uniform(1.0, 10.0, rows),
            "f": rng.uniform(450.0, 2600.0, rows)}


@pytest.mark.parametrize("method", METHODS)
def test_batch_equals_scalar_reference(method: str) -> None:
    p = _random_profiles(120, 400, seed=7)
    fast = diffraction_many_db(p["z"], p["n"], p["step"], p["h_tx"], p["h_rx"], p["f"], method)
    slow = np.array([
        diffraction_db(p["z"][r, :p["n"][r]], p["step"][r], p["h_tx"][r], p["h_rx"][r],
                       p["f"][r], method)
        for r in range(p["z"].shape[0])
    ])
    assert np.count_nonzero(slow) > 50
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_diffraction_inputs_not_modified() -> None:
    p = _random_profiles(20, 200, seed=3)
    before = {k: v.copy() for k, v in p.items()}
    for method in METHODS:
        diffraction_many_db(p["z"], p["n"], p["step"], p["h_tx"], p["h_rx"], p["f"], method)
        diffraction_db(p["z"][0, :p["n"][0]], 30.0, 30.0, 1.5, 900.0, method)
    for key, value in p.items():
        np.testing.assert_array_equal(value, before[key])
