"""Selection benchmark: MILP vs greedy on 1,000 sites x 50,000 demand units, and a budget sweep.

Run as ``python benchmarks/selection.py [--extended]``. Targets (issue 6): MILP proven optimal
(gap 0) in <= 10 s at Rp 8.5 bn; a 20-point sweep (exact selection + greedy per point) in
<= 30 s. The sweep spans the range of the ``towerplan sweep --budgets 1.7e9:17e9:...`` example,
Rp 1.7-17 bn (1-9 towers), in 20 even steps. ``--extended`` also sweeps Rp 1.7-34 bn (up to
18 towers), where the LP bound is weaker; it has no target and reports each point's gap.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from timing import best_of

from towerplan.analysis.selection import SelectionModel, select_sites

N_SITES = 1_000
N_UNITS = 50_000
TOWER_IDR = 1.7e9
BUDGET_IDR = 8.5e9
SWEEP_IDR = np.linspace(1.7e9, 17e9, 20)
EXTENDED_IDR = np.linspace(1.7e9, 34e9, 20)
TARGET_MILP_S = 10.0
TARGET_SWEEP_S = 30.0
SWEEP_LIMIT_S = 60.0  # per budget, so a hard point reports its gap instead of running on


def instance(seed: int = 7) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Sites in a 100 x 100 km plane, each covering its 200-3,000 nearest units (a disc).

    Units cluster around 400 settlements; weights are lognormal (people per unit); costs are
    a tower plus an access road growing with the distance to the nearest of 30 road points.
    """
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 100_000, (400, 2))
    which = rng.integers(0, len(centres), N_UNITS)
    units = centres[which] + rng.normal(0, 2_500, (N_UNITS, 2))
    sites = rng.uniform(0, 100_000, (N_SITES, 2))
    k = rng.integers(200, 3_001, N_SITES)
    _, nearest = cKDTree(units).query(sites, k=int(k.max()))
    rows = np.repeat(np.arange(N_SITES), k)
    cols = np.concatenate([nearest[j, :k[j]] for j in range(N_SITES)])
    coverage = sp.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(N_SITES, N_UNITS))
    weights = np.round(rng.lognormal(mean=2.0, sigma=1.2, size=N_UNITS))
    roads = rng.uniform(0, 100_000, (30, 2))
    road_m, _ = cKDTree(roads).query(sites)
    costs = TOWER_IDR + 0.05e9 * road_m / 1_000 * rng.uniform(0.5, 1.5, N_SITES)
    return coverage, weights, costs


def _verdict(seconds: float, target: float, exact: bool) -> str:
    return "PASS" if exact and seconds <= target else "FAIL"


def main() -> None:
    t0 = time.perf_counter()
    a, w, c = instance()
    print(f"instance: {N_SITES} sites x {N_UNITS} units, {a.nnz:,} coverage pairs, "
          f"costs Rp {c.min() / 1e9:.2f}-{c.max() / 1e9:.2f} bn "
          f"(built in {time.perf_counter() - t0:.1f} s)")
    model = SelectionModel(a, w, c)
    core = model.core
    print(f"reduced model: {core.n_sites} sites (dominated dropped), {core.a.shape[1]:,} demand "
          f"classes, {core.a.nnz:,} pairs (prepared in {model.prepare_s:.2f} s)")

    exact = select_sites(a, w, c, BUDGET_IDR, method="milp")
    t_milp = best_of(lambda: select_sites(a, w, c, BUDGET_IDR, method="milp"), 3)
    greedy = select_sites(a, w, c, BUDGET_IDR, method="greedy")
    t_greedy = best_of(lambda: select_sites(a, w, c, BUDGET_IDR, method="greedy"), 3)
    shortfall = 100 * (exact.objective - greedy.objective) / exact.objective
    assert exact.gap is not None
    print(f"budget Rp {BUDGET_IDR / 1e9:.1f} bn: MILP {t_milp:.2f} s, gap {exact.gap:.2g}, "
          f"{len(exact.sites)} sites, objective {exact.objective:,.0f} ({exact.status})")
    print(f"  greedy {t_greedy:.2f} s, objective {greedy.objective:,.0f}, "
          f"shortfall {shortfall:.2f} % vs optimum")
    milp_ok = exact.gap == 0.0
    print(f"  {_verdict(t_milp, TARGET_MILP_S, milp_ok)}: MILP {t_milp:.2f} s "
          f"(target <= {TARGET_MILP_S:.0f} s, gap 0)")

    total, exact_ok = sweep(a, w, c, SWEEP_IDR)
    print(f"  {_verdict(total, TARGET_SWEEP_S, exact_ok)}: sweep {total:.1f} s "
          f"(target <= {TARGET_SWEEP_S:.0f} s, every point gap 0)")
    if "--extended" in sys.argv[1:]:
        total, exact_ok = sweep(a, w, c, EXTENDED_IDR)
        print(f"  extended sweep (no target): {total:.1f} s, "
              f"{'every point gap 0' if exact_ok else 'some points stopped at the time limit'}")


def sweep(a: sp.csr_matrix, w: np.ndarray, c: np.ndarray, budgets: np.ndarray
          ) -> tuple[float, bool]:
    """Solve *budgets* on one model (select_sites_sweep's loop, written out to print each)."""
    print(f"\nsweep: {len(budgets)} budgets, Rp {budgets[0] / 1e9:.2f}-{budgets[-1] / 1e9:.2f} bn, "
          f"time limit {SWEEP_LIMIT_S:.0f} s per budget")
    print(f"{'budget bn':>9} {'sites':>5} {'milp':>12} {'gap':>7} {'milp s':>7} "
          f"{'greedy':>12} {'short %':>7} {'greedy s':>8}  status")
    t_sweep = time.perf_counter()
    model = SelectionModel(a, w, c)
    results, t_exact = [], time.perf_counter() - t_sweep
    for budget in budgets:
        ex = model.solve(budget, time_limit_s=SWEEP_LIMIT_S)
        t_exact += ex.runtime_s
        results.append(ex)
        gr = select_sites(a, w, c, budget, method="greedy")
        short = 100 * (ex.objective - gr.objective) / ex.objective if ex.objective else 0.0
        assert ex.gap is not None
        print(f"{budget / 1e9:9.2f} {len(ex.sites):5d} {ex.objective:12,.0f} {ex.gap:7.1g} "
              f"{ex.runtime_s:7.2f} {gr.objective:12,.0f} {short:7.2f} {gr.runtime_s:8.2f}"
              f"  {ex.status}", flush=True)
    total = time.perf_counter() - t_sweep
    print(f"sweep total {total:.1f} s (exact {t_exact:.1f} s, greedy {total - t_exact:.1f} s)")
    return total, all(r.gap == 0.0 for r in results)


if __name__ == "__main__":
    main()
