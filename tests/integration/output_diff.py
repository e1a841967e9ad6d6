"""Byte-by-byte comparison of two output directories, the documented fields normalised.

Two runs of the same scenario may differ only in (docs/outputs.md, "Reproducible outputs"):

- ``created_utc``, the run's time stamp, wherever it is written (text, zip member dates,
  the workbook's and PDF's dates, ``gpkg_contents.last_change``), and
- the run times: every ``*runtime_s`` value of ``summary.json`` and the same values in
  ``report.xlsx``'s summary sheet.

:func:`differences` replaces exactly these, explicitly, and compares everything else byte by
byte; zip files member by member (names, dates, modes, compression, bytes).
"""

from __future__ import annotations

import json
import re
import sqlite3
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["differences"]

_TEXT = {".html", ".kml", ".json", ".csv", ".qml"}
_ZIP = {".xlsx", ".kmz"}
_RUNTIME_JSON = re.compile(rb'("\w*runtime_s": )-?[0-9.e+-]+')


def _normalised(data: bytes, created: str, suffix: str) -> bytes:
    data = data.replace(created.encode(), b"CREATED_UTC")
    if suffix == ".json":
        data = _RUNTIME_JSON.sub(rb"\1RUNTIME", data)
    if suffix == ".xml":  # workbook parts: the run times in their rows, the W3C date
        data = _ROW.sub(_runtime_row, data)
        data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\1CREATED", data)
    return data


def _runtime_labels() -> tuple[bytes, ...]:
    """How a run time is labelled in a workbook row: its key, or the key's label in any
    language."""
    from towerplan.i18n import TEXT

    keys = [k for k in TEXT if k.endswith("runtime_s")]
    labels = {k.split(".")[-1] for k in keys} | {v for k in keys for v in TEXT[k].values()}
    return tuple(f"<t>{label}</t>".encode() for label in labels)


_ROW = re.compile(rb"<row [^>]*>.*?</row>", re.S)
_NUMBER = re.compile(rb'(<c [^>]*t="n"[^>]*><v>)[^<]*(</v>)')


def _runtime_row(match: re.Match[bytes]) -> bytes:
    """A workbook row labelled as a run time with its numbers normalised (a run time is
    written as ``%.16g``, so its text is matched by the label, not by the value)."""
    row = match.group(0)
    if any(label in row for label in _RUNTIME_LABELS):
        row = _NUMBER.sub(rb"\1RUNTIME\2", row)
    return row


def _gpkg_dump(path: Path) -> str:
    """The GeoPackage as SQL, its tables' ``last_change`` dates normalised."""
    with closing(sqlite3.connect(path)) as db:
        text = "\n".join(db.iterdump())
    return re.sub(r"'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z'", "'CREATED'", text)


_RUNTIME_LABELS = _runtime_labels()


def differences(a: Path, b: Path, *, same_created: bool = True,
                skip: tuple[str, ...] = ()) -> list[str]:
    """Files of output directories *a* and *b* that differ beyond the documented fields.

    With ``same_created`` (both runs stamped alike, e.g. by ``SOURCE_DATE_EPOCH``) every file
    is compared byte by byte, only the run times normalised. Otherwise the time stamp is
    normalised too, which binary formats do not allow for the PDF (its text is drawn): the
    PDF is then left to the caller (*skip*).
    """
    names_a = sorted(p.name for p in a.iterdir())
    names_b = sorted(p.name for p in b.iterdir())
    if names_a != names_b:
        return [f"file lists differ: {names_a} != {names_b}"]
    summaries = [json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (a, b)]
    created = [s["created_utc"] for s in summaries]
    if same_created and created[0] != created[1]:
        return [f"created_utc differs: {created}"]
    out = []
    for name in names_a:
        if name in skip:
            continue
        pa, pb = a / name, b / name
        suffix = pa.suffix
        if suffix in _TEXT:
            same = _normalised(pa.read_bytes(), created[0], suffix) == \
                _normalised(pb.read_bytes(), created[1], suffix)
        elif suffix in _ZIP:
            same = _zip_view(pa, created[0]) == _zip_view(pb, created[1])
        elif suffix == ".gpkg" and not same_created:
            same = _gpkg_dump(pa) == _gpkg_dump(pb)
        else:
            same = pa.read_bytes() == pb.read_bytes()
        if not same:
            out.append(name)
    return out


def _zip_view(path: Path, created: str) -> list[tuple[Any, ...]]:
    """Each member's name, date (the run's stamp normalised), mode, compression and bytes."""
    from towerplan.io.stamps import zip_date_time

    stamp = zip_date_time(created)
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, "CREATED" if info.date_time == stamp else info.date_time,
                 info.external_attr, info.compress_type,
                 _normalised(archive.read(info), created,
                             Path(info.filename).suffix))
                for info in archive.infolist()]
