"""Budgeted maximum coverage: exact vs brute force, constraints, invariants."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.analysis.selection import build_order, select_sites
from towerplan.errors import InfeasibleSelectionError


def _random_instance(seed: int, n_sites: int = 12, n_dem: int = 40):
    rng = np.random.default_rng(seed)
    dense = rng.random((n_sites, n_dem)) < 0.15
    weights = rng.integers(0, 50, n_dem).astype(float)
    costs = rng.choice([1.0, 1.5, 2.0, 3.0], n_sites)
    return sp.csr_matrix(dense), weights, costs


@pytest.mark.parametrize("seed", range(8))
def test_milp_matches_bruteforce_and_beats_greedy(seed: int) -> None:
    a, w, c = _random_instance(seed)
    covered = np.zeros(a.shape[1], bool)
    covered[::7] = True
    exact = select_sites(a, w, c, 5.0, covered, "milp")
    brute = select_sites(a, w, c, 5.0, covered, "bruteforce")
    greedy = select_sites(a, w, c, 5.0, covered, "greedy")
    assert exact.objective == pytest.approx(brute.objective)
    assert exact.objective >= greedy.objective - 1e-9
    assert exact.cost <= 5.0 + 1e-9
    assert greedy.cost <= 5.0 + 1e-9
    assert exact.gap == pytest.approx(0.0, abs=1e-6)


def test_covered_demand_adds_nothing() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], bool))
    w = np.array([10.0, 10.0, 1.0])
    res = select_sites(a, w, np.array([1.0, 1.0]), 1.0, np.array([True, True, False]), "milp")
    assert res.sites == (1,)
    assert res.objective == 1.0


def test_must_include_exclude_and_group_limit() -> None:
    a, w, c = _random_instance(3)
    free = select_sites(a, w, c, 6.0, method="milp")
    j_out = free.sites[0]
    res = select_sites(a, w, c, 6.0, method="milp", must_exclude=[j_out])
    assert j_out not in res.sites
    res = select_sites(a, w, c, 6.0, method="milp", must_include=[11])
    assert 11 in res.sites
    groups = np.zeros(12, int)
    res = select_sites(a, w, c, 6.0, method="milp", groups=groups, max_per_group=1)
    assert len(res.sites) == 1
    brute = select_sites(a, w, c, 6.0, method="bruteforce", groups=groups, max_per_group=1)
    assert res.objective == pytest.approx(brute.objective)


def test_forced_sites_over_budget_raise() -> None:
    a, w, c = _random_instance(1)
    with pytest.raises(InfeasibleSelectionError, match="more than the budget"):
        select_sites(a, w, c, 1.0, method="milp", must_include=[int(np.argmax(c))])


def test_greedy_falls_back_to_best_single_site() -> None:
    # A cheap site with a good ratio blocks the expensive site that covers far more.
    a = sp.csr_matrix(np.array([[1, 0], [0, 1]], bool))
    res = select_sites(a, np.array([2.0, 100.0]), np.array([1.0, 10.0]), 10.0, method="greedy")
    assert res.sites == (1,)


def test_build_order_marginal_gains_sum_to_objective() -> None:
    a, w, c = _random_instance(5)
    res = select_sites(a, w, c, 6.0, method="milp")
    order = build_order(a, w, c, res.sites)
    assert sorted(j for j, _ in order) == list(res.sites)
    assert sum(g for _, g in order) == pytest.approx(res.objective)
    ratios = [g / c[j] for j, g in order]
    assert ratios[0] == pytest.approx(max(_gain / c[j] for j, _gain in
                                          ((j, float(w[a[j].indices].sum())) for j in res.sites)))


def test_input_validation() -> None:
    a, w, c = _random_instance(0)
    with pytest.raises(ValueError, match="costs"):
        select_sites(a, w, -c, 5.0)
    with pytest.raises(ValueError, match="unknown selection method"):
        select_sites(a, w, c, 5.0, method="simplex")
