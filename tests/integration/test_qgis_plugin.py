"""The QGIS plugin (``qgis/towerplan_qgis``) run headless by Debian's ``qgis_process``.

Each algorithm runs in a ``qgis_process`` process of its own, on generated data, and its
outputs are compared with the library's results for the same inputs. QGIS's Python finds
towerplan in the environment ``qgis/setup_env.sh`` builds (``.ci/run`` builds it at
``.ci/qgis-venv``; elsewhere set ``TOWERPLAN_QGIS_ENV``), put first on ``PYTHONPATH`` as
docs/qgis.md tells users to. Set ``TOWERPLAN_KEEP_QGIS_RENDER=DIR`` to keep the rendered PNG of
the plan's layers.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio

from towerplan.commands.audit import audit
from towerplan.commands.backhaul import run_backhaul
from towerplan.commands.blankspots import blankspots
from towerplan.commands.coverage import coverage
from towerplan.commands.link import analyse_link
from towerplan.commands.plan import run_plan
from towerplan.errors import TowerplanError
from towerplan.scenario import CoverageMapFile, Radio, Scenario

ROOT = Path(__file__).resolve().parents[2]
QGIS_PROCESS = shutil.which("qgis_process.bin") or shutil.which("qgis_process")
ENV_DIR = Path(os.environ.get("TOWERPLAN_QGIS_ENV", ROOT / ".ci" / "qgis-venv"))
ALGORITHMS = {"audit", "backhaul", "blankspots", "candidates", "coverage", "link", "plan",
              "select_sites"}

pytestmark = [
    pytest.mark.skipif(QGIS_PROCESS is None,
                       reason="Debian's QGIS is not installed (apt-get install qgis "
                              "python3-qgis; .ci/run installs it)"),
    pytest.mark.skipif(not (ENV_DIR / "bin" / "python").exists(),
                       reason=f"no towerplan environment for QGIS at {ENV_DIR}: run "
                              f"qgis/setup_env.sh {ENV_DIR} . (as .ci/run does) or set "
                              "TOWERPLAN_QGIS_ENV"),
]


def _env_path() -> str:
    """The QGIS environment's own entries of ``sys.path`` (its site-packages, .pth paths)."""
    code = ("import os, sys; print(os.pathsep.join(p for p in sys.path "
            "if p and not p.startswith(sys.base_prefix)))")
    out = subprocess.run([str(ENV_DIR / "bin" / "python"), "-c", code], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return out.stdout.strip()


@pytest.fixture(scope="module")
def qgis(tmp_path_factory: pytest.TempPathFactory
         ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """A runner of ``qgis_process`` with the built plugin enabled in a fresh profile."""
    assert QGIS_PROCESS is not None
    home = tmp_path_factory.mktemp("qgis-home")
    plugins = tmp_path_factory.mktemp("qgis-plugins")
    build = subprocess.run([sys.executable, str(ROOT / "qgis" / "build.py"), "--out",
                            str(home / "dist")], capture_output=True, text=True, check=True)
    with zipfile.ZipFile(build.stdout.strip()) as zf:
        zf.extractall(plugins)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "XDG_RUNTIME_DIR": str(home), "QGIS_PLUGINPATH": str(plugins),
           "PYTHONPATH": _env_path(), "TOWERPLAN_CACHE_DIR": str(home / "cache"),
           "LC_ALL": "C.UTF-8"}

    def run(*args: str, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
        use = env if pythonpath is None else {**env, "PYTHONPATH": pythonpath}
        return subprocess.run([QGIS_PROCESS, *args], capture_output=True, text=True,
                              env=use, timeout=600, check=False)

    enabled = run("plugins", "enable", "towerplan_qgis")
    assert enabled.returncode == 0, enabled.stdout + enabled.stderr
    run.env = env  # type: ignore[attr-defined]
    return run


def _algorithm(qgis: Callable[..., subprocess.CompletedProcess[str]], name: str,
               **params: Any) -> dict[str, Any]:
    """Run ``towerplan:NAME`` and return its results; fail with its output on an error."""
    args = [f"{k}={v}" for k, v in params.items()]
    proc = qgis("--json", "run", f"towerplan:{name}", "--", *args)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout)["results"]


def _points_gpkg(path: Path, lonlat: list[tuple[float, float]],
                 heights: list[float] | None = None) -> Path:
    frame = gpd.GeoDataFrame(
        {"name": [f"s{k}" for k in range(len(lonlat))],
         "height_m": heights or [42.0] * len(lonlat)},
        geometry=gpd.points_from_xy([p[0] for p in lonlat], [p[1] for p in lonlat]),
        crs="EPSG:4326").to_crs("EPSG:32750")  # a projected layer: the plugin reprojects
    frame.to_file(path, layer="sites", driver="GPKG")
    return path


def test_provider_lists_every_algorithm(qgis: Callable[..., Any]) -> None:
    proc = qgis("list")
    assert proc.returncode == 0, proc.stderr
    ids = {line.strip().split()[0].split(":", 1)[1] for line in proc.stdout.splitlines()
           if line.strip().startswith("towerplan:")}
    assert ids == ALGORITHMS


def test_coverage_equals_the_library(qgis: Callable[..., Any], tmp_path: Path,
                                     make_dem: Callable[..., Path]) -> None:
    dem = make_dem(shape=(200, 200), kind="ridge", res_m=90.0)
    sites = [(115.98, -1.70), (116.03, -1.72)]
    layer = _points_gpkg(tmp_path / "sites.gpkg", sites, [42.0, 30.0])
    out = tmp_path / "qgis" / "rsrp.tif"
    results = _algorithm(qgis, "coverage", SITES=layer, HEIGHT_FIELD="height_m", DEM=dem,
                         RADIUS_KM=6, OUTPUT=out)
    assert Path(results["OUTPUT"]) == out
    csv = tmp_path / "sites.csv"
    pd.DataFrame({"lon": [p[0] for p in sites], "lat": [p[1] for p in sites],
                  "height_m": [42.0, 30.0], "tower_id": ["1", "2"]}).to_csv(csv, index=False)
    lib = coverage(Scenario(), tmp_path / "lib" / "rsrp.tif", dem=[dem], sites_csv=csv,
                   radius_km=6)
    with rasterio.open(out) as src:
        got = src.read(1)
        assert src.crs == lib.grid.crs and src.transform == lib.grid.transform
    np.testing.assert_allclose(got, lib.grid.array, atol=1e-3, equal_nan=True)
    assert np.isfinite(got).sum() > 1000
    assert "<qgis" in out.with_suffix(".qml").read_text(encoding="utf-8")


def test_blankspots_from_a_scenario_equals_the_library(
        qgis: Callable[..., Any], tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario_path = small_scenario()
    out = tmp_path / "qgis"
    results = _algorithm(qgis, "blankspots", SCENARIO=scenario_path, OUTPUT_FOLDER=out)
    assert results["VILLAGES_OUT"] == f"{out / 'blankspots.gpkg'}|layername=villages"
    got = gpd.read_file(out / "blankspots.gpkg", layer="villages")
    state = blankspots(Scenario.from_toml(scenario_path), tmp_path / "lib")
    expected = state.stats["status"].astype(str).tolist()
    assert got["status"].tolist() == expected
    assert (out / "coverage_before.tif").is_file()


def test_select_sites_with_a_budget_equals_the_library(
        qgis: Callable[..., Any], tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario_path = small_scenario()
    out = tmp_path / "qgis"
    _algorithm(qgis, "select_sites", SCENARIO=scenario_path, BUDGET_IDR=1_700_000_000,
               OUTPUT_FOLDER=out)
    assert sorted(p.name for p in out.iterdir()) == ["plan.gpkg", "ranking.csv",
                                                      "summary.json"]
    scenario = Scenario.from_toml(scenario_path)
    scenario = dataclasses.replace(
        scenario, budget=dataclasses.replace(scenario.budget, total_idr=1_700_000_000))
    lib = run_plan(scenario, tmp_path / "lib", only=("ranking.csv",), check=False)
    got = pd.read_csv(out / "ranking.csv", comment="#")
    assert got["site_id"].astype(str).tolist() == \
        lib.result.selected["site_id"].astype(str).tolist()
    assert len(got) == 1  # one tower at Rp 1.7 bn
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["budget_idr"] == 1_700_000_000


def test_audit_and_backhaul_equal_the_library(
        qgis: Callable[..., Any], tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    pops = tmp_path / "pops.csv"
    pops.write_text("pop_id,lon,lat,kind,capacity_mbps\nSTO1,115.985,-1.690,fibre,1000\n",
                    encoding="utf-8")
    scenario_path = small_scenario()
    text = scenario_path.read_text(encoding="utf-8")
    scenario_path.write_text(text.replace("[inputs]\n", f'[inputs]\npops = "{pops}"\n'),
                             encoding="utf-8")
    scenario = Scenario.from_toml(scenario_path)
    out = tmp_path / "audit"
    _algorithm(qgis, "audit", SCENARIO=scenario_path, VILLAGES_AUDITED="Desa 1; Desa 2",
               OUTPUT_FOLDER=out)
    summary = audit(scenario, tmp_path / "lib-audit", villages=["Desa 1", "Desa 2"])
    got = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    assert got == json.loads(json.dumps(summary))
    assert len(gpd.read_file(out / "audit.gpkg", layer="audit_sites")) == 2
    links = tmp_path / "links"
    _algorithm(qgis, "backhaul", SCENARIO=scenario_path, OUTPUT_FOLDER=links)
    lib = run_backhaul(scenario, tmp_path / "lib-links")
    got_links = gpd.read_file(links / "links.gpkg", layer="links")
    assert len(got_links) == len(lib.outcome.links)
    assert sorted(got_links["site_id"].astype(str)) == \
        sorted(lib.outcome.links["site_id"].astype(str))


def test_layers_replace_the_scenario_inputs(
        qgis: Callable[..., Any], tmp_path: Path, make_dem: Callable[..., Path],
        make_villages: Callable[..., Path]) -> None:
    """Villages, terrain and towers given as layers, no scenario file: the candidates lie in
    those villages, and the tower layer's heights are used."""
    dem = make_dem(shape=(220, 220), kind="ridge", res_m=90.0)
    frame = gpd.read_file(make_villages(n=4, size_deg=0.03))
    villages = tmp_path / "layers.gpkg"  # the villages are its second layer
    other = frame.iloc[:1].assign(code="99.99.99.9999", name="Elsewhere")
    other.geometry = other.geometry.translate(1.0, 1.0)  # 1 degree away, off the DEM
    other.to_file(villages, layer="other", driver="GPKG")
    frame.to_file(villages, layer="villages", driver="GPKG")
    towers = _points_gpkg(tmp_path / "towers.gpkg", [(115.97, -1.68)], [40.0])
    out = tmp_path / "qgis"
    _algorithm(qgis, "candidates", VILLAGES=f"{villages}|layername=villages", DEM=dem,
               TOWERS=towers, TOWER_HEIGHT_FIELD="height_m", OUTPUT_FOLDER=out)
    cands = gpd.read_file(out / "candidates.gpkg", layer="candidates")
    area = frame.to_crs(cands.crs).union_all()
    assert len(cands) > 0
    assert cands.geometry.within(area.buffer(1.0)).all()
    codes = set(cands["village_code"].astype(str))
    assert len(codes) >= 2 and codes <= set(frame["code"].astype(str))


def test_link_equals_the_library(qgis: Callable[..., Any], tmp_path: Path,
                                 make_dem: Callable[..., Path]) -> None:
    dem = make_dem(shape=(200, 200), kind="ridge", res_m=90.0)
    start, end = (115.97, -1.70), (116.04, -1.71)
    png, report = tmp_path / "link.png", tmp_path / "link.json"
    _algorithm(qgis, "link", START=f"{start[0]},{start[1]} [EPSG:4326]",
               END=f"{end[0]},{end[1]} [EPSG:4326]", DEM=dem, TX_HEIGHT_M=42,
               OUTPUT_PNG=png, OUTPUT_JSON=report)
    got = json.loads(report.read_text(encoding="utf-8"))
    lib, _, _ = analyse_link([dem], start, end, radio=Radio(), h_tx_m=42.0)
    want = lib.to_dict()
    assert got["distance_m"] == pytest.approx(want["distance_m"], abs=0.5)
    assert got["los"] == want["los"]
    assert got["model"] == want["model"]
    assert png.stat().st_size > 10_000


def test_plan_project_opens_styled_in_qgis(qgis: Callable[..., Any], tmp_path: Path,
                                           small_scenario: Callable[..., Path]) -> None:
    """The Plan algorithm with plan.qgz: the project opens with every layer valid, grouped
    and ordered as on the HTML map and styled as the GeoPackage's default styles; it renders
    offscreen (the PNG is kept with TOWERPLAN_KEEP_QGIS_RENDER)."""
    out = tmp_path / "plan"
    results = _algorithm(qgis, "plan", SCENARIO=small_scenario(), OUTPUT_FOLDER=out, LANG=1,
                         QGIS_PROJECT="true")
    for key in ("VILLAGES_OUT", "SELECTED", "CANDIDATES", "COVERAGE_AFTER"):
        assert Path(results[key].split("|")[0]).is_file()
    png = tmp_path / "plan.png"
    script = tmp_path / "render.py"
    script.write_text(_RENDER.format(project=out / "plan.qgz", gpkg=out / "plan.gpkg",
                                     png=png), encoding="utf-8")
    proc = subprocess.run(["/usr/bin/python3", str(script)], capture_output=True, text=True,
                          env=dict(qgis.env), timeout=300, check=False)  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["read"] and got["all_valid"]
    assert got["groups"] == ["Plan", "Signal coverage", "Villages"]
    assert got["order"] == ["Selected towers (build order)", "Candidate sites",
                            "Existing towers", "Signal coverage — after the plan",
                            "Signal coverage — before", "Covered area (before/after)",
                            "Village status — after the plan"]
    assert got["checked"] == ["Selected towers (build order)", "Existing towers",
                              "Signal coverage — after the plan",
                              "Village status — after the plan"]
    assert got["renderers"]["villages"] == "categorizedSymbol"
    assert got["renderers"]["coverage_after"] == "singlebandpseudocolor"
    assert got["labels"]["selected"] == "rank"
    assert got["default_style"] == "categorizedSymbol"  # plan.gpkg's own default style
    assert got["coloured_pixels"] > 1000
    keep = os.environ.get("TOWERPLAN_KEEP_QGIS_RENDER")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(keep) / "plan_qgz.png")


def test_model_chains_coverage_blank_spots_and_select_sites(
        qgis: Callable[..., Any], tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    """A graphical-modeller model (built with PyQGIS, saved as .model3, reloaded and run):
    Coverage of a sites layer feeds Blank spots and Select sites as today's coverage; both
    equal the library run with that raster as a coverage map."""
    scenario_path = small_scenario()
    sites = _points_gpkg(tmp_path / "sites.gpkg", [(115.99, -1.69)])
    dem = Scenario.from_toml(scenario_path).inputs.dem[0]
    env = dict(qgis.env)  # type: ignore[attr-defined]
    script = tmp_path / "model.py"
    script.write_text(_MODEL.format(plugins=env["QGIS_PLUGINPATH"],
                                    model=tmp_path / "chain.model3", sites=sites, dem=dem,
                                    scenario=scenario_path, bs=tmp_path / "bs",
                                    sel=tmp_path / "sel"), encoding="utf-8")
    proc = subprocess.run(["/usr/bin/python3", str(script)], capture_output=True, text=True,
                          env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["ok"] and out["children"] == ["blankspots", "coverage", "select"]
    assert (tmp_path / "chain.model3").is_file()
    base = Scenario.from_toml(scenario_path)
    with_map = dataclasses.replace(base, inputs=dataclasses.replace(
        base.inputs, coverage_maps=(CoverageMapFile(path=out["coverage"], kind="rsrp",
                                                    technology="4g"),)))
    state = blankspots(with_map, tmp_path / "lib-bs")
    got = gpd.read_file(tmp_path / "bs" / "blankspots.gpkg", layer="villages")
    assert got["status"].tolist() == state.stats["status"].astype(str).tolist()
    plain = blankspots(base, tmp_path / "lib-plain")
    now, before = (state.stats["demand_covered"].to_numpy(),
                   plain.stats["demand_covered"].to_numpy())
    assert (now >= before - 1e-9).all() and now.sum() > before.sum()  # the map adds people
    lib = run_plan(dataclasses.replace(with_map, budget=dataclasses.replace(
        with_map.budget, total_idr=1_700_000_000)), tmp_path / "lib-sel",
        only=("ranking.csv",), check=False)
    ranking = pd.read_csv(tmp_path / "sel" / "ranking.csv", comment="#")
    assert ranking["site_id"].astype(str).tolist() == \
        lib.result.selected["site_id"].astype(str).tolist()


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo kabupaten as files and a scenario naming them. QGIS on Debian 12 cannot
    generate the demo itself (its GEOS 3.11 lacks the coverage simplification), so it is
    generated here and read by QGIS as any user's data."""
    from towerplan.commands.demo import write_demo

    folder = tmp_path_factory.mktemp("demo") / "demo"
    write_demo(folder)
    (folder / "scenario.toml").write_text("""
[scenario]
name = "demo-files"
title = "Kabupaten Contoh (demo sintetis) from files"

[inputs]
villages = "villages.gpkg"
dem = ["dem.tif"]
towers = "towers.csv"
settlements = "settlements.csv"
landcover = "landcover.tif"
pops = "pops.csv"
village_population = "village_population.csv"
""", encoding="utf-8")
    return folder


def test_every_algorithm_runs_on_the_demo_data(qgis: Callable[..., Any], tmp_path: Path,
                                               demo_files: Path) -> None:
    """All eight algorithms on the demo kabupaten (144 villages, 90 m terrain): valid
    outputs whose figures agree with each other (the scenario algorithms share the stage
    cache of the first run, as a user's repeated runs do)."""
    scenario = demo_files / "scenario.toml"
    budget = Scenario.from_toml(scenario).budget.total_idr
    plan = tmp_path / "plan"
    _algorithm(qgis, "plan", SCENARIO=scenario, OUTPUT_FOLDER=plan, QGIS_PROJECT="true")
    summary = json.loads((plan / "summary.json").read_text(encoding="utf-8"))
    villages = gpd.read_file(plan / "plan.gpkg", layer="villages")
    selected = gpd.read_file(plan / "plan.gpkg", layer="selected")
    assert len(villages) == len(gpd.read_file(demo_files / "villages.gpkg")) > 100
    assert len(selected) > 0 and selected["cost_total_idr"].sum() <= budget + 1
    assert (plan / "plan.qgz").is_file() and (plan / "report.pdf").is_file()

    sel = tmp_path / "select"
    _algorithm(qgis, "select_sites", SCENARIO=scenario, OUTPUT_FOLDER=sel)
    ranking = pd.read_csv(sel / "ranking.csv", comment="#")
    assert ranking["site_id"].astype(str).tolist() == selected["site_id"].astype(str).tolist()

    bs = tmp_path / "bs"
    _algorithm(qgis, "blankspots", SCENARIO=scenario, OUTPUT_FOLDER=bs)
    status = gpd.read_file(bs / "blankspots.gpkg", layer="villages")["status"]
    assert int((status == "blank").sum()) == summary["blank_villages_before"]

    cands = tmp_path / "cands"
    _algorithm(qgis, "candidates", SCENARIO=scenario, OUTPUT_FOLDER=cands)
    assert len(gpd.read_file(cands / "candidates.gpkg", layer="candidates")) == \
        len(gpd.read_file(plan / "plan.gpkg", layer="candidates"))

    audit_out = tmp_path / "audit"
    first = str(villages.loc[villages["status_before"] == "blank", "name"].iloc[0])
    _algorithm(qgis, "audit", SCENARIO=scenario, VILLAGES_AUDITED=first,
               OUTPUT_FOLDER=audit_out)
    assert len(gpd.read_file(audit_out / "audit.gpkg", layer="audit_sites")) == 1

    links = tmp_path / "links"
    _algorithm(qgis, "backhaul", SCENARIO=scenario, OUTPUT_FOLDER=links)
    assert len(gpd.read_file(links / "links.gpkg", layer="links")) >= 1

    rsrp = tmp_path / "rsrp.tif"
    _algorithm(qgis, "coverage", SITES=plan / "plan.gpkg|layername=existing",
               HEIGHT_FIELD="height_m", DEM=demo_files / "dem.tif", RADIUS_KM=10,
               OUTPUT=rsrp)
    with rasterio.open(rsrp) as src:
        assert np.isfinite(src.read(1)).sum() > 10_000
    site = selected.to_crs("EPSG:4326").geometry.iloc[0]
    tower = gpd.read_file(plan / "plan.gpkg", layer="existing").to_crs("EPSG:4326")
    report = tmp_path / "link.json"
    _algorithm(qgis, "link", START=f"{site.x},{site.y} [EPSG:4326]",
               END=f"{tower.geometry.iloc[0].x},{tower.geometry.iloc[0].y} [EPSG:4326]",
               DEM=demo_files / "dem.tif", OUTPUT_PNG=tmp_path / "link.png",
               OUTPUT_JSON=report)
    assert json.loads(report.read_text(encoding="utf-8"))["distance_m"] > 0


def test_missing_library_gives_one_clear_line(qgis: Callable[..., Any],
                                              tmp_path: Path) -> None:
    proc = qgis("run", "towerplan:plan", "--", f"OUTPUT_FOLDER={tmp_path / 'x'}",
                pythonpath="")
    assert proc.returncode != 0
    assert "towerplan library cannot be imported in QGIS's Python" in proc.stdout + proc.stderr
    assert "docs/qgis.md" in proc.stdout + proc.stderr
    assert not (tmp_path / "x").exists()


def test_library_errors_are_its_one_line_messages(qgis: Callable[..., Any], tmp_path: Path,
                                                  make_dem: Callable[..., Path]) -> None:
    dem = make_dem(shape=(60, 60), kind="flat", res_m=90.0)
    layer = _points_gpkg(tmp_path / "far.gpkg", [(110.0, -5.0)])
    proc = qgis("run", "towerplan:coverage", "--", f"SITES={layer}", f"DEM={dem}",
                f"OUTPUT={tmp_path / 'c.tif'}")
    assert proc.returncode != 0
    with pytest.raises(TowerplanError) as err:
        coverage(Scenario(), tmp_path / "lib.tif", dem=[dem], sites_lonlat=[(110.0, -5.0)])
    message = " ".join(str(err.value).split())
    assert f"ERROR:\t{message}" in proc.stdout + proc.stderr
    assert not (tmp_path / "c.tif").exists()


_RENDER = '''
import json
from qgis.core import (QgsApplication, QgsMapRendererParallelJob, QgsMapSettings, QgsProject,
                       QgsVectorLayer)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
project = QgsProject.instance()
out = {{"read": project.read("{project}")}}
root = project.layerTreeRoot()
out["groups"] = [g.name() for g in root.children()]
out["order"] = [node.name() for node in root.findLayers()]
out["checked"] = [node.name() for node in root.findLayers() if node.isVisible()]
layers = project.mapLayers().values()
out["all_valid"] = bool(layers) and all(layer.isValid() for layer in layers)
by_key = {{layer.id().rsplit("_", 1)[0]: layer for layer in layers}}
out["renderers"] = {{key: layer.renderer().type() for key, layer in by_key.items()}}
selected = by_key["selected"]
out["labels"] = {{"selected": selected.labeling().settings().fieldName
                 if selected.labelsEnabled() else None}}
plain = QgsVectorLayer("{gpkg}|layername=villages", "v", "ogr")
out["default_style"] = plain.renderer().type()
settings = QgsMapSettings()
settings.setLayers(root.checkedLayers())
settings.setDestinationCrs(project.crs())
settings.setExtent(by_key["villages"].extent())
settings.setOutputSize(QSize(900, 900))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save("{png}")
coloured = 0
for y in range(0, 900, 4):
    for x in range(0, 900, 4):
        c = QColor(image.pixel(x, y))
        if not (c.red() == c.green() == c.blue()):
            coloured += 1
out["coloured_pixels"] = coloured * 16
del layers, by_key, selected, plain, job
project.clear()
app.exitQgis()
print(json.dumps(out))
'''


_MODEL = '''
import json, sys
sys.path.insert(0, "{plugins}")
from qgis.core import (QgsApplication, QgsProcessingContext, QgsProcessingFeedback,
                       QgsProcessingModelAlgorithm, QgsProcessingModelChildAlgorithm,
                       QgsProcessingModelChildParameterSource as Src,
                       QgsProcessingModelOutput, QgsProcessingModelParameter,
                       QgsProcessingParameterFeatureSource, QgsProcessingParameterFile,
                       QgsProcessingParameterRasterLayer, QgsProject)
app = QgsApplication([], False)
app.initQgis()
from towerplan_qgis.provider import TowerplanProvider
provider = TowerplanProvider()
QgsApplication.processingRegistry().addProvider(provider)

model = QgsProcessingModelAlgorithm("towerplan chain", "towerplan")
for param in (QgsProcessingParameterFeatureSource("sites", "Sites"),
              QgsProcessingParameterRasterLayer("dem", "Terrain"),
              QgsProcessingParameterFile("scenario", "Scenario", extension="toml")):
    model.addModelParameter(param, QgsProcessingModelParameter(param.name()))


def child(alg, cid, sources, outputs=()):
    c = QgsProcessingModelChildAlgorithm(alg)
    c.setChildId(cid)
    c.setDescription(cid)
    for name, src in sources.items():
        c.addParameterSources(name, [src])
    outs = {{}}
    for name, child_output in outputs:
        o = QgsProcessingModelOutput(name, name)
        o.setChildId(cid)
        o.setChildOutputName(child_output)
        outs[name] = o
    c.setModelOutputs(outs)
    model.addChildAlgorithm(c)


child("towerplan:coverage", "coverage", {{
    "SITES": Src.fromModelParameter("sites"), "DEM": Src.fromModelParameter("dem"),
    "RADIUS_KM": Src.fromStaticValue(6)}}, [("rsrp", "OUTPUT")])
child("towerplan:blankspots", "blankspots", {{
    "SCENARIO": Src.fromModelParameter("scenario"),
    "COVERAGE_TODAY": Src.fromChildOutput("coverage", "OUTPUT")}}, [("bs", "OUTPUT_FOLDER")])
child("towerplan:select_sites", "select", {{
    "SCENARIO": Src.fromModelParameter("scenario"),
    "COVERAGE_TODAY": Src.fromChildOutput("coverage", "OUTPUT"),
    "BUDGET_IDR": Src.fromStaticValue(1700000000)}}, [("sel", "OUTPUT_FOLDER")])
model.updateDestinationParameters()
assert model.toFile("{model}")
loaded = QgsProcessingModelAlgorithm()
assert loaded.fromFile("{model}")
context = QgsProcessingContext()
context.setProject(QgsProject.instance())
feedback = QgsProcessingFeedback()
params = {{"sites": "{sites}", "dem": "{dem}", "scenario": "{scenario}",
          "coverage:rsrp": "{bs}_rsrp.tif", "blankspots:bs": "{bs}",
          "select:sel": "{sel}"}}
results, ok = loaded.run(params, context, feedback)
out = {{"ok": bool(ok), "children": sorted(loaded.childAlgorithms()),
       "coverage": results.get("coverage:rsrp")}}
del loaded, model, context
QgsApplication.processingRegistry().removeProvider(provider)
app.exitQgis()
print(json.dumps(out))
'''


_HISTORY_LAYERS = '''
import json
import os
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {{}}
for name in ("villages", "sites", "status_reports", "budgets", "site_events"):
    layer = QgsVectorLayer("{gpkg}|layername=" + name, name, "ogr")
    out[name] = [layer.isValid(), layer.featureCount(), layer.crs().authid(),
                 [f.name() for f in layer.fields()][:3]]
print(json.dumps(out), flush=True)
os._exit(0)  # QGIS 3.22 may crash while tearing down a standalone application
'''


def test_programme_history_opens_in_qgis(qgis: Callable[..., Any], tmp_path: Path) -> None:
    """programme.gpkg, written by towerplan's own SQLite code, is a GeoPackage QGIS reads:
    every table valid, the villages and sites in EPSG:4326 with their rows."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from towerplan.io.history import create_history, open_history

    path = create_history(tmp_path / "programme.gpkg", title="Uji")
    with open_history(path, write=True) as h:
        h.add_villages(gpd.GeoDataFrame(
            {"code": ["64.01.01.2001", "64.01.01.2002"], "name": ["Alpha", "Beta"]},
            geometry=[shapely.box(116, -2, 116.1, -1.9), shapely.box(116.1, -2, 116.2, -1.9)],
            crs="EPSG:4326"))
        h.add_reports(pd.DataFrame({"code": ["64.01.01.2001"], "status": ["none"],
                                    "date": ["2021"], "source": ["x"]}))
        h.add_site("S1", code="64.01.01.2002")
        h.add_event("S1", "proposed", "2024")
    script = tmp_path / "history.py"
    script.write_text(_HISTORY_LAYERS.format(gpkg=path), encoding="utf-8")
    proc = subprocess.run(["/usr/bin/python3", str(script)], capture_output=True, text=True,
                          env=dict(qgis.env), timeout=300, check=False)  # type: ignore[attr-defined]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["villages"] == [True, 2, "EPSG:4326", ["fid", "code", "name"]]
    assert got["sites"][:3] == [True, 1, "EPSG:4326"]
    assert got["status_reports"][:2] == [True, 1]
    assert got["site_events"][:2] == [True, 1]
    assert got["budgets"][:2] == [True, 0]
