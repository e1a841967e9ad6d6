"""``towerplan coverage``: best-server rasters of given sites over a DEM (this module), or of a
scenario's existing towers (:mod:`towerplan.commands.coverage_towers`, which needs the
scenario's inputs and so pandas and geopandas; the command line imports it only then)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import Transformer

from towerplan.coverage.composite import BestServer, best_server
from towerplan.coverage.context import dem_cell_m, radio_context
from towerplan.coverage.statement import link_budget_text, model_chain_text, model_choice
from towerplan.errors import InputDataError
from towerplan.io.outdir import staged_files
from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.io.terrain import dem_source_cell_m, read_dem, utm_crs_for
from towerplan.io.towers import read_tower_positions
from towerplan.outputs.styles import write_coverage_qml

if TYPE_CHECKING:
    from towerplan.scenario import Scenario

__all__ = ["Clock", "CoverageResult", "coverage", "coverage_of_sites", "with_radio",
           "write_coverage"]


@dataclass(frozen=True, slots=True)
class CoverageResult:
    """Best-server composite of a set of sites and the files written.

    Attributes
    ----------
    grid : RasterGrid
        Best-server RSRP, dBm (nan = not reached).
    composite : BestServer
        RSRP, server index and number of servers at or above the threshold per cell.
    site_ids : tuple of str
        Site of each server index.
    files : tuple of Path
        COG GeoTIFFs written: RSRP, server index, server count.
    model_chain : str
        Model chain statement.
    threshold_rsrp_dbm : float
        Coverage threshold, dBm.
    timings : dict of str to float
        Wall-clock seconds per phase, in order: ``inputs`` (reading and checking the sites,
        the DEM files and their extent; with a scenario, every input on the working grid),
        ``reproject`` (the DEM onto the working grid, holes filled), ``compute`` (the model
        chain and the best server) and ``write`` (the three rasters).
    """

    grid: RasterGrid
    composite: BestServer
    site_ids: tuple[str, ...]
    files: tuple[Path, ...]
    model_chain: str
    threshold_rsrp_dbm: float = -105.0
    timings: dict[str, float] = field(default_factory=dict)

    def covered_km2(self, threshold_dbm: float | None = None) -> float:
        """Area at or above *threshold_dbm* (default the scenario's threshold), km2."""
        thr = self.threshold_rsrp_dbm if threshold_dbm is None else threshold_dbm
        cell_km2 = self.grid.resolution_m ** 2 / 1e6
        return float(np.count_nonzero(self.grid.array >= thr) * cell_km2)


class Clock:
    """Wall-clock seconds per phase (:attr:`CoverageResult.timings`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def with_radio(scenario: Scenario, *, height_m: float | None = None,
               radius_km: float | None = None, freq_mhz: float | None = None,
               model: str | None = None) -> Scenario:
    """*scenario* with the given ``[radio]`` overrides (``None`` = keep).

    Raises
    ------
    ScenarioError
        When an override is invalid.
    """
    changes: dict[str, Any] = {
        k: v for k, v in (("freq_mhz", freq_mhz), ("model", model),
                          ("max_radius_km", radius_km), ("tower_height_m", height_m))
        if v is not None}
    if not changes:
        return scenario
    return dataclasses.replace(scenario, radio=dataclasses.replace(scenario.radio, **changes))


def coverage(scenario: Scenario, out: str | Path, *, dem: Sequence[str | Path],
             sites_lonlat: Sequence[tuple[float, float]] = (), sites_csv: str | Path | None = None,
             height_m: float | None = None, radius_km: float | None = None,
             freq_mhz: float | None = None, model: str | None = None,
             overwrite: bool = False) -> CoverageResult:
    """``towerplan coverage --dem ...``: the given sites (positions and/or a CSV of
    ``lon,lat[,height_m][,tower_id]``) over that terrain. *height_m*, *radius_km*,
    *freq_mhz* and *model* override ``[radio]``. Without a DEM, the command covers the
    scenario's existing towers: :func:`towerplan.commands.coverage_towers.coverage_of_towers`.

    Raises
    ------
    ScenarioError
        When an override is invalid.
    InputDataError
        When no DEM or no site is given.
    """
    clock = Clock()
    with clock.phase("inputs"):
        if not dem:
            msg = "no DEM given: use --dem FILE (repeatable)"
            raise InputDataError(msg)
        scenario = with_radio(scenario, height_m=height_m, radius_km=radius_km,
                              freq_mhz=freq_mhz, model=model)
        points = list(sites_lonlat)
        ids = [f"site{k + 1}" for k in range(len(points))]
        heights = [scenario.radio.tower_height_m] * len(points)
        if sites_csv is not None:
            towers = read_tower_positions(sites_csv,
                                          default_height_m=scenario.radio.tower_height_m)
            points += list(zip(towers.lon.tolist(), towers.lat.tolist(), strict=True))
            ids += towers.tower_id
            heights += towers.height_m.tolist()
    return _of_sites(dem, points, Path(out), scenario=scenario, site_ids=ids, heights_m=heights,
                     overwrite=overwrite, clock=clock)


def coverage_of_sites(dem_paths: Sequence[str | Path], sites_lonlat: Sequence[tuple[float, float]],
                      out: str | Path, *, scenario: Scenario, site_ids: Sequence[str] = (),
                      heights_m: Sequence[float] | None = None, overwrite: bool = False
                      ) -> CoverageResult:
    """Coverage of given sites over a DEM: ``towerplan coverage --dem ... --site ...``.

    The working grid is the local UTM zone of the sites, at ``terrain.resolution_m``, covering
    every site's ``radio.max_radius_km``.
    """
    return _of_sites(dem_paths, sites_lonlat, Path(out), scenario=scenario, site_ids=site_ids,
                     heights_m=heights_m, overwrite=overwrite, clock=Clock())


def _of_sites(dem_paths: Sequence[str | Path], sites_lonlat: Sequence[tuple[float, float]],
              out: Path, *, scenario: Scenario, site_ids: Sequence[str],
              heights_m: Sequence[float] | None, overwrite: bool, clock: Clock
              ) -> CoverageResult:
    with clock.phase("inputs"):
        if not sites_lonlat:
            msg = "no site given: use --site LON,LAT (repeatable) or --sites CSV"
            raise InputDataError(msg)
        lon = np.array([p[0] for p in sites_lonlat], float)
        lat = np.array([p[1] for p in sites_lonlat], float)
        crs = utm_crs_for(float(lon.mean()), float(lat.mean()))
        x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
        xy = np.column_stack([x, y])
        radius = scenario.radio.max_radius_km * 1000.0
        res = scenario.terrain.resolution_m
        bounds = (float(xy[:, 0].min() - radius), float(xy[:, 1].min() - radius),
                  float(xy[:, 0].max() + radius), float(xy[:, 1].max() + radius))
        sites_box = (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()),
                     float(xy[:, 1].max()))
    grid, _ = read_dem(dem_paths, dst_crs=crs, bounds=bounds, resolution_m=res,
                       resampling=scenario.terrain.resampling,
                       fill_nodata=scenario.terrain.fill_nodata,
                       max_fill_distance_m=scenario.terrain.max_fill_distance_m,
                       require_bounds=sites_box, timings=clock.seconds)
    heights = np.full(len(xy), scenario.radio.tower_height_m) if heights_m is None \
        else np.asarray(heights_m, float)
    ids = tuple(site_ids) or tuple(f"site{k + 1}" for k in range(len(xy)))
    with clock.phase("inputs"):
        source_cell_m = dem_source_cell_m([Path(p) for p in dem_paths])
    return write_coverage(scenario, grid, None, xy, heights, ids, out, overwrite=overwrite,
                          clock=clock, source_cell_m=source_cell_m)


def write_coverage(scenario: Scenario, dem: RasterGrid, landcover: np.ndarray | None,
                   xy: np.ndarray, heights_m: np.ndarray, ids: tuple[str, ...], out: Path, *,
                   overwrite: bool, clock: Clock, source_cell_m: float) -> CoverageResult:
    """Best server of sites at *xy* (working CRS, m) with antenna heights *heights_m* over
    *dem*, written to *out* and its ``_server``/``_servers`` siblings.

    *source_cell_m* is the cell of the DEM files as given (it chooses the ``auto`` chain);
    the compute and write phases are timed on *clock*.
    """
    with clock.phase("compute"):
        link, context = radio_context(scenario.radio, dem, landcover,
                                      source_cell_m=source_cell_m)
        comp = best_server(dem.transform, dem.shape, xy, heights_m, link, context)
    grid = RasterGrid(comp.rsrp_dbm, dem.transform, dem.crs, None)
    text = model_chain_text(scenario, model_choice(scenario.radio,
                                                    dem_cell_m(dem, source_cell_m)))
    tags = {"model_chain": text, "threshold_rsrp_dbm": f"{link.threshold_rsrp_dbm:g}",
            "link_budget": link_budget_text(scenario), "sites": ";".join(ids)}
    rasters = (out, out.with_name(f"{out.stem}_server{out.suffix}"),
               out.with_name(f"{out.stem}_servers{out.suffix}"))
    style = out.with_suffix(".qml")
    targets = (*rasters, style)
    with clock.phase("write"):
        layers = (
            (comp.rsrp_dbm, None, "best-server RSRP (dBm)"),
            (comp.server.astype(np.int32, copy=False), -1,
             "index of the best server (-1 = none)"),
            (comp.n_servers.astype(np.int32), None, "servers at or above the threshold"),
        )
        with staged_files(targets, overwrite=overwrite) as staging:
            for target, (array, nodata, what) in zip(rasters, layers, strict=True):
                write_raster(staging / target.name,
                             RasterGrid(array, grid.transform, grid.crs, nodata),
                             description=what, tags=tags)
            # QGIS opens the RSRP raster with the map's colours (its default style)
            write_coverage_qml(staging / style.name, link.threshold_rsrp_dbm)
    return CoverageResult(grid, comp, ids, targets, text, link.threshold_rsrp_dbm,
                          dict(clock.seconds))
