"""`towerplan validate` on the built-in demo finds no problem (the demo must validate cleanly)."""

from __future__ import annotations

from pathlib import Path


def test_validate_demo_is_clean(run_cli, tmp_path: Path) -> None:
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # the sea lies outside the demo's land cover: stated as a note, not a problem
    assert "have no land cover" in done.stdout
    assert "input problem" not in done.stderr
