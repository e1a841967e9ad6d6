"""Output writers: every file a planning run produces, from one ``PlanResult``.

:mod:`towerplan.outputs.writers` lists them (:data:`~towerplan.outputs.writers.WRITERS`:
``map.html``, ``report.xlsx``, ``report.html``, ``report.pdf``, ``ranking.csv``,
``villages.csv``, ``plan.gpkg``, the coverage GeoTIFFs with their QGIS styles, ``plan.kml``,
``plan.kmz`` and ``summary.json`` last) and writes them, each independently of the others.
User-facing text comes from :mod:`towerplan.i18n` (Bahasa Indonesia first, English
available), column names from :mod:`towerplan.columns`.
"""
