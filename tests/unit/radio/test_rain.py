"""Rain (ITU-R P.838-3, P.530-17) and gaseous (ITU-R P.676-10 Annex 2) attenuation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from towerplan.errors import ModelDomainError
from towerplan.radio.rain import (
    P838_TABLE,
    dish_gain_dbi,
    gaseous_specific_attenuation_db_km,
    path_reduction_factor,
    percent_scaling,
    rain_attenuation_db,
    rain_coefficients,
    rain_specific_attenuation_db_km,
)

# ITU-R P.838-3, table of coefficients: (f GHz, kH, alphaH, kV, alphaV) as printed.
PUBLISHED = (
    (7.0, 0.001915, 1.4810, 0.001425, 1.4745),
    (10.0, 0.01217, 1.2571, 0.01129, 1.2156),
    (13.0, 0.03041, 1.1586, 0.03266, 1.0901),
    (18.0, 0.07078, 1.0818, 0.07708, 1.0025),
)

# ITU-R P.838-3 equations (2)-(3), coefficients of Tables 1-4: an independent route to k, alpha.
_KH = ([-5.33980, -0.35351, -0.23789, -0.94158], [-0.10008, 1.26970, 0.86036, 0.64552],
       [1.13098, 0.45400, 0.15354, 0.16817], -0.18961, 0.71147)
_AV = ([-0.07771, 0.56727, -0.20238, -48.2991, 48.5833],
       [2.33840, 0.95545, 1.14520, 0.791669, 0.791459],
       [-0.76284, 0.54039, 0.26809, 0.116226, 0.116479], -0.053739, 0.83433)


def _p838(coeffs: tuple, f: float) -> float:
    a, b, c, m, k = coeffs
    lf = math.log10(f)
    return sum(ai * math.exp(-(((lf - bi) / ci) ** 2)) for ai, bi, ci in zip(a, b, c, strict=True)
               ) + m * lf + k


@pytest.mark.parametrize(("f", "kh", "ah", "kv", "av"), PUBLISHED)
def test_coefficients_at_tabulated_frequencies(f: float, kh: float, ah: float, kv: float,
                                                av: float) -> None:
    k, a = rain_coefficients(f, "horizontal")
    assert k == pytest.approx(kh, rel=1e-9) and a == pytest.approx(ah, abs=1e-12)
    k, a = rain_coefficients(f, "vertical")
    assert k == pytest.approx(kv, rel=1e-9) and a == pytest.approx(av, abs=1e-12)


def test_table_agrees_with_the_p838_equations() -> None:
    for f, kh, _, _, av in P838_TABLE:
        assert kh == pytest.approx(10 ** _p838(_KH, f), rel=2e-3)
        assert av == pytest.approx(_p838(_AV, f), abs=2e-4)


def test_interpolation_is_log_log_for_k_and_log_linear_for_alpha() -> None:
    f = math.sqrt(13.0 * 14.0)  # halfway between 13 and 14 GHz on a log scale
    k, a = rain_coefficients(f, "horizontal")
    assert k == pytest.approx(math.sqrt(0.03041 * 0.03738), rel=1e-9)
    assert a == pytest.approx((1.1586 + 1.1396) / 2, abs=1e-12)
    # between table entries the interpolation stays close to the fitted equations
    for f in (7.5, 11.5, 16.3, 23.7):
        assert float(rain_coefficients(f, "horizontal")[0]) == pytest.approx(
            10 ** _p838(_KH, f), rel=0.02)


def test_rain_attenuation_reference_value() -> None:
    # 10 km hop, 13 GHz horizontal, R0.01 = 100 mm/h, 0.01 % of the time, latitude < 30 deg.
    # gamma_R = 0.03041 * 100^1.1586 = 6.314 dB/km (P.838-3)
    # r = 1 / (0.477 * 10^0.633 * 100^(0.073 * 1.1586) * 13^0.123 - 10.579 (1 - e^-0.24))
    #   = 1 / (4.1467 - 2.2573) = 0.5293 (P.530-17 step 4)
    # A0.01 = 6.314 * 10 * 0.5293 = 33.42 dB; step 6 scaling at p = 0.01: 0.998.
    assert rain_specific_attenuation_db_km(100.0, 13.0, "horizontal") == pytest.approx(6.314,
                                                                                       abs=2e-3)
    assert path_reduction_factor(10.0, 100.0, 13.0, 1.1586) == pytest.approx(0.5293, abs=2e-4)
    a = rain_attenuation_db(10.0, 13.0, 100.0, polarisation="horizontal", latitude_deg=-1.7)
    assert a == pytest.approx(33.42 * 0.998, abs=0.05)


def test_percent_scaling_and_latitude_laws() -> None:
    assert percent_scaling(0.01, 0.0) == pytest.approx(1.0, abs=0.003)
    assert percent_scaling(0.01, 45.0) == pytest.approx(1.0, abs=0.003)
    ps = [percent_scaling(p, -2.0) for p in (0.001, 0.01, 0.1, 1.0)]
    assert ps == sorted(ps, reverse=True)  # rarer events fade deeper
    with pytest.raises(ModelDomainError, match="0.001-1 %"):
        percent_scaling(5.0, 0.0)


def test_rain_attenuation_grows_with_distance_frequency_and_rate() -> None:
    d = np.array([1.0, 5.0, 10.0, 20.0, 50.0])
    a7 = np.asarray(rain_attenuation_db(d, 7.0, 100.0))
    a13 = np.asarray(rain_attenuation_db(d, 13.0, 100.0))
    assert np.all(np.diff(a7) > 0) and np.all(a13 > a7)
    assert float(rain_attenuation_db(10.0, 13.0, 120.0)) > float(a13[2])
    # vertical polarisation suffers less than horizontal at these bands
    assert float(rain_attenuation_db(10.0, 13.0, 100.0, polarisation="vertical")) < \
        float(rain_attenuation_db(10.0, 13.0, 100.0, polarisation="horizontal"))
    assert path_reduction_factor(0.1, 100.0, 13.0, 1.16) == 2.5  # capped


def test_gaseous_attenuation_reference_values() -> None:
    # Standard atmosphere (1013 hPa, 15 C, 7.5 g/m3): water vapour line at 22.235 GHz about
    # 0.19 dB/km in total, dry air at 10 GHz below 0.01 dB/km (ITU-R P.676 Figure 1).
    assert gaseous_specific_attenuation_db_km(22.235) == pytest.approx(0.19, abs=0.01)
    dry = float(gaseous_specific_attenuation_db_km(10.0, water_vapour_g_m3=0.0))
    assert 0.005 < dry < 0.01
    humid = float(gaseous_specific_attenuation_db_km(13.0, water_vapour_g_m3=19.6))
    assert humid > float(gaseous_specific_attenuation_db_km(13.0))
    with pytest.raises(ModelDomainError, match="1-54 GHz"):
        gaseous_specific_attenuation_db_km(60.0)


def test_dish_gain_and_domain_errors() -> None:
    assert dish_gain_dbi(1.2, 7.0) == pytest.approx(36.3, abs=0.05)
    assert dish_gain_dbi(0.6, 13.0) == pytest.approx(35.65, abs=0.05)
    with pytest.raises(ModelDomainError, match="polarisation"):
        rain_coefficients(13.0, "circular")
    with pytest.raises(ModelDomainError, match="outside 1-100 GHz"):
        rain_coefficients(0.5)
    with pytest.raises(ModelDomainError, match="rain rate"):
        rain_attenuation_db(10.0, 13.0, 0.0)
