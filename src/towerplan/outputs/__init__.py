"""Output writers: every file a planning run produces, from one ``PlanResult``.

:func:`write_outputs` writes them all (the list is :data:`OUTPUT_FILES`: ``map.html``,
``report.xlsx``, ``report.html``, ``report.pdf``, ``ranking.csv``, ``villages.csv``,
``plan.gpkg``, the coverage GeoTIFFs with their QGIS styles, ``plan.kml``, ``plan.kmz`` and
``summary.json`` last); the single writers are available too. User-facing text comes from
:mod:`towerplan.outputs.i18n` (Bahasa Indonesia first, English available), column names from
:mod:`towerplan.outputs.columns`.

The map (folium) and the report (openpyxl) modules are imported on first use, so importing
this package stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from towerplan.outputs.exports import (
    OUTPUT_FILES,
    write_coverage_rasters,
    write_outputs,
    write_plan_gpkg,
    write_ranking_csv,
    write_summary_json,
    write_villages_csv,
)

if TYPE_CHECKING:
    from towerplan.outputs.maps import write_map
    from towerplan.outputs.reports import write_report_xlsx

__all__ = [
    "OUTPUT_FILES",
    "write_coverage_rasters",
    "write_map",
    "write_outputs",
    "write_plan_gpkg",
    "write_ranking_csv",
    "write_report_xlsx",
    "write_summary_json",
    "write_villages_csv",
]


def __getattr__(name: str) -> Any:
    """Import the map and report writers lazily."""
    if name == "write_map":
        from towerplan.outputs.maps import write_map

        return write_map
    if name == "write_report_xlsx":
        from towerplan.outputs.reports import write_report_xlsx

        return write_report_xlsx
    msg = f"module 'towerplan.outputs' has no attribute {name!r}"
    raise AttributeError(msg)
