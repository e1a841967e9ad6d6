"""Terrain: read DEM files (GeoTIFF, SRTM ``.hgt``), mosaic them onto the working UTM grid.

The working CRS is chosen from the data with :func:`utm_crs_for`; :func:`read_dem` warps every
file onto one snapped grid, fills small nodata holes inside the files' footprint and checks that
the terrain covers the area to plan.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from towerplan.errors import (
    DEMCoverageError,
    InputDataError,
    InputFileError,
    NodataRepairWarning,
)
from towerplan.i18n import bilingual
from towerplan.io.rasters import (
    RasterGrid,
    crs_label,
    footprint_onto,
    grid_bounds,
    lonlat_bounds,
    open_raster,
    read_raster_onto,
    snap_grid,
)
from towerplan.io.report import LayerReport

__all__ = ["DEM_RESAMPLING", "ELEVATION_RANGE_M", "REPAIRED_SHARE_LIMIT", "VOID_VALUES",
           "dem_source_cell_m", "read_dem", "undeclared_void", "utm_crs_for"]

log = logging.getLogger(__name__)

#: Resampling methods that make sense for elevations.
DEM_RESAMPLING: tuple[str, ...] = ("nearest", "bilinear", "cubic", "cubic_spline", "average")

_SENTINEL = -1.0e30

#: Elevations a DEM may hold, m: below the Dead Sea shore (-430 m) to above Everest (8,849 m).
ELEVATION_RANGE_M: tuple[float, float] = (-500.0, 9000.0)

#: Void values of common DEMs (SRTM and GDAL int16, ArcGIS, int16 maximum): in a file that
#: declares no nodata value, cells holding one of them are nodata.
VOID_VALUES: tuple[float, ...] = (-32768.0, -9999.0, 32767.0)

#: A DEM with more than this share of its cells filled by interpolation gets a limitation.
REPAIRED_SHARE_LIMIT = 0.25


def utm_crs_for(lon: float, lat: float) -> CRS:
    """Return the WGS 84 / UTM CRS of the zone containing a point.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in degrees (EPSG:4326).

    Returns
    -------
    pyproj.CRS
        EPSG:326zz north of the equator, EPSG:327zz south of it (zz = zone 01..60). The
        Norway/Svalbard zone exceptions are not applied.

    Raises
    ------
    InputDataError
        If *lon* or *lat* is not a finite number within -180..180 / -90..90 degrees.

    Examples
    --------
    >>> utm_crs_for(116.0, -1.7).to_epsg()
    32750
    >>> utm_crs_for(106.8, 6.2).to_epsg()
    32648
    """
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180
            and -90 <= lat <= 90):
        msg = (f"cannot choose a UTM zone for lon {lon!r}, lat {lat!r}: expected degrees within "
               "-180..180 and -90..90; check that the layer's CRS is right")
        raise InputDataError(msg, problems=(msg,))
    zone = min(int((lon + 180.0) // 6.0) + 1, 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def dem_source_cell_m(paths: Sequence[Path]) -> float:
    """Largest cell of the DEM files as given, m (degrees converted at their latitude)."""
    cells = []
    for path in paths:
        with open_raster(path, what="DEM") as ds:
            xres, yres = ds.res
            if ds.crs.is_geographic:
                lat = math.radians((ds.bounds.bottom + ds.bounds.top) / 2.0)
                cells.append(max(xres * 111_320.0 * math.cos(lat), yres * 110_574.0))
            else:
                cells.append(max(xres, yres) * float(ds.crs.linear_units_factor[1]))
    return max(cells, default=0.0)


def read_dem(paths: Sequence[str | Path], *, dst_crs: CRS,
             bounds: tuple[float, float, float, float], resolution_m: float,
             resampling: str = "bilinear", fill_nodata: bool = True,
             max_fill_distance_m: float = 5000.0,
             require_bounds: tuple[float, float, float, float] | None = None,
             timings: dict[str, float] | None = None,
             ) -> tuple[RasterGrid, LayerReport]:
    """Mosaic one or more DEM files onto a grid in the working CRS.

    Parameters
    ----------
    paths : sequence of str or Path
        GeoTIFF or SRTM ``.hgt`` files in any CRS; where they overlap the first file wins.
    dst_crs : pyproj.CRS
        Working CRS, projected in metres (see :func:`utm_crs_for`).
    bounds : tuple of float
        Wanted grid extent ``(west, south, east, north)`` in *dst_crs* metres; the grid is
        snapped outward to multiples of *resolution_m*.
    resolution_m : float
        Cell size of the grid, metres.
    resampling : str
        One of :data:`DEM_RESAMPLING` (default ``"bilinear"``).
    fill_nodata : bool
        Fill nodata holes that are surrounded by data (default True). Areas that no file covers
        are never filled. Holes left unfilled stay ``nan`` (no coverage, no candidate there):
        the report gives their share in a note and a limitation.
    max_fill_distance_m : float
        Cells farther than this from valid data stay unfilled, metres (default 5,000).
    require_bounds : tuple of float, optional
        Extent in *dst_crs* metres that the files must cover, typically the villages' extent.
    timings : dict, optional
        Wall-clock seconds are added to its ``"inputs"`` (opening and checking the files,
        their footprint and extent) and ``"reproject"`` (warping onto the grid, filling,
        the report) entries.

    Returns
    -------
    grid : RasterGrid
        Elevations in metres above the geoid as float32, ``nan`` where there is no data.
    report : LayerReport
        What was read, filled and left empty. A file declaring no nodata value whose cells
        hold a value of :data:`VOID_VALUES` has them read as nodata, with a note; more than
        :data:`REPAIRED_SHARE_LIMIT` of the cells filled, or any left unfilled, adds a
        limitation.

    Raises
    ------
    InputFileError
        If a file is missing, unreadable or corrupt.
    InputDataError
        If a file has no CRS, the grid holds no elevation at all, or some cells lie outside
        :data:`ELEVATION_RANGE_M` (the message names their share).
    DEMCoverageError
        If the files do not cover *require_bounds*.
    ValueError
        If *dst_crs* is not projected in metres or an argument is out of range.

    Warns
    -----
    NodataRepairWarning
        When nodata holes were filled by interpolation (also listed in ``report.repairs``).
    """
    started = time.perf_counter()
    files = [Path(p) for p in ([paths] if isinstance(paths, str | Path) else paths)]
    if not files:
        msg = "no DEM file given; set inputs.dem to one or more GeoTIFF or .hgt files"
        raise InputFileError(msg)
    missing = [str(p) for p in files if not p.exists()]
    if missing:
        msg = f"DEM file(s) not found: {', '.join(missing)}"
        raise InputFileError(msg)
    crs = CRS.from_user_input(dst_crs)
    _check_arguments(crs, resolution_m, resampling, max_fill_distance_m)
    transform, shape = snap_grid(bounds, resolution_m)
    sources = _describe_sources(files)
    footprint = footprint_onto(files, dst_crs=crs, transform=transform, shape=shape, what="DEM")
    if require_bounds is not None:
        _check_coverage(footprint, transform, crs, require_bounds, sources)
    checked = time.perf_counter()
    voids = {path: value for path in files if (value := undeclared_void(path)) is not None}
    elevation = read_raster_onto(files, dst_crs=crs, transform=transform, shape=shape,
                                 resampling=resampling, dst_dtype="float32", what="DEM",
                                 file_nodata=voids)
    source = "; ".join(str(p) for p in files)
    _check_elevations(elevation, footprint, ", ".join(p.name for p in files))
    repairs: list[str] = []
    extra_notes = [f"{path.name}: no nodata value declared, but cells hold {value:g}, a common "
                   "void value (SRTM, ArcGIS): treated as nodata" for path, value in voids.items()]
    limitations: list[str] = []
    cell_km2 = resolution_m**2 / 1e6
    holes = np.isnan(elevation) & footprint
    n_data = int(footprint.sum())
    filled, unfilled = 0, int(holes.sum())
    if holes.any() and fill_nodata:
        filled, unfilled = _fill_holes(elevation, footprint, max_fill_distance_m / resolution_m)
        if filled:
            text = f"{filled} cells ({filled * cell_km2:.2f} km²) of nodata filled"
            repairs.append(text)
            warnings.warn(f"{source}: {text}", NodataRepairWarning, stacklevel=2)
    if filled > REPAIRED_SHARE_LIMIT * n_data:
        limitations.append(bilingual("limit.dem_repaired", share=100.0 * filled / n_data,
                                     limit=100.0 * REPAIRED_SHARE_LIMIT))
    if unfilled:
        share = 100.0 * unfilled / n_data
        why = (f"farther than {max_fill_distance_m:g} m from data or open to areas no file "
               "covers" if fill_nodata else "fill_nodata is off")
        extra_notes.append(
            f"{unfilled} nodata cells ({share:.1f} % of the DEM cells, {unfilled * cell_km2:.2f}"
            f" km²) left unfilled ({why}): they have no elevation, so no coverage is computed "
            "on them and no candidate stands on them")
        limitations.append(bilingual("limit.dem_unfilled", share=share, n=unfilled))
    outside = int((~footprint).sum())
    if outside:
        extra_notes.append(f"{outside} grid cells ({outside * cell_km2:.2f} km²) of the grid "
                           "lie outside every DEM file (no elevation)")
    grid = RasterGrid(elevation, transform, crs, None)
    report = replace(_report(grid, source, sources, resampling, repairs, extra_notes),
                     limitations=tuple(limitations))
    finished = time.perf_counter()
    if timings is not None:
        timings["inputs"] = timings.get("inputs", 0.0) + checked - started
        timings["reproject"] = timings.get("reproject", 0.0) + finished - checked
    log.info("terrain: %d files -> %dx%d grid at %g m in %.2f s", len(files), shape[0],
             shape[1], resolution_m, finished - started)
    return grid, report


def undeclared_void(path: Path) -> float | None:
    """Return the common void value (:data:`VOID_VALUES`) a DEM file without a declared nodata
    value holds, or None (a declared nodata value, or none of them present)."""
    with open_raster(path, what="DEM") as ds:
        if ds.nodata is not None:
            return None
        present: set[float] = set()
        for _, window in ds.block_windows(1):
            block = ds.read(1, window=window)
            present.update(v for v in VOID_VALUES if (block == v).any())
            if len(present) == len(VOID_VALUES):
                break
    return next((v for v in VOID_VALUES if v in present), None)


def _check_elevations(elevation: np.ndarray, footprint: np.ndarray, names: str) -> None:
    """Refuse a grid without any elevation, and one whose values are not elevations in m.

    Raises
    ------
    InputDataError
        When every cell is nodata, or some lie outside :data:`ELEVATION_RANGE_M` (naming
        the share of the cells with data).
    """
    values = elevation[~np.isnan(elevation)]  # an infinite value is data, out of range
    if not values.size:
        msg = (f"DEM {names}: no elevation at all over the area to plan (every one of its "
               f"{int(footprint.sum()):,} cells is nodata); check the files and their nodata "
               "value")
        raise InputDataError(msg, problems=(msg,))
    low, high = ELEVATION_RANGE_M
    outside = int(((values < low) | (values > high)).sum())
    if outside:
        msg = (f"DEM {names}: {100.0 * outside / values.size:.1f} % of the cells with data "
               f"({outside:,} of {values.size:,}) lie outside {low:,.0f}..{high:,.0f} m "
               f"(min {values.min():,.0f} m, max {values.max():,.0f} m): these are not "
               "elevations in metres; check the units and declare the nodata value, e.g. with "
               "gdal_edit.py -a_nodata -32768")
        raise InputDataError(msg, problems=(msg,))


def _check_arguments(crs: CRS, resolution_m: float, resampling: str,
                     max_fill_distance_m: float) -> None:
    if not crs.is_projected or crs.axis_info[0].unit_name not in ("metre", "meter"):
        msg = (f"the working CRS must be projected in metres, got {crs.to_string()}; "
               "use utm_crs_for(lon, lat)")
        raise ValueError(msg)
    if not (resolution_m > 0 and math.isfinite(resolution_m)):
        msg = f"resolution_m must be a positive number of metres, got {resolution_m!r}"
        raise ValueError(msg)
    if resampling not in DEM_RESAMPLING:
        msg = f"resampling must be one of {', '.join(DEM_RESAMPLING)}, got {resampling!r}"
        raise ValueError(msg)
    if not max_fill_distance_m >= 0:
        msg = f"max_fill_distance_m must be zero or positive, got {max_fill_distance_m!r}"
        raise ValueError(msg)


def _describe_sources(files: list[Path]) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Return a note and the extent in degrees of every file; raise for all files without CRS."""
    found: list[tuple[str, tuple[float, float, float, float]]] = []
    problems: list[str] = []
    for path in files:
        try:
            with open_raster(path, what="DEM") as ds:
                extent = lonlat_bounds(tuple(ds.bounds), ds.crs.to_wkt())
                xres, yres = ds.res
                units = "°" if ds.crs.is_geographic else " m"
                note = (f"{path.name}: {ds.driver} {ds.width}x{ds.height} {ds.dtypes[0]}, "
                        f"{crs_label(ds.crs.to_wkt())}, cell {xres:.6g}x{yres:.6g}{units}, "
                        f"nodata {ds.nodata}")
                if ds.count > 1:
                    note += f", {ds.count} bands (band 1 used)"
        except InputDataError as exc:
            problems.append(str(exc))
            continue
        found.append((note, extent))
    if problems:
        msg = "; ".join(problems)
        raise InputDataError(msg, problems=tuple(problems))
    return found


def _fill_holes(elevation: np.ndarray, footprint: np.ndarray,
                max_distance_cells: float) -> tuple[int, int]:
    """Fill, in place, nodata cells enclosed by data inside *footprint*.

    Returns
    -------
    filled, unfilled : int
        Cells filled, and nodata cells inside the footprint left as ``nan``.
    """
    from rasterio.fill import fillnodata
    from scipy import ndimage

    missing = np.isnan(elevation)
    labels, _ = ndimage.label(missing)
    open_labels = np.unique(labels[missing & ~footprint])
    enclosed = missing & ~np.isin(labels, open_labels)
    holes = missing & footprint
    if not enclosed.any() or max_distance_cells <= 0:
        return 0, int(holes.sum())
    # Only the enclosed holes plus the search distance around them take part in the fill.
    distance = max(float(max_distance_cells), 1.0)
    pad = math.ceil(distance) + 1
    rows, cols = np.nonzero(enclosed)
    window = (slice(max(rows.min() - pad, 0), rows.max() + pad + 1),
              slice(max(cols.min() - pad, 0), cols.max() + pad + 1))
    part = elevation[window]
    work = np.where(missing[window], np.float32(_SENTINEL), part).astype(np.float32)
    result = fillnodata(work, mask=(~missing[window]).astype(np.uint8),
                        max_search_distance=distance)
    done = enclosed[window] & (result != np.float32(_SENTINEL))
    part[done] = result[done]
    filled = int(done.sum())
    return filled, int(holes.sum()) - filled


def _check_coverage(footprint: np.ndarray, transform: Affine, crs: CRS,
                    require_bounds: tuple[float, float, float, float],
                    sources: list[tuple[str, tuple[float, float, float, float]]]) -> None:
    """Raise :class:`DEMCoverageError` when part of *require_bounds* lies outside every file."""
    rows, cols = footprint.shape
    res = abs(transform.a)
    xs = transform.c + res * (np.arange(cols) + 0.5)
    ys = transform.f - res * (np.arange(rows) + 0.5)
    west, south, east, north = require_bounds
    in_x = (xs >= west) & (xs <= east)
    in_y = (ys >= south) & (ys <= north)
    grid_w, grid_n = transform.c, transform.f
    grid_e, grid_s = grid_w + cols * res, grid_n - rows * res
    if west < grid_w or east > grid_e or south < grid_s or north > grid_n:
        msg = (f"require_bounds {require_bounds} reach beyond the DEM grid bounds "
               f"{(grid_w, grid_s, grid_e, grid_n)}; widen 'bounds'")
        raise ValueError(msg)
    wanted = in_y[:, None] & in_x[None, :]
    uncovered = wanted & ~footprint
    if not uncovered.any():
        return
    dem = (min(e[0] for _, e in sources), min(e[1] for _, e in sources),
           max(e[2] for _, e in sources), max(e[3] for _, e in sources))
    need = lonlat_bounds(require_bounds, crs)
    r_idx, c_idx = np.nonzero(uncovered)
    gap = lonlat_bounds((float(xs[c_idx.min()] - res / 2), float(ys[r_idx.max()] - res / 2),
                         float(xs[c_idx.max()] + res / 2), float(ys[r_idx.min()] + res / 2)), crs)
    sides = _side_messages(need, dem)
    area_km2 = uncovered.sum() * res**2 / 1e6
    parts = [*sides,
             f"uncovered part {_span(gap)} ({area_km2:,.0f} km²)",
             f"DEM extent {_span(dem)}",
             f"add DEM files covering it (SRTM tiles {', '.join(_srtm_tiles(gap))})"]
    msg = "DEM does not cover the area to plan: " + "; ".join(parts)
    raise DEMCoverageError(msg, problems=tuple(parts))


def _side_messages(need: tuple[float, float, float, float],
                   dem: tuple[float, float, float, float]) -> list[str]:
    tol = 1e-6
    sides = []
    if need[0] < dem[0] - tol:
        sides.append(f"villages extend to {_lon(need[0])} but the DEM starts at {_lon(dem[0])}")
    if need[2] > dem[2] + tol:
        sides.append(f"villages extend to {_lon(need[2])} but the DEM ends at {_lon(dem[2])}")
    if need[1] < dem[1] - tol:
        sides.append(f"villages extend to {_lat(need[1])} but the DEM ends at {_lat(dem[1])}")
    if need[3] > dem[3] + tol:
        sides.append(f"villages extend to {_lat(need[3])} but the DEM ends at {_lat(dem[3])}")
    if not sides:
        sides.append("the DEM files leave a gap inside the villages' extent")
    return sides


def _lon(value: float) -> str:
    return f"{abs(value):.2f} {'E' if value >= 0 else 'W'}"


def _lat(value: float) -> str:
    return f"{abs(value):.2f} {'N' if value >= 0 else 'S'}"


def _span(extent: tuple[float, float, float, float]) -> str:
    west, south, east, north = extent
    return f"{_lon(west)} to {_lon(east)}, {_lat(south)} to {_lat(north)}"


def _srtm_tiles(extent: tuple[float, float, float, float], limit: int = 8) -> list[str]:
    """Return the names of the 1° SRTM tiles that intersect *extent* (degrees)."""
    west, south, east, north = extent
    names = []
    for lat in range(math.floor(south), math.ceil(north)):
        for lon in range(math.floor(west), math.ceil(east)):
            ns = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}"
            ew = f"{'E' if lon >= 0 else 'W'}{abs(lon):03d}"
            names.append(f"{ns}{ew}.hgt")
    if len(names) > limit:
        return [*names[:limit], f"... {len(names) - limit} more"]
    return names


def _report(grid: RasterGrid, source: str,
            sources: list[tuple[str, tuple[float, float, float, float]]], resampling: str,
            repairs: list[str], extra_notes: list[str]) -> LayerReport:
    values = grid.array[np.isfinite(grid.array)]
    rows, cols = grid.shape
    notes = [note for note, _ in sources]
    notes.extend(extra_notes)
    notes.append(f"grid {rows}x{cols} cells of {grid.resolution_m:g} m in "
                 f"{crs_label(grid.crs.to_wkt())}, {resampling} resampling")
    notes.append(f"elevation min {values.min():.0f} m, median {np.median(values):.0f} m, "
                 f"max {values.max():.0f} m")
    extent = lonlat_bounds(grid_bounds(grid.transform, grid.shape), grid.crs)
    return LayerReport(
        layer="terrain", source=source, crs=crs_label(grid.crs.to_wkt()),
        extent=extent, count=int(values.size),
        repairs=tuple(repairs), notes=tuple(notes),
    )
