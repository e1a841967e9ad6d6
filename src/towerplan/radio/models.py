"""Empirical path-loss models: free space (ITU-R P.525) and Okumura-Hata / COST-231 Hata.

Kernels take scalars or numpy arrays and return loss in dB. They never read files.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning

__all__ = ["fspl_db", "hata_db"]

Environment = Literal["urban", "suburban", "open"]
City = Literal["medium", "large"]

# Validity ranges of Okumura-Hata (Hata 1980) and COST-231 Hata (COST Action 231, 1999).
_HATA_FREQ_MHZ = (150.0, 1500.0)
_COST231_FREQ_MHZ = (1500.0, 2000.0)
_HATA_HB_M = (30.0, 200.0)
_HATA_HM_M = (1.0, 10.0)
_HATA_D_KM = (1.0, 20.0)


def fspl_db(distance_km: ArrayLike, freq_mhz: ArrayLike) -> np.ndarray | float:
    """Free-space basic transmission loss, ITU-R P.525.

    Parameters
    ----------
    distance_km : float or array
        Path length in km (> 0).
    freq_mhz : float or array
        Frequency in MHz (> 0).

    Returns
    -------
    float or numpy.ndarray
        Loss in dB: ``32.45 + 20 log10(f_MHz) + 20 log10(d_km)``.

    References
    ----------
    ITU-R P.525-4, equation (6).

    Examples
    --------
    >>> round(float(fspl_db(1.0, 10_000.0)), 2)
    112.45
    """
    d = np.asarray(distance_km, dtype=float)
    f = np.asarray(freq_mhz, dtype=float)
    if np.any(d <= 0) or np.any(f <= 0):
        msg = "fspl_db needs distance_km > 0 and freq_mhz > 0"
        raise ModelDomainError(msg)
    out = 32.45 + 20.0 * np.log10(f) + 20.0 * np.log10(d)
    return float(out) if out.ndim == 0 else out


def _check_range(name: str, value: np.ndarray, lo: float, hi: float, strict: bool) -> None:
    if np.all((value >= lo) & (value <= hi)):
        return
    bad = value[(value < lo) | (value > hi)]
    msg = (
        f"Hata model: {name} = {float(bad.flat[0]):g} is outside its validity range "
        f"{lo:g}-{hi:g}; pass strict=False to extrapolate with a warning"
    )
    if strict:
        raise ModelDomainError(msg)
    warnings.warn(msg.replace("; pass strict=False to extrapolate with a warning", ""),
                  ModelValidityWarning, stacklevel=3)


def hata_db(
    distance_km: ArrayLike,
    freq_mhz: float,
    h_base_m: float,
    h_mobile_m: float,
    environment: Environment = "urban",
    city: City = "medium",
    *,
    strict: bool = True,
) -> np.ndarray | float:
    """Median path loss by Okumura-Hata (150-1500 MHz) or COST-231 Hata (1500-2000 MHz).

    Parameters
    ----------
    distance_km : float or array
        Distance between base and mobile in km (valid 1-20).
    freq_mhz : float
        Frequency in MHz (valid 150-2000).
    h_base_m : float
        Effective base station antenna height in m (valid 30-200).
    h_mobile_m : float
        Mobile antenna height in m (valid 1-10).
    environment : {"urban", "suburban", "open"}
        Hata's area correction. For COST-231 only ``urban`` (with ``city``) is defined;
        ``suburban`` and ``open`` apply the Okumura-Hata corrections to it.
    city : {"medium", "large"}
        Mobile antenna correction a(hm): small/medium city, or large city (with the
        -4.97 dB constant above 300 MHz). For COST-231, "large" adds the 3 dB
        metropolitan-centre term.
    strict : bool, keyword-only
        Raise :class:`ModelDomainError` outside the validity ranges (default); with False,
        warn with :class:`ModelValidityWarning` and extrapolate.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB.

    References
    ----------
    M. Hata, "Empirical formula for propagation loss in land mobile radio services",
    IEEE Trans. Veh. Technol. 29(3), 1980. COST Action 231 final report, section 4.4.1 (1999).

    Examples
    --------
    >>> round(float(hata_db(2.0, 869.0, 30.0, 1.0, "urban")), 2)
    137.88
    >>> round(float(hata_db(2.0, 869.0, 30.0, 1.0, "suburban")), 2)
    128.03
    """
    d = np.asarray(distance_km, dtype=float)
    f = float(freq_mhz)
    hb = float(h_base_m)
    hm = float(h_mobile_m)
    if environment not in ("urban", "suburban", "open"):
        msg = f"environment must be 'urban', 'suburban' or 'open', got {environment!r}"
        raise ModelDomainError(msg)
    if city not in ("medium", "large"):
        msg = f"city must be 'medium' or 'large', got {city!r}"
        raise ModelDomainError(msg)
    if np.any(d <= 0):
        msg = "Hata model: distance_km must be > 0"
        raise ModelDomainError(msg)
    _check_range("freq_mhz", np.asarray(f), _HATA_FREQ_MHZ[0], _COST231_FREQ_MHZ[1], strict)
    _check_range("h_base_m", np.asarray(hb), *_HATA_HB_M, strict)
    _check_range("h_mobile_m", np.asarray(hm), *_HATA_HM_M, strict)
    _check_range("distance_km", d, *_HATA_D_KM, strict)

    log_f = np.log10(f)
    if city == "large":
        if f <= 300.0:
            a_hm = 8.29 * np.log10(1.54 * hm) ** 2 - 1.1
        else:
            a_hm = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
    else:
        a_hm = (1.1 * log_f - 0.7) * hm - (1.56 * log_f - 0.8)
    slope = 44.9 - 6.55 * np.log10(hb)
    if f <= _HATA_FREQ_MHZ[1]:
        loss = 69.55 + 26.16 * log_f - 13.82 * np.log10(hb) - a_hm + slope * np.log10(d)
    else:
        c_m = 3.0 if city == "large" else 0.0
        loss = 46.3 + 33.9 * log_f - 13.82 * np.log10(hb) - a_hm + slope * np.log10(d) + c_m
    if environment == "suburban":
        loss = loss - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif environment == "open":
        loss = loss - 4.78 * log_f**2 + 18.33 * log_f - 40.94
    return float(loss) if np.ndim(loss) == 0 else loss
