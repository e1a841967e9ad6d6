"""Stage ``programme_coverage``: which demand units every candidate covers at each tower
type's height (and, for an audited programme, at 10 m either side and at the threshold 5 dB
either side).

Rows of candidates whose own height is the case's height are taken from stage
``candidate_coverage``; the others are evaluated in cached batches like the candidate
coverage. An audited programme evaluates each height once for the RSRP down to the lowest
threshold and reads every threshold off it. The key holds the candidates' positions and
heights and the cases (stage ``tower_heights``), not the costs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from towerplan.analysis.problem import Sites
from towerplan.coverage.context import radio_context
from towerplan.pipeline.graph import Stage, StageContext
from towerplan.pipeline.stages.coverage import coverage_rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.coverage.raster import LinkParams
    from towerplan.inputs import TerrainInputs
    from towerplan.pipeline.stages.tower_heights import CoverageCases

__all__ = ["STAGE", "ProgrammeCoverage", "threshold_shift_db"]


@dataclass(frozen=True, slots=True)
class ProgrammeCoverage:
    """Coverage of every candidate per case.

    Attributes
    ----------
    matrices : dict
        ``(height_m, threshold offset dB)`` -> ``(n_candidates, n_units)`` bool matrix.
    """

    matrices: dict[tuple[float, float], sp.csr_matrix] = field(default_factory=dict)

    def at(self, height_m: float, offset_db: float = 0.0) -> sp.csr_matrix:
        """Coverage at one height and threshold offset."""
        return self.matrices[(float(height_m), float(offset_db))]

    def heights(self, offset_db: float = 0.0) -> dict[float, sp.csr_matrix]:
        """Coverage per height at one threshold offset."""
        return {h: m for (h, o), m in self.matrices.items() if o == float(offset_db)}


def threshold_shift_db(link: LinkParams, offset_db: float) -> float:
    """The design RSRP threshold of *link* moved by *offset_db*, as a threshold on the RSRP
    of *link* itself: a lower threshold can make the uplink the limit, which lowers the
    design RSRP (the link budget's offset), so the shift is not the offset alone, dBm."""
    moved = dataclasses.replace(link, threshold_rsrp_dbm=link.threshold_rsrp_dbm + offset_db)
    return float(moved.threshold_rsrp_dbm + moved.budget_offset_db - link.budget_offset_db)


def _at_height(stacked: sp.csr_matrix, equal: np.ndarray, computed: sp.csr_matrix
               ) -> sp.csr_matrix:
    """Rows of the candidate matrix where *equal*, of *computed* (in order) elsewhere."""
    n = len(equal)
    order = np.where(equal, np.arange(n), n + np.cumsum(~equal) - 1)
    return sp.csr_matrix(sp.vstack([stacked, computed], format="csr")[order], dtype=bool)


def _programme_coverage(ctx: StageContext, *, terrain: TerrainInputs, demand: DemandUnits,
                        candidates: pd.DataFrame, candidate_coverage: sp.csr_matrix,
                        tower_heights: CoverageCases) -> ProgrammeCoverage:
    cases = tower_heights
    if not cases.heights_m:
        return ProgrammeCoverage()
    link, context = radio_context(ctx.scenario.radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    sites = Sites.from_xy_columns(candidates)
    out: dict[tuple[float, float], sp.csr_matrix] = {}
    if cases.offsets_db == (0.0,):
        for h in cases.heights_m:
            equal = sites.height_m == h
            rest = np.flatnonzero(~equal)
            computed = coverage_rows(ctx, "programme_coverage", sites.xy[rest],
                                     np.full(len(rest), h), demand.xy, link, context,
                                     label=f"coverage at {h:g} m")
            out[(h, 0.0)] = _at_height(candidate_coverage, equal, computed)
        return ProgrammeCoverage(out)
    shifts = {o: threshold_shift_db(link, o) for o in cases.offsets_db}
    floor = min(shifts.values())
    for h in cases.heights_m:
        rsrp = coverage_rows(ctx, "programme_coverage", sites.xy, np.full(len(sites), h),
                             demand.xy, link, context, label=f"coverage at {h:g} m",
                             floor_dbm=floor)
        for o, level in shifts.items():
            hit = rsrp.copy()
            hit.data = hit.data >= level
            hit.eliminate_zeros()
            out[(h, float(o))] = sp.csr_matrix(hit, dtype=bool)
    return ProgrammeCoverage(out)


def _content(inputs: Mapping[str, Any]) -> list[Any]:
    sites = Sites.from_xy_columns(inputs["candidates"])
    cases = inputs["tower_heights"]
    return [sites.xy, sites.height_m, list(cases.heights_m), list(cases.offsets_db)]


STAGE = Stage(name="programme_coverage", run=_programme_coverage,
              needs=("terrain", "demand", "candidates", "candidate_coverage", "tower_heights"),
              keyed=("terrain", "demand"), content=_content, label="programme coverage",
              reads=("radio",))
