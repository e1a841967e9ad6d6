"""Atomic file writing: every file towerplan writes goes through :func:`atomic_output`."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from towerplan.errors import OutputError, TowerplanError

__all__ = ["atomic_output", "publish_permissions"]

# SQLite (GeoPackage) writes these beside the database while it is open.
_SIDECARS = ("-journal", "-wal", "-shm")


@contextlib.contextmanager
def atomic_output(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside *path*; rename it over *path* when the block succeeds.

    The temporary path is not created, so writers that refuse existing files (GDAL) work.
    On any exception the temporary file (and SQLite sidecars) is removed and the exception
    propagates; an :class:`OSError` becomes :class:`~towerplan.errors.OutputError`.

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
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in _SIDECARS)):
            leftover.unlink(missing_ok=True)
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
