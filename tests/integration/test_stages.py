"""Every stage of the plan on the demo: it reads only the scenario values it declares (so its
cache key is honest), and it never changes its inputs."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan.pipeline.graph import StageContext
from towerplan.pipeline.plan import PLAN_GRAPH, new_run
from towerplan.scenario import Scenario

#: Scenario attributes that read other fields, mapped to what they read.
_DERIVED = {"uses_demo": "inputs", "resolve": "base_dir"}


class _Traced:
    """Stand-in for a scenario (or one of its groups) that records every attribute read."""

    def __init__(self, obj: Any, path: str, seen: set[str]) -> None:
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_seen", seen)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._obj, name)
        full = f"{self._path}.{name}" if self._path else name
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return _Traced(value, full, self._seen)
        self._seen.add(_DERIVED.get(full, full))
        return value


def _covered(path: str, reads: tuple[str, ...], fingerprinted: bool) -> bool:
    if path == "base_dir":
        return fingerprinted  # resolved paths are part of the input-file fingerprint
    return any(path == r or path.startswith(r + ".") for r in reads)


def _digest(value: Any) -> str:
    return hashlib.sha256(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()


def _variants() -> dict[str, Scenario]:
    # the joint backhaul MILP (and what it reads) runs in "audit+joint"; the demo's own
    # comparison with it would solve the same model twice more
    demo = Scenario()
    base = dataclasses.replace(demo, backhaul=dataclasses.replace(demo.backhaul, compare=False))
    audited = dataclasses.replace(  # two towers: the joint MILP proves its optimum sooner
        base, audit=dataclasses.replace(base.audit, villages=("Mabung", "Kangajuh")),
        budget=dataclasses.replace(base.budget, total_idr=3.4e9),
        backhaul=dataclasses.replace(base.backhaul, model="joint"),
        selection=dataclasses.replace(base.selection, max_per_kecamatan=2,
                                      min_share_blank_village=0.0))
    terrain = dataclasses.replace(
        base, radio=dataclasses.replace(base.radio, model="hata-suburban+deygout+clutter",
                                        max_radius_km=8.0),
        candidates=dataclasses.replace(base.candidates, grid_spacing_m=8000.0,
                                       include_hilltops=False))
    programme = Scenario.from_toml(Path(__file__).resolve().parents[2] / "scenarios"
                                   / "demo-programme.toml")
    return {"demo": base, "audit+joint": audited, "terrain chain": terrain,
            "programme": programme}


@pytest.mark.slow
# the programme's audit evaluates its 32 m tower 10 m lower, below Okumura-Hata's 30 m
@pytest.mark.filterwarnings("ignore::towerplan.errors.ModelValidityWarning")
@pytest.mark.parametrize("variant", list(_variants()))
def test_stages_read_only_what_they_declare_and_change_no_input(variant: str) -> None:
    scenario = _variants()[variant]
    new_run(scenario)  # the demo's own files (its survey of signal reports) are written
    results: dict[str, Any] = {}

    def traced(name: str) -> Any:
        """Run stage *name* once, after its inputs, with every scenario read recorded."""
        if name in results:
            return results[name]
        stage = PLAN_GRAPH[name]
        inputs = {n: traced(n) for n in stage.needs}
        before = {n: _digest(v) for n, v in inputs.items()}
        seen: set[str] = set()
        ctx = StageContext(_Traced(scenario, "", seen), None, None, "", "")  # type: ignore[arg-type]
        results[name] = stage.run(ctx, **inputs)
        undeclared = sorted(p for p in seen
                            if not _covered(p, stage.reads, stage.fingerprint is not None))
        assert undeclared == [], f"stage {name} reads {undeclared} without declaring them"
        changed = sorted(n for n, v in inputs.items() if _digest(v) != before[n])
        assert changed == [], f"stage {name} changed its inputs {changed}"
        return results[name]

    for name in PLAN_GRAPH:
        traced(name)
    assert set(results) == set(PLAN_GRAPH)


def test_after_ranks_with_the_rsrp_of_its_own_sweep_as_a_fresh_evaluation_would(
        small_scenario: Any) -> None:
    """Stage ``after`` hands the chosen sites' RSRP at the demand units from its sweep to the
    ranking (no second sweep per site): the table is the one a fresh evaluation of each site
    gives, on a terrain chain; and its grid after is today's composite with the sites
    added."""
    from towerplan.analysis.outcome import RANKING_BASE_COLUMNS, ranking_table
    from towerplan.coverage.composite import best_server, combine
    from towerplan.pipeline.plan import current_state, selection_problem

    base = Scenario.from_toml(small_scenario())
    scenario = dataclasses.replace(base, radio=dataclasses.replace(
        base.radio, model="hata-suburban+deygout"))
    run = new_run(scenario)
    after, chosen = run.get("after"), run.get("selection")
    problem = selection_problem(run)
    rows = list(chosen.selection.sites)
    assert len(rows) >= 2
    final = chosen.candidates.assign(demand_alone=problem.candidates["demand_alone"])
    cov = scenario.coverage
    fresh = ranking_table(problem, final, rows, blank_below=cov.blank_below,
                          covered_at_least=cov.covered_at_least)
    columns = list(RANKING_BASE_COLUMNS)
    assert after.ranking[columns].equals(fresh[columns])
    assert after.ranking["new_median_rsrp_dbm"].notna().all()
    state = current_state(run)
    dem = state.data.dem
    new = best_server(dem.transform, dem.shape, problem.sites.xy[rows],
                      problem.sites.height_m[rows], state.link, state.terrain)
    want = combine(run.get("existing_coverage").grid, new, offset=len(state.existing))
    np.testing.assert_array_equal(after.rsrp_after.array, want.rsrp_dbm)
