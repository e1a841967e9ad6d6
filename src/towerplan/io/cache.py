"""The user cache folder and the store of stage results.

:class:`StageCache` keeps the result of each pipeline stage under the key the pipeline
computed for it (the hash of the stage's inputs and of its code), one file per entry:

``<root>/<stage>/<key>.pkl``: one JSON header line (format, stage, key, payload size and
SHA-256), then the pickled result. An entry is used only when its header names the same
stage and key and the payload's checksum matches; anything else (a truncated file, a file of
another key, an object that no longer unpickles) is discarded with a warning and recomputed.
Entries are written atomically. When the store grows past ``max_bytes`` the least recently
used entries are removed.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from towerplan.io.atomic import atomic_output

__all__ = ["DEFAULT_MAX_BYTES", "StageCache", "cache_root", "content_key"]

log = logging.getLogger(__name__)

#: Default size limit of the stage store (``TOWERPLAN_CACHE_MAX_GB`` overrides it).
DEFAULT_MAX_BYTES = 4 * 1024**3
_FORMAT = 1


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


def _max_bytes() -> int:
    env = os.environ.get("TOWERPLAN_CACHE_MAX_GB")
    try:
        return int(float(env) * 1024**3) if env else DEFAULT_MAX_BYTES
    except ValueError:
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

    @classmethod
    def default(cls) -> StageCache:
        """The store in towerplan's user cache folder."""
        return cls(cache_root() / "stages", _max_bytes())

    def path(self, stage: str, key: str) -> Path:
        """File of the entry *key* of *stage*."""
        return self.root / stage / f"{key}.pkl"

    def load(self, stage: str, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` for a valid entry, ``(False, None)`` otherwise.

        A damaged or mismatched entry is removed (with a warning) so it is recomputed.
        """
        path = self.path(stage, key)
        try:
            with path.open("rb") as fh:
                header = json.loads(fh.readline())
                payload = fh.read()
        except FileNotFoundError:
            return False, None
        except (OSError, ValueError) as exc:
            return self._discard(path, f"unreadable ({exc})")
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            return self._discard(path, "unknown format")
        if header.get("stage") != stage or header.get("key") != key:
            return self._discard(path, "it holds another entry")
        if header.get("bytes") != len(payload) or \
                header.get("sha256") != hashlib.sha256(payload).hexdigest():
            return self._discard(path, "checksum mismatch (truncated or changed)")
        try:
            value = pickle.loads(payload)  # noqa: S301 - towerplan's own entries, checksummed
        except Exception as exc:  # any unpickling failure means the entry is unusable
            return self._discard(path, f"cannot be read back ({type(exc).__name__})")
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently used is what gets pruned
        return True, value

    def store(self, stage: str, key: str, value: Any) -> None:
        """Store *value*; a cache folder that cannot be written only costs the reuse."""
        path = self.path(stage, key)
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result is computed again next time
            log.warning("%s: result not cached (%s)", stage, exc)
            return
        header = {"format": _FORMAT, "stage": stage, "key": key, "bytes": len(payload),
                  "sha256": hashlib.sha256(payload).hexdigest()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_output(path) as tmp, Path(tmp).open("wb") as fh:
                fh.write(json.dumps(header).encode() + b"\n")
                fh.write(payload)
        except OSError as exc:
            log.warning("%s: cannot store %s (%s)", stage, path, exc)
            return
        self._prune()

    def _discard(self, path: Path, why: str) -> tuple[bool, None]:
        log.warning("cache entry %s discarded: %s; recomputing", path, why)
        with contextlib.suppress(OSError):
            path.unlink()
        return False, None

    def _prune(self) -> None:
        """Remove the least recently used entries while the store exceeds ``max_bytes``."""
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
