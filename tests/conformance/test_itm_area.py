"""ITM area coverage against the point-to-point model.

Exact mode: for 1,000 seeded random cells (three sites and antenna heights over seeded
fractal relief of 0-800 m at 30 m), the test builds the cell's profile itself the way the
module documents it (``n = ceil(D / s)`` equal steps from the site to the cell centre, heights
bilinear between cell centres) and runs :func:`towerplan.radio.itm.itm_p2p` on it. The float64
kernel :func:`towerplan.radio.itm_kernels.itm_profile_k` on that profile agrees within 1e-6 dB;
the float32 raster of :func:`towerplan.coverage.itm_area.itm_area` within its float32 rounding.

Fast mode against exact mode on a 4.5 km window: the share of cells within 1 dB is printed
and asserted at the measured level and at the product target of 95 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from affine import Affine

from tests.unit.coverage.factories import fractal_relief
from towerplan.coverage.itm_area import ItmArea, itm_area
from towerplan.radio.itm import ItmSettings, itm_p2p
from towerplan.radio.itm_kernels import itm_constants, itm_profile_k

CELL_M = 30.0
N = 241
SETTINGS = ItmSettings()
FREQ_MHZ, H_RX_M = 900.0, 1.5
#: (column, row of the site as fractional cell-centre coordinates, antenna height m)
SITES = ((120.0, 120.0, 42.0), (80.3, 150.6, 25.0), (160.5, 95.2, 70.0))
RADIUS_M = 3_000.0
FAST_SHARE_FLOOR = 0.97  # measured 0.978 on this relief; see the module docs


def _dem() -> tuple[np.ndarray, Affine]:
    return fractal_relief(N, 11, relief_m=800.0), Affine(CELL_M, 0, 0, 0, -CELL_M, N * CELL_M)


def _bilinear(dem: np.ndarray, col: np.ndarray, row: np.ndarray) -> np.ndarray:
    """Bilinear between cell centres; the nearest cell on the outer half-cell border."""
    rows, cols = dem.shape
    c0 = np.clip(np.floor(col).astype(int), 0, cols - 2)
    r0 = np.clip(np.floor(row).astype(int), 0, rows - 2)
    fc = np.clip(col - c0, 0.0, 1.0)
    fr = np.clip(row - r0, 0.0, 1.0)
    d = dem.astype(float)
    return ((1 - fr) * ((1 - fc) * d[r0, c0] + fc * d[r0, c0 + 1])
            + fr * ((1 - fc) * d[r0 + 1, c0] + fc * d[r0 + 1, c0 + 1]))


def _profile(dem: np.ndarray, site: tuple[float, float], cell: tuple[int, int],
             corner: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Heights and step of the profile from the site to the centre of cell (row, col).

    The offsets are formed as the kernel forms them, from the first cell centre of the
    window (``corner``): ITM truncates distances to whole samples in places, so a profile
    whose step differs in the last bit can give another loss.
    """
    x = (site[0] + 0.5) * CELL_M
    y = N * CELL_M - (site[1] + 0.5) * CELL_M
    col0, row0 = x / CELL_M - 0.5, (N * CELL_M - y) / CELL_M - 0.5
    r, c = cell
    dx = (CELL_M * (corner[1] + 0.5) - x) + (c - corner[1]) * CELL_M
    dy = (N * CELL_M - CELL_M * (corner[0] + 0.5) - y) - (r - corner[0]) * CELL_M
    dist = math.hypot(dx, dy)
    n = max(math.ceil(dist / CELL_M), 1)
    t = np.arange(n + 1) / n
    return (_bilinear(dem, col0 + t * (dist * (dx / dist) / CELL_M),
                      row0 + t * (-dist * (dy / dist) / CELL_M)), dist / n)


def _area(dem: np.ndarray, transform: Affine, site: tuple[float, float, float], mode: str,
          radius_m: float = RADIUS_M) -> ItmArea:
    col0, row0, h_tx = site
    x, y = transform.c + (col0 + 0.5) * CELL_M, transform.f - (row0 + 0.5) * CELL_M
    return itm_area(dem, transform, x, y, h_tx, H_RX_M, FREQ_MHZ, radius_m=radius_m,
                    settings=SETTINGS, mode=mode)  # type: ignore[arg-type]


def test_exact_mode_equals_itm_p2p_on_the_cell_profile() -> None:
    dem, transform = _dem()
    rng = np.random.default_rng(2024)
    checked = 0
    for k, site in enumerate(SITES):
        area = _area(dem, transform, site, "exact")
        rows, cols = np.nonzero(np.isfinite(area.loss_db))
        pick = rng.choice(rows.size, size=334 if k < 2 else 332, replace=False)
        consts = itm_constants(SETTINGS, site[2], H_RX_M, FREQ_MHZ)
        for j in pick:
            r, c = rows[j] + area.rows.start, cols[j] + area.cols.start
            z, step = _profile(dem, (site[0], site[1]), (r, c),
                               (area.rows.start, area.cols.start))
            if z.size * step < 2.0 * CELL_M:
                continue  # the site's own cell and its neighbours: ITM far outside its range
            ref = itm_p2p(z, step, site[2], H_RX_M, FREQ_MHZ, **SETTINGS.p2p_kwargs()).loss_db
            assert itm_profile_k(z, step, consts) == pytest.approx(ref, abs=1e-6)
            # the raster is float32: equal to its rounding (3e-8 relative, < 1e-5 dB)
            assert float(area.loss_db[rows[j], cols[j]]) == pytest.approx(ref, rel=1e-7)
            checked += 1
    assert checked >= 990


def _fast_share() -> float:
    dem, transform = _dem()
    shares = []
    for site in SITES:
        fast = _area(dem, transform, site, "fast")
        exact = _area(dem, transform, site, "exact")
        ok = np.isfinite(fast.loss_db) & np.isfinite(exact.loss_db)
        np.testing.assert_array_equal(ok, np.isfinite(exact.loss_db))
        assert (fast.los[ok] == exact.los[ok]).mean() > 0.995
        shares.append(float((np.abs(fast.loss_db - exact.loss_db)[ok] <= 1.0).mean()))
    share = float(np.mean(shares))
    print(f"fast mode within 1 dB of exact mode: {share:.1%} (per site {shares})")
    return share


def test_fast_mode_against_exact_mode() -> None:
    assert _fast_share() >= FAST_SHARE_FLOOR


def test_fast_mode_meets_the_95_percent_target() -> None:
    assert _fast_share() >= 0.95
