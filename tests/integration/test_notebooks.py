"""The notebooks in notebooks/ execute top to bottom on the demo, in a real Jupyter kernel."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is part of the [test] extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is part of the [test] extra")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _execute(name: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    client.execute(env=dict(os.environ))
    return notebook


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(str(output.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


@pytest.mark.slow
def test_demo_walkthrough_executes() -> None:
    notebook = _execute("01_demo_walkthrough.ipynb")
    text = _text(notebook)
    assert "optimality_gap           0" in text
    assert "synthetic                True" in text
    # the village plots were drawn
    images = [o for c in notebook.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) >= 2


SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def own_data() -> nbformat.NotebookNode:
    return _execute("02_your_own_data.ipynb")


@pytest.mark.slow
def test_own_data_notebook_executes(own_data: nbformat.NotebookNode) -> None:
    text = _text(own_data)
    assert "towers 3, spent Rp 5.1 bn of Rp 5.1 bn" in text
    assert "solver milp" in text


@pytest.mark.slow
@pytest.mark.shared_data
def test_own_data_notebook_validates_paser(own_data: nbformat.NotebookNode) -> None:
    if not (SHARED / "paser_villages.geojson").is_file():
        pytest.skip(f"shared data not found at {SHARED}: the notebook's Paser check printed "
                    "that it skipped")
    first = "\n".join(o.get("text", "") for o in own_data.cells[1].get("outputs", []))
    assert "paser_villages.geojson" in first
    assert "problems: none" in first
