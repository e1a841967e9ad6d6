r"""Longley-Rice (ITM 1.4) loss of one site to every DEM cell within a radius.

:func:`itm_area` evaluates the ITM point-to-point model (:func:`towerplan.radio.itm.itm_p2p`,
through its numba port :mod:`towerplan.radio.itm_kernels`) from one antenna to every DEM cell
centre within ``radius_m``, over the terrain profile from the site to the cell. The window
is that of :func:`towerplan.coverage.sweep.sweep_site` (the cells within the radius, clipped
to the grid); the grid must be north-up in a metric CRS, and ``cell_x`` may differ from
``cell_y``. Heights between cell centres are bilinear, as in the sweep; a nodata sample on a
profile takes the height of the sample before it (the site always has a height; fast mode's
own samples of a cell take the radial's height at their distance instead), and a cell whose
own height is nodata gets no value.

**Exact mode** (``mode="exact"``). For a cell at distance ``D`` from the site, the profile has
``n = ceil(D / s)`` equal steps of ``D / n`` from the site to the cell centre (``s`` the
smaller cell side; sample ``i`` at fractional cell-centre coordinates
``(col0 + i/n * dx / cell_x, row0 - i/n * dy / cell_y)``), and the loss is ITM on that profile,
equal to ``itm_p2p`` to about 1e-9 dB. A cell centre nearer than 1 m is evaluated at 1 m.
Cost: one full profile analysis per cell (about 20 us for 700 samples).

**Fast mode** (``mode="fast"``, the default). The radial layout of the sweep: ``N`` radials at
most half a cell apart at the radius (:func:`towerplan.coverage.radials.radial_count`), each
sampled at ``d_i = i s`` once; each cell takes the radial nearest to its bearing and the
sample ``i`` nearest to its distance (at least sample 1), and ITM is evaluated once per cell.
The transmitter's side comes from the radial (its samples ``0 .. i - 1`` spread evenly to the
cell's distance, within half a cell across of the cell's own profile); the receiver's side
from the cell's own profile, whose last :data:`_TAIL_SAMPLES` (64) samples before the cell
centre are taken as exact mode takes them (same steps, bilinear heights):

- *effective earth*: from the radial's mean height (running sums), as ITM from the path's;
- *horizons*: the transmitter's horizon is the higher of the radial's running maximum of the
  elevation angle before the own samples and the own samples themselves; the receiver's is
  the highest own sample, or, when it lies further back, the radial's: the tangent from the
  receiver tip to the upper convex hull of the earlier radial samples (kept incrementally
  over one effective earth per site, searched by bisection), evaluated from the cell's own
  receiver tip;
- *effective heights*: the least-squares lines of ITM (*zlsq1*): at the receiver end on the
  own samples when ITM's fit window (up to 0.9 of the receiver's horizon distance) lies within
  them, otherwise, and at the transmitter end, from running sums of ``z`` and ``i z`` of the
  radial (exact up to rounding);
- *terrain irregularity* :math:`\Delta h` (*dlthx*, resampled as ITM resamples it, up to 245
  points): for a cell within the 64 own samples of the site, from its own profile with ITM's
  window from the horizons found; further out, interpolated on a lattice: ITM's
  :math:`\Delta h` of the radial's own profile (window from the radial's horizons) on every
  8th radial of a sector and its last one, at samples 1-8 and then every eighth of the
  distance (12.5 %), linear in the distance and the bearing between them. :math:`\Delta h`
  is a statistic of the whole path (the interdecile range of its detrended heights) and
  changes slowly with the end point, while its cost per cell was a third of fast mode's.

Everything else (reference attenuation, variability, free space) is ITM itself. No kernel
uses LLVM fast-math: numba compiles a shared callee (ITM's kernels) with the flags of the
caller that compiles it first (numba issue 7168), so fast-math in fast mode would make exact
mode's results depend on which mode ran first in the process; without it fast mode costs
the same CPU (3.2 s for 20 km on the benchmark) and exact mode equals ``itm_p2p``.

**Measured error of fast mode** against exact mode, on seeded relief at 30 m: 96.9 % of
cells within 1 dB, median 0.09 dB, 99th percentile 1.6 dB and the line of sight agreeing on
100.0 % of cells (``benchmarks/itm_area_speed.py``: 0-1,200 m ridged relief, 5 km); 97.8 %
within 1 dB on the rougher 0-800 m fractal of ``tests/conformance/test_itm_area.py`` (3 km);
over the whole 20 km radius of that benchmark's relief 97.4 % (97.0-97.9 % in every 5 km
ring), median 0.10 dB, 99th percentile 2.5 dB (with :math:`\Delta h` per cell from 45 points
instead of the lattice: 98.6 % within 5 km, 95.5 % over 20 km, median 0.18 dB). The
remaining differences are receiver horizons further back than 64 samples (taken from the
radial), the transmitter side and the mean height taken half a cell across, and
:math:`\Delta h` from the lattice. Fast mode is a coverage estimate, not a substitute for
exact mode on one link.

**At listed cells** (:func:`itm_points_on`, for the demand units of a plan): fast mode at
those cells only, walking only the radials they need (each cell's nearest radial and the
two lattice radials its :math:`\Delta h` is interpolated between); each cell's value comes
from the same code as the window's fill, so it is the window's to the bit.

**Line of sight** of a cell: no profile sample rises above the straight ray between the
antenna tips over ITM's effective earth (its radius from :math:`N_s`, about 8,500 km at
sea level with ``n0 = 301``), as ITM's profile analysis decides it.

**Vegetation depth** (with ``landcover``, for the clutter terms of
:func:`towerplan.coverage.sweep.sweep_site`): as the sweep, from the run of vegetation
samples ending at the receiver sample (fast mode), or at the cell's nearest radial sample
(exact mode takes the fast mode's radials for it).

No per-cell warning is issued (ITM's soft warnings, such as paths shorter than 1 km, are
silent here); the settings, heights and frequency are checked once.

References
----------
G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm", NTIA/ITS 1995;
NTIA/ITS, "Irregular Terrain Model (ITM) v1.4", https://github.com/NTIA/itm; A. M. Andrew,
"Another efficient algorithm for convex hulls in two dimensions", Inf. Proc. Lett. 9(5), 1979.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numba
import numpy as np
from affine import Affine

from towerplan.coverage.radials import (
    VEGETATION_LUT,
    SiteFrame,
    Window,
    bearing_radial_k,
    bilinear_k,
    radial_count,
    radial_of_k,
    row_span_k,
    sector_size,
    sector_triangle_k,
    site_frame,
)
from towerplan.errors import DEMCoverageError, InputDataError, ModelDomainError
from towerplan.radio.clutter import WEISSBERGER_MAX_DEPTH_M
from towerplan.radio.itm import ItmSettings
from towerplan.radio.itm_kernels import (
    ItmConstants,
    earth_k,
    finish_geometry_k,
    fit_window_k,
    itm_constants,
    itm_loss_k,
    profile_geometry_k,
    trapezoid_fit_k,
)

__all__ = ["ItmArea", "itm_area", "itm_area_on", "itm_points_on"]

_MIN_DISTANCE_M = 1.0
#: Fast mode samples this many steps of the cell's own profile before the receiver.
_TAIL_SAMPLES = 64
#: Beyond the own samples, fast mode computes the terrain irregularity on every this many
#: radials of a sector (and its last one) ...
_DH_EVERY = 8
#: ... at samples 1 .. _DH_DENSE and then at steps of 1 / _DH_DENSE of the distance ...
_DH_DENSE = 8
#: ... resampled as ITM resamples it (its cap of 10 p - 5 = 245 points).
_DH_P10_MAX = 25
_NO_LANDCOVER = np.zeros((1, 1), dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class ItmArea:
    """ITM loss of one site over its window of the DEM grid.

    Attributes
    ----------
    rows, cols : slice
        Window of the DEM grid (``dem[rows, cols]`` of the whole grid, also when the
        kernel was given a part of it), clipped to the grid.
    loss_db : numpy.ndarray
        Basic transmission loss, float32 dB; nan beyond the radius and where the DEM has no
        data.
    los : numpy.ndarray
        True where the ray between the antenna tips clears the terrain (bool; False where
        ``loss_db`` is nan).
    vegetation_m : numpy.ndarray or None
        Vegetation depth at the receiver, float32 m (0 where the cell is no vegetation);
        None without a land cover.
    """

    rows: slice
    cols: slice
    loss_db: np.ndarray
    los: np.ndarray
    vegetation_m: np.ndarray | None = None


class _Area(NamedTuple):
    """Constants of one site, as the kernels read them."""

    col0: float  # site position in fractional cell-centre columns and rows
    row0: float
    dcol: float  # column and row increments of one step due east and due north
    drow: float
    step: float  # m
    n_rad: int
    n_samp: int
    radius: float  # m
    z0: float  # ground height at the site, m
    inv_2a: float  # 1 / (2 a) of the effective earth of the horizon search, 1/m
    with_veg: bool
    max_depth: float  # m


# ------------------------------------------------------------------------------ fast kernels


@numba.njit(cache=True, inline="always", error_model="numpy")
def _above(xa: float, ya: float, xb: float, yb: float, xp: float, yp: float) -> bool:
    """True when p lies on or above the line through a and b (``xa < xb``)."""
    return (xb - xa) * (yp - ya) - (yb - ya) * (xp - xa) >= 0.0


@numba.njit(cache=True, error_model="numpy")
def _walk_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
            c: ItmConstants, j: int, z: np.ndarray, sums: np.ndarray, hzn: np.ndarray,
            run: np.ndarray, hull: np.ndarray, hull_i: np.ndarray) -> None:
    """Walk radial j: heights, running sums, horizon samples of both ends, vegetation runs.

    ``z[i]`` terrain height; ``sums[0, i]`` and ``sums[1, i]`` the sums of ``z[k]`` and
    ``k z[k]`` over ``k < i``; ``hzn[0, i]`` the transmitter's horizon sample of a receiver at
    sample i (0: none), ``hzn[1, i]`` the receiver's (0: the transmitter tip).
    """
    rows, cols = landcover.shape
    theta = 2.0 * math.pi * j / a.n_rad
    dc = math.cos(theta) * a.dcol
    dr = math.sin(theta) * a.drow
    z_tx = a.z0 + c.h_tx
    last = a.z0
    sums[0, 0] = 0.0
    sums[1, 0] = 0.0
    n_hull = 0
    best_slope = -np.inf
    best = 0
    veg_run = 0
    for i in range(a.n_samp):
        col = a.col0 + i * dc
        row = a.row0 + i * dr
        zi = bilinear_k(dem, col, row)
        if math.isnan(zi):
            zi = last
        last = zi
        z[i] = zi
        sums[0, i + 1] = sums[0, i] + zi
        sums[1, i + 1] = sums[1, i] + i * zi
        d = i * a.step
        yi = zi - d * d * a.inv_2a
        if i == 0:
            hzn[0, 0] = 0
            hzn[1, 0] = 0
            hull[0, 0] = 0.0
            hull[1, 0] = z_tx
            hull_i[0] = 0
            n_hull = 1
        else:
            hzn[0, i] = best
            # tangent from the receiver tip: the first hull edge it lies on or above
            yr = yi + c.h_rx
            lo, hi = 0, n_hull - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if _above(hull[0, mid], hull[1, mid], hull[0, mid + 1], hull[1, mid + 1], d,
                          yr):
                    hi = mid
                else:
                    lo = mid + 1
            hzn[1, i] = hull_i[lo]
            if yi - z_tx > best_slope * d:
                best_slope = (yi - z_tx) / d
                best = i
            while n_hull >= 2 and _above(hull[0, n_hull - 2], hull[1, n_hull - 2],
                                         hull[0, n_hull - 1], hull[1, n_hull - 1], d, yi):
                n_hull -= 1
            hull[0, n_hull] = d
            hull[1, n_hull] = yi
            hull_i[n_hull] = i
            n_hull += 1
        if a.with_veg:
            rr = int(math.floor(row + 0.5))
            cc = int(math.floor(col + 0.5))
            code = int(landcover[rr, cc]) if 0 <= rr < rows and 0 <= cc < cols else -1
            veg_run = veg_run + 1 if 0 <= code < veg_lut.size and veg_lut[code] else 0
            run[i] = veg_run


@numba.njit(cache=True, inline="always", error_model="numpy")
def _line_k(sums: np.ndarray, z: np.ndarray, n: int, step: float, d0: float, d1: float,
            z_end: float) -> tuple[float, float]:
    """ITM's terrain line (*zlsq1*, as ``terrain_line_k``) of samples 0..n from running sums,
    with sample n at ``z_end``."""
    i0, i1 = fit_window_k(n, step, d0, d1)
    span = i1 - i0
    centre = 0.5 * (i0 + i1)
    s0 = sums[0, i1 + 1] - sums[0, i0]
    s1 = sums[1, i1 + 1] - sums[1, i0]
    z_last = z[i1]
    if i1 == n:
        s0 += z_end - z_last
        s1 += n * (z_end - z_last)
        z_last = z_end
    mean = (s0 - 0.5 * (z[i0] + z_last)) / span
    sx = s1 - centre * s0 - 0.25 * span * (z_last - z[i0])
    slope = sx * 12.0 / ((span * span + 2.0) * span)
    return mean - slope * centre, mean + slope * (n - centre)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _own_k(dem: np.ndarray, a: _Area, own: tuple[float, float, int], j: int, alt: float
           ) -> float:
    """Height of sample j of the cell's own profile (``alt`` where the DEM has no data)."""
    tcol, trow, n = own
    v = bilinear_k(dem, a.col0 + j / n * tcol, a.row0 + j / n * trow)
    return alt if math.isnan(v) else v


@numba.njit(cache=True, error_model="numpy")
def _irregularity_k(z: np.ndarray, i: int, tail: np.ndarray, j0: int, n: int, step: float,
                    sr: float, d0: float, d1: float, s: np.ndarray, p10_max: int) -> float:
    r"""ITM's :math:`\Delta h` (*dlthx*) between d0 and d1 of the cell's profile: its own
    samples from ``j0`` on (``tail``), the radial's (spread to the cell) before them, from
    at most ``10 p10_max - 5`` resampled points."""
    x0 = d0 / step
    x1 = d1 / step
    if x1 - x0 < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x1 - x0 + 8.0))), p10_max)
    m = 10 * p10 - 5
    dx = (x1 - x0) / (m - 1)
    ratio = step / sr
    for k in range(m):
        pos = x0 + k * dx
        j = min(max(int(math.ceil(pos)) - 1, 0), n - 1)
        if j >= j0:
            s[k] = tail[j - j0] + (tail[j + 1 - j0] - tail[j - j0]) * (pos - j)
        else:
            q = pos * ratio
            g = min(int(q), i - 1)
            s[k] = z[g] + (z[g + 1] - z[g]) * (q - g)
    mean, slope = trapezoid_fit_k(s[:m])
    # the p10-th smallest and largest residuals: two sorted runs of p10 values
    lo = s[m:m + p10]
    hi = s[m + p10:m + 2 * p10]
    for k in range(m):
        v = s[k] - (mean + slope * (k - 0.5 * (m - 1)))
        if k < p10:
            q = k
            while q > 0 and lo[q - 1] > v:
                lo[q] = lo[q - 1]
                q -= 1
            lo[q] = v
            q = k
            while q > 0 and hi[q - 1] < v:
                hi[q] = hi[q - 1]
                q -= 1
            hi[q] = v
            continue
        if v < lo[p10 - 1]:
            q = p10 - 1
            while q > 0 and lo[q - 1] > v:
                lo[q] = lo[q - 1]
                q -= 1
            lo[q] = v
        if v > hi[p10 - 1]:
            q = p10 - 1
            while q > 0 and hi[q - 1] < v:
                hi[q] = hi[q - 1]
                q -= 1
            hi[q] = v
    return (hi[p10 - 1] - lo[p10 - 1]) / (1.0 - 0.8 * math.exp(-(d1 - d0) / 50e3))


@numba.njit(cache=True, error_model="numpy")
def _dh_radial_k(a: _Area, c: ItmConstants, z: np.ndarray, hzn: np.ndarray,
                 nodes: np.ndarray, s: np.ndarray, out: np.ndarray) -> None:
    r"""ITM's :math:`\Delta h` of the radial's own profile to each of its samples ``nodes``,
    between the ends set by the radial's horizons (over the site's effective earth)."""
    z_tx = z[0] + c.h_tx
    for q in range(nodes.size):
        i = nodes[q]
        d = i * a.step
        dl_tx = dl_rx = d
        k = hzn[0, i]
        if k > 0:
            x = k * a.step
            if ((z[k] - z_tx) / x - x * a.inv_2a
                    > (z[i] + c.h_rx - z_tx) / d - d * a.inv_2a):
                dl_tx = x
        k = hzn[1, i]
        if k > 0:
            dl_rx = d - k * a.step
        d_start = min(15.0 * c.h_tx, 0.1 * dl_tx)
        d_end = d - min(15.0 * c.h_rx, 0.1 * dl_rx)
        out[q] = _irregularity_k(z, i, s, i + 1, i, a.step, a.step, d_start, d_end, s,
                                 _DH_P10_MAX)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _lattice_value_k(values: np.ndarray, lattice: tuple[np.ndarray, np.ndarray], u: float
                     ) -> float:
    """Linear interpolation of ``values`` (given at the samples ``lattice[0]``) at the
    fractional sample u; ``lattice[1][i]`` is the last lattice point at or before sample i."""
    nodes, below = lattice
    k = below[min(int(u), below.size - 1)]
    if k + 1 >= nodes.size:
        return values[k]
    t = min(max((u - nodes[k]) / (nodes[k + 1] - nodes[k]), 0.0), 1.0)
    return values[k] + t * (values[k + 1] - values[k])


@numba.njit(cache=True, error_model="numpy")
def _cell_k(dem: np.ndarray, a: _Area, c: ItmConstants, z: np.ndarray, sums: np.ndarray,
            hzn: np.ndarray, i: int, dist: float, own: tuple[float, float, int],
            tail: np.ndarray, delta_h: float, s: np.ndarray) -> tuple[float, bool]:
    """ITM loss (dB) of a cell at ``dist`` on sample i of a walked radial, and its line of
    sight: the transmitter's side from the radial (samples ``0 .. i - 1`` spread evenly to
    ``dist``), the receiver's side and the terrain irregularity from the cell's own profile."""
    n = own[2]
    st = dist / n  # step of the cell's own profile
    sr = dist / i  # step of the radial, spread to the cell
    j0 = max(n - _TAIL_SAMPLES, 1)
    for j in range(j0, n + 1):
        tail[j - j0] = _own_k(dem, a, own, j, z[min(int(j * i / n), i)])
    z_end = tail[n - j0]
    # the path's mean height (as system_height_k) and effective earth, from the radial
    p10 = int(0.1 * i)
    h_sum = sums[0, i - p10 + 1] - sums[0, p10] + (z_end - z[i] if p10 == 0 else 0.0)
    n_s, a_e = earth_k(h_sum / (i - 2 * p10 + 1), c.n0)
    z_tx = z[0] + c.h_tx
    z_rx = z_end + c.h_rx
    inv_2a = 0.5 / a_e
    th_tx = (z_rx - z_tx) / dist - dist * inv_2a
    th_rx = (z_tx - z_rx) / dist - dist * inv_2a
    dl_tx = dl_rx = dist
    # transmitter's horizon: the radial's running maximum before the tail, then the tail
    k = hzn[0, min(-(-j0 * i // n), i)]
    if k > 0:
        x = k * sr
        e = (z[k] - z_tx) / x - x * inv_2a
        if e > th_tx:
            th_tx, dl_tx = e, x
    # receiver's horizon: the radial's hull tangent if it lies before the tail, then the tail
    k = hzn[1, i]
    if k > 0 and k * sr < j0 * st:
        x = dist - k * sr
        e = (z[k] - z_rx) / x - x * inv_2a
        if e > th_rx:
            th_rx, dl_rx = e, x
    for j in range(j0, n):
        x = j * st
        e = (tail[j - j0] - z_tx) / x - x * inv_2a
        if e > th_tx:
            th_tx, dl_tx = e, x
        x = dist - x
        e = (tail[j - j0] - z_rx) / x - x * inv_2a
        if e > th_rx:
            th_rx, dl_rx = e, x
    hz = (th_tx, th_rx, dl_tx, dl_rx)
    d_start = min(15.0 * c.h_tx, 0.1 * dl_tx)
    d_end = dist - min(15.0 * c.h_rx, 0.1 * dl_rx)
    los = dl_tx + dl_rx > 1.5 * dist
    if math.isnan(delta_h):
        delta_h = _irregularity_k(z, i, tail, j0, n, st, sr, d_start, d_end, s, _DH_P10_MAX)
    if los:
        fit_tx, fit_rx = _line_k(sums, z, i, sr, d_start, d_end, z_end)
    else:
        fit_tx = _line_k(sums, z, i, sr, d_start, 0.9 * dl_tx, z_end)[0]
        f0, f1 = fit_window_k(n, st, dist - 0.9 * dl_rx, d_end)
        if f0 >= j0:
            mean, slope = trapezoid_fit_k(tail[f0 - j0:f1 - j0 + 1])
            fit_rx = mean + slope * (n - 0.5 * (f0 + f1))
        else:
            fit_rx = _line_k(sums, z, i, sr, dist - 0.9 * dl_rx, d_end, z_end)[1]
    p = finish_geometry_k(dist, z[0], z_end, c.h_tx, c.h_rx, a_e, n_s, hz, fit_tx, fit_rx,
                          delta_h)
    return itm_loss_k(p, c), los


@numba.njit(cache=True, inline="always", error_model="numpy")
def _dh_count_k(count: int) -> int:
    """Radials of a sector of ``count`` radials that carry the terrain irregularity
    lattice: every ``_DH_EVERY``-th one and the last (:func:`_dh_radial_of_k`)."""
    return (count - 2) // _DH_EVERY + 2


@numba.njit(cache=True, inline="always", error_model="numpy")
def _dh_radial_of_k(q: int, count: int) -> int:
    """The radial of the sector (relative) that carries lattice row q."""
    return min(q * _DH_EVERY, count - 1)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _dh_rows_k(m: int, count: int) -> tuple[int, int]:
    """The two lattice rows the terrain irregularity of radial m (relative) is interpolated
    between."""
    q0 = m // _DH_EVERY
    return q0, min(q0 + 1, _dh_count_k(count) - 1)


@numba.njit(cache=True, inline="always", error_model="numpy")
def _at_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
          c: ItmConstants, w: Window, ja: int, z: np.ndarray, sums: np.ndarray,
          hzn: np.ndarray, run: np.ndarray, dh: np.ndarray,
          lattice: tuple[np.ndarray, np.ndarray], r: int, col: int, tail: np.ndarray,
          s: np.ndarray) -> tuple[bool, float, bool, float]:
    """Whether window cell (r, col) is within the radius with a height and its nearest
    radial in the sector ``ja ..`` (walked into ``z``, ``sums``, ``hzn``, ``run``; terrain
    irregularity lattice ``dh``); then its ITM loss, line of sight and vegetation depth."""
    count = z.shape[0]
    dy = w.dy0 - r * w.cell_y
    dx = w.dx0 + col * w.cell_x
    dd = dx * dx + dy * dy
    if dd > a.radius * a.radius:
        return False, np.nan, False, 0.0
    m = radial_of_k(dx, dy, ja, count, a.n_rad)
    if m < 0 or m >= count or math.isnan(dem[w.r0 + r, w.c0 + col]):
        return False, np.nan, False, 0.0
    dist = math.sqrt(dd)
    i = min(max(int(dist / a.step + 0.5), 1), a.n_samp - 1)
    ex, ey = (dx / dist, dy / dist) if dist > 0.0 else (1.0, 0.0)
    dist = max(dist, _MIN_DISTANCE_M)
    own = (dist * ex / w.cell_x, -dist * ey / w.cell_y,
           max(int(math.ceil(dist / a.step)), 1))
    delta_h = np.nan  # within the own samples: the cell's own
    if own[2] > _TAIL_SAMPLES:
        q0, q1 = _dh_rows_k(m, count)
        t = (m - q0 * _DH_EVERY) / max(_dh_radial_of_k(q1, count) - q0 * _DH_EVERY, 1)
        u = dist / a.step
        delta_h = ((1.0 - t) * _lattice_value_k(dh[q0], lattice, u)
                   + t * _lattice_value_k(dh[q1], lattice, u))
    value, visible = _cell_k(dem, a, c, z[m], sums[m], hzn[m], i, dist, own, tail,
                             delta_h, s)
    depth = 0.0
    if a.with_veg:
        code = int(landcover[w.r0 + r, w.c0 + col])
        if 0 <= code < veg_lut.size and veg_lut[code]:
            veg_m = i * a.step if run[m, i] > i else (run[m, i] - 0.5) * a.step
            depth = min(max(veg_m, 0.5 * a.step), a.max_depth)
    return True, value, visible, depth


@numba.njit(cache=True, error_model="numpy")
def _fill_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
            c: ItmConstants, w: Window, ja: int, z: np.ndarray, sums: np.ndarray,
            hzn: np.ndarray, run: np.ndarray, dh: np.ndarray,
            lattice: tuple[np.ndarray, np.ndarray],
            out: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """ITM loss of the window cells whose nearest radial is in the sector ``ja ..``."""
    loss, los, depth = out
    tail = np.empty(_TAIL_SAMPLES + 1)
    s = np.empty(12 * _DH_P10_MAX - 5)
    tri = sector_triangle_k(ja, z.shape[0], a.n_rad, a.radius, w)
    for r in range(tri[4], tri[5] + 1):
        c_first, c_last = row_span_k(tri, w.dy0 - r * w.cell_y, w)
        for col in range(c_first, c_last + 1):
            ok, value, visible, veg_m = _at_k(dem, landcover, veg_lut, a, c, w, ja, z, sums,
                                              hzn, run, dh, lattice, r, col, tail, s)
            if not ok:
                continue
            loss[r, col] = value
            los[r, col] = visible
            if a.with_veg:
                depth[r, col] = veg_m


@numba.njit(cache=True, error_model="numpy")
def _walk_sector_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
                   c: ItmConstants, ja: int, count: int, lattice: tuple[np.ndarray, np.ndarray],
                   need: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk the radials ``ja .. ja + count - 1`` that *need* marks (by absolute index; all
    when it is empty) and compute the terrain irregularity on the sector's lattice: every
    ``_DH_EVERY``-th radial and its last one, at the lattice's samples. The rows of radials
    not walked are left unset."""
    z = np.empty((count, a.n_samp))
    sums = np.empty((count, 2, a.n_samp + 1))
    hzn = np.empty((count, 2, a.n_samp), dtype=np.int32)
    run = np.zeros((count, a.n_samp if a.with_veg else 1), dtype=np.int32)
    hull = np.empty((2, a.n_samp))
    hull_i = np.empty(a.n_samp, dtype=np.int32)
    buf = np.empty(12 * _DH_P10_MAX - 5)
    every = need.size == 0
    for m in range(count):
        if every or need[ja + m]:
            _walk_k(dem, landcover, veg_lut, a, c, ja + m, z[m], sums[m], hzn[m], run[m],
                    hull, hull_i)
    n_dh = _dh_count_k(count)
    dh = np.empty((n_dh, lattice[0].size))
    for q in range(n_dh):
        m = _dh_radial_of_k(q, count)
        if every or need[ja + m]:
            _dh_radial_k(a, c, z[m], hzn[m], lattice[0], buf, dh[q])
    return z, sums, hzn, run, dh



@numba.njit(parallel=True, cache=True, error_model="numpy")
def _fast_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
            c: ItmConstants, w: Window, per_sector: int,
            lattice: tuple[np.ndarray, np.ndarray]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Walk the radials and fill the cells, parallel over sectors of ``per_sector`` radials."""
    loss = np.full((w.n_rows, w.n_cols), np.nan, dtype=np.float32)
    los = np.zeros((w.n_rows, w.n_cols), dtype=np.bool_)
    depth = np.zeros((w.n_rows if a.with_veg else 1, w.n_cols if a.with_veg else 1),
                     dtype=np.float32)
    n_sec = (a.n_rad + per_sector - 1) // per_sector
    every = np.zeros(0, dtype=np.bool_)
    for sec in numba.prange(n_sec):
        ja = sec * per_sector
        count = min(per_sector, a.n_rad - ja)
        z, sums, hzn, run, dh = _walk_sector_k(dem, landcover, veg_lut, a, c, ja, count,
                                               lattice, every)
        _fill_k(dem, landcover, veg_lut, a, c, w, ja, z, sums, hzn, run, dh, lattice,
                (loss, los, depth))
    return loss, los, depth


@numba.njit(cache=True, error_model="numpy")
def _needed_k(w: Window, n_rad: int, per_sector: int, rows: np.ndarray, cols: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Each listed window cell's sector, and the radials the cells need walked: each
    cell's nearest radial (:func:`~towerplan.coverage.radials.bearing_radial_k`, as
    :func:`~towerplan.coverage.radials.radial_of_k` rounds the bearing) and the two lattice
    radials its terrain irregularity is interpolated between."""
    sector = np.empty(rows.size, dtype=np.int64)
    need = np.zeros(n_rad, dtype=np.bool_)
    for k in range(rows.size):
        dy = w.dy0 - rows[k] * w.cell_y
        dx = w.dx0 + cols[k] * w.cell_x
        j = bearing_radial_k(dx, dy, n_rad)
        sec = j // per_sector
        ja = sec * per_sector
        count = min(per_sector, n_rad - ja)
        sector[k] = sec
        need[j] = True
        q0, q1 = _dh_rows_k(j - ja, count)
        need[ja + _dh_radial_of_k(q0, count)] = True
        need[ja + _dh_radial_of_k(q1, count)] = True
    return sector, need


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _fast_points_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, a: _Area,
                   c: ItmConstants, w: Window, per_sector: int,
                   lattice: tuple[np.ndarray, np.ndarray], rows: np.ndarray,
                   cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_fast_k` at the listed window cells only (``rows[k]``, ``cols[k]``): each
    sector walks only the radials its cells need (:func:`_needed_k`), and each cell takes
    the value the window's fill gives it (:func:`_at_k`, the same code)."""
    n = rows.size
    loss = np.full(n, np.nan, dtype=np.float32)
    los = np.zeros(n, dtype=np.bool_)
    depth = np.zeros(n, dtype=np.float32)
    sector, need = _needed_k(w, a.n_rad, per_sector, rows, cols)
    order = np.argsort(sector, kind="mergesort")
    n_sec = (a.n_rad + per_sector - 1) // per_sector
    starts = np.searchsorted(sector[order], np.arange(n_sec + 1))
    for sec in numba.prange(n_sec):
        if starts[sec] == starts[sec + 1]:
            continue
        ja = sec * per_sector
        count = min(per_sector, a.n_rad - ja)
        z, sums, hzn, run, dh = _walk_sector_k(dem, landcover, veg_lut, a, c, ja, count,
                                               lattice, need)
        tail = np.empty(_TAIL_SAMPLES + 1)
        s = np.empty(12 * _DH_P10_MAX - 5)
        for k in range(starts[sec], starts[sec + 1]):
            p = order[k]
            ok, value, visible, veg_m = _at_k(dem, landcover, veg_lut, a, c, w, ja, z, sums,
                                              hzn, run, dh, lattice, rows[p], cols[p], tail,
                                              s)
            if ok:
                loss[p] = value
                los[p] = visible
                depth[p] = veg_m
    return loss, los, depth


# ----------------------------------------------------------------------------- exact kernel


@numba.njit(parallel=True, cache=True, error_model="numpy")
def _exact_k(dem: np.ndarray, a: _Area, c: ItmConstants, w: Window
             ) -> tuple[np.ndarray, np.ndarray]:
    """ITM on the profile from the site to every cell centre, parallel over rows."""
    loss = np.full((w.n_rows, w.n_cols), np.nan, dtype=np.float32)
    los = np.zeros((w.n_rows, w.n_cols), dtype=np.bool_)
    r2 = a.radius * a.radius
    for r in numba.prange(w.n_rows):
        buf = np.empty(int(math.ceil(a.radius / a.step)) + 2)
        dy = w.dy0 - r * w.cell_y
        for col in range(w.n_cols):
            dx = w.dx0 + col * w.cell_x
            dd = dx * dx + dy * dy
            if dd > r2 or math.isnan(dem[w.r0 + r, w.c0 + col]):
                continue
            dist = math.sqrt(dd)
            ex, ey = (dx / dist, dy / dist) if dist > 0.0 else (1.0, 0.0)
            if dist < _MIN_DISTANCE_M:
                dist = _MIN_DISTANCE_M
            n = max(int(math.ceil(dist / a.step)), 1)
            tcol = dist * ex / w.cell_x
            trow = -dist * ey / w.cell_y
            last = a.z0
            for i in range(n + 1):
                v = bilinear_k(dem, a.col0 + i / n * tcol, a.row0 + i / n * trow)
                last = last if math.isnan(v) else v
                buf[i] = last
            p, visible = profile_geometry_k(buf[:n + 1], dist / n, c.h_tx, c.h_rx, c.n0, 25)
            loss[r, col] = itm_loss_k(p, c)
            los[r, col] = visible
    return loss, los


# ---------------------------------------------------------------------------- python layer


def _dh_lattice(n_samp: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples of a radial where fast mode computes the terrain irregularity, and for each
    sample the index of the last of them at or before it."""
    nodes = [1]
    while nodes[-1] < n_samp - 1:
        nodes.append(min(nodes[-1] + max(nodes[-1] // _DH_DENSE, 1), n_samp - 1))
    arr = np.array(nodes, dtype=np.int64)
    below = np.maximum(np.searchsorted(arr, np.arange(n_samp), side="right") - 1, 0)
    return arr, below.astype(np.int64)


def _check(dem: np.ndarray, transform: Affine, radius_m: float, mode: str,
           landcover: np.ndarray | None) -> None:
    """Raise for every problem with the grids and the parameters, in one pass."""
    grid: list[str] = []
    if dem.ndim != 2:
        grid.append(f"dem_m must be 2-D, got shape {dem.shape}")
    if not (transform.b == 0 and transform.d == 0 and transform.a > 0 and transform.e < 0):
        grid.append("the DEM grid must be north-up (no rotation), got transform "
                    f"{tuple(transform)[:6]}")
    if landcover is not None and landcover.shape != dem.shape:
        grid.append(f"landcover has shape {landcover.shape} but the DEM {dem.shape}; "
                    "resample it onto the DEM grid")
    params = []
    if not (math.isfinite(radius_m) and radius_m > 0):
        params.append(f"radius_m = {radius_m:g} must be a finite distance > 0 m")
    if mode not in ("fast", "exact"):
        params.append(f"mode = {mode!r} is not 'fast' or 'exact'")
    if grid:
        msg = "itm_area: " + "; ".join(grid + params)
        raise InputDataError(msg, tuple(grid + params))
    if params:
        raise ModelDomainError("itm_area: " + "; ".join(params))


def itm_area(dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float, h_tx_m: float,
             h_rx_m: float, freq_mhz: float, *, radius_m: float,
             settings: ItmSettings = ItmSettings(),  # noqa: B008 - frozen value object
             mode: Literal["fast", "exact"] = "fast",
             landcover: np.ndarray | None = None, offset: tuple[int, int] = (0, 0),
             grid_shape: tuple[int, int] | None = None) -> ItmArea:
    """Longley-Rice (ITM 1.4) loss from one site to every DEM cell within a radius.

    See the module documentation for the two modes and the approximations of the fast one.

    Parameters
    ----------
    dem_m : numpy.ndarray
        Terrain heights, m, shape (rows, cols); nan where there is no data. Not modified.
    transform : affine.Affine
        North-up transform of the grid, in a metric CRS (m).
    x_m, y_m : float
        Site position in the grid's CRS, m.
    h_tx_m, h_rx_m : float
        Antenna heights above ground of the site and the receiver, m (0.5-3000).
    freq_mhz : float
        Frequency, MHz (20-20000).
    radius_m : float, keyword-only
        Largest evaluated distance, m.
    settings : ItmSettings, keyword-only
        Ground, refractivity, climate, polarisation and variability (default: Indonesia).
    mode : {"fast", "exact"}, keyword-only
        ``"fast"`` (default): the transmitter's side from radial profiles, the receiver's
        side from the last 64 samples of the cell's own, the terrain irregularity from a
        lattice of radial profiles;
        ``"exact"``: ITM on the profile to every cell centre.
    landcover : numpy.ndarray, optional, keyword-only
        ESA WorldCover class codes on the DEM grid, for the vegetation depth at the receiver.
    offset, grid_shape : keyword-only
        When *dem_m* (and *landcover*) is a part of the grid: the grid row and column of its
        first cell, and the whole grid's shape (see
        :func:`towerplan.coverage.radials.site_frame`; the values are the same to the bit).

    Returns
    -------
    ItmArea
        The window, the loss, the line of sight and (with ``landcover``) the vegetation depth.

    Raises
    ------
    InputDataError
        For a rotated grid or a land cover off the DEM grid (listing every problem).
    ModelDomainError
        For settings, heights or a frequency outside ITM's limits, or an invalid radius or
        mode (every problem named).
    DEMCoverageError
        When the site's window misses the grid or the DEM has no height under the site.

    References
    ----------
    G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm",
    NTIA/ITS 1995; NTIA/ITS ITM v1.4, ``ITM_P2P_TLS``.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> dem = np.zeros((201, 201), dtype=np.float32)
    >>> area = itm_area(dem, Affine(100, 0, 0, 0, -100, 20_100), 10_050.0, 10_050.0, 42.0,
    ...                 1.5, 900.0, radius_m=10_000.0,
    ...                 settings=ItmSettings(climate="continental_temperate"))
    >>> round(float(area.loss_db[100, 200]), 1)  # 10 km east, flat ground
    124.2
    """
    dem = np.asarray(dem_m)
    radius = float(radius_m)
    _check(dem, transform, radius, mode, landcover)
    consts = itm_constants(settings, h_tx_m, h_rx_m, freq_mhz)
    if dem.dtype not in (np.float32, np.float64):
        dem = dem.astype(np.float64)
    frame = site_frame(dem, transform, float(x_m), float(y_m), radius,
                       landcover=None if landcover is None else np.asarray(landcover),
                       offset=offset, grid_shape=grid_shape)
    return itm_area_on(frame, float(x_m), float(y_m), consts, radius, mode=mode)


def itm_area_on(frame: SiteFrame | None, x_m: float, y_m: float, consts: ItmConstants,
                radius_m: float, *, mode: Literal["fast", "exact"] = "fast") -> ItmArea:
    """:func:`itm_area` on a site's frame of the terrain (with its land cover, if any), for
    constants from :func:`towerplan.radio.itm_kernels.itm_constants`; the arguments are
    checked by the caller.

    Raises
    ------
    DEMCoverageError
        When the frame is None (the window misses the grid) or has no height under the site.
    ModelDomainError
        For a surface refractivity below 150 N-units at the highest terrain.
    """
    area = _site_area(frame, x_m, y_m, consts, radius_m)
    assert frame is not None
    dem, window, with_veg = frame.dem, frame.window, area.with_veg
    n_samp = area.n_samp
    depth: np.ndarray | None = None
    if mode == "fast" or with_veg:
        lc = frame.landcover if frame.landcover is not None else _NO_LANDCOVER
        loss, los, veg = _fast_k(dem, lc, VEGETATION_LUT, area, consts, window,
                                 sector_size(area.n_rad, 4 * n_samp), _dh_lattice(n_samp))
        depth = veg if with_veg else None
    if mode == "exact":
        loss, los = _exact_k(dem, area, consts, window)
    return ItmArea(frame.rows, frame.cols, loss, los, depth)


def itm_points_on(frame: SiteFrame | None, x_m: float, y_m: float, consts: ItmConstants,
                  radius_m: float, rows: np.ndarray, cols: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Fast mode of :func:`itm_area_on` at some cells of the frame's window only (``rows``,
    ``cols``: window rows and columns, int): loss (float32 dB), line of sight and (with a
    land cover) vegetation depth per cell, the window's values to the bit. Only the radials
    the cells need are walked: each cell's nearest radial and the two radials of the
    terrain irregularity lattice it is interpolated between. Raises as :func:`itm_area_on`.
    """
    area = _site_area(frame, x_m, y_m, consts, radius_m)
    assert frame is not None
    lc = frame.landcover if frame.landcover is not None else _NO_LANDCOVER
    loss, los, depth = _fast_points_k(
        frame.dem, lc, VEGETATION_LUT, area, consts, frame.window,
        sector_size(area.n_rad, 4 * area.n_samp), _dh_lattice(area.n_samp),
        np.ascontiguousarray(rows, dtype=np.int64), np.ascontiguousarray(cols, dtype=np.int64))
    return loss, los, depth if area.with_veg else None


def _site_area(frame: SiteFrame | None, x_m: float, y_m: float, consts: ItmConstants,
               radius_m: float) -> _Area:
    """The kernels' constants of a site on its frame (see :func:`itm_area_on`)."""
    z0 = math.nan if frame is None else float(bilinear_k(frame.dem, frame.col0, frame.row0))
    if frame is None or math.isnan(z0):
        msg = (f"the DEM has no height under the site at x = {x_m:.1f}, y = {y_m:.1f}; "
               "use a DEM that covers every site")
        raise DEMCoverageError(msg)
    dem, window, radius = frame.dem, frame.window, float(radius_m)
    win = dem[window.r0:window.r0 + window.n_rows, window.c0:window.c0 + window.n_cols]
    finite = win[np.isfinite(win)]
    h_sys = float(finite.mean()) if finite.size else z0
    n_s = earth_k(float(finite.max()) if finite.size else z0, consts.n0)[0]
    if n_s < 150.0:
        msg = (f"ITM: surface refractivity N_s = {n_s:.1f} N-units at the highest terrain is "
               "below 150")
        raise ModelDomainError(msg)
    step = min(window.cell_x, window.cell_y)
    n_samp = math.ceil(radius / step) + 1
    with_veg = frame.landcover is not None
    return _Area(col0=frame.col0, row0=frame.row0, dcol=step / window.cell_x,
                 drow=-step / window.cell_y, step=step,
                 n_rad=radial_count(radius, step), n_samp=n_samp, radius=radius, z0=z0,
                 inv_2a=0.5 / earth_k(h_sys, consts.n0)[1], with_veg=with_veg,
                 max_depth=WEISSBERGER_MAX_DEPTH_M)
