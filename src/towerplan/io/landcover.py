"""Land cover (ESA WorldCover classes) and land/water masks, warped onto the working grid."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from towerplan.io.rasters import (
    crs_label,
    grid_bounds,
    lonlat_bounds,
    open_raster,
    read_raster_onto,
)
from towerplan.io.report import LayerReport

__all__ = ["WORLDCOVER_CLASSES", "read_landcover", "read_landmask"]

log = logging.getLogger(__name__)

#: ESA WorldCover 10 m (2020/2021) class codes and names; 0 = no data.
WORLDCOVER_CLASSES: dict[int, str] = {
    10: "Tree cover",
    20: "Shrubland",
    30: "Grassland",
    40: "Cropland",
    50: "Built-up",
    60: "Bare / sparse vegetation",
    70: "Snow and ice",
    80: "Permanent water bodies",
    90: "Herbaceous wetland",
    95: "Mangroves",
    100: "Moss and lichen",
}

_M_PER_DEG = 111_320.0


def read_landcover(path: str | Path, *, dst_crs: CRS, transform: Affine,
                   shape: tuple[int, int]) -> tuple[np.ndarray, LayerReport]:
    """Read a land-cover raster of ESA WorldCover classes onto a target grid.

    Classes are resampled with *nearest* when target cells are about as small as the source
    cells and with *mode* (the most frequent class) when they are larger.

    Parameters
    ----------
    path : str or Path
        Raster of WorldCover class codes (any CRS).
    dst_crs : pyproj.CRS
        CRS of the target grid.
    transform : affine.Affine
        Pixel-to-CRS transform of the target grid.
    shape : tuple of int
        ``(rows, cols)`` of the target grid.

    Returns
    -------
    classes : numpy.ndarray of uint8
        WorldCover code per cell; 0 where there is no data or the code is unknown.
    report : LayerReport
        Share of each class, unknown codes and cells without data.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If the raster has no CRS.
    """
    method, note = _categorical_resampling(path, dst_crs, transform, "land cover")
    codes = read_raster_onto(path, dst_crs=dst_crs, transform=transform, shape=shape,
                             resampling=method, dst_dtype="int32", dst_nodata=0,
                             what="land cover")
    problems: list[str] = []
    known = np.isin(codes, list(WORLDCOVER_CLASSES))
    unknown = (codes != 0) & ~known
    if unknown.any():
        values, counts = np.unique(codes[unknown], return_counts=True)
        listed = ", ".join(f"{v} ({c} cells)" for v, c in zip(values, counts, strict=True))
        problems.append(f"codes {listed} are not ESA WorldCover classes; treated as no data")
    classes = np.where(known, codes, 0).astype(np.uint8)
    valid = int(known.sum())
    cell_km2 = _cell_area_km2(dst_crs, transform)
    empty = classes.size - valid
    notes = [note]
    if empty:
        # Outside the raster or nodata (often the sea): no clutter loss there. A note, not a
        # problem, so a land cover that stops at the coast still validates.
        notes.append(f"{empty} cells ({empty * cell_km2:.2f} km²) have no land cover: "
                     "no clutter loss there")
    if valid:
        values, counts = np.unique(classes[known], return_counts=True)
        order = np.argsort(-counts)
        notes.append("class shares: " + ", ".join(
            f"{WORLDCOVER_CLASSES[int(values[i])]} {100 * counts[i] / valid:.1f} %"
            for i in order))
    report = LayerReport(
        layer="landcover", source=str(path), crs=crs_label(dst_crs),
        extent=lonlat_bounds(grid_bounds(transform, shape), dst_crs), count=valid,
        problems=tuple(problems), notes=tuple(notes),
    )
    log.info("landcover: %d of %d cells classified from %s", valid, classes.size, path)
    return classes, report


def read_landmask(path: str | Path, *, dst_crs: CRS, transform: Affine,
                  shape: tuple[int, int]) -> tuple[np.ndarray, LayerReport]:
    """Read a land/water mask (1 = land, 0 = water) onto a target grid.

    Parameters
    ----------
    path : str or Path
        Mask raster (any CRS); its nodata value marks unknown cells.
    dst_crs : pyproj.CRS
        CRS of the target grid.
    transform : affine.Affine
        Pixel-to-CRS transform of the target grid.
    shape : tuple of int
        ``(rows, cols)`` of the target grid.

    Returns
    -------
    land : numpy.ndarray of bool
        True on land. Cells the mask does not cover (or marks as nodata) are True, so a missing
        mask never excludes anything; the report counts them.
    report : LayerReport
        Land share, cells without data, values other than 0 and 1.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If the raster has no CRS.
    """
    method, note = _categorical_resampling(path, dst_crs, transform, "land mask")
    values = read_raster_onto(path, dst_crs=dst_crs, transform=transform, shape=shape,
                              resampling=method, dst_dtype="float32", what="land mask")
    problems: list[str] = []
    missing = np.isnan(values)
    other = ~missing & (values != 0) & (values != 1)
    if other.any():
        found = ", ".join(f"{v:g}" for v in np.unique(values[other])[:10])
        problems.append(f"{int(other.sum())} cells hold values {found}, neither 0 (water) nor "
                        "1 (land); treated as water")
    land = (values == 1) | missing
    cell_km2 = _cell_area_km2(dst_crs, transform)
    known = ~missing
    notes = [note]
    if missing.any():
        # A mask smaller than the working grid (the coverage margin) is normal: a note.
        n = int(missing.sum())
        notes.append(f"{n} cells ({n * cell_km2:.2f} km²) outside the mask or nodata; "
                     "treated as land")
    if known.any():
        share = 100 * float((values[known] == 1).mean())
        notes.append(f"land {share:.1f} % of {int(known.sum())} cells with data")
    report = LayerReport(
        layer="landmask", source=str(path), crs=crs_label(dst_crs),
        extent=lonlat_bounds(grid_bounds(transform, shape), dst_crs), count=int(known.sum()),
        problems=tuple(problems), notes=tuple(notes),
    )
    return land, report


def _categorical_resampling(path: str | Path, dst_crs: CRS, transform: Affine,
                            what: str) -> tuple[str, str]:
    """Choose nearest or mode from the ratio of target to source cell size."""
    with open_raster(path, what=what) as ds:
        xres = float(ds.res[0])
        west, south, east, north = lonlat_bounds(tuple(ds.bounds), ds.crs.to_wkt())
        src_m = _cell_m(xres, ds.crs.is_geographic, (south + north) / 2)
        name = Path(path).name
        described = (f"{name}: {ds.width}x{ds.height} {ds.dtypes[0]}, "
                     f"{crs_label(ds.crs.to_wkt())}, nodata {ds.nodata}")
    target = CRS.from_user_input(dst_crs)
    dst_m = _cell_m(abs(transform.a), target.is_geographic, 0.0)
    method = "mode" if dst_m > 1.5 * src_m else "nearest"
    return method, (f"{described}; source cells ~{src_m:.0f} m, target {dst_m:.0f} m: "
                    f"{method} resampling")


def _cell_m(size: float, geographic: bool, lat: float) -> float:
    return size * _M_PER_DEG * math.cos(math.radians(lat)) if geographic else size


def _cell_area_km2(dst_crs: CRS, transform: Affine) -> float:
    target = CRS.from_user_input(dst_crs)
    area = abs(transform.a * transform.e)
    return area * _M_PER_DEG**2 / 1e6 if target.is_geographic else area / 1e6
