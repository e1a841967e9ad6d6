"""``plan.qgz``: a QGIS project of the plan's outputs, styled, grouped and ordered as the map.

The project is written without QGIS: a ``.qgz`` is a zip archive holding one ``.qgs`` XML
document. Its layers point at the files beside it by relative paths (``./plan.gpkg|layername=
villages``, ``./coverage_after.tif``), so the output folder can be moved or shared whole. Each
layer carries the same style as its default style in ``plan.gpkg`` or its ``.qml`` file
(:mod:`towerplan.outputs.vector_styles`, :mod:`towerplan.outputs.styles`), and the layer tree
follows the HTML map from top to bottom:

- *Plan*: selected towers (labelled with their build order), backhaul links and audit sites
  when the plan has them, candidate sites (off, as on the map), existing towers;
- *Coverage*: best-server RSRP after the plan (on) and before (off), and the covered area
  polygons of both (off); above the villages, as on the map, so that the RSRP shows the
  legend's colours;
- *Villages*: village status after the plan.

The project's metadata (*Project > Properties > Metadata*) holds the plan's limitations first,
then the model chain, and a rights line per data source with its licence. The map's offline
relief and the optional OpenStreetMap background are not in the project (QGIS users add their
own base maps).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerplan.i18n import t
from towerplan.io.atomic import atomic_output
from towerplan.outputs.styles import QGIS_DOCTYPE, coverage_qml
from towerplan.outputs.vector_styles import vector_qml

if TYPE_CHECKING:
    from towerplan.results import PlanResult

__all__ = ["project_qgs", "write_qgis_project"]

_NAMESPACE = uuid.UUID("6c1f3a52-3d0e-4c8a-9a57-0d3e1b7a9e11")
_QGIS_VERSION = "3.22.16-Białowieża"


def _srs(parent: ET.Element, crs: Any) -> None:
    """``<spatialrefsys>`` of a pyproj-compatible CRS (WKT and authority code)."""
    from pyproj import CRS

    crs = CRS.from_user_input(crs)
    srs = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "proj4")  # the WKT is authoritative; PROJ strings lose datum details
    ET.SubElement(srs, "srsid").text = "0"
    ET.SubElement(srs, "srid").text = "0"
    auth = crs.to_authority()
    ET.SubElement(srs, "authid").text = f"{auth[0]}:{auth[1]}" if auth else ""
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "projectionacronym")
    ET.SubElement(srs, "ellipsoidacronym")
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"


def _style_children(qml: str) -> list[ET.Element]:
    """The elements of a QML document's root: what a project stores inside a map layer."""
    root = ET.fromstring(qml.removeprefix(QGIS_DOCTYPE))
    return list(root)


class _Layer:
    """One layer of the project: its id, name, source, provider and style."""

    def __init__(self, key: str, name: str, source: str, provider: str, kind: str,
                 geometry: str, qml: str, *, visible: bool) -> None:
        self.id = f"{key}_{uuid.uuid5(_NAMESPACE, key).hex[:12]}"
        self.name, self.source, self.provider = name, source, provider
        self.kind, self.geometry, self.qml, self.visible = kind, geometry, qml, visible


def _layers(result: PlanResult, lang: str) -> list[tuple[str, list[_Layer]]]:
    threshold = result.scenario.radio.threshold_rsrp_dbm

    def vector(key: str, name_key: str, geometry: str, *, visible: bool = True) -> _Layer:
        return _Layer(key, t(name_key, lang), f"./plan.gpkg|layername={key}", "ogr", "vector",
                      geometry, vector_qml(key, lang, threshold_dbm=threshold),
                      visible=visible)

    def raster(stage: str, *, visible: bool) -> _Layer:
        return _Layer(f"coverage_{stage}", t(f"layer.coverage_{stage}", lang),
                      f"./coverage_{stage}.tif", "gdal", "raster", "", coverage_qml(threshold),
                      visible=visible)

    plan = [vector("selected", "layer.selected", "Point")]
    if result.links is not None:
        plan.append(vector("links", "layer.links", "Line"))
    if result.audit is not None:
        plan.append(vector("audit", "layer.audit", "Point"))
    plan += [vector("candidates", "layer.candidates", "Point", visible=False),
             vector("existing", "layer.existing", "Point")]
    coverage = [raster("after", visible=True), raster("before", visible=False),
                vector("coverage", "qgis.layer_coverage_area", "Polygon", visible=False)]
    return [(t("qgis.group_plan", lang), plan),
            (t("qgis.group_coverage", lang), coverage),
            (t("qgis.group_villages", lang),
             [vector("villages", "layer.villages_after", "Polygon")])]


def _metadata(root: ET.Element, result: PlanResult, title: str, lang: str) -> None:
    """Project metadata (*Project > Properties > Metadata*): the plan's limitations first,
    then the model chain, and one rights line per data source with its licence."""
    prov = result.provenance
    meta = ET.SubElement(root, "projectMetadata")
    ET.SubElement(meta, "identifier").text = prov.scenario_hash
    ET.SubElement(meta, "language").text = lang
    ET.SubElement(meta, "type").text = "dataset"
    ET.SubElement(meta, "title").text = title
    lines = [f"{k}. {text}" for k, text in
             enumerate(result.summary.get("limitations") or [], start=1)]
    if prov.synthetic:
        lines.insert(0, "DATA SINTETIS / SYNTHETIC DATA")
    lines.append(prov.model_chain)
    ET.SubElement(meta, "abstract").text = "\n".join(lines)
    for source in prov.data_sources:
        ET.SubElement(meta, "rights").text = source
    ET.SubElement(meta, "author").text = f"towerplan {prov.version}"
    ET.SubElement(meta, "creation").text = prov.created_utc


def _checked(visible: bool) -> str:
    return "Qt::Checked" if visible else "Qt::Unchecked"


def project_qgs(result: PlanResult, lang: str = "id") -> str:
    """The ``.qgs`` document of the plan's project (see the module documentation).

    Parameters
    ----------
    result : PlanResult
        The plan; its layers are referenced, not copied.
    lang : {"id", "en"}
        Language of the layer and group names and the style labels.

    Returns
    -------
    str
        The XML document with its ``DOCTYPE`` line.
    """
    groups = _layers(result, lang)
    title = result.scenario.scenario.title or "towerplan"
    root = ET.Element("qgis", projectname=title, version=_QGIS_VERSION)
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), result.crs)
    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    for group_name, layers in groups:
        group = ET.SubElement(tree, "layer-tree-group", name=group_name,
                              checked="Qt::Checked", expanded="1")
        ET.SubElement(group, "customproperties")
        for layer in layers:
            node = ET.SubElement(group, "layer-tree-layer", id=layer.id, name=layer.name,
                                 source=layer.source, providerKey=layer.provider,
                                 checked=_checked(layer.visible), expanded="0")
            ET.SubElement(node, "customproperties")
    order = ET.SubElement(root, "layerorder")
    ordered = [layer for _, layers in groups for layer in layers]
    for layer in ordered:
        ET.SubElement(order, "layer", id=layer.id)
    xmin, ymin, xmax, ymax = (float(v) for v in result.villages.total_bounds)
    pad = 0.05 * max(xmax - xmin, ymax - ymin, 1.0)
    canvas = ET.SubElement(root, "mapcanvas", name="theMapCanvas", annotationsVisible="1")
    ET.SubElement(canvas, "units").text = "meters"
    extent = ET.SubElement(canvas, "extent")
    for tag, value in (("xmin", xmin - pad), ("ymin", ymin - pad), ("xmax", xmax + pad),
                       ("ymax", ymax + pad)):
        ET.SubElement(extent, tag).text = f"{value:.3f}"
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), result.crs)
    project_layers = ET.SubElement(root, "projectlayers")
    for layer in ordered:
        attrs = {"type": layer.kind, "autoRefreshEnabled": "0", "refreshOnNotifyEnabled": "0"}
        if layer.kind == "vector":
            attrs["geometry"] = layer.geometry
        element = ET.SubElement(project_layers, "maplayer", attrs)
        ET.SubElement(element, "id").text = layer.id
        ET.SubElement(element, "datasource").text = layer.source
        ET.SubElement(element, "layername").text = layer.name
        _srs(ET.SubElement(element, "srs"), result.crs)
        ET.SubElement(element, "provider", encoding="UTF-8").text = layer.provider
        element.extend(_style_children(layer.qml))
    _metadata(root, result, title, lang)
    properties = ET.SubElement(root, "properties")
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    return QGIS_DOCTYPE + ET.tostring(root, encoding="unicode") + "\n"


def write_qgis_project(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write ``plan.qgz`` (a zip holding ``plan.qgs``) beside the plan's outputs, atomically.

    Parameters
    ----------
    result : PlanResult
        The plan.
    path : str or Path
        Destination ``.qgz`` file, in the folder of ``plan.gpkg`` and the coverage rasters.
    lang : {"id", "en"}
        Language of the names and labels.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    document = project_qgs(result, lang)
    with atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo(f"{path.stem}.qgs", date_time=(2020, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, document.encode("utf-8"))
    return path
