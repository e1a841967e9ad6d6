"""Colours of every map-like output, defined once: the HTML map, QGIS styles and KML.

The RSRP ramp of the map's coverage layers is the ramp of the QGIS styles written next to the
coverage GeoTIFFs (``coverage_before.qml``, ``coverage_after.qml``), so a planner sees the same
colours in the browser and in QGIS. Village status and backhaul colours are shared the same way.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from towerplan.io.atomic import atomic_output

#: First line of every QGIS document towerplan writes (styles and projects).
QGIS_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"

__all__ = [
    "LINK_CLASSES",
    "QGIS_DOCTYPE",
    "RSRP_ALPHA",
    "RSRP_STOPS",
    "STATUS_COLORS",
    "UNKNOWN_COLOR",
    "coverage_qml",
    "link_class",
    "rsrp_colors",
    "write_coverage_qml",
]

#: Fill colour of villages by status.
STATUS_COLORS: dict[str, str] = {"blank": "#d7301f", "partial": "#fd8d3c", "covered": "#31a354"}
UNKNOWN_COLOR = "#9e9e9e"

#: RSRP colour ramp (dBm, RGB), -120 to -60 dBm; stronger signals take the last colour.
RSRP_STOPS: tuple[tuple[float, tuple[int, int, int]], ...] = (
    (-120.0, (237, 248, 251)), (-105.0, (158, 188, 218)), (-90.0, (140, 150, 198)),
    (-75.0, (136, 86, 167)), (-60.0, (110, 1, 107)))
#: Opacity (0..255) of covered cells.
RSRP_ALPHA = 210

#: Backhaul hop classes: key -> (colour, dash pattern or "" for solid). Microwave hops are
#: classed by fade margin (``margin_db``); fibre and VSAT have no radio margin.
LINK_CLASSES: dict[str, tuple[str, str]] = {
    "infeasible": ("#d7191c", "6 5"),
    "margin_low": ("#fdae61", ""),     # microwave, margin below 10 dB
    "margin_mid": ("#a6d96a", ""),     # microwave, 10 to 20 dB
    "margin_high": ("#1a9641", ""),    # microwave, 20 dB and more
    "fibre": ("#2b83ba", ""),
    "vsat": ("#6b6b6b", "2 5"),
}
_MARGIN_LOW_DB = 10.0
_MARGIN_HIGH_DB = 20.0


def link_class(technology: str, feasible: bool, margin_db: float) -> str:
    """Return the :data:`LINK_CLASSES` key of a backhaul hop.

    Parameters
    ----------
    technology : str
        ``"fibre"``, ``"microwave"`` or ``"vsat"``.
    feasible : bool
        Whether the hop meets its clearance and margin criteria.
    margin_db : float
        Fade margin of a microwave hop, dB (``nan`` for fibre and VSAT).

    Examples
    --------
    >>> link_class("microwave", True, 14.2)
    'margin_mid'
    >>> link_class("microwave", False, 14.2)
    'infeasible'
    """
    if not feasible:
        return "infeasible"
    tech = technology.strip().lower()
    if tech in ("fibre", "fiber", "vsat"):
        return "vsat" if tech == "vsat" else "fibre"
    if not math.isfinite(margin_db) or margin_db < _MARGIN_LOW_DB:  # unknown margin: low
        return "margin_low"
    return "margin_mid" if margin_db < _MARGIN_HIGH_DB else "margin_high"


def _ramp_rgb(values_dbm: np.ndarray) -> np.ndarray:
    """RGB (float, 0..255) of the RSRP ramp at *values_dbm* (clipped to the ramp's ends)."""
    stops = np.array([s for s, _ in RSRP_STOPS])
    rgb = np.array([c for _, c in RSRP_STOPS], dtype=np.float64)
    clipped = np.clip(values_dbm, stops[0], stops[-1])
    return np.stack([np.interp(clipped, stops, rgb[:, band]) for band in range(3)], axis=-1)


def rsrp_colors(rsrp_dbm: np.ndarray, threshold_dbm: float) -> np.ndarray:
    """Return RGBA (uint8) of an RSRP grid: ramp from -120 to -60 dBm, transparent below threshold.

    Parameters
    ----------
    rsrp_dbm : numpy.ndarray
        RSRP, dBm; ``nan`` is transparent.
    threshold_dbm : float
        Cells weaker than this are transparent.

    Returns
    -------
    numpy.ndarray
        Shape ``(rows, cols, 4)``.

    Examples
    --------
    >>> rsrp_colors(np.array([[-110.0, -60.0]]), -105.0)[0, :, 3].tolist()
    [0, 210]
    """
    values = np.asarray(rsrp_dbm, dtype=np.float64)
    out = np.zeros((*values.shape, 4), dtype=np.uint8)
    out[..., :3] = np.round(_ramp_rgb(np.nan_to_num(values, nan=RSRP_STOPS[0][0]))).astype(
        np.uint8)
    covered = np.isfinite(values) & (values >= threshold_dbm)
    out[..., 3] = np.where(covered, RSRP_ALPHA, 0).astype(np.uint8)
    return out


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(round(float(v))):02x}" for v in rgb)


#: Upper end of the QGIS ramp, dBm: far above any real RSRP, so strong cells keep the last colour.
_QML_MAX_DBM = 0.0


def coverage_qml(threshold_dbm: float) -> str:
    """Return a QGIS layer style (QML) for an RSRP GeoTIFF that matches the HTML map.

    A single-band pseudocolour renderer with an interpolated ramp: the map's RSRP stops from
    the threshold up, the colour at -60 dBm held up to 0 dBm, and cells below the threshold
    (or nodata) not drawn, exactly as in ``map.html``.

    Parameters
    ----------
    threshold_dbm : float
        Coverage threshold, dBm; the ramp starts here.

    Returns
    -------
    str
        The QML document (UTF-8 text with its ``DOCTYPE`` line).
    """
    items = [threshold_dbm, *(s for s, _ in RSRP_STOPS if s > threshold_dbm)]
    items.append(max(_QML_MAX_DBM, items[-1] + 1.0))
    colors = _ramp_rgb(np.array(items))
    alpha = str(RSRP_ALPHA)

    root = ET.Element("qgis", version="3.28.0", styleCategories="AllStyleCategories")
    pipe = ET.SubElement(root, "pipe")
    renderer = ET.SubElement(
        pipe, "rasterrenderer", type="singlebandpseudocolor", band="1", opacity="1",
        alphaBand="-1", nodataColor="", classificationMin=f"{items[0]:g}",
        classificationMax=f"{items[-1]:g}")
    ET.SubElement(renderer, "rasterTransparency")
    origin = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"),
                      ("statAccuracy", "Estimated"), ("cumulativeCutLower", "0.02"),
                      ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(origin, tag).text = text
    shader = ET.SubElement(ET.SubElement(renderer, "rastershader"), "colorrampshader",
                           colorRampType="INTERPOLATED", classificationMode="1", clip="1",
                           minimumValue=f"{items[0]:g}", maximumValue=f"{items[-1]:g}",
                           labelPrecision="0")
    for value, rgb in zip(items, colors, strict=True):
        ET.SubElement(shader, "item", value=f"{value:g}", color=_hex(rgb), alpha=alpha,
                      label=f"{value:g} dBm")
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0",
                  colorizeOn="0", colorizeRed="255", colorizeGreen="128", colorizeBlue="128",
                  colorizeStrength="100")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(root, "blendMode").text = "0"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return QGIS_DOCTYPE + body + "\n"


def write_coverage_qml(path: str | Path, threshold_dbm: float) -> Path:
    """Write :func:`coverage_qml` to *path* (UTF-8, atomically) and return the path.

    QGIS applies a ``.qml`` file of the same name as a raster automatically when the raster
    is added, so ``coverage_after.qml`` styles ``coverage_after.tif``.
    """
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(coverage_qml(threshold_dbm), encoding="utf-8")
    return path
