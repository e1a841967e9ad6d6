"""Selection by region under one budget: exact without cross-border coverage, its gap with it."""

from __future__ import annotations

import doctest
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.analysis import selection_regions
from towerplan.analysis.selection import select_sites
from towerplan.analysis.selection_regions import decomposition_gap, select_by_region


def _regions(seed: int, n_regions: int = 3, sites: int = 6, units: int = 12
             ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Regions whose sites cover only their own units (block-diagonal coverage)."""
    rng = np.random.default_rng(seed)
    blocks = [sp.csr_matrix(rng.random((sites, units)) < 0.3) for _ in range(n_regions)]
    a = sp.csr_matrix(sp.block_diag(blocks, format="csr"), dtype=bool)
    w = rng.integers(1, 50, n_regions * units).astype(float)
    c = rng.integers(1, 4, n_regions * sites).astype(float)  # 1-3, on a lattice of 1
    return (a, w, c, np.repeat(np.arange(n_regions), sites),
            np.repeat(np.arange(n_regions), units))


@pytest.mark.parametrize("seed", range(6))
def test_without_cross_border_coverage_the_decomposition_is_the_monolithic_optimum(
        seed: int) -> None:
    a, w, c, site_region, unit_region = _regions(seed)
    for budget in (0.0, 2.0, 5.0, 9.0, 14.0):
        res = select_by_region(a, w, c, budget, site_region, unit_region, step_idr=1.0)
        mono = select_sites(a, w, c, budget, method="milp")
        assert res.objective == pytest.approx(mono.objective, abs=1e-9)
        assert res.cost <= budget + 1e-9
        assert sum(res.budget_by_region.values()) <= budget + 1e-9
        assert sum(res.value_by_region.values()) == pytest.approx(res.objective)


def test_cross_border_value_is_what_the_decomposition_gives_up() -> None:
    """Site 0 (region A) would cover a village of 100 people across the border in B; each
    region's own problem sees only its own units, so the budget of one tower goes to B's
    site 1 (5 people) while the monolithic optimum takes site 0 (101 people)."""
    a = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    w = np.array([1.0, 100.0, 5.0])
    site_region, unit_region = np.array(["A", "B"]), np.array(["A", "B", "B"])
    res = select_by_region(a, w, np.ones(2), 1.0, site_region, unit_region, step_idr=1.0)
    assert res.sites == (1,) and res.objective == 5.0
    assert res.budget_by_region == {"A": 0.0, "B": 1.0}
    gap = decomposition_gap(a, w, np.ones(2), 1.0, site_region, unit_region, step_idr=1.0)
    assert (gap.regional, gap.monolithic) == (5.0, 101.0)
    assert gap.gap == pytest.approx(96.0 / 101.0)
    assert gap.monolithic_gap == 0.0


def test_units_already_covered_add_nothing_and_a_region_stops_at_its_reach() -> None:
    a, w, c, site_region, unit_region = _regions(3)
    covered = np.zeros(a.shape[1], bool)
    covered[::3] = True
    big = float(c.sum())
    res = select_by_region(a, w, c, big, site_region, unit_region, covered, step_idr=1.0)
    reach = np.asarray(a.sum(axis=0)).ravel() > 0
    assert res.objective == pytest.approx(w[reach & ~covered].sum())
    # every region's curve stops once it reaches its whole reachable demand
    assert res.solves < 3 * (int(big) + 1)


@pytest.mark.parametrize("seed", range(4))
def test_costs_off_the_lattice_stay_within_the_budget_and_below_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n_sites, n_units = 14, 40
    a = sp.csr_matrix(rng.random((n_sites, n_units)) < 0.15)
    w = rng.uniform(1, 30, n_units)
    c = rng.uniform(0.7, 2.3, n_sites)
    site_region = rng.integers(0, 3, n_sites)
    unit_region = rng.integers(0, 3, n_units)
    for budget in (1.0, 3.3, 6.1):
        res = select_by_region(a, w, c, budget, site_region, unit_region)
        mono = select_sites(a, w, c, budget, method="milp")
        assert res.cost <= budget + 1e-9
        assert res.objective <= mono.objective + 1e-9
        hit = np.asarray(a[list(res.sites)].sum(axis=0)).ravel() > 0
        assert res.objective == pytest.approx(w[hit].sum())


def test_the_default_lattice_is_half_the_cheapest_site_within_its_limit() -> None:
    c = np.array([1.7e9, 2.1e9])
    assert selection_regions._default_step(c, 8.5e9) == pytest.approx(0.85e9)
    assert selection_regions._default_step(c, 85e9) == pytest.approx(0.85e9)
    assert selection_regions._default_step(c, 1000e9) == pytest.approx(1000e9 / 200)


def test_mismatched_regions_are_refused() -> None:
    a = sp.csr_matrix(np.eye(3, dtype=bool))
    with pytest.raises(ValueError, match="site_region has shape"):
        select_by_region(a, np.ones(3), np.ones(3), 2.0, np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="budget"):
        select_by_region(a, np.ones(3), np.ones(3), float("nan"), np.zeros(3), np.zeros(3))


def test_module_doctests_pass() -> None:
    assert doctest.testmod(selection_regions).failed == 0


# --------------------------------------------------- [selection] method = "milp-by-kabupaten"


def _kabupaten_problem() -> Any:
    """Two kabupaten (64.01: villages 0-1, 64.02: village 2); candidate k1 in 64.01 covers
    a unit of village 2 across the border."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    from towerplan.analysis.problem import CurrentState, SelectionProblem
    from towerplan.coverage.composite import BestServer

    villages = gpd.GeoDataFrame(
        {"code": ["64.01.01.2001", "64.01.02.2002", "64.02.01.2001"],
         "name": ["Satu", "Dua", "Tiga"], "district": ["A", "B", "C"]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(3)], crs="EPSG:32750")
    units = SimpleNamespace(village=np.array([0, 0, 1, 2, 2, -1]),
                            weight=np.array([10.0, 20.0, 30.0, 40.0, 80.0, 5.0]))
    n = len(units.weight)
    before = BestServer(np.full(n, -140.0, np.float32), np.zeros(n, np.int32),
                        np.zeros(n, np.uint16))
    state = CurrentState(data=None, link=SimpleNamespace(threshold_rsrp_dbm=-105.0),
                         terrain=None, villages=villages, units=units, existing=None,
                         before=before, stats=pd.DataFrame({"status": ["blank"] * 3}))
    cover = np.zeros((4, n), dtype=bool)
    cover[0, [0, 1]] = True  # k0 (64.01): 30 people
    cover[1, [2, 4]] = True  # k1 (64.01): 30 in 64.01, 80 across the border in 64.02
    cover[2, [3]] = True  # k2 (64.02): 40 people
    cover[3, [4, 5]] = True  # k3 (64.02): 80 people and 5 outside every village
    candidates = pd.DataFrame({
        "site_id": ["k0", "k1", "k2", "k3"],
        "village_code": ["64.01.01.2001", "64.01.02.2002", "64.02.01.2001",
                         "64.02.01.2001"],
        "district_code": ["A", "B", "C", "C"], "cost_total_idr": [1.7e9] * 4})
    return SelectionProblem(state, candidates, None, sp.csr_matrix(cover))


def test_the_plans_kabupaten_method_decomposes_by_the_village_codes() -> None:
    from towerplan.analysis.selection_plan import select_many
    from towerplan.scenario import Selection

    problem = _kabupaten_problem()
    (exact, greedy), = select_many(Selection(method="milp-by-kabupaten"), problem, [3.4e9],
                                   covered_at_least=0.5)
    # within its own units 64.01 values k0 and k1 at 30 people each (60 for both), 64.02
    # values k3 at 80 and k2 + k3 at 120 (the 5 people outside every village count in no
    # kabupaten): both towers go to 64.02; valued over the whole area, 125 people. One MILP
    # over both takes k1 (its 80 across the border) and k2: 150 people
    assert exact.solver == "milp by kabupaten (HiGHS)" and exact.gap is None
    assert exact.status.startswith("decomposed: exact in each of 2 kabupaten")
    assert "not proven optimal" in exact.status
    assert exact.sites == (2, 3) and exact.objective == 125.0 and exact.cost == 3.4e9
    mono, _ = select_many(Selection(method="milp"), problem, [3.4e9],
                          covered_at_least=0.5)[0]
    assert mono.sites == (1, 2) and mono.objective == 150.0
    assert greedy.solver == "greedy"


def test_kabupaten_codes() -> None:
    assert selection_regions.kabupaten_of(["64.01.01.2001", " 64.09", "99.01.03",
                                           "6401012001", ""]).tolist() == [
        "64.01", "64.09", "99.01", "", ""]


def test_the_kabupaten_method_refuses_rules_it_cannot_keep(tmp_path: Any) -> None:
    from towerplan.errors import ScenarioError
    from towerplan.scenario import Scenario

    def scenario(text: str) -> None:
        path = tmp_path / "s.toml"
        path.write_text(text, encoding="utf-8")
        Scenario.from_toml(path)

    with pytest.raises(ScenarioError, match="cannot be combined with 'selection.must_include'"
                       ", 'selection.max_per_kecamatan'"):
        scenario('[selection]\nmethod = "milp-by-kabupaten"\nmust_include = ["a"]\n'
                 "max_per_kecamatan = 2\n")
    with pytest.raises(ScenarioError, match="'backhaul.model' = 'joint'"):
        scenario('[selection]\nmethod = "milp-by-kabupaten"\n[backhaul]\nmodel = "joint"\n')
    scenario('[selection]\nmethod = "milp-by-kabupaten"\n')


def test_the_budget_the_lattice_leaves_goes_back_to_the_regions() -> None:
    """Two towers of 1.5 on a lattice of 1: sharing gives one region 2 steps and the other
    1 (too little for its tower); the 1.5 left over buys the second tower."""
    a = sp.csr_matrix(np.eye(2, dtype=bool))
    res = select_by_region(a, np.array([10.0, 10.0]), np.array([1.5, 1.5]), 3.0,
                           np.array([0, 1]), np.array([0, 1]), step_idr=1.0)
    assert res.sites == (0, 1) and res.objective == 20.0 and res.cost == 3.0
    assert res.budget_by_region == {0: 1.5, 1: 1.5}
