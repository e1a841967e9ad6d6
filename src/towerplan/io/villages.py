"""Villages: read and validate the desa/kelurahan polygons, the unit every result is given for.

Also home of :func:`read_vector`, the one reader of vector files (GPKG, SHP, GeoJSON, FGB), and
re-exports :func:`~towerplan.io.report.problems_message`, the one format of "this file has
these problems" messages.
"""

from __future__ import annotations

import logging
import math
import re
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.report import LayerReport, problems_message
from towerplan.scenario import VillageColumns

__all__ = [
    "KEMENDAGRI_CODE",
    "OUTPUT_COLUMNS",
    "problems_message",
    "read_vector",
    "read_villages",
]

log = logging.getLogger(__name__)

#: Columns of the villages GeoDataFrame, in order (plus ``geometry``).
OUTPUT_COLUMNS: tuple[str, ...] = (
    "code", "name", "district_code", "district", "kind", "population",
)

#: A Kemendagri desa/kelurahan code: province.regency.district.village, 1xxx = kelurahan,
#: 2xxx = desa (e.g. ``64.01.07.2009``).
KEMENDAGRI_CODE = re.compile(r"^(\d{2}\.\d{2}\.\d{2})\.([12])\d{3}$")

_KINDS = {"desa": "desa", "kelurahan": "kelurahan", "kel": "kelurahan", "kel.": "kelurahan",
          "village": "desa", "urban village": "kelurahan"}
_POLYGONAL = ("Polygon", "MultiPolygon")


def read_vector(path: str | Path, *, layer: str = "",
                what: str = "vector") -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read one layer of a vector file with pyogrio.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile, GeoJSON, FlatGeobuf or any vector format GDAL reads.
    layer : str
        Layer to read; empty = the first layer (a note says so when there are several).
    what : str
        What the file holds (``"villages"``, ``"settlements"``), used in messages.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        The features as stored, CRS included (``None`` when the file has none).
    notes : list of str
        Facts about the read (layer chosen).

    Raises
    ------
    InputFileError
        If the file is missing or is not a vector file GDAL can read.
    InputDataError
        If *layer* is not in the file (the message lists the layers).
    """
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    path = Path(path)
    if not path.exists():
        msg = f"{what} file not found: {path}"
        raise InputFileError(msg)
    try:
        layers = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (DataSourceError, DataLayerError, OSError) as exc:
        msg = (f"cannot read {what} file {path} as a vector file "
               f"(GeoPackage, Shapefile, GeoJSON, FlatGeobuf): {_first_line(exc)}")
        raise InputFileError(msg) from None
    notes: list[str] = []
    if not layers:
        msg = f"{what} file {path} holds no layer"
        raise InputDataError(msg, problems=(msg,))
    if layer and layer not in layers:
        msg = (f"{path}: layer '{layer}' not found; the file has layers "
               f"{', '.join(repr(n) for n in layers)}")
        raise InputDataError(msg, problems=(msg,))
    chosen = layer or layers[0]
    if not layer and len(layers) > 1:
        notes.append(f"file has layers {', '.join(layers)}; read the first, '{chosen}' "
                     "(set the layer to choose another)")
    try:
        with warnings.catch_warnings():  # a column of mixed JSON types stays text: fine
            warnings.filterwarnings("ignore", "Could not parse column", UserWarning)
            frame = gpd.read_file(path, layer=chosen, engine="pyogrio")
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        msg = f"cannot read layer '{chosen}' of {what} file {path}: {_first_line(exc)}"
        raise InputFileError(msg) from None
    return frame, notes


def read_villages(path: str | Path, *, layer: str = "",
                  columns: VillageColumns = VillageColumns(),  # noqa: B008
                  keep: tuple[str, ...] = ()) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read and validate village (desa/kelurahan) polygons.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile, GeoJSON or FlatGeobuf with one polygon per village.
    layer : str
        Layer inside a multi-layer file; empty = the first layer.
    columns : VillageColumns
        Which source columns hold name, code, district, district code, kind and population.
    keep : tuple of str
        Further source columns copied unchanged when the file has them, e.g. the village
        attributes of channel rules (``is_3t``, ``offers_land``); absent ones are left out.

    Returns
    -------
    villages : geopandas.GeoDataFrame
        Columns ``code, name, district_code, district, kind, population, geometry`` in the
        source CRS. ``kind`` is ``desa``, ``kelurahan`` or empty; ``population`` is float
        (people), ``nan`` where unknown. Codes are generated (``V0001``, ...) when the file has
        none; district codes are taken from Kemendagri village codes when the file has none.
    report : LayerReport
        Counts, extent in degrees, repairs (invalid geometries made valid) and notes.

    Raises
    ------
    InputFileError
        If the file is missing or not a readable vector file.
    InputDataError
        Listing every problem at once: no CRS, empty layer, missing name column, empty or
        duplicate codes, null/empty or non-polygon geometries, invalid population values,
        coordinates outside the CRS's range.
    """
    started = time.perf_counter()
    path = Path(path)
    raw, notes = read_vector(path, layer=layer, what="villages")
    problems: list[str] = []
    if raw.crs is None:
        problems.append("file has no CRS; set one, e.g. with ogr2ogr -a_srs EPSG:4326 "
                        f"fixed{path.suffix} {path.name}")
    if raw.empty:
        problems.append("layer is empty (no villages); check the file and layer name")
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    table, column_notes = _map_columns(raw, columns, problems)
    notes.extend(column_notes)
    for column in keep:
        if column in raw.columns and column not in table and column != raw.geometry.name:
            table[column] = raw[column].reset_index(drop=True)
    if "name" not in table:
        table["name"] = ""  # reported above; keeps checking the rest of the file
    _check_codes(table, problems)
    _check_population(table, problems)
    notes.extend(_fill_kind_and_district(table, problems, columns))
    empty_names = table.index[table["name"] == ""]
    report_problems = [f"village {table.at[i, 'code']}: empty name, the code is used instead"
                       for i in empty_names]
    table.loc[empty_names, "name"] = table.loc[empty_names, "code"]
    geometry, repairs = _validate_geometry(raw.geometry, table, problems)
    if raw.crs is not None and raw.crs.is_geographic:
        problems.extend(_check_degrees(geometry))
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    for field in ("code", "name", "district_code", "district", "kind"):
        table[field] = table[field].astype(str)
    villages = gpd.GeoDataFrame(table, geometry=geometry, crs=raw.crs)
    report = _report(villages, path, repairs, report_problems, notes)
    log.info("villages: %d read from %s, %d repaired in %.2f s", len(villages), path.name,
             len(repairs), time.perf_counter() - started)
    return villages, report


def _first_line(exc: BaseException) -> str:
    """Return the first line of a GDAL error message, without GDAL's driver hint."""
    text = str(exc).strip().split("; It might help")[0]
    return text.splitlines()[0] if text else type(exc).__name__


def _map_columns(raw: gpd.GeoDataFrame, columns: VillageColumns,
                 problems: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Return the towerplan columns taken from *raw* as stripped strings (population float)."""
    available = [c for c in raw.columns if c != raw.geometry.name]
    notes: list[str] = []
    n = len(raw)
    table = pd.DataFrame(index=pd.RangeIndex(n))
    fields = (("code", columns.code), ("name", columns.name),
              ("district_code", columns.district_code), ("district", columns.district),
              ("kind", columns.kind), ("population", columns.population))
    bad_numbers: list[tuple[int, str]] = []
    for field, source in fields:
        if source and source in raw.columns:
            values = raw[source].reset_index(drop=True)
            if field == "population":
                table[field], bad_numbers = _as_number(values)
            else:
                table[field] = _as_text(values)
            if source != field:
                notes.append(f"column '{source}' read as {field}")
            continue
        if field == "name":
            wanted = f"name column '{source}' not found" if source else "no name column set"
            problems.append(f"{wanted}; available columns: {', '.join(available) or 'none'}; "
                            "set [inputs.village_columns] name = '<column>'")
            continue
        if field == "code":
            table["code"] = [f"V{i + 1:04d}" for i in range(n)]
            why = f"column '{source}' not found" if source else "no code column set"
            notes.append(f"{why}: codes V0001..V{n:04d} generated in file order")
            continue
        table[field] = np.nan if field == "population" else ""
        if source:
            notes.append(f"column '{source}' not found: {field} left empty")
    problems.extend(f"row {i + 1}: population '{value}' is not a number"
                    for i, value in bad_numbers)
    return table, notes


def _as_text(values: pd.Series) -> pd.Series:
    """Return *values* as stripped strings; missing values become ``""``."""
    def text(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return pd.Series([text(v) for v in values], index=values.index, dtype=object)


def _as_number(values: pd.Series) -> tuple[pd.Series, list[tuple[int, str]]]:
    """Return *values* as float (``nan`` where empty) and the entries that are not numbers."""
    text = _as_text(values)
    number = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    bad = [(int(i), str(text[i])) for i in text.index if text[i] and np.isnan(number[i])]
    return number, bad


def _check_codes(table: pd.DataFrame, problems: list[str]) -> None:
    empty = [f"#{i + 1} ({table.at[i, 'name'] or 'no name'})"
             for i in table.index[table["code"] == ""]]
    if empty:
        problems.append(f"{len(empty)} villages have an empty code: {', '.join(empty[:20])}; "
                        "give every village a unique code")
    counts = table.loc[table["code"] != "", "code"].value_counts()
    for code, count in counts[counts > 1].items():
        names = ", ".join(table.loc[table["code"] == code, "name"].tolist())
        problems.append(f"code {code} is used by {count} villages ({names}); codes must be "
                        "unique")


def _check_population(table: pd.DataFrame, problems: list[str]) -> None:
    population = table["population"]
    problems.extend(f"{_label(table, i)}: population {population[i]:g} is negative"
                    for i in table.index[population < 0])


def _fill_kind_and_district(table: pd.DataFrame, problems: list[str],
                            columns: VillageColumns) -> list[str]:
    """Normalise ``kind``; infer it and the district code from Kemendagri codes when absent."""
    notes: list[str] = []
    kinds = table["kind"].str.lower().str.strip()
    unknown = sorted(set(kinds[(kinds != "") & ~kinds.isin(list(_KINDS))]))
    if unknown:
        problems.append(f"kind values {', '.join(repr(k) for k in unknown)} are neither desa "
                        f"nor kelurahan; fix column '{columns.kind}'")
    table["kind"] = kinds.map(lambda k: _KINDS.get(k, ""))
    matches = table["code"].str.extract(KEMENDAGRI_CODE)
    kemendagri = matches[0].notna()
    missing_kind = (table["kind"] == "") & kemendagri
    if missing_kind.any():
        table.loc[missing_kind, "kind"] = matches.loc[missing_kind, 1].map(
            {"1": "kelurahan", "2": "desa"})
        notes.append(f"kind inferred from Kemendagri codes (x.x.x.1xxx = kelurahan, 2xxx = desa) "
                     f"for {int(missing_kind.sum())} villages")
    missing_district = (table["district_code"] == "") & kemendagri
    if missing_district.any():
        table.loc[missing_district, "district_code"] = matches.loc[missing_district, 0]
        notes.append(f"district_code taken from the village codes for "
                     f"{int(missing_district.sum())} villages")
    return notes


def _label(table: pd.DataFrame, i: int) -> str:
    return f"village {table.at[i, 'code']} ({table.at[i, 'name']})"


def _validate_geometry(geoms: gpd.GeoSeries, table: pd.DataFrame,
                       problems: list[str]) -> tuple[np.ndarray, list[str]]:
    """Check and repair geometries; return them and one repair line per repaired village."""
    values = np.asarray(geoms.reset_index(drop=True).array, dtype=object)
    out = values.copy()
    repairs: list[str] = []
    if shapely.has_z(values[~shapely.is_missing(values)]).any():
        out = shapely.force_2d(out)
    for i, geom in enumerate(out):
        if geom is None or shapely.is_empty(geom):
            problems.append(f"{_label(table, i)}: no geometry (null or empty); give it a "
                            "polygon or remove the row")
            continue
        if geom.geom_type not in _POLYGONAL:
            problems.append(f"{_label(table, i)}: geometry is a {geom.geom_type}, expected "
                            "Polygon or MultiPolygon")
            continue
        if shapely.is_valid(geom):
            continue
        reason = shapely.is_valid_reason(geom)
        fixed = _polygonal_part(shapely.make_valid(geom))
        if fixed is None:
            problems.append(f"{_label(table, i)}: invalid geometry ({reason}) could not be "
                            "repaired into a polygon")
            continue
        out[i] = fixed
        repairs.append(f"{_label(table, i)}: invalid geometry repaired ({reason})")
    return out, repairs


def _polygonal_part(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Return the polygonal part of *geom* as a Polygon or MultiPolygon, or None if none."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    polygons = [p for p in polygons if p.area > 0]
    if not polygons:
        return None
    if len(polygons) == 1:
        return polygons[0]
    return shapely.MultiPolygon(polygons)


def _check_degrees(geometry: np.ndarray) -> list[str]:
    """Report coordinates outside -180..180 / -90..90 in a geographic layer."""
    valid = geometry[~shapely.is_missing(geometry)]
    if not len(valid):
        return []
    west, south, east, north = shapely.total_bounds(valid)
    if west >= -180 and east <= 180 and south >= -90 and north <= 90:
        return []
    return [f"coordinates reach x {west:.6g}..{east:.6g}, y {south:.6g}..{north:.6g}, which "
            "are not degrees although the CRS is geographic; the file's CRS is probably wrong "
            "(assign the right one with ogr2ogr -a_srs)"]


def _report(villages: gpd.GeoDataFrame, path: Path, repairs: list[str],
            problems: list[str], notes: list[str]) -> LayerReport:
    kinds = villages["kind"].value_counts()
    counts = ", ".join(f"{int(kinds.get(k, 0))} {k}" for k in ("desa", "kelurahan"))
    unknown_kind = int((villages["kind"] == "").sum())
    notes = [*notes, f"{len(villages)} villages: {counts}"
             + (f", {unknown_kind} of unknown kind" if unknown_kind else "")]
    with_population = int(villages["population"].notna().sum())
    if with_population:
        notes.append(f"population given for {with_population} villages, total "
                     f"{villages['population'].sum():,.0f}")
    crs = villages.crs
    epsg = crs.to_epsg()
    west, south, east, north = villages.to_crs(4326).total_bounds
    return LayerReport(
        layer="villages", source=str(path), crs=f"EPSG:{epsg}" if epsg else crs.name,
        extent=(float(west), float(south), float(east), float(north)), count=len(villages),
        repairs=tuple(repairs), problems=tuple(problems), notes=tuple(notes),
    )
