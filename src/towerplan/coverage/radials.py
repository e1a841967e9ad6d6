"""Radial layout shared by the coverage kernels: the site's window of the grid, DEM sampling
between cell centres, the number of radials and sectors, the nearest radial of a cell and the
vegetation classes of the land cover.

:mod:`towerplan.coverage.sweep` and :mod:`towerplan.coverage.itm_area` walk radials laid out
by these functions, so a cell takes its values from the same radial in both.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

import numba
import numpy as np
from affine import Affine

from towerplan.radio.clutter import WORLDCOVER_CLUTTER, ClutterClass

__all__ = [
    "LEVELS",
    "SECTOR_BYTES",
    "VEGETATION_LUT",
    "FRAME_MARGIN_CELLS",
    "SiteFrame",
    "Window",
    "bilinear_k",
    "bilinear_inner_k",
    "edge_x_k",
    "frame_bounds",
    "grid_window",
    "inner_k",
    "radial_count",
    "bearing_radial_k",
    "radial_of_k",
    "row_span_k",
    "sector_size",
    "sector_triangle_k",
    "site_frame",
    "vegetation_lut",
]

#: Radials start at up to this many halvings of the radius (see the sweep's ``_start_sample``).
LEVELS = 3
#: Bytes of radial samples per sector, so that a sector stays in the processor cache.
SECTOR_BYTES = 256 * 1024


class Window(NamedTuple):
    """The site's window of the grid."""

    r0: int
    c0: int
    n_rows: int
    n_cols: int
    dx0: float  # east and north offsets of the first cell centre from the site, m
    dy0: float
    cell_x: float  # m
    cell_y: float


@numba.njit(cache=True, inline="always")
def bilinear_k(dem: np.ndarray, col: float, row: float) -> float:
    """DEM height at fractional cell-centre coordinates (nan outside the grid).

    Bilinear between the four surrounding cell centres; the nearest cell on the outer
    half-cell border of the grid and where one of the four is nodata.
    """
    rows, cols = dem.shape
    if not (-0.5 <= row <= rows - 0.5 and -0.5 <= col <= cols - 0.5):
        return np.nan
    c0 = math.floor(col)
    r0 = math.floor(row)
    if r0 >= 0 and c0 >= 0 and r0 + 1 < rows and c0 + 1 < cols:
        fc = col - c0
        fr = row - r0
        v = ((1.0 - fr) * ((1.0 - fc) * dem[r0, c0] + fc * dem[r0, c0 + 1])
             + fr * ((1.0 - fc) * dem[r0 + 1, c0] + fc * dem[r0 + 1, c0 + 1]))
        if not math.isnan(v):
            return float(v)
    rr = min(max(int(math.floor(row + 0.5)), 0), rows - 1)
    cc = min(max(int(math.floor(col + 0.5)), 0), cols - 1)
    return float(dem[rr, cc])


@numba.njit(cache=True, inline="always")
def inner_k(dem: np.ndarray, col0: float, row0: float, dcol: float, drow: float, first: int,
            last: int) -> bool:
    """True when the samples ``first .. last`` of the line ``(col0 + i dcol, row0 + i drow)``
    all lie where :func:`bilinear_inner_k` may be used (its ends do: the region is convex)."""
    rows, cols = dem.shape
    return (0.0 <= col0 + first * dcol < cols - 1 and 0.0 <= row0 + first * drow < rows - 1
            and 0.0 <= col0 + last * dcol < cols - 1 and 0.0 <= row0 + last * drow < rows - 1)


@numba.njit(cache=True, inline="always")
def bilinear_inner_k(dem: np.ndarray, col: float, row: float) -> float:
    """:func:`bilinear_k` at ``0 <= col < cols - 1``, ``0 <= row < rows - 1`` (where its four
    cells exist), without its bounds checks: the same arithmetic, so the same value."""
    c0 = int(col)
    r0 = int(row)
    fc = col - c0
    fr = row - r0
    v = ((1.0 - fr) * ((1.0 - fc) * dem[r0, c0] + fc * dem[r0, c0 + 1])
         + fr * ((1.0 - fc) * dem[r0 + 1, c0] + fc * dem[r0 + 1, c0 + 1]))
    if math.isnan(v):
        return bilinear_k(dem, col, row)
    return float(v)


@numba.njit(cache=True, inline="always")
def edge_x_k(px: float, py: float, qx: float, qy: float, at_y: float, lo: float, hi: float
            ) -> tuple[float, float]:
    """Widen ``[lo, hi]`` by where the segment p-q meets the line ``y = at_y``."""
    if min(py, qy) <= at_y <= max(py, qy):
        if py == qy:
            return min(lo, px, qx), max(hi, px, qx)
        x = px + (at_y - py) * (qx - px) / (qy - py)
        return min(lo, x), max(hi, x)
    return lo, hi


@numba.njit(cache=True, inline="always")
def bearing_radial_k(dx: float, dy: float, n_rad: int) -> int:
    """The radial nearest to the bearing of (dx, dy), ``0 .. n_rad - 1``."""
    return int(math.floor(math.atan2(dy, dx) * n_rad / (2.0 * math.pi) + 0.5)) % n_rad


@numba.njit(cache=True, inline="always")
def radial_of_k(dx: float, dy: float, ja: int, count: int, n_rad: int) -> int:
    """Nearest radial to the bearing of (dx, dy), relative to ``ja``, in ``-1 .. count``."""
    j = bearing_radial_k(dx, dy, n_rad) - ja
    j = (j + n_rad // 2) % n_rad - n_rad // 2
    return min(max(j, -1), count)


@numba.njit(cache=True)
def sector_triangle_k(ja: int, count: int, n_rad: int, radius: float, w: Window
                      ) -> tuple[float, float, float, float, int, int]:
    """Triangle that contains the wedge of radials ``ja .. ja + count - 1``, and its rows.

    Returns the corners ``(ax, ay)`` and ``(zx, zy)`` (the third is the site; offsets in m)
    on the bisectors before the first and after the last radial, and the first and last
    window rows the triangle reaches.
    """
    delta = 2.0 * math.pi / n_rad
    reach = (radius + 2.0 * max(w.cell_x, w.cell_y)) / math.cos(0.5 * count * delta)
    ax = reach * math.cos((ja - 0.5) * delta)
    ay = reach * math.sin((ja - 0.5) * delta)
    zx = reach * math.cos((ja + count - 0.5) * delta)
    zy = reach * math.sin((ja + count - 0.5) * delta)
    r_first = max(int(math.ceil((w.dy0 - max(0.0, ay, zy)) / w.cell_y)), 0)
    r_last = min(int(math.floor((w.dy0 - min(0.0, ay, zy)) / w.cell_y)), w.n_rows - 1)
    return ax, ay, zx, zy, r_first, r_last


@numba.njit(cache=True, inline="always")
def row_span_k(tri: tuple[float, float, float, float, int, int], dy: float, w: Window
               ) -> tuple[int, int]:
    """First and last window columns of the triangle ``tri`` on the row ``dy`` m north of
    the site, widened by a cell on each side."""
    ax, ay, zx, zy = tri[0], tri[1], tri[2], tri[3]
    lo, hi = edge_x_k(0.0, 0.0, ax, ay, dy, np.inf, -np.inf)
    lo, hi = edge_x_k(ax, ay, zx, zy, dy, lo, hi)
    lo, hi = edge_x_k(zx, zy, 0.0, 0.0, dy, lo, hi)
    c_first = max(int(math.floor((lo - w.dx0) / w.cell_x)) - 1, 0)
    c_last = min(int(math.ceil((hi - w.dx0) / w.cell_x)) + 1, w.n_cols - 1)
    return c_first, c_last


#: Cells of terrain kept around a site's window: a radial's last sample lies at most a cell
#: past the window's edge, and its bilinear height reads one cell further.
FRAME_MARGIN_CELLS = 3


class SiteFrame(NamedTuple):
    """What a kernel reads of the terrain for one site: its window and a margin.

    ``window`` and ``col0``/``row0`` count cells of ``dem`` (the frame's own array, C-ordered),
    whose first cell is cell ``(row_at, col_at)`` of the whole grid; ``window.dx0`` and
    ``window.dy0`` are the grid's own offsets of the window's first cell from the site.
    """

    dem: np.ndarray
    landcover: np.ndarray | None
    row_at: int
    col_at: int
    window: Window
    col0: float
    row0: float

    @property
    def rows(self) -> slice:
        """The window's rows of the whole grid."""
        return slice(self.row_at + self.window.r0, self.row_at + self.window.r0
                     + self.window.n_rows)

    @property
    def cols(self) -> slice:
        """The window's columns of the whole grid."""
        return slice(self.col_at + self.window.c0, self.col_at + self.window.c0
                     + self.window.n_cols)


def frame_bounds(transform: Affine, shape: tuple[int, int], x_m: float, y_m: float,
                 radius_m: float
                 ) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]] | None:
    """The site's window (:func:`grid_window`) and its frame, the window widened by
    :data:`FRAME_MARGIN_CELLS` and clipped to the grid, each as ``(row start, row stop,
    column start, column stop)`` of the grid; None when the window misses the grid."""
    bounds = grid_window(transform, shape, x_m, y_m, radius_m)
    if bounds is None:
        return None
    r0, r1, c0, c1 = bounds
    m = FRAME_MARGIN_CELLS
    return bounds, (max(r0 - m, 0), min(r1 + m, shape[0]), max(c0 - m, 0),
                    min(c1 + m, shape[1]))


def site_frame(dem: np.ndarray, transform: Affine, x_m: float, y_m: float, radius_m: float, *,
               landcover: np.ndarray | None = None, offset: tuple[int, int] = (0, 0),
               grid_shape: tuple[int, int] | None = None) -> SiteFrame | None:
    """The site's window of the grid (:func:`grid_window`) and the terrain around it.

    *dem* (and *landcover*) may be the whole grid or any part of it that holds the site's
    window and :data:`FRAME_MARGIN_CELLS` around it (clipped to the grid): *offset* is the
    grid row and column of its first cell and *grid_shape* the whole grid's shape (default
    *dem*'s). *transform* is always the whole grid's. Positions are computed in the whole
    grid's cells and shifted by whole cells (exact), so a kernel reading the frame gives the
    same values to the bit whichever part of the grid it was cut from.

    Returns None when the window misses the grid.

    Raises
    ------
    ValueError
        When *dem* does not hold the site's window and margin.
    """
    shape = tuple(dem.shape) if grid_shape is None else tuple(grid_shape)
    found = frame_bounds(transform, (int(shape[0]), int(shape[1])), x_m, y_m, radius_m)
    if found is None:
        return None
    (r0, r1, c0, c1), (top, bottom, left, right) = found
    row_off, col_off = int(offset[0]), int(offset[1])
    if (top < row_off or left < col_off or bottom > row_off + dem.shape[0]
            or right > col_off + dem.shape[1]):
        msg = (f"the terrain given (grid rows {row_off}-{row_off + dem.shape[0]}, columns "
               f"{col_off}-{col_off + dem.shape[1]}) does not hold the site's window and "
               f"margin (rows {top}-{bottom}, columns {left}-{right})")
        raise ValueError(msg)
    rows = slice(top - row_off, bottom - row_off)
    cols = slice(left - col_off, right - col_off)
    cell_x, cell_y = float(transform.a), float(-transform.e)
    window = Window(r0=r0 - top, c0=c0 - left, n_rows=r1 - r0, n_cols=c1 - c0,
                    dx0=transform.c + cell_x * (c0 + 0.5) - x_m,
                    dy0=transform.f - cell_y * (r0 + 0.5) - y_m,
                    cell_x=cell_x, cell_y=cell_y)
    col0 = (x_m - transform.c) / cell_x - 0.5
    row0 = (transform.f - y_m) / cell_y - 0.5
    return SiteFrame(np.ascontiguousarray(dem[rows, cols]),
                     None if landcover is None else np.ascontiguousarray(landcover[rows, cols]),
                     top, left, window, col0 - left, row0 - top)


def radial_count(radius_m: float, cell_m: float) -> int:
    """Smallest multiple of ``2**LEVELS`` radials spaced at most half a cell at ``radius_m``.

    At least ``8 * 2**LEVELS``, so that a sector of ``2**LEVELS`` radials spans at most
    45 degrees.
    """
    block = 1 << LEVELS
    n = math.ceil(2.0 * math.pi * radius_m / (0.5 * cell_m))
    return max(block * math.ceil(n / block), 8 * block)


def sector_size(n_rad: int, n_samp: int) -> int:
    """Radials per sector: a multiple of ``2**LEVELS`` with about 256 KiB of samples.

    At most an eighth of the radials, so that a sector's wedge is narrower than 45 degrees.
    """
    block = 1 << LEVELS
    size = max(SECTOR_BYTES // (8 * n_samp) // block, 1) * block
    return int(min(size, max(n_rad // 8 // block, 1) * block))


def grid_window(transform: Affine, shape: tuple[int, int], x_m: float, y_m: float,
            radius_m: float) -> tuple[int, int, int, int] | None:
    """Row and column bounds of the cells within ``radius_m`` (as in ``site_rsrp_window``)."""
    res_x, res_y = transform.a, -transform.e
    col_c = (x_m - transform.c) / res_x
    row_c = (transform.f - y_m) / res_y
    r0 = max(int(np.floor(row_c - radius_m / res_y)), 0)
    r1 = min(int(np.ceil(row_c + radius_m / res_y)) + 1, shape[0])
    c0 = max(int(np.floor(col_c - radius_m / res_x)), 0)
    c1 = min(int(np.ceil(col_c + radius_m / res_x)) + 1, shape[1])
    if r0 >= r1 or c0 >= c1:
        return None
    return r0, r1, c0, c1


def vegetation_lut(classes: Mapping[int, ClutterClass]) -> np.ndarray:
    """Lookup table: True at the codes of vegetation classes."""
    codes = [code for code, cls in classes.items() if cls.vegetation and code >= 0]
    lut = np.zeros(max(codes, default=0) + 1, dtype=np.bool_)
    lut[codes] = True
    return lut


VEGETATION_LUT = vegetation_lut(WORLDCOVER_CLUTTER)
