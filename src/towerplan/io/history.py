"""The programme history: village status reports, budgets and the life of each site.

A history is one GeoPackage 1.2 file (``programme.gpkg``; SQLite underneath, opened by QGIS
and GDAL as any GeoPackage) with these tables:

``villages`` (MultiPolygon, EPSG:4326)
    ``code`` (Kemendagri), ``name``, ``kecamatan``, ``kind``, ``area_km2``, ``population``
    and ``population_basis`` (how the population was found, e.g. apportioned by area).
``status_reports`` (attributes)
    One row per report of a village's signal: ``code``, ``status``
    (:data:`~towerplan.io.evidence.SIGNAL_STATUSES`), ``date`` (period ``YYYY``, ``YYYY-MM`` or
    ``YYYY-MM-DD``), ``date_start`` (ISO day the period starts), ``source``, ``note``.
``budgets`` (attributes)
    The money of each programme year and funding channel: ``year``, ``channel``,
    ``budget_idr`` (NULL: no limit), ``source``.
``sites`` (Point, EPSG:4326)
    One row per planned or built tower site: ``site_id``, ``code`` (NULL when the village is
    not public), ``village``, ``kecamatan``, ``year``, ``channel``, ``tower_type``,
    ``capex_idr``, ``people`` (estimated people newly served), ``location`` (``site`` or
    ``village centre``), ``origin``, ``note``.
``site_events`` (attributes)
    The life of each site: ``site_id``, ``stage`` (:data:`STAGES`), ``date``, ``date_start``,
    ``amount_idr`` (budgeted sum, contract value or money paid), ``note``.
``towerplan_history`` (attributes)
    ``key``/``value`` pairs: format version, title, region, coverage target, attribution.

Every table also has ``recorded_at`` (UTC time of the write) and ``recorded_by`` (login
name). Writes go through :meth:`History.transaction`: one SQLite transaction with a rollback
journal and ``synchronous=FULL``, so a write killed half-way leaves the history as it was; a
new history is built in a temporary file and renamed into place.

Site stages and their order (:data:`TRANSITIONS`)::

    proposed -> budgeted -> tendered -> built -> on_air
                   ^           |
                   +-- tender_failed (then tendered again, budgeted again or cancelled)

Any stage before ``built`` may go to ``cancelled``. ``built`` may also follow ``proposed`` or
``budgeted`` directly (a direct award, or an operator's own tower: no tender recorded). The
amounts are rupiah: the sum budgeted, the contract value of a tender, the money paid on
``built``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import math
import os
import sqlite3
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from towerplan.errors import InputDataError, InputFileError, OutputError
from towerplan.io.atomic import atomic_output
from towerplan.io.evidence import SIGNAL_STATUSES, parse_period, parse_status

__all__ = [
    "HISTORY_VERSION",
    "STAGES",
    "TRANSITIONS",
    "History",
    "HistoryError",
    "create_history",
    "open_history",
]

#: Version of the history's tables (``towerplan_history.format_version``).
HISTORY_VERSION = 1

#: Every stage of a site's life, in order.
STAGES: tuple[str, ...] = ("proposed", "budgeted", "tendered", "tender_failed", "built",
                           "on_air", "cancelled")

#: The stages that may follow each stage (``None``: a site's first event).
TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("proposed", "budgeted"),
    "proposed": ("budgeted", "built", "cancelled"),
    "budgeted": ("tendered", "budgeted", "built", "cancelled"),
    "tendered": ("built", "tender_failed", "cancelled"),
    "tender_failed": ("tendered", "budgeted", "cancelled"),
    "built": ("on_air",),
    "on_air": (),
    "cancelled": (),
}

_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"
_GPKG_USER_VERSION = 10200
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SRS_ID = 4326
_BUSY_TIMEOUT_S = 30.0


class HistoryError(InputDataError):
    """A history file is missing, foreign, corrupt, or a write to it is invalid."""


# --------------------------------------------------------------------------- GeoPackage


def encode_geometry(geom: Any, srs_id: int = _SRS_ID) -> bytes | None:
    """GeoPackage binary of a shapely geometry (little-endian, xy envelope); None for None."""
    import shapely

    if geom is None:
        return None
    if geom.is_empty:
        return struct.pack("<2sBBi", b"GP", 0, 0b10001, srs_id) + shapely.to_wkb(
            geom, byte_order=1)
    minx, miny, maxx, maxy = geom.bounds
    header = struct.pack("<2sBBi4d", b"GP", 0, 0b11, srs_id, minx, maxx, miny, maxy)
    return header + shapely.to_wkb(geom, byte_order=1, output_dimension=2)


def decode_geometry(blob: bytes | None) -> Any:
    """The shapely geometry of a GeoPackage binary (None for NULL)."""
    import shapely

    if blob is None:
        return None
    if blob[:2] != b"GP":
        msg = "not a GeoPackage geometry"
        raise HistoryError(msg)
    flags = blob[3]
    envelope = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}.get((flags >> 1) & 0b111)
    if envelope is None:
        msg = "GeoPackage geometry with an invalid envelope"
        raise HistoryError(msg)
    return shapely.from_wkb(bytes(blob[8 + envelope:]))


_TABLES: dict[str, tuple[str, str | None, str]] = {
    # name: (columns, geometry type, description)
    "villages": (
        "code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, kecamatan TEXT, kind TEXT, "
        "area_km2 REAL, population REAL, population_basis TEXT",
        "MULTIPOLYGON", "Desa dan kelurahan / Villages"),
    "status_reports": (
        "code TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ({statuses})), "
        "date TEXT NOT NULL, date_start TEXT NOT NULL, source TEXT NOT NULL, note TEXT, "
        "UNIQUE (code, status, date, source)",
        None, "Laporan sinyal desa / Village signal reports"),
    "budgets": (
        "year INTEGER NOT NULL, channel TEXT NOT NULL, budget_idr REAL, source TEXT, "
        "UNIQUE (year, channel)",
        None, "Anggaran per tahun dan sumber dana / Budget per year and channel"),
    "sites": (
        "site_id TEXT NOT NULL UNIQUE, code TEXT, village TEXT, kecamatan TEXT, "
        "year INTEGER, channel TEXT, tower_type TEXT, capex_idr REAL, people REAL, "
        "location TEXT, origin TEXT, note TEXT",
        "POINT", "Lokasi menara / Tower sites"),
    "site_events": (
        "site_id TEXT NOT NULL REFERENCES sites (site_id), "
        "stage TEXT NOT NULL CHECK (stage IN ({stages})), date TEXT NOT NULL, "
        "date_start TEXT NOT NULL, amount_idr REAL, note TEXT, "
        "UNIQUE (site_id, stage, date)",
        None, "Tahapan menara / Site stages"),
    "towerplan_history": (
        "key TEXT NOT NULL UNIQUE, value TEXT",
        None, "Tentang riwayat ini / About this history"),
}


_GPKG_DDL: tuple[str, ...] = (
    """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
      organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
      definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY,
      data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '',
      last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
      min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
      CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
        REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL,
      column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
      srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
      CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
      CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
      CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
)

def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _ddl(name: str) -> str:
    columns, geometry, _ = _TABLES[name]
    columns = columns.format(statuses=_quoted(SIGNAL_STATUSES), stages=_quoted(STAGES))
    geom = "geom BLOB, " if geometry else ""
    fields, _, unique = columns.partition(", UNIQUE ")
    constraint = f", UNIQUE {unique}" if unique else ""
    return (f"CREATE TABLE {name} (fid INTEGER PRIMARY KEY AUTOINCREMENT, {geom}{fields}, "
            f"recorded_at TEXT NOT NULL, recorded_by TEXT{constraint})")


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _create_schema(con: sqlite3.Connection, meta: Mapping[str, str]) -> None:
    from pyproj import CRS

    con.execute(f"PRAGMA application_id = {_GPKG_APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {_GPKG_USER_VERSION}")
    for statement in _GPKG_DDL:
        con.execute(statement)
    con.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
        ("WGS 84 geodetic", _SRS_ID, "EPSG", _SRS_ID, CRS.from_epsg(_SRS_ID).to_wkt("WKT1_GDAL"),
         "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"),
    ])
    for name, (_, geometry, description) in _TABLES.items():
        con.execute(_ddl(name))
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
                    " srs_id) VALUES (?, ?, ?, ?, ?)",
                    (name, "features" if geometry else "attributes", name, description,
                     _SRS_ID if geometry else None))
        if geometry:
            con.execute("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, 0, 0)",
                        (name, geometry, _SRS_ID))
    con.execute("CREATE INDEX status_reports_code ON status_reports (code)")
    con.execute("CREATE INDEX site_events_site ON site_events (site_id)")
    stamp, user = _now(), _user()
    rows = {"format_version": str(HISTORY_VERSION), "created": stamp, **meta}
    con.executemany("INSERT INTO towerplan_history (key, value, recorded_at, recorded_by) "
                    "VALUES (?, ?, ?, ?)", [(k, v, stamp, user) for k, v in rows.items()])


def create_history(path: str | Path, *, title: str, region: str = "", target: str = "4g",
                   attribution: Sequence[str] = (), overwrite: bool = False) -> Path:
    """Create an empty history at *path* (built beside it, then renamed into place).

    Parameters
    ----------
    path : str or Path
        The ``.gpkg`` file to create.
    title, region : str
        What the history is about (shown by the dashboard and the portal export).
    target : {"4g", "signal"}
        Coverage target the village statuses are counted against.
    attribution : sequence of str
        Sources and licences of the data the history will hold.
    overwrite : bool
        Replace an existing file; otherwise an existing file is refused.

    Raises
    ------
    HistoryError
        If the file exists and *overwrite* is false.
    OutputError
        If it cannot be written.
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        msg = f"history {path} must be a .gpkg file (GeoPackage)"
        raise HistoryError(msg)
    if path.exists() and not overwrite:
        msg = f"history {path} already exists; add to it, or choose another file"
        raise HistoryError(msg)
    if not path.parent.is_dir():
        msg = f"cannot create {path}: directory {path.parent} does not exist"
        raise OutputError(msg)
    meta = {"title": title, "region": region, "target": target,
            "attribution": json.dumps(list(attribution), ensure_ascii=False)}
    with atomic_output(path) as tmp:
        con = sqlite3.connect(tmp, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode = DELETE")
            con.execute("BEGIN")
            _create_schema(con, meta)
            con.execute("COMMIT")
        finally:
            con.close()
    return path


def _check_file(path: Path) -> None:
    if not path.exists():
        msg = (f"history {path} does not exist; create it with 'towerplan status import "
               "SCENARIO' (or give the history with --history)")
        raise InputFileError(msg)
    if path.is_dir():
        msg = f"history {path} is a directory, not a GeoPackage file"
        raise HistoryError(msg)
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as exc:
        msg = f"cannot read history {path}: {exc.strerror or exc}"
        raise InputFileError(msg) from exc
    if head != _SQLITE_MAGIC:
        msg = f"{path} is not a GeoPackage (not an SQLite file); give a towerplan history"
        raise HistoryError(msg)


def _check_schema(con: sqlite3.Connection, path: Path) -> dict[str, str]:
    try:
        app = con.execute("PRAGMA application_id").fetchone()[0]
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.OperationalError:
        raise  # locked, busy or unreadable just now: not a statement about the file
    except sqlite3.DatabaseError as exc:
        msg = f"{path} is corrupt or not a GeoPackage ({exc}); restore it from a backup"
        raise HistoryError(msg) from exc
    if app != _GPKG_APPLICATION_ID or "gpkg_contents" not in names:
        msg = f"{path} is an SQLite file but not a GeoPackage; give a towerplan history"
        raise HistoryError(msg)
    missing = sorted(set(_TABLES) - names)
    if "towerplan_history" in missing:
        msg = (f"{path} is a GeoPackage but not a towerplan history (no towerplan_history "
               "table); create one with 'towerplan status import'")
        raise HistoryError(msg)
    if missing:
        msg = f"history {path} lacks the tables {', '.join(missing)}; restore it from a backup"
        raise HistoryError(msg)
    meta = dict(con.execute("SELECT key, value FROM towerplan_history").fetchall())
    version = meta.get("format_version", "")
    if version != str(HISTORY_VERSION):
        msg = (f"history {path} has format version {version or '(none)'}; this towerplan "
               f"reads version {HISTORY_VERSION}")
        raise HistoryError(msg)
    return meta


@contextlib.contextmanager
def open_history(path: str | Path, *, write: bool = False) -> Iterator[History]:
    """Open a history for reading (or writing with *write*) and close it afterwards.

    Raises
    ------
    InputFileError
        If the file does not exist.
    HistoryError
        If it is not a GeoPackage, not a towerplan history, of another format version, or
        corrupt (the message is one line and says what to do).
    """
    path = Path(path)
    _check_file(path)
    # A reader opens read-write when it may: after a crashed write, the first connection
    # that can write rolls the hot journal back (a read-only one could not read the file).
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    uri = f"{path.resolve().as_uri()}?mode={'rw' if write or writable else 'ro'}"
    try:
        con = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=_BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        msg = f"cannot open history {path}: {exc}"
        raise HistoryError(msg) from exc
    try:
        meta = _check_schema(con, path)
        if write:
            con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA foreign_keys = ON")
        yield History(path, con, meta)
    except sqlite3.OperationalError as exc:
        raise _operational_error(path, exc) from exc
    except sqlite3.DatabaseError as exc:
        msg = f"history {path} is corrupt ({exc}); restore it from a backup"
        raise HistoryError(msg) from exc
    finally:
        con.close()


def _operational_error(path: Path, exc: sqlite3.OperationalError) -> Exception:
    """The one-line error of a history that cannot be read or written just now."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        msg = (f"history {path} is being written by another command (locked for more than "
               f"{_BUSY_TIMEOUT_S:.0f} s); try again when it has finished")
        return HistoryError(msg)
    if "full" in text:
        msg = f"no space left to write history {path}; nothing was changed ({text})"
        return OutputError(msg)
    if "readonly" in text or "read-only" in text:
        msg = f"cannot write history {path}: the file or its folder is read-only"
        return OutputError(msg)
    msg = f"history {path} cannot be used ({text}); restore it from a backup"
    return HistoryError(msg)


# --------------------------------------------------------------------------- values


def _period(text: Any, what: str) -> tuple[str, str]:
    found = parse_period(str(text)) if text is not None else None
    if found is None:
        msg = f"{what}: date {text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
        raise HistoryError(msg)
    return found[0], found[1].isoformat()


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    text = " ".join(str(value).split())
    return text or None


def _amount(value: Any, what: str) -> float | None:
    if value is None or value == "" or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if math.isnan(number) or number < 0:
        msg = f"{what}: amount {value!r} is not a sum of rupiah (a number >= 0)"
        raise HistoryError(msg)
    return None if math.isinf(number) else number


@dataclass(frozen=True, slots=True)
class Written:
    """What a write added, and what it found already in the history."""

    added: int
    existing: int


class History:
    """An open history (:func:`open_history`): reads as DataFrames, validated writes."""

    def __init__(self, path: Path, con: sqlite3.Connection, meta: dict[str, str]) -> None:
        self.path = path
        self._con = con
        self.meta = meta
        self._in_transaction = False

    # ----------------------------------------------------------------- metadata

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    @property
    def target(self) -> str:
        return self.meta.get("target", "4g")

    @property
    def attribution(self) -> tuple[str, ...]:
        """Sources and licences of the data in the history."""
        return self._meta_list("attribution")

    @property
    def limitations(self) -> tuple[str, ...]:
        """Statements about what the data cannot support (bilingual ``"id / en"``)."""
        return self._meta_list("limitations")

    def _meta_list(self, key: str) -> tuple[str, ...]:
        try:
            return tuple(str(v) for v in json.loads(self.meta.get(key, "[]")))
        except ValueError:
            return ()

    # ----------------------------------------------------------------- writing

    @contextlib.contextmanager
    def transaction(self) -> Iterator[History]:
        """One atomic write: everything in the block is kept, or nothing is.

        The transaction takes the write lock at once (``BEGIN IMMEDIATE``); any exception
        rolls it back and propagates. A process killed inside the block leaves a hot
        journal that SQLite rolls back at the next open.
        """
        if self._in_transaction:
            yield self
            return
        self._con.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield self
            self._con.execute("UPDATE gpkg_contents SET last_change = ?", (_now(),))
            self._con.execute("COMMIT")
        except BaseException:
            if self._con.in_transaction:  # SQLite may have rolled back already (disk full)
                self._con.execute("ROLLBACK")
            raise
        finally:
            self._in_transaction = False

    def _insert(self, table: str, row: Mapping[str, Any], unique: Sequence[str]) -> bool:
        """Insert *row* unless a row with the same *unique* values exists; True if added."""
        where = " AND ".join(f"{k} IS ?" for k in unique)
        found = self._con.execute(f"SELECT 1 FROM {table} WHERE {where}",
                                  [row[k] for k in unique]).fetchone()
        if found:
            return False
        full = {**row, "recorded_at": _now(), "recorded_by": _user()}
        names = ", ".join(full)
        marks = ", ".join("?" for _ in full)
        self._con.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(full.values()))
        return True

    def _set_meta(self, key: str, value: str) -> None:
        self._con.execute("INSERT INTO towerplan_history (key, value, recorded_at, recorded_by) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = "
                          "excluded.value, recorded_at = excluded.recorded_at",
                          (key, value, _now(), _user()))
        self.meta[key] = value

    def set_region(self, region: str) -> None:
        """Name the area the history covers."""
        with self.transaction():
            self._set_meta("region", " ".join(region.split()))

    def add_attribution(self, lines: Sequence[str]) -> None:
        """Add data sources to the history's attribution (each line once)."""
        self._add_meta_list("attribution", lines)

    def add_limitations(self, lines: Sequence[str]) -> None:
        """Add statements of what the data cannot support (each line once)."""
        self._add_meta_list("limitations", lines)

    def _add_meta_list(self, key: str, lines: Sequence[str]) -> None:
        merged = list(dict.fromkeys([*self._meta_list(key), *lines]))
        with self.transaction():
            self._set_meta(key, json.dumps(merged, ensure_ascii=False))

    def add_villages(self, villages: Any) -> Written:
        """Add villages (GeoDataFrame with a CRS and ``code``, ``name``; optional
        ``kecamatan`` (or ``district``, ``district_name``), ``kind``, ``area_km2``, ``population``,
        ``population_basis``). A village already in the history (same code) is kept as it is.
        """
        if villages.crs is None:
            msg = "villages have no CRS; cannot store them in the history"
            raise HistoryError(msg)
        frame = villages.to_crs(_SRS_ID)
        added = existing = 0
        with self.transaction():
            for row in frame.itertuples(index=False):
                values = row._asdict()
                code = _text(values.get("code"))
                if code is None:
                    msg = "villages: a village has no code"
                    raise HistoryError(msg)
                geom = values.get("geometry")
                if geom is not None and geom.geom_type == "Polygon":
                    import shapely

                    geom = shapely.MultiPolygon([geom])
                kecamatan = next((values[k] for k in ("kecamatan", "district", "district_name")
                                  if _text(values.get(k))), None)
                population = values.get("population")
                record = {
                    "geom": encode_geometry(geom), "code": code,
                    "name": _text(values.get("name")) or code, "kecamatan": _text(kecamatan),
                    "kind": _text(values.get("kind")),
                    "area_km2": _number(values.get("area_km2")),
                    "population": _number(population),
                    "population_basis": _text(values.get("population_basis")),
                }
                if self._insert("villages", record, ("code",)):
                    added += 1
                    self._widen_extent("villages", geom)
                else:
                    existing += 1
        return Written(added, existing)

    def _widen_extent(self, table: str, geom: Any) -> None:
        """Widen the extent of *table* in ``gpkg_contents`` to hold *geom* (just added)."""
        if geom is None or geom.is_empty:
            return
        found = self._con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                                  "WHERE table_name = ?", (table,)).fetchone()
        bounds = list(geom.bounds)
        if found[0] is not None:
            bounds = [min(bounds[0], found[0]), min(bounds[1], found[1]),
                      max(bounds[2], found[2]), max(bounds[3], found[3])]
        self._con.execute("UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?"
                          " WHERE table_name = ?", (*bounds, table))

    def _check_village(self, code: str, what: str) -> None:
        """Refuse *code* when the history has villages and it is not one of them."""
        if self._con.execute("SELECT 1 FROM villages WHERE code = ?", (code,)).fetchone():
            return
        n = self._con.execute("SELECT count(*) FROM villages").fetchone()[0]
        if n:
            msg = f"{what}: village code {code} is not among the history's {n} villages"
            raise HistoryError(msg)

    def add_reports(self, reports: pd.DataFrame) -> Written:
        """Add signal reports (columns ``code``, ``status``, ``date``, ``source``, optional
        ``note``); a report already in the history (same code, status, date and source) is
        not added twice. Statuses may be Indonesian labels (``"sinyal lemah"``).
        """
        added = existing = 0
        with self.transaction():
            for i, row in enumerate(reports.to_dict("records"), start=1):
                what = f"report {i}"
                code = _text(row.get("code"))
                if code is None:
                    msg = f"{what}: no village code"
                    raise HistoryError(msg)
                self._check_village(code, what)
                status = parse_status(str(row.get("status", "")))
                if status is None:
                    msg = (f"{what}: status {row.get('status')!r} is not one of "
                           f"{', '.join(SIGNAL_STATUSES)}")
                    raise HistoryError(msg)
                date, start = _period(row.get("date"), what)
                source = _text(row.get("source"))
                if source is None:
                    msg = f"{what}: no source (who reported it, where it was published)"
                    raise HistoryError(msg)
                record = {"code": code, "status": status, "date": date, "date_start": start,
                          "source": source, "note": _text(row.get("note"))}
                if self._insert("status_reports", record, ("code", "status", "date", "source")):
                    added += 1
                else:
                    existing += 1
        return Written(added, existing)

    def set_budget(self, year: int, channel: str, budget_idr: float | None,
                   source: str | None = None) -> None:
        """Set the money of *year* and *channel* (``None``: no limit), replacing a previous
        figure of the same year and channel."""
        if not 1900 <= int(year) <= 2200:
            msg = f"budget: year {year} is not a year"
            raise HistoryError(msg)
        channel = _text(channel) or ""
        if not channel:
            msg = "budget: no channel (funding source, e.g. apbd)"
            raise HistoryError(msg)
        amount = _amount(budget_idr, f"budget {year} {channel}")
        with self.transaction():
            self._con.execute("DELETE FROM budgets WHERE year = ? AND channel = ?",
                              (int(year), channel))
            self._insert("budgets", {"year": int(year), "channel": channel,
                                     "budget_idr": amount, "source": _text(source)},
                         ("year", "channel"))

    def add_site(self, site_id: str, *, code: str | None = None, year: int | None = None,
                 channel: str | None = None, tower_type: str | None = None,
                 lon: float | None = None, lat: float | None = None,
                 capex_idr: float | None = None, people: float | None = None,
                 origin: str = "manual", note: str | None = None) -> bool:
        """Add a site; False when a site of that id exists already (it is kept as it is).

        Without *lon*/*lat* the site is placed at its village's representative point
        (``location`` ``"village centre"``); without *code* (a village that is not public)
        it has no position.
        """
        site_id = _text(site_id) or ""
        if not site_id:
            msg = "site: no site id"
            raise HistoryError(msg)
        what = f"site {site_id}"
        import shapely

        geom = None
        location = None
        village = kecamatan = None
        if code is not None:
            code = _text(code)
            self._check_village(str(code), what)
            found = self._con.execute("SELECT name, kecamatan, geom FROM villages WHERE code = ?",
                                      (code,)).fetchone()
            if found:
                village, kecamatan = found[0], found[1]
                if found[2] is not None:
                    geom = decode_geometry(found[2]).representative_point()
                    location = "village centre"
        if lon is not None or lat is not None:
            if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
                msg = f"{what}: lon/lat ({lon}, {lat}) is not a position in degrees"
                raise HistoryError(msg)
            geom, location = shapely.Point(lon, lat), "site"
        record = {"geom": encode_geometry(geom), "site_id": site_id, "code": code,
                  "village": village, "kecamatan": kecamatan,
                  "year": None if year is None else int(year), "channel": _text(channel),
                  "tower_type": _text(tower_type),
                  "capex_idr": _amount(capex_idr, what), "people": _number(people),
                  "location": location, "origin": origin, "note": _text(note)}
        with self.transaction():
            added = self._insert("sites", record, ("site_id",))
            if added:
                self._widen_extent("sites", geom)
        return added

    def add_event(self, site_id: str, stage: str, date: Any, *,
                  amount_idr: float | None = None, note: str | None = None) -> bool:
        """Record that *site_id* reached *stage* on *date*; False when that event is there.

        An event already recorded without an amount gets *amount_idr* when one is given
        (True).

        Raises
        ------
        HistoryError
            If the site is unknown, the stage is not one of :data:`STAGES`, the stage may not
            follow the site's current stage (:data:`TRANSITIONS`) or the date is before the
            site's last event.
        """
        what = f"site {site_id}"
        stage = str(stage).strip().lower().replace("-", "_").replace(" ", "_")
        if stage not in STAGES:
            msg = f"{what}: stage {stage!r} is not one of {', '.join(STAGES)}"
            raise HistoryError(msg)
        label, start = _period(date, what)
        with self.transaction():
            if not self._con.execute("SELECT 1 FROM sites WHERE site_id = ?",
                                     (site_id,)).fetchone():
                msg = f"{what} is not in the history; add the site first"
                raise HistoryError(msg)
            same = self._con.execute("SELECT fid, amount_idr FROM site_events WHERE site_id = ? "
                                     "AND stage = ? AND date = ?",
                                     (site_id, stage, label)).fetchone()
            amount = _amount(amount_idr, what)
            if same:
                if same[1] is None and amount is not None:  # the amount, learnt later
                    self._con.execute("UPDATE site_events SET amount_idr = ?, recorded_at = ?, "
                                      "recorded_by = ? WHERE fid = ?",
                                      (amount, _now(), _user(), same[0]))
                    return True
                return False
            last = self._con.execute("SELECT stage, date, date_start FROM site_events WHERE "
                                     "site_id = ? ORDER BY date_start DESC, fid DESC LIMIT 1",
                                     (site_id,)).fetchone()
            current = last[0] if last else None
            if stage not in TRANSITIONS[current]:
                allowed = ", ".join(TRANSITIONS[current]) or "nothing (its life has ended)"
                msg = (f"{what} is {current or 'new'}; it cannot become {stage} (next: "
                       f"{allowed})")
                raise HistoryError(msg)
            if last and start < last[2]:
                msg = f"{what}: {stage} on {label} is before its {current} on {last[1]}"
                raise HistoryError(msg)
            self._insert("site_events", {"site_id": site_id, "stage": stage, "date": label,
                                         "date_start": start,
                                         "amount_idr": amount,
                                         "note": _text(note)}, ("site_id", "stage", "date"))
        return True

    # ----------------------------------------------------------------- reading

    def _frame(self, table: str) -> pd.DataFrame:
        cursor = self._con.execute(f"SELECT * FROM {table} ORDER BY fid")
        names = [d[0] for d in cursor.description]
        return pd.DataFrame(cursor.fetchall(), columns=names).drop(columns="fid")

    def _layer(self, table: str) -> Any:
        import geopandas as gpd

        frame = self._frame(table)
        geoms = [decode_geometry(b) for b in frame.pop("geom")]
        return gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{_SRS_ID}")

    def villages(self) -> Any:
        """Villages as a GeoDataFrame (EPSG:4326)."""
        return self._layer("villages")

    def sites(self) -> Any:
        """Sites as a GeoDataFrame (EPSG:4326); sites without a position have no geometry."""
        return self._layer("sites")

    def reports(self) -> pd.DataFrame:
        """Signal reports, oldest first."""
        return self._frame("status_reports").sort_values(["date_start", "code"],
                                                          kind="stable", ignore_index=True)

    def budgets(self) -> pd.DataFrame:
        """Budgets per year and channel."""
        return self._frame("budgets").sort_values(["year", "channel"], ignore_index=True)

    def events(self) -> pd.DataFrame:
        """Site events, oldest first."""
        return self._frame("site_events").sort_values(["date_start"], kind="stable",
                                                       ignore_index=True)

    def counts(self) -> dict[str, int]:
        """Rows per table."""
        return {name: self._con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
                for name in ("villages", "status_reports", "budgets", "sites", "site_events")}


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number

