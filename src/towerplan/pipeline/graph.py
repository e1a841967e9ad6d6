"""A graph of stages with honest caching.

A :class:`Stage` is a function of the scenario and of the results of the stages it
``needs``. Its result is cached under a key made of

- the stage's name and the hash of its code (:func:`~towerplan.pipeline.codehash.code_hash`
  of the module that defines it: that module and every towerplan module it imports);
- the scenario values it ``reads`` (dotted paths such as ``"radio"`` or
  ``"coverage.demand_cell_m"``); a stage may read nothing else of the scenario, which a test
  checks for every stage;
- the keys of the stages it needs (so a changed input invalidates everything downstream), or,
  for a stage with a ``content`` function, a hash of the parts of their results it uses (the
  candidate coverage depends on the candidates' positions and heights, not on their costs);
- a ``fingerprint`` of the input files it reads (their content and path).

:class:`GraphRun` evaluates stages on demand, each at most once per run, and records for each
whether it was computed or reused from the cache. Nothing in a stage module imports this
graph's users (the commands).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.io.cache import StageCache
from towerplan.pipeline.codehash import code_hash, remember_in, save_found
from towerplan.pipeline.executors import InProcessExecutor
from towerplan.scenario import Scenario

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from towerplan.pipeline.executors import BatchFn, CountFn, Executor

__all__ = ["GraphRun", "ProgressFn", "Stage", "StageContext", "StageRecord", "file_fingerprint",
           "scenario_values"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class StageContext:
    """What a stage function gets besides its inputs.

    Attributes
    ----------
    scenario : Scenario
        The run's scenario (read only the stage's declared ``reads``).
    progress : callable or None
        Progress callback of the run (labels such as ``"candidate coverage 50/953"``).
    cache : StageCache or None
        The run's store, for stages that cache parts of their work (site batches).
    key : str
        The stage's own cache key.
    base_key : str
        The key without the ``content`` part (see :meth:`GraphRun.base_key`).
    part_key : str
        The base key without the scenario values of the stage's ``part_ignores``: the key
        of parts cached by the stage that do not depend on those values (the candidate
        coverage keeps RSRP rows, valid for any threshold near the one they were made at).
    executor : Executor or None
        Where the stage's batches are computed (:mod:`towerplan.pipeline.executors`);
        None: in this process.
    """

    scenario: Scenario
    progress: ProgressFn | None
    cache: StageCache | None
    key: str
    base_key: str
    part_key: str = ""
    executor: Executor | None = None

    def report(self, label: str) -> None:
        """Send a progress label."""
        if self.progress is not None:
            self.progress(label)

    @property
    def distributed(self) -> bool:
        """True when the run's batches go to other processes (``local:N``, Dask)."""
        return self.executor is not None and not isinstance(self.executor, InProcessExecutor)

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        """``(index, fn(shared, task))`` of every task as each finishes, on the run's
        executor (:meth:`~towerplan.pipeline.executors.Executor.map_batches`)."""
        executor = self.executor if self.executor is not None else InProcessExecutor()
        return executor.map_batches(fn, tasks, shared=shared, progress=progress)


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of the pipeline.

    Attributes
    ----------
    name : str
        Unique name, also the cache folder.
    run : callable
        ``run(ctx, **inputs)``: the result from the results of ``needs`` (keyword arguments
        named after them).
    needs : tuple of str
        Stages whose results are the inputs.
    reads : tuple of str
        Scenario paths the stage reads (``"radio"``, ``"costs.backhaul"``, ...).
    label : str
        Progress label shown when the stage starts.
    cache : bool
        Store the result (cheap stages are recomputed instead).
    keyed : tuple of str
        With ``content``: the stages of ``needs`` whose keys still go into the key.
    content : callable or None
        ``content(inputs) -> iterable``: the parts of the results of the other ``needs`` the
        stage depends on, hashed in place of their keys.
    fingerprint : callable or None
        ``fingerprint(scenario) -> iterable``: extra key parts, e.g. the input files read.
    check : callable or None
        ``check(value, inputs) -> str or None``: why a result read from the cache does not
        fit the results of ``needs`` (e.g. a matrix of the wrong shape), or None when it
        does; an entry that does not fit is discarded and the stage computed.
    part_ignores : tuple of str
        Dotted scenario paths (below ``reads``) left out of ``StageContext.part_key``.
    """

    name: str
    run: Callable[..., Any]
    needs: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    label: str = ""
    cache: bool = True
    keyed: tuple[str, ...] = ()
    content: Callable[[Mapping[str, Any]], Iterable[Any]] | None = None
    fingerprint: Callable[[Scenario], Iterable[Any]] | None = None
    check: Callable[[Any, Mapping[str, Any]], str | None] | None = None
    part_ignores: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        """Module defining the stage function (its code hash is part of the key)."""
        return str(self.run.__module__)


@dataclass(frozen=True, slots=True)
class StageRecord:
    """What happened to one stage in a run.

    Attributes
    ----------
    name : str
        Stage name.
    reused : bool
        True when the result came from the cache.
    seconds : float
        Time spent (loading or computing, without the stages it needs).
    key : str
        Cache key.
    """

    name: str
    reused: bool
    seconds: float
    key: str


def scenario_values(scenario: Scenario, paths: Iterable[str]) -> dict[str, Any]:
    """The scenario values at dotted *paths*, as plain data (for hashing)."""
    out: dict[str, Any] = {}
    for path in paths:
        value: Any = scenario
        for part in path.split("."):
            value = getattr(value, part)
        is_group = dataclasses.is_dataclass(value) and not isinstance(value, type)
        out[path] = dataclasses.asdict(value) if is_group else value
    return out


def _leave_out(values: dict[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """*values* of :func:`scenario_values` without the dotted *paths* below their keys."""
    out = dict(values)
    for path in paths:
        top = next(r for r in out if path.startswith(r + "."))
        group = out[top] = dict(out[top])
        *inner, last = path[len(top) + 1:].split(".")
        for part in inner:
            group[part] = dict(group[part])
            group = group[part]
        del group[last]
    return out


def file_fingerprint(paths: Iterable[Path | None]) -> list[Any]:
    """Path, size and SHA-256 of each file, and of its sidecars (same name plus a suffix,
    e.g. a shapefile's ``.dbf`` or a GeoTIFF's ``.aux.xml``); missing files as such."""
    out: list[Any] = []
    for path in paths:
        if path is None:
            out.append(None)
            continue
        path = Path(path)
        group = [path]
        if path.parent.is_dir():
            stem = path.stem
            group += sorted(p for p in path.parent.glob(f"{stem}.*")
                            if p != path and p.is_file())
        for member in group:
            if not member.is_file():
                out.append((str(member), "missing"))
                continue
            digest = hashlib.sha256()
            with member.open("rb") as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
            out.append((str(member), member.stat().st_size, digest.hexdigest()))
    return out


def _digest(parts: Iterable[Any]) -> str:
    text = json.dumps(list(parts), sort_keys=True, default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    """JSON stand-in for values json cannot write (paths, arrays, numpy scalars)."""
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        return f"array:{arr.dtype.str}{arr.shape}:{hashlib.sha256(arr.tobytes()).hexdigest()}"
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


@dataclass(slots=True)
class GraphRun:
    """One evaluation of a stage graph for a scenario.

    Attributes
    ----------
    scenario : Scenario
        The scenario.
    stages : mapping of str to Stage
        The graph.
    cache : StageCache or None
        Where results are stored and reused; None computes everything.
    progress : callable or None
        Called with each stage's label when it starts (and with finer labels from inside).
    records : list of StageRecord
        Each stage evaluated, in the order finished.
    started : float
        ``time.perf_counter()`` when the run began.
    notes_from : int
        Number of the cache's notes before this run (see :attr:`cache_notes`).
    executor : Executor or None
        Where stages compute their batches (None: in this process); :meth:`close` closes it.
    """

    scenario: Scenario
    stages: Mapping[str, Stage]
    cache: StageCache | None = None
    progress: ProgressFn | None = None
    records: list[StageRecord] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    notes_from: int = -1
    executor: Executor | None = None
    _results: dict[str, Any] = field(default_factory=dict)
    _keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.notes_from < 0:
            self.notes_from = len(self.cache.notes) if self.cache is not None else 0

    @property
    def cache_notes(self) -> tuple[str, ...]:
        """Cache entries discarded during this run (damaged or mismatched), one line each."""
        return tuple(self.cache.notes[self.notes_from:]) if self.cache is not None else ()

    def close(self) -> None:
        """Release the executor's workers (a LocalCluster or a connection), if any."""
        if self.executor is not None:
            self.executor.close()

    def base_key(self, name: str, *, ignore: Iterable[str] = ()) -> str:
        """Key of stage *name* without its ``content`` part (its code, reads, the keys of
        the stages it is keyed on and its input files); with the scenario values at the
        dotted paths *ignore* left out."""
        stage = self.stages[name]
        upstream = stage.keyed if stage.content is not None else stage.needs
        values = _leave_out(scenario_values(self.scenario, stage.reads), ignore)
        if self.cache is not None:  # the import statements found by earlier runs
            remember_in(self.cache.root / "code-imports.json")
        parts = [stage.name, code_hash(stage.module), values, [self.key(n) for n in upstream]]
        if stage.fingerprint is not None:
            parts.append(list(stage.fingerprint(self.scenario)))
        return _digest(parts)

    def key(self, name: str) -> str:
        """Cache key of stage *name* in this run."""
        if name in self._keys:
            return self._keys[name]
        stage = self.stages[name]
        key = self.base_key(name)
        if stage.content is not None:
            key = _digest([key, list(stage.content({n: self.get(n) for n in stage.needs
                                                    if n not in stage.keyed}))])
        self._keys[name] = key
        return key

    def get(self, name: str) -> Any:
        """Result of stage *name*: from this run, the cache, or computed now."""
        if name in self._results:
            return self._results[name]
        stage = self.stages[name]
        key = self.key(name)
        if self.cache is None or not stage.cache:
            return self._compute(stage, key, {n: self.get(n) for n in stage.needs})
        cache = self.cache
        hit, value = self._reuse(stage, key, None)  # before the inputs: a hit needs none
        if hit:
            return value
        inputs = {n: self.get(n) for n in stage.needs}

        def waiting() -> None:
            if stage.label and self.progress is not None:
                self.progress(f"{stage.label} (waiting for another run)")

        with cache.computing(name, key, waiting):
            # another run sharing the cache may have stored it while this one waited
            hit, value = self._reuse(stage, key, inputs)
            if not hit:
                value = self._compute(stage, key, inputs)
                cache.store(name, key, value)
                save_found()  # beside the entries: a run that stores nothing writes nothing
            return value

    def get_beside(self, name: str) -> Callable[[], Any]:
        """Evaluate stage *name* in a thread while the caller goes on; the returned function
        waits for it and returns its result (or raises its error).

        For a stage that spends its time outside the GIL (HiGHS). The stages it needs must
        already be evaluated, so that two threads never evaluate one stage; otherwise it is
        evaluated now, in this thread. The thread is a daemon: an interrupted run does not
        wait for it.
        """
        stage = self.stages[name]
        if name in self._results or any(n not in self._results for n in stage.needs):
            value = self.get(name)
            return lambda: value
        self.key(name)  # keys are computed here, not in two threads at once
        pending: Future[Any] = Future()

        def run() -> None:
            try:
                pending.set_result(self.get(name))
            except BaseException as exc:  # noqa: BLE001 - raised again by result()
                pending.set_exception(exc)

        threading.Thread(target=run, name=f"towerplan-{name}", daemon=True).start()
        return pending.result

    def _reuse(self, stage: Stage, key: str, inputs: dict[str, Any] | None
               ) -> tuple[bool, Any]:
        """``(True, value)`` when the cache holds a sound entry of *stage* (its ``check``
        passed against *inputs*, or against the results it needs when None); a damaged or
        mismatched entry is discarded with a note."""
        assert self.cache is not None
        started = time.perf_counter()
        hit, value = self.cache.load(stage.name, key)
        if hit and stage.check is not None:
            if inputs is None:
                inputs = {n: self.get(n) for n in stage.needs}
            problem = stage.check(value, inputs)
            if problem is not None:
                return self.cache.discard(stage.name, key, problem)
        if not hit:
            return False, None
        if stage.label and self.progress is not None:
            self.progress(f"{stage.label} (cached)")
        self._done(stage, value, True, time.perf_counter() - started, key)
        return True, value

    def _compute(self, stage: Stage, key: str, inputs: dict[str, Any]) -> Any:
        if stage.label and self.progress is not None:
            self.progress(stage.label)
        started = time.perf_counter()
        ctx = StageContext(self.scenario, self.progress, self.cache, key,
                           self.base_key(stage.name),
                           self.base_key(stage.name, ignore=stage.part_ignores), self.executor)
        value = stage.run(ctx, **inputs)
        self._done(stage, value, False, time.perf_counter() - started, key)
        return value

    def _done(self, stage: Stage, value: Any, reused: bool, seconds: float, key: str) -> None:
        self._results[stage.name] = value
        self.records.append(StageRecord(stage.name, reused, seconds, key))
        log.info("stage %s: %s in %.2f s (key %s)", stage.name,
                 "reused from the cache" if reused else "computed", seconds, key[:12])

    def foreseen(self) -> dict[str, str]:
        """What a run would do with each stage, found without computing any: ``"cached"``
        (a stored result would be reused), ``"compute"`` (none stored), ``"not cached"``
        (cheap, always recomputed) or ``"decided during the run"`` (the key holds results of
        earlier stages).
        """
        out: dict[str, str] = {}
        pending = list(self.stages)
        while pending:
            progressed = False
            for name in list(pending):
                stage = self.stages[name]
                upstream = stage.keyed if stage.content is not None else stage.needs
                if any(n in pending for n in (*stage.needs, *upstream)):
                    continue
                pending.remove(name)
                progressed = True
                if stage.content is not None or any(n not in self._keys for n in upstream):
                    out[name] = "decided during the run"
                    continue
                self._keys[name] = key = self.base_key(name)
                if not stage.cache:
                    out[name] = "not cached"
                elif self.cache is not None and self.cache.path(name, key).is_file():
                    out[name] = "cached"
                else:
                    out[name] = "compute"
            if not progressed:  # a cycle: report the rest as unknown
                out.update(dict.fromkeys(pending, "decided during the run"))
                break
        return out

    @property
    def reused(self) -> tuple[str, ...]:
        """Stages whose result came from the cache, in the order evaluated."""
        return tuple(r.name for r in self.records if r.reused)

    @property
    def computed(self) -> tuple[str, ...]:
        """Stages computed in this run, in the order evaluated."""
        return tuple(r.name for r in self.records if not r.reused)
