"""Raster grids, the one raster reader (warp onto a target grid) and the one writer (COG)."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.atomic import atomic_output

if TYPE_CHECKING:
    from rasterio.io import DatasetReader

__all__ = [
    "demand_grid",
    "DEFAULT_COG_PROFILE",
    "INTEGER_OVERVIEW_RESAMPLING",
    "RESAMPLING_METHODS",
    "RasterGrid",
    "crs_label",
    "footprint_onto",
    "grid_bounds",
    "lonlat_bounds",
    "open_raster",
    "read_raster_onto",
    "snap_grid",
    "write_raster",
]

log = logging.getLogger(__name__)

#: Creation options of every raster towerplan writes: ZSTD at level 1 writes about twice as
#: fast as DEFLATE at its default level, in files of about the same size (GDAL 2.3 or later
#: reads it: QGIS, rasterio, gdalinfo); the predictor is horizontal differencing for
#: integers and the floating-point one for floats. Overviews of floats average their cells;
#: those of integer grids (server indices, counts, classes) take the nearest cell
#: (:data:`INTEGER_OVERVIEW_RESAMPLING`), since an average of indices is no index (and the
#: nearest cell is also the cheaper overview: about 15 % of the writing time).
DEFAULT_COG_PROFILE: dict[str, object] = {
    "driver": "COG",
    "compress": "ZSTD",
    "level": 1,
    "predictor": "YES",
    "blocksize": 512,
    "overview_resampling": "average",
    "BIGTIFF": "IF_SAFER",
}
#: Overview resampling of integer rasters (see :data:`DEFAULT_COG_PROFILE`).
INTEGER_OVERVIEW_RESAMPLING = "nearest"


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
        west, north = self.transform @ (0, 0)
        east, south = self.transform @ (cols, rows)
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
    profile = dict(DEFAULT_COG_PROFILE)
    if np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32, copy=False)
        nodata: float | None = float("nan")
    else:
        nodata = grid.nodata
        profile["overview_resampling"] = INTEGER_OVERVIEW_RESAMPLING
    with atomic_output(path) as tmp, rasterio.open(
        tmp, "w", height=arr.shape[0], width=arr.shape[1], count=1, dtype=arr.dtype,
        crs=grid.crs.to_wkt(), transform=grid.transform, nodata=nodata, **profile,
    ) as dst:
        dst.write(arr, 1)
        if description:
            dst.set_band_description(1, description)
        if tags:
            dst.update_tags(**tags)
    return path


#: Resampling methods accepted by :func:`read_raster_onto` (GDAL warp names).
RESAMPLING_METHODS: tuple[str, ...] = (
    "nearest", "bilinear", "cubic", "cubic_spline", "lanczos", "average", "mode", "sum",
    "min", "max", "med",
)


def crs_label(crs: CRS | str) -> str:
    """Return ``EPSG:nnnn`` for *crs* when it has an EPSG code, else its name.

    Examples
    --------
    >>> crs_label(CRS.from_epsg(32750))
    'EPSG:32750'
    """
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.name


def lonlat_bounds(bounds: tuple[float, float, float, float],
                  crs: CRS | str) -> tuple[float, float, float, float]:
    """Return *bounds* given in *crs* as ``(west, south, east, north)`` in EPSG:4326 degrees.

    Parameters
    ----------
    bounds : tuple of float
        ``(west, south, east, north)`` in the units of *crs*.
    crs : pyproj.CRS or str
        CRS of *bounds*.

    Returns
    -------
    tuple of float
        Bounds in degrees; edges are densified so curved edges are enclosed.
    """
    src = CRS.from_user_input(crs)
    if src.equals(CRS.from_epsg(4326)):
        return tuple(float(v) for v in bounds)  # type: ignore[return-value]
    transformer = Transformer.from_crs(src, CRS.from_epsg(4326), always_xy=True)
    west, south, east, north = transformer.transform_bounds(*bounds, densify_pts=21)
    return (float(west), float(south), float(east), float(north))


def grid_bounds(transform: Affine, shape: tuple[int, int]) -> tuple[float, float, float, float]:
    """Return ``(west, south, east, north)`` of a north-up grid, in CRS units.

    Examples
    --------
    >>> grid_bounds(Affine(100.0, 0.0, 1000.0, 0.0, -100.0, 2200.0), (2, 3))
    (1000.0, 2000.0, 1300.0, 2200.0)
    """
    rows, cols = shape
    west, north = float(transform.c), float(transform.f)
    east = west + float(transform.a) * cols
    south = north + float(transform.e) * rows
    return (min(west, east), min(south, north), max(west, east), max(south, north))


def demand_grid(bounds: tuple[float, float, float, float], cell_m: float
                ) -> tuple[Affine, tuple[int, int]]:
    """Return the transform and shape of a grid of *cell_m* cells covering *bounds*.

    The origin is snapped to a multiple of ``cell_m`` so grids of the same region align.
    """
    west = math.floor(bounds[0] / cell_m) * cell_m
    south = math.floor(bounds[1] / cell_m) * cell_m
    east = math.ceil(bounds[2] / cell_m) * cell_m
    north = math.ceil(bounds[3] / cell_m) * cell_m
    cols = max(int(round((east - west) / cell_m)), 1)
    rows = max(int(round((north - south) / cell_m)), 1)
    return Affine(cell_m, 0.0, west, 0.0, -cell_m, north), (rows, cols)


def snap_grid(bounds: tuple[float, float, float, float],
              resolution: float) -> tuple[Affine, tuple[int, int]]:
    """Return the north-up grid covering *bounds* whose edges are multiples of *resolution*.

    Parameters
    ----------
    bounds : tuple of float
        ``(west, south, east, north)`` in CRS units.
    resolution : float
        Cell size in CRS units (metres for projected CRSs).

    Returns
    -------
    transform : affine.Affine
        Pixel-to-CRS transform of the grid.
    shape : tuple of int
        ``(rows, cols)``.

    Examples
    --------
    >>> t, shape = snap_grid((1010.0, 2020.0, 1290.0, 2200.0), 100.0)
    >>> (t.c, t.f, shape)
    (1000.0, 2200.0, (2, 3))
    """
    if not (resolution > 0 and math.isfinite(resolution)):
        msg = f"grid resolution must be a positive number, got {resolution!r}"
        raise ValueError(msg)
    west, south, east, north = bounds
    if not (east > west and north > south):
        msg = f"grid bounds must have west < east and south < north, got {bounds!r}"
        raise ValueError(msg)
    x0 = math.floor(west / resolution) * resolution
    y1 = math.ceil(north / resolution) * resolution
    cols = max(1, math.ceil(round((east - x0) / resolution, 9)))
    rows = max(1, math.ceil(round((y1 - south) / resolution, 9)))
    return Affine(resolution, 0.0, x0, 0.0, -resolution, y1), (rows, cols)


@contextmanager
def open_raster(path: str | Path, *, what: str = "raster") -> Iterator[DatasetReader]:
    """Open a georeferenced raster for reading, turning GDAL failures into towerplan errors.

    Parameters
    ----------
    path : str or Path
        GeoTIFF, SRTM ``.hgt`` or any raster GDAL reads.
    what : str
        What the file is (``"DEM"``, ``"land cover"``, ...), used in messages.

    Yields
    ------
    rasterio.io.DatasetReader
        The open dataset; closed on exit.

    Raises
    ------
    InputFileError
        If the file does not exist or GDAL cannot read it.
    InputDataError
        If the raster has no CRS or no georeferencing.
    """
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(path)
    if not path.exists():
        msg = f"{what} file not found: {path}"
        raise InputFileError(msg)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            ds = rasterio.open(path)
    except RasterioIOError as exc:
        msg = (f"cannot read {what} file {path} as a raster (GeoTIFF, SRTM .hgt, ...): {exc}; "
               "check that the file is complete and in a format GDAL reads")
        raise InputFileError(msg) from None
    try:
        if ds.crs is None:
            msg = (f"{what} file {path} has no CRS; set one, e.g. with "
                   f"gdal_edit.py -a_srs EPSG:4326 {path.name}")
            raise InputDataError(msg, problems=(msg,))
        if ds.transform == Affine.identity():
            msg = (f"{what} file {path} has no georeferencing (pixel coordinates only); "
                   "georeference it, e.g. with gdal_translate -a_ullr")
            raise InputDataError(msg, problems=(msg,))
        yield ds
    finally:
        ds.close()


def read_raster_onto(paths: str | Path | Sequence[str | Path], *, dst_crs: CRS | str,
                     transform: Affine, shape: tuple[int, int], resampling: str = "bilinear",
                     dst_dtype: Any = "float32", src_nodata: float | None = None,
                     dst_nodata: float | None = None, what: str = "raster",
                     file_nodata: Mapping[Path, float] | None = None) -> np.ndarray:
    """Warp band 1 of one or more rasters onto a target grid; the first valid value wins.

    Each file is reprojected with GDAL's warper straight into an array of the target grid,
    reading only the blocks it needs, so large tiles cost no more memory than the grid. A file
    already on the target grid's lattice (same CRS, cell size and orientation, origin a whole
    number of cells away) is read as a window instead: the values are the same, and reading is
    several times faster than warping.

    Parameters
    ----------
    paths : path or sequence of paths
        Source rasters, in priority order (earlier files win where they overlap).
    dst_crs : pyproj.CRS or str
        CRS of the target grid.
    transform : affine.Affine
        Pixel-to-CRS transform of the target grid.
    shape : tuple of int
        ``(rows, cols)`` of the target grid.
    resampling : str
        One of :data:`RESAMPLING_METHODS` (default ``"bilinear"``).
    dst_dtype : numpy dtype or str
        Data type of the result (default ``float32``).
    src_nodata : float, optional
        Nodata value of the sources; default: the value each file declares (none = all valid).
    dst_nodata : float, optional
        Value of target cells without data; default ``nan`` for float types and 0 otherwise.
    what : str
        What the files are (``"DEM"``, ``"land cover"``, ...), used in messages.
    file_nodata : mapping of Path to float, optional
        Nodata value of particular files that declare none (e.g. an SRTM void value found in
        them); *src_nodata*, when given, takes precedence.

    Returns
    -------
    numpy.ndarray
        Array of *shape* and *dst_dtype*; *dst_nodata* where no file has data.

    Raises
    ------
    InputFileError
        If a file is missing, unreadable or corrupt (named in the message).
    InputDataError
        If a file has no CRS or no georeferencing.
    """
    import rasterio
    from rasterio._err import CPLE_BaseError
    from rasterio.errors import RasterioError
    from rasterio.warp import Resampling, reproject

    if resampling not in RESAMPLING_METHODS:
        msg = f"resampling must be one of {', '.join(RESAMPLING_METHODS)}, got {resampling!r}"
        raise ValueError(msg)
    dtype = np.dtype(dst_dtype)
    fill = _default_nodata(dtype, dst_nodata)
    crs = _rio_crs(dst_crs)
    out: np.ndarray | None = None
    for path in _as_paths(paths):
        with open_raster(path, what=what) as ds:
            nodata = src_nodata if src_nodata is not None else ds.nodata
            if nodata is None and file_nodata:
                nodata = file_nodata.get(path)
            # (Warping an integer file into an integer grid of another nodata value gives the
            # file's nodata value in empty cells: that case keeps the warper.)
            same_nodata = (np.issubdtype(dtype, np.floating) or nodata is None
                           or nodata == fill)
            offset = _lattice_offset(ds, crs, transform) \
                if resampling in _SAME_ON_LATTICE and same_nodata and _plain_mask(ds) else None
            try:
                if offset is not None:
                    part = _read_window(ds, offset, shape, dtype, nodata, fill)
                else:
                    part = np.full(shape, fill, dtype=dtype)
                    reproject(
                        source=rasterio.band(ds, 1), destination=part, src_nodata=nodata,
                        dst_transform=transform, dst_crs=crs, dst_nodata=fill,
                        resampling=Resampling[resampling],
                    )
            except (RasterioError, CPLE_BaseError) as exc:
                msg = (f"cannot read {what} file {path}: {exc}; the file may be truncated or "
                       "corrupt, download it again")
                raise InputFileError(msg) from None
        if out is None:
            out = part  # the first file: every cell it has is taken
            continue
        take = _nodata_mask(out, fill) & ~_nodata_mask(part, fill)
        out[take] = part[take]
    assert out is not None  # _as_paths gives at least one file
    return out


def footprint_onto(paths: str | Path | Sequence[str | Path], *, dst_crs: CRS | str,
                   transform: Affine, shape: tuple[int, int], what: str = "raster") -> np.ndarray:
    """Return which cells of a target grid lie inside the extent of at least one raster.

    The footprint is the files' rectangles, holes included: it tells areas a file never covered
    from nodata holes inside a file.

    Parameters
    ----------
    paths : path or sequence of paths
        Source rasters.
    dst_crs : pyproj.CRS or str
        CRS of the target grid.
    transform : affine.Affine
        Pixel-to-CRS transform of the target grid.
    shape : tuple of int
        ``(rows, cols)`` of the target grid.
    what : str
        What the files are, used in messages.

    Returns
    -------
    numpy.ndarray of bool
        True where a cell centre lies inside some file's extent.
    """
    from rasterio.warp import Resampling, reproject

    crs = _rio_crs(dst_crs)
    inside = np.zeros(shape, dtype=np.uint8)
    for path in _as_paths(paths):
        with open_raster(path, what=what) as ds:
            src_crs, src_transform = ds.crs, ds.transform
            height, width = ds.height, ds.width
            offset = _lattice_offset(ds, crs, transform)
        if offset is not None:  # on the file's lattice: the file's rectangle of cells
            row, col = offset
            inside[max(0, -row):max(0, height - row), max(0, -col):max(0, width - col)] = 1
            continue
        # A coarse stand-in with the same outer edges marks the same cells as the file itself.
        rows, cols = min(height, 256), min(width, 256)
        coarse = src_transform @ Affine.scale(width / cols, height / rows)
        part = np.zeros(shape, dtype=np.uint8)
        reproject(
            source=np.ones((rows, cols), dtype=np.uint8), destination=part,
            src_transform=coarse, src_crs=src_crs, src_nodata=0,
            dst_transform=transform, dst_crs=crs, dst_nodata=0,
            resampling=Resampling.nearest,
        )
        inside |= part
    return inside.astype(bool)


#: Resampling methods that return the source values unchanged when the target grid lies on the
#: source's lattice (checked against GDAL's warper in tests/unit/io/test_terrain.py).
_SAME_ON_LATTICE: frozenset[str] = frozenset({"nearest", "bilinear", "cubic", "cubic_spline",
                                               "average"})


def _lattice_offset(ds: DatasetReader, crs: Any, transform: Affine) -> tuple[int, int] | None:
    """Return the (row, column) of the target grid's upper-left cell in *ds*'s pixels when the
    target grid lies on *ds*'s lattice (same CRS, cell size and orientation, whole-cell
    offset); None otherwise."""
    src = ds.transform
    if src.b != 0.0 or src.d != 0.0 or transform.b != 0.0 or transform.d != 0.0:
        return None
    if not (math.isclose(src.a, transform.a, rel_tol=1e-9)
            and math.isclose(src.e, transform.e, rel_tol=1e-9)):
        return None
    col = (transform.c - src.c) / src.a
    row = (transform.f - src.f) / src.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    if ds.crs is None or ds.crs != crs:
        return None
    return round(row), round(col)


def _plain_mask(ds: DatasetReader) -> bool:
    """True when band 1's validity is all-valid or given by its nodata value (no mask band or
    alpha, which GDAL's warper would apply)."""
    from rasterio.enums import MaskFlags

    flags = set(ds.mask_flag_enums[0])
    return flags in ({MaskFlags.all_valid}, {MaskFlags.nodata})


def _read_window(ds: DatasetReader, offset: tuple[int, int], shape: tuple[int, int],
                 dtype: np.dtype, nodata: float | None, fill: float) -> np.ndarray:
    """Read band 1 of *ds* onto a grid of *shape* whose upper-left cell is pixel *offset* of
    *ds*: cells outside the file and the file's *nodata* cells get *fill*."""
    from rasterio.windows import Window

    row, col = offset
    rows, cols = shape
    r0, r1 = max(0, -row), min(rows, ds.height - row)
    c0, c1 = max(0, -col), min(cols, ds.width - col)
    if r0 >= r1 or c0 >= c1:
        return np.full(shape, fill, dtype=dtype)
    window = Window(col + c0, row + r0, c1 - c0, r1 - r0)
    values = ds.read(1, window=window)
    invalid = None
    if nodata is not None:
        invalid = np.isnan(values) if isinstance(nodata, float) and math.isnan(nodata) \
            else values == nodata
    if (r0, r1, c0, c1) == (0, rows, 0, cols) and values.dtype == dtype:
        part = values
    else:
        part = np.full(shape, fill, dtype=dtype)
        part[r0:r1, c0:c1] = values
    if invalid is not None and invalid.any():
        part[r0:r1, c0:c1][invalid] = fill
    return part


def _as_paths(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    """Return *paths* as a non-empty list, checking that every file exists."""
    items = [paths] if isinstance(paths, str | Path) else list(paths)
    if not items:
        msg = "no raster file given"
        raise InputFileError(msg)
    result = [Path(p) for p in items]
    missing = [str(p) for p in result if not p.exists()]
    if missing:
        msg = f"raster file(s) not found: {', '.join(missing)}"
        raise InputFileError(msg)
    return result


def _rio_crs(crs: CRS | str) -> Any:
    """Return a rasterio CRS for a pyproj CRS or any user input."""
    import rasterio.crs

    return rasterio.crs.CRS.from_wkt(CRS.from_user_input(crs).to_wkt())


def _default_nodata(dtype: np.dtype, dst_nodata: float | None) -> float:
    if dst_nodata is not None:
        return dst_nodata
    return float("nan") if np.issubdtype(dtype, np.floating) else 0


def _nodata_mask(arr: np.ndarray, nodata: float) -> np.ndarray:
    if isinstance(nodata, float) and math.isnan(nodata):
        return np.isnan(arr)
    return arr == nodata
