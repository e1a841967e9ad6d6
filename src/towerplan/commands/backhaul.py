"""``towerplan backhaul``: how the selected sites reach the network, per-site and joint."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from towerplan.analysis.backhaul_choice import BackhaulOutcome, with_comparison
from towerplan.analysis.backhaul_plan import hop_frame
from towerplan.analysis.problem import SelectionProblem
from towerplan.analysis.selection import SelectionResult
from towerplan.columns import BACKHAUL_COLUMNS, HOP_COLUMNS
from towerplan.commands.plan import CacheArg
from towerplan.errors import InputDataError
from towerplan.i18n import in_language
from towerplan.io.outdir import staged_directory
from towerplan.io.tables import data_source, typed_layer, write_json, write_table_csv
from towerplan.io.vectors import write_gpkg_layers
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run, selection_problem
from towerplan.scenario import Scenario

__all__ = ["BackhaulRun", "run_backhaul"]

#: Files written by :func:`run_backhaul`.
BACKHAUL_FILES: tuple[str, ...] = ("links.gpkg", "links.csv", "hops.csv", "backhaul.json")


@dataclass(frozen=True, slots=True)
class BackhaulRun:
    """Outcome of ``towerplan backhaul``: the selection, its backhaul and the files written."""

    selection: SelectionResult
    outcome: BackhaulOutcome
    problem: SelectionProblem
    files: tuple[str, ...]

    def rows(self) -> list[dict[str, object]]:
        """One row per chosen site: village, technology, hops, path, cost, worst clearance."""
        cands = self.problem.candidates.set_index("site_id")
        links = self.outcome.links
        out = []
        for _, r in self.outcome.sites.iterrows():
            hops = [] if links is None else list(links.loc[links["site_id"] == r.site_id,
                                                           "to_id"])
            out.append({
                "site_id": r.site_id, "village": str(cands.loc[r.site_id, "village"]),
                "technology": r.backhaul_technology, "hops": int(r.backhaul_hops),
                "path": " > ".join([r.site_id, *hops]) if hops else "",
                "backhaul_idr": float(cands.loc[r.site_id, "cost_backhaul_idr"]),
                "worst_clearance": float(r.backhaul_worst_clearance)})
        return out


def run_backhaul(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
                 progress: ProgressFn | None = None, cache: CacheArg = True) -> BackhaulRun:
    """Select sites with their backhaul and write links.gpkg, links.csv, hops.csv and
    backhaul.json.

    ``[backhaul] model = "fixed"`` is treated as ``per-site`` here (the command exists to
    analyse the backhaul).

    Raises
    ------
    InputDataError
        When the scenario gives no points of presence.
    """
    if scenario.backhaul.model == "fixed":
        scenario = dataclasses.replace(scenario, backhaul=dataclasses.replace(
            scenario.backhaul, model="per-site"))
    with staged_directory(Path(out_dir), overwrite=overwrite) as staging:
        run = new_run(scenario, cache=cache, progress=progress)
        plan = run.get("backhaul").plan
        if not plan.enabled:
            msg = (f"{in_language(plan.note, 'en')}; set [inputs] pops to a CSV of fibre "
                   "points of presence")
            raise InputDataError(msg)
        chosen = run.get("selection")
        problem = selection_problem(run)
        problem = dataclasses.replace(problem, candidates=chosen.candidates)
        outcome = chosen.backhaul
        links = outcome.links
        assert links is not None
        crs = problem.state.villages.crs
        source = data_source(problem.state.data.paths.demo is not None)
        write_gpkg_layers(staging / "links.gpkg", [
            ("links", typed_layer(links, BACKHAUL_COLUMNS, crs, source), "LineString")])
        write_table_csv(links, BACKHAUL_COLUMNS, "links", staging / "links.csv", source)
        write_table_csv(hop_frame(plan, crs), HOP_COLUMNS, "hops", staging / "hops.csv",
                        source)
        outcome = dataclasses.replace(outcome, summary=with_comparison(
            outcome.summary, run.get("backhaul_comparison")))
        write_json(staging / "backhaul.json", outcome.summary)
    return BackhaulRun(chosen.selection, outcome, problem, BACKHAUL_FILES)
