"""Points of presence (PoPs): the fibre nodes a backhaul path must reach.

A CSV with ``lon,lat`` (or ``longitude/lng/x``, ``latitude/y``) and optional ``pop_id``
(or ``id``), ``kind`` (``fibre`` by default) and ``capacity_mbps`` (or ``capacity``). Read
like the towers file: every bad row is reported at once.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from towerplan.columns import POP_COLUMNS
from towerplan.errors import InputDataError
from towerplan.io.csvfile import find_column, parse_number, read_csv_table
from towerplan.io.report import LayerReport
from towerplan.io.villages import problems_message

__all__ = ["read_pops"]

log = logging.getLogger(__name__)

_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_ID = ("pop_id", "id")
_CAPACITY = ("capacity_mbps", "capacity")


def read_pops(path: str | Path) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read points of presence from a CSV file.

    Parameters
    ----------
    path : str or Path
        CSV file, UTF-8; comma, semicolon or tab separated.

    Returns
    -------
    pops : geopandas.GeoDataFrame
        Columns ``pop_id, lon, lat, kind, capacity_mbps, geometry`` in EPSG:4326 (degrees;
        capacity in Mbit/s, NaN when not given).
    report : LayerReport
        Count, extent, kinds and notes on generated values.

    Raises
    ------
    InputFileError
        If the file is missing or not a text file.
    InputDataError
        If the header has no lon/lat columns, or listing every row with bad coordinates, a
        bad capacity or a duplicate id.
    """
    path = Path(path)
    header, columns, records, delimiter = read_csv_table(
        path, what="points of presence", expected="expected a header such as 'pop_id,lon,lat,kind'")
    ilon, ilat = find_column(header, _LON), find_column(header, _LAT)
    if ilon is None or ilat is None:
        msg = (f"{path}: points of presence need lon and lat columns; columns found: "
               f"{', '.join(columns)}")
        raise InputDataError(msg, problems=(msg,))
    comma = delimiter != ","
    problems: list[str] = []
    notes: list[str] = []

    def field(fields: list[str], index: int | None) -> str:
        return fields[index] if index is not None and index < len(fields) else ""

    lon = np.array([parse_number(field(f, ilon), comma) for _, f in records])
    lat = np.array([parse_number(field(f, ilat), comma) for _, f in records])
    for (line, fields), x, y in zip(records, lon, lat, strict=True):
        bad = []
        if not -180 <= x <= 180:
            bad.append(f"lon '{field(fields, ilon)}' is not a longitude")
        if not -90 <= y <= 90:
            bad.append(f"lat '{field(fields, ilat)}' is not a latitude")
        if bad:
            problems.append(f"line {line}: {', '.join(bad)}")
    icap = find_column(header, _CAPACITY)
    capacity = np.full(len(records), np.nan)
    for k, (line, fields) in enumerate(records):
        raw = field(fields, icap)
        if raw:
            capacity[k] = parse_number(raw, comma)
            if not capacity[k] >= 0:
                problems.append(f"line {line}: capacity '{raw}' is not a number of Mbit/s >= 0")
    iid = find_column(header, _ID)
    ids = [field(f, iid) for _, f in records]
    if not any(ids):
        ids = [f"POP{k + 1:02d}" for k in range(len(records))]
        if records:
            notes.append("pop ids POP01.. generated in file order")
    else:
        problems.extend(_id_problems(ids, [line for line, _ in records]))
    ikind = find_column(header, ("kind",))
    kinds = [field(f, ikind).lower() or "fibre" for _, f in records]
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    table = pd.DataFrame({"pop_id": ids, "lon": lon, "lat": lat, "kind": kinds,
                          "capacity_mbps": capacity}, columns=list(POP_COLUMNS))
    pops = gpd.GeoDataFrame(table, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    extent = ((float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
              if len(pops) else (math.nan,) * 4)
    if len(pops):
        counts = pd.Series(kinds).value_counts()
        notes.append("kinds: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    else:
        notes.append("header only: no points of presence")
    log.info("points of presence: %d from %s", len(pops), path.name)
    return pops, LayerReport(layer="pops", source=str(path), crs="EPSG:4326",
                             extent=extent, count=len(pops), notes=tuple(notes))


def _id_problems(ids: list[str], lines: list[int]) -> list[str]:
    problems = [f"line {line}: empty pop_id" for line, i in zip(lines, ids, strict=True)
                if not i]
    seen: dict[str, list[int]] = {}
    for line, pop_id in zip(lines, ids, strict=True):
        if pop_id:
            seen.setdefault(pop_id, []).append(line)
    problems.extend(f"pop_id {pid} is used on lines {', '.join(map(str, found))}; ids must be "
                    "unique" for pid, found in seen.items() if len(found) > 1)
    return problems
