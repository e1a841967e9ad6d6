"""The programme outcome: Podes signal classes and the tables derived from the outcome."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from tests.unit.outputs.programme_factories import BUDGETS, CHANNELS, YEARS, make_programme
from towerplan.analysis.programme_outcome import (
    PODES_SIGNAL,
    YEAR_TOTAL_COLUMNS,
    channel_towers,
    cost_per_person_idr,
    lifted_villages,
    podes_signal,
    podes_signals,
    programme_totals,
    year_totals,
)


@pytest.mark.parametrize(("share", "expected"), [
    (0.0, "tidak ada"),
    (np.nextafter(0.10, 0.0), "tidak ada"),
    (0.10, "lemah"),
    (0.5, "lemah"),
    (np.nextafter(0.90, 0.0), "lemah"),
    (0.90, "kuat"),
    (1.0, "kuat"),
    (math.nan, "tidak ada"),
])
def test_podes_signal_at_and_around_the_thresholds(share, expected):
    assert podes_signal(share, 0.10, 0.90) == expected


def test_podes_signal_names_are_the_census_vocabulary():
    assert PODES_SIGNAL == ("tidak ada", "lemah", "kuat")


def test_podes_signals_match_the_scalar_rule():
    rng = np.random.default_rng(7)
    shares = np.concatenate([rng.uniform(0, 1, 500), [0.1, 0.9, np.nan, 0.0, 1.0]])
    expected = [podes_signal(s, 0.1, 0.9) for s in shares]
    assert podes_signals(shares, 0.1, 0.9).tolist() == expected


@pytest.mark.parametrize("people", [0.0, -3.0, math.nan])
def test_cost_per_person_never_divides_by_zero(people):
    assert math.isnan(cost_per_person_idr(1e9, people))


def test_cost_per_person_is_capex_over_people():
    assert cost_per_person_idr(2.0e9, 2163.0) == pytest.approx(924_641.70134, rel=1e-9)


def test_year_totals_sum_the_channels_of_each_year():
    outcome = make_programme()
    totals = year_totals(outcome)
    assert list(totals.columns) == list(YEAR_TOTAL_COLUMNS)
    assert totals["year"].tolist() == list(YEARS)
    assert totals["towers"].tolist() == [1, 1, 2]
    assert totals["people_new"].tolist() == [2163.0, 442.0, 150.0]
    assert totals["villages_lifted"].tolist() == [1, 1, 0]
    assert totals["capex_idr"].tolist() == [2.0e9, 1.2e9, 1.4e9]
    assert totals["budget_idr"].tolist() == [sum(BUDGETS[y].values()) for y in YEARS]
    assert totals["cost_per_person_idr"].tolist() == pytest.approx(
        [2.0e9 / 2163, 1.2e9 / 442, 1.4e9 / 150])


def test_a_year_without_rows_gives_zeros_and_no_cost_per_person():
    outcome = make_programme()
    frame = outcome.by_year_channel
    thinned = dataclasses.replace(outcome, by_year_channel=frame[frame["year"] != 2025])
    totals = year_totals(thinned).set_index("year")
    assert totals.loc[2025, "towers"] == 0
    assert totals.loc[2025, "capex_idr"] == 0
    assert math.isnan(totals.loc[2025, "cost_per_person_idr"])


def test_programme_totals_and_money_left_after_the_last_year():
    outcome = make_programme()
    totals = programme_totals(outcome)
    assert totals["towers"] == 4
    assert totals["people_new"] == 2755
    assert totals["capex_idr"] == 4.6e9
    assert totals["cost_per_person_idr"] == pytest.approx(4.6e9 / 2755)
    frame = outcome.by_year_channel
    assert totals["carried_idr"] == frame[frame["year"] == YEARS[-1]]["carried_idr"].sum()


def test_channel_towers_has_every_year_and_channel():
    table = channel_towers(make_programme())
    assert table.index.tolist() == list(YEARS)
    assert table.columns.tolist() == list(CHANNELS)
    assert table.to_numpy().tolist() == [[1, 0], [0, 1], [1, 1]]


def test_a_weak_village_is_never_lifted():
    outcome = make_programme()
    lifted = lifted_villages(outcome)
    assert lifted["code"].tolist() == ["64.01.08.2002", "64.01.07.2002"]
    assert lifted["year"].tolist() == [2024, 2025]
    assert lifted["signal_before"].tolist() == ["tidak ada", "lemah"]
    assert set(lifted["signal"]) == {"kuat"}
    status = outcome.village_status
    weak = status[status["signal"] == "lemah"]
    assert not weak["lifted"].any()
    assert "64.01.08.2001" not in set(lifted["code"])  # reaches "lemah" in 2026 only


def test_lifted_count_agrees_with_the_per_channel_table():
    outcome = make_programme()
    by_year = outcome.by_year_channel.groupby("year")["villages_lifted"].sum()
    per_year = lifted_villages(outcome).groupby("year").size()
    assert by_year[by_year > 0].to_dict() == per_year.to_dict()
    assert isinstance(by_year, pd.Series)
