"""Terrain-aware coverage of one site: a radial sweep over the DEM.

:func:`sweep_site` evaluates a model chain (:mod:`towerplan.radio.chain`) from one antenna to
every DEM cell within ``R = link.max_radius_m``, in one numba kernel that runs in parallel
over sectors of radials. Each sector first walks its radials, then fills the cells whose
nearest radial it holds, so its samples stay in the processor cache.

**Radials.** ``N`` radials leave the site at the bearings ``theta_j = 2 pi j / N``
(counter-clockwise from east), with ``N`` the smallest multiple of 8 for which the spacing at
the largest radius, ``2 pi R / N``, is at most half a cell. A radial is sampled at
``d_i = i s`` (``i = 0 .. ceil(R / s)``), with the step ``s`` the smaller cell side, by
bilinear interpolation of the DEM between cell centres (the nearest cell on the outer
half-cell border of the grid and where one of the four cells is nodata). Near the site fewer
radials are enough: radial ``j`` with ``t < 3`` trailing zero bits in ``j`` is only walked
from ``R / 2**(t + 1)`` on (beyond that distance the radials with more trailing zeros are
spaced more than half a cell apart); up to there it carries the samples, horizon and
vegetation run of radial ``j - 2**t``. This walks about two thirds of ``N`` full radials, and
the sample a cell takes (below) stays within half a cell of its centre across the bearing
and half a step along it.

**Horizon.** Heights are taken over an effective earth of radius ``k R_e``: sample ``i`` has
``y_i = z_i - d_i**2 / (2 k R_e)``, which puts the earth bulge of every sub-path in place
(see :mod:`towerplan.radio.diffraction`). With the antenna tip at ``z_t = z_0 + h_tx``, the
sweep keeps the running horizon of each radial: the index ``p`` of the sample with the
largest elevation slope ``s_p = (y_p - z_t) / d_p`` among the samples ``1 .. i - 1`` strictly
between the antenna and sample ``i``. Nodata samples neither count for the horizon nor get a
value.

**Cell fill.** Every cell centre within the radius takes its values from one radial sample:
the radial nearest to its bearing and the sample nearest to its distance. With the receiver
at ``h_rx`` over that sample, its slope is ``s_r = (y_i + h_rx - z_t) / d_i``.

- *Line of sight*: ``s_r > s_p``, the test of :func:`towerplan.radio.profile.line_of_sight`
  (the ray between the antenna tips clears every intermediate sample); always true with no
  intermediate sample (``i <= 1``).
- *Diffraction* (chains with a diffraction term): the horizon sample ``p`` is one knife edge.
  Its height over the ray from antenna tip to receiver tip is ``h = d_p (s_p - s_r)``; with
  ``d1 = d_p`` and ``d2 = d_i - d_p``, ``nu = h sqrt(2 d_i / (lambda d1 d2))`` (ITU-R P.526
  eq. 26) and the loss is ``J(nu)`` (eq. 31; 0 for ``nu <= -0.78``; read by linear
  interpolation from a table of 128 entries per unit of ``nu`` up to ``nu = 32``, within
  1e-4 dB of the closed form, which it takes beyond; a quarter of the sweep's time with the
  closed form at every cell). Out of sight
  ``nu >= 0``, so the loss is at least ``J(0) = 6.03`` dB; in sight ``h < 0`` and the loss is
  0 unless the horizon sample lies within about 0.78 of a Fresnel radius below the ray. The
  three chain methods (``deygout``, ``bullington``, ``epstein-peterson``) all give this one
  ``J(nu)``: the sweep finds no secondary edges, and its edge is the horizon seen from the
  antenna, not the sample with the largest ``nu``. Behind one sharp obstacle it equals the
  Deygout loss of :func:`towerplan.radio.diffraction.diffraction_db` on the same profile;
  behind several ridges or a broad rounded one, where Deygout adds secondary edges, and for
  grazing paths where another sample has a larger ``nu``, it gives less loss.
- *Excess diffraction* (base models with a smooth-earth assumption, ``hata-*`` and ``rma``,
  see :attr:`towerplan.radio.models.BaseModel.smooth_earth`): their empirical curves already
  include the losses of quasi-smooth terrain, so the cell is charged only the diffraction in
  excess of the smooth-earth reference, ``max(0, J(nu) - J(nu_smooth))``. The smooth-earth
  reference profile is the straight ground line from the ground under the antenna to the
  ground under the receiver (same end heights) with the same k-factor earth bulge. The
  excess is taken at the same edge ``p``: the clearance of the ray over that line at ``p``
  does not depend on the slope of the line, ``h_smooth = d1 d2 / (2 k R_e) - [h_tx (1 - t)
  + h_rx t]`` with ``t = d_p / d_i``, and ``nu_smooth`` is ``h_smooth`` times the same
  factor as ``nu``. So the term costs O(1) per cell and is 0 (to float32 rounding of the
  heights) on flat ground, however far beyond the radio horizon, and on a tilted plane but
  for the cells whose horizon sample is one a radial carries from its neighbour (along
  another bearing the plane has another slope; a few tenths of a dB at most for slopes of
  1 %). Behind an obstacle the edge ``p`` is the obstacle, where the smooth-earth line lies
  well under the ray, so the whole ``J(nu)`` is usually charged; the chain evaluator, which
  subtracts the multiple-edge loss of the whole smooth-earth path, charges less there.
  Free space (``fspl``) is charged the whole ``J(nu)``. The line of sight does not change.
- *Base model*, by the rules of its entry in
  :data:`towerplan.radio.models.BASE_MODEL_REGISTRY`. A horizontal-distance model (``hata-*``,
  ``rma``) is evaluated at the sample distance ``d_i``, no closer than its minimum distance
  (Hata 1 km, RMa 10 m), from a table with one entry per sample. A slant-distance model
  (``fspl``) is evaluated at the slant distance between the antenna tips,
  ``sqrt(d_i**2 + (z_i + h_rx - z_t)**2)`` over the terrain heights (no earth bulge), no closer
  than its minimum distance (1 m), by linear interpolation in a table over ``log10`` of the
  distance with 4000 entries per decade (exact for free space; within 0.001 dB for smooth
  models). A model with LOS and NLOS formulas (``rma``) takes its LOS formula when the chain
  has a diffraction term and otherwise LOS or NLOS from the line-of-sight mask. Distance
  extrapolation beyond the validated range is silent; a frequency outside the model's range
  raises :class:`towerplan.errors.ModelDomainError`; antenna heights outside their validated
  range warn once per call with :class:`towerplan.errors.ModelValidityWarning`.
- *Clutter* (chains with a clutter term, when ``landcover`` is given): the vegetation depth
  at the receiver is that of :func:`towerplan.radio.clutter.vegetation_depth_m` over the
  land-cover classes of the cells nearest to the radial's samples: ``(m - 0.5) s`` for a run
  of ``m`` vegetation samples ending at the receiver sample (``d_i`` when the run reaches the
  antenna). A cell whose own class is vegetation (tree cover, mangroves) gets at least half a
  step; a cell of any other class gets none. The depth is capped at 400 m (the limit of
  Weissberger's model) and turned into loss by :func:`towerplan.radio.clutter.clutter_loss_db`.

- *ITM* (the ``itm`` base model, which takes no diffraction term): the loss and the line of
  sight come from the fast mode of :func:`towerplan.coverage.itm_area.itm_area` over the
  same radial layout, with ``link.itm`` as settings; ITM finds its own effective earth from
  the surface refractivity, so ``k_factor`` is not used; the diffraction output is 0. A
  clutter term adds vegetation loss as above.

The line-of-sight mask, the diffraction term, the loss and the RSRP of a cell all come from
the same sample. The sweep needs a north-up grid in a metric CRS.

**Listed cells only.** :func:`sweep_points` walks the same radials but gives values only to
a list of cells (the demand units in a site's reach), each from the radial and sample the
whole window's fill gives it, with the same arithmetic: its RSRP equals
:func:`sweep_site`'s at those cells to the bit. The radials cost the same; the fill of the
window's other cells, its layers and their corrections are not computed. On a 30 m grid with
a 30 km radius (a window of 4 million cells) the walk is about a quarter of a whole sweep.

References
----------
ITU-R P.526-15 (10/2019), "Propagation by diffraction": single knife edge, section 4.1,
eqs. (26) and (31); effective earth bulge ``d1 d2 / (2 k R_e)``, section 4.5.1.
ITU-R P.525-4, eq. (6) (free space); M. Hata, IEEE Trans. Veh. Technol. 29(3), 1980;
3GPP TR 38.901, Table 7.4.1-1 (RMa).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np
from affine import Affine

from towerplan.coverage.itm_area import itm_area_on, itm_points_on
from towerplan.coverage.radials import (
    LEVELS,
    VEGETATION_LUT,
    SiteFrame,
    Window,
    bilinear_inner_k,
    bilinear_k,
    inner_k,
    radial_count,
    radial_of_k,
    row_span_k,
    sector_size,
    sector_triangle_k,
    site_frame,
)
from towerplan.coverage.raster import LinkParams
from towerplan.errors import (
    DEMCoverageError,
    InputDataError,
    ModelDomainError,
    ModelValidityWarning,
)
from towerplan.radio.chain import ModelChain
from towerplan.radio.clutter import WEISSBERGER_MAX_DEPTH_M, clutter_loss_db
from towerplan.radio.diffraction import EARTH_RADIUS_M, SPEED_OF_LIGHT_M_S
from towerplan.radio.itm_kernels import itm_constants
from towerplan.radio.linkbudget import rsrp_dbm
from towerplan.radio.models import BaseModel, base_model

__all__ = ["SiteCoverage", "sweep_points", "sweep_site", "sweep_site_into"]

_NU_MIN = -0.78
#: The sweep's J(nu) is read from a table with this many entries per unit of nu between
#: ``_NU_MIN`` and ``KNIFE_EDGE_TABLE_MAX`` (linear interpolation; the closed form beyond).
KNIFE_EDGE_TABLE_PER_NU = 128
KNIFE_EDGE_TABLE_MAX = 32.0
_NU_TABLE = _NU_MIN + np.arange(
    int((KNIFE_EDGE_TABLE_MAX - _NU_MIN) * KNIFE_EDGE_TABLE_PER_NU) + 2) / KNIFE_EDGE_TABLE_PER_NU
# the closed form of knife_edge_db, also at nu = _NU_MIN (the first entry interpolates from it)
_KNIFE_EDGE_TABLE = 6.9 + 20.0 * np.log10(np.sqrt((_NU_TABLE - 0.1) ** 2 + 1.0) + _NU_TABLE
                                          - 0.1)
# Entries per decade of distance of the tables of slant-distance base models.
_SLANT_TABLE_PER_DECADE = 4000


@dataclass(frozen=True, slots=True)
class SiteCoverage:
    """Coverage of one site over its window of the DEM grid.

    Attributes
    ----------
    rows, cols : slice
        Window of the DEM grid (``dem[rows, cols]`` of the whole grid, also when the
        kernel was given a part of it), clipped to the grid.
    loss_db : numpy.ndarray
        Path loss of the model chain, float32 dB; nan beyond the radius and where the DEM
        has no data.
    rsrp_dbm : numpy.ndarray
        Design RSRP, float32 dBm: the received RSRP with the antenna pattern, less the
        margins and the uplink shortfall of ``link`` (:meth:`LinkParams.rsrp_correction_db`;
        the received RSRP itself with the defaults); nan where ``loss_db`` is.
    los : numpy.ndarray
        True where the receiver antenna is visible from the site antenna over the terrain
        and a k-factor earth (bool; False where ``loss_db`` is nan).
    diffraction_db : numpy.ndarray
        The diffraction term charged, float32 dB: for a base model with a smooth-earth
        assumption (``hata-*``, ``rma``) the excess over the smooth-earth reference, else
        the whole knife-edge loss (0 for a chain without a diffraction term); nan where
        ``loss_db`` is.
    """

    rows: slice
    cols: slice
    loss_db: np.ndarray
    rsrp_dbm: np.ndarray
    los: np.ndarray
    diffraction_db: np.ndarray


# ---------------------------------------------------------------------------------- kernels


class _Sweep(NamedTuple):
    """Constants of one sweep, as the kernels read them."""

    col0: float  # site position in fractional cell-centre columns and rows
    row0: float
    dcol: float  # column and row increments of one step due east and due north
    drow: float
    step: float  # sample spacing along a radial, m
    n_rad: int  # a multiple of 2**LEVELS
    n_samp: int
    radius: float  # m
    z_tx: float  # antenna tip above the datum, m
    h_rx: float  # m
    h_tx: float  # antenna height above ground, m
    inv_2kr: float  # 1 / (2 k R_e), 1/m
    lam: float  # wavelength, m
    with_diff: bool
    excess: bool  # charge diffraction in excess of the smooth-earth reference only
    slant: bool  # base tables over log10(slant distance), else one entry per sample
    los_nlos: bool  # separate NLOS base table for cells out of sight
    d_min: float  # slant tables: shortest distance, m
    log_d0: float  # slant tables: log10 of the distance of the first entry
    per_decade: float  # slant tables: entries per decade of distance
    rsrp_offset: float  # RSRP at 0 dB loss, dBm
    with_veg: bool
    max_depth: float  # cap on the vegetation depth, m
    merge: bool  # fold the RSRP into a best-server composite instead of returning the layers
    listed: bool  # give values only to listed cells (sweep_points) instead of the layers


class _Merge(NamedTuple):
    """Best-server composite on the DEM grid that a sweep folds its RSRP into (in place), as
    :func:`towerplan.coverage.composite.best_server` composes sites one after the other."""

    rsrp_dbm: np.ndarray  # float32, nan = no server yet
    server: np.ndarray  # int32
    n_servers: np.ndarray  # uint16
    site: int
    threshold_dbm: np.float32
    row_at: int  # row and column of the composite at the first cell of the sweep's frame
    col_at: int


_NO_MERGE = _Merge(np.full((1, 1), np.nan, np.float32), np.full((1, 1), -1, np.int32),
                   np.zeros((1, 1), np.uint16), -1, np.float32(np.nan), 0, 0)


@numba.njit(cache=True, inline="always")
def _knife_edge_k(nu: float) -> float:
    """J(nu) of ITU-R P.526 eq. (31), as :func:`towerplan.radio.diffraction.knife_edge_db`:
    linear in a table of ``KNIFE_EDGE_TABLE_PER_NU`` entries per unit of nu up to
    ``KNIFE_EDGE_TABLE_MAX`` (within 1e-4 dB of the closed form), the closed form beyond."""
    if nu <= _NU_MIN:
        return 0.0
    if nu < KNIFE_EDGE_TABLE_MAX:
        u = (nu - _NU_MIN) * KNIFE_EDGE_TABLE_PER_NU
        k = int(u)
        return _KNIFE_EDGE_TABLE[k] + (u - k) * (_KNIFE_EDGE_TABLE[k + 1]
                                                 - _KNIFE_EDGE_TABLE[k])
    return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


@numba.njit(cache=True, inline="always")
def _start_sample(j: int, s: _Sweep) -> tuple[int, int]:
    """First own sample of radial j and the radial it continues (itself when it starts at 0).

    Radial j with ``t < LEVELS`` trailing zero bits is needed from ``R / 2**(t + 1)`` on,
    where the radials with more trailing zeros are spaced more than half a cell apart; up to
    there it carries the samples of radial ``j - 2**t``.
    """
    t = 0
    while t < LEVELS and (j >> t) & 1 == 0:
        t += 1
    if t >= LEVELS:
        return 0, j
    start = int(s.radius / (2.0 ** (t + 1)) / s.step)
    return min(start, s.n_samp), j - (1 << t)


@numba.njit(cache=True)
def _sample_sector(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, s: _Sweep,
                   ja: int, count: int, y: np.ndarray, horizon: np.ndarray, run: np.ndarray
                   ) -> None:
    """Walk radials ``ja .. ja + count - 1``: heights over the k-earth, horizon, vegetation.

    ``y[m, i]`` is the height of sample i of radial ``ja + m`` minus the earth drop
    ``d**2 / (2 k R_e)``; ``horizon[m, i]`` the index of the sample with the largest slope
    from the antenna tip among samples ``1 .. i - 1`` (-1 if none); ``run[m, i]`` the number
    of consecutive vegetation samples ending at sample i. ``ja`` is a multiple of
    ``2**LEVELS``, so every radial continues one of the same sector with a lower index.
    """
    rows, cols = landcover.shape
    n_lut = veg_lut.size
    for m in range(count):
        start, parent = _start_sample(ja + m, s)
        best_slope = -np.inf
        best = -1
        veg_run = 0
        if start > 0:
            q = parent - ja
            y[m, :start] = y[q, :start]
            horizon[m, :start] = horizon[q, :start]
            best = horizon[q, start] if start < s.n_samp else -1
            if best > 0:
                best_slope = (y[q, best] - s.z_tx) / (best * s.step)
            if s.with_veg:
                run[m, :start] = run[q, :start]
                veg_run = run[q, start - 1]
        theta = 2.0 * math.pi * (ja + m) / s.n_rad
        dc = math.cos(theta) * s.dcol
        dr = math.sin(theta) * s.drow
        inner = inner_k(dem, s.col0, s.row0, dc, dr, start, s.n_samp - 1)
        for i in range(start, s.n_samp):
            col = s.col0 + i * dc
            row = s.row0 + i * dr
            d = i * s.step
            z = bilinear_inner_k(dem, col, row) if inner else bilinear_k(dem, col, row)
            yi = z - d * d * s.inv_2kr
            y[m, i] = yi
            horizon[m, i] = best
            if i > 0 and yi - s.z_tx > best_slope * d:
                best_slope = (yi - s.z_tx) / d
                best = i
            if s.with_veg:
                rr = int(math.floor(row + 0.5))
                cc = int(math.floor(col + 0.5))
                code = int(landcover[rr, cc]) if 0 <= rr < rows and 0 <= cc < cols else -1
                veg_run = veg_run + 1 if 0 <= code < n_lut and veg_lut[code] else 0
                run[m, i] = veg_run


@numba.njit(cache=True, inline="always")
def _cell_k(yi: float, y_p: float, i: int, p: int, s: _Sweep) -> tuple[float, bool]:
    """Diffraction term and line of sight of a receiver at sample i with horizon sample p."""
    if p <= 0:
        return 0.0, True
    di = i * s.step
    dp = p * s.step
    s_r = (yi + s.h_rx - s.z_tx) / di
    s_p = (y_p - s.z_tx) / dp
    term = 0.0
    if s.with_diff:
        scale = math.sqrt(2.0 * di / (s.lam * dp * (di - dp)))
        term = _knife_edge_k(dp * (s_p - s_r) * scale)
        if s.excess and term > 0.0:
            t = dp / di
            h_smooth = dp * (di - dp) * s.inv_2kr - (s.h_tx * (1.0 - t) + s.h_rx * t)
            term = max(0.0, term - _knife_edge_k(h_smooth * scale))
    return term, s_r > s_p


@numba.njit(cache=True, inline="always")
def _value_k(s: _Sweep, y: np.ndarray, horizon: np.ndarray, base_los: np.ndarray,
             base_nlos: np.ndarray, m: int, i: int) -> tuple[bool, float, float, bool]:
    """Loss of the chain at a cell that takes sample i of radial m of a sector: whether the
    sample has a height, the total loss (dB, before clutter), the diffraction term (dB) and
    the line of sight."""
    yi = y[m, i]
    if math.isnan(yi):
        return False, np.nan, np.nan, False
    p = horizon[m, i]
    term, visible = _cell_k(yi, y[m, p] if p > 0 else np.nan, i, p, s)
    table = base_nlos if s.los_nlos and not visible else base_los
    if s.slant:
        di = i * s.step
        rise = yi + di * di * s.inv_2kr + s.h_rx - s.z_tx
        u = (math.log10(max(math.sqrt(di * di + rise * rise), s.d_min)) - s.log_d0
             ) * s.per_decade
        k = min(int(u), table.size - 2)
        return True, table[k] + (u - k) * (table[k + 1] - table[k]) + term, term, visible
    return True, table[i] + term, term, visible


@numba.njit(cache=True, inline="always")
def _depth_k(landcover: np.ndarray, veg_lut: np.ndarray, s: _Sweep, run: np.ndarray, m: int,
             i: int, row: int, col: int) -> float:
    """Vegetation depth at a cell of the frame (``row``, ``col``) that takes sample i of
    radial m, m (0 when the cell's own class is not vegetation)."""
    code = int(landcover[row, col])
    if 0 <= code < veg_lut.size and veg_lut[code]:
        veg_m = i * s.step if run[m, i] > i else (run[m, i] - 0.5) * s.step
        return min(max(veg_m, 0.5 * s.step), s.max_depth)
    return 0.0


@numba.njit(cache=True, inline="always")
def _sector_k(ja: int, count: int, s: _Sweep, w: Window
              ) -> tuple[np.ndarray, np.ndarray, tuple[float, float, float, float, int, int]]:
    """Unit vectors of the bisectors before radials ``ja .. ja + count`` (the boundaries of
    the sector's radials; the last is the next sector's first, computed alike) and the
    triangle of :func:`~towerplan.coverage.radials.sector_triangle_k` that holds them."""
    delta = 2.0 * math.pi / s.n_rad
    bx = np.empty(count + 1)
    by = np.empty(count + 1)
    for k in range(count + 1):
        bx[k] = math.cos((ja + k - 0.5) * delta)
        by[k] = math.sin((ja + k - 0.5) * delta)
    return bx, by, sector_triangle_k(ja, count, s.n_rad, s.radius, w)


@numba.njit(cache=True, inline="always")
def _track_k(m: int, bx: np.ndarray, by: np.ndarray, dx: float, dy: float, count: int) -> int:
    """The radial (relative to the sector, ``-1 .. count``) between whose bisectors the
    offset (dx, dy) lies by the sign of cross products, moved to from radial m."""
    while m < count and bx[m + 1] * dy - by[m + 1] * dx >= 0.0:
        m += 1
    while m >= 0 and bx[m] * dy - by[m] * dx < 0.0:
        m -= 1
    return m


@numba.njit(cache=True)
def _fill_sector(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, s: _Sweep,
                 w: Window, ja: int, count: int, y: np.ndarray, horizon: np.ndarray,
                 run: np.ndarray,
                 base_los: np.ndarray, base_nlos: np.ndarray, out: tuple[np.ndarray, ...],
                 merge: _Merge) -> None:
    """Fill the window cells whose nearest radial is in the sector with its samples (or,
    with ``s.merge``, fold their RSRP into the composite ``merge``).

    The cells are searched row by row inside a triangle that contains the sector's wedge.
    A cell is taken when its bearing lies between the sector's first and last boundaries
    (the bisectors between neighbouring radials), so every cell is filled by exactly one
    sector. Along a row the radial is tracked across those boundaries by the sign of cross
    products, which gives the same radial as rounding the bearing.
    """
    loss, rsrp, diff, los, depth = out
    bx, by, tri = _sector_k(ja, count, s, w)
    r2 = s.radius * s.radius
    near2, inv_step = (8.0 * max(w.cell_x, w.cell_y)) ** 2, 1.0 / s.step
    for r in range(tri[4], tri[5] + 1):
        dy = w.dy0 - r * w.cell_y
        c_first, c_last = row_span_k(tri, dy, w)
        m = -2
        for c in range(c_first, c_last + 1):
            dx = w.dx0 + c * w.cell_x
            dd = dx * dx + dy * dy
            if dd > r2:
                continue
            if m == -2 or dd < near2:
                m = radial_of_k(dx, dy, ja, count, s.n_rad)
            else:
                m = _track_k(m, bx, by, dx, dy, count)
            if m < 0 or m >= count or math.isnan(dem[w.r0 + r, w.c0 + c]):
                continue
            i = min(int(math.sqrt(dd) * inv_step + 0.5), s.n_samp - 1)
            ok, total, term, visible = _value_k(s, y, horizon, base_los, base_nlos, m, i)
            if not ok:
                continue
            if s.merge:  # as composite._update: a nan-safe "not worse", then the count
                value = np.float32(s.rsrp_offset - total)
                rr, cc = merge.row_at + w.r0 + r, merge.col_at + w.c0 + c
                if math.isfinite(value) and not value <= merge.rsrp_dbm[rr, cc]:
                    merge.rsrp_dbm[rr, cc] = value
                    merge.server[rr, cc] = merge.site
                if value >= merge.threshold_dbm:
                    merge.n_servers[rr, cc] += np.uint16(1)
                continue
            loss[r, c] = total
            rsrp[r, c] = s.rsrp_offset - total
            diff[r, c] = term
            los[r, c] = visible
            if s.with_veg:
                depth[r, c] = _depth_k(landcover, veg_lut, s, run, m, i, w.r0 + r, w.c0 + c)


@numba.njit(parallel=True, cache=True)
def _sweep_k(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray,
             base_los: np.ndarray, base_nlos: np.ndarray, s: _Sweep, w: Window,
             per_sector: int, threads: int, merge: _Merge, ptr: np.ndarray, cols: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """Radial sweep and cell fill, parallel over sectors of ``per_sector`` radials (each
    cell is filled by one sector, so the sectors write disjoint cells, also of ``merge``).
    Each of ``threads`` lanes takes a run of neighbouring sectors (neighbours share the
    cache lines of the cells along their borders) and allocates its sample buffers once,
    not once per sector. With ``s.merge`` the returned layers are 1 x 1 placeholders; with
    ``s.listed`` too, and the last two arrays are the RSRP (nan where no sector reaches a
    cell) and vegetation depth of the cells listed by ``ptr`` and ``cols`` (see
    :func:`_points_sector`)."""
    whole = not (s.merge or s.listed)
    n_rows = w.n_rows if whole else 1
    n_cols = w.n_cols if whole else 1
    loss = np.empty((n_rows, n_cols), dtype=np.float32)
    rsrp = np.empty((n_rows, n_cols), dtype=np.float32)
    diff = np.empty((n_rows, n_cols), dtype=np.float32)
    los = np.empty((n_rows, n_cols), dtype=np.bool_)
    veg = s.with_veg and whole
    depth = np.zeros((w.n_rows if veg else 1, w.n_cols if veg else 1), dtype=np.float32)
    n_listed = cols.size if s.listed else 1
    listed_rsrp = np.full(n_listed, np.nan, dtype=np.float32)
    listed_depth = np.zeros(n_listed if s.with_veg else 1, dtype=np.float32)
    for r in numba.prange(n_rows):
        for c in range(n_cols):
            loss[r, c] = np.nan
            rsrp[r, c] = np.nan
            diff[r, c] = np.nan
            los[r, c] = False
    n_sec = (s.n_rad + per_sector - 1) // per_sector
    veg_rows = per_sector if s.with_veg else 1
    veg_cols = s.n_samp if s.with_veg else 1
    lanes = min(threads, n_sec)
    for lane in numba.prange(lanes):  # a lane per thread: a run of neighbouring sectors
        y = np.empty((per_sector, s.n_samp), dtype=np.float32)
        horizon = np.empty((per_sector, s.n_samp), dtype=np.int32)
        run = np.empty((veg_rows, veg_cols), dtype=np.int32)
        for k in range(lane * n_sec // lanes, (lane + 1) * n_sec // lanes):
            ja = k * per_sector
            count = min(per_sector, s.n_rad - ja)
            _sample_sector(dem, landcover, veg_lut, s, ja, count, y, horizon, run)
            if s.listed:
                _points_sector(dem, landcover, veg_lut, s, w, ja, count, y, horizon, run,
                               base_los, base_nlos, ptr, cols, listed_rsrp, listed_depth)
            else:
                _fill_sector(dem, landcover, veg_lut, s, w, ja, count, y, horizon, run,
                             base_los, base_nlos, (loss, rsrp, diff, los, depth), merge)
    return loss, rsrp, diff, los, depth, listed_rsrp, listed_depth


@numba.njit(cache=True)
def _points_sector(dem: np.ndarray, landcover: np.ndarray, veg_lut: np.ndarray, s: _Sweep,
                   w: Window, ja: int, count: int, y: np.ndarray, horizon: np.ndarray,
                   run: np.ndarray,
                   base_los: np.ndarray, base_nlos: np.ndarray, ptr: np.ndarray,
                   cols: np.ndarray, rsrp: np.ndarray, depth: np.ndarray) -> None:
    """:func:`_fill_sector` at the listed cells of the window only: window row ``r`` lists
    the sorted columns ``cols[ptr[r]:ptr[r + 1]]``; cell ``k`` of that list gets its RSRP
    ``rsrp[k]`` (and vegetation depth ``depth[k]``) when the sector holds it.

    Each listed cell takes the radial that the row-by-row fill gives it: the rounded bearing
    (:func:`~towerplan.coverage.radials.radial_of_k`) for the row's first cell within the
    radius and for cells near the site, elsewhere the radial between whose bisectors the
    cross products place it (the fill tracks it from the previous cell; with the sector's
    bisectors in order of bearing the tracking ends on that radial from any start). The
    values come from :func:`_value_k` and :func:`_depth_k`, as in the fill, so they are the
    same to the bit.
    """
    bx, by, tri = _sector_k(ja, count, s, w)
    r2 = s.radius * s.radius
    near2, inv_step = (8.0 * max(w.cell_x, w.cell_y)) ** 2, 1.0 / s.step
    for r in range(tri[4], tri[5] + 1):
        a, b = ptr[r], ptr[r + 1]
        if a == b:
            continue
        dy = w.dy0 - r * w.cell_y
        c_first, c_last = row_span_k(tri, dy, w)
        if cols[b - 1] < c_first or cols[a] > c_last:
            continue
        c_in = -1
        for c in range(c_first, c_last + 1):
            dx = w.dx0 + c * w.cell_x
            if not dx * dx + dy * dy > r2:
                c_in = c
                break
        if c_in < 0:
            continue
        k = a + np.searchsorted(cols[a:b], c_in)
        while k < b and cols[k] <= c_last:
            c = cols[k]
            dx = w.dx0 + c * w.cell_x
            dd = dx * dx + dy * dy
            if dd > r2:
                k += 1
                continue
            m = radial_of_k(dx, dy, ja, count, s.n_rad)
            if c != c_in and not dd < near2:
                m = _track_k(m, bx, by, dx, dy, count)
            if m < 0 or m >= count or math.isnan(dem[w.r0 + r, w.c0 + c]):
                k += 1
                continue
            i = min(int(math.sqrt(dd) * inv_step + 0.5), s.n_samp - 1)
            ok, total, _, _ = _value_k(s, y, horizon, base_los, base_nlos, m, i)
            if ok:
                rsrp[k] = s.rsrp_offset - total
                if s.with_veg:
                    depth[k] = _depth_k(landcover, veg_lut, s, run, m, i, w.r0 + r, w.c0 + c)
            k += 1


# ---------------------------------------------------------------------------- python layer


def _problems(dem: np.ndarray, transform: Affine, model: BaseModel, h_tx_m: float,
              h_rx_m: float, link: LinkParams, k_factor: float, landcover: np.ndarray | None
              ) -> tuple[list[str], list[str], tuple[str, ...]]:
    """Every problem with the grids and with the parameters, in one pass.

    Returns the grid problems, the parameter problems (the base model's domain errors among
    them) and the base model's validity warnings.
    """
    grid: list[str] = []
    if dem.ndim != 2:
        grid.append(f"dem_m must be 2-D, got shape {dem.shape}")
    if not (transform.b == 0 and transform.d == 0 and transform.a > 0 and transform.e < 0):
        grid.append("the DEM grid must be north-up (no rotation), got transform "
                    f"{tuple(transform)[:6]}")
    if landcover is not None and landcover.shape != dem.shape:
        grid.append(f"landcover has shape {landcover.shape} but the DEM {dem.shape}; "
                    "resample it onto the DEM grid")
    errors, soft = model.problems(link.freq_mhz, h_tx_m, h_rx_m)
    params = list(errors)
    for name, value, ok in (
        ("max_radius_m", link.max_radius_m,
         math.isfinite(link.max_radius_m) and link.max_radius_m > 0),
        ("k_factor", k_factor, k_factor > 0),
    ):
        if not ok:
            params.append(f"{name} = {value:g} is invalid")
    return grid, params, soft


class _BaseTables(NamedTuple):
    """Base-model loss tables of the fill kernel (see :class:`_Sweep`)."""

    los: np.ndarray  # dB
    nlos: np.ndarray  # dB; the LOS table itself when there is no NLOS formula
    slant: bool
    los_nlos: bool
    d_min: float
    log_d0: float
    per_decade: float


def _base_tables(model: BaseModel, chain: ModelChain, d_m: np.ndarray, max_slant_m: float,
                 freq_mhz: float, h_tx_m: float, h_rx_m: float) -> _BaseTables:
    """Loss tables of the base model by the rules of its registry entry.

    A horizontal-distance model gets one entry per sample distance ``d_m``, clamped at its
    minimum distance. A slant-distance model gets a table over ``log10`` of the distance
    from its minimum distance to ``max_slant_m``, :data:`_SLANT_TABLE_PER_DECADE` entries per
    decade, which the kernel interpolates linearly at the slant distance of each cell (exact
    for a loss linear in ``log10(d)``, such as free space). A model with LOS and NLOS
    formulas gets a table of each, unless the chain has a diffraction term.
    """
    closed_form = model.closed_form
    los_nlos = model.los_nlos and chain.diffraction is None
    d_min = float(model.min_distance_m)
    log_d0 = math.log10(d_min) if model.distance == "slant" else 0.0
    if model.distance == "slant":
        n = math.ceil((math.log10(max(max_slant_m, d_min)) - log_d0)
                      * _SLANT_TABLE_PER_DECADE) + 2
        d = 10.0 ** (log_d0 + np.arange(n) / _SLANT_TABLE_PER_DECADE)
    else:
        d = np.maximum(np.asarray(d_m, dtype=float), d_min)
    f, h_tx, h_rx = float(freq_mhz), float(h_tx_m), float(h_rx_m)
    los = np.ascontiguousarray(closed_form(d, f, h_tx, h_rx, np.ones(d.shape, bool)),
                               dtype=np.float64)
    nlos = (np.ascontiguousarray(closed_form(d, f, h_tx, h_rx, np.zeros(d.shape, bool)),
                                 dtype=np.float64) if los_nlos else los)
    return _BaseTables(los, nlos, model.distance == "slant", los_nlos, d_min, log_d0,
                       float(_SLANT_TABLE_PER_DECADE))


def _max_slant_m(dem: np.ndarray, w: Window, z_tx: float, h_rx: float, reach_m: float
                 ) -> float:
    """Bound on the slant distance from the antenna tip to a receiver in the window *w* of
    *dem*, m.

    The window is widened by a cell on each side, since the samples of its border cells
    interpolate the cells around them.
    """
    win = dem[max(w.r0 - 1, 0):w.r0 + w.n_rows + 1, max(w.c0 - 1, 0):w.c0 + w.n_cols + 1]
    finite = win[np.isfinite(win)]
    if finite.size == 0:
        return reach_m
    rise = max(abs(float(finite.max()) + h_rx - z_tx), abs(float(finite.min()) + h_rx - z_tx))
    return math.hypot(reach_m, rise)


_NO_LANDCOVER = np.zeros((1, 1), dtype=np.uint8)


def _itm_terms(frame: SiteFrame, site: tuple[float, float, float, float],
               link: LinkParams, cells: tuple[np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, ...]:
    """Loss, RSRP, diffraction (0), line of sight and vegetation depth of the ``itm`` base
    model (fast mode of :func:`towerplan.coverage.itm_area.itm_area`) on the site's frame,
    or at the window's *cells* only (rows and columns; the same values to the bit,
    :func:`towerplan.coverage.itm_area.itm_points_on`)."""
    x_m, y_m, h_tx, h_rx = site
    consts = itm_constants(link.itm, h_tx, h_rx, float(link.freq_mhz))
    if cells is None:
        area = itm_area_on(frame, x_m, y_m, consts, float(link.max_radius_m))
        loss, los, veg = area.loss_db, area.los, area.vegetation_m
    else:
        loss, los, veg = itm_points_on(frame, x_m, y_m, consts, float(link.max_radius_m),
                                       *cells)
    rsrp = np.float32(rsrp_dbm(link.eirp_dbm, 0.0, link.bandwidth_mhz, link.rx_gain_dbi)) - loss
    diff = np.where(np.isnan(loss), np.float32(np.nan), np.float32(0.0))
    depth = veg if veg is not None else np.zeros((1, 1), np.float32)
    return loss, rsrp, diff, los, depth


def sweep_site(dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float, h_tx_m: float, *,
               link: LinkParams, chain: ModelChain, k_factor: float = 4.0 / 3.0,
               landcover: np.ndarray | None = None,
               h_rx_m: float | None = None, offset: tuple[int, int] = (0, 0),
               grid_shape: tuple[int, int] | None = None) -> SiteCoverage | None:
    """Loss, RSRP, line of sight and diffraction of one site over the DEM cells around it.

    See the module documentation for exactly what is computed.

    Parameters
    ----------
    dem_m : numpy.ndarray
        Terrain heights, m, shape (rows, cols); nan where there is no data. Not modified.
    transform : affine.Affine
        North-up transform of the grid, in a metric CRS (m).
    x_m, y_m : float
        Site position in the grid's CRS, m.
    h_tx_m : float
        Antenna height above ground, m.
    link : LinkParams, keyword-only
        Frequency, handset height, EIRP, bandwidth, handset gain and the largest evaluated
        distance ``max_radius_m``. ``link.model`` is not used: ``chain`` sets the model.
    chain : ModelChain, keyword-only
        Model chain (base model, optional diffraction and clutter terms).
    k_factor : float, keyword-only
        Effective earth radius factor (default 4/3; ``math.inf`` for a flat earth).
    landcover : numpy.ndarray, optional, keyword-only
        ESA WorldCover class codes on the DEM grid (same shape); used by a clutter term.
    h_rx_m : float, optional, keyword-only
        Handset height above ground, m (default ``link.h_rx_m``).
    offset, grid_shape : keyword-only
        When *dem_m* (and *landcover*) is only a part of the grid (the rest of the arguments
        are the whole grid's): the grid row and column of its first cell, and the whole
        grid's shape. It must hold the site's window and
        :data:`~towerplan.coverage.radials.FRAME_MARGIN_CELLS` around it. The sweep reads
        only that frame (:func:`~towerplan.coverage.radials.site_frame`), so the values are
        the same to the bit whichever part of the grid holding it is given.

    Returns
    -------
    SiteCoverage or None
        The site's window, in rows and columns of the whole grid; None when the window
        misses the grid.

    Raises
    ------
    InputDataError
        For a rotated grid or a land cover off the DEM grid (listing every problem).
    ModelDomainError
        For invalid heights, frequency, radius or k-factor, or ITM settings outside the
        model's limits.
    DEMCoverageError
        When the DEM has no height under the site.

    References
    ----------
    ITU-R P.526-15, section 4.1, eqs. (26) and (31); section 4.5.1 (earth bulge).

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> from towerplan.radio.chain import parse_chain
    >>> link = LinkParams("hata-suburban", 900.0, 1.5, 61.0, 10.0, 0.0, -105.0, 3000.0)
    >>> dem = np.zeros((101, 101), dtype=np.float32)
    >>> dem[:, 70] = 80.0  # a north-south wall 2 km east of the site
    >>> cov = sweep_site(dem, Affine(100, 0, 0, 0, -100, 10_100), 5050.0, 5050.0, 42.0,
    ...                  link=link, chain=parse_chain("hata-suburban+deygout"))
    >>> cov.rows, cov.cols
    (slice(20, 82, None), slice(20, 82, None))
    >>> bool(cov.los[30, 40]), bool(cov.los[30, 55])  # 1 km and 2.5 km east of the site
    (True, False)
    >>> round(float(cov.diffraction_db[30, 55]), 2)
    31.57
    """
    return _sweep_site(dem_m, transform, x_m, y_m, h_tx_m, link=link, chain=chain,
                       k_factor=k_factor, landcover=landcover, h_rx_m=h_rx_m, merge=_NO_MERGE,
                       offset=offset, grid_shape=grid_shape)


def sweep_site_into(best: tuple[np.ndarray, np.ndarray, np.ndarray], site: int,
                    dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float,
                    h_tx_m: float, *, link: LinkParams, chain: ModelChain,
                    k_factor: float = 4.0 / 3.0) -> bool:
    """Fold one site's design RSRP into a best-server composite on the DEM grid, in the sweep.

    ``best`` is the composite's RSRP (float32 dBm, nan = no server), server index (int32) and
    number of servers at or above ``link.threshold_rsrp_dbm`` (uint16), each of the DEM's
    shape; they change in place exactly as composing the RSRP of :func:`sweep_site` with
    :func:`towerplan.coverage.composite.best_server` would change them, without the site's
    loss, line-of-sight and diffraction layers. Returns False, changing nothing, for what
    needs those layers or corrects the RSRP after the sweep (the ``itm`` base model, a
    drive-test calibration, an antenna pattern, margins or an uplink shortfall): the caller
    then composes the RSRP of :func:`sweep_site`. The checks and errors are those of
    :func:`sweep_site`.
    """
    if base_model(chain.base).distance == "profile" or link.calibrated or link.adjusted:
        return False
    rsrp, server, count = best
    merge = _Merge(rsrp, server, count, int(site), np.float32(link.threshold_rsrp_dbm), 0, 0)
    _sweep_site(dem_m, transform, x_m, y_m, h_tx_m, link=link, chain=chain,
                k_factor=k_factor, landcover=None, h_rx_m=None, merge=merge, offset=(0, 0),
                grid_shape=None)
    return True


class _Prepared(NamedTuple):
    """What a sweep of one site needs, checked: its frame and, but for the ``itm`` base
    model, the kernel's constants and tables."""

    frame: SiteFrame
    z0: float  # ground height under the site, m
    h_tx: float
    h_rx: float
    with_veg: bool
    sweep: _Sweep | None  # None for a base model over the whole profile (itm)
    tables: _BaseTables | None


def _prepare(dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float, h_tx_m: float,
             *, link: LinkParams, chain: ModelChain, k_factor: float,
             landcover: np.ndarray | None, h_rx_m: float | None, merge: bool, listed: bool,
             offset: tuple[int, int], grid_shape: tuple[int, int] | None,
             stacklevel: int = 4) -> _Prepared | None:
    """Check the arguments of a sweep and cut the site's frame (None when its window misses
    the grid); raises the errors documented in :func:`sweep_site` and warns at the frame
    *stacklevel* up."""
    dem = np.asarray(dem_m)
    h_rx = float(link.h_rx_m if h_rx_m is None else h_rx_m)
    h_tx = float(h_tx_m)
    model = base_model(chain.base)
    grid_problems, param_problems, soft = _problems(dem, transform, model, h_tx, h_rx, link,
                                                    k_factor, landcover)
    if grid_problems:
        msg = "sweep_site: " + "; ".join(grid_problems + param_problems)
        raise InputDataError(msg, tuple(grid_problems + param_problems))
    if param_problems:
        msg = "sweep_site: " + "; ".join(param_problems)
        raise ModelDomainError(msg)
    if model.loss_db is None and chain.base != "itm":
        msg = (f"{chain.base} is point-to-point only; coverage rasters need a chain such as "
               "'hata-suburban+deygout', 'rma+deygout' or 'itm'")
        raise ModelDomainError(msg)
    if soft:
        warnings.warn("; ".join(soft), ModelValidityWarning, stacklevel=stacklevel)
    if dem.dtype not in (np.float32, np.float64):
        dem = dem.astype(np.float64)
    radius = float(link.max_radius_m)
    with_veg = landcover is not None and chain.clutter is not None
    frame = site_frame(dem, transform, float(x_m), float(y_m), radius,
                       landcover=np.asarray(landcover) if with_veg else None,
                       offset=offset, grid_shape=grid_shape)
    if frame is None:
        return None
    w = frame.window
    z0 = float(bilinear_k(frame.dem, frame.col0, frame.row0))
    if math.isnan(z0):
        msg = (f"the DEM has no height under the site at x = {x_m:.1f}, y = {y_m:.1f}; "
               "use a DEM that covers every site")
        raise DEMCoverageError(msg)
    if model.distance == "profile":
        return _Prepared(frame, z0, h_tx, h_rx, with_veg, None, None)
    step = min(w.cell_x, w.cell_y)
    n_samp = math.ceil(radius / step) + 1
    d_samp = np.arange(n_samp) * step
    max_slant = (_max_slant_m(frame.dem, w, z0 + h_tx, h_rx, float(d_samp[-1]) + step)
                 if model.distance == "slant" else 0.0)
    tables = _base_tables(model, chain, d_samp, max_slant, float(link.freq_mhz), h_tx, h_rx)
    sweep = _Sweep(
        col0=frame.col0, row0=frame.row0, dcol=step / w.cell_x, drow=-step / w.cell_y,
        step=step, n_rad=radial_count(radius, step), n_samp=n_samp, radius=radius,
        z_tx=z0 + h_tx, h_rx=h_rx, h_tx=h_tx,
        inv_2kr=0.0 if math.isinf(k_factor) else 0.5 / (k_factor * EARTH_RADIUS_M),
        lam=SPEED_OF_LIGHT_M_S / (float(link.freq_mhz) * 1e6),
        with_diff=chain.diffraction is not None, excess=model.smooth_earth,
        slant=tables.slant,
        los_nlos=tables.los_nlos, d_min=tables.d_min, log_d0=tables.log_d0,
        per_decade=tables.per_decade,
        rsrp_offset=float(rsrp_dbm(link.eirp_dbm, 0.0, link.bandwidth_mhz, link.rx_gain_dbi)),
        with_veg=with_veg, max_depth=WEISSBERGER_MAX_DEPTH_M, merge=merge, listed=listed)
    return _Prepared(frame, z0, h_tx, h_rx, with_veg, sweep, tables)


def _correct(rsrp: np.ndarray, loss: np.ndarray | None, depth: np.ndarray | None,
             dx: np.ndarray, dy: np.ndarray, drop: np.ndarray | None, link: LinkParams,
             chain: ModelChain) -> None:
    """Add what the sweep kernels leave out, in place: the clutter loss of the vegetation
    *depth* (m; None without a clutter term), the drive-test calibration at the offsets
    *dx*, *dy* (m) and the pattern, margins and uplink shortfall
    (:meth:`LinkParams.rsrp_correction_db`, with the antenna tip *drop* m above the
    receiver tip). Arrays of cells of any shape that broadcast together."""
    if depth is not None:
        wet = depth > 0
        if wet.any():
            extra = np.asarray(clutter_loss_db(depth[wet].astype(float), link.freq_mhz,
                                               model=str(chain.clutter)), dtype=np.float32)
            if loss is not None:
                loss[wet] += extra
            rsrp[wet] -= extra
    if link.calibrated:
        calib = link.calibration_db(np.hypot(dx, dy)).astype(np.float32)
        if loss is not None:
            loss -= calib
        rsrp += calib
    if link.adjusted:  # antenna pattern, margins and uplink (LinkParams.rsrp_correction_db)
        assert drop is not None
        rsrp += link.rsrp_correction_db(dx, dy, drop).astype(np.float32)


def sweep_points(dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float,
                 h_tx_m: float, rows: np.ndarray, cols: np.ndarray, *, link: LinkParams,
                 chain: ModelChain, k_factor: float = 4.0 / 3.0,
                 landcover: np.ndarray | None = None, h_rx_m: float | None = None,
                 offset: tuple[int, int] = (0, 0),
                 grid_shape: tuple[int, int] | None = None) -> np.ndarray:
    """Design RSRP of one site at some cells of the grid, dBm: the ``rsrp_dbm`` of
    :func:`sweep_site` at those cells, to the bit, without filling the rest of its window.

    The radials are walked as by :func:`sweep_site` (every sample is needed for the
    horizons); only the listed cells take values from them, each from the radial and the
    sample the whole window's fill gives it. Where demand units are few against the cells of
    a window (a 30 m grid, a 30 km radius) this costs a fraction of the whole sweep. The
    ``itm`` base model evaluates its fast mode at the cells alone, walking only the radials
    they need (:func:`towerplan.coverage.itm_area.itm_points_on`).

    Parameters
    ----------
    rows, cols : numpy.ndarray
        Rows and columns of the whole grid (int; repeats allowed).
    dem_m, transform, x_m, y_m, h_tx_m, link, chain, k_factor, landcover, h_rx_m, offset, grid_shape
        As for :func:`sweep_site`.

    Returns
    -------
    numpy.ndarray
        float32 dBm per cell, nan where the site's window does not reach the cell, beyond
        the radius and where the DEM has no data.

    Raises
    ------
    InputDataError, ModelDomainError, DEMCoverageError
        As :func:`sweep_site`.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    out = np.full(rows.shape, np.nan, dtype=np.float32)
    prep = _prepare(dem_m, transform, x_m, y_m, h_tx_m, link=link, chain=chain,
                    k_factor=k_factor, landcover=landcover, h_rx_m=h_rx_m, merge=False,
                    listed=True,
                    offset=offset, grid_shape=grid_shape, stacklevel=3)
    if prep is None:
        return out
    frame, w = prep.frame, prep.frame.window
    r = rows - (frame.row_at + w.r0)
    c = cols - (frame.col_at + w.c0)
    inside = (r >= 0) & (c >= 0) & (r < w.n_rows) & (c < w.n_cols)
    if not inside.any():
        return out
    r, c = r[inside], c[inside]
    cells, inverse = np.unique(r * w.n_cols + c, return_inverse=True)
    cell_r, cell_c = np.divmod(cells, w.n_cols)
    if prep.sweep is None:  # the itm base model: its fast mode at the cells
        _loss, rsrp, _diff, _los, depth = _itm_terms(
            frame, (float(x_m), float(y_m), prep.h_tx, prep.h_rx), link, (cell_r, cell_c))
    else:
        ptr = np.searchsorted(cell_r, np.arange(w.n_rows + 1))
        rsrp, depth = _run_sweep(prep, _NO_MERGE, (ptr.astype(np.int64),
                                                   np.ascontiguousarray(cell_c, np.int64)))[5:]
    drop = None
    if link.adjusted:
        drop = (prep.z0 + prep.h_tx - prep.h_rx
                - frame.dem[w.r0 + cell_r, w.c0 + cell_c])
    _correct(rsrp, None, depth if prep.with_veg else None, w.dx0 + w.cell_x * cell_c,
             w.dy0 - w.cell_y * cell_r, drop, link, chain)
    out[inside] = rsrp[inverse.reshape(-1)]
    return out


def _sweep_site(dem_m: np.ndarray, transform: Affine, x_m: float, y_m: float, h_tx_m: float,
                *, link: LinkParams, chain: ModelChain, k_factor: float,
                landcover: np.ndarray | None, h_rx_m: float | None, merge: _Merge,
                offset: tuple[int, int], grid_shape: tuple[int, int] | None
                ) -> SiteCoverage | None:
    prep = _prepare(dem_m, transform, x_m, y_m, h_tx_m, link=link, chain=chain,
                    k_factor=k_factor, landcover=landcover, h_rx_m=h_rx_m,
                    merge=merge.site >= 0, listed=False, offset=offset,
                    grid_shape=grid_shape)
    if prep is None:
        return None
    if prep.sweep is not None and prep.sweep.merge:
        # the composite has the shape of the array given: place the frame
        frame = prep.frame
        merge = merge._replace(row_at=frame.row_at - int(offset[0]),
                               col_at=frame.col_at - int(offset[1]))
        _run_sweep(prep, merge)
        return None
    return _finish(prep, x_m, y_m, link, chain)


_NO_CELLS = (np.zeros(1, np.int64), np.zeros(0, np.int64))


def _run_sweep(prep: _Prepared, merge: _Merge,
               cells: tuple[np.ndarray, np.ndarray] = _NO_CELLS) -> tuple[np.ndarray, ...]:
    """The sweep kernel over the prepared site's window (and its listed *cells*: row
    pointers and columns of the window, with ``prep.sweep.listed``)."""
    assert prep.sweep is not None and prep.tables is not None
    frame = prep.frame
    lc = frame.landcover if frame.landcover is not None else _NO_LANDCOVER
    return _sweep_k(frame.dem, lc, VEGETATION_LUT, prep.tables.los, prep.tables.nlos,
                    prep.sweep, frame.window,
                    sector_size(prep.sweep.n_rad, prep.sweep.n_samp), numba.get_num_threads(),
                    merge, cells[0], cells[1])


def _finish(prep: _Prepared, x_m: float, y_m: float, link: LinkParams, chain: ModelChain
            ) -> SiteCoverage:
    """The prepared site's layers over its whole window."""
    frame, w = prep.frame, prep.frame.window
    if prep.sweep is None:
        loss, rsrp, diff, los, depth = _itm_terms(frame, (float(x_m), float(y_m), prep.h_tx,
                                                          prep.h_rx), link)
    else:
        loss, rsrp, diff, los, depth = _run_sweep(prep, _NO_MERGE)[:5]
    dx = w.dx0 + w.cell_x * np.arange(w.n_cols)
    dy = w.dy0 - w.cell_y * np.arange(w.n_rows)
    drop = None
    if link.adjusted:
        drop = (prep.z0 + prep.h_tx - prep.h_rx
                - frame.dem[w.r0:w.r0 + w.n_rows, w.c0:w.c0 + w.n_cols])
    _correct(rsrp, loss, depth if prep.with_veg else None, dx[None, :], dy[:, None], drop,
             link, chain)
    return SiteCoverage(frame.rows, frame.cols, loss, rsrp, los, diff)
