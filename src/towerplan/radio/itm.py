r"""Longley-Rice Irregular Terrain Model (ITM 1.4), point-to-point mode.

ITM predicts the basic transmission loss over a terrain profile at 20 MHz-20 GHz in three
steps (Hufford 1995, cited as *Algorithm*):

1. profile analysis: radio horizons, terrain irregularity :math:`\Delta h` and effective
   antenna heights (Algorithm, sec. 3);
2. the median reference attenuation :math:`A_{ref}` relative to free space: two-ray /
   extended diffraction in line of sight, a knife-edge / smooth-earth blend beyond the
   horizon and forward troposcatter far beyond it (Algorithm, sec. 4);
3. variability: quantiles of time, location and situation in a radio climate
   (Algorithm, sec. 5).

Kernels take arrays and scalars and never read files. ``tests/conformance/test_itm.py``
reproduces NTIA's point-to-point test vectors.

References
----------
G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm", NTIA/ITS 1995.
A. G. Longley, P. L. Rice, "Prediction of tropospheric radio transmission loss over irregular
terrain: a computer method - 1968", ESSA Tech. Rep. ERL 79-ITS 67 (*ERL 79*).
P. L. Rice et al., "Transmission loss predictions for tropospheric communication circuits",
NBS Technical Note 101, 1967 (*TN101*).
L. E. Vogler, "Calculation of groundwave attenuation in the far diffraction region",
Radio Science 68D(7), 1964.
G. A. Hufford, A. G. Longley, W. A. Kissick, "A guide to the use of the ITS Irregular Terrain
Model in the area prediction mode", NTIA Report 82-100, 1982.
NTIA/ITS, "Irregular Terrain Model (ITM) v1.4", https://github.com/NTIA/itm.
"""

from __future__ import annotations

import cmath
import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError

__all__ = ["CLIMATES", "ItmResult", "ItmSettings", "itm_p2p", "itm_p2p_db"]

Mode = Literal["line_of_sight", "diffraction", "troposcatter"]
Climate = Literal[
    "equatorial", "continental_subtropical", "maritime_subtropical", "desert",
    "continental_temperate", "maritime_temperate_land", "maritime_temperate_sea",
]
Polarization = Literal["horizontal", "vertical"]

#: Radio climate names and their NTIA codes (Algorithm, sec. 5, Table 5.1).
CLIMATES: dict[str, int] = {
    "equatorial": 1,
    "continental_subtropical": 2,
    "maritime_subtropical": 3,
    "desert": 4,
    "continental_temperate": 5,
    "maritime_temperate_land": 6,
    "maritime_temperate_sea": 7,
}
_POLARIZATIONS = {"horizontal": 0, "vertical": 1}
_MDVAR_VALID = frozenset(base + flag for base in range(4) for flag in (0, 10, 20, 30))

_GAMMA_A = 157e-9  # curvature of the actual earth, 1/m (~1/6370 km)
_A_0_M = 6370e3  # earth radius of Vogler's 4/3-earth normalisation, m
_A_9000_M = 9000e3  # effective earth radius of the effective distance, m
_SQRT2 = math.sqrt(2.0)

# Hard limits (errors) and recommended ranges (warnings) of NTIA ITM 1.4.
_H_LIMIT_M, _H_RECOMMENDED_M = (0.5, 3000.0), (1.0, 1000.0)
_F_LIMIT_MHZ, _F_RECOMMENDED_MHZ = (20.0, 20000.0), (40.0, 10000.0)
_N0_LIMIT = (250.0, 400.0)


@dataclass(frozen=True, slots=True)
class ItmSettings:
    """Ground, atmosphere and variability settings of ITM (the SPLAT! ``.lrp`` parameters).

    The defaults suit Indonesia: average ground, the equatorial radio climate and its surface
    refractivity, vertical polarisation, mobile variability and median quantiles.

    Attributes
    ----------
    epsilon : float
        Ground relative permittivity (>= 1). Default 15.
    sigma : float
        Ground conductivity, S/m (> 0). Default 0.005.
    n0 : float
        Surface refractivity at sea level, N-units (250-400). Default 301.
    climate : str or int
        Radio climate (a key of :data:`CLIMATES` or its NTIA code). Default "equatorial".
    polarization : {"horizontal", "vertical"} or {0, 1}
        Polarisation. Default "vertical".
    mdvar : int
        Mode of variability (see :func:`itm_p2p`). Default 12.
    time_pct, location_pct, situation_pct : float
        Quantiles, % (0 < p < 100). Default 50 each.
    """

    epsilon: float = 15.0
    sigma: float = 0.005
    n0: float = 301.0
    climate: Climate | int = "equatorial"
    polarization: Polarization | int = "vertical"
    mdvar: int = 12
    time_pct: float = 50.0
    location_pct: float = 50.0
    situation_pct: float = 50.0

    def p2p_kwargs(self) -> dict[str, Any]:
        """The settings as keyword arguments of :func:`itm_p2p`."""
        return {f: getattr(self, f) for f in self.__slots__}


@dataclass(frozen=True, slots=True)
class ItmResult:
    r"""Result of one ITM point-to-point prediction.

    Attributes
    ----------
    loss_db : float
        Basic transmission loss at the requested time/location/situation quantiles, dB.
    mode : {"line_of_sight", "diffraction", "troposcatter"}
        Propagation mode of the reference attenuation.
    warnings : tuple of str
        Soft validity warnings (inputs or derived values outside the recommended range).
    d_km : float
        Path length, km.
    theta_hzn : tuple of float
        Horizon elevation angles of the transmitter and receiver, rad.
    d_hzn_m : tuple of float
        Horizon distances of the transmitter and receiver, m.
    h_e_m : tuple of float
        Effective antenna heights of the transmitter and receiver, m.
    delta_h_m : float
        Terrain irregularity parameter :math:`\Delta h`, m.
    n_s : float
        Surface refractivity, N-units.
    A_ref_db : float
        Median reference attenuation relative to free space, dB.
    A_fs_db : float
        Free-space basic transmission loss, dB.
    model : str
        Model name and version.
    """

    loss_db: float
    mode: Mode
    warnings: tuple[str, ...]
    d_km: float
    theta_hzn: tuple[float, float]
    d_hzn_m: tuple[float, float]
    h_e_m: tuple[float, float]
    delta_h_m: float
    n_s: float
    A_ref_db: float
    A_fs_db: float
    model: str = "ITM 1.4 point-to-point (Longley-Rice)"


@dataclass(frozen=True, slots=True)
class _Path:
    """Path parameters shared by the reference-attenuation functions (SI units)."""

    d_m: float
    f_mhz: float
    a_e_m: float  # effective earth radius
    z_g: complex  # surface transfer impedance
    n_s: float
    h_m: tuple[float, float]
    h_e_m: tuple[float, float]
    d_hzn_m: tuple[float, float]
    theta_hzn: tuple[float, float]
    delta_h_m: float
    d_ml_m: float  # maximum line-of-sight distance of the actual path
    d_sml_m: float  # maximum line-of-sight distance over a smooth earth
    theta_los: float  # angular distance of the line-of-sight region, rad


# --------------------------------------------------------------------------------------
# Input validation: collect every problem, then raise once.
def _parse_profile(heights_m: ArrayLike, step_m: float, problems: list[str]) -> np.ndarray:
    z = np.asarray(heights_m, dtype=float)
    if z.ndim != 1 or z.size < 2:
        problems.append(f"heights_m must be a 1-D array of at least 2 heights, got shape {z.shape}")
    elif not np.all(np.isfinite(z)):
        problems.append(f"heights_m has {int(np.sum(~np.isfinite(z)))} non-finite value(s)")
    if not (math.isfinite(step_m) and step_m > 0.0):
        problems.append(f"step_m = {step_m:g} must be a finite distance > 0 m")
    return z


def _parse_code(name: str, value: object, names: dict[str, int], problems: list[str]) -> int:
    if isinstance(value, str) and value in names:
        return names[value]
    if isinstance(value, Integral) and not isinstance(value, bool) and int(value) in names.values():
        return int(value)
    choices = ", ".join(f"{k!r} ({v})" for k, v in names.items())
    problems.append(f"{name} = {value!r} is not one of {choices}")
    return -1


def _check_mdvar(mdvar: object, problems: list[str]) -> int:
    if isinstance(mdvar, Integral) and not isinstance(mdvar, bool) and int(mdvar) in _MDVAR_VALID:
        return int(mdvar)
    problems.append(
        f"mdvar = {mdvar!r} is not a mode of variability: 0-3 (single message, accidental, "
        "mobile, broadcast), plus 10 and/or 20 to drop location/situation variability"
    )
    return -1


def _check_scalars(
    h_m: tuple[float, float], freq_mhz: float, ground: tuple[float, float, float],
    pct: tuple[float, float, float], problems: list[str], warns: list[str],
) -> None:
    for name, h in zip(("h_tx_m", "h_rx_m"), h_m, strict=True):
        if not _H_LIMIT_M[0] <= h <= _H_LIMIT_M[1]:
            problems.append(f"{name} = {h:g} m is outside 0.5-3000 m")
        elif not _H_RECOMMENDED_M[0] <= h <= _H_RECOMMENDED_M[1]:
            warns.append(f"{name} = {h:g} m is outside the recommended 1-1000 m")
    if not _F_LIMIT_MHZ[0] <= freq_mhz <= _F_LIMIT_MHZ[1]:
        problems.append(f"freq_mhz = {freq_mhz:g} MHz is outside 20-20000 MHz")
    elif not _F_RECOMMENDED_MHZ[0] <= freq_mhz <= _F_RECOMMENDED_MHZ[1]:
        warns.append(f"freq_mhz = {freq_mhz:g} MHz is outside the recommended 40-10000 MHz")
    epsilon, sigma, n0 = ground
    if not epsilon >= 1.0:
        problems.append(f"epsilon = {epsilon:g} must be >= 1 (relative permittivity)")
    if not sigma > 0.0:
        problems.append(f"sigma = {sigma:g} S/m must be > 0 (ground conductivity)")
    if not _N0_LIMIT[0] <= n0 <= _N0_LIMIT[1]:
        problems.append(f"n0 = {n0:g} N-units is outside 250-400 N-units")
    for name, p in zip(("time_pct", "location_pct", "situation_pct"), pct, strict=True):
        if not 0.0 < p < 100.0:
            problems.append(f"{name} = {p:g} % must satisfy 0 < p < 100")


# --------------------------------------------------------------------------------------
# Profile analysis (Algorithm, sec. 3)
def _ground_constants(
    freq_mhz: float, h_sys_m: float, n0: float, pol: int, epsilon: float, sigma: float
) -> tuple[complex, float, float]:
    r"""Surface transfer impedance :math:`Z_g`, effective earth curvature and :math:`N_s`.

    :math:`N_s = N_0 e^{-h_s/9460}`, :math:`\gamma_e = \gamma_a(1 - 0.04665 e^{N_s/179.3})`
    (TN101 eq. 4.3-4.4); :math:`Z_g = \sqrt{\epsilon_r - 1}`, divided by :math:`\epsilon_r`
    for vertical polarisation, :math:`\epsilon_r = \epsilon + j\,18000\sigma/f`.
    """
    n_s = n0 if h_sys_m == 0.0 else n0 * math.exp(-h_sys_m / 9460.0)
    gamma_e = _GAMMA_A * (1.0 - 0.04665 * math.exp(n_s / 179.3))
    ep_r = complex(epsilon, 18000.0 * sigma / freq_mhz)
    z_g = cmath.sqrt(ep_r - 1.0)
    if pol == _POLARIZATIONS["vertical"]:
        z_g /= ep_r
    return z_g, gamma_e, n_s


def _horizons(
    z: np.ndarray, step_m: float, a_e_m: float, h_m: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """Horizon elevation angles (rad) and distances (m) of both terminals.

    The horizon is the profile point of largest elevation angle
    :math:`(z_i - z_t)/x - x/(2 a_e)` over the effective earth, or the other terminal on
    a line-of-sight path (TN101 eq. 6.15).
    """
    n = z.size - 1
    d = n * step_m
    z_tx, z_rx = float(z[0]) + h_m[0], float(z[n]) + h_m[1]
    theta = [(z_rx - z_tx) / d - d / (2 * a_e_m), (z_tx - z_rx) / d - d / (2 * a_e_m)]
    d_hzn = [d, d]
    if n > 1:
        x_tx = np.arange(1, n) * step_m
        for j, (x, z_t) in enumerate(((x_tx, z_tx), (d - x_tx, z_rx))):
            elev = (z[1:n] - z_t) / x - x / (2 * a_e_m)
            k = int(np.argmax(elev))
            if elev[k] > theta[j]:
                theta[j], d_hzn[j] = float(elev[k]), float(x[k])
    return theta, d_hzn


def _trapezoid_fit(y: np.ndarray) -> tuple[float, float]:
    """Least-squares line through equally spaced ``y``, half weight at both ends.

    Returns the value at the centre of the span and the slope per sample (Algorithm,
    sec. 3, function *zlsq1*).
    """
    span = y.size - 1
    w = np.ones(y.size)
    w[0] = w[-1] = 0.5
    x = np.arange(y.size) - 0.5 * span
    mean = float(np.dot(w, y)) / span
    slope = float(np.dot(w * x, y)) * 12.0 / ((span * span + 2.0) * span)
    return mean, slope


def _terrain_line(z: np.ndarray, step_m: float, d0_m: float, d1_m: float) -> tuple[float, float]:
    """Heights (m) at both profile ends of the line fitted to the terrain in [d0, d1].

    The window is widened to whole samples and to at least one interval (*zlsq1*).
    """
    n = z.size - 1
    i0 = int(max(d0_m / step_m, 0.0))
    i1 = n - int(max(n - d1_m / step_m, 0.0))
    if i1 <= i0:
        i0, i1 = int(max(i0 - 1.0, 0.0)), n - int(max(n - (i1 + 1.0), 0.0))
    if i1 <= i0:
        i0 = min(max(i0, 0), n - 1)
        i1 = i0 + 1
    mean, slope = _trapezoid_fit(z[i0 : i1 + 1])
    centre = 0.5 * (i0 + i1)
    return mean - slope * centre, mean + slope * (n - centre)


def _terrain_irregularity(z: np.ndarray, step_m: float, d0_m: float, d1_m: float) -> float:
    r"""Terrain irregularity :math:`\Delta h` (m) of the profile between two distances.

    The profile is resampled at 10p-5 points (4 <= p <= 25), a least-squares line removed,
    and the interdecile range :math:`\Delta h(d)` of the residuals converted with
    :math:`\Delta h(d) = \Delta h (1 - 0.8 e^{-d/50\,km})` (ERL 79 eq. 3; Algorithm,
    sec. 3, function *dlthx*).
    """
    n = z.size - 1
    x0, x1 = d0_m / step_m, d1_m / step_m
    if x1 - x0 < 2.0:
        return 0.0
    p10 = min(max(4, int(0.1 * (x1 - x0 + 8.0))), 25)
    m = 10 * p10 - 5
    pos = x0 + np.arange(m) * ((x1 - x0) / (m - 1))
    i = np.clip(np.ceil(pos).astype(np.intp) - 1, 0, n - 1)
    s = z[i] + (z[i + 1] - z[i]) * (pos - i)
    mean, slope = _trapezoid_fit(s)
    ranked = np.sort(s - (mean + slope * (np.arange(m) - 0.5 * (m - 1))))[::-1]
    delta_h_d = float(ranked[p10 - 1] - ranked[m - p10])
    return delta_h_d / (1.0 - 0.8 * math.exp(-(d1_m - d0_m) / 50e3))


def _smooth_horizon_m(h_e_m: float, a_e_m: float, delta_h_m: float) -> float:
    """Horizon distance over irregular terrain (NTIA 82-100 eq. 3.2; Algorithm, sec. 3)."""
    return math.sqrt(2.0 * h_e_m * a_e_m) * math.exp(-0.07 * math.sqrt(delta_h_m / max(h_e_m, 5.0)))


def _profile_geometry(
    z: np.ndarray, step_m: float, a_e_m: float, h_m: tuple[float, float]
) -> tuple[list[float], list[float], list[float], float]:
    r"""Horizon angles, horizon distances, effective heights and :math:`\Delta h` of a path.

    Terrain nearer to a terminal than ``min(15 h, 0.1 d_L)`` is ignored (NTIA 82-100, p. 25).
    Effective heights add the terminal's height above the least-squares terrain line; on
    line-of-sight paths the horizons are replaced by smooth-earth estimates (Algorithm,
    sec. 3, *qlrpfl*).
    """
    n = z.size - 1
    d = n * step_m
    theta, d_hzn = _horizons(z, step_m, a_e_m, h_m)
    d_start = min(15.0 * h_m[0], 0.1 * d_hzn[0])
    d_end = d - min(15.0 * h_m[1], 0.1 * d_hzn[1])
    delta_h = _terrain_irregularity(z, step_m, d_start, d_end)
    if d_hzn[0] + d_hzn[1] > 1.5 * d:
        fit_tx, fit_rx = _terrain_line(z, step_m, d_start, d_end)
    else:
        fit_tx = _terrain_line(z, step_m, d_start, 0.9 * d_hzn[0])[0]
        fit_rx = _terrain_line(z, step_m, d - 0.9 * d_hzn[1], d_end)[1]
    h_e = [h_m[0] + max(float(z[0]) - fit_tx, 0.0), h_m[1] + max(float(z[n]) - fit_rx, 0.0)]
    if d_hzn[0] + d_hzn[1] > 1.5 * d:
        d_hzn = [_smooth_horizon_m(he, a_e_m, delta_h) for he in h_e]
        if d_hzn[0] + d_hzn[1] <= d:
            h_e = [he * (d / (d_hzn[0] + d_hzn[1])) ** 2 for he in h_e]
            d_hzn = [_smooth_horizon_m(he, a_e_m, delta_h) for he in h_e]
        for j in range(2):
            q = math.sqrt(2.0 * h_e[j] * a_e_m)
            theta[j] = (0.65 * delta_h * (q / d_hzn[j] - 1.0) - 2.0 * h_e[j]) / q
    return theta, d_hzn, h_e, delta_h


# --------------------------------------------------------------------------------------
# Reference attenuation (Algorithm, sec. 4)
def _roughness_m(d_m: float, delta_h_m: float) -> float:
    r"""Terrain irregularity at distance d, :math:`\Delta h(d)` (ERL 79 eq. 3)."""
    return delta_h_m * (1.0 - 0.8 * math.exp(-d_m / 50e3))


def _sigma_h_m(delta_h_m: float) -> float:
    """RMS terrain deviation within the first Fresnel zone (ERL 79 eq. 3.6a)."""
    return 0.78 * delta_h_m * math.exp(-0.5 * math.sqrt(math.sqrt(delta_h_m)))


def _fresnel_db(v2: float) -> float:
    """Knife-edge loss :math:`A(v, 0)` from :math:`v^2` (TN101 eq. III.24b-c; ERL 79 eq. 3.27)."""
    if v2 < 5.76:
        return 6.02 + 9.11 * math.sqrt(v2) - 1.27 * v2
    return 12.953 + 10.0 * math.log10(v2)


def _knife_edge_db(p: _Path, d_m: float) -> float:
    """Double knife-edge loss at distance d (TN101 eq. I.1, I.7; Algorithm eq. 4.12)."""
    theta_nlos = d_m / p.a_e_m - p.theta_los
    d_nlos = d_m - p.d_ml_m
    k = 0.0795775 * (p.f_mhz / 47.7) * theta_nlos**2 * d_nlos
    return _fresnel_db(k * p.d_hzn_m[0] / (d_nlos + p.d_hzn_m[0])) + _fresnel_db(
        k * p.d_hzn_m[1] / (d_nlos + p.d_hzn_m[1])
    )


def _height_gain_db(x_km: float, k: float) -> float:
    """Vogler's height-gain function :math:`F(x, K)` (Algorithm, sec. 6; Vogler 1964)."""
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


def _smooth_earth_db(p: _Path, d_m: float) -> float:
    r"""Smooth-earth diffraction loss by Vogler's three-radii method (Algorithm eq. 4.20).

    Radii: the diffraction arc beyond the horizons and :math:`d_{Lj}^2/(2 h_{ej})` per
    terminal; each gives :math:`C_0 = (4 a_0/3a)^{1/3}`, :math:`K = 0.017778 C_0 f^{-1/3}/|Z_g|`
    and :math:`x = (1.607 - K) C_0^2 f^{1/3} d` (Vogler 1964 eq. 2, 6a, 7a).
    """
    theta_nlos = d_m / p.a_e_m - p.theta_los
    radii = (
        (d_m - p.d_ml_m) / theta_nlos,
        0.5 * p.d_hzn_m[0] ** 2 / p.h_e_m[0],
        0.5 * p.d_hzn_m[1] ** 2 / p.h_e_m[1],
    )
    dist_km = (radii[0] * theta_nlos / 1e3, p.d_hzn_m[0] / 1e3, p.d_hzn_m[1] / 1e3)
    f13 = math.cbrt(p.f_mhz)
    x_km: list[float] = []
    k_val: list[float] = []
    for a_m, dk in zip(radii, dist_km, strict=True):
        c0 = math.cbrt((4.0 / 3.0) * _A_0_M / a_m)
        k_val.append(0.017778 * c0 / f13 / abs(p.z_g))
        x_km.append((1.607 - k_val[-1]) * c0**2 * f13 * dk)
    x_total = x_km[0] + x_km[1] + x_km[2]
    g_db = 0.05751 * x_total - 10.0 * math.log10(x_total)  # TN101 eq. 8.4
    return g_db - _height_gain_db(x_km[1], k_val[1]) - _height_gain_db(x_km[2], k_val[2]) - 20.0


def _diffraction_db(p: _Path, d_m: float) -> float:
    r"""Diffraction attenuation: knife-edge / smooth-earth blend plus clutter.

    Weight :math:`w = 25.1/(25.1 + \sqrt{q})` (ERL 79 eq. 3.23 with C = 10 for
    point-to-point paths), clutter :math:`A_{fo} = \min(15, 5\log(1 + 10^{-5} h_1 h_2 f
    \sigma_h))` (ERL 79 eq. 3.38c).
    """
    sigma_h = _sigma_h_m(_roughness_m(p.d_sml_m, p.delta_h_m))
    a_fo = min(15.0, 5.0 * math.log10(1.0 + 1e-5 * p.h_m[0] * p.h_m[1] * p.f_mhz * sigma_h))
    hh = p.h_m[0] * p.h_m[1]
    term1 = math.sqrt(1.0 + (p.h_e_m[0] * p.h_e_m[1] - hh) / (hh + 10.0))
    q = (term1 + (p.d_ml_m - p.theta_los * p.a_e_m) / d_m) * min(
        _roughness_m(d_m, p.delta_h_m) * p.f_mhz / 47.7, 6283.2
    )
    w = 25.1 / (25.1 + math.sqrt(q))
    return w * _smooth_earth_db(p, d_m) + (1.0 - w) * _knife_edge_db(p, d_m) + a_fo


def _two_ray_db(p: _Path, d_m: float, m_d: float, a_d0_db: float) -> float:
    r"""Line-of-sight attenuation: two-ray model blended with extended diffraction.

    Rough-earth reflection and phase per Algorithm eq. 4.46-4.50; weight
    :math:`1/(1 + f \Delta h / \max(10\,km, d_{sML}))` on the two-ray term.
    """
    sigma_h = _sigma_h_m(_roughness_m(d_m, p.delta_h_m))
    wn = p.f_mhz / 47.7
    he_sum = p.h_e_m[0] + p.h_e_m[1]
    sin_psi = he_sum / math.hypot(d_m, he_sum)
    r_e = (sin_psi - p.z_g) / (sin_psi + p.z_g) * math.exp(-min(10.0, wn * sigma_h * sin_psi))
    q = abs(r_e) ** 2
    if q > 0.0 and (q < 0.25 or q < sin_psi):
        r_e *= math.sqrt(sin_psi / q)
    delta_phi = wn * 2.0 * p.h_e_m[0] * p.h_e_m[1] / d_m
    if delta_phi > math.pi / 2.0:
        delta_phi = math.pi - (math.pi / 2.0) ** 2 / delta_phi
    a_t = -20.0 * math.log10(abs(complex(math.cos(delta_phi), -math.sin(delta_phi)) + r_e))
    w = 1.0 / (1.0 + p.f_mhz * p.delta_h_m / max(10e3, p.d_sml_m))
    return w * a_t + (1.0 - w) * (m_d * d_m + a_d0_db)


def _h0_db(r: float, eta_s: float) -> float:
    r"""Frequency-gain function :math:`H_0(r, \eta_s)`, interpolated in eta_s (Algorithm 6.13)."""
    a = (25.0, 80.0, 177.0, 395.0, 705.0)
    b = (24.0, 45.0, 68.0, 80.0, 105.0)
    eta_s = min(max(eta_s, 1.0), 5.0)
    i = int(eta_s)
    q = eta_s - i
    result = 10.0 * math.log10(1.0 + a[i - 1] / r**4 + b[i - 1] / r**2)
    if q != 0.0:
        result = (1.0 - q) * result + q * 10.0 * math.log10(1.0 + a[i] / r**4 + b[i] / r**2)
    return result


def _scatter_f_db(theta_d_m: float) -> float:
    r"""Attenuation function :math:`F(\theta d)` (Algorithm eq. 6.9)."""
    j = 0 if theta_d_m <= 10e3 else 1 if theta_d_m <= 70e3 else 2
    a, b, c = (133.4, 104.6, 71.8)[j], (0.332e-3, 0.212e-3, 0.157e-3)[j], (-10.0, -2.5, 5.0)[j]
    return a + b * theta_d_m + c * math.log10(theta_d_m)


def _frequency_gain_db(p: _Path, d_m: float) -> float | None:
    """:math:`H_0` at distance d (TN101 sec. 9.2, eq. 9.3-9.5), or None where undefined."""
    wn = p.f_mhz / 47.7
    ad, rr = p.d_hzn_m[0] - p.d_hzn_m[1], p.h_e_m[1] / p.h_e_m[0]
    if ad < 0.0:
        ad, rr = -ad, 1.0 / rr
    theta = p.theta_hzn[0] + p.theta_hzn[1] + d_m / p.a_e_m
    r1, r2 = 2.0 * wn * theta * p.h_e_m[0], 2.0 * wn * theta * p.h_e_m[1]
    if r1 < 0.2 and r2 < 0.2:
        return None  # A_scat is not defined (Algorithm, p. 11)
    s = (d_m - ad) / (d_m + ad)
    q = min(max(0.1, rr / s), 10.0)
    s = max(0.1, s)
    h_cross = (d_m - ad) * (d_m + ad) * theta * 0.25 / d_m  # Algorithm eq. 4.66
    n_s = p.n_s
    eta_s = (h_cross / 1.7556e3) * (
        1.0 + (0.031 - n_s * 2.32e-3 + n_s**2 * 5.67e-6) * math.exp(-min(1.7, h_cross / 8e3) ** 6)
    )  # Algorithm eq. 4.67
    h00 = 0.5 * (_h0_db(r1, eta_s) + _h0_db(r2, eta_s))
    h0 = h00 + min(h00, 6.0 * (0.6 - math.log10(max(eta_s, 1.0))) * math.log10(s) * math.log10(q))
    h0 = max(h0, 0.0)
    if eta_s < 1.0:
        lim = ((1.0 + _SQRT2 / r1) * (1.0 + _SQRT2 / r2)) ** 2 * (r1 + r2) / (r1 + r2 + 2 * _SQRT2)
        h0 = eta_s * h0 + (1.0 - eta_s) * 10.0 * math.log10(lim)
    return h0


def _troposcatter_db(p: _Path, d_m: float, h0_far: float | None) -> tuple[float, float | None]:
    """Forward-scatter attenuation at d and the :math:`H_0` used (Algorithm eq. 4.63).

    ``h0_far`` is :math:`H_0` at the farther distance d6; it replaces a value above 15 dB
    at the nearer distance d5 (Algorithm, p. 12). Returns 1001 dB where undefined.
    """
    h0 = h0_far if h0_far is not None and h0_far > 15.0 else _frequency_gain_db(p, d_m)
    if h0 is None:
        return 1001.0, h0_far
    if h0 > 15.0 and h0_far is not None and h0_far >= 0.0:
        h0 = h0_far
    th = d_m / p.a_e_m - p.theta_los
    wn = p.f_mhz / 47.7
    loss = (
        _scatter_f_db(th * d_m)
        + 10.0 * math.log10(wn * 47.7 * th**4)
        - 0.1 * (p.n_s - 301.0) * math.exp(-th * d_m / 40e3)
        + h0
    )
    return loss, h0


def _line_of_sight_db(p: _Path, m_d: float, a_d0_db: float) -> float:
    r"""Line-of-sight attenuation :math:`A_0 + k_1 d + k_2 \ln d` (ERL 79 eq. 3.16-3.21)."""
    d_sml = p.d_sml_m
    a_sml = d_sml * m_d + a_d0_db
    d0 = 0.04 * p.f_mhz * p.h_e_m[0] * p.h_e_m[1]
    if a_d0_db >= 0.0:
        d0 = min(d0, 0.5 * p.d_ml_m)
        d1 = d0 + 0.25 * (p.d_ml_m - d0)
    else:
        d1 = max(-a_d0_db / m_d, 0.25 * p.d_ml_m)
    a1 = _two_ray_db(p, d1, m_d, a_d0_db)
    two_points = False
    k1 = k2 = 0.0
    if d0 < d1:
        a0 = _two_ray_db(p, d0, m_d, a_d0_db)
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
        k1, k2 = (m_d if k1 == 0.0 else k1), 0.0
    a_o = a_sml - k1 * d_sml - k2 * math.log(d_sml)
    return a_o + k1 * p.d_m + k2 * math.log(p.d_m)


def _beyond_horizon_db(p: _Path, m_d: float, a_d0_db: float, scale_m: float) -> tuple[float, Mode]:
    """Diffraction or troposcatter line, whichever holds at d (Algorithm, sec. 4)."""
    d5, d6 = p.d_ml_m + 200e3, p.d_ml_m + 400e3
    a6, h0 = _troposcatter_db(p, d6, None)
    a5, _ = _troposcatter_db(p, d5, h0)
    if a5 < 1000.0:
        m_s = (a6 - a5) / 200e3
        d_x = max(p.d_sml_m, p.d_ml_m + 1.088 * scale_m * math.log(p.f_mhz))
        if m_d != m_s:
            d_x = max(d_x, (a5 - a_d0_db - m_s * d5) / (m_d - m_s))
        a_s0 = (m_d - m_s) * d_x + a_d0_db
    else:
        m_s, a_s0, d_x = m_d, a_d0_db, 10e6
    if p.d_m > d_x:
        return m_s * p.d_m + a_s0, "troposcatter"
    return m_d * p.d_m + a_d0_db, "diffraction"


def _path_checks(p: _Path, warns: list[str]) -> None:
    """Check the derived path parameters: warn, or raise outside the model's domain."""
    for name, theta, d_hzn, he in zip(
        ("transmitter", "receiver"), p.theta_hzn, p.d_hzn_m, p.h_e_m, strict=True
    ):
        d_hzn_s = math.sqrt(2.0 * he * p.a_e_m)
        if abs(theta) > 0.2:
            warns.append(f"{name} horizon angle {theta * 1e3:.1f} mrad exceeds 200 mrad")
        if not 0.1 * d_hzn_s <= d_hzn <= 3.0 * d_hzn_s:
            warns.append(f"{name} horizon distance {d_hzn:.0f} m is outside 0.1-3 times "
                         f"the smooth-earth horizon {d_hzn_s:.0f} m")
    problems = []
    if not 150.0 <= p.n_s <= 400.0:
        problems.append(f"surface refractivity N_s = {p.n_s:.1f} N-units is outside 150-400")
    elif p.n_s < 250.0:
        warns.append(f"surface refractivity N_s = {p.n_s:.1f} N-units is below 250")
    if not 4e6 <= p.a_e_m <= 13333333.0:
        problems.append(f"effective earth radius {p.a_e_m / 1e3:.0f} km is outside 4000-13333 km")
    if p.z_g.real <= abs(p.z_g.imag):
        problems.append(f"ground impedance Z_g = {p.z_g:.3f} has Re <= |Im|")
    if problems:
        raise ModelDomainError("ITM: " + "; ".join(problems))
    d_min = abs(p.h_e_m[0] - p.h_e_m[1]) / 0.2
    if p.d_m < d_min:
        warns.append(f"path length {p.d_m:.0f} m is < |h_e_tx - h_e_rx| / 0.2 = {d_min:.0f} m")
    if not 1e3 <= p.d_m <= 1000e3:
        warns.append(f"path length {p.d_m / 1e3:.3f} km is outside the recommended 1-1000 km")


def _reference_attenuation(p: _Path, warns: list[str]) -> tuple[float, Mode]:
    r"""Median attenuation relative to free space (dB) and the propagation mode.

    Diffraction at two distances far beyond the horizon gives the slope :math:`m_d` and
    intercept :math:`A_{d0}`; shorter paths use the line-of-sight fit, longer ones the
    diffraction or troposcatter line; negative values are clipped to 0 (Algorithm, sec. 4).
    """
    _path_checks(p, warns)
    scale_m = math.cbrt(p.a_e_m**2 / p.f_mhz)
    d3 = max(p.d_sml_m, p.d_ml_m + 5.0 * scale_m)
    d4 = d3 + 10.0 * scale_m
    a3, a4 = _diffraction_db(p, d3), _diffraction_db(p, d4)
    m_d = (a4 - a3) / (d4 - d3)
    a_d0 = a3 - m_d * d3
    mode: Mode
    if p.d_m < p.d_sml_m:
        a_ref, mode = _line_of_sight_db(p, m_d, a_d0), "line_of_sight"
    else:
        a_ref, mode = _beyond_horizon_db(p, m_d, a_d0, scale_m)
    return max(a_ref, 0.0), mode


# --------------------------------------------------------------------------------------
# Variability (Algorithm, sec. 5). Climate curves of TN101 Fig. 10.13 as fitted by TN101
# eq. III.69-70: rows c1, c2, x1, x2, x3; columns climates 1-7.

_V_MED = (
    (-9.67, -0.62, 1.26, -9.21, -0.62, -0.39, 3.15),
    (12.7, 9.19, 15.5, 9.05, 9.19, 2.86, 857.9),
    (144.9e3, 228.9e3, 262.6e3, 84.1e3, 228.9e3, 141.7e3, 2222.0e3),
    (190.3e3, 205.2e3, 185.2e3, 101.1e3, 205.2e3, 315.9e3, 164.8e3),
    (133.8e3, 143.6e3, 99.8e3, 98.6e3, 143.6e3, 167.4e3, 116.3e3),
)
_SIGMA_T_MINUS = (
    (2.13, 2.66, 6.11, 1.98, 2.68, 6.86, 8.51),
    (159.5, 7.67, 6.65, 13.11, 7.16, 10.38, 169.8),
    (762.2e3, 100.4e3, 138.2e3, 139.1e3, 93.7e3, 187.8e3, 609.8e3),
    (123.6e3, 172.5e3, 242.2e3, 132.7e3, 186.8e3, 169.6e3, 119.9e3),
    (94.5e3, 136.4e3, 178.6e3, 193.5e3, 133.5e3, 108.9e3, 106.6e3),
)
_SIGMA_T_PLUS = (
    (2.11, 6.87, 10.08, 3.68, 4.75, 8.58, 8.43),
    (102.3, 15.53, 9.60, 159.3, 8.12, 13.97, 8.19),
    (636.9e3, 138.7e3, 165.3e3, 464.4e3, 93.2e3, 216.0e3, 136.2e3),
    (134.8e3, 143.7e3, 225.7e3, 93.1e3, 135.9e3, 152.0e3, 188.5e3),
    (95.6e3, 98.6e3, 129.7e3, 94.2e3, 113.4e3, 122.7e3, 122.9e3),
)
_C_D = (1.224, 0.801, 1.380, 1.000, 1.224, 1.518, 1.518)  # Algorithm Table 5.1
_Z_D = (1.282, 2.161, 1.282, 20.0, 1.282, 1.282, 1.282)  # Algorithm Table 5.1
_G_MINUS = ((1.0, 1.0, 1.0, 1.0, 0.92, 1.0, 1.0),
            (0.0, 0.0, 0.0, 0.0, 0.25, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 1.77, 0.0, 0.0))
_G_PLUS = ((1.0, 0.93, 1.0, 0.93, 0.93, 1.0, 1.0),
           (0.0, 0.31, 0.0, 0.19, 0.31, 0.0, 0.0), (0.0, 2.00, 0.0, 1.79, 2.00, 0.0, 0.0))


def _qinv(q: float) -> float:
    """Inverse complementary normal distribution (Abramowitz & Stegun 26.2.23, err < 4.5e-4)."""
    x = 1.0 - q if q > 0.5 else q
    t = math.sqrt(-2.0 * math.log(x))
    zeta = ((0.010328 * t + 0.802853) * t + 2.515516) / (
        ((0.001308 * t + 0.189269) * t + 1.432788) * t + 1.0
    )
    return zeta - t if q > 0.5 else t - zeta


def _climate_curve(coef: tuple[tuple[float, ...], ...], c: int, d_e_m: float) -> float:
    """Curve of TN101 eq. III.69-70 for climate index c at effective distance d_e."""
    c1, c2, x1, x2, x3 = (row[c] for row in coef)
    r = (d_e_m / x1) ** 2
    return (c1 + c2 / (1.0 + ((d_e_m - x2) / x3) ** 2)) * r / (1.0 + r)


def _time_sigma_db(c: int, wn: float, d_e_m: float, z_t: float) -> float:
    """Return the time-variability deviation on the side of z_T, dB (Algorithm, sec. 5)."""
    q = math.log(0.133 * wn)
    if z_t < 0.0:
        g_minus = _G_MINUS[0][c] + _G_MINUS[1][c] / ((_G_MINUS[2][c] * q) ** 2 + 1.0)
        return _climate_curve(_SIGMA_T_MINUS, c, d_e_m) * g_minus
    g_plus = _G_PLUS[0][c] + _G_PLUS[1][c] / ((_G_PLUS[2][c] * q) ** 2 + 1.0)
    sigma_plus = _climate_curve(_SIGMA_T_PLUS, c, d_e_m) * g_plus
    if z_t <= _Z_D[c]:
        return sigma_plus
    sigma_td = _C_D[c] * sigma_plus
    return sigma_td + (sigma_plus - sigma_td) * _Z_D[c] / z_t


def _variability_db(
    p: _Path, a_ref_db: float, climate: int, mdvar: int, pct: tuple[float, float, float],
    warns: list[str],
) -> float:
    r"""Attenuation relative to free space at the time/location/situation quantiles, dB.

    :math:`A = A_{ref} - V_{med} - Y_R - Y_S` with the effective distance of Algorithm
    eq. 5.3, location deviation :math:`10 k\Delta h(d)/(k\Delta h(d) + 13)`, situation
    deviation :math:`5 + 3 e^{-d_e/100\,km}` (eq. 5.10), combined per mode of variability
    (eq. 5.11); negative values are compressed (Algorithm, sec. 5).
    """
    z_t, z_l, z_s = (_qinv(x / 100.0) for x in pct)
    c = climate - 1
    wn = p.f_mhz / 47.7
    d_ex = sum(math.sqrt(2.0 * _A_9000_M * he) for he in p.h_e_m) + math.cbrt(575.7e12 / wn)
    d_e = 130e3 * p.d_m / d_ex if p.d_m < d_ex else 130e3 + p.d_m - d_ex
    no_situation, base = mdvar >= 20, mdvar % 20
    no_location, base = base >= 10, base % 10
    sigma_s = 0.0 if no_situation else 5.0 + 3.0 * math.exp(-d_e / 100e3)
    if base == 0:  # single message
        z_t = z_l = z_s
    elif base == 1:  # accidental
        z_l = z_s
    elif base == 2:  # mobile
        z_l = z_t
    if max(abs(z_t), abs(z_l), abs(z_s)) > 3.10:
        warns.append("a time/location/situation quantile is beyond 3.1 standard deviations")
    dh_d = _roughness_m(p.d_m, p.delta_h_m)
    sigma_l = 0.0 if no_location else 10.0 * wn * dh_d / (wn * dh_d + 13.0)
    sigma_t = _time_sigma_db(c, wn, d_e, z_t)
    y_t, y_l = sigma_t * z_t, sigma_l * z_l
    y_s2 = sigma_s**2 + y_t**2 / (7.8 + z_s**2) + y_l**2 / (24.0 + z_s**2)
    if base == 0:
        y_r, y_s = 0.0, math.sqrt(sigma_t**2 + sigma_l**2 + y_s2) * z_s
    elif base == 1:
        y_r, y_s = y_t, math.sqrt(sigma_l**2 + y_s2) * z_s
    elif base == 2:
        y_r, y_s = math.sqrt(sigma_t**2 + sigma_l**2) * z_t, math.sqrt(y_s2) * z_s
    else:  # broadcast
        y_r, y_s = y_t + y_l, math.sqrt(y_s2) * z_s
    result = a_ref_db - _climate_curve(_V_MED, c, d_e) - y_r - y_s
    if result < 0.0:
        result = result * (29.0 - result) / (29.0 - 10.0 * result)
    return result


# --------------------------------------------------------------------------------------
# Public API
def itm_p2p(
    heights_m: ArrayLike, step_m: float, h_tx_m: float, h_rx_m: float, freq_mhz: float, *,
    epsilon: float = 15.0, sigma: float = 0.005, n0: float = 301.0,
    climate: Climate | int = "continental_temperate",
    polarization: Polarization | int = "vertical", mdvar: int = 12,
    time_pct: float = 50.0, location_pct: float = 50.0, situation_pct: float = 50.0,
) -> ItmResult:
    """Longley-Rice (ITM 1.4) basic transmission loss over a terrain profile.

    Parameters
    ----------
    heights_m : array_like
        Terrain heights above sea level in m from the transmitter to the receiver at equal
        spacing (NTIA's ``pfl`` without its two leading values); at least 2 points.
    step_m : float
        Spacing of the profile points in m; the path length is ``(len(heights_m) - 1) *
        step_m``.
    h_tx_m, h_rx_m : float
        Antenna heights above ground in m (0.5-3000; recommended 1-1000).
    freq_mhz : float
        Frequency in MHz (20-20000; recommended 40-10000).
    epsilon, sigma : float, keyword-only
        Ground relative permittivity (>= 1) and conductivity in S/m (> 0). Defaults 15 and
        0.005 (average ground).
    n0 : float, keyword-only
        Surface refractivity at sea level in N-units (250-400). Default 301.
    climate : str or int, keyword-only
        Radio climate name (keys of :data:`CLIMATES`) or NTIA code 1-7.
    polarization : {"horizontal", "vertical"} or {0, 1}, keyword-only
        Polarisation. Default "vertical".
    mdvar : int, keyword-only
        Mode of variability: 0 single message, 1 accidental, 2 mobile, 3 broadcast; add 10
        to drop location variability and/or 20 to drop direct situation variability.
        Default 12 (mobile, location variability handled elsewhere).
    time_pct, location_pct, situation_pct : float, keyword-only
        Quantiles in percent, 0 < p < 100: the loss is not exceeded during ``time_pct`` %
        of the time at ``location_pct`` % of locations in ``situation_pct`` % of situations.

    Returns
    -------
    ItmResult
        Loss in dB, propagation mode, soft warnings and intermediate values.

    Raises
    ------
    ModelDomainError
        If inputs are outside the model's limits (every problem is named in one message),
        or the derived surface refractivity, effective earth radius or ground impedance is.

    References
    ----------
    G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm",
    NTIA/ITS 1995, sec. 3-5; NTIA/ITS ITM v1.4, ``ITM_P2P_TLS``.

    Examples
    --------
    A 10 km path over flat ground at sea level, 42 m tower, 1.5 m handset, 900 MHz:

    >>> import numpy as np
    >>> res = itm_p2p(np.zeros(101), 100.0, 42.0, 1.5, 900.0)
    >>> res.mode, round(res.loss_db, 1), round(res.A_fs_db, 1)
    ('line_of_sight', 124.2, 111.5)
    """
    problems: list[str] = []
    warns: list[str] = []
    step = float(step_m)
    z = _parse_profile(heights_m, step, problems)
    clim = _parse_code("climate", climate, CLIMATES, problems)
    pol = _parse_code("polarization", polarization, _POLARIZATIONS, problems)
    mdv = _check_mdvar(mdvar, problems)
    h_m = (float(h_tx_m), float(h_rx_m))
    f = float(freq_mhz)
    ground = (float(epsilon), float(sigma), float(n0))
    pct = (float(time_pct), float(location_pct), float(situation_pct))
    _check_scalars(h_m, f, ground, pct, problems, warns)
    if problems:
        raise ModelDomainError("ITM: " + "; ".join(problems))

    n = z.size - 1
    d_m = n * step
    p10 = int(0.1 * n)
    h_sys = float(np.mean(z[p10 : n - p10 + 1]))  # mean height without the end tenths
    z_g, gamma_e, n_s = _ground_constants(f, h_sys, ground[2], pol, ground[0], ground[1])
    a_e = 1.0 / gamma_e
    theta, d_hzn, h_e, delta_h = _profile_geometry(z, step, a_e, h_m)
    d_ml = d_hzn[0] + d_hzn[1]
    path = _Path(
        d_m=d_m, f_mhz=f, a_e_m=a_e, z_g=z_g, n_s=n_s, h_m=h_m, h_e_m=(h_e[0], h_e[1]),
        d_hzn_m=(d_hzn[0], d_hzn[1]), theta_hzn=(theta[0], theta[1]), delta_h_m=delta_h,
        d_ml_m=d_ml, d_sml_m=math.sqrt(2.0 * h_e[0] * a_e) + math.sqrt(2.0 * h_e[1] * a_e),
        theta_los=-max(theta[0] + theta[1], -d_ml / a_e),
    )
    a_ref, mode = _reference_attenuation(path, warns)
    a_fs = 32.45 + 20.0 * math.log10(f) + 20.0 * math.log10(d_m / 1e3)  # ITU-R P.525
    loss = _variability_db(path, a_ref, clim, mdv, pct, warns) + a_fs
    return ItmResult(
        loss_db=loss, mode=mode, warnings=tuple(warns), d_km=d_m / 1e3,
        theta_hzn=path.theta_hzn, d_hzn_m=path.d_hzn_m, h_e_m=path.h_e_m,
        delta_h_m=delta_h, n_s=n_s, A_ref_db=a_ref, A_fs_db=a_fs,
    )


def itm_p2p_db(
    heights_m: ArrayLike, step_m: float, h_tx_m: float, h_rx_m: float, freq_mhz: float, *,
    epsilon: float = 15.0, sigma: float = 0.005, n0: float = 301.0,
    climate: Climate | int = "continental_temperate",
    polarization: Polarization | int = "vertical", mdvar: int = 12,
    time_pct: float = 50.0, location_pct: float = 50.0, situation_pct: float = 50.0,
) -> float:
    """Longley-Rice (ITM 1.4) point-to-point basic transmission loss in dB.

    Same parameters, limits and errors as :func:`itm_p2p`, which also returns the
    propagation mode, soft warnings and intermediate values.

    References
    ----------
    G. A. Hufford, "The ITS Irregular Terrain Model, version 1.2.2: the Algorithm",
    NTIA/ITS 1995; NTIA/ITS ITM v1.4, ``ITM_P2P_TLS``.

    Examples
    --------
    >>> import numpy as np
    >>> round(itm_p2p_db(np.zeros(101), 100.0, 42.0, 1.5, 900.0, time_pct=90.0), 1)
    124.5
    """
    return itm_p2p(
        heights_m, step_m, h_tx_m, h_rx_m, freq_mhz, epsilon=epsilon, sigma=sigma, n0=n0,
        climate=climate, polarization=polarization, mdvar=mdvar, time_pct=time_pct,
        location_pct=location_pct, situation_pct=situation_pct,
    ).loss_db
