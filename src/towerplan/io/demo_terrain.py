"""Terrain and coastline of the synthetic demo kabupaten (see :mod:`towerplan.io.demo`).

Fractal noise plus ridged noise on a 90 m synthesis grid: a mountain ridge in the west, a low
coastal plain and a fractal coastline in the east, and river valleys. Everything is drawn from
the generator passed in, so results depend only on the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from scipy import fft, ndimage

CENTRE_XY = (456_000.0, 8_969_000.0)  # near 104.6 E, 9.33 S: open ocean (EPSG:32748)
FRAME_M = (170_000.0, 236_000.0)  # width, height of the synthesis frame
CELL_M = 180.0  # boundary (label) grid
BASE_M = 90.0  # terrain synthesis grid
MARGIN_M = 20_000.0
CELL_KM2 = (CELL_M / 1000) ** 2


# --------------------------------------------------------------------------- noise and grids
def fbm(rng: np.random.Generator, shape: tuple[int, ...], beta: float) -> np.ndarray:
    """Return zero-mean, unit-variance periodic noise with power spectrum ~ k**-beta."""
    spec = fft.rfftn(rng.standard_normal(shape, dtype=np.float32), workers=-1)
    freqs = [fft.fftfreq(n) for n in shape[:-1]] + [fft.rfftfreq(shape[-1])]
    k2 = sum(np.meshgrid(*[f.astype(np.float32) ** 2 for f in freqs], indexing="ij",
                         sparse=True), np.zeros((), np.float32))
    k2[(0,) * len(shape)] = 1.0
    spec *= k2 ** np.float32(-beta / 4.0)
    spec[(0,) * len(shape)] = 0.0
    field = fft.irfftn(spec, s=shape, workers=-1)
    return ((field - field.mean()) / field.std()).astype(np.float32)


def _curve(rng: np.random.Generator, at_km: np.ndarray, beta: float) -> np.ndarray:
    """Return a unit-variance 1-D fractal curve evaluated at positions *at_km* (-160..160 km)."""
    return np.interp(at_km, np.linspace(-160.0, 160.0, 1024),
                     fbm(rng, (1024,), beta)).astype(np.float32)


def _largest(mask: np.ndarray) -> np.ndarray:
    """Return the largest 4-connected component of *mask* with its holes filled."""
    lab, n = ndimage.label(mask)
    if n > 1:
        mask = lab == (np.argmax(np.bincount(lab.ravel())[1:]) + 1)
    return ndimage.binary_fill_holes(mask)


def blocks(a: np.ndarray) -> np.ndarray:
    """View a 90 m grid as 2 x 2 blocks of the 180 m grid (reduce over axes 1 and 3)."""
    return a.reshape(a.shape[0] // 2, 2, a.shape[1] // 2, 2)


@dataclass(frozen=True, slots=True)
class Region:
    """Land and kabupaten masks with coordinates (180 m label grid, 90 m terrain grid)."""

    x0: float  # west edge, m
    y0: float  # north edge, m
    kab: np.ndarray  # bool, 180 m
    land90: np.ndarray  # bool, 90 m
    xi: np.ndarray  # across-coast coordinate of 180 m cell centres, km (east positive)
    eta: np.ndarray  # along-coast coordinate, km (north positive)
    coast_km: np.ndarray  # distance to the sea, 180 m


def shape_region(rng: np.random.Generator) -> Region:
    """Draw the coastline and the kabupaten outline and crop the grids around them."""
    nx, ny = (int(round(s / CELL_M)) for s in FRAME_M)
    fx0, fy0 = CENTRE_XY[0] - nx * CELL_M / 2, CENTRE_XY[1] + ny * CELL_M / 2
    dx = (fx0 + CELL_M * (np.arange(nx) + 0.5) - CENTRE_XY[0]) / 1000
    dy = (fy0 - CELL_M * (np.arange(ny) + 0.5) - CENTRE_XY[1]) / 1000
    theta = math.radians(rng.uniform(12.0, 24.0))  # tilt of the coast from north
    xi = (dx[None, :] * math.cos(theta) + dy[:, None] * math.sin(theta)).astype(np.float32)
    eta = (dy[:, None] * math.cos(theta) - dx[None, :] * math.sin(theta)).astype(np.float32)
    a_km, b_km = 40.0 * rng.uniform(0.96, 1.04), 86.0 * rng.uniform(0.97, 1.03)
    harmonics = np.arange(2, 11)
    amp = harmonics ** -1.3 * rng.uniform(0.5, 1.0, harmonics.size)
    phase = rng.uniform(0.0, 2 * np.pi, harmonics.size)
    u, v = ((c + 3.0 * fbm(rng, (ny, nx), 3.2)) / s for c, s in ((xi, a_km), (eta, b_km)))
    wobble = (amp * np.cos(harmonics * np.arctan2(v, u)[..., None] + phase)).sum(-1)
    admin = np.hypot(u, v) < 1.0 + 0.16 * wobble / amp.sum()
    coast = 4.0 * _curve(rng, eta, 1.8) + 1.6 * fbm(rng, (ny, nx), 2.3) - xi
    target_km2 = rng.uniform(9_700.0, 10_300.0)
    lo, hi = -0.3 * a_km, 1.4 * a_km
    for _ in range(30):  # bisection on the mean coastline position
        mid = 0.5 * (lo + hi)
        area = np.count_nonzero(admin & (coast + mid > 0)) * CELL_KM2
        lo, hi = (mid, hi) if area < target_km2 else (lo, mid)
    coast += 0.5 * (lo + hi)
    rows, cols = np.nonzero(admin & (coast > 0))
    pad = int(MARGIN_M / CELL_M)
    r0, r1 = max(rows.min() - pad, 0), min(rows.max() + pad + 1, ny)
    east = np.nonzero((coast[r0:r1] > 0).any(axis=0))[0].max()  # keep sea along the east edge
    c0, c1 = max(cols.min() - pad, 0), min(max(cols.max(), east) + pad + 1, nx)
    win = (slice(r0, r1), slice(c0, c1))
    land90 = _largest(ndimage.zoom(coast[win], 2, order=1, grid_mode=True, mode="nearest") > 0)
    land_all = blocks(land90).all(axis=(1, 3))
    kab = _largest(_largest(admin[win] & land_all) & land_all)
    coast_km = ndimage.distance_transform_edt(blocks(land90).any(axis=(1, 3))) * CELL_M / 1e3
    return Region(x0=fx0 + c0 * CELL_M, y0=fy0 - r0 * CELL_M, kab=kab, land90=land90,
                   xi=xi[win], eta=eta[win], coast_km=coast_km.astype(np.float32))


# --------------------------------------------------------------------------------- terrain
@dataclass(frozen=True, slots=True)
class Terrain:
    elev: np.ndarray  # m, float32, 90 m, sea = 0
    river: np.ndarray  # bool, 90 m
    coast_km: np.ndarray  # distance to the sea, 90 m
    river_km: np.ndarray  # distance to the nearest river, 90 m


def _rivers(rng: np.random.Generator, reg: Region, ridge_x: np.ndarray) -> list[np.ndarray]:
    """Return random-walk river courses from the ridge to the sea as (n, 2) UTM arrays."""
    rows, cols = reg.land90.shape
    kab_rows = np.flatnonzero(reg.kab.any(axis=1)) * 2
    lo, hi = kab_rows.min() + 90, kab_rows.max() - 90
    n = int(rng.integers(7, 11))
    courses = []
    for k in range(n):
        r = int(lo + (hi - lo) * (k + rng.uniform(0.2, 0.8)) / n)
        x, y = ridge_x[r] + rng.uniform(2e3, 6e3), reg.y0 - BASE_M * (r + 0.5)
        heading, pts = rng.normal(0.0, 0.3), []
        for _ in range(700):
            r, c = int((reg.y0 - y) / BASE_M), int((x - reg.x0) / BASE_M)
            if not (0 <= r < rows and 0 <= c < cols):
                break
            pts.append((x, y))
            if not reg.land90[r, c]:
                break
            heading = float(np.clip(0.85 * heading + rng.normal(0.0, 0.3), -1.1, 1.1))
            x, y = x + 400.0 * math.cos(heading), y + 400.0 * math.sin(heading)
        if len(pts) > 5:
            courses.append(np.asarray(pts))
    return courses


def _quantile_map(raw: np.ndarray, sample: np.ndarray, peak_m: float) -> np.ndarray:
    """Map *raw* monotonically so that *sample* follows the target land elevations (m)."""
    probs = np.array([0, .02, .10, .25, .50, .75, .90, .95, .99, .999, 1.0])
    metres = np.array([1, 4, 14, 45, 100, 180, 290, 405, 640, 940, peak_m])
    dense = np.linspace(0.0, 1.0, 401)
    src = np.maximum.accumulate(np.quantile(sample, dense) + np.arange(dense.size) * 1e-9)
    dst = np.interp(dense, probs, metres)
    out = np.interp(raw, src, dst)
    above = raw > src[-1]  # outside the kabupaten: continue the upper slope, halved
    top = (dst[-1] - dst[-25]) / max(src[-1] - src[-25], 1e-9)
    out[above] = dst[-1] + 0.5 * top * (raw[above] - src[-1])
    return out.astype(np.float32)


def terrain(rng: np.random.Generator, reg: Region) -> Terrain:
    """Build fractal terrain with a western ridge, river valleys and a low eastern plain."""
    from rasterio.features import rasterize
    from shapely import LineString

    rows, cols = reg.land90.shape
    x = reg.x0 + BASE_M * (np.arange(cols) + 0.5)
    y = reg.y0 - BASE_M * (np.arange(rows) + 0.5)
    inside = np.flatnonzero(reg.kab.any(axis=1))  # ridge: 9-13 km inside the west boundary
    inside = inside[int(0.12 * inside.size): int(0.88 * inside.size)]
    west = np.polyval(np.polyfit(inside, np.argmax(reg.kab[inside], 1), 2),
                      np.arange(rows) / 2 - 0.25)
    along = (y - CENTRE_XY[1]) / 1e3
    ridge_x = reg.x0 + CELL_M * west + 1e3 * (3.0 * _curve(rng, along, 2.2)
                                                + rng.uniform(9.0, 13.0))
    crest = _curve(rng, along, 2.6)
    crest = 0.55 + 0.45 * (crest - crest.min()) / np.ptp(crest)
    km = BASE_M / 1e3
    coast_km = (ndimage.distance_transform_edt(reg.land90) * km).astype(np.float32)
    courses = _rivers(rng, reg, ridge_x)
    river = rasterize([(LineString(c), 1) for c in courses], out_shape=(rows, cols),
                      transform=Affine(BASE_M, 0, reg.x0, 0, -BASE_M, reg.y0),
                      dtype="uint8").astype(bool)
    river_km = (ndimage.distance_transform_edt(~river) * km).astype(np.float32)
    plain = 1.0 - np.exp(-coast_km / 18.0)
    sigma_m = 1e3 * rng.uniform(8.0, 11.0)
    mount = crest[:, None] * np.exp(-(((x[None, :] - ridge_x[:, None]) / sigma_m) ** 2))
    ridged = (1.0 - np.clip(np.abs(fbm(rng, (rows, cols), 3.0)) / 2.0, 0, 1)) ** 2
    hills, rough = fbm(rng, (rows, cols), 3.3), fbm(rng, (rows, cols), 2.5)
    raw = (0.6 * plain + 1.8 * mount * (0.5 + 0.5 * ridged) + 0.25 * plain * ridged
           + 0.28 * hills * (0.15 + plain + mount) + 0.03 * rough * (plain + mount))
    raw *= 1.0 - 0.45 * np.exp(-((river_km / (1.0 + 1.5 * plain)) ** 2))
    kab90 = np.repeat(np.repeat(reg.kab, 2, axis=0), 2, axis=1) & reg.land90
    elev = _quantile_map(raw, raw[kab90], rng.uniform(1_100.0, 1_240.0))
    elev[~reg.land90] = 0.0
    return Terrain(elev=elev, river=river, coast_km=coast_km, river_km=river_km)


def refine(rng: np.random.Generator, elev: np.ndarray, land: np.ndarray,
            factor: int) -> np.ndarray:
    """Upsample the 90 m terrain by *factor* and add fine fractal detail (m) on land."""
    if factor == 1:
        return elev
    fine = ndimage.zoom(elev, factor, order=1, grid_mode=True, mode="nearest")
    tile = fbm(rng, (1024, 1024), 2.0)
    rows, cols = fine.shape
    fine += (3.0 * tile[np.arange(rows)[:, None] % 1024, np.arange(cols)[None, :] % 1024]
             * np.clip(fine / 15.0, 0.0, 1.0))
    land = np.repeat(np.repeat(land, factor, axis=0), factor, axis=1)
    np.maximum(fine, 0.5, out=fine, where=land)
    fine[~land] = 0.0
    return fine


# ------------------------------------------------------------------------ administrative
