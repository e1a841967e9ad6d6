"""Files ``towerplan fetch`` writes besides the data: CSVs, ``sources.json``, ``scenario.toml``."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from towerplan.io.atomic import atomic_output
from towerplan.io.tables import guard_formula

__all__ = [
    "SCENARIO_FILE",
    "SOURCES_FILE",
    "toml_string",
    "write_json",
    "write_points_csv",
    "write_scenario_toml",
]

SOURCES_FILE = "sources.json"
SCENARIO_FILE = "scenario.toml"


def toml_string(text: str) -> str:
    """Return *text* as a TOML basic string (quoted and escaped).

    Examples
    --------
    >>> print(toml_string('Desa "Baru"\\n© OSM'))
    "Desa \\"Baru\\"\\n© OSM"
    """
    # JSON escapes quotes, backslashes and C0 controls in a way TOML reads; DEL is added.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def write_points_csv(path: Path, frame: gpd.GeoDataFrame, columns: Sequence[str]) -> Path:
    """Write point features as CSV: *columns* with ``lon`` and ``lat`` (degrees) after the first.

    Text is guarded against spreadsheet formulas; missing numbers are left empty.
    """
    points = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([columns[0], "lon", "lat", *columns[1:]])
        for row, geom in zip(points[list(columns)].itertuples(index=False), points.geometry,
                             strict=True):
            values = [_cell(v) for v in row]
            writer.writerow([values[0], f"{geom.x:.7f}", f"{geom.y:.7f}", *values[1:]])
    return path


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:g}"
    return guard_formula(str(value))


def write_json(path: Path, data: Mapping[str, Any]) -> Path:
    """Write *data* as indented UTF-8 JSON, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_scenario_toml(path: Path, *, header: Sequence[str], sections: Mapping[
        str, Mapping[str, str | float | Sequence[str]]]) -> Path:
    """Write a scenario file from ``{section: {key: value}}``; strings are escaped.

    Parameters
    ----------
    path : Path
        Destination.
    header : sequence of str
        Comment lines at the top.
    sections : mapping
        Table name (``"inputs.village_columns"``) to keys and values: strings, numbers or
        lists of strings.
    """
    lines = [f"# {' '.join(line.split())}" for line in header]
    for name, values in sections.items():
        lines += ["", f"[{name}]"]
        for key, value in values.items():
            lines.append(f"{key} = {_toml_value(value)}")
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_value(value: str | float | Sequence[str]) -> str:
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, int | float):
        return repr(float(value)) if isinstance(value, float) else str(value)
    items = [f"    {toml_string(v)}," for v in value]
    return "[\n" + "\n".join(items) + "\n]" if items else "[]"
