"""Stage ``programme``: with ``[programme] years``, the towers to build in each year through
each funding channel (the multi-year MILP and the greedy year-by-year plan beside it); None
without.

Options are the candidates (co-locations left out) times the tower types, each covering what
the candidate covers at the type's height (stage ``programme_coverage``) and offered to the
channels whose rule the candidate's village meets. The state before is today's (the signal
reports where a village has one, else the model and the coverage maps), with the committed
towers counted from their on-air year; ``[[programme.built]]`` towers are locked in their
year.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from towerplan.analysis.programme import greedy_programme, optimise_programme
from towerplan.analysis.programme_plan import (
    ProgrammeProblem,
    programme_outcome,
    programme_problem,
    programme_weights,
    village_people,
)
from towerplan.i18n import bilingual
from towerplan.io.programme import check_programme
from towerplan.pipeline.assemble import current_state, selection_problem
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    import pandas as pd
    import scipy.sparse as sp

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.analysis.programme import ProgrammeResult
    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.backhaul import CostedCandidates
    from towerplan.pipeline.stages.existing import ExistingCoverage
    from towerplan.pipeline.stages.programme_coverage import ProgrammeCoverage
    from towerplan.scenario import Scenario

__all__ = ["STAGE", "Programmed", "committed_first_year", "solve_programme"]

log = logging.getLogger(__name__)

#: Year standing for "never" in :func:`committed_first_year`.
NEVER = 10_000


@dataclass(frozen=True, slots=True)
class Programmed:
    """A solved programme.

    Attributes
    ----------
    problem : ProgrammeProblem
        Its arrays.
    result : ProgrammeResult
        The optimised programme.
    greedy : ProgrammeResult
        The greedy year-by-year plan for the same money.
    outcome : ProgrammeOutcome
        What the writers read (without the audit, which stage ``programme_audit`` adds).
    """

    problem: ProgrammeProblem
    result: ProgrammeResult
    greedy: ProgrammeResult
    outcome: ProgrammeOutcome


def committed_first_year(existing: ExistingCoverage, threshold_rsrp_dbm: float
                         ) -> np.ndarray | None:
    """Per demand unit, the on-air year of the committed tower that serves it best at the
    threshold (:data:`NEVER` where none does); None without committed towers."""
    later = existing.committed
    if later is None:
        return None
    hit = later.rsrp_dbm >= threshold_rsrp_dbm
    years = np.asarray(existing.committed_years, dtype=np.int64)
    server = np.maximum(later.server, 0)
    return np.where(hit & (later.server >= 0), years[server] if len(years) else NEVER, NEVER)


def solve_programme(problem: ProgrammeProblem, *, time_limit_s: float, carry_over: bool,
                    locked: bool = True) -> tuple[ProgrammeResult, ProgrammeResult]:
    """The MILP programme and the greedy year-by-year plan of *problem* (with its locked
    builds unless *locked* is False)."""
    kw = {**problem.arrays(), "carry_over": carry_over,
          "locked": problem.locked if locked else ()}
    exact = optimise_programme(**kw, time_limit_s=time_limit_s)
    greedy = greedy_programme(**kw)
    return exact, greedy


def _notes(sc: Scenario, problem: ProgrammeProblem, people_estimated: bool,
           committed: bool) -> list[str]:
    """The programme's own limitations (after the plan's and ``[programme] notes``)."""
    names = ", ".join(t.name for t in problem.tower_types)
    notes = [*sc.programme.notes, bilingual("prog.cost_assumption", sources=names)]
    by_people = any(c.rule.min_population or c.rule.max_population for c in problem.channels)
    if by_people and people_estimated:
        notes.append(bilingual("prog.rule_population"))
    if committed:
        notes.append(bilingual("prog.committed_year"))
    partners = sorted({c.partner for c in problem.channels if c.partner and c.partner_pays})
    if partners:
        notes.append(bilingual("prog.partner_capex", partners=", ".join(partners)))
    if problem.locked:
        notes.append(bilingual("prog.locked", n=len(problem.locked),
                               last=max(b.year for b in sc.programme.built)))
    return notes


def _programme(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
               demand: DemandUnits, existing_coverage: ExistingCoverage, before: pd.DataFrame,
               backhaul: CostedCandidates, candidate_coverage: sp.csr_matrix,
               coverage_maps: MapCoverage,
               programme_coverage: ProgrammeCoverage) -> Programmed | None:
    sc = ctx.scenario
    if not sc.programme.years:
        return None
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    check_programme(sc.programme, sc.all_channels,
                    load.villages.assign(population=village_people(load.villages, demand)),
                    site_ids=problem.candidates["site_id"].astype(str).tolist())
    first = committed_first_year(existing_coverage, sc.radio.threshold_rsrp_dbm)
    weights, objective, objective_notes = programme_weights(sc, problem)
    prog = programme_problem(sc, problem, programme_coverage.heights(0.0),
                             committed_first_year=first, weights=weights)
    ctx.report("programme")
    result, greedy = solve_programme(prog, time_limit_s=sc.selection.time_limit_s,
                                     carry_over=sc.programme.carry_over)
    log.info("programme: %d towers, objective %.6g (greedy %.6g), gap %.3g, %s",
             len(result.builds), result.objective, greedy.objective, result.gap,
             result.status)
    notes = _notes(sc, prog, demand.basis != "population" or bool(load.population_note),
                   first is not None)
    outcome = programme_outcome(sc, prog, state, result, greedy,
                                notes=(*notes, *objective_notes), objective=objective)
    return Programmed(prog, result, greedy, outcome)


STAGE = Stage(name="programme", run=_programme,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps", "programme_coverage"),
              label="programme",
              reads=("programme", "all_channels", "all_tower_types", "radio", "coverage",
                     "costs", "backhaul", "selection.time_limit_s", "selection.terms"))
