"""QGIS default styles (QML) of the vector layers of ``plan.gpkg``, in the HTML map's colours.

The styles are stored in the GeoPackage's ``layer_styles`` table (the QGIS convention), so
QGIS draws each layer as ``map.html`` does as soon as it is added: villages filled by status
after the plan, backhaul hops by class, existing towers, candidates, the selected towers with
their build-order number, audit sites and the covered area before and after. Colours come
from :mod:`towerplan.outputs.styles`; the XML is built here with :mod:`xml.etree`, so every
label is escaped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from towerplan.i18n import status_label, t
from towerplan.outputs.styles import (
    LINK_CLASSES,
    QGIS_DOCTYPE,
    STATUS_COLORS,
    UNKNOWN_COLOR,
    rsrp_colors,
)

__all__ = ["MarkerStyle", "PLAN_LAYER_STYLES", "plan_layer_styles", "vector_qml"]

#: Millimetres per CSS pixel at 96 dpi (the map's marker sizes are in pixels).
_MM_PER_PX = 25.4 / 96
#: Fill opacity of village polygons, as on the map.
_VILLAGE_FILL_ALPHA = 0.42


@dataclass(frozen=True, slots=True)
class MarkerStyle:
    """A point symbol: shape, fill, outline and size as on the map, plus an optional label.

    Attributes
    ----------
    shape : str
        QGIS simple-marker name (``circle``, ``square``, ``diamond``).
    fill, outline : str
        ``#rrggbb`` colours.
    outline_px, diameter_px : float
        Outline width and symbol size, CSS pixels (converted to millimetres).
    label_field : str
        Field drawn on the symbol (white bold text), or ``""`` for none.
    """

    shape: str
    fill: str
    outline: str
    outline_px: float
    diameter_px: float
    label_field: str = ""


#: Point layers of plan.gpkg and their symbols (the map's markers).
_MARKERS: dict[str, MarkerStyle] = {
    "existing": MarkerStyle("circle", "#1f3a93", "#ffffff", 2, 12),
    "candidates": MarkerStyle("circle", "#6b6b6b", "#ffffff", 1, 7),
    "selected": MarkerStyle("circle", "#111111", "#ffd400", 2, 24, "rank"),
    "audit": MarkerStyle("square", "#7b3294", "#ffffff", 2, 22, "audit_id"),
}
#: Every layer of plan.gpkg that gets a default style.
PLAN_LAYER_STYLES: tuple[str, ...] = ("villages", *_MARKERS, "links", "coverage")


def _rgba(color: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` and an opacity (0..1) as QGIS's ``r,g,b,a`` string."""
    value = color.lstrip("#")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _ramp_hex(dbm: float) -> str:
    """Colour of the map's RSRP ramp at *dbm*."""
    rgb = rsrp_colors(np.array([dbm]), -np.inf)[0, :3]
    return "#" + "".join(f"{int(v):02x}" for v in rgb)


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    """A QGIS ``<Option type="Map">`` of string values (the 3.x symbol-layer properties)."""
    node = ET.SubElement(parent, "Option", type="Map")
    for key, value in values.items():
        ET.SubElement(node, "Option", type="QString", name=key, value=value)


def _symbol(parent: ET.Element, kind: str, name: str, props: dict[str, str],
            tag: str = "symbol") -> None:
    """A one-layer symbol: ``kind`` is ``fill``, ``line`` or ``marker``."""
    layer_class = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[kind]
    symbol = ET.SubElement(parent, tag, type=kind, name=name, alpha="1", clip_to_extent="1",
                           force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": layer_class, "enabled": "1",
                                            "locked": "0", "pass": "0"})
    _options(layer, props)


def _fill(color: str, alpha: float, outline: str, outline_mm: float) -> dict[str, str]:
    return {"color": _rgba(color, alpha), "style": "solid", "outline_color": _rgba(outline, 0.9),
            "outline_style": "solid", "outline_width": f"{outline_mm:g}",
            "outline_width_unit": "MM", "joinstyle": "bevel"}


def _line(color: str, width_px: float, dash: str) -> dict[str, str]:
    props = {"line_color": _rgba(color, 0.95), "line_width": f"{width_px * _MM_PER_PX:.2f}",
             "line_width_unit": "MM", "line_style": "solid", "capstyle": "round",
             "joinstyle": "round", "use_custom_dash": "0", "customdash_unit": "MM"}
    if dash:
        mm = ";".join(f"{float(v) * _MM_PER_PX:.2f}" for v in dash.split())
        props.update(use_custom_dash="1", customdash=mm)
    return props


def _marker(style: MarkerStyle) -> dict[str, str]:
    return {"name": style.shape, "color": _rgba(style.fill), "outline_color":
            _rgba(style.outline), "outline_style": "solid",
            "outline_width": f"{style.outline_px * _MM_PER_PX:.2f}", "outline_width_unit": "MM",
            "size": f"{style.diameter_px * _MM_PER_PX:.2f}", "size_unit": "MM",
            "angle": "0", "scale_method": "diameter", "joinstyle": "bevel"}


def _categorized(root: ET.Element, attr: str, kind: str,
                 categories: Sequence[tuple[str, str, dict[str, str]]]) -> None:
    """A categorized renderer on *attr* (a field or an expression): (value, label, props)."""
    renderer = ET.SubElement(root, "renderer-v2", type="categorizedSymbol", attr=attr,
                             symbollevels="0", enableorderby="0", forceraster="0")
    cats = ET.SubElement(renderer, "categories")
    symbols = ET.SubElement(renderer, "symbols")
    for k, (value, label, props) in enumerate(categories):
        ET.SubElement(cats, "category", symbol=str(k), value=value, label=label, render="true")
        _symbol(symbols, kind, str(k), props)
    _symbol(renderer, kind, "0", categories[0][2], tag="source-symbol")


def _single(root: ET.Element, kind: str, props: dict[str, str]) -> None:
    renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", symbollevels="0",
                             enableorderby="0", forceraster="0")
    _symbol(ET.SubElement(renderer, "symbols"), kind, "0", props)


def _labels(root: ET.Element, field: str, size_pt: float) -> None:
    """White bold labels centred on the point (the map's numbered markers)."""
    root.set("labelsEnabled", "1")
    settings = ET.SubElement(ET.SubElement(root, "labeling", type="simple"), "settings",
                             calloutType="simple")
    ET.SubElement(settings, "text-style", fieldName=field, isExpression="0",
                  fontSize=f"{size_pt:g}", fontSizeUnit="Point", fontWeight="75",
                  fontFamily="Sans Serif", textColor="255,255,255,255", textOpacity="1",
                  namedStyle="Bold", multilineHeight="1")
    ET.SubElement(settings, "text-buffer", bufferDraw="0")
    ET.SubElement(settings, "placement", placement="1", offsetType="0", xOffset="0",
                  yOffset="0", quadOffset="4", dist="0", priority="10")
    ET.SubElement(settings, "rendering", obstacle="0", displayAll="1", upsidedownLabels="0",
                  scaleVisibility="0", drawLabels="1", zIndex="1", limitNumLabels="0")


#: The expression giving a hop's :data:`LINK_CLASSES` key (as :func:`~towerplan.outputs.styles.
#: link_class`: infeasible first, then fibre/VSAT, then microwave by fade margin).
_LINK_CLASS_EXPRESSION = (
    "CASE WHEN NOT coalesce(\"feasible\", 0) THEN 'infeasible' "
    "WHEN lower(trim(\"technology\")) IN ('fibre', 'fiber') THEN 'fibre' "
    "WHEN lower(trim(\"technology\")) = 'vsat' THEN 'vsat' "
    "WHEN \"margin_db\" IS NULL OR \"margin_db\" < 10 THEN 'margin_low' "
    "WHEN \"margin_db\" < 20 THEN 'margin_mid' ELSE 'margin_high' END")

#: Geometry type code QGIS stores with a style (0 point, 1 line, 2 polygon).
_GEOMETRY_CODE = {"marker": "0", "line": "1", "fill": "2"}


def vector_qml(layer: str, lang: str = "id", *, threshold_dbm: float = -105.0) -> str:
    """Return the QGIS style (QML) of one layer of ``plan.gpkg``.

    Parameters
    ----------
    layer : str
        One of :data:`PLAN_LAYER_STYLES`.
    lang : {"id", "en"}
        Language of the category labels.
    threshold_dbm : float
        Coverage threshold, dBm: the ``coverage`` layer takes the RSRP ramp's colour there
        (before) and at -75 dBm (after).

    Returns
    -------
    str
        The QML document with its ``DOCTYPE`` line.

    Raises
    ------
    KeyError
        If *layer* has no style.
    """
    root = ET.Element("qgis", version="3.22.16", styleCategories="AllStyleCategories")
    if layer == "villages":
        kind = "fill"
        cats = [(status, status_label(status, lang),
                 _fill(color, _VILLAGE_FILL_ALPHA, "#333333", 0.26))
                for status, color in STATUS_COLORS.items()]
        cats.append(("", status_label("unknown", lang),
                     _fill(UNKNOWN_COLOR, _VILLAGE_FILL_ALPHA, "#333333", 0.26)))
        _categorized(root, "status_after", kind, cats)
    elif layer == "links":
        kind = "line"
        _categorized(root, _LINK_CLASS_EXPRESSION, kind, [
            (key, t(f"legend.link_{key}", lang), _line(color, 3.5, dash))
            for key, (color, dash) in LINK_CLASSES.items()])
    elif layer == "coverage":
        kind = "fill"
        _categorized(root, "stage", kind, [
            ("before", t("layer.coverage_before", lang),
             _fill(_ramp_hex(threshold_dbm), 0.45, _ramp_hex(-90.0), 0.3)),
            ("after", t("layer.coverage_after", lang),
             _fill(_ramp_hex(-75.0), 0.35, _ramp_hex(-60.0), 0.3))])
    else:
        marker = _MARKERS[layer]
        kind = "marker"
        _single(root, kind, _marker(marker))
        if marker.label_field:
            _labels(root, marker.label_field, 8)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = _GEOMETRY_CODE[kind]
    ET.indent(root)
    return QGIS_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def plan_layer_styles(layers: Sequence[str], lang: str = "id", *,
                      threshold_dbm: float = -105.0) -> dict[str, str]:
    """The default QML of each of *layers* that has one (see :func:`vector_qml`)."""
    return {name: vector_qml(name, lang, threshold_dbm=threshold_dbm)
            for name in layers if name in PLAN_LAYER_STYLES}
