"""The user cache folder and the store of stage results.

:class:`StageCache` keeps the result of each pipeline stage under the key the pipeline
computed for it (the hash of the stage's inputs and of its code), one file per entry:

``<root>/<stage>/<key>.pkl``: one JSON header line (format, stage, key, body size, a
SHA-256 of the stage, the key and the body, and what the value is: its type and, for
arrays, sparse matrices and tables, its shape and dtype), padded with spaces to a multiple of
64 bytes, then the body: the pickled result (protocol 5) and, after it, the bytes of each of
its arrays of 64 KiB or more, each at a 64-byte boundary (``buffers`` in the header: offset
and length in the body). A large array is thus neither copied into the pickle when stored
nor copied out of it when read: it is read from the file once and used where it lies, and
its checksum is computed on the two CPU cores at once (64 MiB pieces). An entry is used only
when its header names the same stage and key, the checksum matches (so bytes changed, a
truncated file, or another key's body under this key's header are caught), the value read
back is what the header says, and it is what the caller expects (a coverage batch has one
row per site of the batch and one column per demand unit). Anything else is discarded with
a warning, noted in :attr:`StageCache.notes` (``summary.json`` lists them as
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
from concurrent.futures import ThreadPoolExecutor
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
_FORMAT = 3
#: Arrays at least this large are stored beside the pickle, not inside it.
_OUT_OF_BAND_BYTES = 1 << 16
#: Alignment of the body and of every array in it, bytes.
_ALIGN = 64
#: The checksum hashes the body in pieces of this size, two at a time.
_PIECE_BYTES = 1 << 26


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


def _pieces(segments: tuple[memoryview, ...]) -> list[memoryview]:
    return [seg[at:at + _PIECE_BYTES] for seg in segments
            for at in range(0, max(len(seg), 1), _PIECE_BYTES)]


def _checksum(stage: str, key: str, *segments: bytes | bytearray | memoryview) -> str:
    """SHA-256 binding the body's *segments* (the pickle, then each array's bytes) to their
    stage and key: the hash of the SHA-256 of each 64 MiB piece, the pieces hashed two at a
    time (hashlib releases the interpreter lock while it hashes)."""
    views = tuple(memoryview(seg).cast("B") for seg in segments)
    pieces = _pieces(views)
    if sum(len(p) for p in pieces) > _PIECE_BYTES:
        with ThreadPoolExecutor(max_workers=2) as pool:
            digests = list(pool.map(lambda p: hashlib.sha256(p).digest(), pieces))
    else:
        digests = [hashlib.sha256(p).digest() for p in pieces]
    digest = hashlib.sha256(f"towerplan-stage-cache\0{stage}\0{key}\0".encode())
    for view in views:
        digest.update(f"{len(view)}\0".encode())
    for part in digests:
        digest.update(part)
    return digest.hexdigest()


def _segments(body: memoryview, header: Mapping[str, Any]
              ) -> tuple[memoryview, ...] | None:
    """The pickle and each array's bytes in *body* as its header lays them out, or None when
    the layout does not fit in the body."""
    layout = header.get("buffers", [])
    if not layout:
        return (body,)
    try:
        cuts = [(int(header["pickle_bytes"]), 0)] + [(int(n), int(at)) for at, n in layout]
    except (KeyError, TypeError, ValueError):
        return None
    if any(n < 0 or at < 0 or at + n > len(body) for n, at in cuts):
        return None
    return tuple(body[at:at + n] for n, at in cuts)


def _padded(length: int) -> int:
    """*length* rounded up to the alignment."""
    return -(-length // _ALIGN) * _ALIGN


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
                data = bytearray(os.fstat(fh.fileno()).st_size)
                read = fh.readinto(data)
            end = data.index(b"\n", 0, read)
            header = json.loads(data[:end])
        except FileNotFoundError:
            return False, None
        except (OSError, ValueError) as exc:
            return self.discard(stage, key, f"unreadable ({exc})")
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            return self.discard(stage, key, "unknown format", inode)
        if header.get("stage") != stage or header.get("key") != key:
            return self.discard(stage, key, "it holds another entry", inode)
        body = memoryview(data)[end + 1:read]
        segments = _segments(body, header)
        if header.get("bytes") != len(body) or segments is None or \
                header.get("sha256") != _checksum(stage, key, *segments):
            return self.discard(stage, key, "checksum mismatch (truncated or changed)", inode)
        try:
            # towerplan's own entries, checksummed; arrays are used where they lie in *data*
            value = pickle.loads(segments[0], buffers=segments[1:])  # noqa: S301
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
        arrays: list[memoryview] = []

        def beside(buffer: pickle.PickleBuffer) -> bool:
            raw = buffer.raw()
            if raw.nbytes < _OUT_OF_BAND_BYTES:
                return True  # small: inside the pickle
            arrays.append(raw)
            return False

        try:
            pickled = pickle.dumps(value, protocol=5, buffer_callback=beside)
        except Exception as exc:  # an unpicklable result is computed again next time
            log.warning("%s: result not cached (%s)", stage, exc)
            return
        layout, at = [], _padded(len(pickled))
        for array in arrays:
            layout.append([at, array.nbytes])
            at = _padded(at + array.nbytes)
        size = layout[-1][0] + layout[-1][1] if layout else len(pickled)
        header: dict[str, Any] = {
            "format": _FORMAT, "stage": stage, "key": key, "bytes": size,
            "sha256": _checksum(stage, key, pickled, *arrays), "value": describe(value)}
        if layout:
            header |= {"pickle_bytes": len(pickled), "buffers": layout}
        line = json.dumps(header).encode()
        line += b" " * (_padded(len(line) + 1) - len(line) - 1) + b"\n"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp, Path(tmp).open("wb") as fh:
                fh.write(line)
                fh.write(pickled)
                for (offset, _), array in zip(layout, arrays, strict=True):
                    fh.write(b"\0" * (offset - fh.tell() + len(line)))
                    fh.write(array)
        except OSError as exc:
            log.warning("%s: cannot store %s (%s)", stage, path, exc)
            return
        self._prune(len(line) + size)

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
