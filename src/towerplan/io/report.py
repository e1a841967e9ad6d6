"""What a loader found: one :class:`LayerReport` per input layer (``towerplan validate``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LayerReport"]


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
        Problems that did not stop loading (warnings a user should read).
    notes : tuple of str
        Further facts (layout detected, columns mapped, resolution, ...).
    """

    layer: str
    source: str
    crs: str
    extent: tuple[float, float, float, float]
    count: int
    repairs: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
