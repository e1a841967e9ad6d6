"""``towerplan demo``: the synthetic demo kabupaten as ordinary files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from towerplan.errors import OutputError
from towerplan.io.demo import DemoManifest, generate_demo
from towerplan.io.demo_province import generate_province
from towerplan.io.outdir import staged_directory

__all__ = ["write_demo", "write_province"]


def _check_empty(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        msg = f"demo output {out} exists and is not an empty folder"
        raise OutputError(msg)


def write_demo(out_dir: str | Path, *, seed: int = 2022, resolution_m: float = 90.0,
               progress: Callable[[str], None] | None = None) -> DemoManifest:
    """Write the synthetic demo kabupaten into *out_dir* (new or empty), all or nothing.

    Raises
    ------
    OutputError
        If *out_dir* is a file or a non-empty folder, or cannot be written.
    ScenarioError
        If *seed* or *resolution_m* is not allowed.
    """
    out = Path(out_dir)
    _check_empty(out)
    with staged_directory(out, overwrite=False) as staging:
        generate_demo(staging, seed=seed, resolution_m=resolution_m, progress=progress)
    return DemoManifest.from_directory(out)


def write_province(out_dir: str | Path, *, seed: int = 2022, kabupaten: int = 10,
                   resolution_m: float = 90.0,
                   progress: Callable[[str], None] | None = None) -> DemoManifest:
    """Write the synthetic demo province (:func:`~towerplan.io.demo_province.generate_province`)
    into *out_dir* (new or empty), all or nothing, with its ``scenario.toml``.

    Raises
    ------
    OutputError
        If *out_dir* is a file or a non-empty folder, or cannot be written.
    ScenarioError
        If *seed*, *kabupaten* or *resolution_m* is not allowed.
    """
    out = Path(out_dir)
    _check_empty(out)
    with staged_directory(out, overwrite=False) as staging:
        generate_province(staging, seed=seed, kabupaten=kabupaten, resolution_m=resolution_m,
                          progress=progress)
    return DemoManifest.from_directory(out)
