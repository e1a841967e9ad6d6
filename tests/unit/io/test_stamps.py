"""Zip member dates: what a zip file holds is what the stamp functions return."""

from __future__ import annotations

import io
import zipfile

import pytest

from towerplan.io.stamps import zip_date_time, zip_member


@pytest.mark.parametrize(("created", "expected"), [
    ("2026-12-06T20:04:07+00:00", (2026, 12, 6, 20, 4, 6)),   # odd second: 2 s resolution
    ("2026-12-06T20:04:08+00:00", (2026, 12, 6, 20, 4, 8)),
    ("2026-12-07T03:04:09+07:00", (2026, 12, 6, 20, 4, 8)),   # WIB to UTC
    ("1970-01-01T00:00:00+00:00", (1980, 1, 1, 0, 0, 0)),     # zip dates start in 1980
])
def test_the_date_is_the_one_a_zip_file_reads_back(created: str,
                                                   expected: tuple[int, ...]) -> None:
    assert zip_date_time(created) == expected
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zip_member("doc.kml", created), b"<kml/>")
    with zipfile.ZipFile(buffer) as archive:
        assert archive.infolist()[0].date_time == expected
