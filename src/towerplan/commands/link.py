"""``towerplan link``: a point-to-point report over the terrain, with a profile plot."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

from towerplan.analysis.link import LinkReport, link_report
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_choice
from towerplan.io.landcover import read_landcover
from towerplan.io.outdir import staged_files
from towerplan.io.terrain import dem_source_cell_m, read_dem, utm_crs_for
from towerplan.outputs.profile_plot import write_profile_png
from towerplan.radio.clutter import vegetation_depth_m
from towerplan.radio.profile import Clearance, Profile, terrain_profile
from towerplan.scenario import Backhaul, Radio

__all__ = ["LinkRun", "analyse_link", "link"]

#: Margin of terrain read around the path, in cells.
_MARGIN_CELLS = 4


@dataclass(frozen=True, slots=True)
class LinkRun:
    """Outcome of ``towerplan link``: the report, the profile and the plot written."""

    report: LinkReport
    profile: Profile
    clearance: Clearance
    png: Path


def analyse_link(dem_paths: Sequence[str | Path], start: tuple[float, float],
                 end: tuple[float, float], *, radio: Radio, h_tx_m: float | None = None,
                 h_rx_m: float | None = None, model: str | None = None,
                 resolution_m: float = 30.0, landcover: str | Path | None = None,
                 backhaul: Backhaul | None = None) -> tuple[LinkReport, Profile, Clearance]:
    """Analyse the path from *start* (transmitter) to *end* (receiver) over the terrain.

    Parameters
    ----------
    dem_paths : sequence of path
        Terrain files (GeoTIFF, SRTM .hgt), mosaicked.
    start, end : tuple of float
        ``(lon, lat)`` of the transmitter and the receiver, degrees.
    radio : Radio
        Frequency, powers, threshold and k-factor (scenario ``[radio]``).
    h_tx_m, h_rx_m : float, optional
        Antenna heights above ground, m (default ``radio.tower_height_m`` and
        ``radio.rx_height_m``).
    model : str, optional
        Model chain (default ``radio.model``).
    resolution_m : float
        Cell size of the terrain grid the profile is sampled from, m (default 30).
    landcover : path, optional
        ESA WorldCover raster; gives the vegetation depth at the receiver for a clutter term.
    backhaul : Backhaul, optional
        Check the path as a microwave backhaul hop in ``backhaul.band_ghz``.
    """
    crs = utm_crs_for((start[0] + end[0]) / 2.0, (start[1] + end[1]) / 2.0)
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xs, ys = to_utm.transform([start[0], end[0]], [start[1], end[1]])
    pad = _MARGIN_CELLS * resolution_m
    bounds = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    dem, dem_report = read_dem(dem_paths, dst_crs=crs, bounds=bounds, resolution_m=resolution_m,
                               require_bounds=(min(xs), min(ys), max(xs), max(ys)))
    profile = terrain_profile(dem.array, dem.transform, crs, start, end)
    cell_m = dem_cell_m(dem, dem_source_cell_m([Path(p) for p in dem_paths]))
    chain = model_choice(dataclasses.replace(radio, model=model or radio.model), cell_m).chain
    vegetation = 0.0
    notes: list[str] = []
    if landcover is not None:
        vegetation = _vegetation_at_receiver(landcover, crs, dem, profile)
    elif chain.clutter is not None:
        notes.append("no land cover given: vegetation depth 0 m, clutter loss 0 dB")
    report, clearance = link_report(
        profile, radio=radio, model=chain.name, h_tx_m=h_tx_m, h_rx_m=h_rx_m,
        vegetation_m=vegetation, notes=notes, backhaul=backhaul,
        terrain=f"{dem_report.source} sampled every {profile.step_m:.1f} m "
                f"({resolution_m:g} m grid, bilinear)")
    return report, profile, clearance


def link(dem_paths: Sequence[str | Path], start: tuple[float, float],
         end: tuple[float, float], png: str | Path, *, radio: Radio,
         h_tx_m: float | None = None, h_rx_m: float | None = None, model: str | None = None,
         resolution_m: float = 30.0, landcover: str | Path | None = None,
         band_ghz: float | None = None, lang: str = "id", overwrite: bool = True) -> LinkRun:
    """``towerplan link``: :func:`analyse_link` and the profile plot *png*.

    With *band_ghz* the path is checked as a microwave backhaul hop at the ``[backhaul]``
    defaults; both ends then default to the dish height of a new site and the chain to free
    space when the radio default was not changed.
    """
    backhaul = None
    if band_ghz is not None:
        backhaul = Backhaul(band_ghz=band_ghz)
        dish = Backhaul().site_antenna_m
        h_tx_m, h_rx_m = h_tx_m or dish, h_rx_m or dish
        model = model if model not in (None, Radio().model) else "fspl"
    report, profile, clearance = analyse_link(
        dem_paths, start, end, radio=radio, h_tx_m=h_tx_m, h_rx_m=h_rx_m, model=model,
        resolution_m=resolution_m, landcover=landcover, backhaul=backhaul)
    target = Path(png)
    with staged_files((target,), overwrite=overwrite) as staging:
        write_profile_png(report, profile, clearance, staging / target.name, lang=lang)
    return LinkRun(report, profile, clearance, target)


def _vegetation_at_receiver(path: str | Path, crs: Any, dem: Any, profile: Profile) -> float:
    classes, _ = read_landcover(path, dst_crs=crs, transform=dem.transform, shape=dem.shape)
    to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_grid.transform(profile.lon, profile.lat)
    cols = np.clip(((np.asarray(x) - dem.transform.c) / dem.transform.a).astype(int), 0,
                   dem.shape[1] - 1)
    rows = np.clip(((np.asarray(y) - dem.transform.f) / dem.transform.e).astype(int), 0,
                   dem.shape[0] - 1)
    return float(vegetation_depth_m(classes[rows, cols], profile.step_m))
