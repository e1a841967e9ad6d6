"""Two runs of the same scenario write the same bytes, apart from the documented fields
(``created_utc`` and the run times, see docs/outputs.md "Reproducible outputs")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.output_diff import differences
from towerplan import load_scenario, run_plan
from towerplan.errors import ScenarioError
from towerplan.io.stamps import SOURCE_DATE_EPOCH, run_time_utc
from towerplan.outputs.writers import OUTPUT_FILES
from towerplan.scenario import Scenario

#: 2026-01-01T00:00:00Z
EPOCH = "1767225600"


def _written(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir())


def test_small_plan_twice_is_byte_identical(small_scenario: Callable[..., Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = load_scenario(small_scenario())
    monkeypatch.setenv(SOURCE_DATE_EPOCH, EPOCH)
    first = run_plan(scenario, tmp_path / "a", cache=tmp_path / "cache")
    # the second run computes everything again: cached and computed stages agree too
    second = run_plan(scenario, tmp_path / "b", cache=None)
    assert first.reused == () and second.reused == ()
    assert _written(tmp_path / "a") == sorted(OUTPUT_FILES) == _written(tmp_path / "b")
    assert first.summary["created_utc"] == "2026-01-01T00:00:00+00:00"
    assert differences(tmp_path / "a", tmp_path / "b") == []
    # a third run from the cache, stamped by the clock: only the stamp and run times differ
    monkeypatch.delenv(SOURCE_DATE_EPOCH)
    third = run_plan(scenario, tmp_path / "c", cache=tmp_path / "cache")
    assert "selection" in third.reused and third.computed == ()
    assert third.summary["created_utc"] != first.summary["created_utc"]
    assert differences(tmp_path / "a", tmp_path / "c", same_created=False,
                       skip=("report.pdf",)) == []
    # and the comparison is not blind: a changed byte anywhere is found
    ranking = tmp_path / "c" / "ranking.csv"
    ranking.write_bytes(ranking.read_bytes().replace(b",", b";", 1))
    assert differences(tmp_path / "a", tmp_path / "c", same_created=False,
                       skip=("report.pdf",)) == ["ranking.csv"]


@pytest.mark.slow
def test_demo_plan_twice_is_byte_identical(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_DATE_EPOCH, EPOCH)
    runs = [run_plan(Scenario.default(), tmp_path / name) for name in ("a", "b")]
    assert _written(tmp_path / "a") == sorted(OUTPUT_FILES)
    assert runs[1].summary["created_utc"] == "2026-01-01T00:00:00+00:00"
    assert differences(tmp_path / "a", tmp_path / "b") == []
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert summary["towers_selected"] == 4


@pytest.mark.parametrize("value", ["yesterday", "-5", "1.5", "99999999999999"])
def test_a_bad_source_date_epoch_is_one_line(value: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_DATE_EPOCH, value)
    with pytest.raises(ScenarioError, match="SOURCE_DATE_EPOCH=.* is not a time stamp"):
        run_time_utc()


def test_the_command_line_refuses_a_bad_source_date_epoch_before_working(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    env = {**os.environ, SOURCE_DATE_EPOCH: "2026-01-01", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, "-m", "towerplan", "plan", str(small_scenario()),
                           "--out", str(tmp_path / "out"), "--no-cache"], env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "towerplan: error: SOURCE_DATE_EPOCH='2026-01-01' is not a time stamp: give whole seconds "
        "since 1970-01-01 UTC (e.g. 1767225600), or unset it"]
    assert not (tmp_path / "out").exists()


def test_source_date_epoch_sets_the_run_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_DATE_EPOCH, "0")
    assert run_time_utc().isoformat() == "1970-01-01T00:00:00+00:00"
    monkeypatch.setenv(SOURCE_DATE_EPOCH, " ")
    assert run_time_utc().year >= 2025 and run_time_utc().microsecond == 0
