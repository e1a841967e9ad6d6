"""Selection benchmark: MILP vs greedy on 1,000 sites x 50,000 demand units, and a budget sweep.

Run as ``python benchmarks/selection.py``. Targets: MILP proven optimal (gap 0) in <= 10 s at
Rp 8.5 bn; the 20-point sweep (MILP + greedy per point) in <= 30 s.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from timing import best_of

from towerplan.analysis.selection import select_sites

N_SITES = 1_000
N_UNITS = 50_000
TOWER_IDR = 1.7e9
BUDGET_IDR = 8.5e9
SWEEP_IDR = np.linspace(1.7e9, 34e9, 20)


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


def main() -> None:
    t0 = time.perf_counter()
    a, w, c = instance()
    print(f"instance: {N_SITES} sites x {N_UNITS} units, {a.nnz:,} coverage pairs, "
          f"costs Rp {c.min() / 1e9:.2f}-{c.max() / 1e9:.2f} bn "
          f"(built in {time.perf_counter() - t0:.1f} s)")

    exact = select_sites(a, w, c, BUDGET_IDR, method="milp")
    t_milp = best_of(lambda: select_sites(a, w, c, BUDGET_IDR, method="milp"), 3)
    greedy = select_sites(a, w, c, BUDGET_IDR, method="greedy")
    t_greedy = best_of(lambda: select_sites(a, w, c, BUDGET_IDR, method="greedy"), 3)
    shortfall = 100 * (exact.objective - greedy.objective) / exact.objective
    print(f"budget Rp {BUDGET_IDR / 1e9:.1f} bn: MILP {t_milp:.2f} s, gap {exact.gap:.2g}, "
          f"{len(exact.sites)} sites, objective {exact.objective:,.0f} ({exact.status})")
    print(f"  greedy {t_greedy:.2f} s, objective {greedy.objective:,.0f}, "
          f"shortfall {shortfall:.2f} % vs optimum")

    print(f"\n{'budget bn':>9} {'sites':>5} {'milp':>12} {'gap':>7} {'milp s':>7} "
          f"{'greedy':>12} {'short %':>7} {'greedy s':>8}")
    t_sweep = time.perf_counter()
    for budget in SWEEP_IDR:
        t1 = time.perf_counter()
        ex = select_sites(a, w, c, budget, method="milp")
        t2 = time.perf_counter()
        gr = select_sites(a, w, c, budget, method="greedy")
        t3 = time.perf_counter()
        short = 100 * (ex.objective - gr.objective) / ex.objective if ex.objective else 0.0
        print(f"{budget / 1e9:9.2f} {len(ex.sites):5d} {ex.objective:12,.0f} {ex.gap:7.1g} "
              f"{t2 - t1:7.2f} {gr.objective:12,.0f} {short:7.2f} {t3 - t2:8.2f}")
    print(f"sweep total {time.perf_counter() - t_sweep:.1f} s")


if __name__ == "__main__":
    main()
