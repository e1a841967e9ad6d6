"""The link budget and the terrain context of a scenario's radio settings (shared by every
command and stage that computes coverage)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from towerplan.coverage.composite import TerrainContext
from towerplan.coverage.raster import LinkParams
from towerplan.radio.chain import parse_chain

if TYPE_CHECKING:
    import numpy as np

    from towerplan.io.rasters import RasterGrid
    from towerplan.scenario import Radio

__all__ = ["radio_context"]


def radio_context(radio: Radio, dem: RasterGrid, landcover: np.ndarray | None = None
                  ) -> tuple[LinkParams, TerrainContext | None]:
    """Link parameters, and the terrain (*dem* and *landcover*, in the working CRS) for chains
    that need it (None for distance-only chains).

    Raises
    ------
    ModelDomainError
        For an invalid chain name.
    """
    chain = parse_chain(radio.model)
    link = LinkParams.from_radio(radio)
    if not chain.uses_terrain and chain.clutter is None:
        return link, None
    return link, TerrainContext(dem.array, dem.transform, chain, radio.k_factor, landcover)
