"""The stage graph: keys, reuse, invalidation by inputs and by code, the stage cache."""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan.io.cache import StageCache
from towerplan.pipeline.codehash import code_hash, module_closure
from towerplan.pipeline.graph import GraphRun, Stage, StageContext, file_fingerprint
from towerplan.pipeline.plan import PLAN_GRAPH
from towerplan.scenario import Scenario

CALLS: list[str] = []


def _first(ctx: StageContext) -> float:
    CALLS.append("first")
    return ctx.scenario.radio.freq_mhz * 2


def _second(ctx: StageContext, *, first: float) -> float:
    CALLS.append("second")
    return first + ctx.scenario.budget.total_idr


def _positions(inputs: dict[str, Any]) -> list[Any]:
    return [inputs["first"] > 0]


GRAPH = {
    "first": Stage("first", _first, reads=("radio.freq_mhz",), label="first"),
    "second": Stage("second", _second, needs=("first",), reads=("budget",), label="second"),
}


@pytest.fixture(autouse=True)
def _calls() -> None:
    CALLS.clear()


def _run(scenario: Scenario, cache: StageCache | None, graph: dict[str, Stage] = GRAPH,
         ) -> GraphRun:
    return GraphRun(scenario, graph, cache)


def test_results_are_reused_when_nothing_read_changed(tmp_path: Path) -> None:
    cache = StageCache(tmp_path)
    sc = Scenario()
    first = _run(sc, cache)
    assert first.get("second") == 1800.0 + 8.5e9
    assert first.computed == ("first", "second") and CALLS == ["first", "second"]
    again = _run(sc, cache)
    assert again.get("second") == 1800.0 + 8.5e9
    assert again.reused == ("second",) and CALLS == ["first", "second"]  # nothing recomputed


def test_a_value_a_stage_reads_invalidates_it_and_what_follows(tmp_path: Path) -> None:
    cache = StageCache(tmp_path)
    sc = Scenario()
    _run(sc, cache).get("second")
    budget = dataclasses.replace(sc, budget=dataclasses.replace(sc.budget, total_idr=9e9))
    run = _run(budget, cache)
    run.get("second")
    assert run.computed == ("second",)  # "first" does not read the budget: not even loaded
    radio = dataclasses.replace(sc, radio=dataclasses.replace(sc.radio, freq_mhz=1800.0))
    run = _run(radio, cache)
    run.get("second")
    assert run.computed == ("first", "second")
    other = dataclasses.replace(sc, radio=dataclasses.replace(sc.radio, tx_power_dbm=40.0))
    assert _run(other, cache).key("first") == _run(sc, cache).key("first")


def test_content_keyed_stage_depends_on_what_it_uses(tmp_path: Path) -> None:
    graph = {**GRAPH, "second": dataclasses.replace(GRAPH["second"], content=_positions)}
    sc = Scenario()
    key = _run(sc, None, graph).key("second")
    radio = dataclasses.replace(sc, radio=dataclasses.replace(sc.radio, freq_mhz=1800.0))
    assert _run(radio, None, graph).key("second") == key  # first changed, its sign did not
    assert _run(radio, None, GRAPH).key("second") != _run(sc, None, GRAPH).key("second")


def test_without_a_cache_everything_is_computed() -> None:
    run = _run(Scenario(), None)
    run.get("second")
    run.get("second")
    assert run.computed == ("first", "second") and CALLS == ["first", "second"]


def test_progress_names_computed_and_reused_stages(tmp_path: Path) -> None:
    seen: list[str] = []
    cache = StageCache(tmp_path)
    GraphRun(Scenario(), GRAPH, cache, seen.append).get("second")
    GraphRun(Scenario(), GRAPH, cache, seen.append).get("second")
    assert seen == ["first", "second", "second (cached)"]


def _slow_first(ctx: StageContext) -> float:
    CALLS.append("first")
    time.sleep(1.0)
    return ctx.scenario.radio.freq_mhz * 2


@pytest.mark.skipif(sys.platform == "win32", reason="the store's lock is POSIX flock")
def test_runs_sharing_a_store_compute_each_entry_once(tmp_path: Path) -> None:
    graph = {**GRAPH, "first": dataclasses.replace(GRAPH["first"], run=_slow_first)}
    seen: dict[str, list[str]] = {"a": [], "b": []}
    values: dict[str, float] = {}

    def plan(name: str) -> None:
        run = GraphRun(Scenario(), graph, StageCache(tmp_path), seen[name].append)
        values[name] = run.get("second")

    first = threading.Thread(target=plan, args=("a",))
    first.start()
    time.sleep(0.3)  # one of them is computing "first" now
    second = threading.Thread(target=plan, args=("b",))
    second.start()
    first.join(timeout=30)
    second.join(timeout=30)
    assert values == {"a": 1800.0 + 8.5e9, "b": 1800.0 + 8.5e9}
    assert sorted(CALLS) == ["first", "second"]  # each computed once
    # one run computed "first" while the other waited for it and then read it from the
    # store; "second" likewise (whichever came first computed it)
    computing, waiting = sorted(seen.values(), key=lambda labels: labels[0])
    assert computing[0] == "first"
    assert waiting[:2] == ["first (waiting for another run)", "first (cached)"]
    labels = seen["a"] + seen["b"]
    assert labels.count("second") == 1 and labels.count("second (cached)") == 1


def test_damaged_or_foreign_cache_entries_are_recomputed(tmp_path: Path) -> None:
    cache = StageCache(tmp_path)
    sc = Scenario()
    run = _run(sc, cache)
    run.get("second")
    path = cache.path("second", run.key("second"))
    data = path.read_bytes()
    path.write_bytes(data[:-5])  # truncated
    again = _run(sc, cache)
    assert again.get("second") == 1800.0 + 8.5e9 and "second" in again.computed
    header = json.loads(path.read_bytes().split(b"\n", 1)[0])
    other = cache.path("second", "0" * 32)
    other.write_bytes(path.read_bytes())  # a valid entry filed under another key
    assert cache.load("second", "0" * 32) == (False, None)
    assert not other.exists()
    assert header["stage"] == "second" and header["bytes"] > 0


def test_the_store_prunes_the_least_recently_used(tmp_path: Path) -> None:
    cache = StageCache(tmp_path, max_bytes=3000)
    for k in range(5):
        cache.store("s", f"{k:032d}", np.zeros(100))  # about 900 bytes each
    kept = sorted(p.stem for p in (tmp_path / "s").glob("*.pkl"))
    assert 1 <= len(kept) <= 3 and kept[-1] == f"{4:032d}"


def test_an_unwritable_cache_costs_only_the_reuse(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    run = _run(Scenario(), StageCache(blocker / "cache"))
    assert run.get("second") == 1800.0 + 8.5e9


def test_file_fingerprint_follows_content_and_sidecars(tmp_path: Path) -> None:
    shp = tmp_path / "villages.shp"
    shp.write_bytes(b"geometry")
    (tmp_path / "villages.dbf").write_bytes(b"names")
    before = file_fingerprint([shp])
    (tmp_path / "villages.dbf").write_bytes(b"other names")
    assert file_fingerprint([shp]) != before
    assert file_fingerprint([tmp_path / "missing.tif"])[0][1] == "missing"


# -- code --------------------------------------------------------------------------------


def _changed(module: str) -> Any:
    from towerplan.pipeline.codehash import _source

    def source(name: str) -> bytes:
        text = _source(name)
        return text + b"\n# changed\n" if name == module else text

    return source


def test_a_change_in_the_sweep_kernel_invalidates_coverage_only() -> None:
    source = _changed("towerplan.coverage.sweep")
    changed = {name for name, st in PLAN_GRAPH.items()
               if code_hash(st.module, source=source) != code_hash(st.module)}
    assert {"existing_coverage", "candidate_coverage", "after"} <= changed
    assert not changed & {"load", "terrain", "demand", "before", "candidates", "backhaul"}


def test_a_change_in_the_selection_solver_leaves_coverage_and_backhaul_alone() -> None:
    source = _changed("towerplan.analysis.selection_exact")
    changed = {name for name, st in PLAN_GRAPH.items()
               if code_hash(st.module, source=source) != code_hash(st.module)}
    assert "selection" in changed
    assert not changed & {"load", "terrain", "existing_coverage", "candidate_coverage",
                          "candidates", "backhaul"}


def test_a_code_change_changes_the_run_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """The key of a stage (and so the cache entry used) follows its code hash."""
    from towerplan.pipeline import graph

    run = _run(Scenario(), StageCache(tmp_path))
    key = run.key("second")
    monkeypatch.setattr(graph, "code_hash", lambda module: "edited")
    assert _run(Scenario(), StageCache(tmp_path)).key("second") != key


def test_closure_follows_imports_inside_functions_but_not_type_checking() -> None:
    closure = module_closure("towerplan.pipeline.stages.coverage")
    assert "towerplan.coverage.sweep" in closure
    assert "towerplan.pipeline.stages.coverage" in closure
    assert "towerplan.analysis.selection" not in closure  # only under TYPE_CHECKING elsewhere


def test_imported_modules_finds_imports_in_every_statement_body() -> None:
    """Imports in functions, classes, loops, try/except/finally, with and match count; those
    under ``if TYPE_CHECKING:`` do not, but its ``else`` branch does."""
    from towerplan.pipeline.codehash import imported_modules

    source = b'''
from typing import TYPE_CHECKING
import numpy
if TYPE_CHECKING:
    from towerplan.analysis import selection
else:
    import towerplan.errors
def f(x):
    from towerplan.coverage import sweep
    class C:
        def g(self):
            from ..io import cache
    for _ in x:
        while True:
            import towerplan.radio.itm
    try:
        from . import graph
    except ImportError:
        from towerplan.io import rasters
    finally:
        import towerplan.scenario
    with open(x):
        from towerplan.analysis.blankspots import BLANK
    match x:
        case 1:
            from towerplan.radio import antenna
    return [y for y in x if y]
'''
    found = set(imported_modules("towerplan.pipeline.plan", source))
    assert found == {
        "towerplan.errors", "towerplan.coverage", "towerplan.coverage.sweep",
        "towerplan.io", "towerplan.io.cache", "towerplan.radio.itm", "towerplan.pipeline",
        "towerplan.pipeline.graph", "towerplan.io.rasters", "towerplan.scenario",
        "towerplan.analysis.blankspots", "towerplan.radio", "towerplan.radio.antenna"}


def test_import_statements_found_once_are_kept_in_the_store_for_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next run with the same store parses no module whose source is unchanged, and
    gets the same code hashes; a damaged memo file is ignored."""
    import ast
    import json

    from towerplan.pipeline import codehash

    module = "towerplan.pipeline.stages.coverage"
    want = module_closure(module)
    monkeypatch.setattr(codehash, "_FOUND", {})
    monkeypatch.setattr(codehash, "_MEMO", {})
    codehash._imports.cache_clear()
    memo = tmp_path / "code-imports.json"
    codehash.remember_in(memo)
    assert module_closure(module) == want
    codehash.save_found()
    data = json.loads(memo.read_text(encoding="utf-8"))
    assert data["format"] == 1 and len(data["found"]) >= len(want)
    assert all(n.startswith("towerplan") for names in data["found"].values() for n in names)
    # a new process: nothing in memory, the file read back; ast.parse must not be needed
    monkeypatch.setattr(codehash, "_FOUND", {})
    monkeypatch.setattr(codehash, "_MEMO", {})
    codehash._imports.cache_clear()

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed again")

    codehash.remember_in(memo)
    monkeypatch.setattr(ast, "parse", no_parse)
    assert module_closure(module) == want
    monkeypatch.undo()
    # damaged: ignored, parsed again, and written whole
    memo.write_text('{"format": 1, "found": [', encoding="utf-8")
    monkeypatch.setattr(codehash, "_FOUND", {})
    monkeypatch.setattr(codehash, "_MEMO", {})
    codehash._imports.cache_clear()
    codehash.remember_in(memo)
    assert module_closure(module) == want
    codehash.save_found()
    assert len(json.loads(memo.read_text(encoding="utf-8"))["found"]) >= len(want)
    codehash._imports.cache_clear()


def test_a_run_keeps_the_import_statements_beside_the_entries_it_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from towerplan.pipeline import codehash

    monkeypatch.setattr(codehash, "_MEMO", {})
    run = _run(Scenario(), StageCache(tmp_path))
    run.foreseen()  # what a dry run does: keys computed, nothing written
    assert not (tmp_path / "code-imports.json").exists()
    run.get("second")
    assert (tmp_path / "code-imports.json").is_file()


def _failing(ctx: StageContext, *, first: float) -> float:
    raise ValueError(f"cannot from {first}")


def test_a_stage_evaluated_beside_runs_in_a_thread_once_its_inputs_are_there(
        tmp_path: Path) -> None:
    import threading

    seen: list[str] = []

    def second(ctx: StageContext, *, first: float) -> float:
        seen.append(threading.current_thread().name)
        return _second(ctx, first=first)

    graph = {**GRAPH, "second": Stage("second", second, needs=("first",), reads=("budget",)),
             "bad": Stage("bad", _failing, needs=("first",))}
    run = _run(Scenario(), StageCache(tmp_path), graph)
    early = run.get_beside("second")  # "first" not evaluated yet: evaluated here, now
    assert seen == [threading.current_thread().name] and CALLS == ["first", "second"]
    assert early() == Scenario().radio.freq_mhz * 2 + Scenario().budget.total_idr
    again = _run(Scenario(), None, graph)
    again.get("first")
    pending = again.get_beside("second")
    assert pending() == early() and seen[-1] == "towerplan-second"
    assert again.computed == ("first", "second")
    failing = again.get_beside("bad")
    with pytest.raises(ValueError, match="cannot from"):
        failing()
