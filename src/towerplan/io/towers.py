"""Existing towers: read an OpenCelliD export as is, or a simple ``lon,lat[,height_m]`` CSV.

OpenCelliD lists cells, not towers; cells of one site (within :data:`SITE_RADIUS_M`) are grouped
into one tower whose ``cells`` column counts the records.
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from towerplan.columns import TOWER_COLUMNS
from towerplan.errors import InputDataError
from towerplan.io.csvfile import find_column, parse_heights, parse_number, read_csv_records
from towerplan.io.report import LayerReport, problems_message
from towerplan.radio.antenna import parse_azimuths

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

# pandas and geopandas are imported where used: read_tower_positions of a simple file needs
# neither (``towerplan coverage --sites`` starts faster without them).

__all__ = ["ANTENNA_COLUMNS", "MNC_OPERATORS_510", "OPENCELLID_COLUMNS", "RADIO_TECHNOLOGY",
           "SITE_RADIUS_M", "TECHNOLOGIES", "TowerPositions", "counts_at_target",
           "parse_technology", "read_tower_positions", "read_towers"]

log = logging.getLogger(__name__)

#: Operators of Indonesia (MCC 510) by mobile network code.
MNC_OPERATORS_510: dict[int, str] = {
    1: "Indosat", 9: "Smartfren", 10: "Telkomsel", 11: "XL Axiata", 21: "Indosat (IM3)",
    28: "Smartfren", 89: "Tri",
}

#: Columns of an OpenCelliD export, in file order (the header some exports omit).
OPENCELLID_COLUMNS: tuple[str, ...] = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)

#: Cells closer than this to another cell of the same group belong to one site, metres.
SITE_RADIUS_M = 50.0

_RADIOS = ("GSM", "UMTS", "LTE", "NR", "CDMA")

#: Technologies a tower may carry, lowest generation first; ``unknown`` = not stated.
TECHNOLOGIES: tuple[str, ...] = ("2g", "3g", "4g", "5g", "unknown")

#: Generation of each OpenCelliD ``radio`` value.
RADIO_TECHNOLOGY: dict[str, str] = {"GSM": "2g", "UMTS": "3g", "CDMA": "3g", "LTE": "4g",
                                    "NR": "5g"}

#: Other spellings of a generation accepted in a ``technology`` column.
_TECH_ALIASES: dict[str, str] = {
    "2g": "2g", "2.5g": "2g", "gprs": "2g", "edge": "2g", "3g": "3g", "wcdma": "3g",
    "hspa": "3g", "4g": "4g", "lte": "4g", "4g lte": "4g", "5g": "5g",
    "5g nr": "5g", "unknown": "unknown", "tidak diketahui": "unknown", "": "unknown",
    **{radio.lower(): tech for radio, tech in RADIO_TECHNOLOGY.items()},
}
_TECHNOLOGY = ("technology", "teknologi", "radio")
_TECH_HELP = ("is not a technology: expected 2g, 3g, 4g, 5g or unknown (or GSM, UMTS, CDMA, "
              "LTE, NR; several joined by '/' give the highest)")


def parse_technology(text: str) -> str | None:
    """The highest generation named in *text*, ``"unknown"`` when empty, None when unreadable.

    *text* is a generation (``2g`` .. ``5g``, ``unknown``), an OpenCelliD radio (``GSM`` 2g,
    ``UMTS``/``CDMA`` 3g, ``LTE`` 4g, ``NR`` 5g) or several of them joined by ``/``, ``;``,
    ``,`` or ``+`` (a site with GSM and LTE cells is ``4g``); case does not matter.
    """
    found = []
    for part in re.split(r"[/;,+|]", text.strip().lower()) if text.strip() else [""]:
        tech = _TECH_ALIASES.get(" ".join(part.split()))
        if tech is None:
            return None
        found.append(tech)
    known = [t for t in found if t != "unknown"]
    return max(known, key=TECHNOLOGIES.index) if known else "unknown"


def counts_at_target(technology: str, target: str) -> bool:
    """Whether a tower of *technology* serves a coverage *target* (``"4g"`` or ``"signal"``).

    Every tower serves ``"signal"``; ``"4g"`` needs ``4g`` or ``5g``. A tower of ``unknown``
    technology is assumed to serve the target (the outputs count such towers).
    """
    if target == "signal" or technology == "unknown":
        return True
    return technology in ("4g", "5g")
_LON = ("lon", "longitude", "lng", "long", "x")
_LAT = ("lat", "latitude", "y")
_HEIGHT = ("height_m", "height")

#: Optional antenna columns of the simple layout, kept after ``TOWER_COLUMNS`` when the file
#: has them: ``azimuths`` (sector boresights, degrees from north, e.g. ``0;120;240``; empty
#: = the scenario's ``[radio.antenna]``) and ``beamwidth_deg`` (empty = the scenario's).
ANTENNA_COLUMNS: tuple[str, ...] = ("azimuths", "beamwidth_deg")


def read_towers(path: str | Path, *,
                default_height_m: float = 42.0) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """Read existing towers from a CSV file.

    Two layouts are recognised from the header. (a) OpenCelliD export (``radio,mcc,net,area,
    cell,...,lon,lat,...``, the ``mnc,lac_tac,cell_id,range_m`` variant, or the same rows
    without a header): cells within :data:`SITE_RADIUS_M` of each other form one tower, the
    operator is derived from MCC 510 MNC codes, the technology is the highest generation of
    its cells' radios (:data:`RADIO_TECHNOLOGY`) and the height is *default_height_m*.
    (b) Simple: ``lon,lat`` (or ``longitude/lng/x``, ``latitude/y``) with optional
    ``height_m`` (or ``height``), ``operator``, ``technology`` (or ``teknologi``, else derived
    from ``radio``: see :func:`parse_technology`), ``radio``, ``tower_id`` and the antenna
    columns :data:`ANTENNA_COLUMNS`: ``azimuths`` (sector boresights such as ``0;120;240``)
    and ``beamwidth_deg``; a tower without them gets the scenario's ``[radio.antenna]``.

    Parameters
    ----------
    path : str or Path
        CSV file, UTF-8; comma, semicolon or tab separated.
    default_height_m : float
        Antenna height above ground used where the file gives none, metres (default 42).

    Returns
    -------
    towers : geopandas.GeoDataFrame
        Columns ``tower_id, lon, lat, height_m, operator, radio, technology, cells,
        geometry`` in EPSG:4326; lon/lat in degrees, height in metres, technology one of
        :data:`TECHNOLOGIES`, cells = records grouped; then
        ``azimuths`` (normalised to ``0;120;240``, ``""`` = none) and ``beamwidth_deg``
        (nan = none) when the file has either column.
    report : LayerReport
        Layout detected, record and site counts, operators, notes on derived values.

    Raises
    ------
    InputFileError
        If the file is missing or not a text file.
    InputDataError
        If the layout is unknown (naming the columns found and expected), or listing every
        row with non-numeric or out-of-range coordinates, bad heights or duplicate ids.
    """
    started = time.perf_counter()
    path = Path(path)
    table, n_records, notes = _read_table(path, default_height_m)
    towers = _frame(table)
    if n_records:
        log.info("towers: %d records -> %d towers from %s in %.2f s", n_records, len(towers),
                 path.name, time.perf_counter() - started)
    return towers, _report(towers, path, [], notes)


class TowerPositions(NamedTuple):
    """Identifiers, positions (EPSG:4326 degrees) and antenna heights (m) of towers."""

    tower_id: list[str]
    lon: np.ndarray
    lat: np.ndarray
    height_m: np.ndarray


def read_tower_positions(path: str | Path, *, default_height_m: float = 42.0) -> TowerPositions:
    """Read the ids, positions and heights of the towers of a CSV file.

    The same layouts, checks, errors and values as :func:`read_towers` (OpenCelliD cells
    grouped into towers, generated ids, default heights), without building a GeoDataFrame:
    a simple ``lon,lat[,height_m][,tower_id]`` file is read without pandas or geopandas.

    Raises
    ------
    InputFileError
        If the file is missing or not a text file.
    InputDataError
        As :func:`read_towers`.
    """
    table, _, _ = _read_table(Path(path), default_height_m)
    return TowerPositions([str(v) for v in table["tower_id"]],
                          np.asarray(table["lon"], dtype=float),
                          np.asarray(table["lat"], dtype=float),
                          np.asarray(table["height_m"], dtype=float))


def _read_table(path: Path, default_height_m: float
                ) -> tuple[pd.DataFrame | dict[str, Any], int, list[str]]:
    """Return the towers' columns (a dict for the simple layout), the number of records
    and the notes."""
    if not (default_height_m > 0 and math.isfinite(default_height_m)):
        msg = f"default_height_m must be a positive number of metres, got {default_height_m!r}"
        raise ValueError(msg)
    rows, delimiter = read_csv_records(path, what="towers")
    if not rows:
        msg = (f"{path}: file is empty; expected a header such as 'lon,lat,height_m,operator' "
               "or an OpenCelliD export")
        raise InputDataError(msg, problems=(msg,))
    layout, header, records = _detect_layout(path, rows)
    decimal_comma = delimiter != ","
    notes = [f"layout: {layout}"]
    if not records:
        notes.append("header only: no towers")
        return {c: [] for c in TOWER_COLUMNS}, 0, notes
    table: pd.DataFrame | dict[str, Any]
    if layout == "simple":
        table, problems, extra = _simple(header, records, default_height_m, decimal_comma)
    else:
        table, problems, extra = _opencellid(header, records, default_height_m, decimal_comma)
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    notes.extend(extra)
    return table, len(records), notes


def _detect_layout(path: Path, rows: list[tuple[int, list[str]]],
                   ) -> tuple[str, list[str], list[tuple[int, list[str]]]]:
    """Return the layout name, the lower-case header and the data records."""
    first = rows[0][1]
    if first[0].upper() in _RADIOS and len(first) >= len(OPENCELLID_COLUMNS):
        return "OpenCelliD (no header)", list(OPENCELLID_COLUMNS), rows
    header = [h.lower() for h in first]
    records = rows[1:]
    if {"radio", "mcc", "lon", "lat"} <= set(header) and ({"net", "mnc"} & set(header)):
        return "OpenCelliD", header, records
    if find_column(header, _LON) is not None and find_column(header, _LAT) is not None:
        return "simple", header, records
    msg = (f"{path}: unknown towers layout; columns found: {', '.join(first)}; expected "
           "lon,lat[,height_m,operator,radio,tower_id] or an OpenCelliD export "
           f"({','.join(OPENCELLID_COLUMNS)})")
    raise InputDataError(msg, problems=(msg,))


def _coordinates(records: list[tuple[int, list[str]]], ilon: int, ilat: int,
                 decimal_comma: bool, problems: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Parse lon/lat of every record, appending one problem per bad line."""
    lon = np.full(len(records), np.nan)
    lat = np.full(len(records), np.nan)
    for k, (line, fields) in enumerate(records):
        raw_lon = fields[ilon] if ilon < len(fields) else ""
        raw_lat = fields[ilat] if ilat < len(fields) else ""
        x, y = parse_number(raw_lon, decimal_comma), parse_number(raw_lat, decimal_comma)
        bad = []
        if math.isnan(x):
            bad.append(f"lon '{raw_lon}' is not a number")
        elif not -180 <= x <= 180:
            bad.append(f"lon {raw_lon} outside -180..180")
        if math.isnan(y):
            bad.append(f"lat '{raw_lat}' is not a number")
        elif not -90 <= y <= 90:
            bad.append(f"lat {raw_lat} outside -90..90")
        if bad:
            problems.append(f"line {line}: {', '.join(bad)}")
        lon[k], lat[k] = x, y
    return lon, lat


def _field(fields: list[str], index: int | None) -> str:
    return fields[index] if index is not None and index < len(fields) else ""


def _simple(header: list[str], records: list[tuple[int, list[str]]], default_height_m: float,
            decimal_comma: bool) -> tuple[dict[str, Any], list[str], list[str]]:
    problems: list[str] = []
    notes: list[str] = []
    ilon, ilat = find_column(header, _LON), find_column(header, _LAT)
    assert ilon is not None and ilat is not None
    lon, lat = _coordinates(records, ilon, ilat, decimal_comma, problems)
    iheight = find_column(header, _HEIGHT)
    heights, defaulted = parse_heights(records, iheight, decimal_comma, default_height_m,
                                       problems)
    if defaulted:
        notes.append(f"{defaulted} towers without height get the default {default_height_m:g} m")
    ids = [_field(f, find_column(header, ("tower_id",))) for _, f in records]
    if not any(ids):
        ids = _generated_ids(len(records))
        notes.append(f"tower ids T{1:0{len(ids[0]) - 1}d}.. generated in file order")
    else:
        problems.extend(_id_problems(ids, records))
    table = {
        "tower_id": ids, "lon": lon, "lat": lat, "height_m": heights,
        "operator": [_field(f, find_column(header, ("operator",))) for _, f in records],
        "radio": [_field(f, find_column(header, ("radio",))).upper() for _, f in records],
        "technology": _technologies(header, records, problems),
        "cells": np.ones(len(records), dtype=np.int64),
    }
    if find_column(header, ANTENNA_COLUMNS) is not None:
        table["azimuths"], table["beamwidth_deg"] = _antennas(header, records, decimal_comma,
                                                              problems)
    return table, problems, notes


def _technologies(header: list[str], records: list[tuple[int, list[str]]],
                  problems: list[str]) -> list[str]:
    """The ``technology`` (else ``teknologi``, else ``radio``) of each record; empty or
    absent = ``unknown``; one problem per unreadable value."""
    index = find_column(header, _TECHNOLOGY)
    name = header[index] if index is not None else ""
    out = []
    for line, fields in records:
        raw = _field(fields, index)
        tech = parse_technology(raw)
        if tech is None:
            problems.append(f"line {line}: {name} '{raw}' {_TECH_HELP}")
        out.append(tech or "unknown")
    return out


def _antennas(header: list[str], records: list[tuple[int, list[str]]], decimal_comma: bool,
              problems: list[str]) -> tuple[list[str], np.ndarray]:
    """Sector azimuths (normalised text) and beamwidths of the simple layout."""
    iaz, ibw = find_column(header, ("azimuths",)), find_column(header, ("beamwidth_deg",))
    azimuths: list[str] = []
    beamwidth = np.full(len(records), np.nan)
    for k, (line, fields) in enumerate(records):
        raw = _field(fields, iaz)
        try:
            values = parse_azimuths(raw.replace(",", ".") if decimal_comma else raw)
        except ValueError:
            problems.append(f"line {line}: azimuths '{raw}' are not numbers separated by ';'")
            values = ()
        azimuths.append(";".join(f"{v:g}" for v in values))
        text = _field(fields, ibw)
        if text.strip():
            bw = parse_number(text, decimal_comma)
            if not (bw > 0 and math.isfinite(bw)):
                problems.append(f"line {line}: beamwidth_deg '{text}' is not a positive number")
            beamwidth[k] = bw
    return azimuths, beamwidth


def _generated_ids(n: int) -> list[str]:
    width = max(4, len(str(n)))
    return [f"T{i + 1:0{width}d}" for i in range(n)]


def _id_problems(ids: list[str], records: list[tuple[int, list[str]]]) -> list[str]:
    problems = [f"line {line}: empty tower_id" for (line, _), i in zip(records, ids, strict=True)
                if not i]
    lines: dict[str, list[int]] = {}
    for (line, _), tower_id in zip(records, ids, strict=True):
        if tower_id:
            lines.setdefault(tower_id, []).append(line)
    problems.extend(f"tower_id {tid} is used on lines {', '.join(map(str, found))}; ids must "
                    "be unique" for tid, found in lines.items() if len(found) > 1)
    return problems


def _opencellid(header: list[str], records: list[tuple[int, list[str]]],
                default_height_m: float,
                decimal_comma: bool) -> tuple[pd.DataFrame, list[str], list[str]]:
    import pandas as pd

    problems: list[str] = []
    short = [line for line, fields in records if len(fields) < len(header)]
    if short:
        listed = ", ".join(map(str, short[:20])) + (" ..." if len(short) > 20 else "")
        problems.append(f"{len(short)} lines have fewer than {len(header)} fields: {listed}")
    ilon, ilat = header.index("lon"), header.index("lat")
    lon, lat = _coordinates(records, ilon, ilat, decimal_comma, problems)
    iradio, imcc = header.index("radio"), header.index("mcc")
    imnc = header.index("net") if "net" in header else header.index("mnc")
    radios = [_field(f, iradio).upper() for _, f in records]
    operators = [_operator(_field(f, imcc), _field(f, imnc)) for _, f in records]
    if problems:
        return pd.DataFrame(), problems, []
    site = _group_sites(lon, lat, SITE_RADIUS_M)
    cells = pd.DataFrame({"site": site, "lon": lon, "lat": lat, "radio": radios,
                          "operator": operators,
                          "technology": [RADIO_TECHNOLOGY.get(r, "unknown") for r in radios]})
    groups = cells.groupby("site", sort=True)
    table = pd.DataFrame({
        "lon": groups["lon"].mean(), "lat": groups["lat"].mean(),
        "operator": groups["operator"].agg(_joined), "radio": groups["radio"].agg(_joined),
        "technology": groups["technology"].agg(lambda v: parse_technology("/".join(v))),
        "cells": groups.size().astype(np.int64),
    }).reset_index(drop=True)
    table.insert(0, "tower_id", _generated_ids(len(table)))
    table.insert(3, "height_m", float(default_height_m))
    spread_m = _largest_spread_m(cells, table)
    notes = [
        f"{len(records)} cell records grouped into {len(table)} towers (cells within "
        f"{SITE_RADIUS_M:g} m of each other form one site; largest site spans "
        f"{spread_m:.0f} m from its centre)",
        "operator derived from MCC/MNC (510-01 Indosat, 510-10 Telkomsel, 510-11 XL Axiata, "
        "510-09/28 Smartfren, 510-21 Indosat (IM3), 510-89 Tri)",
        f"OpenCelliD gives no antenna height: every tower gets the default "
        f"{default_height_m:g} m",
        "positions are crowd-sourced cell estimates, not surveyed tower positions",
    ]
    unknown = sorted({r for r in radios if r not in _RADIOS})
    if unknown:
        notes.append(f"unknown radio values kept as given (technology unknown): "
                     f"{', '.join(unknown)}")
    return table, problems, notes


def _operator(mcc: str, mnc: str) -> str:
    try:
        mcc_code, mnc_code = int(float(mcc)), int(float(mnc))
    except (ValueError, OverflowError):  # text, nan, or inf
        return f"MCC {mcc or '?'} MNC {mnc or '?'}"
    if mcc_code == 510 and mnc_code in MNC_OPERATORS_510:
        return MNC_OPERATORS_510[mnc_code]
    return f"MCC {mcc_code} MNC {mnc_code:02d}"


def _joined(values: pd.Series) -> str:
    return "/".join(sorted({v for v in values if v}))


def _group_sites(lon: np.ndarray, lat: np.ndarray, radius_m: float) -> np.ndarray:
    """Label points linked by chains of neighbours closer than *radius_m*, in file order."""
    import pandas as pd
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    lat0 = math.radians(float(np.mean(lat)))
    xy = np.column_stack([lon * 111_320.0 * math.cos(lat0), lat * 110_574.0])
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    n = len(lon)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    codes, _ = pd.factorize(labels)
    return codes


def _largest_spread_m(cells: pd.DataFrame, sites: pd.DataFrame) -> float:
    lat0 = math.radians(float(cells["lat"].mean()))
    centre_lon = sites["lon"].to_numpy()[cells["site"].to_numpy()]
    centre_lat = sites["lat"].to_numpy()[cells["site"].to_numpy()]
    dx = (cells["lon"].to_numpy() - centre_lon) * 111_320.0 * math.cos(lat0)
    dy = (cells["lat"].to_numpy() - centre_lat) * 110_574.0
    return float(np.hypot(dx, dy).max()) if len(cells) else 0.0


def _frame(columns: pd.DataFrame | dict[str, Any]) -> gpd.GeoDataFrame:
    """Return *columns* as the towers GeoDataFrame with the output columns and dtypes."""
    import geopandas as gpd
    import pandas as pd

    extra = [c for c in ANTENNA_COLUMNS if c in columns]
    table = pd.DataFrame(columns).loc[:, [*TOWER_COLUMNS, *extra]].reset_index(drop=True)
    if extra:
        table["azimuths"] = table["azimuths"].astype(str)
        table["beamwidth_deg"] = table["beamwidth_deg"].astype(float)
    for name in ("tower_id", "operator", "radio", "technology"):
        table[name] = table[name].astype(str)
    for name in ("lon", "lat", "height_m"):
        table[name] = table[name].astype(float)
    table["cells"] = table["cells"].astype(np.int64)
    geometry = gpd.points_from_xy(table["lon"], table["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(table, geometry=geometry, crs="EPSG:4326")


def _report(towers: gpd.GeoDataFrame, path: Path, problems: list[str],
            notes: list[str]) -> LayerReport:
    if len(towers):
        extent = (float(towers["lon"].min()), float(towers["lat"].min()),
                  float(towers["lon"].max()), float(towers["lat"].max()))
        operators = towers["operator"].str.split("/").explode().value_counts()
        techs = towers["technology"].value_counts()
        notes = [*notes, "operators: " + ", ".join(f"{name} {count}" for name, count
                                                    in operators.items() if name),
                 "technology: " + ", ".join(f"{t} {int(techs[t])}" for t in TECHNOLOGIES
                                            if t in techs)]
    else:
        extent = (math.nan, math.nan, math.nan, math.nan)
    return LayerReport(layer="towers", source=str(path), crs="EPSG:4326", extent=extent,
                       count=len(towers), problems=tuple(problems), notes=tuple(notes))
