"""Output directories: replaced as a whole, locked, cleaned after killed runs, and a full disk
or a failed GDAL/SQLite write reported in one line with nothing half-written."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio.errors
from affine import Affine
from pyproj import CRS

from towerplan.errors import DiskFullError, OutputError
from towerplan.io import atomic, interrupts, outdir
from towerplan.io.atomic import atomic_output
from towerplan.io.interrupts import Interrupted
from towerplan.io.outdir import MARKER, lock_path, output_lock, staged_directory, staged_files
from towerplan.io.rasters import RasterGrid, write_raster


def _old(out: Path) -> dict[str, str]:
    out.mkdir(parents=True)
    files = {"summary.json": '{"run": "old"}', "keep.txt": "only in the old run"}
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    return files


def _contents(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _write_new(staging: Path) -> None:
    with atomic_output(staging / "summary.json") as tmp:
        tmp.write_text('{"run": "new"}', encoding="utf-8")


def test_overwrite_replaces_the_directory_as_a_whole(tmp_path: Path) -> None:
    out = tmp_path / "o"
    _old(out)
    inode = out.stat().st_ino
    with staged_directory(out, overwrite=True) as staging:
        _write_new(staging)
    assert _contents(out) == {"summary.json": '{"run": "new"}'}  # keep.txt went with the old
    assert out.stat().st_ino != inode  # a new directory, not the old one refilled
    assert _leftovers(tmp_path) == []  # no staging, no old copy, no lock


def test_keep_carries_the_other_files_into_the_new_directory(tmp_path: Path) -> None:
    """``towerplan map``: only map.html is new, the rest is carried over, and the directory is
    still published by one swap."""
    out = tmp_path / "o"
    old = _old(out)
    inode, kept = out.stat().st_ino, (out / "keep.txt").stat().st_ino
    with staged_directory(out, overwrite=True, keep=True) as staging:
        _write_new(staging)
    assert _contents(out) == {**old, "summary.json": '{"run": "new"}'}
    assert out.stat().st_ino != inode and (out / "keep.txt").stat().st_ino == kept
    assert _leftovers(tmp_path) == []


def test_overwrite_without_renameat2_swaps_by_two_renames(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    out = tmp_path / "o"
    _old(out)
    with staged_directory(out, overwrite=True) as staging:
        _write_new(staging)
    assert _contents(out) == {"summary.json": '{"run": "new"}'}
    assert _leftovers(tmp_path) == []


def test_non_empty_without_overwrite_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "o"
    old = _old(out)
    with pytest.raises(OutputError, match="not empty; pass --overwrite to replace it as a "
                                          "whole"), staged_directory(out, overwrite=False):
        pytest.fail("must not start")
    assert _contents(out) == old and _leftovers(tmp_path) == []


def test_failed_swap_leaves_the_old_directory_intact(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def busy(first: Path, second: Path) -> bool:
        raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(second))

    monkeypatch.setattr(outdir, "_exchange", busy)
    out = tmp_path / "o"
    old = _old(out)
    with pytest.raises(OutputError, match=r"cannot write outputs to .*o: Device or resource "
                                          r"busy; the previous outputs are unchanged"), \
            staged_directory(out, overwrite=True) as staging:
        _write_new(staging)
    assert _contents(out) == old and _leftovers(tmp_path) == []


def test_failed_second_rename_puts_the_old_directory_back(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outdir, "_exchange", lambda a, b: False)
    rename = Path.rename

    def failing(self: Path, target: Path) -> Path:
        if ".partial-" in self.name:
            raise OSError(errno.EIO, os.strerror(errno.EIO), str(target))
        return rename(self, target)

    monkeypatch.setattr(Path, "rename", failing)
    out = tmp_path / "o"
    old = _old(out)
    with pytest.raises(OutputError, match="previous outputs are unchanged"), \
            staged_directory(out, overwrite=True) as staging:
        _write_new(staging)
    assert _contents(out) == old and _leftovers(tmp_path) == []


def test_unremovable_old_directory_is_refused_before_work(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    old = _old(out)
    (out / "sub").mkdir()
    access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p).endswith("sub")
                        else access(p, mode))
    with pytest.raises(OutputError, match=r"cannot be replaced: .*sub is not writable; "
                                          "nothing was changed"), \
            staged_directory(out, overwrite=True):
        pytest.fail("must not start")
    assert set(_contents_names(out)) == {*old, "sub"} and _leftovers(tmp_path) == []


def _contents_names(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir()]


@pytest.mark.parametrize("where", ["cwd", "parent of cwd"])
def test_overwrite_of_the_current_directory_is_refused(where: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    old = _old(out)
    (out / "deeper").mkdir()
    monkeypatch.chdir(out if where == "cwd" else out / "deeper")
    with pytest.raises(OutputError, match="refusing to replace"), \
            staged_directory(out, overwrite=True):
        pytest.fail("must not start")
    assert set(_contents_names(out)) == {*old, "deeper"}


def test_empty_current_directory_is_filled_not_replaced(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "o"
    out.mkdir()
    inode = out.stat().st_ino
    monkeypatch.chdir(out)
    with staged_directory(out, overwrite=False) as staging:
        _write_new(staging)
    assert out.stat().st_ino == inode and Path.cwd().resolve() == out.resolve()
    assert _contents(out) == {"summary.json": '{"run": "new"}'} and _leftovers(tmp_path) == []


def test_second_lock_names_the_holder(tmp_path: Path) -> None:
    out = tmp_path / "o"
    with output_lock(out):
        holder = json.loads(lock_path(out).read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        with pytest.raises(OutputError, match=rf"in use by another towerplan run \(pid "
                                              rf"{os.getpid()} on host .*, started 20"), \
                staged_directory(out, overwrite=False):
            pytest.fail("must not start")
        with pytest.raises(OutputError, match="in use"), staged_files([out], overwrite=False):
            pytest.fail("must not start")
    assert not lock_path(out).exists()


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def _owner(pid: int) -> str:
    return json.dumps({"pid": pid, "host": os.uname().nodename,
                       "started_utc": "2026-01-02T03:04:05+00:00"})


def test_stale_lock_and_staging_of_a_dead_process_are_taken_over(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "o"
    pid = _dead_pid()
    lock_path(out).write_text(_owner(pid), encoding="utf-8")
    stale = tmp_path / ".o.partial-dead"
    stale.mkdir()
    (stale / MARKER).write_text(_owner(pid), encoding="utf-8")
    (stale / "map.html").write_text("half", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="towerplan"), \
            staged_directory(out, overwrite=False) as staging:
        _write_new(staging)
    notes = " | ".join(r.getMessage() for r in caplog.records)
    assert f"took over the lock of {out}" in notes and f"pid {pid} on host" in notes
    assert f"removed {stale}, left by a run that was killed (pid {pid}" in notes
    assert "started 2026-01-02T03:04:05+00:00" in notes
    assert _contents(out) == {"summary.json": '{"run": "new"}'}
    assert _leftovers(tmp_path) == []


def test_old_directory_moved_aside_by_a_killed_run_is_restored(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "o"
    aside = tmp_path / ".o.old-abc"
    old = _old(aside)
    (aside / MARKER).write_text(_owner(_dead_pid()), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="towerplan"), \
            pytest.raises(OutputError, match="not empty"), \
            staged_directory(out, overwrite=False):
        pytest.fail("must not start: the restored outputs are there")
    assert "restored" in caplog.text
    assert _contents(out) == old and _leftovers(tmp_path) == []


def test_staging_of_a_live_process_or_unmarked_and_recent_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "o"
    live = tmp_path / ".o.partial-live"
    live.mkdir()
    (live / MARKER).write_text(_owner(os.getppid()), encoding="utf-8")
    recent = tmp_path / ".o.partial-unmarked"
    recent.mkdir()
    ancient = tmp_path / ".o.partial-ancient"
    ancient.mkdir()
    os.utime(ancient, (1e9, 1e9))
    with staged_directory(out, overwrite=False) as staging:
        _write_new(staging)
    assert live.is_dir() and recent.is_dir() and not ancient.exists()


@pytest.mark.parametrize("raised", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError(errno.EDQUOT, "Disk quota exceeded"),
    sqlite3.OperationalError("database or disk is full"),
    rasterio.errors.RasterioIOError("TIFFWriteEncodedTile: No space left on device"),
], ids=["ENOSPC", "EDQUOT", "sqlite", "GDAL"])
def test_full_disk_while_writing_is_one_line_naming_directory_and_need(
        raised: Exception, tmp_path: Path) -> None:
    out = tmp_path / "o"
    old = _old(out)
    with pytest.raises(DiskFullError) as info, \
            staged_directory(out, overwrite=True, need_bytes=42_000_000) as staging:
        (staging / "ranking.csv").write_bytes(b"x" * 3_000_000)
        with atomic_output(staging / "plan.gpkg"):
            raise raised
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"no space left in {staging}: the outputs need about 42 MB "
                           "(3.0 MB written before the disk filled)")
    assert text.endswith("choose another --out. Nothing was written")
    assert _contents(out) == old and _leftovers(tmp_path) == []


def test_gdal_write_failure_without_reason_is_disk_full_only_when_nearly_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GDAL says only "Write failed" (the ENOSPC goes to its error handler): a full disk is
    recognised by the free space left; with space left it stays an ordinary write error."""
    grid = RasterGrid(np.ones((50, 50)), Affine(90, 0, 500_000, 0, -90, 9_800_000),
                      CRS.from_epsg(32750))

    def failing(*args: object, **kwargs: object) -> None:
        raise rasterio.errors.RasterioIOError("Write failed. See previous exception for details.")

    monkeypatch.setattr(rasterio, "open", failing)
    with pytest.raises(OutputError) as info:
        write_raster(tmp_path / "a.tif", grid)
    assert not isinstance(info.value, DiskFullError)
    assert str(info.value).startswith(f"cannot write {tmp_path / 'a.tif'}: Write failed")
    monkeypatch.setattr(atomic, "free_bytes", lambda folder: 4096)
    with pytest.raises(DiskFullError, match=rf"no space left in {tmp_path} while writing "
                                            r"b.tif \(0.0 MB free\)"):
        write_raster(tmp_path / "b.tif", grid)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (needs the right to mount; skipped otherwise)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_real_full_disk_in_a_gdal_write(tiny_tmpfs: Path) -> None:
    rng = np.random.default_rng(1)
    grid = RasterGrid(rng.random((400, 400)), Affine(90, 0, 500_000, 0, -90, 9_800_000),
                      CRS.from_epsg(32750))
    out = tiny_tmpfs / "o"
    with pytest.raises(DiskFullError, match=rf"no space left in {tiny_tmpfs}.*: the outputs "
                                            "need about"), \
            staged_directory(out, overwrite=False) as staging:
        write_raster(staging / "coverage_before.tif", grid)
    assert sorted(p.name for p in tiny_tmpfs.iterdir()) == []


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {n: signal.getsignal(getattr(signal, n)) for n in interrupts.STOP_SIGNALS}
    interrupts.install()
    try:
        yield
    finally:
        for name, handler in saved.items():
            signal.signal(getattr(signal, name), handler)


@pytest.mark.usefixtures("handlers")
def test_signal_during_publishing_waits_for_it_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "o"
    old = _old(out)
    swap = outdir._swap_in

    def slow_swap(staging: Path, target: Path) -> Path:
        os.kill(os.getpid(), signal.SIGTERM)  # arrives in the middle of publishing
        return swap(staging, target)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outdir, "_swap_in", slow_swap)
        with pytest.raises(Interrupted) as info, \
                staged_directory(out, overwrite=True) as staging:
            _write_new(staging)
    assert info.value.signum == signal.SIGTERM and info.value.published == out
    assert _contents(out) == {"summary.json": '{"run": "new"}'} != old  # published whole
    assert _leftovers(tmp_path) == []


@pytest.mark.usefixtures("handlers")
def test_signal_while_writing_removes_staging_and_keeps_old(tmp_path: Path) -> None:
    out = tmp_path / "o"
    old = _old(out)
    with pytest.raises(Interrupted) as info, staged_directory(out, overwrite=True) as staging:
        (staging / "ranking.csv").write_text("partial", encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
    assert info.value.name == "SIGHUP" and info.value.published is None
    assert _contents(out) == old and _leftovers(tmp_path) == []
