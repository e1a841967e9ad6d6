"""Committed towers: towers built or contracted by others (the national programme BAKTI,
operators) with the year they go on air.

A scenario's plan year decides what they mean (see :mod:`towerplan.analysis.committed`):
those on air by then count as existing towers today; all of them, whatever the year, keep
the plan from building next to them.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from towerplan.errors import InputDataError
from towerplan.io.csvfile import field, find_column, parse_heights, parse_number, read_csv_table
from towerplan.io.report import LayerReport, problems_message
from towerplan.io.towers import parse_technology

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["COMMITTED_COLUMNS", "FIRST_YEAR", "MAX_YEARS_AHEAD", "read_committed_towers"]

#: Columns of the committed towers table (plus ``geometry``).
COMMITTED_COLUMNS: tuple[str, ...] = (
    "committed_id", "lon", "lat", "height_m", "on_air_year", "technology", "operator",
    "programme", "name",
)

#: Earliest on-air year accepted.
FIRST_YEAR = 1980
#: Latest on-air year accepted, in years after the plan year.
MAX_YEARS_AHEAD = 10

_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_YEAR = ("on_air_year", "year", "tahun")
_TECH = ("technology", "teknologi", "radio")
_ID = ("committed_id", "id", "tower_id", "site_id")
_PROGRAMME = ("programme", "program", "source", "sumber")
_EXPECTED = ("expected a header such as 'lon,lat,on_air_year,technology,operator,programme' "
             "(year also 'year' or 'tahun')")


def read_committed_towers(path: str | Path, *, plan_year: int, default_height_m: float = 42.0
                          ) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read committed towers from a CSV file.

    Columns (case-insensitive): ``lon``, ``lat``, ``on_air_year`` (or ``year``, ``tahun``;
    a whole year), optional ``height_m``, ``technology`` (or ``teknologi``, ``radio``;
    :func:`~towerplan.io.towers.parse_technology`, empty = ``unknown``), ``operator``,
    ``programme`` (or ``program``, ``source``, ``sumber``), ``id`` (or ``committed_id``,
    ``tower_id``, ``site_id``; empty = ``C0001``.. in file order) and ``name`` (or ``nama``).

    Parameters
    ----------
    path : str or Path
        CSV file, UTF-8; comma, semicolon or tab separated.
    plan_year : int
        The scenario's plan year; on-air years later than ``plan_year + MAX_YEARS_AHEAD``
        are refused.
    default_height_m : float
        Antenna height where the file gives none, metres.

    Returns
    -------
    committed : geopandas.GeoDataFrame
        :data:`COMMITTED_COLUMNS` in EPSG:4326 (lon/lat degrees, height m, year int).
    report : LayerReport
        Counts on air by the plan year and later, technologies, programmes.

    Raises
    ------
    InputFileError
        If the file is missing or not a text file.
    InputDataError
        Listing one problem per line (file, line and value): missing or bad coordinates, a
        missing, non-integer, too early or too far ahead year, a technology that cannot be
        read, a bad height, a duplicate id.
    """
    import geopandas as gpd
    import pandas as pd

    path = Path(path)
    table = read_csv_table(path, what="committed towers", expected=_EXPECTED)
    header, records = table.header, table.records
    missing = [what for what, names in (("lon", _LON), ("lat", _LAT), ("on_air_year", _YEAR))
               if find_column(header, names) is None]
    if missing:
        msg = (f"{path}: missing column(s) {', '.join(missing)}; columns found: "
               f"{', '.join(table.columns)}; {_EXPECTED}")
        raise InputDataError(msg, problems=(msg,))
    decimal_comma = table.delimiter != ","
    problems: list[str] = []
    lon, lat = _coordinates(records, header, decimal_comma, problems)
    years = _years(records, find_column(header, _YEAR), plan_year, problems)
    heights, _ = parse_heights(records, find_column(header, ("height_m", "height")),
                               decimal_comma, default_height_m, problems)
    itech = find_column(header, _TECH)
    technology = []
    for line, fields in records:
        raw = field(fields, itech)
        tech = parse_technology(raw)
        if tech is None:
            problems.append(f"line {line}: technology '{raw}' is not one of 2g, 3g, 4g, 5g, "
                            "unknown (or GSM, UMTS, CDMA, LTE, NR)")
        technology.append(tech or "unknown")
    ids = [field(f, find_column(header, _ID)) for _, f in records]
    if not any(ids):
        ids = [f"C{k + 1:04d}" for k in range(len(records))]
    problems.extend(_id_problems(ids, records))
    if problems:
        listed = tuple(f"{path.name} {p}" for p in problems)
        raise InputDataError(problems_message(path, problems), problems=listed)
    frame = pd.DataFrame({
        "committed_id": ids, "lon": lon, "lat": lat, "height_m": heights,
        "on_air_year": years.astype(np.int64), "technology": technology,
        "operator": [field(f, find_column(header, ("operator",))) for _, f in records],
        "programme": [field(f, find_column(header, _PROGRAMME)) for _, f in records],
        "name": [field(f, find_column(header, ("name", "nama"))) for _, f in records],
    }, columns=list(COMMITTED_COLUMNS))
    committed = gpd.GeoDataFrame(
        frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326"),
        crs="EPSG:4326")
    on_air = int((committed["on_air_year"] <= plan_year).sum())
    notes = (f"plan year {plan_year}: {on_air} on air by then (existing today), "
             f"{len(committed) - on_air} later (not planned again, not counted today)",)
    if len(committed):
        extent = tuple(float(v) for v in (frame["lon"].min(), frame["lat"].min(),
                                          frame["lon"].max(), frame["lat"].max()))
    else:
        extent = (math.nan,) * 4
    return committed, LayerReport(layer="committed_towers", source=str(path), crs="EPSG:4326",
                                  extent=extent, count=len(committed),  # type: ignore[arg-type]
                                  notes=notes)


def _coordinates(records: list[tuple[int, list[str]]], header: list[str],
                 decimal_comma: bool, problems: list[str]) -> tuple[np.ndarray, np.ndarray]:
    ilon, ilat = find_column(header, _LON), find_column(header, _LAT)
    lon = np.full(len(records), np.nan)
    lat = np.full(len(records), np.nan)
    for k, (line, fields) in enumerate(records):
        for name, index, limit, out in (("lon", ilon, 180, lon), ("lat", ilat, 90, lat)):
            raw = field(fields, index)
            value = parse_number(raw, decimal_comma)
            if not raw:
                problems.append(f"line {line}: {name} is missing")
            elif math.isnan(value) or not -limit <= value <= limit:
                problems.append(f"line {line}: {name} '{raw}' is not a coordinate in "
                                f"-{limit}..{limit} degrees")
            out[k] = value
    return lon, lat


def _years(records: list[tuple[int, list[str]]], index: int | None, plan_year: int,
           problems: list[str]) -> np.ndarray:
    last = plan_year + MAX_YEARS_AHEAD
    years = np.zeros(len(records), dtype=np.int64)
    for k, (line, fields) in enumerate(records):
        raw = field(fields, index)
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not raw:
            problems.append(f"line {line}: on_air_year is missing")
        elif not (math.isfinite(value) and value == int(value)):
            problems.append(f"line {line}: on_air_year '{raw}' is not a year")
        elif not FIRST_YEAR <= value <= last:
            problems.append(f"line {line}: on_air_year {raw} is outside {FIRST_YEAR}..{last} "
                            f"(at most {MAX_YEARS_AHEAD} years after the plan year "
                            f"{plan_year})")
        else:
            years[k] = int(value)
    return years


def _id_problems(ids: list[str], records: list[tuple[int, list[str]]]) -> list[str]:
    problems = [f"line {line}: empty id" for (line, _), i in zip(records, ids, strict=True)
                if not i]
    seen: dict[str, int] = {}
    for (line, _), cid in zip(records, ids, strict=True):
        if cid and cid in seen:
            problems.append(f"line {line}: id {cid} is already used on line {seen[cid]}")
        seen.setdefault(cid, line)
    return problems
