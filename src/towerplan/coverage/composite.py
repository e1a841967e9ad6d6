"""Many sites at once: best-server composite and the sparse site-to-demand coverage matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from affine import Affine
from scipy.spatial import cKDTree

from towerplan.coverage.raster import LinkParams, coverage_radius_m, path_loss_db, site_rsrp_window
from towerplan.radio.linkbudget import rsrp_dbm

__all__ = ["BestServer", "best_server", "best_server_points", "coverage_matrix", "rsrp_at"]


class BestServer:
    """Best-server composite of several sites on one grid.

    Attributes
    ----------
    rsrp_dbm : numpy.ndarray
        Strongest RSRP per cell, float32 dBm; ``nan`` where no site reaches.
    server : numpy.ndarray
        Index of the strongest site per cell (int32), -1 where none.
    n_servers : numpy.ndarray
        Number of sites at or above the threshold per cell (uint16).
    """

    __slots__ = ("n_servers", "rsrp_dbm", "server")

    def __init__(self, rsrp: np.ndarray, server: np.ndarray, n_servers: np.ndarray) -> None:
        self.rsrp_dbm = rsrp
        self.server = server
        self.n_servers = n_servers


def best_server(transform: Affine, shape: tuple[int, int], xy_m: np.ndarray,
                heights_m: np.ndarray, link: LinkParams) -> BestServer:
    """Compose the strongest server per cell over all sites.

    Parameters
    ----------
    transform : affine.Affine
        Grid transform (metric CRS).
    shape : tuple of int
        Grid rows and columns.
    xy_m : numpy.ndarray
        Site positions, shape ``(n, 2)``, in the grid's CRS.
    heights_m : numpy.ndarray
        Antenna heights above ground, shape ``(n,)``, m.
    link : LinkParams
        Link parameters.
    """
    best = np.full(shape, np.nan, dtype=np.float32)
    server = np.full(shape, -1, dtype=np.int32)
    count = np.zeros(shape, dtype=np.uint16)
    for i, ((x, y), h) in enumerate(zip(np.asarray(xy_m, float), np.asarray(heights_m, float),
                                        strict=True)):
        win = site_rsrp_window(transform, shape, x, y, h, link)
        if win is None:
            continue
        rows, cols, rsrp = win
        cur = best[rows, cols]
        better = np.isfinite(rsrp) & ~(rsrp <= cur)  # nan-safe: True where cur is nan
        cur[better] = rsrp[better]
        server[rows, cols][better] = i
        count[rows, cols] += (rsrp >= link.threshold_rsrp_dbm).astype(np.uint16)
    return BestServer(best, server, count)


def rsrp_at(points_xy_m: np.ndarray, site_xy_m: np.ndarray, site_h_m: float,
            link: LinkParams) -> np.ndarray:
    """RSRP of one site at given points, dBm (distance-only models)."""
    d = np.hypot(points_xy_m[:, 0] - site_xy_m[0], points_xy_m[:, 1] - site_xy_m[1])
    loss = path_loss_db(d, model=link.model, freq_mhz=link.freq_mhz, h_tx_m=site_h_m,
                        h_rx_m=link.h_rx_m)
    return np.asarray(rsrp_dbm(link.eirp_dbm, loss, link.bandwidth_mhz, link.rx_gain_dbi))


def coverage_matrix(site_xy_m: np.ndarray, site_h_m: np.ndarray, demand_xy_m: np.ndarray,
                    link: LinkParams) -> sp.csr_matrix:
    """Sparse boolean matrix (n_sites, n_demand): True where a site covers a demand unit.

    Memory is proportional to the number of covered (site, unit) pairs.
    """
    n_sites = len(site_xy_m)
    n_dem = len(demand_xy_m)
    if n_sites == 0 or n_dem == 0:
        return sp.csr_matrix((n_sites, n_dem), dtype=bool)
    radius_cache: dict[float, float] = {}
    radii = np.empty(n_sites)
    for j, h in enumerate(np.asarray(site_h_m, float)):
        if h not in radius_cache:
            radius_cache[h] = coverage_radius_m(link, h)
        radii[j] = radius_cache[h]
    tree = cKDTree(demand_xy_m)
    hits = tree.query_ball_point(site_xy_m, r=radii)
    indptr = np.zeros(n_sites + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(h) for h in hits])
    indices = np.fromiter((i for h in hits for i in sorted(h)), dtype=np.int64,
                          count=int(indptr[-1]))
    data = np.ones(len(indices), dtype=bool)
    return sp.csr_matrix((data, indices, indptr), shape=(n_sites, n_dem))


def best_server_points(points_xy_m: np.ndarray, site_xy_m: np.ndarray, heights_m: np.ndarray,
                       link: LinkParams) -> BestServer:
    """Best server at arbitrary points (e.g. demand units) instead of grid cells.

    Returns a :class:`BestServer` whose arrays have one entry per point.
    """
    n = len(points_xy_m)
    best = np.full(n, np.nan, dtype=np.float32)
    server = np.full(n, -1, dtype=np.int32)
    count = np.zeros(n, dtype=np.uint16)
    if n == 0 or len(site_xy_m) == 0:
        return BestServer(best, server, count)
    tree = cKDTree(points_xy_m)
    for i, (xy, h) in enumerate(zip(np.asarray(site_xy_m, float), np.asarray(heights_m, float),
                                    strict=True)):
        idx = np.asarray(tree.query_ball_point(xy, r=link.max_radius_m), dtype=np.int64)
        if len(idx) == 0:
            continue
        rsrp = rsrp_at(points_xy_m[idx], xy, h, link).astype(np.float32)
        cur = best[idx]
        better = ~(rsrp <= cur)
        best[idx[better]] = rsrp[better]
        server[idx[better]] = i
        count[idx] += (rsrp >= link.threshold_rsrp_dbm).astype(np.uint16)
    return BestServer(best, server, count)
