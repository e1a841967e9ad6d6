"""The user cache folder and the store of stage results.

:class:`StageCache` keeps the result of each pipeline stage under the key the pipeline
computed for it (the hash of the stage's inputs and of its code), one file per entry:

``<root>/<stage>/<key>.pkl``: one JSON header line (format, stage, key, payload size, a
SHA-256 of the stage, the key and the payload, and what the value is: its type and, for
arrays, sparse matrices and tables, its shape and dtype), then the pickled result. An entry is
used only when its header names the same stage and key, the checksum matches (so bytes
changed, a truncated file, or another key's payload under this key's header are caught), the
value read back is what the header says, and it is what the caller expects (a coverage batch
has one row per site of the batch and one column per demand unit). Anything else is
discarded with a warning, noted in :attr:`StageCache.notes` (``summary.json`` lists them as
``cache_discarded``) and recomputed, never used.

Entries are written to a temporary file beside the entry and renamed over it, so a reader,
and a second run writing the same entry at the same time, sees either the whole old entry,
the whole new one or none. A run about to compute an entry holds an exclusive lock on
``<root>/<stage>/<key>.lock`` (:meth:`StageCache.computing`, POSIX ``flock``; released by the
system when the process ends), so runs sharing the store compute each entry once: the second
waits and then reads what the first stored. When the store grows past ``max_bytes`` the least
recently used entries are removed.

The entries are pickles of towerplan's own results, written and read only by towerplan in the
user's own cache folder; do not point the cache at a folder others can write to.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from towerplan.io.atomic import atomic_output

try:
    import fcntl
except ImportError:  # Windows: runs sharing a store may compute an entry twice
    fcntl = None  # type: ignore[assignment]

__all__ = ["DEFAULT_MAX_BYTES", "StageCache", "cache_root", "content_key", "describe"]

log = logging.getLogger(__name__)

#: Default size limit of the stage store (``TOWERPLAN_CACHE_MAX_GB`` overrides it).
DEFAULT_MAX_BYTES = 4 * 1024**3
_FORMAT = 2


def cache_root() -> Path:
    """``$TOWERPLAN_CACHE_DIR`` if set, else towerplan's user cache folder (platformdirs)."""
    env = os.environ.get("TOWERPLAN_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("towerplan", appauthor=False))


def content_key(*parts: object) -> str:
    """SHA-256 (hex, 32 characters) of arrays, numbers and strings, in order.

    Arrays contribute their dtype, shape and bytes, so equal content gives equal keys.
    """
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            digest.update(f"{arr.dtype.str}{arr.shape}".encode())
            digest.update(arr.tobytes())
        else:
            digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def describe(value: Any) -> dict[str, Any]:
    """What a cached value is: ``type`` (module and class), and ``shape`` and ``dtype`` for
    arrays and sparse matrices (``shape`` for tables), as plain JSON values."""
    kind = type(value)
    out: dict[str, Any] = {"type": f"{kind.__module__}.{kind.__qualname__}"}
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        out["shape"] = list(shape)
        dtype = getattr(value, "dtype", None)
        if isinstance(dtype, np.dtype):
            out["dtype"] = dtype.str
    return out


def _checksum(stage: str, key: str, payload: bytes) -> str:
    """SHA-256 binding the payload to its stage and key."""
    digest = hashlib.sha256(f"towerplan-stage-cache\0{stage}\0{key}\0".encode())
    digest.update(payload)
    return digest.hexdigest()


def _what(description: Mapping[str, Any]) -> str:
    """``scipy.sparse.csr_matrix 64x120 |b1`` for messages."""
    parts = [str(description.get("type", "?"))]
    if "shape" in description:
        parts.append("x".join(str(n) for n in description["shape"]))
    if "dtype" in description:
        parts.append(str(description["dtype"]))
    return " ".join(parts)


def _max_bytes() -> int:
    env = os.environ.get("TOWERPLAN_CACHE_MAX_GB")
    try:
        return int(float(env) * 1024**3) if env else DEFAULT_MAX_BYTES
    except (ValueError, OverflowError):  # text, nan, or inf
        return DEFAULT_MAX_BYTES


@dataclass(frozen=True, slots=True)
class StageCache:
    """Content-addressed store of stage results in *root*.

    Attributes
    ----------
    root : Path
        Folder of the store (default ``<cache_root()>/stages``).
    max_bytes : int
        Size above which the least recently used entries are removed.
    """

    root: Path
    max_bytes: int = DEFAULT_MAX_BYTES
    notes: list[str] = field(default_factory=list, compare=False, repr=False)
    #: Bytes in the store at this object's last scan plus what it stored since (empty
    #: before its first scan).
    _known_bytes: list[int] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def default(cls) -> StageCache:
        """The store in towerplan's user cache folder."""
        return cls(cache_root() / "stages", _max_bytes())

    def path(self, stage: str, key: str) -> Path:
        """File of the entry *key* of *stage*."""
        return self.root / stage / f"{key}.pkl"

    def load(self, stage: str, key: str, *,
             expect: Mapping[str, Any] | None = None) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a valid entry, ``(False, None)`` otherwise.

        A damaged or mismatched entry is removed (with a warning and a note) so it is
        recomputed.

        Parameters
        ----------
        stage, key : str
            The entry.
        expect : mapping, optional
            Parts of :func:`describe` the value must have, e.g. ``{"shape": [64, 120],
            "dtype": "|b1"}``; an entry holding anything else is discarded.
        """
        path = self.path(stage, key)
        try:
            with path.open("rb") as fh:
                inode = os.fstat(fh.fileno()).st_ino
                header = json.loads(fh.readline())
                payload = fh.read()
        except FileNotFoundError:
            return False, None
        except (OSError, ValueError) as exc:
            return self.discard(stage, key, f"unreadable ({exc})")
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            return self.discard(stage, key, "unknown format", inode)
        if header.get("stage") != stage or header.get("key") != key:
            return self.discard(stage, key, "it holds another entry", inode)
        if header.get("bytes") != len(payload) or \
                header.get("sha256") != _checksum(stage, key, payload):
            return self.discard(stage, key, "checksum mismatch (truncated or changed)", inode)
        try:
            value = pickle.loads(payload)  # noqa: S301 - towerplan's own entries, checksummed
        except Exception as exc:  # any unpickling failure means the entry is unusable
            return self.discard(stage, key, f"cannot be read back ({type(exc).__name__})",
                                inode)
        found = describe(value)
        if found != header.get("value"):
            stated = header.get("value")
            return self.discard(stage, key, f"it holds {_what(found)} where its header says "
                                f"{_what(stated) if isinstance(stated, dict) else '?'}", inode)
        if expect is not None and any(found.get(k) != v for k, v in expect.items()):
            return self.discard(stage, key, f"it holds {_what(found)} where "
                                f"{_what(expect)} is expected", inode)
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used is what gets pruned
        return True, value

    @contextlib.contextmanager
    def computing(self, stage: str, key: str,
                  waiting: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the lock of entry *key* of *stage* while it is computed and stored.

        Another run (process or thread) computing the same entry waits here until this one
        has stored it; *waiting* is called once before such a wait. Where the folder cannot
        be written or the system has no ``flock`` nothing is locked: both runs compute, and
        both results are the same.
        """
        if fcntl is None:
            yield
            return
        lock = self.root / stage / f"{key}.lock"
        try:
            lock.parent.mkdir(parents=True, exist_ok=True)
            fh = lock.open("a+b")
        except OSError:
            yield
            return
        with fh:
            try:
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    log.info("%s/%s: waiting for another run computing it", stage, key[:12])
                    if waiting is not None:
                        waiting()
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            except OSError:  # a file system without locks (some network shares)
                yield
                return
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def store(self, stage: str, key: str, value: Any) -> None:
        """Store *value*; a cache folder that cannot be written only costs the reuse."""
        path = self.path(stage, key)
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result is computed again next time
            log.warning("%s: result not cached (%s)", stage, exc)
            return
        header = {"format": _FORMAT, "stage": stage, "key": key, "bytes": len(payload),
                  "sha256": _checksum(stage, key, payload), "value": describe(value)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp, Path(tmp).open("wb") as fh:
                fh.write(json.dumps(header).encode() + b"\n")
                fh.write(payload)
        except OSError as exc:
            log.warning("%s: cannot store %s (%s)", stage, path, exc)
            return
        self._prune(len(payload))

    def discard(self, stage: str, key: str, why: str,
                inode: int | None = None) -> tuple[bool, None]:
        """Remove the entry *key* of *stage* because of *why*, with a warning and a note.

        With *inode* (of the file that was read), a file another run has written there
        since is left alone.
        """
        path = self.path(stage, key)
        note = f"cache entry {stage}/{key[:12]} discarded: {why}; recomputed"
        log.warning("%s (%s)", note, path)
        self.notes.append(note)
        with contextlib.suppress(OSError):
            if inode is None or path.stat().st_ino == inode:
                path.unlink()
        return False, None

    def _prune(self, added_bytes: int) -> None:
        """Remove the least recently used entries while the store exceeds ``max_bytes``.

        The folder is scanned at the first store and then only when the running total (the
        last scan plus the *added_bytes* of every store since) exceeds ``max_bytes``: a run
        storing a thousand site batches scans once, not a thousand times. Entries other runs
        add meanwhile are counted at the next scan, so the store may exceed the limit by
        what they added until then.
        """
        if self._known_bytes:
            self._known_bytes[0] += added_bytes
            if self._known_bytes[0] <= self.max_bytes:
                return
        entries = []
        for path in self.root.glob("*/*.pkl"):
            try:
                info = path.stat()
            except OSError:  # removed meanwhile by another run
                continue
            entries.append((info.st_mtime, info.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            try:
                path.unlink()
                total -= size
            except OSError:
                continue
            with contextlib.suppress(OSError):
                path.with_suffix(".lock").unlink()
        self._known_bytes[:] = [total]
