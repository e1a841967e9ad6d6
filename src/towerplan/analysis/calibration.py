"""Drive-test calibration of a model chain: ``towerplan calibrate``.

The residual of each measurement, ``r = measured - predicted`` RSRP in dB, is fitted by least
squares to ``offset_db + slope_db_per_decade * log10(d / 1 km)``, d being the distance from the
serving site. The calibrated prediction is the chain's RSRP plus that term; the scenario table
``[radio.calibration]`` holds the two figures.

The numeric core (:func:`fit_offset_slope`, :func:`cross_validate`, :func:`fit_class_offsets`)
works on arrays only; :class:`CalibrationResult` holds a fit with its cross-validation.
:mod:`towerplan.commands.calibrate` reads the measurements, the scenario's towers and terrain,
predicts RSRP at every measurement with the scenario's chain and writes the results.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import InputDataError
from towerplan.io.landcover import WORLDCOVER_CLASSES

if TYPE_CHECKING:

    pass

__all__ = [
    "MIN_CLASS_SAMPLES",
    "MIN_DISTANCE_M",
    "CalibrationResult",
    "ClassOffset",
    "CrossValidation",
    "Errors",
    "Fit",
    "cross_validate",
    "fit_class_offsets",
    "fit_offset_slope",
]

log = logging.getLogger(__name__)

#: Land-cover classes with fewer measurements get no offset of their own.
MIN_CLASS_SAMPLES = 5

#: Measurements closer than this to their serving site are left out of the fit, m: next to
#: the mast the antenna's vertical pattern, not the path, sets the level.
MIN_DISTANCE_M = 100.0



@dataclass(frozen=True, slots=True)
class Errors:
    """Prediction errors ``measured - predicted``, dB.

    Attributes
    ----------
    rmse_db : float
        Root mean square error, dB.
    mean_error_db : float
        Mean error, dB (positive: the measurements are stronger than predicted).
    """

    rmse_db: float
    mean_error_db: float


@dataclass(frozen=True, slots=True)
class Fit:
    """Least-squares offset and distance slope of the residuals, with the in-sample errors.

    Attributes
    ----------
    offset_db : float
        Added to the predicted RSRP, dB (the residual at 1 km).
    slope_db_per_decade : float
        Added per tenfold distance from 1 km, dB per decade (0 when the distances do not vary).
    before : Errors
        Errors of the uncalibrated prediction.
    after : Errors
        Errors of the calibrated prediction on the same measurements.
    n : int
        Number of measurements fitted.
    """

    offset_db: float
    slope_db_per_decade: float
    before: Errors
    after: Errors
    n: int

    def apply(self, predicted_dbm: ArrayLike, log_distance: ArrayLike) -> np.ndarray:
        """Calibrated RSRP: ``predicted + offset_db + slope_db_per_decade * log_distance``, dBm.

        Examples
        --------
        >>> fit = Fit(2.0, -10.0, Errors(0.0, 0.0), Errors(0.0, 0.0), 2)
        >>> fit.apply([-90.0, -100.0], [0.0, 1.0]).tolist()
        [-88.0, -108.0]
        """
        return (np.asarray(predicted_dbm, dtype=float) + self.offset_db
                + self.slope_db_per_decade * np.asarray(log_distance, dtype=float))


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """K-fold cross-validation of :func:`fit_offset_slope`.

    Each fold is held out in turn; the fit on the other folds predicts it.

    Attributes
    ----------
    k : int
        Number of folds.
    seed : int
        Seed of the random assignment of measurements to folds.
    before : Errors
        Mean over the held-out folds of the uncalibrated RMSE and mean error, dB.
    after : Errors
        Mean over the held-out folds of the calibrated RMSE and mean error, dB.
    fold_rmse_before_db, fold_rmse_after_db : tuple of float
        RMSE of each held-out fold, dB.
    """

    k: int
    seed: int
    before: Errors
    after: Errors
    fold_rmse_before_db: tuple[float, ...]
    fold_rmse_after_db: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class ClassOffset:
    """Mean residual of the measurements in one land-cover class.

    Attributes
    ----------
    code : int
        Land-cover class code (ESA WorldCover).
    offset_db : float
        Mean residual, dB.
    count : int
        Number of measurements in the class.
    """

    code: int
    offset_db: float
    count: int


@dataclass(frozen=True, slots=True)
class CalibrationResult:
    """Outcome of :func:`calibrate`.

    Attributes
    ----------
    fit : Fit
        Offset, slope and in-sample errors before and after.
    cross_validation : CrossValidation
        Held-out errors before and after.
    class_offsets : tuple of ClassOffset
        Mean residual after the fit per land-cover class at the receiver, for classes with at
        least :data:`MIN_CLASS_SAMPLES` measurements (empty without land cover).
    rows : int
        Readings in the measurements file (``fit.n`` of them were used).
    sites : tuple of (str, int)
        Serving site ids and their number of measurements.
    distance_km : tuple of float
        Shortest and longest distance from a measurement to its site, km.
    model : str
        Model chain name.
    model_text : str
        What the chain is.
    measurements : str
        Measurements file.
    scenario_name, scenario_hash : str
        Name and :meth:`~towerplan.scenario.Scenario.content_hash` of the scenario.
    version : str
        towerplan version.
    created : str
        Date of the calibration (ISO 8601, UTC).
    sources : tuple of str
        Data sources.
    notes : tuple of str
        Measurements left out and assumptions of the chain.
    """

    fit: Fit
    cross_validation: CrossValidation
    class_offsets: tuple[ClassOffset, ...]
    rows: int
    sites: tuple[tuple[str, int], ...]
    distance_km: tuple[float, float]
    model: str
    model_text: str
    measurements: str
    scenario_name: str
    scenario_hash: str
    version: str
    created: str
    sources: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``calibration.json`` (figures rounded to 0.001 dB)."""
        fit, cv = self.fit, self.cross_validation
        return {
            "towerplan_version": self.version,
            "created": self.created,
            "scenario": self.scenario_name,
            "scenario_hash": self.scenario_hash,
            "model_chain": self.model,
            "model_text": self.model_text,
            "measurements": self.measurements,
            "n": fit.n,
            "rows": self.rows,
            "sites": dict(self.sites),
            "distance_km": {"min": _r(self.distance_km[0]), "max": _r(self.distance_km[1])},
            "fit": {
                "offset_db": _r(fit.offset_db),
                "slope_db_per_decade": _r(fit.slope_db_per_decade),
                "before": _errors_dict(fit.before),
                "after": _errors_dict(fit.after),
            },
            "cross_validation": {
                "k": cv.k,
                "seed": cv.seed,
                "before": _errors_dict(cv.before),
                "after": _errors_dict(cv.after),
                "fold_rmse_before_db": [_r(v) for v in cv.fold_rmse_before_db],
                "fold_rmse_after_db": [_r(v) for v in cv.fold_rmse_after_db],
            },
            "class_offsets": [
                {"class": c.code, "name": WORLDCOVER_CLASSES.get(c.code, str(c.code)),
                 "offset_db": _r(c.offset_db), "n": c.count}
                for c in self.class_offsets
            ],
            "sources": list(self.sources),
            "notes": list(self.notes),
        }


def _r(value: float) -> float:
    return round(float(value), 3) + 0.0


def _errors_dict(errors: Errors) -> dict[str, float]:
    return {"rmse_db": _r(errors.rmse_db), "mean_error_db": _r(errors.mean_error_db)}


def _errors(residual: np.ndarray) -> Errors:
    return Errors(float(np.sqrt(np.mean(residual**2))), float(np.mean(residual)))


def _checked(measured_dbm: ArrayLike, predicted_dbm: ArrayLike, log_distance: ArrayLike
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    m = np.asarray(measured_dbm, dtype=float).ravel()
    p = np.asarray(predicted_dbm, dtype=float).ravel()
    x = np.asarray(log_distance, dtype=float).ravel()
    if not m.size == p.size == x.size:
        msg = (f"measured ({m.size}), predicted ({p.size}) and log_distance ({x.size}) must "
               "have the same length")
        raise ValueError(msg)
    if m.size < 2:
        msg = f"a calibration needs at least 2 measurements, got {m.size}"
        raise InputDataError(msg)
    if not (np.isfinite(m).all() and np.isfinite(p).all() and np.isfinite(x).all()):
        msg = "measured, predicted and log_distance must be finite numbers"
        raise ValueError(msg)
    return m, p, x


def _solve(residual: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Least-squares offset and slope of *residual* against ``[1, x]``."""
    design = np.column_stack([np.ones_like(x), x])
    coef, _, rank, _ = np.linalg.lstsq(design, residual, rcond=None)
    if rank < 2:  # every distance the same: the slope cannot be told from the offset
        return float(np.mean(residual)), 0.0
    return float(coef[0]), float(coef[1])


def fit_offset_slope(measured_dbm: ArrayLike, predicted_dbm: ArrayLike,
                     log_distance: ArrayLike) -> Fit:
    """Fit the residual ``measured - predicted`` to ``offset + slope * log_distance``.

    Parameters
    ----------
    measured_dbm, predicted_dbm : array_like
        Measured and predicted RSRP at each measurement, dBm.
    log_distance : array_like
        ``log10(d / 1 km)`` of each measurement's distance from its site.

    Returns
    -------
    Fit
        Offset (dB), slope (dB per decade) and errors before and after. When every distance
        is the same, the slope is 0 and the offset is the mean residual.

    Raises
    ------
    InputDataError
        With fewer than 2 measurements.
    ValueError
        When the arrays differ in length or hold a non-finite value.

    Examples
    --------
    >>> fit = fit_offset_slope([-80.0, -95.0], [-85.0, -90.0], [0.0, 1.0])
    >>> round(fit.offset_db, 6), round(fit.slope_db_per_decade, 6), fit.after.rmse_db < 1e-9
    (5.0, -10.0, True)
    """
    m, p, x = _checked(measured_dbm, predicted_dbm, log_distance)
    residual = m - p
    offset, slope = _solve(residual, x)
    return Fit(offset, slope, _errors(residual), _errors(residual - offset - slope * x), m.size)


def cross_validate(measured_dbm: ArrayLike, predicted_dbm: ArrayLike, log_distance: ArrayLike,
                   k: int = 5, seed: int = 0) -> CrossValidation:
    """K-fold cross-validation of :func:`fit_offset_slope`.

    The measurements are shuffled with *seed* and split into *k* folds of nearly equal size;
    each fold is predicted by the fit on the others.

    Parameters
    ----------
    measured_dbm, predicted_dbm : array_like
        Measured and predicted RSRP, dBm.
    log_distance : array_like
        ``log10(d / 1 km)`` of each measurement.
    k : int
        Number of folds (2 .. number of measurements; default 5).
    seed : int
        Seed of the fold assignment (default 0).

    Returns
    -------
    CrossValidation
        Mean held-out RMSE and mean error, before and after calibration.

    Raises
    ------
    InputDataError
        When there are fewer measurements than folds.
    ValueError
        When *k* < 2 or the arrays differ in length or hold a non-finite value.
    """
    m, p, x = _checked(measured_dbm, predicted_dbm, log_distance)
    if k < 2:
        msg = f"cross-validation needs at least 2 folds, got {k}"
        raise ValueError(msg)
    if m.size < k:
        msg = f"{k}-fold cross-validation needs at least {k} measurements, got {m.size}"
        raise InputDataError(msg)
    residual = m - p
    folds = np.array_split(np.random.default_rng(seed).permutation(m.size), k)
    before: list[Errors] = []
    after: list[Errors] = []
    for held in folds:
        train = np.ones(m.size, dtype=bool)
        train[held] = False
        offset, slope = _solve(residual[train], x[train])
        before.append(_errors(residual[held]))
        after.append(_errors(residual[held] - offset - slope * x[held]))
    return CrossValidation(
        k=k, seed=seed, before=_mean_errors(before), after=_mean_errors(after),
        fold_rmse_before_db=tuple(e.rmse_db for e in before),
        fold_rmse_after_db=tuple(e.rmse_db for e in after),
    )


def _mean_errors(errors: list[Errors]) -> Errors:
    return Errors(float(np.mean([e.rmse_db for e in errors])),
                  float(np.mean([e.mean_error_db for e in errors])))


def fit_class_offsets(residual_db: ArrayLike, classes: ArrayLike, *,
                      min_samples: int = MIN_CLASS_SAMPLES) -> tuple[ClassOffset, ...]:
    """Mean residual per land-cover class.

    Parameters
    ----------
    residual_db : array_like
        Residual of each measurement, dB.
    classes : array_like of int
        Land-cover class at each measurement.
    min_samples : int, keyword-only
        Classes with fewer measurements are left out (default 5).

    Returns
    -------
    tuple of ClassOffset
        One per class with enough measurements, in increasing class code.

    Examples
    --------
    >>> fit_class_offsets([1.0, 3.0, 5.0], [10, 10, 40], min_samples=2)
    (ClassOffset(code=10, offset_db=2.0, count=2),)
    """
    r = np.asarray(residual_db, dtype=float).ravel()
    c = np.asarray(classes).ravel()
    if r.size != c.size:
        msg = f"residual ({r.size}) and classes ({c.size}) must have the same length"
        raise ValueError(msg)
    codes, inverse, counts = np.unique(c, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=r, minlength=codes.size)
    return tuple(ClassOffset(int(code), float(total / count), int(count))
                 for code, total, count in zip(codes, sums, counts, strict=True)
                 if count >= min_samples)
