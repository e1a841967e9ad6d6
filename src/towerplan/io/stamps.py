"""The run's time stamp, and the dates written inside outputs derived from it.

Two runs of the same scenario write byte-identical outputs except for the run's time stamp
(``created_utc``) and its duration (``runtime_s``). Every other date a file format carries
(zip member dates of ``report.xlsx`` and ``plan.kmz``, the workbook's and the PDF's creation
and modification dates, ``gpkg_contents.last_change`` of ``plan.gpkg``) is the run's time
stamp, and every identifier (the PDF's ``/ID``, the map's element ids) is derived from the
content. With ``SOURCE_DATE_EPOCH`` set (seconds since 1970, the reproducible-builds
convention), the run's time stamp is that instant, so two runs are identical but for
``runtime_s``.
"""

from __future__ import annotations

import os
import zipfile
from datetime import UTC, datetime

from towerplan.errors import ScenarioError

__all__ = ["SOURCE_DATE_EPOCH", "parse_utc", "run_time_utc", "zip_date_time", "zip_member"]

#: Environment variable fixing the run's time stamp (seconds since 1970-01-01 UTC).
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"

# The zip format cannot store dates before 1980.
_ZIP_EPOCH = datetime(1980, 1, 1, tzinfo=UTC)


def run_time_utc() -> datetime:
    """The run's time stamp: ``SOURCE_DATE_EPOCH`` when set, else now (whole seconds, UTC).

    Raises
    ------
    ScenarioError
        When ``SOURCE_DATE_EPOCH`` is not a whole number of seconds from 0 to 253402300799
        (the year 9999).
    """
    text = os.environ.get(SOURCE_DATE_EPOCH, "").strip()
    if not text:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        seconds = int(text)
        if not 0 <= seconds <= 253_402_300_799:
            raise ValueError(text)
    except ValueError:
        msg = (f"{SOURCE_DATE_EPOCH}={text!r} is not a time stamp: give whole seconds since "
               "1970-01-01 UTC (e.g. 1767225600), or unset it")
        raise ScenarioError(msg) from None
    return datetime.fromtimestamp(seconds, UTC)


def parse_utc(created_utc: str) -> datetime:
    """The ISO 8601 time stamp *created_utc* as an aware datetime (UTC if it names no zone)."""
    stamp = datetime.fromisoformat(created_utc)
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def zip_date_time(created_utc: str) -> tuple[int, int, int, int, int, int]:
    """The zip member date of the run stamped *created_utc* (not before 1980), as a zip file
    holds it: the DOS date keeps seconds to 2 s, so an odd second is rounded down."""
    stamp = max(parse_utc(created_utc).astimezone(UTC), _ZIP_EPOCH)
    return (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second // 2 * 2)


def zip_member(name: str, created_utc: str) -> zipfile.ZipInfo:
    """A deflated zip member *name* dated at the run's time stamp, mode ``rw-r--r--``."""
    info = zipfile.ZipInfo(name, date_time=zip_date_time(created_utc))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o100644 << 16
    return info
