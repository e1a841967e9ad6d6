"""Where people live: desa population totals, building footprints and public facilities.

These inputs feed the dasymetric placement of :func:`~towerplan.analysis.blankspots.
build_demand_units`: official desa totals (``[inputs] village_population``) are put on a
population raster or building footprints, else on settlements, the village office or the
village's representative point.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.demand import _numbers, _pick, _read_csv
from towerplan.io.report import LayerReport
from towerplan.io.villages import problems_message, read_vector

__all__ = [
    "apply_village_population",
    "read_buildings",
    "read_facilities",
    "read_village_population",
]

log = logging.getLogger(__name__)

_CODE = ("code", "kode", "kode_desa", "kode_wilayah", "village_code", "kode_kemendagri")
_PEOPLE = ("population", "jumlah_penduduk", "penduduk", "jumlah", "people", "pop")
_YEAR = ("year", "tahun")
_SOURCE = ("source", "sumber")
_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_WEIGHT = ("weight", "bobot", "people", "population")
_KIND = ("kind", "jenis", "type", "amenity")
_NO_EXTENT = (math.nan, math.nan, math.nan, math.nan)


def read_village_population(path: str | Path) -> tuple[pd.DataFrame, LayerReport]:
    """Read official people per desa/kelurahan (BPS, Dukcapil) from a CSV table.

    Parameters
    ----------
    path : str or Path
        CSV (comma, semicolon or tab separated) or XLSX (first sheet, header in the first
        row) with a Kemendagri code column (``code``,
        ``kode``, ``kode_desa``) and a people column (``population``, ``jumlah_penduduk``,
        ``penduduk``); optional ``year`` (``tahun``) and ``source`` (``sumber``).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``code`` (str), ``population`` (float, people), ``year`` (str), ``source``
        (str).
    report : LayerReport
        Rows and total people.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        Naming missing columns, or listing every empty or duplicate code and every population
        that is not a count of people (one problem per line).
    """
    path = Path(path)
    if not path.exists():
        msg = f"village population file not found: {path}"
        raise InputFileError(msg)
    table = _read_xlsx(path) if path.suffix.lower() in (".xlsx", ".xlsm") \
        else _read_csv(path, "village population")
    columns = list(table.columns)
    code_col, pop_col = _pick(columns, _CODE), _pick(columns, _PEOPLE)
    missing = [label for label, col in (("code", code_col), ("population", pop_col))
               if col is None]
    if missing:
        msg = (f"{path}: no {' and no '.join(missing)} column; columns found: "
               f"{', '.join(columns)}; expected code (kode), population (jumlah_penduduk), "
               "optional year, source")
        raise InputDataError(msg, problems=(msg,))
    assert code_col is not None and pop_col is not None
    problems: list[str] = []
    codes = table[code_col]
    for i in table.index[codes == ""]:
        problems.append(f"line {i + 2}: empty code")
    counts = codes[codes != ""].value_counts()
    for code, count in counts[counts > 1].items():
        problems.append(f"code {code} appears {count} times; one row per village")
    people = _numbers(table[pop_col].str.replace("_", "", regex=False))
    for i in table.index[people.isna() | (people < 0)]:
        problems.append(f"line {i + 2}: {pop_col} '{table.at[i, pop_col]}' is not a count of "
                        "people (a number >= 0)")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    year_col, source_col = _pick(columns, _YEAR), _pick(columns, _SOURCE)
    blank = pd.Series([""] * len(table), index=table.index)
    result = pd.DataFrame({
        "code": codes.astype(str).to_numpy(),
        "population": people.to_numpy(dtype=float),
        "year": (table[year_col] if year_col else blank).astype(str).to_numpy(),
        "source": (table[source_col] if source_col else blank).astype(str).to_numpy(),
    })
    notes = [f"{len(result)} villages, total {result['population'].sum():,.0f} people "
             f"(column '{pop_col}')"]
    years = sorted({y for y in result["year"] if y})
    if years:
        notes.append(f"year {', '.join(years)}")
    report = LayerReport(layer="village_population", source=str(path), crs="",
                         extent=_NO_EXTENT, count=len(result), notes=tuple(notes))
    log.info("village population: %d villages from %s", len(result), path.name)
    return result, report


def _read_xlsx(path: Path) -> pd.DataFrame:
    """The first sheet of a workbook as text columns (lower-case names), like a CSV."""
    try:
        raw = pd.read_excel(path, sheet_name=0, dtype=str, keep_default_na=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        msg = f"cannot read village population file {path} as XLSX: {exc}"
        raise InputFileError(msg) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw.apply(lambda col: col.astype(str).str.strip())


def apply_village_population(codes: pd.Series, table: pd.DataFrame
                             ) -> tuple[np.ndarray, list[str], list[str]]:
    """People per village from the table, matched by Kemendagri code.

    Parameters
    ----------
    codes : pandas.Series
        Code of each village of the villages layer.
    table : pandas.DataFrame
        :func:`read_village_population`.

    Returns
    -------
    people : numpy.ndarray
        People per village, ``nan`` for villages the table does not list.
    notes : list of str
        Villages matched and the villages the table leaves out.
    problems : list of str
        One line per code of the table that is no village of the layer.

    Examples
    --------
    >>> table = pd.DataFrame({"code": ["1", "2"], "population": [10.0, 20.0]})
    >>> people, _, problems = apply_village_population(pd.Series(["2", "3"]), table)
    >>> people.tolist(), problems
    ([20.0, nan], ['code 1 is no village of the villages layer'])
    """
    lookup = dict(zip(table["code"].astype(str), table["population"].astype(float),
                      strict=True))
    known = {str(c) for c in codes}
    problems = [f"code {c} is no village of the villages layer"
                for c in table["code"].astype(str) if c not in known]
    people = np.array([lookup.get(str(c), np.nan) for c in codes], dtype=float)
    notes = [f"{int(np.isfinite(people).sum())} of {len(people)} villages have an official "
             f"total, {np.nansum(people):,.0f} people"]
    missing = [str(c) for c, p in zip(codes, people, strict=True) if not np.isfinite(p)]
    if missing:
        shown = ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else "")
        notes.append(f"{len(missing)} villages not in the table: {shown}")
    return people, notes, problems


def read_buildings(path: str | Path) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read building footprints (polygons) from a vector file.

    Parameters
    ----------
    path : str or Path
        GPKG, GeoJSON, FlatGeobuf... of building polygons (Open Buildings, OSM, Microsoft
        footprints) in a declared CRS.

    Returns
    -------
    buildings : geopandas.GeoDataFrame
        The polygons in their own CRS (only ``geometry``).
    report : LayerReport
        Count and notes.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If the layer has no CRS or holds geometries other than polygons.
    """
    path = Path(path)
    if not path.exists():
        msg = f"buildings file not found: {path}"
        raise InputFileError(msg)
    raw, notes = read_vector(path, what="buildings")
    problems: list[str] = []
    if raw.crs is None:
        problems.append("file has no CRS; set one, e.g. with ogr2ogr -a_srs EPSG:4326")
    kinds = raw.geometry.geom_type.fillna("none")
    bad = kinds[~kinds.isin(["Polygon", "MultiPolygon"])]
    if len(bad):
        listed = ", ".join(f"#{i + 1} {kind}" for i, kind in bad.head(20).items())
        problems.append(f"{len(bad)} features are not polygons ({listed}); buildings must "
                        "be footprint polygons")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    frame = gpd.GeoDataFrame(geometry=raw.geometry.to_numpy(), crs=raw.crs)
    extent = tuple(float(v) for v in frame.to_crs(4326).total_bounds) if len(frame) \
        else _NO_EXTENT
    report = LayerReport(layer="buildings", source=str(path), crs="EPSG:4326",
                         extent=extent, count=len(frame),  # type: ignore[arg-type]
                         notes=(*notes, f"{len(frame)} building footprints"))
    return frame, report


def read_facilities(path: str | Path) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read public facilities (schools, health posts, village offices) as points.

    Parameters
    ----------
    path : str or Path
        CSV ``lon,lat[,name,kind,weight]`` or a point vector file with the same optional
        attributes; ``weight`` is people-equivalents (empty = the scenario's
        ``coverage.facility_weight``), ``kind`` e.g. ``school``, ``health``, ``office``.

    Returns
    -------
    facilities : geopandas.GeoDataFrame
        Columns ``kind`` (str), ``weight`` (float, ``nan`` = scenario default), geometry in
        EPSG:4326.
    report : LayerReport
        Count per kind.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        Listing every bad coordinate or weight, or non-point geometries.
    """
    path = Path(path)
    if not path.exists():
        msg = f"facilities file not found: {path}"
        raise InputFileError(msg)
    problems: list[str] = []
    if path.suffix.lower() in (".csv", ".txt", ".tsv"):
        table = _read_csv(path, "facilities")
        columns = list(table.columns)
        lon_col, lat_col = _pick(columns, _LON), _pick(columns, _LAT)
        if lon_col is None or lat_col is None:
            msg = (f"{path}: no coordinate columns; columns found: {', '.join(columns)}; "
                   "expected lon,lat with optional kind, weight")
            raise InputDataError(msg, problems=(msg,))
        lon, lat = _numbers(table[lon_col]), _numbers(table[lat_col])
        for i in table.index[lon.isna() | lat.isna() | (lon.abs() > 180) | (lat.abs() > 90)]:
            problems.append(f"line {i + 2}: '{table.at[i, lon_col]}, {table.at[i, lat_col]}' "
                            "is not a coordinate in degrees")
        geometry = gpd.points_from_xy(lon, lat)
        crs: object = "EPSG:4326"
    else:
        raw, _ = read_vector(path, what="facilities")
        if raw.crs is None:
            problems.append("file has no CRS; set one, e.g. with ogr2ogr -a_srs EPSG:4326")
        kinds = raw.geometry.geom_type.fillna("none")
        if (kinds != "Point").any():
            problems.append(f"{int((kinds != 'Point').sum())} features are not points; "
                            "facilities must be points")
        columns = [str(c).lower() for c in raw.columns if c != raw.geometry.name]
        table = pd.DataFrame({str(c).lower(): raw[c].astype(str).where(raw[c].notna(), "")
                              .to_numpy() for c in raw.columns if c != raw.geometry.name},
                             index=pd.RangeIndex(len(raw)))
        geometry, crs = raw.geometry.to_numpy(), raw.crs
    weight_col, kind_col = _pick(columns, _WEIGHT), _pick(columns, _KIND)
    weight = _numbers(table[weight_col]) if weight_col else pd.Series(np.nan, index=table.index)
    if weight_col:
        bad = (table[weight_col] != "") & (weight.isna() | (weight < 0))
        for i in table.index[bad]:
            problems.append(f"line {i + 2}: {weight_col} '{table.at[i, weight_col]}' is not a "
                            "number of people (>= 0)")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    kind = (table[kind_col] if kind_col else pd.Series([""] * len(table), index=table.index))
    frame = gpd.GeoDataFrame({"kind": kind.astype(str).str.lower().to_numpy(),
                              "weight": weight.to_numpy(dtype=float)},
                             geometry=geometry, crs=crs).to_crs(4326)
    per_kind = frame["kind"].replace("", "unspecified").value_counts()
    notes = [f"{len(frame)} facilities: " + ", ".join(f"{k} {n}" for k, n in per_kind.items())]
    extent = tuple(float(v) for v in frame.total_bounds) if len(frame) else _NO_EXTENT
    report = LayerReport(layer="facilities", source=str(path), crs="EPSG:4326",
                         extent=extent, count=len(frame),  # type: ignore[arg-type]
                         notes=tuple(notes))
    return frame, report
