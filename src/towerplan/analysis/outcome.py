"""What a selection achieves, as tables: the ranked build order and the villages before/after.

Both take the selection problem and the chosen sites and never change them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from towerplan.analysis.blankspots import BLANK, at_least, classify
from towerplan.analysis.selection import build_order
from towerplan.columns import COST_PARTS
from towerplan.coverage.composite import best_server_points

if TYPE_CHECKING:
    from towerplan.analysis.problem import SelectionProblem

__all__ = ["RANKING_BASE_COLUMNS", "ranking_table", "village_table", "weighted_median",
           "with_lonlat"]

#: Columns of :func:`ranking_table` before the backhaul columns are added.
RANKING_BASE_COLUMNS: tuple[str, ...] = (
    "rank", "site_id", "x", "y", "land_status", "village_code", "village", "district",
    "elevation_m",
    *COST_PARTS, "cost_total_idr", "cumulative_cost_idr", "new_demand", "cumulative_demand",
    "villages_lifted", "villages_lifted_names", "new_median_rsrp_dbm",
    "new_area_median_rsrp_dbm", "new_area_km2")


def with_lonlat(frame: Any, crs: Any = None) -> Any:
    """Add ``lon``/``lat`` from the geometry (a copy; the frame keeps its working CRS).

    A plain DataFrame is turned into points in *crs* from its ``x``/``y`` columns.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                                 crs=crs)
    else:
        frame = frame.copy()
    if len(frame) and frame.crs is not None:
        ll = frame.geometry.to_crs("EPSG:4326")
        frame["lon"] = ll.x.round(6)
        frame["lat"] = ll.y.round(6)
    else:
        frame["lon"] = pd.Series(dtype=float)
        frame["lat"] = pd.Series(dtype=float)
    return frame


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The weighted median: the smallest value at which the cumulative weight reaches half.

    Parameters
    ----------
    values : numpy.ndarray
        Values (``nan`` ones are left out with their weight).
    weights : numpy.ndarray
        Non-negative weights, same length.

    Returns
    -------
    float
        ``nan`` when no finite value has a positive weight.

    Examples
    --------
    >>> weighted_median(np.array([-100.0, -90.0, -80.0]), np.array([1.0, 1.0, 5.0]))
    -80.0
    >>> weighted_median(np.array([-100.0, -90.0]), np.array([1.0, 1.0]))
    -100.0
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(v) & (w > 0)
    if not keep.any():
        return float("nan")
    order = np.argsort(v[keep], kind="stable")
    cum = np.cumsum(w[keep][order])
    return float(v[keep][order][np.searchsorted(cum, 0.5 * cum[-1])])


def ranking_table(problem: SelectionProblem, candidates: pd.DataFrame, chosen: Sequence[int],
                  *, blank_below: float, covered_at_least: float,
                  unit_rsrp: Mapping[int, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """The chosen sites in build order (greedy by marginal demand per rupiah).

    Parameters
    ----------
    problem : SelectionProblem
        Coverage matrix, demand and today's state.
    candidates : pandas.DataFrame
        Candidates with the costs to report (those of the backhaul model used).
    chosen : sequence of int
        Rows of the chosen sites.
    blank_below, covered_at_least : float
        Village status thresholds (shares of demand).
    unit_rsrp : mapping of int to numpy.ndarray, optional
        For chosen rows already evaluated: the site's RSRP at every demand unit (dBm, nan
        where it does not reach); the others are evaluated here.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`RANKING_BASE_COLUMNS` plus ``lon``/``lat``, points in the working CRS.
    """
    state = problem.state
    units, villages, matrix = state.units, state.villages, problem.matrix
    costs = candidates["cost_total_idr"].to_numpy(float)
    order = build_order(matrix, units.weight, costs, list(chosen), state.covered)
    covered = state.covered.copy()
    n_v = len(villages)
    names = villages["name"].to_numpy()
    tot = np.bincount(units.village, weights=units.weight, minlength=n_v)
    area = np.bincount(units.village, weights=units.area_km2, minlength=n_v)
    today = state.stats["status"].to_numpy()

    def status(mask: np.ndarray) -> np.ndarray:
        got = np.bincount(units.village, weights=units.weight * mask, minlength=n_v)
        area_got = np.bincount(units.village, weights=units.area_km2 * mask, minlength=n_v)
        share = np.where(tot > 0, got / np.where(tot > 0, tot, 1), area_got / area)
        return at_least(classify(share, blank_below, covered_at_least), today)

    rows = []
    cum_cost = cum_dem = 0.0
    for rank, (j, gain) in enumerate(order, start=1):
        prev = status(covered)
        new_units = matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]
        fresh = new_units[~covered[new_units]]
        covered[new_units] = True
        lifted = np.flatnonzero((prev == BLANK) & (status(covered) != BLANK))
        site = candidates.iloc[j]
        site_xy = np.array([[site["x"], site["y"]]])
        rsrp = unit_rsrp[j][fresh] if unit_rsrp is not None and j in unit_rsrp else \
            best_server_points(units.xy[fresh], site_xy, np.array([site["height_m"]]),
                               state.link, state.terrain).rsrp_dbm
        weights = units.weight[fresh]
        median = weighted_median(rsrp, weights if weights.sum() > 0 else units.area_km2[fresh])
        cum_cost += costs[j]
        cum_dem += gain
        rows.append({
            "rank": rank, "site_id": site["site_id"], "x": site["x"], "y": site["y"],
            "land_status": site.get("land_status", ""),
            "village_code": site["village_code"], "village": site["village"],
            "district": site["district"], "elevation_m": site["elevation_m"],
            **{p: site[p] for p in (*COST_PARTS, "cost_total_idr")},
            "cumulative_cost_idr": cum_cost, "new_demand": gain, "cumulative_demand": cum_dem,
            "villages_lifted": len(lifted),
            "villages_lifted_names": "; ".join(str(names[v]) for v in lifted),
            "new_median_rsrp_dbm": round(median, 1),
            "new_area_median_rsrp_dbm": round(weighted_median(rsrp, units.area_km2[fresh]), 1),
            "new_area_km2": round(float(units.area_km2[fresh].sum()), 2),
        })
    frame = pd.DataFrame(rows, columns=list(RANKING_BASE_COLUMNS))
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"]),
                           crs=villages.crs)
    return with_lonlat(gdf)


def village_table(villages: gpd.GeoDataFrame, before: pd.DataFrame, after: pd.DataFrame,
                  tower_ids: Sequence[str], server_ids: Sequence[str], *,
                  rules: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """One row per village with its statistics before and after the plan.

    Parameters
    ----------
    villages : geopandas.GeoDataFrame
        Villages (index 0..n-1).
    before, after : pandas.DataFrame
        :func:`~towerplan.analysis.blankspots.village_statistics` before and after; the
        reported and modelled status before come from the columns
        :func:`~towerplan.analysis.evidence.before_state` adds (the model's alone without
        them).
    tower_ids : sequence of str
        Id of each server index before (the existing towers).
    server_ids : sequence of str
        Id of each server index after (existing towers, then the chosen sites).
    rules : numpy.ndarray of str, optional
        How each village's people were placed (:attr:`DemandUnits.population_rule`).
    """
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
    model_only = {"status_model": before["status"], "share_covered_model":
                  before["share_covered"], "status_reported": "unknown", "signal_reported": "",
                  "reported_date": "", "reported_source": "", "status_source": "model",
                  "conflict": False, "committed_year": 0}
    for column, default in model_only.items():
        value = before.get(column, default)
        out[column] = value.to_numpy() if isinstance(value, pd.Series) else value
    out["population_rule"] = (np.asarray(rules).astype(str)
                              if rules is not None and len(rules) == len(out) else "")
    out["population_source"] = (villages["population_source"].astype(str).to_numpy()
                                if "population_source" in villages else "")
    return out
