"""``[compute] scheduler`` and ``--scheduler`` on a small scenario: the candidate coverage and
today's coverage of a Dask LocalCluster are the in-process ones to the byte; a bad value is
one line, exit 2."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan.pipeline.executors import executor_for
from towerplan.pipeline.plan import new_run
from towerplan.pipeline.stages import coverage, existing
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


def test_coverage_on_a_local_cluster_is_the_in_process_one(
        tmp_path: Path, small_scenario: Factory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(coverage, "BATCH_SITES", 8)  # several batches for two workers
    scenario = load_scenario(small_scenario())
    store = tmp_path / "cache"
    batched: list[int] = []
    merge = existing.composite_in_batches
    monkeypatch.setattr(existing, "composite_in_batches",
                        lambda *a, **k: batched.append(1) or merge(*a, **k))
    first = new_run(scenario, cache=store)
    serial, today = first.get("candidate_coverage"), first.get("existing_coverage")
    assert serial.shape[0] > 2 * 8 and serial.nnz > 0
    assert np.isfinite(today.grid.rsrp_dbm).any()
    for stage in ("candidate_coverage", "existing_coverage"):  # the stages, not the others
        shutil.rmtree(store / stage)
    run = new_run(scenario, cache=store, executor=executor_for("dask-local:2"))
    try:
        spread, spread_today = run.get("candidate_coverage"), run.get("existing_coverage")
    finally:
        run.close()
    assert "candidate_coverage" in run.computed and "candidates" in run.reused
    assert "existing_coverage" in run.computed
    assert batched == [1]  # only the cluster's run sweeps the towers in batches
    for name in ("data", "indices", "indptr"):
        assert getattr(spread, name).tobytes() == getattr(serial, name).tobytes()
    assert spread.shape == serial.shape and spread.dtype == serial.dtype
    for where in ("grid", "points"):
        for name in ("rsrp_dbm", "server", "n_servers"):
            got = getattr(getattr(spread_today, where), name)
            assert got.tobytes() == getattr(getattr(today, where), name).tobytes()
