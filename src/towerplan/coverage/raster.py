"""Per-site path loss and RSRP over a grid, by distance only.

The model chains available here are the base models with a closed form in
:data:`towerplan.radio.models.BASE_MODEL_REGISTRY` (``hata-suburban``, ``hata-open``,
``hata-urban``, ``fspl``, ``rma``), evaluated over flat ground with no terrain or clutter.
Kernels take arrays, numbers and an ``Affine``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio.itm import ItmSettings
from towerplan.radio.linkbudget import eirp_dbm, mapl_db, rsrp_dbm
from towerplan.radio.models import (
    BASE_MODEL_REGISTRY,
    BaseModel,
    base_model_descriptions,
)

__all__ = [
    "MODEL_DESCRIPTIONS",
    "LinkParams",
    "coverage_radius_m",
    "path_loss_db",
    "site_rsrp_window",
]



def _distance_only_text(model: BaseModel) -> str:
    """Description of a base model evaluated by distance only, with its distance rule."""
    los = ", line-of-sight formula" if model.los_nlos else ""
    return f"{model.description}, distance only (no terrain or clutter){los}: {model.rule_text}"


#: Human-readable description of each distance-only model chain: a live view of the
#: closed-form entries of :data:`towerplan.radio.models.BASE_MODEL_REGISTRY`.
MODEL_DESCRIPTIONS: Mapping[str, str] = base_model_descriptions(_distance_only_text,
                                                                closed_form_only=True)


@dataclass(frozen=True, slots=True)
class LinkParams:
    """Downlink parameters of one site type.

    Attributes
    ----------
    model : str
        Model chain name (a key of :data:`MODEL_DESCRIPTIONS`).
    freq_mhz : float
        Carrier frequency, MHz.
    h_rx_m : float
        Handset height, m.
    eirp_dbm : float
        EIRP per sector, dBm.
    bandwidth_mhz : float
        Channel bandwidth, MHz.
    rx_gain_dbi : float
        Handset antenna gain, dBi.
    threshold_rsrp_dbm : float
        Coverage threshold, dBm.
    max_radius_m : float
        Largest evaluated distance, m.
    calibration_offset_db, calibration_slope_db_per_decade : float
        Drive-test calibration (``[radio.calibration]``): calibrated RSRP = model RSRP +
        offset + slope * log10(d / 1 km).
    itm : ItmSettings
        Ground, refractivity, climate and variability of the ``itm`` base model in coverage
        (default :class:`towerplan.radio.itm.ItmSettings`).
    """

    model: str
    freq_mhz: float
    h_rx_m: float
    eirp_dbm: float
    bandwidth_mhz: float
    rx_gain_dbi: float
    threshold_rsrp_dbm: float
    max_radius_m: float
    calibration_offset_db: float = 0.0
    calibration_slope_db_per_decade: float = 0.0
    itm: ItmSettings = ItmSettings()

    @classmethod
    def from_radio(cls, radio: object) -> LinkParams:
        """Build from a :class:`towerplan.scenario.Radio` parameter group."""
        r = radio
        return cls(
            model=r.model,  # type: ignore[attr-defined]
            freq_mhz=r.freq_mhz,  # type: ignore[attr-defined]
            h_rx_m=r.rx_height_m,  # type: ignore[attr-defined]
            eirp_dbm=eirp_dbm(r.tx_power_dbm, r.antenna_gain_dbi, r.cable_loss_db),  # type: ignore[attr-defined]
            bandwidth_mhz=r.bandwidth_mhz,  # type: ignore[attr-defined]
            rx_gain_dbi=r.rx_gain_dbi,  # type: ignore[attr-defined]
            threshold_rsrp_dbm=r.threshold_rsrp_dbm,  # type: ignore[attr-defined]
            max_radius_m=r.max_radius_km * 1000.0,  # type: ignore[attr-defined]
            calibration_offset_db=r.calibration.offset_db,  # type: ignore[attr-defined]
            calibration_slope_db_per_decade=(
                r.calibration.slope_db_per_decade),  # type: ignore[attr-defined]
        )

    @property
    def calibrated(self) -> bool:
        """True when a drive-test calibration is applied."""
        return bool(self.calibration_offset_db or self.calibration_slope_db_per_decade)

    def calibration_db(self, distance_m: np.ndarray | float) -> np.ndarray:
        """RSRP correction of the drive-test calibration at a distance, dB."""
        d_km = np.maximum(np.asarray(distance_m, dtype=float), 1.0) / 1000.0
        return self.calibration_offset_db + self.calibration_slope_db_per_decade * np.log10(d_km)

    @property
    def mapl_db(self) -> float:
        """Maximum allowable path loss, dB."""
        return mapl_db(self.eirp_dbm, self.threshold_rsrp_dbm, self.bandwidth_mhz,
                       self.rx_gain_dbi)


def path_loss_db(distance_m: ArrayLike, *, model: str, freq_mhz: float, h_tx_m: float,
                 h_rx_m: float, los: ArrayLike = True) -> np.ndarray:
    """Path loss of a distance-only model chain over flat ground, dB.

    The base model is evaluated by the rules of its registry entry
    (:class:`towerplan.radio.models.BaseModel`): at the horizontal distance or at the slant
    distance ``sqrt(d**2 + (h_tx - h_rx)**2)`` between the antenna tips, no closer than its
    minimum distance (Hata: 1 km, RMa: 10 m, free space: 1 m), extrapolated beyond its
    validated distance range without a warning. The description in
    :data:`MODEL_DESCRIPTIONS` states the rule.

    Parameters
    ----------
    distance_m : float or array
        Horizontal distance from the site, m.
    model : str, keyword-only
        Model chain name (a key of :data:`MODEL_DESCRIPTIONS`).
    freq_mhz, h_tx_m, h_rx_m : float, keyword-only
        Frequency (MHz), site antenna height (m) and handset height (m).
    los : bool or array of bool, keyword-only
        Line of sight, for a model with LOS and NLOS formulas (default True: flat ground).

    Returns
    -------
    numpy.ndarray
        Loss in dB, shaped like ``distance_m``.

    Raises
    ------
    ModelDomainError
        For a chain that is not available here (unknown, or a profile model such as
        ``itm``), a frequency outside the model's range, or a negative height.

    Warns
    -----
    ModelValidityWarning
        Once per call when an antenna height is outside the model's validated range.

    Examples
    --------
    >>> round(float(path_loss_db(5000.0, model="hata-suburban", freq_mhz=900.0,
    ...                          h_tx_m=42.0, h_rx_m=1.5)), 2)
    138.39
    """
    entry = BASE_MODEL_REGISTRY.get(model)
    if entry is None or entry.loss_db is None:
        why = "" if entry is None else f" ({entry.label} is point-to-point only)"
        choices = ", ".join(MODEL_DESCRIPTIONS)
        msg = (f"model chain {model!r} is not available for distance-only coverage{why}; "
               f"choose one of {choices}")
        raise ModelDomainError(msg)
    soft = entry.check(freq_mhz, h_tx_m, h_rx_m)
    if soft:
        warnings.warn("; ".join(soft), ModelValidityWarning, stacklevel=2)
    return entry.evaluate_db(distance_m, h_rx_m - h_tx_m, freq_mhz, h_tx_m, h_rx_m, los)


def coverage_radius_m(link: LinkParams, h_tx_m: float) -> float:
    """Distance at which RSRP falls to the threshold (models that depend on distance only), m.

    Capped at ``link.max_radius_m``; 0 when even 1 m is not covered.
    """
    mapl = link.mapl_db

    def loss(d: float) -> float:
        return float(path_loss_db(d, model=link.model, freq_mhz=link.freq_mhz,
                                  h_tx_m=h_tx_m, h_rx_m=link.h_rx_m) - link.calibration_db(d))

    lo, hi = 1.0, link.max_radius_m
    if loss(hi) <= mapl:
        return hi
    if loss(lo) > mapl:
        return 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if loss(mid) <= mapl:
            lo = mid
        else:
            hi = mid
    return lo


def site_rsrp_window(transform: Affine, shape: tuple[int, int], x_m: float, y_m: float,
                     h_tx_m: float, link: LinkParams
                     ) -> tuple[slice, slice, np.ndarray] | None:
    """RSRP of one site over the cells of a grid within ``link.max_radius_m``.

    Parameters
    ----------
    transform : affine.Affine
        North-up grid transform in a metric CRS.
    shape : tuple of int
        Grid rows and columns.
    x_m, y_m : float
        Site position in the grid's CRS, m.
    h_tx_m : float
        Antenna height above ground, m.
    link : LinkParams
        Link parameters.

    Returns
    -------
    (rows, cols, rsrp) or None
        Row and column slices of the window and the RSRP there in dBm (``nan`` beyond the
        radius); None when the window misses the grid.
    """
    res_x, res_y = transform.a, -transform.e
    col_c = (x_m - transform.c) / res_x
    row_c = (transform.f - y_m) / res_y
    r_cells_x = link.max_radius_m / res_x
    r_cells_y = link.max_radius_m / res_y
    r0 = max(int(np.floor(row_c - r_cells_y)), 0)
    r1 = min(int(np.ceil(row_c + r_cells_y)) + 1, shape[0])
    c0 = max(int(np.floor(col_c - r_cells_x)), 0)
    c1 = min(int(np.ceil(col_c + r_cells_x)) + 1, shape[1])
    if r0 >= r1 or c0 >= c1:
        return None
    xs = transform.c + res_x * (np.arange(c0, c1) + 0.5)
    ys = transform.f - res_y * (np.arange(r0, r1) + 0.5)
    dist = np.hypot(xs[None, :] - x_m, ys[:, None] - y_m)
    loss = path_loss_db(dist, model=link.model, freq_mhz=link.freq_mhz, h_tx_m=h_tx_m,
                        h_rx_m=link.h_rx_m)
    rsrp = np.asarray(rsrp_dbm(link.eirp_dbm, loss, link.bandwidth_mhz, link.rx_gain_dbi)
                      + link.calibration_db(dist), dtype=np.float32)
    rsrp[dist > link.max_radius_m] = np.nan
    return slice(r0, r1), slice(c0, c1), rsrp
