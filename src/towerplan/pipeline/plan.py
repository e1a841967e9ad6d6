"""The plan as a graph of stages, and its result.

::

    load ──> terrain ──> demand ──> existing_coverage ──> before ──> candidates
                                                                        │
                     candidate_coverage (site batches) <────────────────┘
                              │
                              v
                          backhaul ──> selection ──> after ──> PlanResult (summary)
                              │                        ^
                              └──> audit ──────────────┘ (optional)

Each stage is a module of :mod:`towerplan.pipeline.stages`; :data:`PLAN_GRAPH` maps names to
stages. :func:`new_run` starts an evaluation with a cache; :func:`plan_result` assembles the
:class:`~towerplan.results.PlanResult` every writer reads. A changed budget reuses every stage
before ``selection``; the run's records say which stages were reused.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from towerplan._version import __version__
from towerplan.analysis.outcome import with_lonlat
from towerplan.analysis.problem import CurrentState, SelectionProblem
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_chain_text, model_choice, model_choice_summary
from towerplan.io.cache import StageCache
from towerplan.pipeline import assemble
from towerplan.pipeline.graph import GraphRun, ProgressFn, Stage
from towerplan.pipeline.stages import (
    after,
    audit,
    backhaul,
    before,
    candidates,
    coverage,
    demand,
    existing,
    load,
    selection,
    terrain,
)
from towerplan.pipeline.summary import plan_summary
from towerplan.results import PlanResult, Provenance
from towerplan.scenario import Scenario

__all__ = ["PLAN_GRAPH", "PLAN_STAGES", "current_state", "new_run", "plan", "plan_result",
           "selection_problem"]

#: The stages of a plan, by name.
PLAN_GRAPH: Mapping[str, Stage] = {s.name: s for s in (
    load.STAGE, terrain.STAGE, demand.STAGE, existing.STAGE, before.STAGE, candidates.STAGE,
    coverage.STAGE, backhaul.STAGE, selection.STAGE, audit.STAGE, after.STAGE)}

#: Progress labels of a whole plan, in order (the last, ``outputs``, is the writers').
PLAN_STAGES: tuple[str, ...] = (
    "inputs", "terrain", "demand", "coverage before", "candidates", "candidate coverage",
    "backhaul", "selection", "audit", "coverage after", "outputs")


def new_run(scenario: Scenario, *, cache: StageCache | Path | str | None | bool = True,
            progress: ProgressFn | None = None) -> GraphRun:
    """Start an evaluation of the plan graph.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    cache : StageCache, path, bool or None, keyword-only
        Where stage results are stored and reused: a store, a folder, True for the user
        cache folder (:meth:`StageCache.default`, default), False or None for none.
    progress : callable, optional
        Called with each stage label as it starts.
    """
    store: StageCache | None
    if cache is True:
        store = StageCache.default()
    elif cache is False or cache is None:
        store = None
    elif isinstance(cache, StageCache):
        store = cache
    else:
        store = StageCache(Path(cache))
    return GraphRun(scenario, PLAN_GRAPH, store, progress)


def current_state(run: GraphRun) -> CurrentState:
    """Today's state (stages up to ``before``)."""
    return assemble.current_state(run.scenario.radio, run.get("load"), run.get("terrain"),
                                  run.get("demand"), run.get("existing_coverage"),
                                  run.get("before"))


def selection_problem(run: GraphRun) -> SelectionProblem:
    """Candidates with per-site costs (backhaul included) and their coverage."""
    return assemble.selection_problem(current_state(run), run.get("backhaul").candidates,
                                      run.get("candidate_coverage"))


def plan_result(run: GraphRun) -> PlanResult:
    """Every stage of the plan, assembled into the result the writers read."""
    sc = run.scenario
    state = current_state(run)
    chosen = run.get("selection")
    audit_result = run.get("audit")
    outcome = run.get("after")
    choice = model_choice(sc.radio, dem_cell_m(state.data.dem, state.data.source_cell_m))
    provenance = Provenance(
        version=__version__,
        scenario_hash=sc.content_hash(),
        model_chain=model_chain_text(sc, choice),
        solver=chosen.selection.solver,
        synthetic=state.data.paths.demo is not None,
        data_sources=state.data.sources,
        demand_basis=state.units.basis,
        created_utc=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    runtime = time.perf_counter() - run.started
    summary = plan_summary(sc, provenance, state, chosen.selection, chosen.greedy,
                           outcome.villages, outcome.covered, outcome.candidates, runtime)
    if audit_result is not None:
        summary["audit"] = audit_result.summary
    summary["backhaul"] = chosen.backhaul.summary
    summary["model_choice"] = model_choice_summary(choice)
    existing_out = with_lonlat(state.data.towers)
    return PlanResult(sc, provenance, outcome.villages, existing_out, outcome.candidates,
                      outcome.ranking, outcome.rsrp_before, outcome.rsrp_after, state.data.dem,
                      summary,
                      audit=with_lonlat(audit_result.sites) if audit_result is not None else None,
                      audit_summary=audit_result.summary if audit_result is not None else None,
                      links=chosen.backhaul.links,
                      committed=None if state.data.committed is None
                      else with_lonlat(state.data.committed))


def plan(scenario: Scenario, *, cache: StageCache | Path | str | None | bool = True,
         progress: ProgressFn | None = None) -> PlanResult:
    """Compute a plan without writing anything.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    cache : StageCache, path, bool or None, keyword-only
        Stage cache (see :func:`new_run`).
    progress : callable, optional
        Called with each stage label as it starts.
    """
    return plan_result(new_run(scenario, cache=cache, progress=progress))
