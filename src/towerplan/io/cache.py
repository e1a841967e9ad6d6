"""The user cache folder and the content-hashed store of computed arrays."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from towerplan.io.atomic import atomic_output

__all__ = ["cache_root", "cached_sparse", "content_key"]

log = logging.getLogger(__name__)


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


def cached_sparse(kind: str, key: str, compute: Callable[[], sp.csr_matrix]) -> sp.csr_matrix:
    """Return the matrix stored under *key*, computing and storing it on a miss.

    A damaged cache file is recomputed and replaced; a cache folder that cannot be written
    only costs the reuse, never the run.
    """
    path = cache_root() / kind / f"{key}.npz"
    if path.exists():
        try:
            matrix = sp.load_npz(path).tocsr()
            log.info("%s: reused %s", kind, path)
            return matrix
        except (OSError, ValueError) as exc:
            log.warning("%s: cache file %s unreadable (%s); recomputing", kind, path, exc)
    matrix = compute()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp, tmp.open("wb") as fh:
            sp.save_npz(fh, matrix)
    except OSError as exc:
        log.warning("%s: cannot store %s (%s)", kind, path, exc)
    return matrix
