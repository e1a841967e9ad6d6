"""The one way every command writes its outputs: lock, stage, check overwrite, publish atomically.

A command writes into a hidden staging directory beside its target and publishes it only
when every file is complete. Any exception (a bad input found late, a full disk, Ctrl-C,
SIGTERM, SIGHUP) removes the staging directory, so a failed run leaves nothing half-written.

- :func:`staged_directory` is for a command that writes an output directory (``plan``,
  ``blankspots``, ``audit``, ``fetch``, ...). An existing, non-empty directory needs
  ``overwrite``, and is then replaced as a whole: the new directory is swapped in by one
  rename and the old one removed after; a file of the old directory is never mixed with
  the new ones.
- :func:`staged_files` is for a command that writes a few named files into an existing
  directory (``coverage``, ``calibrate``, ``match``). An existing file needs ``overwrite``.

Both hold a lock beside the target (``.<name>.lock``, naming the process, host and start
time) for the whole run: a second run into the same place is refused with one line naming
the first. A lock left by a process that died is taken over with a note. Each staging
directory holds a marker naming its process; staging directories of a killed run are
removed (with a note) by the next run into the same place.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from towerplan.errors import DiskFullError, OutputError
from towerplan.io.atomic import free_bytes, publish_permissions
from towerplan.io.interrupts import Interrupted, deferred

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no lock
    fcntl = None  # type: ignore[assignment]

__all__ = ["lock_path", "output_lock", "staged_directory", "staged_files"]

log = logging.getLogger(__name__)

#: Written last when outputs are moved into an empty current directory: it marks a finished run.
_LAST = "summary.json"
#: Marker file in a staging directory: the process that owns it.
MARKER = ".towerplan-staging.json"
#: A staging directory without a marker (an older towerplan) is stale after this long.
_UNMARKED_STALE_S = 3600.0
# renameat2(2): swap two paths in one step.
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started_utc": datetime.now(UTC).isoformat(timespec="seconds")}


def _describe(owner: dict[str, Any]) -> str:
    return (f"pid {owner.get('pid', '?')} on host {owner.get('host', '?')}, started "
            f"{owner.get('started_utc', '?')}")


def _read_owner(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _alive(owner: dict[str, Any]) -> bool:
    """Whether the owner process may still run (a process on another host is assumed to)."""
    if owner.get("host") != socket.gethostname():
        return True
    try:
        os.kill(int(owner.get("pid", 0)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return int(owner.get("pid", 0)) > 0


def lock_path(target: str | Path) -> Path:
    """The lock file of an output *target*: ``.<name>.lock`` beside it."""
    target = Path(target).resolve()
    return target.parent / f".{target.name}.lock"


def _not_writable(target: Path, exc: OSError) -> OutputError:
    return OutputError(f"output directory {target} is not writable: {exc.strerror or exc}")


@contextmanager
def output_lock(target: str | Path) -> Iterator[None]:
    """Hold the lock of an output *target* while the block runs.

    Raises
    ------
    OutputError
        When another run holds it (the message names its process, host and start time), or
        the lock cannot be created.
    """
    target = Path(target)
    path = lock_path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _not_writable(target, exc) from None
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = _acquire(path, target)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


def _acquire(path: Path, target: Path) -> int:
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _not_writable(target, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise _not_writable(target, exc) from None
            owner = _read_owner(path) or {}
            msg = (f"output {target} is in use by another towerplan run ({_describe(owner)}); "
                   "wait for it to finish or choose another --out")
            raise OutputError(msg) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the previous holder removed the file between our open and lock
            os.close(fd)
            continue
        previous = os.read(fd, 4096)
        if previous:
            try:
                owner = json.loads(previous)
            except ValueError:
                owner = {}
            log.warning("took over the lock of %s from a run that is no longer running (%s)",
                        target, _describe(owner if isinstance(owner, dict) else {}))
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_owner()).encode(), 0)
        return fd


def _clean_stale(parent: Path, name: str) -> None:
    """Remove staging directories of killed runs into *parent*/*name*; put back an old
    output directory a killed run had moved aside and not yet replaced."""
    target = parent / name
    now = time.time()
    for path in sorted((*parent.glob(f".{name}.partial-*"), *parent.glob(f".{name}.old-*"))):
        if not path.is_dir():
            continue
        owner = _read_owner(path / MARKER)
        if owner is None:
            try:
                if now - path.stat().st_mtime < _UNMARKED_STALE_S:
                    continue
            except OSError:
                continue
        elif owner.get("pid") == os.getpid() or _alive(owner):
            continue
        who = _describe(owner) if owner else "no owner recorded"
        if ".old-" in path.name and not target.exists():
            (path / MARKER).unlink(missing_ok=True)
            path.rename(target)
            log.warning("restored %s: a run replacing it was killed midway (%s)", target, who)
            continue
        shutil.rmtree(path, ignore_errors=True)
        log.warning("removed %s, left by a run that was killed (%s)", path, who)


def _staging_dir(parent: Path, name: str) -> Path:
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent))
        (staging / MARKER).write_text(json.dumps(_owner()), encoding="utf-8")
    except OSError as exc:
        raise _not_writable(parent / name, exc) from None
    return staging


def _protected(target: Path) -> bool:
    """Whether *target* is the current directory or above it, the home folder or a root."""
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    return (resolved == cwd or resolved in cwd.parents or resolved == Path.home().resolve()
            or resolved == resolved.parent)


def _check_directory(target: Path, *, overwrite: bool, keep: bool = False) -> None:
    if target.exists() and not target.is_dir():
        msg = f"output path {target} exists and is not a directory"
        raise OutputError(msg)
    if not target.is_dir() or not any(target.iterdir()):
        return
    if not overwrite:
        how = "replace its files" if keep else "replace it as a whole"
        msg = f"output directory {target} is not empty; pass --overwrite to {how}"
        raise OutputError(msg)
    if _protected(target):
        msg = (f"refusing to replace {target} as a whole (it is the current, home or a root "
               "directory, or holds the current directory); choose an output directory of its "
               "own")
        raise OutputError(msg)
    problem = _unremovable(target)
    if problem is not None:
        msg = f"output directory {target} cannot be replaced: {problem}; nothing was changed"
        raise OutputError(msg)


def _unremovable(target: Path) -> str | None:
    """Why the old *target* could not be replaced and removed as a whole, or None."""
    if os.path.ismount(target):
        return "it is a mount point"
    for folder, dirs, _files in os.walk(target):
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"{folder} is not writable"
        for d in dirs:
            if os.path.ismount(os.path.join(folder, d)):
                return f"{os.path.join(folder, d)} is a mount point"
    return None


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2`` with ``RENAME_EXCHANGE``).

    Returns False when the platform or file system cannot; raises :class:`OSError` when the
    swap itself fails (both paths are then unchanged).
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint)
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def _swap_in(staging: Path, target: Path) -> Path:
    """Put *staging* in place of the existing *target*; return where the old one now is.

    Either the new directory is at *target* and the old one at the returned path, or (on an
    error) both are where they were.
    """
    if _exchange(staging, target):
        return staging
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    aside.rmdir()
    target.rename(aside)
    try:
        staging.rename(target)
    except OSError:
        aside.rename(target)
        raise
    return aside


def _carry_over(target: Path, staging: Path) -> None:
    """Hard-link (else copy) the files of *target* the run did not write into *staging*."""
    for item in target.iterdir():
        dest = staging / item.name
        if dest.exists() or item.name == MARKER:
            continue
        if item.is_dir():
            shutil.copytree(item, dest, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(item), str(dest))


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _publish_directory(staging: Path, target: Path, *, keep: bool = False) -> None:
    """Publish *staging* as *target*: a rename, or a swap with the old directory, which is
    then removed (with *keep*, the old files the run did not write are carried over first)."""
    try:
        (staging / MARKER).unlink(missing_ok=True)
        for item in staging.iterdir():
            publish_permissions(item, directory=item.is_dir())
        publish_permissions(staging, directory=True)
        if target.is_dir() and not any(target.iterdir()) and _protected(target):
            # the current directory (or above) stays the same directory: fill it instead
            for item in sorted(staging.iterdir(), key=lambda p: p.name == _LAST):
                os.replace(item, target / item.name)
            return
        if not target.exists() or (target.is_dir() and not any(target.iterdir())):
            staging.rename(target)  # replaces an empty directory too
            return
        if keep:
            _carry_over(target, staging)
        old = _swap_in(staging, target)
    except OSError as exc:
        msg = (f"cannot write outputs to {target}: {exc.strerror or exc}; the previous "
               "outputs are unchanged")
        raise OutputError(msg) from None
    with suppress(OSError):
        (old / MARKER).write_text(json.dumps(_owner()), encoding="utf-8")
    failures: list[str] = []
    shutil.rmtree(old, onerror=lambda _f, p, e: failures.append(f"{p}: {e[1]}"))
    if failures:
        log.warning("the previous outputs moved aside to %s could not be removed entirely "
                    "(%s); the new ones are in %s", old, failures[0], target)


def _staged_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            continue
    return total


def _disk_full(exc: DiskFullError, staging: Path, need_bytes: int | None) -> DiskFullError:
    """*exc* restated with the space the outputs need where they were going."""
    written = _staged_bytes(staging)
    need = max(need_bytes or 0, written)
    free = free_bytes(staging.parent) or 0
    folder = exc.directory or str(staging.parent)
    msg = (f"no space left in {folder}: the outputs need about {need / 1e6:,.0f} MB "
           f"({written / 1e6:,.1f} MB written before the disk filled), {free / 1e6:,.1f} MB "
           "free; free some space there or choose another --out. Nothing was written")
    return DiskFullError(msg, folder, free)


@contextmanager
def staged_directory(target: str | Path, *, overwrite: bool, need_bytes: int | None = None,
                     keep: bool = False) -> Iterator[Path]:
    """Yield a fresh staging directory for *target*; publish it when the block succeeds.

    Parameters
    ----------
    target : str or Path
        The output directory.
    overwrite : bool, keyword-only
        Allow an existing, non-empty *target*; it is replaced as a whole (its files the new
        run does not write are gone too).
    need_bytes : int, optional
        Estimated size of the outputs, stated when the disk fills up.
    keep : bool, keyword-only
        Carry the files of an existing *target* that the block does not write into the new
        directory (hard links; ``towerplan map`` replaces only ``map.html``). The directory
        is still swapped in as a whole.

    Raises
    ------
    OutputError
        When *target* is a file, is not empty without *overwrite*, cannot be replaced, is in
        use by another run, or cannot be written; the staging directory is removed and
        nothing is published.
    DiskFullError
        When the disk fills up while writing (names the directory and the space needed).
    """
    target = Path(target)
    _check_directory(target, overwrite=overwrite, keep=keep)
    parent = target.resolve().parent
    with output_lock(target):
        _clean_stale(parent, target.name)
        _check_directory(target, overwrite=overwrite, keep=keep)  # another run published?
        staging = _staging_dir(parent, target.name)
        try:
            try:
                yield staging
            except DiskFullError as exc:
                raise _disk_full(exc, staging, need_bytes) from exc
            try:
                with deferred():
                    _publish_directory(staging, target, keep=keep)
            except Interrupted as exc:
                exc.published = target
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _publish_files(staging: Path, paths: Sequence[Path]) -> None:
    for path in paths:
        staged = staging / path.name
        if staged.exists():
            publish_permissions(staged, directory=False)
            os.replace(staged, path)
        elif path.exists():
            path.unlink()


@contextmanager
def staged_files(targets: Sequence[str | Path], *, overwrite: bool) -> Iterator[Path]:
    """Yield a staging directory for files that go beside each other; publish them together.

    The block writes each target under its own name into the staging directory. On success
    every staged file replaces its target; a target the block did not write is removed when
    it exists (a stale file of an earlier run would mislead).

    Parameters
    ----------
    targets : sequence of str or Path
        Output files, all in one directory (created when missing).
    overwrite : bool, keyword-only
        Allow replacing existing files.

    Raises
    ------
    OutputError
        When a target exists without *overwrite*, another run writes the same files, or the
        directory cannot be written.
    """
    paths = [Path(p) for p in targets]
    folders = {p.resolve().parent for p in paths}
    if len(folders) != 1:
        msg = "staged files must share one directory"
        raise ValueError(msg)
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        msg = f"{existing[0]} exists; pass --overwrite to replace it"
        raise OutputError(msg)
    folder = folders.pop()
    with output_lock(paths[0]):
        _clean_stale(folder, paths[0].name)
        staging = _staging_dir(folder, paths[0].name)
        try:
            yield staging
            try:
                with deferred():
                    _publish_files(staging, paths)
            except OSError as exc:
                msg = f"cannot write {folder}: {exc.strerror or exc}"
                raise OutputError(msg) from None
            except Interrupted as exc:
                exc.published = folder
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
