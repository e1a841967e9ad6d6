"""Memory and disk estimated before a plan: bounds of the real run, refusals in one line,
``plan --dry-run`` writing nothing, and a disk filling up during the writing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.io.test_outdir import tiny_tmpfs  # noqa: F401 - the fixture
from towerplan.errors import InsufficientResourcesError
from towerplan.pipeline import resources
from towerplan.pipeline.plan import new_run
from towerplan.pipeline.resources import check_resources, estimate_resources
from towerplan.scenario import load_scenario

Factory = Callable[..., Path]


def _cli(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "towerplan", *map(str, args)],
                          capture_output=True, text=True, check=False, timeout=600,
                          env={**os.environ, "COLUMNS": "200", **env})


def _one_m_cells(small_scenario: Factory) -> Path:
    path = small_scenario()
    path.write_text(path.read_text(encoding="utf-8").replace("demand_cell_m = 250",
                                                             "demand_cell_m = 1"),
                    encoding="utf-8")
    return path


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_estimate_bounds_the_real_run(small_scenario: Factory) -> None:
    sc = load_scenario(small_scenario())
    est = estimate_resources(sc)
    run = new_run(sc, cache=False)
    dem = run.get("terrain").dem.array
    assert abs(est.terrain_shape[0] - dem.shape[0]) <= 1
    assert abs(est.terrain_shape[1] - dem.shape[1]) <= 1
    units = run.get("demand")
    assert len(units.weight) <= est.demand_cells <= 1.5 * len(units.weight) + 50
    assert len(run.get("candidates")) <= est.candidates
    assert run.get("candidate_coverage").nnz <= est.matrix_entries
    assert est.memory_bytes == sum(est.memory.values()) > resources.BASE_MEMORY_BYTES


def test_memory_refusal_names_need_available_and_remedy(small_scenario: Factory,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    sc = load_scenario(_one_m_cells(small_scenario))
    est = estimate_resources(sc)
    monkeypatch.setenv("TOWERPLAN_MEMORY_BYTES", "8e9")
    with pytest.raises(InsufficientResourcesError) as info:
        check_resources(sc, est, tmp_path / "o", None)
    text = str(info.value)
    assert text.startswith(f"this run needs about {est.memory_bytes / 1e9:,.2f} GB of memory, "
                           "8.00 GB available (largest part: coverage matrix, ")
    assert "[coverage] demand_cell_m (now 1 m)" in text and "\n" not in text


def test_disk_refusals_name_the_folder(small_scenario: Factory, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sc = load_scenario(small_scenario())
    est = estimate_resources(sc)
    monkeypatch.setattr(resources, "free_bytes", lambda folder: 1_000_000)
    with pytest.raises(InsufficientResourcesError,
                       match=rf"the outputs need about 10 MB in {tmp_path}, 1 MB free; free "
                             "some space there or choose another --out"):
        check_resources(sc, est, tmp_path / "o", None)
    monkeypatch.setattr(resources, "free_bytes",
                        lambda folder: 1_000_000 if "cache" in str(folder) else 10**12)
    with pytest.raises(InsufficientResourcesError, match=r"stage cache needs about .* in "
                                                         r".*cache, 1 MB free.*--no-cache"):
        check_resources(sc, est, tmp_path / "o", tmp_path / "cache")


def test_cli_refuses_a_one_metre_grid_before_any_work(small_scenario: Factory,
                                                      tmp_path: Path) -> None:
    scenario = _one_m_cells(small_scenario)
    before = _files(tmp_path)
    proc = _cli("plan", scenario, "--out", tmp_path / "o", "--cache-dir", tmp_path / "c",
                TOWERPLAN_MEMORY_BYTES="8e9")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0].startswith("towerplan: error: this run needs about ")
    assert "8.00 GB available" in lines[0] and "demand_cell_m (now 1 m)" in lines[0]
    assert _files(tmp_path) == before  # nothing written, not even the cache folder
    dry = _cli("plan", scenario, "--out", tmp_path / "o", "--dry-run",
               TOWERPLAN_MEMORY_BYTES="8e9")
    assert dry.returncode == 2 and "demand cells up to 99," in dry.stdout
    assert dry.stderr.startswith("towerplan: error: this run needs about ")


def test_dry_run_writes_nothing_and_foresees_the_cache(small_scenario: Factory,
                                                       tmp_path: Path) -> None:
    scenario, out, cache = small_scenario(), tmp_path / "o", tmp_path / "cache"
    before = _files(tmp_path)
    first = _cli("plan", scenario, "--out", out, "--cache-dir", cache, "--dry-run")
    assert first.returncode == 0, first.stderr
    assert _files(tmp_path) == before
    text = first.stdout
    assert text.startswith("dry run: nothing computed, nothing written\n")
    assert "terrain grid 244 x 245 cells of 90 m (radius 6 km around)" in text
    assert f"output directory {out}: new directory" in text
    assert "stages: load (compute), terrain (compute)" in text
    assert "the run fits the memory and disks available" in text
    assert _cli("plan", scenario, "--out", out, "--cache-dir", cache).returncode == 0
    outputs = _files(out)
    again = _cli("plan", scenario, "--out", out, "--cache-dir", cache, "--dry-run")
    assert again.returncode == 0, again.stderr
    assert "stages: load (cached), terrain (cached), demand (cached)" in again.stdout
    assert "not empty: the run would be refused without --overwrite" in again.stdout
    assert _files(out) == outputs


def test_disk_filling_up_during_the_writing(small_scenario: Factory,
                                           tiny_tmpfs: Path) -> None:  # noqa: F811
    scenario, out = small_scenario(), tiny_tmpfs / "o"
    refused = _cli("plan", scenario, "--out", out, "--no-cache")
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"towerplan: error: the outputs need about 10 MB in "
                                     f"{tiny_tmpfs}, 0 MB free")
    proc = _cli("plan", scenario, "--out", out, "--no-cache", "--skip-resource-check")
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith(f"towerplan: error: no space left in "
                                                   f"{tiny_tmpfs}")
    assert "the outputs need about 10 MB" in lines[0] and "Nothing was written" in lines[0]
    assert sorted(p.name for p in tiny_tmpfs.iterdir()) == []
