"""Atomic file writing: every file towerplan writes goes through :func:`atomic_output`."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from towerplan.errors import DiskFullError, OutputError, TowerplanError

__all__ = ["atomic_output", "disk_full_error", "free_bytes", "publish_permissions"]

# SQLite (GeoPackage) writes these beside the database while it is open.
_SIDECARS = ("-journal", "-wal", "-shm")

#: Error numbers of a full disk or an exhausted quota.
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: How drivers word a full disk: the C library, GDAL/libtiff, SQLite (GeoPackage).
_FULL_WORDS = ("no space left", "disk is full", "disk quota exceeded", "not enough space")
#: Below this much free space a failed write is taken for a full disk: GDAL reports only
#: "Write failed" and prints the reason (ENOSPC) through its own error handler.
_NEARLY_FULL_BYTES = 1 << 20


def free_bytes(directory: str | Path) -> int | None:
    """Free space in *directory* (or its nearest existing parent) for this user, or None."""
    path = Path(directory)
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _says_full(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if any(word in str(current).lower() for word in _FULL_WORDS):
            return True
        current = current.__cause__ or current.__context__
    return False


def disk_full_error(exc: BaseException, path: str | Path) -> DiskFullError | None:
    """A :class:`~towerplan.errors.DiskFullError` naming the directory of *path* when *exc*
    is (or was caused by) a full disk; None otherwise.

    A full disk is recognised by its error number (ENOSPC, EDQUOT), by the words drivers use
    (GDAL's "No space left on device", SQLite's "database or disk is full"), or, for a failed
    write that says neither, by less than 1 MiB left in the directory.
    """
    if isinstance(exc, DiskFullError):
        return exc
    if not isinstance(exc, Exception) or isinstance(exc, TowerplanError):
        return None
    folder = Path(path).parent
    free = free_bytes(folder)
    if not _says_full(exc) and (free is None or free >= _NEARLY_FULL_BYTES):
        return None
    free = free or 0
    msg = (f"no space left in {folder} while writing {Path(path).name} "
           f"({free / 1e6:,.1f} MB free); free some space there or choose another directory")
    return DiskFullError(msg, str(folder), free)


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside *path*; rename it over *path* when the block succeeds.

    The temporary path is not created, so writers that refuse existing files (GDAL) work.
    On any exception the temporary file (and SQLite sidecars) is removed and the exception
    propagates; an :class:`OSError` becomes :class:`~towerplan.errors.OutputError`, and a
    full disk (whatever the driver raised) a :class:`~towerplan.errors.DiskFullError`.

    Parameters
    ----------
    path : str or Path
        Destination file; its directory must exist.

    Yields
    ------
    Path
        Where to write, named ``.<name>.<random>.tmp<suffix>`` in the same directory.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as exc:
        full = disk_full_error(exc, path)  # measured before the partial file is removed
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS)):
            leftover.unlink(missing_ok=True)
        if full is not None and full is not exc:
            raise full from exc
        if isinstance(exc, OSError) and not isinstance(exc, TowerplanError):
            msg = f"cannot write {path}: {exc.strerror or exc}"
            raise OutputError(msg) from exc
        raise


def publish_permissions(path: str | Path, *, directory: bool) -> None:
    """Give *path* the permissions a normal ``open``/``mkdir`` would (umask applied).

    Temporary files and directories from :mod:`tempfile` are private (0600/0700); outputs
    are meant to be shared like any other file the user creates.
    """
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if directory else 0o666) & ~umask)
