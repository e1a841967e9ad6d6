"""A tiny but complete :class:`PlanResult`, generated from scratch for the output writers.

Four 3 km square villages in EPSG:32750 (UTM 50S) near 116 E, 1.7 S, a 40 x 40 DEM with a hill,
RSRP grids before/after, 2 existing towers, 5 candidates and 2 selected sites. Some names are
hostile on purpose (HTML, a JavaScript template literal, spreadsheet formulas).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry import Point, box

from towerplan.columns import SUMMARY_KEYS
from towerplan.io.rasters import RasterGrid
from towerplan.results import PlanResult, Provenance
from towerplan.scenario import Scenario

WORKING_CRS = CRS.from_epsg(32750)
HOSTILE_NAME = '<script>alert("x")</script> & "Desa"'
TEMPLATE_NAME = "Desa `${alert(1)}`"
FORMULA_NAME = "=1+2 Belimbing"
REPORT_SOURCE = "Tribun <b>Kaltim</b> & co"
FORMULA_OPERATOR = "=cmd|' /C calc'!A0"
VILLAGE_NAMES = ("Muara Toyu", HOSTILE_NAME, FORMULA_NAME, TEMPLATE_NAME)
SIZE_M = 3000.0
CELL_M = 200.0
SHAPE = (40, 40)


def origin_xy() -> tuple[float, float]:
    """UTM 50S coordinates of 116 E, 1.7 S (south-west corner of the villages)."""
    to_utm = Transformer.from_crs(4326, WORKING_CRS, always_xy=True)
    x, y = to_utm.transform(116.0, -1.7)
    return round(x, -2), round(y, -2)


def make_grid(values: np.ndarray) -> RasterGrid:
    """Wrap *values* in the fixture's 40 x 40 grid (200 m cells, 1 km margin around villages)."""
    x0, y0 = origin_xy()
    west, north = x0 - 1000.0, y0 + 2 * SIZE_M + 1000.0
    return RasterGrid(np.asarray(values), Affine(CELL_M, 0, west, 0, -CELL_M, north), WORKING_CRS)


def _cell_centres() -> tuple[np.ndarray, np.ndarray]:
    grid = make_grid(np.zeros(SHAPE))
    x, y = grid.xy()
    return np.meshgrid(x, y)


def make_dem() -> RasterGrid:
    """A hill in the north-east, a ridge and a gentle slope; two nodata cells."""
    xx, yy = _cell_centres()
    x0, y0 = origin_xy()
    hill = 420.0 * np.exp(-((xx - x0 - 4500) ** 2 + (yy - y0 - 4200) ** 2) / (2 * 1200.0**2))
    ridge = 120.0 * np.exp(-((xx - x0 - 1500) ** 2) / (2 * 600.0**2))
    z = 40.0 + hill + ridge + 0.01 * (xx - x0)
    z[0, 0] = np.nan
    z[5, 7] = np.nan
    return make_grid(z)


def _rsrp(sites: list[tuple[float, float]]) -> RasterGrid:
    """Best-server RSRP (dBm) of *sites* (x, y) with a simple log-distance law; nan beyond 5 km."""
    xx, yy = _cell_centres()
    best = np.full(SHAPE, -np.inf)
    for sx, sy in sites:
        d = np.maximum(np.hypot(xx - sx, yy - sy), 100.0)
        best = np.maximum(best, -62.0 - 35.0 * np.log10(d / 100.0))
    dist = np.min([np.hypot(xx - sx, yy - sy) for sx, sy in sites], axis=0)
    return make_grid(np.where(dist <= 5000.0, best, np.nan))


def _points(xy: list[tuple[float, float]]) -> tuple[list[Point], list[float], list[float]]:
    to_ll = Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)
    lon, lat = to_ll.transform([p[0] for p in xy], [p[1] for p in xy])
    return [Point(p) for p in xy], list(lon), list(lat)


def _villages() -> gpd.GeoDataFrame:
    x0, y0 = origin_xy()
    cells = [(0, 0), (1, 0), (0, 1), (1, 1)]
    geoms = [box(x0 + i * SIZE_M, y0 + j * SIZE_M, x0 + (i + 1) * SIZE_M, y0 + (j + 1) * SIZE_M)
             for i, j in cells]
    demand = [1200.0, 850.0, 430.0, 2100.0]
    share_before = [0.95, 0.40, 0.05, 0.0]
    share_after = [0.97, 0.92, 0.55, 0.93]

    def status(share: float) -> str:
        return "blank" if share < 0.10 else ("covered" if share >= 0.90 else "partial")

    return gpd.GeoDataFrame({
        "code": ["64.01.07.2001", "64.01.07.2002", "64.01.08.2001", "64.01.08.2002"],
        "name": list(VILLAGE_NAMES),
        "district_code": ["64.01.07", "64.01.07", "64.01.08", "64.01.08"],
        "district": ["Muara Komam", "Muara Komam", "Batu Sopang", "Batu Sopang"],
        "kind": ["desa", "desa", "desa", "kelurahan"],
        "area_km2": [9.0] * 4,
        "demand_total": demand,
        "demand_covered_before": [d * s for d, s in zip(demand, share_before, strict=True)],
        "demand_covered_after": [d * s for d, s in zip(demand, share_after, strict=True)],
        "share_covered_before": share_before,
        "share_covered_after": share_after,
        "area_share_covered_before": share_before,
        "area_share_covered_after": share_after,
        "status_before": [status(s) for s in share_before],
        "status_after": [status(s) for s in share_after],
        "best_server_before": ["T1", "T1", "T2", ""],
        "median_rsrp_before_dbm": [-80.5, -101.2, -110.3, math.nan],
        "best_server_after": ["T1", "C002", "C004", "C004"],
        "median_rsrp_after_dbm": [-80.5, -90.1, -99.0, -85.3],
        "status_model": [status(s) for s in share_before],
        "share_covered_model": share_before,
        "status_reported": ["unknown", "unknown", "blank", "unknown"],
        "signal_reported": ["", "", "none", ""],
        "reported_date": ["", "", "2021-09-28", ""],
        "reported_source": ["", "", REPORT_SOURCE, ""],
        "status_source": ["model", "model", f"report: {REPORT_SOURCE} 2021-09-28", "model"],
        "conflict": [False] * 4,
        "population_rule": ["settlements", "settlements", "centroid", "area"],
        "population_source": ["village_population", "village_population", "villages", ""],
        "committed_year": [0] * 4,
        "why_not_site": [""] * 4,
        "why_not_cost_per_person_idr": [math.nan] * 4,
        "why_not_extra_budget_idr": [math.nan] * 4,
        "why_not_reason": [""] * 4,
    }, geometry=geoms, crs=WORKING_CRS)


def _existing() -> gpd.GeoDataFrame:
    x0, y0 = origin_xy()
    geoms, lon, lat = _points([(x0 + 500, y0 + 700), (x0 + 900, y0 + 4000)])
    return gpd.GeoDataFrame({
        "tower_id": ["T1", "T2"], "lon": lon, "lat": lat, "height_m": [42.0, 32.0],
        "operator": ["Telkomsel", FORMULA_OPERATOR], "radio": ["LTE", "GSM"],
        "technology": ["4g", "2g"], "cells": [3, 1],
    }, geometry=geoms, crs=WORKING_CRS)


_COST = 1_700_000_000.0


def _candidates() -> gpd.GeoDataFrame:
    x0, y0 = origin_xy()
    xy = [(x0 + 1500, y0 + 4500), (x0 + 4500, y0 + 1500), (x0 + 2900, y0 + 3100),
          (x0 + 4500, y0 + 4200), (x0 + 5200, y0 + 5600)]
    geoms, lon, lat = _points(xy)
    road = [0.0, 120_000_000.0, 0.0, 250_000_000.0, 40_000_000.0]
    return gpd.GeoDataFrame({
        "site_id": [f"C{i:03d}" for i in range(1, 6)], "lon": lon, "lat": lat,
        "origin": ["grid", "hilltop", "settlement", "hilltop", "user"],
        "land_status": ["in_settlement", "needs_road_land", "in_settlement",
                        "needs_road_land", "user"],
        "village_code": ["64.01.08.2001", "64.01.07.2002", "64.01.08.2001", "64.01.08.2002",
                         "64.01.08.2002"],
        "village": [FORMULA_NAME, HOSTILE_NAME, FORMULA_NAME, TEMPLATE_NAME, TEMPLATE_NAME],
        "district": ["Batu Sopang", "Muara Komam", "Batu Sopang", "Batu Sopang", "Batu Sopang"],
        "elevation_m": [160.0, 95.0, 210.0, 455.0, 120.0], "height_m": [42.0] * 5,
        "cost_tower_idr": [_COST] * 5, "cost_road_idr": road, "cost_power_idr": [0.0] * 5,
        "cost_backhaul_idr": [0.0] * 5, "cost_colocation_idr": [0.0] * 5,
        "cost_total_idr": [_COST + r for r in road],
        "demand_alone": [300.0, 420.5, 380.0, 2200.25, 150.0],
        "selected": [False, True, False, True, False],
    }, geometry=geoms, crs=WORKING_CRS)


def _selected(candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    picked = candidates.set_index("site_id").loc[["C004", "C002"]].reset_index()
    cumulative_cost = picked["cost_total_idr"].cumsum()
    new_demand = [2163.4, 442.0]
    return gpd.GeoDataFrame({
        "rank": [1, 2], "site_id": picked["site_id"], "lon": picked["lon"], "lat": picked["lat"],
        "land_status": picked["land_status"],
        "village_code": picked["village_code"], "village": picked["village"],
        "district": picked["district"], "elevation_m": picked["elevation_m"],
        **{c: picked[c] for c in ("cost_tower_idr", "cost_road_idr", "cost_power_idr",
                                  "cost_backhaul_idr", "cost_colocation_idr", "cost_total_idr")},
        "cumulative_cost_idr": cumulative_cost,
        "new_demand": new_demand, "cumulative_demand": np.cumsum(new_demand),
        "villages_lifted": [1, 1],
        "villages_lifted_names": [TEMPLATE_NAME, FORMULA_NAME],
        "new_median_rsrp_dbm": [-88.4, -95.1],
        "new_area_median_rsrp_dbm": [-97.2, -99.0],
        "new_area_km2": [4.75, 2.5],
        # the backhaul stage did not run (no points of presence): empty per-site columns
        "backhaul_technology": ["", ""], "backhaul_hops": [0, 0],
        "backhaul_worst_clearance": [float("nan"), float("nan")],
    }, geometry=picked.geometry.values, crs=WORKING_CRS)


def make_plan_result(*, synthetic: bool = True, n_selected: int = 2) -> PlanResult:
    """Return the tiny plan; *n_selected* (0..2) trims the selected sites."""
    scenario = Scenario.default()
    x0, y0 = origin_xy()
    existing_xy = [(x0 + 500, y0 + 700), (x0 + 900, y0 + 4000)]
    candidates = _candidates()
    selected = _selected(candidates).iloc[:n_selected].copy()
    selected_xy = [(p.x, p.y) for p in selected.geometry]
    villages = _villages()
    provenance = Provenance(
        version="0.1.0",
        scenario_hash=scenario.content_hash(),
        model_chain="hata-suburban (Okumura-Hata, no terrain), 900 MHz, EIRP 61 dBm, "
                    "RSRP >= -105 dBm",
        solver="milp (HiGHS)",
        synthetic=synthetic,
        data_sources=("Synthetic demo terrain, villages and towers generated by towerplan (CC0)",
                      "Tower positions <synthetic> & demo"),
        demand_basis="population",
        created_utc="2024-05-01T08:00:00Z",
    )
    spent = float(selected["cost_total_idr"].sum())
    summary: dict[str, object] = {key: None for key in SUMMARY_KEYS}
    summary.update({
        "scenario": scenario.scenario.name, "title": scenario.scenario.title,
        "synthetic": synthetic, "budget_idr": scenario.budget.total_idr, "spent_idr": spent,
        "towers_selected": len(selected), "villages_total": 4,
        "blank_villages_before": 2, "blank_villages_after": 0,
        "partial_villages_before": 1, "partial_villages_after": 1,
        "covered_villages_before": 1, "covered_villages_after": 3,
        "demand_total": 4580.0, "demand_basis": "population",
        "demand_covered_before": 1513.5, "demand_covered_after": 4118.9,
        "solver": provenance.solver, "optimality_gap": math.nan,
        "objective": 2605.4, "greedy_objective": 2605.4,
        "model_chain": provenance.model_chain, "threshold_rsrp_dbm": -105.0,
        "tower_cost_idr": _COST, "candidates_total": 5, "existing_towers": 2,
        "crs": "EPSG:32750", "scenario_hash": provenance.scenario_hash,
        "towerplan_version": "0.1.0", "data_sources": list(provenance.data_sources),
        "runtime_s": 1.25, "created_utc": provenance.created_utc,
    })
    return PlanResult(
        scenario=scenario, provenance=provenance, villages=villages,
        existing=_existing(), candidates=candidates, selected=selected,
        rsrp_before=_rsrp(existing_xy), rsrp_after=_rsrp(existing_xy + selected_xy),
        dem=make_dem(), summary=summary,
    )


def with_changes(result: PlanResult, **changes: object) -> PlanResult:
    """Return a copy of *result* with fields replaced."""
    return dataclasses.replace(result, **changes)


def leftovers(directory: Path) -> list[str]:
    """Names of temporary or hidden files left in *directory*."""
    return sorted(p.name for p in directory.iterdir() if ".tmp" in p.name or p.name.startswith("."))


def make_large_plan_result(*, n_villages: int = 144, n_candidates: int = 900) -> PlanResult:
    """A regency-sized plan (110 x 160 km, 90 m grids, densely noded outlines), for size checks."""
    import shapely

    small = make_plan_result()
    rng = np.random.default_rng(7)
    x0, y0 = origin_xy()
    width, height, cell = 110_000.0, 160_000.0, 90.0
    region = box(x0, y0, x0 + width, y0 + height)
    seeds = shapely.multipoints(np.column_stack([x0 + rng.random(n_villages) * width,
                                                 y0 + rng.random(n_villages) * height]))
    polygons = [shapely.segmentize(p.intersection(region), 50.0)
                for p in shapely.voronoi_polygons(seeds, extend_to=region).geoms]
    share = rng.random(len(polygons)) ** 2
    villages = small.villages.iloc[np.arange(len(polygons)) % 4].reset_index(drop=True)
    villages = gpd.GeoDataFrame(villages.drop(columns="geometry"), geometry=polygons,
                                crs=WORKING_CRS)
    villages["code"] = [f"64.01.{i // 15:02d}.{2001 + i}" for i in range(len(polygons))]
    villages["name"] = [f"Desa {i:03d}" for i in range(len(polygons))]
    villages["share_covered_before"] = share
    villages["status_before"] = np.where(share < 0.1, "blank", "partial")

    transform = Affine(cell, 0, x0, 0, -cell, y0 + height)
    rows, cols = int(height / cell), int(width / cell)
    xx, yy = np.meshgrid(x0 + cell * (np.arange(cols) + 0.5),
                         y0 + height - cell * (np.arange(rows) + 0.5))
    z = (60 + 900 * np.exp(-(((xx - x0 - 15_000) / 20_000) ** 2))
         + 25 * np.sin(xx / 1700) * np.cos(yy / 2300) + rng.normal(0, 3, xx.shape))
    dist = np.hypot(xx - x0 - 0.8 * width, yy - y0 - 0.5 * height)
    rsrp = (-62 - 35 * np.log10(np.maximum(dist, 100) / 100)).astype(np.float32)

    def spread(frame: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
        xy = np.column_stack([x0 + rng.random(n) * width, y0 + rng.random(n) * height])
        data = frame.iloc[np.arange(n) % len(frame)].drop(columns="geometry").reset_index(drop=True)
        return gpd.GeoDataFrame(data, geometry=shapely.points(xy), crs=WORKING_CRS)

    candidates = spread(small.candidates, n_candidates)
    candidates["site_id"] = [f"C{i:04d}" for i in range(n_candidates)]
    return with_changes(
        small, villages=villages, candidates=candidates, existing=spread(small.existing, 20),
        dem=RasterGrid(z.astype(np.float32), transform, WORKING_CRS),
        rsrp_before=RasterGrid(rsrp, transform, WORKING_CRS),
        rsrp_after=RasterGrid(rsrp + 3.0, transform, WORKING_CRS))


def make_links() -> gpd.GeoDataFrame:
    """Backhaul hops of the selected sites (``BACKHAUL_COLUMNS``): one of each map class.

    L1 microwave C004 -> T2 (23.5 dB), L2 microwave relay C002 -> C004 (8.2 dB), L3 microwave
    C002 -> T1 that fails (-3.1 dB), L4 fibre C004 -> POP1.
    """
    from shapely.geometry import LineString

    x0, y0 = origin_xy()
    ends = {"C004": (x0 + 4500, y0 + 4200), "C002": (x0 + 4500, y0 + 1500),
            "T1": (x0 + 500, y0 + 700), "T2": (x0 + 900, y0 + 4000),
            "POP1": (x0 + 5800, y0 + 5800)}
    hops = [("L1", "C004", "C004", "T2", "microwave", 0.82, 23.5, True, 180_000_000.0),
            ("L2", "C002", "C002", "C004", "microwave", 0.65, 8.2, True, 150_000_000.0),
            ("L3", "C002", "C002", "T1", "microwave", 0.31, -3.1, False, 0.0),
            ("L4", "C004", "C004", "POP1", "fibre", math.nan, math.nan, True, 420_000_000.0)]
    to_ll = Transformer.from_crs(WORKING_CRS, 4326, always_xy=True)
    rows = []
    for link_id, site, start, end, tech, clearance, margin, feasible, cost in hops:
        (ax, ay), (bx, by) = ends[start], ends[end]
        (alon, blon), (alat, blat) = to_ll.transform([ax, bx], [ay, by])
        rows.append({
            "link_id": link_id, "site_id": site, "from_id": start, "to_id": end,
            "from_lon": alon, "from_lat": alat, "to_lon": blon, "to_lat": blat,
            "technology": tech, "distance_km": math.hypot(bx - ax, by - ay) / 1000.0,
            "clearance_ratio": clearance, "margin_db": margin, "feasible": feasible,
            "cost_idr": cost, "geometry": LineString([(ax, ay), (bx, by)])})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WORKING_CRS)


def make_audit() -> gpd.GeoDataFrame:
    """Two audit sites of a past decision (``AUDIT_COLUMNS``), one in a hostile-named village."""
    x0, y0 = origin_xy()
    geoms, lon, lat = _points([(x0 + 1400, y0 + 1600), (x0 + 3900, y0 + 1200)])
    return gpd.GeoDataFrame({
        "audit_id": ["A1", "A2"], "lon": lon, "lat": lat,
        "village_code": ["64.01.07.2001", "64.01.07.2002"],
        "village": [VILLAGE_NAMES[0], HOSTILE_NAME], "district": ["Muara Komam"] * 2,
        "source": ["village", "village"], "cost_total_idr": [_COST, _COST],
        "new_demand": [35.0, 310.5],
    }, geometry=geoms, crs=WORKING_CRS)


def with_links_and_audit(result: PlanResult) -> PlanResult:
    """Return *result* with the hand-made backhaul hops and audit sites attached."""
    return with_changes(result, links=make_links(), audit=make_audit())
