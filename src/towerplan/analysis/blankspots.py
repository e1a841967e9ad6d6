"""Demand units and per-village blank-spot statistics.

Demand units are the cells of a regular grid (``coverage.demand_cell_m``) whose centres fall in
a village, plus one unit at the representative point of any village too small to hold a cell
centre. Each unit carries the village it belongs to, its share of the village's area and a
weight: people when population data exist, otherwise area in km2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from towerplan.io.rasters import demand_grid

__all__ = [
    "DemandUnits",
    "at_least",
    "build_demand_units",
    "classify",
    "village_statistics",
]

BLANK, PARTIAL, COVERED = "blank", "partial", "covered"
_RANK = {BLANK: 0, PARTIAL: 1, COVERED: 2}


@dataclass(frozen=True, slots=True)
class DemandUnits:
    """Demand units of a region.

    Attributes
    ----------
    x_m, y_m : numpy.ndarray
        Unit positions in the working CRS, m.
    village : numpy.ndarray
        Index of the village (row of the villages table) of each unit.
    area_km2 : numpy.ndarray
        Area each unit stands for, km2 (sums to the village's polygon area).
    weight : numpy.ndarray
        Demand weight: people (``basis == "population"``) or km2 (``"area_km2"``).
    basis : str
        ``"population"`` or ``"area_km2"``.
    basis_note : str
        How the weights were derived, for the report.
    transform : affine.Affine
        Transform of the demand grid.
    shape : tuple of int
        Rows and columns of the demand grid.
    """

    x_m: np.ndarray
    y_m: np.ndarray
    village: np.ndarray
    area_km2: np.ndarray
    weight: np.ndarray
    basis: str
    basis_note: str
    transform: Affine
    shape: tuple[int, int]

    @property
    def xy(self) -> np.ndarray:
        """Positions as an ``(n, 2)`` array, m."""
        return np.column_stack([self.x_m, self.y_m])

    def __len__(self) -> int:
        return len(self.x_m)


def build_demand_units(
    geometries: np.ndarray,
    cell_m: float,
    *,
    village_population: np.ndarray | None = None,
    settlement_xy: np.ndarray | None = None,
    settlement_population: np.ndarray | None = None,
    population_grid: np.ndarray | None = None,
    grid: tuple[Affine, tuple[int, int]] | None = None,
) -> DemandUnits:
    """Build demand units for villages.

    Parameters
    ----------
    geometries : array of shapely geometries
        Village polygons in a metric working CRS.
    cell_m : float
        Demand grid cell size, m.
    village_population : numpy.ndarray, optional
        People per village (NaN = unknown); spread evenly over the village's units when no
        finer source exists.
    settlement_xy, settlement_population : numpy.ndarray, optional
        Settlement points (m) and their people; each settlement's people go to the nearest
        unit of the village that contains it.
    population_grid : numpy.ndarray, optional
        People per demand-grid cell (aligned with ``grid``); takes precedence.
    grid : (Affine, shape), optional
        Demand grid; computed from the geometries' bounds when omitted.
    """
    from rasterio.features import rasterize

    geoms = np.asarray(geometries, dtype=object)
    n_v = len(geoms)
    transform, shape = grid if grid is not None else demand_grid(
        tuple(shapely.total_bounds(geoms)), cell_m)
    labels = rasterize(((g, i) for i, g in enumerate(geoms)), out_shape=shape,
                       transform=transform, fill=-1, dtype="int32")
    rows, cols = np.nonzero(labels >= 0)
    village = labels[rows, cols].astype(np.int64)
    x = transform.c + transform.a * (cols + 0.5)
    y = transform.f + transform.e * (rows + 0.5)
    flat = rows * shape[1] + cols
    missing = np.setdiff1d(np.arange(n_v), village)
    if len(missing):
        pts = shapely.point_on_surface(geoms[missing])
        x = np.concatenate([x, shapely.get_x(pts)])
        y = np.concatenate([y, shapely.get_y(pts)])
        village = np.concatenate([village, missing])
        flat = np.concatenate([flat, np.full(len(missing), -1)])
    areas_km2 = shapely.area(geoms) / 1e6
    n_units = np.bincount(village, minlength=n_v)
    unit_area = areas_km2[village] / n_units[village]

    weight, basis, note = _weights(
        geoms, x, y, village, flat, unit_area, n_units, village_population,
        settlement_xy, settlement_population, population_grid)
    return DemandUnits(x, y, village, unit_area, weight, basis, note, transform, shape)


def _weights(geoms: np.ndarray, x: np.ndarray, y: np.ndarray, village: np.ndarray,
             flat: np.ndarray, unit_area: np.ndarray, n_units: np.ndarray,
             village_population: np.ndarray | None, settlement_xy: np.ndarray | None,
             settlement_population: np.ndarray | None, population_grid: np.ndarray | None
             ) -> tuple[np.ndarray, str, str]:
    if population_grid is not None:
        pop = np.asarray(population_grid, dtype=float).ravel()
        w = np.where(flat >= 0, pop[np.clip(flat, 0, None)], 0.0)
        return np.nan_to_num(w), "population", "population raster summed per demand cell"
    if settlement_xy is not None and settlement_population is not None:
        sp_pop = np.asarray(settlement_population, dtype=float)
        known = np.isfinite(sp_pop) & (sp_pop > 0)
        if known.any():
            w, used = _settlements_to_units(geoms, x, y, village, settlement_xy[known],
                                            sp_pop[known])
            if used:
                outside = int(known.sum()) - used
                note = (f"people of {used} settlement points assigned to the nearest demand "
                        "cell of their village")
                if outside:
                    note += f"; {outside} settlements outside every village ignored"
                return w, "population", note
    if village_population is not None:
        vp = np.asarray(village_population, dtype=float)
        if np.isfinite(vp).all() and (vp > 0).any():
            w = vp[village] / n_units[village]
            return w, "population", "village population spread evenly over the village's area"
    return unit_area.copy(), "area_km2", (
        "no population data: demand is village area (km2), every km2 counts the same")


def _settlements_to_units(geoms: np.ndarray, x: np.ndarray, y: np.ndarray,
                          village: np.ndarray, s_xy: np.ndarray, s_pop: np.ndarray
                          ) -> tuple[np.ndarray, int]:
    """Weights from settlements inside the villages, and how many settlements were used."""
    w = np.zeros(len(x))
    pts = shapely.points(s_xy[:, 0], s_xy[:, 1])
    tree = shapely.STRtree(geoms)
    pt_idx, v_idx = tree.query(pts, predicate="within")
    owner = np.full(len(pts), -1)
    owner[pt_idx] = v_idx
    for k in np.flatnonzero(owner >= 0):
        members = np.flatnonzero(village == owner[k])
        d = np.hypot(x[members] - s_xy[k, 0], y[members] - s_xy[k, 1])
        w[members[int(np.argmin(d))]] += s_pop[k]
    return w, int((owner >= 0).sum())


def classify(share: np.ndarray, blank_below: float, covered_at_least: float) -> np.ndarray:
    """Blank-spot status per share covered: ``blank`` < blank_below <= ``partial`` <
    covered_at_least <= ``covered``."""
    share = np.asarray(share, dtype=float)
    out = np.full(share.shape, PARTIAL, dtype=object)
    out[share < blank_below] = BLANK
    out[share >= covered_at_least] = COVERED
    return out


def at_least(status: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The better of two statuses per village (``blank`` < ``partial`` < ``covered``).

    Adding towers never makes a village worse off than it was before, also where its status
    before came from a signal report rather than from its covered share.

    Examples
    --------
    >>> at_least(np.array(["blank", "covered"]), np.array(["partial", "blank"])).tolist()
    ['partial', 'covered']
    """
    status = np.asarray(status, dtype=object)
    floor = np.asarray(floor, dtype=object)
    better = np.array([_RANK[f] > _RANK[s] for s, f in zip(status, floor, strict=True)],
                      dtype=bool)
    return np.where(better, floor, status).astype(object)


def village_statistics(units: DemandUnits, n_villages: int, covered: np.ndarray,
                       rsrp_dbm: np.ndarray, server: np.ndarray, *, blank_below: float,
                       covered_at_least: float) -> pd.DataFrame:
    """Per-village coverage figures.

    Parameters
    ----------
    units : DemandUnits
        The demand units.
    n_villages : int
        Number of villages.
    covered : numpy.ndarray of bool
        Whether each unit is covered.
    rsrp_dbm : numpy.ndarray
        Best-server RSRP per unit (nan = no server in range).
    server : numpy.ndarray of int
        Index of the best server per unit (-1 = none).
    blank_below, covered_at_least : float
        Status thresholds (shares).

    Returns
    -------
    pandas.DataFrame
        Indexed by village, columns ``demand_total``, ``demand_covered``, ``share_covered``
        (of demand; of area when the village has no demand), ``area_share_covered``,
        ``status``, ``best_server`` (index, -1 = none) and ``median_rsrp_dbm``.
    """
    v = units.village
    cov = np.asarray(covered, dtype=bool)
    dem_total = np.bincount(v, weights=units.weight, minlength=n_villages)
    dem_cov = np.bincount(v, weights=units.weight * cov, minlength=n_villages)
    area_total = np.bincount(v, weights=units.area_km2, minlength=n_villages)
    area_cov = np.bincount(v, weights=units.area_km2 * cov, minlength=n_villages)
    area_share = np.divide(area_cov, area_total, out=np.zeros(n_villages), where=area_total > 0)
    share = np.where(dem_total > 0,
                     np.divide(dem_cov, dem_total, out=np.zeros(n_villages),
                               where=dem_total > 0),
                     area_share)
    frame = pd.DataFrame({"v": v, "rsrp": rsrp_dbm, "server": server,
                          "w": units.weight + units.area_km2 * 1e-9})
    median = frame.groupby("v")["rsrp"].median().reindex(range(n_villages))
    served = frame[frame["server"] >= 0]
    best = (served.groupby(["v", "server"])["w"].sum().reset_index()
            .sort_values(["v", "w"], ascending=[True, False]).drop_duplicates("v")
            .set_index("v")["server"].reindex(range(n_villages)).fillna(-1).astype(int))
    return pd.DataFrame({
        "demand_total": dem_total,
        "demand_covered": dem_cov,
        "share_covered": share,
        "area_share_covered": area_share,
        "status": classify(share, blank_below, covered_at_least),
        "best_server": best.to_numpy(),
        "median_rsrp_dbm": median.to_numpy(),
    })
