"""What the coverage maps (``[inputs] coverage_maps``) say about today's coverage.

:func:`map_coverage` gives, per demand unit, the best technology any map shows there and
whether that is at or above the coverage target; on the terrain grid the same; and per map
what it covers. The before-state (:func:`towerplan.analysis.evidence.before_state`) counts a
unit a map covers at the target as served today unless its village has a signal report
(reports > maps > model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.io.coverage_maps import (
    CoverageMap,
    grid_levels,
    target_level,
    technology_name,
    unit_levels,
)

if TYPE_CHECKING:
    from affine import Affine
    from pyproj import CRS

    from towerplan.analysis.blankspots import DemandUnits

__all__ = ["MapCoverage", "map_coverage", "village_map_technology"]


@dataclass(frozen=True, slots=True)
class MapCoverage:
    """Today's coverage according to the coverage maps.

    Attributes
    ----------
    level : numpy.ndarray of uint8
        Per demand unit, the best technology rank any map shows
        (:data:`~towerplan.io.coverage_maps.LEVELS`; 0 = no map covers it).
    covered : numpy.ndarray of bool
        Per demand unit, a map covers it at or above the coverage target.
    grid_covered : numpy.ndarray of bool or None
        The same on the terrain grid; None without maps or without a grid.
    maps : tuple of dict
        Per map: ``file``, ``kind``, ``technology`` (list), ``operator``, ``date``,
        ``source``, ``threshold_dbm`` (rsrp rasters), ``units_covered`` (demand units inside
        the map at any technology), ``units_covered_at_target`` and ``demand_covered`` (the
        demand of the units it covers at the target: people when population is known).
    target : str
        The coverage target the maps were read against.
    """

    level: np.ndarray
    covered: np.ndarray
    grid_covered: np.ndarray | None
    maps: tuple[dict[str, Any], ...]
    target: str

    @classmethod
    def empty(cls, n_units: int, target: str) -> MapCoverage:
        """No maps: nothing covered."""
        return cls(np.zeros(n_units, dtype=np.uint8), np.zeros(n_units, dtype=bool), None, (),
                   target)


def map_coverage(maps: Sequence[CoverageMap], units: DemandUnits, crs: CRS, target: str, *,
                 grid: tuple[Affine, tuple[int, int]] | None = None) -> MapCoverage:
    """Best technology per demand unit (and grid cell) over every map, and what each covers.

    Parameters
    ----------
    maps : sequence of CoverageMap
        Read by :func:`~towerplan.io.coverage_maps.read_coverage_maps`.
    units : DemandUnits
        Demand units in *crs*.
    crs : pyproj.CRS
        Working CRS.
    target : str
        ``[coverage] target`` (``"4g"`` or ``"signal"``).
    grid : (affine.Affine, (rows, cols)) or None
        The terrain grid in *crs*, for :attr:`MapCoverage.grid_covered`.
    """
    n = len(units.weight)
    if not maps:
        return MapCoverage.empty(n, target)
    need = target_level(target)
    xy = units.xy
    best = np.zeros(n, dtype=np.uint8)
    entries: list[dict[str, Any]] = []
    for one in maps:
        level = unit_levels(one, xy[:, 0], xy[:, 1], crs)
        np.maximum(best, level, out=best)
        at_target = level >= need
        entry: dict[str, Any] = {
            "file": one.name, "kind": one.kind, "technology": list(one.technologies),
            "operator": one.spec.operator, "date": one.spec.date, "source": one.spec.source,
            "units_covered": int((level > 0).sum()),
            "units_covered_at_target": int(at_target.sum()),
            "demand_covered": round(float(units.weight[at_target].sum()), 1),
        }
        if one.kind == "rsrp":
            entry["threshold_dbm"] = one.spec.threshold_dbm
        entries.append(entry)
    grid_covered = None
    if grid is not None:
        transform, shape = grid
        cells = np.zeros(shape, dtype=np.uint8)
        for one in maps:
            np.maximum(cells, grid_levels(one, transform, shape, crs), out=cells)
        grid_covered = cells >= need
    return MapCoverage(best, best >= need, grid_covered, tuple(entries), target)


def village_map_technology(level: np.ndarray, unit_village: np.ndarray, n_villages: int
                           ) -> list[str]:
    """Per village, the best technology the maps show at any of its units (``""`` none)."""
    best = np.zeros(n_villages, dtype=np.uint8)
    np.maximum.at(best, np.asarray(unit_village, dtype=np.int64), np.asarray(level, np.uint8))
    return [technology_name(int(v)) for v in best]
