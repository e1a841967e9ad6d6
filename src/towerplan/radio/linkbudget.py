"""LTE link budget: EIRP, RSRP, the maximum allowable path loss of both links and the margins.

A place is covered when both links close with the stated margins: the downlink RSRP less the
margins reaches the threshold, and the path loss plus the margins stays within the uplink's
maximum allowable path loss. The margins are a log-normal shadowing margin for a location
probability at the cell edge, a body loss and a building entry loss (ITU-R P.2109).
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BUILDING_CLASSES",
    "building_entry_loss_db",
    "eirp_dbm",
    "mapl_db",
    "margin_db",
    "rsrp_dbm",
    "shadow_margin_db",
    "subcarriers",
    "uplink_mapl_db",
]

#: Building classes of ITU-R P.2109-1 Table 1.
BUILDING_CLASSES: tuple[str, ...] = ("traditional", "thermally-efficient")

# ITU-R P.2109-1 Table 1: r, s, t, u, v, w, x, y, z of each building class.
_P2109 = {
    "traditional": (12.64, 3.72, 0.96, 9.6, 2.0, 9.1, -3.0, 4.5, -2.0),
    "thermally-efficient": (28.19, -3.00, 8.48, 13.5, 3.8, 27.8, -2.9, 9.4, -2.1),
}

_SUBCARRIERS_PER_RB = 12
_RB_PER_MHZ = {1.4: 6, 3.0: 15, 5.0: 25, 10.0: 50, 15.0: 75, 20.0: 100}


def subcarriers(bandwidth_mhz: float) -> int:
    """Number of LTE subcarriers of a channel (3GPP TS 36.101 table 5.6-1).

    Examples
    --------
    >>> subcarriers(10.0)
    600
    """
    for bw, n_rb in _RB_PER_MHZ.items():
        if math.isclose(bw, bandwidth_mhz):
            return n_rb * _SUBCARRIERS_PER_RB
    return int(round(bandwidth_mhz * 5)) * _SUBCARRIERS_PER_RB


def eirp_dbm(tx_power_dbm: float, antenna_gain_dbi: float, cable_loss_db: float) -> float:
    """Effective isotropic radiated power per sector, dBm.

    Examples
    --------
    >>> eirp_dbm(46.0, 18.0, 3.0)
    61.0
    """
    return float(tx_power_dbm + antenna_gain_dbi - cable_loss_db)


def rsrp_dbm(eirp: float, loss_db: ArrayLike, bandwidth_mhz: float,
             rx_gain_dbi: float = 0.0) -> np.ndarray | float:
    """Reference signal received power: EIRP - 10 log10(subcarriers) - loss + rx gain, dBm.

    Examples
    --------
    >>> round(float(rsrp_dbm(61.0, 130.0, 10.0)), 2)
    -96.78
    """
    out = eirp - 10.0 * np.log10(subcarriers(bandwidth_mhz)) - np.asarray(loss_db) + rx_gain_dbi
    return float(out) if np.ndim(out) == 0 else out


def mapl_db(eirp: float, threshold_rsrp_dbm: float, bandwidth_mhz: float,
            rx_gain_dbi: float = 0.0) -> float:
    """Maximum allowable path loss for RSRP to reach the threshold, dB.

    Examples
    --------
    >>> round(mapl_db(61.0, -105.0, 10.0), 2)
    138.22
    """
    return float(eirp - 10.0 * math.log10(subcarriers(bandwidth_mhz)) + rx_gain_dbi
                 - threshold_rsrp_dbm)


def margin_db(rsrp: ArrayLike, threshold_rsrp_dbm: float) -> np.ndarray | float:
    """Margin of a received RSRP over the coverage threshold, dB (negative = not covered).

    Examples
    --------
    >>> margin_db(-96.78, -105.0)
    8.22
    """
    out = np.round(np.asarray(rsrp, dtype=float) - threshold_rsrp_dbm, 10)
    return float(out) if np.ndim(out) == 0 else out


def _normal_quantile(p: float) -> float:
    """Quantile of the standard normal distribution (``scipy.stats.norm.ppf`` to 1e-15).

    The standard library's :class:`statistics.NormalDist` (Wichura's AS 241): importing
    scipy.special for it would add a tenth of a second to every coverage command.
    """
    if not 0.0 < p < 1.0:  # as ndtri: -inf at 0, inf at 1, nan outside
        return -math.inf if p == 0.0 else math.inf if p == 1.0 else math.nan
    return NormalDist().inv_cdf(p)


def shadow_margin_db(location_probability: float, sigma_db: float) -> float:
    """Log-normal shadowing margin for a location probability at the cell edge, dB.

    The margin ``sigma * Q^-1(1 - p) = sigma * Phi^-1(p)`` that a median prediction needs so
    that the signal exceeds it at a fraction ``p`` of the locations at that distance
    (0 at ``p = 0.5``; negative below).

    Parameters
    ----------
    location_probability : float
        Cell-edge location probability ``p``, strictly between 0 and 1.
    sigma_db : float
        Standard deviation of the log-normal shadowing, dB (8 dB is typical for macro cells).

    References
    ----------
    ITU-R P.1546-6, Annex 5, section 12 (location variability, ``Q_i``); W. C. Jakes,
    *Microwave Mobile Communications*, 1974, section 2.4.

    Examples
    --------
    >>> round(shadow_margin_db(0.9, 8.0), 2)
    10.25
    >>> shadow_margin_db(0.5, 8.0)
    0.0
    """
    if not 0.0 < location_probability < 1.0:
        msg = f"location_probability must be between 0 and 1, got {location_probability:g}"
        raise ValueError(msg)
    return float(round(sigma_db * _normal_quantile(location_probability), 10)) + 0.0


def building_entry_loss_db(freq_mhz: float, building: Literal["traditional",
                                                             "thermally-efficient"], *,
                           probability: float = 0.5, elevation_deg: float = 0.0) -> float:
    """Building entry loss not exceeded with a probability, ITU-R P.2109-1, dB.

    Parameters
    ----------
    freq_mhz : float
        Frequency, MHz (the model covers 80 MHz to 100 GHz).
    building : {"traditional", "thermally-efficient"}
        Building class: ``traditional`` (no metallised glass; the village houses of rural
        Indonesia) or ``thermally-efficient`` (metallised glass, foil-backed panels).
    probability : float, keyword-only
        Probability that the loss is not exceeded (default 0.5, the median).
    elevation_deg : float, keyword-only
        Elevation of the path at the building facade, degrees (default 0, horizontal).

    References
    ----------
    ITU-R P.2109-1 (08/2019), "Prediction of building entry loss", equations (1)-(7) and
    Table 1.

    Examples
    --------
    >>> round(building_entry_loss_db(900.0, "traditional"), 2)
    14.24
    >>> round(building_entry_loss_db(900.0, "thermally-efficient"), 2)
    31.16
    """
    r, s, t, u, v, w, x, y, z = _P2109[building]
    lf = math.log10(freq_mhz / 1000.0)
    f_inv = _normal_quantile(probability)
    mu1 = r + s * lf + t * lf**2 + 0.212 * abs(elevation_deg)
    mu2 = w + x * lf
    a = f_inv * (u + v * lf) + mu1
    b = f_inv * (y + z * lf) + mu2
    c = -3.0
    return float(10.0 * math.log10(10.0 ** (0.1 * a) + 10.0 ** (0.1 * b) + 10.0 ** (0.1 * c)))


def uplink_mapl_db(ue_tx_power_dbm: float, ue_gain_dbi: float, bs_gain_dbi: float,
                   bs_cable_loss_db: float, bs_sensitivity_dbm: float) -> float:
    """Maximum allowable path loss of the uplink, dB.

    ``P_UE + G_UE + G_BS - L_cable - S_BS``: the path loss at which the handset's signal
    reaches the base station at its sensitivity.

    Parameters
    ----------
    ue_tx_power_dbm : float
        Handset transmit power, dBm (23 dBm: LTE power class 3, 3GPP TS 36.101 Table 6.2.2-1).
    ue_gain_dbi, bs_gain_dbi : float
        Handset and base station antenna gains, dBi.
    bs_cable_loss_db : float
        Feeder and connector loss at the base station, dB.
    bs_sensitivity_dbm : float
        Base station reference sensitivity, dBm (-101.5 dBm: wide area BS, 5 MHz and wider
        channels, fixed reference channel A1-3 over 25 resource blocks, 3GPP TS 36.104
        Table 7.2.1-1).

    Examples
    --------
    >>> uplink_mapl_db(23.0, 0.0, 18.0, 3.0, -101.5)
    139.5
    """
    return float(ue_tx_power_dbm + ue_gain_dbi + bs_gain_dbi - bs_cable_loss_db
                 - bs_sensitivity_dbm)
