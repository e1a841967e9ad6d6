"""What the analysis stages hand to each other: today's state and the selection problem.

These frozen value objects are assembled by :mod:`towerplan.pipeline` from the results of
its stages; the adapters of :mod:`towerplan.analysis` (selection, backhaul, audit, ranking)
read them and never change them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from towerplan.analysis.blankspots import BLANK
from towerplan.analysis.evidence import covered_today

if TYPE_CHECKING:
    import geopandas as gpd

    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.coverage.composite import BestServer, TerrainContext
    from towerplan.coverage.raster import LinkParams
    from towerplan.inputs import LoadedInputs

__all__ = ["CurrentState", "SelectionProblem", "Sites", "with_demand_alone"]


@dataclass(frozen=True, slots=True)
class Sites:
    """Positions (working CRS) and antenna heights of a set of sites.

    Attributes
    ----------
    xy : numpy.ndarray
        ``(n, 2)`` positions, m.
    height_m : numpy.ndarray
        ``(n,)`` antenna heights above ground, m.
    """

    xy: np.ndarray
    height_m: np.ndarray

    @classmethod
    def from_points(cls, frame: gpd.GeoDataFrame, *, height: str = "height_m") -> Sites:
        """Sites of a point GeoDataFrame (its geometry and *height* column)."""
        if not len(frame):
            return cls(np.empty((0, 2)), np.empty(0))
        return cls(np.column_stack([frame.geometry.x, frame.geometry.y]),
                   frame[height].to_numpy(float))

    @classmethod
    def from_xy_columns(cls, frame: pd.DataFrame) -> Sites:
        """Sites of a table with ``x``, ``y`` and ``height_m`` columns."""
        return cls(frame[["x", "y"]].to_numpy(float).reshape(-1, 2),
                   frame["height_m"].to_numpy(float))

    def __len__(self) -> int:
        return len(self.height_m)


@dataclass(frozen=True, slots=True)
class CurrentState:
    """Inputs and today's coverage by the existing towers (the plan's first stages).

    Attributes
    ----------
    data : LoadedInputs
        Validated inputs in the working CRS.
    link : LinkParams
        Link budget of the scenario.
    terrain : TerrainContext or None
        Terrain for terrain-aware chains (None for distance-only chains).
    villages : geopandas.GeoDataFrame
        Villages, index 0..n-1.
    units : DemandUnits
        Demand units.
    existing : Sites
        Existing towers.
    before : BestServer
        Best server of the existing towers at each demand unit.
    stats : pandas.DataFrame
        Per-village statistics before the plan (:func:`~towerplan.analysis.evidence.
        before_state`: the signal reports where a village has one, else the model).
    covered_maps : numpy.ndarray of bool or None
        Demand units an operator or crowd coverage map covers at the coverage target
        (:mod:`towerplan.analysis.coverage_maps`); None without maps.
    committed : numpy.ndarray or None
        Demand units the committed towers of a later year than the plan year will serve at
        the target (bool); the plan counts them as served. None without any.
    """

    data: LoadedInputs
    link: LinkParams
    terrain: TerrainContext | None
    villages: gpd.GeoDataFrame
    units: DemandUnits
    existing: Sites
    before: BestServer
    stats: pd.DataFrame
    covered_maps: np.ndarray | None = None
    committed: np.ndarray | None = None

    @property
    def covered_model(self) -> np.ndarray:
        """Demand units the existing towers cover in the model (bool)."""
        return np.asarray(self.before.rsrp_dbm >= self.link.threshold_rsrp_dbm)

    @property
    def served_today(self) -> np.ndarray:
        """Demand units served today (bool): as the signal report of their village says
        where it says served or not served at the coverage target, else as modelled or as a
        coverage map shows at the target."""
        model = self.covered_model
        if self.covered_maps is not None:
            model = model | np.asarray(self.covered_maps, dtype=bool)
        if "served_reported" not in self.stats:
            return model
        return covered_today(model, self.units.village,
                             self.stats["served_reported"].to_numpy(float))

    @property
    def covered(self) -> np.ndarray:
        """Demand units the plan counts as served (bool): those served today
        (:attr:`served_today`) and those the later committed towers will serve."""
        today = self.served_today
        return today if self.committed is None else today | self.committed

    @property
    def blank_villages(self) -> np.ndarray:
        """Villages that are blank spots today (bool, one per village)."""
        return self.stats["status"].to_numpy() == BLANK

    @property
    def fresh_weight(self) -> np.ndarray:
        """Demand weight of each unit not served today (0 where it is)."""
        return np.where(self.covered, 0.0, self.units.weight)


@dataclass(frozen=True, slots=True)
class SelectionProblem:
    """Candidates and what each would cover: the input of every selection.

    Attributes
    ----------
    state : CurrentState
        Inputs and today's coverage.
    candidates : pandas.DataFrame
        Candidate sites with positions (``x``, ``y``), village, cost parts (backhaul included)
        and ``demand_alone`` (demand each would newly cover on its own).
    sites : Sites
        Candidate positions and heights.
    matrix : scipy.sparse.csr_matrix
        ``(n_candidates, n_units)``: True where a candidate covers a demand unit.
    """

    state: CurrentState
    candidates: pd.DataFrame
    sites: Sites
    matrix: Any

    @property
    def costs(self) -> np.ndarray:
        """Total cost per candidate, rupiah."""
        return self.candidates["cost_total_idr"].to_numpy(float)


def with_demand_alone(candidates: pd.DataFrame, matrix: Any,
                      fresh_weight: np.ndarray) -> pd.DataFrame:
    """A copy of *candidates* with ``demand_alone``: the demand each would newly cover."""
    out = candidates.copy()
    out["demand_alone"] = np.asarray(matrix @ fresh_weight, dtype=float).ravel() \
        if len(out) else np.empty(0)
    return out
