"""The plan as a graph of stages, and its result.

::

    load ──> terrain ──> demand ──> existing_coverage ──> before ──> candidates
                                └──> coverage_maps ───────┘ (and selection, audit, after)
                                                                        │
                     candidate_coverage (site batches) <────────────────┘
                              │
                              v
                          backhaul ──> selection ──> after ──> PlanResult (summary)
                              │                        ^
                              ├──> audit ──────────────┤ (optional)
                              │                        │
     tower_heights ──> programme_coverage ──> programme ┘ (with [programme] years)
                                                 └──> programme_audit (with built towers)

Each stage is a module of :mod:`towerplan.pipeline.stages`; :data:`PLAN_GRAPH` maps names to
stages. :func:`new_run` starts an evaluation with a cache; :func:`plan_result` assembles the
:class:`~towerplan.results.PlanResult` every writer reads. A changed budget reuses every stage
before ``selection``; the run's records say which stages were reused.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path

from towerplan._version import __version__
from towerplan.analysis.backhaul_choice import with_comparison
from towerplan.analysis.outcome import with_lonlat
from towerplan.analysis.problem import CurrentState, SelectionProblem
from towerplan.analysis.programme_outcome import ProgrammeOutcome
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_chain_text, model_choice, model_choice_summary
from towerplan.io.cache import StageCache
from towerplan.io.coverage_maps import coverage_outlines
from towerplan.io.demo import SURVEY_FILE, ensure_demo, survey_reports, write_survey
from towerplan.io.rasters import RasterGrid
from towerplan.io.stamps import run_time_utc
from towerplan.pipeline import assemble
from towerplan.pipeline.executors import Executor, executor_for
from towerplan.pipeline.graph import GraphRun, ProgressFn, Stage
from towerplan.pipeline.stages import (
    after,
    audit,
    backhaul,
    before,
    candidates,
    comparison,
    coverage,
    demand,
    existing,
    layers,
    load,
    maps,
    programme,
    programme_audit,
    programme_coverage,
    selection,
    terrain,
    tower_heights,
)
from towerplan.pipeline.summary import limitations, plan_summary, programme_summary
from towerplan.results import PlanResult, Provenance
from towerplan.scenario import BUILTIN_DEMO, Scenario

__all__ = ["PLAN_GRAPH", "PLAN_STAGES", "current_state", "ensure_demo_survey", "new_run",
           "plan", "plan_result", "selection_problem", "stage_store"]

#: The stages of a plan, by name.
PLAN_GRAPH: Mapping[str, Stage] = {s.name: s for s in (
    load.STAGE, terrain.STAGE, demand.STAGE, existing.STAGE, maps.STAGE, before.STAGE,
    candidates.STAGE, coverage.STAGE, backhaul.STAGE, selection.STAGE, audit.STAGE, after.STAGE,
    tower_heights.STAGE, programme_coverage.STAGE, programme.STAGE, programme_audit.STAGE,
    layers.STAGE, comparison.STAGE)}

#: Progress labels of a whole plan, in order (the last, ``outputs``, is the writers').
PLAN_STAGES: tuple[str, ...] = (
    "inputs", "terrain", "demand", "coverage before", "candidates", "candidate coverage",
    "backhaul", "selection", "audit", "coverage after", "programme coverage", "programme",
    "programme audit", "map layers", "outputs")


def stage_store(cache: StageCache | Path | str | None | bool) -> StageCache | None:
    """The stage cache a ``cache`` argument names: True the user cache folder, a folder, a
    store, or None (False, None: no cache)."""
    if cache is True:
        return StageCache.default()
    if cache is False or cache is None:
        return None
    if isinstance(cache, StageCache):
        return cache
    return StageCache(Path(cache))


def ensure_demo_survey(scenario: Scenario, *,
                       cache: StageCache | Path | str | None | bool = True) -> Path | None:
    """Write the demo's synthetic village survey once, where the scenario reads it.

    When ``[inputs] signal_reports`` names ``builtin:demo``, the survey
    (:func:`towerplan.io.demo.survey_reports`) is derived from the model's own before-state
    of the demo with the default settings (the demo scenario without reports), and written
    into the cached demo folder; later calls find it there.

    Returns
    -------
    Path or None
        The survey file, or None when the scenario does not use it.
    """
    if not any(f.path == BUILTIN_DEMO for f in scenario.inputs.signal_reports):
        return None
    demo = ensure_demo(seed=scenario.demo.seed, resolution_m=scenario.demo.resolution_m)
    target = demo.directory / SURVEY_FILE
    if target.is_file():
        return target
    base = Scenario.default()
    truth = dataclasses.replace(base, demo=scenario.demo,
                                inputs=dataclasses.replace(base.inputs, signal_reports=()))
    run = GraphRun(truth, PLAN_GRAPH, stage_store(cache), None)
    stats = run.get("before")
    table = survey_reports(run.get("load").villages, stats["status_model"].tolist(),
                           stats["share_covered_model"].tolist(), seed=scenario.demo.seed)
    return write_survey(target, table)


def new_run(scenario: Scenario, *, cache: StageCache | Path | str | None | bool = True,
            progress: ProgressFn | None = None, executor: Executor | None = None) -> GraphRun:
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
    executor : Executor, optional, keyword-only
        Where the coverage batches (candidates and existing towers) are computed (default:
        the one of ``[compute] scheduler``,
        :func:`~towerplan.pipeline.executors.executor_for`). Workers start at their first
        batch; :meth:`GraphRun.close` stops them.
    """
    run_time_utc()  # a bad SOURCE_DATE_EPOCH is refused before any work
    store = stage_store(cache)
    notes_from = len(store.notes) if store is not None else 0
    ensure_demo_survey(scenario, cache=store)
    if executor is None:
        executor = executor_for(scenario.compute.scheduler)
    return GraphRun(scenario, PLAN_GRAPH, store, progress, notes_from=notes_from,
                    executor=executor)


def current_state(run: GraphRun) -> CurrentState:
    """Today's state (stages up to ``before``)."""
    return assemble.current_state(run.scenario.radio, run.get("load"), run.get("terrain"),
                                  run.get("demand"), run.get("existing_coverage"),
                                  run.get("before"), run.get("coverage_maps"))


def selection_problem(run: GraphRun) -> SelectionProblem:
    """Candidates with per-site costs (backhaul included) and their coverage."""
    return assemble.selection_problem(current_state(run), run.get("backhaul").candidates,
                                      run.get("candidate_coverage"))


def plan_result(run: GraphRun) -> PlanResult:
    """Every stage of the plan, assembled into the result the writers read."""
    sc = run.scenario
    state = current_state(run)
    chosen = run.get("selection")
    # the joint backhaul comparison (HiGHS, outside the GIL) beside the audit and coverage after
    compared = run.get_beside("backhaul_comparison")
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
        created_utc=run_time_utc().isoformat(timespec="seconds"),
    )
    runtime = time.perf_counter() - run.started
    summary = plan_summary(sc, provenance, state, chosen.selection, chosen.greedy,
                           outcome.villages, outcome.covered, outcome.candidates, runtime)
    if audit_result is not None:
        summary["audit"] = audit_result.summary
    summary["exclusion_layers"] = list(run.get("candidates").attrs.get("exclusions", []))
    summary["backhaul"] = with_comparison(chosen.backhaul.summary, compared())
    summary["model_choice"] = model_choice_summary(choice)
    existing_out = with_lonlat(state.data.towers)
    load = run.get("load")
    if load.coverage_maps:
        summary["coverage_maps"] = {
            "target": sc.coverage.target, "maps": list(run.get("coverage_maps").maps),
            "villages_from_maps": int((state.stats["status_source"].astype(str)
                                       == "coverage_map").sum())}
    programme_outcome = _programme(run, state)
    if programme_outcome is not None:
        summary["programme"] = programme_summary(programme_outcome)
    if run.cache_notes:  # damaged or mismatched cache entries, recomputed
        summary["cache_discarded"] = list(run.cache_notes)
    dem = state.data.dem
    rsrp_before = RasterGrid(run.get("existing_coverage").grid.rsrp_dbm, dem.transform,
                             dem.crs, None)
    return PlanResult(sc, provenance, outcome.villages, existing_out, outcome.candidates,
                      outcome.ranking, rsrp_before, outcome.rsrp_after, state.data.dem,
                      summary,
                      audit=with_lonlat(audit_result.sites) if audit_result is not None else None,
                      audit_summary=audit_result.summary if audit_result is not None else None,
                      links=chosen.backhaul.links,
                      coverage_maps=(coverage_outlines(load.coverage_maps, load.crs)
                                     if load.coverage_maps else None),
                      committed=None if state.data.committed is None
                      else with_lonlat(state.data.committed),
                      programme=programme_outcome, layers=run.get("base_layers"))


def _programme(run: GraphRun, state: CurrentState) -> ProgrammeOutcome | None:
    """The programme's outcome with the plan's limitations stated first; None without
    ``[programme] years``."""
    if not run.scenario.programme.active:
        return None
    done = run.get("programme")
    notes = tuple(dict.fromkeys((*limitations(run.scenario, state), *done.outcome.notes)))
    return dataclasses.replace(done.outcome, notes=notes, audit=run.get("programme_audit"))


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
    run = new_run(scenario, cache=cache, progress=progress)
    try:
        return plan_result(run)
    finally:
        run.close()
