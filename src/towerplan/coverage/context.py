"""The link budget and the terrain context of a scenario's radio settings (shared by every
command and stage that computes coverage)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from towerplan.coverage.composite import TerrainContext
from towerplan.coverage.raster import LinkParams
from towerplan.coverage.statement import model_choice
from towerplan.errors import ModelDomainError
from towerplan.radio.antenna import AntennaPattern, parse_azimuths
from towerplan.radio.models import base_model

if TYPE_CHECKING:
    import numpy as np

    from towerplan.io.rasters import RasterGrid
    from towerplan.scenario import Radio

__all__ = ["dem_cell_m", "radio_context", "site_antennas"]


def dem_cell_m(dem: RasterGrid, source_cell_m: float = 0.0) -> float:
    """Coarsest cell of the terrain as loaded: the working grid's or the DEM files' own, m."""
    t = dem.transform
    return max(float(source_cell_m), abs(float(t.a)), abs(float(t.e)))


def radio_context(radio: Radio, dem: RasterGrid, landcover: np.ndarray | None = None, *,
                  source_cell_m: float = 0.0) -> tuple[LinkParams, TerrainContext | None]:
    """Link parameters, and the terrain (*dem* and *landcover*, in the working CRS) for chains
    that need it (None for distance-only chains).

    The chain is the one :func:`towerplan.coverage.statement.model_choice` picks for the DEM
    (``model = "auto"`` looks at its cell: the larger of *source_cell_m*, the DEM files' own
    cell, and the working grid's); ``link.model`` names it.

    Raises
    ------
    ModelDomainError
        For a chain coverage cannot evaluate (a point-to-point-only base model without an
        area kernel; ``itm`` has one).
    """
    chain = model_choice(radio, dem_cell_m(dem, source_cell_m)).chain
    if base_model(chain.base).loss_db is None and chain.base != "itm":
        msg = (f"model chain '{chain.base}' is point-to-point only (towerplan link); for "
               "coverage use a base model with a diffraction term, e.g. "
               "'hata-suburban+deygout+clutter', or 'itm'")
        raise ModelDomainError(msg)
    link = LinkParams.from_radio(radio, chain.name)
    if not chain.uses_terrain and chain.clutter is None:
        return link, None
    return link, TerrainContext(dem.array, dem.transform, chain, radio.k_factor, landcover)


def site_antennas(default: AntennaPattern, azimuths: Sequence[str] | None,
                  beamwidth_deg: Sequence[float] | None) -> list[AntennaPattern] | None:
    """Antenna of each existing tower from its file's ``azimuths`` and ``beamwidth_deg``.

    A tower without azimuths gets *default* (the scenario's ``[radio.antenna]``), with its
    own beamwidth when it gives one; the rest of the pattern is always *default*'s. None
    when the file has neither column (every tower gets *default*).

    Examples
    --------
    >>> ants = site_antennas(AntennaPattern(), ["0;120;240", ""], [90.0, float("nan")])
    >>> [a.describe().split(",")[0] for a in ants]
    ['3 sectors 0/120/240 deg', 'omni']
    """
    if azimuths is None and beamwidth_deg is None:
        return None
    n = len(azimuths if azimuths is not None else beamwidth_deg)  # type: ignore[arg-type]
    out = []
    for k in range(n):
        az = parse_azimuths(azimuths[k]) if azimuths is not None else ()
        bw = float(beamwidth_deg[k]) if beamwidth_deg is not None else math.nan
        ant = replace(default, azimuths_deg=az) if az else default
        out.append(replace(ant, beamwidth_deg=bw) if bw > 0 else ant)
    return out
