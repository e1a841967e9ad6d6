"""``towerplan demo``: the data set is published whole into a new or empty folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from towerplan.commands.demo import write_demo
from towerplan.errors import OutputError
from towerplan.io.demo import DEMO_FILES
from towerplan.io.outdir import MARKER


def test_write_demo_publishes_every_file_into_a_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    manifest = write_demo(out, seed=7)
    names = {p.name for p in out.iterdir()}
    assert set(DEMO_FILES.values()) | {"manifest.json"} <= names
    assert MARKER not in names  # the staging marker is not published
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    assert manifest is not None
    with pytest.raises(OutputError, match="not an empty folder"):
        write_demo(out, seed=7)
