"""``towerplan evidence``: how well the model's status of today agrees with the signal reports.

Runs the plan's stages up to ``before`` (cached stages are reused) and compares, village by
village, the status the existing towers give in the model (``status_model``) with the class
the signal reports give for the coverage target (``status_reported``); see
:mod:`towerplan.analysis.agreement` for the rule (semi blank agrees with partial). Writes
``evidence.csv`` (one row per village), ``evidence_agreement.csv`` (the confusion tables in
long format: overall and per kecamatan, villages and people) and ``evidence.json``
(accuracy, Cohen's kappa and counts).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from towerplan._version import __version__
from towerplan.analysis.agreement import AGREES_WITH, Agreement, agreement
from towerplan.commands.plan import CacheArg
from towerplan.errors import ScenarioError
from towerplan.i18n import bilingual
from towerplan.io.atomic import atomic_output
from towerplan.io.outdir import staged_directory
from towerplan.io.tables import data_source, jsonable, write_table_csv
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run
from towerplan.scenario import Scenario

__all__ = ["AGREEMENT_COLUMNS", "EVIDENCE_FILES", "EVIDENCE_VILLAGE_COLUMNS", "EvidenceResult",
           "NO_REPORTS", "evidence", "evidence_tables"]

#: Files ``towerplan evidence`` writes.
EVIDENCE_FILES: tuple[str, ...] = ("evidence.csv", "evidence_agreement.csv", "evidence.json")

#: Columns of evidence.csv.
EVIDENCE_VILLAGE_COLUMNS: tuple[str, ...] = (
    "code", "name", "district_code", "district", "demand_total", "status_model",
    "share_covered_model", "status_reported", "signal_reported", "reported_date",
    "reported_source", "agrees", "conflict")

#: Columns of evidence_agreement.csv (long format: one row per table cell).
AGREEMENT_COLUMNS: tuple[str, ...] = ("district_code", "district", "measure", "reported",
                                      "modelled", "value")

#: Message of the error raised for a scenario without signal reports.
NO_REPORTS = "nothing to compare: add [inputs] signal_reports to the scenario"


@dataclass(frozen=True, slots=True)
class EvidenceResult:
    """Outcome of ``towerplan evidence``.

    Attributes
    ----------
    villages : pandas.DataFrame
        One row per village (:data:`EVIDENCE_VILLAGE_COLUMNS`); ``agrees`` is True/False for
        a village with a known report and None without one.
    overall : Agreement
        Agreement over every village.
    districts : dict of str to (str, Agreement)
        Per kecamatan code: its name and agreement.
    demand_basis : str
        ``"population"`` (people) or ``"area_km2"``: what ``demand_total`` and the people
        tables count.
    target : str
        Coverage target of the reports (``"4g"`` or ``"signal"``).
    files : tuple of Path
        Files written (empty when nothing was written).
    """

    villages: pd.DataFrame
    overall: Agreement
    districts: dict[str, tuple[str, Agreement]]
    demand_basis: str
    target: str
    files: tuple[Path, ...] = ()

    @property
    def disagreeing(self) -> pd.DataFrame:
        """Villages with a known report whose modelled status does not agree."""
        return self.villages[self.villages["agrees"].eq(False)]

    def to_dict(self) -> dict[str, object]:
        """The content of evidence.json."""
        return jsonable({
            "towerplan_version": __version__,
            "target": self.target,
            "demand_basis": self.demand_basis,
            "rule": bilingual("evidence.rule"),
            "villages_total": len(self.villages),
            "villages_disagreeing": len(self.disagreeing),
            **self.overall.to_dict(),
            "per_kecamatan": {code: {"district": name, **a.to_dict()}
                              for code, (name, a) in self.districts.items()},
        })


def evidence_tables(villages: pd.DataFrame, stats: pd.DataFrame, *, demand_basis: str,
                    target: str) -> EvidenceResult:
    """Compare modelled and reported status per village, overall and per kecamatan.

    Parameters
    ----------
    villages : pandas.DataFrame
        Villages (``code``, ``name``, ``district_code``, ``district``), in the order of
        *stats*.
    stats : pandas.DataFrame
        The ``before`` stage's table (:func:`towerplan.analysis.evidence.before_state`).
    demand_basis : str
        What ``demand_total`` counts (``"population"`` or ``"area_km2"``).
    target : str
        Coverage target.
    """
    table = villages[["code", "name", "district_code", "district"]].reset_index(drop=True)
    table = table.astype({"code": str, "district_code": str})
    for col in ("demand_total", "status_model", "share_covered_model", "status_reported",
                "signal_reported", "reported_date", "reported_source", "conflict"):
        table[col] = stats[col].to_numpy()
    reported = table["status_reported"].astype(str).to_numpy()
    modelled = table["status_model"].astype(str).to_numpy()
    agrees = np.array([None if r == "unknown" else AGREES_WITH.get(r) == m
                       for r, m in zip(reported, modelled, strict=True)], dtype=object)
    table["agrees"] = agrees
    people = table["demand_total"].to_numpy(dtype=float)
    overall = agreement(reported, modelled, people)
    districts: dict[str, tuple[str, Agreement]] = {}
    for code, group in table.groupby("district_code", sort=True):
        idx = group.index.to_numpy()
        districts[str(code)] = (str(group["district"].iloc[0]),
                                agreement(reported[idx], modelled[idx], people[idx]))
    return EvidenceResult(table, overall, districts, demand_basis, target)


def _long_rows(result: EvidenceResult) -> list[list[object]]:
    rows: list[list[object]] = []
    scopes = [("", "", result.overall)] + [(c, n, a) for c, (n, a) in result.districts.items()]
    for code, name, agr in scopes:
        for measure, frame in (("villages", agr.villages), ("people", agr.people)):
            for rep in frame.index:
                for mod in frame.columns:
                    value = float(frame.loc[rep, mod])
                    rows.append([code, name, measure, rep, mod,
                                 int(round(value)) if measure == "villages" else
                                 round(value, 1)])
    return rows


def evidence(scenario: Scenario, out_dir: str | Path, *, overwrite: bool = False,
             progress: ProgressFn | None = None, cache: CacheArg = True) -> EvidenceResult:
    """``towerplan evidence SCENARIO``: agreement of modelled and reported status.

    Runs the stages up to ``before`` (reusing cached ones) and writes :data:`EVIDENCE_FILES`
    into *out_dir* together (staged, published at once).

    Raises
    ------
    ScenarioError
        When the scenario has no ``[inputs] signal_reports`` (:data:`NO_REPORTS`).
    InputFileError, InputDataError
        When an input cannot be used.
    OutputError
        When *out_dir* is not empty and *overwrite* is False.
    """
    if not scenario.inputs.signal_reports:
        raise ScenarioError(NO_REPORTS)
    run = new_run(scenario, cache=cache, progress=progress)
    load = run.get("load")
    stats = run.get("before")
    units = run.get("demand")
    result = evidence_tables(load.villages, stats, demand_basis=units.basis,
                             target=scenario.coverage.target)
    folder = Path(out_dir)
    source = data_source(scenario.uses_demo)
    with staged_directory(folder, overwrite=overwrite) as staging:
        frame = result.villages.copy()
        frame["agrees"] = ["" if a is None else str(bool(a)).lower() for a in frame["agrees"]]
        write_table_csv(frame, EVIDENCE_VILLAGE_COLUMNS, "evidence", staging / EVIDENCE_FILES[0],
                        source)
        with atomic_output(staging / EVIDENCE_FILES[1]) as tmp, \
                tmp.open("x", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(AGREEMENT_COLUMNS)
            writer.writerows(_long_rows(result))
        data = result.to_dict()
        data["synthetic"] = scenario.uses_demo
        data["signal_reports"] = [str(f) for f in (load.signal_reports.files
                                                   if load.signal_reports else ())]
        with atomic_output(staging / EVIDENCE_FILES[2]) as tmp:
            tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n",
                           encoding="utf-8")
    files = tuple(folder / name for name in EVIDENCE_FILES)
    return EvidenceResult(result.villages, result.overall, result.districts,
                          result.demand_basis, result.target, files)
