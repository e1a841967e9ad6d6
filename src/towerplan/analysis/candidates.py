"""Candidate sites for new towers.

Sources, in order of priority when two lie closer than ``min_spacing_m``: user-supplied
points, settlements in blank or partial villages, hilltops (local terrain maxima with some
prominence) and a regular grid over blank and partial villages and a band around them.
Water, steep ground and cells without terrain are excluded.
"""

from __future__ import annotations

import logging

import numpy as np
import shapely
from affine import Affine
from scipy import ndimage
from scipy.spatial import cKDTree

__all__ = [
    "ORIGIN_PRIORITY",
    "candidate_points",
    "hilltops",
    "slope_deg",
    "thin_points",
    "water_cells",
]

log = logging.getLogger(__name__)

#: Lower value wins when two candidates are too close together.
ORIGIN_PRIORITY: dict[str, int] = {"user": 0, "settlement": 1, "hilltop": 2, "grid": 3}

_MIN_PROMINENCE_M = 30.0
_WATER_CLASS = 80


def slope_deg(dem_m: np.ndarray, cell_m: float) -> np.ndarray:
    """Terrain slope in degrees by central differences (nan where the DEM is nan)."""
    gy, gx = np.gradient(dem_m.astype(float), cell_m)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def hilltops(dem_m: np.ndarray, cell_m: float, window_m: float,
             min_prominence_m: float = _MIN_PROMINENCE_M) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of local maxima that stand out from their window.

    A cell is a hilltop when it is the highest in a square window of ``window_m`` and at least
    ``min_prominence_m`` above the lowest cell of that window.
    """
    size = max(int(round(window_m / cell_m)) | 1, 3)
    filled = np.where(np.isfinite(dem_m), dem_m, -1e9)
    top = ndimage.maximum_filter(filled, size=size, mode="nearest")
    low = ndimage.minimum_filter(np.where(np.isfinite(dem_m), dem_m, 1e9), size=size,
                                 mode="nearest")
    mask = (filled == top) & np.isfinite(dem_m) & (dem_m - low >= min_prominence_m)
    # Plateaus give several equal maxima: keep one per connected patch.
    lab, n = ndimage.label(mask)
    if n == 0:
        return np.empty(0, int), np.empty(0, int)
    objs = ndimage.find_objects(lab)
    rows, cols = [], []
    for k, sl in enumerate(objs, start=1):
        r, c = np.nonzero(lab[sl] == k)
        rows.append(sl[0].start + int(r[0]))
        cols.append(sl[1].start + int(c[0]))
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def thin_points(xy_m: np.ndarray, priority: np.ndarray, min_spacing_m: float) -> np.ndarray:
    """Indices of points kept so that none lies closer than *min_spacing_m* to a kept one.

    Points are visited by priority (lower first), then by input order.
    """
    if len(xy_m) == 0 or min_spacing_m <= 0:
        return np.arange(len(xy_m))
    order = np.lexsort((np.arange(len(xy_m)), priority))
    tree = cKDTree(xy_m)
    taken = np.zeros(len(xy_m), dtype=bool)
    blocked = np.zeros(len(xy_m), dtype=bool)
    for i in order:
        if blocked[i]:
            continue
        taken[i] = True
        blocked[tree.query_ball_point(xy_m[i], r=min_spacing_m - 1e-9)] = True
    return np.flatnonzero(taken)


def candidate_points(
    target: shapely.Geometry,
    region: shapely.Geometry,
    dem_m: np.ndarray,
    transform: Affine,
    *,
    grid_spacing_m: float,
    include_hilltops: bool,
    hilltop_window_m: float,
    settlement_xy: np.ndarray | None,
    user_xy: np.ndarray | None,
    min_spacing_m: float,
    max_slope_deg: float,
    water: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Candidate positions and their origin.

    Parameters
    ----------
    target : shapely geometry
        Where new towers are wanted (blank and partial villages plus a band), metric CRS.
    region : shapely geometry
        All villages; candidates must lie inside it.
    dem_m : numpy.ndarray
        Terrain heights, m (nan = no data), on the grid of *transform*.
    transform : affine.Affine
        DEM grid transform.
    grid_spacing_m, hilltop_window_m, min_spacing_m, max_slope_deg : float
        See :class:`towerplan.scenario.Candidates`.
    include_hilltops : bool
        Add hilltops.
    settlement_xy, user_xy : numpy.ndarray, optional
        Settlement and user points, ``(n, 2)`` in m.
    water : numpy.ndarray of bool, optional
        Water cells on the DEM grid.

    Returns
    -------
    xy : numpy.ndarray
        ``(n, 2)`` positions, m.
    origin : numpy.ndarray of str
        ``user``, ``settlement``, ``hilltop`` or ``grid``.
    excluded : dict
        Number of points dropped per reason.
    """
    cell = abs(transform.a)
    parts: list[tuple[np.ndarray, str]] = []
    if user_xy is not None and len(user_xy):
        parts.append((np.asarray(user_xy, float), "user"))
    if settlement_xy is not None and len(settlement_xy):
        inside = shapely.contains_xy(target, settlement_xy[:, 0], settlement_xy[:, 1])
        parts.append((np.asarray(settlement_xy, float)[inside], "settlement"))
    if include_hilltops:
        r, c = hilltops(dem_m, cell, hilltop_window_m)
        x = transform.c + transform.a * (c + 0.5)
        y = transform.f + transform.e * (r + 0.5)
        inside = shapely.contains_xy(target, x, y)
        parts.append((np.column_stack([x, y])[inside], "hilltop"))
    minx, miny, maxx, maxy = shapely.bounds(target)
    gx = np.arange(np.ceil(minx / grid_spacing_m), np.floor(maxx / grid_spacing_m) + 1)
    gy = np.arange(np.ceil(miny / grid_spacing_m), np.floor(maxy / grid_spacing_m) + 1)
    mx, my = np.meshgrid(gx * grid_spacing_m, gy * grid_spacing_m)
    inside = shapely.contains_xy(target, mx.ravel(), my.ravel())
    parts.append((np.column_stack([mx.ravel(), my.ravel()])[inside], "grid"))

    xy = np.concatenate([p for p, _ in parts]) if parts else np.empty((0, 2))
    origin = np.concatenate([np.full(len(p), o, dtype=object) for p, o in parts])
    excluded = {"outside_region": 0, "no_terrain": 0, "water": 0, "steep": 0, "spacing": 0}
    keep = shapely.contains_xy(region, xy[:, 0], xy[:, 1])
    excluded["outside_region"] = int((~keep).sum())
    xy, origin = xy[keep], origin[keep]

    rows = np.clip(((xy[:, 1] - transform.f) / transform.e).astype(int), 0, dem_m.shape[0] - 1)
    cols = np.clip(((xy[:, 0] - transform.c) / transform.a).astype(int), 0, dem_m.shape[1] - 1)
    elev = dem_m[rows, cols]
    slope = slope_deg(dem_m, cell)[rows, cols]
    no_terrain = ~np.isfinite(elev)
    is_water = (elev <= 0) if water is None else (water[rows, cols] | (elev <= 0))
    steep = slope > max_slope_deg
    excluded["no_terrain"] = int(no_terrain.sum())
    excluded["water"] = int((is_water & ~no_terrain).sum())
    excluded["steep"] = int((steep & ~is_water & ~no_terrain).sum())
    ok = ~(no_terrain | is_water | steep)
    xy, origin = xy[ok], origin[ok]

    prio = np.array([ORIGIN_PRIORITY[o] for o in origin], dtype=int)
    kept = thin_points(xy, prio, min_spacing_m)
    excluded["spacing"] = int(len(xy) - len(kept))
    log.info("candidates: %d kept, excluded %s", len(kept), excluded)
    return xy[kept], origin[kept], excluded


def water_cells(landcover: np.ndarray | None, landmask: np.ndarray | None
                ) -> np.ndarray | None:
    """Water mask from land cover (class 80) and/or a land mask (False = water)."""
    water = None
    if landcover is not None:
        water = landcover == _WATER_CLASS
    if landmask is not None:
        water = ~landmask if water is None else (water | ~landmask)
    return water
