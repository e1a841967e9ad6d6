"""Empirical path-loss models: free space, Okumura-Hata / COST-231 Hata and 3GPP RMa.

Free space follows ITU-R P.525, rural macro (RMa) 3GPP TR 38.901.

Kernels take scalars or numpy arrays and return loss in dB. They never read files.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning

__all__ = ["fspl_db", "hata_db", "rma_db"]

Environment = Literal["urban", "suburban", "open"]
City = Literal["medium", "large"]

# Validity ranges of Okumura-Hata (Hata 1980) and COST-231 Hata (COST Action 231, 1999).
_HATA_FREQ_MHZ = (150.0, 1500.0)
_COST231_FREQ_MHZ = (1500.0, 2000.0)
_HATA_HB_M = (30.0, 200.0)
_HATA_HM_M = (1.0, 10.0)
_HATA_D_KM = (1.0, 20.0)

# Validity ranges of 3GPP TR 38.901 RMa (Table 7.4.1-1; frequency: see rma_db).
_RMA_FREQ_GHZ = (0.5, 30.0)
_RMA_HBS_M = (10.0, 150.0)
_RMA_HUT_M = (1.0, 10.0)
_RMA_H_M = (5.0, 50.0)
_RMA_W_M = (5.0, 50.0)
_RMA_D_LOS_M = (10.0, 10_000.0)
_RMA_D_NLOS_M = (10.0, 5_000.0)
_SPEED_OF_LIGHT_TR38901 = 3.0e8  # m/s, the value TR 38.901 prescribes for d_BP


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


def _rma_pl1(d3d_m: np.ndarray, f_ghz: np.ndarray, h_m: np.ndarray) -> np.ndarray:
    """RMa LOS PL1 of TR 38.901 Table 7.4.1-1 (distances and heights in m, f in GHz)."""
    h172 = h_m**1.72
    return np.asarray(20.0 * np.log10(40.0 * np.pi * d3d_m * f_ghz / 3.0)
                      + np.minimum(0.03 * h172, 10.0) * np.log10(d3d_m)
                      - np.minimum(0.044 * h172, 14.77)
                      + 0.002 * np.log10(h_m) * d3d_m)


def _rma_problems(d2d: np.ndarray, los: np.ndarray, f: np.ndarray, hbs: np.ndarray,
                  hut: np.ndarray, h: np.ndarray, w: np.ndarray) -> list[str]:
    """Every RMa validity-range violation, one message per parameter."""
    problems = []
    ranges: list[tuple[str, np.ndarray, tuple[float, float]]] = [
        ("freq_ghz", f, _RMA_FREQ_GHZ),
        ("h_bs_m", hbs, _RMA_HBS_M),
        ("h_ut_m", hut, _RMA_HUT_M),
        ("h_building_m", h, _RMA_H_M),
        ("street_width_m", w, _RMA_W_M),
        ("distance_2d_m (LOS)", d2d[los], _RMA_D_LOS_M),
        ("distance_2d_m (NLOS)", d2d[~los], _RMA_D_NLOS_M),
    ]
    for name, value, (lo, hi) in ranges:
        bad = value[(value < lo) | (value > hi)]
        if bad.size:
            problems.append(f"{name} = {float(bad.flat[0]):g} is outside {lo:g}-{hi:g}"
                            + (f" ({bad.size} values)" if bad.size > 1 else ""))
    return problems


def rma_db(
    distance_2d_m: ArrayLike,
    freq_ghz: ArrayLike,
    h_bs_m: ArrayLike,
    h_ut_m: ArrayLike,
    los: ArrayLike,
    h_building_m: ArrayLike = 5.0,
    street_width_m: ArrayLike = 20.0,
    *,
    strict: bool = True,
) -> np.ndarray | float:
    """Median path loss of the 3GPP TR 38.901 rural macro (RMa) model, without shadowing.

    LOS uses PL1 up to the breakpoint ``d_BP = 2 pi h_BS h_UT f_c / c`` (f_c in Hz,
    c = 3.0e8 m/s) and ``PL2 = PL1(d_BP) + 40 log10(d_3D / d_BP)`` beyond it. NLOS is
    ``max(PL_RMa-LOS, PL'_RMa-NLOS)``. The 3D distance is
    ``sqrt(d_2D**2 + (h_BS - h_UT)**2)``. All arguments broadcast against each other.

    Parameters
    ----------
    distance_2d_m : float or array
        Ground distance between base station and user terminal, m (valid 10 m-10 km LOS,
        10 m-5 km NLOS).
    freq_ghz : float or array
        Centre frequency, GHz (valid 0.5-30).
    h_bs_m : float or array
        Base station antenna height, m (valid 10-150).
    h_ut_m : float or array
        User terminal antenna height, m (valid 1-10).
    los : bool or array of bool
        True for line of sight, False for NLOS.
    h_building_m : float or array
        Average building height h, m (default 5, the TR default; valid 5-50).
    street_width_m : float or array
        Average street width W, m (default 20, the TR default; valid 5-50).
    strict : bool, keyword-only
        Raise :class:`ModelDomainError` outside the validity ranges (default); with False,
        warn once with :class:`ModelValidityWarning` listing every violation and extrapolate.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB.

    Raises
    ------
    ModelDomainError
        Outside the validity ranges (``strict=True``), and always for a non-positive or
        non-finite distance or a non-positive frequency, height or street width.

    Notes
    -----
    The distance and height ranges are those of TR 38.901 Table 7.4.1-1. The frequency
    range 0.5-30 GHz is the one TR 38.901 gives for RMa (above 7 GHz the model rests on a
    single 24 GHz measurement campaign, as the notes to Table 7.4.1-1 say); the ns-3
    ``ThreeGppRmaPropagationLossModel`` enforces the same range. ``PL1(d_BP)`` is PL1
    evaluated at a distance of ``d_BP``, as the table writes it.

    References
    ----------
    3GPP TR 38.901 v16.1.0 / v17.0.0, "Study on channel model for frequencies from 0.5 to
    100 GHz", section 7.4.1, Table 7.4.1-1 (RMa LOS and NLOS) and its note on d_BP.

    Examples
    --------
    >>> round(float(rma_db(1000.0, 5.0, 35.0, 1.5, True)), 4)
    108.5577
    >>> round(float(rma_db(1000.0, 5.0, 35.0, 1.5, False)), 4)
    133.5223
    """
    d2d, f, hbs, hut, los_a, h, w = np.broadcast_arrays(
        np.asarray(distance_2d_m, dtype=float), np.asarray(freq_ghz, dtype=float),
        np.asarray(h_bs_m, dtype=float), np.asarray(h_ut_m, dtype=float),
        np.asarray(los, dtype=bool), np.asarray(h_building_m, dtype=float),
        np.asarray(street_width_m, dtype=float))
    hard = []
    if not np.all(np.isfinite(d2d) & (d2d > 0)):
        hard.append("distance_2d_m must be finite and > 0")
    for name, value in (("freq_ghz", f), ("h_bs_m", hbs), ("h_ut_m", hut),
                        ("h_building_m", h), ("street_width_m", w)):
        if not np.all(np.isfinite(value) & (value > 0)):
            hard.append(f"{name} must be finite and > 0")
    if hard:
        msg = "RMa model: " + "; ".join(hard)
        raise ModelDomainError(msg)
    problems = _rma_problems(d2d, los_a, f, hbs, hut, h, w)
    if problems:
        msg = "RMa model outside its validity range: " + "; ".join(problems)
        if strict:
            raise ModelDomainError(msg + "; pass strict=False to extrapolate with a warning")
        warnings.warn(msg, ModelValidityWarning, stacklevel=2)

    d3d = np.hypot(d2d, hbs - hut)
    d_bp = 2.0 * np.pi * hbs * hut * (f * 1e9) / _SPEED_OF_LIGHT_TR38901
    pl1 = _rma_pl1(d3d, f, h)
    pl2 = _rma_pl1(d_bp, f, h) + 40.0 * np.log10(d3d / d_bp)
    pl_los = np.where(d2d <= d_bp, pl1, pl2)
    pl_nlos_prime = (161.04 - 7.1 * np.log10(w) + 7.5 * np.log10(h)
                     - (24.37 - 3.7 * (h / hbs) ** 2) * np.log10(hbs)
                     + (43.42 - 3.1 * np.log10(hbs)) * (np.log10(d3d) - 3.0)
                     + 20.0 * np.log10(f)
                     - (3.2 * np.log10(11.75 * hut) ** 2 - 4.97))
    loss = np.where(los_a, pl_los, np.maximum(pl_los, pl_nlos_prime))
    return float(loss) if loss.ndim == 0 else loss
