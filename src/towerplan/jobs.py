"""Library entry points of the single-stage commands: ``coverage`` and ``blankspots``.

Like :func:`towerplan.pipeline.run_plan`, each writes its files through a staging directory so
a failed run leaves nothing half-written.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import Transformer

from towerplan.coverage.composite import BestServer, TerrainContext, best_server
from towerplan.coverage.raster import LinkParams
from towerplan.errors import InputDataError
from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.pipeline import (
    CurrentState,
    ProgressFn,
    current_state,
    model_chain_text,
    publish_output_dir,
    stage_output_dir,
)
from towerplan.radio.chain import parse_chain
from towerplan.scenario import Scenario

__all__ = ["CoverageResult", "blankspots", "coverage_of_scenario", "coverage_of_sites"]


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
    """

    grid: RasterGrid
    composite: BestServer
    site_ids: tuple[str, ...]
    files: tuple[Path, ...]
    model_chain: str

    def covered_km2(self, threshold_dbm: float) -> float:
        """Area at or above *threshold_dbm*, km2."""
        cell_km2 = self.grid.resolution_m ** 2 / 1e6
        return float(np.count_nonzero(self.grid.array >= threshold_dbm) * cell_km2)


def _write_composite(out: Path, comp: BestServer, grid: RasterGrid, tags: dict[str, str],
                     *, overwrite: bool) -> tuple[Path, ...]:
    """Write RSRP, server index and server count next to each other as COGs."""
    targets = (out, out.with_name(f"{out.stem}_server{out.suffix}"),
               out.with_name(f"{out.stem}_servers{out.suffix}"))
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        from towerplan.errors import OutputError

        msg = f"{existing[0]} exists; pass --overwrite to replace it"
        raise OutputError(msg)
    staging = stage_output_dir(out.parent / f".{out.stem}", overwrite=True)
    try:
        layers = (
            (comp.rsrp_dbm, None, "best-server RSRP (dBm)"),
            (comp.server.astype(np.int32), -1, "index of the best server (-1 = none)"),
            (comp.n_servers.astype(np.int32), None, "servers at or above the threshold"),
        )
        for target, (array, nodata, text) in zip(targets, layers, strict=True):
            write_raster(staging / target.name,
                         RasterGrid(array, grid.transform, grid.crs, nodata),
                         description=text, tags=tags)
        for target in targets:
            (staging / target.name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return targets


def coverage_of_sites(dem_paths: Sequence[str | Path], sites_lonlat: Sequence[tuple[float, float]],
                      out: str | Path, *, scenario: Scenario, site_ids: Sequence[str] = (),
                      heights_m: Sequence[float] | None = None, overwrite: bool = False
                      ) -> CoverageResult:
    """Coverage of given sites over a DEM: ``towerplan coverage --dem ... --site ...``.

    The working grid is the local UTM zone of the sites, at ``terrain.resolution_m``, covering
    every site's ``radio.max_radius_km``.
    """
    from towerplan.io.terrain import read_dem, utm_crs_for

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
    dem, _ = read_dem(dem_paths, dst_crs=crs, bounds=bounds, resolution_m=res,
                      resampling=scenario.terrain.resampling,
                      fill_nodata=scenario.terrain.fill_nodata,
                      max_fill_distance_m=scenario.terrain.max_fill_distance_m,
                      require_bounds=sites_box)
    heights = np.full(len(xy), scenario.radio.tower_height_m) if heights_m is None \
        else np.asarray(heights_m, float)
    ids = tuple(site_ids) or tuple(f"site{k + 1}" for k in range(len(xy)))
    return _composite(scenario, dem, xy, heights, ids, None, Path(out), overwrite=overwrite)


def coverage_of_scenario(scenario: Scenario, out: str | Path, *, overwrite: bool = False,
                         progress: ProgressFn | None = None) -> CoverageResult:
    """Coverage of a scenario's existing towers: ``towerplan coverage SCENARIO``."""
    from towerplan.inputs import load_inputs

    if progress is not None:
        progress("inputs")
    data = load_inputs(scenario)
    xy = (np.column_stack([data.towers.geometry.x, data.towers.geometry.y])
          if len(data.towers) else np.empty((0, 2)))
    heights = data.towers["height_m"].to_numpy(float) if len(data.towers) else np.empty(0)
    if progress is not None:
        progress("coverage")
    return _composite(scenario, data.dem, xy, heights,
                      tuple(data.towers["tower_id"].astype(str)), data.landcover, Path(out),
                      overwrite=overwrite)


def _composite(scenario: Scenario, dem: RasterGrid, xy: np.ndarray, heights: np.ndarray,
               ids: tuple[str, ...], landcover: np.ndarray | None, out: Path, *,
               overwrite: bool) -> CoverageResult:
    link = LinkParams.from_radio(scenario.radio)
    chain = parse_chain(scenario.radio.model)
    terrain = (TerrainContext(dem.array, dem.transform, chain, scenario.radio.k_factor,
                              landcover)
               if chain.uses_terrain or chain.clutter is not None else None)
    comp = best_server(dem.transform, dem.shape, xy, heights, link, terrain)
    grid = RasterGrid(comp.rsrp_dbm, dem.transform, dem.crs, None)
    text = model_chain_text(scenario)
    tags = {"model_chain": text, "threshold_rsrp_dbm": f"{link.threshold_rsrp_dbm:g}",
            "sites": ";".join(ids)}
    files = _write_composite(out, comp, grid, tags, overwrite=overwrite)
    return CoverageResult(grid, comp, ids, files, text)


def blankspots(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
               progress: ProgressFn | None = None) -> CurrentState:
    """Today's blank spots: ``towerplan blankspots SCENARIO``.

    Writes ``villages.csv`` (``BLANKSPOT_COLUMNS``), ``blankspots.gpkg`` (layer ``villages``)
    and ``coverage_before.tif`` into *out_dir*.
    """
    import geopandas as gpd

    from towerplan.io.vectors import write_gpkg_layers
    from towerplan.outputs.columns import BLANKSPOT_COLUMNS
    from towerplan.outputs.exports import (
        DATA_SOURCE_SYNTHETIC,
        DATA_SOURCE_USER,
        typed_layer,
        write_table_csv,
    )

    target = Path(out_dir)
    staging = stage_output_dir(target, overwrite=overwrite)
    try:
        state = current_state(scenario, progress=progress)
        ids = list(state.data.towers["tower_id"].astype(str))
        table = state.villages[["code", "name", "district_code", "district", "kind",
                                "area_km2"]].copy()
        for col in ("demand_total", "demand_covered", "share_covered", "area_share_covered",
                    "status", "median_rsrp_dbm"):
            table[col] = state.stats[col].to_numpy()
        table["status"] = table["status"].astype(str)
        table["best_server"] = [ids[k] if k >= 0 else "" for k in state.stats["best_server"]]
        layer = gpd.GeoDataFrame(table, geometry=state.villages.geometry.values,
                                 crs=state.villages.crs)
        source = DATA_SOURCE_SYNTHETIC if state.data.paths.demo is not None else DATA_SOURCE_USER
        write_table_csv(table, BLANKSPOT_COLUMNS, "villages", staging / "villages.csv", source)
        write_gpkg_layers(staging / "blankspots.gpkg", [
            ("villages", typed_layer(layer, BLANKSPOT_COLUMNS, layer.crs, source),
             "MultiPolygon")])
        dem = state.data.dem
        comp = best_server(dem.transform, dem.shape, state.existing.xy,
                           state.existing.height_m, state.link, state.terrain)
        write_raster(staging / "coverage_before.tif",
                     RasterGrid(comp.rsrp_dbm, dem.transform, dem.crs, None),
                     description="best-server RSRP of the existing towers (dBm)",
                     tags={"model_chain": model_chain_text(scenario)})
        publish_output_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return state
