"""Today's state of each village: signal reports where there are any, else the model.

:func:`before_state` combines the modelled coverage of the existing towers with the village
signal reports (:mod:`towerplan.io.evidence`). Where a village has a known report, the report
decides: a village reported served at the coverage target counts as covered today (a new
site gains nothing there), one reported blank or semi blank counts as uncovered even where
the model covers it. Elsewhere the model's status is used, with the demand units an operator
or crowd coverage map covers at the target counted as served (reports > maps > model).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from towerplan.analysis.blankspots import BLANK, COVERED, PARTIAL, village_statistics
from towerplan.io.evidence import Target, resolve_status, signal_class

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.io.evidence import SignalReports

__all__ = ["EVIDENCE_COLUMNS", "before_state", "covered_today", "evidence_summary"]

#: Columns :func:`before_state` adds to the village statistics.
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "status_model", "share_covered_model", "status_reported", "signal_reported",
    "reported_date", "reported_source", "status_source", "conflict", "served_reported")

#: The status a reported class stands for (``semi_blank`` is ``partial``).
_STATUS_OF_CLASS = {"served": COVERED, "semi_blank": PARTIAL, "blank": BLANK}


def covered_today(covered_model: np.ndarray, unit_village: np.ndarray,
                  served_reported: np.ndarray) -> np.ndarray:
    """Whether each demand unit is served today: the report of its village, else the model.

    Parameters
    ----------
    covered_model : numpy.ndarray of bool
        Units the existing towers cover in the model.
    unit_village : numpy.ndarray of int
        Village of each unit.
    served_reported : numpy.ndarray of float
        Per village: 1 reported served at the target, 0 reported blank or semi blank, nan
        without a known report.
    """
    rep = np.asarray(served_reported, dtype=float)[unit_village]
    return np.where(np.isnan(rep), np.asarray(covered_model, dtype=bool), rep > 0.5)


def before_state(units: DemandUnits, codes: Sequence[str], covered_model: np.ndarray,
                 rsrp_dbm: np.ndarray, server: np.ndarray, reports: SignalReports | None, *,
                 target: Target, blank_below: float, covered_at_least: float,
                 covered_maps: np.ndarray | None = None,
                 covered_any: np.ndarray | None = None) -> pd.DataFrame:
    """Per-village statistics today, with the reported and the modelled status.

    Returns
    -------
    pandas.DataFrame
        :func:`~towerplan.analysis.blankspots.village_statistics` of the units served today
        (:func:`covered_today`), ``status`` the one used (the reported class where known:
        served ``covered``, semi blank ``partial``, blank ``blank``; else the model's), and
        :data:`EVIDENCE_COLUMNS`: ``status_model`` and ``share_covered_model`` (the existing
        towers in the model), ``status_reported`` (``served``, ``semi_blank``, ``blank`` or
        ``unknown`` for the target), ``signal_reported`` (the status the deciding report
        gives, ``""`` without one), ``reported_date``, ``reported_source``,
        ``status_source`` (``"report: SOURCE DATE"`` or ``"model"``), ``conflict`` (the
        report says blank or semi blank where the model covers the village, or served where
        the model leaves it blank) and ``served_reported`` (1, 0 or nan).

        With *covered_maps* (per demand unit, a coverage map covers it at the target), a
        village without a known report counts those units as served too; its
        ``status_source`` is then ``"coverage_map"`` where a map covers any of its units at
        the target. ``status_model`` stays the towers' model alone.

        *covered_model* is the coverage at the target (towers below it left out). With
        *covered_any* (units some tower reaches, whatever its technology), a village the
        model leaves blank at the target but where towers below it reach at least
        *blank_below* of the demand is ``partial`` (semi blank: signal, not the target),
        as a report of ``2g`` or ``weak`` is for a 4G target.
    """
    n = len(codes)
    model = village_statistics(units, n, covered_model, rsrp_dbm, server,
                               blank_below=blank_below, covered_at_least=covered_at_least)
    if reports is None:
        resolved = pd.DataFrame({"status": ["unknown"] * n, "date": [""] * n,
                                 "source": [""] * n})
    else:
        resolved = resolve_status(reports, [str(c) for c in codes])
    signal = resolved["status"].astype(str).to_numpy()
    kind = np.array([signal_class(s, target) for s in signal], dtype=object)
    served = np.where(kind == "served", 1.0, np.where(kind == "unknown", np.nan, 0.0))
    maps = (np.zeros(len(units.weight), dtype=bool) if covered_maps is None
            else np.asarray(covered_maps, dtype=bool))
    covered = covered_today(np.asarray(covered_model, dtype=bool) | maps, units.village, served)
    out = village_statistics(units, n, covered, rsrp_dbm, server, blank_below=blank_below,
                             covered_at_least=covered_at_least)
    model_status = model["status"].to_numpy().astype(object)
    if covered_any is not None:
        some = village_statistics(units, n, covered_any, rsrp_dbm, server,
                                  blank_below=blank_below, covered_at_least=covered_at_least)
        below_only = (model_status == BLANK) & (some["status"].to_numpy() != BLANK)
        model_status = np.where(below_only, PARTIAL, model_status).astype(object)
    known = kind != "unknown"
    mapped = np.bincount(units.village[maps], minlength=n)[:n] > 0
    fallback = out["status"].to_numpy().astype(object)
    fallback = np.where((fallback == BLANK) & (model_status == PARTIAL), PARTIAL,
                        fallback).astype(object)
    out["status"] = np.where(known, [_STATUS_OF_CLASS.get(k, "") for k in kind],
                             fallback).astype(object)
    out["status_model"] = model_status
    out["share_covered_model"] = model["share_covered"].to_numpy()
    out["status_reported"] = kind
    out["signal_reported"] = np.where(known, signal, "").astype(object)
    dates = resolved["date"].astype(str).to_numpy()
    sources = resolved["source"].astype(str).to_numpy()
    out["reported_date"] = np.where(known, dates, "").astype(object)
    out["reported_source"] = np.where(known, sources, "").astype(object)
    out["status_source"] = np.array(
        [f"report: {s} {d}".strip() if k else ("coverage_map" if m else "model")
         for k, m, s, d in zip(known, mapped, sources, dates, strict=True)], dtype=object)
    out["conflict"] = ((np.isin(kind, ["blank", "semi_blank"]) & (model_status == COVERED))
                       | ((kind == "served") & (model_status == BLANK)))
    out["served_reported"] = served
    return out


def evidence_summary(stats: pd.DataFrame, files: Sequence[str], target: str
                     ) -> dict[str, object]:
    """The ``evidence`` entry of summary.json: files, villages reported by class, conflicts
    (``conflicts_reported_served``: reported served where the model leaves the village blank;
    ``conflicts_reported_blank``: reported blank or semi blank where the model covers it)."""
    kind = stats["status_reported"].to_numpy()
    conflict = stats["conflict"].to_numpy(bool)
    return {
        "files": [str(f) for f in files],
        "target": target,
        "villages_reported": int((kind != "unknown").sum()),
        "blank_reported": int((kind == "blank").sum()),
        "semi_blank_reported": int((kind == "semi_blank").sum()),
        "served_reported": int((kind == "served").sum()),
        "conflicts": int(conflict.sum()),
        "conflicts_reported_served": int((conflict & (kind == "served")).sum()),
        "conflicts_reported_blank": int((conflict & (kind != "served")).sum()),
    }
