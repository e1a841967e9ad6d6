"""Factory fixtures writing small generated input files into ``tmp_path``.

Every file is generated here; nothing is copied from ../shared/data.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.io.rasters import RasterGrid, write_raster


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The test session's own towerplan cache (demo data, stage results), never the user's.

    With pytest-xdist the workers share one cache beside their temporary folders (the cache
    is safe for concurrent runs), so a stage one worker computed is reused by the others."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the session's folder, above each worker's own
    folder = base / "towerplan-cache"
    folder.mkdir(exist_ok=True)
    patch = pytest.MonkeyPatch()
    patch.setenv("TOWERPLAN_CACHE_DIR", str(folder))
    yield
    patch.undo()

#: Point the generated data sets are centred on (lon, lat degrees): Paser, East Kalimantan.
REF_LONLAT = (116.0, -1.7)
#: Metres per degree of longitude and latitude near REF_LONLAT.
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(REF_LONLAT[1]))
M_PER_DEG_LAT = 110_574.0

OPENCELLID_HEADER = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range",
                     "samples", "changeable", "created", "updated", "averageSignal")
OPENCELLID_VARIANT_HEADER = ("radio", "mcc", "mnc", "lac_tac", "cell_id", "unit", "lon", "lat",
                             "range_m", "samples", "changeable", "created_unix",
                             "updated_unix", "average_signal")


def surface_m(kind: str, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Elevation in metres of the generated terrain *kind* at lon/lat degrees.

    The surface is defined in geographic coordinates so tiles, formats and CRSs agree.
    ``flat``: 100 m. ``slope``: 200 m at REF_LONLAT, rising 20 m per km eastward.
    ``ridge``: 100 m plain with a 400 m high north-south ridge 5 km east of REF_LONLAT.
    """
    east_m = (np.asarray(lon) - REF_LONLAT[0]) * M_PER_DEG_LON
    north_m = (np.asarray(lat) - REF_LONLAT[1]) * M_PER_DEG_LAT
    if kind == "flat":
        return np.full(np.broadcast(east_m, north_m).shape, 100.0)
    if kind == "slope":
        return 200.0 + 0.02 * east_m + 0.0 * north_m
    if kind == "ridge":
        return 100.0 + 400.0 * np.exp(-((east_m - 5000.0) ** 2) / (2 * 1500.0**2)) + 0 * north_m
    msg = f"unknown terrain kind {kind!r}"
    raise ValueError(msg)


def _hole_slices(shape: tuple[int, int], n: int) -> list[tuple[slice, slice]]:
    """Return *n* separate 3x3 blocks spread along the grid's diagonal."""
    rows, cols = shape
    blocks = []
    for i in range(n):
        r = (i + 1) * rows // (n + 1)
        c = (i + 1) * cols // (n + 1)
        blocks.append((slice(r - 1, r + 2), slice(c - 1, c + 2)))
    return blocks


@pytest.fixture
def make_dem(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory writing a generated DEM and returning its path.

    Factory parameters: ``shape`` (rows, cols; for ``fmt="hgt"`` 1201x1201 or 3601x3601),
    ``kind`` (flat, ridge, slope; see :func:`surface_m`), ``crs``, ``res_m`` (cell size in
    metres; converted to degrees for geographic CRSs), ``origin`` (west, north of the grid in
    CRS units; default centres the grid on REF_LONLAT; for hgt the tile's NW corner in whole
    degrees), ``nodata_holes`` (number of 3x3 nodata blocks), ``fmt`` (tif or hgt), ``dtype``
    (float32 or int16 for tif), ``name`` (file name).
    """
    def factory(shape: tuple[int, int] = (60, 80), kind: str = "flat",
                crs: str = "EPSG:32750", res_m: float = 90.0,
                origin: tuple[float, float] | None = None, nodata_holes: int = 0,
                fmt: str = "tif", dtype: str = "float32", name: str | None = None) -> Path:
        if fmt == "hgt":
            return _write_hgt(tmp_path, shape, kind, origin, nodata_holes, name)
        target = CRS.from_user_input(crs)
        res = res_m / M_PER_DEG_LAT if target.is_geographic else res_m
        rows, cols = shape
        if origin is None:
            to_crs = Transformer.from_crs(4326, target, always_xy=True)
            cx, cy = to_crs.transform(*REF_LONLAT)
            origin = (cx - cols * res / 2, cy + rows * res / 2)
        transform = Affine(res, 0.0, origin[0], 0.0, -res, origin[1])
        xs = origin[0] + res * (np.arange(cols) + 0.5)
        ys = origin[1] - res * (np.arange(rows) + 0.5)
        gx, gy = np.meshgrid(xs, ys)
        to_lonlat = Transformer.from_crs(target, 4326, always_xy=True)
        lon, lat = to_lonlat.transform(gx, gy)
        values = surface_m(kind, lon, lat)
        if dtype == "int16":
            array = np.round(values).astype(np.int16)
            for block in _hole_slices(shape, nodata_holes):
                array[block] = -32768
            grid = RasterGrid(array, transform, target, -32768)
        else:
            array = values.astype(np.float32)
            for block in _hole_slices(shape, nodata_holes):
                array[block] = np.nan
            grid = RasterGrid(array, transform, target, None)
        path = tmp_path / (name or f"dem_{kind}_{rows}x{cols}.tif")
        return write_raster(path, grid)

    return factory


def _write_hgt(tmp_path: Path, shape: tuple[int, int], kind: str,
               origin: tuple[float, float] | None, nodata_holes: int,
               name: str | None) -> Path:
    """Write an SRTM .hgt tile: big-endian int16, pixel-centred on whole degrees."""
    if shape not in ((1201, 1201), (3601, 3601)):
        msg = f"an .hgt tile is 1201x1201 or 3601x3601, got {shape}"
        raise ValueError(msg)
    west, north = origin if origin is not None else (116, -1)
    size = shape[0]
    step = 1.0 / (size - 1)
    lon = west + step * np.arange(size)
    lat = north - step * np.arange(size)
    gx, gy = np.meshgrid(lon, lat)
    array = np.round(surface_m(kind, gx, gy)).astype(np.int16)
    for block in _hole_slices(shape, nodata_holes):
        array[block] = -32768
    south = int(north) - 1
    default = (f"{'N' if south >= 0 else 'S'}{abs(south):02d}"
               f"{'E' if west >= 0 else 'W'}{abs(int(west)):03d}.hgt")
    path = tmp_path / (name or default)
    array.astype(">i2").tofile(path)
    return path


@pytest.fixture
def make_villages(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory writing *n* square villages that tile an area near 116 E, 1.7 S.

    Factory parameters: ``n``, ``crs`` (the layer is reprojected to it), ``invalid`` (the first
    *invalid* villages become self-intersecting bow-ties), ``duplicate_code`` (the second
    village gets the first one's code), ``fmt`` (gpkg, shp, geojson, fgb), ``size_deg`` (side of
    a square, degrees), ``name`` (file stem). Codes follow Kemendagri (64.01.01.2001, ...);
    the last village is a kelurahan (64.01.01.1001). Population is 1000 x (index + 1).
    """
    def factory(n: int = 6, crs: str = "EPSG:4326", invalid: int = 0,
                duplicate_code: bool = False, fmt: str = "gpkg", size_deg: float = 0.015,
                name: str = "villages") -> Path:
        gdf = village_frame(n, invalid=invalid, duplicate_code=duplicate_code,
                            size_deg=size_deg).to_crs(crs)
        return write_vector(gdf, tmp_path / name, fmt)

    return factory


def village_frame(n: int = 6, *, invalid: int = 0, duplicate_code: bool = False,
                  size_deg: float = 0.015) -> gpd.GeoDataFrame:
    """Return the villages :func:`make_villages` writes, as an EPSG:4326 GeoDataFrame."""
    ncols = math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    west0 = REF_LONLAT[0] - ncols * size_deg / 2
    north0 = REF_LONLAT[1] + nrows * size_deg / 2
    records = []
    for i in range(n):
        r, c = divmod(i, ncols)
        w, n_ = west0 + c * size_deg, north0 - r * size_deg
        e, s = w + size_deg, n_ - size_deg
        if i < invalid:
            geom = shapely.Polygon([(w, s), (e, n_), (e, s), (w, n_), (w, s)])
        else:
            geom = shapely.box(w, s, e, n_)
        kelurahan = i == n - 1
        records.append({
            "code": "64.01.01.1001" if kelurahan else f"64.01.01.{2001 + i}",
            "name": f"Kelurahan {i + 1}" if kelurahan else f"Desa {i + 1}",
            "district_code": "64.01.01",
            "district": "Kecamatan Satu",
            "kind": "kelurahan" if kelurahan else "desa",
            "population": 1000.0 * (i + 1),
            "geometry": geom,
        })
    if duplicate_code and n > 1:
        records[1]["code"] = records[0]["code"]
    return gpd.GeoDataFrame(records, geometry="geometry", crs="EPSG:4326")


_DRIVERS = {"gpkg": "GPKG", "shp": "ESRI Shapefile", "geojson": "GeoJSON", "fgb": "FlatGeobuf"}


def write_vector(gdf: gpd.GeoDataFrame, stem: Path, fmt: str = "gpkg") -> Path:
    """Write *gdf* to ``stem.fmt`` with pyogrio and return the path.

    Shapefile field names are cut to 10 characters (``district_code`` -> ``district_c``).
    """
    path = stem.with_suffix(f".{fmt}")
    if fmt == "shp":
        geometry = gdf.geometry.name
        gdf = gdf.rename(columns={c: c[:10] for c in gdf.columns if c != geometry})
    gdf.to_file(path, driver=_DRIVERS[fmt], engine="pyogrio")
    return path


@pytest.fixture
def make_towers_csv(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory writing a towers CSV.

    Factory parameters: ``rows`` (sequence of dicts), ``layout`` (``simple``: header from the
    rows' keys; ``opencellid``: the OpenCelliD export header, missing fields filled with
    defaults; ``opencellid-variant``: the mnc/lac_tac/cell_id/range_m header), ``header``
    (False writes OpenCelliD rows without a header), ``name`` (file name).
    """
    def factory(rows: Sequence[dict[str, Any]], layout: str = "simple", header: bool = True,
                name: str = "towers.csv") -> Path:
        path = tmp_path / name
        if layout == "simple":
            fields: list[str] = []
            for row in rows:
                fields.extend(k for k in row if k not in fields)
            lines = [[str(row.get(f, "")) for f in fields] for row in rows]
        else:
            fields = list(OPENCELLID_HEADER if layout == "opencellid"
                          else OPENCELLID_VARIANT_HEADER)
            lines = [_opencellid_line(i, row) for i, row in enumerate(rows)]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            if header:
                writer.writerow(fields)
            writer.writerows(lines)
        return path

    return factory


def _opencellid_line(index: int, row: dict[str, Any]) -> list[str]:
    """Return one OpenCelliD record; *row* overrides defaults by standard or variant name."""
    aliases = {"mnc": "net", "lac_tac": "area", "cell_id": "cell", "range_m": "range",
               "created_unix": "created", "updated_unix": "updated",
               "average_signal": "averageSignal"}
    values: dict[str, Any] = {
        "radio": "LTE", "mcc": 510, "net": 10, "area": 100, "cell": 1000 + index, "unit": -1,
        "lon": REF_LONLAT[0], "lat": REF_LONLAT[1], "range": 1000, "samples": 1,
        "changeable": 1, "created": 1735856190, "updated": 1738037341, "averageSignal": 0,
    }
    for key, value in row.items():
        values[aliases.get(key, key)] = value
    return [str(values[k]) for k in OPENCELLID_HEADER]


@pytest.fixture
def elevation_at() -> Callable[[str, np.ndarray, np.ndarray], np.ndarray]:
    """Return :func:`surface_m`, the elevation of the generated terrains at lon/lat."""
    return surface_m


@pytest.fixture
def village_gdf() -> Callable[..., gpd.GeoDataFrame]:
    """Return :func:`village_frame`, building the generated villages in memory."""
    return village_frame


@pytest.fixture
def write_layer(tmp_path: Path) -> Callable[..., Path]:
    """Return a function writing a GeoDataFrame into ``tmp_path`` (``name``, ``fmt``)."""
    def write(gdf: gpd.GeoDataFrame, name: str = "layer", fmt: str = "gpkg") -> Path:
        return write_vector(gdf, tmp_path / name, fmt)

    return write
