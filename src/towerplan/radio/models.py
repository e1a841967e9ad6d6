"""Base path-loss models: the kernels and the one registry every path evaluates them by.

Kernels: free space (ITU-R P.525), Okumura-Hata / COST-231 Hata and 3GPP TR 38.901 rural
macro (RMa). They take scalars or numpy arrays and return loss in dB; they never read files.

Registry: :data:`BASE_MODEL_REGISTRY` holds one frozen :class:`BaseModel` per base model of a
model chain (``fspl``, ``hata-urban``, ``hata-suburban``, ``hata-open``, ``rma``, ``itm``):
its description, validity domain, distance rule, whether it has LOS and NLOS formulas,
whether it already includes smooth-earth losses (so a diffraction term charges only the
excess over them), and its closed form (or, for ``itm``, its profile model). The chain evaluator
(:mod:`towerplan.radio.chain`), distance-only coverage (:mod:`towerplan.coverage.raster`)
and the radial sweep (:mod:`towerplan.coverage.sweep`) evaluate base models only through it,
so adding a base model is adding one entry here.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio.itm import ItmSettings, itm_p2p

__all__ = [
    "BASE_MODEL_REGISTRY",
    "ITM_SETTINGS",
    "BaseModel",
    "ClosedForm",
    "DistanceRule",
    "ProfileLoss",
    "base_model",
    "base_model_descriptions",
    "fspl_db",
    "hata_db",
    "rma_db",
]

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

    loss = _hata_formula(d, f, hb, hm, environment, city)
    return float(loss) if np.ndim(loss) == 0 else loss


def _hata_formula(d_km: np.ndarray, f: float, hb: float, hm: float, environment: str,
                  city: str) -> np.ndarray:
    """Okumura-Hata / COST-231 Hata loss without range checks (d in km, f in MHz, h in m)."""
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
        loss = 69.55 + 26.16 * log_f - 13.82 * np.log10(hb) - a_hm + slope * np.log10(d_km)
    else:
        c_m = 3.0 if city == "large" else 0.0
        loss = 46.3 + 33.9 * log_f - 13.82 * np.log10(hb) - a_hm + slope * np.log10(d_km) + c_m
    if environment == "suburban":
        loss = loss - 2.0 * np.log10(f / 28.0) ** 2 - 5.4
    elif environment == "open":
        loss = loss - 4.78 * log_f**2 + 18.33 * log_f - 40.94
    return np.asarray(loss)


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

    loss = _rma_formula(d2d, f, hbs, hut, los_a, h, w)
    return float(loss) if loss.ndim == 0 else loss


def _rma_formula(d2d: np.ndarray, f: np.ndarray, hbs: np.ndarray, hut: np.ndarray,
                 los_a: np.ndarray, h: np.ndarray, w: np.ndarray) -> np.ndarray:
    """RMa loss without range checks (distances and heights in m, f in GHz)."""
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
    return np.asarray(loss)


# ------------------------------------------------------------------------- base-model registry

#: Closed form of a base model: ``loss_db(distance_m, freq_mhz, h_tx_m, h_rx_m, los)``, with
#: ``distance_m`` the distance of the model's rule (array, m) and ``los`` a bool array
#: broadcast against it; returns loss in dB. It checks nothing and never warns.
ClosedForm = Callable[[np.ndarray, float, float, float, np.ndarray], np.ndarray]
#: Profile model: ``profile_loss(heights_m, step_m, h_tx_m, h_rx_m, freq_mhz)`` over a terrain
#: profile; returns the loss in dB and notes on the path.
ProfileLoss = Callable[[np.ndarray, float, float, float, float], tuple[float, tuple[str, ...]]]
#: The distance a base model is evaluated at (see :class:`BaseModel`).
DistanceRule = Literal["horizontal", "slant", "profile"]

#: ITM settings of the ``itm`` base model: equatorial climate and surface refractivity for
#: Indonesia, average ground, vertical polarisation, median time/location/situation.
ITM_SETTINGS = ItmSettings()


def _length_text(distance_m: float) -> str:
    """``1 km``, ``10 m``, ``2.5 km``: a distance for notes and descriptions."""
    if distance_m >= 1000.0:
        return f"{distance_m / 1000.0:g} km"
    return f"{distance_m:g} m"


@dataclass(frozen=True, slots=True)
class BaseModel:
    """A base path-loss model and the rules by which every path evaluates it.

    The chain evaluator (:func:`towerplan.radio.chain.chain_loss`), distance-only coverage
    (:func:`towerplan.coverage.raster.path_loss_db`) and the radial sweep
    (:func:`towerplan.coverage.sweep.sweep_site`) read the same entry, so they evaluate the
    model at the same distance, with the same clamp and the same validity rules.

    Attributes
    ----------
    name : str
        Term of a model chain, e.g. ``"hata-suburban"``.
    label : str
        Short name in notes and messages, e.g. ``"Hata"``.
    description : str
        What the model is, as stated on outputs.
    reference : str
        The document and equation the closed form follows.
    freq_range_mhz : tuple of float
        Frequency range, MHz. Outside it every path raises :class:`ModelDomainError`: no
        model is extrapolated in frequency.
    h_tx_range_m, h_rx_range_m : tuple of float
        Validated antenna heights above ground, m. Outside them the paths extrapolate and
        warn once per call with :class:`ModelValidityWarning` (the chain evaluator records
        the warning in the path's notes). Negative or non-finite heights raise.
    distance : {"horizontal", "slant", "profile"}
        Distance the model is evaluated at. ``"horizontal"``: the ground distance between
        the antennas. ``"slant"``: the straight line between the antenna tips,
        ``sqrt(d**2 + rise**2)`` with ``rise`` the height of the receiver tip over the
        transmitter tip; over the terrain heights where a profile or DEM is known, over flat
        ground (``rise = h_rx - h_tx``) where not. Earth curvature does not enter it.
        ``"profile"``: the model takes the whole terrain profile.
    min_distance_m : float
        Shorter distances are evaluated at this distance, m (a documented clamp, no warning).
    max_distance_m : float
        End of the validated distance range, m (``inf``: none). Beyond it the model is
        extrapolated: coverage paths do so silently (a coverage raster reaches its radius by
        construction) and the chain evaluator notes it on the path.
    max_distance_nlos_m : float or None
        End of the validated NLOS distance range when it differs, m.
    los_nlos : bool
        True when the model has separate line-of-sight and non-line-of-sight formulas. The
        paths then pick the formula from the terrain line of sight (the LOS formula when the
        chain has a diffraction term, which counts the obstruction itself); distance-only
        coverage, which has no terrain, uses the LOS formula unless told otherwise.
    smooth_earth : bool
        True for an empirical model whose curves already include the losses of quasi-smooth
        terrain (the Hata family, RMa). A diffraction term then charges only the diffraction
        in excess of the smooth-earth reference: ``max(0, D(terrain) - D(smooth))``, with
        the smooth-earth reference profile the straight ground line from the transmitter
        ground to the receiver ground (same end heights, same antenna heights) under the same
        k-factor earth bulge. So flat or evenly sloping ground costs no diffraction and a
        ridge costs what it adds over that line. False (free space) charges the whole
        diffraction, earth bulge included.
    loss_db : callable or None
        Closed form (see :data:`ClosedForm`); None for a profile model.
    profile_loss : callable or None
        Profile model (see :data:`ProfileLoss`); None for a closed-form model. Coverage paths
        refuse profile models.
    """

    name: str
    label: str
    description: str
    reference: str
    freq_range_mhz: tuple[float, float]
    h_tx_range_m: tuple[float, float] = (0.0, math.inf)
    h_rx_range_m: tuple[float, float] = (0.0, math.inf)
    distance: DistanceRule = "horizontal"
    min_distance_m: float = 1.0
    max_distance_m: float = math.inf
    max_distance_nlos_m: float | None = None
    los_nlos: bool = False
    smooth_earth: bool = False
    loss_db: ClosedForm | None = None
    profile_loss: ProfileLoss | None = None

    def __post_init__(self) -> None:
        if (self.loss_db is None) == (self.profile_loss is None):
            msg = f"base model {self.name!r} needs exactly one of loss_db and profile_loss"
            raise ModelDomainError(msg)
        if (self.profile_loss is not None) != (self.distance == "profile"):
            msg = f"base model {self.name!r}: a profile model has distance rule 'profile'"
            raise ModelDomainError(msg)
        if self.smooth_earth and self.profile_loss is not None:
            msg = (f"base model {self.name!r}: a profile model models terrain itself and has "
                   "no smooth-earth reference")
            raise ModelDomainError(msg)
        if self.distance == "slant" and not self.min_distance_m > 0:
            msg = f"base model {self.name!r}: a slant-distance model needs min_distance_m > 0"
            raise ModelDomainError(msg)

    @property
    def closed_form(self) -> ClosedForm:
        """The closed form; :class:`ModelDomainError` for a profile model."""
        if self.loss_db is None:
            msg = (f"{self.name} is point-to-point only (a profile model); coverage needs a "
                   "closed-form base model such as 'hata-suburban' or 'rma'")
            raise ModelDomainError(msg)
        return self.loss_db

    @property
    def rule_text(self) -> str:
        """The distance rule in words, e.g. ``horizontal distance, evaluated at 1 km or more``."""
        if self.distance == "profile":
            return "terrain profile"
        text = ("slant distance between the antenna tips" if self.distance == "slant"
                else "horizontal distance")
        text += f", evaluated at {_length_text(self.min_distance_m)} or more"
        if math.isfinite(self.max_distance_m):
            text += f", extrapolated beyond {_length_text(self.max_distance_m)}"
            if self.max_distance_nlos_m is not None:
                text += f" ({_length_text(self.max_distance_nlos_m)} NLOS)"
        return text

    def problems(self, freq_mhz: float, h_tx_m: float, h_rx_m: float
                 ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Validity problems of the parameters: (errors, warnings), every one of each.

        Errors: a frequency that is not finite and positive or outside
        :attr:`freq_range_mhz`, a height that is negative or not finite. Warnings: a height
        outside its validated range (the model is extrapolated).
        """
        errors: list[str] = []
        soft: list[str] = []
        f = float(freq_mhz)
        lo, hi = self.freq_range_mhz
        if not (math.isfinite(f) and f > 0):
            errors.append(f"freq_mhz = {f:g} must be finite and > 0")
        elif not lo <= f <= hi:
            errors.append(f"freq_mhz = {f:g} is outside {lo:g}-{hi:g} MHz, the frequency "
                          f"range of {self.label}")
        for name, value, (h_lo, h_hi) in (("h_tx_m", h_tx_m, self.h_tx_range_m),
                                          ("h_rx_m", h_rx_m, self.h_rx_range_m)):
            h = float(value)
            if not (math.isfinite(h) and h >= 0):
                errors.append(f"{name} = {h:g} must be finite and >= 0")
            elif not h_lo <= h <= h_hi:
                soft.append(f"{self.label}: {name} = {h:g} is outside its validated range "
                            f"{h_lo:g}-{h_hi:g} m; extrapolated")
        return tuple(errors), tuple(soft)

    def check(self, freq_mhz: float, h_tx_m: float, h_rx_m: float) -> tuple[str, ...]:
        """Raise :class:`ModelDomainError` for every error at once; return the warnings.

        The caller reports the warnings once per call (see :attr:`h_tx_range_m`).
        """
        errors, soft = self.problems(freq_mhz, h_tx_m, h_rx_m)
        if errors:
            msg = f"base model {self.name!r}: " + "; ".join(errors)
            raise ModelDomainError(msg)
        return soft

    def rule_distance_m(self, ground_m: ArrayLike, rise_m: ArrayLike) -> np.ndarray:
        """Distance of the model's rule, before the clamp at :attr:`min_distance_m`, m.

        Parameters
        ----------
        ground_m : float or array
            Horizontal distance between the antennas, m.
        rise_m : float or array
            Height of the receiver antenna tip over the transmitter antenna tip, m
            (``h_rx - h_tx`` over flat ground).
        """
        ground = np.asarray(ground_m, dtype=float)
        if self.distance == "slant":
            return np.asarray(np.hypot(ground, np.asarray(rise_m, dtype=float)))
        return ground

    def evaluate_db(self, ground_m: ArrayLike, rise_m: ArrayLike, freq_mhz: float,
                    h_tx_m: float, h_rx_m: float, los: ArrayLike = True) -> np.ndarray:
        """Loss by the closed form at the rule's distance, clamped, dB (no checks).

        Parameters
        ----------
        ground_m, rise_m : float or array
            As in :meth:`rule_distance_m`.
        freq_mhz, h_tx_m, h_rx_m : float
            Frequency (MHz) and antenna heights above ground (m).
        los : bool or array of bool
            Line of sight (used by LOS/NLOS models only).

        Examples
        --------
        >>> fspl = BASE_MODEL_REGISTRY["fspl"]
        >>> round(float(fspl.evaluate_db(1000.0, 0.0, 10_000.0, 30.0, 30.0)), 2)
        112.45
        """
        d, los_a = np.broadcast_arrays(
            np.maximum(self.rule_distance_m(ground_m, rise_m), self.min_distance_m),
            np.asarray(los, dtype=bool))
        return np.asarray(self.closed_form(d, float(freq_mhz), float(h_tx_m), float(h_rx_m),
                                           los_a), dtype=float)

    def distance_notes(self, ground_m: float, rise_m: float, los: bool = True
                       ) -> tuple[str, ...]:
        """Notes on one path whose distance is clamped or beyond the validated range."""
        d = float(self.rule_distance_m(ground_m, rise_m))
        if d < self.min_distance_m:
            at = _length_text(self.min_distance_m)
            return (f"{self.label} evaluated at {at} (its validity starts at {at})",)
        top = self.max_distance_m
        if not los and self.max_distance_nlos_m is not None:
            top = self.max_distance_nlos_m
        if d > top:
            return (f"{self.label} extrapolated beyond {_length_text(top)} "
                    f"(path {_length_text(round(d, 1))})",)
        return ()


def _fspl_closed_form(distance_m: np.ndarray, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                      los: np.ndarray) -> np.ndarray:
    """ITU-R P.525 eq. (6) at ``distance_m``."""
    return np.asarray(32.45 + 20.0 * np.log10(freq_mhz) + 20.0 * np.log10(distance_m / 1000.0))


def _hata_closed_form(environment: Environment) -> ClosedForm:
    """Okumura-Hata / COST-231 Hata, medium city, for one area correction."""

    def loss_db(distance_m: np.ndarray, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                los: np.ndarray) -> np.ndarray:
        return _hata_formula(distance_m / 1000.0, freq_mhz, h_tx_m, h_rx_m, environment,
                             "medium")

    return loss_db


def _rma_closed_form(distance_m: np.ndarray, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                     los: np.ndarray) -> np.ndarray:
    """3GPP TR 38.901 RMa at ground distance ``distance_m`` with the TR default h and W."""
    d, hbs, hut, los_a = np.broadcast_arrays(distance_m, np.asarray(h_tx_m, dtype=float),
                                             np.asarray(h_rx_m, dtype=float), los)
    f_ghz = np.full(d.shape, freq_mhz / 1000.0)
    return _rma_formula(d, f_ghz, hbs, hut, los_a, np.full(d.shape, 5.0), np.full(d.shape, 20.0))


def _itm_profile_loss(heights_m: np.ndarray, step_m: float, h_tx_m: float, h_rx_m: float,
                      freq_mhz: float) -> tuple[float, tuple[str, ...]]:
    """:func:`towerplan.radio.itm.itm_p2p` with :data:`ITM_SETTINGS`."""
    res = itm_p2p(heights_m, step_m, h_tx_m, h_rx_m, freq_mhz, **ITM_SETTINGS.p2p_kwargs())
    return float(res.loss_db), (f"ITM mode: {res.mode}", *res.warnings)


def _hata_entry(name: str, description: str, environment: Environment) -> BaseModel:
    """Registry entry of Okumura-Hata / COST-231 Hata with one area correction."""
    return BaseModel(
        name, "Hata", description,
        "M. Hata, IEEE Trans. Veh. Technol. 29(3), 1980 (150-1500 MHz); COST Action 231 "
        "final report, section 4.4.1 (1500-2000 MHz)",
        freq_range_mhz=(_HATA_FREQ_MHZ[0], _COST231_FREQ_MHZ[1]), h_tx_range_m=_HATA_HB_M,
        h_rx_range_m=_HATA_HM_M, distance="horizontal", min_distance_m=_HATA_D_KM[0] * 1000.0,
        max_distance_m=_HATA_D_KM[1] * 1000.0, smooth_earth=True,
        loss_db=_hata_closed_form(environment))


#: Every base model, by chain term. Adding a base model is adding its entry here.
BASE_MODEL_REGISTRY: dict[str, BaseModel] = {m.name: m for m in (
    BaseModel(
        "fspl", "free space", "free space (ITU-R P.525)", "ITU-R P.525-4, eq. (6)",
        freq_range_mhz=(0.0, math.inf), distance="slant", min_distance_m=1.0,
        loss_db=_fspl_closed_form),
    _hata_entry("hata-urban", "Okumura-Hata urban, medium city", "urban"),
    _hata_entry("hata-suburban", "Okumura-Hata suburban", "suburban"),
    _hata_entry("hata-open", "Okumura-Hata open area", "open"),
    BaseModel(
        "rma", "RMa", "3GPP TR 38.901 rural macro (RMa), no shadowing",
        "3GPP TR 38.901, section 7.4.1, Table 7.4.1-1 (h = 5 m, W = 20 m)",
        freq_range_mhz=(_RMA_FREQ_GHZ[0] * 1000.0, _RMA_FREQ_GHZ[1] * 1000.0),
        h_tx_range_m=_RMA_HBS_M, h_rx_range_m=_RMA_HUT_M, distance="horizontal",
        min_distance_m=_RMA_D_LOS_M[0], max_distance_m=_RMA_D_LOS_M[1],
        max_distance_nlos_m=_RMA_D_NLOS_M[1], los_nlos=True, smooth_earth=True,
        loss_db=_rma_closed_form),
    BaseModel(
        "itm", "ITM", "Longley-Rice ITM v1.4 (NTIA), over the terrain profile to each place",
        "NTIA ITM v1.4 (towerplan.radio.itm.itm_p2p)", freq_range_mhz=(20.0, 20_000.0),
        distance="profile", min_distance_m=0.0, profile_loss=_itm_profile_loss),
)}


def base_model(name: str) -> BaseModel:
    """The registry entry of a base model.

    Raises
    ------
    ModelDomainError
        For an unknown name, with the nearest known one.

    Examples
    --------
    >>> base_model("hata-suburban").min_distance_m
    1000.0
    """
    try:
        return BASE_MODEL_REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(str(name), list(BASE_MODEL_REGISTRY), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        msg = (f"unknown base model {name!r}{hint}; choose one of "
               f"{', '.join(BASE_MODEL_REGISTRY)}")
        raise ModelDomainError(msg) from None


class _DescriptionView(Mapping[str, str]):
    """Live read-only view of the registry: name -> text, for the entries a filter keeps."""

    def __init__(self, text: Callable[[BaseModel], str],
                 keep: Callable[[BaseModel], bool]) -> None:
        self._text = text
        self._keep = keep

    def __getitem__(self, name: str) -> str:
        entry = BASE_MODEL_REGISTRY[name]
        if not self._keep(entry):
            raise KeyError(name)
        return self._text(entry)

    def __iter__(self) -> Iterator[str]:
        return (name for name, m in BASE_MODEL_REGISTRY.items() if self._keep(m))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return repr(dict(self))


def base_model_descriptions(text: Callable[[BaseModel], str] | None = None, *,
                            closed_form_only: bool = False) -> Mapping[str, str]:
    """A live mapping from base-model name to a text made from its entry.

    It follows :data:`BASE_MODEL_REGISTRY`, so a model added there appears in every
    mapping made by this function.

    Parameters
    ----------
    text : callable, optional
        Text of an entry (default: its :attr:`BaseModel.description`).
    closed_form_only : bool, keyword-only
        Keep only the models with a closed form (drop profile models).

    Examples
    --------
    >>> base_model_descriptions(closed_form_only=True)["fspl"]
    'free space (ITU-R P.525)'
    >>> "itm" in base_model_descriptions(closed_form_only=True)
    False
    """
    return _DescriptionView(text or (lambda m: m.description),
                            (lambda m: m.loss_db is not None) if closed_form_only
                            else (lambda m: True))
