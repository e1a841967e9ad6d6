"""What a loader found: one :class:`LayerReport` per input layer (``towerplan validate``), and
the one-line message of the problems it found (:func:`problems_message`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LayerReport", "problems_message"]

_MAX_LISTED = 10


@dataclass(frozen=True, slots=True)
class LayerReport:
    """Summary of one loaded input layer.

    Attributes
    ----------
    layer : str
        Kind of layer: ``villages``, ``terrain``, ``towers``, ``landcover``, ``population``,
        ``settlements``, ``landmask``.
    source : str
        Path(s) read, or ``builtin:demo``.
    crs : str
        CRS of the source as read (e.g. ``EPSG:4326``), or the working CRS after reprojection.
    extent : tuple of float
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    count : int
        Number of features or cells.
    repairs : tuple of str
        What was repaired (invalid geometries made valid, nodata holes filled, ...).
    problems : tuple of str
        Problems found while loading that make the layer unusable: ``towerplan validate``
        lists them, and every command that loads the layer refuses them in the same words.
    notes : tuple of str
        Further facts (layout detected, columns mapped, resolution, ...).
    limitations : tuple of str
        What the layer cannot support, in both languages (``"Bahasa / English"``), stated
        with the limitations of every output (e.g. a DEM mostly filled by interpolation).
    """

    layer: str
    source: str
    crs: str
    extent: tuple[float, float, float, float]
    count: int
    repairs: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()


def problems_message(source: str | Path, problems: Sequence[str], *,
                     limit: int = _MAX_LISTED) -> str:
    """Return the one-line message of an :class:`InputDataError` listing *problems*.

    Parameters
    ----------
    source : str or Path
        File the problems were found in.
    problems : sequence of str
        Every problem found; the first *limit* are shown.
    limit : int
        How many problems the message lists (default 10).

    Examples
    --------
    >>> problems_message("v.gpkg", ["a", "b"])
    'v.gpkg: 2 problems: a; b'
    """
    if len(problems) == 1:
        return f"{source}: {problems[0]}"
    shown = "; ".join(problems[:limit])
    more = f"; ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{source}: {len(problems)} problems: {shown}{more}"
