"""Cost of each candidate site, in rupiah (DESIGN.md section 5).

A new tower costs the tower itself, an access road per km to the nearest road or settlement,
power (a grid connection per km when the grid is within ``grid_max_km``, else solar with
batteries, plus a fixed part) and a backhaul figure. A co-location on an existing tower costs
only the co-location fee. Per-site overrides replace any of these figures.

The kernels (:func:`site_costs`, :func:`power_costs`) take arrays and numbers; the adapter
(:func:`cost_context`, :func:`apply_overrides`, :func:`cost_summary`) reads the loaded inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from towerplan.columns import COST_PARTS
from towerplan.errors import InputDataError
from towerplan.i18n import SUPPORTED_LANGS, TEXT, bilingual, format_idr, statement, t

if TYPE_CHECKING:
    from towerplan.inputs import LoadedInputs
    from towerplan.scenario import Costs

__all__ = [
    "COST_PARTS",
    "CostContext",
    "access_road_note",
    "anchor_points",
    "apply_overrides",
    "cost_context",
    "cost_scope_text",
    "cost_summary",
    "nearest_km",
    "not_costed",
    "parts_not_costed",
    "with_not_costed",
    "power_costs",
    "site_costs",
]

#: What stands in for the power grid: the power input, town settlements, kelurahan, nothing.
GRID_SOURCES: dict[str, str] = {
    "power": "grid.power",
    "settlements": "grid.settlements",
    "kelurahan": "grid.kelurahan",
    "": "grid.none",
}


def nearest_km(site_xy_m: np.ndarray, targets: Sequence[shapely.Geometry] | np.ndarray
               ) -> np.ndarray:
    """Straight-line distance from each site to the nearest target geometry, km.

    Parameters
    ----------
    site_xy_m : numpy.ndarray
        ``(n, 2)`` site positions in a metric CRS, m.
    targets : array of shapely geometries
        Points, lines or polygons in the same CRS (a line counts along its whole length).

    Returns
    -------
    numpy.ndarray
        ``(n,)`` distances, km; ``inf`` when there is no target.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> line = shapely.LineString([(0, 1000), (5000, 1000)])
    >>> nearest_km(np.array([[2000.0, 4000.0], [9000.0, 4000.0]]), [line]).round(3).tolist()
    [3.0, 5.0]
    """
    xy = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    geoms = np.asarray(targets, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)] if len(geoms) \
        else geoms
    out = np.full(len(xy), np.inf)
    if not len(xy) or not len(geoms):
        return out
    points = shapely.points(xy[:, 0], xy[:, 1])
    idx, dist = shapely.STRtree(geoms).query_nearest(points, return_distance=True,
                                                    all_matches=False)
    out[idx[0]] = dist / 1000.0
    return out


def power_costs(grid_km: np.ndarray, *, grid_idr_per_km: float, grid_max_km: float,
                solar_idr: float, fixed_idr: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Power cost per site: grid connection within *grid_max_km*, else solar.

    Parameters
    ----------
    grid_km : numpy.ndarray
        Distance to the nearest grid point or line, km (``inf`` = no grid known).
    grid_idr_per_km : float
        Grid connection (medium-voltage line) per km, rupiah/km.
    grid_max_km : float
        Farthest grid connection, km; beyond it the site gets solar.
    solar_idr : float
        Solar panels with batteries per site, rupiah.
    fixed_idr : float
        Added to every site (rectifiers, generator set), rupiah.

    Returns
    -------
    cost_idr : numpy.ndarray
        Power cost per site, rupiah.
    source : numpy.ndarray of str
        ``"grid"`` or ``"solar"``.

    Examples
    --------
    >>> import numpy as np
    >>> cost, src = power_costs(np.array([0.0, 5.0, 5.1, np.inf]), grid_idr_per_km=2e8,
    ...                         grid_max_km=5.0, solar_idr=9e8)
    >>> cost.tolist(), src.tolist()
    ([0.0, 1000000000.0, 900000000.0, 900000000.0], ['grid', 'grid', 'solar', 'solar'])
    """
    d = np.asarray(grid_km, dtype=float)
    on_grid = d <= grid_max_km
    cost = np.where(on_grid, np.where(on_grid, d, 0.0) * grid_idr_per_km, solar_idr)
    return cost + float(fixed_idr), np.where(on_grid, "grid", "solar")


def site_costs(site_xy_m: np.ndarray, costs: Costs, *, road_km: np.ndarray | None = None,
               grid_km: np.ndarray | None = None, colocation: np.ndarray | None = None,
               given: pd.DataFrame | None = None,
               remote: np.ndarray | None = None) -> pd.DataFrame:
    """Cost parts and total per site.

    Parameters
    ----------
    site_xy_m : numpy.ndarray
        ``(n, 2)`` site positions in a metric CRS, m.
    costs : towerplan.scenario.Costs
        The cost model (rupiah).
    road_km : numpy.ndarray, optional
        Distance to the nearest road or settlement, km; None or ``inf`` = road not costed.
    grid_km : numpy.ndarray, optional
        Distance to the power grid, km; None = no grid known (solar everywhere).
    colocation : numpy.ndarray of bool, optional
        Sites on an existing tower: only ``colocation_idr``, no tower, road, power or backhaul.
    given : pandas.DataFrame, optional
        Per-site figures replacing the computed ones where finite (columns of
        :data:`COST_PARTS` and ``cost_total_idr``; see :func:`apply_overrides`).
    remote : numpy.ndarray of bool, optional
        Sites that need road and land (away from every settlement): the access road costs
        at least ``remote_road_idr_per_km`` and, beyond ``grid_max_km`` of the grid, power
        at least ``remote_power_idr`` (own solar).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COST_PARTS`, ``cost_total_idr``, ``road_km``, ``grid_km`` and
        ``power_source`` (``grid``/``solar``/``colocation``).

    Examples
    --------
    >>> import numpy as np
    >>> from towerplan.scenario import Costs
    >>> df = site_costs(np.array([[0.0, 0.0], [3000.0, 4000.0]]),
    ...                 Costs(access_road_idr_per_km=1e8), road_km=np.array([0.0, 5.0]))
    >>> df["cost_total_idr"].tolist()
    [1700000000.0, 2200000000.0]
    """
    n = len(site_xy_m)
    coloc = np.zeros(n, bool) if colocation is None else np.asarray(colocation, bool)
    road = np.zeros(n) if road_km is None else np.asarray(road_km, dtype=float)
    grid = np.full(n, np.inf) if grid_km is None else np.asarray(grid_km, dtype=float)
    power, source = power_costs(grid, grid_idr_per_km=costs.grid_idr_per_km,
                                grid_max_km=costs.grid_max_km, solar_idr=costs.solar_idr,
                                fixed_idr=costs.power_idr)
    new = ~coloc
    far = np.zeros(n, bool) if remote is None else np.asarray(remote, bool) & new
    road_rate = np.where(far, max(costs.access_road_idr_per_km, costs.remote_road_idr_per_km),
                         float(costs.access_road_idr_per_km))
    power = np.where(far & (source == "solar"), np.maximum(power, costs.remote_power_idr),
                     power)
    parts = pd.DataFrame({
        "cost_tower_idr": np.where(new, float(costs.tower_idr), 0.0),
        "cost_road_idr": np.where(new & np.isfinite(road),
                                  np.where(np.isfinite(road), road, 0.0), 0.0) * road_rate,
        "cost_power_idr": np.where(new, power, 0.0),
        "cost_backhaul_idr": np.where(new, float(costs.backhaul_idr), 0.0),
        "cost_colocation_idr": np.where(coloc, float(costs.colocation_idr), 0.0),
    })
    parts["cost_total_idr"] = parts[list(COST_PARTS)].sum(axis=1)
    if given is not None:
        parts = _replace(parts, given)
    parts["road_km"] = road
    parts["grid_km"] = grid
    parts["power_source"] = np.where(coloc, "colocation", source)
    return parts


#: Parts a scenario may leave out (every figure that costs them 0), new towers only.
_OPTIONAL_PARTS = ("cost_road_idr", "cost_power_idr", "cost_backhaul_idr")


def not_costed(sites: pd.DataFrame, costs: Costs) -> pd.DataFrame:
    """Which cost cells of *sites* are zero only because the scenario does not cost the part.

    A part is not costed for a new tower (not a co-location) when it is 0 and the scenario
    sets every figure that costs it to 0: the access road per km (road), the power, grid and
    solar figures (power), the fixed backhaul with no backhaul planned for the site
    (backhaul: an empty ``backhaul_technology``). A site that needs road and land still pays
    the remote road and power figures, so its parts are costed.

    Parameters
    ----------
    sites : pandas.DataFrame
        Sites with the columns of :data:`COST_PARTS` (``backhaul_technology`` optional).
    costs : towerplan.scenario.Costs
        The scenario's cost model.

    Returns
    -------
    pandas.DataFrame
        Booleans, same index, one column per optional part (road, power, backhaul).

    Examples
    --------
    >>> from towerplan.scenario import Costs
    >>> sites = pd.DataFrame({"cost_road_idr": [0.0, 4e8], "cost_power_idr": [0.0, 6e8],
    ...                       "cost_backhaul_idr": [0.0, 0.0], "cost_colocation_idr": [0.0, 0.0]})
    >>> not_costed(sites, Costs()).values.tolist()
    [[True, True, True], [False, False, True]]
    """
    rates = {"cost_road_idr": costs.access_road_idr_per_km,
             "cost_power_idr": costs.power_idr + costs.grid_idr_per_km + costs.solar_idr,
             "cost_backhaul_idr": costs.backhaul_idr}
    new = np.ones(len(sites), bool)
    if "cost_colocation_idr" in sites:
        new = sites["cost_colocation_idr"].fillna(0).to_numpy(float) == 0
    out = pd.DataFrame(index=sites.index)
    for part, rate in rates.items():
        zero = sites[part].fillna(0).to_numpy(float) == 0 if part in sites \
            else np.zeros(len(sites), bool)
        out[part] = zero & new & (float(rate) == 0)
    if "backhaul_technology" in sites:
        tech = sites["backhaul_technology"].fillna("").astype(str).str.strip().to_numpy()
        out["cost_backhaul_idr"] &= tech == ""
    return out


def with_not_costed(sites: pd.DataFrame, costs: Costs, lang: str) -> pd.DataFrame:
    """A copy of *sites* with each cost cell the scenario does not cost (see
    :func:`not_costed`) replaced by the words "tidak dihitung" / "not costed" in *lang*, for
    tables people read (never Rp 0)."""
    out = sites.copy()
    missing = not_costed(sites, costs)
    words = t("cost.not_costed", lang)
    for part in missing.columns:
        if part in out:
            out[part] = out[part].astype(object).where(~missing[part].to_numpy(), words)
    return out


def _new_towers(sites: pd.DataFrame) -> np.ndarray:
    """Which sites are new towers (not co-locations)."""
    if "cost_colocation_idr" not in sites:
        return np.ones(len(sites), bool)
    return sites["cost_colocation_idr"].fillna(0).to_numpy(float) == 0


def parts_not_costed(sites: pd.DataFrame, costs: Costs) -> list[str]:
    """Cost parts (road, power, backhaul) not costed for any new tower among *sites*
    (``summary.json`` ``cost_parts_not_costed``); empty when there is no new tower."""
    new = _new_towers(sites)
    if not new.any():
        return []
    missing = not_costed(sites, costs)
    return [p for p in _OPTIONAL_PARTS if missing[p].to_numpy()[new].all()]


def cost_scope_text(sites: pd.DataFrame, costs: Costs, lang: str) -> str:
    """What the cost per new tower includes and what is not costed, in *lang*.

    E.g. ``"Rp 1.700.000.000 per menara: menara saja; jalan akses, listrik, backhaul tidak
    dihitung"``; ``""`` when *sites* has no new tower.
    """
    new = _new_towers(sites)
    if not new.any():
        return ""
    excluded = parts_not_costed(sites, costs)
    included = [p for p in ("cost_tower_idr", *_OPTIONAL_PARTS) if p not in excluded]
    cost = format_idr(float(sites["cost_total_idr"].to_numpy(float)[new].mean()), lang)
    names = ", ".join(t(f"cost.part.{p}", lang) for p in included)
    if not excluded:
        return t("cost.scope_all", lang).format(cost=cost, included=names)
    if len(included) == 1:
        names = f"{names} {t('cost.scope_only', lang)}"
    return t("cost.scope", lang).format(
        cost=cost, included=names,
        excluded=", ".join(t(f"cost.part.{p}", lang) for p in excluded))


def _replace(parts: pd.DataFrame, given: pd.DataFrame) -> pd.DataFrame:
    """Replace parts by the finite values of *given* (same rows); recompute the total."""
    out = parts.copy()
    for name in COST_PARTS:
        if name in given:
            value = given[name].to_numpy(float)
            out[name] = np.where(np.isfinite(value), value, out[name].to_numpy())
    out["cost_total_idr"] = out[list(COST_PARTS)].sum(axis=1)
    if "cost_total_idr" in given:
        total = given["cost_total_idr"].to_numpy(float)
        out["cost_total_idr"] = np.where(np.isfinite(total), total,
                                         out["cost_total_idr"].to_numpy())
    return out


@dataclass(frozen=True, slots=True)
class CostContext:
    """What the cost model measures distances to, in the working CRS.

    Attributes
    ----------
    road_targets : numpy.ndarray of shapely geometries
        Roads and settlements (the access road starts at the nearest).
    road_basis : str
        What ``road_targets`` holds, for the report.
    grid_targets : numpy.ndarray of shapely geometries
        Power grid lines and points, or what stands in for them.
    grid_source : str
        Key of :data:`GRID_SOURCES`.
    overrides : pandas.DataFrame or None
        Per-site costs (``site_id`` and cost columns).
    """

    road_targets: np.ndarray
    road_basis: str
    grid_targets: np.ndarray
    grid_source: str
    overrides: pd.DataFrame | None = None

    def costs(self, site_xy_m: np.ndarray, costs: Costs, *,
              colocation: np.ndarray | None = None,
              given: pd.DataFrame | None = None,
              remote: np.ndarray | None = None) -> pd.DataFrame:
        """:func:`site_costs` of *site_xy_m* with the distances of this context."""
        road = nearest_km(site_xy_m, self.road_targets) if len(self.road_targets) else None
        grid = nearest_km(site_xy_m, self.grid_targets)
        return site_costs(site_xy_m, costs, road_km=road, grid_km=grid,
                          colocation=colocation, given=given, remote=remote)


def anchor_points(settlements: Any, village_geoms: np.ndarray) -> tuple[np.ndarray, int]:
    """Where towers are anchored: every settlement point, and the centre
    (``shapely.point_on_surface``) of every village holding none.

    Parameters
    ----------
    settlements : geopandas.GeoDataFrame or None
        Settlement points in the working CRS.
    village_geoms : numpy.ndarray of shapely geometries
        Village polygons, same CRS.

    Returns
    -------
    points : numpy.ndarray of shapely Points
        Settlements first, then the village centres.
    n_centres : int
        How many of them are village centres.
    """
    geoms = shapely.make_valid(np.asarray(village_geoms, dtype=object))
    points = settlements.geometry.to_numpy() if settlements is not None and len(settlements) \
        else np.empty(0, dtype=object)
    holds = np.zeros(len(geoms), bool)
    if len(points) and len(geoms):
        holds[np.unique(shapely.STRtree(geoms).query(points, predicate="intersects")[1])] = True
    centres = shapely.point_on_surface(geoms[~holds])
    return np.concatenate([points, centres]).astype(object), len(centres)


def cost_context(data: LoadedInputs, villages: Any) -> CostContext:
    """Roads, settlements, power grid (or its stand-in) and overrides of the loaded inputs.

    Without power data, settlements of kind town/kota stand in for the grid; without those,
    the centres of kelurahan (urban villages). Without roads, the access road runs from the
    nearest settlement or the centre of a village holding no settlement (straight line,
    :func:`anchor_points`).
    """
    siting = data.siting
    road_parts: list[np.ndarray] = []
    basis = []
    if siting is not None and siting.roads is not None and len(siting.roads):
        road_parts.append(siting.roads.geometry.to_numpy())
        basis.append("roads")
    anchors, centres = anchor_points(data.settlements, villages.geometry.to_numpy())
    road_parts.append(anchors)
    basis.append(" or ".join(
        (["settlements"] if len(anchors) > centres else []) + (["village centres"] if centres
                                                             else [])) or "none")
    road = np.concatenate(road_parts)
    source = siting.power_source if siting is not None else ""
    if source and siting is not None and siting.power is not None:
        grid = siting.power.geometry.to_numpy()
    else:
        towns = villages["kind"].astype(str).to_numpy() == "kelurahan"
        grid = shapely.point_on_surface(villages.geometry.to_numpy()[towns])
        source = "kelurahan" if towns.any() else ""
    return CostContext(road, " and ".join(basis) or "none", np.asarray(grid, dtype=object),
                       source, siting.overrides if siting is not None else None)


def apply_overrides(frame: pd.DataFrame, overrides: pd.DataFrame | None
                    ) -> tuple[pd.DataFrame, int]:
    """Replace the costs of the sites named in *overrides* (by ``site_id``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Sites with ``site_id``, :data:`COST_PARTS` and ``cost_total_idr``.
    overrides : pandas.DataFrame or None
        ``site_id`` and any cost columns; nan keeps the computed value, a given part changes
        the total, a given ``cost_total_idr`` replaces it.

    Returns
    -------
    frame : pandas.DataFrame
        A copy with the overridden costs.
    applied : int
        Number of sites overridden.

    Raises
    ------
    InputDataError
        Naming the override ids that are not site ids.
    """
    if overrides is None or not len(overrides):
        return frame, 0

    index = {sid: k for k, sid in enumerate(frame["site_id"].astype(str))}
    unknown = [s for s in overrides["site_id"].astype(str) if s not in index]
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5
                                          else "")
        msg = (f"cost overrides name unknown site ids: {shown}; see candidates.csv of "
               "'towerplan candidates' for valid ids")
        raise InputDataError(msg, problems=(msg,))
    rows = np.array([index[s] for s in overrides["site_id"].astype(str)], dtype=int)
    columns = [*COST_PARTS, "cost_total_idr"]
    given = pd.DataFrame(np.nan, index=range(len(frame)), columns=columns)
    for name in columns:
        if name in overrides:
            given.loc[rows, name] = overrides[name].to_numpy(float)
    out = frame.copy()
    replaced = _replace(out[columns].reset_index(drop=True), given)
    for name in columns:
        out[name] = replaced[name].to_numpy()
    return out, len(rows)


def cost_summary(costs: Costs, ctx: CostContext, sites: pd.DataFrame) -> dict[str, Any]:
    """The cost assumptions of a run, as flat summary.json entries.

    Parameters
    ----------
    costs : towerplan.scenario.Costs
        The cost model.
    ctx : CostContext
        What distances were measured to.
    sites : pandas.DataFrame
        Candidates with ``origin`` and, when computed, ``power_source`` and
        ``cost_overridden``.
    """
    origin = sites["origin"].astype(str) if "origin" in sites else pd.Series(dtype=str)
    src = sites["power_source"].astype(str) if "power_source" in sites \
        else pd.Series(dtype=str)
    return {
        "cost_model": cost_model_text(costs, ctx),
        "colocation_cost_idr": float(costs.colocation_idr),
        "access_road_idr_per_km": float(costs.access_road_idr_per_km),
        "access_road_from": ctx.road_basis,
        "access_road_note": access_road_note(ctx),
        "remote_road_idr_per_km": float(costs.remote_road_idr_per_km),
        "remote_power_idr": float(costs.remote_power_idr),
        "grid_idr_per_km": float(costs.grid_idr_per_km),
        "grid_max_km": float(costs.grid_max_km),
        "solar_idr": float(costs.solar_idr),
        "power_grid_basis": ctx.grid_source or "none",
        "power_grid_basis_note": bilingual(GRID_SOURCES[ctx.grid_source]),
        "candidates_on_grid": int((src == "grid").sum()),
        "candidates_on_solar": int((src == "solar").sum()),
        "candidates_colocation": int((origin == "colocation").sum()),
        "candidates_land_status": {
            str(k): int(v) for k, v in sites["land_status"].astype(str).value_counts()
            .sort_index().items()} if "land_status" in sites else {},
        "cost_overrides_applied": int(sites["cost_overridden"].sum())
        if "cost_overridden" in sites else 0,
    }


def access_road_note(ctx: CostContext) -> str:
    """What the access road length is measured to, stated in both languages."""
    if ctx.road_basis.startswith("roads"):
        return bilingual("siting.road_layer")
    keys = [f"siting.basis.{b}" for b in ctx.road_basis.split(" or ") if b != "none"]
    return " / ".join(t("siting.road_proxy", lang).format(
        basis=t("siting.or", lang).join(t(k, lang) for k in keys)) for lang in SUPPORTED_LANGS)


def cost_model_text(costs: Costs, ctx: CostContext) -> str:
    """One-line statement of the cost model in both languages, e.g. for summary.json."""
    def idr(value: float) -> Callable[[str], str]:
        return lambda lang: format_idr(value, lang)

    def basis(lang: str) -> str:
        return t("siting.or", lang).join(
            t(f"siting.basis.{b}", lang) if f"siting.basis.{b}" in TEXT else b
            for b in ctx.road_basis.split(" or "))

    road = (("cost.road", {"idr": idr(costs.access_road_idr_per_km), "basis": basis})
            if costs.access_road_idr_per_km and ctx.road_basis != "none"
            else ("cost.road_none", {}))
    source = GRID_SOURCES[ctx.grid_source]
    power = ("cost.power", {"grid": idr(costs.grid_idr_per_km), "km": costs.grid_max_km,
                            "source": lambda lang: t(source, lang).split(" (")[0],
                            "solar": idr(costs.solar_idr), "power": idr(costs.power_idr)})
    remote = ("cost.remote", {"road": idr(costs.remote_road_idr_per_km),
                              "power": idr(costs.remote_power_idr)})
    return statement(("cost.tower", {"idr": idr(costs.tower_idr)}), road, remote, power,
                     ("cost.backhaul", {"idr": idr(costs.backhaul_idr)}),
                     ("cost.colocation", {"idr": idr(costs.colocation_idr)}))
