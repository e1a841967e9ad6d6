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
from towerplan.coverage.composite import coverage_matrix, rsrp_matrix
from towerplan.coverage.context import radio_context
from towerplan.io.cache import describe
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.coverage.composite import TerrainContext
    from towerplan.coverage.raster import LinkParams
    from towerplan.inputs import TerrainInputs

__all__ = ["BATCH_SITES", "STAGE", "coverage_rows"]

#: Candidates per cached batch.
BATCH_SITES = 64
#: What a coverage matrix is (:func:`towerplan.io.cache.describe`).
_CSR = describe(sp.csr_matrix((0, 0)))["type"]


def _batch_key(base: str, xy: np.ndarray, height_m: np.ndarray) -> str:
    digest = hashlib.sha256(base.encode())
    digest.update(np.ascontiguousarray(xy, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(height_m, dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


def coverage_rows(ctx: StageContext, store: str, xy: np.ndarray, height_m: np.ndarray,
                  demand_xy: np.ndarray, link: LinkParams, context: TerrainContext | None,
                  *, label: str = "candidate coverage",
                  floor_dbm: float | None = None) -> sp.csr_matrix:
    """Coverage matrix of sites ``(n, n_units)``, evaluated in batches of
    :data:`BATCH_SITES`, each cached in *store* under the stage's base key and the batch's
    positions and heights; with *floor_dbm*, the RSRP matrix down to that floor
    (:func:`~towerplan.coverage.composite.rsrp_matrix`) instead of the boolean one."""
    n = len(height_m)
    parts: list[sp.csr_matrix] = []
    base = ctx.base_key if floor_dbm is None else f"{ctx.base_key}:rsrp>={floor_dbm!r}"
    dtype = np.dtype(bool if floor_dbm is None else np.float32)
    for start in range(0, n, BATCH_SITES):
        bxy, h = xy[start:start + BATCH_SITES], height_m[start:start + BATCH_SITES]
        key = _batch_key(base, bxy, h)
        # a batch read back must be a CSR matrix of this batch's sites by the demand units
        expect = {"type": _CSR, "shape": [len(h), len(demand_xy)], "dtype": dtype.str}
        hit, block = ctx.cache.load(store, key, expect=expect) if ctx.cache else (False, None)
        if not hit:
            block = coverage_matrix(bxy, h, demand_xy, link, context) if floor_dbm is None \
                else rsrp_matrix(bxy, h, demand_xy, link, context, floor_dbm=floor_dbm)
            if ctx.cache is not None:
                ctx.cache.store(store, key, block)
        parts.append(block)
        ctx.report(f"{label} {min(start + BATCH_SITES, n)}/{n}")
    if not parts:
        return sp.csr_matrix((0, len(demand_xy)), dtype=dtype)
    return sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=dtype)


def _coverage(ctx: StageContext, *, terrain: TerrainInputs, demand: DemandUnits,
              candidates: pd.DataFrame) -> sp.csr_matrix:
    link, context = radio_context(ctx.scenario.radio, terrain.dem, terrain.landcover,
                                  source_cell_m=terrain.source_cell_m)
    sites = Sites.from_xy_columns(candidates)
    return coverage_rows(ctx, "candidate_coverage", sites.xy, sites.height_m, demand.xy,
                         link, context)


def _check(matrix: Any, inputs: Mapping[str, Any]) -> str | None:
    """Why a cached matrix does not fit its candidates and demand units, or None."""
    shape = (len(inputs["candidates"]), len(inputs["demand"].xy))
    if not sp.issparse(matrix) or matrix.shape != shape or matrix.dtype != np.dtype(bool):
        found = getattr(matrix, "shape", None), getattr(matrix, "dtype", type(matrix).__name__)
        return (f"it holds a {found[0]} {found[1]} matrix where the {shape[0]} candidates by "
                f"{shape[1]} demand units need a {shape} bool one")
    return None


def _positions(inputs: Mapping[str, Any]) -> list[Any]:
    sites = Sites.from_xy_columns(inputs["candidates"])
    return [sites.xy, sites.height_m]


STAGE = Stage(name="candidate_coverage", run=_coverage,
              needs=("terrain", "demand", "candidates"), keyed=("terrain", "demand"),
              content=_positions, label="candidate coverage", reads=("radio",), check=_check)
