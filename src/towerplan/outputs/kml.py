"""The plan for Google Earth: ``plan.kml`` and ``plan.kmz``.

Two folders: the selected towers as points named by build order (``"1. C004"``), with their
cost parts and the demand each newly covers, and the villages that were blank spots before the
plan as polygons with their figures. With a programme (``result.programme``), one more folder
per programme year holds that year's towers, coloured by funding channel, and the
single-budget towers become a comparison folder, hidden at first. Coordinates are
WGS 84 longitude/latitude (6 decimals).

The document is built with :mod:`xml.etree.ElementTree`, which escapes every text and
attribute, so names round-trip exactly. Google Earth renders ``<description>`` as HTML, so
descriptions are built from values passed through :func:`html.escape` first: a village called
``<script>`` is shown as text, never run.
"""

from __future__ import annotations

import html
import logging
import math
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerplan.analysis.costs import with_not_costed
from towerplan.columns import RANKING_COLUMNS, VILLAGE_COLUMNS
from towerplan.coverage.statement import link_budget_text, stated_model_chain
from towerplan.i18n import check_lang, format_idr, format_value, t
from towerplan.io.atomic import atomic_output
from towerplan.io.stamps import zip_member
from towerplan.io.tables import require_columns
from towerplan.outputs.programme_report import channel_colors, check_programme, tower_popup
from towerplan.outputs.styles import STATUS_COLORS

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.results import PlanResult

__all__ = ["KML_NAMESPACE", "plan_kml", "write_plan_kml", "write_plan_kmz"]

log = logging.getLogger(__name__)

KML_NAMESPACE = "http://www.opengis.net/kml/2.2"
#: Decimals of longitude/latitude (6 decimals ≈ 0.1 m).
_COORD_DECIMALS = 6
#: Opacity (0..255) of the village fill.
_FILL_ALPHA = 0x66
#: Icon colour of the selected towers (KML ``aabbggrr``: opaque yellow).
_TOWER_COLOR = "ff00d4ff"

_COSTS = tuple((c, "idr") for c in ("cost_tower_idr", "cost_road_idr", "cost_power_idr",
                                    "cost_backhaul_idr", "cost_colocation_idr", "cost_total_idr"))
#: Rows of each description: column and how its value is shown (see ``format_value``).
_SELECTED_ROWS: tuple[tuple[str, str], ...] = (
    ("village", "text"), ("district", "text"), ("elevation_m", "0"), *_COSTS,
    ("cumulative_cost_idr", "idr"), ("new_demand", "demand"), ("cumulative_demand", "demand"),
    ("villages_lifted", "0"), ("villages_lifted_names", "text"), ("new_median_rsrp_dbm", "1"),
    ("new_area_median_rsrp_dbm", "1"),
    ("new_area_km2", "2"),
    ("backhaul_technology", "term"), ("backhaul_hops", "0"), ("backhaul_worst_clearance", "2"),
)
_VILLAGE_ROWS: tuple[tuple[str, str], ...] = (
    ("code", "text"), ("district", "text"), ("status_before", "status"),
    ("status_after", "status"), ("share_covered_before", "percent"),
    ("share_covered_after", "percent"), ("demand_total", "demand"), ("area_km2", "1"),
    ("status_model", "status"), ("status_reported", "status"), ("signal_reported", "term"),
    ("status_source", "term"), ("conflict", "yes/no"),
)
#: Raw values kept as ``ExtendedData`` for GIS use (text as is, numbers unformatted).
_SELECTED_DATA = ("rank", "site_id", "village_code", "cost_total_idr", "new_demand")
_VILLAGE_DATA = ("code", "status_before", "status_after", "share_covered_before",
                 "share_covered_after", "demand_total", "status_model", "status_reported",
                 "status_source", "conflict")


def _kml_color(hex_rgb: str, alpha: int) -> str:
    """KML colour ``aabbggrr`` of ``#rrggbb`` with opacity *alpha* (0..255).

    Examples
    --------
    >>> _kml_color("#d7301f", 0x66)
    '661f30d7'
    """
    rr, gg, bb = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"{alpha:02x}{bb}{gg}{rr}".lower()


def _raw(value: Any) -> str:
    """Plain text of a value for ``ExtendedData`` (missing values empty)."""
    if value is None:
        return ""
    try:
        if math.isnan(value):
            return ""
    except TypeError:
        pass
    if hasattr(value, "item"):
        value = value.item()
    return str(value)


def _description(row: Any, rows: Sequence[tuple[str, str]], lang: str, basis: str) -> str:
    """An HTML table of *rows*: every label and value escaped (Google Earth renders HTML)."""
    cells = "".join(
        f"<tr><th align=\"left\">{html.escape(t(f'col.{column}', lang))}</th>"
        f"<td>{html.escape(format_value(getattr(row, column), how, lang, demand_basis=basis))}"
        "</td></tr>" for column, how in rows)
    return f"<table>{cells}</table>"


def _coords(xy: Any) -> str:
    return " ".join(f"{x:.{_COORD_DECIMALS}f},{y:.{_COORD_DECIMALS}f}" for x, y in xy)


def _add_polygon(parent: ET.Element, polygon: Any) -> None:
    element = ET.SubElement(parent, "Polygon")
    for tag, ring in (("outerBoundaryIs", polygon.exterior),
                      *(("innerBoundaryIs", inner) for inner in polygon.interiors)):
        linear = ET.SubElement(ET.SubElement(element, tag), "LinearRing")
        ET.SubElement(linear, "coordinates").text = _coords(ring.coords)


def _add_geometry(placemark: ET.Element, geom: Any) -> None:
    """Add a Point, Polygon or MultiPolygon (as ``MultiGeometry``) to *placemark*."""
    if geom.geom_type == "Point":
        ET.SubElement(ET.SubElement(placemark, "Point"), "coordinates").text = _coords(
            [(geom.x, geom.y)])
    elif geom.geom_type == "Polygon":
        _add_polygon(placemark, geom)
    else:
        multi = ET.SubElement(placemark, "MultiGeometry")
        for part in getattr(geom, "geoms", ()):
            if part.geom_type == "Polygon" and not part.is_empty:
                _add_polygon(multi, part)


def _lonlat(frame: gpd.GeoDataFrame, crs: Any) -> list[Any]:
    geoms = frame.geometry.set_crs(crs) if frame.crs is None else frame.geometry
    return list(geoms.to_crs(4326))


def _placemark(folder: ET.Element, name: str, description: str, style: str,
               data: dict[str, str], geom: Any) -> None:
    placemark = ET.SubElement(folder, "Placemark")
    ET.SubElement(placemark, "name").text = name
    ET.SubElement(placemark, "description").text = description
    ET.SubElement(placemark, "styleUrl").text = f"#{style}"
    extended = ET.SubElement(placemark, "ExtendedData")
    for key, value in data.items():
        ET.SubElement(ET.SubElement(extended, "Data", name=key), "value").text = value
    _add_geometry(placemark, geom)


def _styles(document: ET.Element) -> None:
    tower = ET.SubElement(document, "Style", id="selected")
    icon = ET.SubElement(tower, "IconStyle")
    ET.SubElement(icon, "color").text = _TOWER_COLOR
    ET.SubElement(icon, "scale").text = "1.2"
    ET.SubElement(ET.SubElement(tower, "LabelStyle"), "scale").text = "1.1"
    village = ET.SubElement(document, "Style", id="blank")
    line = ET.SubElement(village, "LineStyle")
    ET.SubElement(line, "color").text = _kml_color(STATUS_COLORS["blank"], 0xFF)
    ET.SubElement(line, "width").text = "1.5"
    ET.SubElement(ET.SubElement(village, "PolyStyle"), "color").text = _kml_color(
        STATUS_COLORS["blank"], _FILL_ALPHA)


def _document_description(result: PlanResult, lang: str) -> str:
    prov, scn = result.provenance, result.scenario
    rows = [(t("map.scenario", lang), scn.scenario.name),
            (t("map.model", lang), stated_model_chain(scn, result.summary, prov.model_chain, lang)),
            (t("map.threshold", lang), f"RSRP ≥ {scn.radio.threshold_rsrp_dbm:g} dBm"),
            (t("map.link_budget", lang), link_budget_text(scn, lang)),
            (t("map.budget", lang), format_idr(scn.budget.total_idr, lang)),
            (t("map.solver", lang), prov.solver),
            (t("map.sources", lang), "; ".join(prov.data_sources)),
            ("towerplan", f"{prov.version} · {prov.scenario_hash} · {prov.created_utc}")]
    if prov.synthetic:
        rows.insert(0, (t("badge.synthetic", lang), t("badge.synthetic_note", lang)))
    return "<table>" + "".join(
        f"<tr><th align=\"left\">{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in rows) + "</table>"


def plan_kml(result: PlanResult, *, lang: str = "id") -> ET.Element:
    """Return the KML document of a plan as an element tree (root ``kml``).

    Parameters
    ----------
    result : PlanResult
        The plan.
    lang : {"id", "en"}
        Language of folder names and descriptions.

    Returns
    -------
    xml.etree.ElementTree.Element
        ``kml`` with one ``Document``: styles, a folder of the selected towers in build order
        and a folder of the villages that were blank spots before the plan.

    Raises
    ------
    OutputError
        If a table lacks a column this writer needs.
    ScenarioError
        If *lang* is not supported.
    """
    check_lang(lang)
    result = result.in_language(lang)
    require_columns(result.selected, RANKING_COLUMNS, "selected")
    require_columns(result.villages, VILLAGE_COLUMNS, "villages")
    crs, basis = result.crs, result.provenance.demand_basis
    root = ET.Element("kml", xmlns=KML_NAMESPACE)
    document = ET.SubElement(root, "Document")
    title = result.scenario.scenario.title
    if result.provenance.synthetic:
        title = f"{title} — {t('badge.synthetic', lang)}"
    ET.SubElement(document, "name").text = title
    ET.SubElement(document, "description").text = _document_description(result, lang)
    _styles(document)

    selected = result.selected.sort_values("rank")
    shown = with_not_costed(selected, result.scenario.costs, lang)  # words, not Rp 0
    folder = ET.SubElement(document, "Folder")
    if result.programme is None:
        ET.SubElement(folder, "name").text = t("layer.selected", lang)
    else:  # the programme's folders are the plan; the single budget compares, hidden at first
        ET.SubElement(folder, "name").text = t("prog.single.layer_selected", lang)
        ET.SubElement(folder, "visibility").text = "0"
    for row, text, geom in zip(selected.itertuples(index=False), shown.itertuples(index=False),
                               _lonlat(selected, crs), strict=True):
        if geom is None or geom.is_empty:
            continue
        _placemark(folder, f"{int(row.rank)}. {format_value(row.site_id, 'text', lang)}",
                   _description(text, _SELECTED_ROWS, lang, basis), "selected",
                   {c: _raw(getattr(row, c)) for c in _SELECTED_DATA}, geom)

    blank = result.villages[result.villages["status_before"] == "blank"]
    folder = ET.SubElement(document, "Folder")
    ET.SubElement(folder, "name").text = t("kml.blank_villages", lang)
    for row, geom in zip(blank.itertuples(index=False), _lonlat(blank, crs), strict=True):
        if geom is None or geom.is_empty:
            continue
        _placemark(folder, format_value(row.name, "text", lang),
                   _description(row, _VILLAGE_ROWS, lang, basis), "blank",
                   {c: _raw(getattr(row, c)) for c in _VILLAGE_DATA}, geom)
    if result.programme is not None:
        _programme_folders(document, result.programme, lang)
    return root


def _programme_folders(document: ET.Element, outcome: ProgrammeOutcome, lang: str) -> None:
    """One folder per programme year with that year's towers (icon in the channel colour)."""
    from shapely.geometry import Point

    check_programme(outcome)
    first_folder = next(i for i, e in enumerate(document) if e.tag == "Folder")
    for offset, (channel, color) in enumerate(channel_colors(outcome).items()):
        style = ET.Element("Style", id=_channel_style(outcome, channel))
        document.insert(first_folder + offset, style)  # styles before the folders
        icon = ET.SubElement(style, "IconStyle")
        ET.SubElement(icon, "color").text = _kml_color(color, 0xFF)
        ET.SubElement(icon, "scale").text = "1.1"
    for year in outcome.years:
        folder = ET.SubElement(document, "Folder")
        ET.SubElement(folder, "name").text = t("prog.kml_year", lang).format(year=year)
        builds = outcome.builds[outcome.builds["year"] == year]
        for row in builds.itertuples(index=False):
            lon, lat = float(row.lon), float(row.lat)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                continue
            title, rows = tower_popup(row, outcome, lang)
            description = "<table>" + "".join(
                f"<tr><th align=\"left\">{html.escape(label)}</th>"
                f"<td>{html.escape(value)}</td></tr>" for label, value in rows) + "</table>"
            data = {c: _raw(getattr(row, c)) for c in ("year", "channel", "site_id", "tower_type",
                                                       "capex_idr", "people_new")}
            _placemark(folder, title, description, _channel_style(outcome, str(row.channel)),
                       data, Point(lon, lat))


def _channel_style(outcome: ProgrammeOutcome, channel: str) -> str:
    """Style id of a channel's towers (by position: channel names are data)."""
    index = outcome.channels.index(channel) if channel in outcome.channels else len(
        outcome.channels)
    return f"programme-channel-{index}"


def _kml_bytes(result: PlanResult, lang: str) -> bytes:
    root = plan_kml(result, lang=lang)
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_plan_kml(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write :func:`plan_kml` as ``plan.kml`` (UTF-8, atomically) and return the path."""
    path = Path(path)
    data = _kml_bytes(result, lang)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    log.info("kml: %s (%.0f kB)", path, len(data) / 1024)
    return path


def write_plan_kmz(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write :func:`plan_kml` zipped as ``plan.kmz`` (one entry, ``doc.kml``); return the path."""
    path = Path(path)
    data = _kml_bytes(result, lang)
    with atomic_output(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as kmz:
        kmz.writestr(zip_member("doc.kml", result.provenance.created_utc), data)
    return path
