"""LTE downlink link budget: EIRP, RSRP and the maximum allowable path loss."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["eirp_dbm", "mapl_db", "margin_db", "rsrp_dbm", "subcarriers"]

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
