"""Drive-test calibration of a model chain: ``towerplan calibrate``.

The residual of each measurement, ``r = measured - predicted`` RSRP in dB, is fitted by least
squares to ``offset_db + slope_db_per_decade * log10(d / 1 km)``, d being the distance from the
serving site. The calibrated prediction is the chain's RSRP plus that term; the scenario table
``[radio.calibration]`` holds the two figures.

The numeric core (:func:`fit_offset_slope`, :func:`cross_validate`, :func:`fit_class_offsets`)
works on arrays only. :func:`calibrate` is the adapter: it reads the measurements, the
scenario's towers and terrain, and predicts RSRP at every measurement with the scenario's chain.
:func:`write_calibration` writes ``calibration.json`` and the scenario snippet
``calibration.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from towerplan.errors import InputDataError, OutputError

if TYPE_CHECKING:
    import pandas as pd
    from pyproj import CRS

    from towerplan.io.rasters import RasterGrid
    from towerplan.radio.chain import ModelChain
    from towerplan.scenario import Scenario

__all__ = [
    "CALIBRATION_FILES",
    "MIN_CLASS_SAMPLES",
    "MIN_DISTANCE_M",
    "CalibrationResult",
    "ClassOffset",
    "CrossValidation",
    "Errors",
    "Fit",
    "calibrate",
    "calibration_toml",
    "cross_validate",
    "fit_class_offsets",
    "fit_offset_slope",
    "write_calibration",
]

log = logging.getLogger(__name__)

#: Files written by :func:`write_calibration`.
CALIBRATION_FILES: tuple[str, str] = ("calibration.json", "calibration.toml")

#: Land-cover classes with fewer measurements get no offset of their own.
MIN_CLASS_SAMPLES = 5

#: Measurements closer than this to their serving site are left out of the fit, m: next to
#: the mast the antenna's vertical pattern, not the path, sets the level.
MIN_DISTANCE_M = 100.0

#: Margin of terrain read around the measurements and sites, in cells.
_MARGIN_CELLS = 4


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
        from towerplan.io.landcover import WORLDCOVER_CLASSES

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


@dataclass(frozen=True, slots=True)
class _Paths:
    """What is predicted: one row per measurement kept."""

    measured_dbm: np.ndarray
    predicted_dbm: np.ndarray
    distance_m: np.ndarray
    classes: np.ndarray | None
    site_ids: np.ndarray
    notes: tuple[str, ...]


def calibrate(scenario: Scenario, measurements_path: str | Path, *, k: int = 5, seed: int = 0,
              min_distance_m: float = MIN_DISTANCE_M) -> CalibrationResult:
    """Calibrate the scenario's model chain against drive-test measurements.

    Each measurement is served by the existing tower whose ``tower_id`` its ``site_id`` names,
    or by the nearest existing tower when it names none. The terrain covering every path is
    read once onto a local UTM grid at ``terrain.resolution_m``; the chain's loss over the
    geodesic profile gives the predicted RSRP (EIRP - 10 log10(subcarriers) - loss + rx gain,
    with the tower's antenna height and the scenario's radio settings). The scenario's own
    ``[radio.calibration]`` is not applied: "before" is the bare chain.

    Parameters
    ----------
    scenario : Scenario
        Radio settings, model chain, terrain and existing towers.
    measurements_path : str or Path
        Drive-test CSV (see :func:`towerplan.io.measurements.read_measurements`).
    k : int, keyword-only
        Folds of the cross-validation (default 5).
    seed : int, keyword-only
        Seed of the fold assignment (default 0).
    min_distance_m : float, keyword-only
        Measurements closer to their site are left out, m (default 100).

    Returns
    -------
    CalibrationResult

    Raises
    ------
    InputFileError, InputDataError
        When the measurements, towers or terrain cannot be read, a ``site_id`` names no
        existing tower, the scenario has no existing towers, or fewer than 10 measurements
        remain.
    """
    from towerplan import __version__
    from towerplan.inputs import SYNTHETIC_SOURCE, resolve_paths
    from towerplan.io.measurements import MIN_MEASUREMENTS, read_measurements
    from towerplan.radio.chain import parse_chain

    started = time.perf_counter()
    source = Path(measurements_path)
    table, _ = read_measurements(source)
    chain = parse_chain(scenario.radio.model)
    paths = resolve_paths(scenario)
    towers = _towers(scenario, paths.towers)
    serving = _serving_sites(table, towers, source)
    data = _predict(scenario, chain, table, towers, serving, paths.dem, paths.landcover,
                    min_distance_m)
    if data.measured_dbm.size < MIN_MEASUREMENTS:
        msg = (f"{source}: only {data.measured_dbm.size} of {len(table)} measurements can be "
               f"used ({'; '.join(data.notes)}); a calibration needs at least "
               f"{MIN_MEASUREMENTS}")
        raise InputDataError(msg, problems=(msg,))
    log_d = np.log10(data.distance_m / 1000.0)
    fit = fit_offset_slope(data.measured_dbm, data.predicted_dbm, log_d)
    cv = cross_validate(data.measured_dbm, data.predicted_dbm, log_d, k=k, seed=seed)
    classes: tuple[ClassOffset, ...] = ()
    if data.classes is not None:
        after = data.measured_dbm - fit.apply(data.predicted_dbm, log_d)
        known = data.classes != 0
        classes = fit_class_offsets(after[known], data.classes[known])
    ids, counts = np.unique(data.site_ids, return_counts=True)
    sources = [f"drive test: {source}"]
    if paths.demo is not None:
        sources.insert(0, SYNTHETIC_SOURCE.format(seed=scenario.demo.seed,
                                                  res=scenario.demo.resolution_m))
    sources[1:1] = scenario.inputs.attribution
    notes = list(data.notes)
    cal = scenario.radio.calibration
    if cal.offset_db or cal.slope_db_per_decade:
        notes.append("the scenario's [radio.calibration] is not applied: the fit is relative "
                     "to the bare model chain")
    log.info("calibration: %d of %d measurements, %d sites, RMSE %.2f -> %.2f dB "
             "(%d-fold CV %.2f -> %.2f dB) in %.1f s", fit.n, len(table), ids.size,
             fit.before.rmse_db, fit.after.rmse_db, k, cv.before.rmse_db, cv.after.rmse_db,
             time.perf_counter() - started)
    return CalibrationResult(
        fit=fit, cross_validation=cv, class_offsets=classes, rows=len(table),
        sites=tuple((str(i), int(c)) for i, c in zip(ids, counts, strict=True)),
        distance_km=(float(data.distance_m.min() / 1000.0),
                     float(data.distance_m.max() / 1000.0)),
        model=chain.name, model_text=chain.describe(), measurements=str(source),
        scenario_name=scenario.scenario.name, scenario_hash=scenario.content_hash(),
        version=__version__, created=dt.datetime.now(dt.UTC).date().isoformat(),
        sources=tuple(sources), notes=tuple(notes),
    )


def _towers(scenario: Scenario, path: Path | None) -> pd.DataFrame:
    from towerplan.io.towers import read_towers

    if path is None:
        msg = ("the scenario has no existing towers ('inputs.towers'); a calibration needs "
               "the sites that served the measurements")
        raise InputDataError(msg, problems=(msg,))
    towers, _ = read_towers(path, default_height_m=scenario.radio.existing_height_m)
    if not len(towers):
        msg = f"{path}: no towers; a calibration needs the sites that served the measurements"
        raise InputDataError(msg, problems=(msg,))
    return towers


def _serving_sites(table: pd.DataFrame, towers: pd.DataFrame, source: Path) -> np.ndarray:
    """Row in *towers* of each measurement's serving site."""
    from pyproj import Geod

    ids = towers["tower_id"].astype(str).tolist()
    index = {tower_id: k for k, tower_id in enumerate(ids)}
    named = table["site_id"].astype(str).to_numpy()
    unknown = [f"line {line}: site_id '{site}' is not an existing tower"
               for line, site in zip(table.index, named, strict=True)
               if site and site not in index]
    if unknown:
        from towerplan.io.villages import problems_message

        listed = ", ".join(ids[:20]) + (", ..." if len(ids) > 20 else "")
        problems = [*unknown, f"existing towers: {listed}"]
        raise InputDataError(problems_message(source, problems), problems=tuple(problems))
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    tlon, tlat = towers["lon"].to_numpy(float), towers["lat"].to_numpy(float)
    _, _, dist = Geod(ellps="WGS84").inv(
        np.repeat(lon, tlon.size), np.repeat(lat, tlat.size),
        np.tile(tlon, lon.size), np.tile(tlat, lon.size))
    nearest = np.asarray(dist, dtype=float).reshape(lon.size, tlon.size).argmin(axis=1)
    return np.array([index[s] if s else int(n) for s, n in zip(named, nearest, strict=True)],
                    dtype=int)


def _terrain(scenario: Scenario, dem_paths: tuple[Path, ...], lon: np.ndarray,
             lat: np.ndarray) -> tuple[RasterGrid, CRS]:
    """Read the terrain once, covering every point given, onto a local UTM grid."""
    from pyproj import Transformer

    from towerplan.io.terrain import read_dem, utm_crs_for

    crs = utm_crs_for(float((lon.min() + lon.max()) / 2.0), float((lat.min() + lat.max()) / 2.0))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    tight = (float(np.min(x)), float(np.min(y)), float(np.max(x)), float(np.max(y)))
    res = scenario.terrain.resolution_m
    pad = _MARGIN_CELLS * res
    dem, _ = read_dem(dem_paths, dst_crs=crs,
                      bounds=(tight[0] - pad, tight[1] - pad, tight[2] + pad, tight[3] + pad),
                      resolution_m=res, resampling=scenario.terrain.resampling,
                      fill_nodata=scenario.terrain.fill_nodata,
                      max_fill_distance_m=scenario.terrain.max_fill_distance_m,
                      require_bounds=tight)
    return dem, crs


def _predict(scenario: Scenario, chain: ModelChain, table: pd.DataFrame, towers: pd.DataFrame,
             serving: np.ndarray, dem_paths: tuple[Path, ...], landcover: Path | None,
             min_distance_m: float) -> _Paths:
    """Predicted RSRP at every measurement farther than *min_distance_m* from its site."""
    from pyproj import Geod

    from towerplan.errors import ModelDomainError
    from towerplan.radio.chain import chain_loss
    from towerplan.radio.clutter import vegetation_depth_m
    from towerplan.radio.linkbudget import eirp_dbm, rsrp_dbm
    from towerplan.radio.profile import terrain_profile

    radio = scenario.radio
    lon, lat = table["lon"].to_numpy(float), table["lat"].to_numpy(float)
    tlon = towers["lon"].to_numpy(float)[serving]
    tlat = towers["lat"].to_numpy(float)[serving]
    heights = towers["height_m"].to_numpy(float)[serving]
    _, _, dist = Geod(ellps="WGS84").inv(tlon, tlat, lon, lat)
    near = np.asarray(dist, dtype=float) < min_distance_m
    notes: list[str] = []
    if near.any():
        notes.append(f"{int(near.sum())} measurements closer than {min_distance_m:g} m to "
                     "their site left out")
    keep = np.flatnonzero(~near)
    if not keep.size:
        empty = np.empty(0)
        return _Paths(empty, empty, empty, None, np.empty(0, dtype=object), tuple(notes))
    dem, crs = _terrain(scenario, dem_paths, np.concatenate([lon[keep], tlon[keep]]),
                        np.concatenate([lat[keep], tlat[keep]]))
    classes_grid = _landcover(landcover, crs, dem)
    if classes_grid is None and chain.clutter is not None:
        notes.append("no land cover given: vegetation depth 0 m, clutter loss 0 dB")
    eirp = eirp_dbm(radio.tx_power_dbm, radio.antenna_gain_dbi, radio.cable_loss_db)
    loss = np.full(keep.size, np.nan)
    length = np.full(keep.size, np.nan)
    classes = np.zeros(keep.size, dtype=int)
    chain_notes: Counter[str] = Counter()
    outside: list[int] = []
    for j, i in enumerate(keep):
        try:
            profile = terrain_profile(dem.array, dem.transform, crs, (tlon[i], tlat[i]),
                                      (lon[i], lat[i]))
        except ModelDomainError:
            outside.append(int(table.index[i]))
            continue
        vegetation = 0.0
        if classes_grid is not None:
            along = _classes_along(classes_grid, dem, crs, profile.lon, profile.lat)
            classes[j] = int(along[-1])
            if chain.clutter is not None:
                vegetation = float(vegetation_depth_m(along, profile.step_m))
        terms = chain_loss(chain, profile.heights_m, profile.step_m, float(heights[i]),
                           radio.rx_height_m, radio.freq_mhz, k_factor=radio.k_factor,
                           vegetation_m=vegetation)
        chain_notes.update(set(terms.notes))
        loss[j], length[j] = terms.total_db, profile.length_m
    if outside:
        listed = ", ".join(map(str, outside[:10])) + (" ..." if len(outside) > 10 else "")
        notes.append(f"{len(outside)} measurements left out: the path to their site leaves the "
                     f"terrain data (lines {listed})")
    ok = np.isfinite(loss)
    notes.extend(f"{note} ({count} of {int(ok.sum())} paths)"
                 for note, count in sorted(chain_notes.items()))
    rsrp = np.asarray(rsrp_dbm(eirp, loss[ok], radio.bandwidth_mhz, radio.rx_gain_dbi),
                      dtype=float)
    ids = towers["tower_id"].astype(str).to_numpy()[serving[keep][ok]]
    return _Paths(table["rsrp_dbm"].to_numpy(float)[keep][ok], rsrp, length[ok],
                  classes[ok] if classes_grid is not None else None, ids, tuple(notes))


def _landcover(path: Path | None, crs: CRS, dem: RasterGrid) -> np.ndarray | None:
    if path is None:
        return None
    from towerplan.io.landcover import read_landcover

    classes, _ = read_landcover(path, dst_crs=crs, transform=dem.transform, shape=dem.shape)
    return classes


def _classes_along(classes: np.ndarray, dem: RasterGrid, crs: CRS, lon: np.ndarray,
                   lat: np.ndarray) -> np.ndarray:
    """Land-cover class of the cell under each profile sample."""
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    tr = dem.transform
    cols = np.clip(np.floor((np.asarray(x) - tr.c) / tr.a).astype(int), 0, dem.shape[1] - 1)
    rows = np.clip(np.floor((np.asarray(y) - tr.f) / tr.e).astype(int), 0, dem.shape[0] - 1)
    return classes[rows, cols]


def write_calibration(result: CalibrationResult, out_dir: str | Path, *,
                      overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``calibration.json`` and the scenario snippet ``calibration.toml``.

    Parameters
    ----------
    result : CalibrationResult
        What :func:`calibrate` returned.
    out_dir : str or Path
        Folder to write into; created if missing.
    overwrite : bool, keyword-only
        Replace existing calibration files (default False).

    Returns
    -------
    tuple of Path
        The JSON and TOML files written.

    Raises
    ------
    OutputError
        When a file exists and *overwrite* is False, or the folder cannot be written.
    """
    from towerplan.io.atomic import atomic_output

    folder = Path(out_dir)
    targets = tuple(folder / name for name in CALIBRATION_FILES)
    existing = [str(p) for p in targets if p.exists()]
    if existing and not overwrite:
        msg = f"{', '.join(existing)} already exist(s); pass --overwrite to replace"
        raise OutputError(msg)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the output folder {folder}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    texts = (json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n",
             calibration_toml(result))
    for target, text in zip(targets, texts, strict=True):
        with atomic_output(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
    return targets[0], targets[1]


def calibration_toml(result: CalibrationResult) -> str:
    """The ``[radio.calibration]`` table of *result*, with its figures as comments.

    Appended to a scenario file (that has no such table yet), it loads with
    :meth:`~towerplan.scenario.Scenario.from_toml`.
    """
    fit, cv = result.fit, result.cross_validation
    lines = [
        f"# Drive-test calibration of model chain {result.model}, {result.created}, "
        f"towerplan {result.version}",
        f"# {fit.n} of {result.rows} measurements from {Path(result.measurements).name}, "
        f"{len(result.sites)} site(s), {result.distance_km[0]:.2f}-"
        f"{result.distance_km[1]:.2f} km; scenario {result.scenario_name} "
        f"({result.scenario_hash})",
        f"# RMSE {fit.before.rmse_db:.2f} dB before, {fit.after.rmse_db:.2f} dB after; "
        f"mean error {_toml_float(fit.before.mean_error_db, sign=True)} dB before, "
        f"{_toml_float(fit.after.mean_error_db, sign=True)} dB after",
        f"# {cv.k}-fold cross-validated RMSE {cv.before.rmse_db:.2f} dB before, "
        f"{cv.after.rmse_db:.2f} dB after",
        "[radio.calibration]",
        f"offset_db = {_toml_float(fit.offset_db)}",
        f"slope_db_per_decade = {_toml_float(fit.slope_db_per_decade)}",
    ]
    return "\n".join(lines) + "\n"


def _toml_float(value: float, *, sign: bool = False) -> str:
    return f"{round(float(value), 2) + 0.0:{'+' if sign else ''}.2f}"
