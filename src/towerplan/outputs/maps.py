"""The offline HTML map (``map.html``) for reviewers.

The map is built with folium, but nothing is fetched from the network when it is opened:
Leaflet's JavaScript and CSS (with its images as data URIs) are inlined from the installed
``xstatic-leaflet`` package, folium's CDN assets (jQuery, Bootstrap, Font Awesome,
awesome-markers) are dropped, the terrain basemap is a hillshade PNG embedded as a data URI,
and the OpenStreetMap tile layer is off until the user switches it on.

Village names, operators and ids are data, not HTML: every such string is escaped with
:func:`html.escape` before it becomes markup, and JSON placed inside ``<script>`` has ``<``,
``>`` and ``&`` escaped. Popup markup is built here in Python; the page's JavaScript only
inserts it, and shows search results with ``textContent``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import json
import logging
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import folium
import numpy as np
from branca.element import Element, Figure, MacroElement
from folium.map import CustomPane, Layer
from folium.raster_layers import ImageOverlay, TileLayer
from folium.template import Template
from folium.utilities import JsCode

from towerplan.analysis.costs import cost_scope_text, with_not_costed
from towerplan.analysis.programme_outcome import programme_totals
from towerplan.columns import (
    AUDIT_COLUMNS,
    BACKHAUL_COLUMNS,
    CANDIDATE_COLUMNS,
    RANKING_COLUMNS,
    TOWER_COLUMNS,
    VILLAGE_COLUMNS,
)
from towerplan.coverage.statement import link_budget_text, stated_model_chain
from towerplan.errors import OutputError
from towerplan.i18n import (
    check_lang,
    format_idr,
    format_number,
    format_value,
    in_language,
    status_label,
    t,
)
from towerplan.io.atomic import atomic_output
from towerplan.io.tables import require_columns
from towerplan.outputs.map_rasters import coverage_uri, grid_corners, hillshade, relief_uri
from towerplan.outputs.programme_report import (
    channel_colors,
    check_programme,
    programme_value,
    signal_label,
    tower_popup,
    why_not_popup,
)
from towerplan.outputs.styles import (
    LINK_CLASSES,
    RSRP_STOPS,
    STATUS_COLORS,
    UNKNOWN_COLOR,
    link_class,
    rsrp_colors,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.results import PlanResult

__all__ = ["STATUS_COLORS", "hillshade", "rsrp_colors", "write_map", "write_offline_page"]

log = logging.getLogger(__name__)

#: Tolerance of the display simplification of village outlines, metres.
_SIMPLIFY_M = 50.0
#: Decimals of longitude/latitude in the page (5 decimals ≈ 1 m).
_COORD_DECIMALS = 5

_EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//"
    r"|url\(\s*[\"']?\s*(?:https?:)?//|@import", re.IGNORECASE)


def write_map(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write the offline HTML map of a plan.

    Parameters
    ----------
    result : PlanResult
        The plan to show.
    path : str or Path
        Destination file, normally ``map.html``.
    lang : {"id", "en"}
        Language of every label (default Bahasa Indonesia).

    Returns
    -------
    Path
        The file written (atomically).

    Raises
    ------
    OutputError
        If the file cannot be written or the page would load an external asset.
    ScenarioError
        If *lang* is not supported.

    Notes
    -----
    Layers, each in the layer control: terrain relief (offline hillshade of ``result.dem``),
    OpenStreetMap tiles (online, off by default), RSRP coverage before and after, village
    status before and after, existing towers, candidate sites, the selected towers numbered
    by build order and, when the result has them, backhaul hops (``result.links``, coloured by
    technology and fade margin) and audit sites of a past decision (``result.audit``). Shown at
    first: relief, coverage and status after the plan, existing and selected towers, links and
    audit sites. With a programme (``result.programme``), one layer per programme year holds
    that year's towers, coloured by funding channel (popup: type, channel, villages lifted,
    people, capex), every year shown at first, and the villages' status at the end of the
    programme (popup: Podes signal and, for a village left blank, the programme's "why
    not") is shown instead of the single-budget plan's: its towers, coverage and village
    status become comparison layers, off at first, and the title block states the
    programme's budget, towers, people and cost per person. A title block states the scenario, model
    chain, threshold, budget, solver and data sources; a search box zooms to a village by name
    and opens its popup.
    """
    check_lang(lang)
    result = result.in_language(lang)
    for frame, columns, layer in ((result.villages, VILLAGE_COLUMNS, "villages"),
                                  (result.existing, TOWER_COLUMNS, "existing"),
                                  (result.candidates, CANDIDATE_COLUMNS, "candidates"),
                                  (result.selected, RANKING_COLUMNS, "selected"),
                                  (result.links, BACKHAUL_COLUMNS, "links"),
                                  (result.audit, AUDIT_COLUMNS, "audit")):
        if frame is not None:
            require_columns(frame, columns, layer)
    path = write_offline_page(_render(result, lang), path, what="map")
    log.info("map: %s (%.0f kB)", path, path.stat().st_size / 1024)
    return path


def write_offline_page(page: str, path: str | Path, *, what: str) -> Path:
    """Write an HTML page atomically, refusing one that would load an external asset.

    Parameters
    ----------
    page : str
        The whole page.
    path : str or Path
        Destination file.
    what : str
        What the page is (``"map"``, ``"dashboard"``), for the error message.

    Raises
    ------
    OutputError
        If the page would load a script, style, image or frame from the network, or the file
        cannot be written.
    """
    match = _EXTERNAL_ASSET.search(page)
    if match:
        msg = (f"{what} would load an external asset ({match.group(0)[:80]}...); "
               "refusing to write")
        raise OutputError(msg)
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- rasters


def _esc(value: Any) -> str:
    """Escape any value for HTML text and attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def _script_json(data: Any) -> str:
    """Serialise *data* as JSON that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


_Popup = tuple[list[str], dict[str, Any]]

_COSTS = tuple((c, "idr") for c in ("cost_tower_idr", "cost_road_idr", "cost_power_idr",
                                    "cost_backhaul_idr", "cost_colocation_idr", "cost_total_idr"))
#: Rows of each popup: column and how its value is shown (a digit: decimals of a number).
_POPUP_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "villages": (("code", "text"), ("district", "text"), ("status_before", "status"),
                 ("status_after", "status"), ("share_covered_before", "percent"),
                 ("share_covered_after", "percent"), ("demand_total", "demand"),
                 ("area_km2", "1"), ("status_model", "status"), ("status_reported", "status"),
                 ("signal_reported", "term"), ("status_source", "term"),
                 ("conflict", "yes/no"), ("why_not_site", "text"),
                 ("why_not_cost_per_person_idr", "idr"), ("why_not_extra_budget_idr", "idr"),
                 ("why_not_reason", "why_not")),  # the why_not rows: only when still blank
    "candidates": (("village", "text"), ("district", "text"), ("origin", "term"),
                   ("land_status", "term"),
                   ("elevation_m", "0"), *_COSTS, ("demand_alone", "demand"),
                   ("selected", "yes/no")),
    "selected": (("village", "text"), ("district", "text"), ("land_status", "term"),
                 ("elevation_m", "0"), *_COSTS,
                 ("cumulative_cost_idr", "idr"), ("new_demand", "demand"),
                 ("cumulative_demand", "demand"), ("villages_lifted", "0"),
                 ("villages_lifted_names", "text"), ("new_median_rsrp_dbm", "1"),
                 ("new_area_median_rsrp_dbm", "1"),
                 ("new_area_km2", "2"),
                 ("backhaul_technology", "term"), ("backhaul_hops", "0"),
                 ("backhaul_worst_clearance", "2")),
    "existing": (("operator", "text"), ("radio", "text"), ("tower_technology", "text"),
                 ("height_m", "0"), ("cells", "0")),
    "committed": (("site_name", "text"), ("programme", "text"), ("operator", "text"),
                  ("on_air_year", "text"), ("tower_technology", "text"), ("height_m", "0")),
    "audit": (("village", "text"), ("district", "text"), ("source", "term"),
              ("cost_total_idr", "idr"), ("new_demand", "demand")),
    "links": (("site_id", "text"), ("from_id", "text"), ("to_id", "text"),
              ("technology", "term"), ("distance_km", "2"), ("clearance_ratio", "2"),
              ("margin_db", "1"), ("feasible", "yes/no"), ("cost_idr", "idr")),
}
#: Column naming each feature, by layer.
_ID_COLUMN = {"existing": "tower_id", "committed": "committed_id", "audit": "audit_id",
              "links": "link_id"}
#: Title label of each popup, by layer.
_POPUP_TITLE = {"villages": "popup.village", "candidates": "popup.site",
                "existing": "popup.existing", "committed": "popup.committed",
                "audit": "popup.audit", "links": "popup.link"}


def _popup(row: Any, kind: str, result: PlanResult, lang: str) -> _Popup:
    """Return the escaped row labels (shared by a layer) and the feature's escaped title/values.

    The page's ``tpPopups`` joins these already escaped pieces into the popup's markup.
    """
    if kind == "selected":
        title = f"{t('popup.selected_site', lang)} #{int(_num(row.rank))} — {_text(row.site_id)}"
    else:
        name = row.name if kind == "villages" else getattr(row, _ID_COLUMN.get(kind, "site_id"))
        title = f"{t(_POPUP_TITLE[kind], lang)} {_text(name)}"
    rows = _POPUP_ROWS[kind]
    basis = result.provenance.demand_basis
    if kind == "villages" and result.programme is not None:  # its own "why not" follows
        rows = tuple(r for r in rows if not r[0].startswith("why_not_"))
    labels = [_esc(t(f"col.{column}", lang)) for column, _ in rows]
    if kind == "villages" and str(row.status_after) != "blank":
        rows = tuple(r for r in rows if not r[0].startswith("why_not_"))  # shown up to len(v)
    values = [_esc(format_value(getattr(row, column), how, lang, demand_basis=basis))
              for column, how in rows]
    return labels, {"title": _esc(title), "v": values}


def _display_geometries(frame: gpd.GeoDataFrame, crs: Any) -> Any:
    """Simplify (~50 m) in the working CRS, then reproject to lon/lat and round."""
    import shapely

    geoms = frame.geometry.set_crs(crs) if frame.crs is None else frame.geometry
    tolerance = _SIMPLIFY_M / 111_320.0 if geoms.crs.is_geographic else _SIMPLIFY_M
    simple = geoms.simplify(tolerance, preserve_topology=True).to_crs(4326)
    return shapely.transform(simple.to_numpy(), lambda xy: np.round(xy, _COORD_DECIMALS))


#: Village status on the map of each Podes signal class at the end of a programme.
_STATUS_OF_SIGNAL = {"tidak ada": "blank", "lemah": "partial", "kuat": "covered"}


def _programme_end(result: PlanResult, lang: str
                   ) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """Per village code: status and signal text in the programme's last year, and the
    programme's "why not" line of the villages it leaves blank (empty without a programme)."""
    outcome = result.programme
    if outcome is None or not outcome.years:
        return {}, {}
    status = outcome.village_status
    last = status[status["year"] == outcome.years[-1]]
    end = {str(code): (_STATUS_OF_SIGNAL.get(str(signal), ""), signal_label(signal, lang))
           for code, signal in zip(last["code"], last["signal"], strict=True)}
    return end, why_not_popup(outcome, lang)


def _village_features(result: PlanResult,
                      lang: str) -> tuple[dict[str, Any], list[Any], list[str]]:
    """Return the villages FeatureCollection, the search index and the popup labels."""
    import shapely

    frame = result.villages
    geoms = _display_geometries(frame, result.crs)
    features: list[dict[str, Any]] = []
    index: list[Any] = []
    labels: list[str] = []
    end, why = _programme_end(result, lang)
    for row, geom in zip(frame.itertuples(index=False), geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        labels, popup = _popup(row, "villages", result, lang)
        properties = {"code": _text(row.code), "sb": _text(row.status_before),
                      "sa": _text(row.status_after), "tip": _esc(row.name), **popup}
        if result.programme is not None:  # the end of the programme, then its "why not"
            status, signal = end.get(str(row.code), ("", ""))
            labels = [*labels, _esc(t("prog.layer_villages_end", lang).format(
                year=result.programme.years[-1])), _esc(t("prog.why_not.popup", lang))]
            properties["sp"] = status
            properties["v"] = [*popup["v"], _esc(signal)]
            if str(row.code) in why:  # shown up to len(v): only blank villages have it
                properties["v"].append(_esc(why[str(row.code)]))
        features.append({
            "type": "Feature",
            "geometry": json.loads(shapely.to_geojson(geom)),
            "properties": properties,
        })
        west, south, east, north = (round(v, _COORD_DECIMALS) for v in geom.bounds)
        index.append([_text(row.name), _text(row.code), _text(row.district),
                      [south, west, north, east]])
    return {"type": "FeatureCollection", "features": features}, index, labels


def _point_features(frame: gpd.GeoDataFrame, crs: Any, result: PlanResult, lang: str,
                    kind: str) -> tuple[dict[str, Any], list[str]]:
    """Return sites with escaped popups, tooltips and rank labels, and the popup labels."""
    id_column = _ID_COLUMN.get(kind, "site_id")
    features: list[dict[str, Any]] = []
    labels: list[str] = []
    if len(frame) == 0:
        return {"type": "FeatureCollection", "features": features}, labels
    geoms = frame.geometry.set_crs(crs) if frame.crs is None else frame.geometry
    points = geoms.to_crs(4326)
    for row, point in zip(frame.itertuples(index=False), points, strict=True):
        if point is None or point.is_empty:
            continue
        labels, parts = _popup(row, kind, result, lang)
        props = {"tip": _esc(getattr(row, id_column)), **parts}
        if kind == "selected":
            props["label"] = _esc(int(_num(row.rank)))
        elif kind == "audit":
            props["label"] = _esc(row.audit_id)
        lon, lat = (round(v, _COORD_DECIMALS) for v in (point.x, point.y))
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [lon, lat]}})
    return {"type": "FeatureCollection", "features": features}, labels


def _link_lines(frame: gpd.GeoDataFrame, crs: Any) -> list[Any]:
    """Lon/lat line of every hop: its geometry, else the straight line between its ends."""
    import shapely

    geoms = frame.geometry.set_crs(crs) if frame.crs is None else frame.geometry
    lines = list(geoms.to_crs(4326))
    ends = frame[["from_lon", "from_lat", "to_lon", "to_lat"]].to_numpy(dtype=float)
    for k, line in enumerate(lines):
        if (line is None or line.is_empty) and np.isfinite(ends[k]).all():
            lines[k] = shapely.linestrings(ends[k].reshape(2, 2))
    return [None if g is None or g.is_empty
            else shapely.transform(g, lambda xy: np.round(xy, _COORD_DECIMALS)) for g in lines]


def _link_features(frame: gpd.GeoDataFrame, crs: Any, result: PlanResult,
                   lang: str) -> tuple[dict[str, Any], list[str]]:
    """Return backhaul hops with escaped popups and their class colour, and the popup labels."""
    import shapely

    features: list[dict[str, Any]] = []
    labels: list[str] = []
    for row, line in zip(frame.itertuples(index=False), _link_lines(frame, crs), strict=True):
        if line is None:
            continue
        labels, parts = _popup(row, "links", result, lang)
        color, dash = LINK_CLASSES[link_class(_text(row.technology), _num(row.feasible) == 1.0,
                                              _num(row.margin_db))]
        features.append({
            "type": "Feature", "geometry": json.loads(shapely.to_geojson(line)),
            "properties": {"tip": _esc(row.link_id), "c": color, "d": dash, **parts}})
    return {"type": "FeatureCollection", "features": features}, labels


#: Rows of a coverage map's popup.
_COVERAGE_MAP_ROWS = ("technology", "operator", "kind", "date", "source")
#: Outline colour of a coverage map by technology.
_COVERAGE_MAP_COLORS = {"signal": "#8c6bb1", "2g": "#fdae6b", "3g": "#fd8d3c",
                        "4g": "#2171b5", "5g": "#08306b"}


def _coverage_map_features(result: PlanResult, lang: str
                           ) -> list[tuple[str, dict[str, Any], list[str]]]:
    """Per coverage map: its file name, its polygons with escaped popups, the popup labels."""
    import shapely

    frame = result.coverage_maps
    if frame is None or not len(frame):
        return []
    labels = [_esc(t(f"covmap.{c}", lang)) for c in _COVERAGE_MAP_ROWS]
    geoms = _display_geometries(frame, "EPSG:4326")
    out: dict[str, list[dict[str, Any]]] = {}
    for row, geom in zip(frame.itertuples(index=False), geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        file = _text(row.file)
        title = f"{t('popup.coverage_map', lang)} {file}"
        out.setdefault(file, []).append({
            "type": "Feature", "geometry": json.loads(shapely.to_geojson(geom)),
            "properties": {"tip": _esc(f"{file} ({_text(row.technology)})"),
                           "title": _esc(title),
                           "c": _COVERAGE_MAP_COLORS.get(_text(row.technology), "#555"),
                           "v": [_esc(_text(getattr(row, c))) for c in _COVERAGE_MAP_ROWS]}})
    return [(file, {"type": "FeatureCollection", "features": features}, labels)
            for file, features in out.items()]


def _coverage_map_style() -> JsCode:
    return JsCode(
        "function (f) { return {color: f.properties.c, weight: 2, opacity: 0.9, "
        "fillColor: f.properties.c, fillOpacity: 0.15, dashArray: '6 4'}; }")


# --------------------------------------------------------------------------- page assets


@functools.lru_cache(maxsize=1)
def _leaflet_assets() -> tuple[str, str]:
    """Return Leaflet's JavaScript and CSS from ``xstatic-leaflet``, ready to inline.

    The CSS images (layer switcher, default marker) become data URIs so that no request is
    made, not even for a local file; the source-map comment is dropped.
    """
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    script = (base / "leaflet.js").read_text(encoding="utf-8")
    script = re.sub(r"^//# sourceMappingURL=.*$", "", script, flags=re.MULTILINE)
    script = script.replace("</script", "<\\/script")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        data = (base / "images" / match.group(1)).read_bytes()
        return f'url("data:image/png;base64,{base64.b64encode(data).decode("ascii")}")'

    css = re.sub(r"url\(\s*['\"]?images/([\w.-]+\.png)['\"]?\s*\)", inline, css)
    return script, css.replace("</style", "<\\/style")


_PAGE_CSS = """
html,body{height:100%;margin:0}
:root{--tp-font:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.leaflet-container{background:#eef0ea;font:13px/1.4 var(--tp-font)}
.leaflet-control-layers{font-size:12.5px}
.tp-crisp{image-rendering:pixelated}
.tp-panel{position:fixed;z-index:1000;background:rgba(255,255,255,.95);border-radius:6px;
  box-shadow:0 1px 5px rgba(0,0,0,.35);padding:8px 10px;font:12px/1.35 var(--tp-font);color:#222}
#tp-title{top:10px;left:54px;width:min(340px,calc(100vw - 120px));
  max-height:min(60vh,calc(100vh - 60px));display:flex;flex-direction:column;box-sizing:border-box}
#tp-title h1{font-size:15px;margin:0 0 6px;line-height:1.25;flex:none}
#tp-details{min-height:0;overflow:auto;margin-top:6px}
#tp-title th{white-space:normal;width:36%}
#tp-details summary{cursor:pointer;font-weight:600;color:#333;padding:2px 0}
#tp-details[open] summary{margin-bottom:4px}
.tp-panel table,.tp-pop table{border-collapse:collapse}
.tp-panel th,.tp-pop th{text-align:left;font-weight:600;color:#555;padding:1px 8px 1px 0;
  vertical-align:top;white-space:nowrap}
.tp-panel td{padding:1px 0;vertical-align:top}
.tp-sources{margin:6px 0 0;padding-left:16px;color:#444}
.tp-prov{margin-top:4px;color:#777;font-size:11px}
.tp-badge{position:fixed;z-index:1001;top:10px;left:50%;transform:translateX(-50%);color:#fff;
  background:#b00020;font:700 17px/1.2 var(--tp-font);letter-spacing:.06em;padding:6px 16px;
  border-radius:4px;border:2px solid #fff;box-shadow:0 1px 6px rgba(0,0,0,.45);text-align:center;
  pointer-events:none}
.tp-badge small{display:block;font-weight:400;font-size:11px;letter-spacing:0}
#tp-search{flex:none;position:relative}
#tp-search input{width:100%;box-sizing:border-box;padding:5px 6px;border:1px solid #999;
  border-radius:4px;font:inherit}
#tp-search ul{list-style:none;margin:2px 0 0;padding:0;max-height:160px;overflow:auto}
#tp-search ul:not(:empty){position:absolute;left:0;right:0;z-index:2;background:#fff;
  box-shadow:0 2px 5px rgba(0,0,0,.3);border-radius:0 0 4px 4px}
@media (max-width:700px),(max-height:560px){ #tp-title{max-height:45vh} #tp-legend{display:none} }
#tp-search li{padding:3px 4px;cursor:pointer;border-radius:3px}
#tp-search li:hover,#tp-search li:focus{background:#e3ecfb;outline:none}
#tp-search li.tp-none{cursor:default;color:#888}
#tp-legend{bottom:26px;right:10px;width:230px}
#tp-legend h2{font-size:13px;margin:0 0 4px}
#tp-legend h3{font-size:12px;margin:6px 0 2px;color:#444}
.tp-row{display:flex;align-items:center;margin:2px 0}
.tp-sw{display:inline-block;width:14px;height:12px;border:1px solid #555;margin-right:6px}
.tp-dot{display:inline-block;border-radius:50%;margin-right:6px}
.tp-ramp{position:relative;height:12px;border:1px solid #777;margin:4px 0 14px}
.tp-ramp .tp-below{position:absolute;top:0;bottom:0;left:0;
  background:repeating-linear-gradient(45deg,#fff 0 3px,#ddd 3px 6px)}
.tp-ramp span{position:absolute;top:13px;font-size:10px;transform:translateX(-50%);color:#333}
.tp-ramp .tp-thr{position:absolute;top:-3px;bottom:-3px;border-left:2px solid #000}
.tp-note{font-size:11px;color:#555}
.tp-rank{background:#111;color:#fff;border:2px solid #ffd400;border-radius:50%;
  font:700 12px/20px var(--tp-font);text-align:center;box-shadow:0 0 3px #000}
.tp-audit{background:#7b3294;color:#fff;border:2px solid #fff;border-radius:3px;
  font:700 11px/18px var(--tp-font);text-align:center;box-shadow:0 0 3px #000}
.tp-line{display:inline-block;width:22px;height:0;margin-right:6px;border-top-width:3px}
.tp-pop{font-size:12.5px}.tp-pop b{font-size:13.5px}.tp-pop td{text-align:right}
"""

_SEARCH_JS = """
(function () {
  var map = %(map)s, villages = [%(layers)s], index = %(index)s, noMatch = %(no_match)s;
  var input = document.getElementById("tp-search-input");
  var list = document.getElementById("tp-search-results");
  var details = document.getElementById("tp-details");
  if (details && (window.innerWidth < 900 || window.innerHeight < 560)) { details.open = false; }
  function norm(s) { return s.toLowerCase().normalize("NFD").replace(/[\\u0300-\\u036f]/g, ""); }
  function go(d) {
    map.fitBounds([[d[3][0], d[3][1]], [d[3][2], d[3][3]]], {maxZoom: 14});
    var shown = villages.filter(function (g) { return map.hasLayer(g); });
    if (!shown.length) { shown = [villages[0].addTo(map)]; }
    shown.slice(0, 1).forEach(function (g) {
      g.eachLayer(function (l) { if (l.feature.properties.code === d[1]) { l.openPopup(); } });
    });
    list.replaceChildren();
  }
  function matches() {
    var q = norm(input.value.trim());
    return q ? index.filter(function (d) {
      return norm(d[0]).indexOf(q) >= 0 || d[1].toLowerCase().indexOf(q) === 0;
    }).slice(0, 8) : [];
  }
  function item(text, onPick) {
    var li = document.createElement("li");
    li.textContent = text;
    if (onPick) {
      li.tabIndex = 0;
      li.addEventListener("click", onPick);
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") { onPick(); } });
    } else { li.className = "tp-none"; }
    list.appendChild(li);
  }
  input.addEventListener("input", function () {
    list.replaceChildren();
    var hits = matches();
    hits.forEach(function (d) { item(d[2] ? d[0] + " — " + d[2] : d[0], function () { go(d); }); });
    if (!hits.length && input.value.trim()) { item(noMatch, null); }
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && matches().length) { go(matches()[0]); }
  });
})();
"""


def _legend_html(result: PlanResult, lang: str) -> str:
    threshold = result.scenario.radio.threshold_rsrp_dbm
    lo, hi = RSRP_STOPS[0][0], RSRP_STOPS[-1][0]

    def pos(value: float) -> float:
        return 100 * (min(max(value, lo), hi) - lo) / (hi - lo)

    gradient = ",".join(f"rgb{c} {pos(s):.0f}%" for s, c in RSRP_STOPS)
    statuses = "".join(
        f'<div class="tp-row"><span class="tp-sw" style="background:{color}"></span>'
        f"{_esc(status_label(status, lang))}</div>" for status, color in STATUS_COLORS.items())
    ticks = "".join(f'<span style="left:{pos(v):.1f}%">{v:g}</span>'
                    for v in (lo, -90.0, -75.0, hi) if abs(v - threshold) > 7)
    ramp = (f'<div class="tp-ramp" style="background:linear-gradient(to right,{gradient})">'
            f'<div class="tp-below" style="width:{pos(threshold):.1f}%"></div>'
            f'<div class="tp-thr" style="left:{pos(threshold):.1f}%"></div>{ticks}'
            f'<span style="left:{pos(threshold):.1f}%;font-weight:700">{threshold:g}</span></div>')
    dot = '<span class="tp-dot" style="width:{0}px;height:{0}px;background:{1};border:{2}"></span>'
    sites = (
        f'<div class="tp-row">{dot.format(11, "#1f3a93", "2px solid #fff")}'
        f'{_esc(t("legend.existing", lang))}</div>'
        f'<div class="tp-row">{dot.format(7, "#6b6b6b", "1px solid #fff")}'
        f'{_esc(t("legend.candidate", lang))}</div>'
        f'<div class="tp-row"><span class="tp-rank" style="display:inline-block;width:20px;'
        f'height:20px;margin-right:6px">1</span>{_esc(t("legend.selected", lang))}'
        f'{_esc(t("prog.single.legend", lang)) if result.programme is not None else ""}</div>')
    if result.committed is not None:
        sites += (f'<div class="tp-row"><span style="display:inline-block;width:10px;'
                  f'height:10px;margin:0 9px 0 3px;background:#0a8f8f;transform:rotate(45deg)">'
                  f'</span>{_esc(t("legend.committed", lang))}</div>')
    if result.audit is not None:
        sites += (f'<div class="tp-row"><span class="tp-audit" style="display:inline-block;'
                  f'width:22px;height:18px;margin-right:6px">A1</span>'
                  f'{_esc(t("legend.audit", lang))}</div>')
    return (
        f'<div id="tp-legend" class="tp-panel"><h2>{_esc(t("legend.title", lang))}</h2>'
        f'<h3>{_esc(t("legend.village_status", lang))}</h3>{statuses}'
        f'<h3>{_esc(t("legend.rsrp", lang))}</h3>{ramp}'
        f'<div class="tp-note">{_esc(t("legend.below_threshold", lang))}</div>{sites}'
        f"{_links_legend(result, lang)}{_programme_legend(result, lang)}</div>")


def _programme_legend(result: PlanResult, lang: str) -> str:
    """Legend rows of the programme's funding channels (empty without a programme)."""
    outcome = result.programme
    if outcome is None:
        return ""
    dot = ('<span class="tp-dot" style="width:14px;height:14px;background:{0};'
           'border:2px solid #fff"></span>')
    rows = "".join(f'<div class="tp-row">{dot.format(color)}'
                   f"{_esc(outcome.channel_label(channel))}</div>"
                   for channel, color in channel_colors(outcome).items())
    return f'<h3>{_esc(t("prog.legend", lang))}</h3>{rows}'


def _links_legend(result: PlanResult, lang: str) -> str:
    """Legend rows of the backhaul classes present in ``result.links`` (empty without links)."""
    if result.links is None or len(result.links) == 0:
        return ""
    frame = result.links
    present = {link_class(_text(tech), _num(ok) == 1.0, _num(margin)) for tech, ok, margin
               in zip(frame["technology"], frame["feasible"], frame["margin_db"], strict=True)}
    rows = "".join(
        f'<div class="tp-row"><span class="tp-line" style="border-top-color:{color};'
        f'border-top-style:{"dashed" if dash else "solid"}"></span>'
        f'{_esc(t(f"legend.link_{key}", lang))}</div>'
        for key, (color, dash) in LINK_CLASSES.items() if key in present)
    return f'<h3>{_esc(t("legend.links", lang))}</h3>{rows}'


def _summary_number(result: PlanResult, key: str, fallback: float) -> float:
    value = _num(result.summary.get(key, fallback))
    return fallback if math.isnan(value) else value


def _programme_title_rows(outcome: ProgrammeOutcome, lang: str) -> list[tuple[str, str]]:
    """The title block's money and tower rows for a programme: its budget (finite lines),
    towers, people newly served and capex per person."""
    totals = programme_totals(outcome)
    budget = outcome.by_year_channel["budget_idr"].astype(float)
    return [
        (t("prog.map.budget", lang), format_idr(float(budget[np.isfinite(budget)].sum()), lang)),
        (t("prog.map.towers", lang),
         f"{format_number(totals['towers'], lang)} · "
         f"{t('prog.map.people', lang).lower()} {format_number(totals['people_new'], lang)}"
         f" · {t('prog.map.per_person', lang).lower()} "
         f"{programme_value('cost_per_person_idr', totals['cost_per_person_idr'], outcome, lang)}"),
    ]


def _blank_at_end(outcome: ProgrammeOutcome) -> int:
    """Villages with no signal in the programme's last year."""
    status = outcome.village_status
    last = status[status["year"] == outcome.years[-1]] if outcome.years else status.iloc[:0]
    return int((last["signal"] == "tidak ada").sum())


def _title_html(result: PlanResult, lang: str) -> str:
    prov, scn = result.provenance, result.scenario
    villages = result.villages
    spent = _summary_number(result, "spent_idr",
                            float(result.selected["cost_total_idr"].astype(float).sum()))
    budget = _summary_number(result, "budget_idr", scn.budget.total_idr)
    blank_before = _summary_number(
        result, "blank_villages_before", float((villages["status_before"] == "blank").sum()))
    blank_after = _summary_number(
        result, "blank_villages_after", float((villages["status_after"] == "blank").sum()))
    rows = [
        (t("map.scenario", lang), scn.scenario.name),
        (t("map.model", lang), stated_model_chain(scn, result.summary, prov.model_chain, lang)),
        (t("map.threshold", lang), f"RSRP ≥ {scn.radio.threshold_rsrp_dbm:g} dBm"),
        (t("map.link_budget", lang), link_budget_text(scn, lang)),
        (t("map.budget", lang), format_idr(budget, lang)),
        (t("map.spent", lang),
         f"{format_idr(spent, lang)} · {len(result.selected)} {t('map.towers_new', lang).lower()}"),
        *(((t("report.cost_scope", lang), scope),)
          if (scope := cost_scope_text(result.selected, scn.costs, lang)) else ()),
        (t("map.solver", lang), prov.solver),
        (t("map.blank_villages", lang),
         f"{format_number(blank_before, lang)} → {format_number(blank_after, lang)}"
         f" ({t('map.before_after', lang)})"),
    ]
    if result.programme is not None:  # the programme's figures; the single budget compares
        rows[4:6] = _programme_title_rows(result.programme, lang)
        rows[-1] = (t("map.blank_villages", lang), f"{format_number(blank_before, lang)} → "
                    f"{format_number(_blank_at_end(result.programme), lang)} "
                    f"({t('prog.map.before_end', lang)})")
    table = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in rows)
    sources = "".join(f"<li>{_esc(s)}</li>" for s in prov.data_sources)
    limits = "".join(f"<li>{_esc(in_language(str(s), lang))}</li>"
                     for s in result.summary.get("limitations") or ())
    limits_html = (f'<div class="tp-limits"><b>{_esc(t("map.limitations", lang))}</b>'
                   f'<ul class="tp-sources">{limits}</ul></div>') if limits else ""
    note = result.summary.get("before_state_note")
    lead = (f'<div class="tp-limits tp-before"><b>{_esc(in_language(str(note), lang))}</b>'
            "</div>") if note and result.summary.get("before_state") == "unknown" else ""
    reports = (f'<div class="tp-prov">{_esc(in_language(str(note), lang))}</div>'
               if note and result.summary.get("before_state") in ("reports", "coverage_maps")
               else "")
    reports += "".join(f'<div class="tp-prov">{_esc(in_language(str(text), lang))}</div>'
                       for text in result.summary.get("towers_note") or ())
    return (
        f'<div id="tp-title" class="tp-panel"><h1>{_esc(scn.scenario.title)}</h1>'
        f'<div id="tp-search"><input id="tp-search-input" type="search" autocomplete="off" '
        f'placeholder="{_esc(t("map.search", lang))}" aria-label="{_esc(t("map.search", lang))}">'
        f'<ul id="tp-search-results"></ul></div>'
        f'<details id="tp-details" open><summary>{_esc(t("map.details", lang))}</summary>{lead}'
        f"{limits_html}{reports}<table>{table}</table>"
        f'<div><b>{_esc(t("map.sources", lang))}</b><ul class="tp-sources">{sources}</ul></div>'
        f'<div class="tp-prov">towerplan {_esc(prov.version)} · {_esc(prov.scenario_hash)}'
        f" · {_esc(prov.created_utc)}</div></details></div>")


def _badge_html(lang: str) -> str:
    return (f'<div class="tp-badge" role="note">{_esc(t("badge.synthetic", lang))}'
            f'<small>{_esc(t("badge.synthetic_note", lang))}</small></div>')


# --------------------------------------------------------------------------- folium


class _GeoJsonLayer(Layer):
    """A Leaflet GeoJSON layer of a JS expression; options may hold JS code (``JsCode``).

    Popups come from pre-escaped strings in the feature properties (folium's own popups put
    data into JavaScript template literals), and two layers can share one embedded data set.
    """

    _template = Template("""{% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJson({{ this.data_js }}, {{ this.options|tojavascript }});
        {% endmacro %}""")

    def __init__(self, data_js: str, *, name: str, show: bool, options: dict[str, Any]) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GeoJsonLayer"
        self.data_js = data_js
        self.options = options


class _Script(MacroElement):
    """Raw JavaScript placed in the page's script, after everything added before it."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "Script"
        self.code = code


_POPUP_JS = """
function tpPopups(labels, tooltip) {
  return function (f, layer) {
    var p = f.properties;
    layer.bindPopup(function () {
      var rows = labels.slice(0, p.v.length).map(function (label, i) {
        return "<tr><th>" + label + "</th><td>" + p.v[i] + "</td></tr>"; });
      return '<div class="tp-pop"><b>' + p.title + "</b><table>" + rows.join("") + "</table></div>";
    }, {maxWidth: 360});
    layer.bindTooltip(p.tip, tooltip);
  };
}
"""


def _popup_binding(labels: list[str], tooltip_options: str = "{}") -> JsCode:
    return JsCode(f"tpPopups({_script_json(labels)}, {tooltip_options})")


def _village_style(status_key: str) -> JsCode:
    colors, unknown = _script_json(STATUS_COLORS), _script_json(UNKNOWN_COLOR)
    return JsCode(
        f"function (f) {{ var c = {colors}[f.properties.{status_key}] || {unknown};"
        " return {color: '#333', weight: 1, opacity: 0.9, fillColor: c, fillOpacity: 0.42}; }")


def _circle_points(radius: float, fill: str, weight: float) -> JsCode:
    return JsCode(
        "function (f, latlng) { return L.circleMarker(latlng, {pane: 'tp-points', "
        f"radius: {radius}, color: '#fff', weight: {weight}, fillColor: '{fill}', "
        "fillOpacity: 1}); }")


def _link_style() -> JsCode:
    return JsCode(
        "function (f) { return {color: f.properties.c, weight: 3.5, opacity: 0.95, "
        "dashArray: f.properties.d || null, lineCap: 'round'}; }")


def _with_technology(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """*frame* with ``tower_technology`` (its ``technology``; ``technology`` labels backhaul)."""
    tech = frame.get("technology", "unknown")
    return frame.assign(tower_technology=tech)


def _square_points(fill: str) -> JsCode:
    return JsCode(
        "function (f, latlng) { return L.marker(latlng, {zIndexOffset: 800, icon: L.divIcon("
        "{className: 'tp-committed', iconSize: [12, 12], html: '<span style=\"display:block;"
        f"width:12px;height:12px;background:{fill};border:2px solid #fff;"
        "transform:rotate(45deg)\"></span>'})}); }")


def _audit_points() -> JsCode:
    return JsCode(
        "function (f, latlng) { return L.marker(latlng, {zIndexOffset: 900, icon: L.divIcon("
        "{className: 'tp-audit', html: f.properties.label, iconSize: [26, 20], "
        "iconAnchor: [13, 10], popupAnchor: [0, -10]})}); }")


def _rank_points() -> JsCode:
    return JsCode(
        "function (f, latlng) { return L.marker(latlng, {zIndexOffset: 1000, icon: L.divIcon("
        "{className: 'tp-rank', html: f.properties.label, iconSize: [24, 24], "
        "iconAnchor: [12, 12], popupAnchor: [0, -12]})}); }")


def _channel_points() -> JsCode:
    return JsCode(
        "function (f, latlng) { return L.circleMarker(latlng, {pane: 'tp-points', radius: 9, "
        "color: '#fff', weight: 2.5, fillColor: f.properties.c, fillOpacity: 1}); }")


def _programme_features(outcome: ProgrammeOutcome, lang: str
                        ) -> list[tuple[int, dict[str, Any], list[str]]]:
    """Per programme year: its towers as points (escaped popup, channel colour), the labels."""
    check_programme(outcome)
    colors = channel_colors(outcome)
    layers = []
    for year in outcome.years:
        builds = outcome.builds[outcome.builds["year"] == year]
        features: list[dict[str, Any]] = []
        labels: list[str] = []
        for row in builds.itertuples(index=False):
            lon, lat = _num(row.lon), _num(row.lat)
            if not (math.isfinite(lon) and math.isfinite(lat)):
                continue
            title, rows = tower_popup(row, outcome, lang)
            labels = [_esc(label) for label, _ in rows]
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(lon, _COORD_DECIMALS),
                                                              round(lat, _COORD_DECIMALS)]},
                "properties": {"title": _esc(title), "v": [_esc(value) for _, value in rows],
                               "tip": _esc(f"{year}: {row.site_id}"),
                               "c": colors.get(str(row.channel), UNKNOWN_COLOR),
                               "year": int(year)}})
        layers.append((int(year), {"type": "FeatureCollection", "features": features}, labels))
    return layers


def _map_bounds(result: PlanResult, index: list[Any]) -> list[list[float]]:
    """South-west and north-east corners (lat, lon) of the villages, else of the DEM."""
    if index:
        boxes = np.array([entry[3] for entry in index], dtype=float)
        south, west = boxes[:, 0].min(), boxes[:, 1].min()
        north, east = boxes[:, 2].max(), boxes[:, 3].max()
    else:
        from pyproj import Transformer

        to_ll = Transformer.from_crs(result.dem.crs, 4326, always_xy=True)
        rows, cols = result.dem.shape
        west, south, east, north = to_ll.transform_bounds(
            *grid_corners(result.dem.transform, cols, rows))
    return [[float(south), float(west)], [float(north), float(east)]]


def _render(result: PlanResult, lang: str) -> str:
    """Build the folium map of *result* and return the complete, self-contained page."""
    crs = result.crs
    threshold = result.scenario.radio.threshold_rsrp_dbm
    villages, index, village_labels = _village_features(result, lang)
    bounds = _map_bounds(result, index)
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]

    fmap = folium.Map(location=center, zoom_start=10, tiles=None, control_scale=True,
                      zoom_snap=0.25, zoom_delta=0.5)
    fmap.default_js = []
    fmap.default_css = []
    root = cast(Figure, fmap.get_root())
    root.title = _esc(result.scenario.scenario.title)
    script, css = _leaflet_assets()
    root.header.add_child(Element(f"<style>{css}</style>\n<script>{script}</script>"),
                          name="leaflet_inline")
    root.header.add_child(Element(f"<style>{_PAGE_CSS}</style>"), name="towerplan_css")

    # RSRP above the village fill (Leaflet's overlay pane, 400), so it shows the legend's
    # colours; it lets clicks through to the villages below.
    for pane, z_index, pointer in (("tp-relief", 250, False), ("tp-online", 300, False),
                                   ("tp-coverage", 420, False), ("tp-links", 430, True),
                                   ("tp-points", 450, True)):
        CustomPane(pane, z_index=z_index, pointer_events=pointer).add_to(fmap)

    layers = result.layers.at(threshold) if result.layers is not None else None
    relief, relief_bounds = ((layers.relief.uri, layers.relief.bounds) if layers is not None
                             else relief_uri(result.dem))
    ImageOverlay(relief, relief_bounds, name=t("layer.relief", lang), pane="tp-relief",
                 pixelated=False).add_to(fmap)
    TileLayer("OpenStreetMap", name=t("layer.osm", lang), overlay=True, show=False,
              pane="tp-online", opacity=0.85).add_to(fmap)
    programme = result.programme is not None
    for stage, grid in (("before", result.rsrp_before), ("after", result.rsrp_after)):
        uri, grid_bounds = ((layers.coverage_before.uri, layers.coverage_before.bounds)
                            if layers is not None and stage == "before"
                            else coverage_uri(grid, threshold))
        name = (t("prog.single.layer_coverage", lang) if programme and stage == "after"
                else t(f"layer.coverage_{stage}", lang))
        ImageOverlay(uri, grid_bounds, name=name,
                     pane="tp-coverage", opacity=1.0, pixelated=False, class_name="tp-crisp",
                     show=stage == "after" and not programme).add_to(fmap)

    data_var = f"{fmap.get_name()}_villages"
    _Script(f"{_POPUP_JS}var {data_var} = {_script_json(villages)};").add_to(fmap)
    village_layers = []
    stages = [("before", "sb", t("layer.villages_before", lang), False),
              ("after", "sa", t("layer.villages_after", lang), True)]
    if result.programme is not None:  # the programme's end is the plan; the single budget
        stages[1:] = [("after", "sa", t("prog.single.layer_villages", lang), False),
                      ("end", "sp", t("prog.layer_villages_end", lang).format(
                          year=result.programme.years[-1]), True)]
    for _stage, key, name, show in stages:
        layer = _GeoJsonLayer(data_var, name=_esc(name), show=show,
                              options={"style": _village_style(key),
                                       "on_each_feature": _popup_binding(village_labels,
                                                                         "{sticky: true}")})
        village_layers.append(layer.add_to(fmap))

    points = (
        ("existing", _with_technology(result.existing), _circle_points(6, "#1f3a93", 2)),
        *((("committed", _with_technology(result.committed).assign(
            site_name=result.committed["name"]), _square_points("#0a8f8f")),)
          if result.committed is not None else ()),
        ("candidates", with_not_costed(result.candidates, result.scenario.costs, lang),
         _circle_points(3.5, "#6b6b6b", 1)),
        ("selected", with_not_costed(result.selected.sort_values("rank"),
                                     result.scenario.costs, lang), _rank_points()),
    )
    for kind, frame, point_to_layer in points:
        data, labels = _point_features(frame, crs, result, lang, kind)
        single = kind == "selected" and programme  # a comparison, off at first
        _GeoJsonLayer(_script_json(data), name=t("prog.single.layer_selected" if single
                                                 else f"layer.{kind}", lang),
                      show=kind != "candidates" and not single,
                      options={"point_to_layer": point_to_layer,
                               "on_each_feature": _popup_binding(labels)}).add_to(fmap)
    if result.links is not None:
        data, labels = _link_features(result.links, crs, result, lang)
        _GeoJsonLayer(_script_json(data), name=t("prog.single.layer_links" if programme
                                                 else "layer.links", lang),
                      show=not programme,
                      options={"style": _link_style(), "pane": "tp-links",
                               "on_each_feature": _popup_binding(labels, "{sticky: true}")}
                      ).add_to(fmap)
    for name, data, labels in _coverage_map_features(result, lang):
        _GeoJsonLayer(_script_json(data), name=_esc(t("layer.coverage_map", lang).format(
            file=name)), show=False,
            options={"style": _coverage_map_style(), "pane": "tp-links",
                     "on_each_feature": _popup_binding(labels, "{sticky: true}")}
        ).add_to(fmap)
    if result.audit is not None:
        data, labels = _point_features(result.audit, crs, result, lang, "audit")
        _GeoJsonLayer(_script_json(data), name=t("layer.audit", lang), show=True,
                      options={"point_to_layer": _audit_points(),
                               "on_each_feature": _popup_binding(labels)}).add_to(fmap)

    if result.programme is not None:
        for year, data, labels in _programme_features(result.programme, lang):
            _GeoJsonLayer(_script_json(data), name=_esc(t("prog.layer_year", lang).format(
                year=year, towers=len(data["features"]))), show=True,
                options={"point_to_layer": _channel_points(),
                         "on_each_feature": _popup_binding(labels)}).add_to(fmap)

    folium.LayerControl(collapsed=False, position="topright").add_to(fmap)
    fmap.fit_bounds(bounds)

    root.html.add_child(Element(_title_html(result, lang)), name="tp_title")
    root.html.add_child(Element(_legend_html(result, lang)), name="tp_legend")
    if result.provenance.synthetic:
        root.html.add_child(Element(_badge_html(lang)), name="tp_badge")
    _Script(_SEARCH_JS % {
        "map": fmap.get_name(),
        "layers": ", ".join(layer.get_name() for layer in reversed(village_layers)),
        "index": _script_json(index),
        "no_match": _script_json(t("map.no_match", lang)),
    }).add_to(fmap)

    page = _stable_ids(root.render(), root, result.provenance.scenario_hash)
    return page.replace("<html>", f'<html lang="{lang}">', 1)


def _stable_ids(page: str, root: Element, seed: str) -> str:
    """*page* with folium's random element ids replaced by ids derived from *seed*.

    branca gives every element 32 random hex digits; each id of the rendered tree is
    replaced, in order of first appearance, by a hash of *seed* and that order, so the same
    plan gives the same page.
    """
    ids: set[str] = set()
    stack = [root]
    while stack:
        element = stack.pop()
        ids.add(element._id)  # noqa: SLF001 - branca keeps the id only there
        stack.extend(element._children.values())  # noqa: SLF001
    order: dict[str, str] = {}
    for found in re.finditer(r"[0-9a-f]{32}", page):
        text = found.group()
        if text in ids and text not in order:
            digest = hashlib.sha256(f"{seed}:{len(order)}".encode()).hexdigest()
            order[text] = digest[:32]
    return re.sub(r"[0-9a-f]{32}", lambda m: order.get(m.group(), m.group()), page)
