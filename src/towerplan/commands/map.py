"""``towerplan map``: the plan's offline map only."""

from __future__ import annotations

from pathlib import Path

from towerplan.commands.plan import CacheArg
from towerplan.i18n import check_lang
from towerplan.io.outdir import staged_directory
from towerplan.outputs.writers import write_outputs
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run, plan_result
from towerplan.results import PlanResult
from towerplan.scenario import Scenario

__all__ = ["plan_map"]


def plan_map(scenario: Scenario, out_dir: str | Path, *, lang: str | None = None,
             overwrite: bool = False, progress: ProgressFn | None = None,
             cache: CacheArg = True) -> PlanResult:
    """Run the plan and write only its map: ``towerplan map SCENARIO`` (map.html).

    Parameters
    ----------
    scenario : Scenario
        The scenario to run.
    out_dir : str or Path
        Output directory; an existing non-empty one needs *overwrite*.
    lang : {"id", "en"}, optional
        Language of the map (default ``scenario.outputs.lang``).
    overwrite : bool, keyword-only
        Replace ``map.html`` in an existing, non-empty directory; its other files are kept
        (the directory is still published whole, by one rename).
    progress : callable, optional
        Called with each stage label as it starts.
    cache : StageCache, path, bool or None, keyword-only
        Stage cache (default the user cache folder).

    Returns
    -------
    PlanResult
        The plan shown on the map.
    """
    language = check_lang(lang or scenario.outputs.lang)
    with staged_directory(Path(out_dir), overwrite=overwrite, keep=True) as staging:
        result = plan_result(new_run(scenario, cache=cache, progress=progress))
        if progress is not None:
            progress("outputs")
        write_outputs(result, staging, lang=language, only=("map.html",), strict=True)
    return result
