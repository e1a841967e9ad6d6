"""Stage ``tower_heights``: the cases a programme's coverage is computed for: each tower
type's antenna height and, when ``[[programme.built]]`` is audited, 10 m either side of it
and the RSRP threshold 5 dB either side; empty without ``[programme] years``.

Only these numbers, not the types' costs, go on to stage ``programme_coverage``, so a
changed cost reuses the coverage.
"""

from __future__ import annotations

from dataclasses import dataclass

from towerplan.pipeline.graph import Stage, StageContext

__all__ = ["HEIGHT_STEP_M", "STAGE", "THRESHOLD_STEP_DB", "CoverageCases", "coverage_cases"]

#: The audit's tower-height sensitivity: each type's height this much lower and higher, m.
HEIGHT_STEP_M = 10.0
#: The audit's threshold sensitivity: the RSRP threshold this much lower and higher, dB.
THRESHOLD_STEP_DB = 5.0


@dataclass(frozen=True, slots=True)
class CoverageCases:
    """Heights and threshold offsets a programme's coverage is computed at.

    Attributes
    ----------
    heights_m : tuple of float
        Antenna heights, m (sorted).
    offsets_db : tuple of float
        RSRP threshold offsets from ``[radio] threshold_rsrp_dbm``, dB.
    """

    heights_m: tuple[float, ...] = ()
    offsets_db: tuple[float, ...] = (0.0,)


def coverage_cases(type_heights_m: tuple[float, ...], audited: bool) -> CoverageCases:
    """The types' heights and, when *audited*, each +- :data:`HEIGHT_STEP_M` and the
    threshold +- :data:`THRESHOLD_STEP_DB`.

    Examples
    --------
    >>> coverage_cases((72.0, 42.0), True)
    CoverageCases(heights_m=(32.0, 42.0, 52.0, 62.0, 72.0, 82.0), offsets_db=(-5.0, 0.0, 5.0))
    """
    out = set(type_heights_m)
    if not audited:
        return CoverageCases(tuple(sorted(float(h) for h in out)))
    out |= {h + d for h in type_heights_m for d in (-HEIGHT_STEP_M, HEIGHT_STEP_M) if h + d > 0}
    return CoverageCases(tuple(sorted(float(h) for h in out)),
                         (-THRESHOLD_STEP_DB, 0.0, THRESHOLD_STEP_DB))


def _cases(ctx: StageContext) -> CoverageCases:
    sc = ctx.scenario
    if not sc.programme.years:
        return CoverageCases()
    return coverage_cases(tuple(float(t.height_m) for t in sc.all_tower_types),
                          bool(sc.programme.built))


STAGE = Stage(name="tower_heights", run=_cases, cache=False,
              reads=("programme.years", "programme.built", "all_tower_types"))
