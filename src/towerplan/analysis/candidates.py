"""Candidate sites for new towers.

Sources: user-supplied points, existing towers a new operator could share (co-location),
settlements in blank or partial villages, hilltops (local terrain maxima with some prominence)
and a regular grid over blank and partial villages and a band around them. Water, steep
ground, cells without terrain and exclusion polygons (protected forest, ...) exclude new
towers; co-locations stand on existing towers and are never excluded. Generated candidates
closer than ``min_spacing_m`` to a user point or to one of higher priority are thinned.

:func:`candidate_points` works on arrays and geometries; :func:`candidate_table` is its adapter
to the loaded inputs (village, kecamatan, elevation, height and costs per candidate).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from scipy import ndimage
from scipy.spatial import cKDTree

from towerplan.analysis.costs import COST_PARTS, anchor_points, apply_overrides, cost_context

if TYPE_CHECKING:
    from towerplan.inputs import LoadedInputs
    from towerplan.scenario import Scenario

__all__ = [
    "EXCLUSION_REASONS",
    "LAND_STATUSES",
    "ORIGIN_PRIORITY",
    "CandidatePoints",
    "candidate_points",
    "candidate_table",
    "hilltops",
    "land_status",
    "slope_deg",
    "thin_points",
    "water_cells",
]

log = logging.getLogger(__name__)

#: Lower value wins when two generated candidates are too close together; user points are
#: always kept and block generated ones; co-locations are never thinned and block nothing.
ORIGIN_PRIORITY: dict[str, int] = {
    "user": 0, "colocation": 1, "settlement": 2, "village_centre": 2, "hilltop": 3, "grid": 4,
}

#: Keys of :attr:`CandidatePoints.excluded`, in the order they are applied.
EXCLUSION_REASONS: tuple[str, ...] = (
    "outside_region", "no_terrain", "water", "steep", "excluded_area", "spacing",
)

#: Land status of a candidate (column ``land_status``): in a settlement, needs road and land
#: (a generated site farther than ``candidates.anchor_distance_m`` from every settlement),
#: an existing tower (co-location), a user-supplied site. A site in an exclusion area never
#: becomes a candidate, so no status says so.
LAND_STATUSES: tuple[str, ...] = ("in_settlement", "needs_road_land", "colocation", "user")

_MIN_PROMINENCE_M = 30.0
_WATER_CLASS = 80
_TARGET_BAND_M = 1000.0


@dataclass(frozen=True, slots=True)
class CandidatePoints:
    """Candidate positions and where each came from.

    Attributes
    ----------
    xy : numpy.ndarray
        ``(n, 2)`` positions, m.
    origin : numpy.ndarray of str
        ``user``, ``colocation``, ``settlement``, ``village_centre``, ``hilltop`` or
        ``grid``.
    source_index : numpy.ndarray of int
        Row of the user point or existing tower a candidate comes from; -1 for the others.
    excluded : dict
        Points dropped per reason (:data:`EXCLUSION_REASONS`).
    excluded_by_area : tuple of int
        Points each exclusion area removed (the first area containing a point counts it),
        in the order of the areas given.
    """

    xy: np.ndarray
    origin: np.ndarray
    source_index: np.ndarray
    excluded: dict[str, int]
    excluded_by_area: tuple[int, ...] = ()


def land_status(origin: np.ndarray, xy_m: np.ndarray, anchor_xy_m: np.ndarray,
                anchor_distance_m: float) -> np.ndarray:
    """Land status of each candidate (:data:`LAND_STATUSES`).

    Co-locations and user points keep their own status; settlement and village-centre
    candidates stand in a settlement; hilltop and grid points do when an anchor (settlement
    or village centre) lies within *anchor_distance_m*, and otherwise need road and land.

    Examples
    --------
    >>> import numpy as np
    >>> origin = np.array(["settlement", "grid", "grid", "user"])
    >>> xy = np.array([[0.0, 0.0], [800.0, 0.0], [3000.0, 0.0], [9000.0, 0.0]])
    >>> land_status(origin, xy, np.array([[0.0, 0.0]]), 1000.0).tolist()
    ['in_settlement', 'in_settlement', 'needs_road_land', 'user']
    """
    origin = np.asarray(origin).astype(str)
    out = np.full(len(origin), "in_settlement", dtype=object)
    generated = np.isin(origin, ("hilltop", "grid"))
    if generated.any():
        anchors = np.asarray(anchor_xy_m, float).reshape(-1, 2)
        dist = cKDTree(anchors).query(np.asarray(xy_m, float)[generated])[0] if len(anchors) \
            else np.full(int(generated.sum()), np.inf)
        out[generated] = np.where(dist <= anchor_distance_m, "in_settlement",
                                  "needs_road_land")
    out[origin == "colocation"] = "colocation"
    out[origin == "user"] = "user"
    return out


def slope_deg(dem_m: np.ndarray, cell_m: float, rows: np.ndarray | None = None,
              cols: np.ndarray | None = None) -> np.ndarray:
    """Terrain slope in degrees by central differences (nan where the DEM is nan).

    With *rows* and *cols* (cell indices), only at those cells, with the arithmetic of
    :func:`numpy.gradient` (central differences inside, one-sided at the edges), so the
    values are those of the whole grid's slope without its memory (five float64 grids).
    """
    if rows is None or cols is None:
        gy, gx = np.gradient(dem_m.astype(float), cell_m)
        return np.degrees(np.arctan(np.hypot(gx, gy)))
    rows, cols = np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)
    gy = _difference(dem_m, cell_m, rows, cols, axis=0)
    gx = _difference(dem_m, cell_m, rows, cols, axis=1)
    return np.degrees(np.arctan(np.hypot(gx, gy)))


def _difference(dem_m: np.ndarray, cell_m: float, rows: np.ndarray, cols: np.ndarray, *,
                axis: int) -> np.ndarray:
    """numpy.gradient of *dem_m* along *axis* at the cells (rows, cols)."""
    n = dem_m.shape[axis]
    at = rows if axis == 0 else cols
    lo, hi = np.maximum(at - 1, 0), np.minimum(at + 1, n - 1)
    first = (lo, cols) if axis == 0 else (rows, lo)
    last = (hi, cols) if axis == 0 else (rows, hi)
    inner = (at > 0) & (at < n - 1)
    f_hi = dem_m[last].astype(float)
    f_lo = dem_m[first].astype(float)
    return np.where(inner, (f_hi - f_lo) / (2.0 * cell_m), (f_hi - f_lo) / cell_m)


def hilltops(dem_m: np.ndarray, cell_m: float, window_m: float,
             min_prominence_m: float = _MIN_PROMINENCE_M) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of local maxima that stand out from their window.

    A cell is a hilltop when it is the highest in a square window of ``window_m`` and at least
    ``min_prominence_m`` above the lowest cell of that window.
    """
    size = max(int(round(window_m / cell_m)) | 1, 3)
    filled = np.where(np.isfinite(dem_m), dem_m, -1e9)
    top = ndimage.maximum_filter(filled, size=size, mode="nearest")
    low = ndimage.minimum_filter(np.where(np.isfinite(dem_m), dem_m, 1e9), size=size,
                                 mode="nearest")
    mask = (filled == top) & np.isfinite(dem_m) & (dem_m - low >= min_prominence_m)
    # Plateaus give several equal maxima: keep one per connected patch.
    lab, n = ndimage.label(mask)
    if n == 0:
        return np.empty(0, int), np.empty(0, int)
    objs = ndimage.find_objects(lab)
    rows, cols = [], []
    for k, sl in enumerate(objs, start=1):
        r, c = np.nonzero(lab[sl] == k)
        rows.append(sl[0].start + int(r[0]))
        cols.append(sl[1].start + int(c[0]))
    return np.array(rows, dtype=int), np.array(cols, dtype=int)


def thin_points(xy_m: np.ndarray, priority: np.ndarray, min_spacing_m: float,
                keep: np.ndarray | None = None) -> np.ndarray:
    """Indices of points kept so that none lies closer than *min_spacing_m* to a kept one.

    Points in *keep* are kept whatever their distance to each other and block the others;
    the others are visited by priority (lower first), then by input order.

    Examples
    --------
    >>> import numpy as np
    >>> xy = np.array([[0.0, 0.0], [500.0, 0.0], [2000.0, 0.0]])
    >>> thin_points(xy, np.array([3, 0, 3]), 1000.0).tolist()
    [1, 2]
    """
    n = len(xy_m)
    fixed = np.zeros(n, bool) if keep is None else np.asarray(keep, bool)
    if n == 0 or min_spacing_m <= 0:
        return np.arange(n)
    order = np.lexsort((np.arange(n), priority))
    tree = cKDTree(xy_m)
    taken = fixed.copy()
    blocked = np.zeros(n, dtype=bool)
    for i in np.flatnonzero(fixed):
        blocked[tree.query_ball_point(xy_m[i], r=min_spacing_m - 1e-9)] = True
    for i in order:
        if fixed[i] or blocked[i]:
            continue
        taken[i] = True
        blocked[tree.query_ball_point(xy_m[i], r=min_spacing_m - 1e-9)] = True
    return np.flatnonzero(taken)


def candidate_points(
    target: shapely.Geometry,
    region: shapely.Geometry,
    dem_m: np.ndarray,
    transform: Affine,
    *,
    grid_spacing_m: float,
    include_hilltops: bool,
    hilltop_window_m: float,
    settlement_xy: np.ndarray | None,
    user_xy: np.ndarray | None,
    min_spacing_m: float,
    max_slope_deg: float,
    water: np.ndarray | None = None,
    colocation_xy: np.ndarray | None = None,
    exclude: shapely.Geometry | Sequence[shapely.Geometry] | None = None,
    centre_xy: np.ndarray | None = None,
) -> CandidatePoints:
    """Candidate positions, their origin and what was excluded.

    Parameters
    ----------
    target : shapely geometry
        Where new towers are wanted (blank and partial villages plus a band), metric CRS.
    region : shapely geometry
        All villages; candidates must lie inside it.
    dem_m : numpy.ndarray
        Terrain heights, m (nan = no data), on the grid of *transform*.
    transform : affine.Affine
        DEM grid transform.
    grid_spacing_m, hilltop_window_m, min_spacing_m, max_slope_deg : float
        See :class:`towerplan.scenario.Candidates`.
    include_hilltops : bool
        Add hilltops.
    settlement_xy, user_xy : numpy.ndarray, optional
        Settlement and user points, ``(n, 2)`` in m. User points anywhere in *region* count.
    water : numpy.ndarray of bool, optional
        Water cells on the DEM grid.
    colocation_xy : numpy.ndarray, optional
        Existing towers, ``(n, 2)`` in m; those inside *target* become co-location
        candidates (never excluded or thinned).
    centre_xy : numpy.ndarray, optional
        Centres of villages holding no settlement point, ``(n, 2)`` in m; those in *target*
        become candidates (origin ``village_centre``) as settlements do.
    exclude : shapely geometry or sequence of them, optional
        Exclusion polygons (boundary included), or one geometry per named area; no new
        tower inside.

    Returns
    -------
    CandidatePoints
        Positions, origins, source rows and exclusion counts.
    """
    cell = abs(transform.a)
    parts: list[tuple[np.ndarray, str, np.ndarray]] = []

    def add(points: np.ndarray, origin: str, mask: np.ndarray | None = None) -> None:
        index = np.arange(len(points)) if origin in ("user", "colocation") \
            else np.full(len(points), -1)
        if mask is not None:
            points, index = points[mask], index[mask]
        parts.append((np.asarray(points, float).reshape(-1, 2), origin, index))

    if user_xy is not None and len(user_xy):
        add(np.asarray(user_xy, float), "user")
    if colocation_xy is not None and len(colocation_xy):
        pts = np.asarray(colocation_xy, float)
        add(pts, "colocation", shapely.contains_xy(target, pts[:, 0], pts[:, 1]))
    if settlement_xy is not None and len(settlement_xy):
        pts = np.asarray(settlement_xy, float)
        add(pts, "settlement", shapely.contains_xy(target, pts[:, 0], pts[:, 1]))
    if centre_xy is not None and len(centre_xy):
        pts = np.asarray(centre_xy, float)
        add(pts, "village_centre", shapely.contains_xy(target, pts[:, 0], pts[:, 1]))
    if include_hilltops:
        r, c = hilltops(dem_m, cell, hilltop_window_m)
        x = transform.c + transform.a * (c + 0.5)
        y = transform.f + transform.e * (r + 0.5)
        add(np.column_stack([x, y]), "hilltop", shapely.contains_xy(target, x, y))
    minx, miny, maxx, maxy = shapely.bounds(target)
    gx = np.arange(np.ceil(minx / grid_spacing_m), np.floor(maxx / grid_spacing_m) + 1)
    gy = np.arange(np.ceil(miny / grid_spacing_m), np.floor(maxy / grid_spacing_m) + 1)
    mx, my = np.meshgrid(gx * grid_spacing_m, gy * grid_spacing_m)
    add(np.column_stack([mx.ravel(), my.ravel()]), "grid",
        shapely.contains_xy(target, mx.ravel(), my.ravel()))

    xy = np.concatenate([p for p, _, _ in parts])
    origin = np.concatenate([np.full(len(p), o, dtype=object) for p, o, _ in parts])
    source = np.concatenate([i for _, _, i in parts]).astype(int)
    excluded = dict.fromkeys(EXCLUSION_REASONS, 0)
    existing = origin == "colocation"
    keep = shapely.contains_xy(region, xy[:, 0], xy[:, 1]) | existing
    excluded["outside_region"] = int((~keep).sum())
    xy, origin, source, existing = xy[keep], origin[keep], source[keep], existing[keep]

    areas = [] if exclude is None else (list(exclude) if isinstance(exclude, list | tuple)
                                        else [exclude])
    bad, by_area = _excluded_ground(xy, dem_m, transform, cell, max_slope_deg, water, areas,
                                    ~existing, excluded)
    xy, origin, source = xy[~bad], origin[~bad], source[~bad]

    existing = origin == "colocation"
    prio = np.array([ORIGIN_PRIORITY[o] for o in origin], dtype=int)
    rest = np.flatnonzero(~existing)
    kept = rest[thin_points(xy[rest], prio[rest], min_spacing_m, keep=origin[rest] == "user")]
    excluded["spacing"] = int(len(rest) - len(kept))
    kept = np.sort(np.concatenate([np.flatnonzero(existing), kept]))
    log.info("candidates: %d kept, excluded %s", len(kept), excluded)
    return CandidatePoints(xy[kept], origin[kept], source[kept], excluded, by_area)


def _excluded_ground(xy: np.ndarray, dem_m: np.ndarray, transform: Affine, cell: float,
                     max_slope_deg: float, water: np.ndarray | None,
                     areas: list[shapely.Geometry], applies: np.ndarray,
                     excluded: dict[str, int]) -> tuple[np.ndarray, tuple[int, ...]]:
    """Points where no new tower may stand (only where *applies*); counts each first reason
    and, per exclusion area, the points it removed (first area wins)."""
    rows = np.clip(((xy[:, 1] - transform.f) / transform.e).astype(int), 0, dem_m.shape[0] - 1)
    cols = np.clip(((xy[:, 0] - transform.c) / transform.a).astype(int), 0, dem_m.shape[1] - 1)
    elev = dem_m[rows, cols]
    with np.errstate(invalid="ignore"):
        slope = slope_deg(dem_m, cell, rows, cols)
        no_terrain = ~np.isfinite(elev) & applies
        is_water = ((elev <= 0) if water is None else (water[rows, cols] | (elev <= 0))) \
            & applies & ~no_terrain
        steep = (slope > max_slope_deg) & applies & ~no_terrain & ~is_water
    in_area = np.zeros(len(xy), bool)
    free = applies & ~(no_terrain | is_water | steep)
    by_area = []
    for area in areas:
        hit = np.zeros(len(xy), bool)
        if area is not None and not shapely.is_empty(area) and len(xy):
            hit = shapely.intersects_xy(area, xy[:, 0], xy[:, 1]) & free & ~in_area
        by_area.append(int(hit.sum()))
        in_area |= hit
    excluded["no_terrain"] = int(no_terrain.sum())
    excluded["water"] = int(is_water.sum())
    excluded["steep"] = int(steep.sum())
    excluded["excluded_area"] = int(in_area.sum())
    return no_terrain | is_water | steep | in_area, tuple(by_area)


def candidate_table(scenario: Scenario, data: LoadedInputs, villages: Any,
                    need: np.ndarray) -> tuple[pd.DataFrame, dict[str, int]]:
    """Candidates of a scenario with village, kecamatan, elevation, height and costs.

    Parameters
    ----------
    scenario : Scenario
        ``candidates``, ``costs`` and ``radio.tower_height_m`` are used.
    data : LoadedInputs
        Inputs in the working CRS (DEM, settlements, towers, land cover, siting inputs).
    villages : geopandas.GeoDataFrame
        Villages, index 0..n-1.
    need : numpy.ndarray of bool
        Villages that want new towers (blank, partial or audited).

    Returns
    -------
    table : pandas.DataFrame
        ``site_id, x, y, origin, village_code, village, district, district_code,
        elevation_m, height_m, land_status``, the cost parts, ``cost_total_idr``,
        ``cost_overridden``, ``power_source``, ``road_km`` and ``grid_km``;
        ``attrs["exclusions"]`` lists each named exclusion area with the candidates it
        removed.
    excluded : dict
        Points dropped per reason.

    Raises
    ------
    InputDataError
        When the cost overrides name ids that are not candidates.
    """
    opts = scenario.candidates
    geoms = villages.geometry.to_numpy()
    region = shapely.union_all(shapely.make_valid(geoms))
    target = shapely.intersection(
        shapely.union_all(shapely.make_valid(geoms[need])).buffer(_TARGET_BAND_M), region) \
        if need.any() else shapely.Polygon()
    siting = data.siting
    users = siting.user_sites if siting is not None else None
    towers = data.towers if opts.include_colocation and len(data.towers) else None
    st = data.settlements
    dem = data.dem
    anchors, n_centres = anchor_points(st, geoms)
    anchor_xy = shapely.get_coordinates(anchors).reshape(-1, 2)
    pts = candidate_points(
        target, region, dem.array, dem.transform, grid_spacing_m=opts.grid_spacing_m,
        include_hilltops=opts.include_hilltops, hilltop_window_m=opts.hilltop_window_m,
        settlement_xy=_xy(st) if opts.include_settlements and st is not None and len(st)
        else None,
        user_xy=_xy(users) if users is not None else None,
        min_spacing_m=opts.min_spacing_m, max_slope_deg=opts.max_slope_deg,
        water=water_cells(data.landcover, data.landmask),
        colocation_xy=_xy(towers) if towers is not None else None,
        exclude=[a.geometry for a in siting.exclusions] if siting is not None
        and siting.exclusions else (siting.exclude if siting is not None else None),
        centre_xy=anchor_xy[len(anchor_xy) - n_centres:] if opts.include_settlements
        else None)
    xy, origin, src = pts.xy, pts.origin.astype(str), pts.source_index
    is_user, is_coloc = origin == "user", origin == "colocation"
    height = np.full(len(xy), float(scenario.radio.tower_height_m))
    ids = np.empty(len(xy), dtype=object)
    if users is not None:
        height[is_user] = users["height_m"].to_numpy(float)[src[is_user]]
        ids[is_user] = users["site_id"].astype(str).to_numpy()[src[is_user]]
    if towers is not None:
        height[is_coloc] = towers["height_m"].to_numpy(float)[src[is_coloc]]
        ids[is_coloc] = ["C-" + t for t in towers["tower_id"].astype(str).to_numpy()[
            src[is_coloc]]]
    ids[~(is_user | is_coloc)] = _generated_ids(int((~(is_user | is_coloc)).sum()),
                                                set(ids[is_user | is_coloc]))
    owner = village_of(xy, geoms)
    rows = np.clip(((xy[:, 1] - dem.transform.f) / dem.transform.e).astype(int), 0,
                   dem.shape[0] - 1)
    cols = np.clip(((xy[:, 0] - dem.transform.c) / dem.transform.a).astype(int), 0,
                   dem.shape[1] - 1)

    def attr(name: str) -> np.ndarray:
        values = villages[name].astype(str).to_numpy()
        return np.where(owner >= 0, values[np.maximum(owner, 0)], "")

    frame = pd.DataFrame({
        "site_id": ids.astype(str), "x": xy[:, 0], "y": xy[:, 1], "origin": origin,
        "village_code": attr("code"), "village": attr("name"), "district": attr("district"),
        "district_code": attr("district_code"),
        "elevation_m": np.round(dem.array[rows, cols].astype(float), 1),
        "height_m": height,
        "land_status": land_status(origin, xy, anchor_xy, opts.anchor_distance_m),
    })
    columns = [*COST_PARTS, "cost_total_idr"]
    given = pd.DataFrame(np.nan, index=range(len(xy)), columns=columns)
    if users is not None and is_user.any():
        for name in columns:
            given.loc[is_user, name] = users[name].to_numpy(float)[src[is_user]]
    ctx = cost_context(data, villages)
    costs = ctx.costs(xy, scenario.costs, colocation=is_coloc, given=given,
                      remote=frame["land_status"].to_numpy() == "needs_road_land")
    frame, _ = apply_overrides(pd.concat([frame, costs], axis=1), ctx.overrides)
    frame["cost_overridden"] = given.notna().any(axis=1).to_numpy()
    if ctx.overrides is not None:
        frame.loc[frame["site_id"].isin(ctx.overrides["site_id"].astype(str)),
                  "cost_overridden"] = True
    frame.attrs["exclusions"] = [
        {"name": a.name, "kind": a.kind, "candidates_removed": n}
        for a, n in zip(siting.exclusions if siting is not None else (),
                        pts.excluded_by_area, strict=False)]
    log.info("candidate table: %d sites (%s)", len(frame),
             ", ".join(f"{o} {n}" for o, n in frame["origin"].value_counts().items()))
    return frame, pts.excluded


def village_of(xy_m: np.ndarray, village_geoms: np.ndarray) -> np.ndarray:
    """Index of the village containing each point (boundary included), -1 outside all."""
    owner = np.full(len(xy_m), -1)
    if not len(xy_m):
        return owner
    tree = shapely.STRtree(village_geoms)
    p_idx, v_idx = tree.query(shapely.points(xy_m[:, 0], xy_m[:, 1]), predicate="intersects")
    owner[p_idx[::-1]] = v_idx[::-1]  # the first village wins on shared boundaries
    return owner


def _xy(frame: Any) -> np.ndarray:
    return np.column_stack([frame.geometry.x, frame.geometry.y]) if len(frame) \
        else np.empty((0, 2))


def _generated_ids(n: int, taken: set[Any]) -> list[str]:
    """``S0001``, ``S0002``, ... skipping ids already taken."""
    out: list[str] = []
    k = 0
    while len(out) < n:
        k += 1
        sid = f"S{k:04d}"
        if sid not in taken:
            out.append(sid)
    return out


def water_cells(landcover: np.ndarray | None, landmask: np.ndarray | None
                ) -> np.ndarray | None:
    """Water mask from land cover (class 80) and/or a land mask (False = water)."""
    water = None
    if landcover is not None:
        water = landcover == _WATER_CLASS
    if landmask is not None:
        water = ~landmask if water is None else (water | ~landmask)
    return water
