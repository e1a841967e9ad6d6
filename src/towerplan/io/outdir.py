"""The one way every command writes its outputs: stage, check overwrite, publish atomically.

A command writes into a hidden staging directory beside its target and publishes it only
when every file is complete. Any exception (a bad input found late, a full disk, Ctrl-C)
removes the staging directory, so a failed run leaves nothing half-written.

- :func:`staged_directory` is for a command that writes an output directory (``plan``,
  ``blankspots``, ``audit``, ``fetch``, ...). An existing, non-empty directory needs
  ``overwrite``.
- :func:`staged_files` is for a command that writes a few named files into an existing
  directory (``coverage``, ``calibrate``, ``match``). An existing file needs ``overwrite``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from towerplan.errors import OutputError
from towerplan.io.atomic import publish_permissions

__all__ = ["staged_directory", "staged_files"]

#: Written last when a directory is published into an existing one: it marks a finished run.
_LAST = "summary.json"


def _staging_dir(parent: Path, name: str) -> Path:
    try:
        parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{name}.partial-", dir=parent))
    except OSError as exc:
        msg = f"output directory {parent / name} is not writable: {exc.strerror or exc}"
        raise OutputError(msg) from None


def _check_directory(target: Path, *, overwrite: bool) -> None:
    if target.exists() and not target.is_dir():
        msg = f"output path {target} exists and is not a directory"
        raise OutputError(msg)
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        msg = f"output directory {target} is not empty; pass --overwrite to replace its files"
        raise OutputError(msg)
    if target.is_dir() and not os.access(target, os.W_OK | os.X_OK):
        msg = f"output directory {target} is not writable"
        raise OutputError(msg)


def _publish_directory(staging: Path, target: Path) -> None:
    """Move the staged outputs into *target* (a rename when it does not exist yet)."""
    try:
        for item in staging.iterdir():
            publish_permissions(item, directory=item.is_dir())
        if not target.exists():
            publish_permissions(staging, directory=True)
            staging.rename(target)
            return
        for item in sorted(staging.iterdir(), key=lambda p: p.name == _LAST):
            os.replace(item, target / item.name)
        staging.rmdir()
    except OSError as exc:
        msg = f"cannot write outputs to {target}: {exc.strerror or exc}"
        raise OutputError(msg) from None


@contextmanager
def staged_directory(target: str | Path, *, overwrite: bool) -> Iterator[Path]:
    """Yield a fresh staging directory for *target*; publish it when the block succeeds.

    Parameters
    ----------
    target : str or Path
        The output directory.
    overwrite : bool, keyword-only
        Allow an existing, non-empty *target*; its files of the same name are replaced.

    Raises
    ------
    OutputError
        When *target* is a file, is not empty without *overwrite*, or cannot be written; the
        staging directory is removed and nothing is published.
    """
    target = Path(target)
    _check_directory(target, overwrite=overwrite)
    staging = _staging_dir(target.resolve().parent, target.name)
    try:
        yield staging
        _publish_directory(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


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
        When a target exists without *overwrite* or the directory cannot be written.
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
    staging = _staging_dir(folder, paths[0].name)
    try:
        yield staging
        try:
            for path in paths:
                staged = staging / path.name
                if staged.exists():
                    publish_permissions(staged, directory=False)
                    os.replace(staged, path)
                elif path.exists():
                    path.unlink()
        except OSError as exc:
            msg = f"cannot write {folder}: {exc.strerror or exc}"
            raise OutputError(msg) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
