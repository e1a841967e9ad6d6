"""Stage ``candidate_coverage``: which demand units each candidate covers (sparse matrix).

The stage's key holds the candidates' positions and heights, not their costs, so a changed cost
reuses the whole matrix. Inside, the candidates are evaluated in batches of
:data:`BATCH_SITES` sites and the results cached in parts, so an interrupted run resumes with
the parts it finished and a changed set of candidates recomputes only the parts that changed:

- with a terrain chain (the sweep), each site's RSRP row down to a floor 5-10 dB below the
  threshold, on a 5 dB lattice (:data:`FLOOR_STEP_DB`), under a key of the stage's code, the
  radio settings *without the threshold*, terrain, demand, the floor and the site's position
  and height. The coverage is that row at the threshold, so a new threshold within about
  5 dB of a cached one (and a candidate set that changed with it) sweeps only new sites. The
  row is the RSRP without the uplink shortfall (which depends on the threshold); the
  comparison is with the threshold plus that shortfall, the same test as the design RSRP
  against the threshold;
- with a distance-only chain (closed form, cheap), each batch's coverage at the threshold.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.problem import Sites
from towerplan.coverage.composite import coverage_matrix, rsrp_matrix
from towerplan.coverage.context import radio_context
from towerplan.errors import ExecutorError
from towerplan.io.cache import describe
from towerplan.pipeline.graph import Stage, StageContext

if TYPE_CHECKING:
    from collections.abc import Mapping

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.coverage.composite import TerrainContext
    from towerplan.coverage.raster import LinkParams
    from towerplan.inputs import TerrainInputs

__all__ = ["BATCH_SITES", "FLOOR_STEP_DB", "STAGE", "SiteBatches", "coverage_rows",
           "spatial_order", "units_in_reach"]

#: Candidates per cached batch.
BATCH_SITES = 64
#: What a coverage matrix is (:func:`towerplan.io.cache.describe`).
_CSR = describe(sp.csr_matrix((0, 0)))["type"]
#: Lattice of the floors of cached RSRP rows, dB; rows are made 5-10 dB below the threshold
#: and found from up to 10 dB below it.
FLOOR_STEP_DB = 5.0


def _batch_key(base: str, xy: np.ndarray, height_m: np.ndarray) -> str:
    digest = hashlib.sha256(base.encode())
    digest.update(np.ascontiguousarray(xy, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(height_m, dtype=np.float64).tobytes())
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Shared:
    """What every batch of one call needs, sent to each worker once: the demand units
    ``(k, 2)`` m, the link and the floor of an RSRP matrix, dBm (None: the boolean coverage
    at the link's threshold). The terrain comes with each batch (:class:`SiteBatches`)."""

    demand_xy: np.ndarray
    link: LinkParams
    floor_dbm: float | None


def _batch(shared: _Shared, task: tuple[np.ndarray, np.ndarray, TerrainContext | None]
           ) -> sp.csr_matrix:
    """One batch of sites (positions ``(n, 2)`` and heights ``(n,)``, m, and the part of
    the terrain their sweeps read): its coverage or RSRP matrix. Runs on a worker of the
    run's executor."""
    xy, height_m, part = task
    near = units_in_reach(shared.demand_xy, xy, shared.link.max_radius_m)
    units = shared.demand_xy[near]
    if shared.floor_dbm is None:
        block = coverage_matrix(xy, height_m, units, shared.link, part)
    else:
        block = rsrp_matrix(xy, height_m, units, shared.link, part,
                            floor_dbm=shared.floor_dbm)
    # the columns of the units in reach, back to the columns of all demand units (both in
    # ascending order, so each row stays sorted)
    return sp.csr_matrix((block.data, near[block.indices], block.indptr),
                         shape=(len(height_m), len(shared.demand_xy)))


def units_in_reach(demand_xy_m: np.ndarray, site_xy_m: np.ndarray, radius_m: float
                   ) -> np.ndarray:
    """Indices, ascending, of the demand units ``(k, 2)`` that sites ``(n, 2)`` may reach:
    those in the sites' bounding box widened by *radius_m* (and 1 m against rounding), a
    superset of the units within *radius_m* of any site.

    A batch evaluates its sites against these units only, so that the search tree and the
    cell positions of the units are built for the batch's neighbourhood, not for every
    unit of the region (1.6 M in a province: about 0.4 s per batch).

    Examples
    --------
    >>> units = np.array([[0.0, 0.0], [5_000.0, 0.0], [30_000.0, 0.0], [0.0, -9_000.0]])
    >>> units_in_reach(units, np.array([[1_000.0, 0.0]]), 10_000.0)
    array([0, 1, 3])
    """
    units = np.asarray(demand_xy_m, dtype=float).reshape(-1, 2)
    sites = np.asarray(site_xy_m, dtype=float).reshape(-1, 2)
    if not len(sites):
        return np.empty(0, dtype=np.int64)
    lo = sites.min(axis=0) - (radius_m + 1.0)
    hi = sites.max(axis=0) + (radius_m + 1.0)
    inside = ((units[:, 0] >= lo[0]) & (units[:, 0] <= hi[0])
              & (units[:, 1] >= lo[1]) & (units[:, 1] <= hi[1]))
    return np.flatnonzero(inside)


def spatial_order(xy_m: np.ndarray, *, bits: int = 10) -> np.ndarray:
    """Indices that put sites ``(n, 2)``, m, in the order of a Hilbert curve over their
    bounding box (on a ``2**bits`` lattice; ties keep their order), so that consecutive sites
    are near each other and a batch of them reads a compact part of the terrain.

    Examples
    --------
    >>> spatial_order(np.array([[0.0, 0.0], [10.0, 10.0], [0.0, 10.0], [10.0, 0.0]]))
    array([0, 2, 1, 3])
    """
    pts = np.asarray(xy_m, dtype=float).reshape(-1, 2)
    if len(pts) < 2:
        return np.arange(len(pts))
    side = 1 << bits
    lo = pts.min(axis=0)
    span = max(float((pts.max(axis=0) - lo).max()), 1e-9)
    q = np.minimum(((pts - lo) / span * side).astype(np.int64), side - 1)
    x, y = q[:, 0].copy(), q[:, 1].copy()
    d = np.zeros(len(pts), dtype=np.int64)
    s = side >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, side - 1 - x, x)
        y = np.where(flip, side - 1 - y, y)
        swap = ~ry
        x, y = np.where(swap, y, x), np.where(swap, x, y)
        s >>= 1
    return np.argsort(d, kind="stable")


class SiteBatches(Sequence[tuple[np.ndarray, np.ndarray, "TerrainContext | None"]]):
    """The executor's tasks: batch *k* is the sites ``chunks[k]``, with the part of the
    terrain their sweeps read (:meth:`TerrainContext.part`), cut when the executor takes the
    batch, so that only the batches queued at a time hold a part in memory."""

    def __init__(self, xy: np.ndarray, height_m: np.ndarray, chunks: list[np.ndarray],
                 context: TerrainContext | None, radius_m: float) -> None:
        self.xy, self.height_m, self.chunks = xy, height_m, chunks
        self.context, self.radius_m = context, radius_m

    def __len__(self) -> int:
        return len(self.chunks)

    @overload
    def __getitem__(self, k: int) -> tuple[np.ndarray, np.ndarray, TerrainContext | None]: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[
        tuple[np.ndarray, np.ndarray, TerrainContext | None]]: ...

    def __getitem__(self, k: int | slice) -> Any:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        idx = self.chunks[k]
        xy = self.xy[idx]
        part = None if self.context is None else self.context.part(xy, self.radius_m)
        return xy, self.height_m[idx], part


def coverage_rows(ctx: StageContext, store: str, xy: np.ndarray, height_m: np.ndarray,
                  demand_xy: np.ndarray, link: LinkParams, context: TerrainContext | None,
                  *, label: str = "candidate coverage",
                  floor_dbm: float | None = None) -> sp.csr_matrix:
    """Coverage matrix of sites ``(n, n_units)``, evaluated in batches of
    :data:`BATCH_SITES` sites near each other (:func:`spatial_order`), each cached in
    *store* under the stage's base key and the batch's positions and heights; with
    *floor_dbm*, the RSRP matrix down to that floor
    (:func:`~towerplan.coverage.composite.rsrp_matrix`) instead of the boolean one.

    The batches not in the cache are computed by the run's executor (``ctx.executor``), each
    with only its part of the terrain, and stored here, by this process, as each one
    finishes."""
    if floor_dbm is None and context is not None:
        return _rows_at_threshold(ctx, store, xy, height_m, demand_xy, link, context,
                                  label=label)
    n = len(height_m)
    base = ctx.base_key if floor_dbm is None else f"{ctx.base_key}:rsrp>={floor_dbm!r}"
    dtype = np.dtype(bool if floor_dbm is None else np.float32)
    order = spatial_order(xy)
    spans = [order[b:b + BATCH_SITES] for b in range(0, n, BATCH_SITES)]
    keys = [_batch_key(base, xy[s], height_m[s]) for s in spans]
    parts: list[sp.csr_matrix | None] = [None] * len(spans)
    for k, s in enumerate(spans):
        # a batch read back must be a CSR matrix of this batch's sites by the demand units
        expect = {"type": _CSR, "shape": [len(s), len(demand_xy)], "dtype": dtype.str}
        hit, block = (ctx.cache.load(store, keys[k], expect=expect) if ctx.cache
                      else (False, None))
        parts[k] = block if hit else None
    todo = [k for k in range(len(spans)) if parts[k] is None]
    tasks = SiteBatches(xy, height_m, [spans[k] for k in todo], context, float(link.max_radius_m))
    done = n - sum(len(spans[k]) for k in todo)
    shared = _Shared(demand_xy, link, floor_dbm)
    for j, block in ctx.map_batches(_batch, tasks, shared=shared):
        k = todo[j]
        if ctx.cache is not None:
            ctx.cache.store(store, keys[k], block)
        parts[k] = block
        done += len(spans[k])
        ctx.report(f"{label} {done}/{n}")
    if not parts:
        return sp.csr_matrix((0, len(demand_xy)), dtype=dtype)
    stacked = sp.csr_matrix(sp.vstack(parts, format="csr"), dtype=dtype)
    return stacked[np.argsort(order)]


def _rows_at_threshold(ctx: StageContext, store: str, xy: np.ndarray, height_m: np.ndarray,
                       demand_xy: np.ndarray, link: LinkParams, context: TerrainContext, *,
                       label: str) -> sp.csr_matrix:
    """Coverage rows of a terrain chain from per-site RSRP rows cached under
    ``ctx.part_key`` (see the module docstring); the sites without a cached row are
    computed in batches of sites near each other by the run's executor, and each row stored
    as its batch finishes."""
    effective = link.threshold_rsrp_dbm + link.uplink_shortfall_db
    # any threshold above the effective one leaves no uplink shortfall: the RSRP rows of
    # this link do not depend on the threshold
    pure = dataclasses.replace(link, threshold_rsrp_dbm=effective + 1.0)
    top = FLOOR_STEP_DB * math.floor(effective / FLOOR_STEP_DB)
    floors = [top - k * FLOOR_STEP_DB for k in range(3)]

    def key(i: int, floor: float) -> str:
        return _batch_key(f"{ctx.part_key}:rsrp>={floor!r}", xy[i:i + 1], height_m[i:i + 1])

    n = len(height_m)
    cache = ctx.cache
    # each site's covered demand units (column indices, ascending), reduced from its RSRP
    # row as the row is read or arrives: the RSRP rows themselves stay on disk only
    rows: list[np.ndarray | None] = [None] * n

    def covered(row: sp.csr_matrix) -> np.ndarray:
        return np.asarray(row.indices[row.data >= effective])

    # a row read back must be a CSR matrix of one site by the demand units, RSRP in float32
    expect = {"type": _CSR, "shape": [1, len(demand_xy)], "dtype": np.dtype(np.float32).str}
    for i in range(n):
        for floor in floors if cache is not None else ():
            assert cache is not None
            hit, row = cache.load(store, key(i, floor), expect=expect)
            if hit:
                rows[i] = covered(row)
                break
    missing = np.array([i for i in range(n) if rows[i] is None], dtype=np.int64)
    missing = missing[spatial_order(xy[missing])]
    done = n - len(missing)
    chunks = [missing[b:b + BATCH_SITES] for b in range(0, len(missing), BATCH_SITES)]
    tasks = SiteBatches(xy, height_m, chunks, context, float(link.max_radius_m))
    shared = _Shared(demand_xy, pure, floors[1])
    for k, block in ctx.map_batches(_batch, tasks, shared=shared):
        for j, i in enumerate(chunks[k]):
            row = block[j]
            if cache is not None:
                cache.store(store, key(int(i), floors[1]), row)
            rows[i] = covered(row)
        done += len(chunks[k])
        ctx.report(f"{label} {done}/{n}")
    if not n:
        return sp.csr_matrix((0, len(demand_xy)), dtype=bool)
    found = [r for r in rows if r is not None]
    if len(found) != n:  # the executor yields every batch or raises
        msg = (f"{label}: {n - len(found)} of {n} rows missing after the batches; run "
               "again to compute them")
        raise ExecutorError(msg)
    indptr = np.zeros(n + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in found])
    indices = np.concatenate(found)
    return sp.csr_matrix((np.ones(len(indices), dtype=bool), indices, indptr),
                         shape=(n, len(demand_xy)))


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
              content=_positions, label="candidate coverage", reads=("radio",), check=_check,
              part_ignores=("radio.threshold_rsrp_dbm",))
