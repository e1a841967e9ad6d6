"""Stage orchestration: inputs -> coverage -> blank spots -> candidates -> selection -> outputs.

Each stage is a free function of the stage modules; this module only composes them, in one
direction, and writes the outputs through a staging directory so a failed run leaves nothing
half-written.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from towerplan import __version__
from towerplan.analysis.audit import audit_plan, audit_villages
from towerplan.analysis.backhaul_plan import BackhaulPlan, finish_backhaul, plan_backhaul
from towerplan.analysis.blankspots import (
    BLANK,
    COVERED,
    DemandUnits,
    build_demand_units,
    classify,
    demand_grid,
    village_statistics,
)
from towerplan.analysis.candidates import candidate_table
from towerplan.analysis.costs import COST_PARTS, cost_context, cost_summary
from towerplan.analysis.selection import (
    SelectionResult,
    blank_village_shares,
    build_order,
    select_sites,
    select_sites_sweep,
)
from towerplan.coverage.composite import (
    BestServer,
    TerrainContext,
    best_server,
    best_server_points,
    coverage_matrix,
)
from towerplan.coverage.raster import LinkParams
from towerplan.errors import ModelDomainError, OutputError, ScenarioError
from towerplan.inputs import LoadedInputs, load_inputs
from towerplan.io.atomic import publish_permissions
from towerplan.io.rasters import RasterGrid
from towerplan.radio.chain import parse_chain
from towerplan.radio.models import base_model
from towerplan.results import PlanResult, Provenance
from towerplan.scenario import Scenario

__all__ = [
    "PLAN_STAGES",
    "CurrentState",
    "SelectionProblem",
    "ProgressFn",
    "current_state",
    "plan",
    "publish_output_dir",
    "run_plan",
    "select",
    "selection_problem",
    "stage_output_dir",
]

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]

#: Stage labels reported through the progress callback, in order.
PLAN_STAGES: tuple[str, ...] = (
    "inputs", "demand", "coverage before", "candidates", "candidate coverage", "backhaul",
    "selection", "coverage after", "outputs",
)


@dataclass(frozen=True, slots=True)
class _Sites:
    """Positions (working CRS) and antenna heights of a set of sites."""

    xy: np.ndarray
    height_m: np.ndarray


def run_plan(scenario: Scenario, out_dir: str | Path | None = None, *, overwrite: bool = False,
             lang: str | None = None, progress: ProgressFn | None = None) -> PlanResult:
    """Run the whole pipeline and write every output into *out_dir*.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    out_dir : str or Path, optional
        Output directory (default ``scenario.outputs.dir``, relative to the current directory).
    overwrite : bool, keyword-only
        Replace files of an existing, non-empty output directory.
    lang : {"id", "en"}, optional
        Language of the map and reports (default ``scenario.outputs.lang``).
    progress : callable, optional
        Called with each stage label of :data:`PLAN_STAGES` as it starts.

    Raises
    ------
    TowerplanError
        On any bad input or when outputs cannot be written; nothing is written then.
    """
    from towerplan.outputs.exports import write_outputs

    target = Path(out_dir if out_dir is not None else scenario.outputs.dir)
    staging = stage_output_dir(target, overwrite=overwrite)
    try:
        result = plan(scenario, progress=progress)
        _step(progress, "outputs")
        write_outputs(result, staging, lang=lang or scenario.outputs.lang)
        _write_register_match(scenario, result.villages, staging)
        publish_output_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _write_register_match(scenario: Scenario, villages: Any, out_dir: Path) -> None:
    """Write ``register_match.csv`` (and ``village_mapping_todo.csv`` of the names still to
    settle) when the scenario names a register."""
    inp = scenario.inputs
    if not inp.register:
        return
    from towerplan.io.register import match_villages, write_mapping_todo, write_match_report

    report, _ = match_villages(
        villages, scenario.resolve(inp.register),
        mapping_path=scenario.resolve(inp.village_mapping) if inp.village_mapping else None)
    write_match_report(report, out_dir / "register_match.csv")
    if report.unsettled:
        write_mapping_todo(report, out_dir / "village_mapping_todo.csv")


@dataclass(frozen=True, slots=True)
class CurrentState:
    """Inputs and today's coverage by the existing towers (the plan's first stages).

    Attributes
    ----------
    data : LoadedInputs
        Validated inputs in the working CRS.
    link : LinkParams
        Link budget of the scenario.
    terrain : TerrainContext or None
        Terrain for terrain-aware chains (None for distance-only chains).
    villages : geopandas.GeoDataFrame
        Villages, index 0..n-1.
    units : DemandUnits
        Demand units.
    existing : _Sites
        Existing towers.
    before : BestServer
        Best server of the existing towers at each demand unit.
    stats : pandas.DataFrame
        Per-village statistics before the plan.
    """

    data: LoadedInputs
    link: LinkParams
    terrain: TerrainContext | None
    villages: Any
    units: DemandUnits
    existing: _Sites
    before: BestServer
    stats: pd.DataFrame

    @property
    def covered(self) -> np.ndarray:
        """Demand units served by the existing towers."""
        return self.before.rsrp_dbm >= self.link.threshold_rsrp_dbm


def current_state(scenario: Scenario, *, progress: ProgressFn | None = None) -> CurrentState:
    """Load the inputs and compute today's coverage and blank spots per village."""
    _check_plan_model(scenario.radio.model)
    _step(progress, "inputs")
    data = load_inputs(scenario)
    link = LinkParams.from_radio(scenario.radio)
    terrain = _terrain_context(scenario, data)
    villages = data.villages.reset_index(drop=True)

    _step(progress, "demand")
    units = _demand_units(scenario, data)

    _step(progress, "coverage before")
    existing = _Sites(np.column_stack([data.towers.geometry.x, data.towers.geometry.y])
                      if len(data.towers) else np.empty((0, 2)),
                      data.towers["height_m"].to_numpy(float) if len(data.towers)
                      else np.empty(0))
    before = best_server_points(units.xy, existing.xy, existing.height_m, link, terrain)
    cov = scenario.coverage
    stats = village_statistics(units, len(villages), before.rsrp_dbm >= link.threshold_rsrp_dbm,
                               before.rsrp_dbm, before.server, blank_below=cov.blank_below,
                               covered_at_least=cov.covered_at_least)
    return CurrentState(data, link, terrain, villages, units, existing, before, stats)


@dataclass(frozen=True, slots=True)
class SelectionProblem:
    """Candidates and what each would cover: the input of every selection.

    Attributes
    ----------
    state : CurrentState
        Inputs and today's coverage.
    candidates : pandas.DataFrame
        Candidate sites with positions (``x``, ``y``), village, costs and ``demand_alone``.
    sites : _Sites
        Candidate positions and heights.
    matrix : scipy.sparse.csr_matrix
        ``(n_candidates, n_units)``: True where a candidate covers a demand unit.
    backhaul : BackhaulPlan or None
        Per-site backhaul plan whose costs are already in ``candidates`` (None before it ran).
    """

    state: CurrentState
    candidates: pd.DataFrame
    sites: _Sites
    matrix: Any
    backhaul: BackhaulPlan | None = None

    @property
    def costs(self) -> np.ndarray:
        """Total cost per candidate, rupiah."""
        return self.candidates["cost_total_idr"].to_numpy(float)


def selection_problem(scenario: Scenario, state: CurrentState, *,
                      extra_villages: np.ndarray | None = None,
                      progress: ProgressFn | None = None) -> SelectionProblem:
    """Generate candidates and their coverage of the demand units.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    state : CurrentState
        From :func:`current_state`.
    extra_villages : numpy.ndarray of bool, optional
        Villages that get candidates even when already covered (e.g. audited villages).
    progress : callable, optional
        Stage callback.
    """
    _step(progress, "candidates")
    cands = _candidates(scenario, state.data, state.villages, state.stats, extra_villages)
    _step(progress, "candidate coverage")
    sites = _Sites(cands[["x", "y"]].to_numpy(float), cands["height_m"].to_numpy(float))
    matrix = _candidate_matrix(sites, state.units, state.link, state.terrain, progress)
    fresh_weight = np.where(state.covered, 0.0, state.units.weight)
    cands["demand_alone"] = np.asarray(matrix @ fresh_weight, dtype=float).ravel() \
        if len(cands) else np.empty(0)
    problem = SelectionProblem(state, cands, sites, matrix)
    # per-site backhaul costs go into the candidates' costs, for every command alike
    backhaul = plan_backhaul(scenario, state, problem, progress=progress)
    return dataclasses.replace(problem, backhaul=backhaul)


def plan(scenario: Scenario, *, progress: ProgressFn | None = None) -> PlanResult:
    """Compute a plan without writing anything (all stages but ``outputs``)."""
    t0 = time.perf_counter()
    state = current_state(scenario, progress=progress)
    data, link, terrain = state.data, state.link, state.terrain
    villages, units, existing = state.villages, state.units, state.existing
    covered_before, stats_before = state.covered, state.stats
    n_v = len(villages)
    cov = scenario.coverage
    audit_extra = audit_villages(scenario, state)
    problem = selection_problem(scenario, state, extra_villages=audit_extra, progress=progress)
    backhaul = problem.backhaul if problem.backhaul is not None \
        else plan_backhaul(scenario, state, problem, progress=progress)
    cands, matrix, cand_sites = problem.candidates, problem.matrix, problem.sites

    _step(progress, "selection")
    blank_today = stats_before["status"].to_numpy() == BLANK
    selection, greedy = select(scenario, cands, matrix, units, covered_before,
                               blank_villages=blank_today)
    selection, backhaul_out = finish_backhaul(backhaul, scenario, problem, selection)
    cands["selected"] = False
    cands.loc[list(selection.sites), "selected"] = True
    audit = audit_plan(scenario, problem, model_chain=model_chain_text(scenario)) \
        if audit_extra is not None else None

    _step(progress, "coverage after")
    chosen = list(selection.sites)
    after_sites = _Sites(np.concatenate([existing.xy, cand_sites.xy[chosen]]),
                         np.concatenate([existing.height_m, cand_sites.height_m[chosen]]))
    after = best_server_points(units.xy, after_sites.xy, after_sites.height_m, link, terrain)
    covered_after = after.rsrp_dbm >= link.threshold_rsrp_dbm
    stats_after = village_statistics(units, n_v, covered_after, after.rsrp_dbm, after.server,
                                     blank_below=cov.blank_below,
                                     covered_at_least=cov.covered_at_least)
    server_ids = [*data.towers["tower_id"].astype(str), *cands["site_id"].iloc[chosen]]
    ranking = backhaul_out.annotate(_ranking(scenario, cands, matrix, units, covered_before,
                                             chosen, villages, link, terrain))
    dem = data.dem
    rsrp_before = _raster(dem, existing, link, terrain)
    rsrp_after = _raster(dem, after_sites, link, terrain)

    villages_out = _village_table(villages, stats_before, stats_after,
                                  list(data.towers["tower_id"].astype(str)), server_ids)
    provenance = Provenance(
        version=__version__,
        scenario_hash=scenario.content_hash(),
        model_chain=model_chain_text(scenario),
        solver=selection.solver,
        synthetic=data.paths.demo is not None,
        data_sources=data.sources,
        demand_basis=units.basis,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    cands_out = _to_lonlat_columns(cands)
    summary = _summary(scenario, provenance, selection, greedy, villages_out, units,
                       covered_before, covered_after, cands_out, data,
                       time.perf_counter() - t0)
    if audit is not None:
        summary["audit"] = audit.summary
    summary["backhaul"] = backhaul_out.summary
    log.info("plan: %d towers, blank villages %d -> %d, %.1f s", len(chosen),
             summary["blank_villages_before"], summary["blank_villages_after"],
             summary["runtime_s"])
    existing_out = _to_lonlat_columns(data.towers.copy())
    return PlanResult(scenario, provenance, villages_out, existing_out, cands_out, ranking,
                      rsrp_before, rsrp_after, dem, summary,
                      audit=_to_lonlat_columns(audit.sites) if audit is not None else None,
                      audit_summary=audit.summary if audit is not None else None,
                      links=backhaul_out.links)


def _check_plan_model(model: str) -> None:
    """Refuse chains the coverage stage cannot evaluate (before any work)."""
    chain = parse_chain(model)
    if base_model(chain.base).loss_db is None:
        msg = (f"model chain '{chain.base}' is point-to-point only (towerplan link); for "
               "coverage use a base model with a diffraction term, e.g. "
               "'hata-suburban+deygout+clutter'")
        raise ModelDomainError(msg)


def _terrain_context(scenario: Scenario, data: LoadedInputs) -> TerrainContext | None:
    """Terrain for terrain-aware chains; None for chains that depend on distance only."""
    chain = parse_chain(scenario.radio.model)
    if not chain.uses_terrain and chain.clutter is None:
        return None
    return TerrainContext(data.dem.array, data.dem.transform, chain, scenario.radio.k_factor,
                          data.landcover)


def _candidate_matrix(cand: _Sites, units: DemandUnits, link: LinkParams,
                      terrain: TerrainContext | None, progress: ProgressFn | None) -> Any:
    """Coverage matrix of the candidates, reused from the cache when nothing changed."""
    from towerplan.io.cache import cached_sparse, content_key

    def compute() -> Any:
        def tick(done: int, total: int) -> None:
            if progress is not None and (done % 50 == 0 or done == total):
                progress(f"candidate coverage {done}/{total}")

        return coverage_matrix(cand.xy, cand.height_m, units.xy, link, terrain, progress=tick)

    if terrain is None:
        return compute()
    key = content_key("coverage-matrix-v1", link, terrain.chain.name, terrain.k_factor,
                      terrain.dem_m, tuple(terrain.transform), terrain.landcover
                      if terrain.landcover is not None else "no landcover",
                      cand.xy, cand.height_m, units.xy)
    return cached_sparse("coverage", key, compute)


def model_chain_text(scenario: Scenario) -> str:
    """One-line statement of the model chain and its parameters."""
    r = scenario.radio
    link = LinkParams.from_radio(r)
    chain = parse_chain(r.model)
    terrain = (f", earth k = {r.k_factor:.4g}, terrain {scenario.terrain.resolution_m:g} m"
               if chain.uses_terrain else " (distance only, no terrain)")
    calib = r.calibration
    calibrated = (f", drive-test calibration {calib.offset_db:+.2f} dB "
                  f"{calib.slope_db_per_decade:+.2f} dB/decade"
                  if calib.offset_db or calib.slope_db_per_decade else "")
    return (
        f"{chain.name}: {chain.describe()}{terrain}{calibrated}; {r.freq_mhz:g} MHz, "
        f"tower {r.tower_height_m:g} m, handset {r.rx_height_m:g} m, EIRP {link.eirp_dbm:g} dBm, "
        f"{r.bandwidth_mhz:g} MHz channel, covered at RSRP >= {r.threshold_rsrp_dbm:g} dBm "
        f"(MAPL {link.mapl_db:.1f} dB), radius {r.max_radius_km:g} km"
    )


def _step(progress: ProgressFn | None, label: str) -> None:
    log.debug("stage %s", label)
    if progress is not None:
        progress(label)


def _demand_units(scenario: Scenario, data: LoadedInputs) -> DemandUnits:
    villages = data.villages
    grid = demand_grid(tuple(villages.total_bounds), scenario.coverage.demand_cell_m)
    st = data.settlements
    st_xy = np.column_stack([st.geometry.x, st.geometry.y]) if st is not None and len(st) \
        else None
    st_pop = st["population"].to_numpy(float) if st is not None and len(st) else None
    vpop = villages["population"].to_numpy(float)
    units = build_demand_units(
        villages.geometry.to_numpy(), scenario.coverage.demand_cell_m,
        village_population=vpop if np.isfinite(vpop).all() else None,
        settlement_xy=st_xy, settlement_population=st_pop, population_grid=data.population,
        grid=grid)
    if data.population_note and units.basis == "population" and np.allclose(
            np.bincount(units.village, weights=units.weight, minlength=len(vpop)), vpop):
        units = dataclasses.replace(units, basis_note=f"{data.population_note}; spread evenly "
                                                      "over each village's area")
    return units


def _candidates(scenario: Scenario, data: LoadedInputs, villages: Any,
                stats_before: pd.DataFrame, extra_villages: np.ndarray | None) -> pd.DataFrame:
    need = stats_before["status"].to_numpy() != COVERED
    if extra_villages is not None:
        need = need | extra_villages
    frame, excluded = candidate_table(scenario, data, villages, need)
    log.info("candidate exclusions: %s", excluded)
    return frame


def _selection_options(scenario: Scenario, cands: pd.DataFrame, units: DemandUnits,
                       blank_villages: np.ndarray | None) -> dict[str, Any]:
    """Keyword options of :func:`select_sites` from the scenario's ``[selection]``."""
    sel = scenario.selection
    index = {sid: j for j, sid in enumerate(cands["site_id"])}
    unknown = [s for s in (*sel.must_include, *sel.must_exclude) if s not in index]
    if unknown:
        msg = (f"'selection.must_include'/'must_exclude' name unknown candidate ids: "
               f"{', '.join(unknown[:5])}; see candidates in plan.gpkg for valid ids")
        raise ScenarioError(msg)
    groups = cands["district_code"].astype(str).to_numpy() if sel.max_per_kecamatan else None
    kwargs: dict[str, Any] = {
        "must_include": [index[s] for s in sel.must_include],
        "must_exclude": [index[s] for s in sel.must_exclude],
        "groups": groups, "max_per_group": sel.max_per_kecamatan,
    }
    if sel.min_share_blank_village > 0 and blank_villages is not None:
        kwargs["unit_group"] = units.village
        kwargs["min_share"] = blank_village_shares(units.village, units.weight, blank_villages,
                                                   sel.min_share_blank_village)
    return kwargs


def select(scenario: Scenario, cands: pd.DataFrame, matrix: Any, units: DemandUnits,
           covered_before: np.ndarray, budget: float | None = None,
           blank_villages: np.ndarray | None = None
           ) -> tuple[SelectionResult, SelectionResult]:
    """Selection by the scenario's method and the greedy baseline (at *budget*, default the
    scenario's)."""
    budget = scenario.budget.total_idr if budget is None else budget
    return select_many(scenario, cands, matrix, units, covered_before, [budget],
                       blank_villages)[0]


def select_many(scenario: Scenario, cands: pd.DataFrame, matrix: Any, units: DemandUnits,
                covered_before: np.ndarray, budgets: Sequence[float],
                blank_villages: np.ndarray | None = None,
                progress: ProgressFn | None = None
                ) -> list[tuple[SelectionResult, SelectionResult]]:
    """:func:`select` for many budgets; the exact model is prepared once and warm-started
    from budget to budget (:func:`~towerplan.analysis.selection.select_sites_sweep`).
    *progress* gets "selection i/n budgets" after each exact solve."""
    sel = scenario.selection
    kwargs = _selection_options(scenario, cands, units, blank_villages)
    costs = cands["cost_total_idr"].to_numpy(float)
    greedy = [select_sites(matrix, units.weight, costs, b, covered_before, "greedy", **kwargs)
              for b in budgets]
    if sel.method == "greedy":
        return [(g, g) for g in greedy]
    def step(done: int, total: int) -> None:
        if progress is not None:
            progress(f"selection {done}/{total} budgets")

    exact = select_sites_sweep(matrix, units.weight, costs, budgets, covered_before,
                               time_limit_s=sel.time_limit_s, progress=step, **kwargs)
    return list(zip(exact, greedy, strict=True))


def _ranking(scenario: Scenario, cands: pd.DataFrame, matrix: Any, units: DemandUnits,
             covered_before: np.ndarray, chosen: list[int], villages: Any,
             link: LinkParams, terrain: TerrainContext | None) -> Any:
    import geopandas as gpd

    cov = scenario.coverage
    costs = cands["cost_total_idr"].to_numpy(float)
    order = build_order(matrix, units.weight, costs, chosen, covered_before)
    covered = covered_before.copy()
    n_v = len(villages)
    names = villages["name"].to_numpy()

    def status(mask: np.ndarray) -> np.ndarray:
        tot = np.bincount(units.village, weights=units.weight, minlength=n_v)
        got = np.bincount(units.village, weights=units.weight * mask, minlength=n_v)
        area = np.bincount(units.village, weights=units.area_km2, minlength=n_v)
        area_got = np.bincount(units.village, weights=units.area_km2 * mask, minlength=n_v)
        share = np.where(tot > 0, got / np.where(tot > 0, tot, 1), area_got / area)
        return classify(share, cov.blank_below, cov.covered_at_least)

    rows = []
    cum_cost = cum_dem = 0.0
    for rank, (j, gain) in enumerate(order, start=1):
        prev = status(covered)
        new_units = matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]
        fresh = new_units[~covered[new_units]]
        covered[new_units] = True
        lifted = np.flatnonzero((prev == BLANK) & (status(covered) != BLANK))
        site = cands.iloc[j]
        site_xy = np.array([[site["x"], site["y"]]])
        best = float(np.nanmax(best_server_points(
            units.xy[fresh], site_xy, np.array([site["height_m"]]), link, terrain).rsrp_dbm)) \
            if len(fresh) else float("nan")
        cum_cost += costs[j]
        cum_dem += gain
        rows.append({
            "rank": rank, "site_id": site["site_id"], "x": site["x"], "y": site["y"],
            "village_code": site["village_code"], "village": site["village"],
            "district": site["district"], "elevation_m": site["elevation_m"],
            **{p: site[p] for p in (*COST_PARTS, "cost_total_idr")},
            "cumulative_cost_idr": cum_cost, "new_demand": gain, "cumulative_demand": cum_dem,
            "villages_lifted": len(lifted),
            "villages_lifted_names": "; ".join(str(names[v]) for v in lifted),
            "best_rsrp_dbm": round(best, 1),
        })
    frame = pd.DataFrame(rows, columns=[
        "rank", "site_id", "x", "y", "village_code", "village", "district", "elevation_m",
        *COST_PARTS, "cost_total_idr", "cumulative_cost_idr", "new_demand", "cumulative_demand",
        "villages_lifted", "villages_lifted_names", "best_rsrp_dbm"])
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                           crs=villages.crs)
    return _to_lonlat_columns(gdf)


def _raster(dem: RasterGrid, sites: _Sites, link: LinkParams,
            terrain: TerrainContext | None) -> RasterGrid:
    comp = best_server(dem.transform, dem.shape, sites.xy, sites.height_m, link, terrain)
    return RasterGrid(comp.rsrp_dbm, dem.transform, dem.crs, None)


def _village_table(villages: Any, before: pd.DataFrame, after: pd.DataFrame,
                   tower_ids: list[str], server_ids: list[str]) -> Any:
    out = villages[["code", "name", "district_code", "district", "kind", "area_km2",
                    "geometry"]].copy()
    out["demand_total"] = before["demand_total"].to_numpy()
    for tag, st, ids in (("before", before, tower_ids), ("after", after, server_ids)):
        out[f"demand_covered_{tag}"] = st["demand_covered"].to_numpy()
        out[f"share_covered_{tag}"] = st["share_covered"].to_numpy()
        out[f"area_share_covered_{tag}"] = st["area_share_covered"].to_numpy()
        out[f"status_{tag}"] = st["status"].to_numpy().astype(str)
        out[f"best_server_{tag}"] = [ids[k] if k >= 0 else "" for k in st["best_server"]]
        out[f"median_rsrp_{tag}_dbm"] = st["median_rsrp_dbm"].to_numpy()
    return out


def _to_lonlat_columns(frame: Any) -> Any:
    """Add ``lon``/``lat`` from the geometry; keep the frame in its working CRS."""
    import geopandas as gpd

    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                                 crs=None)
    if len(frame) and frame.crs is not None:
        ll = frame.geometry.to_crs("EPSG:4326")
        frame["lon"] = ll.x.round(6)
        frame["lat"] = ll.y.round(6)
    else:
        frame["lon"] = pd.Series(dtype=float)
        frame["lat"] = pd.Series(dtype=float)
    return frame


def _summary(scenario: Scenario, prov: Provenance, sel: SelectionResult,
             greedy: SelectionResult, villages: Any, units: DemandUnits,
             covered_before: np.ndarray, covered_after: np.ndarray, cands: Any,
             data: LoadedInputs, runtime_s: float) -> dict[str, Any]:
    def count(col: str, value: str) -> int:
        return int((villages[col] == value).sum())

    return {
        "scenario": scenario.scenario.name,
        "title": scenario.scenario.title,
        "synthetic": prov.synthetic,
        "budget_idr": float(scenario.budget.total_idr),
        "spent_idr": float(sel.cost),
        "towers_selected": len(sel.sites),
        "villages_total": len(villages),
        "blank_villages_before": count("status_before", BLANK),
        "blank_villages_after": count("status_after", BLANK),
        "partial_villages_before": count("status_before", "partial"),
        "partial_villages_after": count("status_after", "partial"),
        "covered_villages_before": count("status_before", COVERED),
        "covered_villages_after": count("status_after", COVERED),
        "demand_total": round(float(units.weight.sum()), 3),
        "demand_basis": units.basis,
        "demand_basis_note": units.basis_note,
        "demand_covered_before": round(float(units.weight[covered_before].sum()), 3),
        "demand_covered_after": round(float(units.weight[covered_after].sum()), 3),
        "solver": sel.solver,
        "solver_status": sel.status,
        "optimality_gap": sel.gap,
        "objective": round(sel.objective, 3),
        "objective_bound": None if sel.bound is None else round(sel.bound, 3),
        "greedy_objective": round(greedy.objective, 3),
        "greedy_shortfall_percent": round(100 * (1 - greedy.objective / sel.objective), 3)
        if sel.objective > 0 else 0.0,
        "greedy_spent_idr": float(greedy.cost),
        "solver_runtime_s": round(sel.runtime_s, 3),
        "model_chain": prov.model_chain,
        "threshold_rsrp_dbm": scenario.radio.threshold_rsrp_dbm,
        "tower_cost_idr": float(scenario.costs.tower_idr),
        **cost_summary(scenario.costs, cost_context(data, villages), cands),
        "candidates_total": len(cands),
        "existing_towers": len(data.towers),
        "crs": data.crs.to_string(),
        "scenario_hash": prov.scenario_hash,
        "towerplan_version": prov.version,
        "data_sources": list(prov.data_sources),
        "village_geometry_source": data.village_geometry_source,
        **_register_counts(data),
        "limitations": _limitations(data, units),
        "runtime_s": round(runtime_s, 2),
        "created_utc": prov.created_utc,
    }


def _register_counts(data: LoadedInputs) -> dict[str, int]:
    """Register matching figures for summary.json (none without a register)."""
    if data.register_match is None:
        return {}
    c = data.register_match.counts()
    return {"register_matched": c["matched"], "register_ambiguous": c["ambiguous"],
            "register_unmatched": c["unmatched"],
            "register_without_polygon": c["register_without_name"]}


def _limitations(data: LoadedInputs, units: DemandUnits) -> list[str]:
    """What the outputs cannot say, in both languages: the inputs' statements and demand."""
    from towerplan.outputs.i18n import bilingual

    out = list(data.limitations)
    if units.basis == "area_km2":
        out.append(bilingual("limit.area_basis"))
    elif data.population_note and units.basis_note.startswith(data.population_note):
        source = data.paths.district_population.name if data.paths.district_population \
            else ""
        out.append(bilingual("limit.apportioned", source=source))
    return out


def stage_output_dir(target: Path, *, overwrite: bool) -> Path:
    """Check *target* can be written and return a fresh staging directory beside it."""
    if target.exists() and not target.is_dir():
        msg = f"output path {target} exists and is not a directory"
        raise OutputError(msg)
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        msg = f"output directory {target} is not empty; pass --overwrite to replace its files"
        raise OutputError(msg)
    parent = target.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=parent))
    except OSError as exc:
        msg = f"output directory {target} is not writable: {exc.strerror or exc}"
        raise OutputError(msg) from None
    if target.is_dir() and not os.access(target, os.W_OK | os.X_OK):
        shutil.rmtree(staging, ignore_errors=True)
        msg = f"output directory {target} is not writable"
        raise OutputError(msg)
    return staging


def publish_output_dir(staging: Path, target: Path) -> None:
    """Move the staged outputs into *target* (rename when it does not exist yet)."""
    try:
        for item in staging.iterdir():
            publish_permissions(item, directory=item.is_dir())
        if not target.exists():
            publish_permissions(staging, directory=True)
            staging.rename(target)
            return
        for item in sorted(staging.iterdir(), key=lambda p: p.name == "summary.json"):
            os.replace(item, target / item.name)
        staging.rmdir()
    except OSError as exc:
        msg = f"cannot write outputs to {target}: {exc.strerror or exc}"
        raise OutputError(msg) from None
