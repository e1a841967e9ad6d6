"""``plan.qgz``: written without QGIS, only when asked, with relative sources and styles."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

from towerplan.commands.plan import run_plan
from towerplan.scenario import Scenario


def test_plan_qgz_only_when_asked_with_relative_styled_layers(
        tmp_path: Path, small_scenario: Callable[..., Path]) -> None:
    scenario = Scenario.from_toml(small_scenario())
    plain = run_plan(scenario, tmp_path / "plain", check=False)
    assert (plain.out_dir / "plan.gpkg").is_file()
    assert not (plain.out_dir / "plan.qgz").exists()  # only when asked
    asked = dataclasses.replace(scenario, outputs=dataclasses.replace(scenario.outputs,
                                                                      qgis_project=True))
    out = tmp_path / "asked"
    run_plan(asked, out, lang="en", check=False)
    with zipfile.ZipFile(out / "plan.qgz") as zf:
        assert zf.namelist() == ["plan.qgs"]
        root = ET.fromstring(zf.read("plan.qgs").decode("utf-8").split("\n", 1)[1])
    groups = [g.get("name") for g in root.find("layer-tree-group").findall("layer-tree-group")]
    assert groups == ["Plan", "Signal coverage", "Villages"]
    layers = root.find("projectlayers").findall("maplayer")
    ids = [layer.findtext("id") for layer in layers]
    assert len(set(ids)) == len(ids) == 7
    for layer in layers:
        source = layer.findtext("datasource")
        assert source.startswith("./")  # relative: the folder can move
        assert (out / source[2:].split("|")[0]).is_file()
        assert layer.find("srs/spatialrefsys/wkt").text.startswith(("PROJCRS", "PROJCS"))
        style = "pipe" if layer.get("type") == "raster" else "renderer-v2"
        assert layer.find(style) is not None, source
    assert root.find("properties/Paths/Absolute").text == "false"
    abstract = root.findtext("projectMetadata/abstract")
    limitations = asked_summary(out)["limitations"]
    summary = asked_summary(out)
    assert abstract.splitlines() == [*(f"{k}. {text}" for k, text in
                                       enumerate(limitations, start=1)),
                                     summary["model_chain"]]  # limitations first
    assert root.findall("projectMetadata/rights")  # a licence line per data source
    villages = next(x for x in layers if x.findtext("datasource").endswith("=villages"))
    assert villages.find("renderer-v2").get("attr") == "status_after"


def asked_summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))
