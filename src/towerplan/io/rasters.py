"""Raster grids and the one raster writer (Cloud-Optimised GeoTIFF)."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

__all__ = ["DEFAULT_COG_PROFILE", "RasterGrid", "write_raster"]

log = logging.getLogger(__name__)

#: Creation options of every raster towerplan writes.
DEFAULT_COG_PROFILE: dict[str, object] = {
    "driver": "COG",
    "compress": "DEFLATE",
    "predictor": 2,
    "blocksize": 512,
    "overview_resampling": "average",
    "BIGTIFF": "IF_SAFER",
}


@dataclass(frozen=True, slots=True)
class RasterGrid:
    """A 2-D raster with its georeferencing.

    Attributes
    ----------
    array : numpy.ndarray
        Values, shape ``(rows, cols)``; ``nan`` marks missing data in float grids.
    transform : affine.Affine
        Pixel-to-CRS transform (north-up).
    crs : pyproj.CRS
        Coordinate reference system of the grid.
    nodata : float or None
        Nodata value of integer grids; float grids use ``nan``.
    """

    array: np.ndarray
    transform: Affine
    crs: CRS
    nodata: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns."""
        return (int(self.array.shape[0]), int(self.array.shape[1]))

    @property
    def resolution_m(self) -> float:
        """Cell size along x in CRS units (metres for projected grids)."""
        return float(abs(self.transform.a))

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in CRS units."""
        rows, cols = self.shape
        west, north = self.transform * (0, 0)
        east, south = self.transform * (cols, rows)
        return (min(west, east), min(south, north), max(west, east), max(south, north))

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """Return 1-D arrays of cell-centre x (per column) and y (per row)."""
        rows, cols = self.shape
        t = self.transform
        x = t.c + t.a * (np.arange(cols) + 0.5)
        y = t.f + t.e * (np.arange(rows) + 0.5)
        return x, y


def write_raster(path: str | Path, grid: RasterGrid, *, description: str = "",
                 tags: dict[str, str] | None = None) -> Path:
    """Write *grid* as a COG GeoTIFF atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or Path
        Destination file.
    grid : RasterGrid
        Values to write; float grids are written as float32 with nodata ``nan``.
    description : str
        Band description.
    tags : dict, optional
        Dataset metadata tags (model chain, scenario hash, ...).
    """
    import rasterio

    path = Path(path)
    arr = grid.array
    if np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
        nodata: float | None = float("nan")
    else:
        nodata = grid.nodata
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        profile = dict(DEFAULT_COG_PROFILE)
        with rasterio.open(
            tmp, "w", height=arr.shape[0], width=arr.shape[1], count=1, dtype=arr.dtype,
            crs=grid.crs.to_wkt(), transform=grid.transform, nodata=nodata, **profile,
        ) as dst:
            dst.write(arr, 1)
            if description:
                dst.set_band_description(1, description)
            if tags:
                dst.update_tags(**tags)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
