"""Per-site path loss and RSRP over a grid, by distance only.

The model chains available here are the base models with a closed form in
:data:`towerplan.radio.models.BASE_MODEL_REGISTRY` (``hata-suburban``, ``hata-open``,
``hata-urban``, ``fspl``, ``rma``), evaluated over flat ground with no terrain or clutter.
Kernels take arrays, numbers and an ``Affine``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from affine import Affine
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio.antenna import OMNI, AntennaPattern, bearing_deg
from towerplan.radio.chain import AUTO
from towerplan.radio.itm import ItmSettings
from towerplan.radio.linkbudget import (
    BUILDING_CLASSES,
    building_entry_loss_db,
    eirp_dbm,
    mapl_db,
    rsrp_dbm,
    shadow_margin_db,
    uplink_mapl_db,
)
from towerplan.radio.models import (
    BASE_MODEL_REGISTRY,
    BaseModel,
    base_model_descriptions,
)

__all__ = [
    "MODEL_DESCRIPTIONS",
    "LinkParams",
    "coverage_radius_m",
    "indoor_loss_of",
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
    """Link budget of one site type: downlink, uplink, margins and antenna.

    Coverage compares a *design RSRP* with the threshold: the predicted (median) RSRP plus
    the antenna pattern in the direction of the place, less the margins (shadowing at the
    location probability, body loss, indoor loss) and less the uplink shortfall (by how much
    the uplink's allowable path loss falls short of the downlink's), so that a place is
    covered exactly where both links close with the margins. With the defaults (location
    probability 0.5, no body or indoor loss, an uplink that is not limiting, omni antenna)
    the design RSRP is the predicted RSRP.

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
    location_probability : float
        Cell-edge location probability of the shadowing margin (default 0.5: no margin).
    shadow_sigma_db : float
        Standard deviation of the log-normal shadowing, dB (default 8).
    body_loss_db : float
        Loss of the user's body, dB (default 0).
    indoor_loss_db : float
        Building entry loss, dB (default 0: outdoor coverage).
    uplink_mapl_db : float
        Maximum allowable path loss of the uplink before margins, dB (default inf: the
        uplink is not checked).
    antenna : AntennaPattern
        Antenna of the site (default omni).
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
    location_probability: float = 0.5
    shadow_sigma_db: float = 8.0
    body_loss_db: float = 0.0
    indoor_loss_db: float = 0.0
    uplink_mapl_db: float = math.inf
    antenna: AntennaPattern = field(default=OMNI)
    itm: ItmSettings = ItmSettings()

    @classmethod
    def from_radio(cls, radio: object, model: str | None = None) -> LinkParams:
        """Build from a :class:`towerplan.scenario.Radio` parameter group.

        *model* is the chain actually run (see
        :func:`towerplan.coverage.statement.model_choice`). Without it, ``radio.model``;
        ``"auto"`` with no DEM to decide on is ``radio.auto_distance_model``.
        """
        r: Any = radio
        ant = r.antenna
        if model is None:
            model = r.model
            if str(model).strip().lower() == AUTO:
                model = r.auto_distance_model
        return cls(
            model=str(model),
            freq_mhz=r.freq_mhz,
            h_rx_m=r.rx_height_m,
            eirp_dbm=eirp_dbm(r.tx_power_dbm, r.antenna_gain_dbi, r.cable_loss_db),
            bandwidth_mhz=r.bandwidth_mhz,
            rx_gain_dbi=r.rx_gain_dbi,
            threshold_rsrp_dbm=r.threshold_rsrp_dbm,
            max_radius_m=r.max_radius_km * 1000.0,
            calibration_offset_db=r.calibration.offset_db,
            calibration_slope_db_per_decade=(
                r.calibration.slope_db_per_decade),
            location_probability=r.location_probability,
            shadow_sigma_db=r.shadow_sigma_db,
            body_loss_db=r.body_loss_db,
            indoor_loss_db=indoor_loss_of(r.indoor_loss_db, r.indoor_building, r.freq_mhz),
            uplink_mapl_db=uplink_mapl_db(r.ue_tx_power_dbm, r.rx_gain_dbi,
                                          r.antenna_gain_dbi, r.cable_loss_db,
                                          r.bs_sensitivity_dbm),
            antenna=AntennaPattern(
                ant.azimuths_deg, ant.beamwidth_deg, ant.front_to_back_db, ant.tilt_deg,
                ant.vertical_beamwidth_deg, ant.side_lobe_db),
            itm=ItmSettings(
                epsilon=r.itm.epsilon, sigma=r.itm.sigma, n0=r.itm.n0, climate=r.itm.climate,
                polarization=r.itm.polarization, time_pct=r.itm.time_pct,
                location_pct=r.itm.location_pct, situation_pct=r.itm.situation_pct),
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
    def downlink_mapl_db(self) -> float:
        """Maximum allowable path loss of the downlink before margins, dB."""
        return mapl_db(self.eirp_dbm, self.threshold_rsrp_dbm, self.bandwidth_mhz,
                       self.rx_gain_dbi)

    @property
    def shadow_margin_db(self) -> float:
        """Log-normal shadowing margin at the location probability, dB."""
        return shadow_margin_db(self.location_probability, self.shadow_sigma_db)

    @property
    def margins_db(self) -> float:
        """Shadowing margin, body loss and indoor loss together, dB."""
        return self.shadow_margin_db + self.body_loss_db + self.indoor_loss_db

    @property
    def uplink_shortfall_db(self) -> float:
        """By how much the uplink's allowable path loss is below the downlink's, dB (>= 0)."""
        return max(0.0, self.downlink_mapl_db - self.uplink_mapl_db)

    @property
    def uplink_limited(self) -> bool:
        """True when the uplink closes at a shorter distance than the downlink."""
        return self.uplink_shortfall_db > 0.0

    @property
    def budget_offset_db(self) -> float:
        """Subtracted from the predicted RSRP to give the design RSRP, dB (margins and the
        uplink shortfall)."""
        return self.margins_db + self.uplink_shortfall_db

    @property
    def mapl_db(self) -> float:
        """Maximum allowable path loss with the margins, the smaller of both links, dB."""
        return self.downlink_mapl_db - self.budget_offset_db

    @property
    def adjusted(self) -> bool:
        """True when margins, an uplink shortfall or an antenna pattern change the RSRP."""
        return bool(self.budget_offset_db) or not self.antenna.omni

    def rsrp_correction_db(self, dx_m: ArrayLike, dy_m: ArrayLike,
                           drop_m: ArrayLike) -> np.ndarray:
        """Design RSRP minus predicted RSRP at offsets from the site, dB.

        The antenna pattern in the direction of each place less :attr:`budget_offset_db`.

        Parameters
        ----------
        dx_m, dy_m : float or array
            East and north offsets of the places from the site, m.
        drop_m : float or array
            Height of the antenna tip above the receiver tip, m (positive when the path
            goes down from the antenna).
        """
        dx = np.asarray(dx_m, dtype=float)
        dy = np.asarray(dy_m, dtype=float)
        gain: np.ndarray | float = 0.0
        if not self.antenna.omni:
            depression = np.degrees(np.arctan2(np.asarray(drop_m, float), np.hypot(dx, dy)))
            gain = self.antenna.gain_db(bearing_deg(dx, dy), depression)
        return np.asarray(gain - self.budget_offset_db + np.zeros(np.broadcast(dx, dy).shape))


def indoor_loss_of(loss_db: float, building: str, freq_mhz: float) -> float:
    """Indoor loss of a scenario, dB: *loss_db*, or with a *building* class of ITU-R P.2109
    (``traditional``, ``thermally-efficient``) its median building entry loss at *freq_mhz*
    (``"none"`` = *loss_db*).

    Examples
    --------
    >>> round(indoor_loss_of(0.0, "traditional", 900.0), 2)
    14.24
    >>> indoor_loss_of(10.0, "none", 900.0)
    10.0
    """
    if building in BUILDING_CLASSES:
        return building_entry_loss_db(freq_mhz, building)  # type: ignore[arg-type]
    return float(loss_db)


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


def coverage_radius_m(link: LinkParams, h_tx_m: float, *,
                      bearing: float | None = None) -> float:
    """Distance at which the design RSRP falls to the threshold over flat ground, m.

    For models that depend on distance only. Both links must close with the margins
    (:attr:`LinkParams.mapl_db`); with a sectored antenna the radius is that along
    *bearing* (degrees clockwise from north; default the first sector's boresight, the
    largest), with the vertical pattern at the elevation of each distance. Capped at
    ``link.max_radius_m``; 0 when even 1 m is not covered (sectors: when no distance is).
    """
    mapl = link.mapl_db + link.budget_offset_db  # the offset is in rsrp_correction_db
    ant = link.antenna
    b = (ant.azimuths_deg[0] if not ant.omni else 0.0) if bearing is None else bearing
    east, north = math.sin(math.radians(b)), math.cos(math.radians(b))
    drop = h_tx_m - link.h_rx_m

    def loss(d: float) -> float:
        return float(path_loss_db(d, model=link.model, freq_mhz=link.freq_mhz,
                                  h_tx_m=h_tx_m, h_rx_m=link.h_rx_m) - link.calibration_db(d)
                     - link.rsrp_correction_db(d * east, d * north, drop))

    lo, hi = 1.0, link.max_radius_m
    if loss(hi) <= mapl:
        return hi
    if not ant.omni:  # the vertical pattern may leave the foot of the mast uncovered
        ds = np.geomspace(lo, hi, 400)
        ok = np.flatnonzero([loss(float(d)) <= mapl for d in ds])
        if len(ok) == 0:
            return 0.0
        lo, hi = float(ds[ok[-1]]), float(ds[ok[-1] + 1])
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
    """Design RSRP of one site over the cells of a grid within ``link.max_radius_m``.

    The predicted RSRP plus the antenna pattern less the margins
    (:meth:`LinkParams.rsrp_correction_db`), over flat ground.

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
    if link.adjusted:
        rsrp += link.rsrp_correction_db(xs[None, :] - x_m, ys[:, None] - y_m,
                                        h_tx_m - link.h_rx_m).astype(np.float32)
    rsrp[dist > link.max_radius_m] = np.nan
    return slice(r0, r1), slice(c0, c1), rsrp
