"""``towerplan fetch``: open data for an area (OpenStreetMap, Copernicus GLO-30 terrain, ESA
WorldCover).

:func:`fetch_area` downloads (or takes from the cache) everything a plan needs for a
kabupaten, kecamatan, desa or bbox and writes one directory:

``osm.gpkg``
    Layers kabupaten, kecamatan, desa (polygons), places, towers (points), roads,
    power_lines (lines), EPSG:4326.
``towers.csv``, ``settlements.csv``
    Communication masts/towers and named places as points (lon/lat degrees).
``dem.tif``, ``landcover.tif``
    Copernicus GLO-30 elevations (m) and ESA WorldCover 2021 classes, mosaicked and clipped to
    the area plus a margin, Cloud-Optimised GeoTIFF.
``sources.json``
    URL, retrieval date, licence, attribution, SHA-256 and size of every file and download.
``scenario.toml``
    A scenario using these files: ``towerplan plan DIR/scenario.toml`` runs as is.

The directory appears only when every file is complete (staging directory, then rename).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shapely
from pyproj import Transformer

from towerplan._version import __version__
from towerplan.errors import InputDataError
from towerplan.fetch.area import (
    ADMIN_LEVELS,
    KABUPATEN_NAMES,
    Area,
    area_from_options,
)
from towerplan.fetch.http import (
    Cache,
    Download,
    DownloadError,
    DownloadProgress,
    MissingFromCacheError,
    RetryPolicy,
    file_sha256,
    utc_timestamp,
)
from towerplan.fetch.outputs import (
    SCENARIO_FILE,
    SOURCES_FILE,
    write_json,
    write_points_csv,
    write_scenario_toml,
)
from towerplan.fetch.overpass import (
    LAYER_COLUMNS,
    OSM_ATTRIBUTION,
    OSM_LICENCE,
    OsmData,
    overpass_query,
    parse_overpass,
    verify_overpass,
)
from towerplan.fetch.tiles import (
    COPERNICUS_DEM,
    WORLDCOVER,
    Tile,
    TiledSource,
    mosaic,
    tiles_for,
    verify_geotiff,
)
from towerplan.io.cache import cache_root, content_key
from towerplan.io.outdir import staged_directory
from towerplan.io.rasters import lonlat_bounds, write_raster
from towerplan.io.terrain import utm_crs_for
from towerplan.io.vectors import write_gpkg_layers
from towerplan.scenario import Radio, Sources

if TYPE_CHECKING:
    from towerplan.io.rasters import RasterGrid

__all__ = [
    "DEFAULT_MARGIN_KM",
    "Area",
    "DownloadError",
    "FetchResult",
    "MissingFromCacheError",
    "RetryPolicy",
    "area_from_options",
    "default_margin_km",
    "fetch_area",
]

log = logging.getLogger(__name__)

Bounds = tuple[float, float, float, float]

#: Slack between the fetched extent and the plan's terrain grid (villages + max radius), km.
_GRID_SLACK_KM = 2.0


def default_margin_km(max_radius_km: float = Radio().max_radius_km) -> float:  # noqa: B008
    """Margin the rasters need around the area for a coverage radius, km (radius + 2 km).

    Examples
    --------
    >>> default_margin_km(30.0)
    32.0
    """
    return float(max_radius_km) + _GRID_SLACK_KM


#: Default margin around the area: the default coverage radius plus the slack, km.
DEFAULT_MARGIN_KM = default_margin_km()

OSM_FILE, TOWERS_FILE, SETTLEMENTS_FILE = "osm.gpkg", "towers.csv", "settlements.csv"
DEM_FILE, LANDCOVER_FILE = "dem.tif", "landcover.tif"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What :func:`fetch_area` wrote.

    Attributes
    ----------
    area : Area
        The area fetched.
    directory : Path
        The output directory.
    bbox : tuple of float
        Extent of the rasters ``(west, south, east, north)``, degrees.
    files : tuple of str
        Names of the files written.
    counts : dict of str to int
        Features per OpenStreetMap layer.
    villages_layer : str
        Layer of ``osm.gpkg`` the scenario uses as villages (``desa``, else ``kecamatan``).
    downloads : tuple of Download
        Every file used, downloaded or from the cache.
    notes : tuple of str
        Facts worth reading (unpublished tiles, villages without register code, ...).
    """

    area: Area
    directory: Path
    bbox: Bounds
    files: tuple[str, ...]
    counts: dict[str, int]
    villages_layer: str
    downloads: tuple[Download, ...]
    notes: tuple[str, ...] = ()

    @property
    def downloaded(self) -> int:
        """Files downloaded in this run (the rest came from the cache)."""
        return sum(1 for d in self.downloads if not d.from_cache)


@dataclass(slots=True)
class _Tiles:
    source: TiledSource
    found: list[tuple[Tile, Download]] = field(default_factory=list)
    absent: list[Tile] = field(default_factory=list)


def fetch_area(area: Area, out_dir: str | Path, *, sources: Sources = Sources(),  # noqa: B008
               cache_dir: str | Path | None = None, offline: bool = False,
               refresh: bool = False, overwrite: bool = False,
               policy: RetryPolicy = RetryPolicy(),  # noqa: B008
               margin_km: float = DEFAULT_MARGIN_KM, register: str | Path | None = None,
               progress: DownloadProgress | None = None) -> FetchResult:
    """Download OpenStreetMap, terrain and land cover for *area* and write a plan directory.

    Parameters
    ----------
    area : Area
        What to fetch (:func:`~towerplan.fetch.area.area_from_options`).
    out_dir : str or Path
        Directory to write; must be new or empty unless *overwrite*.
    sources : Sources
        Overpass, DEM and WorldCover URLs (scenario ``[sources]``).
    cache_dir : str or Path, optional
        Cache folder; default ``<user cache>/towerplan/fetch``
        (:func:`towerplan.io.cache.cache_root`).
    offline : bool
        Use only the cache; when anything is missing raise
        :class:`~towerplan.fetch.http.MissingFromCacheError` listing all of it.
    refresh : bool
        Download again even what is cached.
    overwrite : bool
        Replace a non-empty *out_dir* as a whole (files the fetch does not write are gone).
    policy : RetryPolicy
        Attempts, backoff and timeout of every download.
    margin_km : float
        Margin around the area covered by the rasters, km (default 32 = the default
        coverage radius of 30 km plus 2). The written scenario's ``radio.max_radius_km`` is
        lowered to ``margin_km - 2`` when that is smaller.
    register : str or Path, optional
        Village register named in the written scenario's hint on Kemendagri codes (default:
        the Paser register of a source checkout, when present). Villages keep OpenStreetMap
        ids as codes (``osm-r<id>``) unless they are the unit asked for by ``--code``.
    progress : callable, optional
        ``progress(label, done_bytes, total_bytes)`` during downloads.

    Returns
    -------
    FetchResult
        Files written, feature counts, downloads and notes.

    Raises
    ------
    MissingFromCacheError
        Offline, listing every file the cache lacks.
    DownloadError
        A download failed after every retry, or a file is corrupt (nothing is cached then).
    InputDataError
        The area is not found, or has no boundaries or no terrain (the message lists both).
    OutputError
        *out_dir* is not empty (without *overwrite*) or not writable.
    """
    started = time.perf_counter()
    if not margin_km >= 1.0 + _GRID_SLACK_KM:
        msg = f"margin {margin_km:g} km is too small; give at least {1 + _GRID_SLACK_KM:g} km"
        raise InputDataError(msg, problems=(msg,))
    root = Path(cache_dir) if cache_dir is not None else cache_root() / "fetch"
    cache = Cache(root, offline=offline, refresh=refresh, policy=policy, progress=progress)
    target = Path(out_dir)
    with staged_directory(target, overwrite=overwrite) as staging:
        missing: list[str] = []
        osm, osm_download = _fetch_osm(area, cache, sources.overpass_url, missing)
        bbox = _raster_bbox(area, osm, margin_km)
        tiles: list[_Tiles] = []
        if bbox is None:
            missing.append(f"the {COPERNICUS_DEM.title} and {WORLDCOVER.title} tiles of "
                           f"{area.label} (known once its boundary is in the cache)")
        else:
            tiles = [_fetch_tiles(source, base, bbox, cache, missing) for source, base in (
                (COPERNICUS_DEM, sources.dem_url), (WORLDCOVER, sources.worldcover_url))]
        if missing:
            msg = (f"offline: {len(missing)} file(s) not in the cache {root}: "
                   f"{'; '.join(missing)}; run without --offline to download them")
            raise MissingFromCacheError(msg, tuple(missing))
        assert osm is not None and osm_download is not None and bbox is not None
        _check_data(area, osm, tiles[0], bbox)
        notes = list(osm.notes)
        _assign_codes(osm, area)
        villages_layer = "desa" if len(osm.layers["desa"]) else "kecamatan"
        hint = _register_hint(area, str(Path(register).as_posix()) if register is not None
                              else "builtin:paser-register")
        files, tile_notes = _write_files(staging, area, osm, osm_download, tiles, bbox,
                                         sources, margin_km, villages_layer, hint)
        notes += tile_notes
    downloads = (osm_download, *(d for t in tiles for _, d in t.found))
    log.info("fetch: %s, %d %s, %d tiles (%d downloaded) in %.1f s", area.label,
             len(osm.layers[villages_layer]), villages_layer, len(downloads) - 1,
             sum(1 for d in downloads if not d.from_cache), time.perf_counter() - started)
    return FetchResult(area, target, bbox, files, osm.counts(), villages_layer, downloads,
                       tuple(notes))


def _fetch_osm(area: Area, cache: Cache, url: str,
               missing: list[str]) -> tuple[OsmData | None, Download | None]:
    """Download (or reuse) the Overpass answer for *area* and parse it."""
    query = overpass_query(area)
    label = f"OpenStreetMap (Overpass) answer for {area.label}"
    body = urllib.parse.urlencode({"data": query}).encode()
    try:
        found = cache.get(url, "overpass", f"{content_key('overpass', query)}.json", data=body,
                          label=label, verify=lambda path: verify_overpass(path, url=url))
    except MissingFromCacheError as exc:
        missing.extend(exc.missing)
        return None, None
    assert found is not None
    payload = json.loads(found.path.read_bytes())
    return parse_overpass(payload, area), found


def _raster_bbox(area: Area, osm: OsmData | None, margin_km: float) -> Bounds | None:
    """Extent of the area and its villages plus *margin_km*, degrees (None when unknown)."""
    if osm is None and area.kind != "bbox":
        return None
    if osm is not None:
        parts = [osm.region, *(osm.layers[k].geometry.union_all() for k in ("kecamatan", "desa")
                               if len(osm.layers[k]))]
    else:
        assert area.bbox is not None
        parts = [shapely.box(*area.bbox)]
    west, south, east, north = (float(v) for v in shapely.union_all(parts).bounds)
    crs = utm_crs_for((west + east) / 2, (south + north) / 2)
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0, x1, y1 = to_utm.transform_bounds(west, south, east, north, densify_pts=21)
    margin_m = margin_km * 1000.0
    w, s, e, n = lonlat_bounds((x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m), crs)
    return (round(w, 6), round(s, 6), round(e, 6), round(n, 6))


def _fetch_tiles(source: TiledSource, base_url: str, bbox: Bounds, cache: Cache,
                 missing: list[str]) -> _Tiles:
    result = _Tiles(source)
    for tile in tiles_for(source, bbox):
        url = source.url(base_url, tile.name)
        label = f"{source.title} tile {tile.name}"

        def verify(path: Path, url: str = url, label: str = label) -> None:
            verify_geotiff(path, label=label, url=url)

        try:
            found = cache.get(url, source.kind, source.file_name(tile.name), label=label,
                              verify=verify, absent_ok=True)
        except MissingFromCacheError as exc:
            missing.extend(exc.missing)
            continue
        if found is None:
            result.absent.append(tile)
        else:
            result.found.append((tile, found))
    return result


def _span(bbox: Bounds) -> str:
    return ",".join(f"{v:.4f}" for v in bbox)


def _check_data(area: Area, osm: OsmData, dem: _Tiles, bbox: Bounds) -> None:
    """Raise one :class:`InputDataError` naming everything a plan would lack."""
    problems = []
    if not len(osm.layers["desa"]) and not len(osm.layers["kecamatan"]):
        problems.append(f"OpenStreetMap has no kecamatan or desa boundaries (admin_level 6/7) "
                        f"in {area.label}")
    if not dem.found:
        names = ", ".join(t.name for t in dem.absent[:4])
        more = f" and {len(dem.absent) - 4} more" if len(dem.absent) > 4 else ""
        problems.append(f"{dem.source.title} publishes no tile for {_span(bbox)} ({names}{more} "
                        "not found: open sea or outside the product)")
    if problems:
        msg = f"no usable data for {area.label}: " + "; ".join(problems) + "; nothing written"
        raise InputDataError(msg, problems=tuple(problems))


def _assign_codes(osm: OsmData, area: Area) -> None:
    """Codes of the units: Kemendagri where known (the unit asked for), else ``osm-<id>``."""
    layers = osm.layers
    if area.kind == "desa":
        layers["desa"].loc[layers["desa"]["district"] == "", "district"] = area.kecamatan
    by_name = {name.casefold(): code for code, name in KABUPATEN_NAMES.items()}
    kab = layers["kabupaten"]
    kab["code"] = [by_name.get(str(n).casefold(), "") for n in kab["name"]]
    if area.code:
        own = layers[area.kind]
        own["code"] = area.code
    for name in ADMIN_LEVELS:
        frame = layers[name]
        empty = frame["code"] == ""
        frame.loc[empty, "code"] = "osm-" + frame.loc[empty, "osm_id"].astype(str)


def _register_hint(area: Area, register: str) -> str:
    """Header line telling how to give the villages Kemendagri codes (*register*: the
    register to name, a path or a built-in name)."""
    name = area.name if area.kind == "kabupaten" else area.kabupaten
    known = {v.casefold() for v in KABUPATEN_NAMES.values()}
    if name.casefold() not in known:
        return ("Village codes are OpenStreetMap ids (osm-r...); add [inputs] register = "
                "\"<register.csv>\" to match names to Kemendagri codes (towerplan match).")
    return (f"Village codes are OpenStreetMap ids (osm-r...); add [inputs] register = "
            f"\"{register}\" to match names to Kemendagri codes (towerplan match).")


def _write_files(staging: Path, area: Area, osm: OsmData, osm_download: Download,
                 tiles: list[_Tiles], bbox: Bounds, sources: Sources, margin_km: float,
                 villages_layer: str, hint: str) -> tuple[tuple[str, ...], list[str]]:
    """Write every output into *staging*; return the file names and notes."""
    layers = [(name, osm.layers[name], LAYER_COLUMNS[name][1]) for name in LAYER_COLUMNS]
    write_gpkg_layers(staging / OSM_FILE, layers)
    towers = osm.layers["towers"].copy()
    towers["tower_id"] = "osm-" + towers["osm_id"].astype(str)
    write_points_csv(staging / TOWERS_FILE, towers, ("tower_id", "height_m", "operator"))
    osm_files = [OSM_FILE, TOWERS_FILE]
    places = osm.layers["places"]
    if len(places):
        write_points_csv(staging / SETTLEMENTS_FILE, places, ("name", "place", "osm_population"))
        osm_files.append(SETTLEMENTS_FILE)
    notes: list[str] = []
    raster_files: dict[str, tuple[_Tiles, list[str]]] = {}
    for tile_set, name in zip(tiles, (DEM_FILE, LANDCOVER_FILE), strict=True):
        if not tile_set.found:
            notes.append(f"{tile_set.source.title}: no tile published for {_span(bbox)}; "
                         f"{name} not written")
            continue
        file_notes = _write_mosaic(staging / name, tile_set, bbox)
        raster_files[name] = (tile_set, file_notes)
        notes += file_notes
    entries: dict[str, Any] = {}
    osm_source = {"url": osm_download.url, "retrieved": osm_download.retrieved,
                  "sha256": osm_download.sha256, "size_bytes": osm_download.size_bytes,
                  "osm_base": osm.osm_base}
    for name in osm_files:
        entries[name] = _entry(staging / name, OSM_LICENCE, OSM_ATTRIBUTION, [osm_source])
    for name, (tile_set, file_notes) in raster_files.items():
        entries[name] = _entry(staging / name, tile_set.source.licence,
                               tile_set.source.attribution,
                               [{"url": d.url, "retrieved": d.retrieved, "sha256": d.sha256,
                                 "size_bytes": d.size_bytes} for _, d in tile_set.found],
                               notes=file_notes)
    write_json(staging / SOURCES_FILE, {
        "area": area.label, "bbox_deg": list(bbox), "margin_km": margin_km,
        "created": utc_timestamp(), "towerplan_version": __version__,
        "overpass_query": overpass_query(area), "files": entries,
    })
    _write_scenario(staging / SCENARIO_FILE, area, osm, sources, margin_km, villages_layer, hint,
                    has_landcover=LANDCOVER_FILE in raster_files,
                    has_settlements=SETTLEMENTS_FILE in osm_files)
    files = (*osm_files, *raster_files, SOURCES_FILE, SCENARIO_FILE)
    return files, notes


def _write_mosaic(path: Path, tile_set: _Tiles, bbox: Bounds) -> list[str]:
    source = tile_set.source
    grid: RasterGrid = mosaic([d.path for _, d in tile_set.found], bbox,
                              sea_boxes=[t.bounds for t in tile_set.absent],
                              sea_value=source.sea_value, what=source.title)
    write_raster(path, grid, description=source.title, tags={
        "source": source.title, "licence": source.licence, "attribution": source.attribution})
    return [f"{source.title}: tile {t.name} is not published (open sea); its cells are "
            f"{source.sea_meaning}" for t in tile_set.absent]


def _entry(path: Path, licence: str, attribution: str, sources: list[dict[str, Any]],
           notes: Sequence[str] = ()) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "licence": licence, "attribution": attribution, "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size, "sources": sources,
    }
    if notes:
        entry["notes"] = list(notes)
    return entry


def _write_scenario(path: Path, area: Area, osm: OsmData, sources: Sources, margin_km: float,
                    villages_layer: str, hint: str, *, has_landcover: bool,
                    has_settlements: bool) -> None:
    day = utc_timestamp()[:10]
    title = {"kabupaten": f"Kabupaten {area.name}",
             "kecamatan": f"Kecamatan {area.name}, Kabupaten {area.kabupaten}",
             "desa": f"Desa {area.name}, Kecamatan {area.kecamatan}",
             "bbox": f"Area {area.label[5:]}"}[area.kind]
    level = "admin_level 7, desa" if villages_layer == "desa" else "admin_level 6, kecamatan"
    attribution = [f"Boundaries, places and towers: {OSM_ATTRIBUTION}, {OSM_LICENCE}, via the "
                   f"Overpass API (data of {osm.osm_base or day})",
                   f"Terrain: {COPERNICUS_DEM.title}, {COPERNICUS_DEM.attribution}"]
    if has_landcover:
        attribution.append(f"Land cover: {WORLDCOVER.title}, {WORLDCOVER.licence}, "
                           f"{WORLDCOVER.attribution}")
    sections: dict[str, dict[str, Any]] = {
        "scenario": {
            "name": area.slug, "title": title,
            "description": (f"Open data fetched by towerplan fetch on {day} for {area.label}: "
                            f"OpenStreetMap boundaries ({level}), {COPERNICUS_DEM.title} "
                            f"terrain and {WORLDCOVER.title} land cover; see {SOURCES_FILE}."),
        },
        "inputs": {
            "villages": OSM_FILE, "village_layer": villages_layer, "dem": [DEM_FILE],
            "towers": TOWERS_FILE, "landcover": LANDCOVER_FILE if has_landcover else "",
            "settlements": SETTLEMENTS_FILE if has_settlements else "",
            "attribution": attribution,
        },
        "inputs.village_columns": {"name": "name", "code": "code", "district": "district",
                                   "district_code": "district_code", "kind": "kind",
                                   "population": "population"},
    }
    radius_km = margin_km - _GRID_SLACK_KM
    if radius_km < Radio().max_radius_km:
        sections["radio"] = {"max_radius_km": float(radius_km)}
    sections["sources"] = {"overpass_url": sources.overpass_url, "dem_url": sources.dem_url,
                           "worldcover_url": sources.worldcover_url}
    header = [f"Scenario written by towerplan fetch on {day} for {area.label}.",
              f"Data, licences and checksums: {SOURCES_FILE}. Run: towerplan plan {path.name}",
              "Demand is village area unless you add population (see docs/data.md).", hint]
    if "radio" in sections:
        header.append(f"radio.max_radius_km is {radius_km:g} km because the rasters reach "
                      f"{margin_km:g} km beyond the area; fetch with a larger --margin-km "
                      "for more.")
    write_scenario_toml(path, header=header, sections=sections)
