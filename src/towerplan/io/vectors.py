"""The one vector writer: several layers into one GeoPackage, atomically.

GeoPackages are written as version 1.2 (``application_id`` ``GPKG``, ``user_version``
10200), which QGIS 3.22 and GDAL 3.6 open without warning. Default QGIS styles go into the
``layer_styles`` table that QGIS itself uses, so a layer opens styled.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

from towerplan.io.atomic import atomic_output
from towerplan.io.stamps import parse_utc, run_time_utc

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["GPKG_VERSION", "LAYER_STYLES_TABLE", "write_gpkg_layers"]

#: GeoPackage version written (GDAL's ``VERSION`` creation option).
GPKG_VERSION = "1.2"
#: Name of the QGIS style table.
LAYER_STYLES_TABLE = "layer_styles"
#: Geometry column of every layer (GDAL's default for GeoPackage).
_GEOMETRY_COLUMN = "geom"

_CREATE_STYLES = f"""
CREATE TABLE IF NOT EXISTS {LAYER_STYLES_TABLE} (
  id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
  f_table_catalog TEXT(256), f_table_schema TEXT(256), f_table_name TEXT(256),
  f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
  useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))
"""


def write_gpkg_layers(path: str | Path,
                      layers: Sequence[tuple[str, gpd.GeoDataFrame, str]], *,
                      styles: Mapping[str, str] | None = None,
                      created_utc: str | None = None) -> Path:
    """Write ``(name, frame, geometry_type)`` layers into one GeoPackage.

    Each frame keeps its CRS; layers without rows are still created with their schema.
    Polygon layers declared ``Multi...`` are promoted so mixed parts fit one type.

    Parameters
    ----------
    path : str or Path
        Destination ``.gpkg`` file (replaced as a whole).
    layers : sequence of (str, GeoDataFrame, str)
        Layer name, data and OGR geometry type (``"Point"``, ``"MultiPolygon"``, ...).
    styles : mapping of str to str, optional
        QGIS style (QML text) by layer name, stored as that layer's default style in
        ``layer_styles`` (styles of layers not written are left out).
    created_utc : str, optional
        ISO 8601 time stamp of the run, written as every table's ``last_change`` (and the
        styles' ``update_time``) in place of the moments of writing, so the same data give
        the same file; default :func:`~towerplan.io.stamps.run_time_utc`.

    Returns
    -------
    Path
        The file written.
    """
    import pyogrio

    path = Path(path)
    names = {name for name, _, _ in layers}
    with atomic_output(path) as tmp:
        for name, frame, geometry_type in layers:
            first = not tmp.exists()
            pyogrio.write_dataframe(
                frame, tmp, layer=name, driver="GPKG", geometry_type=geometry_type,
                promote_to_multi=geometry_type.startswith("Multi"), append=not first,
                dataset_options={"VERSION": GPKG_VERSION} if first else None,
            )
        kept = {name: qml for name, qml in (styles or {}).items() if name in names}
        if kept:
            _write_styles(tmp, kept)
        _stamp(tmp, created_utc if created_utc is not None
               else run_time_utc().isoformat(timespec="seconds"))
    return path


def _stamp(path: Path, created_utc: str) -> None:
    """Date every table of the GeoPackage at *created_utc* (GeoPackage's own format)."""
    when = parse_utc(created_utc).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE gpkg_contents SET last_change = ?", (when,))
        has_styles = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                (LAYER_STYLES_TABLE,)).fetchone()
        if has_styles:
            db.execute(f"UPDATE {LAYER_STYLES_TABLE} SET update_time = ?", (when,))


def _write_styles(path: Path, styles: Mapping[str, str]) -> None:
    """Add ``layer_styles`` (registered as an attribute table) with one default per layer."""
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(_CREATE_STYLES)
        db.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, last_change) VALUES (?, 'attributes', ?, '', "
            "strftime('%Y-%m-%dT%H:%M:%fZ','now'))", (LAYER_STYLES_TABLE, LAYER_STYLES_TABLE))
        db.executemany(
            f"INSERT INTO {LAYER_STYLES_TABLE} (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
            [(name, _GEOMETRY_COLUMN, name, qml, f"towerplan default style of {name}")
             for name, qml in styles.items()])
