"""Stage ``after``: coverage with the chosen sites added, village statistics after the plan,
the ranked build order and the coverage grid after the plan.

Only the chosen sites are evaluated here: their best server is combined with the existing
towers' (from stage ``existing_coverage``), which is the same as evaluating all sites again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from towerplan.analysis.blankspots import BLANK, at_least, village_statistics
from towerplan.analysis.outcome import ranking_table, village_table, with_lonlat
from towerplan.analysis.why_not import WhyNotInputs, why_not
from towerplan.coverage.composite import best_server_both, combine
from towerplan.io.rasters import RasterGrid
from towerplan.pipeline.assemble import current_state, selection_problem
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import scipy.sparse as sp

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.analysis.problem import SelectionProblem
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.backhaul import CostedCandidates
    from towerplan.pipeline.stages.existing import ExistingCoverage
    from towerplan.pipeline.stages.selection import Chosen
    from towerplan.scenario import Scenario

__all__ = ["STAGE", "After"]


@dataclass(frozen=True, slots=True)
class After:
    """The plan's outcome.

    Attributes
    ----------
    covered : numpy.ndarray
        Demand units served after the plan (bool).
    stats : pandas.DataFrame
        Per-village statistics after the plan.
    villages : geopandas.GeoDataFrame
        Villages with their statistics before and after (``VILLAGE_COLUMNS``).
    ranking : geopandas.GeoDataFrame
        The chosen sites in build order, with backhaul columns (``RANKING_COLUMNS``).
    candidates : geopandas.GeoDataFrame
        Every candidate with ``selected``, ``demand_alone`` and lon/lat.
    rsrp_after : RasterGrid
        Best-server RSRP on the terrain grid with the chosen sites, dBm. Today's grid is
        not repeated here: it is stage ``existing_coverage``'s (cached once, not once per
        budget).
    """

    covered: np.ndarray
    stats: pd.DataFrame
    villages: gpd.GeoDataFrame
    ranking: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    rsrp_after: RasterGrid


def _after(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
           demand: DemandUnits, existing_coverage: ExistingCoverage, before: pd.DataFrame,
           backhaul: CostedCandidates, candidate_coverage: sp.csr_matrix,
           coverage_maps: MapCoverage,
           selection: Chosen) -> After:
    sc = ctx.scenario
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    chosen = list(selection.selection.sites)
    dem = terrain.dem
    n_existing = len(state.existing)
    unit_rsrp: dict[int, np.ndarray] = {}

    def keep(i: int, idx: np.ndarray, rsrp: np.ndarray) -> None:
        unit_rsrp[chosen[i]] = values = np.full(len(demand.weight), np.nan, np.float32)
        values[idx] = rsrp

    grid, points_new = best_server_both(
        dem.transform, dem.shape, problem.sites.xy[chosen], problem.sites.height_m[chosen],
        state.link, state.terrain, demand.xy, onto=existing_coverage.grid, offset=n_existing,
        each_site=keep)
    points = combine(existing_coverage.points, points_new, offset=n_existing)
    # served after: served today (the reports where known, else the model) or by a new site
    covered = state.covered | (points_new.rsrp_dbm >= state.link.threshold_rsrp_dbm)
    cov = sc.coverage
    stats = village_statistics(demand, len(load.villages), covered, points.rsrp_dbm,
                               points.server, blank_below=cov.blank_below,
                               covered_at_least=cov.covered_at_least)
    stats["status"] = at_least(stats["status"].to_numpy(), before["status"].to_numpy())
    final = selection.candidates.assign(demand_alone=problem.candidates["demand_alone"])
    tower_ids = list(load.towers["tower_id"].astype(str))
    server_ids = [*tower_ids, *final["site_id"].iloc[chosen].astype(str)]
    ranking = selection.backhaul.annotate(ranking_table(
        problem, final, chosen, blank_below=cov.blank_below,
        covered_at_least=cov.covered_at_least, unit_rsrp=unit_rsrp))
    marked = final.assign(selected=np.isin(np.arange(len(final)), chosen))
    villages = village_table(load.villages, before, stats, tower_ids, server_ids,
                             rules=demand.population_rule)
    reasons = _why_not(sc, problem, final, covered, ranking, stats, before,
                       selection.selection.cost)
    return After(
        covered=covered, stats=stats,
        villages=villages.assign(**{c: reasons[c].to_numpy() for c in reasons.columns}),
        ranking=ranking, candidates=with_lonlat(marked, load.villages.crs),
        rsrp_after=RasterGrid(grid.rsrp_dbm, dem.transform, dem.crs, None))


def _why_not(sc: Scenario, problem: SelectionProblem, final: pd.DataFrame,
             covered: np.ndarray, ranking: pd.DataFrame, stats: pd.DataFrame,
             before: pd.DataFrame, spent_idr: float) -> pd.DataFrame:
    """Why each village still blank after the plan was left out (analysis/why_not.py)."""
    cost = final["cost_total_idr"].to_numpy(float)
    ids = final["site_id"].astype(str).to_numpy()
    yields = ranking["new_demand"].to_numpy(float) / ranking["cost_total_idr"].to_numpy(float)
    inp = WhyNotInputs(problem.matrix, problem.state.units.weight, problem.state.units.village,
                       covered, cost, np.isin(ids, list(sc.selection.must_exclude)),
                       float(sc.budget.total_idr - spent_idr),
                       float(yields.min()) if len(yields) else 0.0)
    return why_not(inp, stats["status"].to_numpy() == BLANK,
                   before["demand_total"].to_numpy(float), sc.coverage.blank_below, ids)


STAGE = Stage(name="after", run=_after,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps", "selection"),
              label="coverage after",
              reads=("radio", "coverage", "budget.total_idr", "selection.must_exclude"))
