"""``towerplan plan``: the whole plan, every output written through a staging directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from towerplan.i18n import check_lang
from towerplan.io.cache import StageCache
from towerplan.io.outdir import staged_directory
from towerplan.io.register import MatchReport, write_mapping_todo, write_match_report
from towerplan.outputs.writers import OutputReport, write_outputs
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run, plan_result
from towerplan.results import PlanResult
from towerplan.scenario import Scenario

__all__ = ["CacheArg", "PlanRun", "run_plan"]

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


def run_plan(scenario: Scenario, out_dir: str | Path | None = None, *, overwrite: bool = False,
             lang: str | None = None, progress: ProgressFn | None = None,
             cache: CacheArg = True) -> PlanRun:
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

    Raises
    ------
    TowerplanError
        On any bad input or when outputs cannot be written; nothing is written then.
    """
    language = check_lang(lang or scenario.outputs.lang)
    target = Path(out_dir if out_dir is not None else scenario.outputs.dir)
    with staged_directory(target, overwrite=overwrite) as staging:
        run = new_run(scenario, cache=cache, progress=progress)
        result = plan_result(run)
        if progress is not None:
            progress("outputs")
        report = write_outputs(result, staging, lang=language)
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
