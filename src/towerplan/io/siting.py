"""Inputs of candidate siting and costing: site lists, exclusion areas, power grid, roads and
per-site cost overrides.

Site lists (user candidates, audit sites) and cost overrides are CSV files; exclusion areas,
power and roads are any vector file GDAL reads (power and roads may also be CSV points).
Every reader lists all problems of its file at once.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from towerplan.columns import COST_PARTS
from towerplan.errors import InputDataError
from towerplan.io.csvfile import (
    find_column,
    parse_heights,
    parse_number,
    read_csv_records,
    read_csv_table,
)
from towerplan.io.report import LayerReport
from towerplan.io.villages import problems_message, read_vector

if TYPE_CHECKING:
    from pyproj import CRS

__all__ = [
    "COST_COLUMNS",
    "TOWN_KINDS",
    "ExclusionArea",
    "SitingInputs",
    "load_siting",
    "read_areas",
    "read_cost_overrides",
    "read_network",
    "read_sites",
    "split_layer",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Cost columns a site list or an overrides file may carry, rupiah.
COST_COLUMNS: tuple[str, ...] = (*COST_PARTS, "cost_total_idr")

#: Settlement kinds that stand in for the power grid when no power data is given.
TOWN_KINDS: tuple[str, ...] = ("town", "kota", "city")

_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_ID = ("site_id", "id", "tower_id")
_HEIGHT = ("height_m", "height")
_KIND = ("kind", "type", "fclass", "place", "power")
_TOTAL_ALIAS = "cost_idr"
_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_POLYGONAL = ("Polygon", "MultiPolygon")


@dataclass(frozen=True, slots=True)
class SitingInputs:
    """Siting and costing inputs of a scenario, in the working CRS.

    Attributes
    ----------
    user_sites : geopandas.GeoDataFrame or None
        User candidates (``site_id, height_m``, :data:`COST_COLUMNS`; nan = not given).
    audit_sites : geopandas.GeoDataFrame or None
        Sites of an audited decision, same columns.
    exclude : shapely.Geometry or None
        Union of the exclusion polygons (no candidate inside).
    exclusions : tuple of ExclusionArea
        The same polygons per named layer, in the order given.
    power : geopandas.GeoDataFrame or None
        Power grid: lines and/or points.
    power_source : str
        ``"power"`` (the power input), ``"settlements"`` (settlements of a town kind stand
        in) or ``""`` (nothing known).
    roads : geopandas.GeoDataFrame or None
        Roads: lines and/or points.
    overrides : pandas.DataFrame or None
        Per-site costs: ``site_id`` and :data:`COST_COLUMNS` (nan = keep the computed value).
    """

    user_sites: gpd.GeoDataFrame | None = None
    audit_sites: gpd.GeoDataFrame | None = None
    exclude: shapely.Geometry | None = None
    power: gpd.GeoDataFrame | None = None
    power_source: str = ""
    roads: gpd.GeoDataFrame | None = None
    overrides: pd.DataFrame | None = None
    exclusions: tuple[ExclusionArea, ...] = ()


@dataclass(frozen=True, slots=True)
class ExclusionArea:
    """One named exclusion layer in the working CRS.

    Attributes
    ----------
    name : str
        Name from the scenario, the layer's ``name`` column or the file name.
    kind : str
        Kind from the scenario (``protected_forest``, ...), ``other`` when not given.
    geometry : shapely.Geometry
        Union of its polygons.
    """

    name: str
    kind: str
    geometry: shapely.Geometry


RunFn = Callable[[str, object, Callable[[], tuple[Any, LayerReport]]], Any]


def load_siting(*, crs: CRS | None, run: RunFn, user_sites: Path | None = None,
                audit_sites: Path | None = None, exclude_areas: Sequence[Path] = (),
                exclusion_names: Sequence[tuple[str, str]] = (),
                power: Path | None = None, roads: Path | None = None,
                overrides: Path | None = None, settlements: Path | None = None,
                tower_height_m: float = 42.0) -> SitingInputs:
    """Read every siting input through *run* (the input collector) and reproject it.

    Parameters
    ----------
    crs : pyproj.CRS or None
        Working CRS; None (villages unusable) = read and check only, no reprojection.
    run : callable
        ``run(layer, source, loader)`` returns the loader's data, or None when the collector
        recorded an error instead of raising.
    user_sites, audit_sites, power, roads, overrides, settlements : Path, optional
        Files; None = not given. Without *power*, settlements of a kind in
        :data:`TOWN_KINDS` stand in for the grid.
    exclude_areas : sequence of Path
        Polygon files.
    exclusion_names : sequence of (str, str)
        Name and kind of each of *exclude_areas* (empty name = the ``name`` column, else
        the file name); missing entries are unnamed, kind ``other``.
    tower_height_m : float
        Antenna height of sites whose file gives none, m.
    """
    def projected(frame: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
        return None if frame is None or crs is None else frame.to_crs(crs)

    def sites(layer: str, path: Path | None, prefix: str) -> gpd.GeoDataFrame | None:
        if path is None:
            return None
        return projected(run(layer, path, lambda: read_sites(
            path, what=layer, id_prefix=prefix, default_height_m=tower_height_m)))

    def network(layer: str, path: Path | None, kinds: Sequence[str] = (),
                prefer: Sequence[str] = ()) -> gpd.GeoDataFrame | None:
        if path is None:
            return None
        return projected(run(layer, path, lambda: read_network(path, what=layer, kinds=kinds,
                                                               prefer=prefer)))

    users = sites("candidates", user_sites, "U")
    audit = sites("audit sites", audit_sites, "A")
    exclude = None
    named: tuple[ExclusionArea, ...] = ()
    if exclude_areas:
        areas = projected(run("exclude_areas", ", ".join(map(str, exclude_areas)),
                              lambda: read_areas(exclude_areas, names=exclusion_names)))
        if areas is not None and len(areas):
            exclude = shapely.union_all(shapely.make_valid(areas.geometry.to_numpy()))
            named = tuple(
                ExclusionArea(str(name), str(group["kind"].iloc[0]), shapely.union_all(
                    shapely.make_valid(group.geometry.to_numpy())))
                for name, group in areas.groupby("name", sort=False))
    if power is not None:
        grid, source = network("power", power, prefer=("power",)), "power"
    elif settlements is not None:
        path = settlements
        grid = projected(run("power", path, lambda: _relabelled(
            "power (stand-in: towns)", read_network(path, what="settlements",
                                                    kinds=TOWN_KINDS))))
        source = "settlements" if grid is not None and len(grid) else ""
    else:
        grid, source = None, ""
    table = None
    if overrides is not None:
        path = overrides
        table = run("cost overrides", path, lambda: read_cost_overrides(path))
    road = network("roads", roads, prefer=("road",))
    return SitingInputs(users, audit, exclude, grid, source, road, table, named)


def read_sites(path: str | Path, *, what: str = "candidates", id_prefix: str = "U",
               default_height_m: float = 42.0) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read a list of sites: ``lon,lat[,site_id,height_m,cost columns]``.

    Parameters
    ----------
    path : str or Path
        CSV file (comma, semicolon or tab separated; UTF-8). Coordinates in degrees
        (``lon``/``longitude``/``lng``/``x``, ``lat``/``latitude``/``y``); ``site_id`` (or
        ``id``, ``tower_id``); ``height_m`` (or ``height``) above ground in metres; any of
        :data:`COST_COLUMNS` in rupiah, with ``cost_idr`` read as ``cost_total_idr``.
    what : str
        What the sites are, used in messages.
    id_prefix : str
        Prefix of generated ids (``U0001``...) when the file has no id column.
    default_height_m : float
        Height of sites without one, m.

    Returns
    -------
    sites : geopandas.GeoDataFrame
        Columns ``site_id, height_m`` and :data:`COST_COLUMNS` (nan = not given), EPSG:4326.
    report : LayerReport
        Counts and notes.

    Raises
    ------
    InputFileError
        If the file is missing or not a text CSV file.
    InputDataError
        Listing every bad line: coordinates, heights, costs, empty or duplicate ids.
    """
    path = Path(path)
    header, columns, records, delimiter = read_csv_table(
        path, what=what, expected="expected a header such as 'lon,lat,site_id,height_m'")
    ilon, ilat = find_column(header, _LON), find_column(header, _LAT)
    if ilon is None or ilat is None:
        msg = (f"{path}: no coordinate columns; columns found: {', '.join(columns)}; "
               "expected lon,lat[,site_id,height_m,cost_total_idr]")
        raise InputDataError(msg, problems=(msg,))
    comma = delimiter != ","
    problems: list[str] = []
    notes = [f"{len(records)} {what}"]
    lon = _numbers(records, ilon, comma)
    lat = _numbers(records, ilat, comma)
    for k, (line, _) in enumerate(records):
        if not -180 <= lon[k] <= 180 or not -90 <= lat[k] <= 90:
            problems.append(f"line {line}: lon/lat {_text(records[k][1], ilon)}, "
                            f"{_text(records[k][1], ilat)} is not a position in degrees")
    height = _heights(records, find_column(header, _HEIGHT), comma, default_height_m,
                      problems, notes)
    ids = _ids(records, find_column(header, _ID), id_prefix, problems, notes)
    table = pd.DataFrame({"site_id": ids, "height_m": height})
    given = []
    for name in COST_COLUMNS:
        index = find_column(header, (name, _TOTAL_ALIAS) if name == "cost_total_idr"
                            else (name,))
        table[name] = _costs(records, index, comma, name, problems)
        if index is not None:
            given.append(header[index])
    if given:
        notes.append("costs given per site: " + ", ".join(given))
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    frame = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    log.info("%s: %d read from %s", what, len(frame), path.name)
    return frame, LayerReport(what, str(path), "EPSG:4326", _extent(frame), len(frame),
                              notes=tuple(notes))


def read_areas(paths: Sequence[str | Path], *, names: Sequence[tuple[str, str]] = ()
               ) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read exclusion polygons (protected forest, military land, ...) from vector files.

    Parameters
    ----------
    paths : sequence of str or Path
        Polygon files in any CRS GDAL reads (GPKG, SHP, GeoJSON, FGB, ...); first layer.
    names : sequence of (str, str), optional
        Name and kind of each file; an empty or missing name takes the file's ``name``
        column per feature, else the file name; a missing kind is ``other``.

    Returns
    -------
    areas : geopandas.GeoDataFrame
        Columns ``source`` (file name), ``name``, ``kind`` and valid polygon geometries,
        EPSG:4326.
    report : LayerReport
        Polygons per file, repairs, total area.

    Raises
    ------
    InputFileError
        If a file is missing or unreadable.
    InputDataError
        Listing every problem of every file: no CRS, non-polygon features.
    """
    problems: list[str] = []
    notes: list[str] = []
    repairs: list[str] = []
    parts: list[gpd.GeoDataFrame] = []
    for k, raw_path in enumerate(paths):
        path, layer = split_layer(raw_path)
        given, kind = names[k] if k < len(names) else ("", "other")
        raw, read_notes = read_vector(path, layer=layer, what="exclusion area")
        notes.extend(f"{path.name}: {n}" for n in read_notes)
        if raw.crs is None:
            problems.append(f"{path}: file has no CRS; set one, e.g. with ogr2ogr -a_srs "
                            "EPSG:4326")
        kinds = raw.geometry.geom_type.fillna("none")
        bad = kinds[~kinds.isin(_POLYGONAL)]
        if len(bad):
            listed = ", ".join(f"#{i + 1} {kind}" for i, kind in bad.head(10).items())
            problems.append(f"{path}: {len(bad)} features are not polygons ({listed}); "
                            "exclusion areas must be polygons")
        if raw.crs is None or len(bad):
            continue
        geoms = raw.geometry.to_numpy()
        invalid = ~shapely.is_valid(geoms)
        if invalid.any():
            repairs.append(f"{path.name}: {int(invalid.sum())} invalid polygons made valid")
            geoms = shapely.make_valid(geoms)
        own = raw["name"].fillna("").astype(str).to_numpy() if "name" in raw \
            else np.full(len(raw), "", dtype=object)
        label = np.where(own != "", own, path.stem) if not given else [given] * len(raw)
        frame = gpd.GeoDataFrame({"source": [path.name] * len(raw), "name": label,
                                  "kind": [kind] * len(raw)}, geometry=geoms,
                                 crs=raw.crs).to_crs("EPSG:4326")
        notes.append(f"{path.name}: {len(frame)} polygons")
        parts.append(frame)
    if problems:
        source = ", ".join(map(str, paths))
        raise InputDataError(problems[0] if len(problems) == 1
                             else problems_message(source, problems), problems=tuple(problems))
    areas = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:4326") if parts
             else gpd.GeoDataFrame({"source": [], "name": [], "kind": []}, geometry=[],
                                   crs="EPSG:4326"))
    return areas, LayerReport("exclude_areas", ", ".join(map(str, paths)), "EPSG:4326",
                              _extent(areas), len(areas), repairs=tuple(repairs),
                              notes=tuple(notes))


def read_network(path: str | Path, *, what: str = "power", kinds: Sequence[str] = (),
                 prefer: Sequence[str] = ()) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read lines and/or points of a network (power grid, roads).

    Parameters
    ----------
    path : str or Path
        A vector file (lines, points or polygons; any CRS) or a CSV of points
        (``lon,lat[,kind]``).
    what : str
        What the file holds, used in messages.
    kinds : sequence of str, optional
        Keep only features whose ``kind`` (or ``type``, ``fclass``, ``place``, ``power``)
        attribute is one of these (case-insensitive); a file without such a column gives
        no features, and the report says so.
    prefer : sequence of str, optional
        In a multi-layer file read with no layer named (``file.gpkg|layername=NAME`` names
        one), the first layer whose name starts with one of these; else the first layer.

    Returns
    -------
    network : geopandas.GeoDataFrame
        Column ``kind`` and the geometries, EPSG:4326.
    report : LayerReport
        Count per geometry type and notes.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If a vector file has no CRS or a CSV has bad coordinates.
    """
    path, layer = split_layer(path)
    if path.suffix.lower() in _CSV_SUFFIXES:
        frame = _points_csv(path, what)
    else:
        raw, _ = read_vector(path, layer=layer or _preferred_layer(path, prefer), what=what)
        if raw.crs is None:
            msg = f"{path}: file has no CRS; set one, e.g. with ogr2ogr -a_srs EPSG:4326"
            raise InputDataError(msg, problems=(msg,))
        columns = {str(c).lower(): c for c in raw.columns if c != raw.geometry.name}
        col = next((columns[k] for k in _KIND if k in columns), None)
        kind = raw[col].astype(str).where(raw[col].notna(), "") if col is not None \
            else pd.Series([""] * len(raw))
        frame = gpd.GeoDataFrame({"kind": kind.to_numpy()}, geometry=raw.geometry.to_numpy(),
                                 crs=raw.crs).to_crs("EPSG:4326")
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)].reset_index(drop=True)
    notes = []
    if kinds:
        wanted = {k.casefold() for k in kinds}
        keep = frame["kind"].str.strip().str.casefold().isin(wanted)
        notes.append(f"{int(keep.sum())} of {len(frame)} features of kind "
                     f"{'/'.join(kinds)}" if (frame["kind"] != "").any()
                     else f"no kind column: no feature of kind {'/'.join(kinds)}")
        frame = frame[keep.to_numpy()].reset_index(drop=True)
    counts = frame.geometry.geom_type.value_counts()
    notes.append(", ".join(f"{n} {kind}" for kind, n in counts.items()) or "no features")
    return frame, LayerReport(what if not kinds else f"{what} ({'/'.join(kinds)})",
                              str(path), "EPSG:4326", _extent(frame), len(frame),
                              notes=tuple(notes))


def read_cost_overrides(path: str | Path) -> tuple[pd.DataFrame, LayerReport]:
    """Read per-site cost overrides: ``site_id`` and any of :data:`COST_COLUMNS`.

    An empty field keeps the computed value; ``cost_total_idr`` replaces the sum of the parts.

    Returns
    -------
    overrides : pandas.DataFrame
        ``site_id`` and :data:`COST_COLUMNS` (float rupiah, nan = not overridden).
    report : LayerReport
        Counts and columns found.

    Raises
    ------
    InputDataError
        Listing every problem: no ``site_id`` or cost column, empty or duplicate ids,
        values that are not zero or positive rupiah.
    """
    path = Path(path)
    header, columns, records, delimiter = read_csv_table(
        path, what="cost overrides", expected="expected a header such as 'site_id,cost_total_idr'")
    problems: list[str] = []
    iid = find_column(header, ("site_id",))
    found = [c for c in COST_COLUMNS if c in header]
    if iid is None or not found:
        msg = (f"{path}: columns found: {', '.join(columns)}; expected site_id and at least "
               f"one of {', '.join(COST_COLUMNS)}")
        raise InputDataError(msg, problems=(msg,))
    ids = _ids(records, iid, "", problems, [])
    table = pd.DataFrame({"site_id": ids})
    for name in COST_COLUMNS:
        table[name] = _costs(records, find_column(header, (name,)), delimiter != ",", name,
                             problems)
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    notes = (f"{len(table)} sites, columns {', '.join(found)}",)
    return table, LayerReport("cost overrides", str(path), "", (math.nan,) * 4, len(table),
                              notes=notes)


def _relabelled(layer: str, result: tuple[T, LayerReport]) -> tuple[T, LayerReport]:
    data, report = result
    return data, dataclasses.replace(report, layer=layer)


def split_layer(path: str | Path) -> tuple[Path, str]:
    """Split the OGR/QGIS form ``file.gpkg|layername=NAME`` into the file and the layer.

    Examples
    --------
    >>> split_layer("osm.gpkg|layername=power_lines")
    (PosixPath('osm.gpkg'), 'power_lines')
    >>> split_layer("forest.shp")
    (PosixPath('forest.shp'), '')
    """
    text = str(path)
    if "|layername=" in text:
        file, layer = text.split("|layername=", 1)
        return Path(file), layer
    return Path(text), ""


def _preferred_layer(path: Path, prefer: Sequence[str]) -> str:
    """First layer of *path* whose name starts with one of *prefer*; "" when none does."""
    if not prefer or not path.exists():
        return ""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    try:
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError, OSError):  # read_vector reports them
        return ""
    return next((n for n in names if n.lower().startswith(tuple(prefer))), "")


def _text(fields: list[str], index: int | None) -> str:
    return fields[index] if index is not None and index < len(fields) else ""


def _numbers(records: list[tuple[int, list[str]]], index: int, comma: bool) -> np.ndarray:
    return np.array([parse_number(_text(f, index), comma) for _, f in records], dtype=float)


def _heights(records: list[tuple[int, list[str]]], index: int | None, comma: bool,
             default_m: float, problems: list[str], notes: list[str]) -> np.ndarray:
    height, defaulted = parse_heights(records, index, comma, default_m, problems)
    if defaulted:
        notes.append(f"{defaulted} sites without height get {default_m:g} m")
    return height


def _ids(records: list[tuple[int, list[str]]], index: int | None, prefix: str,
         problems: list[str], notes: list[str]) -> list[str]:
    if index is None:
        width = max(4, len(str(len(records))))
        notes.append(f"ids {prefix}{1:0{width}d}.. generated in file order")
        return [f"{prefix}{k + 1:0{width}d}" for k in range(len(records))]
    ids = [_text(f, index) for _, f in records]
    lines: dict[str, list[int]] = {}
    for (line, _), site_id in zip(records, ids, strict=True):
        if not site_id:
            problems.append(f"line {line}: empty site_id")
        else:
            lines.setdefault(site_id, []).append(line)
    problems.extend(f"site_id {sid} is used on lines {', '.join(map(str, found))}; ids must be "
                    "unique" for sid, found in lines.items() if len(found) > 1)
    return ids


def _costs(records: list[tuple[int, list[str]]], index: int | None, comma: bool, name: str,
           problems: list[str]) -> np.ndarray:
    values = np.full(len(records), np.nan)
    if index is None:
        return values
    for k, (line, fields) in enumerate(records):
        raw = _text(fields, index).replace("_", "")
        if not raw:
            continue
        value = parse_number(raw, comma)
        if not value >= 0:
            problems.append(f"line {line}: {name} '{_text(fields, index)}' is not zero or "
                            "positive rupiah")
        values[k] = value
    return values


def _points_csv(path: Path, what: str) -> gpd.GeoDataFrame:
    rows, delimiter = read_csv_records(path, what=what)
    header = [h.lower() for h in rows[0][1]] if rows else []
    ilon, ilat = find_column(header, _LON), find_column(header, _LAT)
    if ilon is None or ilat is None:
        msg = f"{path}: no coordinate columns; expected lon,lat[,kind]"
        raise InputDataError(msg, problems=(msg,))
    records = rows[1:]
    comma = delimiter != ","
    lon, lat = _numbers(records, ilon, comma), _numbers(records, ilat, comma)
    bad = [line for k, (line, _) in enumerate(records)
           if not (-180 <= lon[k] <= 180 and -90 <= lat[k] <= 90)]
    if bad:
        problems = [f"line {line}: lon/lat is not a position in degrees" for line in bad]
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    ikind = find_column(header, _KIND)
    kind = [_text(f, ikind) for _, f in records]
    return gpd.GeoDataFrame({"kind": kind}, geometry=gpd.points_from_xy(lon, lat),
                            crs="EPSG:4326")


def _extent(frame: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    if not len(frame):
        return (math.nan,) * 4  # type: ignore[return-value]
    w, s, e, n = (float(v) for v in frame.total_bounds)
    return (w, s, e, n)
