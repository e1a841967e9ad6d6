"""Build the QGIS plugin zip: ``python qgis/build.py [--out DIR]``.

Writes ``DIR/towerplan_qgis-<version>.zip`` (default ``DIR`` = ``dist``) with the folder
``towerplan_qgis/`` at its root, as QGIS's "Install from ZIP" and the plugin repository
expect. ``metadata.txt`` in the zip carries the version of the towerplan package beside it
(``version`` of ``pyproject.toml``), so the plugin and the library are released together. The
plugin holds no copy of the library: it calls the towerplan package installed for QGIS's
Python (docs/qgis.md).
"""

from __future__ import annotations

import argparse
import re
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "towerplan_qgis"
PYPROJECT = HERE.parent / "pyproject.toml"


def package_version() -> str:
    """The towerplan version of ``pyproject.toml``."""
    match = re.search(r"""(?m)^version\s*=\s*["']([^"']+)["']""",
                      PYPROJECT.read_text(encoding="utf-8"))
    if match is None:
        msg = f"no version in {PYPROJECT}"
        raise SystemExit(msg)
    return match.group(1)


def build(out_dir: Path) -> Path:
    """Write the plugin zip into *out_dir* (atomically) and return its path."""
    version = package_version()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"towerplan_qgis-{version}.zip"
    partial = target.with_suffix(".zip.part")
    files = sorted(p for p in PLUGIN.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            name = f"towerplan_qgis/{path.relative_to(PLUGIN).as_posix()}"
            data = path.read_bytes()
            if path.name == "metadata.txt":
                data = re.sub(rb"(?m)^version=.*$", f"version={version}".encode(), data)
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    partial.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("dist"), help="output folder")
    args = parser.parse_args()
    print(build(args.out))


if __name__ == "__main__":
    main()
