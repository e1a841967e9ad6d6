"""Shared colours: the RSRP ramp of the map and the QGIS style, backhaul classes."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from towerplan.outputs.styles import (
    LINK_CLASSES,
    RSRP_ALPHA,
    RSRP_STOPS,
    coverage_qml,
    link_class,
    rsrp_colors,
    write_coverage_qml,
)

from .factories import leftovers


def _items(text: str) -> list[ET.Element]:
    root = ET.fromstring(text.split("\n", 1)[1])  # after the DOCTYPE line
    shader = root.find("pipe/rasterrenderer/rastershader/colorrampshader")
    assert shader is not None
    return shader.findall("item")


def test_qml_is_a_clipped_pseudocolour_style_starting_at_the_threshold():
    text = coverage_qml(-105.0)
    assert text.startswith("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis ")
    root = ET.fromstring(text.split("\n", 1)[1])
    renderer = root.find("pipe/rasterrenderer")
    assert renderer.get("type") == "singlebandpseudocolor"
    assert renderer.get("band") == "1"
    shader = renderer.find("rastershader/colorrampshader")
    assert shader.get("colorRampType") == "INTERPOLATED"
    assert shader.get("clip") == "1"  # below the threshold: not drawn, as on the map
    assert [float(i.get("value")) for i in _items(text)] == [-105.0, -90.0, -75.0, -60.0, 0.0]
    assert {i.get("alpha") for i in _items(text)} == {str(RSRP_ALPHA)}


def test_qml_colours_equal_the_map_colours_at_every_item():
    for threshold in (-105.0, -110.0, -97.5):
        items = _items(coverage_qml(threshold))
        values = np.array([[float(i.get("value")) for i in items]])
        rgba = rsrp_colors(values, threshold)[0]
        for item, colour in zip(items, rgba, strict=True):
            assert item.get("color") == "#" + "".join(f"{v:02x}" for v in colour[:3])
        assert items[0].get("value") == f"{threshold:g}"
        assert items[0].get("label") == f"{threshold:g} dBm"
    # the ramp's own stops appear unchanged
    item = {i.get("value"): i.get("color") for i in _items(coverage_qml(-120.0))}
    for stop, rgb in RSRP_STOPS:
        assert item[f"{stop:g}"] == "#{:02x}{:02x}{:02x}".format(*rgb)


def test_write_coverage_qml_is_atomic_utf8(tmp_path):
    path = write_coverage_qml(tmp_path / "coverage_after.qml", -105.0)
    assert path.read_text(encoding="utf-8") == coverage_qml(-105.0)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("technology", "feasible", "margin_db", "expected"), [
    ("microwave", True, 25.0, "margin_high"),
    ("microwave", True, 20.0, "margin_high"),
    ("microwave", True, 19.9, "margin_mid"),
    ("microwave", True, 10.0, "margin_mid"),
    ("microwave", True, 9.9, "margin_low"),
    ("microwave", True, math.nan, "margin_low"),
    ("microwave", False, 30.0, "infeasible"),
    ("Fibre", True, math.nan, "fibre"),
    ("vsat", True, math.nan, "vsat"),
    ("vsat", False, math.nan, "infeasible"),
])
def test_link_classes(technology, feasible, margin_db, expected):
    assert link_class(technology, feasible, margin_db) == expected
    assert expected in LINK_CLASSES
