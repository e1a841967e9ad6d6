"""Terrain diffraction: knife-edge loss, Fresnel geometry and multiple knife edges over profiles.

A terrain profile is a row of ground heights at equal spacing ``step_m``, from the ground
under the transmitter (index 0) to the ground under the receiver (last index). Antenna
heights are above that ground. Earth curvature enters through the effective earth radius
``k R_e``: every intermediate point is raised by the earth bulge ``d1 d2 / (2 k R_e)`` before
it is compared with straight lines between the antennas or edges. Adding the bulge of the
whole path is exact for every sub-path too, since the bulge is a parabola whose excess over
any of its chords is the bulge of that chord.

Three multiple-knife-edge methods are provided (``method=``):

``"deygout"``
    The principal edge is the point with the largest Fresnel parameter ``nu`` over the
    transmitter-receiver ray. Then, on each side of it, the point with the largest ``nu``
    over the line from that terminal to the top of the principal edge is a secondary edge.
    The recursion stops there, so at most three edges are used (the principal and one
    secondary on each side). This is the three-edge limit of the Deygout construction in
    earlier ITU-R terrain methods. The loss is ``J(nu_p) + J(nu_t) + J(nu_r)``, where each term
    counts only when its ``nu > -0.78``. The empirical correction terms of those methods are
    not applied.
``"bullington"``
    Bullington's single equivalent knife edge, placed where the steepest lines from each
    antenna over the terrain intersect, as in ITU-R P.526-15 section 4.5.1 (``nu_b``). On a
    line-of-sight path the edge is the point with the largest ``nu``. The loss is
    ``J(nu_b)``, without the empirical correction ``[1 - exp(-L/6)] (10 + 0.02 d)`` of
    section 4.5.1.
``"epstein-peterson"``
    Obstacles are the local maxima of the terrain height above the direct ray. The edges are
    the obstacles on the upper convex hull of the antennas and the obstacles (a rubber band
    from antenna to antenna). Each edge is a knife edge between its neighbours on the hull,
    and the loss is the sum of their ``J(nu)``. If no obstacle rises above the ray, the
    point with the largest ``nu`` is the single edge.

With a single dominant edge, all three give ``J(nu)`` of that edge. A path where every point
has ``nu <= -0.78`` (first Fresnel zone essentially clear) has zero loss with every method.

:func:`diffraction_db` is the readable numpy reference for one profile.
:func:`diffraction_many_db` runs the same algorithms over many profiles in a numba kernel,
parallel over profiles. Without numba, the kernel runs as plain Python and gives the same
results much more slowly.

References
----------
ITU-R P.526-15 (10/2019), "Propagation by diffraction": Fresnel ellipsoids and zones,
eq. (2); single knife edge, section 4.1, eqs. (26) and (31); Bullington method for a general
path, section 4.5.1.
J. Deygout, "Multiple knife-edge diffraction of microwaves", IEEE Trans. Antennas Propag.
14(4), 480-489, 1966.
J. Epstein and D. W. Peterson, "An experimental study of wave propagation at 850 Mc",
Proc. IRE 41(5), 595-611, 1953.
K. Bullington, "Radio propagation at frequencies above 30 megacycles", Proc. IRE 35(10),
1122-1136, 1947.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError

try:
    import numba
except ImportError:  # pragma: no cover - the kernels then run as plain Python
    numba = None  # type: ignore[assignment]

__all__ = [
    "EARTH_RADIUS_M",
    "SPEED_OF_LIGHT_M_S",
    "diffraction_db",
    "diffraction_many_db",
    "earth_bulge_m",
    "fresnel_parameter",
    "fresnel_radius_m",
    "knife_edge_db",
]

#: Mean earth radius, m (the value used with the k-factor in ITU-R terrain methods).
EARTH_RADIUS_M = 6_371_000.0
#: Speed of light in vacuum, m/s.
SPEED_OF_LIGHT_M_S = 299_792_458.0

_NU_MIN = -0.78
_METHOD_CODES: dict[str, int] = {"deygout": 0, "bullington": 1, "epstein-peterson": 2}
_DEYGOUT, _BULLINGTON = 0, 1  # any other code: Epstein-Peterson

_F = TypeVar("_F", bound=Callable[..., Any])


def _jit(fn: _F) -> _F:
    """Compile with numba (cached on disk) when numba is available."""
    if numba is None:  # pragma: no cover
        return fn
    return cast(_F, numba.njit(cache=True)(fn))


def _jit_parallel(fn: _F) -> _F:
    """Compile with numba, parallel over ``prange`` loops, when numba is available."""
    if numba is None:  # pragma: no cover
        return fn
    return cast(_F, numba.njit(parallel=True, cache=True)(fn))


_prange = range if numba is None else numba.prange


def _float_or_array(out: np.ndarray) -> np.ndarray | float:
    return float(out) if out.ndim == 0 else out


def _wavelength_m(freq_mhz: ArrayLike) -> np.ndarray:
    return SPEED_OF_LIGHT_M_S / (np.asarray(freq_mhz, dtype=float) * 1e6)


# --------------------------------------------------------------------------- closed forms


def knife_edge_db(nu: ArrayLike) -> np.ndarray | float:
    """Diffraction loss of a single knife edge, J(nu), ITU-R P.526 approximation.

    Parameters
    ----------
    nu : float or array
        Fresnel-Kirchhoff diffraction parameter (dimensionless), see
        :func:`fresnel_parameter`.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB: ``6.9 + 20 log10(sqrt((nu - 0.1)**2 + 1) + nu - 0.1)`` for
        ``nu > -0.78``, else 0. NaN stays NaN.

    References
    ----------
    ITU-R P.526-15, section 4.1, equation (31).

    Examples
    --------
    >>> round(float(knife_edge_db(0.0)), 2), round(float(knife_edge_db(1.0)), 2)
    (6.03, 13.93)
    >>> float(knife_edge_db(-1.0))
    0.0
    """
    v = np.asarray(nu, dtype=float)
    loss = 6.9 + 20.0 * np.log10(np.sqrt((v - 0.1) ** 2 + 1.0) + v - 0.1)
    return _float_or_array(np.where(v <= _NU_MIN, 0.0, loss))


def fresnel_parameter(h_m: ArrayLike, d1_m: ArrayLike, d2_m: ArrayLike,
                      freq_mhz: ArrayLike) -> np.ndarray | float:
    """Fresnel-Kirchhoff diffraction parameter nu of an obstacle.

    Parameters
    ----------
    h_m : float or array
        Height of the obstacle top above the straight line between the two ends, m
        (negative when the top is below the line).
    d1_m, d2_m : float or array
        Distances from the obstacle to each end, m (> 0).
    freq_mhz : float or array
        Frequency, MHz (> 0).

    Returns
    -------
    float or numpy.ndarray
        ``nu = h sqrt(2 (d1 + d2) / (lambda d1 d2))``, dimensionless.

    References
    ----------
    ITU-R P.526-15, section 4.1, equation (26).

    Examples
    --------
    >>> round(float(fresnel_parameter(10.0, 5000.0, 5000.0, 900.0)), 2)
    0.49
    """
    h = np.asarray(h_m, dtype=float)
    d1 = np.asarray(d1_m, dtype=float)
    d2 = np.asarray(d2_m, dtype=float)
    f = np.asarray(freq_mhz, dtype=float)
    if np.any(~(d1 > 0)) or np.any(~(d2 > 0)) or np.any(~(f > 0)):
        msg = "fresnel_parameter needs d1_m > 0, d2_m > 0 and freq_mhz > 0"
        raise ModelDomainError(msg)
    lam = _wavelength_m(f)
    return _float_or_array(h * np.sqrt(2.0 * (d1 + d2) / (lam * d1 * d2)))


def fresnel_radius_m(d1_m: ArrayLike, d2_m: ArrayLike, freq_mhz: ArrayLike,
                     zone: int = 1) -> np.ndarray | float:
    """Radius of the n-th Fresnel ellipsoid at a point of a path.

    Parameters
    ----------
    d1_m, d2_m : float or array
        Distances from the point to each end, m (>= 0, with ``d1 + d2 > 0``).
    freq_mhz : float or array
        Frequency, MHz (> 0).
    zone : int
        Fresnel zone number n (>= 1; default the first zone).

    Returns
    -------
    float or numpy.ndarray
        ``R_n = sqrt(n lambda d1 d2 / (d1 + d2))`` in m; 0 at the ends.

    References
    ----------
    ITU-R P.526-15, Fresnel ellipsoids and Fresnel zones, equation (2).

    Examples
    --------
    >>> round(float(fresnel_radius_m(10_000.0, 10_000.0, 13_000.0)), 2)
    10.74
    """
    d1 = np.asarray(d1_m, dtype=float)
    d2 = np.asarray(d2_m, dtype=float)
    f = np.asarray(freq_mhz, dtype=float)
    if (np.any(~(d1 >= 0)) or np.any(~(d2 >= 0)) or np.any(~(d1 + d2 > 0))
            or np.any(~(f > 0)) or int(zone) != zone or zone < 1):
        msg = ("fresnel_radius_m needs d1_m >= 0, d2_m >= 0, d1_m + d2_m > 0, "
               f"freq_mhz > 0 and an integer zone >= 1 (zone = {zone})")
        raise ModelDomainError(msg)
    lam = _wavelength_m(f)
    return _float_or_array(np.sqrt(zone * lam * d1 * d2 / (d1 + d2)))


def earth_bulge_m(d1_m: ArrayLike, d2_m: ArrayLike,
                  k_factor: float = 4.0 / 3.0) -> np.ndarray | float:
    """Height of the earth bulge above the chord between two ends of a path.

    Parameters
    ----------
    d1_m, d2_m : float or array
        Distances from the point to each end, m.
    k_factor : float
        Effective earth radius factor (> 0; default 4/3, the median standard atmosphere;
        ``math.inf`` gives a flat earth).

    Returns
    -------
    float or numpy.ndarray
        ``d1 d2 / (2 k R_e)`` in m, with ``R_e = 6371 km``.

    References
    ----------
    ITU-R P.526-15, section 4.5.1: the term ``500 C_e d_i (d - d_i)`` with
    ``C_e = 1 / (k R_e)`` (km), which is this bulge.

    Examples
    --------
    >>> round(float(earth_bulge_m(10_000.0, 10_000.0)), 3)
    5.886
    """
    if not k_factor > 0:
        msg = f"k_factor must be > 0, got {k_factor}"
        raise ModelDomainError(msg)
    d1 = np.asarray(d1_m, dtype=float)
    d2 = np.asarray(d2_m, dtype=float)
    return _float_or_array(d1 * d2 / (2.0 * k_factor * EARTH_RADIUS_M))


# ------------------------------------------------------------------ numpy reference (one row)


def _j(nu: float) -> float:
    return float(knife_edge_db(nu))


def _profile_xy(heights: np.ndarray, step: float, h_tx: float, h_rx: float,
                inv_2kr: float) -> tuple[np.ndarray, np.ndarray]:
    """Distances and effective heights; the two ends are the antenna tips."""
    n = heights.size
    x = np.arange(n) * step
    total = (n - 1) * step
    y = heights + x * (total - x) * inv_2kr
    y[0] = heights[0] + h_tx
    y[n - 1] = heights[n - 1] + h_rx
    return x, y


def _nus(x: np.ndarray, y: np.ndarray, a: int, b: int, lam: float) -> np.ndarray:
    """Fresnel parameters of the points strictly between a and b over the line a-b."""
    d = x[b] - x[a]
    d1 = x[a + 1:b] - x[a]
    d2 = x[b] - x[a + 1:b]
    h = y[a + 1:b] - (y[a] + (y[b] - y[a]) * d1 / d)
    return np.asarray(h * np.sqrt(2.0 * d / (lam * d1 * d2)))


def _deygout_ref(x: np.ndarray, y: np.ndarray, lam: float) -> float:
    last = x.size - 1
    nus = _nus(x, y, 0, last, lam)
    p = int(np.argmax(nus)) + 1
    if nus[p - 1] <= _NU_MIN:
        return 0.0
    loss = _j(nus[p - 1])
    for a, b in ((0, p), (p, last)):
        if b - a >= 2:
            loss += _j(float(np.max(_nus(x, y, a, b, lam))))
    return loss


def _bullington_ref(x: np.ndarray, y: np.ndarray, lam: float) -> float:
    last = x.size - 1
    total = x[last]
    zt, zr = y[0], y[last]
    xi, yi = x[1:last], y[1:last]
    s_tim = float(np.max((yi - zt) / xi))
    s_tr = (zr - zt) / total
    if s_tim >= s_tr:
        s_rim = float(np.max((yi - zr) / (total - xi)))
        if s_tim + s_rim > 0:
            db = (zr - zt + s_rim * total) / (s_tim + s_rim)
            if 0 < db < total:
                h = zt + s_tim * db - (zt * (total - db) + zr * db) / total
                return _j(h * math.sqrt(2.0 * total / (lam * db * (total - db))))
    return _j(float(np.max(_nus(x, y, 0, last, lam))))


def _upper_hull(x: np.ndarray, y: np.ndarray, candidates: list[int]) -> list[int]:
    hull: list[int] = []
    for i in candidates:
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
            if cross < 0:
                break
            hull.pop()
        hull.append(i)
    return hull


def _epstein_peterson_ref(x: np.ndarray, y: np.ndarray, ground: np.ndarray,
                          lam: float) -> float:
    last = x.size - 1
    nus = _nus(x, y, 0, last, lam)
    if float(np.max(nus)) <= _NU_MIN:
        return 0.0
    above = ground - (y[0] + (y[last] - y[0]) * x / x[last])
    peaks = [i for i in range(1, last)
             if above[i] >= above[i - 1] and above[i] >= above[i + 1]]
    hull = _upper_hull(x, y, [0, *peaks, last])
    if len(hull) == 2:
        return _j(float(np.max(nus)))
    loss = 0.0
    for k in range(1, len(hull) - 1):
        a, i, b = hull[k - 1], hull[k], hull[k + 1]
        loss += _j(float(_nus(x, y, a, b, lam)[i - a - 1]))
    return loss


# ---------------------------------------------------------------------- numba kernel (rows)


@_jit
def _j_k(nu: float) -> float:
    if nu <= _NU_MIN:
        return 0.0
    return 6.9 + 20.0 * math.log10(math.sqrt((nu - 0.1) ** 2 + 1.0) + nu - 0.1)


@_jit
def _nu_k(x: np.ndarray, y: np.ndarray, a: int, i: int, b: int, lam: float) -> float:
    d = x[b] - x[a]
    d1 = x[i] - x[a]
    d2 = x[b] - x[i]
    h = y[i] - (y[a] + (y[b] - y[a]) * d1 / d)
    return float(h * math.sqrt(2.0 * d / (lam * d1 * d2)))


@_jit
def _max_nu_k(x: np.ndarray, y: np.ndarray, a: int, b: int, lam: float) -> tuple[float, int]:
    best, where = -np.inf, -1
    for i in range(a + 1, b):
        v = _nu_k(x, y, a, i, b, lam)
        if v > best:
            best, where = v, i
    return best, where


@_jit
def _deygout_k(x: np.ndarray, y: np.ndarray, lam: float) -> float:
    last = x.size - 1
    nu_p, p = _max_nu_k(x, y, 0, last, lam)
    if nu_p <= _NU_MIN:
        return 0.0
    loss = _j_k(nu_p)
    if p >= 2:
        loss += _j_k(_max_nu_k(x, y, 0, p, lam)[0])
    if last - p >= 2:
        loss += _j_k(_max_nu_k(x, y, p, last, lam)[0])
    return loss


@_jit
def _bullington_k(x: np.ndarray, y: np.ndarray, lam: float) -> float:
    last = x.size - 1
    total = x[last]
    zt, zr = y[0], y[last]
    s_tim, s_rim = -np.inf, -np.inf
    for i in range(1, last):
        s_tim = max(s_tim, (y[i] - zt) / x[i])
        s_rim = max(s_rim, (y[i] - zr) / (total - x[i]))
    s_tr = (zr - zt) / total
    if s_tim >= s_tr and s_tim + s_rim > 0:
        db = (zr - zt + s_rim * total) / (s_tim + s_rim)
        if 0 < db < total:
            h = zt + s_tim * db - (zt * (total - db) + zr * db) / total
            return _j_k(h * math.sqrt(2.0 * total / (lam * db * (total - db))))
    return _j_k(_max_nu_k(x, y, 0, last, lam)[0])


@_jit
def _epstein_peterson_k(x: np.ndarray, y: np.ndarray, ground: np.ndarray, lam: float) -> float:
    last = x.size - 1
    nu_max = _max_nu_k(x, y, 0, last, lam)[0]
    if nu_max <= _NU_MIN:
        return 0.0
    above = np.empty(last + 1)
    for i in range(last + 1):
        above[i] = ground[i] - (y[0] + (y[last] - y[0]) * x[i] / x[last])
    hull = np.empty(last + 1, dtype=np.int64)
    top = 0
    for i in range(last + 1):
        if 0 < i < last and not (above[i] >= above[i - 1] and above[i] >= above[i + 1]):
            continue
        while top >= 2:
            o, a = hull[top - 2], hull[top - 1]
            cross = (x[a] - x[o]) * (y[i] - y[o]) - (y[a] - y[o]) * (x[i] - x[o])
            if cross < 0:
                break
            top -= 1
        hull[top] = i
        top += 1
    if top == 2:
        return _j_k(nu_max)
    loss = 0.0
    for k in range(1, top - 1):
        loss += _j_k(_nu_k(x, y, hull[k - 1], hull[k], hull[k + 1], lam))
    return loss


@_jit
def _row_db_k(heights: np.ndarray, n: int, step: float, h_tx: float, h_rx: float,
              lam: float, inv_2kr: float, method: int) -> float:
    if n < 3:
        return 0.0
    x = np.empty(n)
    y = np.empty(n)
    ground = np.empty(n)
    total = (n - 1) * step
    for i in range(n):
        x[i] = i * step
        ground[i] = heights[i] + x[i] * (total - x[i]) * inv_2kr
        y[i] = ground[i]
    y[0] = heights[0] + h_tx
    y[n - 1] = heights[n - 1] + h_rx
    if method == _DEYGOUT:
        return _deygout_k(x, y, lam)
    if method == _BULLINGTON:
        return _bullington_k(x, y, lam)
    return _epstein_peterson_k(x, y, ground, lam)


@_jit_parallel
def _many_db_k(heights: np.ndarray, n_points: np.ndarray, step: np.ndarray, h_tx: np.ndarray,
               h_rx: np.ndarray, lam: np.ndarray, inv_2kr: float, method: int) -> np.ndarray:
    rows = heights.shape[0]
    out = np.zeros(rows)
    for r in _prange(rows):
        out[r] = _row_db_k(heights[r], n_points[r], step[r], h_tx[r], h_rx[r], lam[r],
                           inv_2kr, method)
    return out


# ------------------------------------------------------------------------------ public API


def _method_problems(method: str) -> list[str]:
    if method in _METHOD_CODES:
        return []
    return [f"method must be one of {', '.join(_METHOD_CODES)}, got {method!r}"]


def _scalar_problems(step_m: np.ndarray, h_tx_m: np.ndarray, h_rx_m: np.ndarray,
                     freq_mhz: np.ndarray, k_factor: float) -> list[str]:
    problems = []
    for name, value, ok in (
        ("step_m", step_m, np.isfinite(step_m) & (step_m > 0)),
        ("h_tx_m", h_tx_m, np.isfinite(h_tx_m) & (h_tx_m >= 0)),
        ("h_rx_m", h_rx_m, np.isfinite(h_rx_m) & (h_rx_m >= 0)),
        ("freq_mhz", freq_mhz, np.isfinite(freq_mhz) & (freq_mhz > 0)),
    ):
        if not np.all(ok):
            bad = value[~ok]
            problems.append(f"{name} = {float(bad.flat[0]):g} is invalid"
                            + (" (must be > 0)" if name in ("step_m", "freq_mhz")
                               else " (must be >= 0)"))
    if not k_factor > 0:
        problems.append(f"k_factor = {k_factor:g} is invalid (must be > 0)")
    return problems


def _raise(problems: list[str]) -> None:
    if problems:
        msg = "diffraction: " + "; ".join(problems)
        raise ModelDomainError(msg)


def diffraction_db(
    heights_m: ArrayLike,
    step_m: float,
    h_tx_m: float,
    h_rx_m: float,
    freq_mhz: float,
    method: str = "deygout",
    k_factor: float = 4.0 / 3.0,
) -> float:
    """Multiple knife-edge diffraction loss over one terrain profile.

    Parameters
    ----------
    heights_m : array of float, shape (n,)
        Ground heights at equal spacing, m: ``heights_m[0]`` under the transmitter,
        ``heights_m[-1]`` under the receiver (n >= 2; the input is not modified).
    step_m : float
        Spacing of the heights, m (> 0).
    h_tx_m, h_rx_m : float
        Antenna heights above the ground at each end, m (>= 0).
    freq_mhz : float
        Frequency, MHz (> 0).
    method : {"deygout", "bullington", "epstein-peterson"}
        Multiple knife-edge method (see the module documentation; default Deygout with at
        most three edges).
    k_factor : float
        Effective earth radius factor (default 4/3; ``math.inf`` for a flat earth).

    Returns
    -------
    float
        Diffraction loss in dB (>= 0), to be added to free-space or base-model loss. It is 0
        when every point has ``nu <= -0.78`` or the profile has no intermediate point.

    Raises
    ------
    ModelDomainError
        Listing every invalid input (non-finite heights, non-positive step or frequency,
        negative antenna height, unknown method).

    References
    ----------
    ITU-R P.526-15, sections 4.1 (knife edge, eqs. 26 and 31) and 4.5.1 (Bullington);
    Deygout (1966); Epstein and Peterson (1953).

    Examples
    --------
    A 10 km path at 900 MHz with a 60 m ridge halfway, 30 m and 1.5 m antennas:

    >>> import numpy as np
    >>> z = np.zeros(101)
    >>> z[50] = 60.0
    >>> round(diffraction_db(z, 100.0, 30.0, 1.5, 900.0), 2)
    20.82
    >>> round(diffraction_db(np.zeros(101), 100.0, 30.0, 30.0, 900.0), 2)
    0.0
    """
    z = np.array(heights_m, dtype=float)
    problems = _method_problems(method)
    if z.ndim != 1 or z.size < 2:
        problems.append(f"heights_m must be 1-D with at least 2 points, got shape {z.shape}")
    elif not np.all(np.isfinite(z)):
        problems.append(f"heights_m has {int(np.sum(~np.isfinite(z)))} non-finite values")
    problems += _scalar_problems(np.asarray(step_m, dtype=float), np.asarray(h_tx_m, float),
                                 np.asarray(h_rx_m, float), np.asarray(freq_mhz, float),
                                 k_factor)
    _raise(problems)
    if z.size < 3:
        return 0.0
    code = _METHOD_CODES[method]
    inv_2kr = 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)
    lam = SPEED_OF_LIGHT_M_S / (float(freq_mhz) * 1e6)
    x, y = _profile_xy(z, float(step_m), float(h_tx_m), float(h_rx_m), inv_2kr)
    if code == _DEYGOUT:
        return _deygout_ref(x, y, lam)
    if code == _BULLINGTON:
        return _bullington_ref(x, y, lam)
    ground = z + x * (x[-1] - x) * inv_2kr
    return _epstein_peterson_ref(x, y, ground, lam)


def _per_row(name: str, value: ArrayLike, rows: int) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] != rows):
        msg = f"diffraction: {name} must be a scalar or have one value per profile ({rows})"
        raise ModelDomainError(msg)
    return np.ascontiguousarray(np.broadcast_to(arr, (rows,)))


def diffraction_many_db(
    heights_2d: ArrayLike,
    n_points: ArrayLike | None,
    step_m: ArrayLike,
    h_tx_m: ArrayLike,
    h_rx_m: ArrayLike,
    freq_mhz: ArrayLike,
    method: str = "deygout",
    k_factor: float = 4.0 / 3.0,
) -> np.ndarray:
    """Diffraction loss over many terrain profiles at once (numba, parallel over profiles).

    Gives the same result as :func:`diffraction_db` applied to each row (to rounding).

    Parameters
    ----------
    heights_2d : array of float, shape (m, w)
        One profile per row, padded to a common width w. Row r uses
        ``heights_2d[r, :n_points[r]]``; the padding is ignored and may hold NaN.
    n_points : int, array of int, shape (m,), or None
        Valid length of each row (2 <= n_points <= w); None means every row has w points.
    step_m : float or array, shape (m,)
        Spacing of the heights, m, for all rows or per row.
    h_tx_m, h_rx_m : float or array, shape (m,)
        Antenna heights above the ground at each end, m, for all rows or per row.
    freq_mhz : float or array, shape (m,)
        Frequency, MHz, for all rows or per row.
    method : {"deygout", "bullington", "epstein-peterson"}
        Multiple knife-edge method (default Deygout, at most three edges).
    k_factor : float
        Effective earth radius factor (default 4/3; ``math.inf`` for a flat earth).

    Returns
    -------
    numpy.ndarray, shape (m,)
        Diffraction loss of each profile, dB.

    Raises
    ------
    ModelDomainError
        Listing every invalid input.

    References
    ----------
    As :func:`diffraction_db`.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.zeros((2, 101))
    >>> z[0, 50] = 60.0
    >>> np.round(diffraction_many_db(z, [101, 101], 100.0, 30.0, 1.5, 900.0), 2).tolist()
    [20.82, 14.47]
    """
    z = np.asarray(heights_2d, dtype=float)
    if z.ndim != 2:
        msg = f"diffraction: heights_2d must be 2-D (profiles x points), got shape {z.shape}"
        raise ModelDomainError(msg)
    rows, width = z.shape
    z = np.ascontiguousarray(z)
    n_arr = np.full(rows, width) if n_points is None else np.asarray(n_points)
    problems = _method_problems(method)
    if n_arr.ndim > 1 or (n_arr.ndim == 1 and n_arr.shape[0] != rows):
        problems.append(f"n_points must be a scalar or have one value per profile ({rows})")
        n_arr = np.full(rows, width)
    elif not np.issubdtype(n_arr.dtype, np.integer):
        problems.append(f"n_points must be integers, got dtype {n_arr.dtype}")
        n_arr = np.full(rows, width)
    n_arr = np.ascontiguousarray(np.broadcast_to(n_arr, (rows,)), dtype=np.int64)
    bad_n = (n_arr < 2) | (n_arr > width)
    if np.any(bad_n):
        problems.append(f"n_points must be within 2-{width}; {int(bad_n.sum())} rows are not, "
                        f"first row {int(np.argmax(bad_n))}")
    else:
        valid = np.arange(width) < n_arr[:, None]
        bad_rows = np.any(valid & ~np.isfinite(z), axis=1)
        if np.any(bad_rows):
            problems.append(f"heights_2d has non-finite values in {int(bad_rows.sum())} rows, "
                            f"first row {int(np.argmax(bad_rows))}")
    step = _per_row("step_m", step_m, rows)
    h_tx = _per_row("h_tx_m", h_tx_m, rows)
    h_rx = _per_row("h_rx_m", h_rx_m, rows)
    freq = _per_row("freq_mhz", freq_mhz, rows)
    problems += _scalar_problems(step, h_tx, h_rx, freq, k_factor)
    _raise(problems)
    if rows == 0:
        return np.zeros(0)
    lam = np.ascontiguousarray(SPEED_OF_LIGHT_M_S / (freq * 1e6))
    inv_2kr = 1.0 / (2.0 * k_factor * EARTH_RADIUS_M)
    return np.asarray(_many_db_k(z, n_arr, step, h_tx, h_rx, lam, inv_2kr,
                                 _METHOD_CODES[method]))
