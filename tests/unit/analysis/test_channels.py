"""Channel eligibility, build options and who pays each cost part."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from towerplan.analysis.channels import (
    budget_array,
    eligible_channels,
    programme_options,
)
from towerplan.analysis.lifecycle import annuity_factor
from towerplan.programme_scenario import (
    CHANNEL_COST_PARTS,
    DEFAULT_CHANNELS,
    EXAMPLE_TOWER_TYPES,
    Channel,
    ChannelRule,
    Programme,
    ProgrammeBudget,
)

VILLAGES = pd.DataFrame({
    "code": ["A", "B", "C", "D"],
    "population": [400.0, 1_000.0, 2_500.0, np.nan],
    "is_3t": [True, True, False, True],
    "offers_land": ["ya", "tidak", "yes", "1"],
})

APBD_WITH_OPERATOR = Channel(
    "apbd", pays=("tower", "power", "access", "land"), partner="operator",
    partner_pays=("radio", "backhaul", "opex"))
OPERATOR = Channel("operator", rule=ChannelRule(min_population=1000.0))


def test_default_rules_on_a_small_frame() -> None:
    got = eligible_channels(VILLAGES, DEFAULT_CHANNELS)
    # apbd, apbd_provinsi: every village; national: 3T and land; operator: >= 1,000 people
    assert got.tolist() == [
        [True, True, True, False],
        [True, True, False, True],
        [True, True, False, True],
        [True, True, True, False],
    ]


def test_missing_columns_admit_no_village() -> None:
    got = eligible_channels(VILLAGES[["code"]], DEFAULT_CHANNELS)
    assert got[:, :2].all() and not got[:, 2:].any()


def test_population_band_and_named_flag_column() -> None:
    frame = VILLAGES.rename(columns={"is_3t": "desa_3t"})
    rule = ChannelRule(min_population=500, max_population=2_000, village_flag="desa_3t")
    got = eligible_channels(frame, [Channel("x", rule=rule)])
    assert got[:, 0].tolist() == [False, True, False, False]


def _options():
    eligible = eligible_channels(VILLAGES, [APBD_WITH_OPERATOR, OPERATOR])
    site_village = np.array([0, 2, -1])
    site_parts = pd.DataFrame({"access": [10e6, 0.0, 5e6], "power": [0.0, 7e6, 0.0]})
    types = EXAMPLE_TOWER_TYPES[:2]
    return programme_options(site_village, eligible, site_parts, types,
                             [APBD_WITH_OPERATOR, OPERATOR], discount_rate=0.05,
                             horizon_years=10), site_parts, types


def test_options_enumerate_eligible_site_type_channel() -> None:
    options, _, _ = _options()
    got = list(zip(options.site.tolist(), options.type_index.tolist(),
                   options.channel_index.tolist(), strict=True))
    # site 0 (400 people): apbd only; site 1 (2,500): both; site 2 (no village): apbd only
    assert got == [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1),
                   (2, 0, 0), (2, 1, 0)]


def test_every_part_is_paid_exactly_once() -> None:
    options, site_parts, types = _options()
    for k in range(len(options)):
        parts = types[options.type_index[k]].cost_parts_idr()
        row = site_parts.iloc[options.site[k]]
        expected = {p: parts[p] + float(row.get(p, 0.0)) for p in CHANNEL_COST_PARTS}
        capex = sum(v for p, v in expected.items() if p != "opex")
        assert options.pay[k].sum() == pytest.approx(capex)
        assert options.opex[k].sum() == pytest.approx(expected["opex"])
        assert options.capex_idr[k] == pytest.approx(capex)
        if options.channel_index[k] == 0:  # apbd pays the passive parts, operator the rest
            passive = sum(expected[p] for p in ("tower", "power", "access", "land"))
            assert options.pay[k].tolist() == pytest.approx(
                [passive, expected["radio"] + expected["backhaul"]])
            assert options.opex[k].tolist() == pytest.approx([0.0, expected["opex"]])
        else:
            assert options.pay[k, 0] == 0 and options.opex[k, 0] == 0
    assert options.whole_life_idr == pytest.approx(
        options.capex_idr + options.opex_idr_per_year * annuity_factor(0.05, 10))
    assert np.allclose(options.parts_idr[:, :-1].sum(axis=1), options.capex_idr)


def test_bad_site_parts_column_is_refused() -> None:
    with pytest.raises(ValueError, match=r"site_parts columns \['road'\] are no cost part"):
        programme_options(np.array([0]), np.ones((1, 1), bool), pd.DataFrame({"road": [1.0]}),
                          EXAMPLE_TOWER_TYPES[:1], [Channel("a")])


def test_budget_array_by_year_and_channel() -> None:
    programme = Programme(years=(2022, 2023, 2024), budgets=(
        ProgrammeBudget(2022, "apbd", 5.5e9), ProgrammeBudget(2024, "national", 2e9),
        ProgrammeBudget(2023, "operator", float("inf"))))
    got = budget_array(programme, DEFAULT_CHANNELS)
    assert got.shape == (3, 4)
    expected = np.zeros((3, 4))
    expected[0, 0], expected[2, 2], expected[1, 3] = 5.5e9, 2e9, np.inf
    assert np.array_equal(got, expected)


def test_options_brute_force_count() -> None:
    eligible = eligible_channels(VILLAGES, DEFAULT_CHANNELS)
    site_village = np.array([3, 1, 0, 2, 2])
    options = programme_options(site_village, eligible, pd.DataFrame(index=range(5)),
                                EXAMPLE_TOWER_TYPES, DEFAULT_CHANNELS)
    brute = [(s, t, c) for s, t, c in itertools.product(range(5), range(3), range(4))
             if eligible[site_village[s], c]]
    got = list(zip(options.site.tolist(), options.type_index.tolist(),
                   options.channel_index.tolist(), strict=True))
    assert got == brute
