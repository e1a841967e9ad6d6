"""Whole-life cost: annuity, discounted running cost, power and backhaul choices."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.analysis.lifecycle import (
    BackhaulPrices,
    PowerPrices,
    annuity_factor,
    backhaul_cost_idr,
    power_cost_idr,
    whole_life_cost_idr,
)


@pytest.mark.parametrize(("rate", "years", "expected"), [
    (0.0, 10, 10.0),
    (0.05, 1, 1 / 1.05),
    (0.05, 2, 1 / 1.05 + 1 / 1.05**2),
    (0.05, 10, 7.721734929),
    (0.10, 5, 3.790786769),
    (0.05, 0, 0.0),
])
def test_annuity_factor_against_hand_values(rate: float, years: int, expected: float) -> None:
    assert annuity_factor(rate, years) == pytest.approx(expected, rel=1e-9)


def test_annuity_equals_the_sum_of_discounted_years() -> None:
    for rate in (0.01, 0.07, 0.3):
        brute = sum((1 + rate) ** -t for t in range(1, 21))
        assert annuity_factor(rate, 20) == pytest.approx(brute, rel=1e-12)


def test_annuity_refuses_negative_years() -> None:
    with pytest.raises(ValueError, match="years >= 0"):
        annuity_factor(0.05, -1)


def test_whole_life_cost_of_the_remote_tower() -> None:
    # Rp 25 million a month for 10 years at 5 %: 300 million x 7.7217
    capex = np.array([1.7e9, 0.0])
    out = whole_life_cost_idr(capex, [300e6, 300e6], 0.05, 10)
    assert out == pytest.approx([1.7e9 + 300e6 * 7.721734929, 300e6 * 7.721734929])
    assert capex.tolist() == [1.7e9, 0.0]  # input not modified


def test_power_grid_within_reach_else_cheaper_off_grid() -> None:
    prices = PowerPrices()
    capex, opex, kind = power_cost_idr([0.0, 2.0, 6.0, np.inf], 2_000.0, rate=0.05, years=10)
    connection = 969.0 * 2_500
    assert capex[:2] == pytest.approx([connection, connection + 2 * 300e6])
    energy = 2.0 * 8_760 * 1_699.53
    assert opex[:2] == pytest.approx([energy, energy])
    # off grid: solar 600 M + 2 % a year vs genset 150 M + 17,520 kWh x 0.35 l x Rp 12,000
    solar = 600e6 + 12e6 * annuity_factor(0.05, 10)
    genset = 150e6 + 17_520 * 0.35 * 12_000 * annuity_factor(0.05, 10)
    assert solar < genset
    assert kind.tolist() == ["pln", "pln", "solar", "solar"]
    assert capex[2:] == pytest.approx([600e6, 600e6])
    cheap_diesel = PowerPrices(diesel_idr_per_litre=1.0)
    _, _, kind = power_cost_idr([9.0], 2_000.0, rate=0.05, years=10, prices=cheap_diesel)
    assert kind.tolist() == ["genset"]
    assert prices.grid_max_km == 5.0


def test_backhaul_vsat_or_microwave_with_licence_fee() -> None:
    capex, opex, kind = backhaul_cost_idr([0, 1, 3], prices=BackhaulPrices())
    assert kind.tolist() == ["vsat", "microwave", "microwave"]
    assert capex.tolist() == [150e6, 350e6, 1_050e6]
    assert opex.tolist() == [180e6, 4_206_590.0, 3 * 4_206_590.0]
