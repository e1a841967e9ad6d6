"""Exact selection: every reduction and bound keeps the optimum; sweep = independent solves."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from towerplan.analysis.selection import SelectionModel, select_sites, select_sites_sweep
from towerplan.analysis.selection_exact import (
    Core,
    Relaxation,
    _lp_parts,
    aggregate_demand,
    dominated_sites,
    lagrangian_bounds,
    local_search,
    max_sites,
    reduce_core,
)
from towerplan.errors import InfeasibleSelectionError


def _nested_instance(seed: int, n_sites: int = 12, n_dem: int = 40):
    """Random sets plus sites that copy or shrink others, so dominance has work to do."""
    rng = np.random.default_rng(seed)
    dense = rng.random((n_sites, n_dem)) < 0.2
    for j in range(n_sites // 3):
        k = int(rng.integers(n_sites))
        dense[j] = dense[k] & (rng.random(n_dem) < 0.7)  # subset of site k
    dense[n_sites - 1] = dense[n_sites - 2]  # identical pair
    weights = rng.integers(0, 30, n_dem).astype(float)
    costs = rng.choice([1.0, 1.5, 2.0, 3.0], n_sites)
    return sp.csr_matrix(dense), weights, costs


def _best(dense: np.ndarray, w: np.ndarray, c: np.ndarray, budget: float, sites=None,
          need_in: int | None = None, need_out: int | None = None) -> float:
    """Brute force over subsets of *sites* (all by default)."""
    sites = list(range(dense.shape[0])) if sites is None else list(sites)
    best = 0.0 if need_in is None else -np.inf
    for r in range(len(sites) + 1):
        for combo in itertools.combinations(sites, r):
            if c[list(combo)].sum() > budget + 1e-9:
                continue
            if need_in is not None and need_in not in combo:
                continue
            if need_out is not None and need_out in combo:
                continue
            hit = dense[list(combo)].any(axis=0) if combo else np.zeros(dense.shape[1], bool)
            best = max(best, float(w[hit].sum()))
    return best


def test_dominated_sites_have_a_kept_dominator_and_keep_the_optimum() -> None:
    dropped_total = 0
    for seed in range(30):
        a, w, c = _nested_instance(seed)
        cls, wc, _ = aggregate_demand(a, w)
        drop = dominated_sites(cls, c)
        dense = cls.toarray()
        for j in np.flatnonzero(drop):
            dominators = [k for k in np.flatnonzero(~drop)
                          if (dense[k] >= dense[j]).all() and c[k] <= c[j]]
            assert dominators, (seed, j)
        dropped_total += int(drop.sum())
        for budget in (2.0, 4.5):
            assert _best(dense, wc, c, budget, np.flatnonzero(~drop)) == pytest.approx(
                _best(dense, wc, c, budget))
    assert dropped_total > 30


def test_identical_sites_keep_exactly_one_and_groups_block_dominance() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]], bool))
    c = np.array([2.0, 2.0, 1.0, 1.0])
    assert dominated_sites(a, c).tolist() == [False, True, False, False]
    c_cheap_subset = np.array([2.0, 2.0, 3.0, 1.0])
    assert dominated_sites(a, c_cheap_subset).tolist() == [False, True, True, False]
    groups = np.array([0, 1, 2, 0])
    assert not dominated_sites(a, c_cheap_subset, groups).any()


def test_aggregation_merges_equal_columns_and_drops_uncovered_and_weightless() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0, 1, 0], [0, 1, 0, 1, 1]], bool))
    w = np.array([2.0, 3.0, 7.0, 4.0, 0.0])
    cls, wc, lab = aggregate_demand(a, w)
    # units 1 and 3 share {0, 1}; unit 2 has no site; unit 4 has no weight
    assert cls.shape == (2, 2)
    cols = {tuple(cls[:, i].toarray().ravel()): wc[i] for i in range(cls.shape[1])}
    assert cols == {(True, False): 2.0, (True, True): 7.0}
    assert (lab == -1).all()
    _, wc_lab, lab2 = aggregate_demand(a, w, np.array([0, 0, 0, 1, 1]))
    assert sorted(wc_lab.tolist()) == [2.0, 3.0, 4.0]  # different villages stay apart
    assert sorted(lab2.tolist()) == [0, 0, 1]


def test_reduce_core_drops_disallowed_and_useless_sites() -> None:
    a = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], bool))
    w = np.array([5.0, 0.0, 1.0])  # site 1 covers nothing of value
    allowed = np.array([True, True, False, True])
    core = reduce_core(a, w, np.array([1.0, 1.0, 1.0, 1.0]), allowed)
    # site 1 covers no weight, site 2 is not allowed, site 0 = site 3 on the weighted unit
    assert core.sites.tolist() == [0]
    assert core.w.tolist() == [5.0]


def test_single_site_classes_fold_into_site_objective() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], bool))
    core = Core(np.arange(3), a, np.array([4.0, 2.0, 3.0, 5.0]), np.full(4, -1),
                np.ones(3))
    parts = _lp_parts(core, 2.0)
    # x0 gets unit 0, x2 gets unit 3; units 1 and 2 keep a y column and a cover row
    assert parts.cost[:3].tolist() == [-4.0, 0.0, -5.0]
    assert parts.cost[3:].tolist() == [-2.0, -3.0]
    assert parts.matrix.shape == (2 + 2, 3 + 2)  # budget, count, two cover rows


@pytest.mark.parametrize("seed", range(6))
def test_singleton_heavy_instances_match_bruteforce(seed: int) -> None:
    rng = np.random.default_rng(50 + seed)
    n_sites, n_dem = 10, 60
    owner = rng.integers(0, n_sites, n_dem)
    dense = np.zeros((n_sites, n_dem), bool)
    dense[owner, np.arange(n_dem)] = True  # most units covered by one site only
    dense |= rng.random((n_sites, n_dem)) < 0.05
    w = rng.integers(1, 20, n_dem).astype(float)
    c = rng.choice([1.0, 2.0, 2.5], n_sites)
    for budget in (2.0, 5.0):
        exact = select_sites(sp.csr_matrix(dense), w, c, budget)
        assert exact.objective == pytest.approx(_best(dense, w, c, budget))
        assert exact.gap == 0.0


def test_max_sites_counts_cheapest() -> None:
    c = np.array([3.0, 1.0, 2.0, 1.5])
    assert [max_sites(c, b) for b in (0.5, 1.0, 2.5, 4.4, 4.5, 7.5)] == [0, 1, 2, 2, 3, 4]


@pytest.mark.parametrize("seed", range(5))
def test_lagrangian_bounds_hold_for_any_multipliers(seed: int) -> None:
    a, w, c = _nested_instance(100 + seed, n_sites=9, n_dem=30)
    cls, wc, village = aggregate_demand(a, w)
    core = Core(np.arange(9), cls, wc, village, c)
    budget = 4.0
    parts = _lp_parts(core, budget)
    up_x = (c <= budget).astype(float)
    upper = parts.row_upper.copy()
    upper[:2] = budget, max_sites(c, budget)
    dense = cls.toarray()
    rng = np.random.default_rng(seed)
    duals = [rng.normal(0, 5, parts.matrix.shape[0]) for _ in range(3)]
    relax = Relaxation(core)
    lp = relax.bounds(budget)
    assert lp is not None
    for row_dual in duals:
        bound, with_1, with_0 = lagrangian_bounds(parts.matrix, parts.cost, up_x,
                                                  parts.row_lower, upper, row_dual)
        assert bound >= _best(dense, wc, c, budget) - 1e-9
        for j in range(9):
            assert with_1[j] >= _best(dense, wc, c, budget, need_in=j) - 1e-9
            assert with_0[j] >= _best(dense, wc, c, budget, need_out=j) - 1e-9
    # the LP duals give the tightest of these bounds
    assert lp[0] >= _best(dense, wc, c, budget) - 1e-7
    assert lp[0] <= min(lagrangian_bounds(parts.matrix, parts.cost, up_x, parts.row_lower,
                                          upper, d)[0] for d in duals) + 1e-7


def _best_by_count(dense: np.ndarray, w: np.ndarray, c: np.ndarray, budget: float
                   ) -> dict[int, float]:
    """Brute force: the best weight covered by exactly k sites within *budget*, per k."""
    best: dict[int, float] = {}
    for r in range(dense.shape[0] + 1):
        for combo in itertools.combinations(range(dense.shape[0]), r):
            if c[list(combo)].sum() <= budget + 1e-9:
                hit = dense[list(combo)].any(axis=0)
                best[r] = max(best.get(r, 0.0), float(w[hit].sum()))
    return best


@pytest.mark.parametrize("seed", range(12))
def test_count_bounds_hold_and_branches_keep_every_count_that_can_win(seed: int) -> None:
    from towerplan.analysis.selection_exact import _count_branches

    a, w, c = _nested_instance(700 + seed, n_sites=11, n_dem=45)
    c = np.random.default_rng(seed).uniform(1.0, 2.2, 11)
    cls, wc, village = aggregate_demand(a, w)
    core = Core(np.arange(11), cls, wc, village, c)
    dense = cls.toarray()
    relax = Relaxation(core)
    for budget in (3.0, 5.5, 8.0):
        by_count = _best_by_count(dense, wc, c, budget)
        for k, best in by_count.items():
            if k:
                eq = relax.bounds(budget, (k, k))
                assert eq is not None and eq[0] >= best - 1e-7, (seed, budget, k)
        root = relax.bounds(budget)
        assert root is not None
        assert root[0] >= max(eq_bound for eq_bound in by_count.values()) - 1e-7
        for share in (0.8, 0.95, 0.999):
            value = share * max(by_count.values())
            ks = {b[0] for b in _count_branches(core, budget, relax, value)}
            relax.bounds(budget)  # the branches start from the budget's LP without a count
            assert {k for k, best in by_count.items() if best > value + 1e-9} <= ks


def test_local_search_improves_within_budget_and_group_limit() -> None:
    for seed in range(10):
        a, w, c = _nested_instance(200 + seed, n_sites=14, n_dem=50)
        cls, wc, village = aggregate_demand(a, w)
        group = np.arange(14) % 3
        core = Core(np.arange(14), cls, wc, village, c, group, np.array([1, 1, 2]))
        start = [0]
        found = local_search(core, 5.0, start)
        assert core.value(found) >= core.value(start)
        assert c[found].sum() <= 5.0 + 1e-9
        assert (np.bincount(group[found], minlength=3) <= core.cap).all()
        assert len(set(found)) == len(found)


def test_drop_and_refill_never_worsens_and_stays_in_budget() -> None:
    from towerplan.analysis.selection_exact import _drop_and_refill

    for seed in range(8):
        a, w, c = _nested_instance(400 + seed, n_sites=14, n_dem=50)
        cls, wc, village = aggregate_demand(a, w)
        core = Core(np.arange(14), cls, wc, village, c)
        start = [0]
        sites, value = _drop_and_refill(core, 5.0, start, core.value(start))
        assert value == pytest.approx(core.value(sites))
        assert value >= core.value(start)
        assert c[sites].sum() <= 5.0 + 1e-9


def _reference_milp(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budget: float) -> float:
    """Textbook model without any reduction, through scipy.optimize.milp."""
    n, m = a.shape
    cover = sp.hstack([-sp.csr_matrix(a.T, dtype=float), sp.identity(m)])
    budget_row = sp.csr_matrix(np.concatenate([c, np.zeros(m)])[None, :])
    res = milp(np.concatenate([np.zeros(n), -w]),
               constraints=[LinearConstraint(cover, -np.inf, 0.0),
                            LinearConstraint(budget_row, -np.inf, budget)],
               integrality=np.concatenate([np.ones(n), np.zeros(m)]),
               bounds=Bounds(0, 1), options={"mip_rel_gap": 0.0})
    assert res.status == 0
    return -float(res.fun)


def _spatial_instance(seed: int, n_sites: int = 40, n_units: int = 800):
    rng = np.random.default_rng(seed)
    units = rng.uniform(0, 20_000, (n_units, 2))
    sites = rng.uniform(0, 20_000, (n_sites, 2))
    radius = rng.uniform(1_500, 5_000, n_sites)
    dist = np.linalg.norm(sites[:, None, :] - units[None, :, :], axis=2)
    a = sp.csr_matrix(dist <= radius[:, None])
    w = np.round(rng.lognormal(1.5, 1.0, n_units))
    c = 1.7 + rng.uniform(0, 1.5, n_sites)
    return a, w, c


@pytest.mark.parametrize("seed", range(3))
def test_reduced_model_equals_unreduced_textbook_milp(seed: int) -> None:
    a, w, c = _spatial_instance(seed)
    for budget in (4.0, 9.0, 14.0):
        exact = select_sites(a, w, c, budget)
        assert exact.gap == 0.0
        assert exact.cost <= budget + 1e-9
        assert exact.objective == pytest.approx(_reference_milp(a, w, c, budget), rel=1e-9)
        assert exact.objective >= select_sites(a, w, c, budget, method="greedy").objective


def test_sweep_equals_independent_solves_in_given_order() -> None:
    a, w, c = _spatial_instance(7)
    covered = np.zeros(a.shape[1], bool)
    covered[::5] = True
    budgets = [9.0, 2.0, 16.0, 0.5, 5.0, 9.0]
    calls: list[tuple[int, int]] = []
    sweep = select_sites_sweep(a, w, c, budgets, covered, must_exclude=[3],
                               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 6) for k in range(1, 7)]
    for budget, res in zip(budgets, sweep, strict=True):
        alone = select_sites(a, w, c, budget, covered, must_exclude=[3])
        assert res.objective == pytest.approx(alone.objective)
        assert res.cost <= budget + 1e-9
        assert 3 not in res.sites
        assert res.gap == 0.0
    assert [r.objective for r in sweep][3] == 0.0


def test_sweep_with_constraints_equals_bruteforce() -> None:
    for seed in range(12):
        rng = np.random.default_rng(300 + seed)
        a, w, c = _nested_instance(300 + seed, n_sites=10, n_dem=30)
        groups = rng.integers(0, 3, 10)
        unit_group = rng.integers(-1, 3, 30)
        kw = {"must_include": [int(np.argmin(c))], "groups": groups, "max_per_group": 2}
        budgets = [6.0, 3.0, 4.5]
        for res, budget in zip(select_sites_sweep(a, w, c, budgets, **kw), budgets,
                               strict=True):
            brute = select_sites(a, w, c, budget, method="bruteforce", **kw)
            assert res.objective == pytest.approx(brute.objective), seed
        share = {"unit_group": unit_group, "min_share": {0: 0.3}}
        model = SelectionModel(a, w, c, **share)
        for budget in (5.0, 3.0):
            try:
                brute = select_sites(a, w, c, budget, method="bruteforce", **share)
            except InfeasibleSelectionError:
                with pytest.raises(InfeasibleSelectionError, match="minimum share"):
                    model.solve(budget)
                continue
            assert model.solve(budget).objective == pytest.approx(brute.objective), seed


def test_model_solves_budgets_in_any_order_and_reports_core() -> None:
    a, w, c = _spatial_instance(11)
    model = SelectionModel(a, w, c)
    assert 0 < model.core.n_sites <= a.shape[0]
    assert model.core.w.sum() <= w.sum()
    values = {b: model.solve(b).objective for b in (12.0, 3.0, 7.0)}
    assert values[3.0] <= values[7.0] <= values[12.0]
    for b, v in values.items():
        assert v == pytest.approx(select_sites(a, w, c, b).objective)


def test_forced_sites_over_budget_and_bad_budget_raise() -> None:
    a, w, c = _spatial_instance(2)
    model = SelectionModel(a, w, c, must_include=[0, 1])
    with pytest.raises(InfeasibleSelectionError, match="more than the budget"):
        model.solve(float(c[0] + c[1]) - 0.01)
    with pytest.raises(ValueError, match="budget must be >= 0"):
        model.solve(-1.0)
    res = model.solve(float(c[0] + c[1]) + 2.0)
    assert {0, 1} <= set(res.sites)


def test_time_limit_keeps_a_feasible_selection_and_a_valid_bound() -> None:
    a, w, c = _spatial_instance(4, n_sites=60, n_units=1500)
    best = select_sites(a, w, c, 14.0)
    res = select_sites(a, w, c, 14.0, time_limit_s=0.01)
    assert res.cost <= 14.0 + 1e-9
    assert res.gap is not None and res.gap >= 0.0
    assert res.bound is not None
    assert res.objective <= best.objective + 1e-9 <= res.bound + 1e-6


def test_module_doctests_pass() -> None:
    import doctest

    from towerplan.analysis import selection

    result = doctest.testmod(selection, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4
    assert result.failed == 0


def test_stdout_silenced_by_two_threads_at_once_comes_back(tmp_path, monkeypatch) -> None:
    """Two solves at once (the backhaul comparison beside the coverage after) leave and
    restore stdout in any order: afterwards it is the real stdout again, never the null
    device one of them found in place."""
    import os
    import sys
    import threading

    from towerplan.analysis.selection_exact import native_stdout_silenced

    out = (tmp_path / "stdout").open("w")
    monkeypatch.setattr(sys, "stdout", out)
    fd = out.fileno()
    first, second = native_stdout_silenced(), native_stdout_silenced()
    first.__enter__()
    second.__enter__()
    os.write(fd, b"hidden\n")
    first.__exit__(None, None, None)  # not in the reverse order of entering
    os.write(fd, b"still hidden\n")
    second.__exit__(None, None, None)
    os.write(fd, b"shown\n")
    done = threading.Event()

    def solve() -> None:
        with native_stdout_silenced():
            done.wait(timeout=10)

    thread = threading.Thread(target=solve)
    thread.start()
    with native_stdout_silenced():
        done.set()
    thread.join()
    os.write(fd, b"shown again\n")
    out.close()
    assert (tmp_path / "stdout").read_text() == "shown\nshown again\n"
