"""Terrain profiles and line-of-sight geometry."""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine
from pyproj import Geod, Transformer

from towerplan.errors import ModelDomainError
from towerplan.radio.diffraction import fresnel_radius_m
from towerplan.radio.profile import line_of_sight, sample_bilinear, terrain_profile

UTM50S = "EPSG:32750"


def _plane_grid():
    """A tilted plane z = 0.01 x + 0.02 y (m) on a 90 m UTM 50S grid around 116 E, 1.7 S."""
    t = Affine(90.0, 0, 380_000.0, 0, -90.0, 9_830_000.0)
    rows, cols = 400, 400
    x = t.c + 90.0 * (np.arange(cols) + 0.5)
    y = t.f - 90.0 * (np.arange(rows) + 0.5)
    z = 0.01 * (x[None, :] - 380_000.0) + 0.02 * (y[:, None] - 9_794_000.0)
    return z, t


def test_bilinear_is_exact_on_a_plane_and_nan_outside() -> None:
    z, t = _plane_grid()
    x = np.array([381_234.5, 410_000.0, 379_000.0])
    y = np.array([9_800_111.0, 9_820_000.0, 9_800_000.0])
    got = sample_bilinear(z, t, x, y)
    want = 0.01 * (x - 380_000.0) + 0.02 * (y - 9_794_000.0)
    assert got[:2] == pytest.approx(want[:2], abs=1e-9)
    assert np.isnan(got[2])


def test_profile_is_geodesic_and_samples_the_plane() -> None:
    z, t = _plane_grid()
    start, end = (116.0, -1.75), (116.2, -1.65)
    prof = terrain_profile(z, t, UTM50S, start, end)
    _, _, length = Geod(ellps="WGS84").inv(*start, *end)
    assert prof.length_m == pytest.approx(length, rel=1e-9)
    assert prof.step_m <= 90.0 and prof.step_m > 85.0
    assert np.allclose(np.diff(prof.distance_m), prof.step_m)
    assert len(prof.heights_m) == len(prof.lon)
    x, y = Transformer.from_crs("EPSG:4326", UTM50S, always_xy=True).transform(prof.lon,
                                                                                prof.lat)
    plane = 0.01 * (np.asarray(x) - 380_000.0) + 0.02 * (np.asarray(y) - 9_794_000.0)
    assert prof.heights_m == pytest.approx(plane, abs=1e-6)
    assert (prof.lon[0], prof.lat[0], prof.lon[-1], prof.lat[-1]) == (*start, *end)


def test_profile_outside_dem_is_a_clear_error() -> None:
    z, t = _plane_grid()
    with pytest.raises(ModelDomainError, match="leaves the terrain data"):
        terrain_profile(z, t, UTM50S, (116.0, -1.75), (116.9, -1.75))
    with pytest.raises(ModelDomainError, match="coincide"):
        terrain_profile(z, t, UTM50S, (116.0, -1.75), (116.0, -1.75))


def test_flat_earth_clearance_matches_closed_form() -> None:
    n, step = 201, 100.0
    c = line_of_sight(np.zeros(n), step, 30.0, 30.0, 900.0, k_factor=1e9)  # no bulge
    mid = n // 2
    assert c.los
    assert c.fresnel_m[mid] == pytest.approx(fresnel_radius_m(10_000.0, 10_000.0, 900.0))
    assert c.worst_ratio == pytest.approx(30.0 / c.fresnel_m[mid], rel=1e-3)
    assert c.worst_index == mid


def test_earth_bulge_blocks_a_long_low_path() -> None:
    n, step = 601, 100.0  # 60 km between 10 m masts: the 4/3 earth bulge (~53 m) blocks it
    c = line_of_sight(np.zeros(n), step, 10.0, 10.0, 900.0)
    assert not c.los
    assert c.worst_ratio < 0
    bulge = c.terrain_m[n // 2]
    assert bulge == pytest.approx(30_000.0**2 / (2 * 4 / 3 * 6_371_000.0), rel=1e-3)
