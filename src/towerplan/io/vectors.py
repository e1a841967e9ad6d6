"""The one vector writer: several layers into one GeoPackage, atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from towerplan.io.atomic import atomic_output

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["write_gpkg_layers"]


def write_gpkg_layers(path: str | Path,
                      layers: Sequence[tuple[str, gpd.GeoDataFrame, str]]) -> Path:
    """Write ``(name, frame, geometry_type)`` layers into one GeoPackage.

    Each frame keeps its CRS; layers without rows are still created with their schema.
    Polygon layers declared ``Multi...`` are promoted so mixed parts fit one type.

    Parameters
    ----------
    path : str or Path
        Destination ``.gpkg`` file (replaced as a whole).
    layers : sequence of (str, GeoDataFrame, str)
        Layer name, data and OGR geometry type (``"Point"``, ``"MultiPolygon"``, ...).

    Returns
    -------
    Path
        The file written.
    """
    import pyogrio

    path = Path(path)
    with atomic_output(path) as tmp:
        for name, frame, geometry_type in layers:
            pyogrio.write_dataframe(
                frame, tmp, layer=name, driver="GPKG", geometry_type=geometry_type,
                promote_to_multi=geometry_type.startswith("Multi"), append=tmp.exists(),
            )
    return path
