r"""Longley-Rice (ITM 1.4) as numba scalar kernels, for coverage over many paths.

A line-by-line port of :mod:`towerplan.radio.itm` (NTIA ITM 1.4) that compiles with numba,
so that a coverage kernel can evaluate ITM on every cell of a grid without calling Python:

- :func:`profile_geometry_k`: profile analysis (NTIA *qlrpfl*: horizons, :math:`\Delta h`,
  effective heights), from a profile array;
- :func:`terrain_irregularity_k`: :math:`\Delta h` (*dlthx*), with a cap on the number of
  resampled points;
- :func:`finish_geometry_k`: effective heights and smooth-earth horizons from the horizons
  and the terrain-line fits (the end of *qlrpfl*), for callers that find the horizons and the
  fits another way;
- :func:`reference_attenuation_k` (*lrprop*: *alos*, *adiff*, *ascat*) and
  :func:`variability_k` (*avar*), on the path parameters of :class:`ItmPath`;
- :func:`itm_loss_k`: both, plus free space: the basic transmission loss;
- :func:`itm_profile_k`: the whole point-to-point computation from a profile, equal to
  :func:`towerplan.radio.itm.itm_p2p` to rounding (about 1e-9 dB).

Input checks, soft warnings and the site constants (ground impedance, quantiles) stay in
Python: :func:`itm_constants` validates a set of :class:`towerplan.radio.itm.ItmSettings`
once per call of a coverage kernel. The kernels use numpy's error model: they never raise.

References
----------
G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm", NTIA/ITS 1995,
sec. 3-5; NTIA/ITS, "Irregular Terrain Model (ITM) v1.4", https://github.com/NTIA/itm.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from towerplan.errors import ModelDomainError
from towerplan.radio import itm as _itm
from towerplan.radio.itm import CLIMATES, ItmSettings

__all__ = [
    "MODE_DIFFRACTION",
    "MODE_LINE_OF_SIGHT",
    "MODE_TROPOSCATTER",
    "ItmConstants",
    "ItmPath",
    "earth_k",
    "finish_geometry_k",
    "fit_window_k",
    "horizons_k",
    "itm_constants",
    "itm_loss_k",
    "itm_profile_k",
    "profile_geometry_k",
    "reference_attenuation_k",
    "terrain_irregularity_k",
    "terrain_line_k",
    "trapezoid_fit_k",
    "variability_k",
]

MODE_LINE_OF_SIGHT, MODE_DIFFRACTION, MODE_TROPOSCATTER = 0, 1, 2
#: Names of the propagation modes, by the codes the kernels return.
MODE_NAMES = ("line_of_sight", "diffraction", "troposcatter")

_GAMMA_A = 157e-9
_A_0_M = 6370e3
_A_9000_M = 9000e3
_SQRT2 = math.sqrt(2.0)
_THIRD = 1.0 / 3.0
_H0_A = np.array((25.0, 80.0, 177.0, 395.0, 705.0))
_H0_B = np.array((24.0, 45.0, 68.0, 80.0, 105.0))
_V_MED = np.array(_itm._V_MED)
_SIGMA_T_MINUS = np.array(_itm._SIGMA_T_MINUS)
_SIGMA_T_PLUS = np.array(_itm._SIGMA_T_PLUS)
_C_D = np.array(_itm._C_D)
_Z_D = np.array(_itm._Z_D)
_G_MINUS = np.array(_itm._G_MINUS)
_G_PLUS = np.array(_itm._G_PLUS)


class ItmConstants(NamedTuple):
    """Constants of one site and set of settings, as the kernels read them."""

    f_mhz: float
    h_tx: float  # antenna heights above ground, m
    h_rx: float
    n0: float  # surface refractivity at sea level, N-units
    z_g: complex  # surface transfer impedance
    climate: int  # 0-based climate index
    mdvar: int
    z_t: float  # standard normal deviates of the time, location and situation quantiles
    z_l: float
    z_s: float


class ItmPath(NamedTuple):
    """Parameters of one path (SI units), as :class:`towerplan.radio.itm._Path`."""

    d_m: float
    a_e_m: float  # effective earth radius
    n_s: float
    he_tx: float  # effective heights
    he_rx: float
    dl_tx: float  # horizon distances
    dl_rx: float
    th_tx: float  # horizon elevation angles, rad
    th_rx: float
    delta_h_m: float
    d_ml_m: float
    d_sml_m: float
    theta_los: float


def itm_constants(settings: ItmSettings, h_tx_m: float, h_rx_m: float, freq_mhz: float
                  ) -> ItmConstants:
    """Validate the settings, heights and frequency and return the kernels' constants.

    Raises
    ------
    ModelDomainError
        Naming every problem, with the limits of :func:`towerplan.radio.itm.itm_p2p`.
    """
    problems: list[str] = []
    warns: list[str] = []
    clim = _itm._parse_code("climate", settings.climate, CLIMATES, problems)
    pol = _itm._parse_code("polarization", settings.polarization, _itm._POLARIZATIONS, problems)
    mdvar = _itm._check_mdvar(settings.mdvar, problems)
    h_m = (float(h_tx_m), float(h_rx_m))
    ground = (float(settings.epsilon), float(settings.sigma), float(settings.n0))
    pct = (float(settings.time_pct), float(settings.location_pct),
           float(settings.situation_pct))
    _itm._check_scalars(h_m, float(freq_mhz), ground, pct, problems, warns)
    if problems:
        raise ModelDomainError("ITM: " + "; ".join(problems))
    z_g, _, _ = _itm._ground_constants(float(freq_mhz), 0.0, ground[2], pol, ground[0],
                                       ground[1])
    if z_g.real <= abs(z_g.imag):
        msg = f"ITM: ground impedance Z_g = {z_g:.3f} has Re <= |Im|"
        raise ModelDomainError(msg)
    z_t, z_l, z_s = (_itm._qinv(x / 100.0) for x in pct)
    return ItmConstants(float(freq_mhz), h_m[0], h_m[1], ground[2], z_g, clim - 1, mdvar,
                        z_t, z_l, z_s)


# ------------------------------------------------------------------------- profile analysis


@numba.njit(cache=True, error_model="numpy")
def earth_k(h_sys_m: float, n0: float) -> tuple[float, float]:
    """Surface refractivity :math:`N_s` and effective earth radius (m) at height h_sys."""
    n_s = n0 if h_sys_m == 0.0 else n0 * math.exp(-h_sys_m / 9460.0)
    gamma_e = _GAMMA_A * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    return n_s, 1.0 / gamma_e


@numba.njit(cache=True, error_model="numpy")
def system_height_k(z: np.ndarray) -> float:
    """Mean height of the profile without its end tenths, m (as *qlrpfl*)."""
    n = z.size - 1
    p10 = int(0.1 * n)
    return float(np.mean(z[p10:n - p10 + 1]))


@numba.njit(cache=True, error_model="numpy")
def horizons_k(z: np.ndarray, step_m: float, a_e_m: float, h_tx: float, h_rx: float
               ) -> tuple[float, float, float, float]:
    """Horizon angles (rad) and distances (m) of both terminals: (th_tx, th_rx, dl_tx, dl_rx)."""
    n = z.size - 1
    d = n * step_m
    z_tx = z[0] + h_tx
    z_rx = z[n] + h_rx
    two_a = 2 * a_e_m
    th_tx = (z_rx - z_tx) / d - d / two_a
    th_rx = (z_tx - z_rx) / d - d / two_a
    dl_tx = d
    dl_rx = d
    if n > 1:
        best_t = -np.inf
        k_t = 0
        best_r = -np.inf
        k_r = 0
        for i in range(1, n):
            x = i * step_m
            e = (z[i] - z_tx) / x - x / two_a
            if e > best_t:
                best_t, k_t = e, i
            x = d - x
            e = (z[i] - z_rx) / x - x / two_a
            if e > best_r:
                best_r, k_r = e, i
        if best_t > th_tx:
            th_tx, dl_tx = best_t, k_t * step_m
        if best_r > th_rx:
            th_rx, dl_rx = best_r, d - k_r * step_m
    return th_tx, th_rx, dl_tx, dl_rx


@numba.njit(cache=True, error_model="numpy")
def trapezoid_fit_k(y: np.ndarray) -> tuple[float, float]:
    """Least-squares line through equally spaced ``y``, half weight at both ends (*zlsq1*)."""
    span = y.size - 1
    half = 0.5 * span
    sw = 0.5 * (y[0] + y[span])
    sx = -half * 0.5 * y[0] + half * 0.5 * y[span]
    for k in range(1, span):
        sw += y[k]
        sx += (k - half) * y[k]
    mean = sw / span
    slope = sx * 12.0 / ((span * span + 2.0) * span)
    return mean, slope


@numba.njit(cache=True, error_model="numpy")
def fit_window_k(n: int, step_m: float, d0_m: float, d1_m: float) -> tuple[int, int]:
    """First and last sample of ITM's terrain-line fit over [d0, d1] of samples 0..n.

    The window is widened to whole samples and to at least one interval (*zlsq1*).
    """
    i0 = int(max(d0_m / step_m, 0.0))
    i1 = n - int(max(n - d1_m / step_m, 0.0))
    if i1 <= i0:
        i0, i1 = int(max(i0 - 1.0, 0.0)), n - int(max(n - (i1 + 1.0), 0.0))
    if i1 <= i0:
        i0 = min(max(i0, 0), n - 1)
        i1 = i0 + 1
    return i0, i1


@numba.njit(cache=True, error_model="numpy")
def terrain_line_k(z: np.ndarray, step_m: float, d0_m: float, d1_m: float
                   ) -> tuple[float, float]:
    """Heights (m) at both profile ends of the line fitted to the terrain in [d0, d1]."""
    n = z.size - 1
    i0, i1 = fit_window_k(n, step_m, d0_m, d1_m)
    mean, slope = trapezoid_fit_k(z[i0:i1 + 1])
    centre = 0.5 * (i0 + i1)
    return mean - slope * centre, mean + slope * (n - centre)


@numba.njit(cache=True, error_model="numpy")
def terrain_irregularity_k(z: np.ndarray, step_m: float, d0_m: float, d1_m: float,
                           p10_max: int) -> float:
    r"""Terrain irregularity :math:`\Delta h` (m) between two distances (*dlthx*).

    ITM resamples the span at ``10 p - 5`` points with ``p = 0.1 (span / step + 8)`` clipped
    to 4-25 and takes the interdecile range (the p-th largest minus the p-th smallest
    residual of a least-squares line); ``p10_max = 25`` is ITM, a smaller cap resamples fewer
    points (``p10_max = 5``: at most 45).
    """
    n = z.size - 1
    x0 = d0_m / step_m
    x1 = d1_m / step_m
    if x1 - x0 < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x1 - x0 + 8.0))), 25)
    p10 = min(p10, p10_max)
    m = 10 * p10 - 5
    s = np.empty(m)
    dx = (x1 - x0) / (m - 1)
    for k in range(m):
        pos = x0 + k * dx
        i = min(max(int(math.ceil(pos)) - 1, 0), n - 1)
        s[k] = z[i] + (z[i + 1] - z[i]) * (pos - i)
    mean, slope = trapezoid_fit_k(s)
    for k in range(m):
        s[k] -= mean + slope * (k - 0.5 * (m - 1))
    s.sort()
    return (s[m - p10] - s[p10 - 1]) / (1.0 - 0.8 * math.exp(-(d1_m - d0_m) / 50e3))


@numba.njit(cache=True, error_model="numpy")
def _smooth_horizon_k(h_e_m: float, a_e_m: float, delta_h_m: float) -> float:
    return math.sqrt(2.0 * h_e_m * a_e_m) * math.exp(
        -0.07 * math.sqrt(delta_h_m / max(h_e_m, 5.0)))


@numba.njit(cache=True, error_model="numpy")
def finish_geometry_k(d_m: float, z_tx_ground: float, z_rx_ground: float, h_tx: float,
                      h_rx: float, a_e_m: float, n_s: float, hz: tuple[float, float,
                      float, float], fit_tx: float, fit_rx: float, delta_h_m: float
                      ) -> ItmPath:
    """Path parameters from the horizons ``hz = (th_tx, th_rx, dl_tx, dl_rx)``, the terrain-line
    heights at both ends and :math:`\\Delta h` (the end of *qlrpfl*)."""
    th_tx, th_rx, dl_tx, dl_rx = hz
    he_tx = h_tx + max(z_tx_ground - fit_tx, 0.0)
    he_rx = h_rx + max(z_rx_ground - fit_rx, 0.0)
    if dl_tx + dl_rx > 1.5 * d_m:
        dl_tx = _smooth_horizon_k(he_tx, a_e_m, delta_h_m)
        dl_rx = _smooth_horizon_k(he_rx, a_e_m, delta_h_m)
        if dl_tx + dl_rx <= d_m:
            q = (d_m / (dl_tx + dl_rx)) ** 2
            he_tx *= q
            he_rx *= q
            dl_tx = _smooth_horizon_k(he_tx, a_e_m, delta_h_m)
            dl_rx = _smooth_horizon_k(he_rx, a_e_m, delta_h_m)
        q = math.sqrt(2.0 * he_tx * a_e_m)
        th_tx = (0.65 * delta_h_m * (q / dl_tx - 1.0) - 2.0 * he_tx) / q
        q = math.sqrt(2.0 * he_rx * a_e_m)
        th_rx = (0.65 * delta_h_m * (q / dl_rx - 1.0) - 2.0 * he_rx) / q
    d_ml = dl_tx + dl_rx
    return ItmPath(d_m, a_e_m, n_s, he_tx, he_rx, dl_tx, dl_rx, th_tx, th_rx, delta_h_m, d_ml,
                   math.sqrt(2.0 * he_tx * a_e_m) + math.sqrt(2.0 * he_rx * a_e_m),
                   -max(th_tx + th_rx, -d_ml / a_e_m))


@numba.njit(cache=True, error_model="numpy")
def profile_geometry_k(z: np.ndarray, step_m: float, h_tx: float, h_rx: float, n0: float,
                       p10_max: int) -> tuple[ItmPath, bool]:
    """Path parameters of a profile (*qlrpfl*), as :func:`towerplan.radio.itm.itm_p2p`, and
    whether the ray between the antenna tips clears the profile over the effective earth."""
    n = z.size - 1
    d = n * step_m
    n_s, a_e = earth_k(system_height_k(z), n0)
    hz = horizons_k(z, step_m, a_e, h_tx, h_rx)
    d_start = min(15.0 * h_tx, 0.1 * hz[2])
    d_end = d - min(15.0 * h_rx, 0.1 * hz[3])
    delta_h = terrain_irregularity_k(z, step_m, d_start, d_end, p10_max)
    if hz[2] + hz[3] > 1.5 * d:
        fit_tx, fit_rx = terrain_line_k(z, step_m, d_start, d_end)
    else:
        fit_tx = terrain_line_k(z, step_m, d_start, 0.9 * hz[2])[0]
        fit_rx = terrain_line_k(z, step_m, d - 0.9 * hz[3], d_end)[1]
    return (finish_geometry_k(d, z[0], z[n], h_tx, h_rx, a_e, n_s, hz, fit_tx, fit_rx, delta_h),
            hz[2] + hz[3] > 1.5 * d)


# ---------------------------------------------------------------------- reference attenuation


@numba.njit(cache=True, error_model="numpy")
def _roughness_k(d_m: float, delta_h_m: float) -> float:
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


@numba.njit(cache=True, error_model="numpy")
def _sigma_h_k(delta_h_m: float) -> float:
    return 0.78 * delta_h_m * math.exp(-0.5 * math.sqrt(math.sqrt(delta_h_m)))


@numba.njit(cache=True, error_model="numpy")
def _fresnel_k(v2: float) -> float:
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


@numba.njit(cache=True, error_model="numpy")
def _knife_edge_k(p: ItmPath, f_mhz: float, d_m: float) -> float:
    theta_nlos = d_m / p.a_e_m - p.theta_los
    d_nlos = d_m - p.d_ml_m
    k = 0.0795775 * (f_mhz / 47.7) * theta_nlos**2 * d_nlos
    return (_fresnel_k(k * p.dl_tx / (d_nlos + p.dl_tx))
            + _fresnel_k(k * p.dl_rx / (d_nlos + p.dl_rx)))


@numba.njit(cache=True, error_model="numpy")
def _height_gain_k(x_km: float, k: float) -> float:
    if x_km < 200.0:
        w = -math.log(k)
        if k < 1e-5 or x_km * w**3 > 5495.0:
            return -117.0 + (17.372 * math.log(x_km) if x_km > 1.0 else 0.0)
        return 2.5e-5 * x_km**2 / k - 8.686 * w - 15.0
    result = 0.05751 * x_km - 4.343 * math.log(x_km)
    if x_km < 2000.0:
        w = 0.0134 * x_km * math.exp(-0.005 * x_km)
        result = (1.0 - w) * result + w * (17.372 * math.log(x_km) - 117.0)
    return result


@numba.njit(cache=True, error_model="numpy")
def _vogler_k(a_m: float, dist_km: float, f13: float, abs_zg: float) -> tuple[float, float]:
    """Vogler's x (km) and K of one radius (Vogler 1964 eq. 2, 6a, 7a)."""
    c0 = np.cbrt((4.0 / 3.0) * _A_0_M / a_m)
    k = 0.017778 * c0 / f13 / abs_zg
    return (1.607 - k) * c0**2 * f13 * dist_km, k


@numba.njit(cache=True, error_model="numpy")
def _smooth_earth_k(p: ItmPath, f13: float, abs_zg: float, d_m: float,
                    terminals: tuple[float, float, float, float]) -> float:
    """Smooth-earth diffraction at d; ``terminals`` are the Vogler x and the height gains of
    both terminals (:func:`_terminals_k`), which do not depend on d."""
    x1, x2, g1, g2 = terminals
    theta_nlos = d_m / p.a_e_m - p.theta_los
    a0 = (d_m - p.d_ml_m) / theta_nlos
    x0, _ = _vogler_k(a0, a0 * theta_nlos / 1e3, f13, abs_zg)
    x_total = x0 + x1 + x2
    g_db = 0.05751 * x_total - 10.0 * math.log10(x_total)
    return g_db - g1 - g2 - 20.0


@numba.njit(cache=True, error_model="numpy")
def _terminals_k(p: ItmPath, f13: float, abs_zg: float
                 ) -> tuple[float, float, float, float]:
    """Vogler x of both terminals and their height gains (the same at every d)."""
    x1, k1 = _vogler_k(0.5 * p.dl_tx**2 / p.he_tx, p.dl_tx / 1e3, f13, abs_zg)
    x2, k2 = _vogler_k(0.5 * p.dl_rx**2 / p.he_rx, p.dl_rx / 1e3, f13, abs_zg)
    return x1, x2, _height_gain_k(x1, k1), _height_gain_k(x2, k2)


@numba.njit(cache=True, error_model="numpy")
def _diffraction_k(p: ItmPath, c: ItmConstants, d_m: float, a_fo: float, f13: float,
                   terminals: tuple[float, float, float, float]) -> float:
    hh = c.h_tx * c.h_rx
    term1 = math.sqrt(1.0 + (p.he_tx * p.he_rx - hh) / (hh + 10.0))
    q = (term1 + (p.d_ml_m - p.theta_los * p.a_e_m) / d_m) * min(
        _roughness_k(d_m, p.delta_h_m) * c.f_mhz / 47.7, 6283.2)
    w = 25.1 / (25.1 + math.sqrt(q))
    return (w * _smooth_earth_k(p, f13, abs(c.z_g), d_m, terminals)
            + (1.0 - w) * _knife_edge_k(p, c.f_mhz, d_m) + a_fo)


@numba.njit(cache=True, error_model="numpy")
def _two_ray_k(p: ItmPath, c: ItmConstants, d_m: float, m_d: float, a_d0_db: float) -> float:
    sigma_h = _sigma_h_k(_roughness_k(d_m, p.delta_h_m))
    wn = c.f_mhz / 47.7
    he_sum = p.he_tx + p.he_rx
    sin_psi = he_sum / math.hypot(d_m, he_sum)
    r_e = (sin_psi - c.z_g) / (sin_psi + c.z_g) * math.exp(-min(10.0, wn * sigma_h * sin_psi))
    q = abs(r_e) ** 2
    if q > 0.0 and (q < 0.25 or q < sin_psi):
        r_e *= math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * p.he_tx * p.he_rx / d_m
    if delta_phi > math.pi / 2.0:
        delta_phi = math.pi - (math.pi / 2.0) ** 2 / delta_phi
    a_t = -20.0 * math.log10(abs(complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e))
    w = 1.0 / (1.0 + c.f_mhz * p.delta_h_m / max(10e3, p.d_sml_m))
    return w * a_t + (1.0 - w) * (m_d * d_m + a_d0_db)


@numba.njit(cache=True, error_model="numpy")
def _h0_k(r: float, eta_s: float) -> float:
    eta_s = min(max(eta_s, 1.0), 5.0)
    i = int(eta_s)
    q = eta_s - i
    result = 10.0 * math.log10(1.0 + _H0_A[i - 1] / r**4 + _H0_B[i - 1] / r**2)
    if q != 0.0:
        result = (1.0 - q) * result + q * 10.0 * math.log10(1.0 + _H0_A[i] / r**4
                                                            + _H0_B[i] / r**2)
    return result


@numba.njit(cache=True, error_model="numpy")
def _scatter_f_k(theta_d_m: float) -> float:
    if theta_d_m <= 10e3:
        return 133.4 + 0.332e-3 * theta_d_m - 10.0 * math.log10(theta_d_m)
    if theta_d_m <= 70e3:
        return 104.6 + 0.212e-3 * theta_d_m - 2.5 * math.log10(theta_d_m)
    return 71.8 + 0.157e-3 * theta_d_m + 5.0 * math.log10(theta_d_m)


@numba.njit(cache=True, error_model="numpy")
def _frequency_gain_k(p: ItmPath, f_mhz: float, d_m: float) -> float:
    """:math:`H_0` at distance d, or nan where undefined."""
    wn = f_mhz / 47.7
    ad = p.dl_tx - p.dl_rx
    rr = p.he_rx / p.he_tx
    if ad < 0.0:
        ad, rr = -ad, 1.0 / rr
    theta = p.th_tx + p.th_rx + d_m / p.a_e_m
    r1 = 2.0 * wn * theta * p.he_tx
    r2 = 2.0 * wn * theta * p.he_rx
    if r1 < 0.2 and r2 < 0.2:
        return np.nan
    s = (d_m - ad) / (d_m + ad)
    q = min(max(0.1, rr / s), 10.0)
    s = max(0.1, s)
    h_cross = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m
    n_s = p.n_s
    eta_s = (h_cross / 1.7556e3) * (
        1.0 + (0.031 - n_s * 2.32e-3 + n_s**2 * 5.67e-6)
        * math.exp(-(min(1.7, h_cross / 8e3) ** 6)))
    h00 = 0.5 * (_h0_k(r1, eta_s) + _h0_k(r2, eta_s))
    h0 = h00 + min(h00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s)
                   * math.log10(q))
    h0 = max(h0, 0.0)
    if eta_s < 1.0:
        lim = (((1.0 + _SQRT2 / r1) * (1.0 + _SQRT2 / r2)) ** 2 * (r1 + r2)
               / (r1 + r2 + 2 * _SQRT2))
        h0 = eta_s * h0 + (1.0 - eta_s) * 10.0 * math.log10(lim)
    return h0


@numba.njit(cache=True, error_model="numpy")
def _troposcatter_k(p: ItmPath, f_mhz: float, d_m: float, h0_far: float
                    ) -> tuple[float, float]:
    """Forward-scatter attenuation at d and the H0 used (nan: none); 1001 dB where undefined."""
    far = not math.isnan(h0_far)
    h0 = h0_far if far and h0_far > 15.0 else _frequency_gain_k(p, f_mhz, d_m)
    if math.isnan(h0):
        return 1001.0, h0_far
    if h0 > 15.0 and far and h0_far >= 0.0:
        h0 = h0_far
    th = d_m / p.a_e_m - p.theta_los
    wn = f_mhz / 47.7
    loss = (_scatter_f_k(th * d_m) + 10.0 * math.log10(wn * 47.7 * th**4)
            - 0.1 * (p.n_s - 301.0) * math.exp(-th * d_m / 40e3) + h0)
    return loss, h0


@numba.njit(cache=True, error_model="numpy")
def _line_of_sight_k(p: ItmPath, c: ItmConstants, m_d: float, a_d0_db: float) -> float:
    d_sml = p.d_sml_m
    a_sml = d_sml * m_d + a_d0_db
    d0 = 0.04 * c.f_mhz * p.he_tx * p.he_rx
    if a_d0_db >= 0.0:
        d0 = min(d0, 0.5 * p.d_ml_m)
        d1 = d0 + 0.25 * (p.d_ml_m - d0)
    else:
        d1 = max(-a_d0_db / m_d, 0.25 * p.d_ml_m)
    a1 = _two_ray_k(p, c, d1, m_d, a_d0_db)
    two_points = False
    k1 = 0.0
    k2 = 0.0
    if d0 < d1:
        a0 = _two_ray_k(p, c, d0, m_d, a_d0_db)
        q = math.log(d_sml / d0)
        k2 = max(0.0, ((d_sml - d0) * (a1 - a0) - (d1 - d0) * (a_sml - a0))
                 / ((d_sml - d0) * math.log(d1 / d0) - (d1 - d0) * q))
        two_points = a_d0_db > 0.0 or k2 > 0.0
        if two_points:
            k1 = (a_sml - a0 - k2 * q) / (d_sml - d0)
            if k1 < 0.0:
                k2 = max(a_sml - a0, 0.0) / q
                k1 = m_d if k2 == 0.0 else 0.0
    if not two_points:
        k1 = max(a_sml - a1, 0.0) / (d_sml - d1)
        k1 = m_d if k1 == 0.0 else k1
        k2 = 0.0
    a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
    return a_o + k1 * p.d_m + k2 * math.log(p.d_m)


@numba.njit(cache=True, error_model="numpy")
def _beyond_horizon_k(p: ItmPath, f_mhz: float, m_d: float, a_d0_db: float, scale_m: float
                      ) -> tuple[float, int]:
    if p.d_m <= max(p.d_sml_m, p.d_ml_m + 1.088 * scale_m * math.log(f_mhz)):
        # the crossover distance d_x is at least this: diffraction, whatever the scatter
        return m_d * p.d_m + a_d0_db, MODE_DIFFRACTION
    d5 = p.d_ml_m + 200e3
    d6 = p.d_ml_m + 400e3
    a6, h0 = _troposcatter_k(p, f_mhz, d6, np.nan)
    a5, _ = _troposcatter_k(p, f_mhz, d5, h0)
    if a5 < 1000.0:
        m_s = (a6 - a5) / 200e3
        d_x = max(p.d_sml_m, p.d_ml_m + 1.088 * scale_m * math.log(f_mhz))
        if m_d != m_s:
            d_x = max(d_x, (a5 - a_d0_db - m_s * d5) / (m_d - m_s))
        a_s0 = (m_d - m_s) * d_x + a_d0_db
    else:
        m_s, a_s0, d_x = m_d, a_d0_db, 10e6
    if p.d_m > d_x:
        return m_s * p.d_m + a_s0, MODE_TROPOSCATTER
    return m_d * p.d_m + a_d0_db, MODE_DIFFRACTION


@numba.njit(cache=True, error_model="numpy")
def reference_attenuation_k(p: ItmPath, c: ItmConstants) -> tuple[float, int]:
    """Median attenuation relative to free space (dB) and the mode code (*lrprop*)."""
    scale_m = np.cbrt(p.a_e_m**2 / c.f_mhz)
    d3 = max(p.d_sml_m, p.d_ml_m + 5.0 * scale_m)
    d4 = d3 + 10.0 * scale_m
    sigma_h = _sigma_h_k(_roughness_k(p.d_sml_m, p.delta_h_m))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * c.h_tx * c.h_rx * c.f_mhz * sigma_h))
    f13 = np.cbrt(c.f_mhz)
    terminals = _terminals_k(p, f13, abs(c.z_g))
    a3 = _diffraction_k(p, c, d3, a_fo, f13, terminals)
    a4 = _diffraction_k(p, c, d4, a_fo, f13, terminals)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3
    if p.d_m < p.d_sml_m:
        a_ref, mode = _line_of_sight_k(p, c, m_d, a_d0), MODE_LINE_OF_SIGHT
    else:
        a_ref, mode = _beyond_horizon_k(p, c.f_mhz, m_d, a_d0, scale_m)
    return max(a_ref, 0.0), mode


# ------------------------------------------------------------------------------ variability


@numba.njit(cache=True, error_model="numpy")
def _climate_curve_k(coef: np.ndarray, c: int, d_e_m: float) -> float:
    r = (d_e_m / coef[2, c]) ** 2
    return (coef[0, c] + coef[1, c] / (1.0 + ((d_e_m - coef[3, c]) / coef[4, c]) ** 2)
            ) * r / (1.0 + r)


@numba.njit(cache=True, error_model="numpy")
def _time_sigma_k(c: int, wn: float, d_e_m: float, z_t: float) -> float:
    q = math.log(0.133 * wn)
    if z_t < 0.0:
        g_minus = _G_MINUS[0, c] + _G_MINUS[1, c] / ((_G_MINUS[2, c] * q) ** 2 + 1.0)
        return _climate_curve_k(_SIGMA_T_MINUS, c, d_e_m) * g_minus
    g_plus = _G_PLUS[0, c] + _G_PLUS[1, c] / ((_G_PLUS[2, c] * q) ** 2 + 1.0)
    sigma_plus = _climate_curve_k(_SIGMA_T_PLUS, c, d_e_m) * g_plus
    if z_t <= _Z_D[c]:
        return sigma_plus
    sigma_td = _C_D[c] * sigma_plus
    return sigma_td + (sigma_plus - sigma_td) * _Z_D[c] / z_t


@numba.njit(cache=True, error_model="numpy")
def variability_k(p: ItmPath, c: ItmConstants, a_ref_db: float) -> float:
    """Attenuation relative to free space at the quantiles of ``c``, dB (*avar*)."""
    z_t, z_l, z_s = c.z_t, c.z_l, c.z_s
    wn = c.f_mhz / 47.7
    d_ex = (math.sqrt(2.0 * _A_9000_M * p.he_tx) + math.sqrt(2.0 * _A_9000_M * p.he_rx)
            + np.cbrt(575.7e12 / wn))
    d_e = 130e3 * p.d_m / d_ex if p.d_m < d_ex else 130e3 + p.d_m - d_ex
    no_situation = c.mdvar >= 20
    base = c.mdvar % 20
    no_location = base >= 10
    base = base % 10
    sigma_s = 0.0 if no_situation else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    if base == 0:
        z_t = z_s
        z_l = z_s
    elif base == 1:
        z_l = z_s
    elif base == 2:
        z_l = z_t
    dh_d = _roughness_k(p.d_m, p.delta_h_m)
    sigma_l = 0.0 if no_location else 10.0 * wn * dh_d / (wn * dh_d + 13.0)
    sigma_t = _time_sigma_k(c.climate, wn, d_e, z_t)
    y_t = sigma_t * z_t
    y_l = sigma_l * z_l
    y_s2 = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)
    if base == 0:
        y_r, y_s = 0.0, math.sqrt(sigma_t**2 + sigma_l**2 + y_s2) * z_s
    elif base == 1:
        y_r, y_s = y_t, math.sqrt(sigma_l**2 + y_s2) * z_s
    elif base == 2:
        y_r, y_s = math.sqrt(sigma_t**2 + sigma_l**2) * z_t, math.sqrt(y_s2) * z_s
    else:
        y_r, y_s = y_t + y_l, math.sqrt(y_s2) * z_s
    result = a_ref_db - _climate_curve_k(_V_MED, c.climate, d_e) - y_r - y_s
    if result < 0.0:
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result


# --------------------------------------------------------------------------------- the loss


@numba.njit(cache=True, error_model="numpy")
def itm_loss_k(p: ItmPath, c: ItmConstants) -> float:
    """Basic transmission loss of a path, dB: reference attenuation, variability, free space."""
    a_ref, _ = reference_attenuation_k(p, c)
    a_fs = 32.45 + 20.0 * math.log10(c.f_mhz) + 20.0 * math.log10(p.d_m / 1e3)
    return variability_k(p, c, a_ref) + a_fs


@numba.njit(cache=True, error_model="numpy")
def itm_profile_k(z: np.ndarray, step_m: float, c: ItmConstants) -> float:
    """ITM point-to-point loss over a profile, dB (as :func:`towerplan.radio.itm.itm_p2p`).

    Examples
    --------
    >>> import numpy as np
    >>> from towerplan.radio.itm import ItmSettings
    >>> c = itm_constants(ItmSettings(climate="continental_temperate"), 42.0, 1.5, 900.0)
    >>> round(itm_profile_k(np.zeros(101), 100.0, c), 1)
    124.2
    """
    return itm_loss_k(profile_geometry_k(z, step_m, c.h_tx, c.h_rx, c.n0, 25)[0], c)
