"""Terrain profiles between two points and their line-of-sight geometry.

Kernels take arrays, numbers and an ``Affine``; no file is read here. Distances along the path
are geodesic (pyproj ``Geod`` on WGS 84); heights are sampled bilinearly from the DEM grid at a
step tied to its resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS, Geod, Transformer

from towerplan.errors import ModelDomainError
from towerplan.radio.diffraction import earth_bulge_m, fresnel_radius_m

__all__ = ["Clearance", "Profile", "line_of_sight", "sample_bilinear", "terrain_profile"]

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Profile:
    """Terrain heights along a path at equal geodesic spacing.

    Attributes
    ----------
    distance_m : numpy.ndarray
        Geodesic distance of each sample from the start, m.
    heights_m : numpy.ndarray
        Terrain height of each sample, m (nan where the DEM has no data).
    lon, lat : numpy.ndarray
        Sample positions, degrees (WGS 84).
    step_m : float
        Spacing between samples, m.
    """

    distance_m: np.ndarray
    heights_m: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    step_m: float

    @property
    def length_m(self) -> float:
        """Geodesic path length, m."""
        return float(self.distance_m[-1])


@dataclass(frozen=True, slots=True)
class Clearance:
    """Line of sight and first-Fresnel-zone clearance of a path.

    Attributes
    ----------
    los : bool
        True when the straight ray (over a k-factor earth) clears the terrain everywhere.
    worst_ratio : float
        Smallest clearance / first-Fresnel-radius over the intermediate points (1 = the zone is
        just clear, 0 = the ray grazes, negative = blocked); ``inf`` for a path with no
        intermediate point.
    worst_index : int
        Sample index where ``worst_ratio`` occurs (-1 when none).
    ray_m : numpy.ndarray
        Height of the straight ray between the antenna tips at each sample, m.
    terrain_m : numpy.ndarray
        Terrain height plus the earth bulge at each sample, m (what the ray must clear).
    clearance_m : numpy.ndarray
        Ray height minus terrain height at each sample, m.
    fresnel_m : numpy.ndarray
        First-Fresnel-zone radius at each sample, m.
    """

    los: bool
    worst_ratio: float
    worst_index: int
    ray_m: np.ndarray
    terrain_m: np.ndarray
    clearance_m: np.ndarray
    fresnel_m: np.ndarray


def sample_bilinear(array: np.ndarray, transform: Affine, x: np.ndarray, y: np.ndarray
                    ) -> np.ndarray:
    """Bilinear interpolation of a north-up grid at points (nan outside or next to nan).

    Parameters
    ----------
    array : numpy.ndarray
        Grid values, shape ``(rows, cols)``.
    transform : affine.Affine
        Pixel-to-CRS transform of the grid (north-up).
    x, y : numpy.ndarray
        Points in the grid's CRS.

    Examples
    --------
    >>> import numpy as np
    >>> from affine import Affine
    >>> grid = np.array([[0.0, 10.0], [20.0, 30.0]])
    >>> float(sample_bilinear(grid, Affine(1, 0, 0, 0, -1, 2), np.array([1.0]), np.array([1.0]))[0])
    15.0
    """
    col = (np.asarray(x, float) - transform.c) / transform.a - 0.5
    row = (np.asarray(y, float) - transform.f) / transform.e - 0.5
    rows, cols = array.shape
    c0 = np.floor(col).astype(int)
    r0 = np.floor(row).astype(int)
    fc = col - c0
    fr = row - r0
    inside = (r0 >= 0) & (c0 >= 0) & (r0 + 1 < rows) & (c0 + 1 < cols)
    # Points on the outer half-cell border use the edge value.
    edge = ~inside & (row >= -0.5) & (col >= -0.5) & (row <= rows - 0.5) & (col <= cols - 0.5)
    out = np.full(col.shape, np.nan)
    r, c, a, b = r0[inside], c0[inside], fr[inside], fc[inside]
    out[inside] = ((1 - a) * (1 - b) * array[r, c] + (1 - a) * b * array[r, c + 1]
                   + a * (1 - b) * array[r + 1, c] + a * b * array[r + 1, c + 1])
    if edge.any():
        rr = np.clip(np.rint(row[edge]), 0, rows - 1).astype(int)
        cc = np.clip(np.rint(col[edge]), 0, cols - 1).astype(int)
        out[edge] = array[rr, cc]
    return out


def terrain_profile(array: np.ndarray, transform: Affine, crs: CRS | str,
                    start_lonlat: tuple[float, float], end_lonlat: tuple[float, float], *,
                    step_m: float | None = None) -> Profile:
    """Extract the terrain profile between two points from a DEM grid.

    Parameters
    ----------
    array : numpy.ndarray
        DEM heights, m (nan = no data).
    transform : affine.Affine
        DEM grid transform.
    crs : pyproj.CRS or str
        DEM grid CRS (projected or geographic).
    start_lonlat, end_lonlat : tuple of float
        Path ends, degrees (WGS 84 longitude, latitude).
    step_m : float, optional
        Sample spacing, m. Default: the DEM cell size (in metres at the path's latitude), so
        every cell crossed is sampled about once.

    Returns
    -------
    Profile
        Samples at equal geodesic spacing from start to end, both ends included.

    Raises
    ------
    ModelDomainError
        When both ends coincide or a sample falls outside the DEM.
    """
    lon1, lat1 = start_lonlat
    lon2, lat2 = end_lonlat
    _, _, length_m = _GEOD.inv(lon1, lat1, lon2, lat2)
    if not length_m > 0:
        msg = "the two ends of the path coincide: give two different points"
        raise ModelDomainError(msg)
    crs = CRS.from_user_input(crs)
    if step_m is None:
        step_m = _cell_size_m(transform, crs, (lat1 + lat2) / 2.0)
    n_steps = max(int(math.ceil(length_m / step_m)), 1)
    inner = _GEOD.npts(lon1, lat1, lon2, lat2, n_steps - 1) if n_steps > 1 else []
    lon = np.array([lon1, *(p[0] for p in inner), lon2])
    lat = np.array([lat1, *(p[1] for p in inner), lat2])
    to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_grid.transform(lon, lat)
    heights = sample_bilinear(array, transform, np.asarray(x), np.asarray(y))
    if np.isnan(heights).any():
        k = int(np.flatnonzero(np.isnan(heights))[0])
        msg = (f"the path leaves the terrain data at {lon[k]:.5f}, {lat[k]:.5f} "
               f"({k * length_m / n_steps / 1000:.2f} km from the start); use a DEM that "
               "covers the whole path")
        raise ModelDomainError(msg)
    step = length_m / n_steps
    return Profile(np.arange(n_steps + 1) * step, heights, lon, lat, float(step))


def _cell_size_m(transform: Affine, crs: CRS, lat: float) -> float:
    size = min(abs(transform.a), abs(transform.e))
    if crs.is_geographic:
        return size * 111_320.0 * max(math.cos(math.radians(lat)), 0.1)
    return float(size)


def line_of_sight(heights_m: np.ndarray, step_m: float, h_tx_m: float, h_rx_m: float,
                  freq_mhz: float, k_factor: float = 4.0 / 3.0) -> Clearance:
    """Line of sight and first-Fresnel-zone clearance over a k-factor earth.

    The ray is the straight line between the antenna tips; intermediate terrain is raised by
    the earth bulge ``d1 d2 / (2 k R)`` before it is compared with the ray.

    Parameters
    ----------
    heights_m : numpy.ndarray
        Terrain heights from transmitter to receiver at equal spacing, m.
    step_m : float
        Spacing, m.
    h_tx_m, h_rx_m : float
        Antenna heights above ground at the two ends, m.
    freq_mhz : float
        Frequency, MHz.
    k_factor : float
        Effective earth radius factor (default 4/3).

    Examples
    --------
    >>> import numpy as np
    >>> c = line_of_sight(np.zeros(101), 100.0, 30.0, 30.0, 900.0)
    >>> c.los, round(c.worst_ratio, 2)
    (True, 1.44)
    """
    z = np.asarray(heights_m, dtype=float)
    n = len(z)
    d = np.arange(n) * float(step_m)
    total = d[-1]
    d1, d2 = d, total - d
    terrain = z + np.asarray(earth_bulge_m(d1, d2, k_factor))
    ray = (z[0] + h_tx_m) + (z[-1] + h_rx_m - z[0] - h_tx_m) * d / total
    clearance = ray - terrain
    fresnel = np.zeros(n)
    if n > 2:
        fresnel[1:-1] = fresnel_radius_m(d1[1:-1], d2[1:-1], freq_mhz)
        ratio = clearance[1:-1] / fresnel[1:-1]
        k = int(np.argmin(ratio))
        worst, index = float(ratio[k]), k + 1
        los = bool(np.all(clearance[1:-1] > 0))
    else:
        worst, index, los = math.inf, -1, True
    return Clearance(los, worst, index, ray, terrain, clearance, fresnel)
