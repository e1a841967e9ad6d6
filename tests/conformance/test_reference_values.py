"""Reference values from DESIGN.md section 4 (public standards and a known covering trap)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.analysis.selection import select_sites
from towerplan.radio import fspl_db, hata_db


def test_fspl_p525_one_km_ten_ghz() -> None:
    assert fspl_db(1.0, 10_000.0) == pytest.approx(112.45, abs=0.01)


@pytest.mark.parametrize(("environment", "expected"), [("urban", 137.88), ("suburban", 128.03)])
def test_okumura_hata_869_mhz(environment: str, expected: float) -> None:
    loss = hata_db(2.0, 869.0, 30.0, 1.0, environment)
    assert loss == pytest.approx(expected, abs=0.05)


def _trap() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    sets = [{1}, {2}, {0, 1}, {2, 3, 4}]
    dense = np.zeros((4, 5), dtype=bool)
    for j, s in enumerate(sets):
        dense[j, list(s)] = True
    return sp.csr_matrix(dense), np.array([3.0, 5, 1, 1, 1]), np.array([1.0, 1, 5, 5])


@pytest.mark.parametrize("method", ["milp", "bruteforce"])
def test_budgeted_coverage_trap_exact(method: str) -> None:
    a, w, c = _trap()
    res = select_sites(a, w, c, 10.0, method=method)
    assert res.objective == 11.0
    assert res.sites == (2, 3)
    assert res.gap == pytest.approx(0.0, abs=1e-9)


def test_budgeted_coverage_trap_greedy_stops_at_nine() -> None:
    a, w, c = _trap()
    assert select_sites(a, w, c, 10.0, method="greedy").objective == 9.0
