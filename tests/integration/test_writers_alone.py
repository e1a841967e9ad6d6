"""A writer that cannot run costs only its own file: ``towerplan plan`` without Pango."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from towerplan.outputs.writers import OUTPUT_FILES


@pytest.mark.slow
def test_plan_without_weasyprint_writes_every_other_output(tmp_path: Path) -> None:
    fake = tmp_path / "fake-site"
    (fake / "weasyprint").mkdir(parents=True)
    (fake / "weasyprint" / "__init__.py").write_text(
        'raise OSError("cannot load library \'libgobject-2.0-0\': no such file")\n',
        encoding="utf-8")
    env = {**os.environ, "COLUMNS": "200",
           "PYTHONPATH": os.pathsep.join([str(fake), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "towerplan", "plan", "--out", str(out)],
                          capture_output=True, text=True, env=env, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(n for n in OUTPUT_FILES if n != "report.pdf")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    (skipped,) = summary["outputs_skipped"]
    assert skipped["file"] == "report.pdf" and skipped["status"] == "skipped"
    assert "Pango" in skipped["reason"] and "libgobject-2.0-0" in skipped["reason"]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("towerplan:")]
    assert lines == [f"towerplan: report.pdf not written: {skipped['reason']}"]
    assert "report.html" in written  # the same report, readable in a browser
