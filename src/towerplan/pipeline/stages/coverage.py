"""Stage ``candidate_coverage``: which demand units each candidate covers (sparse matrix).

The stage's key holds the candidates' positions and heights, not their costs, so a changed cost
reuses the whole matrix. Inside, the candidates are evaluated in batches of
:data:`BATCH_SITES` sites, each cached under a key of its own (the stage's code, radio
settings, terrain and demand, and the batch's positions and heights), so an interrupted run
resumes with the batches it finished and a changed set of candidates recomputes only the
batches that changed.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.problem import Sites
from towerplan.coverage.composite import coverage_matrix
from towerplan.coverage.context import radio_context
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.inputs import TerrainInputs

__all__ = ["BATCH_SITES", "STAGE"]

#: Candidates per cached batch.
BATCH_SITES = 64


def _batch_key(base: str, xy: np.ndarray, height_m: np.ndarray) -> str:
    digest = hashlib.sha256(base.encode())
    digest.update(np.ascontiguousarray(xy, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(height_m, dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


def _coverage(ctx: StageContext, *, terrain: TerrainInputs, demand: DemandUnits,
              candidates: pd.DataFrame) -> sp.csr_matrix:
    link, context = radio_context(ctx.scenario.radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    sites = Sites.from_xy_columns(candidates)
    n = len(sites)
    parts: list[sp.csr_matrix] = []
    for start in range(0, n, BATCH_SITES):
        xy, h = sites.xy[start:start + BATCH_SITES], sites.height_m[start:start + BATCH_SITES]
        key = _batch_key(ctx.base_key, xy, h)
        hit, block = ctx.cache.load("candidate_coverage", key) if ctx.cache else (False, None)
        if not hit:
            block = coverage_matrix(xy, h, demand.xy, link, context)
            if ctx.cache is not None:
                ctx.cache.store("candidate_coverage", key, block)
        parts.append(block)
        ctx.report(f"candidate coverage {min(start + BATCH_SITES, n)}/{n}")
    if not parts:
        return sp.csr_matrix((0, len(demand)), dtype=bool)
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=bool)


def _positions(inputs: Mapping[str, Any]) -> list[Any]:
    sites = Sites.from_xy_columns(inputs["candidates"])
    return [sites.xy, sites.height_m]


STAGE = Stage(name="candidate_coverage", run=_coverage,
              needs=("terrain", "demand", "candidates"), keyed=("terrain", "demand"),
              content=_positions, label="candidate coverage", reads=("radio",))
