"""Tiled rasters: Copernicus GLO-30 DEM and ESA WorldCover tile names, checks and mosaics.

Tiles are named by their south-west corner: Copernicus GLO-30 has 1 x 1 degree tiles
(``Copernicus_DSM_COG_10_S02_00_E116_00_DEM``), ESA WorldCover 3 x 3 degree tiles
(``ESA_WorldCover_10m_2021_v200_S03E114_Map.tif``). Neither publishes tiles over open sea;
such cells get the value the product uses for sea (0 m, class 80 water) and the fetch says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from towerplan.errors import TowerplanError
from towerplan.fetch.http import DownloadError
from towerplan.io.rasters import RasterGrid, open_raster, read_raster_onto

__all__ = [
    "COPERNICUS_DEM",
    "WORLDCOVER",
    "Tile",
    "TiledSource",
    "copernicus_dem_tile",
    "mosaic",
    "tiles_for",
    "verify_geotiff",
    "worldcover_tile",
]

Bounds = tuple[float, float, float, float]


def copernicus_dem_tile(lat: int, lon: int) -> str:
    """Name of the Copernicus GLO-30 tile whose south-west corner is *lat*, *lon* degrees.

    Examples
    --------
    >>> copernicus_dem_tile(-2, 116)
    'Copernicus_DSM_COG_10_S02_00_E116_00_DEM'
    >>> copernicus_dem_tile(0, -1)
    'Copernicus_DSM_COG_10_N00_00_W001_00_DEM'
    """
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"Copernicus_DSM_COG_10_{ns}{abs(lat):02d}_00_{ew}{abs(lon):03d}_00_DEM"


def worldcover_tile(lat: int, lon: int) -> str:
    """Name of the ESA WorldCover 2021 tile whose south-west corner is *lat*, *lon* degrees.

    Examples
    --------
    >>> worldcover_tile(-3, 114)
    'ESA_WorldCover_10m_2021_v200_S03E114_Map.tif'
    """
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"ESA_WorldCover_10m_2021_v200_{ns}{abs(lat):02d}{ew}{abs(lon):03d}_Map.tif"


@dataclass(frozen=True, slots=True)
class TiledSource:
    """A raster product published as a grid of tiles.

    Attributes
    ----------
    kind : str
        Short name: cache folder and output key (``dem``, ``landcover``).
    title : str
        Product name in messages and ``sources.json``.
    licence : str
        Licence of the product.
    attribution : str
        Attribution its licence requires.
    step_deg : int
        Tile size, degrees.
    sea_value : float
        Value of cells in tiles the product does not publish (open sea).
    sea_meaning : str
        What *sea_value* means, for notes.
    name : callable
        ``name(lat, lon)`` of the tile with that south-west corner.
    url_path : callable
        Path of a tile below the base URL, from its name.
    """

    kind: str
    title: str
    licence: str
    attribution: str
    step_deg: int
    sea_value: float
    sea_meaning: str
    name: Callable[[int, int], str]
    url_path: Callable[[str], str]

    def url(self, base_url: str, tile: str) -> str:
        """Return the URL of *tile* below *base_url*."""
        return f"{base_url.rstrip('/')}/{self.url_path(tile)}"

    def file_name(self, tile: str) -> str:
        """Return the file name of *tile* in the cache."""
        return tile if tile.endswith(".tif") else f"{tile}.tif"


COPERNICUS_DEM = TiledSource(
    kind="dem",
    title="Copernicus DEM GLO-30",
    licence="Copernicus DEM licence (free, worldwide, with attribution)",
    attribution=("© DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018 provided "
                 "under COPERNICUS by the European Union and ESA"),
    step_deg=1,
    sea_value=0.0,
    sea_meaning="0 m (sea level, as the product uses over sea)",
    name=copernicus_dem_tile,
    url_path=lambda tile: f"{tile}/{tile}.tif",
)

WORLDCOVER = TiledSource(
    kind="landcover",
    title="ESA WorldCover 10 m 2021 v200",
    licence="CC BY 4.0",
    attribution=("© ESA WorldCover project 2021 / Contains modified Copernicus Sentinel data "
                 "(2021) processed by ESA WorldCover consortium"),
    step_deg=3,
    sea_value=80.0,
    sea_meaning="class 80 (permanent water bodies)",
    name=worldcover_tile,
    url_path=lambda tile: tile,
)


@dataclass(frozen=True, slots=True)
class Tile:
    """One tile of a :class:`TiledSource`: its name and extent in degrees."""

    name: str
    bounds: Bounds


def tiles_for(source: TiledSource, bbox: Bounds) -> list[Tile]:
    """Return the tiles of *source* that intersect *bbox*, north to south, west to east.

    Examples
    --------
    >>> [t.name[-18:] for t in tiles_for(COPERNICUS_DEM, (115.5, -2.5, 116.5, -1.5))][:2]
    ['S02_00_E115_00_DEM', 'S02_00_E116_00_DEM']
    >>> len(tiles_for(WORLDCOVER, (115.0, -2.7, 116.9, -0.7)))
    1
    """
    west, south, east, north = bbox
    step = source.step_deg
    lats = range(math.floor(south / step) * step, math.ceil(north / step) * step, step)
    lons = range(math.floor(west / step) * step, math.ceil(east / step) * step, step)
    return [Tile(source.name(lat, lon), (float(lon), float(lat), float(lon + step),
                                         float(lat + step)))
            for lat in reversed(lats) for lon in lons]


def verify_geotiff(path: str | Path, *, label: str, url: str) -> None:
    """Check that a downloaded file is a georeferenced GeoTIFF whose every block decodes.

    Raises
    ------
    DownloadError
        Naming the tile and URL when the file does not open, has no CRS, or a block fails
        to decode (truncated or corrupt).
    """
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    try:
        with open_raster(path, what=label) as ds:
            if ds.driver != "GTiff":
                msg = f"a {ds.driver} raster, not a GeoTIFF"
                raise DownloadError(msg)
            rows = max(int(ds.block_shapes[0][0]), 256)
            for row in range(0, ds.height, rows):
                ds.read(1, window=Window(0, row, ds.width, min(rows, ds.height - row)))
    except (TowerplanError, RasterioError) as exc:
        reason = " ".join(str(exc).replace(str(path), "").split())[:200]
        msg = (f"{label}: the file downloaded from {url} is not a readable GeoTIFF "
               f"({reason}); nothing was cached; try again later")
        raise DownloadError(msg, url) from None


def mosaic(paths: Sequence[str | Path], bbox: Bounds, *, sea_boxes: Sequence[Bounds] = (),
           sea_value: float = 0.0, what: str = "raster") -> RasterGrid:
    """Mosaic tiles and clip them to *bbox*, on the first tile's pixel grid.

    The tiles are read with :func:`towerplan.io.rasters.read_raster_onto` (nearest neighbour
    onto the tiles' own grid, so values are copied, not resampled).

    Parameters
    ----------
    paths : sequence of str or Path
        Tiles in one CRS (degrees); the first one wins where they overlap.
    bbox : tuple of float
        ``(west, south, east, north)`` in the tiles' CRS; widened to whole pixels.
    sea_boxes : sequence of tuple of float
        Extents of unpublished tiles; their cells get *sea_value*.
    sea_value : float
        Value of cells in *sea_boxes*.
    what : str
        What the tiles are, for messages.

    Returns
    -------
    RasterGrid
        Band 1: float grids with ``nan`` where no tile has data, integer grids with the tiles'
        nodata value (0 when they declare none).
    """
    with open_raster(paths[0], what=what) as first:
        dtype = np.dtype(first.dtypes[0])
        floating = np.issubdtype(dtype, np.floating)
        nodata = math.nan if floating else (first.nodata if first.nodata is not None else 0)
        res_x, res_y = (float(v) for v in first.res)
        west, south, east, north = _align(bbox, first.transform.c, first.transform.f, res_x,
                                          res_y)
        crs = CRS.from_wkt(first.crs.to_wkt())
    transform = Affine(res_x, 0.0, west, 0.0, -res_y, north)
    shape = (round((north - south) / res_y), round((east - west) / res_x))
    band = read_raster_onto(paths, dst_crs=crs, transform=transform, shape=shape,
                            resampling="nearest", dst_dtype=dtype, dst_nodata=nodata, what=what)
    if sea_boxes:
        rows, cols = band.shape
        xs = transform.c + transform.a * (np.arange(cols) + 0.5)
        ys = transform.f + transform.e * (np.arange(rows) + 0.5)
        empty = np.isnan(band) if floating else band == nodata
        for west, south, east, north in sea_boxes:
            inside = (((ys >= south) & (ys < north))[:, None]
                      & ((xs >= west) & (xs < east))[None, :])
            band[inside & empty] = sea_value
    return RasterGrid(band, transform, crs, None if floating else float(nodata))


def _align(bbox: Bounds, x_origin: float, y_origin: float, res_x: float,
           res_y: float) -> Bounds:
    """Widen *bbox* to whole pixels of a grid with the given origin and cell size.

    Examples
    --------
    >>> _align((0.26, -0.74, 0.74, -0.26), 0.0, 0.0, 0.5, 0.5)
    (0.0, -1.0, 1.0, 0.0)
    """
    eps = 1e-9
    west = x_origin + math.floor((bbox[0] - x_origin) / res_x + eps) * res_x
    east = x_origin + math.ceil((bbox[2] - x_origin) / res_x - eps) * res_x
    north = y_origin - math.floor((y_origin - bbox[3]) / res_y + eps) * res_y
    south = y_origin - math.ceil((y_origin - bbox[1]) / res_y - eps) * res_y
    return (west, south, east, north)
