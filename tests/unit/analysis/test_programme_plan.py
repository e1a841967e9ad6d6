"""The programme's arrays and outcome on a hand-made three-village problem.

Three villages of two demand units each, four candidates (one a co-location), two tower types
and two channels (APBD anywhere; an operator where a desa has at least 200 residents). The
tower built in 2024 through the operator stands in a village the operator's rule refuses, so
its option must be added; 2024 is then closed.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely

from towerplan.analysis.problem import CurrentState, SelectionProblem
from towerplan.analysis.programme import greedy_programme, optimise_programme
from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    VILLAGE_STATUS_COLUMNS,
)
from towerplan.analysis.programme_plan import (
    audit_case_label,
    free_budget,
    programme_outcome,
    programme_problem,
    programme_weights,
    village_people,
)
from towerplan.coverage.composite import BestServer
from towerplan.errors import ScenarioError
from towerplan.programme_scenario import (
    Channel,
    ChannelRule,
    Programme,
    ProgrammeBudget,
    ProgrammeBuilt,
    TowerType,
)
from towerplan.scenario import Scenario

WEIGHTS = np.array([100.0, 50.0, 80.0, 20.0, 300.0, 10.0])
UNIT_VILLAGE = np.array([0, 0, 1, 1, 2, 2])
BIG = TowerType("big", 60.0, tower_idr=2e9, opex_idr_per_year=1e8)
SMALL = TowerType("small", 30.0, tower_idr=1e9, opex_idr_per_year=5e7)
CHANNELS = (Channel("apbd", "APBD", "APBD"),
            Channel("operator", "Operator", "Operator", ChannelRule(min_population=200)))


class _Units(SimpleNamespace):
    """Demand units: what the programme reads of them."""

    def __len__(self) -> int:
        return len(self.weight)


def _cover(rows: list[list[int]]) -> sp.csr_matrix:
    dense = np.zeros((len(rows), len(WEIGHTS)), dtype=bool)
    for i, units in enumerate(rows):
        dense[i, units] = True
    return sp.csr_matrix(dense)


#: Candidates c0 (village 0), c1 (village 1), c2 (village 2), c3 a co-location.
TYPE_COVER = {30.0: _cover([[0, 1], [2, 3], [4], [0]]),
              60.0: _cover([[0, 1, 2], [2, 3], [4, 5], [0]])}


def _problem(served_units: tuple[int, ...] = ()) -> SelectionProblem:
    villages = gpd.GeoDataFrame(
        {"code": ["V0", "V1", "V2"], "name": ["Satu", "Dua", "Tiga"],
         "district": ["K", "K", "K"], "population": [150.0, 100.0, np.nan]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:32750")
    units = _Units(village=UNIT_VILLAGE, weight=WEIGHTS,
                            area_km2=np.ones(len(WEIGHTS)), basis="population")
    rsrp = np.full(len(WEIGHTS), -140.0)
    rsrp[list(served_units)] = -90.0
    before = BestServer(rsrp, np.zeros(len(WEIGHTS), np.int32),
                        np.zeros(len(WEIGHTS), np.uint16))
    stats = pd.DataFrame({"status": ["blank", "blank", "blank"]})
    state = CurrentState(data=None, link=SimpleNamespace(threshold_rsrp_dbm=-105.0),  # type: ignore[arg-type]
                         terrain=None, villages=villages, units=units,  # type: ignore[arg-type]
                         existing=None, before=before, stats=stats)  # type: ignore[arg-type]
    candidates = pd.DataFrame({
        "site_id": ["c0", "c1", "c2", "C-t"], "x": [0.5, 1.5, 2.5, 0.6],
        "y": [0.5] * 4, "origin": ["grid", "grid", "settlement", "colocation"],
        "village_code": ["V0", "V1", "V2", "V0"], "village": ["Satu", "Dua", "Tiga", "Satu"],
        "district": ["K"] * 4, "height_m": [60.0] * 4, "cost_road_idr": [0.0, 1e8, 0, 0],
        "cost_power_idr": [0.0] * 4})
    return SelectionProblem(state, candidates, None, TYPE_COVER[60.0])  # type: ignore[arg-type]


def _scenario(**programme: Any) -> Scenario:
    base = Scenario.default()
    fields: dict[str, Any] = {
        "years": (2024, 2025),
        "budgets": (ProgrammeBudget(2024, "apbd", 3e9), ProgrammeBudget(2025, "apbd", 3.2e9),
                    ProgrammeBudget(2025, "operator", float("inf"))),
        "built": (ProgrammeBuilt(2024, "small", "operator", village="Dua"),)}
    prog = Programme(**{**fields, **programme})
    return dataclasses.replace(base, programme=prog, channels=CHANNELS,
                               tower_types=(BIG, SMALL))


def test_options_rules_and_the_forced_built_option() -> None:
    prob = programme_problem(_scenario(), _problem(), TYPE_COVER)
    o = prob.options
    assert list(prob.sites["site_id"]) == ["c0", "c1", "c2"]  # co-location left out
    # 3 sites x 2 types through the APBD, village 2 (310 people) also through the operator,
    # and the built small tower of village 1 through the operator
    assert len(o.site) == 3 * 2 + 2 + 1
    operator = o.channel_index == 1
    assert sorted(o.site[operator].tolist()) == [1, 2, 2]
    (k, y), = prob.locked
    assert (int(o.site[k]), int(o.type_index[k]), int(o.channel_index[k]), y) == (1, 1, 1, 0)
    assert prob.cover[k].indices.tolist() == [2, 3]  # the small tower's coverage at c1
    # the access road of c1 is paid by the channel, on top of the type's parts
    assert o.pay[k].tolist() == [0.0, 1e9 + 1e8]
    # 2024 is closed: its APBD money carries over to 2025; the operator's unlimited money
    # is finite for the kernel and more than every option could cost it
    assert prob.free_budget[0].tolist() == [0.0, 0.0]
    assert prob.free_budget[1, 0] == pytest.approx(3e9 + 3.2e9)
    assert np.isfinite(prob.free_budget).all()
    assert prob.free_budget[1, 1] > o.pay[:, 1].sum() + 2 * o.opex[:, 1].sum()
    assert prob.discount.tolist() == pytest.approx([1.0, 1 / 1.05])


def test_served_by_year_counts_committed_towers_from_their_year() -> None:
    first = np.array([10_000, 10_000, 10_000, 10_000, 2025, 10_000])
    prob = programme_problem(_scenario(), _problem(served_units=(0,)), TYPE_COVER,
                             committed_first_year=first)
    assert prob.served[0].tolist() == [True, False, False, False, False, False]
    assert prob.served[1].tolist() == [True, False, False, False, True, False]


def test_unknown_built_village_or_type_is_refused() -> None:
    tall = (ProgrammeBuilt(2024, "tall", "apbd", village="Dua"),)  # e.g. an audit's case
    with pytest.raises(ScenarioError, match="unknown tower type 'tall'"):
        programme_problem(_scenario(), _problem(), TYPE_COVER, built=tall)
    nowhere = _scenario(built=(ProgrammeBuilt(2024, "big", "apbd", village="Empat"),))
    with pytest.raises(ScenarioError, match="Empat"):
        programme_problem(nowhere, _problem(), TYPE_COVER)


def test_outcome_tables_add_up() -> None:
    sc = _scenario()
    problem = _problem()
    prob = programme_problem(sc, problem, TYPE_COVER)
    kw = {**prob.arrays(), "carry_over": True, "locked": prob.locked}
    result = optimise_programme(**kw, time_limit_s=10)
    greedy = greedy_programme(**kw)
    outcome = programme_outcome(sc, prob, problem.state, result, greedy)
    builds = outcome.builds
    assert list(builds.columns) == list(BUILD_COLUMNS)
    assert builds[builds["locked"]][["year", "village_name", "tower_type"]].values.tolist() == [
        [2024, "Dua", "small"]]
    assert (builds[builds["year"] == 2024]["locked"]).all()
    # each person counted once, in the year first served
    assert builds["people_new"].sum() == pytest.approx(float(result.newly_served.sum()))
    table = outcome.by_year_channel
    assert list(table.columns) == list(BY_YEAR_CHANNEL_COLUMNS)
    assert table["towers"].sum() == len(builds)
    spent = table.pivot(index="year", columns="channel", values="spent_idr")
    assert spent.loc[2024, "operator"] == pytest.approx(1.1e9 + 5e7)  # capex and opex
    status = outcome.village_status
    assert list(status.columns) == list(VILLAGE_STATUS_COLUMNS)
    assert sorted(set(status["year"])) == [2023, 2024, 2025]
    assert status.groupby("code")["lifted"].sum().max() <= 1  # lifted once at most
    dua = status[status["code"] == "V1"].set_index("year")
    assert dua.loc[2023, "signal"] == "tidak ada" and dua.loc[2024, "signal"] == "kuat"
    assert bool(dua.loc[2024, "lifted"])
    assert outcome.objective_value >= outcome.greedy_value - 1e-9


def test_village_people_fills_missing_population_from_the_units() -> None:
    problem = _problem()
    people = village_people(problem.state.villages, problem.state.units)
    assert people.tolist() == [150.0, 100.0, 310.0]


def test_free_budget_carries_left_money_over_closed_years() -> None:
    budget = np.array([[5.0, 1.0], [5.0, 1.0]])
    locked = np.array([[3.0, 0.0], [1.0, 0.0]])
    assert free_budget(budget, locked, carry_over=True, closed_years=1).tolist() == [
        [0.0, 0.0], [6.0, 2.0]]
    assert free_budget(budget, locked, carry_over=False, closed_years=1).tolist() == [
        [0.0, 0.0], [4.0, 1.0]]


def test_audit_case_labels() -> None:
    assert audit_case_label("base", "en").startswith("Base case")
    assert audit_case_label("threshold_minus_5db", "id") == "Ambang sinyal -5 dB"
    assert audit_case_label("type:big", "id") == "Semua menara nyata sebagai big"
    assert audit_case_label("something_else", "en") == "something_else"


def test_objective_weights_of_the_selection() -> None:
    problem = _problem()
    problem = dataclasses.replace(problem, state=dataclasses.replace(
        problem.state, stats=pd.DataFrame({"status": ["blank", "covered", "blank"]})))
    sc = _scenario()
    assert programme_weights(sc, problem) == (None, "people_years", ())
    blank = dataclasses.replace(sc, selection=dataclasses.replace(
        sc.selection, objective="blank_people"))
    weights, name, notes = programme_weights(blank, problem)
    assert name == "people_blank" and notes == ()
    assert weights.tolist() == [100.0, 50.0, 0.0, 0.0, 300.0, 10.0]
    lift = dataclasses.replace(sc, selection=dataclasses.replace(
        sc.selection, objective="blank_villages"))
    weights, name, notes = programme_weights(lift, problem)
    assert (weights, name) == (None, "people_years") and "blank_villages" in notes[0]


def test_capex_and_opex_per_channel_follow_who_pays_each_part() -> None:
    """The APBD funds and pays the tower; its operator partner pays radio and opex."""
    partnered = (Channel("apbd", "APBD", "APBD", pays=("tower", "power", "access", "land",
                                                         "backhaul"),
                         partner="operator", partner_pays=("radio", "opex")),
                 Channel("operator", "Operator", "Operator", ChannelRule(min_population=10**6)))
    tower = TowerType("big", 60.0, tower_idr=2e9, radio_idr=3e8, opex_idr_per_year=1e8)
    sc = dataclasses.replace(
        _scenario(budgets=(ProgrammeBudget(2024, "apbd", 5e9), ProgrammeBudget(2025, "apbd", 3e9),
                           ProgrammeBudget(2024, "operator", float("inf")),
                           ProgrammeBudget(2025, "operator", float("inf"))),
                  built=()),
        channels=partnered, tower_types=(tower,))
    problem = _problem()
    prob = programme_problem(sc, problem, TYPE_COVER)
    kw = {**prob.arrays(), "carry_over": True, "locked": prob.locked}
    result = optimise_programme(**kw, time_limit_s=10)
    outcome = programme_outcome(sc, prob, problem.state, result, greedy_programme(**kw))
    builds, table = outcome.builds, outcome.by_year_channel.set_index(["year", "channel"])
    assert len(builds) >= 2 and set(builds["channel"]) == {"apbd"}  # the operator funds none
    for year in sc.programme.years:
        mine = builds[builds["year"] == year]
        # the cost parts summed by payer: tower (+ the site's access road) for the APBD,
        # radio and opex for the operator
        access = mine["site_id"].map({"c0": 0.0, "c1": 1e8, "c2": 0.0}).sum()
        assert table.loc[(year, "apbd"), "capex_idr"] == pytest.approx(2e9 * len(mine) + access)
        assert table.loc[(year, "apbd"), "opex_idr_per_year"] == 0.0
        assert table.loc[(year, "operator"), "capex_idr"] == pytest.approx(3e8 * len(mine))
        assert table.loc[(year, "operator"), "opex_idr_per_year"] == pytest.approx(1e8 * len(mine))
        # summed over the channels: the year's totals of the towers built
        per_year = table.xs(year, level="year")
        assert per_year["capex_idr"].sum() == pytest.approx(mine["capex_idr"].sum())
        assert per_year["opex_idr_per_year"].sum() == pytest.approx(
            mine["opex_idr_per_year"].sum())
    # what each channel spent: its capex, plus the opex it pays of every tower standing
    spent = outcome.by_year_channel.pivot(index="year", columns="channel", values="spent_idr")
    first = builds[builds["year"] == 2024]
    assert spent.loc[2024, "operator"] == pytest.approx((3e8 + 1e8) * len(first))


def _fits(spend: np.ndarray, budget: np.ndarray) -> bool:
    """Cumulative spending within the cumulative budget every year (carry-over)."""
    return bool((np.cumsum(spend, axis=0) <= np.cumsum(budget, axis=0) + 1e-3).all())


def test_why_not_names_the_cheapest_option_and_an_extra_budget_that_suffices() -> None:
    from towerplan.analysis.programme import programme_spend
    from towerplan.analysis.programme_why_not import PROGRAMME_WHY_NOT_COLUMNS

    sc = _scenario(budgets=(ProgrammeBudget(2024, "apbd", 0.0),
                            ProgrammeBudget(2025, "apbd", 1.2e9),
                            ProgrammeBudget(2025, "operator", 1.2e9)))
    problem = _problem()
    prob = programme_problem(sc, problem, TYPE_COVER)
    kw = {**prob.arrays(), "carry_over": True, "locked": prob.locked}
    result = optimise_programme(**kw, time_limit_s=10)
    outcome = programme_outcome(sc, prob, problem.state, result, greedy_programme(**kw))
    end = outcome.village_status[outcome.village_status["year"] == 2025]
    blank = sorted(end.loc[end["signal"] == "tidak ada", "code"])
    why = outcome.why_not
    assert list(why.columns) == list(PROGRAMME_WHY_NOT_COLUMNS)
    assert blank == ["V0"] and sorted(why["code"]) == blank
    (row,) = why.itertuples(index=False)
    # Satu (150 people, only through the APBD): the small tower at c0 serves them for Rp 1 bn
    assert (row.site_id, row.tower_type, row.channel, row.year) == ("c0", "small", "apbd", 2025)
    assert row.cost_per_person_idr == pytest.approx(1e9 / 150)
    # 2025 APBD: Rp 1.2 bn less the Rp 1.05 bn the programme spends leaves Rp 0.15 bn; the
    # tower costs Rp 1 bn and Rp 50 million a year
    assert row.extra_budget_idr == pytest.approx(1.05e9 - 0.15e9)
    assert (row.extra_channel, row.reason) == ("apbd", "over_budget")
    o = prob.options
    (k,) = [k for k in range(len(o)) if prob.sites["site_id"].iloc[int(o.site[k])] == "c0"
            and o.type_index[k] == 1 and o.channel_index[k] == 0]
    spend = programme_spend(o.pay, o.opex, (*result.builds, (k, 1)), 2)
    budget = prob.budget.copy()
    budget[1, 0] += row.extra_budget_idr
    # the APBD's column (the operator's 2024 tower was built as it was, outside any budget)
    assert _fits(spend[:, :1], budget[:, :1])
    budget[1, 0] -= 1e6
    assert not _fits(spend[:, :1], budget[:, :1])


def test_why_not_module_doctests_pass() -> None:
    import doctest

    from towerplan.analysis import programme_why_not

    assert doctest.testmod(programme_why_not).failed == 0
