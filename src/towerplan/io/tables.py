"""Table writers shared by every command: CSV with rounded numbers, typed GeoPackage layers,
JSON, and the spreadsheet formula guard.

Every file is written atomically (:mod:`towerplan.io.atomic`).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.errors import OutputError
from towerplan.io.atomic import atomic_output

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "DATA_SOURCE_COLUMN",
    "DATA_SOURCE_SYNTHETIC",
    "DATA_SOURCE_USER",
    "data_source",
    "guard_formula",
    "jsonable",
    "require_columns",
    "typed_layer",
    "write_json",
    "write_table_csv",
]

#: Trailing column of every table saying where the data came from.
DATA_SOURCE_COLUMN = "data_source"
DATA_SOURCE_SYNTHETIC = "synthetic demo (not a real place)"
DATA_SOURCE_USER = "user data"

#: Columns holding text; every other column of :mod:`~towerplan.columns` is numeric.
_TEXT_COLUMNS = frozenset({
    "code", "name", "district_code", "district", "kind", "status_before", "status_after",
    "best_server_before", "best_server_after", "tower_id", "operator", "radio", "site_id",
    "origin", "land_status", "village_code", "village", "villages_lifted_names", "status",
    "best_server",
    "audit_id", "source", "link_id", "from_id", "to_id", "technology", "stage",
    "backhaul_technology", "reason", "status_model", "status_reported", "signal_reported",
    "reported_date", "reported_source", "status_source", "agrees", "population_rule",
    "population_source", "why_not_site", "why_not_reason",
})
_BOOL_COLUMNS = frozenset({"selected", "feasible", "conflict"})
_INT_COLUMNS = frozenset({"rank", "villages_lifted", "cells", "backhaul_hops"})

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def guard_formula(text: str) -> str:
    """Return *text* made safe against spreadsheet formula injection.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel,
    LibreOffice and Google Sheets evaluate as a formula; such text gets a leading ``'``.

    Examples
    --------
    >>> guard_formula("=1+2")
    "'=1+2"
    >>> guard_formula("Muara Toyu")
    'Muara Toyu'
    """
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def require_columns(frame: pd.DataFrame, columns: Sequence[str], layer: str) -> None:
    """Raise :class:`OutputError` naming every column of *columns* missing from *frame*."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"cannot write the {layer} table: missing column(s) {', '.join(missing)}"
        raise OutputError(msg)


# --------------------------------------------------------------------------- tables


def _decimals(column: str) -> int | None:
    """Decimals a float column is rounded to in CSV files (``None``: integer)."""
    if column.endswith("_idr") or column in _INT_COLUMNS:
        return None
    if column in ("lon", "lat") or column.endswith(("_lon", "_lat")):
        return 6
    if column.startswith(("share_", "area_share_")):
        return 4
    if column == "area_km2":
        return 3
    if column.endswith(("_dbm", "_m")):
        return 1
    return 2


def _text_values(values: pd.Series) -> list[str]:
    """Return a text column as strings, missing values (None, NaN, NA) as ``""``."""
    missing = values.isna().to_numpy()
    return ["" if gone else str(v) for v, gone in zip(values, missing, strict=True)]


def _csv_value(column: str, value: Any) -> str:
    """Format one cell of a CSV file (text columns arrive as strings already)."""
    if column in _TEXT_COLUMNS:
        return guard_formula(value)
    if column in _BOOL_COLUMNS:
        return "true" if bool(value) else "false"
    if value is None:
        return ""
    number = float(value)
    if not math.isfinite(number):
        return ""
    places = _decimals(column)
    if places is None:
        return str(round(number))
    return f"{round(number, places):.{places}f}".rstrip("0").rstrip(".")


def write_table_csv(frame: pd.DataFrame, columns: Sequence[str], layer: str, path: Path,
                    source: str) -> Path:
    """Write *columns* of *frame* as CSV (plus the ``data_source`` column), atomically.

    Text cells are guarded against spreadsheet formula injection; numbers are rounded by
    column kind.
    """
    require_columns(frame, columns, layer)
    values = [_text_values(frame[c]) if c in _TEXT_COLUMNS else frame[c].tolist()
              for c in columns]
    with atomic_output(path) as tmp, tmp.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*columns, DATA_SOURCE_COLUMN])
        for row in zip(*values, strict=True):
            writer.writerow([*(_csv_value(c, v) for c, v in zip(columns, row, strict=True)),
                             source])
    return path

def typed_layer(frame: gpd.GeoDataFrame, columns: Sequence[str], crs: Any,
                 source: str) -> gpd.GeoDataFrame:
    """Return *frame* restricted to *columns* (+ ``data_source``) with explicit dtypes, in
    *crs*."""
    import geopandas as gpd
    import pandas as pd

    data: dict[str, Any] = {}
    for col in columns:
        values = frame[col]
        if col in _TEXT_COLUMNS:
            data[col] = pd.Series(_text_values(values), index=frame.index, dtype=object)
        elif col in _BOOL_COLUMNS:
            data[col] = values.astype(bool)
        elif col in _INT_COLUMNS:
            data[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int64")
        else:
            data[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    data[DATA_SOURCE_COLUMN] = pd.Series([source] * len(frame), index=frame.index, dtype=object)
    geometry = frame.geometry
    if frame.crs is None:
        geometry = geometry.set_crs(crs)
    elif frame.crs != crs:
        geometry = geometry.to_crs(crs)
    return gpd.GeoDataFrame(data, geometry=geometry.values, crs=crs, index=frame.index)

def data_source(synthetic: bool) -> str:
    """Return the ``data_source`` value of every row: synthetic demo or user data."""
    return DATA_SOURCE_SYNTHETIC if synthetic else DATA_SOURCE_USER


def jsonable(value: Any) -> Any:
    """Return *value* as plain JSON data: NaN/inf become ``None``, numpy scalars Python."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        items = value.tolist() if isinstance(value, np.ndarray) else list(value)
        return [jsonable(v) for v in items]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def write_json(path: str | Path, data: Any) -> Path:
    """Write *data* as UTF-8 JSON (indent 2, NaN and infinity as ``null``), atomically."""
    text = json.dumps(jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_output(path) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")
    return Path(path)
