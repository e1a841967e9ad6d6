"""Drive-test calibration: the least-squares fit, cross-validation, class offsets and outputs."""

from __future__ import annotations

import json
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from towerplan.analysis.calibration import (
    CalibrationResult,
    ClassOffset,
    cross_validate,
    fit_class_offsets,
    fit_offset_slope,
)
from towerplan.commands.calibrate import calibration_toml, write_calibration
from towerplan.errors import InputDataError, OutputError
from towerplan.radio.linkbudget import eirp_dbm, rsrp_dbm
from towerplan.radio.models import hata_db
from towerplan.scenario import Scenario

BIAS_DB = 6.5
SIGMA_DB = 8.0
N = 400


def _drive_test(seed: int = 11, n: int = N, bias_db: float = BIAS_DB,
                slope_db_per_decade: float = 0.0, sigma_db: float = SIGMA_DB
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measured, predicted (Hata suburban RSRP) and log10(d / 1 km) of a synthetic drive test.

    Distances are log-uniform from 0.2 to 5 km; the measurements are the prediction plus the
    bias, the slope term and Gaussian noise in dB (log-normal shadowing).
    """
    rng = np.random.default_rng(seed)
    log_d = rng.uniform(math.log10(0.2), math.log10(5.0), n)
    # Hata is evaluated at 1 km below 1 km, as the model chain does.
    loss = np.asarray(hata_db(np.maximum(10**log_d, 1.0), 900.0, 42.0, 1.5, "suburban"))
    predicted = np.asarray(rsrp_dbm(eirp_dbm(46.0, 18.0, 3.0), loss, 10.0))
    measured = (predicted + bias_db + slope_db_per_decade * log_d
                + rng.normal(0.0, sigma_db, n))
    return measured, predicted, log_d


def test_fit_recovers_bias_under_lognormal_shadowing() -> None:
    measured, predicted, log_d = _drive_test()
    fit = fit_offset_slope(measured, predicted, log_d)
    assert fit.n == N
    assert fit.offset_db == pytest.approx(BIAS_DB, abs=1.0)
    assert abs(fit.slope_db_per_decade) < 3.0
    assert fit.before.rmse_db == pytest.approx(math.hypot(SIGMA_DB, BIAS_DB), abs=1.0)
    assert fit.before.mean_error_db == pytest.approx(BIAS_DB, abs=1.0)
    assert fit.after.rmse_db == pytest.approx(SIGMA_DB, abs=1.0)
    assert fit.after.mean_error_db == pytest.approx(0.0, abs=1e-9)
    assert fit.after.rmse_db < fit.before.rmse_db


def test_cross_validated_rmse_after_calibration_is_the_shadowing() -> None:
    measured, predicted, log_d = _drive_test()
    cv = cross_validate(measured, predicted, log_d, k=5, seed=0)
    assert cv.k == 5
    assert len(cv.fold_rmse_after_db) == 5
    assert cv.after.rmse_db == pytest.approx(SIGMA_DB, abs=1.0)
    assert cv.before.rmse_db == pytest.approx(math.hypot(SIGMA_DB, BIAS_DB), abs=1.0)
    assert abs(cv.after.mean_error_db) < 1.0
    assert cv.before.mean_error_db == pytest.approx(BIAS_DB, abs=1.0)
    # Held-out errors are a little worse than in-sample ones, never much better.
    fit = fit_offset_slope(measured, predicted, log_d)
    assert cv.after.rmse_db > fit.after.rmse_db - 0.2


def test_known_slope_is_recovered() -> None:
    measured, predicted, log_d = _drive_test(seed=3, bias_db=-4.0, slope_db_per_decade=-12.0,
                                             sigma_db=2.0)
    fit = fit_offset_slope(measured, predicted, log_d)
    assert fit.offset_db == pytest.approx(-4.0, abs=0.5)
    assert fit.slope_db_per_decade == pytest.approx(-12.0, abs=1.0)
    assert fit.after.rmse_db == pytest.approx(2.0, abs=0.3)
    cv = cross_validate(measured, predicted, log_d, k=10, seed=1)
    assert cv.after.rmse_db == pytest.approx(2.0, abs=0.3)


def test_noise_free_fit_is_exact_and_equals_polyfit() -> None:
    log_d = np.linspace(-0.5, 1.2, 25)
    predicted = -80.0 - 35.0 * log_d
    measured = predicted + 3.25 + 7.5 * log_d
    fit = fit_offset_slope(measured, predicted, log_d)
    assert fit.offset_db == pytest.approx(3.25, abs=1e-9)
    assert fit.slope_db_per_decade == pytest.approx(7.5, abs=1e-9)
    assert fit.after.rmse_db == pytest.approx(0.0, abs=1e-9)
    noisy = measured + np.random.default_rng(0).normal(0, 3, log_d.size)
    slope, offset = np.polyfit(log_d, noisy - predicted, 1)
    fit = fit_offset_slope(noisy, predicted, log_d)
    assert (fit.offset_db, fit.slope_db_per_decade) == pytest.approx((offset, slope))
    assert np.allclose(fit.apply(predicted, log_d), predicted + offset + slope * log_d)


def test_one_distance_gives_offset_only() -> None:
    fit = fit_offset_slope([-90.0, -94.0, -92.0], [-95.0, -95.0, -95.0], [0.3, 0.3, 0.3])
    assert fit.slope_db_per_decade == 0.0
    assert fit.offset_db == pytest.approx(3.0)


def test_inputs_are_not_modified() -> None:
    measured, predicted, log_d = _drive_test(n=50)
    copies = [a.copy() for a in (measured, predicted, log_d)]
    fit_offset_slope(measured, predicted, log_d)
    cross_validate(measured, predicted, log_d, k=5)
    for before, after in zip(copies, (measured, predicted, log_d), strict=True):
        np.testing.assert_array_equal(before, after)


def test_cross_validation_is_deterministic_and_uses_every_measurement_once() -> None:
    measured, predicted, log_d = _drive_test(n=53)
    a = cross_validate(measured, predicted, log_d, k=5, seed=4)
    b = cross_validate(measured, predicted, log_d, k=5, seed=4)
    assert a == b
    # Before calibration the held-out residuals are the raw ones: the pooled fold MSE
    # (folds of 11 or 10 measurements) equals the MSE of all residuals.
    sizes = np.array([11, 11, 11, 10, 10])
    pooled = np.sum(sizes * np.square(a.fold_rmse_before_db)) / sizes.sum()
    assert pooled == pytest.approx(np.mean((measured - predicted) ** 2))


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="same length"):
        fit_offset_slope([1.0, 2.0], [1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="finite"):
        fit_offset_slope([1.0, np.nan], [1.0, 2.0], [0.0, 1.0])
    with pytest.raises(InputDataError, match="at least 2"):
        fit_offset_slope([1.0], [1.0], [0.0])
    with pytest.raises(InputDataError, match="5-fold cross-validation needs at least 5"):
        cross_validate([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.5, 1.0], k=5)
    with pytest.raises(ValueError, match="at least 2 folds"):
        cross_validate([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [0.0, 0.5, 1.0], k=1)


def test_class_offsets_need_five_samples() -> None:
    residual = np.array([1.0, 2.0, 3.0, 4.0, 5.0, -2.0, -2.0, 10.0, 10.0, 10.0, 10.0])
    classes = np.array([10, 10, 10, 10, 10, 40, 40, 80, 80, 80, 80])
    assert fit_class_offsets(residual, classes) == (ClassOffset(10, 3.0, 5),)
    assert fit_class_offsets(residual, classes, min_samples=2) == (
        ClassOffset(10, 3.0, 5), ClassOffset(40, -2.0, 2), ClassOffset(80, 10.0, 4))
    assert fit_class_offsets([], []) == ()


def _result() -> CalibrationResult:
    measured, predicted, log_d = _drive_test(n=120)
    return CalibrationResult(
        fit=fit_offset_slope(measured, predicted, log_d),
        cross_validation=cross_validate(measured, predicted, log_d),
        class_offsets=(ClassOffset(10, 1.25, 40),), rows=121, sites=(("T01", 120),),
        distance_km=(0.2, 5.0), model="hata-suburban", model_text="Okumura-Hata suburban",
        measurements="drive.csv", scenario_name="demo", scenario_hash="abc",
        version="0.0", created="2025-01-02", sources=("drive test: drive.csv",),
        notes=("1 measurement closer than 100 m to its site left out",),
    )


def test_write_calibration(tmp_path: Path) -> None:
    result = _result()
    json_path, toml_path = write_calibration(result, tmp_path / "out")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["n"] == 120
    assert data["rows"] == 121
    assert data["model_chain"] == "hata-suburban"
    assert data["fit"]["offset_db"] == pytest.approx(result.fit.offset_db, abs=1e-3)
    assert data["cross_validation"]["after"]["rmse_db"] == pytest.approx(
        result.cross_validation.after.rmse_db, abs=1e-3)
    assert data["class_offsets"] == [{"class": 10, "name": "Tree cover", "offset_db": 1.25,
                                      "n": 40}]
    text = toml_path.read_text(encoding="utf-8")
    assert "[radio.calibration]" in text
    assert "2025-01-02" in text
    assert f"RMSE {result.fit.before.rmse_db:.2f} dB before" in text
    table = tomllib.loads(text)["radio"]["calibration"]
    assert table["offset_db"] == pytest.approx(result.fit.offset_db, abs=0.005)
    scenario = Scenario.from_dict(tomllib.loads("[radio]\nfreq_mhz = 900\n" + text))
    assert scenario.radio.calibration.offset_db == table["offset_db"]
    assert scenario.radio.calibration.slope_db_per_decade == table["slope_db_per_decade"]
    assert not [p.name for p in json_path.parent.iterdir() if p.name.startswith(".")]


def test_write_calibration_refuses_to_overwrite(tmp_path: Path) -> None:
    result = _result()
    write_calibration(result, tmp_path)
    with pytest.raises(OutputError, match="--overwrite"):
        write_calibration(result, tmp_path)
    write_calibration(result, tmp_path, overwrite=True)


def test_toml_snippet_has_no_negative_zero() -> None:
    fit = fit_offset_slope([-90.0, -100.0], [-90.0, -100.0], [0.0, 1.0])
    result = _result()
    text = calibration_toml(CalibrationResult(
        fit, result.cross_validation, (), 2, (("T01", 2),), (1.0, 10.0), "fspl", "free space",
        "d.csv", "demo", "abc", "0.0", "2025-01-02"))
    assert "offset_db = 0.00\n" in text
    assert "slope_db_per_decade = 0.00\n" in text
    assert "-0.00" not in text
