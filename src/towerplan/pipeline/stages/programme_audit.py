"""Stage ``programme_audit``: the real sequence (``[[programme.built]]``) against the optimal
programme for the same money per year and channel, with a sensitivity band; None without
built towers.

The audited years run from the first programme year to the last year with a built tower. Each
case moves one input and rebuilds the programme's arrays: the RSRP threshold 5 dB either
side, every tower type 10 m lower and higher, every real tower as each other tower type,
and the before-state from the model alone or the model with the coverage maps (the base
case takes the signal reports where a village has one, like the plan). A real tower given
by its village keeps the base case's site in every case.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from towerplan.analysis.programme_audit import audit_sequence, sensitivity_band
from towerplan.analysis.programme_plan import (
    ProgrammeProblem,
    before_served,
    programme_problem,
)
from towerplan.pipeline.assemble import current_state, selection_problem
from towerplan.pipeline.graph import Stage, StageContext
from towerplan.pipeline.stages.programme import committed_first_year
from towerplan.pipeline.stages.programme_coverage import threshold_shift_db
from towerplan.pipeline.stages.tower_heights import HEIGHT_STEP_M, THRESHOLD_STEP_DB

if TYPE_CHECKING:
    import scipy.sparse as sp

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.coverage_maps import MapCoverage
    from towerplan.analysis.problem import SelectionProblem
    from towerplan.analysis.programme_audit import SequenceAudit
    from towerplan.inputs import TerrainInputs, VectorInputs
    from towerplan.pipeline.stages.backhaul import CostedCandidates
    from towerplan.pipeline.stages.existing import ExistingCoverage
    from towerplan.pipeline.stages.programme import Programmed
    from towerplan.pipeline.stages.programme_coverage import ProgrammeCoverage
    from towerplan.programme_scenario import ProgrammeBuilt
    from towerplan.scenario import Scenario

__all__ = ["STAGE", "AuditCase", "audit_cases"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuditCase:
    """One case of the band.

    Attributes
    ----------
    name : str
        ``base``, ``threshold_minus_5db``, ``height_plus_10m``, ``type:<tower type>``,
        ``before_from_model``, ...
    offset_db : float
        Added to the RSRP threshold, dB.
    height_delta_m : float
        Added to every tower type's height, m.
    before_source : str
        ``reports`` (the plan's before-state), ``model`` or ``maps``.
    tower_type : str
        Every real tower built as this type instead; empty = as built.
    """

    name: str
    offset_db: float = 0.0
    height_delta_m: float = 0.0
    before_source: str = "reports"
    tower_type: str = ""


def audit_cases(type_names: tuple[str, ...], type_heights_m: tuple[float, ...], *,
                has_reports: bool, has_maps: bool) -> tuple[AuditCase, ...]:
    """The cases of the band, the base case first.

    Examples
    --------
    >>> [c.name for c in audit_cases(("a", "b"), (42.0, 32.0), has_reports=True,
    ...                              has_maps=False)]  # doctest: +NORMALIZE_WHITESPACE
    ['base', 'threshold_minus_5db', 'threshold_plus_5db', 'height_minus_10m',
     'height_plus_10m', 'type:a', 'type:b', 'before_from_model']
    """
    out = [AuditCase("base"),
           AuditCase("threshold_minus_5db", offset_db=-THRESHOLD_STEP_DB),
           AuditCase("threshold_plus_5db", offset_db=THRESHOLD_STEP_DB)]
    if all(h - HEIGHT_STEP_M > 0 for h in type_heights_m):
        out.append(AuditCase("height_minus_10m", height_delta_m=-HEIGHT_STEP_M))
    out.append(AuditCase("height_plus_10m", height_delta_m=HEIGHT_STEP_M))
    if len(type_names) > 1:
        out += [AuditCase(f"type:{name}", tower_type=name) for name in type_names]
    if has_reports or has_maps:
        out.append(AuditCase("before_from_model", before_source="model"))
    if has_reports and has_maps:
        out.append(AuditCase("before_from_maps", before_source="maps"))
    return tuple(out)


def _case_built(sc: Scenario, case: AuditCase, base: ProgrammeProblem
                ) -> tuple[ProgrammeBuilt, ...]:
    """The real towers of a case: at the base case's sites (and of another type)."""
    built = []
    for b, (k, _) in zip(sc.programme.built, base.locked, strict=True):
        site = str(base.sites["site_id"].iloc[int(base.options.site[k])])
        if b.village:
            b = dataclasses.replace(b, village="", site=site)
        if case.tower_type:
            b = dataclasses.replace(b, type=case.tower_type)
        built.append(b)
    return tuple(built)


def _case_problem(sc: Scenario, case: AuditCase, problem: SelectionProblem,
                  base: ProgrammeProblem, cover: ProgrammeCoverage,
                  existing: ExistingCoverage) -> ProgrammeProblem:
    state = problem.state
    link = state.link
    level = threshold_shift_db(link, case.offset_db)
    moved = dataclasses.replace(link, threshold_rsrp_dbm=link.threshold_rsrp_dbm
                                + case.offset_db)
    case_problem = dataclasses.replace(problem, state=dataclasses.replace(state, link=moved))
    types = tuple(dataclasses.replace(t, height_m=t.height_m + case.height_delta_m)
                  for t in sc.all_tower_types)
    return programme_problem(sc, case_problem, cover.heights(case.offset_db),
                             committed_first_year=committed_first_year(existing, level),
                             served_base=before_served(state, case.before_source,
                                                       level_dbm=level),
                             tower_types=types, built=_case_built(sc, case, base))


def _audit(sc: Scenario, prob: ProgrammeProblem, n_years: int) -> SequenceAudit:
    o = prob.options
    real = [(k, y) for k, y in prob.locked if y < n_years]
    return audit_sequence(prob.cover, o.site, prob.weights, prob.served[:n_years], o.pay,
                          o.opex, prob.discount[:n_years], real,
                          carry_over=sc.programme.carry_over,
                          time_limit_s=sc.selection.time_limit_s)


def _programme_audit(ctx: StageContext, *, load: VectorInputs, terrain: TerrainInputs,
                     demand: DemandUnits, existing_coverage: ExistingCoverage,
                     before: pd.DataFrame, backhaul: CostedCandidates,
                     candidate_coverage: sp.csr_matrix, coverage_maps: MapCoverage,
                     programme_coverage: ProgrammeCoverage,
                     programme: Programmed | None) -> pd.DataFrame | None:
    sc = ctx.scenario
    if programme is None or not sc.programme.built:
        return None
    ctx.report("programme audit")
    state = current_state(sc.radio, load, terrain, demand, existing_coverage, before,
                          coverage_maps)
    problem = selection_problem(state, backhaul.candidates, candidate_coverage)
    base = programme.problem
    n_years = max(base.years.index(b.year) for b in sc.programme.built) + 1
    types = sc.all_tower_types
    has_reports = bool("served_reported" in before
                       and np.isfinite(before["served_reported"].to_numpy(float)).any())
    cases = audit_cases(tuple(t.name for t in types), tuple(float(t.height_m) for t in types),
                        has_reports=has_reports, has_maps=state.covered_maps is not None)
    audits = {}
    for case in cases:
        # people-years whatever the programme's objective, like the single-budget audit
        prob = dataclasses.replace(base, weights=np.asarray(demand.weight, dtype=float)) \
            if case.name == "base" else _case_problem(sc, case, problem, base,
                                                      programme_coverage, existing_coverage)
        audits[case.name] = _audit(sc, prob, n_years)
    band = sensitivity_band(audits)
    log.info("programme audit: %d cases, real sequence %.1f-%.1f %% of the optimum",
             len(band), band["share_pct"].min(), band["share_pct"].max())
    return band


STAGE = Stage(name="programme_audit", run=_programme_audit,
              needs=("load", "terrain", "demand", "existing_coverage", "before", "backhaul",
                     "candidate_coverage", "coverage_maps", "programme_coverage", "programme"),
              label="programme audit",
              reads=("programme", "all_channels", "all_tower_types", "radio",
                     "coverage", "costs", "backhaul", "selection.time_limit_s"))
