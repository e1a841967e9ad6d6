"""Library entry points of the single-stage commands: ``coverage`` and ``blankspots``.

Like :func:`towerplan.pipeline.run_plan`, each writes its files through a staging directory so
a failed run leaves nothing half-written.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pyproj import Transformer

from towerplan.coverage.composite import BestServer, TerrainContext, best_server
from towerplan.coverage.raster import LinkParams
from towerplan.errors import InputDataError
from towerplan.io.rasters import RasterGrid, write_raster
from towerplan.pipeline import (
    CurrentState,
    ProgressFn,
    SelectionProblem,
    current_state,
    model_chain_text,
    plan,
    publish_output_dir,
    select_many,
    selection_problem,
    stage_output_dir,
)
from towerplan.radio.chain import parse_chain
from towerplan.scenario import Scenario

__all__ = [
    "CoverageResult",
    "audit",
    "blankspots",
    "candidates",
    "coverage_of_scenario",
    "coverage_of_sites",
    "parse_budgets",
    "plan_map",
    "sweep",
]

T = TypeVar("T")


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
    from towerplan.outputs.exports import typed_layer, write_table_csv

    def write(staging: Path) -> CurrentState:
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
        source = _source_label(state)
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
        return state

    return _staged(Path(out_dir), overwrite, write)


def plan_map(scenario: Scenario, out_dir: str | Path, *, lang: str | None = None,
             overwrite: bool = False, progress: ProgressFn | None = None) -> Any:
    """Run the plan and write only its map: ``towerplan map SCENARIO`` (map.html).

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    out_dir : str or Path
        Output directory; an existing non-empty one needs *overwrite*.
    lang : {"id", "en"}, optional
        Language of the map (default ``scenario.outputs.lang``).
    overwrite : bool, keyword-only
        Replace ``map.html`` in an existing, non-empty directory.
    progress : callable, optional
        Called with each stage label as it starts.

    Returns
    -------
    PlanResult
        The plan shown on the map.
    """
    from towerplan.outputs.i18n import check_lang
    from towerplan.outputs.maps import write_map

    language = check_lang(lang or scenario.outputs.lang)

    def write(staging: Path) -> Any:
        result = plan(scenario, progress=progress)
        if progress is not None:
            progress("outputs")
        write_map(result, staging / "map.html", lang=language)
        return result

    return _staged(Path(out_dir), overwrite, write)


def _frame_lonlat(frame: Any, crs: Any) -> Any:
    """GeoDataFrame of points from ``x``/``y`` columns with ``lon``/``lat`` added."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(frame.copy(), geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                           crs=crs)
    ll = gdf.geometry.to_crs("EPSG:4326")
    gdf["lon"], gdf["lat"] = ll.x.round(6), ll.y.round(6)
    return gdf


def _source_label(state: CurrentState) -> str:
    from towerplan.outputs.exports import DATA_SOURCE_SYNTHETIC, DATA_SOURCE_USER

    return DATA_SOURCE_SYNTHETIC if state.data.paths.demo is not None else DATA_SOURCE_USER


def _staged(target: Path, overwrite: bool, write: Callable[[Path], T]) -> T:
    """Run *write* into a staging directory and publish it as *target*."""
    staging = stage_output_dir(target, overwrite=overwrite)
    try:
        result = write(staging)
        publish_output_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def candidates(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
               progress: ProgressFn | None = None) -> SelectionProblem:
    """Candidate sites with village, kecamatan, elevation, cost parts and the demand each
    would newly cover: ``towerplan candidates SCENARIO`` (candidates.csv, candidates.gpkg)."""
    from towerplan.io.vectors import write_gpkg_layers
    from towerplan.outputs.columns import CANDIDATE_COLUMNS
    from towerplan.outputs.exports import typed_layer, write_table_csv

    def write(staging: Path) -> SelectionProblem:
        state = current_state(scenario, progress=progress)
        problem = selection_problem(scenario, state, progress=progress)
        frame = _frame_lonlat(problem.candidates.assign(selected=False), state.villages.crs)
        source = _source_label(state)
        columns = [c for c in CANDIDATE_COLUMNS if c != "selected"]
        write_table_csv(frame, columns, "candidates", staging / "candidates.csv", source)
        write_gpkg_layers(staging / "candidates.gpkg", [
            ("candidates", typed_layer(frame, columns, frame.crs, source), "Point")])
        return problem

    return _staged(Path(out_dir), overwrite, write)


def parse_budgets(text: str) -> list[float]:
    """Budgets from ``START:STOP:STEP`` (inclusive) or a comma list, in rupiah.

    Examples
    --------
    >>> parse_budgets("1.7e9:6.8e9:1.7e9")
    [1700000000.0, 3400000000.0, 5100000000.0, 6800000000.0]
    """
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            n = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = [start + k * step for k in range(n)]
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        msg = (f"--budgets {text!r} must be START:STOP:STEP or a comma list of rupiah, e.g. "
               "1.7e9:17e9:1.7e9")
        raise InputDataError(msg) from None
    if not values or any(v <= 0 for v in values):
        msg = f"--budgets {text!r}: every budget must be positive"
        raise InputDataError(msg)
    if len(values) > 200:
        msg = f"--budgets {text!r} gives {len(values)} budgets; at most 200"
        raise InputDataError(msg)
    return values


def sweep(scenario: Scenario, budgets: Sequence[float], out_dir: str | Path, *,
          overwrite: bool = False, lang: str | None = None,
          progress: ProgressFn | None = None) -> Any:
    """Coverage against rupiah for the MILP and greedy: ``towerplan sweep`` (sweep.csv,
    sweep.png). Returns the table.

    ``marginal_demand_per_extra_tower`` is the MILP's demand gained since the previous budget
    (the first: since no new tower) per tower's worth (``costs.tower_idr``) of extra budget,
    so it stays defined when more money buys better rather than more sites. *lang* is the
    language of sweep.png (default ``scenario.outputs.lang``).
    """
    import pandas as pd

    from towerplan.outputs.i18n import check_lang

    language = check_lang(lang or scenario.outputs.lang)

    def write(staging: Path) -> Any:
        state = current_state(scenario, progress=progress)
        problem = selection_problem(scenario, state, progress=progress)
        rows = []
        prev_demand, prev_budget = state.units.weight[state.covered].sum(), 0.0
        tower_idr = scenario.costs.tower_idr
        base = float(prev_demand)
        total = float(state.units.weight.sum())
        if progress is not None:
            progress(f"selection 0/{len(budgets)} budgets")
        results = select_many(scenario, problem.candidates, problem.matrix, state.units,
                              state.covered, budgets,
                              blank_villages=state.stats["status"].to_numpy() == "blank",
                              progress=progress)
        for budget, (exact, greedy) in zip(budgets, results, strict=True):
            demand = base + exact.objective
            towers = len(exact.sites)
            extra = (budget - prev_budget) / tower_idr  # towers' worth of extra budget
            rows.append({
                "budget_idr": budget, "towers_milp": towers, "spent_milp_idr": exact.cost,
                "demand_covered_milp": round(demand, 3),
                "share_covered_milp": round(demand / total, 5) if total else 0.0,
                "gap_milp": exact.gap, "towers_greedy": len(greedy.sites),
                "spent_greedy_idr": greedy.cost,
                "demand_covered_greedy": round(base + greedy.objective, 3),
                "greedy_shortfall_pct": round(100 * (1 - greedy.objective / exact.objective), 3)
                if exact.objective > 0 else 0.0,
                "marginal_demand_per_extra_tower": round((demand - prev_demand) / extra, 3)
                if extra > 0 else 0.0,
            })
            prev_demand, prev_budget = demand, budget
        table = pd.DataFrame(rows)
        _write_numeric_csv(table, staging / "sweep.csv")
        _sweep_png(table, staging / "sweep.png", state.units.basis, scenario, language)
        return table

    return _staged(Path(out_dir), overwrite, write)


def _write_numeric_csv(table: Any, path: Path) -> Path:
    """Write a numeric table as CSV atomically."""
    from towerplan.io.atomic import atomic_output

    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    return path


def _sweep_png(table: Any, path: Path, basis: str, scenario: Scenario, lang: str) -> None:
    from towerplan.io.atomic import atomic_output
    from towerplan.outputs.charts import sweep_png
    from towerplan.outputs.i18n import t

    png = sweep_png(table["budget_idr"].to_numpy(float),
                    table["demand_covered_milp"].to_numpy(float),
                    table["demand_covered_greedy"].to_numpy(float),
                    table["marginal_demand_per_extra_tower"].to_numpy(float),
                    title=scenario.scenario.title,
                    unit=t("unit.people" if basis == "population" else "unit.km2", lang),
                    lang=lang)
    with atomic_output(path) as tmp:
        Path(tmp).write_bytes(png)


def audit(scenario: Scenario, out_dir: str | Path, *, villages: Sequence[str] = (),
          sites: str | Path | None = None, overwrite: bool = False,
          progress: ProgressFn | None = None) -> Any:
    """Audit a choice of villages and/or sites against the optimum: ``towerplan audit``
    (audit.csv, audit.json, audit.gpkg with layers audit_sites and optimum_sites).

    Parameters
    ----------
    scenario : Scenario
        The scenario; its ``[audit]`` is used where *villages* and *sites* are not given.
    out_dir : str or Path
        Output directory.
    villages : sequence of str
        Village names or codes that each get their best candidate.
    sites : str or Path, optional
        CSV of audited sites (``lon,lat[,site_id,height_m,cost columns]``).
    overwrite : bool, keyword-only
        Replace files of an existing, non-empty output directory.
    progress : callable, optional
        Stage callback.

    Returns
    -------
    dict
        The audit summary written to audit.json.
    """
    import dataclasses
    import json

    from towerplan.analysis.audit import audit_plan, audit_villages
    from towerplan.io.atomic import atomic_output
    from towerplan.io.vectors import write_gpkg_layers
    from towerplan.outputs.columns import AUDIT_COLUMNS
    from towerplan.outputs.exports import typed_layer, write_table_csv

    if villages or sites is not None:
        scenario = dataclasses.replace(scenario, audit=dataclasses.replace(
            scenario.audit, villages=tuple(villages),
            sites=str(Path(sites).resolve()) if sites is not None else ""))
    if not scenario.audit.villages and not scenario.audit.sites:
        msg = ("audit: name the villages with --villages or the sites with --sites (or "
               "[audit] villages / sites in the scenario)")
        raise InputDataError(msg)

    def write(staging: Path) -> Any:
        state = current_state(scenario, progress=progress)
        extra = audit_villages(scenario, state)
        problem = selection_problem(scenario, state, extra_villages=extra, progress=progress)
        if progress is not None:
            progress("selection")
        res = audit_plan(scenario, problem, model_chain=model_chain_text(scenario))
        source = _source_label(state)
        write_table_csv(res.sites, AUDIT_COLUMNS, "audit", staging / "audit.csv", source)
        with atomic_output(staging / "audit.json") as tmp:
            tmp.write_text(json.dumps(res.summary, indent=2, ensure_ascii=False),
                           encoding="utf-8")
        optimum_cols = ("site_id", "village_code", "village", "district", "lon", "lat",
                        "cost_total_idr", "demand_alone")
        write_gpkg_layers(staging / "audit.gpkg", [
            ("audit_sites", typed_layer(res.sites, AUDIT_COLUMNS, res.sites.crs, source),
             "Point"),
            ("optimum_sites", typed_layer(res.optimum, optimum_cols, res.optimum.crs, source),
             "Point")])
        return res.summary

    return _staged(Path(out_dir), overwrite, write)
