"""``towerplan calibrate``: the scenario's model chain fitted to drive-test measurements.

Reads the measurements, the scenario's existing towers and terrain, predicts RSRP at every
measurement with the scenario's chain, fits an offset and a distance slope
(:mod:`towerplan.analysis.calibration`) with cross-validation, and writes
``calibration.json`` and the scenario snippet ``calibration.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyproj import CRS, Geod, Transformer

from towerplan._version import __version__
from towerplan.analysis.calibration import (
    MIN_DISTANCE_M,
    CalibrationResult,
    ClassOffset,
    cross_validate,
    fit_class_offsets,
    fit_offset_slope,
)
from towerplan.coverage.statement import model_choice
from towerplan.errors import InputDataError, ModelDomainError
from towerplan.inputs import SYNTHETIC_SOURCE, resolve_paths
from towerplan.io.landcover import read_landcover
from towerplan.io.measurements import MIN_MEASUREMENTS, read_measurements
from towerplan.io.outdir import staged_files
from towerplan.io.rasters import RasterGrid
from towerplan.io.terrain import dem_source_cell_m, read_dem, utm_crs_for
from towerplan.io.towers import read_towers
from towerplan.io.villages import problems_message
from towerplan.radio.chain import ModelChain, chain_loss
from towerplan.radio.clutter import vegetation_depth_m
from towerplan.radio.linkbudget import eirp_dbm, rsrp_dbm
from towerplan.radio.profile import terrain_profile
from towerplan.scenario import Scenario

__all__ = ["CALIBRATION_FILES", "CalibrationRun", "calibrate", "calibration_toml", "fit_scenario",
           "write_calibration", "write_calibration_files"]

log = logging.getLogger(__name__)

#: Files written by :func:`write_calibration`.
CALIBRATION_FILES: tuple[str, str] = ("calibration.json", "calibration.toml")

#: Margin of terrain read around the measurements and sites, in cells.
_MARGIN_CELLS = 4


@dataclass(frozen=True, slots=True)
class CalibrationRun:
    """Outcome of ``towerplan calibrate``: the fit and the files written."""

    result: CalibrationResult
    files: tuple[Path, Path]


def calibrate(scenario: Scenario, measurements_path: str | Path, out_dir: str | Path, *,
              k: int = 5, overwrite: bool = False) -> CalibrationRun:
    """``towerplan calibrate``: :func:`fit_scenario` and :func:`write_calibration`.

    Raises
    ------
    InputFileError, InputDataError
        When the measurements, towers or terrain cannot be used.
    OutputError
        When a calibration file exists and *overwrite* is False.
    """
    result = fit_scenario(scenario, measurements_path, k=k)
    return CalibrationRun(result, write_calibration(result, out_dir, overwrite=overwrite))


@dataclass(frozen=True, slots=True)
class _Paths:
    """What is predicted: one row per measurement kept."""

    measured_dbm: np.ndarray
    predicted_dbm: np.ndarray
    distance_m: np.ndarray
    classes: np.ndarray | None
    site_ids: np.ndarray
    notes: tuple[str, ...]


def fit_scenario(scenario: Scenario, measurements_path: str | Path, *, k: int = 5,
                 seed: int = 0, min_distance_m: float = MIN_DISTANCE_M) -> CalibrationResult:
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
    started = time.perf_counter()
    source = Path(measurements_path)
    table, _ = read_measurements(source)
    paths = resolve_paths(scenario)
    chain = model_choice(scenario.radio, max(dem_source_cell_m(paths.dem),
                                             scenario.terrain.resolution_m)).chain
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
    ids = towers["tower_id"].astype(str).tolist()
    index = {tower_id: k for k, tower_id in enumerate(ids)}
    named = table["site_id"].astype(str).to_numpy()
    unknown = [f"line {line}: site_id '{site}' is not an existing tower"
               for line, site in zip(table.index, named, strict=True)
               if site and site not in index]
    if unknown:
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

    classes, _ = read_landcover(path, dst_crs=crs, transform=dem.transform, shape=dem.shape)
    return classes


def _classes_along(classes: np.ndarray, dem: RasterGrid, crs: CRS, lon: np.ndarray,
                   lat: np.ndarray) -> np.ndarray:
    """Land-cover class of the cell under each profile sample."""
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
        What :func:`fit_scenario` returned.
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
    return write_calibration_files(result.to_dict(), calibration_toml(result), out_dir,
                                   overwrite=overwrite)


def write_calibration_files(payload: dict[str, Any], toml_text: str, out_dir: str | Path, *,
                            overwrite: bool = False) -> tuple[Path, Path]:
    """Write *payload* as ``calibration.json`` and *toml_text* as ``calibration.toml``,
    both or neither (staged, then published together).

    Raises
    ------
    OutputError
        When a file exists and *overwrite* is False, or the folder cannot be written.
    """
    folder = Path(out_dir)
    targets = tuple(folder / name for name in CALIBRATION_FILES)
    texts = (json.dumps(payload, indent=2, ensure_ascii=False) + "\n", toml_text)
    with staged_files(targets, overwrite=overwrite) as staging:
        for target, text in zip(targets, texts, strict=True):
            (staging / target.name).write_text(text, encoding="utf-8")
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
