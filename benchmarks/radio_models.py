"""Timing of the radio kernels: ``python benchmarks/radio_models.py``.

Array kernels are timed on 10,000 elements (best of several runs; target < 5 ms each).
Diffraction is timed over 1,000 profiles of 700 points with the numba batch, after a warm-up
call that compiles or loads the kernel (best of several runs; target < 1 s per method), and
compared with a Python loop of the scalar numpy reference on a subset of the profiles.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from timing import best_of

from towerplan.radio.clutter import clutter_loss_db
from towerplan.radio.diffraction import diffraction_db, diffraction_many_db, knife_edge_db
from towerplan.radio.models import fspl_db, hata_db, rma_db

N_ELEMENTS = 10_000
N_PROFILES, N_POINTS, STEP_M = 1_000, 700, 30.0
SCALAR_SUBSET = 100
ARRAY_TARGET_MS = 5.0
BATCH_TARGET_S = 1.0
METHODS = ("deygout", "bullington", "epstein-peterson")


def terrain(rng: np.random.Generator) -> np.ndarray:
    """Hilly profiles: a random walk plus ridges, 1,000 x 700 points at 30 m (21 km)."""
    walk = np.cumsum(rng.normal(0.0, 4.0, (N_PROFILES, N_POINTS)), axis=1)
    x = np.arange(N_POINTS)
    ridges = np.zeros((N_PROFILES, N_POINTS))
    for _ in range(3):
        centre = rng.uniform(50, N_POINTS - 50, (N_PROFILES, 1))
        height = rng.uniform(20.0, 150.0, (N_PROFILES, 1))
        ridges += height * np.exp(-((x - centre) ** 2) / (2 * 15.0**2))
    return 50.0 + walk + ridges


def scalar_loop(heights: np.ndarray, method: str) -> list[float]:
    """Loss of each row by the scalar numpy reference."""
    return [diffraction_db(row, STEP_M, 42.0, 1.5, 900.0, method) for row in heights]


def batch(heights: np.ndarray, method: str) -> np.ndarray:
    """Loss of every row by the numba batch kernel."""
    return diffraction_many_db(heights, None, STEP_M, 42.0, 1.5, 900.0, method)


def numba_description() -> str:
    """Numba version and threading layer, after a parallel kernel has run."""
    try:
        import numba
    except ImportError:
        return "numba not installed: plain Python kernel"
    return (f"numba {numba.__version__} (threading layer {numba.threading_layer()}, "
            f"{numba.get_num_threads()} threads)")


def main() -> None:
    """Run the benchmark and print the tables."""
    rng = np.random.default_rng(2024)
    d_km = rng.uniform(1.0, 20.0, N_ELEMENTS)
    d_m = rng.uniform(10.0, 5000.0, N_ELEMENTS)
    los = rng.random(N_ELEMENTS) < 0.5
    nu = rng.uniform(-3.0, 10.0, N_ELEMENTS)
    depth = rng.uniform(0.0, 600.0, N_ELEMENTS)

    array_cases: list[tuple[str, Callable[[], object]]] = [
        ("fspl_db", lambda: fspl_db(d_km, 900.0)),
        ("hata_db", lambda: hata_db(d_km, 900.0, 42.0, 1.5, "suburban")),
        ("rma_db", lambda: rma_db(d_m, 0.9, 42.0, 1.5, los)),
        ("knife_edge_db", lambda: knife_edge_db(nu)),
        ("clutter_loss_db (weissberger)", lambda: clutter_loss_db(depth, 900.0)),
        ("clutter_loss_db (p833)", lambda: clutter_loss_db(depth, 900.0, model="p833")),
    ]
    rows: list[tuple[str, str, str, bool]] = []
    for name, fn in array_cases:
        ms = best_of(fn, 50) * 1e3
        rows.append((f"{name} [{N_ELEMENTS:,} elements]", f"{ms:.3f} ms",
                     f"< {ARRAY_TARGET_MS:g} ms", ms < ARRAY_TARGET_MS))

    heights = terrain(rng)
    ratios: list[tuple[str, float, float, float]] = []
    for method in METHODS:
        t0 = time.perf_counter()
        batch(heights[:2], method)
        warm = time.perf_counter() - t0
        s = best_of(partial(batch, heights, method), 5)
        rows.append((f"diffraction_many_db {method} [{N_PROFILES:,} x {N_POINTS}]",
                     f"{s:.4f} s (warm-up {warm:.2f} s)", f"< {BATCH_TARGET_S:g} s",
                     s < BATCH_TARGET_S))
        subset = heights[:SCALAR_SUBSET]
        loop_s = best_of(partial(scalar_loop, subset, method), 3)
        batch_s = best_of(partial(batch, subset, method), 5)
        ratios.append((method, loop_s, batch_s, loop_s / batch_s))

    numba_text = numba_description()
    print(f"towerplan radio benchmark - Python {platform.python_version()}, numpy "
          f"{np.__version__}, {os.cpu_count()} CPUs")
    print(numba_text)
    print()
    width = max(len(r[0]) for r in rows)
    print(f"{'kernel':<{width}}  {'best time':<28} {'target':<9} result")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:<28} {target:<9} {'PASS' if ok else 'FAIL'}")
    print()
    print(f"numba batch vs Python loop of diffraction_db, {SCALAR_SUBSET} profiles "
          f"of {N_POINTS} points:")
    print(f"{'method':<18} {'scalar loop':>12} {'batch':>10} {'speed-up':>9}")
    for method, loop_s, batch_s, ratio in ratios:
        print(f"{method:<18} {loop_s * 1e3:>9.2f} ms {batch_s * 1e3:>7.3f} ms {ratio:>8.1f}x")


if __name__ == "__main__":
    main()
