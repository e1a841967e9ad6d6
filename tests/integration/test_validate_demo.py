"""`towerplan validate` on the built-in demo finds no problem (the demo must validate cleanly)
and prints one row per input layer."""

from __future__ import annotations

from pathlib import Path


def _rows(stdout: str) -> dict[str, list[str]]:
    """First line of each table row, split into its cells, by layer."""
    rows = {}
    for line in stdout.splitlines():
        if line.startswith("│") and not line.startswith("│ " + " " * 5):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if cells[0]:
                rows[cells[0]] = cells
    return rows


def test_validate_demo_is_clean(run_cli, tmp_path: Path) -> None:
    done = run_cli("validate", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Inputs of demo (working CRS EPSG:32748)" in done.stdout
    rows = _rows(done.stdout)
    assert list(rows) == ["villages", "village_population", "signal_reports", "towers",
                          "settlements",
                          "power (stand-in: towns)", "pops", "terrain", "landcover"]
    counts = {layer: cells[4] for layer, cells in rows.items()}
    assert counts["villages"] == "144" and counts["towers"] == "9"
    assert counts["village_population"] == "144"
    assert counts["pops"] == "4" and counts["settlements"] == "283"
    assert counts["signal_reports"] == "144"  # the demo's synthetic village survey
    assert all(cells[6] == "-" for cells in rows.values())  # no problem in any layer
    assert rows["villages"][1].startswith("builtin:demo")
    assert rows["terrain"][2] == "EPSG:32748"
    # the sea lies outside the demo's land cover: stated as a note, not a problem
    assert "have no land cover" in done.stdout
    assert "input problem" not in done.stderr
    assert done.stdout.rstrip().endswith("all inputs are usable")
