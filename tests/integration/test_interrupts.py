"""Signals and concurrent runs against real ``towerplan plan`` processes.

SIGTERM, SIGHUP and SIGINT sent to a running plan stop it with exit code 128 + n and one
line saying nothing was changed; the staging directory and the lock are gone and an old
output directory is untouched. A second run into the same ``--out`` is refused with one line
naming the first; a killed run's staging directory and lock are cleaned by the next run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from towerplan.io.outdir import MARKER, lock_path, staged_directory

Factory = Callable[..., Path]


def _start(*args: str | Path) -> subprocess.Popen[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "towerplan", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _staging(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.partial-")]


def _wait_for_staging(proc: subprocess.Popen[str], out: Path, timeout_s: float = 300) -> Path:
    """The staging directory of *proc* once its marker is written (the run is working)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()
        found = [p for p in _staging(out) if (p / MARKER).is_file()]
        if found:
            return found[0]
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the plan never started writing")


def _old_outputs(out: Path) -> dict[str, str]:
    out.mkdir()
    files = {"summary.json": '{"old": true}', "keep.txt": "from an earlier run"}
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return files


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_stops_the_plan_and_changes_nothing(name: str, tmp_path: Path,
                                                   small_scenario: Factory) -> None:
    out = tmp_path / "o"
    old = _old_outputs(out)
    scenario = small_scenario()
    signum = getattr(signal, name)
    for _attempt in range(3):
        proc = _start("plan", scenario, "--out", out, "--overwrite", "--no-cache")
        staging = _wait_for_staging(proc, out)
        time.sleep(0.1)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=300)
        if proc.returncode != 0:
            break
        # on a loaded machine the plan may finish before the signal lands: then it is a
        # normal, complete run; put the old outputs back and signal a new run
        shutil.rmtree(out)
        old = _old_outputs(out)
    assert proc.returncode == 128 + signum, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert lines == [f"towerplan: interrupted by {name}; the run stopped and nothing was "
                     "changed (no output written or replaced)"], stderr
    assert not staging.exists() and _staging(out) == []
    assert not lock_path(out).exists()
    assert _contents(out) == old


def test_second_run_into_the_same_out_is_refused(tmp_path: Path,
                                                 small_scenario: Factory) -> None:
    out = tmp_path / "o"
    scenario = small_scenario()
    first = _start("plan", scenario, "--out", out, "--no-cache")
    _wait_for_staging(first, out)
    first.send_signal(signal.SIGSTOP)  # held mid-run: it cannot finish before the second asks
    try:
        second = _start("plan", scenario, "--out", out, "--no-cache")
        _, stderr = second.communicate(timeout=300)
        first.send_signal(signal.SIGTERM)  # delivered when it runs again
    finally:
        first.send_signal(signal.SIGCONT)
    first.communicate(timeout=300)
    assert second.returncode == 2, stderr
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"towerplan: error: output {out} is in use by another "
                               f"towerplan run (pid {first.pid} on host ")
    assert "started 20" in lines[0] and "choose another --out" in lines[0]
    assert first.returncode == 128 + signal.SIGTERM
    assert not out.exists() and _staging(out) == []


def test_killed_run_is_cleaned_by_the_next(tmp_path: Path, small_scenario: Factory,
                                           caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "o"
    old = _old_outputs(out)
    proc = _start("plan", small_scenario(), "--out", out, "--overwrite", "--no-cache")
    staging = _wait_for_staging(proc, out)
    proc.send_signal(signal.SIGKILL)  # no cleanup at all
    proc.communicate(timeout=60)
    assert staging.is_dir() and lock_path(out).is_file()
    owner = json.loads(lock_path(out).read_text(encoding="utf-8"))
    assert owner["pid"] == proc.pid
    assert _contents(out) == old  # killed before publishing: nothing changed
    with caplog.at_level(logging.WARNING, logger="towerplan"), \
            staged_directory(out, overwrite=True) as new:
        (new / "summary.json").write_text('{"new": true}', encoding="utf-8")
    notes = [r.getMessage() for r in caplog.records]
    assert any(f"took over the lock of {out}" in n and f"pid {proc.pid}" in n for n in notes)
    assert any(f"removed {staging}, left by a run that was killed (pid {proc.pid}" in n
               for n in notes)
    assert not staging.exists() and _staging(out) == []
    assert _contents(out) == {"summary.json": '{"new": true}'}  # replaced as a whole
    assert not lock_path(out).exists()
