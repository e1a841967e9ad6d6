"""Microwave hop attenuation: rain (ITU-R P.838-3, P.530-17), gases (ITU-R P.676-10 Annex 2).

Pure functions of numbers and numpy arrays, used by the backhaul hop budget
(:mod:`towerplan.analysis.backhaul`):

* :func:`rain_coefficients` - k and alpha of the power law ``gamma_R = k R^alpha`` from the
  table of ITU-R P.838-3, interpolated between tabulated frequencies with logarithmic
  frequency and k scales and a linear alpha scale.
* :func:`rain_attenuation_db` - rain attenuation exceeded for p % of an average year on a
  terrestrial line-of-sight path, ITU-R P.530-17 section 2.4.1: ``A_0.01 = gamma_R d r`` with
  the path reduction factor ``r`` of step 4 (:func:`path_reduction_factor`) and the scaling to
  other percentages of step 5/6 (:func:`percent_scaling`).
* :func:`gaseous_specific_attenuation_db_km` - oxygen plus water vapour, the simplified
  approximation of ITU-R P.676-10 Annex 2 (equations 22 and 23; valid 1-54 GHz for oxygen) at
  a given surface pressure, temperature and humidity.
* :func:`dish_gain_dbi` - gain of a parabolic antenna of a given diameter.

References
----------
ITU-R P.838-3 (03/2005), "Specific attenuation model for rain for use in prediction methods",
equations (1)-(3), Tables 1-4 and the table of coefficient values at 1-1000 GHz.
ITU-R P.530-17 (12/2017), "Propagation data and prediction methods required for the design of
terrestrial line-of-sight systems", section 2.4.1 (steps 1-6).
ITU-R P.676-10 (09/2013), "Attenuation by atmospheric gases", Annex 2, equations (22)-(23).
ITU-R P.835-6 (12/2017), "Reference standard atmospheres", low-latitude annual surface values.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError

__all__ = [
    "P838_TABLE",
    "TROPICAL_SURFACE",
    "dish_gain_dbi",
    "gaseous_specific_attenuation_db_km",
    "path_reduction_factor",
    "percent_scaling",
    "rain_attenuation_db",
    "rain_coefficients",
    "rain_specific_attenuation_db_km",
]

#: ITU-R P.838-3, table of coefficients (1-100 GHz part): frequency GHz, k_H, alpha_H, k_V,
#: alpha_V. The Recommendation tabulates the values its equations (2) and (3) give with the
#: coefficients of its Tables 1-4; these rows are that table (4-5 significant digits).
P838_TABLE: tuple[tuple[float, float, float, float, float], ...] = (
    (1.0, 0.0000259, 0.9691, 0.0000308, 0.8592),
    (1.5, 0.0000443, 1.0185, 0.0000574, 0.8957),
    (2.0, 0.0000847, 1.0664, 0.0000998, 0.9490),
    (2.5, 0.0001321, 1.1209, 0.0001464, 1.0085),
    (3.0, 0.0001390, 1.2322, 0.0001942, 1.0688),
    (3.5, 0.0001155, 1.4189, 0.0002346, 1.1387),
    (4.0, 0.0001071, 1.6009, 0.0002461, 1.2476),
    (4.5, 0.0001340, 1.6948, 0.0002347, 1.3987),
    (5.0, 0.0002162, 1.6969, 0.0002428, 1.5317),
    (5.5, 0.0003909, 1.6499, 0.0003115, 1.5882),
    (6.0, 0.0007056, 1.5900, 0.0004878, 1.5728),
    (7.0, 0.001915, 1.4810, 0.001425, 1.4745),
    (8.0, 0.004115, 1.3905, 0.003450, 1.3797),
    (9.0, 0.007535, 1.3155, 0.006691, 1.2895),
    (10.0, 0.01217, 1.2571, 0.01129, 1.2156),
    (11.0, 0.01772, 1.2140, 0.01731, 1.1617),
    (12.0, 0.02386, 1.1825, 0.02455, 1.1216),
    (13.0, 0.03041, 1.1586, 0.03266, 1.0901),
    (14.0, 0.03738, 1.1396, 0.04126, 1.0646),
    (15.0, 0.04481, 1.1233, 0.05008, 1.0440),
    (16.0, 0.05282, 1.1086, 0.05899, 1.0273),
    (17.0, 0.06146, 1.0949, 0.06797, 1.0137),
    (18.0, 0.07078, 1.0818, 0.07708, 1.0025),
    (19.0, 0.08084, 1.0691, 0.08642, 0.9930),
    (20.0, 0.09164, 1.0568, 0.09611, 0.9847),
    (21.0, 0.1032, 1.0447, 0.1063, 0.9771),
    (22.0, 0.1155, 1.0329, 0.1170, 0.9700),
    (23.0, 0.1286, 1.0214, 0.1284, 0.9630),
    (24.0, 0.1425, 1.0101, 0.1404, 0.9561),
    (25.0, 0.1571, 0.9991, 0.1533, 0.9491),
    (26.0, 0.1724, 0.9884, 0.1669, 0.9421),
    (27.0, 0.1884, 0.9780, 0.1813, 0.9349),
    (28.0, 0.2051, 0.9679, 0.1964, 0.9277),
    (29.0, 0.2224, 0.9580, 0.2124, 0.9203),
    (30.0, 0.2403, 0.9485, 0.2291, 0.9129),
    (35.0, 0.3374, 0.9047, 0.3224, 0.8761),
    (40.0, 0.4431, 0.8673, 0.4274, 0.8421),
    (45.0, 0.5521, 0.8355, 0.5375, 0.8123),
    (50.0, 0.6600, 0.8084, 0.6472, 0.7871),
    (60.0, 0.8606, 0.7656, 0.8515, 0.7486),
    (70.0, 1.0315, 0.7345, 1.0253, 0.7215),
    (80.0, 1.1704, 0.7115, 1.1668, 0.7021),
    (90.0, 1.2807, 0.6944, 1.2795, 0.6876),
    (100.0, 1.3671, 0.6815, 1.3680, 0.6765),
)

#: Surface pressure (hPa), temperature (deg C) and water vapour density (g/m3) of the ITU-R
#: P.835-6 low-latitude (tropical) annual reference atmosphere, used for gaseous attenuation.
TROPICAL_SURFACE: tuple[float, float, float] = (1012.0306, 27.25, 19.6526)

_TABLE = np.array(P838_TABLE)
_LOG_F = np.log10(_TABLE[:, 0])
_POLARISATIONS = ("horizontal", "vertical")
_SPEED_OF_LIGHT_M_S = 299_792_458.0
_P530_MAX_R = 2.5


def _float_or_array(out: np.ndarray) -> np.ndarray | float:
    return float(out) if out.ndim == 0 else out


def _check_freq(f: np.ndarray, lo: float, hi: float, what: str) -> None:
    if np.any(~((f >= lo) & (f <= hi))):
        bad = f[~((f >= lo) & (f <= hi))]
        msg = (f"{what}: frequency {float(bad.flat[0]):g} GHz is outside {lo:g}-{hi:g} GHz; "
               "choose a microwave band such as 7, 13 or 18 GHz")
        raise ModelDomainError(msg)


def rain_coefficients(freq_ghz: ArrayLike, polarisation: str = "vertical"
                      ) -> tuple[np.ndarray | float, np.ndarray | float]:
    """Coefficients k and alpha of the specific rain attenuation ``k R^alpha``.

    Between the tabulated frequencies of ITU-R P.838-3, log10(k) is interpolated linearly in
    log10(f) (log-log) and alpha linearly in log10(f), the interpolation the Recommendation
    series prescribes for its table.

    Parameters
    ----------
    freq_ghz : float or array
        Frequency, GHz (1-100).
    polarisation : {"vertical", "horizontal"}
        Linear polarisation of a terrestrial (horizontal) path.

    Returns
    -------
    k : float or numpy.ndarray
        Coefficient k (dB/km per (mm/h)^alpha).
    alpha : float or numpy.ndarray
        Exponent alpha (dimensionless).

    References
    ----------
    ITU-R P.838-3, table of coefficients; equation (4) with elevation 0 and tilt 0/90 deg.

    Examples
    --------
    >>> k, a = rain_coefficients(13.0, "horizontal")
    >>> round(k, 5), round(a, 4)
    (0.03041, 1.1586)
    """
    if polarisation not in _POLARISATIONS:
        msg = f"polarisation must be 'vertical' or 'horizontal', got {polarisation!r}"
        raise ModelDomainError(msg)
    f = np.asarray(freq_ghz, dtype=float)
    _check_freq(f, 1.0, 100.0, "ITU-R P.838-3 rain coefficients")
    col = 1 if polarisation == "horizontal" else 3
    lf = np.log10(f)
    k = 10.0 ** np.interp(lf, _LOG_F, np.log10(_TABLE[:, col]))
    alpha = np.interp(lf, _LOG_F, _TABLE[:, col + 1])
    return _float_or_array(np.asarray(k)), _float_or_array(np.asarray(alpha))


def rain_specific_attenuation_db_km(rain_rate_mm_h: ArrayLike, freq_ghz: float,
                                    polarisation: str = "vertical") -> np.ndarray | float:
    """Specific rain attenuation ``gamma_R = k R^alpha``, dB/km (ITU-R P.838-3 eq. 1).

    Examples
    --------
    >>> round(float(rain_specific_attenuation_db_km(100.0, 13.0, "horizontal")), 2)
    6.31
    """
    rate = np.asarray(rain_rate_mm_h, dtype=float)
    if np.any(~(rate >= 0)):
        msg = "rain rate must be >= 0 mm/h"
        raise ModelDomainError(msg)
    k, alpha = rain_coefficients(freq_ghz, polarisation)
    return _float_or_array(np.asarray(k * rate ** alpha))


def path_reduction_factor(distance_km: ArrayLike, rain_rate_mm_h: float, freq_ghz: float,
                          alpha: float) -> np.ndarray | float:
    """Distance factor r of ITU-R P.530-17 section 2.4.1, step 4.

    ``r = 1 / (0.477 d^0.633 R^(0.073 alpha) f^0.123 - 10.579 (1 - exp(-0.024 d)))``, at most
    2.5 (the Recommendation's maximum, used whenever the denominator is below 0.4).

    Parameters
    ----------
    distance_km : float or array
        Path length d, km (> 0).
    rain_rate_mm_h : float
        Rain rate exceeded for 0.01 % of the time, R_0.01, mm/h (> 0).
    freq_ghz : float
        Frequency, GHz.
    alpha : float
        P.838-3 exponent at that frequency and polarisation.

    Examples
    --------
    >>> round(float(path_reduction_factor(10.0, 100.0, 13.0, 1.1586)), 4)
    0.5293
    """
    d = np.asarray(distance_km, dtype=float)
    if np.any(~(d > 0)) or not rain_rate_mm_h > 0:
        msg = "path_reduction_factor needs distance_km > 0 and rain_rate_mm_h > 0"
        raise ModelDomainError(msg)
    denom = (0.477 * d ** 0.633 * rain_rate_mm_h ** (0.073 * alpha) * freq_ghz ** 0.123
             - 10.579 * (1.0 - np.exp(-0.024 * d)))
    r = np.where(denom > 1.0 / _P530_MAX_R, 1.0 / np.maximum(denom, 1e-12), _P530_MAX_R)
    return _float_or_array(np.asarray(r))


def percent_scaling(percent_time: float, latitude_deg: float) -> float:
    """``A_p / A_0.01`` of ITU-R P.530-17 section 2.4.1, steps 5 and 6.

    ``0.07 p^-(0.855 + 0.139 log10 p)`` below 30 degrees of latitude (north or south),
    ``0.12 p^-(0.546 + 0.043 log10 p)`` from 30 degrees on; valid for 0.001 <= p <= 1 %.

    Examples
    --------
    >>> round(percent_scaling(0.01, -1.7), 3), round(percent_scaling(0.1, -1.7), 3)
    (0.998, 0.364)
    """
    p = float(percent_time)
    if not 0.001 <= p <= 1.0:
        msg = (f"ITU-R P.530 rain scaling holds for 0.001-1 % of the time (availability "
               f"99-99.999 %), got {p:g} %")
        raise ModelDomainError(msg)
    lp = math.log10(p)
    if abs(latitude_deg) >= 30.0:
        return 0.12 * p ** -(0.546 + 0.043 * lp)
    return 0.07 * p ** -(0.855 + 0.139 * lp)


def rain_attenuation_db(distance_km: ArrayLike, freq_ghz: float, rain_rate_mm_h: float, *,
                        polarisation: str = "vertical", percent_time: float = 0.01,
                        latitude_deg: float = 0.0) -> np.ndarray | float:
    """Rain attenuation exceeded for *percent_time* % of an average year, dB.

    ITU-R P.530-17 section 2.4.1: ``A_0.01 = gamma_R d r`` (steps 2-5) scaled by
    :func:`percent_scaling` (step 6).

    Parameters
    ----------
    distance_km : float or array
        Hop length, km (> 0).
    freq_ghz : float
        Frequency, GHz (1-100).
    rain_rate_mm_h : float
        Rain rate exceeded for 0.01 % of the time, mm/h (e.g. 100 to 120 in Kalimantan).
    polarisation : {"vertical", "horizontal"}
        Polarisation of the hop.
    percent_time : float
        Percentage of the year the attenuation is exceeded, 100 - availability (0.01 for
        99.99 %).
    latitude_deg : float
        Latitude of the hop, degrees (selects the scaling law of step 6).

    Examples
    --------
    >>> round(float(rain_attenuation_db(10.0, 13.0, 100.0, polarisation="horizontal")), 1)
    33.3
    """
    if not rain_rate_mm_h > 0:
        msg = f"rain rate R0.01 must be > 0 mm/h, got {rain_rate_mm_h:g}"
        raise ModelDomainError(msg)
    k, alpha = rain_coefficients(freq_ghz, polarisation)
    gamma = float(k) * rain_rate_mm_h ** float(alpha)
    d = np.asarray(distance_km, dtype=float)
    r = np.asarray(path_reduction_factor(d, rain_rate_mm_h, freq_ghz, float(alpha)))
    out = gamma * d * r * percent_scaling(percent_time, latitude_deg)
    return _float_or_array(np.asarray(out))


def _phi(rp: float, rt: float, a: float, b: float, c: float, d: float) -> float:
    return rp ** a * rt ** b * math.exp(c * (1.0 - rp) + d * (1.0 - rt))


def _g(f: np.ndarray, fi: float) -> np.ndarray:
    return 1.0 + ((f - fi) / (f + fi)) ** 2


def gaseous_specific_attenuation_db_km(
    freq_ghz: ArrayLike, *, pressure_hpa: float = 1013.25, temperature_c: float = 15.0,
    water_vapour_g_m3: float = 7.5,
) -> np.ndarray | float:
    """Specific attenuation of dry air plus water vapour, dB/km.

    The simplified approximation of ITU-R P.676-10 Annex 2: oxygen by equation (22) (the
    form for f <= 54 GHz) and water vapour by equation (23), at the given surface conditions.
    Defaults are the standard atmosphere of the Recommendation (1013.25 hPa, 15 deg C,
    7.5 g/m3); :data:`TROPICAL_SURFACE` holds the ITU-R P.835 low-latitude values.

    Parameters
    ----------
    freq_ghz : float or array
        Frequency, GHz (1-54).
    pressure_hpa, temperature_c, water_vapour_g_m3 : float
        Dry-air pressure, temperature and water vapour density at the path.

    References
    ----------
    ITU-R P.676-10, Annex 2, equations (22) and (23).

    Examples
    --------
    >>> round(float(gaseous_specific_attenuation_db_km(22.235)), 3)
    0.192
    """
    f = np.asarray(freq_ghz, dtype=float)
    _check_freq(f, 1.0, 54.0, "ITU-R P.676 Annex 2 gaseous attenuation")
    rp = pressure_hpa / 1013.25
    rt = 288.0 / (273.0 + temperature_c)
    rho = float(water_vapour_g_m3)
    xi1 = _phi(rp, rt, 0.0717, -1.8132, 0.0156, -1.6515)
    xi2 = _phi(rp, rt, 0.5146, -4.6368, -0.1921, -5.7416)
    xi3 = _phi(rp, rt, 0.3414, -6.5851, 0.2130, -8.5854)
    oxygen = (7.2 * rt ** 2.8 / (f ** 2 + 0.34 * rp ** 2 * rt ** 1.6)
              + 0.62 * xi3 / ((54.0 - f) ** (1.16 * xi1) + 0.83 * xi2)) * f ** 2 * rp ** 2 * 1e-3
    eta1 = 0.955 * rp * rt ** 0.68 + 0.006 * rho
    eta2 = 0.735 * rp * rt ** 0.5 + 0.0353 * rt ** 4 * rho
    lines = (
        3.98 * eta1 * math.exp(2.23 * (1 - rt)) / ((f - 22.235) ** 2 + 9.42 * eta1 ** 2)
        * _g(f, 22.0)
        + 11.96 * eta1 * math.exp(0.7 * (1 - rt)) / ((f - 183.31) ** 2 + 11.14 * eta1 ** 2)
        + 0.081 * eta1 * math.exp(6.44 * (1 - rt)) / ((f - 321.226) ** 2 + 6.29 * eta1 ** 2)
        + 3.66 * eta1 * math.exp(1.6 * (1 - rt)) / ((f - 325.153) ** 2 + 9.22 * eta1 ** 2)
        + 25.37 * eta1 * math.exp(1.09 * (1 - rt)) / (f - 380.0) ** 2
        + 17.4 * eta1 * math.exp(1.46 * (1 - rt)) / (f - 448.0) ** 2
        + 844.6 * eta1 * math.exp(0.17 * (1 - rt)) / (f - 557.0) ** 2 * _g(f, 557.0)
        + 290.0 * eta1 * math.exp(0.41 * (1 - rt)) / (f - 752.0) ** 2 * _g(f, 752.0)
        + 8.3328e4 * eta2 * math.exp(0.99 * (1 - rt)) / (f - 1780.0) ** 2 * _g(f, 1780.0)
    )
    water = lines * f ** 2 * rt ** 2.5 * rho * 1e-4
    return _float_or_array(np.asarray(oxygen + water))


def dish_gain_dbi(diameter_m: float, freq_ghz: ArrayLike, efficiency: float = 0.55
                  ) -> np.ndarray | float:
    """Boresight gain of a parabolic dish, ``10 log10(eta (pi D f / c)^2)``, dBi.

    Examples
    --------
    >>> round(float(dish_gain_dbi(1.2, 7.0)), 1), round(float(dish_gain_dbi(0.6, 13.0)), 1)
    (36.3, 35.7)
    """
    f = np.asarray(freq_ghz, dtype=float)
    if not (diameter_m > 0 and 0 < efficiency <= 1) or np.any(~(f > 0)):
        msg = "dish_gain_dbi needs diameter_m > 0, 0 < efficiency <= 1 and freq_ghz > 0"
        raise ModelDomainError(msg)
    x = math.pi * diameter_m * f * 1e9 / _SPEED_OF_LIGHT_M_S
    return _float_or_array(np.asarray(10.0 * np.log10(efficiency * x ** 2)))
