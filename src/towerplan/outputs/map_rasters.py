"""Raster overlays of the HTML map: the hillshaded relief and the RSRP coverage as PNG data URIs.

Grids are reprojected to Web Mercator (the map's display CRS) and resampled so the longest
side stays within ``_MAX_IMAGE_PX`` pixels; nothing is fetched from the network.
"""

from __future__ import annotations

import base64
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.outputs.styles import rsrp_colors

if TYPE_CHECKING:
    from towerplan.io.rasters import RasterGrid

__all__ = ["coverage_uri", "grid_corners", "hillshade", "relief_uri"]

#: Longest side of an embedded image, pixels; larger grids are resampled for display.
_MAX_IMAGE_PX = 1400


def hillshade(elevation_m: np.ndarray, dx_m: float, dy_m: float, *,
              azimuth_deg: float = 315.0, altitude_deg: float = 45.0) -> np.ndarray:
    """Return the illumination (0..1) of a north-up elevation grid.

    Parameters
    ----------
    elevation_m : numpy.ndarray
        Elevation, metres; ``nan`` cells take the mean of the grid and come out ``nan``.
    dx_m, dy_m : float
        Cell width and height, metres (positive).
    azimuth_deg : float
        Direction the light comes from, degrees clockwise from north (default 315, NW).
    altitude_deg : float
        Height of the light above the horizon, degrees (default 45).

    Returns
    -------
    numpy.ndarray
        Cosine of the angle between the surface normal and the light, clipped to 0..1.

    Examples
    --------
    >>> round(float(hillshade(np.zeros((3, 3)), 30.0, 30.0)[1, 1]), 4)  # flat: sin(45°)
    0.7071
    """
    z = np.asarray(elevation_m, dtype=np.float64)
    valid = np.isfinite(z)
    if not valid.any():
        return np.full(z.shape, np.nan)
    if min(z.shape) < 2:
        return np.where(valid, math.sin(math.radians(altitude_deg)), np.nan)
    slope_rows, slope_cols = np.gradient(np.where(valid, z, np.nanmean(z)), dy_m, dx_m)
    dz_east, dz_north = slope_cols, -slope_rows  # rows run southwards
    az, alt = math.radians(azimuth_deg), math.radians(altitude_deg)
    light = (math.cos(alt) * math.sin(az), math.cos(alt) * math.cos(az), math.sin(alt))
    norm = np.sqrt(dz_east**2 + dz_north**2 + 1.0)
    shade = (-dz_east * light[0] - dz_north * light[1] + light[2]) / norm
    return np.where(valid, np.clip(shade, 0.0, 1.0), np.nan)


_SEA_RGB = (170, 206, 230)


def _relief_colors(elevation_m: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """Return RGBA of a hypsometric tint (green lowland to brown hills) times the hillshade.

    Cells at or below 0 m (sea) are drawn flat blue.
    """
    z = np.asarray(elevation_m, dtype=np.float64)
    valid = np.isfinite(z) & np.isfinite(shade)
    out = np.zeros((*z.shape, 4), dtype=np.uint8)
    if not valid.any():
        return out
    lo, hi = np.percentile(z[valid], [2, 98])
    frac = np.clip((np.where(valid, z, lo) - lo) / max(hi - lo, 1.0), 0.0, 1.0)
    stops = np.array([0.0, 0.35, 0.7, 1.0])
    tint = np.array([(214, 230, 190), (196, 214, 160), (214, 196, 158), (190, 166, 132)], float)
    light = 0.45 + 0.6 * np.where(valid, shade, 1.0)
    for band in range(3):  # 6 bits per channel: invisible here, and the PNG compresses better
        value = np.clip(np.round(np.interp(frac, stops, tint[:, band]) * light), 0, 255)
        out[..., band] = (value.astype(np.uint8) & 0xFC) | 2
    sea = valid & (z <= 0.0)
    out[sea, :3] = _SEA_RGB
    out[..., 3] = np.where(valid, 255, 0).astype(np.uint8)
    return out


def grid_corners(transform: Any, cols: int, rows: int) -> tuple[float, float, float, float]:
    """``(west, south, east, north)`` of a north-up grid, from its affine coefficients."""
    xs = (transform.c, transform.c + transform.a * cols + transform.b * rows)
    ys = (transform.f, transform.f + transform.d * cols + transform.e * rows)
    return min(xs), min(ys), max(xs), max(ys)


def _to_web_mercator(grid: RasterGrid, values: np.ndarray, *, resampling: str
                     ) -> tuple[np.ndarray, list[list[float]], float]:
    """Reproject *values* (on *grid*) to EPSG:3857; return the array, its lat/lon bounds and
    its cell size on the ground, m (the Mercator cell times the cosine of the mid-latitude).

    The target has square cells covering the grid's extent with about as many cells as the
    source, at most ``_MAX_IMAGE_PX`` along a side. *resampling* is a
    :class:`rasterio.enums.Resampling` name (``nearest`` for classes, ``average`` to shrink
    a DEM).
    """
    from affine import Affine
    from pyproj import Transformer
    from rasterio.warp import Resampling, reproject

    rows, cols = grid.shape
    to_merc = Transformer.from_crs(grid.crs, 3857, always_xy=True)
    west, south, east, north = to_merc.transform_bounds(*grid_corners(grid.transform, cols, rows),
                                                        densify_pts=21)
    res = math.sqrt((east - west) * (north - south) / (rows * cols))
    res = max(res, (east - west) / _MAX_IMAGE_PX, (north - south) / _MAX_IMAGE_PX)
    width, height = (max(1, math.ceil(span / res)) for span in (east - west, north - south))
    transform = Affine(res, 0.0, west, 0.0, -res, north)
    out = np.full((height, width), np.nan, dtype=np.float32)
    reproject(
        source=np.asarray(values, dtype=np.float32), destination=out,
        src_transform=grid.transform, src_crs=grid.crs.to_wkt(), src_nodata=np.nan,
        dst_transform=transform, dst_crs="EPSG:3857", dst_nodata=np.nan,
        resampling=Resampling[resampling],
    )
    west, south, east, north = grid_corners(transform, width, height)
    (lon0, lon1), (lat0, lat1) = Transformer.from_crs(3857, 4326, always_xy=True).transform(
        [west, east], [south, north])
    ground_m = res * math.cos(math.radians((lat0 + lat1) / 2))
    return out, [[lat0, lon0], [lat1, lon1]], ground_m


def _png_data_uri(rgba: np.ndarray) -> str:
    """Encode an RGBA uint8 array as a PNG data URI."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgba, dtype=np.uint8)).save(
        buffer, format="PNG", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def relief_uri(grid: RasterGrid) -> tuple[str, list[list[float]]]:
    """The hillshaded relief of a DEM grid as a PNG data URI, and its lat/lon bounds.

    The DEM is first averaged onto the image's Web Mercator grid (at most
    ``_MAX_IMAGE_PX`` a side) and shaded there, so the memory is that of the image, not of
    a fine DEM (a 30 m kabupaten has about 40 million cells).
    """
    z = np.asarray(grid.array, dtype=np.float32)
    if grid.nodata is not None and not math.isnan(grid.nodata):
        z = np.where(z == np.float32(grid.nodata), np.float32(np.nan), z)
    z_3857, bounds, cell_m = _to_web_mercator(grid, z, resampling="average")
    del z
    shade = hillshade(z_3857, cell_m, cell_m)
    return _png_data_uri(_relief_colors(z_3857, shade)), bounds


def coverage_uri(grid: RasterGrid, threshold_dbm: float) -> tuple[str, list[list[float]]]:
    values, bounds, _ = _to_web_mercator(grid, grid.array, resampling="nearest")
    return _png_data_uri(rsrp_colors(values, threshold_dbm)), bounds


# --------------------------------------------------------------------------- text and data
