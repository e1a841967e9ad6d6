"""Drive-test measurements: RSRP readings at points, for ``towerplan calibrate``.

The file is a CSV with one reading per row: ``lon, lat, rsrp_dbm`` and optionally ``site_id``,
the ``tower_id`` of the serving site (aliases ``longitude``, ``latitude``, ``rsrp``).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from towerplan.errors import InputDataError
from towerplan.io.csvfile import find_column, parse_number, read_csv_table
from towerplan.io.report import LayerReport
from towerplan.io.villages import problems_message

__all__ = ["MEASUREMENT_COLUMNS", "MIN_MEASUREMENTS", "RSRP_RANGE_DBM", "read_measurements"]

log = logging.getLogger(__name__)

#: Columns of the table :func:`read_measurements` returns, in order.
MEASUREMENT_COLUMNS: tuple[str, ...] = ("lon", "lat", "rsrp_dbm", "site_id")

#: Plausible RSRP readings, dBm (a handset reports about -140 to -44 dBm).
RSRP_RANGE_DBM = (-160.0, -20.0)

#: Fewest readings a calibration is fitted from.
MIN_MEASUREMENTS = 10

_LON = ("lon", "longitude")
_LAT = ("lat", "latitude")
_RSRP = ("rsrp_dbm", "rsrp")
_SITE = ("site_id",)


def read_measurements(path: str | Path) -> tuple[pd.DataFrame, LayerReport]:
    """Read drive-test RSRP measurements from a CSV file.

    Parameters
    ----------
    path : str or Path
        CSV file, UTF-8; comma, semicolon or tab separated (with ``;`` or tab, a decimal
        comma is accepted). Header ``lon,lat,rsrp_dbm[,site_id]`` (or ``longitude``,
        ``latitude``, ``rsrp``).

    Returns
    -------
    measurements : pandas.DataFrame
        Columns ``lon, lat`` (degrees, WGS 84), ``rsrp_dbm`` (dBm) and ``site_id`` (str,
        ``""`` when not given), indexed by the CSV line number of each reading (``line``).
    report : LayerReport
        Columns mapped, extent, count, RSRP range and how many readings name their site.

    Raises
    ------
    InputFileError
        If the file is missing or not a text file.
    InputDataError
        Listing every line with a missing, non-numeric or out-of-range value (longitude
        -180..180, latitude -90..90, RSRP -160..-20 dBm), a missing column, or fewer than
        :data:`MIN_MEASUREMENTS` readings.
    """
    started = time.perf_counter()
    path = Path(path)
    header, columns_found, records, delimiter = read_csv_table(
        path, what="measurements", expected="expected a header 'lon,lat,rsrp_dbm[,site_id]'")
    columns = {name: find_column(header, aliases)
               for name, aliases in zip(MEASUREMENT_COLUMNS, (_LON, _LAT, _RSRP, _SITE),
                                        strict=True)}
    missing = [name for name in MEASUREMENT_COLUMNS[:3] if columns[name] is None]
    if missing:
        msg = (f"{path}: column(s) {', '.join(missing)} missing; columns found: "
               f"{', '.join(columns_found)}; expected lon,lat,rsrp_dbm[,site_id] (or longitude, "
               "latitude, rsrp)")
        raise InputDataError(msg, problems=(msg,))
    table, problems = _parse(records, columns, decimal_comma=delimiter != ",")
    if len(records) < MIN_MEASUREMENTS:
        problems.append(f"{len(records)} reading{'' if len(records) == 1 else 's'}; a "
                        f"calibration needs at least {MIN_MEASUREMENTS}")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    log.info("measurements: %d readings from %s in %.2f s", len(table), path.name,
             time.perf_counter() - started)
    return table, _report(table, path, header, columns)


def _parse(records: list[tuple[int, list[str]]], columns: dict[str, int | None], *,
           decimal_comma: bool) -> tuple[pd.DataFrame, list[str]]:
    """Parse every record, appending one problem per bad line."""
    limits = {"lon": (-180.0, 180.0), "lat": (-90.0, 90.0), "rsrp_dbm": RSRP_RANGE_DBM}
    values = {name: np.full(len(records), np.nan) for name in limits}
    sites: list[str] = []
    problems: list[str] = []
    isite = columns["site_id"]
    for k, (line, fields) in enumerate(records):
        bad = []
        for name, (lo, hi) in limits.items():
            index = columns[name]
            raw = fields[index] if index is not None and index < len(fields) else ""
            value = parse_number(raw, decimal_comma)
            if not raw:
                bad.append(f"{name} is empty")
            elif math.isnan(value):
                bad.append(f"{name} '{raw}' is not a number")
            elif not lo <= value <= hi:
                bad.append(f"{name} {raw} outside {lo:g}..{hi:g}")
            values[name][k] = value
        if bad:
            problems.append(f"line {line}: {', '.join(bad)}")
        sites.append(fields[isite] if isite is not None and isite < len(fields) else "")
    table = pd.DataFrame({**values, "site_id": np.array(sites, dtype=object)},
                         index=pd.Index([line for line, _ in records], name="line"))
    return table[list(MEASUREMENT_COLUMNS)], problems


def _report(table: pd.DataFrame, path: Path, header: list[str],
            columns: dict[str, int | None]) -> LayerReport:
    mapped = ", ".join(f"{header[i]} -> {name}" for name, i in columns.items()
                       if i is not None and header[i] != name)
    named = int((table["site_id"] != "").sum())
    notes = [
        f"RSRP {table['rsrp_dbm'].min():.1f} .. {table['rsrp_dbm'].max():.1f} dBm",
        f"{named} of {len(table)} readings name their serving site"
        + ("" if named == len(table) else "; the others are served by the nearest tower"),
    ]
    if mapped:
        notes.insert(0, f"columns mapped: {mapped}")
    extent = (float(table["lon"].min()), float(table["lat"].min()),
              float(table["lon"].max()), float(table["lat"].max()))
    return LayerReport("measurements", str(path), "EPSG:4326", extent, len(table),
                       notes=tuple(notes))
