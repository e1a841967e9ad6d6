"""``towerplan blankspots``: today's blank spots per village."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from towerplan.analysis.evidence import EVIDENCE_COLUMNS
from towerplan.analysis.problem import CurrentState
from towerplan.columns import BLANKSPOT_COLUMNS
from towerplan.commands.plan import CacheArg
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_chain_text, model_choice
from towerplan.io.outdir import staged_directory
from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.io.tables import data_source, typed_layer, write_table_csv
from towerplan.io.vectors import write_gpkg_layers
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import current_state, new_run
from towerplan.scenario import Scenario

__all__ = ["blankspots"]


def blankspots(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
               progress: ProgressFn | None = None, cache: CacheArg = True) -> CurrentState:
    """Today's blank spots: ``towerplan blankspots SCENARIO``.

    Writes ``villages.csv`` (``BLANKSPOT_COLUMNS``: the status used, the modelled and the
    reported status, the source of the one used and the conflict flag), ``blankspots.gpkg``
    (layer ``villages``) and ``coverage_before.tif`` into *out_dir*.
    """
    with staged_directory(Path(out_dir), overwrite=overwrite) as staging:
        run = new_run(scenario, cache=cache, progress=progress)
        state = current_state(run)
        ids = list(state.data.towers["tower_id"].astype(str))
        table = state.villages[["code", "name", "district_code", "district", "kind",
                                "area_km2"]].copy()
        for col in ("demand_total", "demand_covered", "share_covered", "area_share_covered",
                    "status", "median_rsrp_dbm"):
            table[col] = state.stats[col].to_numpy()
        table["status"] = table["status"].astype(str)
        table["best_server"] = [ids[k] if k >= 0 else "" for k in state.stats["best_server"]]
        for col in EVIDENCE_COLUMNS:
            if col in BLANKSPOT_COLUMNS:
                table[col] = state.stats[col].to_numpy()
        layer = gpd.GeoDataFrame(table, geometry=state.villages.geometry.values,
                                 crs=state.villages.crs)
        source = data_source(state.data.paths.demo is not None)
        write_table_csv(table, BLANKSPOT_COLUMNS, "villages", staging / "villages.csv", source)
        write_gpkg_layers(staging / "blankspots.gpkg", [
            ("villages", typed_layer(layer, BLANKSPOT_COLUMNS, layer.crs, source),
             "MultiPolygon")])
        dem = state.data.dem
        write_raster(staging / "coverage_before.tif",
                     RasterGrid(run.get("existing_coverage").grid.rsrp_dbm, dem.transform,
                                dem.crs, None),
                     description="best-server RSRP of the existing towers (dBm)",
                     tags={"model_chain": model_chain_text(scenario, model_choice(
                         scenario.radio, dem_cell_m(dem, state.data.source_cell_m)))})
    return state
