"""Radial-sweep coverage: oracle values, invariants and a slow scalar reference."""

from __future__ import annotations

import dataclasses
import doctest
import math
import warnings

import numpy as np
import pytest
from affine import Affine

from tests.unit.coverage.factories import fractal_relief
from towerplan.coverage import radials, sweep
from towerplan.coverage.itm_area import itm_area
from towerplan.coverage.raster import LinkParams, coverage_radius_m
from towerplan.coverage.sweep import SiteCoverage, sweep_site
from towerplan.errors import (
    DEMCoverageError,
    InputDataError,
    ModelDomainError,
    ModelValidityWarning,
)
from towerplan.radio.antenna import AntennaPattern
from towerplan.radio.chain import chain_loss, parse_chain
from towerplan.radio.clutter import clutter_loss_db, vegetation_depth_m
from towerplan.radio.diffraction import (
    EARTH_RADIUS_M,
    diffraction_db,
    fresnel_parameter,
    knife_edge_db,
)
from towerplan.radio.linkbudget import rsrp_dbm
from towerplan.radio.models import base_model, fspl_db, rma_db
from towerplan.radio.profile import line_of_sight, sample_bilinear

CELL = 100.0
H_TX = 42.0
K = 4.0 / 3.0
LINK = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 6100.0)
HATA = parse_chain("hata-suburban")
HATA_DEYGOUT = parse_chain("hata-suburban+deygout")
J0 = float(knife_edge_db(0.0))


def _grid(n: int, cell: float = CELL) -> tuple[Affine, float, float]:
    """North-up n x n grid and the centre of its middle cell (x, y)."""
    t = Affine(cell, 0.0, 0.0, 0.0, -cell, n * cell)
    mid = (n // 2 + 0.5) * cell
    return t, mid, n * cell - mid


def _fractal(n: int, seed: int, relief_m: float = 300.0) -> np.ndarray:
    """Seeded rough terrain, 0 to ``relief_m``."""
    return fractal_relief(n, seed, relief_m)


def _ridge(n: int, t: Affine, x0: float, y0: float, theta: float, at_m: float,
           height_m: float = 150.0, width_m: float = 250.0) -> np.ndarray:
    """Flat 50 m plain with a Gaussian ridge across bearing ``theta`` at ``at_m`` from the site.

    ``width_m`` is the standard deviation of the Gaussian across the ridge.
    """
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    x = t.c + (cols + 0.5) * t.a - x0
    y = t.f + (rows + 0.5) * t.e - y0
    along = x * math.cos(theta) + y * math.sin(theta)
    return (50.0 + height_m * np.exp(-((along - at_m) ** 2) / (2 * width_m**2))).astype(
        np.float32)


def _profile(dem: np.ndarray, t: Affine, x0: float, y0: float, theta: float,
             n_steps: int, step: float = CELL) -> np.ndarray:
    """Heights at the sweep's samples 0..n_steps along bearing ``theta``."""
    d = np.arange(n_steps + 1) * step
    return sample_bilinear(dem, t, x0 + d * math.cos(theta), y0 + d * math.sin(theta))


def _full(cov: SiteCoverage, shape: tuple[int, int], field: str) -> np.ndarray:
    """Place a field of the coverage on the whole grid (nan / False elsewhere)."""
    values = getattr(cov, field)
    out = np.zeros(shape, bool) if values.dtype == bool else np.full(shape, np.nan, np.float32)
    out[cov.rows, cov.cols] = values
    return out


def _cell_distance(cov: SiteCoverage, t: Affine, x0: float, y0: float) -> np.ndarray:
    cols = np.arange(cov.cols.start, cov.cols.stop)
    rows = np.arange(cov.rows.start, cov.rows.stop)
    x = t.c + (cols + 0.5) * t.a
    y = t.f + (rows + 0.5) * t.e
    return np.hypot(x[None, :] - x0, y[:, None] - y0)


# ------------------------------------------------------------------------------- flat terrain


def test_flat_coverage_is_a_disc_of_the_coverage_radius() -> None:
    t, x0, y0 = _grid(181)
    link = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 8000.0)
    cov = sweep_site(np.full((181, 181), 20.0, np.float32), t, x0, y0, H_TX, link=link,
                     chain=HATA)
    assert cov is not None
    dist = _cell_distance(cov, t, x0, y0)
    covered = cov.rsrp_dbm >= link.threshold_rsrp_dbm
    r_cov = coverage_radius_m(link, H_TX)
    assert 4000.0 < r_cov < 6000.0
    assert dist[covered].max() <= r_cov + CELL
    assert dist[np.isfinite(cov.rsrp_dbm) & ~covered].min() >= r_cov - CELL
    assert cov.los[np.isfinite(cov.loss_db)].all()
    assert np.all(cov.diffraction_db[np.isfinite(cov.loss_db)] == 0.0)


@pytest.mark.parametrize(("cell_x", "cell_y", "offset"), [
    (100.0, 100.0, (0.0, 0.0)), (100.0, 100.0, (31.0, -17.0)), (90.0, 60.0, (12.0, 40.0)),
])
def test_flat_dem_has_no_gaps_and_every_cell_is_visible(
        cell_x: float, cell_y: float, offset: tuple[float, float]) -> None:
    rows, cols = 301, 201
    t = Affine(cell_x, 0.0, 0.0, 0.0, -cell_y, rows * cell_y)
    x0 = cols * cell_x / 2 + offset[0]
    y0 = rows * cell_y / 2 + offset[1]
    link = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 8500.0)
    cov = sweep_site(np.full((rows, cols), 5.0), t, x0, y0, H_TX, link=link,
                     chain=HATA_DEYGOUT)
    assert cov is not None
    inside = _cell_distance(cov, t, x0, y0) <= link.max_radius_m
    for field in ("loss_db", "rsrp_dbm", "diffraction_db"):
        values = getattr(cov, field)
        assert values.dtype == np.float32
        assert np.isfinite(values[inside]).all()
        assert np.isnan(values[~inside]).all()
    assert cov.los[inside].all()
    assert not cov.los[~inside].any()


@pytest.mark.parametrize("radius_m", [40.0, 150.0, 777.0, 2500.0])
def test_every_cell_within_any_radius_is_filled(radius_m: float) -> None:
    rng = np.random.default_rng(int(radius_m))
    t, x0, y0 = _grid(61)
    link = LinkParams("fspl", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, radius_m)
    for _ in range(5):
        x, y = x0 + rng.uniform(-50, 50), y0 + rng.uniform(-50, 50)
        cov = sweep_site(np.zeros((61, 61)), t, x, y, H_TX, link=link,
                         chain=parse_chain("fspl+deygout"))
        assert cov is not None
        inside = _cell_distance(cov, t, x, y) <= radius_m
        assert np.array_equal(np.isfinite(cov.loss_db), inside)


def test_flat_earth_bulge_hides_cells_beyond_the_radio_horizon() -> None:
    t, x0, y0 = _grid(161, 500.0)
    link = LinkParams("fspl", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 40_000.0)
    cov = sweep_site(np.zeros((161, 161)), t, x0, y0, H_TX, link=link,
                     chain=parse_chain("fspl"))
    assert cov is not None
    dist = _cell_distance(cov, t, x0, y0)
    horizon_m = math.sqrt(2 * K * EARTH_RADIUS_M * H_TX) + math.sqrt(
        2 * K * EARTH_RADIUS_M * LINK.h_rx_m)  # about 31.8 km
    finite = np.isfinite(cov.loss_db)
    assert cov.los[finite & (dist < horizon_m - 1000.0)].all()
    assert not cov.los[finite & (dist > horizon_m + 1000.0)].any()
    flat = sweep_site(np.zeros((161, 161)), t, x0, y0, H_TX, link=link,
                      chain=parse_chain("fspl"), k_factor=math.inf)
    assert flat is not None
    assert flat.los[finite].all()


def _plane_dem(n: int, t: Affine, x0: float, y0: float, east: float, north: float
               ) -> np.ndarray:
    """A tilted plane: 100 m at the site, rising ``east`` and ``north`` m per m."""
    cols, rows = np.meshgrid(np.arange(n), np.arange(n))
    x = t.c + (cols + 0.5) * t.a - x0
    y = t.f + (rows + 0.5) * t.e - y0
    return (100.0 + east * x + north * y).astype(np.float32)


@pytest.mark.parametrize(("east", "north"), [(0.0, 0.0), (0.004, 0.0), (0.003, -0.005)])
def test_hata_deygout_over_smooth_ground_is_closed_form_hata(east: float,
                                                             north: float) -> None:
    n = 601  # 100 m cells, 30 km around the site
    t, x0, y0 = _grid(n)
    link = dataclasses.replace(LINK, max_radius_m=30_000.0)
    dem = _plane_dem(n, t, x0, y0, east, north)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=link, chain=HATA_DEYGOUT)
    assert cov is not None
    finite = np.isfinite(cov.loss_db)
    dist = _cell_distance(cov, t, x0, y0)
    charged = cov.diffraction_db[finite]
    if east == north == 0.0:
        assert np.abs(charged).max() < 0.001  # float32 rounding of the heights
    else:
        # 0 but where the horizon edge lies in the first samples a radial carries from its
        # neighbour (see _start_sample): along another bearing the plane has another slope.
        assert np.abs(charged).max() < 0.3
        assert np.mean(np.abs(charged) < 0.001) > 0.998
    # Hata suburban at the distance of each cell's sample, no closer than 1 km
    d_sample = np.maximum(np.floor(dist / CELL + 0.5) * CELL, 1000.0)
    hata = base_model("hata-suburban").evaluate_db(d_sample, 0.0, 900.0, H_TX, 1.5)
    far = finite & (dist >= 1000.0)
    assert np.abs(cov.loss_db[far] - hata[far]).max() < 0.5
    # and the chain evaluator on the profiles east and north of the site agrees
    row, col = n // 2 - cov.rows.start, n // 2 - cov.cols.start
    for d_km in (1, 2, 5, 10, 15, 20, 25, 30):
        i = d_km * 10
        for theta, (r, c) in ((0.0, (row, col + i)), (math.pi / 2, (row - i, col))):
            z = _profile(dem, t, x0, y0, theta, i)
            terms = chain_loss(HATA_DEYGOUT, z, CELL, H_TX, 1.5, 900.0)
            assert terms.diffraction_db == pytest.approx(0.0, abs=0.05)
            assert float(cov.loss_db[r, c]) == pytest.approx(terms.total_db, abs=0.5)
            assert float(cov.loss_db[r, c]) == pytest.approx(
                float(base_model("hata-suburban").evaluate_db(d_km * 1000.0, 0.0, 900.0,
                                                              H_TX, 1.5)), abs=0.5)


def test_fspl_deygout_still_charges_the_earth_bulge_beyond_the_horizon() -> None:
    t, x0, y0 = _grid(161, 500.0)
    link = LinkParams("fspl", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 40_000.0)
    dem = np.zeros((161, 161))
    raw = sweep_site(dem, t, x0, y0, H_TX, link=link, chain=parse_chain("fspl+deygout"))
    hata = sweep_site(dem, t, x0, y0, H_TX, link=link, chain=HATA_DEYGOUT)
    assert raw is not None and hata is not None
    dist = _cell_distance(raw, t, x0, y0)
    finite = np.isfinite(raw.loss_db)
    beyond = finite & (dist > 33_000.0)  # the radio horizon is at about 31.8 km
    assert beyond.sum() > 100
    assert np.all(raw.diffraction_db[beyond] >= J0)
    assert np.all(np.abs(hata.diffraction_db[finite]) < 0.01)
    assert np.array_equal(raw.los, hata.los)  # the line of sight does not change
    assert not raw.los[beyond].any()
    # the single edge of the sweep on this flat radial: the slow scalar reference
    row, col = 80 - raw.rows.start, 80 - raw.cols.start
    for i in (68, 72, 76, 79):
        z = np.zeros(i + 1)
        _, ref, _ = _horizon_reference(z, 500.0, H_TX, 1.5, 900.0, K)
        assert float(raw.diffraction_db[row, col + i]) == pytest.approx(ref, abs=0.01)
        _, ref_excess, _ = _horizon_reference(z, 500.0, H_TX, 1.5, 900.0, K, excess=True)
        assert ref_excess == pytest.approx(0.0, abs=1e-9)


def test_a_ridge_costs_hata_its_excess_diffraction_behind_it() -> None:
    n = 121
    t, x0, y0 = _grid(n)
    dem = _ridge(n, t, x0, y0, 0.0, 3000.0)  # 150 m over a 50 m plain, 3 km east
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    assert cov is not None
    diff = _full(cov, dem.shape, "diffraction_db")
    row = n // 2
    east = np.arange(n) - n // 2
    assert np.all(diff[row, (east >= 35) & (east <= 60)] > 6.0)  # behind the ridge
    assert np.all(diff[row, (east > 0) & (east <= 20)] < 0.001)  # in front of it
    assert np.all(diff[row, (east < 0) & (east >= -60)] < 0.001)  # the open side


# ----------------------------------------------------------------------------- ridge and knife


def test_ridge_blocks_line_of_sight_behind_it() -> None:
    n = 121
    t, x0, y0 = _grid(n)
    dem = _ridge(n, t, x0, y0, 0.0, 3000.0)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    assert cov is not None
    los = _full(cov, dem.shape, "los")
    row = n // 2
    east = np.arange(n) - n // 2
    assert los[row, (east > 0) & (east <= 25)].all()  # in front of the ridge
    assert not los[row, (east >= 35) & (east <= 60)].any()  # in its shadow
    assert los[row, (east < 0) & (east >= -60)].all()  # the other side is open
    diff = _full(cov, dem.shape, "diffraction_db")
    behind = diff[row, (east >= 35) & (east <= 60)]
    assert np.all(behind >= J0)
    assert np.all(np.diff(behind) < 0)  # the shadow lightens with distance


@pytest.mark.parametrize("chain_name", ["hata-suburban+deygout", "fspl+deygout"])
@pytest.mark.parametrize("octant", [0, 1, 2, 5])
def test_diffraction_behind_a_ridge_equals_deygout_on_the_same_profile(
        octant: int, chain_name: str) -> None:
    n = 125
    t, x0, y0 = _grid(n)
    n_rad = radials.radial_count(LINK.max_radius_m, CELL)
    j = octant * n_rad // 8
    assert n_rad % 8 == 0 and j % (1 << radials.LEVELS) == 0  # a radial that starts at 0
    theta = 2 * math.pi * j / n_rad
    dem = _ridge(n, t, x0, y0, theta, 2500.0, width_m=50.0)  # a sharp ridge: one knife edge
    chain = parse_chain(chain_name)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=chain)
    assert cov is not None
    diff = _full(cov, dem.shape, "diffraction_db")
    loss = _full(cov, dem.shape, "loss_db")
    los = _full(cov, dem.shape, "los")
    # cells centred on the bearing, 3.5 to 6.1 km from the site (behind the ridge)
    dc, dr = round(math.cos(theta)), -round(math.sin(theta))
    checked = 0
    for k in range(1, 62):
        col, row = n // 2 + k * dc, n // 2 + k * dr
        dist = math.hypot(k * dc * CELL, k * dr * CELL)
        if not 3500.0 <= dist <= LINK.max_radius_m:
            continue
        checked += 1
        i = int(dist / CELL + 0.5)
        z = _profile(dem, t, x0, y0, theta, i)
        ref = diffraction_db(z, CELL, H_TX, LINK.h_rx_m, LINK.freq_mhz, method="deygout")
        assert not los[row, col]
        # Hata: the smooth-earth line lies about 30 m under the ray at the ridge, where the
        # sweep takes its excess, so the whole knife-edge loss is charged.
        assert diff[row, col] == pytest.approx(ref, abs=0.5)
        terms = chain_loss(chain, z, CELL, H_TX, LINK.h_rx_m, LINK.freq_mhz)
        if chain.base == "fspl":
            assert loss[row, col] == pytest.approx(terms.total_db, abs=0.5)
        else:
            # The chain subtracts the Deygout loss of the whole smooth-earth path, mostly
            # grazing edges near the handset that the ridge hides, so it charges less.
            assert loss[row, col] == pytest.approx(terms.base_db + ref, abs=0.5)
            assert 6.0 < terms.diffraction_db <= diff[row, col] + 0.5
    assert checked >= 18


def _horizon_reference(z: np.ndarray, step: float, h_tx: float, h_rx: float,
                       freq_mhz: float, k: float, *, excess: bool = False
                       ) -> tuple[bool, float, float]:
    """Slow scalar single-horizon-edge loss: LOS, diffraction dB, margin of the LOS test, m.

    With ``excess``, the diffraction is the excess over the smooth-earth reference (the
    straight ground line between the end heights, with the earth bulge) at the same edge.
    """
    n = z.size - 1
    if n <= 1:
        return True, 0.0, math.inf
    d = np.arange(n + 1) * step
    y = z.astype(float) - d**2 / (2 * k * EARTH_RADIUS_M)
    z_tx = float(z[0]) + h_tx
    slopes = (y[1:n] - z_tx) / d[1:n]
    p = int(np.argmax(slopes)) + 1
    s_r = (y[n] + h_rx - z_tx) / d[n]
    h = d[p] * (slopes[p - 1] - s_r)
    nu = float(fresnel_parameter(h, d[p], d[n] - d[p], freq_mhz))
    loss = float(knife_edge_db(nu))
    if excess:
        # the smooth ground line at p, with the drop of the k-earth, under the same ray
        line = float(z[0]) + (float(z[n]) - float(z[0])) * d[p] / d[n] - d[p] ** 2 / (
            2 * k * EARTH_RADIUS_M)
        ray = z_tx + s_r * d[p]
        nu_smooth = float(fresnel_parameter(line - ray, d[p], d[n] - d[p], freq_mhz))
        loss = max(0.0, loss - float(knife_edge_db(nu_smooth)))
    return bool(s_r > slopes[p - 1]), loss, float(h)


@pytest.mark.parametrize("seed", [3, 11])
def test_sweep_equals_a_slow_scalar_reference_on_rough_terrain(seed: int) -> None:
    n = 141
    t, x0, y0 = _grid(n)
    dem = _fractal(n, seed)
    link = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 7000.0)
    cov = sweep_site(dem, t, x0, y0, 30.0, link=link, chain=HATA_DEYGOUT)
    assert cov is not None
    los = _full(cov, dem.shape, "los")
    diff = _full(cov, dem.shape, "diffraction_db")
    row = n // 2
    blocked = 0
    for theta, sign in ((0.0, 1), (math.pi, -1)):  # east and west radials start at the site
        for i in range(1, 71):
            z = _profile(dem, t, x0, y0, theta, i)
            ref_los, ref_diff, margin = _horizon_reference(z, CELL, 30.0, 1.5, 900.0, K,
                                                           excess=True)
            col = n // 2 + sign * i
            if abs(margin) > 1e-3:
                assert los[row, col] == ref_los
                clear = line_of_sight(z, CELL, 30.0, 1.5, 900.0, K).los
                assert los[row, col] == clear
            assert diff[row, col] == pytest.approx(ref_diff, abs=0.01)
            blocked += not ref_los
    assert blocked > 10  # the terrain is rough enough to test both branches


def test_los_mask_agrees_with_exact_paths_to_every_cell_centre() -> None:
    n = 121
    t, x0, y0 = _grid(n)
    dem = _fractal(n, 9)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA)
    assert cov is not None
    rng = np.random.default_rng(1)
    rows, cols = np.nonzero(np.isfinite(cov.loss_db))
    pick = rng.choice(rows.size, 1500, replace=False)
    agree = 0
    for r, c in zip(rows[pick], cols[pick], strict=True):
        x = t.c + (cov.cols.start + c + 0.5) * CELL
        y = t.f - (cov.rows.start + r + 0.5) * CELL
        dist = math.hypot(x - x0, y - y0)
        steps = max(math.ceil(dist / CELL), 1)
        f = np.linspace(0.0, 1.0, steps + 1)
        z = sample_bilinear(dem, t, x0 + f * (x - x0), y0 + f * (y - y0))
        exact = line_of_sight(z, dist / steps, H_TX, 1.5, 900.0, K).los if dist > 0 else True
        agree += exact == cov.los[r, c]
    assert agree / 1500 >= 0.95


def test_los_mask_is_consistent_with_the_diffraction_term() -> None:
    n = 161
    t, x0, y0 = _grid(n)
    cov = sweep_site(_fractal(n, 5), t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    assert cov is not None
    finite = np.isfinite(cov.loss_db)
    assert np.array_equal(np.isfinite(cov.diffraction_db), finite)
    assert np.array_equal(np.isfinite(cov.rsrp_dbm), finite)
    assert not cov.los[~finite].any()
    hidden = finite & ~cov.los
    assert hidden.sum() > 100 and (finite & cov.los).sum() > 100
    # Out of sight nu >= 0 over the terrain, while within the smooth-earth radio horizon the
    # smooth-earth line lies under the ray (nu_smooth < 0): the excess is positive.
    assert np.all(cov.diffraction_db[hidden] > 0.0)
    assert cov.los[finite & (cov.diffraction_db == 0.0)].all()
    raw = sweep_site(_fractal(n, 5), t, x0, y0, H_TX, link=LINK,
                     chain=parse_chain("fspl+deygout"))
    assert raw is not None and np.array_equal(raw.los, cov.los)
    assert np.all(raw.diffraction_db[hidden] >= J0 - 1e-4)  # nu >= 0 out of sight
    assert raw.los[finite & (raw.diffraction_db == 0.0)].all()  # nu <= -0.78: in sight
    assert np.all(cov.diffraction_db[finite] <= raw.diffraction_db[finite] + 1e-4)
    assert np.all(cov.diffraction_db[finite] >= 0.0)
    rsrp_at_0_db = LINK.eirp_dbm - 10 * math.log10(600) + LINK.rx_gain_dbi
    assert np.allclose(cov.rsrp_dbm[finite], rsrp_at_0_db - cov.loss_db[finite], atol=1e-3)


# --------------------------------------------------------------------------- base and clutter


def test_rma_without_diffraction_takes_los_or_nlos_from_the_mask() -> None:
    n = 121
    t, x0, y0 = _grid(n)
    dem = _ridge(n, t, x0, y0, 0.0, 2000.0)
    link = LinkParams("rma", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 4900.0)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=link, chain=parse_chain("rma"))
    assert cov is not None
    loss = _full(cov, dem.shape, "loss_db")
    los = _full(cov, dem.shape, "los")
    row = n // 2
    seen = set()
    for i in range(1, 49):
        d = np.array(max(i * CELL, 10.0))
        want = rma_db(d, 0.9, H_TX, 1.5, bool(los[row, row + i]))
        assert loss[row, row + i] == pytest.approx(want, abs=1e-3)
        seen.add(bool(los[row, row + i]))
    assert seen == {True, False}
    assert np.all(cov.diffraction_db[np.isfinite(cov.loss_db)] == 0.0)


def test_fspl_uses_the_slant_distance_between_antenna_tips() -> None:
    t, x0, y0 = _grid(81)
    link = LinkParams("fspl", 1800.0, 1.5, 61.0, 10.0, 0.0, -105.0, 4000.0)
    cov = sweep_site(np.full((81, 81), 7.0), t, x0, y0, H_TX, link=link,
                     chain=parse_chain("fspl"))
    assert cov is not None
    loss = _full(cov, (81, 81), "loss_db")
    for i in (0, 1, 5, 40):
        want = fspl_db(math.hypot(i * CELL, H_TX - 1.5) / 1000.0, 1800.0)
        assert loss[40, 40 + i] == pytest.approx(want, abs=1e-3)


@pytest.mark.parametrize("name", ["fspl", "hata-suburban", "rma"])
def test_slant_tables_interpolate_the_closed_form_well_under_0_01_db(name: str) -> None:
    """The table of a slant-distance model, read as the kernel reads it, at random distances.

    Every closed-form model is taken as a slant-distance one here. Free space is linear in
    log10(d), so exact; RMa's LOS breakpoint is a small step the table smooths over one entry.
    """
    model = dataclasses.replace(base_model(name), distance="slant")
    for chain in (parse_chain(name), parse_chain(f"{name}+deygout")):
        tables = sweep._base_tables(model, chain, np.zeros(1), 60_000.0, 900.0, 42.0, 1.5)
        assert tables.slant and tables.los_nlos == (model.los_nlos and not chain.diffraction)
        d = 10.0 ** np.random.default_rng(4).uniform(0.0, math.log10(60_000.0), 100_000)
        u = (np.log10(np.maximum(d, tables.d_min)) - tables.log_d0) * tables.per_decade
        k = np.minimum(u.astype(int), tables.los.size - 2)
        for table, los in ((tables.los, True), (tables.nlos, not tables.los_nlos)):
            got = table[k] + (u - k) * (table[k + 1] - table[k])
            want = model.evaluate_db(d, 0.0, 900.0, 42.0, 1.5, los)
            assert np.max(np.abs(got - want)) < (1e-9 if name != "rma" else 0.005)


def test_clutter_adds_foliage_loss_for_the_vegetation_depth_at_the_receiver() -> None:
    n = 121
    t, x0, y0 = _grid(n)
    dem = np.full((n, n), 30.0, np.float32)
    landcover = np.full((n, n), 30, np.uint8)  # grassland
    landcover[:, n // 2 + 20:] = 10  # tree cover from 2 km east of the site
    landcover[:, n // 2 + 45] = 30  # a clearing at 4.5 km
    chain = parse_chain("hata-suburban+clutter")
    with_trees = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=chain, landcover=landcover)
    bare = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=chain)
    assert with_trees is not None and bare is not None
    extra = _full(with_trees, dem.shape, "loss_db") - _full(bare, dem.shape, "loss_db")
    row = n // 2
    for i in range(1, 61):
        depth = vegetation_depth_m(landcover[row, n // 2:n // 2 + i + 1], CELL)
        want = float(clutter_loss_db(depth, 900.0)) if depth > 0 else 0.0
        assert extra[row, n // 2 + i] == pytest.approx(want, abs=1e-3)
    assert extra[row, n // 2 + 30] > 10.0
    assert extra[row, n // 2 + 45] == 0.0
    assert np.nanmax(extra) <= float(clutter_loss_db(400.0, 900.0)) + 1e-3
    p833 = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=parse_chain("rma+clutter-p833"),
                      landcover=landcover)
    assert p833 is not None


def test_hata_extrapolates_distance_silently_warns_for_heights_and_refuses_frequency(
) -> None:
    t, x0, y0 = _grid(41, 1000.0)
    link = LinkParams("hata-open", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 25_000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sweep_site(np.zeros((41, 41)), t, x0, y0, H_TX, link=link,
                          chain=parse_chain("hata-open+bullington")) is not None
    with pytest.warns(ModelValidityWarning, match="h_tx_m = 20 is outside") as caught:
        sweep_site(np.zeros((41, 41)), t, x0, y0, 20.0, link=link,
                   chain=parse_chain("hata-open"))
    assert len(caught) == 1  # once per call
    far = LinkParams("hata-open", 2600.0, 1.5, 61.0, 10.0, 0.0, -105.0, 5000.0)
    with pytest.raises(ModelDomainError, match="freq_mhz = 2600 is outside 150-2000 MHz"):
        sweep_site(np.zeros((41, 41)), t, x0, y0, H_TX, link=far, chain=parse_chain("hata-open"))


# ------------------------------------------------------------------------------ invariants


def test_inputs_are_not_modified() -> None:
    n = 81
    t, x0, y0 = _grid(n)
    dem = _fractal(n, 2)
    dem[10:13, 60:64] = np.nan
    landcover = np.where(dem > 150.0, 10, 30).astype(np.uint8)
    dem_before, lc_before = dem.copy(), landcover.copy()
    sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=parse_chain("rma+deygout+clutter"),
               landcover=landcover)
    assert np.array_equal(dem, dem_before, equal_nan=True)
    assert np.array_equal(landcover, lc_before)


def test_window_is_clipped_at_the_dem_edges() -> None:
    big = _fractal(100, 8)
    t_big = Affine(CELL, 0.0, 0.0, 0.0, -CELL, 100 * CELL)
    small = big[20:80, 20:80]
    t_small = Affine(CELL, 0.0, 20 * CELL, 0.0, -CELL, 80 * CELL)
    x0, y0 = 25.5 * CELL, 100 * CELL - 26.5 * CELL  # 5.5 and 6.5 cells from its corner
    link = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 3000.0)
    cov_small = sweep_site(small, t_small, x0, y0, H_TX, link=link, chain=HATA_DEYGOUT)
    cov_big = sweep_site(big, t_big, x0, y0, H_TX, link=link, chain=HATA_DEYGOUT)
    assert cov_small is not None and cov_big is not None
    assert (cov_small.rows, cov_small.cols) == (slice(0, 38), slice(0, 37))
    assert cov_small.loss_db.shape == (38, 37)
    inner = np.zeros(small.shape, bool)
    inner[1:-1, 1:-1] = True
    for field in ("loss_db", "diffraction_db", "los"):
        a = _full(cov_small, small.shape, field)
        b = _full(cov_big, big.shape, field)[20:80, 20:80]
        if field == "los":
            assert np.array_equal(a[inner], b[inner])
        else:
            assert np.allclose(a[inner], b[inner], atol=1e-3, equal_nan=True)
    d = _cell_distance(cov_small, t_small, x0, y0)
    assert np.isfinite(cov_small.loss_db[d <= 3000.0]).all()


def test_sites_are_independent() -> None:
    n = 101
    t, x0, y0 = _grid(n)
    dem = _fractal(n, 4)
    a1 = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    b = sweep_site(dem, t, x0 + 1234.0, y0 - 987.0, 30.0, link=LINK, chain=HATA_DEYGOUT)
    a2 = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    assert a1 is not None and a2 is not None and b is not None
    for field in ("loss_db", "rsrp_dbm", "diffraction_db", "los"):
        assert np.array_equal(getattr(a1, field), getattr(a2, field), equal_nan=True)
    assert (b.rows, b.cols) != (a1.rows, a1.cols)


def test_nodata_cells_are_nan_and_the_rest_still_filled() -> None:
    n = 81
    t, x0, y0 = _grid(n)
    dem = np.full((n, n), 10.0)
    dem[20:25, 50:55] = np.nan
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA_DEYGOUT)
    assert cov is not None
    loss = _full(cov, dem.shape, "loss_db")
    assert np.isnan(loss[20:25, 50:55]).all()
    ok = np.isfinite(dem[cov.rows, cov.cols]) & (_cell_distance(cov, t, x0, y0) <= 6100.0)
    assert np.isfinite(cov.loss_db[ok]).all()


# -------------------------------------------------------------------------------- errors


def test_site_whose_window_misses_the_grid_gives_none() -> None:
    t, _, _ = _grid(41)
    assert sweep_site(np.zeros((41, 41)), t, -50_000.0, 2000.0, H_TX, link=LINK,
                      chain=HATA) is None


@pytest.mark.parametrize("where", ["outside", "nodata"])
def test_site_without_ground_height_raises(where: str) -> None:
    t, x0, y0 = _grid(41)
    dem = np.zeros((41, 41))
    if where == "nodata":
        dem[18:23, 18:23] = np.nan
    else:
        x0 = -1000.0
    with pytest.raises(DEMCoverageError, match="no height under the site"):
        sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=HATA)


def test_itm_chain_takes_its_loss_from_the_itm_area_kernel() -> None:
    t, x0, y0 = _grid(61)
    dem = _fractal(61, 5)
    cov = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=parse_chain("itm"))
    assert cov is not None
    area = itm_area(dem, t, x0, y0, H_TX, LINK.h_rx_m, LINK.freq_mhz,
                    radius_m=LINK.max_radius_m, settings=LINK.itm)
    np.testing.assert_array_equal(cov.loss_db, area.loss_db)
    np.testing.assert_array_equal(cov.los, area.los)
    inside = np.isfinite(cov.loss_db)
    assert inside.sum() > 1000 and np.all(cov.diffraction_db[inside] == 0.0)
    offset = float(rsrp_dbm(LINK.eirp_dbm, 0.0, LINK.bandwidth_mhz, LINK.rx_gain_dbi))
    np.testing.assert_allclose(cov.rsrp_dbm[inside], offset - cov.loss_db[inside], atol=1e-4)


def test_itm_clutter_adds_vegetation_loss_where_the_land_cover_is_trees() -> None:
    t, x0, y0 = _grid(61)
    dem = _fractal(61, 6)
    landcover = np.full(dem.shape, 30, dtype=np.uint8)  # grassland
    landcover[:, 40:] = 10  # tree cover east of the site
    bare = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=parse_chain("itm"),
                      landcover=landcover)
    veg = sweep_site(dem, t, x0, y0, H_TX, link=LINK, chain=parse_chain("itm+clutter"),
                     landcover=landcover)
    assert bare is not None and veg is not None
    extra = veg.loss_db - bare.loss_db
    trees = (landcover[bare.rows, bare.cols] == 10) & np.isfinite(bare.loss_db)
    grass = (landcover[bare.rows, bare.cols] == 30) & np.isfinite(bare.loss_db)
    assert np.all(extra[trees] > 0.0) and np.all(extra[grass] == 0.0)
    # 3 tree cells (of 100 m) east of the forest edge on the site's row: a run of 3 samples
    r, c = 30 - bare.rows.start, 42 - bare.cols.start
    expected = float(clutter_loss_db(250.0, LINK.freq_mhz))
    assert extra[r, c] == pytest.approx(expected, abs=0.01)


def test_invalid_parameters_are_reported_together() -> None:
    t, x0, y0 = _grid(41)
    bad = LinkParams("hata-suburban", 0.0, 1.5, 61.0, 10.0, 0.0, -105.0, 6100.0)
    with pytest.raises(ModelDomainError) as err:
        sweep_site(np.zeros((41, 41)), t, x0, y0, -1.0, link=bad, chain=HATA, k_factor=0.0)
    for name in ("h_tx_m", "freq_mhz", "k_factor"):
        assert name in str(err.value)
    rotated = Affine(CELL, 5.0, 0.0, 0.0, -CELL, 4100.0)
    with pytest.raises(InputDataError) as err2:
        sweep_site(np.zeros((41, 41)), rotated, x0, y0, -1.0, link=LINK, chain=HATA,
                   landcover=np.zeros((40, 41), np.uint8))
    assert "north-up" in str(err2.value)
    assert "landcover has shape (40, 41)" in str(err2.value)
    assert "h_tx_m" in str(err2.value)


def test_module_doctests_pass() -> None:
    result = doctest.testmod(sweep, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


def test_knife_edge_table_within_1e4_db_of_the_closed_form() -> None:
    """The sweep's tabulated J(nu) against knife_edge_db on a grid finer than the table,
    across its lower limit, its entries and past its end (the closed form there)."""
    nu = np.concatenate([np.linspace(-1.0, 1.0, 20_001),
                         np.linspace(1.0, sweep.KNIFE_EDGE_TABLE_MAX + 8.0, 40_001)])
    table = np.array([sweep._knife_edge_k(float(v)) for v in nu])
    exact = np.asarray(knife_edge_db(nu))
    assert np.abs(table - exact).max() < 1e-4
    assert sweep._knife_edge_k(-0.78) == 0.0
    assert sweep._knife_edge_k(0.0) == pytest.approx(6.03, abs=0.005)  # ITU-R P.526 J(0)
    beyond = sweep.KNIFE_EDGE_TABLE_MAX + 1.0
    assert sweep._knife_edge_k(beyond) == pytest.approx(float(knife_edge_db(beyond)), abs=1e-12)


# -------------------------------------------------------------- a part of the grid (frames)


_PART_CHAINS = ["hata-suburban+deygout", "rma+deygout", "fspl+deygout",
                "hata-suburban+deygout+clutter", "itm", "itm+clutter"]


@pytest.mark.parametrize("chain", _PART_CHAINS)
def test_a_sweep_on_a_part_of_the_grid_equals_the_whole_grid_to_the_bit(chain: str) -> None:
    """What a batch of sites is sent (the part of the terrain its sweeps read) gives every
    layer bit for bit as the whole grid does, for sites inside, at the edges and in a corner."""
    from towerplan.coverage.composite import TerrainContext

    n = 260
    dem = _fractal(n, 11)
    dem[100:104, 40:47] = np.nan
    lc = np.random.default_rng(4).choice(np.array([10, 30, 40, 50], np.uint8), (n, n))
    t = Affine(CELL, 0.0, 400_123.4, 0.0, -CELL, 9_100_987.6)
    link = dataclasses.replace(LINK, max_radius_m=4_000.0)
    whole = TerrainContext(dem, t, parse_chain(chain), landcover=lc)
    sites = np.array([[t.c + CELL * 130.3, t.f - CELL * 120.6],
                      [t.c + CELL * 3.2, t.f - CELL * 2.9],
                      [t.c + CELL * 255.0, t.f - CELL * 90.2]])
    for xy in sites:
        part = whole.part(xy[None, :], link.max_radius_m)
        assert part.dem_m.size < dem.size / 2 and part.shape == (n, n) and not part.whole
        kwargs = {"link": link, "chain": whole.chain, "landcover": lc if "clutter" in chain
                  else None}
        ref = sweep_site(dem, t, float(xy[0]), float(xy[1]), H_TX, **kwargs)
        kwargs["landcover"] = part.landcover if "clutter" in chain else None
        got = sweep_site(part.dem_m, t, float(xy[0]), float(xy[1]), H_TX, offset=part.offset,
                         grid_shape=part.grid_shape, **kwargs)
        assert ref is not None and got is not None
        assert (got.rows, got.cols) == (ref.rows, ref.cols)
        for name in ("loss_db", "rsrp_dbm", "los", "diffraction_db"):
            assert getattr(got, name).tobytes() == getattr(ref, name).tobytes(), name


def test_a_part_that_misses_the_sites_frame_is_refused() -> None:
    """A part cut for one site does not hold another's frame: an error, never a guess."""
    from towerplan.coverage.composite import TerrainContext

    n = 200
    t, x, y = _grid(n)
    whole = TerrainContext(_fractal(n, 2), t, HATA_DEYGOUT)
    part = whole.part(np.array([[x - 6_000.0, y]]), 3_000.0)
    link = dataclasses.replace(LINK, max_radius_m=3_000.0)
    with pytest.raises(ValueError, match="does not hold the site's window"):
        sweep_site(part.dem_m, t, x + 6_000.0, y, H_TX, link=link, chain=HATA_DEYGOUT,
                   offset=part.offset, grid_shape=part.grid_shape)


def test_a_frame_keeps_exactly_the_window_and_its_margin() -> None:
    n = 300
    t, x, y = _grid(n)
    frame = radials.site_frame(np.zeros((n, n), np.float32), t, x, y, 2_000.0)
    assert frame is not None
    m = radials.FRAME_MARGIN_CELLS
    w = frame.window
    assert (w.r0, w.c0) == (m, m)
    assert frame.dem.shape == (w.n_rows + 2 * m, w.n_cols + 2 * m)
    bounds = radials.grid_window(t, (n, n), x, y, 2_000.0)
    assert (frame.rows, frame.cols) == (slice(*bounds[:2]), slice(*bounds[2:]))
    assert (frame.rows, frame.cols) == (slice(130, 172), slice(130, 172))
    # the site in the frame's cells: the whole grid's, shifted by whole cells
    assert frame.col0 == (x - t.c) / CELL - 0.5 - frame.col_at
    corner = radials.site_frame(np.zeros((n, n), np.float32), t, 50.0, n * CELL - 50.0,
                                2_000.0)
    assert corner is not None and (corner.row_at, corner.col_at) == (0, 0)
    assert (corner.window.r0, corner.window.c0) == (0, 0)


def test_itm_chain_takes_the_margins_like_the_other_chains() -> None:
    """A 90 % location probability at 8 dB takes 10.25 dB off the ITM chain's RSRP in every
    cell, as for the sweep's chains (this once stopped the ITM chain with an error)."""
    n = 101
    t, x, y = _grid(n)
    dem = _fractal(n, 5, 120.0)
    plain = dataclasses.replace(LINK, max_radius_m=3_000.0)
    margin = dataclasses.replace(plain, location_probability=0.9, shadow_sigma_db=8.0)
    assert margin.adjusted and not plain.adjusted
    itm = parse_chain("itm")
    ref = sweep_site(dem, t, x, y, H_TX, link=plain, chain=itm)
    got = sweep_site(dem, t, x, y, H_TX, link=margin, chain=itm)
    assert ref is not None and got is not None
    ok = np.isfinite(ref.rsrp_dbm)
    assert ok.sum() > 1_000 and np.array_equal(ok, np.isfinite(got.rsrp_dbm))
    np.testing.assert_allclose(ref.rsrp_dbm[ok] - got.rsrp_dbm[ok], 10.25, atol=0.01)


# ---------------------------------------------------------------- the RSRP at listed cells

_POINT_LINKS = {
    "defaults": dataclasses.replace(LINK, max_radius_m=4_000.0),
    # a drive-test calibration, three sectors with a tilt and a 90 % location probability
    "calibrated, sectors, margins": dataclasses.replace(
        LINK, max_radius_m=4_000.0, calibration_offset_db=4.0,
        calibration_slope_db_per_decade=-3.0, location_probability=0.9, shadow_sigma_db=8.0,
        antenna=AntennaPattern((30.0, 150.0, 270.0), tilt_deg=4.0)),
}


def _window_at(cov: SiteCoverage | None, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The RSRP of a whole-window sweep at grid cells, nan off the window."""
    out = np.full(rows.shape, np.nan, np.float32)
    if cov is None:
        return out
    r, c = rows - cov.rows.start, cols - cov.cols.start
    inside = (r >= 0) & (c >= 0) & (r < cov.rsrp_dbm.shape[0]) & (c < cov.rsrp_dbm.shape[1])
    out[inside] = cov.rsrp_dbm[r[inside], c[inside]]
    return out


@pytest.mark.parametrize("link_name", sorted(_POINT_LINKS))
@pytest.mark.parametrize("chain", _PART_CHAINS)
def test_sweep_points_equal_the_whole_window_at_every_cell_to_the_bit(chain: str,
                                                                      link_name: str) -> None:
    """Every cell of the window listed (and cells off it, and repeats): sweep_points gives
    what sweep_site gives there, bit for bit, on the whole grid and on a batch's part of it,
    for sites inside, at the edges and in a corner, with nodata holes."""
    from towerplan.coverage.composite import TerrainContext

    n = 260
    dem = _fractal(n, 11)
    dem[100:104, 40:47] = np.nan
    dem[150:153, 130:140] = np.nan
    lc = np.random.default_rng(4).choice(np.array([10, 30, 40, 50], np.uint8), (n, n))
    t = Affine(CELL, 0.0, 400_123.4, 0.0, -CELL, 9_100_987.6)
    link = _POINT_LINKS[link_name]
    whole = TerrainContext(dem, t, parse_chain(chain), landcover=lc)
    rows, cols = (a.ravel() for a in np.mgrid[-3:n + 3, -3:n + 3])
    repeats = np.random.default_rng(9).integers(0, n, (2, 500))
    rows, cols = np.concatenate([rows, repeats[0]]), np.concatenate([cols, repeats[1]])
    sites = np.array([[t.c + CELL * 130.3, t.f - CELL * 120.6],
                      [t.c + CELL * 3.2, t.f - CELL * 2.9],
                      [t.c + CELL * 255.0, t.f - CELL * 90.2]])
    for xy in sites:
        x, y = float(xy[0]), float(xy[1])
        kwargs = {"link": link, "chain": whole.chain,
                  "landcover": lc if "clutter" in chain else None}
        ref = _window_at(sweep_site(dem, t, x, y, H_TX, **kwargs), rows, cols)
        assert np.isfinite(ref).sum() > 1_000
        got = sweep.sweep_points(dem, t, x, y, H_TX, rows, cols, **kwargs)
        assert got.dtype == np.float32 and got.tobytes() == ref.tobytes()
        part = whole.part(xy[None, :], link.max_radius_m)
        kwargs["landcover"] = part.landcover if "clutter" in chain else None
        got = sweep.sweep_points(part.dem_m, t, x, y, H_TX, rows, cols, offset=part.offset,
                                 grid_shape=part.grid_shape, **kwargs)
        assert got.tobytes() == ref.tobytes()


def test_sweep_points_of_a_few_cells_equal_the_window_and_the_edge_cases() -> None:
    """A sparse, unordered list (as demand units are) on a grid of many radials; no cells,
    and a site whose window misses the grid, give empty and nan results."""
    n = 501
    t, x, y = _grid(n, 30.0)
    dem = _fractal(n, 5, relief_m=500.0)
    link = dataclasses.replace(LINK, max_radius_m=7_000.0)
    cov = sweep_site(dem, t, x, y, H_TX, link=link, chain=HATA_DEYGOUT)
    rng = np.random.default_rng(2)
    rows, cols = rng.integers(-10, n + 10, (2, 4_000))
    ref = _window_at(cov, rows, cols)
    got = sweep.sweep_points(dem, t, x, y, H_TX, rows, cols, link=link, chain=HATA_DEYGOUT)
    assert np.isfinite(ref).sum() > 2_000 and got.tobytes() == ref.tobytes()
    every_r, every_c = (a.ravel() for a in np.mgrid[0:n, 0:n])  # 233 cells of radius
    got = sweep.sweep_points(dem, t, x, y, H_TX, every_r, every_c, link=link,
                             chain=HATA_DEYGOUT)
    assert got.tobytes() == _window_at(cov, every_r, every_c).tobytes()
    none = sweep.sweep_points(dem, t, x, y, H_TX, rows[:0], cols[:0], link=link,
                              chain=HATA_DEYGOUT)
    assert none.shape == (0,) and none.dtype == np.float32
    far = sweep.sweep_points(dem, t, x + 1e6, y, H_TX, rows, cols, link=link,
                             chain=HATA_DEYGOUT)
    assert np.isnan(far).all()


@pytest.mark.parametrize("chain", ["itm", "itm+clutter"])
def test_itm_points_walk_only_the_radials_their_cells_need(chain: str) -> None:
    """The ``itm`` chains at a few clustered cells (as demand units are): each cell's value
    is the whole window's, bit for bit, although only the radials of the cells and of their
    terrain-irregularity lattice are walked (most cells lie beyond the 64 own samples, so
    the lattice is interpolated)."""
    from towerplan.coverage import itm_area as itm_module

    n = 321
    t, x, y = _grid(n, 30.0)
    dem = _fractal(n, 8, relief_m=400.0)
    lc = np.random.default_rng(6).choice(np.array([10, 30, 40, 50], np.uint8), (n, n))
    link = dataclasses.replace(LINK, max_radius_m=4_500.0)
    kwargs = {"link": link, "chain": parse_chain(chain),
              "landcover": lc if "clutter" in chain else None}
    rng = np.random.default_rng(12)
    centres = rng.integers(20, n - 20, (6, 2))
    rows, cols = (np.concatenate([c0 + rng.integers(-6, 7, 40) for c0 in centres[:, k]])
                  for k in (0, 1))
    cov = sweep_site(dem, t, x, y, H_TX, **kwargs)
    assert cov is not None
    ref = _window_at(cov, rows, cols)
    got = sweep.sweep_points(dem, t, x, y, H_TX, rows, cols, **kwargs)
    assert np.isfinite(ref).sum() > 150 and got.tobytes() == ref.tobytes()
    # the radials walked for these cells: a small part of the window's
    window = radials.site_frame(dem, t, x, y, link.max_radius_m).window
    n_rad = radials.radial_count(link.max_radius_m, 30.0)
    per_sector = radials.sector_size(n_rad, 4 * (math.ceil(link.max_radius_m / 30.0) + 1))
    r, c = rows - cov.rows.start, cols - cov.cols.start
    inside = np.isfinite(ref)
    sector, need = itm_module._needed_k(window, n_rad, per_sector, r[inside].astype(np.int64),
                                        c[inside].astype(np.int64))
    assert 0 < need.sum() < n_rad // 4
    assert len(np.unique(sector)) >= 4
