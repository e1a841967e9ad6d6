"""``towerplan coverage`` and ``towerplan blankspots`` on generated inputs."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio

from towerplan.columns import BLANKSPOT_COLUMNS
from towerplan.coverage.raster import LinkParams, coverage_radius_m
from towerplan.scenario import Radio

#: Libraries of other commands (tables, vector data, maps, reports, the programme's solver)
#: that ``towerplan coverage --dem`` must not load: its start-up is part of its time.
NOT_FOR_COVERAGE = ("pandas", "geopandas", "shapely", "pyogrio", "matplotlib", "openpyxl",
                    "weasyprint", "folium", "jinja2", "networkx", "highspy", "scipy.sparse",
                    "scipy.spatial", "scipy.ndimage", "scipy.special", "scipy.optimize")


def test_coverage_of_one_site_over_a_dem_is_the_model_disc(
        tmp_path: Path, make_dem: Callable[..., Path], run_cli: Callable[..., Any]) -> None:
    dem = make_dem(shape=(400, 400), kind="flat", res_m=90.0)
    out = tmp_path / "cov.tif"
    proc = run_cli("coverage", "--dem", dem, "--site", "116.0,-1.7", "--radius-km", "10",
                   "--out", out, "--timings")
    assert proc.returncode == 0, proc.stderr
    phases = [line.split()[1] for line in proc.stderr.splitlines()
              if line.startswith("timing ")]
    assert phases == ["imports", "inputs", "reproject", "compute", "write", "total"]
    with rasterio.open(out) as src:
        rsrp = src.read(1)
        res = src.res[0]
        assert src.crs.to_epsg() == 32750
        assert "hata-suburban" in src.tags()["model_chain"]
    radius = coverage_radius_m(LinkParams.from_radio(Radio()), 42.0)
    covered_km2 = np.count_nonzero(rsrp >= -105.0) * res**2 / 1e6
    assert covered_km2 == pytest.approx(np.pi * radius**2 / 1e6, rel=0.03)
    with rasterio.open(tmp_path / "cov_servers.tif") as src:
        assert src.read(1).max() == 1
    qml = (tmp_path / "cov.qml").read_text(encoding="utf-8")  # QGIS opens it styled
    assert "<qgis" in qml and 'value="-105"' in qml
    again = run_cli("coverage", "--dem", dem, "--site", "116.0,-1.7", "--out", out)
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_blankspots_lists_every_village(tmp_path: Path, small_scenario: Callable[..., Path],
                                        run_cli: Callable[..., Any]) -> None:
    out = tmp_path / "bs"
    proc = run_cli("blankspots", small_scenario(), "--out", out)
    assert proc.returncode == 0, proc.stderr
    with (out / "villages.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 9
    assert list(rows[0])[: len(BLANKSPOT_COLUMNS)] == list(BLANKSPOT_COLUMNS)
    assert {r["status"] for r in rows} <= {"blank", "partial", "covered"}
    served = [r for r in rows if r["best_server"]]
    assert served and all(r["best_server"] == "T0001" for r in served)
    assert (out / "blankspots.gpkg").stat().st_size > 0
    assert (out / "coverage_before.tif").stat().st_size > 0


def test_coverage_of_sites_over_a_dem_loads_only_what_it_uses(
        tmp_path: Path, make_dem: Callable[..., Path]) -> None:
    # the command as a process, with a terrain chain (the numba sweep) and a sites CSV
    dem = make_dem(shape=(200, 200), kind="ridge", res_m=90.0)
    sites = tmp_path / "sites.csv"
    sites.write_text("lon,lat,height_m,tower_id\n116.0,-1.7,42,A\n116.01,-1.69,30,B\n",
                     encoding="utf-8")
    args = ["coverage", "--dem", str(dem), "--sites", str(sites), "--radius-km", "5",
            "--model", "hata-suburban+deygout", "--out", str(tmp_path / "cov.tif"), "--quiet"]
    code = ("import sys; from towerplan.cli import main; sys.argv = ['towerplan', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done\n"
            f"print(sorted(m for m in {NOT_FOR_COVERAGE!r} if m in sys.modules))\n"
            "print(sorted(m for m in ('numba', 'rasterio', 'pyproj') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "['numba', 'pyproj', 'rasterio']"]
    with rasterio.open(tmp_path / "cov_server.tif") as src:
        assert set(np.unique(src.read(1)).tolist()) == {-1, 0, 1}
