"""The audit of a real multi-year sequence against brute force, a hand example and invariants."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from towerplan.analysis import programme_audit
from towerplan.analysis.programme import (
    ProgrammeResult,
    brute_force_programme,
    programme_value,
)
from towerplan.analysis.programme_audit import (
    BAND_COLUMNS,
    DEFAULT_CASES,
    SensitivityCase,
    SequenceAudit,
    audit_sequence,
    band,
    band_text,
    sensitivity_band,
)
from towerplan.errors import InputDataError, ScenarioError
from towerplan.scenario import Radio, Scenario

Instance = dict[str, np.ndarray]


def _instance(seed: int) -> Instance:
    """A small programme: 3-4 sites with 2 tower types each, 2-3 years, 2 channels."""
    rng = np.random.default_rng(seed)
    n_sites, n_years, n_units = int(rng.integers(3, 5)), int(rng.integers(2, 4)), 8
    site_of = np.repeat(np.arange(n_sites), 2)
    small = rng.random((n_sites, n_units)) < 0.3
    tall = small | (rng.random((n_sites, n_units)) < 0.3)   # the tall type covers more
    cover = np.empty((2 * n_sites, n_units), bool)
    cover[0::2], cover[1::2] = small, tall
    channel = rng.integers(0, 2, size=n_sites).repeat(2)     # who pays each option
    capex = np.round(rng.uniform(2, 6, size=2 * n_sites)) + np.tile([0.0, 2.0], n_sites)
    pay = np.zeros((2 * n_sites, 2))
    pay[np.arange(2 * n_sites), channel] = capex
    opex = np.zeros_like(pay)
    opex[np.arange(2 * n_sites), channel] = rng.choice([0.0, 0.5, 1.0], size=2 * n_sites)
    first = rng.integers(0, n_years + 2, size=n_units)      # year served without builds
    served = np.arange(n_years)[:, None] >= first[None, :]
    return {"cover": cover, "site_of": site_of, "weights": rng.integers(1, 50, n_units) * 1.0,
            "served": served, "pay": pay, "opex": opex,
            "discount": 1.05 ** -np.arange(n_years)}


def _random_sequence(seed: int, inst: Instance) -> list[tuple[int, int]]:
    """Some sites, each with a random type and year: a real sequence need not be good."""
    rng = np.random.default_rng(seed + 1000)
    n_sites, n_years = len(inst["site_of"]) // 2, len(inst["discount"])
    built = rng.random(n_sites) < 0.6
    return [(2 * s + int(rng.integers(0, 2)), int(rng.integers(0, n_years)))
            for s in np.flatnonzero(built)]


def _audit(inst: Instance, builds: list[tuple[int, int]], **kw: object) -> SequenceAudit:
    return audit_sequence(sp.csr_matrix(inst["cover"]), inst["site_of"], inst["weights"],
                          inst["served"], inst["pay"], inst["opex"], inst["discount"], builds,
                          **kw)  # type: ignore[arg-type]


def _brute(inst: Instance, budget: np.ndarray, *, carry_over: bool = True) -> float:
    """The brute-force optimum's people-years beyond the before-state."""
    cover = sp.csr_matrix(inst["cover"])
    best = brute_force_programme(cover, inst["site_of"], inst["weights"], inst["served"],
                                 inst["pay"], inst["opex"], budget, inst["discount"],
                                 carry_over=carry_over)
    return best.objective - programme_value(cover, inst["weights"], inst["served"],
                                            inst["discount"], ())


def _within(spend: np.ndarray, budget: np.ndarray, *, carry_over: bool) -> bool:
    if carry_over:
        spend, budget = spend.cumsum(axis=0), budget.cumsum(axis=0)
    return bool(np.all(spend <= budget + 1e-9))


@pytest.mark.parametrize("carry_over", [True, False])
def test_audit_equals_brute_force_on_random_programmes(carry_over: bool) -> None:
    checked = 0
    for seed in range(100):
        inst = _instance(seed)
        real = _random_sequence(seed, inst)
        a = _audit(inst, real, carry_over=carry_over)
        assert a.optimal_value == pytest.approx(_brute(inst, a.spend_idr,
                                                       carry_over=carry_over), abs=1e-6)
        assert a.optimal_value >= a.real_value - 1e-9
        assert a.greedy_value <= a.optimal_value + 1e-9
        assert 0.0 <= a.share_pct <= 100.0
        assert a.gap == pytest.approx(0.0, abs=1e-9)
        assert a.real_within_budget
        np.testing.assert_array_equal(a.budget_idr, a.spend_idr)
        assert _within(a.optimal_spend_idr, a.spend_idr, carry_over=carry_over)
        assert _within(a.greedy_spend_idr, a.spend_idr, carry_over=carry_over)
        assert len({inst["site_of"][k] for k, _ in a.optimal_builds}) == len(a.optimal_builds)
        # people newly served in a year count at most until the horizon
        tail = np.cumsum(inst["discount"][::-1])[::-1]
        for value, newly in ((a.real_value, a.newly_served_real),
                             (a.optimal_value, a.newly_served_optimal)):
            assert newly.shape == (len(inst["discount"]),) and np.all(newly >= 0)
            assert value <= newly @ tail + 1e-9
            assert (value > 0) == (newly.sum() > 0)
        checked += a.real_value < a.optimal_value - 1e-9
    assert checked >= 10  # many random sequences fall short of the optimum


def test_a_larger_programme_keeps_the_real_money() -> None:
    rng = np.random.default_rng(7)
    n_sites, n_units, n_years = 25, 100, 3
    small = rng.random((n_sites, n_units)) < 0.05
    cover = np.empty((2 * n_sites, n_units), bool)
    cover[0::2], cover[1::2] = small, small | (rng.random((n_sites, n_units)) < 0.05)
    pay = np.zeros((2 * n_sites, 2))
    pay[np.arange(2 * n_sites), rng.integers(0, 2, n_sites).repeat(2)] = rng.uniform(
        1, 3, 2 * n_sites)
    inst = {"cover": cover, "site_of": np.repeat(np.arange(n_sites), 2),
            "weights": rng.integers(1, 100, n_units) * 1.0,
            "served": np.zeros((n_years, n_units), bool), "pay": pay, "opex": pay * 0.1,
            "discount": 1.05 ** -np.arange(n_years)}
    real = [(2 * s + int(rng.integers(0, 2)), int(rng.integers(0, n_years)))
            for s in rng.choice(n_sites, 6, replace=False)]
    a = _audit(inst, real, time_limit_s=30.0)
    assert a.real_value <= a.optimal_value and a.greedy_value <= a.optimal_value
    assert a.share_pct < 100.0  # six random towers are not the best six
    assert _within(a.optimal_spend_idr, a.spend_idr, carry_over=True)
    assert a.gap <= 1e-4


def test_spend_is_capex_in_the_build_year_and_opex_from_then_on() -> None:
    inst = _instance(3)
    real = _random_sequence(3, inst)
    a = _audit(inst, real)
    expected = np.zeros_like(a.spend_idr)
    for k, y in real:
        expected[y] += inst["pay"][k]
        expected[y:] += inst["opex"][k]
    np.testing.assert_allclose(a.spend_idr, expected)


@pytest.mark.parametrize("seed", range(12))
def test_the_optimum_as_real_sequence_reaches_100_percent(seed: int) -> None:
    inst = _instance(seed)
    n_years = len(inst["discount"])
    budget = np.full((n_years, 2), 6.0)
    cover = sp.csr_matrix(inst["cover"])
    best = brute_force_programme(cover, inst["site_of"], inst["weights"], inst["served"],
                                 inst["pay"], inst["opex"], budget, inst["discount"])
    a = _audit(inst, list(best.builds))
    assert a.share_pct == pytest.approx(100.0)
    assert a.real_value == pytest.approx(a.optimal_value)
    # the same with the original budget given explicitly
    b = _audit(inst, list(best.builds), budget=budget)
    assert b.share_pct == pytest.approx(100.0) and b.real_within_budget


# A hand example: three units (100, 60 and 40 people), one option each, Rp 10 each; option 1
# also costs Rp 2 a year to run. The real sequence builds the 60-people tower in year 0 and
# the 100-people one in year 1; the optimum swaps them. Year weights 1 and 0.9.
HAND = {"cover": np.eye(3, dtype=bool), "site_of": np.arange(3),
        "weights": np.array([100.0, 60.0, 40.0]), "served": np.zeros((2, 3), bool),
        "pay": np.array([[10.0], [10.0], [10.0]]), "opex": np.array([[0.0], [2.0], [0.0]]),
        "discount": np.array([1.0, 0.9])}


@pytest.mark.parametrize("carry_over", [True, False])
def test_hand_example(carry_over: bool) -> None:
    a = _audit(HAND, [(1, 0), (0, 1)], carry_over=carry_over)
    np.testing.assert_allclose(a.spend_idr, [[12.0], [12.0]])
    assert a.real_value == pytest.approx(60 * 1.9 + 100 * 0.9)          # 204
    assert a.optimal_value == pytest.approx(100 * 1.9 + 60 * 0.9)       # 244
    assert a.share_pct == pytest.approx(100 * 204 / 244)                 # 83.6 %
    assert sorted(a.optimal_builds) == [(0, 0), (1, 1)]
    np.testing.assert_allclose(a.newly_served_real, [60.0, 100.0])
    np.testing.assert_allclose(a.newly_served_optimal, [100.0, 60.0])
    np.testing.assert_allclose(a.optimal_spend_idr, [[10.0], [12.0]])
    assert a.status == "optimal" and a.gap == 0.0


def test_hand_example_with_two_channels_the_real_order_is_forced() -> None:
    # The same towers, but option 0 is paid by channel 0 and the others by channel 1: the
    # real sequence gives channel 0 money only in year 1, so nothing better is possible.
    inst = dict(HAND, pay=np.array([[10.0, 0.0], [0.0, 10.0], [0.0, 10.0]]),
                opex=np.array([[0.0, 0.0], [0.0, 2.0], [0.0, 0.0]]))
    a = _audit(inst, [(1, 0), (0, 1)])
    np.testing.assert_allclose(a.spend_idr, [[0.0, 12.0], [10.0, 2.0]])
    assert a.optimal_value == pytest.approx(204.0) and a.share_pct == pytest.approx(100.0)


def test_already_served_people_do_not_count() -> None:
    # Unit 0 is served from year 1 without any build: the real tower adds it in year 0 only.
    inst = dict(HAND, served=np.array([[False, False, False], [True, False, False]]))
    a = _audit(inst, [(0, 0)])
    assert a.real_value == pytest.approx(100.0)
    np.testing.assert_allclose(a.newly_served_real, [100.0, 0.0])


def test_a_given_budget_the_real_sequence_overran() -> None:
    a = _audit(HAND, [(1, 0), (0, 1)], budget=np.array([[10.0], [0.0]]))
    assert not a.real_within_budget
    assert a.optimal_value == pytest.approx(190.0)   # one tower, the 100 people, in year 0
    assert a.share_pct > 100.0                       # the real sequence spent more
    assert a.status == "optimal"


def test_a_solver_stopped_short_of_the_real_sequence_reports_the_real_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = programme_audit.optimise_programme

    def stopped(*args: object, **kw: object) -> ProgrammeResult:
        kw.pop("warm_start")
        r = real(*args, locked=(), forbidden=(0, 1, 2), **kw)  # type: ignore[arg-type]
        return dataclasses.replace(r, bound=300.0, status="time_limit")

    monkeypatch.setattr(programme_audit, "optimise_programme", stopped)
    a = _audit(HAND, [(1, 0), (0, 1)])
    assert a.status == "real sequence" and a.optimal_builds == ((1, 0), (0, 1))
    assert a.optimal_value == pytest.approx(204.0) and a.share_pct == pytest.approx(100.0)
    assert a.bound == 300.0 and a.gap == pytest.approx((300 - 204) / 300)


def test_bad_real_builds_are_listed_together() -> None:
    with pytest.raises(InputDataError) as err:
        _audit(HAND, [(0, 0), (0, 1), (7, 0), (2, 5)])
    text = str(err.value)
    assert "site 0 is built twice" in text
    assert "option 7 is not one of the 3 options" in text
    assert "year index 5 is outside the 2 programme years" in text


def test_inputs_are_not_modified() -> None:
    inst = _instance(5)
    copies = {k: v.copy() for k, v in inst.items()}
    _audit(inst, _random_sequence(5, inst))
    for key, value in copies.items():
        np.testing.assert_array_equal(inst[key], value)


def test_band_orders_the_cases() -> None:
    audits = {}
    for name, seed in zip([c.name for c in DEFAULT_CASES], range(6), strict=True):
        inst = _instance(seed)
        audits[name] = _audit(inst, _random_sequence(seed, inst))
    frame = sensitivity_band(audits)
    assert list(frame.columns) == list(BAND_COLUMNS)
    assert list(frame["case"]) == [c.name for c in DEFAULT_CASES]
    np.testing.assert_allclose(frame["share_pct"], [a.share_pct for a in audits.values()])
    low, base, high = band(frame)
    assert low <= base <= high
    assert base == audits["base"].share_pct
    assert low == min(a.share_pct for a in audits.values())
    assert high == max(a.share_pct for a in audits.values())


def test_band_finds_the_base_case_anywhere_and_says_it_in_both_languages() -> None:
    frame = pd.DataFrame({"case": ["height_minus_10m", "base", "threshold_plus_5db"],
                          "share_pct": [31.2, 36.4, 44.0]})
    assert band(frame) == (31.2, 36.4, 44.0)
    assert band(frame.iloc[[0, 2]]) == (31.2, 31.2, 44.0)   # no base: the first row
    assert band_text(frame, "en") == ("The real sequence reached 31–44 % (base 36 %) of the "
                                      "optimum for the same money.")
    assert "31–44 %" in band_text(frame, "id") and "kasus dasar 36 %" in band_text(frame, "id")
    with pytest.raises(InputDataError, match="at least one"):
        band(frame.iloc[0:0])


def test_default_cases_move_one_input_each() -> None:
    names = [c.name for c in DEFAULT_CASES]
    assert names[0] == "base" and len(set(names)) == len(names)
    moves = {(c.threshold_delta_db, c.height_delta_m, c.before_source) for c in DEFAULT_CASES}
    assert moves == {(0.0, 0.0, "model"), (-5.0, 0.0, "model"), (5.0, 0.0, "model"),
                     (0.0, -10.0, "model"), (0.0, 10.0, "model"), (0.0, 0.0, "reports")}
    for case in DEFAULT_CASES:
        assert case.label("id") and case.label("en") and case.label("id") != case.label("en")


def test_a_case_with_an_unknown_before_source_is_refused() -> None:
    with pytest.raises(ScenarioError, match="'podes'.*model, reports"):
        SensitivityCase("x", "x", "x", before_source="podes")


def test_module_doctests_pass() -> None:
    result = doctest.testmod(programme_audit, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 3 and result.failed == 0


@dataclasses.dataclass(frozen=True)
class _Type:
    name: str
    height_m: float


@dataclasses.dataclass(frozen=True)
class _WithTypes:
    radio: Radio
    tower_types: tuple[_Type, ...]


def test_a_case_moves_the_threshold_and_every_tower_height() -> None:
    scenario = Scenario.default()
    cases = {c.name: c for c in DEFAULT_CASES}
    assert cases["base"].apply(scenario) is scenario
    assert cases["before_from_reports"].apply(scenario) is scenario
    weaker = cases["threshold_minus_5db"].apply(scenario)
    assert weaker.radio.threshold_rsrp_dbm == scenario.radio.threshold_rsrp_dbm - 5.0
    assert weaker.radio.tower_height_m == scenario.radio.tower_height_m
    lower = cases["height_minus_10m"].apply(scenario)
    assert lower.radio.tower_height_m == scenario.radio.tower_height_m - 10.0
    assert lower.radio.existing_height_m == scenario.radio.existing_height_m
    assert lower.radio.threshold_rsrp_dbm == scenario.radio.threshold_rsrp_dbm
    typed = _WithTypes(scenario.radio, (_Type("menara-72m", 72.0), _Type("menara-42m", 42.0)))
    higher = cases["height_plus_10m"].apply(typed)  # type: ignore[arg-type]
    assert [tt.height_m for tt in higher.tower_types] == [82.0, 52.0]
    with pytest.raises(ScenarioError, match="tower_height_m"):
        SensitivityCase("x", "x", "x", height_delta_m=-100.0).apply(scenario)
