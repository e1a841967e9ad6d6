"""Village signal reports: which desa had no, weak or some cellular signal, and when.

Regencies, news reports and surveys state the signal of villages (``"blank spot"``,
``"sinyal lemah"``, ``"4G"``). :func:`read_signal_reports` reads such reports from CSV or XLSX
files into one validated table, one row per report; :func:`resolve_status` gives each village
the status of its latest report; :func:`served` says whether a status counts as served for a
coverage target (``"4g"`` or ``"signal"``).

Statuses
--------
``none``
    No cellular signal (blank spot; *tidak ada sinyal*).
``weak``
    Weak or intermittent signal (semi blank spot; *sinyal lemah*).
``2g``, ``3g``, ``4g``
    Signal of that generation at best (``lte`` is ``4g``).
``signal``
    Some usable signal, generation not stated (*ada sinyal*, *sinyal kuat*).
``unknown``
    Not known (*tidak diketahui*); such a report never overrides a known status.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from towerplan.errors import InputDataError, MissingDependencyError
from towerplan.io.csvfile import read_csv_records
from towerplan.io.register import (
    BUILTIN_REGISTERS,
    match_register,
    packaged_register,
    read_register,
)
from towerplan.io.report import LayerReport
from towerplan.io.villages import KEMENDAGRI_CODE, problems_message

__all__ = [
    "REPORT_COLUMNS",
    "RESOLVED_COLUMNS",
    "SIGNAL_STATUSES",
    "SignalReports",
    "parse_period",
    "parse_status",
    "read_signal_reports",
    "resolve_status",
    "served",
    "signal_class",
]

log = logging.getLogger(__name__)

#: Every signal status, from worst to best, then ``unknown``.
SIGNAL_STATUSES: tuple[str, ...] = ("none", "weak", "2g", "3g", "4g", "signal", "unknown")

#: Columns of :attr:`SignalReports.table`, in order.
REPORT_COLUMNS: tuple[str, ...] = ("code", "village", "kecamatan", "status", "date", "source",
                                   "note", "file", "row")

#: Columns of the table :func:`resolve_status` returns (indexed by village ``code``).
RESOLVED_COLUMNS: tuple[str, ...] = ("status", "date", "source", "n_reports")

#: Labels accepted for each status, compared without case, spaces, ``_`` and ``-``.
STATUS_LABELS: dict[str, tuple[str, ...]] = {
    "none": ("none", "tidak ada sinyal", "tidak ada", "blank spot"),
    "weak": ("weak", "sinyal lemah", "lemah", "semi blank spot"),
    "2g": ("2g",),
    "3g": ("3g",),
    "4g": ("4g", "lte", "4g lte"),
    "signal": ("signal", "ada sinyal", "sinyal kuat", "kuat", "sangat kuat"),
    "unknown": ("unknown", "tidak diketahui"),
}

Target = Literal["4g", "signal"]
#: Coverage targets :func:`served` knows.
TARGETS: tuple[str, ...] = ("4g", "signal")

_LABEL_KEYS = {re.sub(r"[\s_\-]+", "", label): status
               for status, labels in STATUS_LABELS.items() for label in labels}
_STATUS_HELP = (f"is not one of {', '.join(SIGNAL_STATUSES)} (or an Indonesian label such as "
                "'sinyal lemah')")

_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "kode", "kode_desa", "kode_wilayah", "village_code"),
    "village": ("village", "desa", "kelurahan", "nama_desa", "desa_kelurahan", "name", "nama"),
    "kecamatan": ("kecamatan", "nama_kecamatan", "district"),
    "status": ("status", "sinyal", "status_sinyal", "signal"),
    "date": ("date", "tanggal", "tahun", "year"),
    "source": ("source", "sumber"),
    "note": ("note", "catatan", "keterangan"),
}
_EXPECTED = ("expected code (or village and kecamatan), status and date; Indonesian headers "
             "such as kode_desa, desa, kecamatan, status_sinyal, tanggal are accepted")

_ISO = re.compile(r"^(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_TIME = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_CSV_SUFFIXES = (".csv", ".txt")
_XLSX_SUFFIXES = (".xlsx", ".xlsm")


# --------------------------------------------------------------------------- values


def parse_status(text: str) -> str | None:
    """Canonical status of a label (:data:`STATUS_LABELS`), or None when it is not one.

    Examples
    --------
    >>> parse_status("Semi Blank Spot"), parse_status("LTE"), parse_status("lemahh")
    ('weak', '4g', None)
    """
    return _LABEL_KEYS.get(re.sub(r"[\s_\-]+", "", str(text).lower()))


def parse_period(text: str) -> tuple[str, dt.date] | None:
    """A date as a period of its own precision: ``(YYYY | YYYY-MM | YYYY-MM-DD, start)``.

    Accepted: ``2021``, ``2021-09``, ``2021-09-28`` (``/`` too), day first ``28/09/2021``,
    ``28-09-2021``, ``28.09.2021``; a trailing time of day is ignored. None when unparseable.

    Examples
    --------
    >>> parse_period("2021")
    ('2021', datetime.date(2021, 1, 1))
    >>> parse_period("28/9/2021")
    ('2021-09-28', datetime.date(2021, 9, 28))
    >>> parse_period("2021-13") is None
    True
    """
    text = _TIME.sub("", str(text).strip())
    iso, day_first = _ISO.match(text), _DAY_FIRST.match(text)
    if iso:
        year, month, day = (int(g) if g else None for g in iso.groups())
    elif day_first:
        day, month, year = (int(g) for g in day_first.groups())
    else:
        return None
    assert year is not None
    try:
        start = dt.date(year, month or 1, day or 1)
    except ValueError:
        return None
    label = (f"{year:04d}" if month is None else f"{year:04d}-{month:02d}" if day is None
             else start.isoformat())
    return label, start


def _period_start(label: str) -> dt.date:
    parsed = parse_period(label)
    return parsed[1] if parsed else dt.date.min


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True, eq=False)
class SignalReports:
    """Validated signal reports (:func:`read_signal_reports`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per report (:data:`REPORT_COLUMNS`): ``code`` (Kemendagri village code),
        ``village``, ``kecamatan``, ``status`` (:data:`SIGNAL_STATUSES`), ``date`` (period
        ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as precise as the file), ``source``, ``note``,
        ``file`` (path read) and ``row`` (row number in the file, header = 1; ``<NA>`` for
        the rows an ``unlisted`` rule adds).
    files : tuple of str
        The files read, in order.
    """

    table: pd.DataFrame
    files: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.table)

    def resolve(self, villages_codes: Sequence[str] | None = None) -> pd.DataFrame:
        """The status of each village (:func:`resolve_status`)."""
        return resolve_status(self, villages_codes)


# --------------------------------------------------------------------------- reading files


@dataclass(slots=True)
class _Sheet:
    """One file's table: header as written, normalised header, data rows as text."""

    columns: list[str]
    header: list[str]
    records: list[tuple[int, list[str]]]


def _header_key(name: object) -> str:
    return re.sub(r"[\s\-/]+", "_", str(name if name is not None else "").strip().lower())


def _find(header: list[str]) -> dict[str, int | None]:
    return {name: next((header.index(a) for a in aliases if a in header), None)
            for name, aliases in _ALIASES.items()}


def _usable(found: dict[str, int | None]) -> bool:
    named = found["village"] is not None and found["kecamatan"] is not None
    return (found["code"] is not None or named) and found["status"] is not None \
        and found["date"] is not None


def _cell_text(value: Any) -> str:
    """Text of a spreadsheet cell: dates as ISO days, integral numbers without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> _Sheet:
    records, _ = read_csv_records(path, what="signal reports")
    columns = records[0][1] if records else []
    return _Sheet(columns, [_header_key(c) for c in columns], records[1:])


def _read_xlsx(path: Path, problems: list[str]) -> _Sheet | None:
    """The first sheet with the needed columns (header = its first non-empty row)."""
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        msg = "reading XLSX signal reports needs openpyxl: pip install openpyxl"
        raise MissingDependencyError(msg) from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        problems.append(f"{path.name}: cannot read as XLSX: {exc}")
        return None
    found: list[str] = []
    try:
        for sheet in book.worksheets:
            rows = [(k, [_cell_text(v) for v in row])
                    for k, row in enumerate(sheet.iter_rows(values_only=True), start=1)]
            rows = [(k, cells) for k, cells in rows if any(cells)]
            if not rows:
                continue
            columns = rows[0][1]
            header = [_header_key(c) for c in columns]
            if _usable(_find(header)):
                return _Sheet(columns, header, rows[1:])
            found.append(f"sheet '{sheet.title}': {', '.join(c for c in columns if c)}")
    finally:
        book.close()
    problems.append(f"{path.name}: no sheet has the columns needed; columns found: "
                    f"{'; '.join(found) or 'none'}; {_EXPECTED}")
    return None


def _read_sheet(path: Path, problems: list[str]) -> _Sheet | None:
    suffix = path.suffix.lower()
    if suffix in _XLSX_SUFFIXES:
        return _read_xlsx(path, problems)
    if suffix in _CSV_SUFFIXES or not path.is_file():
        sheet = _read_csv(path)  # raises InputFileError for a missing or binary file
        if not _usable(_find(sheet.header)):
            problems.append(f"{path.name}: the columns needed are missing; columns found: "
                            f"{', '.join(sheet.columns) or 'none'}; {_EXPECTED}")
            return None
        return sheet
    problems.append(f"{path.name}: unsupported file type '{suffix}'; give CSV or XLSX")
    return None


def _rows(path: Path, sheet: _Sheet, today: dt.date, problems: list[str]
          ) -> list[dict[str, Any]]:
    """One dict per data row with a valid status and date; the rest become problems."""
    found = _find(sheet.header)
    out = []
    for row, cells in sheet.records:
        values = {name: (cells[i] if i is not None and i < len(cells) else "")
                  for name, i in found.items()}
        where = f"{path.name} row {row}"
        bad = len(problems)
        status = parse_status(values["status"])
        if not values["status"]:
            problems.append(f"{where}: status is empty")
        elif status is None:
            problems.append(f"{where}: status '{values['status']}' {_STATUS_HELP}")
        period = parse_period(values["date"])
        if not values["date"]:
            problems.append(f"{where}: date is empty")
        elif period is None:
            problems.append(f"{where}: date '{values['date']}' is not a date (YYYY, YYYY-MM, "
                            "YYYY-MM-DD or DD/MM/YYYY)")
        elif period[1] > today:
            problems.append(f"{where}: date {period[0]} is in the future (today is "
                            f"{today.isoformat()})")
        if not values["code"] and not (values["village"] and values["kecamatan"]):
            problems.append(f"{where}: no village code, and no village name with its "
                            "kecamatan")
        if len(problems) > bad:
            continue
        assert status is not None and period is not None
        out.append({**values, "status": status, "date": period[0],
                    "source": values["source"] or path.name, "file": str(path), "row": row})
    return out


# --------------------------------------------------------------------------- villages


def _reference(villages: pd.DataFrame | Sequence[str] | None,
               register: pd.DataFrame | None) -> pd.DataFrame | None:
    """Known villages (``code, name, district_code, district``): *villages*, else register."""
    if villages is None:
        return register
    if isinstance(villages, pd.DataFrame):
        if "code" not in villages:
            msg = (f"villages have no code column (columns: {', '.join(map(str, villages))}); "
                   "give the layer read_villages returns, or the village codes")
            raise InputDataError(msg, problems=(msg,))
        frame = pd.DataFrame({"code": villages["code"].astype(str).to_numpy()})
        for column in ("name", "district_code", "district"):
            frame[column] = (villages[column].fillna("").astype(str).to_numpy()
                             if column in villages else "")
        return frame
    return pd.DataFrame({"code": [str(c) for c in villages], "name": "", "district_code": "",
                         "district": ""})


def _load_register(register: str | Path | pd.DataFrame | None) -> pd.DataFrame | None:
    if register is None or isinstance(register, pd.DataFrame):
        return register
    path = packaged_register(str(register)) if str(register) in BUILTIN_REGISTERS \
        else Path(register)
    return read_register(path)[0]


def _match_names(rows: list[dict[str, Any]], names_to: pd.DataFrame | None,
                 problems: list[str]) -> int:
    """Give a code to every row named by village and kecamatan only; returns how many."""
    named = [r for r in rows if not r["code"]]
    if not named:
        return 0
    if names_to is None or not (names_to["name"] != "").any():
        problems.extend(f"{Path(r['file']).name} row {r['row']}: village '{r['village']}' has "
                        "no code and there is no register or village layer to match its name "
                        "against; give the code or a register" for r in named)
        rows[:] = [r for r in rows if r["code"]]
        return 0
    pairs = list(dict.fromkeys((r["village"], r["kecamatan"]) for r in named))
    report = match_register([p[0] for p in pairs], [p[1] for p in pairs], names_to)
    matches = dict(zip(pairs, report.villages, strict=True))
    for pair, m in matches.items():
        if m.status == "ambiguous" and m.note.startswith("register entry "):
            # two spellings of one village: each is matched on its own
            matches[pair] = match_register([pair[0]], [pair[1]], names_to).villages[0]
    kept: list[dict[str, Any]] = []
    for r in rows:
        if r["code"]:
            kept.append(r)
            continue
        m = matches[(r["village"], r["kecamatan"])]
        if m.matched:
            kept.append({**r, "code": m.code})
            continue
        problems.append(
            f"{Path(r['file']).name} row {r['row']}: village '{r['village']}' "
            f"({r['kecamatan']}) is {m.status} in the register"
            f"{': ' + m.note if m.note else ''}"
            f"{'; candidates ' + ', '.join(m.candidates) if m.candidates else ''}")
    rows[:] = kept
    return len(named)


def _check_codes(rows: list[dict[str, Any]], reference: pd.DataFrame | None,
                 what: str, problems: list[str]) -> None:
    """Every code must be a known village (or a Kemendagri code without a reference)."""
    known = set(reference["code"]) if reference is not None else None
    for r in rows:
        where = f"{Path(r['file']).name} row {r['row']}"
        if known is None and not KEMENDAGRI_CODE.match(r["code"]):
            problems.append(f"{where}: code '{r['code']}' is not a Kemendagri village code "
                            "(PP.RR.KK.NNNN, e.g. 64.01.07.2011)")
        elif known is not None and r["code"] not in known:
            problems.append(f"{where}: unknown village {r['code']} "
                            f"{('(' + r['village'] + ') ') if r['village'] else ''}"
                            f"is not among the {len(known)} {what}")


# --------------------------------------------------------------------------- reports


def _unlisted_rules(paths: list[Path], unlisted: str | Mapping[str | Path, str],
                    problems: list[str]) -> dict[Path, str]:
    """The unlisted rule of each file, validated (``unknown`` when not given)."""
    if isinstance(unlisted, str):
        given: dict[str | Path, str] = {p: unlisted for p in paths}
    else:
        given = dict(unlisted)
    rules = dict.fromkeys(paths, "unknown")
    for key, value in given.items():
        hits = [p for p in paths if Path(key) == p or Path(key).resolve() == p.resolve()]
        status = parse_status(value)
        if not hits:
            problems.append(f"unlisted rule given for {key}, which is not one of the report "
                            "files")
        elif status is None:
            problems.append(f"unlisted rule for {Path(key).name}: '{value}' {_STATUS_HELP}")
        else:
            rules.update(dict.fromkeys(hits, status))
    return rules


def _unlisted_rows(path: Path, rows: list[dict[str, Any]], rule: str,
                   reference: pd.DataFrame) -> list[dict[str, Any]]:
    """Reports of *rule* for the villages *path* does not list, dated with its latest date."""
    mine = [r for r in rows if r["file"] == str(path)]
    if rule == "unknown" or not mine:
        return []
    latest = max(mine, key=lambda r: _period_start(r["date"]))["date"]
    listed = {r["code"] for r in mine}
    return [{"code": code, "village": name, "kecamatan": district, "status": rule,
             "date": latest, "source": f"unlisted in {path.name}",
             "note": f"not listed in {path.name}, which lists every village that is not "
                     f"'{rule}'", "file": str(path), "row": pd.NA}
            for code, name, district in zip(reference["code"], reference["name"],
                                            reference["district"], strict=True)
            if code not in listed]


def _where(row: pd.Series) -> str:
    name = Path(str(row["file"])).name
    return f"{name} (unlisted)" if pd.isna(row["row"]) else f"{name} row {row['row']}"


def _latest_known(group: pd.DataFrame) -> pd.DataFrame:
    """The reports of a village's latest date among its known statuses (all unknown: those)."""
    known = group[group["status"] != "unknown"]
    pool = known if len(known) else group
    starts = pool["date"].map(_period_start)
    return pool[starts == starts.max()]


def _contradictions(table: pd.DataFrame) -> list[str]:
    """One problem per village whose latest reports disagree."""
    problems = []
    for code, group in table.groupby("code", sort=False):
        latest = _latest_known(group)
        if latest["status"].nunique() > 1:
            rows = " and ".join(_where(r) for _, r in latest.iterrows())
            statuses = ", ".join(dict.fromkeys(latest["status"]))
            dates = "/".join(dict.fromkeys(latest["date"]))
            problems.append(f"{rows}: contradictory reports of the same date {dates} for "
                            f"village {code}: {statuses}")
    return problems


def read_signal_reports(
    paths: str | Path | Sequence[str | Path], *,
    register: str | Path | pd.DataFrame | None = None,
    unlisted: str | Mapping[str | Path, str] = "unknown",
    villages: pd.DataFrame | Sequence[str] | None = None,
    today: dt.date | None = None,
) -> tuple[SignalReports, LayerReport]:
    """Read and validate village signal reports from CSV or XLSX files.

    Parameters
    ----------
    paths : path or sequence of paths
        CSV (UTF-8, with or without BOM; comma, semicolon or tab separated) or XLSX files (the
        first sheet that has the columns). Headers are case-insensitive: ``code``
        (``kode``, ``kode_desa``, ``kode_wilayah``), ``village`` (``desa``, ``kelurahan``,
        ``nama_desa``), ``kecamatan``, ``status`` (``sinyal``, ``status_sinyal``), ``date``
        (``tanggal``, ``tahun``), ``source`` (``sumber``) and ``note`` (``catatan``,
        ``keterangan``). ``status`` and ``date`` are required, and ``code`` or ``village`` with
        ``kecamatan``. Status labels: see :data:`STATUS_LABELS`; dates: :func:`parse_period`.
    register : path, builtin name or DataFrame, optional
        Village register (:func:`~towerplan.io.register.read_register`, e.g.
        ``"builtin:paser-register"``) that rows without a code are matched against by name
        and kecamatan; without it, the *villages* names are used.
    unlisted : str or mapping of path to str
        Status of the villages a file does **not** list (one rule for every file, or one per
        file; ``"unknown"``, the default, adds nothing). ``"signal"`` suits a report listing
        every blank village of the regency. The added reports are dated with the file's latest
        date and have source ``"unlisted in FILE"``. Needs *villages*.
    villages : DataFrame or sequence of str, optional
        The villages of the plan (``code`` column, e.g.
        :func:`~towerplan.io.villages.read_villages`, or the codes). Every report must name one
        of them.
    today : datetime.date, optional
        Reports dated after it are refused (default: the current date).

    Returns
    -------
    reports : SignalReports
        Every report, plus those the unlisted rules add.
    report : LayerReport
        Reports per file and status, name matches, unlisted rules applied.

    Raises
    ------
    InputFileError
        If a CSV file is missing or not text.
    InputDataError
        With one problem per line (``"FILE row N: ..."``): missing columns (naming those
        found), a status or date that is empty, unparseable or in the future, a village that
        is unknown, or a name that is unmatched or ambiguous in the register, a bad unlisted
        rule, and villages whose latest reports of one date disagree.
    """
    started = time.perf_counter()
    today = today or dt.date.today()
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    problems: list[str] = []
    warnings: list[str] = []
    notes: list[str] = []
    rules = _unlisted_rules(files, unlisted, problems)
    rows: list[dict[str, Any]] = []
    for path in files:
        sheet = _read_sheet(path, problems)
        if sheet is not None:
            rows.extend(_rows(path, sheet, today, problems))
    reg = _load_register(register)
    reference = _reference(villages, reg)
    by_name = _match_names(rows, reg if reg is not None else reference, problems)
    if by_name:
        notes.append(f"{by_name} report(s) matched to villages by name and kecamatan")
    _check_codes(rows, reference, "villages" if villages is not None else "register entries",
                 problems)
    if reference is not None:
        _fill_names(rows, reference)
    explicit = len(rows)
    for path, rule in rules.items():
        if rule == "unknown":
            continue
        if villages is None or reference is None:
            warnings.append(f"unlisted rule '{rule}' for {path.name} not applied: no villages "
                            "given")
            continue
        added = _unlisted_rows(path, rows, rule, reference)
        rows.extend(added)
        notes.append(f"{path.name}: {len(added)} unlisted villages taken as '{rule}'")
    table = _table(rows)
    problems.extend(_contradictions(table))
    if problems:
        source = files[0] if len(files) == 1 else "signal reports"
        raise InputDataError(problems_message(source, problems), problems=tuple(problems))
    reports = SignalReports(table, tuple(str(p) for p in files))
    notes[:0] = [_file_note(path, table) for path in files]
    log.info("signal reports: %d from %d file(s), %d added by unlisted rules in %.2f s",
             explicit, len(files), len(table) - explicit, time.perf_counter() - started)
    layer = LayerReport(layer="signal_reports", source="; ".join(map(str, files)), crs="",
                        extent=(math.nan,) * 4, count=explicit,  # type: ignore[arg-type]
                        problems=tuple(warnings), notes=tuple(notes))
    return reports, layer


def _fill_names(rows: list[dict[str, Any]], reference: pd.DataFrame) -> None:
    """Empty village and kecamatan names of reports given by code, from the reference."""
    names = dict(zip(reference["code"], zip(reference["name"], reference["district"],
                                            strict=True), strict=True))
    for r in rows:
        name, district = names.get(r["code"], ("", ""))
        r["village"] = r["village"] or name
        r["kecamatan"] = r["kecamatan"] or district


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame([{c: r[c] for c in REPORT_COLUMNS} for r in rows],
                         columns=list(REPORT_COLUMNS))
    for column in REPORT_COLUMNS[:-1]:
        table[column] = table[column].astype(object)
    table["row"] = table["row"].astype("Int64")
    return table


def _file_note(path: Path, table: pd.DataFrame) -> str:
    mine = table[(table["file"] == str(path)) & table["row"].notna()]
    if mine.empty:
        return f"{path.name}: no reports"
    counts = mine["status"].value_counts()
    by_status = ", ".join(f"{counts[s]} {s}" for s in SIGNAL_STATUSES if s in counts)
    dates = sorted(set(mine["date"]), key=_period_start)
    span = dates[0] if len(dates) == 1 else f"{dates[0]} .. {dates[-1]}"
    return f"{path.name}: {len(mine)} reports ({by_status}), {span}"


# --------------------------------------------------------------------------- resolution


def resolve_status(reports: SignalReports | pd.DataFrame,
                   villages_codes: Sequence[str] | None = None) -> pd.DataFrame:
    """The signal status of each village: that of its latest report.

    Reports are compared by the start of their period (``2021`` starts on 1 January 2021,
    so ``2021-09-28`` is later). An ``unknown`` report never overrides a known status; a
    village with only ``unknown`` reports (or none) is ``unknown``.

    Parameters
    ----------
    reports : SignalReports or DataFrame
        Reports (:data:`REPORT_COLUMNS`).
    villages_codes : sequence of str, optional
        Villages to resolve, in this order (default: every village reported). Villages
        without a report are ``unknown`` with ``n_reports`` 0; reports of other villages are
        left out.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``code``, columns :data:`RESOLVED_COLUMNS`: ``status``, ``date`` (period
        of the deciding report, ``""`` without one), ``source`` and ``n_reports`` (reports of
        the village, those added by an unlisted rule included).

    Raises
    ------
    InputDataError
        If the latest known reports of a village have the same date but different statuses.
    """
    table = reports.table if isinstance(reports, SignalReports) else reports
    problems = _contradictions(table)
    if problems:
        raise InputDataError(problems_message("signal reports", problems),
                             problems=tuple(problems))
    resolved: dict[str, dict[str, Any]] = {}
    for code, group in table.groupby("code", sort=False):
        winner = _latest_known(group).iloc[0]
        resolved[str(code)] = {"status": winner["status"], "date": winner["date"],
                               "source": winner["source"], "n_reports": len(group)}
    codes = list(resolved) if villages_codes is None else [str(c) for c in villages_codes]
    none = {"status": "unknown", "date": "", "source": "", "n_reports": 0}
    out = pd.DataFrame([resolved.get(c, none) for c in codes], columns=list(RESOLVED_COLUMNS),
                       index=pd.Index(codes, name="code", dtype=object))
    out["n_reports"] = out["n_reports"].astype(int)
    return out


def signal_class(status: str, target: Target = "4g"
                 ) -> Literal["served", "semi_blank", "blank", "unknown"]:
    """How a village of *status* stands against a coverage *target*.

    ============  =================  =================
    status        target ``"4g"``    target ``"signal"``
    ============  =================  =================
    ``4g``        served             served
    ``3g``        semi_blank         served
    ``2g``        semi_blank         served
    ``signal``    unknown            served
    ``weak``      semi_blank         semi_blank
    ``none``      blank              blank
    ``unknown``   unknown            unknown
    ============  =================  =================

    ``signal`` (generation not stated, e.g. the desa a regency reports as *having signal*)
    says nothing about 4G, so it is ``unknown`` for a 4G target: neither served nor counted as
    blank. ``2g`` and ``3g`` are semi blank for a 4G target (some service, no 4G).

    Raises
    ------
    ValueError
        For a status not in :data:`SIGNAL_STATUSES` or a target not in :data:`TARGETS`.
    """
    if status not in SIGNAL_STATUSES:
        msg = f"status {status!r} is not one of {', '.join(SIGNAL_STATUSES)}"
        raise ValueError(msg)
    if target not in TARGETS:
        msg = f"target {target!r} is not one of {', '.join(TARGETS)}"
        raise ValueError(msg)
    if status in ("none", "weak", "unknown"):
        return {"none": "blank", "weak": "semi_blank", "unknown": "unknown"}[status]  # type: ignore[return-value]
    if target == "signal" or status == "4g":
        return "served"
    return "unknown" if status == "signal" else "semi_blank"


def served(status: str, target: Target = "4g") -> bool | None:
    """Whether a village of *status* is served for *target*; None when it cannot be told.

    * target ``"4g"``: served iff the status is ``4g``; ``none``, ``weak``, ``2g`` and ``3g``
      are not served; ``signal`` (generation not stated) and ``unknown`` give None.
    * target ``"signal"``: served iff the status is ``2g``, ``3g``, ``4g`` or ``signal``;
      ``none`` and ``weak`` are not served; ``unknown`` gives None.

    See :func:`signal_class` for blank (``none``) and semi blank (``weak``, and ``2g``/``3g``
    for a 4G target).

    Examples
    --------
    >>> served("4g"), served("weak"), served("signal"), served("signal", "signal")
    (True, False, None, True)
    """
    kind = signal_class(status, target)
    return None if kind == "unknown" else kind == "served"
