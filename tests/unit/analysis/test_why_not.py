"""Why a village is still blank: cheapest site, cost per person, extra budget, reason."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.analysis.why_not import REASONS, WHY_NOT_COLUMNS, WhyNotInputs, why_not


def _instance(seed: int):
    rng = np.random.default_rng(seed)
    n_sites, n_units, n_v = 8, 24, 4
    a = sp.csr_matrix(rng.random((n_sites, n_units)) < 0.2)
    w = rng.integers(0, 30, n_units).astype(float)
    village = rng.integers(0, n_v, n_units)
    covered = rng.random(n_units) < 0.1
    cost = rng.choice([1.0, 2.0, 3.0, 5.0], n_sites)
    excluded = rng.random(n_sites) < 0.2
    return a, w, village, covered, cost, excluded, n_v


@pytest.mark.parametrize("seed", range(25))
def test_matches_enumeration(seed: int) -> None:
    a, w, village, covered, cost, excluded, n_v = _instance(seed)
    total = np.bincount(village, weights=w, minlength=n_v)
    blank_below = 0.4
    still = np.bincount(village[covered], weights=w[covered], minlength=n_v) \
        < blank_below * total
    left, yield_min = 1.5, 4.0
    inp = WhyNotInputs(a, w, village, covered, cost, excluded, left, yield_min)
    ids = np.array([f"S{j}" for j in range(a.shape[0])])
    out = why_not(inp, still, total, blank_below, ids)
    assert list(out.columns) == list(WHY_NOT_COLUMNS)
    dense = a.toarray()
    fresh = ~covered & (w > 0)
    for v in range(n_v):
        row = out.iloc[v]
        if not still[v]:
            assert row["why_not_site"] == "" and row["why_not_reason"] == ""
            assert np.isnan(row["why_not_cost_per_person_idr"])
            continue
        gain = dense[:, fresh & (village == v)] @ w[fresh & (village == v)]
        if not (gain > 0).any():
            assert row["why_not_reason"] == "no_candidate" and row["why_not_site"] == ""
            continue
        per_person = np.where(gain > 0, cost / np.maximum(gain, 1e-12), np.inf)
        assert row["why_not_cost_per_person_idr"] == pytest.approx(per_person.min())
        best = int(row["why_not_site"][1:])
        assert per_person[best] == pytest.approx(per_person.min())
        # cheapest set of allowed sites that lifts it (share reaching blank_below)
        need = blank_below * total[v] - w[~fresh & (village == v)].sum()
        usable = [j for j in range(a.shape[0]) if not excluded[j]]
        cheapest = np.inf
        for r in range(1, len(usable) + 1):
            for combo in itertools.combinations(usable, r):
                hit = dense[list(combo)].any(axis=0) & fresh & (village == v)
                if w[hit].sum() >= need - 1e-9:
                    cheapest = min(cheapest, cost[list(combo)].sum())
        expect = cheapest if np.isfinite(cheapest) else cost[best]
        assert row["why_not_extra_budget_idr"] == pytest.approx(max(0.0, expect - left))
        site_yield = (dense[best] & fresh) @ w / cost[best]
        reason = ("excluded" if excluded[best] else
                  "lower_yield" if site_yield < yield_min else "over_budget")
        assert row["why_not_reason"] == reason in REASONS


def test_each_reason() -> None:
    # village 0: units 0-1, village 1: unit 2 (no site reaches it), village 2: unit 3
    a = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]], bool))
    w = np.array([10.0, 10.0, 5.0, 8.0])
    village = np.array([0, 0, 1, 2])
    inp = WhyNotInputs(a, w, village, np.zeros(4, bool), np.array([40.0, 10.0, 4.0]),
                       np.array([False, True, False]), 30.0, 1.5)
    out = why_not(inp, np.ones(3, bool), np.array([20.0, 5.0, 8.0]), 0.9,
                  np.array(["A", "B", "C"]))
    # village 0: B serves 10 for 10 (1 per person) but is excluded; A lifts it for 40
    assert out.loc[0].tolist() == ["B", 1.0, 10.0, "excluded"]
    assert out.loc[1, "why_not_reason"] == "no_candidate"
    # village 2: C serves 8 people for 4 (2 people per rupiah >= 1.5): money ran out
    assert out.loc[2].tolist() == ["C", 0.5, 0.0, "over_budget"]
    low = WhyNotInputs(a, w, village, np.zeros(4, bool), np.array([40.0, 10.0, 4.0]),
                       np.array([False, True, False]), 30.0, 2.5)
    assert why_not(low, np.ones(3, bool), np.array([20.0, 5.0, 8.0]), 0.9,
                   np.array(["A", "B", "C"])).loc[2, "why_not_reason"] == "lower_yield"


def test_a_cheapest_site_that_lifts_alone_needs_no_milp(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """No set costs less than its cheapest site: where one of the least cost lifts the
    village alone, that is the answer and no MILP is solved; otherwise the MILP decides
    (two cheap sites together beat one dear one that lifts alone)."""
    import scipy.optimize

    real = scipy.optimize.milp
    calls: list[int] = []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "milp", counted)
    # village 0: units of 6, 4 and 5 people; 15 people, blank below 60 %: 9 must be served
    a = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 1]], bool))
    w = np.array([6.0, 4.0, 5.0])
    ids = np.array(["S0", "S1", "S2"])
    for cost, lift in (([2.0, 2.0, 2.0], 2.0), ([5.0, 1.0, 1.0], 2.0)):
        calls.clear()
        inp = WhyNotInputs(a, w, np.zeros(3, int), np.zeros(3, bool), np.array(cost),
                           np.zeros(3, bool), 0.0, 0.0)
        out = why_not(inp, np.array([True]), np.array([15.0]), 0.6, ids)
        assert out.loc[0, "why_not_extra_budget_idr"] == lift
        assert len(calls) == (0 if cost[0] == 2.0 else 1)
