"""LibreOffice in headless mode for workbook tests: convert, count printed pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")

#: Skips a test when LibreOffice is not installed.
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (soffice) is not installed: apt-get install "
                            "libreoffice-calc --no-install-recommends")


def convert(path: Path, fmt: str, out_dir: Path) -> Path:
    """Convert *path* with ``soffice --headless --convert-to fmt``; return the new file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"  # own profile: runs in parallel with a user's session
    done = subprocess.run(
        [str(SOFFICE), f"-env:UserInstallation={profile.resolve().as_uri()}", "--headless",
         "--convert-to", fmt, "--outdir", str(out_dir), str(path)],
        capture_output=True, text=True, timeout=240, check=False)
    target = out_dir / f"{path.stem}.{fmt.split(':')[0]}"
    assert target.exists(), done.stderr or done.stdout
    return target


def pdf_pages(pdf: Path) -> int:
    """Number of pages of a PDF written by LibreOffice (its page objects)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf.read_bytes()))
