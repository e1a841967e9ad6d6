"""Operator or crowd coverage maps (``[inputs] coverage_maps``): polygons or GeoTIFF.

A map says where some technology is on air: polygons (GeoPackage, GeoJSON, KML/KMZ, any
vector file GDAL reads; a feature's ``technology`` attribute overrides the map's), or a
GeoTIFF of RSRP in dBm (covered where at least the threshold) or of 0/1 (covered where 1).
:func:`read_coverage_maps` reads every map of a scenario, checks it (file readable, CRS
present, over the area, technology values known, an RSRP raster with data over the area)
and lists every problem; :func:`unit_levels` and :func:`grid_levels` say what technology
the maps show at points and on a grid (:mod:`towerplan.analysis.coverage_maps` uses them).

Technologies are ranked by :data:`LEVELS`: ``signal`` (some signal, generation not stated)
1, ``2g`` 2, ``3g`` 3, ``4g`` 4, ``5g`` 5; 0 is "no map shows coverage here".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import InputDataError, TowerplanError
from towerplan.io.rasters import RasterGrid, crs_label, open_raster
from towerplan.io.report import LayerReport, problems_message
from towerplan.io.siting import split_layer
from towerplan.io.villages import read_vector

__all__ = ["LEVELS", "TECHNOLOGIES", "CoverageMap", "MapSpec", "coverage_outlines", "grid_levels",
           "parse_technology", "read_coverage_maps", "target_level", "technology_name",
           "unit_levels"]

#: Technologies a coverage map may show, lowest first.
TECHNOLOGIES: tuple[str, ...] = ("signal", "2g", "3g", "4g", "5g")
#: Rank of each technology (0 = not covered).
LEVELS: dict[str, int] = {t: i + 1 for i, t in enumerate(TECHNOLOGIES)}
#: Other names of the technologies in feature attributes (OpenCelliD ``radio`` names too).
_ALIASES: dict[str, str] = {"gsm": "2g", "gprs": "2g", "edge": "2g", "2.5g": "2g",
                            "umts": "3g", "wcdma": "3g", "hspa": "3g", "cdma": "3g",
                            "lte": "4g", "nr": "5g", "sinyal": "signal"}
_RASTER_SUFFIXES = (".tif", ".tiff", ".gtiff", ".vrt")
_KML_SUFFIXES = (".kml", ".kmz")
_POLYGONAL = ("Polygon", "MultiPolygon")
_MAX_LISTED = 10


@dataclass(frozen=True, slots=True)
class MapSpec:
    """One map as the scenario gives it.

    Attributes
    ----------
    path : Path
        The file (``file.gpkg|layername=NAME`` picks a layer).
    technology : str
        One of :data:`TECHNOLOGIES`.
    operator : str
        Operator, or empty.
    kind : str
        ``polygons``, ``rsrp``, ``binary`` or empty (inferred from the file).
    threshold_dbm : float
        RSRP threshold of an ``rsrp`` raster, dBm.
    date : str
        When the map was made, as given.
    source : str
        Where the map comes from, as given.
    """

    path: Path
    technology: str = "signal"
    operator: str = ""
    kind: str = ""
    threshold_dbm: float = -105.0
    date: str = ""
    source: str = ""


@dataclass(frozen=True, slots=True)
class CoverageMap:
    """One coverage map, read and checked.

    Attributes
    ----------
    spec : MapSpec
        As the scenario gives it.
    kind : str
        ``polygons``, ``rsrp`` or ``binary`` (inferred where the scenario leaves it out).
    polygons : geopandas.GeoDataFrame or None
        Polygons in the working CRS with ``technology`` and ``level`` (:data:`LEVELS`).
    raster : RasterGrid or None
        The part of a raster over the area, in the raster's own CRS: ``level`` per cell
        (uint8, 0 = not covered).
    """

    spec: MapSpec
    kind: str
    polygons: gpd.GeoDataFrame | None = None
    raster: RasterGrid | None = None

    @property
    def name(self) -> str:
        """File name of the map."""
        return split_layer(self.spec.path)[0].name

    @property
    def technologies(self) -> tuple[str, ...]:
        """Technologies the map shows, lowest first."""
        if self.polygons is not None:
            present = set(self.polygons["technology"].astype(str))
            return tuple(t for t in TECHNOLOGIES if t in present)
        return (self.spec.technology,)


def parse_technology(text: object) -> str | None:
    """Return the technology *text* names (``"LTE"`` -> ``"4g"``), ``""`` for an empty value,
    None when it names none.

    Examples
    --------
    >>> [parse_technology(t) for t in (" 4G ", "LTE", "", "x")]
    ['4g', '4g', '', None]
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    key = str(text).strip().lower()
    if not key:
        return ""
    key = _ALIASES.get(key, key)
    return key if key in LEVELS else None


def technology_name(level: int) -> str:
    """The technology of rank *level*; ``""`` for 0."""
    return TECHNOLOGIES[level - 1] if level > 0 else ""


def target_level(target: str) -> int:
    """The rank a map must show for a unit to be served at the coverage *target*
    (``"4g"`` -> 4, ``"signal"`` -> 1)."""
    return LEVELS[target]


def read_coverage_maps(specs: Sequence[MapSpec], *, crs: CRS,
                       area: shapely.Geometry | None) -> tuple[tuple[CoverageMap, ...],
                                                                LayerReport]:
    """Read and check coverage maps.

    Parameters
    ----------
    specs : sequence of MapSpec
        The maps of the scenario.
    crs : pyproj.CRS
        Working CRS (polygons are reprojected to it).
    area : shapely geometry or None
        The villages in the working CRS; a map must overlap it (None = not checked).

    Returns
    -------
    maps : tuple of CoverageMap
        One per spec, in order.
    report : LayerReport
        What each map holds.

    Raises
    ------
    InputDataError
        Listing every problem of every map (``problems``; a missing or unreadable file is
        one problem, not an :class:`~towerplan.errors.InputFileError`): no CRS, outside
        the area, unknown technology, no polygons, an RSRP raster without data over the area,
        a binary raster with other values than 0 and 1.
    """
    problems: list[str] = []
    notes: list[str] = []
    maps: list[CoverageMap] = []
    for spec in specs:
        try:
            one, note = _read_one(spec, crs, area)
        except TowerplanError as exc:
            listed = tuple(getattr(exc, "problems", ())) or (str(exc),)
            problems.extend(listed)
            continue
        maps.append(one)
        notes.append(note)
    source = "; ".join(str(s.path) for s in specs)
    if problems:
        raise InputDataError(problems[0] if len(problems) == 1
                             else problems_message(source, problems), problems=tuple(problems))
    return tuple(maps), LayerReport("coverage_maps", source, crs_label(crs),
                                    _extent(maps, crs), len(maps), notes=tuple(notes))


def _kind_of(spec: MapSpec) -> str:
    """``raster`` or ``polygons`` from the file name."""
    suffix = split_layer(spec.path)[0].suffix.lower()
    return "raster" if suffix in _RASTER_SUFFIXES else "polygons"


def _read_one(spec: MapSpec, crs: CRS, area: shapely.Geometry | None
              ) -> tuple[CoverageMap, str]:
    file_kind = _kind_of(spec)
    if spec.kind == "polygons" and file_kind == "raster" or \
            spec.kind in ("rsrp", "binary") and file_kind == "polygons":
        msg = (f"{spec.path}: kind '{spec.kind}' does not fit the file (polygons need a vector "
               "file, rsrp and binary a GeoTIFF); correct 'kind' or leave it out")
        raise InputDataError(msg, problems=(msg,))
    if file_kind == "raster":
        return _read_raster(spec, crs, area)
    return _read_polygons(spec, crs, area)


# --------------------------------------------------------------------------- polygons

def _read_layers(spec: MapSpec) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Every layer of a KML/KMZ file (one per folder), else one layer as :func:`read_vector`."""
    path, layer = split_layer(spec.path)
    if layer or path.suffix.lower() not in _KML_SUFFIXES or not path.exists():
        return read_vector(path, layer=layer, what="coverage map")
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError, OSError):
        return read_vector(path, what="coverage map")  # reports the failure
    parts = [read_vector(path, layer=n, what="coverage map")[0] for n in names]
    parts = [p for p in parts if len(p)]
    if not parts:
        return read_vector(path, layer=names[0] if names else "", what="coverage map")
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
    return frame, ([f"{len(names)} KML folders read"] if len(names) > 1 else [])


def _technology_column(frame: gpd.GeoDataFrame) -> str | None:
    for column in frame.columns:
        if str(column).strip().lower() in ("technology", "teknologi", "tech"):
            return str(column)
    return None


def _read_polygons(spec: MapSpec, crs: CRS, area: shapely.Geometry | None
                   ) -> tuple[CoverageMap, str]:
    path = spec.path
    raw, read_notes = _read_layers(spec)
    problems: list[str] = []
    if raw.crs is None:
        problems.append(f"{path}: coverage map has no CRS; set one, e.g. with ogr2ogr -a_srs "
                        "EPSG:4326")
    kinds = raw.geometry.geom_type.fillna("none")
    polygonal = kinds.isin(_POLYGONAL).to_numpy()
    if not polygonal.any():
        problems.append(f"{path}: coverage map holds no polygons ({len(raw)} features); "
                        "give coverage areas as polygons")
    technology = np.full(len(raw), spec.technology, dtype=object)
    column = _technology_column(raw)
    if column is not None:
        bad: list[str] = []
        for i, value in enumerate(raw[column].tolist()):
            tech = parse_technology(value)
            if tech is None:
                bad.append(f"#{i + 1} {value!r}")
            elif tech:
                technology[i] = tech
        if bad:
            listed = ", ".join(bad[:_MAX_LISTED]) + (" ..." if len(bad) > _MAX_LISTED else "")
            problems.append(f"{path}: {len(bad)} features have an unknown '{column}' ({listed});"
                            f" use one of {', '.join(TECHNOLOGIES)}")
    if problems:
        raise InputDataError(problems_message(path, problems) if len(problems) > 1
                             else problems[0], problems=tuple(problems))
    geoms = shapely.make_valid(raw.geometry.to_numpy()[polygonal])
    frame = gpd.GeoDataFrame({"technology": technology[polygonal]}, geometry=geoms,
                             crs=raw.crs).to_crs(crs)
    frame = frame[~frame.geometry.is_empty].reset_index(drop=True)
    frame["level"] = np.array([LEVELS[t] for t in frame["technology"]], dtype=np.uint8)
    if area is not None and not frame.intersects(area).any():
        msg = f"{path}: coverage map does not overlap the villages (check the file and its CRS)"
        raise InputDataError(msg, problems=(msg,))
    skipped = int((~polygonal).sum())
    techs = ", ".join(t for t in TECHNOLOGIES if t in set(frame["technology"]))
    note = (f"{Path(path).name}: {len(frame)} polygons ({techs})"
            + (f", {skipped} features that are not polygons ignored" if skipped else "")
            + "".join(f"; {n}" for n in read_notes))
    return CoverageMap(spec, "polygons", polygons=frame), note


# --------------------------------------------------------------------------- rasters

def _read_raster(spec: MapSpec, crs: CRS, area: shapely.Geometry | None
                 ) -> tuple[CoverageMap, str]:
    path = spec.path
    with open_raster(path, what="coverage map") as ds:
        window = _area_window(ds, crs, area)
        if window is None:
            msg = (f"{path}: coverage map does not overlap the villages (check the file and "
                   "its CRS)")
            raise InputDataError(msg, problems=(msg,))
        (row0, row1), (col0, col1) = window
        from rasterio.windows import Window

        win = Window(col0, row0, col1 - col0, row1 - row0)
        data = ds.read(1, window=win, masked=True)
        transform = ds.transform @ Affine.translation(col0, row0)
        raster_crs = CRS.from_user_input(ds.crs.to_wkt())
    values = np.ma.getdata(data).astype(float)
    valid = ~np.ma.getmaskarray(data) & np.isfinite(values)
    present = values[valid]
    if not present.size:
        msg = f"{path}: coverage map has no data over the villages (all nodata)"
        raise InputDataError(msg, problems=(msg,))
    is_binary = bool(np.isin(np.unique(present), (0.0, 1.0)).all())
    kind = spec.kind or ("binary" if is_binary else "rsrp")
    if kind == "binary" and not is_binary:
        others = np.unique(present[~np.isin(present, (0.0, 1.0))])[:5]
        msg = (f"{path}: a binary coverage map holds only 0 and 1 (and nodata), found "
               f"{', '.join(f'{v:g}' for v in others)}; set kind = \"rsrp\" for RSRP in dBm")
        raise InputDataError(msg, problems=(msg,))
    covered = valid & (values >= spec.threshold_dbm if kind == "rsrp" else values == 1.0)
    level = np.where(covered, LEVELS[spec.technology], 0).astype(np.uint8)
    grid = RasterGrid(level, transform, raster_crs, 0)
    rule = (f"RSRP >= {spec.threshold_dbm:g} dBm" if kind == "rsrp" else "value 1")
    note = (f"{Path(path).name}: {kind} raster, {int(covered.sum())} of {int(valid.sum())} "
            f"cells with data covered ({rule}, {spec.technology})")
    return CoverageMap(spec, kind, raster=grid), note


def _area_window(ds: object, crs: CRS, area: shapely.Geometry | None
                 ) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Rows and columns ``((row0, row1), (col0, col1))`` of the raster over the area's
    bounds; the whole raster without an area; None when they do not meet."""
    height, width = int(ds.height), int(ds.width)  # type: ignore[attr-defined]
    if area is None or area.is_empty:
        return (0, height), (0, width)
    tr = Transformer.from_crs(crs, CRS.from_user_input(ds.crs.to_wkt()),  # type: ignore[attr-defined]
                              always_xy=True)
    aw, as_, ae, an = (float(v) for v in area.bounds)
    w, s, e, n = tr.transform_bounds(aw, as_, ae, an, densify_pts=21)
    inv = ~ds.transform  # type: ignore[attr-defined]
    cols, rows = zip(*(inv @ (x, y) for x in (w, e) for y in (s, n)), strict=True)
    col0, col1 = max(0, math.floor(min(cols))), min(width, math.ceil(max(cols)))
    row0, row1 = max(0, math.floor(min(rows))), min(height, math.ceil(max(rows)))
    if col1 <= col0 or row1 <= row0:
        return None
    return (row0, row1), (col0, col1)


# --------------------------------------------------------------------------- sampling

def unit_levels(one: CoverageMap, x: np.ndarray, y: np.ndarray, crs: CRS) -> np.ndarray:
    """Technology rank the map shows at each point (0 = none).

    Parameters
    ----------
    one : CoverageMap
        The map.
    x, y : numpy.ndarray
        Points in *crs* (the working CRS), m.
    crs : pyproj.CRS
        CRS of the points.

    Returns
    -------
    numpy.ndarray of uint8
        Highest rank of the polygons containing each point (touching the boundary counts),
        or of the raster cell each point falls in.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    out = np.zeros(len(x), dtype=np.uint8)
    if not len(x):
        return out
    if one.polygons is not None:
        frame = one.polygons
        tree = shapely.STRtree(frame.geometry.to_numpy())
        points, polys = tree.query(shapely.points(x, y), predicate="intersects")
        np.maximum.at(out, points, frame["level"].to_numpy(np.uint8)[polys])
        return out
    assert one.raster is not None
    grid = one.raster
    if CRS.from_user_input(grid.crs) != crs:
        x, y = Transformer.from_crs(crs, grid.crs, always_xy=True).transform(x, y)
    cols, rows = ~grid.transform @ (np.asarray(x), np.asarray(y))
    cols = np.floor(np.asarray(cols)).astype(np.int64)
    rows = np.floor(np.asarray(rows)).astype(np.int64)
    nrow, ncol = grid.shape
    inside = (rows >= 0) & (rows < nrow) & (cols >= 0) & (cols < ncol)
    out[inside] = grid.array[rows[inside], cols[inside]]
    return out


def grid_levels(one: CoverageMap, transform: Affine, shape: tuple[int, int], crs: CRS
                ) -> np.ndarray:
    """Technology rank the map shows at each cell of a grid (0 = none).

    Polygons are burnt in where they contain a cell's centre; a raster is resampled by its
    nearest cell.
    """
    from rasterio.enums import MergeAlg, Resampling
    from rasterio.features import rasterize
    from rasterio.warp import reproject

    if one.polygons is not None:
        frame = one.polygons.sort_values("level")
        shapes = list(zip(frame.geometry, frame["level"].astype(int), strict=True))
        if not shapes:
            return np.zeros(shape, dtype=np.uint8)
        return rasterize(shapes, out_shape=shape, transform=transform, fill=0,
                         dtype="uint8", merge_alg=MergeAlg.replace)
    assert one.raster is not None
    out = np.zeros(shape, dtype=np.uint8)
    reproject(one.raster.array, out, src_transform=one.raster.transform,
              src_crs=one.raster.crs.to_wkt(), dst_transform=transform, dst_crs=crs.to_wkt(),
              resampling=Resampling.nearest, src_nodata=None, dst_nodata=None)
    return out


def _extent(maps: Sequence[CoverageMap], crs: CRS) -> tuple[float, float, float, float]:
    bounds = []
    for one in maps:
        if one.polygons is not None and len(one.polygons):
            w, s, e, n = (float(v) for v in one.polygons.total_bounds)
            bounds.append(Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
                          .transform_bounds(w, s, e, n))
        elif one.raster is not None:
            w, s, e, n = one.raster.bounds
            bounds.append(Transformer.from_crs(one.raster.crs, "EPSG:4326", always_xy=True)
                          .transform_bounds(w, s, e, n))
    if not bounds:
        return (math.nan,) * 4  # type: ignore[return-value]
    arr = np.array(bounds, dtype=float)
    return (float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 2].max()),
            float(arr[:, 3].max()))



def coverage_outlines(maps: Sequence[CoverageMap], crs: CRS) -> gpd.GeoDataFrame:
    """Where each map shows coverage, as polygons in EPSG:4326 (for the HTML map).

    Polygons are dissolved per map and technology; a raster's covered cells are traced into
    polygons. Columns: ``file``, ``technology``, ``operator``, ``kind``, ``date``, ``source``.
    """
    from rasterio.features import shapes

    rows: list[dict[str, object]] = []
    for one in maps:
        spec = one.spec
        base = {"file": one.name, "operator": spec.operator, "kind": one.kind,
                "date": spec.date, "source": spec.source}
        if one.polygons is not None:
            frame = one.polygons.to_crs("EPSG:4326")
            for tech in one.technologies:
                geom = shapely.union_all(frame.geometry[frame["technology"] == tech].to_numpy())
                rows.append({**base, "technology": tech, "geometry": geom})
            continue
        assert one.raster is not None
        grid = one.raster
        covered = (grid.array > 0).astype(np.uint8)
        parts = [shapely.geometry.shape(g) for g, v in shapes(covered, mask=covered > 0,
                                                              transform=grid.transform)
                 if v > 0]
        if not parts:
            continue
        geom = gpd.GeoSeries([shapely.union_all(parts)], crs=grid.crs).to_crs("EPSG:4326")[0]
        rows.append({**base, "technology": spec.technology, "geometry": geom})
    columns = ["file", "technology", "operator", "kind", "date", "source"]
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in columns}, geometry=[], crs="EPSG:4326")
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")[[*columns, "geometry"]]
