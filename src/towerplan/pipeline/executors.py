"""Executors: where the batches of a stage are computed (``[compute] scheduler``).

One small interface, :class:`Executor`, with three implementations:

- :class:`InProcessExecutor` (``"inprocess"``): one batch after the other in this process;
- :class:`ProcessPoolExecutor` (``"local:N"``): N worker processes of
  :class:`concurrent.futures.ProcessPoolExecutor` (started with ``spawn``), one pool per
  call of :meth:`Executor.map_batches`;
- :class:`DaskExecutor` (``"dask-local:N"``, ``"tcp://HOST:PORT"``): a
  :class:`distributed.Client` of a LocalCluster started here, or of a running scheduler.

:meth:`Executor.map_batches` calls ``fn(shared, task)`` for every task and yields
``(index, result)`` as each batch finishes (not in task order), so the caller can store every
finished batch at once: a run that fails part-way keeps what finished. ``shared`` (the
demand units, the link) is sent to each worker once per call, not with every task: the pool
gives it to each process when it starts, Dask scatters it to every worker
(``broadcast=True``). Each task carries what only it needs (a batch's sites and its part of
the terrain); tasks are taken from the sequence only when they are queued, at most
:data:`QUEUED_PER_WORKER` per worker ahead, so a lazy sequence makes only those.
Results are the same with every executor (the batches run the same code on the same
inputs).

A worker that dies (killed, out of memory) makes :class:`~towerplan.errors.ExecutorError`
once the batches still running have finished: a process pool cannot recover one, Dask
retries its tasks on the other workers (``distributed.scheduler.allowed-failures``, 3 by
default) and fails only when they kill workers again and again.

``dask`` and ``distributed`` are an optional extra (``pip install 'towerplan[dask]'``),
imported only by :class:`DaskExecutor`.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import ProcessPoolExecutor as _Pool
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from towerplan._version import __version__
from towerplan.errors import ExecutorError, MissingDependencyError
from towerplan.scenario import parse_scheduler

__all__ = ["QUEUED_PER_WORKER", "BatchFn", "DaskExecutor", "Executor", "InProcessExecutor",
           "ProcessPoolExecutor", "executor_for"]

log = logging.getLogger(__name__)

#: ``fn(shared, task) -> result``: a module-level function (workers import it by name).
BatchFn = Callable[[Any, Any], Any]
#: ``progress(done, total)`` after each finished batch.
CountFn = Callable[[int, int], None]

#: Batches given to the executor at a time, per worker: enough to keep every worker busy,
#: few enough that the batches' inputs (their part of the terrain) are not all made at once.
QUEUED_PER_WORKER = 2
#: Seconds to wait for a Dask scheduler to answer, and for its first worker.
CONNECT_TIMEOUT_S = 30.0
WORKER_WAIT_S = 120.0


class Executor(Protocol):
    """Computes independent batches: ``fn(shared, task)`` for each task."""

    @property
    def name(self) -> str:
        """The ``[compute] scheduler`` value it implements."""
        ...  # pragma: no cover - protocol

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(shared, tasks[index]))`` for every task, as each finishes.

        Raises
        ------
        ExecutorError
            When a worker died (after the batches that finished were yielded).
        """
        ...  # pragma: no cover - protocol

    def close(self) -> None:
        """Release workers and connections started by the executor (idempotent)."""
        ...  # pragma: no cover - protocol


class InProcessExecutor:
    """Every batch in this process, one after the other (``"inprocess"``)."""

    name = "inprocess"

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`Executor.map_batches` (here in task order)."""
        for i, task in enumerate(tasks):
            result = fn(shared, task)
            if progress is not None:
                progress(i + 1, len(tasks))
            yield i, result

    def close(self) -> None:
        """Nothing to release."""


# --------------------------------------------------------------------- local process pool

_SHARED: Any = None


def _threads_per_worker(workers: int) -> int:
    """numba threads for each of *workers* processes on this machine (at least 1)."""
    return max(1, (os.cpu_count() or 1) // workers)


def _set_numba_threads(threads: int) -> None:
    import numba

    numba.set_num_threads(min(threads, int(numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]


def _start_worker(shared: Any, threads: int) -> None:
    """Pool initializer: keep *shared* for the process's batches; share the cores."""
    global _SHARED  # noqa: PLW0603 - one value per worker process, set once
    _SHARED = shared
    _set_numba_threads(threads)


def _call(fn: BatchFn, task: Any) -> Any:
    return fn(_SHARED, task)


class ProcessPoolExecutor:
    """*workers* local processes (``"local:N"``), each with ``cpu_count // N`` numba threads.

    Parameters
    ----------
    workers : int
        Number of worker processes.
    """

    def __init__(self, workers: int) -> None:
        self.workers = int(workers)

    @property
    def name(self) -> str:
        """``local:N``."""
        return f"local:{self.workers}"

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`Executor.map_batches`; one pool per call (*shared* given to each
        process as it starts)."""
        if not tasks:
            return
        n = min(self.workers, len(tasks))
        pool = _Pool(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                     initializer=_start_worker,
                     initargs=(shared, _threads_per_worker(self.workers)))
        try:
            yield from _harvest(lambda i: pool.submit(_call, fn, tasks[i]), len(tasks),
                                QUEUED_PER_WORKER * n, progress, self.name)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """Nothing outlives a call."""


def _harvest(submit: Callable[[int], Future[Any]], total: int, queued: int,
             progress: CountFn | None, name: str) -> Iterator[tuple[int, Any]]:
    """Submit tasks ``0 .. total - 1`` in order, at most *queued* at a time, and yield each
    result as it finishes; a dead worker raises :class:`ExecutorError` after every other
    finished batch was yielded (the tasks not yet submitted are not)."""
    futures: dict[Future[Any], int] = {}
    nxt = 0
    lost: list[int] = []
    done = 0
    broken = False
    while nxt < min(queued, total):
        futures[submit(nxt)] = nxt
        nxt += 1
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in sorted(finished, key=futures.__getitem__):
            if fut.cancelled():
                lost.append(futures[fut])
                continue
            try:
                result = fut.result()
            except BrokenProcessPool:
                lost.append(futures[fut])
                broken = True
                continue
            done += 1
            if progress is not None:
                progress(done, total)
            yield futures[fut], result
        while not broken and nxt < total and len(pending) < queued:
            try:
                fut = submit(nxt)
            except BrokenProcessPool:  # a worker died since the last batch finished
                broken = True
                break
            futures[fut] = nxt
            pending.add(fut)
            nxt += 1
    lost.extend(range(nxt, total))
    if lost:
        msg = (f"a worker process of scheduler {name} died (killed or out of memory): "
               f"{len(lost)} of {total} batches not computed; the {done} finished are "
               "cached, run again to compute the rest")
        raise ExecutorError(msg)


# -------------------------------------------------------------------------------- Dask


def _worker_version() -> str:
    return __version__


def _in_threads(threads: int, fn: BatchFn, shared: Any, task: Any) -> Any:
    """``fn(shared, task)`` with *threads* numba threads (numba's setting is per thread: it
    is made in the Dask worker thread that runs the task)."""
    _set_numba_threads(threads)
    return fn(shared, task)


#: glibc ``malloc`` settings of the LocalCluster's worker processes. Dask starts its workers
#: with ``MALLOC_TRIM_THRESHOLD_=65536``, and setting it switches off glibc's sliding mmap
#: threshold: every buffer of 128 KiB or more (a sector's radial samples, a batch's arrays)
#: is then mapped and unmapped anew, and zeroing the new pages cost the workers of the
#: 3-kabupaten province 8.3 s of system time each against 2.0 s for the whole coverage in
#: one process. With buffers up to 32 MiB from the heap and up to 256 MiB of freed memory
#: kept, it is 0.7 s. A worker of a ``tcp://`` cluster keeps its own environment (see
#: docs/scale.md).
WORKER_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "33554432",
                     "MALLOC_TRIM_THRESHOLD_": "268435456"}


class DaskExecutor:
    """Batches on a Dask cluster: a LocalCluster of *workers* processes started here
    (``"dask-local:N"``) or the running scheduler at *address* (``"tcp://HOST:PORT"``).

    The client (and the LocalCluster) starts at the first :meth:`map_batches` and stops at
    :meth:`close`.

    Parameters
    ----------
    address : str, optional
        Scheduler address; None starts a LocalCluster.
    workers : int
        Worker processes of the LocalCluster (one thread each, ``cpu_count // N`` numba
        threads).
    """

    def __init__(self, address: str | None = None, *, workers: int = 0) -> None:
        self.address = address
        self.workers = int(workers)
        self._client: Any = None
        self._cluster: Any = None

    @property
    def name(self) -> str:
        """``dask-local:N`` or the scheduler's address."""
        return self.address if self.address is not None else f"dask-local:{self.workers}"

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            msg = (f"scheduler {self.name} needs dask.distributed, which is not installed: "
                   "pip install 'towerplan[dask]'")
            raise MissingDependencyError(msg) from None
        if self.address is None:
            # a random port for the scheduler's HTTP server: two runs on one machine must not
            # both want the default 8787
            import dask

            key = "distributed.nanny.pre-spawn-environ"
            environ = {**dask.config.get(key, default={}), **WORKER_MALLOC_ENV}
            with dask.config.set({key: environ}):
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                             processes=True, dashboard_address=":0",
                                             silence_logs=logging.ERROR)
            self._client = Client(self._cluster)
            log.info("started a Dask LocalCluster of %d workers", self.workers)
            return self._client
        try:
            client = Client(self.address, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            msg = f"cannot reach the Dask scheduler at {self.address}: {exc}"
            raise ExecutorError(msg) from None
        self._client = client
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_S)
        except TimeoutError:
            msg = (f"the Dask scheduler at {self.address} has no worker after "
                   f"{WORKER_WAIT_S:g} s; start workers (dask worker {self.address})")
            raise ExecutorError(msg) from None
        versions = client.run(_worker_version)
        other = sorted({v for v in versions.values() if v != __version__})
        if other:
            msg = (f"the Dask workers at {self.address} run towerplan {', '.join(other)}, "
                   f"this process {__version__}: install the same version on every worker")
            raise ExecutorError(msg)
        return client

    def map_batches(self, fn: BatchFn, tasks: Sequence[Any], *, shared: Any,
                    progress: CountFn | None = None) -> Iterator[tuple[int, Any]]:
        """See :meth:`Executor.map_batches`; *shared* is scattered to every worker once."""
        if not tasks:
            return
        client = self._connect()
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        on_all = client.scatter(shared, broadcast=True, hash=False)
        run = uuid.uuid4().hex[:12]
        if self.address is None:  # a LocalCluster shares this machine's cores
            fn = functools.partial(_in_threads, _threads_per_worker(self.workers), fn)
        workers = (self.workers if self.address is None
                   else len(client.scheduler_info().get("workers", {})))
        queued = QUEUED_PER_WORKER * max(workers, 1)
        futures: list[Any] = []
        index: dict[str, int] = {}

        def submit() -> Any:
            i = len(futures)
            fut = client.submit(fn, on_all, tasks[i], key=f"towerplan-batch-{run}-{i}",
                                pure=False)
            futures.append(fut)
            index[fut.key] = i
            return fut

        lost, done = 0, 0
        try:
            running = as_completed([submit() for _ in range(min(queued, len(tasks)))])
            for fut in running:
                if len(futures) < len(tasks):
                    running.add(submit())
                try:
                    result = fut.result()
                except KilledWorker:
                    lost += 1
                    continue
                done += 1
                if progress is not None:
                    progress(done, len(tasks))
                yield index[fut.key], result
        finally:
            client.cancel([*futures, on_all])
        if lost:
            msg = (f"Dask workers of {self.name} died again and again (killed or out of "
                   f"memory): {lost} of {len(tasks)} batches not computed; the {done} "
                   "finished are cached, run again to compute the rest")
            raise ExecutorError(msg)

    def close(self) -> None:
        """Close the client, and the LocalCluster when it was started here."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def executor_for(scheduler: str) -> Executor:
    """The executor of a ``[compute] scheduler`` value (valid: the scenario checked it).

    Examples
    --------
    >>> executor_for("local:2").name
    'local:2'
    """
    parsed = parse_scheduler(scheduler)
    if parsed is None:
        msg = f"unknown scheduler {scheduler!r}"
        raise ExecutorError(msg)
    kind, arg = parsed
    if kind == "local":
        return ProcessPoolExecutor(int(arg))
    if kind == "dask-local":
        return DaskExecutor(workers=int(arg))
    if kind == "tcp":
        return DaskExecutor(str(arg))
    return InProcessExecutor()
