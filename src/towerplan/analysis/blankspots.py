"""Demand units and per-village blank-spot statistics.

Demand units are the cells of a regular grid (``coverage.demand_cell_m``) whose centres fall in
a village, plus one unit at the representative point of any village too small to hold a cell
centre. Each unit carries the village it belongs to, its share of the village's area and a
weight: people when population data exist, otherwise area in km2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely
from affine import Affine

from towerplan.i18n import format_number, join_statements, statement
from towerplan.i18n import t as label
from towerplan.io.rasters import demand_grid

__all__ = [
    "POPULATION_RULES",
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
    population_rule : numpy.ndarray of str
        How each village's people were placed (``raster``, ``buildings``, ``settlements``,
        ``office``, ``centroid`` or ``area``; see :func:`build_demand_units`).
    facility_weight : numpy.ndarray
        People-equivalents public facilities add at each unit (included in ``weight``).
    facility_count : numpy.ndarray
        Public facilities placed at each unit.
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
    population_rule: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    facility_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))
    facility_count: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def xy(self) -> np.ndarray:
        """Positions as an ``(n, 2)`` array, m."""
        return np.column_stack([self.x_m, self.y_m])

    def __len__(self) -> int:
        return len(self.x_m)

    def rule_counts(self) -> dict[str, dict[str, float]]:
        """Villages and people (without facilities) per placement rule, in rule order."""
        people = np.bincount(self.village, weights=self.weight - self._facility(),
                             minlength=len(self.population_rule))
        return {r: {"villages": int((self.population_rule == r).sum()),
                    "people": round(float(people[self.population_rule == r].sum()), 1)}
                for r in POPULATION_RULES if (self.population_rule == r).any()}

    def _facility(self) -> np.ndarray:
        return self.facility_weight if len(self.facility_weight) == len(self.x_m) \
            else np.zeros(len(self.x_m))


def build_demand_units(
    geometries: np.ndarray,
    cell_m: float,
    *,
    village_population: np.ndarray | None = None,
    settlement_xy: np.ndarray | None = None,
    settlement_population: np.ndarray | None = None,
    population_grid: np.ndarray | None = None,
    grid: tuple[Affine, tuple[int, int]] | None = None,
    building_grid: np.ndarray | None = None,
    office_xy: np.ndarray | None = None,
    facility_xy: np.ndarray | None = None,
    facility_weight: np.ndarray | None = None,
) -> DemandUnits:
    """Build demand units for villages and place each village's people on them.

    Each village takes the first rule it has the data for (``population_rule``):

    1. ``raster``: the population raster's cells in the village, scaled so that they sum to
       the village's total when the total is known (a raster without people in a village
       whose total is known passes it on to the next rule);
    2. ``buildings``: building footprint area per cell, scaled to the village's total (needs
       the total);
    3. ``settlements``: settlement points inside the village, each on the nearest unit; the
       total is split by their population when every one is known, else equally; without a
       total, their known populations are used as they are;
    4. ``office``: the whole total on the unit nearest the village office point;
    5. ``centroid``: the whole total on the unit nearest the village's representative point
       (:func:`shapely.point_on_surface`);
    6. ``area``: last, for a village without a total that no rule above places: the mean
       density of the villages placed by another rule, spread evenly over its units, when
       other villages have totals; else no people. When no village has people, demand is
       area (``basis == "area_km2"``).

    Parameters
    ----------
    geometries : array of shapely geometries
        Village polygons in a metric working CRS.
    cell_m : float
        Demand grid cell size, m.
    village_population : numpy.ndarray, optional
        Official people per village (``nan`` = unknown).
    settlement_xy, settlement_population : numpy.ndarray, optional
        Settlement points (m) and their people (``nan`` = unknown).
    population_grid : numpy.ndarray, optional
        People per demand-grid cell (aligned with ``grid``).
    grid : (Affine, shape), optional
        Demand grid; computed from the geometries' bounds when omitted.
    building_grid : numpy.ndarray, optional
        Building footprint area (or count) per demand-grid cell (aligned with ``grid``).
    office_xy : numpy.ndarray, optional
        Village office points (m), ``(n, 2)``; the first inside a village is its office.
    facility_xy, facility_weight : numpy.ndarray, optional
        Public facilities (m) and their people-equivalents: each adds its weight at the
        nearest unit of the village that contains it (people basis only).
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

    place = _Placement(geoms, x, y, village, unit_area)
    totals = (np.full(n_v, np.nan) if village_population is None
              else np.asarray(village_population, dtype=float))
    weight, rule, notes = place.people(
        totals, _on_units(population_grid, flat), _on_units(building_grid, flat),
        settlement_xy, settlement_population, office_xy)
    basis = "population" if (rule != AREA).any() or np.isfinite(totals).any() else "area_km2"
    if basis == "area_km2":
        weight = unit_area.copy()
        notes = [statement(("demand.area", {}))]
    facility = np.zeros(len(x))
    count = np.zeros(len(x))
    if facility_xy is not None and len(facility_xy) and basis == "population":
        w_f = np.asarray(facility_weight, dtype=float)
        facility, used = place.points_to_units(facility_xy, w_f)
        count, _ = place.points_to_units(facility_xy, np.ones(len(w_f)))
        weight = weight + facility
        notes.append(statement(("demand.facilities",
                                {"n": used, "people": round(float(facility.sum()))})))
    return DemandUnits(x, y, village, unit_area, weight, basis, join_statements(*notes),
                       transform,
                       shape, population_rule=rule, facility_weight=facility,
                       facility_count=count)


RASTER, BUILDINGS, SETTLEMENTS, OFFICE, CENTROID, AREA = (
    "raster", "buildings", "settlements", "office", "centroid", "area")
#: The placement rules in the order they are tried.
POPULATION_RULES: tuple[str, ...] = (RASTER, BUILDINGS, SETTLEMENTS, OFFICE, CENTROID, AREA)


def _on_units(cells: np.ndarray | None, flat: np.ndarray) -> np.ndarray | None:
    """Values of a demand-grid array at each unit (0 for units off the grid, nan -> 0)."""
    if cells is None:
        return None
    values = np.asarray(cells, dtype=float).ravel()
    return np.nan_to_num(np.where(flat >= 0, values[np.clip(flat, 0, None)], 0.0))


class _Placement:
    """Puts each village's people on its demand units (see :func:`build_demand_units`)."""

    def __init__(self, geoms: np.ndarray, x: np.ndarray, y: np.ndarray, village: np.ndarray,
                 unit_area: np.ndarray) -> None:
        self.geoms, self.x, self.y, self.village = geoms, x, y, village
        self.unit_area = unit_area
        order = np.argsort(village, kind="stable")
        bounds = np.searchsorted(village[order], np.arange(len(geoms) + 1))
        self.members = [order[bounds[v]:bounds[v + 1]] for v in range(len(geoms))]
        self.tree = shapely.STRtree(geoms)

    def owner(self, xy: np.ndarray) -> np.ndarray:
        """Village containing each point (-1 = none)."""
        pts = shapely.points(xy[:, 0], xy[:, 1])
        pt_idx, v_idx = self.tree.query(pts, predicate="within")
        out = np.full(len(pts), -1)
        out[pt_idx] = v_idx
        return out

    def nearest(self, v: int, px: float, py: float) -> int:
        """Index of the unit of village *v* nearest to a point."""
        m = self.members[v]
        return int(m[int(np.argmin(np.hypot(self.x[m] - px, self.y[m] - py)))])

    def points_to_units(self, xy: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, int]:
        """Each point's amount on the nearest unit of its village; points used."""
        w = np.zeros(len(self.x))
        owner = self.owner(np.asarray(xy, dtype=float))
        for k in np.flatnonzero(owner >= 0):
            w[self.nearest(int(owner[k]), xy[k, 0], xy[k, 1])] += amount[k]
        return w, int((owner >= 0).sum())

    def people(self, totals: np.ndarray, raster: np.ndarray | None,
               buildings: np.ndarray | None, s_xy: np.ndarray | None,
               s_pop: np.ndarray | None, office_xy: np.ndarray | None
               ) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Weights per unit, the rule per village and notes."""
        n_v = len(self.geoms)
        w = np.zeros(len(self.x))
        rule = np.full(n_v, AREA, dtype=object)
        notes: list[str] = []
        by_village: list[list[int]] = [[] for _ in range(n_v)]
        pops = np.zeros(0)
        if s_xy is not None and len(s_xy):
            s_xy = np.asarray(s_xy, dtype=float)
            pops = (np.full(len(s_xy), np.nan) if s_pop is None
                    else np.asarray(s_pop, dtype=float))
            s_owner = self.owner(s_xy)
            for k in np.flatnonzero(s_owner >= 0):
                by_village[int(s_owner[k])].append(int(k))
            if outside := int((s_owner < 0).sum()):
                notes.append(statement(("demand.outside", {"n": outside})))
        office = np.full(n_v, -1)
        if office_xy is not None and len(office_xy):
            office_xy = np.asarray(office_xy, dtype=float)
            o_owner = self.owner(office_xy)
            for k in np.flatnonzero(o_owner >= 0)[::-1]:
                office[o_owner[k]] = k
        rep = shapely.point_on_surface(self.geoms)
        rep_x, rep_y = shapely.get_x(rep), shapely.get_y(rep)
        for v in range(n_v):
            m, t = self.members[v], totals[v]
            known = bool(np.isfinite(t))
            if raster is not None and ((r := raster[m]).sum() > 0 or not known):
                w[m] = r * (t / r.sum()) if known else r
                rule[v] = RASTER
            elif buildings is not None and known and (b := buildings[m]).sum() > 0:
                w[m] = b * (t / b.sum())
                rule[v] = BUILDINGS
            elif by_village[v] and (known or np.nansum(pops[by_village[v]]) > 0):
                ks = np.array(by_village[v])
                p = pops[ks]
                if known:
                    good = np.isfinite(p) & (p > 0)
                    amounts = t * (p / p.sum() if good.all() else np.full(len(ks), 1 / len(ks)))
                else:
                    amounts = np.nan_to_num(p)
                for k, a in zip(ks, amounts, strict=True):
                    w[self.nearest(v, s_xy[k, 0], s_xy[k, 1])] += a  # type: ignore[index]
                rule[v] = SETTLEMENTS
            elif known and office[v] >= 0:
                ox, oy = office_xy[office[v]]  # type: ignore[index]
                w[self.nearest(v, ox, oy)] += t
                rule[v] = OFFICE
            elif known:
                w[self.nearest(v, rep_x[v], rep_y[v])] += t
                rule[v] = CENTROID
        unplaced = [v for v in range(n_v) if rule[v] == AREA]
        placed_area = sum(float(self.unit_area[self.members[v]].sum())
                          for v in range(n_v) if rule[v] != AREA)
        # a mean density only where other villages have official totals; without any total,
        # a village no settlement or raster cell puts people in has none
        density = w.sum() / placed_area if placed_area > 0 and np.isfinite(totals).any() \
            else 0.0
        for v in unplaced:
            m = self.members[v]
            w[m] = density * self.unit_area[m]
        if unplaced and density > 0:
            notes.append(statement(("demand.mean_density",
                                    {"n": len(unplaced), "density": round(density, 1)})))
        counts = {r: int((rule == r).sum()) for r in POPULATION_RULES if (rule == r).any()}
        notes.insert(0, statement(("demand.placed", {"counts": lambda lang: ", ".join(
            f"{label('rule.' + r, lang)} {format_number(n, lang)}" for r, n in counts.items())})))
        return w, rule, notes


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
