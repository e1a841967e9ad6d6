"""Link-budget margins and the uplink: oracle values and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest

from towerplan.radio.linkbudget import (
    building_entry_loss_db,
    mapl_db,
    shadow_margin_db,
    uplink_mapl_db,
)


def test_ninety_percent_at_eight_db_adds_ten_point_two_five_db() -> None:
    assert shadow_margin_db(0.9, 8.0) == pytest.approx(8.0 * 1.2815516, abs=1e-6)
    assert round(shadow_margin_db(0.9, 8.0), 2) == 10.25


def test_median_location_probability_needs_no_margin() -> None:
    assert shadow_margin_db(0.5, 8.0) == 0.0
    assert shadow_margin_db(0.5, 12.0) == 0.0


def test_shadow_margin_grows_with_probability_and_sigma() -> None:
    p = np.linspace(0.05, 0.95, 19)
    m = [shadow_margin_db(float(x), 8.0) for x in p]
    assert np.all(np.diff(m) > 0)
    assert shadow_margin_db(0.95, 10.0) > shadow_margin_db(0.95, 6.0)
    assert shadow_margin_db(0.1, 8.0) == pytest.approx(-shadow_margin_db(0.9, 8.0))


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5])
def test_shadow_margin_refuses_probabilities_outside_the_open_interval(p: float) -> None:
    with pytest.raises(ValueError, match="location_probability"):
        shadow_margin_db(p, 8.0)


def test_p2109_median_building_entry_loss_at_900_mhz() -> None:
    # ITU-R P.2109-1 eqs. (1)-(7), Table 1, at 0.9 GHz and 0 deg elevation, worked by hand.
    assert building_entry_loss_db(900.0, "traditional") == pytest.approx(14.24, abs=0.01)
    assert building_entry_loss_db(900.0, "thermally-efficient") == pytest.approx(31.16, abs=0.01)


def test_p2109_loss_grows_with_probability_and_elevation() -> None:
    low = building_entry_loss_db(900.0, "traditional", probability=0.1)
    high = building_entry_loss_db(900.0, "traditional", probability=0.9)
    assert low < building_entry_loss_db(900.0, "traditional") < high
    assert building_entry_loss_db(900.0, "traditional", elevation_deg=20.0) > \
        building_entry_loss_db(900.0, "traditional")


def test_default_uplink_allows_more_loss_than_the_default_downlink() -> None:
    up = uplink_mapl_db(23.0, 0.0, 18.0, 3.0, -101.5)
    down = mapl_db(61.0, -105.0, 10.0)
    assert up == 139.5
    assert down == pytest.approx(61.0 - 10 * math.log10(600) + 105.0)
    assert up > down


def test_normal_quantile_reference_values_and_limits() -> None:
    """Standard normal quantiles (Abramowitz & Stegun table 26.5) and ndtri's limits."""
    from towerplan.radio.linkbudget import _normal_quantile

    assert _normal_quantile(0.5) == 0.0
    assert _normal_quantile(0.9) == pytest.approx(1.2815515655446004, abs=1e-14)
    assert _normal_quantile(0.95) == pytest.approx(1.6448536269514722, abs=1e-14)
    assert _normal_quantile(0.01) == pytest.approx(-2.3263478740408408, abs=1e-14)
    assert _normal_quantile(0.0) == -math.inf
    assert _normal_quantile(1.0) == math.inf
    assert math.isnan(_normal_quantile(1.5))
