"""``towerplan map``: the plan's map alone, through the staging directory."""

from __future__ import annotations


def test_map_command_writes_only_the_map(small_scenario, run_cli, tmp_path):
    scenario = small_scenario()
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("kept", encoding="utf-8")
    (out / "map.html").write_text("old map", encoding="utf-8")

    run = run_cli("map", scenario, "--out", out, "--lang", "en", "--overwrite")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == ["map.html", "notes.txt"]
    assert (out / "notes.txt").read_text(encoding="utf-8") == "kept"
    page = (out / "map.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    assert "Small generated test scenario" in page
    assert "Selected towers (build order)" in page
    assert f"map: {out / 'map.html'}" in " ".join(run.stdout.split())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # staging removed

    again = run_cli("map", scenario, "--out", out)
    assert again.returncode == 2
    assert again.stderr.strip().startswith("towerplan: error: output directory")
    assert "--overwrite" in again.stderr
    assert (out / "map.html").read_text(encoding="utf-8") == page
