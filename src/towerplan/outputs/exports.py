"""Machine-readable outputs of a plan: ranking and village CSV, the GeoPackage, summary JSON and
the coverage GeoTIFFs with their QGIS styles.

Every file is written atomically: to a temporary file in the destination directory, then
renamed over the destination with :func:`os.replace`. A failed write leaves no temporary file
behind and never a half-written destination. The table writers themselves live in
:mod:`towerplan.io.tables`; the list of every output is :mod:`towerplan.outputs.writers`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.columns import (
    AUDIT_COLUMNS,
    BACKHAUL_COLUMNS,
    CANDIDATE_COLUMNS,
    COVERAGE_COLUMNS,
    RANKING_COLUMNS,
    TOWER_COLUMNS,
    VILLAGE_COLUMNS,
)
from towerplan.coverage.statement import link_budget_text
from towerplan.errors import OutputError, TowerplanError
from towerplan.io.rasters import write_raster
from towerplan.io.tables import (
    data_source,
    require_columns,
    typed_layer,
    write_json,
    write_table_csv,
)
from towerplan.io.vectors import write_gpkg_layers
from towerplan.outputs.styles import write_coverage_qml
from towerplan.outputs.vector_styles import plan_layer_styles

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.results import PlanResult

__all__ = [
    "coverage_polygons",
    "write_coverage_qml_for",
    "write_coverage_raster",
    "write_plan_gpkg",
    "write_ranking_csv",
    "write_summary_json",
    "write_villages_csv",
]


# --------------------------------------------------------------------------- tables


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
    return write_table_csv(frame, RANKING_COLUMNS, "ranking", Path(path),
                           data_source(result.provenance.synthetic))


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
                      data_source(result.provenance.synthetic))


# --------------------------------------------------------------------------- GeoPackage


def _float32_at_least(value: float) -> np.float32:
    """The least float32 not below *value*: ``x >= value`` for a float32 *x* is then
    ``x >= _float32_at_least(value)`` computed in float32.

    Examples
    --------
    >>> float(_float32_at_least(-105.0)), float(_float32_at_least(-105.3)) > -105.3
    (-105.0, True)
    """
    low = np.float32(value)
    return low if float(low) >= value else np.nextafter(low, np.float32(np.inf))


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
    shapely.MultiPolygon
        Cell-edge outlines with holes, one polygon per 4-connected region of covered cells
        (empty when nothing is covered); its area is the number of covered cells times the
        cell area. The regions are already disjoint (they meet at most at a corner), so they
        are collected, not unioned: a valid MultiPolygon at a fraction of the cost.
    """
    import shapely
    from rasterio.features import shapes

    values = np.asarray(rsrp_dbm)
    if values.dtype == np.float32:  # compared in float32, without a float64 copy of the grid
        covered = values >= _float32_at_least(threshold_dbm)
    else:
        covered = np.asarray(values, dtype=np.float64) >= threshold_dbm
    covered &= np.isfinite(values)
    if not covered.any():
        return shapely.MultiPolygon()
    parts = [shapely.geometry.shape(geom) for geom, _ in
             shapes(covered.astype(np.uint8), mask=covered, transform=transform, connectivity=4)]
    return shapely.MultiPolygon(parts)


def _coverage_layer(result: PlanResult, crs: Any, source: str) -> gpd.GeoDataFrame:
    """The ``coverage`` layer: one dissolved polygon per stage (before, after)."""
    import geopandas as gpd

    threshold = result.scenario.radio.threshold_rsrp_dbm
    layers = result.layers.at(threshold) if result.layers is not None else None
    geoms, rows = [], []
    for stage, grid in (("before", result.rsrp_before), ("after", result.rsrp_after)):
        geom = (layers.outline_before if layers is not None and stage == "before"
                else coverage_polygons(grid.array, grid.transform, threshold))
        geoms.append(geom)
        rows.append({"stage": stage, "threshold_rsrp_dbm": threshold,
                     "area_km2": round(float(geom.area) / 1e6, 3)})
    frame = gpd.GeoDataFrame(rows, geometry=geoms, crs=result.rsrp_after.crs)
    return typed_layer(frame, COVERAGE_COLUMNS, crs, source)


def write_plan_gpkg(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write the plan's vector layers to one GeoPackage.

    Layers ``villages`` (MultiPolygon), ``candidates``, ``selected`` and ``existing`` (Point),
    ``links`` (LineString, backhaul hops) and ``audit`` (Point) when the result has them, and
    ``coverage`` (MultiPolygon: the area at or above the RSRP threshold before and after the
    plan, one dissolved feature per ``stage``). Each is in the working CRS with its column set
    from :mod:`~towerplan.columns` plus ``data_source``. Layers without rows are still
    created with their full schema. Text is stored as is (GIS data, not a spreadsheet: no
    formula guard). The file is GeoPackage 1.2; every layer's default QGIS style (the map's
    colours, :mod:`~towerplan.outputs.vector_styles`) is in its ``layer_styles`` table.

    Parameters
    ----------
    result : PlanResult
        Plan to write.
    path : str or Path
        Destination ``.gpkg`` file.
    lang : {"id", "en"}
        Language of the style's category labels.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    crs = result.crs
    source = data_source(result.provenance.synthetic)
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
    written = [*((name, typed_layer(frame, columns, crs, source), geometry_type)
                 for name, frame, columns, geometry_type in layers),
               ("coverage", _coverage_layer(result, crs, source), "MultiPolygon")]
    styles = plan_layer_styles([name for name, _, _ in written], lang,
                               threshold_dbm=result.scenario.radio.threshold_rsrp_dbm)
    return write_gpkg_layers(path, written, styles=styles,
                             created_utc=result.provenance.created_utc)


# --------------------------------------------------------------------------- JSON


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
    return write_json(path, result.summary)


# --------------------------------------------------------------------------- rasters


def write_coverage_raster(result: PlanResult, path: str | Path, stage: str) -> Path:
    """Write the best-server RSRP of *stage* as a COG GeoTIFF.

    ``coverage_before.tif`` (existing towers) and ``coverage_after.tif`` (existing and
    selected towers) hold RSRP in dBm (float32, nodata ``nan``). Tags: ``model_chain``,
    ``scenario_hash``, ``threshold`` (dBm; a cell is covered at or above it), ``synthetic``,
    ``units``, ``stage``, ``towerplan_version``, ``data_source``.

    Parameters
    ----------
    result : PlanResult
        Plan whose ``rsrp_before`` or ``rsrp_after`` grid is written.
    path : str or Path
        Destination file.
    stage : {"before", "after"}
        Which grid.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    prov = result.provenance
    grid, what = ((result.rsrp_before, "existing towers") if stage == "before"
                  else (result.rsrp_after, "existing and selected towers"))
    tags = {
        "model_chain": prov.model_chain,
        "scenario_hash": prov.scenario_hash,
        "threshold": f"{result.scenario.radio.threshold_rsrp_dbm:g}",
        "link_budget": link_budget_text(result.scenario),
        "synthetic": "true" if prov.synthetic else "false",
        "units": "dBm",
        "stage": stage,
        "towerplan_version": prov.version,
        "data_source": data_source(prov.synthetic),
    }
    try:
        return write_raster(path, grid, description=f"best-server RSRP (dBm), {what}",
                            tags=tags)
    except OSError as exc:
        if isinstance(exc, TowerplanError):
            raise
        msg = f"cannot write {path}: {exc.strerror or exc}"
        raise OutputError(msg) from exc


def write_coverage_qml_for(result: PlanResult, path: str | Path) -> Path:
    """Write the QGIS style of a coverage GeoTIFF (same stem) with the map's RSRP colours."""
    return write_coverage_qml(Path(path), result.scenario.radio.threshold_rsrp_dbm)
