"""``towerplan plan``: the whole plan, every output written through a staging directory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from towerplan.i18n import check_lang
from towerplan.io.atomic import free_bytes
from towerplan.io.cache import StageCache
from towerplan.io.outdir import staged_directory
from towerplan.io.register import MatchReport, write_mapping_todo, write_match_report
from towerplan.outputs.writers import OutputReport, write_outputs
from towerplan.pipeline.graph import GraphRun, ProgressFn
from towerplan.pipeline.plan import PLAN_GRAPH, new_run, plan_result, stage_store
from towerplan.pipeline.resources import (
    ResourceEstimate,
    available_memory_bytes,
    check_resources,
    estimate_resources,
)
from towerplan.results import PlanResult
from towerplan.scenario import Scenario

__all__ = ["CacheArg", "DryRun", "PlanRun", "dry_run", "run_plan"]

#: The ``cache`` argument of commands: a store, a folder, True (user cache) or None (none).
CacheArg = StageCache | Path | str | bool | None


@dataclass(frozen=True, slots=True)
class PlanRun:
    """Outcome of :func:`run_plan`.

    Attributes
    ----------
    result : PlanResult
        The plan.
    out_dir : Path
        The output directory.
    outputs : OutputReport
        Files written, and outputs skipped (a library missing) or failed.
    reused : tuple of str
        Stages whose results came from the cache.
    computed : tuple of str
        Stages computed in this run.
    """

    result: PlanResult
    out_dir: Path
    outputs: OutputReport
    reused: tuple[str, ...]
    computed: tuple[str, ...]

    @property
    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (without ``outputs_skipped``)."""
        return self.result.summary


@dataclass(frozen=True, slots=True)
class DryRun:
    """What ``towerplan plan --dry-run`` found, without computing or writing anything.

    Attributes
    ----------
    estimate : ResourceEstimate
        Memory and disk the run would need.
    memory_available : int or None
        Bytes of memory available (None: unknown).
    out_dir : Path
        The output directory.
    out_state : {"new", "empty", "replace", "not empty"}
        What the run would do there: create it, fill it, replace it as a whole
        (``--overwrite``), or refuse (not empty, no ``--overwrite``).
    out_free : int or None
        Free bytes where the outputs go.
    cache_dir : Path or None
        The stage cache folder (None: no cache).
    cache_free : int or None
        Free bytes there.
    stages : dict of str to str
        Each stage of the plan and what the run would do with it
        (:meth:`~towerplan.pipeline.graph.GraphRun.foreseen`).
    """

    estimate: ResourceEstimate
    memory_available: int | None
    out_dir: Path
    out_state: Literal["new", "empty", "replace", "not empty"]
    out_free: int | None
    cache_dir: Path | None
    cache_free: int | None
    stages: dict[str, str]


def dry_run(scenario: Scenario, out_dir: str | Path | None = None, *, overwrite: bool = False,
            cache: CacheArg = True) -> DryRun:
    """Estimate a plan of *scenario* and say which stages would run; compute and write
    nothing (the built-in demo's input files are generated in the cache when missing)."""
    target = Path(out_dir if out_dir is not None else scenario.outputs.dir)
    store = stage_store(cache)
    stages = GraphRun(scenario, PLAN_GRAPH, store, None).foreseen()
    if not scenario.programme.active:
        stages = {k: v for k, v in stages.items() if not k.startswith("programme")
                  and k != "tower_heights"}
    state: Literal["new", "empty", "replace", "not empty"] = "new"
    if target.is_dir():
        state = "empty" if not any(target.iterdir()) else \
            "replace" if overwrite else "not empty"
    return DryRun(estimate_resources(scenario), available_memory_bytes(), target, state,
                  free_bytes(target.resolve().parent), store.root if store else None,
                  free_bytes(store.root) if store else None, stages)


def run_plan(scenario: Scenario, out_dir: str | Path | None = None, *, overwrite: bool = False,
             lang: str | None = None, progress: ProgressFn | None = None,
             cache: CacheArg = True, check: bool = True,
             only: Sequence[str] | None = None) -> PlanRun:
    """Run the whole plan and write every output into *out_dir*.

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    out_dir : str or Path, optional
        Output directory (default ``scenario.outputs.dir``, relative to the current directory).
    overwrite : bool, keyword-only
        Replace files of an existing, non-empty output directory.
    lang : {"id", "en"}, optional
        Language of the map and reports (default ``scenario.outputs.lang``).
    progress : callable, optional
        Called with each stage label of :data:`~towerplan.pipeline.plan.PLAN_STAGES` as it
        starts.
    cache : StageCache, path, bool or None, keyword-only
        Stage cache (default the user cache folder; None or False: compute everything).
    check : bool, keyword-only
        Estimate memory and disk first (:mod:`towerplan.pipeline.resources`) and refuse a
        run that cannot fit (default).
    only : sequence of str, optional, keyword-only
        Write only these outputs (names of
        :data:`~towerplan.outputs.writers.OUTPUT_FILES` and
        :data:`~towerplan.outputs.writers.OPTIONAL_OUTPUT_FILES`; ``summary.json`` only when
        named); default every output the scenario asks for.

    Raises
    ------
    InsufficientResourcesError
        When *check* finds the run needs more memory or disk than available.
    DiskFullError
        When the disk fills up while the outputs are written (names the directory and the
        space needed); nothing is written then.
    TowerplanError
        On any bad input or when outputs cannot be written; nothing is written then.
    """
    language = check_lang(lang or scenario.outputs.lang)
    target = Path(out_dir if out_dir is not None else scenario.outputs.dir)
    estimate = estimate_resources(scenario)
    if check:
        store = stage_store(cache)
        check_resources(scenario, estimate, target, store.root if store else None)
    with staged_directory(target, overwrite=overwrite,
                          need_bytes=estimate.output_bytes) as staging:
        run = new_run(scenario, cache=cache, progress=progress)
        try:
            result = plan_result(run)
        finally:
            run.close()
        if progress is not None:
            progress("outputs")
        report = write_outputs(result, staging, lang=language, only=only)
        _write_register_match(run.get("load").register_match, staging)
    return PlanRun(result, target, report, run.reused, run.computed)


def _write_register_match(report: MatchReport | None, out_dir: Path) -> None:
    """Write ``register_match.csv`` (and ``village_mapping_todo.csv`` of the names still to
    settle) when the scenario names a register."""
    if report is None:
        return
    write_match_report(report, out_dir / "register_match.csv")
    if report.unsettled:
        write_mapping_todo(report, out_dir / "village_mapping_todo.csv")
