"""Data export of a programme history for a "satu data" open-data portal (CKAN).

:func:`write_portal_export` writes, into one folder, the history's tables as CSV (UTF-8,
comma, header) and GeoJSON (RFC 7946, longitude/latitude) and ``metadata.json``: a CKAN
dataset (``package_create`` fields: ``name``, ``title``, ``notes``, ``license_id``,
``license_title``, ``author``, ``maintainer``, ``organization``, ``tags``, ``extras`` with the
period, source and spatial extent, and one ``resources`` entry per file with its format,
media type, size and SHA-256). A portal harvester or an officer uploading by hand reads the
same fields.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from towerplan._version import __version__
from towerplan.io.atomic import atomic_output
from towerplan.io.tables import guard_formula

__all__ = ["PORTAL_FILES", "portal_licence", "write_portal_export"]

#: Files of the export, with their CKAN format, and description (Indonesian / English).
PORTAL_FILES: dict[str, tuple[str, str]] = {
    "villages.csv": ("CSV", "Status sinyal terakhir tiap desa / Latest signal status of each "
                            "village"),
    "villages.geojson": ("GeoJSON", "Batas desa dengan status sinyal terakhir / Village "
                                    "boundaries with the latest signal status"),
    "sites.csv": ("CSV", "Lokasi menara dan tahapannya / Tower sites and their stage"),
    "sites.geojson": ("GeoJSON", "Lokasi menara (titik) / Tower sites (points)"),
    "status_reports.csv": ("CSV", "Semua laporan sinyal desa / Every village signal report"),
    "status_over_time.csv": ("CSV", "Desa blank spot per akhir tahun / Blank-spot villages at "
                                    "the end of each year"),
    "programme.csv": ("CSV", "Anggaran, komitmen dan realisasi per tahun dan sumber dana / "
                             "Budget, committed and spent per year and channel"),
}

_MEDIA = {"CSV": "text/csv", "GeoJSON": "application/geo+json", "JSON": "application/json"}

_VILLAGE_FIELDS = ("code", "name", "kecamatan", "kind", "population", "status", "class",
                   "date", "source", "n_reports")
_SITE_FIELDS = ("site_id", "code", "village", "kecamatan", "year", "channel", "tower_type",
                "stage", "stage_date", "capex_idr", "people", "location")


def portal_licence(attribution: Sequence[str]) -> tuple[str, str]:
    """The CKAN licence (id, title) the export inherits from its sources.

    Share-alike sources bind the derived data: ODbL (e.g. a village register from
    OpenStreetMap or idn-area-data) gives ``odc-odbl``; CC BY-SA (OpenCelliD) ``cc-by-sa``;
    otherwise ``cc-by`` (attribution, as every source asks).
    """
    text = " ".join(attribution)
    if re.search(r"\bODbL\b", text, re.IGNORECASE):
        return "odc-odbl", "Open Data Commons Open Database License (ODbL)"
    if re.search(r"CC[ -]BY-SA", text, re.IGNORECASE):
        return "cc-by-sa", "Creative Commons Attribution Share-Alike"
    return "cc-by", "Creative Commons Attribution"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.6g}" if abs(value) < 1e6 else f"{value:.0f}"
    if isinstance(value, list):  # site events, or a village's sites
        return "; ".join(" ".join(_cell(x) for x in v if x is not None)
                         if isinstance(v, list) else
                         _cell(f"{v.get('site_id')} {v.get('stage')}") if isinstance(v, dict)
                         else _cell(v) for v in value)
    return guard_formula(str(value))


def _write_csv(path: Path, fields: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    with atomic_output(path) as tmp, tmp.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(fields)
        for row in rows:
            writer.writerow([_cell(row.get(f)) for f in fields])


def _write_json(path: Path, data: Any) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False) + "\n",
                       encoding="utf-8")


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug or "towerplan")[:90]


def _extent(features: list[dict[str, Any]]) -> dict[str, Any] | None:
    import shapely

    geoms = [shapely.from_geojson(json.dumps(f["geometry"])) for f in features
             if f.get("geometry")]
    if not geoms:
        return None
    minx, miny, maxx, maxy = (round(float(v), 5) for v in shapely.total_bounds(geoms))
    return {"type": "Polygon", "coordinates": [[[minx, miny], [maxx, miny], [maxx, maxy],
                                                [minx, maxy], [minx, miny]]]}


def write_portal_export(data: dict[str, Any], folder: str | Path, *, organization: str = "",
                        maintainer: str = "") -> Path:
    """Write the CSV/GeoJSON files and ``metadata.json`` of a history into *folder*.

    Parameters
    ----------
    data : dict
        :func:`~towerplan.analysis.progress.dashboard_data` of the history (its
        ``reports`` become ``status_reports.csv``).
    folder : str or Path
        Existing directory to write into.
    organization, maintainer : str
        The portal's publishing organisation and contact (empty: not stated).

    Returns
    -------
    Path
        ``metadata.json``.
    """
    folder = Path(folder)
    villages = data["villages"]["features"]
    sites = data["sites"]["features"]
    site_rows = []
    for f in sites:
        row = dict(f["properties"])
        geom = f.get("geometry")
        row["lon"], row["lat"] = (geom["coordinates"] if geom else (None, None))
        site_rows.append(row)
    _write_csv(folder / "villages.csv", (*_VILLAGE_FIELDS, "sites"),
               [f["properties"] for f in villages])
    _write_json(folder / "villages.geojson", data["villages"])
    _write_csv(folder / "sites.csv", (*_SITE_FIELDS, "lon", "lat", "events"), site_rows)
    _write_json(folder / "sites.geojson", data["sites"])
    _write_csv(folder / "status_reports.csv", ("code", "status", "date", "source", "note"),
               data["reports"])
    over = data["over_time"]
    _write_csv(folder / "status_over_time.csv",
               tuple(over[0]) if over else ("year",), over)
    progress = data["progress"]
    _write_csv(folder / "programme.csv", tuple(progress[0]) if progress else ("year",),
               progress)

    licence_id, licence_title = portal_licence(data["attribution"])
    start, end = data["period"]
    resources = []
    for name, (fmt, description) in PORTAL_FILES.items():
        body = (folder / name).read_bytes()
        resources.append({"name": name, "url": name, "format": fmt, "mimetype": _MEDIA[fmt],
                          "description": description, "size": len(body),
                          "hash": "sha256:" + hashlib.sha256(body).hexdigest(),
                          "last_modified": data["generated_utc"]})
    extent = _extent(villages)
    h = data["headline"]
    notes = "\n\n".join([
        f"Status sinyal desa dan kemajuan program menara, {start} s.d. {end}. / Village signal "
        f"status and tower programme progress, {start} to {end}.",
        f"{h['villages']} desa/villages: {h['blank']} blank spot, {h['semi_blank']} semi blank "
        f"spot, {h['served']} ada sinyal/served, {h['unknown']} tidak diketahui/unknown.",
        *data["limitations"],
        "Sumber / Sources: " + "; ".join(data["attribution"]),
    ])
    package = {
        "name": _slug(f"{data['region'] or data['title']}-blank-spot-programme"),
        "title": data["title"] or "Program menara blank spot / Blank-spot tower programme",
        "notes": notes,
        "license_id": licence_id,
        "license_title": licence_title,
        "author": organization,
        "maintainer": maintainer,
        "organization": organization,
        "private": False,
        "version": data["generated_utc"][:10],
        "tags": [{"name": t} for t in ("blank-spot", "telekomunikasi", "menara-bts",
                                       "sinyal-seluler", "desa")],
        "extras": [
            {"key": "temporal_start", "value": start},
            {"key": "temporal_end", "value": end},
            {"key": "source", "value": "; ".join(data["attribution"])},
            {"key": "population_basis", "value": data["population_basis"]},
            {"key": "coverage_target", "value": data["target"]},
            {"key": "spatial", "value": json.dumps(extent) if extent else ""},
            {"key": "generated_by", "value": f"towerplan {__version__}"},
            {"key": "generated_utc", "value": data["generated_utc"]},
            *([{"key": "as_of", "value": data["as_of"]}] if data.get("as_of") else []),
        ],
        "resources": resources,
    }
    target = folder / "metadata.json"
    _write_json(target, package)
    return target
