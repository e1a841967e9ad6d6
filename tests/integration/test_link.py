"""``towerplan link`` on the demo terrain and on the shared Paser DEM."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

SHARED = Path(os.environ.get("TOWERPLAN_SHARED_DATA",
                             Path(__file__).resolve().parents[2].parent / "shared" / "data"))


def _png_is_a_plot(path: Path) -> None:
    im = np.asarray(Image.open(path).convert("RGB")).astype(float)
    assert im.shape[0] > 300 and im.shape[1] > 600
    assert im.std() > 20


@pytest.fixture(scope="module")
def demo_dem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from towerplan.io.demo import generate_demo

    return generate_demo(tmp_path_factory.mktemp("demo") / "d", seed=2022).dem


def test_link_on_demo_dem(tmp_path: Path, demo_dem: Path, run_cli: Callable[..., Any]) -> None:
    png = tmp_path / "p.png"
    # From the coastal plain westwards across the ridge.
    proc = run_cli("link", "--from", "104.80,-9.20", "--to", "104.45,-9.25", "--dem", demo_dem,
                   "--model", "hata-suburban+deygout", "--png", png, "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert 35_000 < rep["distance_m"] < 45_000
    assert rep["model"] == "hata-suburban+deygout"
    assert set(rep["diffraction_db"]) == {"deygout", "bullington", "epstein-peterson"}
    assert rep["total_loss_db"] == pytest.approx(rep["base_db"] + rep["model_diffraction_db"]
                                                 + rep["clutter_db"], abs=0.02)
    assert rep["margin_db"] == pytest.approx(rep["rsrp_dbm"] + 105.0, abs=0.02)
    _png_is_a_plot(png)


def test_link_short_clear_path_has_no_diffraction(tmp_path: Path, demo_dem: Path,
                                                  run_cli: Callable[..., Any]) -> None:
    proc = run_cli("link", "--from", "104.80,-9.20", "--to", "104.805,-9.20", "--dem",
                   demo_dem, "--h-tx-m", "60", "--png", tmp_path / "p.png", "--json")
    rep = json.loads(proc.stdout)
    if rep["worst_fresnel_ratio"] >= 1.0:
        assert all(v == 0.0 for v in rep["diffraction_db"].values())
    assert rep["los"] is True


def test_link_bad_point_is_one_line(tmp_path: Path, demo_dem: Path,
                                    run_cli: Callable[..., Any]) -> None:
    proc = run_cli("link", "--from", "abc", "--to", "104.4,-9.2", "--dem", demo_dem,
                   "--png", tmp_path / "p.png")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("towerplan: error: --from 'abc' must be LON,LAT")
    assert not (tmp_path / "p.png").exists()


@pytest.mark.shared_data
def test_link_on_shared_paser_dem(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    dem = SHARED / "paser_dem_coarse_srtm30plus.tif"
    if not dem.exists():
        pytest.skip(f"shared data not found at {SHARED}")
    png = tmp_path / "paser.png"
    # Muara Komam (interior) towards the Meratus hills.
    proc = run_cli("link", "--from", "115.82,-1.50", "--to", "116.00,-1.40", "--dem", dem,
                   "--model", "itm", "--png", png, "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)
    assert 20_000 < rep["distance_m"] < 25_000
    assert rep["model"] == "itm"
    assert np.isfinite(rep["total_loss_db"]) and rep["total_loss_db"] > 100
    _png_is_a_plot(png)
