"""``towerplan match``: the boundary file's village names matched to the register."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from towerplan.errors import InputDataError, ScenarioError
from towerplan.inputs import resolve_paths
from towerplan.io.outdir import staged_files
from towerplan.io.register import (
    MatchReport,
    match_villages,
    write_mapping_todo,
    write_match_report,
)
from towerplan.io.villages import read_villages
from towerplan.scenario import Scenario

__all__ = ["MatchRun", "match_scenario"]


@dataclass(frozen=True, slots=True)
class MatchRun:
    """Outcome of :func:`match_scenario`: the report and the files written."""

    report: MatchReport
    files: tuple[Path, ...]

    def raise_if_unsettled(self) -> None:
        """Raise :class:`InputDataError` while names remain ambiguous or unmatched."""
        if self.report.unsettled:
            msg = (f"{len(self.report.unsettled)} village names are not settled; fill in the "
                   f"code column of {self.files[-1]} and name it in [inputs] village_mapping")
            raise InputDataError(msg)


def match_scenario(scenario: Scenario, out: str | Path, *, overwrite: bool = False
                   ) -> MatchRun:
    """Match a scenario's villages to its register: ``towerplan match SCENARIO``.

    Writes the matching report *out* (:func:`~towerplan.io.register.write_match_report`)
    and, when names remain ambiguous or unmatched, ``village_mapping_todo.csv`` beside it
    (an old one is removed when nothing is left to settle).

    Raises
    ------
    ScenarioError
        If the scenario names no register.
    OutputError
        If a file exists and *overwrite* is false.
    """
    paths = resolve_paths(scenario)
    if paths.register is None:
        msg = ("the scenario names no register: set [inputs] register = "
               "\"builtin:paser-register\" (or your own code,name,district CSV)")
        raise ScenarioError(msg)
    out = Path(out)
    todo = out.with_name("village_mapping_todo.csv")
    with staged_files((out, todo), overwrite=overwrite) as staging:
        villages, _ = read_villages(paths.villages, layer=scenario.inputs.village_layer,
                                    columns=scenario.inputs.village_columns)
        report, _ = match_villages(villages, paths.register,
                                   mapping_path=paths.village_mapping)
        write_match_report(report, staging / out.name)
        if report.unsettled:
            write_mapping_todo(report, staging / todo.name)
    return MatchRun(report, (out, todo) if report.unsettled else (out,))
