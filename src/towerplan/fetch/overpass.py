"""OpenStreetMap through the Overpass API: the query for an area and its answer as layers.

One query (``out geom``, JSON) brings the administrative boundaries (``admin_level`` 5/6/7 =
kabupaten/kecamatan/desa in Indonesia), place nodes, roads, communication masts and towers,
and power lines. :func:`parse_overpass` turns the answer into GeoDataFrames in EPSG:4326:
relations become (multi)polygons, ways lines, nodes points.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.ops import linemerge

from towerplan.errors import InputDataError
from towerplan.fetch.area import ADMIN_LEVELS, Area
from towerplan.fetch.http import DownloadError

__all__ = [
    "ADMIN_COLUMNS",
    "LAYER_COLUMNS",
    "OSM_ATTRIBUTION",
    "OSM_LICENCE",
    "OsmData",
    "overpass_query",
    "parse_overpass",
    "relation_polygon",
    "verify_overpass",
]

log = logging.getLogger(__name__)

OSM_LICENCE = "ODbL 1.0 (Open Database License)"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"

#: Columns of the kabupaten, kecamatan and desa layers (plus ``geometry``).
ADMIN_COLUMNS: tuple[str, ...] = (
    "code", "name", "district_code", "district", "kind", "population", "osm_id", "osm_name",
    "admin_level",
)
#: Columns of every layer (plus ``geometry``), and its OGR geometry type.
LAYER_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    "kabupaten": (ADMIN_COLUMNS, "MultiPolygon"),
    "kecamatan": (ADMIN_COLUMNS, "MultiPolygon"),
    "desa": (ADMIN_COLUMNS, "MultiPolygon"),
    "places": (("osm_id", "name", "place", "osm_population"), "Point"),
    "roads": (("osm_id", "name", "highway", "surface"), "LineString"),
    "towers": (("osm_id", "man_made", "operator", "height_m"), "Point"),
    "power_lines": (("osm_id", "power", "voltage", "name"), "LineString"),
}

_PLACES = "^(city|town|village|hamlet|suburb|quarter|neighbourhood|isolated_dwelling)$"
_ROADS = ("^(motorway|trunk|primary|secondary|tertiary|unclassified|residential|track)"
          "(_link)?$")
_TOWERS = '["man_made"~"^(mast|tower)$"]["tower:type"="communication"]'
_POWER = "^(line|minor_line)$"
_UNIT_PREFIX = {
    "kabupaten": r"(Kabupaten |Kab\. |Kota )?",
    "kecamatan": r"(Kecamatan |Kec\. )?",
    "desa": r"(Desa |Kelurahan |Kel\. )?",
}
_KIND_PREFIX = re.compile(r"^(desa|kelurahan|kel\.)\s+", re.IGNORECASE)
_NAME_PREFIX = re.compile(r"^(kabupaten|kab\.|kota|kecamatan|kec\.|desa|kelurahan|kel\.)\s+",
                          re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OsmData:
    """OpenStreetMap layers of an area, EPSG:4326.

    Attributes
    ----------
    layers : dict of str to GeoDataFrame
        ``kabupaten``, ``kecamatan``, ``desa`` (polygons), ``places``, ``towers`` (points),
        ``roads``, ``power_lines`` (lines); columns as in :data:`LAYER_COLUMNS`.
    region : shapely geometry
        The area itself: the boundary searched for, or the bbox.
    osm_base : str
        Date of the OpenStreetMap data the server answered from (ISO 8601), or ``""``.
    notes : tuple of str
        What was left out and why.
    """

    layers: dict[str, gpd.GeoDataFrame]
    region: shapely.Geometry
    osm_base: str
    notes: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        """Features per layer."""
        return {name: len(frame) for name, frame in self.layers.items()}


def _name_key(text: str) -> str:
    """*text* without a unit prefix (``Kabupaten``, ``Desa``, ...), case or extra spaces."""
    return " ".join(_NAME_PREFIX.sub("", " ".join(str(text).split())).casefold().split())


def _regex(text: str) -> str:
    """Escape *text* for a POSIX regular expression inside an Overpass QL string."""
    escaped = re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", text)
    return escaped.replace("\\", "\\\\").replace('"', '\\"')


def _unit(kind: str, name: str, scope: str = "") -> str:
    level = ADMIN_LEVELS[kind]
    prefix = _UNIT_PREFIX[kind].replace("\\", "\\\\")
    return (f'relation{scope}["boundary"="administrative"]["admin_level"="{level}"]'
            f'["name"~"^{prefix}{_regex(name)}$",i]')


def overpass_query(area: Area, *, timeout_s: int = 900) -> str:
    """Return the Overpass QL query for *area* (JSON output, full geometry).

    For an administrative unit the unit itself is found by name (inside its kabupaten and
    kecamatan when known) and everything else is searched inside it; for a bbox everything
    is searched inside the box.

    Examples
    --------
    >>> line = overpass_query(Area("kabupaten", name="Paser")).splitlines()[1]
    >>> print(line.split("]", 2)[2])
    ["name"~"^(Kabupaten |Kab\\\\. |Kota )?Paser$",i]->.target;
    """
    head = f"[out:json][timeout:{int(timeout_s)}];"
    if area.kind == "bbox":
        assert area.bbox is not None
        west, south, east, north = area.bbox
        scope = f"({south:.7f},{west:.7f},{north:.7f},{east:.7f})"
        select = [f'relation["boundary"="administrative"]["admin_level"~"^[567]$"]{scope};']
    else:
        lines = []
        parents = [("kabupaten", area.kabupaten), ("kecamatan", area.kecamatan)]
        scope = ""
        for k, (kind, name) in enumerate(p for p in parents if p[1]):
            lines.append(f"{_unit(kind, name, scope)}->.p{k};")
            lines.append(f".p{k} map_to_area->.a{k};")
            scope = f"(area.a{k})"
        lines.append(f"{_unit(area.kind, area.name, scope)}->.target;")
        lines.append(".target map_to_area->.region;")
        head += "\n" + "\n".join(lines)
        scope = "(area.region)"
        lower = "".join(str(v) for v in ADMIN_LEVELS.values() if v > area.admin_level)
        select = [".target;"]
        if lower:
            select.append(f'relation{scope}["boundary"="administrative"]'
                          f'["admin_level"~"^[{lower}]$"];')
    select += [
        f'node{scope}["place"~"{_PLACES}"];',
        f'way{scope}["highway"~"{_ROADS}"];',
        f"nwr{scope}{_TOWERS};",
        f'way{scope}["power"~"{_POWER}"];',
    ]
    return head + "\n(\n  " + "\n  ".join(select) + "\n);\nout geom;\n"


def verify_overpass(path: str | Path, *, url: str) -> None:
    """Check a downloaded Overpass answer: JSON with ``elements`` and no runtime error.

    Raises
    ------
    DownloadError
        When the answer is not JSON, has no ``elements`` list, or reports a runtime error
        (the server's time or memory limit); nothing is cached then.
    """
    try:
        payload = json.loads(Path(path).read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        msg = (f"Overpass: the answer from {url} is not JSON ({exc}); the server may be "
               "overloaded, try again later or another server (--overpass-url)")
        raise DownloadError(msg, url) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        msg = f"Overpass: the answer from {url} has no 'elements' list; is it an Overpass API?"
        raise DownloadError(msg, url)
    remark = str(payload.get("remark") or "")
    if "error" in remark.lower():
        msg = (f"Overpass: {url} stopped with '{' '.join(remark.split())[:200]}'; try again "
               "later, a smaller area (--bbox) or another server (--overpass-url)")
        raise DownloadError(msg, url)


def relation_polygon(members: Sequence[Mapping[str, Any]]) -> tuple[MultiPolygon | None, int]:
    """Assemble the rings of a multipolygon relation's way members.

    Ways are merged end to end into rings; the area is the even-odd combination of the rings
    (a ring inside another is a hole, a ring inside a hole an island), so roles are not
    needed and enclaves come out right.

    Parameters
    ----------
    members : sequence of mapping
        Overpass ``out geom`` members: ``{"type": "way", "geometry": [{"lat", "lon"}, ...]}``.

    Returns
    -------
    polygon : MultiPolygon or None
        None when no ring closes.
    open_lines : int
        Merged lines that did not close (members missing from the answer).

    Examples
    --------
    >>> def way(*pts):
    ...     return {"type": "way", "geometry": [{"lon": x, "lat": y} for x, y in pts]}
    >>> square = [way((0, 0), (2, 0), (2, 2)), way((2, 2), (0, 2), (0, 0)),
    ...           way((0.5, 0.5), (1.5, 0.5), (1.5, 1.5), (0.5, 1.5), (0.5, 0.5))]
    >>> poly, open_lines = relation_polygon(square)
    >>> poly.area, open_lines
    (3.0, 0)
    """
    lines = []
    for member in members:
        if member.get("type") != "way":
            continue
        coords = [(float(p["lon"]), float(p["lat"])) for p in member.get("geometry") or () if p]
        if len(coords) >= 2:
            lines.append(LineString(coords))
    if not lines:
        return None, 0
    merged = linemerge(lines)
    parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
    rings = [p for p in parts if p.is_ring]
    area = None
    for ring in rings:
        poly = shapely.make_valid(Polygon(ring.coords))
        area = poly if area is None else shapely.symmetric_difference(area, poly)
    open_lines = len(parts) - len(rings)
    polygon = _multipolygon(area) if area is not None else None
    return polygon, open_lines


def _multipolygon(geom: shapely.Geometry) -> MultiPolygon | None:
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    extra = [p for g in shapely.get_parts(geom) if isinstance(g, MultiPolygon) for p in g.geoms]
    polys += extra
    return MultiPolygon(polys) if polys else None


def parse_overpass(payload: Mapping[str, Any], area: Area) -> OsmData:
    """Turn an Overpass ``out geom`` JSON answer into layers.

    Administrative units of lower levels are kept when a representative point lies inside
    the area (Overpass also returns neighbours that share a boundary way). Desa get the name
    of the kecamatan they lie in as ``district``; a ``Desa``/``Kelurahan`` prefix of a name
    sets ``kind`` and is removed from ``name`` (``osm_name`` keeps the original).

    Parameters
    ----------
    payload : mapping
        The decoded JSON answer of :func:`overpass_query`.
    area : Area
        The area that was asked for.

    Raises
    ------
    InputDataError
        When the unit searched for is not in the answer (or is there more than once).
    """
    elements = list(payload.get("elements") or ())
    notes: list[str] = []
    admin: dict[int, list[dict[str, Any]]] = {5: [], 6: [], 7: []}
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("places", "roads", "towers",
                                                               "power_lines")}
    for element in elements:
        _classify(element, admin, rows, notes)
    region = _region(area, admin)
    layers: dict[str, gpd.GeoDataFrame] = {}
    for kind, level in ADMIN_LEVELS.items():
        kept = [r for r in admin[level] if _inside(r, region, level, area)]
        dropped = len(admin[level]) - len(kept)
        if dropped and (area.kind == "bbox" or level > area.admin_level):
            notes.append(f"{dropped} {kind} boundaries outside {area.label} left out")
        layers[kind] = _frame(kind, kept)
    _assign_districts(layers["desa"], layers["kecamatan"])
    for name, found in rows.items():
        layers[name] = _frame(name, found)
    osm_base = str((payload.get("osm3s") or {}).get("timestamp_osm_base", ""))
    log.info("overpass: %s", ", ".join(f"{k} {len(v)}" for k, v in layers.items()))
    return OsmData(layers, region, osm_base, tuple(notes))


def _classify(element: Mapping[str, Any], admin: dict[int, list[dict[str, Any]]],
              rows: dict[str, list[dict[str, Any]]], notes: list[str]) -> None:
    """Append *element* to the admin relations or the layer rows it belongs to."""
    tags = element.get("tags") or {}
    kind, osm_id = element.get("type"), f"{str(element.get('type', 'x'))[:1]}{element.get('id')}"
    if kind == "relation" and tags.get("boundary") == "administrative":
        level = _int(tags.get("admin_level"))
        if level in admin:
            polygon, open_lines = relation_polygon(element.get("members") or ())
            label = f"relation {osm_id} ({tags.get('name', 'no name')})"
            if polygon is None:
                notes.append(f"{label}: no closed boundary in the answer, left out")
                return
            if open_lines:
                notes.append(f"{label}: {open_lines} boundary part(s) do not close, left out")
            admin[level].append(_admin_row(osm_id, tags, level, polygon))
        return
    if tags.get("man_made") in ("mast", "tower") and tags.get("tower:type") == "communication":
        point = _point(element)
        if point is not None:
            rows["towers"].append({
                "osm_id": osm_id, "man_made": tags["man_made"],
                "operator": tags.get("operator", ""), "height_m": _metres(tags.get("height")),
                "geometry": point})
        return
    if kind == "node" and "place" in tags:
        rows["places"].append({
            "osm_id": osm_id, "name": tags.get("name", ""), "place": tags["place"],
            "osm_population": _population(tags.get("population")),
            "geometry": Point(float(element["lon"]), float(element["lat"]))})
        return
    line = _line(element) if kind == "way" else None
    if line is None:
        return
    if "highway" in tags:
        rows["roads"].append({"osm_id": osm_id, "name": tags.get("name", ""),
                              "highway": tags["highway"], "surface": tags.get("surface", ""),
                              "geometry": line})
    elif tags.get("power") in ("line", "minor_line"):
        rows["power_lines"].append({"osm_id": osm_id, "power": tags["power"],
                                    "voltage": tags.get("voltage", ""),
                                    "name": tags.get("name", ""), "geometry": line})


def _admin_row(osm_id: str, tags: Mapping[str, str], level: int,
               polygon: MultiPolygon) -> dict[str, Any]:
    osm_name = str(tags.get("name", "")).strip()
    match = _KIND_PREFIX.match(osm_name) if level == 7 else None
    kind = ""
    if match:
        kind = "kelurahan" if match.group(1).lower().startswith("kel") else "desa"
    return {
        "code": "", "name": _NAME_PREFIX.sub("", osm_name).strip() or osm_name,
        "district_code": "", "district": "", "kind": kind,
        "population": _population(tags.get("population")), "osm_id": osm_id,
        "osm_name": osm_name, "admin_level": level, "geometry": polygon,
    }


def _region(area: Area, admin: dict[int, list[dict[str, Any]]]) -> shapely.Geometry:
    """Return the searched unit's polygon, or the bbox."""
    if area.kind == "bbox":
        assert area.bbox is not None
        return shapely.box(*area.bbox)
    wanted = _name_key(area.name)
    found = [r for r in admin[area.admin_level] if _name_key(r["osm_name"]) == wanted]
    where = f" in kabupaten {area.kabupaten}" if area.kabupaten else ""
    if not found:
        msg = (f"OpenStreetMap has no {area.kind} named '{area.name}'{where} (boundary "
               f"admin_level {area.admin_level}); check the spelling, or use --bbox W,S,E,N")
        raise InputDataError(msg, problems=(msg,))
    if len(found) > 1:
        ids = ", ".join(r["osm_id"] for r in found)
        msg = (f"OpenStreetMap has {len(found)} {area.kind} boundaries named '{area.name}'"
               f"{where} ({ids}); use --code or --bbox W,S,E,N")
        raise InputDataError(msg, problems=(msg,))
    return found[0]["geometry"]


def _inside(row: Mapping[str, Any], region: shapely.Geometry, level: int, area: Area) -> bool:
    """Keep the searched unit, lower units lying in it, and (bbox) kabupaten touching it."""
    if area.kind != "bbox" and level <= area.admin_level:
        return level == area.admin_level and _name_key(row["osm_name"]) == _name_key(area.name)
    if area.kind == "bbox" and level == ADMIN_LEVELS["kabupaten"]:
        return bool(row["geometry"].intersects(region))
    return bool(region.covers(row["geometry"].representative_point()))


def _assign_districts(desa: gpd.GeoDataFrame, kecamatan: gpd.GeoDataFrame) -> None:
    """Fill ``district`` of each desa with the kecamatan containing it, in place."""
    if desa.empty or kecamatan.empty:
        return
    points = shapely.points(shapely.get_coordinates(
        desa.geometry.representative_point().to_numpy()))
    tree = shapely.STRtree(kecamatan.geometry.to_numpy())
    which, hit = tree.query(points, predicate="within")
    names = np.array([""] * len(desa), dtype=object)
    names[which] = kecamatan["name"].to_numpy()[hit]
    desa["district"] = names


def _frame(layer: str, rows: list[dict[str, Any]]) -> gpd.GeoDataFrame:
    columns, _ = LAYER_COLUMNS[layer]
    data = {c: [r[c] for r in rows] for c in columns}
    frame = gpd.GeoDataFrame(data, geometry=[r["geometry"] for r in rows], crs="EPSG:4326")
    for column in ("population", "osm_population", "height_m"):
        if column in frame:
            frame[column] = frame[column].astype(float)
    if "admin_level" in frame:
        frame["admin_level"] = frame["admin_level"].astype(np.int32)
    return frame


def _point(element: Mapping[str, Any]) -> Point | None:
    if element.get("type") == "node":
        return Point(float(element["lon"]), float(element["lat"]))
    line = _line(element)
    if line is not None:
        return line.centroid if not line.is_ring else Polygon(line.coords).centroid
    bounds = element.get("bounds")
    if bounds:
        return Point((bounds["minlon"] + bounds["maxlon"]) / 2,
                     (bounds["minlat"] + bounds["maxlat"]) / 2)
    return None


def _line(element: Mapping[str, Any]) -> LineString | None:
    coords = [(float(p["lon"]), float(p["lat"])) for p in element.get("geometry") or () if p]
    return LineString(coords) if len(coords) >= 2 else None


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _metres(value: object) -> float:
    """Height tag in metres (``"42"``, ``"42 m"``, ``"42.5m"``), ``nan`` otherwise.

    Examples
    --------
    >>> _metres("42 m"), _metres("tall")
    (42.0, nan)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(m|meters?|metres?)?\s*", str(value or ""))
    return float(match.group(1)) if match else math.nan


def _population(value: object) -> float:
    """Population tag as a number (``"1234"``, ``"1.234"``, ``"1 234"``), ``nan`` otherwise.

    Examples
    --------
    >>> _population("12.345"), _population("about 500")
    (12345.0, nan)
    """
    text = str(value or "").strip()
    if re.fullmatch(r"\d{1,3}([ ,.']\d{3})+", text):
        text = re.sub(r"[ ,.']", "", text)
    return float(text) if text.isdigit() else math.nan
