"""ITM area coverage speed and fast-mode error: ``python benchmarks/itm_area_speed.py``.

On the seeded 30 m relief of ``coverage_vs_viewshed.py`` (2,400 x 2,400 cells, 0-1,200 m),
one site 42 m above the centre cell, 1.5 m receiver, 900 MHz, :class:`ItmSettings` defaults:

- fast mode of :func:`towerplan.coverage.itm_area.itm_area` over a 20 km radius (~1.4 M cells),
  warm (after a call that compiles or loads the numba kernels), best of 3;
- exact mode over a smaller radius (ITM on each cell's own profile), best of 3;
- the share of cells of that window where fast mode is within 1 dB of exact mode.

The product target is at least 50 times faster than SPLAT! (10-14 s for the same area), that
is about 0.25 s for the fast mode; the target for the fast mode's error is 95 % of cells
within 1 dB.
"""

from __future__ import annotations

import platform

import numpy as np
from affine import Affine
from coverage_vs_viewshed import (
    CELL_M,
    H_RX_M,
    H_TX_M,
    N_CELLS,
    RADIUS_M,
    SEED,
    numba_description,
    relief_dem,
)
from timing import best_of

from towerplan.coverage.itm_area import ItmArea, itm_area

FREQ_MHZ = 900.0
EXACT_RADIUS_M = 5_000.0
FAST_TARGET_S, SHARE_TARGET = 0.25, 0.95


def main() -> int:
    """Print the timings and the share; 0 when both targets are met."""
    dem = relief_dem(N_CELLS, SEED)
    transform = Affine(CELL_M, 0.0, 0.0, 0.0, -CELL_M, N_CELLS * CELL_M)
    x = y = (N_CELLS // 2 + 0.5) * CELL_M

    def run(mode: str, radius_m: float) -> ItmArea:
        return itm_area(dem, transform, x, y, H_TX_M, H_RX_M, FREQ_MHZ, radius_m=radius_m,
                        mode=mode)  # type: ignore[arg-type]

    fast = run("fast", RADIUS_M)
    print(f"{platform.processor() or platform.machine()}, {numba_description()}")
    cells = int(np.isfinite(fast.loss_db).sum())
    fast_s = best_of(lambda: run("fast", RADIUS_M), 3)
    print(f"fast mode, {RADIUS_M / 1e3:.0f} km radius, {cells:,} cells: {fast_s:.3f} s "
          f"(target {FAST_TARGET_S} s)")
    exact = run("exact", EXACT_RADIUS_M)
    exact_s = best_of(lambda: run("exact", EXACT_RADIUS_M), 3)
    near = run("fast", EXACT_RADIUS_M)
    ok = np.isfinite(exact.loss_db) & np.isfinite(near.loss_db)
    diff = np.abs(exact.loss_db - near.loss_db)[ok]
    share = float((diff <= 1.0).mean())
    print(f"exact mode, {EXACT_RADIUS_M / 1e3:.0f} km radius, {int(ok.sum()):,} cells: "
          f"{exact_s:.3f} s")
    print(f"fast within 1 dB of exact: {share:.1%} (target {SHARE_TARGET:.0%}); median "
          f"{float(np.median(diff)):.2f} dB, 99th percentile {float(np.percentile(diff, 99)):.1f}"
          f" dB; line of sight agrees on {float((exact.los == near.los)[ok].mean()):.1%}")
    return 0 if fast_s <= FAST_TARGET_S and share >= SHARE_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
