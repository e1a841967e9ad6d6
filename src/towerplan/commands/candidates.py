"""``towerplan candidates``: candidate sites with their costs and the demand each would
newly cover."""

from __future__ import annotations

from pathlib import Path

from towerplan.analysis.outcome import with_lonlat
from towerplan.analysis.problem import SelectionProblem
from towerplan.columns import CANDIDATE_COLUMNS
from towerplan.commands.plan import CacheArg
from towerplan.io.outdir import staged_directory
from towerplan.io.tables import data_source, typed_layer, write_table_csv
from towerplan.io.vectors import write_gpkg_layers
from towerplan.outputs.vector_styles import plan_layer_styles
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run, selection_problem
from towerplan.scenario import Scenario

__all__ = ["candidates"]


def candidates(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
               progress: ProgressFn | None = None, cache: CacheArg = True) -> SelectionProblem:
    """Candidate sites with village, kecamatan, elevation, cost parts and the demand each
    would newly cover: ``towerplan candidates SCENARIO`` (candidates.csv, candidates.gpkg)."""
    with staged_directory(Path(out_dir), overwrite=overwrite) as staging:
        problem = selection_problem(new_run(scenario, cache=cache, progress=progress))
        state = problem.state
        frame = with_lonlat(problem.candidates.assign(selected=False), state.villages.crs)
        source = data_source(state.data.paths.demo is not None)
        columns = [c for c in CANDIDATE_COLUMNS if c != "selected"]
        write_table_csv(frame, columns, "candidates", staging / "candidates.csv", source)
        write_gpkg_layers(staging / "candidates.gpkg", [
            ("candidates", typed_layer(frame, columns, frame.crs, source), "Point")],
            styles=plan_layer_styles(["candidates"], scenario.outputs.lang))
    return problem
