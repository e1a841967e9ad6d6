"""Programme branch and bound: cover cuts never cut off a plan, the search alone is exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.unit.analysis.test_programme import _instance
from towerplan.analysis.programme import (
    _knapsacks,
    _Model,
    _prepare,
    _valid_plan,
    _value,
    brute_force_programme,
)
from towerplan.analysis.programme_search import (
    Knapsack,
    NodeLp,
    separate_cover,
    threshold_covers,
)


def _fits(k: Knapsack, on: np.ndarray) -> bool:
    return float(k.weight[on].sum()) <= k.capacity


@pytest.mark.parametrize("seed", range(40))
def test_cover_cuts_hold_for_every_set_that_fits(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 9))
    k = Knapsack(np.arange(n), rng.uniform(1.0, 3.0, n), float(rng.uniform(2.0, 9.0)))
    cuts = threshold_covers(k)
    for _ in range(20):  # covers separated from random fractional points
        cut = separate_cover(k, rng.random(n))
        if cut is not None:
            cuts.append(cut)
    checked = 0
    for bits in itertools.product((False, True), repeat=n):
        on = np.array(bits)
        if _fits(k, on):
            x = on.astype(float)
            for cols, rhs in cuts:
                assert x[cols].sum() <= rhs, (cols, rhs, bits)
                checked += 1
    assert checked or not cuts


def test_a_separated_cover_cuts_the_point_it_came_from() -> None:
    k = Knapsack(np.arange(4), np.array([2.0, 2.0, 2.0, 3.0]), 5.0)
    x = np.array([1.0, 1.0, 0.5, 0.0])  # 2 + 2 + 1 = 5: keeps the row
    cut = separate_cover(k, x)
    assert cut is not None
    cols, rhs = cut
    assert rhs == 2  # the minimal cover {0, 1, 2} (6 > 5): at most two of them
    assert sorted(cols.tolist()) == [0, 1, 2, 3]  # 3 is dearer than the cover's dearest
    assert x[cols].sum() == 2.5


@pytest.mark.parametrize("seed", range(0, 110, 3))
def test_search_alone_finds_the_brute_force_optimum(seed: int) -> None:
    # no kernel and no start: branch and bound from the root with an incumbent of nothing
    data = _instance(seed)
    carry_over = bool(seed % 2)
    prob = _prepare(**data, carry_over=carry_over, locked=(), forbidden=())
    model = _Model.build(prob)
    brute = brute_force_programme(**data, carry_over=carry_over)
    if model.parts.n_x == 0:
        pytest.skip("no option left after the reductions")
    lp = NodeLp(model.parts, model.reach.ravel(), _knapsacks(prob, model.opts, bands=True))
    root = lp.root()
    assert root is not None
    base = _value(prob, [])
    assert base + root.bound >= brute.objective - 1e-6

    def complete(x: np.ndarray) -> tuple[list[tuple[int, int]], float]:
        # no greedy fill: only the builds the LP makes whole, so the search must branch
        built_by = x.reshape(-1, prob.n_years)
        plan = [(int(model.opts[i]), int(np.argmax(built_by[i] > 0.5)))
                for i in np.flatnonzero(built_by[:, -1] > 1 - 1e-6)]
        ok = _valid_plan(prob, plan)
        return (plan, _value(prob, plan) - base) if ok else ([], 0.0)

    found = lp.search(root, 0.0, complete, None)
    assert found.status == "optimal"
    assert base + found.bound == pytest.approx(brute.objective, rel=1e-9, abs=1e-9)
