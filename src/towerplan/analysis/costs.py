"""Cost of each candidate site, in rupiah (DESIGN.md section 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

__all__ = ["COST_PARTS", "site_costs"]

#: Cost components, in the order reports list them.
COST_PARTS: tuple[str, ...] = (
    "cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
)


def site_costs(site_xy_m: np.ndarray, *, tower_idr: float, access_road_idr_per_km: float,
               power_idr: float, backhaul_idr: float,
               settlement_xy_m: np.ndarray | None = None,
               tower_override_idr: np.ndarray | None = None) -> pd.DataFrame:
    """Cost parts and total per site.

    Parameters
    ----------
    site_xy_m : numpy.ndarray
        ``(n, 2)`` site positions in a metric CRS, m.
    tower_idr : float
        Tower cost per site, rupiah.
    access_road_idr_per_km : float
        Road cost per km of straight-line distance to the nearest settlement, rupiah/km.
        Ignored (0) when no settlements are known.
    power_idr, backhaul_idr : float
        Fixed costs per site, rupiah.
    settlement_xy_m : numpy.ndarray, optional
        ``(k, 2)`` settlement positions, m.
    tower_override_idr : numpy.ndarray, optional
        Per-site tower cost replacing ``tower_idr`` where finite.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COST_PARTS`, ``road_km`` and ``cost_total_idr``.

    Examples
    --------
    >>> import numpy as np
    >>> df = site_costs(np.array([[0.0, 0.0], [3000.0, 4000.0]]), tower_idr=1.7e9,
    ...                 access_road_idr_per_km=1e8, power_idr=0, backhaul_idr=0,
    ...                 settlement_xy_m=np.array([[0.0, 0.0]]))
    >>> df["cost_total_idr"].tolist()
    [1700000000.0, 2200000000.0]
    """
    n = len(site_xy_m)
    tower = np.full(n, float(tower_idr))
    if tower_override_idr is not None:
        ov = np.asarray(tower_override_idr, dtype=float)
        tower = np.where(np.isfinite(ov), ov, tower)
    road_km = np.zeros(n)
    if settlement_xy_m is not None and len(settlement_xy_m) and n:
        d, _ = cKDTree(settlement_xy_m).query(site_xy_m)
        road_km = np.asarray(d) / 1000.0
    parts = pd.DataFrame({
        "cost_tower_idr": tower,
        "cost_road_idr": road_km * float(access_road_idr_per_km),
        "cost_power_idr": np.full(n, float(power_idr)),
        "cost_backhaul_idr": np.full(n, float(backhaul_idr)),
    })
    parts["road_km"] = road_km
    parts["cost_total_idr"] = parts[list(COST_PARTS)].sum(axis=1)
    return parts
