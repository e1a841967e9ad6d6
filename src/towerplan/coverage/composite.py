"""Many sites at once: best-server composite and the sparse site-to-demand coverage matrix.

Every function works with either kind of model chain: distance-only chains (``fspl``,
``hata-*``) are evaluated in closed form; terrain-aware chains (diffraction, clutter, RMa) go
through the radial sweep of :mod:`towerplan.coverage.sweep` on the DEM grid, passed as a
:class:`TerrainContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from affine import Affine

from towerplan.coverage.radials import frame_bounds
from towerplan.coverage.raster import LinkParams, coverage_radius_m, path_loss_db, site_rsrp_window
from towerplan.coverage.sweep import sweep_points, sweep_site, sweep_site_into
from towerplan.radio.antenna import AntennaPattern
from towerplan.radio.chain import ModelChain
from towerplan.radio.linkbudget import rsrp_dbm

if TYPE_CHECKING:
    import scipy.sparse as sp

# scipy (k-d trees, sparse matrices) is imported where used: the best-server grid needs
# neither, and it is most of what loading this module would cost.

__all__ = [
    "BestServer",
    "TerrainContext",
    "best_server",
    "best_server_both",
    "best_server_part",
    "best_server_points",
    "combine",
    "coverage_matrix",
    "merge_best",
    "rsrp_at",
    "rsrp_matrix",
]

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class TerrainContext:
    """Terrain and model chain for terrain-aware coverage.

    Attributes
    ----------
    dem_m : numpy.ndarray
        Terrain heights, m (nan = no data).
    transform : affine.Affine
        DEM grid transform (metric working CRS).
    chain : ModelChain
        Model chain with its terrain terms.
    k_factor : float
        Effective earth radius factor.
    landcover : numpy.ndarray or None
        ESA WorldCover classes on the DEM grid, for a clutter term.
    offset : tuple of int
        Grid row and column of the first cell of ``dem_m`` (and ``landcover``) when they are
        a part of the grid (:meth:`part`); (0, 0) for the whole grid.
    grid_shape : tuple of int or None
        The whole grid's rows and columns when ``dem_m`` is a part of it; None for the whole
        grid.
    """

    dem_m: np.ndarray
    transform: Affine
    chain: ModelChain
    k_factor: float = 4.0 / 3.0
    landcover: np.ndarray | None = None
    offset: tuple[int, int] = (0, 0)
    grid_shape: tuple[int, int] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns of the whole grid."""
        if self.grid_shape is not None:
            return (int(self.grid_shape[0]), int(self.grid_shape[1]))
        return (int(self.dem_m.shape[0]), int(self.dem_m.shape[1]))

    @property
    def whole(self) -> bool:
        """True when ``dem_m`` is the whole grid."""
        return self.grid_shape is None

    def part(self, xy_m: np.ndarray, radius_m: float) -> TerrainContext:
        """The terrain every sweep of sites at *xy_m* ``(n, 2)``, m, within *radius_m* reads
        (their windows and margins, :func:`~towerplan.coverage.radials.site_frame`): a copy
        of that part of the grid, with its offset. Sweeps of these sites on it give the same
        values to the bit as on the whole grid."""
        rows, cols = self.shape
        top, bottom, left, right = rows, 0, cols, 0
        for x, y in np.asarray(xy_m, float).reshape(-1, 2):
            found = frame_bounds(self.transform, (rows, cols), float(x), float(y),
                                 float(radius_m))
            if found is None:
                continue
            frame = found[1]
            top, bottom = min(top, frame[0]), max(bottom, frame[1])
            left, right = min(left, frame[2]), max(right, frame[3])
        bottom, right = max(bottom, top), max(right, left)
        r_off, c_off = self.offset
        rs = slice(top - r_off, bottom - r_off)
        cs = slice(left - c_off, right - c_off)
        return replace(self, dem_m=self.dem_m[rs, cs].copy(),
                       landcover=None if self.landcover is None else self.landcover[rs, cs].copy(),
                       offset=(top, left), grid_shape=(rows, cols))


@dataclass(frozen=True, slots=True)
class BestServer:
    """Best-server composite of several sites (on a grid or at points).

    Attributes
    ----------
    rsrp_dbm : numpy.ndarray
        Strongest RSRP, float32 dBm; ``nan`` where no site reaches.
    server : numpy.ndarray
        Index of the strongest site (int32), -1 where none.
    n_servers : numpy.ndarray
        Number of sites at or above the threshold (uint16).
    """

    rsrp_dbm: np.ndarray
    server: np.ndarray
    n_servers: np.ndarray

    @classmethod
    def empty(cls, shape: tuple[int, ...]) -> BestServer:
        """No server anywhere: RSRP nan, server -1, no servers, of *shape*."""
        return cls(np.full(shape, np.nan, dtype=np.float32), np.full(shape, -1, np.int32),
                   np.zeros(shape, dtype=np.uint16))


def _window(transform: Affine, shape: tuple[int, int], x: float, y: float, h: float,
            link: LinkParams, terrain: TerrainContext | None
            ) -> tuple[slice, slice, np.ndarray] | None:
    """RSRP window of one site on the grid (the DEM grid when *terrain* is given)."""
    if terrain is None:
        return site_rsrp_window(transform, shape, x, y, h, link)
    cov = sweep_site(terrain.dem_m, terrain.transform, x, y, h, link=link, chain=terrain.chain,
                     k_factor=terrain.k_factor, landcover=terrain.landcover,
                     offset=terrain.offset, grid_shape=terrain.grid_shape)
    return None if cov is None else (cov.rows, cov.cols, cov.rsrp_dbm)


def _update(best: BestServer, index: np.ndarray | tuple[slice, slice], rsrp: np.ndarray,
            site: int, threshold_dbm: float) -> None:
    """Make site *site* the best server where its *rsrp* beats the current best (in place)."""
    views = isinstance(index, tuple)  # a window of slices: views, written in place
    cur = best.rsrp_dbm[index]
    better = ~(rsrp <= cur)  # nan-safe: True where cur is nan
    better &= np.isfinite(rsrp)
    np.copyto(cur, rsrp, casting="same_kind", where=better)
    server = best.server[index]
    np.copyto(server, np.int32(site), where=better)
    count = best.n_servers[index]
    np.add(count, np.uint16(1), out=count, where=rsrp >= threshold_dbm)
    if not views:
        best.rsrp_dbm[index] = cur
        best.server[index] = server
        best.n_servers[index] = count


def best_server(transform: Affine, shape: tuple[int, int], xy_m: np.ndarray,
                heights_m: np.ndarray, link: LinkParams,
                terrain: TerrainContext | None = None) -> BestServer:
    """Compose the strongest server per cell over all sites.

    Parameters
    ----------
    transform : affine.Affine
        Grid transform (metric CRS); with *terrain*, the DEM grid's.
    shape : tuple of int
        Grid rows and columns.
    xy_m : numpy.ndarray
        Site positions, shape ``(n, 2)``, in the grid's CRS.
    heights_m : numpy.ndarray
        Antenna heights above ground, shape ``(n,)``, m.
    link : LinkParams
        Link parameters.
    terrain : TerrainContext, optional
        Terrain for terrain-aware chains.
    """
    grid, _ = best_server_both(transform, shape, xy_m, heights_m, link, terrain)
    return grid


def best_server_both(transform: Affine, shape: tuple[int, int], xy_m: np.ndarray,
                     heights_m: np.ndarray, link: LinkParams,
                     terrain: TerrainContext | None = None,
                     points_xy_m: np.ndarray | None = None, *,
                     antennas: Sequence[AntennaPattern] | None = None,
                     onto: BestServer | None = None, offset: int = 0,
                     each_site: Callable[[int, np.ndarray, np.ndarray], None] | None = None
                     ) -> tuple[BestServer, BestServer]:
    """Best server on the grid and at points, evaluating each site once.

    Equal to :func:`best_server` and :func:`best_server_points` called separately; with a
    terrain chain each site is swept once for both, or, where its RSRP needs no later
    correction, folded into the grid by the sweep itself
    (:func:`towerplan.coverage.sweep.sweep_site_into`) and evaluated at the points' cells
    alone (:func:`towerplan.coverage.sweep.sweep_points`): no window of the site's own.
    *antennas* gives each site its own antenna (default: ``link.antenna`` for all).

    With *onto* (a grid composite of other sites, not changed), the grid result is composed
    onto a copy of it, these sites numbered from *offset*: equal to ``combine(onto, grid,
    offset=offset)`` without a second full grid, and touching only the sites' windows. The
    points are these sites' own. *each_site*, if given, is called with each site's index
    (from 0), the indices of the points it reaches and its RSRP there (dBm): what
    :func:`best_server_points` gives for that site alone.

    Returns
    -------
    grid, points : BestServer
        On the grid, and at *points_xy_m* (empty when not given).
    """
    points = np.empty((0, 2)) if points_xy_m is None else np.asarray(points_xy_m, float)
    grid = BestServer.empty(shape) if onto is None else BestServer(
        onto.rsrp_dbm.copy(), onto.server.copy(), onto.n_servers.copy())
    at = BestServer.empty((len(points),))
    sampler = _PointSampler(points, link, terrain)
    # the folding sweep has no vegetation term: it folds where the chain has no clutter term
    # (the sweep then ignores the land cover) or there is no land cover
    fold = (terrain is not None and terrain.whole
            and (terrain.landcover is None or terrain.chain.clutter is None)
            and tuple(shape) == terrain.shape and transform == terrain.transform)
    for i, ((x, y), h) in enumerate(zip(np.asarray(xy_m, float).reshape(-1, 2),
                                        np.asarray(heights_m, float), strict=True)):
        site_link = link if antennas is None else replace(link, antenna=antennas[i])
        if (fold and terrain is not None
                and sweep_site_into((grid.rsrp_dbm, grid.server, grid.n_servers), i + offset,
                                    terrain.dem_m, terrain.transform, x, y, h,
                                    link=site_link, chain=terrain.chain,
                                    k_factor=terrain.k_factor)):
            # folded in by the sweep, no window of the site's own; the points' values come
            # from the same radials (sweep_points), equal to the window's at their cells
            found = _compose_points(at, sampler, (x, y), h, site_link, i) if len(points) \
                else None
        else:
            found = _compose_site(grid, at, sampler, (x, y), h, site_link, terrain,
                                  transform, shape, grid_site=i + offset, point_site=i)
        if found is not None and each_site is not None:
            each_site(i, *found)
    return grid, at


def _compose_site(grid: BestServer, at: BestServer, sampler: _PointSampler,
                  xy: tuple[float, float], h: float, link: LinkParams,
                  terrain: TerrainContext | None, transform: Affine, shape: tuple[int, int],
                  *, grid_site: int, point_site: int, shift: tuple[int, int] = (0, 0)
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """Make one site the best server of *grid* (as number *grid_site*; the grid's first row
    and column are *shift* of the whole grid's) and of the sampler's points *at* (as
    *point_site*) where it is the strongest so far; returns the indices of the points it
    reaches and its RSRP there (dBm), or None without points."""
    win = _window(transform, shape, xy[0], xy[1], h, link, terrain)
    if win is not None:
        rows = slice(win[0].start - shift[0], win[0].stop - shift[0])
        cols = slice(win[1].start - shift[1], win[1].stop - shift[1])
        _update(grid, (rows, cols), win[2], grid_site, link.threshold_rsrp_dbm)
    if not len(at.rsrp_dbm):
        return None
    return _compose_points(at, sampler, xy, h, link, point_site, window=win)


def _compose_points(at: BestServer, sampler: _PointSampler, xy: tuple[float, float], h: float,
                    link: LinkParams, site: int,
                    window: tuple[slice, slice, np.ndarray] | None | bool = False
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Make one site (number *site*) the best server of the sampler's points *at* where it
    is the strongest so far (its *window* as :meth:`_PointSampler.site` takes it); returns
    the indices of the points it reaches and its RSRP there (dBm)."""
    idx, rsrp = sampler.site(np.array(xy), h, window=window, link=link)
    _update(at, idx, rsrp, site, link.threshold_rsrp_dbm)
    return idx, rsrp


def best_server_part(site_numbers: np.ndarray, xy_m: np.ndarray, heights_m: np.ndarray,
                     link: LinkParams, terrain: TerrainContext, points_xy_m: np.ndarray, *,
                     antennas: Sequence[AntennaPattern] | None = None
                     ) -> tuple[BestServer, BestServer]:
    """Best server of some sites over a part of the terrain grid and at points: one batch of
    a composite computed batch by batch (merged with :func:`merge_best`).

    *terrain* is the part of the grid the sites' sweeps read
    (:meth:`TerrainContext.part`); the grid result covers exactly that part (rows and
    columns from ``terrain.offset``). The sites are numbered *site_numbers* and composed in
    ascending order of their numbers, so a tie keeps the lower number, as in
    :func:`best_server_both`.
    The points result is at *points_xy_m*. *antennas* gives each site its own antenna.
    """
    order = np.argsort(np.asarray(site_numbers), kind="stable")
    numbers = np.asarray(site_numbers, dtype=np.int64)[order]
    xy = np.asarray(xy_m, float).reshape(-1, 2)[order]
    heights = np.asarray(heights_m, float)[order]
    grid = BestServer.empty(terrain.dem_m.shape)
    at = BestServer.empty((len(points_xy_m),))
    sampler = _PointSampler(points_xy_m, link, terrain)
    for j, ((x, y), h) in enumerate(zip(xy, heights, strict=True)):
        site_link = link if antennas is None else replace(link, antenna=antennas[order[j]])
        site = int(numbers[j])
        _compose_site(grid, at, sampler, (x, y), h, site_link, terrain, terrain.transform,
                      terrain.shape, grid_site=site, point_site=site, shift=terrain.offset)
    return grid, at


def merge_best(best: BestServer, index: np.ndarray | tuple[slice, slice],
               part: BestServer) -> None:
    """Merge the composite *part* of other sites into *best* at *index* (in place).

    The strongest RSRP wins and a tie goes to the lower site number, so merging the
    composites of disjoint sets of sites in any order gives the composite of all of them
    in site order (:func:`best_server_both`), to the bit; the counts of servers add up.
    """
    views = isinstance(index, tuple)
    cur = best.rsrp_dbm[index]
    server = best.server[index]
    new = part.rsrp_dbm
    better = ~(new <= cur) | ((new == cur) & (part.server < server))
    better &= np.isfinite(new)
    np.copyto(cur, new, where=better)
    np.copyto(server, part.server, where=better)
    count = best.n_servers[index]
    np.add(count, part.n_servers, out=count)
    if not views:
        best.rsrp_dbm[index] = cur
        best.server[index] = server
        best.n_servers[index] = count


def combine(first: BestServer, second: BestServer, *, offset: int) -> BestServer:
    """Best server over the sites of *first* and then those of *second*.

    *second*'s server indices are shifted by *offset* (the number of sites of *first*); a
    tie keeps *first*'s server, as composing all sites in that order would. Inputs are not
    changed.
    """
    out = BestServer(first.rsrp_dbm.copy(), first.server.copy(), first.n_servers.copy())
    better = np.isfinite(second.rsrp_dbm) & ~(second.rsrp_dbm <= out.rsrp_dbm)
    out.rsrp_dbm[better] = second.rsrp_dbm[better]
    out.server[better] = second.server[better] + offset
    out.n_servers[...] = out.n_servers + second.n_servers
    return out


class _PointSampler:
    """Per-site RSRP at fixed points (demand units), by either kind of chain."""

    def __init__(self, points_xy_m: np.ndarray, link: LinkParams,
                 terrain: TerrainContext | None) -> None:
        self.points = np.asarray(points_xy_m, dtype=float)
        self.link = link
        self.terrain = terrain
        self.tree = None
        if len(self.points):
            from scipy.spatial import cKDTree

            self.tree = cKDTree(self.points)
        if terrain is not None:
            t = terrain.transform
            self.rows = np.floor((self.points[:, 1] - t.f) / t.e).astype(np.int64)
            self.cols = np.floor((self.points[:, 0] - t.c) / t.a).astype(np.int64)

    def site(self, xy: np.ndarray, h: float, *,
             window: tuple[slice, slice, np.ndarray] | None | bool = False,
             link: LinkParams | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the points within reach of a site, and the RSRP there (dBm).

        With a terrain chain, *window* may give the site's window on the DEM grid when the
        caller already has it (``None``: it misses the grid); without it only the cells of
        the points in reach are evaluated (:func:`towerplan.coverage.sweep.sweep_points`,
        the same values as the window's). *link* is the site's own link (its antenna),
        default the sampler's.
        """
        empty = (np.empty(0, np.int64), np.empty(0, np.float32))
        link = self.link if link is None else link
        if self.tree is None:
            return empty
        idx = np.asarray(self.tree.query_ball_point(xy, r=link.max_radius_m), np.int64)
        if len(idx) == 0:
            return empty
        if self.terrain is None:
            return idx, rsrp_at(self.points[idx], xy, h, link).astype(np.float32)
        if isinstance(window, bool):  # the site's RSRP at the units' cells only
            t = self.terrain
            values = sweep_points(t.dem_m, t.transform, float(xy[0]), float(xy[1]), h,
                                  self.rows[idx], self.cols[idx], link=link, chain=t.chain,
                                  k_factor=t.k_factor, landcover=t.landcover,
                                  offset=t.offset, grid_shape=t.grid_shape)
            ok = np.isfinite(values)
            return idx[ok], values[ok]
        win = window
        if win is None:
            return empty
        rows, cols, rsrp = win
        r = self.rows[idx] - rows.start
        c = self.cols[idx] - cols.start
        inside = (r >= 0) & (c >= 0) & (r < rsrp.shape[0]) & (c < rsrp.shape[1])
        idx, r, c = idx[inside], r[inside], c[inside]
        values = rsrp[r, c]
        ok = np.isfinite(values)
        return idx[ok], values[ok].astype(np.float32)


def best_server_points(points_xy_m: np.ndarray, site_xy_m: np.ndarray, heights_m: np.ndarray,
                       link: LinkParams, terrain: TerrainContext | None = None) -> BestServer:
    """Best server at arbitrary points (e.g. demand units) instead of grid cells.

    With *terrain*, each point takes the value of the DEM cell it falls in.
    """
    best = BestServer.empty((len(points_xy_m),))
    sampler = _PointSampler(points_xy_m, link, terrain)
    for i, (xy, h) in enumerate(zip(np.asarray(site_xy_m, float).reshape(-1, 2),
                                    np.asarray(heights_m, float), strict=True)):
        idx, rsrp = sampler.site(xy, h)
        _update(best, idx, rsrp, i, link.threshold_rsrp_dbm)
    return best


def rsrp_at(points_xy_m: np.ndarray, site_xy_m: np.ndarray, site_h_m: float,
            link: LinkParams) -> np.ndarray:
    """Design RSRP of one site at given points by a distance-only chain, dBm.

    With the antenna pattern, less the margins (:meth:`LinkParams.rsrp_correction_db`).
    """
    d = np.hypot(points_xy_m[:, 0] - site_xy_m[0], points_xy_m[:, 1] - site_xy_m[1])
    loss = path_loss_db(d, model=link.model, freq_mhz=link.freq_mhz, h_tx_m=site_h_m,
                        h_rx_m=link.h_rx_m)
    rsrp = np.asarray(rsrp_dbm(link.eirp_dbm, loss, link.bandwidth_mhz, link.rx_gain_dbi)
                      + link.calibration_db(d))
    if link.adjusted:
        rsrp = rsrp + link.rsrp_correction_db(points_xy_m[:, 0] - site_xy_m[0],
                                              points_xy_m[:, 1] - site_xy_m[1],
                                              site_h_m - link.h_rx_m)
    return rsrp


def coverage_matrix(site_xy_m: np.ndarray, site_h_m: np.ndarray, demand_xy_m: np.ndarray,
                    link: LinkParams, terrain: TerrainContext | None = None, *,
                    progress: ProgressFn | None = None) -> sp.csr_matrix:
    """Sparse boolean matrix (n_sites, n_demand): True where a site covers a demand unit.

    Memory is proportional to the number of covered (site, unit) pairs.

    Parameters
    ----------
    site_xy_m, site_h_m : numpy.ndarray
        Site positions ``(n, 2)`` and antenna heights ``(n,)``, m.
    demand_xy_m : numpy.ndarray
        Demand unit positions ``(k, 2)``, m.
    link : LinkParams
        Link parameters.
    terrain : TerrainContext, optional
        Terrain for terrain-aware chains; without it the chain must depend on distance only.
    progress : callable, optional
        Called as ``progress(done, total)`` after each site (terrain-aware chains).
    """
    import scipy.sparse as sp

    n_sites = len(site_xy_m)
    n_dem = len(demand_xy_m)
    if n_sites == 0 or n_dem == 0:
        return sp.csr_matrix((n_sites, n_dem), dtype=bool)
    if terrain is None:
        hits = _hits_by_radius(site_xy_m, site_h_m, demand_xy_m, link)
    else:
        sampler = _PointSampler(demand_xy_m, link, terrain)
        hits = []
        for j, (xy, h) in enumerate(zip(np.asarray(site_xy_m, float),
                                        np.asarray(site_h_m, float), strict=True)):
            idx, rsrp = sampler.site(xy, h)
            hits.append(np.sort(idx[rsrp >= link.threshold_rsrp_dbm]))
            if progress is not None:
                progress(j + 1, n_sites)
    return _rows_to_csr(hits, [np.ones(len(h), dtype=bool) for h in hits], n_dem, bool)


def rsrp_matrix(site_xy_m: np.ndarray, site_h_m: np.ndarray, demand_xy_m: np.ndarray,
                link: LinkParams, terrain: TerrainContext | None = None, *,
                floor_dbm: float | None = None) -> sp.csr_matrix:
    """Sparse RSRP matrix (n_sites, n_demand), dBm (float32), where a site reaches a demand
    unit at or above *floor_dbm* (default ``link.threshold_rsrp_dbm``); absent elsewhere.

    With a floor a few dB below the threshold, the coverage at any higher threshold is
    ``matrix >= threshold`` on the stored values, without evaluating the sites again.

    Parameters
    ----------
    site_xy_m, site_h_m : numpy.ndarray
        Site positions ``(n, 2)`` and antenna heights ``(n,)``, m.
    demand_xy_m : numpy.ndarray
        Demand unit positions ``(k, 2)``, m.
    link : LinkParams
        Link parameters.
    terrain : TerrainContext, optional
        Terrain for terrain-aware chains.
    floor_dbm : float, optional, keyword-only
        Lowest RSRP kept, dBm.
    """
    import scipy.sparse as sp

    floor = link.threshold_rsrp_dbm if floor_dbm is None else float(floor_dbm)
    n_sites, n_dem = len(site_xy_m), len(demand_xy_m)
    if n_sites == 0 or n_dem == 0:
        return sp.csr_matrix((n_sites, n_dem), dtype=np.float32)
    sampler = _PointSampler(demand_xy_m, link, terrain)
    idx_parts, val_parts = [], []
    for xy, h in zip(np.asarray(site_xy_m, float), np.asarray(site_h_m, float), strict=True):
        idx, rsrp = sampler.site(xy, h)
        keep = rsrp >= floor
        order = np.argsort(idx[keep])
        idx_parts.append(idx[keep][order])
        val_parts.append(rsrp[keep][order])
    return _rows_to_csr(idx_parts, val_parts, n_dem, np.float32)


def _rows_to_csr(columns: list[np.ndarray], values: list[np.ndarray], n_columns: int,
                 dtype: Any) -> sp.csr_matrix:
    """A CSR matrix whose row *i* holds *values[i]* at the sorted *columns[i]*."""
    import scipy.sparse as sp

    indptr = np.zeros(len(columns) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(c) for c in columns])
    indices = (np.concatenate([np.asarray(c, np.int64) for c in columns]) if indptr[-1]
               else np.empty(0, np.int64))
    data = (np.concatenate(values).astype(dtype) if indptr[-1] else np.empty(0, dtype))
    return sp.csr_matrix((data, indices, indptr), shape=(len(columns), n_columns))


def _hits_by_radius(site_xy_m: np.ndarray, site_h_m: np.ndarray, demand_xy_m: np.ndarray,
                    link: LinkParams) -> list[np.ndarray]:
    """Distance-only chains: a unit is covered within the site's coverage radius.

    With sectors, the units within the boresight radius are kept where the design RSRP
    (with the pattern in their direction) reaches the threshold.
    """
    radius_cache: dict[float, float] = {}
    radii = np.empty(len(site_xy_m))
    for j, h in enumerate(np.asarray(site_h_m, float)):
        if h not in radius_cache:
            radius_cache[h] = coverage_radius_m(link, h)
        radii[j] = radius_cache[h]
    from scipy.spatial import cKDTree

    hits = cKDTree(demand_xy_m).query_ball_point(site_xy_m, r=radii)
    out = [np.sort(np.asarray(h, np.int64)) for h in hits]
    if link.antenna.omni:
        return out
    for j, (idx, xy, h) in enumerate(zip(out, np.asarray(site_xy_m, float),
                                         np.asarray(site_h_m, float), strict=True)):
        if len(idx):
            out[j] = idx[rsrp_at(demand_xy_m[idx], xy, h, link) >= link.threshold_rsrp_dbm]
    return out
