"""``towerplan calibrate --from-reports``: the model offset fitted to village signal reports.

Where no drive test exists, the village reports ([inputs] signal_reports) are the labels:
the RSRP offset is chosen so that the modelled status of the reported villages agrees best
with their reported class (:func:`towerplan.analysis.agreement.fit_offset_to_labels`). The
stages up to ``before`` run once (cached stages are reused); the RSRP of every demand unit
is computed once and each offset only shifts the threshold. The result is written like a
drive-test calibration: ``calibration.json`` and the scenario snippet ``calibration.toml``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from towerplan._version import __version__
from towerplan.analysis.agreement import Agreement, LabelFit, fit_offset_to_labels
from towerplan.commands.calibrate import write_calibration_files
from towerplan.commands.evidence import NO_REPORTS
from towerplan.commands.plan import CacheArg
from towerplan.coverage.context import dem_cell_m
from towerplan.coverage.statement import model_choice
from towerplan.errors import InputDataError, ScenarioError
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run
from towerplan.scenario import Scenario

__all__ = ["ReportCalibration", "calibrate_from_reports", "fit_reports",
           "report_calibration_toml", "write_report_calibration"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReportCalibration:
    """An offset fitted to village reports, with what it was fitted on.

    Attributes
    ----------
    fit : LabelFit
        The grid search and its cross-validation.
    offset_db : float
        The scenario's ``[radio.calibration] offset_db`` after the fit: the one before plus
        the fitted change, dB.
    slope_db_per_decade : float
        The scenario's slope, kept as it is, dB per decade.
    model : str
        Model chain name.
    reports : tuple of str
        Signal-report files.
    target : str
        Coverage target of the reports.
    scenario_name, scenario_hash, version, created : str
        Provenance.
    files : tuple of Path
        Files written (empty before writing).
    """

    fit: LabelFit
    offset_db: float
    slope_db_per_decade: float
    model: str
    reports: tuple[str, ...]
    target: str
    scenario_name: str
    scenario_hash: str
    version: str
    created: str
    files: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``calibration.json``."""
        fit = self.fit
        spread = [min(fit.fold_offsets_db), max(fit.fold_offsets_db)]

        def figures(a: Agreement) -> dict[str, Any]:
            return {"accuracy": _r(a.accuracy), "kappa": _r(a.kappa),
                    "villages_agreeing": a.agreeing, "villages_reported": a.reported}

        return {
            "towerplan_version": self.version,
            "created": self.created,
            "scenario": self.scenario_name,
            "scenario_hash": self.scenario_hash,
            "model_chain": self.model,
            "labels": "signal reports",
            "signal_reports": list(self.reports),
            "target": self.target,
            "criterion": fit.criterion,
            "n": fit.before.reported,
            "offsets_searched_db": {"min": float(fit.offsets_db.min()),
                                    "max": float(fit.offsets_db.max()),
                                    "step": (float(fit.offsets_db[1] - fit.offsets_db[0])
                                             if fit.offsets_db.size > 1 else 0.0)},
            "fit": {
                "offset_db": _r(self.offset_db),
                "offset_change_db": _r(fit.offset_db),
                "slope_db_per_decade": _r(self.slope_db_per_decade),
                "before": figures(fit.before),
                "after": figures(fit.after),
            },
            "cross_validation": {
                "k": fit.k, "seed": fit.seed,
                "before": {"accuracy": _r(fit.cv_before[0]), "kappa": _r(fit.cv_before[1])},
                "after": {"accuracy": _r(fit.cv_after[0]), "kappa": _r(fit.cv_after[1])},
                "fold_offset_change_db": [_r(v) for v in fit.fold_offsets_db],
                "fold_offset_spread_db": [_r(v) for v in spread],
            },
            "notes": ["offset_db is the scenario's [radio.calibration] offset plus the change "
                      "fitted here; the slope is kept"],
        }


def _r(value: float) -> float | None:
    return None if value != value else round(float(value), 4)  # nan -> None


def fit_reports(scenario: Scenario, *, k: int = 5, seed: int = 0,
                criterion: Literal["kappa", "accuracy"] = "kappa",
                progress: ProgressFn | None = None, cache: CacheArg = True
                ) -> ReportCalibration:
    """Fit the RSRP offset so that the modelled status best matches the signal reports.

    Parameters
    ----------
    scenario : Scenario
        With ``[inputs] signal_reports``.
    k, seed : int, keyword-only
        Folds and seed of the cross-validation over reported villages.
    criterion : {"kappa", "accuracy"}, keyword-only
        What the grid search (-20 to +20 dB, 0.5 dB steps) maximises; default kappa.
    progress, cache
        As for :func:`towerplan.pipeline.plan.new_run`.

    Raises
    ------
    ScenarioError
        Without ``[inputs] signal_reports``.
    InputDataError
        When no village has a known report for the coverage target.
    """
    if not scenario.inputs.signal_reports:
        raise ScenarioError(NO_REPORTS)
    run = new_run(scenario, cache=cache, progress=progress)
    load = run.get("load")
    units = run.get("demand")
    existing = run.get("existing_coverage")
    stats = run.get("before")
    reported = stats["status_reported"].astype(str).tolist()
    cov = scenario.coverage
    try:
        fit = fit_offset_to_labels(existing.points.rsrp_dbm, units.village, units.weight,
                                   units.area_km2, reported,
                                   threshold_rsrp_dbm=scenario.radio.threshold_rsrp_dbm,
                                   blank_below=cov.blank_below,
                                   covered_at_least=cov.covered_at_least, criterion=criterion,
                                   k=k, seed=seed)
    except ValueError as exc:
        msg = (f"{exc} (coverage target {cov.target}: reports of 'signal' say nothing about "
               "4G; see [coverage] target)")
        raise InputDataError(msg, problems=(msg,)) from None
    terrain = run.get("terrain")
    chain = model_choice(scenario.radio, dem_cell_m(terrain.dem, terrain.source_cell_m)).chain
    cal = scenario.radio.calibration
    log.info("calibration from %d reported villages: offset %+.1f dB, %s %.3f -> %.3f",
             fit.before.reported, fit.offset_db, criterion,
             fit.before.kappa if criterion == "kappa" else fit.before.accuracy,
             fit.after.kappa if criterion == "kappa" else fit.after.accuracy)
    return ReportCalibration(
        fit=fit, offset_db=cal.offset_db + fit.offset_db,
        slope_db_per_decade=cal.slope_db_per_decade, model=chain.name,
        reports=tuple(load.signal_reports.files) if load.signal_reports else (),
        target=cov.target, scenario_name=scenario.scenario.name,
        scenario_hash=scenario.content_hash(), version=__version__,
        created=dt.datetime.now(dt.UTC).date().isoformat())


def report_calibration_toml(result: ReportCalibration) -> str:
    """The ``[radio.calibration]`` table of *result*, with its figures as comments."""
    fit = result.fit
    lines = [
        f"# Calibration of model chain {result.model} to village signal reports, "
        f"{result.created}, towerplan {result.version}",
        f"# {fit.before.reported} reported villages (target {result.target}); offset chosen "
        f"by {fit.criterion} over {fit.offsets_db.min():g}..{fit.offsets_db.max():g} dB",
        f"# accuracy {fit.before.accuracy:.3f} -> {fit.after.accuracy:.3f}, kappa "
        f"{fit.before.kappa:.3f} -> {fit.after.kappa:.3f}; {fit.k}-fold cross-validated "
        f"accuracy {fit.cv_before[0]:.3f} -> {fit.cv_after[0]:.3f}, kappa "
        f"{fit.cv_before[1]:.3f} -> {fit.cv_after[1]:.3f}",
        f"# fold offsets {min(fit.fold_offsets_db):+.1f}..{max(fit.fold_offsets_db):+.1f} dB; "
        f"scenario {result.scenario_name} ({result.scenario_hash})",
        "[radio.calibration]",
        f"offset_db = {round(result.offset_db, 2) + 0.0:.2f}",
        f"slope_db_per_decade = {round(result.slope_db_per_decade, 2) + 0.0:.2f}",
    ]
    return "\n".join(lines) + "\n"


def write_report_calibration(result: ReportCalibration, out_dir: str | Path, *,
                             overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``calibration.json`` and ``calibration.toml`` (as a drive-test calibration).

    Raises
    ------
    OutputError
        When a file exists and *overwrite* is False, or the folder cannot be written.
    """
    return write_calibration_files(result.to_dict(), report_calibration_toml(result), out_dir,
                                   overwrite=overwrite)


def calibrate_from_reports(scenario: Scenario, out_dir: str | Path, *, k: int = 5,
                           criterion: Literal["kappa", "accuracy"] = "kappa",
                           overwrite: bool = False, progress: ProgressFn | None = None,
                           cache: CacheArg = True) -> ReportCalibration:
    """:func:`fit_reports` and :func:`write_report_calibration`."""
    result = fit_reports(scenario, k=k, criterion=criterion, progress=progress, cache=cache)
    files = write_report_calibration(result, out_dir, overwrite=overwrite)
    return ReportCalibration(result.fit, result.offset_db, result.slope_db_per_decade,
                             result.model, result.reports, result.target,
                             result.scenario_name, result.scenario_hash, result.version,
                             result.created, files)
