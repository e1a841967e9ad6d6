"""Committed towers and the technology of existing towers in a plan.

Rules (documented in docs/scenario.md):

* Committed towers on air by the plan year (``[scenario] year``) are existing towers today,
  with their technology.
* Committed towers of a later year are not counted as serving anyone today, but the plan
  treats them as built: the people they will serve at the target count as served for the
  selection (no candidate gains them) and no candidate stands within
  ``[candidates] committed_distance_m`` of any committed tower. A village where they will
  serve at least ``blank_below`` of the demand no tower on air serves carries the earliest
  such year in ``committed_year``.
* With ``[coverage] target = "4g"`` only 4G and 5G towers, and towers of unknown technology
  (assumed to serve the target; the outputs count them), cover at the target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from towerplan.io.towers import TECHNOLOGIES

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.blankspots import DemandUnits

__all__ = ["committed_summary", "committed_year", "near_committed", "technology_summary"]


def committed_year(units: DemandUnits, n_villages: int, covered: np.ndarray,
                   server: np.ndarray, years: np.ndarray, *, at_least: float) -> np.ndarray:
    """Per village, the earliest on-air year of the later committed towers that will serve
    it, 0 where they serve less than *at_least* of its demand (of its area without demand).

    Parameters
    ----------
    units : DemandUnits
        The demand units.
    n_villages : int
        Number of villages.
    covered : numpy.ndarray of bool
        Units the later committed towers serve at the target (and no tower on air does).
    server : numpy.ndarray of int
        Serving committed tower of each unit (index into *years*, -1 = none).
    years : numpy.ndarray of int
        On-air year of each committed tower.
    at_least : float
        Share of a village's demand the committed towers must serve (``blank_below``).
    """
    v = units.village
    cov = np.asarray(covered, dtype=bool)
    demand = np.bincount(v, weights=units.weight, minlength=n_villages)
    area = np.bincount(v, weights=units.area_km2, minlength=n_villages)
    share = np.where(
        demand > 0,
        np.divide(np.bincount(v, weights=units.weight * cov, minlength=n_villages), demand,
                  out=np.zeros(n_villages), where=demand > 0),
        np.divide(np.bincount(v, weights=units.area_km2 * cov, minlength=n_villages), area,
                  out=np.zeros(n_villages), where=area > 0))
    out = np.zeros(n_villages, dtype=np.int64)
    if not cov.any():
        return out
    unit_year = pd.Series(np.asarray(years)[np.asarray(server)[cov]], index=v[cov])
    first = unit_year.groupby(level=0).min()
    out[first.index.to_numpy()] = first.to_numpy()
    return np.where((share >= at_least) & (share > 0), out, 0)


def near_committed(xy_m: np.ndarray, committed_xy_m: np.ndarray, distance_m: float
                   ) -> np.ndarray:
    """Which points lie within *distance_m* of a committed tower (bool per point)."""
    points = np.asarray(xy_m, float).reshape(-1, 2)
    towers = np.asarray(committed_xy_m, float).reshape(-1, 2)
    if not len(points) or not len(towers):
        return np.zeros(len(points), dtype=bool)
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(towers).query(points)
    return np.asarray(dist <= distance_m)


def technology_summary(towers: gpd.GeoDataFrame, target: str) -> dict[str, Any]:
    """The ``existing_technology`` entry of summary.json: towers by technology, how many
    serve the target and how many of unknown technology were assumed to."""
    tech = towers["technology"].astype(str) if "technology" in towers else \
        pd.Series(["unknown"] * len(towers))
    counts = {t: int((tech == t).sum()) for t in TECHNOLOGIES}
    serving = len(towers) if target == "signal" else \
        counts["4g"] + counts["5g"] + counts["unknown"]
    return {"target": target, "towers": len(towers), "by_technology": counts,
            "serving_target": serving, "unknown_assumed_serving": counts["unknown"]}


def committed_summary(committed: gpd.GeoDataFrame | None, file: str, plan_year: int,
                      distance_m: float) -> dict[str, Any]:
    """The ``committed_towers`` entry of summary.json."""
    if committed is None:
        return {"file": "", "plan_year": plan_year, "count": 0, "on_air_by_year": 0,
                "future": 0}
    years = committed["on_air_year"].to_numpy(np.int64)
    return {"file": file, "plan_year": plan_year, "count": len(committed),
            "on_air_by_year": int((years <= plan_year).sum()),
            "future": int((years > plan_year).sum()),
            "future_years": sorted({int(y) for y in years[years > plan_year]}),
            "distance_m": distance_m}
