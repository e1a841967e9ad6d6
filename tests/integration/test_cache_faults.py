"""The plan survives every damaged or mismatched cache entry: each is discarded with a note
(a warning, and ``cache_discarded`` in summary.json), recomputed, and the outputs are the
same bytes as those of a run on a sound cache. Two runs sharing a cache at once keep it sound.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from tests.integration.output_diff import differences
from towerplan import load_scenario, run_plan
from towerplan.io.cache import StageCache
from towerplan.io.stamps import SOURCE_DATE_EPOCH
from towerplan.pipeline.plan import PLAN_GRAPH, new_run
from towerplan.scenario import Scenario

EPOCH = "1767225600"


def _truncate(path: Path, _cache: StageCache, _keys: dict[str, str], _shape: tuple[int, int],
              ) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _flip(path: Path, _cache: StageCache, _keys: dict[str, str], _shape: tuple[int, int],
          ) -> None:
    data = bytearray(path.read_bytes())
    for at in (len(data) - 30, len(data) - 300):
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))


def _npz(path: Path, _cache: StageCache, _keys: dict[str, str], _shape: tuple[int, int],
         ) -> None:
    buffer = io.BytesIO()  # a numpy archive cut short (reading it raises BadZipFile)
    np.savez_compressed(buffer, matrix=np.ones((8, 8)))
    path.write_bytes(buffer.getvalue()[:-40])


def _other_key(path: Path, cache: StageCache, keys: dict[str, str], _shape: tuple[int, int],
               ) -> None:
    path.write_bytes(cache.path("before", keys["before"]).read_bytes())


def _matrix(rows: int = 0, columns: int = 0, dtype: Any = None) -> Callable[..., None]:
    """A valid entry holding a matrix with *rows* and *columns* more than the right one, of
    *dtype* (default: the right entry's)."""
    def replace(path: Path, cache: StageCache, _keys: dict[str, str],
                shape: tuple[int, int]) -> None:
        right = cache.load(path.parent.name, path.stem)[1].dtype
        wrong = np.ones((shape[0] + rows, shape[1] + columns), dtype=dtype or right)
        cache.store(path.parent.name, path.stem, sp.csr_matrix(wrong))
    return replace


def _scenario(small_scenario: Callable[..., Path]) -> Scenario:
    return load_scenario(small_scenario())


def _keys_and_row(scenario: Scenario, cache: StageCache, n_sites: int,
                  ) -> tuple[dict[str, str], Path]:
    """The stage keys, and the cached RSRP row of one candidate (a terrain chain caches one
    row per site besides the stage's matrix)."""
    run = new_run(scenario, cache=cache)
    keys = {name: run.key(name) for name in ("demand", "before", "candidate_coverage",
                                              "selection")}
    stage_entry = cache.path("candidate_coverage", keys["candidate_coverage"])
    rows = sorted(p for p in (cache.root / "candidate_coverage").glob("*.pkl")
                  if p != stage_entry)
    assert len(rows) == n_sites  # one RSRP row per candidate
    return keys, rows[0]


#: (case, entry damaged: stage name or "row" (one site's RSRP row), damage, words of the note).
CASES = [
    ("truncated coverage matrix", "candidate_coverage", _truncate, "checksum mismatch"),
    ("bytes flipped in a site's RSRP row", "row", _flip, "checksum mismatch"),
    ("truncated numpy archive in place of the selection", "selection", _npz, "unreadable"),
    ("another stage's entry under the demand's key", "demand", _other_key,
     "it holds another entry"),
    ("row of two sites", "row", _matrix(rows=1), "is expected"),
    ("row of other demand units", "row", _matrix(columns=-1), "is expected"),
    ("coverage booleans where RSRP is read", "row", _matrix(dtype=bool), "is expected"),
    ("coverage matrix of another candidate set", "candidate_coverage", _matrix(rows=-1),
     "candidates by"),
    ("coverage matrix of the wrong dtype", "candidate_coverage", _matrix(dtype=np.float32),
     "candidates by"),
]


def test_every_damaged_or_mismatched_entry_is_recomputed(
        small_scenario: Callable[..., Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCE_DATE_EPOCH, EPOCH)
    scenario = _scenario(small_scenario)
    cache = StageCache(tmp_path / "cache")
    sound = run_plan(scenario, tmp_path / "sound", cache=cache)
    assert "cache_discarded" not in sound.summary
    n_sites = len(sound.result.candidates)
    keys, row = _keys_and_row(scenario, cache, n_sites)
    hit, matrix = cache.load("candidate_coverage", keys["candidate_coverage"])
    assert hit and matrix.shape[0] == n_sites
    for k, (case, where, damage, words) in enumerate(CASES):
        path = row if where == "row" else cache.path(where, keys[where])
        assert path.is_file(), case
        damage(path, cache, keys, (1, matrix.shape[1]) if where == "row" else matrix.shape)
        stage = "candidate_coverage" if where == "row" else where
        for later in _downstream(stage) | ({stage} if where == "row" else set()):
            for entry in (cache.root / later).glob("*.pkl"):  # so the damaged one is read
                if entry != path:
                    entry.unlink()
        out = tmp_path / f"run{k}"
        again = run_plan(scenario, out, cache=StageCache(cache.root))
        notes = again.summary.get("cache_discarded", [])
        assert len(notes) == 1 and words in notes[0], (case, notes)
        assert notes[0].startswith(f"cache entry {stage}/"), (case, notes)
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["cache_discarded"] == notes
        # the recomputed result is the sound one, to the byte (the workbook's summary sheet
        # lists the discarded entry, as summary.json does)
        _drop_cache_notes(out)
        assert differences(tmp_path / "sound", out, skip=("report.xlsx",)) == [], case
        # and the entry is sound again
        stage_key = path.stem
        assert StageCache(cache.root).load(path.parent.name, stage_key)[0], case


def _downstream(stage: str) -> set[str]:
    """Stages that need *stage*, directly or not."""
    found: set[str] = set()
    while True:
        more = {s.name for s in PLAN_GRAPH.values()
                if s.name not in found and set(s.needs) & (found | {stage})}
        if not more:
            return found
        found |= more


def _drop_cache_notes(out: Path) -> None:
    """summary.json without its ``cache_discarded`` list (the sound run has none)."""
    path = out / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary.pop("cache_discarded")
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def test_the_command_line_warns_and_exits_0(
        small_scenario: Callable[..., Path], tmp_path: Path,
        run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    toml = small_scenario()
    cache = tmp_path / "cache"
    assert run_cli("plan", toml, "--out", tmp_path / "a", "--cache-dir", cache).returncode == 0
    for entry in (cache / "selection").glob("*.pkl"):
        entry.write_bytes(entry.read_bytes()[:-100])  # truncated
    proc = run_cli("plan", toml, "--out", tmp_path / "b", "--cache-dir", cache)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stderr.split())
    assert "cache entry selection/" in text and "discarded: checksum mismatch" in text
    assert "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "b" / "summary.json").read_text(encoding="utf-8"))
    assert len(summary["cache_discarded"]) == 1


def test_two_runs_sharing_a_cache_at_once_agree(small_scenario: Callable[..., Path],
                                                tmp_path: Path) -> None:
    toml = small_scenario()
    cache = tmp_path / "cache"
    env = {**os.environ, SOURCE_DATE_EPOCH: EPOCH, "COLUMNS": "200"}
    procs = [subprocess.Popen([sys.executable, "-m", "towerplan", "plan", str(toml), "--out",
                               str(tmp_path / name), "--cache-dir", str(cache)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("a", "b")]
    results = [proc.communicate(timeout=600) for proc in procs]
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
        assert "discarded" not in stderr
    assert differences(tmp_path / "a", tmp_path / "b") == []
    store = StageCache(cache)
    entries = sorted(cache.glob("*/*.pkl"))
    assert len(entries) >= 8
    for entry in entries:  # every entry both runs left is whole
        assert store.load(entry.parent.name, entry.stem)[0], entry
    assert store.notes == []
    assert not [p for p in cache.rglob("*") if ".tmp" in p.name]  # no temporary files left
    # and a third run reuses what they stored
    third = run_plan(load_scenario(toml), tmp_path / "c", cache=cache)
    assert third.computed == () and "selection" in third.reused
