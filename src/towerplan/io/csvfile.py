"""The one low-level CSV reader: text records with their line numbers."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from towerplan.errors import InputDataError, InputFileError

__all__ = ["MAX_HEIGHT_M", "CsvTable", "field", "find_column", "parse_heights", "parse_number",
           "read_csv_records", "read_csv_table"]

#: Largest antenna height accepted from a file, m.
MAX_HEIGHT_M = 500.0


def read_csv_records(path: Path, *, what: str) -> tuple[list[tuple[int, list[str]]], str]:
    """Return the non-empty CSV records of *path* with their line numbers, and the delimiter.

    The delimiter is the most frequent of ``,``, ``;`` and tab on the first line; fields are
    stripped; a UTF-8 byte-order mark is accepted.

    Parameters
    ----------
    path : Path
        CSV file.
    what : str
        What the file holds (``"towers"``, ``"measurements"``), used in messages.

    Raises
    ------
    InputFileError
        If the file is missing, not UTF-8 text, or binary.
    """
    if not path.exists():
        msg = f"{what} file not found: {path}"
        raise InputFileError(msg)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        msg = f"cannot read {what} file {path}: not a UTF-8 text CSV file"
        raise InputFileError(msg) from None
    except OSError as exc:
        msg = f"cannot read {what} file {path}: {exc.strerror}"
        raise InputFileError(msg) from None
    if "\x00" in text:
        msg = f"cannot read {what} file {path}: binary content, expected a text CSV file"
        raise InputFileError(msg)
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [(reader.line_num, [f.strip() for f in row]) for row in reader
            if any(f.strip() for f in row)]
    return rows, delimiter


def find_column(header: list[str], names: tuple[str, ...]) -> int | None:
    """Index of the first of *names* present in *header*, or None."""
    for name in names:
        if name in header:
            return header.index(name)
    return None


def parse_number(text: str, decimal_comma: bool) -> float:
    """Parse *text* as a float; ``nan`` when it is not a finite number."""
    if decimal_comma:
        text = text.replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return math.nan
    return value if math.isfinite(value) else math.nan


def field(fields: list[str], index: int | None) -> str:
    """The field at *index* of a record, ``""`` when the column is absent or the row short."""
    return fields[index] if index is not None and index < len(fields) else ""


def parse_heights(records: list[tuple[int, list[str]]], index: int | None, decimal_comma: bool,
                  default_m: float, problems: list[str]) -> tuple[np.ndarray, int]:
    """Antenna heights (m) of a height column; empty cells get *default_m*.

    Bad values are appended to *problems* (``"line N: ..."``). Returns the heights and the
    number of rows that got the default.
    """
    heights = np.full(len(records), float(default_m))
    defaulted = 0
    for k, (line, fields) in enumerate(records):
        raw = field(fields, index)
        if not raw:
            defaulted += 1
            continue
        value = parse_number(raw, decimal_comma)
        if not 0 < value <= MAX_HEIGHT_M:
            problems.append(f"line {line}: height '{raw}' is not a height in metres "
                            f"(0 < height <= {MAX_HEIGHT_M:g})")
        heights[k] = value
    return heights, defaulted


class CsvTable(NamedTuple):
    """A CSV file split into its header and data records (see :func:`read_csv_table`)."""

    header: list[str]
    """Column names, lower case."""
    columns: list[str]
    """Column names as written, for messages."""
    records: list[tuple[int, list[str]]]
    """Data records with their line numbers."""
    delimiter: str


def read_csv_table(path: Path, *, what: str, expected: str) -> CsvTable:
    """:func:`read_csv_records` with the first record taken as the header.

    Raises
    ------
    InputFileError
        As :func:`read_csv_records`.
    InputDataError
        If the file holds no record at all; the message ends with *expected* (e.g.
        ``"expected a header such as 'lon,lat'"``).
    """
    rows, delimiter = read_csv_records(path, what=what)
    if not rows:
        msg = f"{path}: file is empty; {expected}"
        raise InputDataError(msg, problems=(msg,))
    columns = rows[0][1]
    return CsvTable([h.lower() for h in columns], columns, rows[1:], delimiter)
