"""Programme branch and bound: cover cuts never cut off a plan, lazy cover rows keep the LP's
optimum, the search alone is exact."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from tests.unit.analysis.test_programme import _instance, programme_data
from towerplan.analysis.programme import (
    _knapsacks,
    _Model,
    _prepare,
    _valid_plan,
    _value,
    brute_force_programme,
)
from towerplan.analysis.programme_search import (
    Duals,
    Knapsack,
    Node,
    NodeLp,
    separate_cover,
    threshold_covers,
    tighten,
)
from towerplan.analysis.selection_exact import LpParts


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


def _whole_builds_only(prob: Any, model: Any, base: float
                       ) -> Callable[[np.ndarray], tuple[list[tuple[int, int]], float]]:
    """The search's rounding without greedy fill: only the builds the LP makes whole, so the
    search must branch to reach a programme."""

    def complete(x: np.ndarray) -> tuple[list[tuple[int, int]], float]:
        built_by = x.reshape(-1, prob.n_years)
        plan = [(int(model.opts[i]), int(np.argmax(built_by[i] > 0.5)))
                for i in np.flatnonzero(built_by[:, -1] > 1 - 1e-6)]
        ok = _valid_plan(prob, plan)
        return (plan, _value(prob, plan) - base) if ok else ([], 0.0)

    return complete


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("lazy", [False, True])
@pytest.mark.parametrize("seed", range(0, 110, 3))
def test_search_alone_finds_the_brute_force_optimum(seed: int, lazy: bool,
                                                    threads: int) -> None:
    # no kernel and no start: branch and bound from the root with an incumbent of nothing;
    # with lazy cover rows the LPs start without any cover row; two threads solve two node
    # LPs at once, in two HiGHS instances that must keep the same rows and columns
    data = _instance(seed)
    carry_over = bool(seed % 2)
    prob = _prepare(**data, carry_over=carry_over, locked=(), forbidden=())
    model = _Model.build(prob)
    brute = brute_force_programme(**data, carry_over=carry_over)
    if model.parts.n_x == 0:
        pytest.skip("no option left after the reductions")
    lp = NodeLp(model.parts, model.reach.ravel(), _knapsacks(prob, model.opts, bands=True),
                n_lazy=len(model.z_class) if lazy else 0)
    root = lp.root()
    assert root is not None
    base = _value(prob, [])
    assert base + root.bound >= brute.objective - 1e-6

    found = lp.search(root, 0.0, _whole_builds_only(prob, model, base), None, threads=threads)
    assert found.status == "optimal"
    assert base + found.bound == pytest.approx(brute.objective, rel=1e-9, abs=1e-9)
    assert len(lp.workers) == threads
    for w in lp.workers:  # every instance holds the same LP
        assert w.h.getNumRow() == lp.h.getNumRow() and w.h.getNumCol() == lp.h.getNumCol()


def _branching(seed: int) -> dict[str, Any]:
    """14 sites x 2 tower types, 80 units, 2 channels, 3 years: 40-350 nodes to the proof
    with the whole-builds rounding (:func:`_whole_builds_only`)."""
    return programme_data(np.random.default_rng(seed), 14, 80, 3, reach=0.08, opex=False,
                          served=0.05, budget=(2.0, 5.0))


def _searched(data: dict[str, Any], threads: int, carry_over: bool,
              deadline: float | None = None) -> tuple[Any, float]:
    prob = _prepare(**data, carry_over=carry_over, locked=(), forbidden=())
    model = _Model.build(prob)
    lp = NodeLp(model.parts, model.reach.ravel(), _knapsacks(prob, model.opts, bands=True),
                n_lazy=len(model.z_class))
    root = lp.root()
    assert root is not None
    base = _value(prob, [])
    if deadline is not None:
        deadline = time.perf_counter() + deadline
    return lp.search(root, 0.0, _whole_builds_only(prob, model, base), deadline,
                     threads=threads), base


@pytest.mark.parametrize("seed", range(4))
def test_two_threads_take_the_same_steps_every_time(seed: int) -> None:
    # the results of a batch are taken in a fixed order, whatever the threads' timing: the
    # same nodes and the same plan in every run; the optimum of the search in one thread
    data = _branching(seed)
    runs = [_searched(data, 2, True)[0] for _ in range(3)]
    assert runs[0].nodes >= 40
    assert {(r.nodes, r.gain, repr(r.plan)) for r in runs} == {
        (runs[0].nodes, runs[0].gain, repr(runs[0].plan))}
    one = _searched(data, 1, True)[0]
    assert one.status == runs[0].status == "optimal"
    assert runs[0].gain == pytest.approx(one.gain, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("seed", range(0, 60, 3))
def test_a_search_stopped_by_its_deadline_bounds_every_programme(seed: int,
                                                                  threads: int) -> None:
    # stopped at once (the open nodes, the plunge's child among them, give the bound) or
    # while an LP runs: the bound it returns is never below the brute-force optimum
    data = _instance(seed)
    brute = brute_force_programme(**data, carry_over=bool(seed % 2))
    for limit_s in (0.0, 0.002):
        found, base = _searched(data, threads, bool(seed % 2), limit_s)
        assert found.status in {"optimal", "time_limit"}
        assert base + found.bound >= brute.objective - 1e-6 * max(1.0, brute.objective)
        assert base + found.gain <= brute.objective + 1e-6 * max(1.0, brute.objective)


@pytest.mark.parametrize("seed", range(0, 110, 5))
def test_lazy_cover_rows_leave_the_lp_optimum_unchanged(seed: int) -> None:
    # the LP without cover rows, rows joining when an X sum exceeds 1, ends at the optimum
    # of the LP with every row, and every z it left out has its X sum at most 1
    data = _instance(seed)
    prob = _prepare(**data, carry_over=bool(seed % 2), locked=(), forbidden=())
    model = _Model.build(prob)
    if model.parts.n_x == 0 or not len(model.z_class):
        pytest.skip("no cover row after the reductions")
    knapsacks = _knapsacks(prob, model.opts, bands=True)
    full = NodeLp(model.parts, model.reach.ravel(), knapsacks).root(rounds=0)
    lp = NodeLp(model.parts, model.reach.ravel(), knapsacks, n_lazy=len(model.z_class))
    lazy = lp.root(rounds=0)
    assert full is not None and lazy is not None and full.x is not None and lazy.x is not None
    assert lazy.bound == pytest.approx(full.bound, rel=1e-7, abs=1e-6)
    n_x = model.parts.n_x
    total = lp.lazy_x @ lazy.x[:n_x]
    assert np.all(total[~lp.lazy_in] <= 1 + 1e-6)
    gain = -(model.parts.cost[:n_x] @ lazy.x[:n_x]) + float(
        lp.lazy_gain @ np.minimum(total, 1.0))
    assert gain == pytest.approx(full.bound, rel=1e-6, abs=1e-6)


def test_a_lazy_cover_row_joins_when_two_builds_cover_its_class() -> None:
    # two X columns cover one z of gain 10 each alone; both fit: the linear stand-in would
    # count 20, the row caps it at 10, and the LP must bring the row in
    matrix = sp.csc_matrix(np.array([[-1.0, -1.0, 1.0]]))
    parts = LpParts(matrix, np.array([0.0, 0.0, -10.0]), np.array([-np.inf]), np.zeros(1), 2)
    lp = NodeLp(parts, np.ones(2), [], n_lazy=1)
    assert lp.h.getNumRow() == 0
    root = lp.root()
    assert root is not None
    assert root.bound == pytest.approx(10.0)
    assert lp.lazy_in.tolist() == [True]
    assert lp.h.getNumRow() == 1


@pytest.mark.parametrize("seed", range(110))
def test_fixing_against_an_incumbent_just_below_the_optimum_keeps_the_optimum(
        seed: int) -> None:
    # the search starts with an incumbent a hair below the brute-force optimum, so reduced-
    # cost fixing of columns and counts (at every node, with the root's and the parent's
    # multipliers) is as sharp as it gets; it must still reach a programme of the optimum
    data = _instance(seed)
    carry_over = bool(seed % 2)
    prob = _prepare(**data, carry_over=carry_over, locked=(), forbidden=())
    model = _Model.build(prob)
    brute = brute_force_programme(**data, carry_over=carry_over)
    base = _value(prob, [])
    if model.parts.n_x == 0 or brute.objective - base <= 1e-9:
        pytest.skip("nothing to build")
    lp = NodeLp(model.parts, model.reach.ravel(), _knapsacks(prob, model.opts, bands=True),
                n_lazy=len(model.z_class))
    root = lp.root()
    assert root is not None

    below = brute.objective - base - 1e-6 * max(1.0, brute.objective)
    found = lp.search(root, below, _whole_builds_only(prob, model, base), None)
    assert found.status == "optimal"
    assert found.plan is not None
    assert _value(prob, found.plan) == pytest.approx(brute.objective, rel=1e-9, abs=1e-9)


def test_tighten_fixes_columns_and_counts_by_their_multipliers() -> None:
    # bound 10 with the incumbent at 7: room 3. Column 0 (reduced cost 4, at 0) stays 0,
    # column 1 (-5, at 1) stays 1, column 2 (2) stays free; count 0, priced at its upper
    # bound 5 by -1.6, must exceed 5 - 3 / 1.6 = 3.125: at least 4; count 1, priced at its lower
    # bound 0 by 0.7, stays below 0 + 3 / 0.7 = 4.29: at most 4
    lo, up = np.zeros(3, np.int8), np.ones(3, np.int8)
    duals = Duals(10.0, np.array([4.0, -5.0, 2.0]), lo, up, np.array([-1.6, 0.7]),
                  np.array([0.0, 0.0]), np.array([5.0, 9.0]))
    node = Node(lo, up, np.array([0.0, 0.0]), np.array([5.0, 9.0]), 10.0)
    out = tighten(node, duals, 7.0)
    assert out.lo.tolist() == [0, 1, 0] and out.up.tolist() == [0, 1, 1]
    assert out.count_lo.tolist() == [4.0, 0.0]
    assert out.count_hi.tolist() == [5.0, 4.0]
    assert tighten(node, duals, 10.0) is node  # no room: nothing to fix (the node goes)
