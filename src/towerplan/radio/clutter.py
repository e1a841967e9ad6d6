"""Clutter loss at the receiver: foliage attenuation and the land-cover classes that cause it.

In Kalimantan the first-order clutter term is forest around the handset. This module gives

- :func:`clutter_loss_db`, the excess loss of a path whose receiver end runs ``d`` metres
  through vegetation, by Weissberger's modified exponential decay model or by the
  ITU-R P.833 model for a terrestrial path with one terminal in woodland;
- :data:`WORLDCOVER_CLUTTER`, the ESA WorldCover classes with their clutter properties;
- :func:`vegetation_depth_m`, the vegetation depth at the receiver end of a profile of
  land-cover classes.

Everything here takes numbers and arrays only.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import ModelDomainError, ModelValidityWarning

__all__ = [
    "WORLDCOVER_CLUTTER",
    "ClutterClass",
    "clutter_loss_db",
    "vegetation_depth_m",
]

#: Weissberger's model is defined up to this depth, m; deeper paths keep the 400 m loss.
WEISSBERGER_MAX_DEPTH_M = 400.0
_WEISSBERGER_FREQ_MHZ = (230.0, 95_000.0)

# ITU-R P.833-10 Table 1 (also in P.833-9): mixed coniferous-deciduous woodland near
# St Petersburg, one terminal in the woodland. Columns: frequency (MHz), specific attenuation
# gamma (dB/m), maximum attenuation A_m (dB). Both columns increase with frequency.
_P833_TABLE = np.array([
    [105.9, 0.04, 9.4],
    [466.475, 0.12, 18.0],
    [949.0, 0.17, 26.5],
    [1852.2, 0.30, 29.0],
    [2117.5, 0.34, 34.1],
])
_P833_FREQ_MHZ = (float(_P833_TABLE[0, 0]), float(_P833_TABLE[-1, 0]))


@dataclass(frozen=True, slots=True)
class ClutterClass:
    """Radio properties of one land-cover class.

    Attributes
    ----------
    name : str
        Class name.
    vegetation : bool
        True when a receiver inside the class is in woodland, so the foliage models of
        :func:`clutter_loss_db` apply over the vegetation depth.
    height_m : float
        Representative clutter height, m, to add to the terrain where the class lies between
        the terminals (an obstacle for diffraction).
    extra_loss_db : float
        Fixed excess loss for a receiver inside the class, dB, on top of an open-area base
        model (free space + diffraction, RMa or Hata open). Do not add it to Hata suburban
        or urban, which contain it already.
    """

    name: str
    vegetation: bool
    height_m: float
    extra_loss_db: float


# Built-up extra loss: ITU-R P.2108-1 section 3.1 height-gain terminal correction,
# "suburban" clutter (representative height R = 10 m, street width w_s = 27 m), for a 1.5 m
# handset at 900 MHz (DESIGN.md section 4 default band):
# h_dif = 8.5 m, theta_clut = atan(8.5/27) = 17.5 deg, nu = 0.342 sqrt(0.9) sqrt(h_dif theta)
# = 3.95, A_h = J(nu) - 6.03 = 18.8 dB (21.8 dB at 1800 MHz). It is close to the 18.5 dB
# between Okumura-Hata suburban and open area at 900 MHz.
_BUILT_UP_EXTRA_LOSS_DB = 18.8

#: ESA WorldCover v100/v200 classes (10 m land cover) and their clutter properties.
#:
#: Rationale, as assumptions of towerplan:
#:
#: - 10 tree cover: vegetation, 20 m canopy (secondary forest and plantations of Kalimantan;
#:   ITU-R P.1812 and P.2108 use 15 m for generic trees, primary dipterocarp forest is
#:   taller). The loss comes from the vegetation depth, so the fixed extra loss is 0.
#: - 95 mangroves: vegetation, 15 m (the generic ITU-R tree height).
#: - 50 built-up: no foliage model; 10 m height and a fixed 18.8 dB from ITU-R P.2108-1
#:   section 3.1 (suburban, 900 MHz, 1.5 m handset).
#: - 20 shrubland: woody plants under 5 m (the WorldCover definition): 3 m height, no loss;
#:   a 1.5 m handset in shrubs is not modelled as woodland.
#: - 30 grassland, 40 cropland, 60 bare/sparse vegetation, 70 snow and ice, 80 permanent
#:   water bodies, 90 herbaceous wetland, 100 moss and lichen: open, 0 m, 0 dB.
#:
#: Codes not in the table (e.g. 0 for no data) are treated as open by
#: :func:`vegetation_depth_m`. The mapping is read-only; build a new one (``dict(...)``,
#: ``dataclasses.replace``) to override a class.
WORLDCOVER_CLUTTER: Mapping[int, ClutterClass] = MappingProxyType({
    10: ClutterClass("tree cover", True, 20.0, 0.0),
    20: ClutterClass("shrubland", False, 3.0, 0.0),
    30: ClutterClass("grassland", False, 0.0, 0.0),
    40: ClutterClass("cropland", False, 0.0, 0.0),
    50: ClutterClass("built-up", False, 10.0, _BUILT_UP_EXTRA_LOSS_DB),
    60: ClutterClass("bare / sparse vegetation", False, 0.0, 0.0),
    70: ClutterClass("snow and ice", False, 0.0, 0.0),
    80: ClutterClass("permanent water bodies", False, 0.0, 0.0),
    90: ClutterClass("herbaceous wetland", False, 0.0, 0.0),
    95: ClutterClass("mangroves", True, 15.0, 0.0),
    100: ClutterClass("moss and lichen", False, 0.0, 0.0),
})


def _check_frequency(model: str, f: np.ndarray, lo: float, hi: float, strict: bool) -> None:
    bad = f[(f < lo) | (f > hi)]
    if bad.size == 0:
        return
    msg = (f"{model} foliage model: freq_mhz = {float(bad.flat[0]):g} is outside its "
           f"range {lo:g}-{hi:g} MHz")
    if strict:
        raise ModelDomainError(msg + "; pass strict=False to extrapolate with a warning")
    warnings.warn(msg, ModelValidityWarning, stacklevel=3)


def _weissberger_db(d: np.ndarray, f_mhz: np.ndarray) -> np.ndarray:
    f_ghz_term = (f_mhz / 1000.0) ** 0.284
    d = np.minimum(d, WEISSBERGER_MAX_DEPTH_M)
    short = 0.45 * f_ghz_term * d
    # The two branches differ by 0.35 % at 14 m (6.300 vs 6.278 f^0.284); the 14 m value is
    # held until the long branch overtakes it at 14.09 m, so loss never drops with depth.
    long_ = np.maximum(1.33 * f_ghz_term * np.maximum(d, 14.0) ** 0.588,
                       0.45 * f_ghz_term * 14.0)
    return np.asarray(np.where(d <= 14.0, short, long_))


def _p833_parameters(f_mhz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return gamma (dB/m) and A_m (dB), linear in log f between the Table 1 rows, held outside."""
    log_f = np.log(np.clip(f_mhz, *_P833_FREQ_MHZ))
    log_table = np.log(_P833_TABLE[:, 0])
    gamma = np.interp(log_f, log_table, _P833_TABLE[:, 1])
    a_m = np.interp(log_f, log_table, _P833_TABLE[:, 2])
    return gamma, a_m


def clutter_loss_db(
    path_in_vegetation_m: ArrayLike,
    freq_mhz: ArrayLike,
    *,
    model: str = "weissberger",
    max_loss_db: float | None = None,
    strict: bool = True,
) -> np.ndarray | float:
    """Excess loss of a path whose receiver end runs through vegetation.

    Parameters
    ----------
    path_in_vegetation_m : float or array
        Path length inside vegetation at the receiver end, m (>= 0), e.g. from
        :func:`vegetation_depth_m`.
    freq_mhz : float or array
        Frequency, MHz (broadcasts against the depth).
    model : {"weissberger", "p833"}, keyword-only
        ``"weissberger"`` (default): Weissberger's modified exponential decay,
        ``0.45 f^0.284 d`` for ``0 <= d <= 14 m`` and ``1.33 f^0.284 d^0.588`` for
        ``14 < d <= 400 m`` (f in GHz, valid 230 MHz-95 GHz); beyond 400 m, the limit of the
        model, the loss stays at its 400 m value (43.7 dB at 900 MHz). Where the branches
        meet at 14 m the 14 m value is held up to 14.09 m so the loss never decreases.
        ``"p833"``: ITU-R P.833 terrestrial path with one terminal in woodland,
        ``A_ev = A_m [1 - exp(-d gamma / A_m)]``, with the specific attenuation gamma and the
        maximum attenuation A_m of P.833 Table 1 (mixed coniferous-deciduous woodland),
        linear in log f between its rows (105.9-2117.5 MHz). At 900 MHz, gamma = 0.166 dB/m
        and A_m = 25.9 dB. With ``strict=False`` outside that range, the end rows are used.
    max_loss_db : float or None, keyword-only
        Optional ceiling on the result, dB (default None: only the model's own ceiling,
        the 400 m value or A_m).
    strict : bool, keyword-only
        Raise :class:`ModelDomainError` for a frequency outside the model's range (default);
        with False, warn with :class:`ModelValidityWarning` and extrapolate.

    Returns
    -------
    float or numpy.ndarray
        Loss in dB: 0 at zero depth, non-decreasing in depth and in frequency, capped.

    Raises
    ------
    ModelDomainError
        Negative or non-finite depth, non-positive frequency, unknown model, negative
        ``max_loss_db``, or a frequency outside the model's range with ``strict=True``.

    References
    ----------
    M. A. Weissberger, "An initial critical summary of models for predicting the attenuation
    of radio waves by trees", ESD-TR-81-101, Electromagnetic Compatibility Analysis Center,
    Annapolis, 1982.
    ITU-R P.833-10 (09/2021), "Attenuation in vegetation", Annex 1 section 2.1, equation (1)
    and Table 1 (unchanged from P.833-9).

    Examples
    --------
    >>> round(float(clutter_loss_db(100.0, 900.0)), 2)
    19.36
    >>> round(float(clutter_loss_db(100.0, 900.0, model="p833")), 2)
    12.27
    >>> float(clutter_loss_db(0.0, 900.0))
    0.0
    """
    d = np.asarray(path_in_vegetation_m, dtype=float)
    f = np.asarray(freq_mhz, dtype=float)
    problems = []
    if model not in ("weissberger", "p833"):
        problems.append(f"model must be 'weissberger' or 'p833', got {model!r}")
    if not np.all(np.isfinite(d) & (d >= 0)):
        problems.append("path_in_vegetation_m must be finite and >= 0")
    if not np.all(np.isfinite(f) & (f > 0)):
        problems.append("freq_mhz must be finite and > 0")
    if max_loss_db is not None and not max_loss_db >= 0:
        problems.append(f"max_loss_db must be >= 0, got {max_loss_db}")
    if problems:
        msg = "clutter_loss_db: " + "; ".join(problems)
        raise ModelDomainError(msg)
    if model == "weissberger":
        _check_frequency("Weissberger", f, *_WEISSBERGER_FREQ_MHZ, strict)
        loss = _weissberger_db(d, f)
    else:
        _check_frequency("ITU-R P.833", f, *_P833_FREQ_MHZ, strict)
        gamma, a_m = _p833_parameters(f)
        loss = a_m * (1.0 - np.exp(-d * gamma / a_m))
    if max_loss_db is not None:
        loss = np.minimum(loss, max_loss_db)
    return float(loss) if np.ndim(loss) == 0 else np.asarray(loss)


def vegetation_depth_m(
    classes_along_path: ArrayLike,
    step_m: ArrayLike,
    *,
    n_points: ArrayLike | None = None,
    max_depth_m: float = WEISSBERGER_MAX_DEPTH_M,
    classes: Mapping[int, ClutterClass] = WORLDCOVER_CLUTTER,
) -> np.ndarray | float:
    """Path length inside vegetation at the receiver end of a land-cover profile.

    The profile holds one land-cover class per terrain sample, from the transmitter (first)
    to the receiver (last), at spacing ``step_m``. The receiver is in vegetation when its own
    sample is a vegetation class. The depth is the contiguous run of vegetation samples that
    ends at the receiver: with m such samples, the edge of the vegetation is placed halfway
    between the last open sample and the first vegetation sample, so the depth is
    ``(m - 0.5) step_m`` (``(n - 1) step_m`` when the whole profile is vegetation). Gaps in the
    canopy end the run. The depth is capped at ``max_depth_m`` (default 400 m, the limit of
    Weissberger's model). Codes not in ``classes`` (e.g. no data) count as open.

    Parameters
    ----------
    classes_along_path : array of int, shape (n,) or (m, n)
        Land-cover codes along one profile, or one profile per row (receiver last).
    step_m : float or array, shape (m,)
        Spacing of the samples, m (> 0), for all rows or per row.
    n_points : int, array of int, or None, keyword-only
        For padded rows, the valid length of each row; the receiver is at
        ``n_points[r] - 1``. None (default): every row is full.
    max_depth_m : float, keyword-only
        Cap on the depth, m (default 400).
    classes : mapping of int to ClutterClass, keyword-only
        Class table (default :data:`WORLDCOVER_CLUTTER`).

    Returns
    -------
    float or numpy.ndarray
        Vegetation depth at the receiver, m (a float for one profile, shape (m,) for rows).

    Examples
    --------
    >>> vegetation_depth_m([30, 30, 10, 10, 10], 10.0)
    25.0
    >>> vegetation_depth_m([10, 10, 10, 30], 10.0)
    0.0
    """
    codes = np.asarray(classes_along_path)
    if codes.ndim not in (1, 2) or codes.shape[-1] == 0:
        msg = f"classes_along_path must be 1-D or 2-D and not empty, got shape {codes.shape}"
        raise ModelDomainError(msg)
    single = codes.ndim == 1
    codes2 = codes.reshape(1, -1) if single else codes
    rows, width = codes2.shape
    n = (np.full(rows, width) if n_points is None
         else np.broadcast_to(np.asarray(n_points), (rows,)).astype(np.int64))
    step = np.broadcast_to(np.asarray(step_m, dtype=float), (rows,))
    problems = []
    if np.any((n < 1) | (n > width)):
        problems.append(f"n_points must be within 1-{width}")
    if not np.all(np.isfinite(step) & (step > 0)):
        problems.append("step_m must be finite and > 0")
    if not max_depth_m >= 0:
        problems.append(f"max_depth_m must be >= 0, got {max_depth_m}")
    if problems:
        msg = "vegetation_depth_m: " + "; ".join(problems)
        raise ModelDomainError(msg)
    vegetation_codes = [code for code, cls in classes.items() if cls.vegetation]
    in_veg = np.isin(codes2, vegetation_codes)
    col = np.arange(width)
    valid = col < n[:, None]
    last_open = np.max(np.where(valid & ~in_veg, col, -1), axis=1)
    run = n - 1 - last_open
    depth = np.where(run == n, (n - 1) * step, np.maximum(run - 0.5, 0.0) * step)
    depth = np.minimum(depth, max_depth_m)
    return float(depth[0]) if single else depth
