"""Demand: settlement points, population rasters and population tables per kecamatan."""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.names import normalise_name
from towerplan.io.rasters import (
    crs_label,
    grid_bounds,
    lonlat_bounds,
    open_raster,
    read_raster_onto,
)
from towerplan.io.report import LayerReport
from towerplan.io.villages import problems_message, read_vector

__all__ = [
    "apportion_district_population",
    "read_district_population",
    "read_population_raster",
    "read_settlements",
]

log = logging.getLogger(__name__)

_CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_NAME = ("name", "nama", "asciiname", "settlement", "place")
_POPULATION = ("population", "pop", "penduduk", "jumlah_penduduk")
_DISTRICT_CODE = ("district_code", "kode_kecamatan", "kode", "code")
_DISTRICT = ("district", "district_name", "kecamatan", "nama_kecamatan", "name", "nama")
_POPULATION_YEAR = re.compile(r"^(?:population|penduduk)_(\d{4})$")
_TOTAL_TOLERANCE = 0.01


def read_settlements(path: str | Path) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read settlement points from a CSV file or a point vector file.

    Parameters
    ----------
    path : str or Path
        CSV with ``lon,lat`` (or ``longitude,latitude``) and optional ``name`` and
        ``population``; or a point layer (GPKG, GeoJSON, ...) with optional ``name`` and
        ``population`` attributes. In GeoNames files (a ``geonameid`` column) a population of
        0 means unknown.

    Returns
    -------
    settlements : geopandas.GeoDataFrame
        Columns ``name, population, geometry`` in EPSG:4326; population in people (float),
        ``nan`` where unknown.
    report : LayerReport
        Counts, total known population and notes.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        Listing every line with bad coordinates or population, a missing coordinate column,
        a vector layer without CRS or with non-point geometries.
    """
    path = Path(path)
    if not path.exists():
        msg = f"settlements file not found: {path}"
        raise InputFileError(msg)
    if path.suffix.lower() in _CSV_SUFFIXES:
        settlements, notes = _settlements_csv(path)
    else:
        settlements, notes = _settlements_vector(path)
    known = settlements["population"].notna()
    if known.any():
        notes.append(f"population known for {int(known.sum())} of {len(settlements)} "
                     f"settlements, total {settlements['population'].sum():,.0f}")
    else:
        notes.append("no population given: settlements mark locations only")
    if len(settlements):
        west, south, east, north = (float(v) for v in settlements.total_bounds)
    else:
        west = south = east = north = math.nan
    report = LayerReport(layer="settlements", source=str(path), crs="EPSG:4326",
                         extent=(west, south, east, north), count=len(settlements),
                         notes=tuple(notes))
    log.info("settlements: %d read from %s", len(settlements), path.name)
    return settlements, report


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    """Read a CSV as text columns (lower-case names); comma, semicolon or tab separated."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            first = fh.readline()
        sep = max((",", ";", "\t"), key=first.count)
        table = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep,
                            encoding="utf-8-sig", skipinitialspace=True)
    except UnicodeDecodeError:
        msg = f"cannot read {what} file {path}: not a UTF-8 text CSV file"
        raise InputFileError(msg) from None
    except pd.errors.EmptyDataError:
        msg = f"{path}: file is empty; expected a header line"
        raise InputDataError(msg, problems=(msg,)) from None
    except (pd.errors.ParserError, OSError) as exc:
        msg = f"cannot read {what} file {path} as CSV: {str(exc).strip()}"
        raise InputFileError(msg) from None
    if not isinstance(table.index, pd.RangeIndex):  # pandas took the extra fields as index
        msg = (f"{path}: some lines have more fields than the header "
               f"({', '.join(map(str, table.columns))}); check the separator and quoting")
        raise InputDataError(msg, problems=(msg,))
    table.columns = [str(c).strip().lower() for c in table.columns]
    return table.apply(lambda col: col.str.strip())


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in columns), None)


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.where(values != ""), errors="coerce").astype(float)


def _settlements_csv(path: Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    table = _read_csv(path, "settlements")
    columns = list(table.columns)
    lon_col, lat_col = _pick(columns, _LON), _pick(columns, _LAT)
    if lon_col is None or lat_col is None:
        msg = (f"{path}: no coordinate columns; columns found: {', '.join(columns)}; expected "
               "lon,lat (or longitude,latitude) with optional name, population")
        raise InputDataError(msg, problems=(msg,))
    problems: list[str] = []
    lon, lat = _numbers(table[lon_col]), _numbers(table[lat_col])
    for i in table.index:
        bad = []
        if math.isnan(lon[i]) or not -180 <= lon[i] <= 180:
            bad.append(f"{lon_col} '{table.at[i, lon_col]}'")
        if math.isnan(lat[i]) or not -90 <= lat[i] <= 90:
            bad.append(f"{lat_col} '{table.at[i, lat_col]}'")
        if bad:
            problems.append(f"line {i + 2}: {' and '.join(bad)} not a coordinate in degrees")
    notes = [f"CSV with {lon_col}/{lat_col} columns"]
    population = _population(table, _pick(columns, _POPULATION), problems, notes,
                             geonames="geonameid" in columns)
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    name_col = _pick(columns, _NAME)
    names = table[name_col] if name_col else pd.Series([""] * len(table))
    if name_col is None:
        notes.append("no name column: settlements are unnamed")
    frame = gpd.GeoDataFrame(
        {"name": names.astype(str).to_numpy(), "population": population.to_numpy()},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    return frame, notes


def _population(table: pd.DataFrame, column: str | None, problems: list[str],
                notes: list[str], *, geonames: bool) -> pd.Series:
    """Return the population column as float, ``nan`` where unknown; append problems."""
    if column is None:
        notes.append("no population column: populations unknown")
        return pd.Series(np.nan, index=table.index)
    raw = table[column].astype(str).str.strip()
    values = _numbers(raw)
    for i in table.index[(raw != "") & values.isna()]:
        problems.append(f"line {i + 2}: population '{raw[i]}' is not a number")
    for i in table.index[values < 0]:
        problems.append(f"line {i + 2}: population {values[i]:g} is negative")
    if geonames:
        zeros = values == 0
        if zeros.any():
            values = values.mask(zeros)
            notes.append(f"{int(zeros.sum())} populations of 0 read as unknown (GeoNames uses "
                         "0 for unknown)")
    return values


def _settlements_vector(path: Path) -> tuple[gpd.GeoDataFrame, list[str]]:
    raw, notes = read_vector(path, what="settlements")
    problems: list[str] = []
    if raw.crs is None:
        problems.append("file has no CRS; set one, e.g. with ogr2ogr -a_srs EPSG:4326")
    kinds = raw.geometry.geom_type.fillna("none")
    bad = kinds[kinds != "Point"]
    if len(bad):
        listed = ", ".join(f"#{i + 1} {kind}" for i, kind in bad.head(20).items())
        problems.append(f"{len(bad)} features are not points ({listed}); settlements must be "
                        "points")
    columns = {str(c).lower(): c for c in raw.columns if c != raw.geometry.name}
    table = pd.DataFrame({k: raw[v].astype(str).where(raw[v].notna(), "").to_numpy()
                          for k, v in columns.items()}, index=pd.RangeIndex(len(raw)))
    population = _population(table, _pick(list(columns), _POPULATION), problems, notes,
                             geonames="geonameid" in columns)
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    name_col = _pick(list(columns), _NAME)
    names = table[name_col].to_numpy() if name_col else np.array([""] * len(raw))
    frame = gpd.GeoDataFrame({"name": names.astype(str), "population": population.to_numpy()},
                             geometry=raw.geometry.to_numpy(), crs=raw.crs).to_crs(4326)
    return frame, notes


def read_population_raster(path: str | Path, *, dst_crs: CRS, transform: Affine,
                           shape: tuple[int, int]) -> tuple[np.ndarray, LayerReport]:
    """Read a population count raster onto a target grid, preserving the total.

    Counts are summed into target cells with GDAL's area-weighted *sum* resampling, so the
    people inside the grid stay the same whatever the cell sizes and CRSs.

    Parameters
    ----------
    path : str or Path
        Raster of people per cell (e.g. WorldPop counts), any CRS.
    dst_crs : pyproj.CRS
        CRS of the target grid.
    transform : affine.Affine
        Pixel-to-CRS transform of the target grid.
    shape : tuple of int
        ``(rows, cols)`` of the target grid.

    Returns
    -------
    people : numpy.ndarray of float64
        People per target cell; ``nan`` where the raster has no data.
    report : LayerReport
        Total people in the source inside the grid and on the grid.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If the raster has no CRS or holds negative counts.
    """
    before, negative = _source_total(path, dst_crs, transform, shape)
    if negative:
        msg = (f"{path}: {negative} cells hold negative population counts; a population "
               "raster must give people per cell (>= 0)")
        raise InputDataError(msg, problems=(msg,))
    people = read_raster_onto(path, dst_crs=dst_crs, transform=transform, shape=shape,
                              resampling="sum", dst_dtype="float64", what="population")
    after = float(np.nansum(people))
    notes = [f"total before resampling {before:,.0f} people (source cells whose centre lies "
             f"in the grid), after {after:,.0f}"]
    problems: list[str] = []
    if before > 0 and abs(after - before) > _TOTAL_TOLERANCE * before:
        problems.append(f"total changed by {100 * (after - before) / before:+.1f} % "
                        "(cells split at the grid edge)")
    missing = int(np.isnan(people).sum())
    if missing:
        problems.append(f"{missing} cells have no population data")
    report = LayerReport(
        layer="population", source=str(path), crs=crs_label(dst_crs),
        extent=lonlat_bounds(grid_bounds(transform, shape), dst_crs),
        count=int(people.size - missing), problems=tuple(problems), notes=tuple(notes),
    )
    log.info("population: %.0f people on the grid from %s", after, path)
    return people, report


def _source_total(path: str | Path, dst_crs: CRS, transform: Affine,
                  shape: tuple[int, int]) -> tuple[float, int]:
    """Return the people in source cells whose centre lies in the grid, and negative cells."""
    from rasterio.errors import WindowError
    from rasterio.windows import Window, from_bounds

    west, south, east, north = grid_bounds(transform, shape)
    with open_raster(path, what="population") as ds:
        src_crs = CRS.from_wkt(ds.crs.to_wkt())
        to_src = Transformer.from_crs(CRS.from_user_input(dst_crs), src_crs, always_xy=True)
        box = to_src.transform_bounds(west, south, east, north, densify_pts=21)
        window = from_bounds(*box, transform=ds.transform).round_offsets().round_lengths()
        try:
            window = window.intersection(Window(0, 0, ds.width, ds.height))
        except WindowError:
            return 0.0, 0
        data = ds.read(1, window=window, masked=True).astype(np.float64)
        t = ds.transform
        win_t = Affine(t.a, t.b, t.c + window.col_off * t.a + window.row_off * t.b,
                       t.d, t.e, t.f + window.col_off * t.d + window.row_off * t.e)
    rows, cols = data.shape
    xs = win_t.c + win_t.a * (np.arange(cols) + 0.5)
    ys = win_t.f + win_t.e * (np.arange(rows) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    to_dst = Transformer.from_crs(src_crs, CRS.from_user_input(dst_crs), always_xy=True)
    dx, dy = to_dst.transform(gx, gy)
    inside = (dx >= west) & (dx < east) & (dy > south) & (dy <= north)
    values = data.filled(np.nan)
    values = np.where(np.isfinite(values), values, np.nan)
    negative = int((values < 0).sum())
    return float(np.nansum(np.where(inside, values, 0.0))), negative


def read_district_population(path: str | Path) -> tuple[pd.DataFrame, LayerReport]:
    """Read population per kecamatan from a CSV table.

    Parameters
    ----------
    path : str or Path
        CSV with a district code (``district_code``, ``kode``, ``code``), a name
        (``district``, ``district_name``, ``kecamatan``, ``name``) and ``population`` or
        ``population_YYYY`` (the latest year is used when several are present).

    Returns
    -------
    table : pandas.DataFrame
        Columns ``district_code`` (str), ``district`` (str), ``population`` (float, people).
    report : LayerReport
        Rows, year used and total.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        Naming missing columns, or listing every empty/duplicate code and bad population.
    """
    path = Path(path)
    if not path.exists():
        msg = f"district population file not found: {path}"
        raise InputFileError(msg)
    table = _read_csv(path, "district population")
    columns = list(table.columns)
    code_col, name_col = _pick(columns, _DISTRICT_CODE), _pick(columns, _DISTRICT)
    pop_col, notes = _population_column(columns)
    missing = [label for label, col in (("district code", code_col), ("population", pop_col))
               if col is None]
    if missing:
        msg = (f"{path}: no {' and no '.join(missing)} column; columns found: "
               f"{', '.join(columns)}; expected district_code, district_name, population "
               "(or population_YYYY)")
        raise InputDataError(msg, problems=(msg,))
    assert code_col is not None and pop_col is not None
    problems: list[str] = []
    codes = table[code_col]
    for i in table.index[codes == ""]:
        problems.append(f"line {i + 2}: empty district code")
    counts = codes[codes != ""].value_counts()
    for code, count in counts[counts > 1].items():
        problems.append(f"district code {code} appears {count} times; codes must be unique")
    population = _numbers(table[pop_col])
    for i in table.index[population.isna() | (population < 0)]:
        problems.append(f"line {i + 2}: {pop_col} '{table.at[i, pop_col]}' is not a count of "
                        "people")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    result = pd.DataFrame({
        "district_code": codes.astype(str).to_numpy(),
        "district": (table[name_col] if name_col else pd.Series([""] * len(table)))
        .astype(str).to_numpy(),
        "population": population.to_numpy(dtype=float),
    })
    notes.append(f"{len(result)} districts, total {result['population'].sum():,.0f} people")
    report = LayerReport(layer="district_population", source=str(path), crs="",
                         extent=(math.nan, math.nan, math.nan, math.nan), count=len(result),
                         notes=tuple(notes))
    return result, report


def _population_column(columns: list[str]) -> tuple[str | None, list[str]]:
    """Return the population column (latest year when several) and a note."""
    plain = _pick(columns, ("population", "penduduk"))
    if plain:
        return plain, [f"population from column '{plain}'"]
    years = {int(m.group(1)): c for c in columns if (m := _POPULATION_YEAR.match(c))}
    if not years:
        return None, []
    latest = max(years)
    note = f"population from column '{years[latest]}' (year {latest})"
    if len(years) > 1:
        note += f"; other years ignored: {', '.join(str(y) for y in sorted(years)[:-1])}"
    return years[latest], [note]


def apportion_district_population(district_codes: pd.Series, districts: pd.Series,
                                  area_km2: pd.Series, table: pd.DataFrame
                                  ) -> tuple[np.ndarray, list[str], list[str]]:
    """Split each kecamatan's population over its villages in proportion to their area.

    Villages find their kecamatan row by district code, else by name (compared with
    :func:`~towerplan.io.register.normalise_name`, so ``"Kec. Long Kali"`` finds
    ``"Long Kali"``). Each kecamatan's people are kept: the villages' shares add up to it.

    Parameters
    ----------
    district_codes, districts : pandas.Series
        Kecamatan code and name of each village.
    area_km2 : pandas.Series
        Village areas, km2.
    table : pandas.DataFrame
        ``district_code``, ``district``, ``population`` (:func:`read_district_population`).

    Returns
    -------
    people : numpy.ndarray
        People per village (``nan`` where the kecamatan is not in the table).
    notes : list of str
        How many kecamatan were used and the people apportioned.
    problems : list of str
        Kecamatan of the villages missing from the table.

    Examples
    --------
    >>> table = pd.DataFrame({"district_code": ["64.01.01"], "district": ["Batu Sopang"],
    ...                       "population": [900.0]})
    >>> people, _, _ = apportion_district_population(
    ...     pd.Series(["64.01.01", ""]), pd.Series(["", "Kec. Batu Sopang"]),
    ...     pd.Series([1.0, 2.0]), table)
    >>> people.tolist()
    [300.0, 600.0]
    """
    by_code = dict(zip(table["district_code"].astype(str), range(len(table)), strict=True))
    by_name = {normalise_name(str(n), level="kecamatan"): k
               for k, n in enumerate(table["district"]) if str(n)}
    row = np.array([by_code.get(str(c), by_name.get(
        normalise_name(str(d), level="kecamatan"), -1)) if str(c) or str(d) else -1
        for c, d in zip(district_codes, districts, strict=True)], dtype=int)
    area = np.asarray(area_km2, dtype=float)
    known = row >= 0
    area_per_row = np.bincount(row[known], weights=area[known], minlength=len(table))
    totals = table["population"].to_numpy(float)
    people = np.full(len(row), np.nan)
    share = np.divide(area[known], area_per_row[row[known]],
                      out=np.zeros(int(known.sum())), where=area_per_row[row[known]] > 0)
    people[known] = totals[row[known]] * share
    used = np.unique(row[known])
    notes = [f"{len(used)} of {len(table)} kecamatan totals apportioned by area to "
             f"{int(known.sum())} villages, {np.nansum(people):,.0f} people"]
    unused = [str(table["district"].iloc[k] or table["district_code"].iloc[k])
              for k in range(len(table)) if k not in set(used)]
    if unused:
        notes.append(f"kecamatan without villages in the layer: {', '.join(unused)}")
    problems = []
    if not known.all():
        missing = sorted({f"{c} {d}".strip() for c, d, k in
                          zip(district_codes, districts, known, strict=True) if not k})
        problems.append(f"{int((~known).sum())} villages lie in kecamatan missing from the "
                        f"population table ({', '.join(missing) or 'no kecamatan given'}); "
                        "add them or give the villages a population column")
    return people, notes, problems
