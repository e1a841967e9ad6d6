"""Machine-readable outputs (CSV, GeoPackage, JSON, GeoTIFF) and :func:`write_outputs`.

Every file is written atomically: to a temporary file in the destination directory, then
renamed over the destination with :func:`os.replace`. A failed write leaves no temporary file
behind and never a half-written destination.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.errors import OutputError, TowerplanError
from towerplan.io.atomic import atomic_output
from towerplan.io.vectors import write_gpkg_layers
from towerplan.outputs.columns import (
    AUDIT_COLUMNS,
    BACKHAUL_COLUMNS,
    CANDIDATE_COLUMNS,
    COVERAGE_COLUMNS,
    RANKING_COLUMNS,
    TOWER_COLUMNS,
    VILLAGE_COLUMNS,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from towerplan.results import PlanResult

__all__ = [
    "DATA_SOURCE_COLUMN",
    "DATA_SOURCE_SYNTHETIC",
    "DATA_SOURCE_USER",
    "OUTPUT_FILES",
    "coverage_polygons",
    "data_source_label",
    "guard_formula",
    "require_columns",
    "working_crs",
    "write_coverage_rasters",
    "write_outputs",
    "write_plan_gpkg",
    "write_ranking_csv",
    "typed_layer",
    "write_summary_json",
    "write_table_csv",
    "write_villages_csv",
]

log = logging.getLogger(__name__)

#: Trailing column of every table saying where the data came from.
DATA_SOURCE_COLUMN = "data_source"
DATA_SOURCE_SYNTHETIC = "synthetic demo (not a real place)"
DATA_SOURCE_USER = "user data"

#: Files :func:`write_outputs` writes, in order (``summary.json`` last: it marks a finished run).
OUTPUT_FILES: tuple[str, ...] = (
    "map.html", "report.xlsx", "report.html", "report.pdf", "ranking.csv", "villages.csv",
    "plan.gpkg", "coverage_before.tif", "coverage_before.qml", "coverage_after.tif",
    "coverage_after.qml", "plan.kml", "plan.kmz", "summary.json",
)

#: Columns holding text; every other column of :mod:`~towerplan.outputs.columns` is numeric.
_TEXT_COLUMNS = frozenset({
    "code", "name", "district_code", "district", "kind", "status_before", "status_after",
    "best_server_before", "best_server_after", "tower_id", "operator", "radio", "site_id",
    "origin", "village_code", "village", "villages_lifted_names", "status", "best_server",
    "audit_id", "source", "link_id", "from_id", "to_id", "technology", "stage",
    "backhaul_technology", "reason",
})
_BOOL_COLUMNS = frozenset({"selected", "feasible"})
_INT_COLUMNS = frozenset({"rank", "villages_lifted", "cells", "backhaul_hops"})

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Sidecar files SQLite may leave next to a GeoPackage that failed half-way.


def guard_formula(text: str) -> str:
    """Return *text* made safe against spreadsheet formula injection.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel,
    LibreOffice and Google Sheets evaluate as a formula; such text gets a leading ``'``.

    Examples
    --------
    >>> guard_formula("=1+2")
    "'=1+2"
    >>> guard_formula("Muara Toyu")
    'Muara Toyu'
    """
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def data_source_label(result: PlanResult) -> str:
    """Return the ``data_source`` value of every row written for *result*."""
    return DATA_SOURCE_SYNTHETIC if result.provenance.synthetic else DATA_SOURCE_USER


def require_columns(frame: pd.DataFrame, columns: Sequence[str], layer: str) -> None:
    """Raise :class:`OutputError` naming every column of *columns* missing from *frame*."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = f"cannot write the {layer} table: missing column(s) {', '.join(missing)}"
        raise OutputError(msg)


# --------------------------------------------------------------------------- tables


def _decimals(column: str) -> int | None:
    """Decimals a float column is rounded to in CSV files (``None``: integer)."""
    if column.endswith("_idr") or column in _INT_COLUMNS:
        return None
    if column in ("lon", "lat") or column.endswith(("_lon", "_lat")):
        return 6
    if column.startswith(("share_", "area_share_")):
        return 4
    if column == "area_km2":
        return 3
    if column.endswith(("_dbm", "_m")):
        return 1
    return 2


def _text_values(values: pd.Series) -> list[str]:
    """Return a text column as strings, missing values (None, NaN, NA) as ``""``."""
    missing = values.isna().to_numpy()
    return ["" if gone else str(v) for v, gone in zip(values, missing, strict=True)]


def _csv_value(column: str, value: Any) -> str:
    """Format one cell of a CSV file (text columns arrive as strings already)."""
    if column in _TEXT_COLUMNS:
        return guard_formula(value)
    if column in _BOOL_COLUMNS:
        return "true" if bool(value) else "false"
    if value is None:
        return ""
    number = float(value)
    if not math.isfinite(number):
        return ""
    places = _decimals(column)
    if places is None:
        return str(round(number))
    return f"{round(number, places):.{places}f}".rstrip("0").rstrip(".")


def write_table_csv(frame: pd.DataFrame, columns: Sequence[str], layer: str, path: Path,
                    source: str) -> Path:
    """Write *columns* of *frame* as CSV (plus the ``data_source`` column), atomically.

    Text cells are guarded against spreadsheet formula injection; numbers are rounded by
    column kind.
    """
    require_columns(frame, columns, layer)
    values = [_text_values(frame[c]) if c in _TEXT_COLUMNS else frame[c].tolist()
              for c in columns]
    with atomic_output(path) as tmp, tmp.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([*columns, DATA_SOURCE_COLUMN])
        for row in zip(*values, strict=True):
            writer.writerow([*(_csv_value(c, v) for c, v in zip(columns, row, strict=True)),
                             source])
    return path


def write_ranking_csv(result: PlanResult, path: str | Path) -> Path:
    """Write the selected sites in build order as ``ranking.csv``.

    Parameters
    ----------
    result : PlanResult
        Plan to write; ``result.selected`` carries ``RANKING_COLUMNS``.
    path : str or Path
        Destination file.

    Returns
    -------
    Path
        The file written: UTF-8, header ``RANKING_COLUMNS`` + ``data_source``; costs in whole
        rupiah, coordinates with 6 decimals, missing values empty.
    """
    frame = result.selected.sort_values("rank") if "rank" in result.selected else result.selected
    return write_table_csv(frame, RANKING_COLUMNS, "ranking", Path(path), data_source_label(result))


def write_villages_csv(result: PlanResult, path: str | Path) -> Path:
    """Write one row per village with its before/after statistics as ``villages.csv``.

    Parameters
    ----------
    result : PlanResult
        Plan to write; ``result.villages`` carries ``VILLAGE_COLUMNS``.
    path : str or Path
        Destination file.

    Returns
    -------
    Path
        The file written: UTF-8, header ``VILLAGE_COLUMNS`` + ``data_source``.
    """
    return write_table_csv(result.villages, VILLAGE_COLUMNS, "villages", Path(path),
                      data_source_label(result))


# --------------------------------------------------------------------------- GeoPackage


def working_crs(result: PlanResult) -> Any:
    """Return the working CRS of *result* (the villages' CRS, else the DEM's)."""
    return result.villages.crs if result.villages.crs is not None else result.dem.crs


def typed_layer(frame: gpd.GeoDataFrame, columns: Sequence[str], crs: Any,
                 source: str) -> gpd.GeoDataFrame:
    """Return *frame* restricted to *columns* (+ ``data_source``) with explicit dtypes, in
    *crs*."""
    import geopandas as gpd
    import pandas as pd

    data: dict[str, Any] = {}
    for col in columns:
        values = frame[col]
        if col in _TEXT_COLUMNS:
            data[col] = pd.Series(_text_values(values), index=frame.index, dtype=object)
        elif col in _BOOL_COLUMNS:
            data[col] = values.astype(bool)
        elif col in _INT_COLUMNS:
            data[col] = pd.to_numeric(values, errors="coerce").fillna(0).astype("int64")
        else:
            data[col] = pd.to_numeric(values, errors="coerce").astype("float64")
    data[DATA_SOURCE_COLUMN] = pd.Series([source] * len(frame), index=frame.index, dtype=object)
    geometry = frame.geometry
    if frame.crs is None:
        geometry = geometry.set_crs(crs)
    elif frame.crs != crs:
        geometry = geometry.to_crs(crs)
    return gpd.GeoDataFrame(data, geometry=geometry.values, crs=crs, index=frame.index)


def coverage_polygons(rsrp_dbm: np.ndarray, transform: Any, threshold_dbm: float) -> Any:
    """Return the cells whose RSRP reaches *threshold_dbm* as one dissolved (multi)polygon.

    Parameters
    ----------
    rsrp_dbm : numpy.ndarray
        Best-server RSRP, dBm (``nan``: not reached).
    transform : affine.Affine
        Cell-to-CRS transform of the grid; the polygon is in the grid's CRS.
    threshold_dbm : float
        A cell is covered at or above this RSRP.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
        Cell-edge outlines with holes (empty ``MultiPolygon`` when nothing is covered); its
        area is the number of covered cells times the cell area.
    """
    import shapely
    from rasterio.features import shapes

    values = np.asarray(rsrp_dbm, dtype=np.float64)
    covered = np.isfinite(values) & (values >= threshold_dbm)
    if not covered.any():
        return shapely.MultiPolygon()
    parts = [shapely.geometry.shape(geom) for geom, _ in
             shapes(covered.astype(np.uint8), mask=covered, transform=transform, connectivity=4)]
    return shapely.union_all(parts)


def _coverage_layer(result: PlanResult, crs: Any, source: str) -> gpd.GeoDataFrame:
    """The ``coverage`` layer: one dissolved polygon per stage (before, after)."""
    import geopandas as gpd

    threshold = result.scenario.radio.threshold_rsrp_dbm
    geoms, rows = [], []
    for stage, grid in (("before", result.rsrp_before), ("after", result.rsrp_after)):
        geom = coverage_polygons(grid.array, grid.transform, threshold)
        geoms.append(geom)
        rows.append({"stage": stage, "threshold_rsrp_dbm": threshold,
                     "area_km2": round(float(geom.area) / 1e6, 3)})
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=result.rsrp_after.crs)
    return typed_layer(frame, COVERAGE_COLUMNS, crs, source)


def write_plan_gpkg(result: PlanResult, path: str | Path) -> Path:
    """Write the plan's vector layers to one GeoPackage.

    Layers ``villages`` (MultiPolygon), ``candidates``, ``selected`` and ``existing`` (Point),
    ``links`` (LineString, backhaul hops) and ``audit`` (Point) when the result has them, and
    ``coverage`` (MultiPolygon: the area at or above the RSRP threshold before and after the
    plan, one dissolved feature per ``stage``). Each is in the working CRS with its column set
    from :mod:`~towerplan.outputs.columns` plus ``data_source``. Layers without rows are still
    created with their full schema. Text is stored as is (GIS data, not a spreadsheet: no
    formula guard).

    Parameters
    ----------
    result : PlanResult
        Plan to write.
    path : str or Path
        Destination ``.gpkg`` file.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    crs = working_crs(result)
    source = data_source_label(result)
    layers = [
        ("villages", result.villages, VILLAGE_COLUMNS, "MultiPolygon"),
        ("candidates", result.candidates, CANDIDATE_COLUMNS, "Point"),
        ("selected", result.selected, RANKING_COLUMNS, "Point"),
        ("existing", result.existing, TOWER_COLUMNS, "Point"),
    ]
    if result.links is not None:
        layers.append(("links", result.links, BACKHAUL_COLUMNS, "LineString"))
    if result.audit is not None:
        layers.append(("audit", result.audit, AUDIT_COLUMNS, "Point"))
    for name, frame, columns, _ in layers:
        require_columns(frame, columns, name)
    return write_gpkg_layers(path, [
        *((name, typed_layer(frame, columns, crs, source), geometry_type)
          for name, frame, columns, geometry_type in layers),
        ("coverage", _coverage_layer(result, crs, source), "MultiPolygon"),
    ])


# --------------------------------------------------------------------------- JSON


def _jsonable(value: Any) -> Any:
    """Return *value* as plain JSON data: NaN/inf become ``None``, numpy scalars Python."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        items = value.tolist() if isinstance(value, np.ndarray) else list(value)
        return [_jsonable(v) for v in items]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def write_summary_json(result: PlanResult, path: str | Path) -> Path:
    """Write ``result.summary`` as ``summary.json`` (UTF-8, indent 2, NaN as ``null``).

    Parameters
    ----------
    result : PlanResult
        Plan whose summary is written unchanged apart from JSON conversion.
    path : str or Path
        Destination file.

    Returns
    -------
    Path
        The file written.
    """
    text = json.dumps(_jsonable(result.summary), indent=2, ensure_ascii=False, allow_nan=False)
    with atomic_output(path) as tmp:
        tmp.write_text(text + "\n", encoding="utf-8")
    return Path(path)


# --------------------------------------------------------------------------- rasters


def write_coverage_rasters(result: PlanResult, out_dir: str | Path) -> list[Path]:
    """Write best-server RSRP before and after the plan as COG GeoTIFFs.

    ``coverage_before.tif`` and ``coverage_after.tif`` hold RSRP in dBm (float32, nodata
    ``nan``). Tags: ``model_chain``, ``scenario_hash``, ``threshold`` (dBm; a cell is covered
    at or above it), ``synthetic``, ``units``, ``towerplan_version``, ``data_source``.

    Parameters
    ----------
    result : PlanResult
        Plan whose ``rsrp_before`` and ``rsrp_after`` grids are written.
    out_dir : str or Path
        Existing output directory.

    Returns
    -------
    list of Path
        The two files written.
    """
    out_dir = Path(out_dir)
    return [_write_coverage(result, out_dir / f"coverage_{stage}.tif", stage)
            for stage in ("before", "after")]


def _write_coverage(result: PlanResult, path: Path, stage: str) -> Path:
    """Write the RSRP grid of *stage* (``before`` or ``after``) to *path*."""
    from towerplan.io.rasters import write_raster

    prov = result.provenance
    grid, what = ((result.rsrp_before, "existing towers") if stage == "before"
                  else (result.rsrp_after, "existing and selected towers"))
    tags = {
        "model_chain": prov.model_chain,
        "scenario_hash": prov.scenario_hash,
        "threshold": f"{result.scenario.radio.threshold_rsrp_dbm:g}",
        "synthetic": "true" if prov.synthetic else "false",
        "units": "dBm",
        "stage": stage,
        "towerplan_version": prov.version,
        "data_source": data_source_label(result),
    }
    try:
        return write_raster(path, grid, description=f"best-server RSRP (dBm), {what}",
                            tags=tags)
    except OSError as exc:
        if isinstance(exc, TowerplanError):
            raise
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc


def _write_qml(result: PlanResult, path: Path) -> Path:
    """Write the QGIS style of a coverage GeoTIFF (same stem) with the map's RSRP colours."""
    from towerplan.outputs.styles import write_coverage_qml

    return write_coverage_qml(path, result.scenario.radio.threshold_rsrp_dbm)


# --------------------------------------------------------------------------- everything


def write_outputs(result: PlanResult, out_dir: str | Path, *, lang: str = "id",
                  progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every output of a plan into *out_dir* (created if needed).

    Files, in this order: ``map.html``, ``report.xlsx``, ``report.html`` and ``report.pdf``
    (one HTML rendering for both), ``ranking.csv``, ``villages.csv``, ``plan.gpkg``,
    ``coverage_before.tif`` and ``coverage_after.tif`` each followed by its QGIS
    style (``.qml``, the map's RSRP colours), ``plan.kml``, ``plan.kmz`` (Google Earth),
    ``summary.json``. Each is
    written atomically; ``summary.json`` comes last, so its presence marks a complete run.
    Existing files of the same name are replaced.

    Parameters
    ----------
    result : PlanResult
        The plan to write.
    out_dir : str or Path
        Output directory.
    lang : {"id", "en"}
        Language of the map and the report (default Bahasa Indonesia).
    progress : callable, optional
        Called with each file name just before it is written.

    Returns
    -------
    list of Path
        The files written, in order.

    Raises
    ------
    OutputError
        If the directory cannot be created or a file cannot be written.
    ScenarioError
        If *lang* is not supported.
    """
    from towerplan.outputs.document import (
        render_report_html,
        write_report_html,
        write_report_pdf,
    )
    from towerplan.outputs.i18n import check_lang
    from towerplan.outputs.kml import write_plan_kml, write_plan_kmz
    from towerplan.outputs.maps import write_map
    from towerplan.outputs.reports import write_report_xlsx

    check_lang(lang)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create output directory {out_dir}: {exc.strerror or exc}"
        raise OutputError(msg) from exc

    report_html = functools.cache(lambda: render_report_html(result, lang=lang))  # HTML + PDF
    steps: list[tuple[str, Callable[[PlanResult, Path], Path]]] = [
        ("map.html", lambda res, p: write_map(res, p, lang=lang)),
        ("report.xlsx", lambda res, p: write_report_xlsx(res, p, lang=lang)),
        ("report.html", lambda res, p: write_report_html(res, p, html=report_html())),
        ("report.pdf", lambda res, p: write_report_pdf(res, p, html=report_html())),
        ("ranking.csv", write_ranking_csv),
        ("villages.csv", write_villages_csv),
        ("plan.gpkg", write_plan_gpkg),
        ("coverage_before.tif", functools.partial(_write_coverage, stage="before")),
        ("coverage_before.qml", _write_qml),
        ("coverage_after.tif", functools.partial(_write_coverage, stage="after")),
        ("coverage_after.qml", _write_qml),
        ("plan.kml", lambda res, p: write_plan_kml(res, p, lang=lang)),
        ("plan.kmz", lambda res, p: write_plan_kmz(res, p, lang=lang)),
        ("summary.json", write_summary_json),
    ]
    written: list[Path] = []
    start = time.perf_counter()
    for name, write in steps:
        if progress is not None:
            progress(name)
        written.append(write(result, out_dir / name))
    log.info("wrote %d output files to %s in %.1f s", len(written), out_dir,
             time.perf_counter() - start)
    return written
