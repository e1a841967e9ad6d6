"""Downloading open data for an area: the pieces ``towerplan fetch`` is made of.

:mod:`.area` (kabupaten by name, Kemendagri code or bbox), :mod:`.http` (the one place that
opens network connections: retries, resume, verified cache, offline mode), :mod:`.overpass`
(OpenStreetMap through the Overpass API), :mod:`.tiles` (Copernicus GLO-30 and ESA
WorldCover tiles) and :mod:`.outputs` (the files a fetch writes). The command itself is
:mod:`towerplan.commands.fetch`.
"""
