"""Backhaul hops, graph, per-site Dijkstra and the joint site-and-backhaul MILP."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from affine import Affine
from pyproj import Transformer

from towerplan.analysis.backhaul import (
    MICROWAVE,
    POP,
    SITE,
    VSAT,
    HopParams,
    HopTable,
    Nodes,
    backhaul_arcs,
    backhaul_graph,
    check_hops,
    hop_margin_db,
    site_paths,
    worst_clearance_ratio,
)
from towerplan.analysis.backhaul_joint import joint_selection
from towerplan.analysis.backhaul_plan import candidate_pairs
from towerplan.analysis.selection import select_sites
from towerplan.errors import InfeasibleSelectionError
from towerplan.radio.profile import line_of_sight, terrain_profile
from towerplan.scenario import BackhaulCosts

CELL_M = 90.0
COSTS = BackhaulCosts(microwave_pair_idr=3.5e8, relay_idr=1e8, fibre_idr_per_km=1.5e8,
                      fibre_max_km=0.0)
VSAT_IDR = 1.05e9


def ridge_dem(top_m: float = 150.0, rows: int = 40, cols: int = 140) -> tuple[np.ndarray, Affine]:
    """100 m plain with a north-south ridge (Gaussian, sigma 300 m) at x = 6.3 km."""
    x = (np.arange(cols) + 0.5) * CELL_M
    z = 100.0 + (top_m - 100.0) * np.exp(-((x - 6300.0) ** 2) / (2 * 300.0 ** 2))
    return np.tile(z, (rows, 1)), Affine(CELL_M, 0.0, 0.0, 0.0, -CELL_M, rows * CELL_M)


def _nodes(site_antenna_m: float, pop_antenna_m: float = 30.0) -> Nodes:
    y = 20 * CELL_M
    return Nodes.concat((["POP1"], POP, [[1000.0, y]], pop_antenna_m),
                        (["S1"], SITE, [[11_500.0, y]], site_antenna_m))


def test_fast_clearance_equals_line_of_sight_per_profile() -> None:
    rng = np.random.default_rng(4)
    counts = rng.integers(2, 60, 25)
    steps = rng.uniform(30.0, 200.0, 25)
    heights = [rng.normal(100.0, 40.0, n) for n in counts]
    h_tx, h_rx = rng.uniform(10, 60, 25), rng.uniform(10, 60, 25)
    fast = worst_clearance_ratio(np.concatenate(heights), counts, (counts - 1) * steps,
                                 h_tx, h_rx, 13_000.0, 4.0 / 3.0)
    slow = [line_of_sight(z, s, a, b, 13_000.0).worst_ratio
            for z, s, a, b in zip(heights, steps, h_tx, h_rx, strict=True)]
    np.testing.assert_allclose(fast, slow, rtol=1e-9)
    assert fast[counts == 2].tolist() == [math.inf] * int((counts == 2).sum())


def test_batch_hop_matches_the_geodesic_profile_reference() -> None:
    crs = "EPSG:32750"
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True)
    z, _ = ridge_dem(140.0)
    transform = Affine(CELL_M, 0.0, 400_000.0, 0.0, -CELL_M, 9_810_000.0)
    nodes = Nodes.concat((["P"], POP, [[401_000.0, 9_808_200.0]], 30.0),
                         (["S"], SITE, [[411_500.0, 9_808_200.0]], 40.0))
    hop = check_hops(z, transform, nodes, np.array([[0, 1]]), HopParams())
    start, end = to_ll.transform(*nodes.xy[0]), to_ll.transform(*nodes.xy[1])
    prof = terrain_profile(z, transform, crs, start, end)
    ref = line_of_sight(prof.heights_m, prof.step_m, 30.0, 40.0, 7000.0)
    assert hop.clearance_ratio[0] == pytest.approx(ref.worst_ratio, abs=0.03)


def test_ridge_blocks_the_hop_until_the_mast_is_taller() -> None:
    z, transform = ridge_dem(150.0)
    params = HopParams()
    low = check_hops(z, transform, _nodes(40.0), np.array([[0, 1]]), params)
    assert not low.feasible[0] and low.reason[0] == "no line of sight"
    assert low.clearance_ratio[0] < 0 and low.margin_db[0] > 0  # the budget is not the issue
    tall = check_hops(z, transform, _nodes(90.0, 90.0), np.array([[0, 1]]), params)
    assert tall.feasible[0] and tall.reason[0] == "ok"
    assert tall.clearance_ratio[0] >= params.min_clearance
    # in between, the ray clears the ridge but not 60 % of the first Fresnel zone
    grazing = check_hops(z, transform, _nodes(56.0, 56.0), np.array([[0, 1]]), params)
    assert 0 <= grazing.clearance_ratio[0] < 0.6 and grazing.reason[0] == "fresnel clearance"


def test_hop_budget_limits_length_and_band() -> None:
    d = np.array([5e3, 10e3, 20e3, 50e3])
    m7 = hop_margin_db(d, HopParams(freq_ghz=7.0))
    m13 = hop_margin_db(d, HopParams(freq_ghz=13.0, antenna_gain_dbi=41.7))
    assert np.all(np.diff(m7) < 0) and np.all(np.diff(m13) < 0)
    assert m7[-1] > 0  # 50 km at 7 GHz with 1.2 m dishes holds 99.99 % at 100 mm/h
    assert m13[1] > 0 > m13[2]  # at 13 GHz rain limits hops to 10-20 km
    z, transform = ridge_dem(100.0, cols=700)  # flat
    far = Nodes.concat((["P"], POP, [[500.0, 900.0]], 30.0),
                       (["S"], SITE, [[500.0 + 30_000.0, 900.0]], 40.0))
    hop = check_hops(z, transform, far, np.array([[0, 1]]), HopParams(freq_ghz=13.0))
    assert hop.reason[0] == "rain margin" and math.isnan(hop.clearance_ratio[0])


def _table(pairs: list[tuple[int, int]], feasible: list[bool], nodes: Nodes) -> HopTable:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    ok = np.array(feasible)
    return HopTable(a, b, np.hypot(*(nodes.xy[b] - nodes.xy[a]).T), np.where(ok, 1.0, -0.5),
                    np.full(len(a), 10.0), ok,
                    np.where(ok, "ok", "no line of sight").astype(object))


def _chain() -> tuple[Nodes, HopTable]:
    """PoP P, existing tower T, sites A, B, C in a row; P-A, T-A, A-B feasible, P-B not; C has
    no feasible hop."""
    nodes = Nodes.concat((["P"], POP, [[0.0, 0.0]], 30.0), (["T"], "existing", [[8e3, 1e3]], 40.0),
                         (["A", "B", "C"], SITE, [[10e3, 0], [20e3, 0], [40e3, 0]], 40.0))
    hops = _table([(0, 1), (0, 2), (1, 2), (2, 3), (0, 3), (3, 4)],
                  [True, False, True, True, False, False], nodes)
    return nodes, hops


def test_arcs_point_away_from_pops_and_sites_only_relay_in_the_joint_graph() -> None:
    nodes, hops = _chain()
    own = backhaul_arcs(nodes, hops, COSTS, relay_sites=False)
    assert POP not in set(nodes.kind[own.head])
    assert SITE not in set(nodes.kind[own.tail])
    joint = backhaul_arcs(nodes, hops, COSTS, relay_sites=True)
    pairs = set(zip(nodes.ids[joint.tail], nodes.ids[joint.head], strict=True))
    assert {("A", "B"), ("B", "A"), ("P", "T"), ("T", "A")} <= pairs
    cost = dict(zip(zip(nodes.ids[joint.tail], nodes.ids[joint.head], strict=True),
                    joint.cost_idr, strict=True))
    assert cost["P", "T"] == 3.5e8 and cost["T", "A"] == 4.5e8 and cost["A", "B"] == 4.5e8
    graph = backhaul_graph(nodes, joint)
    assert graph.number_of_edges() == len(joint) and graph.nodes[0]["kind"] == POP


def test_dijkstra_path_cost_is_the_sum_of_its_edges_and_vsat_is_the_fallback() -> None:
    nodes, hops = _chain()
    arcs = backhaul_arcs(nodes, hops, COSTS, relay_sites=False)
    paths = site_paths(nodes, arcs, hops, VSAT_IDR)
    a = 2  # A: P -> T -> A, two hops (P-A itself is blocked)
    assert paths.technology[a] == MICROWAVE and paths.hops[a] == 2
    assert paths.cost_idr[a] == pytest.approx(sum(arcs.cost_idr[k] for k in paths.path[a]))
    assert paths.cost_idr[a] == pytest.approx(3.5e8 + 4.5e8)
    assert [nodes.ids[arcs.head[k]] for k in paths.path[a]] == ["A", "T"]  # site side first
    assert paths.worst_clearance[a] == 1.0
    for v in (3, 4):  # B (no relay through A per site) and C: VSAT
        assert paths.technology[v] == VSAT and paths.cost_idr[v] == VSAT_IDR
        assert paths.path[v] == () and paths.hops[v] == 0


def test_fibre_near_a_pop_when_cheaper() -> None:
    nodes = Nodes.concat((["P"], POP, [[0.0, 0.0]], 30.0), (["S"], SITE, [[1500.0, 0.0]], 40.0))
    hops = _table([(0, 1)], [True], nodes)
    costs = BackhaulCosts(microwave_pair_idr=3.5e8, relay_idr=1e8, fibre_idr_per_km=1.5e8,
                          fibre_max_km=2.0)
    arcs = backhaul_arcs(nodes, hops, costs, relay_sites=False)
    assert len(arcs) == 1 and arcs.technology[0] == "fibre"  # 1.5 km x 150 M < 350 M
    paths = site_paths(nodes, arcs, hops, VSAT_IDR)
    assert paths.technology[1] == "fibre" and paths.cost_idr[1] == pytest.approx(2.25e8)
    assert math.isnan(paths.worst_clearance[1])


def _joint(budget: float, **kwargs: object) -> tuple[object, ...]:
    nodes, hops = _chain()
    arcs = backhaul_arcs(nodes, hops, COSTS, relay_sites=True)
    cover = sp.csr_matrix(np.eye(3, dtype=bool))  # A, B, C each cover one unit of 10
    weights = np.array([10.0, 10.0, 10.0])
    base = np.array([1.0e9, 1.0e9, 1.0e9])
    result = joint_selection(cover, weights, np.zeros(3, bool), base, budget, nodes,
                             np.array([2, 3, 4]), arcs, VSAT_IDR, **kwargs)  # type: ignore[arg-type]
    own = site_paths(nodes, backhaul_arcs(nodes, hops, COSTS, relay_sites=False), hops, VSAT_IDR)
    per_site = select_sites(cover, weights, base + own.cost_idr[2:], budget, method="milp")
    return result, per_site, arcs, nodes


def test_joint_model_beats_per_site_costs_through_a_relay() -> None:
    # per site: A 1.8 bn (via T), B 2.05 bn (VSAT) = 3.85 bn; jointly B relays through A for
    # 0.45 bn: 1.8 + 1.45 = 3.25 bn.
    joint, per_site, arcs, nodes = _joint(3.5e9)
    assert per_site.objective == 10.0 and len(per_site.sites) == 1  # A and B together: 3.85
    assert joint.sites == (0, 1) and joint.objective == 20.0
    assert joint.cost_idr == pytest.approx(3.25e9) and joint.vsat == ()
    assert [nodes.ids[arcs.head[k]] for k in joint.path[1]] == ["B", "A", "T"]
    # the shared hops into A and T are split between A and B; B pays its own hop in full
    assert joint.backhaul_idr.sum() == pytest.approx(0.35e9 + 0.45e9 + 0.45e9)
    assert joint.backhaul_idr[1] == pytest.approx(0.45e9 + 0.8e9 / 2)
    # same coverage as per site at a budget both reach: the joint plan is cheaper
    joint_all, per_site_all, *_ = _joint(10e9)
    assert joint_all.objective == per_site_all.objective == 30.0
    assert joint_all.cost_idr < per_site_all.cost
    assert joint_all.vsat == (2,)  # C has no feasible hop at all


def test_joint_model_uses_vsat_when_nothing_else_is_feasible() -> None:
    joint, *_ = _joint(2.2e9, must_include=[2], must_exclude=[0, 1])
    assert joint.sites == (2,) and joint.vsat == (2,)
    assert joint.cost_idr == pytest.approx(1.0e9 + VSAT_IDR) and joint.path[2] == ()


def test_joint_model_honours_minimum_village_shares() -> None:
    # Units 0, 1, 2 lie in villages 0, 0, 1. Free choice at 3.5 bn: A and B (20 people).
    free, *_ = _joint(3.5e9)
    assert free.sites == (0, 1)
    village = np.array([0, 0, 1])
    # Village 1 must be fully covered: C (1.0 bn + VSAT 1.05 bn) leaves 1.45 bn, less than
    # A (1.0 bn + 0.8 bn hop), so C alone; at 3.9 bn C + A (3.85 bn).
    ruled, *_ = _joint(3.5e9, unit_group=village, min_share={1: 1.0})
    assert ruled.sites == (2,) and ruled.objective == 10.0
    assert ruled.cost_idr == pytest.approx(2.05e9)
    more, *_ = _joint(3.9e9, unit_group=village, min_share={1: 1.0})
    assert more.sites == (0, 2) and more.objective == 20.0
    assert more.cost_idr == pytest.approx(3.85e9)
    # already covered demand counts towards the share: nothing forces C then
    nodes, hops = _chain()
    arcs = backhaul_arcs(nodes, hops, COSTS, relay_sites=True)
    done = joint_selection(sp.csr_matrix(np.eye(3, dtype=bool)), np.full(3, 10.0),
                           np.array([False, False, True]), np.full(3, 1.0e9), 3.5e9, nodes,
                           np.array([2, 3, 4]), arcs, VSAT_IDR, unit_group=village,
                           min_share={1: 1.0})
    assert done.sites == (0, 1)
    # both villages in full cannot be afforded at 2.2 bn: refused, not half-met
    with pytest.raises(InfeasibleSelectionError):
        _joint(2.2e9, unit_group=village, min_share={0: 1.0, 1: 1.0})


def test_candidate_pairs_respect_kinds_and_distance() -> None:
    nodes = Nodes.concat((["P"], POP, [[0.0, 0.0]], 30.0),
                         (["S1", "S2", "S3"], SITE, [[1e3, 0], [2e3, 0], [60e3, 0]], 40.0))
    assert candidate_pairs(nodes, 50e3, kinds=(POP, SITE)).tolist() == [[0, 1], [0, 2]]
    assert candidate_pairs(nodes, 50e3, kinds=(SITE, SITE)).tolist() == [[1, 2]]
    assert len(candidate_pairs(nodes, 50e3, kinds=(POP, "existing"))) == 0



def test_chunked_clearance_equals_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import towerplan.analysis.backhaul as bh

    rng = np.random.default_rng(9)
    z = rng.normal(120.0, 30.0, (60, 200))
    transform = Affine(CELL_M, 0.0, 0.0, 0.0, -CELL_M, 60 * CELL_M)
    n = 40
    xy = np.column_stack([rng.uniform(100, 17_900, 2 * n), rng.uniform(100, 5_300, 2 * n)])
    nodes = Nodes.concat(([f"P{i}" for i in range(n)], POP, xy[:n], 30.0),
                         ([f"S{i}" for i in range(n)], SITE, xy[n:], 40.0))
    pairs = np.column_stack([np.arange(n), n + np.arange(n)])
    whole = check_hops(z, transform, nodes, pairs, HopParams())
    monkeypatch.setattr(bh, "_CHUNK_SAMPLES", 97)
    chunked = check_hops(z, transform, nodes, pairs, HopParams())
    np.testing.assert_array_equal(chunked.clearance_ratio, whole.clearance_ratio)
    assert np.isfinite(whole.clearance_ratio).all()
