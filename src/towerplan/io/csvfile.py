"""The one low-level CSV reader: text records with their line numbers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from towerplan.errors import InputFileError

__all__ = ["read_csv_records"]


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
