"""``[compute] scheduler`` and ``--scheduler`` on a small scenario: the candidate coverage of
a Dask LocalCluster is the in-process one to the byte; a bad value is one line, exit 2."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from towerplan.pipeline.executors import executor_for
from towerplan.pipeline.plan import new_run
from towerplan.pipeline.stages import coverage
from towerplan.scenario import load_scenario

Factory = Callable[..., Path]
Runner = Callable[..., Any]


def _one_line_exit_2(proc: Any, out: Path, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("towerplan: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert not out.exists()


def test_bad_scheduler_option(tmp_path: Path, small_scenario: Factory, run_cli: Runner) -> None:
    out = tmp_path / "o"
    proc = run_cli("plan", small_scenario(), "--out", out, "--scheduler", "local:0")
    _one_line_exit_2(proc, out, "'compute.scheduler'", "'local:0'", "local:N")


def test_bad_scheduler_in_the_scenario(tmp_path: Path, small_scenario: Factory,
                                       run_cli: Runner) -> None:
    out = tmp_path / "o"
    sc = small_scenario(extra='[compute]\nscheduler = "dask:2"\n')
    _one_line_exit_2(run_cli("plan", sc, "--out", out), out, "'compute.scheduler'", "'dask:2'")


def test_candidate_coverage_on_a_local_cluster_is_the_in_process_one(
        tmp_path: Path, small_scenario: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage, "BATCH_SITES", 8)  # several batches for two workers
    scenario = load_scenario(small_scenario())
    store = tmp_path / "cache"
    serial = new_run(scenario, cache=store).get("candidate_coverage")
    assert serial.shape[0] > 2 * 8 and serial.nnz > 0
    shutil.rmtree(store / "candidate_coverage")  # the stage and its rows, not the others
    run = new_run(scenario, cache=store, executor=executor_for("dask-local:2"))
    try:
        spread = run.get("candidate_coverage")
    finally:
        run.close()
    assert "candidate_coverage" in run.computed and "candidates" in run.reused
    for name in ("data", "indices", "indptr"):
        assert getattr(spread, name).tobytes() == getattr(serial, name).tobytes()
    assert spread.shape == serial.shape and spread.dtype == serial.dtype
