"""Budgeted maximum coverage: exact vs brute force, constraints, invariants."""

from __future__ import annotations

import contextlib

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


def _mixed_instance(seed: int, n_sites: int = 12, n_dem: int = 30):
    rng = np.random.default_rng(1000 + seed)
    n_sites = int(rng.integers(4, n_sites + 1))
    dense = rng.random((n_sites, n_dem)) < rng.uniform(0.05, 0.35)
    weights = rng.integers(0, 40, n_dem).astype(float)
    costs = rng.choice([1.0, 1.3, 2.0, 2.7, 4.0], n_sites)
    budget = float(rng.uniform(1.0, 9.0))
    covered = rng.random(n_dem) < 0.25 if seed % 2 else None
    return sp.csr_matrix(dense), weights, costs, budget, covered


def _newly_covered(a: sp.csr_matrix, w: np.ndarray, sites, covered) -> float:
    dense = a.toarray()
    hit = dense[list(sites)].any(axis=0) if sites else np.zeros(a.shape[1], bool)
    if covered is not None:
        hit &= ~covered
    return float(sum(w[i] for i in range(len(w)) if hit[i]))


def test_milp_equals_bruteforce_on_random_instances() -> None:
    for seed in range(240):
        a, w, c, budget, covered = _mixed_instance(seed)
        exact = select_sites(a, w, c, budget, covered, "milp")
        brute = select_sites(a, w, c, budget, covered, "bruteforce")
        assert exact.objective == pytest.approx(brute.objective), seed


@pytest.mark.parametrize("method", ["milp", "greedy", "bruteforce"])
def test_budget_never_exceeded_and_objective_counts_new_coverage_once(method: str) -> None:
    for seed in range(60):
        a, w, c, budget, covered = _mixed_instance(seed)
        res = select_sites(a, w, c, budget, covered, method)
        assert res.cost <= budget + 1e-9
        assert res.cost == pytest.approx(sum(c[j] for j in res.sites))
        assert res.objective == pytest.approx(_newly_covered(a, w, res.sites, covered))


def test_inputs_not_modified() -> None:
    a, w, c, budget, covered = _mixed_instance(1)
    before = (a.copy(), w.copy(), c.copy(), covered.copy())
    select_sites(a, w, c, budget, covered, "milp", unit_group=np.arange(len(w)) % 3,
                 min_share={0: 0.0})
    assert (a != before[0]).nnz == 0
    assert np.array_equal(w, before[1])
    assert np.array_equal(c, before[2])
    assert np.array_equal(covered, before[3])


def test_must_include_exclude_on_random_instances() -> None:
    for seed in range(40):
        a, w, c, budget, covered = _mixed_instance(seed)
        rng = np.random.default_rng(seed)
        n = a.shape[0]
        cheap = [int(j) for j in np.flatnonzero(c <= budget)]
        inc = [int(rng.choice(cheap))] if cheap else []
        exc = [int(j) for j in rng.choice(n, 2, replace=False) if j not in inc]
        results = [select_sites(a, w, c, budget, covered, m, must_include=inc, must_exclude=exc)
                   for m in ("milp", "greedy", "bruteforce")]
        for res in results:
            assert set(inc) <= set(res.sites)
            assert not set(exc) & set(res.sites)
            assert res.cost <= budget + 1e-9
        assert results[0].objective == pytest.approx(results[2].objective)


def _village_shares(a, w, sites, covered, unit_group) -> dict[int, float]:
    hit = a.toarray()[list(sites)].any(axis=0) if sites else np.zeros(len(w), bool)
    if covered is not None:
        hit |= covered
    return {int(v): float(w[(unit_group == v) & hit].sum() / w[unit_group == v].sum())
            for v in np.unique(unit_group) if v >= 0 and w[unit_group == v].sum() > 0}


def test_min_share_honoured_and_milp_equals_bruteforce() -> None:
    checked = infeasible = 0
    for seed in range(150):
        a, w, c, budget, covered = _mixed_instance(seed)
        rng = np.random.default_rng(seed)
        unit_group = rng.integers(-1, 4, len(w))
        present = [int(v) for v in np.unique(unit_group) if v >= 0]
        min_share = {v: float(rng.uniform(0.1, 0.8)) for v in present[:2]}
        kw = {"unit_group": unit_group, "min_share": min_share}
        try:
            brute = select_sites(a, w, c, budget, covered, "bruteforce", **kw)
        except InfeasibleSelectionError:
            infeasible += 1
            with pytest.raises(InfeasibleSelectionError, match="minimum share"):
                select_sites(a, w, c, budget, covered, "milp", **kw)
            with pytest.raises(InfeasibleSelectionError):
                select_sites(a, w, c, budget, covered, "greedy", **kw)
            continue
        exact = select_sites(a, w, c, budget, covered, "milp", **kw)
        assert exact.objective == pytest.approx(brute.objective), seed
        results = [exact, brute]
        with contextlib.suppress(InfeasibleSelectionError):
            results.append(select_sites(a, w, c, budget, covered, "greedy", **kw))
        for res in results:
            assert res.cost <= budget + 1e-9
            shares = _village_shares(a, w, res.sites, covered, unit_group)
            for v, s in min_share.items():
                if v in shares:
                    assert shares[v] >= s - 1e-9, (seed, res.solver)
        checked += 1
    assert checked > 30
    assert infeasible > 5


def test_min_share_counts_existing_coverage() -> None:
    a = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1]], bool))
    w = np.array([5.0, 5.0, 4.0, 4.0])
    unit_group = np.array([0, 0, 1, 1])
    covered = np.array([True, False, False, False])
    for method in ("milp", "greedy", "bruteforce"):
        res = select_sites(a, w, np.array([1.0, 1.0, 2.0]), 2.0, covered, method,
                           unit_group=unit_group, min_share={0: 0.5, 1: 0.5})
        assert res.sites == (2,)
        assert res.objective == 8.0


def test_min_share_infeasible_names_villages() -> None:
    a = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], bool))
    w = np.array([10.0, 1.0, 1.0])
    unit_group = np.array([7, 8, 9])
    kw = {"unit_group": unit_group, "min_share": {7: 1.0, 8: 1.0}}
    c = np.array([3.0, 3.0, 1.0])
    with pytest.raises(InfeasibleSelectionError, match="cannot all be met together") as err:
        select_sites(a, w, c, 4.0, method="milp", **kw)
    assert err.value.status == "2"
    # each alone is reachable (100 %), so both are listed with what they reach alone
    assert [(s.village, s.required, s.reachable) for s in err.value.shortfalls] == [
        (7, 1.0, 1.0), (8, 1.0, 1.0)]
    with pytest.raises(InfeasibleSelectionError, match=r"villages 7 \(>= 100 %\)") as err:
        select_sites(a, w, np.array([5.0, 1.0, 1.0]), 4.0, method="milp", **kw)
    # village 7 costs 5 > budget 4: nothing reaches it
    assert [(s.village, s.reachable) for s in err.value.shortfalls] == [(7, 0.0)]
    with pytest.raises(InfeasibleSelectionError, match="cannot all be met together"):
        select_sites(a, w, c, 4.0, method="bruteforce", **kw)
    with pytest.raises(InfeasibleSelectionError, match=r"greedy selection: .* villages 7"):
        select_sites(a, w, c, 4.0, method="greedy", **kw)


def test_reachable_share_is_the_best_affordable_share() -> None:
    # village 0 has units 0..2 (weights 6, 3, 1); sites cost 2 each; budget 4 buys two sites
    a = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
                               bool))
    w = np.array([6.0, 3.0, 1.0, 5.0])
    covered = np.array([False, False, False, False])
    with pytest.raises(InfeasibleSelectionError) as err:
        select_sites(a, w, np.full(4, 2.0), 4.0, covered, "milp",
                     unit_group=np.array([0, 0, 0, 1]), min_share={0: 1.0})
    (short,) = err.value.shortfalls
    assert short.village == 0 and short.reachable == pytest.approx(0.9)


def test_min_share_input_validation() -> None:
    a, w, c = _random_instance(0)
    with pytest.raises(ValueError, match="needs unit_group") as err:
        select_sites(a, w, c, 5.0, min_share={0: 0.5, 1: 1.5})
    assert "[0, 1]" in str(err.value)
    with pytest.raises(ValueError, match="without demand units"):
        select_sites(a, w, c, 5.0, unit_group=np.zeros(len(w), int), min_share={3: 0.5})


def test_hashed_aggregation_equals_exact_grouping() -> None:
    from towerplan.analysis.selection_exact import group_columns as _group_columns
    from towerplan.analysis.selection_exact import group_columns_exact as _group_columns_exact

    rng = np.random.default_rng(5)
    sub = sp.csc_matrix(rng.random((6, 400)) < 0.3)
    sub.sort_indices()
    lab = rng.integers(-1, 2, 400)
    first, group_of = _group_columns(sub, lab)
    first_x, group_x = _group_columns_exact(sub, lab)
    assert len(first) == len(first_x)
    pairs = set(zip(group_of.tolist(), group_x.tolist(), strict=True))
    assert len(pairs) == len(first)
