"""Multi-year programme kernel: the MILP against brute force, budgets, locked builds, greedy."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.analysis.programme import (
    ProgrammeResult,
    brute_force_programme,
    greedy_programme,
    optimise_programme,
    programme_spend,
    programme_value,
)
from towerplan.errors import InfeasibleSelectionError, InputDataError


def _instance(seed: int) -> dict[str, Any]:
    """3-4 sites x 2 tower types (the tall one covers a superset), 2 channels, 2-3 years."""
    rng = np.random.default_rng(seed)
    n_sites, n_units = int(rng.integers(3, 5)), 12
    n_years = int(rng.integers(2, 4))
    return programme_data(rng, n_sites, n_units, n_years, reach=0.3, opex=bool(seed % 2),
                          served=0.1, budget=(0.5, 3.0))


def programme_data(rng: np.random.Generator, n_sites: int, n_units: int, n_years: int, *,
                   reach: float, opex: bool, served: float, budget: tuple[float, float]
                   ) -> dict[str, Any]:
    """Random programme data: each site's low tower reaches a unit with probability
    *reach*, its tall one (1.5 times the price) that and as many more; one channel pays
    each site; a unit is served without any build from a year on with probability
    *served* a year; budgets uniform in *budget* per year and channel."""
    low = rng.random((n_sites, n_units)) < reach
    tall = low | (rng.random((n_sites, n_units)) < reach)
    channel = rng.integers(0, 2, n_sites)
    price = rng.uniform(1.0, 2.0, n_sites)
    pay = np.zeros((2 * n_sites, 2))
    pay[np.arange(n_sites), channel] = price
    pay[n_sites + np.arange(n_sites), channel] = 1.5 * price
    yearly = np.zeros_like(pay)
    if opex:
        yearly[np.arange(2 * n_sites), np.tile(channel, 2)] = rng.uniform(0.05, 0.3,
                                                                         2 * n_sites)
    return {
        "cover": sp.csr_matrix(np.vstack([low, tall])),
        "site_of": np.tile(np.arange(n_sites), 2),
        "weights": rng.integers(0, 50, n_units).astype(float),
        "served": np.cumsum(rng.random((n_years, n_units)) < served, axis=0) > 0,
        "pay": pay,
        "opex": yearly,
        "budget": rng.uniform(*budget, (n_years, 2)),
        "discount": 1.1 ** -np.arange(n_years, dtype=float),
    }


def _locked(seed: int, data: dict[str, Any]) -> list[tuple[int, int]]:
    if seed % 3:
        return []
    rng = np.random.default_rng(seed + 1)
    return [(int(rng.integers(len(data["site_of"]))), 0)]


def _within_budgets(result: ProgrammeResult, data: dict[str, Any], carry_over: bool,
                    locked: list[tuple[int, int]]) -> bool:
    free = [kb for kb in result.builds if kb not in locked]
    spend = programme_spend(data["pay"], data["opex"], free, len(data["discount"]))
    budget = data["budget"]
    if carry_over:
        spend, budget = np.cumsum(spend, axis=0), np.cumsum(budget, axis=0)
    return bool(np.all(spend <= budget * (1 + 1e-9) + 1e-9))


@pytest.mark.parametrize("seed", range(110))
def test_milp_equals_brute_force_and_keeps_the_budgets(seed: int) -> None:
    data = _instance(seed)
    locked = _locked(seed, data)
    for carry_over in (True, False):
        exact = optimise_programme(**data, carry_over=carry_over, locked=locked)
        brute = brute_force_programme(**data, carry_over=carry_over, locked=locked)
        greedy = greedy_programme(**data, carry_over=carry_over, locked=locked)
        assert exact.status == "optimal"
        assert exact.objective == pytest.approx(brute.objective, rel=1e-6)
        assert exact.objective == pytest.approx(
            programme_value(data["cover"], data["weights"], data["served"], data["discount"],
                            exact.builds), rel=1e-12)
        assert exact.gap == 0.0 and exact.bound == exact.objective
        assert greedy.objective <= exact.objective * (1 + 1e-9)
        for result in (exact, greedy, brute):
            assert _within_budgets(result, data, carry_over, locked)
            assert set(locked) <= set(result.builds)
            sites = data["site_of"][[k for k, _ in result.builds]]
            assert len(set(sites.tolist())) == len(sites)
            assert np.all(np.diff(result.people_served) >= 0)
            assert list(result.builds) == sorted(result.builds, key=lambda kb: (kb[1], kb[0]))


def _one_village() -> dict[str, Any]:
    """Two sites: a cheap tower for 60 people, a dear one (two years of money) for 100."""
    return {
        "cover": sp.csr_matrix(np.array([[True, False], [False, True]])),
        "site_of": np.array([0, 1]),
        "weights": np.array([60.0, 100.0]),
        "served": np.zeros((2, 2), dtype=bool),
        "pay": np.array([[1.0, 0.0], [2.0, 0.0]]),
        "opex": np.zeros((2, 2)),
        "budget": np.array([[1.0, 0.0], [1.0, 0.0]]),
        "discount": np.array([1.0, 0.9]),
    }


def test_building_earlier_beats_building_later() -> None:
    # cheap tower in year 0: 60 + 0.9 * 60 = 114 people-years; saving for the dear tower
    # and building it in year 1 gives 0.9 * 100 = 90; both do not fit (1 + 2 > 2).
    data = _one_village()
    result = optimise_programme(**data)
    assert result.builds == ((0, 0),)
    assert result.objective == pytest.approx(114.0)
    np.testing.assert_allclose(result.people_served, [60.0, 60.0])
    np.testing.assert_allclose(result.newly_served, [60.0, 0.0])
    np.testing.assert_allclose(result.spend_idr, [[1.0, 0.0], [0.0, 0.0]])
    assert programme_value(data["cover"], data["weights"], data["served"], data["discount"],
                           [(1, 1)]) == pytest.approx(90.0)


def test_carry_over_lets_money_be_saved_for_a_dear_tower() -> None:
    data = _one_village()
    data["weights"] = np.array([60.0, 200.0])  # now 0.9 * 200 = 180 beats 114
    saved = optimise_programme(**data, carry_over=True)
    assert saved.builds == ((1, 1),)
    assert saved.objective == pytest.approx(180.0)
    per_year = optimise_programme(**data, carry_over=False)
    assert per_year.builds == ((0, 0),)  # the dear tower never fits one year's money


def test_opex_counts_against_later_years() -> None:
    data = _one_village()
    data["opex"] = np.array([[0.5, 0.0], [0.0, 0.0]])
    data["pay"][1, 0] = 3.0  # the dear tower never fits
    # capex 1 + opex 0.5 > 1 in year 0; in year 1 it fits (cumulative 1.5 <= 2)
    result = optimise_programme(**data)
    assert result.builds == ((0, 1),)
    assert result.objective == pytest.approx(54.0)
    np.testing.assert_allclose(result.spend_idr[:, 0], [0.0, 1.5])


def test_locked_builds_are_facts_outside_the_budgets() -> None:
    data = _one_village()
    result = optimise_programme(**data, locked=[(1, 0)])  # Rp 2 against a budget of 1
    assert result.builds == ((0, 0), (1, 0))
    np.testing.assert_allclose(result.spend_idr[:, 0], [3.0, 0.0])
    assert result.objective == pytest.approx(160.0 * 1.9)
    greedy = greedy_programme(**data, locked=[(1, 0)])
    assert greedy.builds == result.builds


def test_served_units_and_year_weights() -> None:
    data = _one_village()
    data["served"] = np.array([[False, False], [True, False]])  # unit 0 served from year 1
    data["budget"] = np.array([[2.0, 0.0], [0.0, 0.0]])
    result = optimise_programme(**data)
    assert result.builds == ((1, 0),)  # 100 + 0.9 * (100 + 60) = 244 > 60 + 0.9 * 60
    assert result.objective == pytest.approx(244.0)
    np.testing.assert_allclose(result.newly_served, [100.0, 60.0])


def test_forbidden_options_and_warm_start() -> None:
    data = _instance(5)
    best = brute_force_programme(**data)
    warm = optimise_programme(**data, warm_start=best.builds)
    assert warm.objective == pytest.approx(best.objective, rel=1e-9)
    if best.builds:
        k = best.builds[0][0]
        without = optimise_programme(**data, forbidden=[k])
        assert k not in [kk for kk, _ in without.builds]
        assert without.objective == pytest.approx(
            brute_force_programme(**data, forbidden=[k]).objective, rel=1e-6)


def test_inputs_are_not_modified() -> None:
    data = _instance(7)
    copies = {key: (v.copy() if isinstance(v, np.ndarray) else v.copy())
              for key, v in data.items()}
    optimise_programme(**data)
    greedy_programme(**data)
    for key, value in data.items():
        if sp.issparse(value):
            assert (value != copies[key]).nnz == 0
        else:
            np.testing.assert_array_equal(value, copies[key])


def test_time_limit_reports_a_valid_bound() -> None:
    rng = np.random.default_rng(3)
    n_sites, n_units, n_years = 60, 400, 3
    low = rng.random((n_sites, n_units)) < 0.04
    tall = low | (rng.random((n_sites, n_units)) < 0.04)
    pay = np.column_stack([rng.uniform(1, 2, 2 * n_sites), np.zeros(2 * n_sites)])
    result = optimise_programme(
        sp.csr_matrix(np.vstack([low, tall])), np.tile(np.arange(n_sites), 2),
        rng.lognormal(2, 1, n_units), np.zeros((n_years, n_units), bool), pay,
        np.zeros_like(pay), np.full((n_years, 2), 4.0), 1.1 ** -np.arange(3.0),
        time_limit_s=0.5)
    assert result.status in ("optimal", "time_limit")
    assert result.bound >= result.objective
    greedy = greedy_programme(
        sp.csr_matrix(np.vstack([low, tall])), np.tile(np.arange(n_sites), 2),
        rng.lognormal(2, 1, n_units), np.zeros((n_years, n_units), bool), pay,
        np.zeros_like(pay), np.full((n_years, 2), 4.0), 1.1 ** -np.arange(3.0))
    assert greedy.bound >= greedy.objective and greedy.status == "greedy"


def test_shapes_and_signs_are_reported_together() -> None:
    data = _one_village()
    data["budget"] = np.array([[-1.0, 0.0], [1.0, 0.0]])
    data["weights"] = np.array([1.0, 2.0, 3.0])
    with pytest.raises(InputDataError, match="weights has shape.*budget must be") as err:
        optimise_programme(**data)
    assert len(err.value.problems) == 2


def test_served_must_not_fall_back() -> None:
    data = _one_village()
    data["served"] = np.array([[True, False], [False, False]])
    with pytest.raises(InputDataError, match="served must not fall back"):
        greedy_programme(**data)


def test_locked_and_forbidden_contradict() -> None:
    with pytest.raises(InfeasibleSelectionError, match=r"options \[0\] are both locked"):
        optimise_programme(**_one_village(), locked=[(0, 0)], forbidden=[0])


def test_two_locked_builds_on_one_site() -> None:
    data = _one_village()
    data["site_of"] = np.array([0, 0])
    with pytest.raises(InfeasibleSelectionError, match=r"sites \[0\] have more than one"):
        brute_force_programme(**data, locked=[(0, 0), (1, 1)])


def test_locked_build_out_of_range() -> None:
    with pytest.raises(InputDataError, match=r"locked builds \(0, 5\)"):
        optimise_programme(**_one_village(), locked=[(0, 5)])


def test_an_option_every_option_of_another_site_beats_is_dropped() -> None:
    from towerplan.analysis.programme import _dominated, _prepare

    # site 0: low tower j covers unit 0 for Rp 3; site 1: low covers 0-1 for 1, tall 0-2 for 2
    cover = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=bool))
    data = {"cover": cover, "site_of": np.array([0, 1, 1]), "weights": np.array([5.0, 1, 1]),
            "served": np.zeros((2, 3), bool), "pay": np.array([[3.0], [1.0], [2.0]]),
            "opex": np.array([[0.1], [0.1], [0.1]]), "budget": np.array([[3.5], [1.0]]),
            "discount": np.array([1.0, 0.8])}
    prob = _prepare(**data, carry_over=True, locked=(), forbidden=())
    assert _dominated(cover, prob, np.arange(3)).tolist() == [True, False, False]
    for budget in ([[3.5], [1.0]], [[1.05], [0.1]], [[0.0], [1.2]], [[0.5], [3.0]]):
        data["budget"] = np.array(budget)
        for carry_over in (True, False):
            exact = optimise_programme(**data, carry_over=carry_over)
            brute = brute_force_programme(**data, carry_over=carry_over)
            assert exact.objective == pytest.approx(brute.objective, rel=1e-9)
