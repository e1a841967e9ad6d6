"""Agreement of the modelled and the reported status of villages: ``towerplan evidence``.

The model gives each village a status from the share of its demand the existing towers
cover (``blank``, ``partial``, ``covered``); signal reports give a class for the coverage
target (``blank``, ``semi_blank``, ``served`` or ``unknown``; see
:func:`towerplan.io.evidence.signal_class`). They are compared class by class:

==============  ===============
reported        agrees with
==============  ===============
``blank``       ``blank``
``semi_blank``  ``partial``
``served``      ``covered``
``unknown``     nothing (left out of accuracy and kappa)
==============  ===============

*Semi blank is partial*: a semi-blank desa has weak or sub-target signal in part of it,
which is what the model calls partly covered (a share of the demand between
``coverage.blank_below`` and ``coverage.covered_at_least``). Accuracy is the share of the
villages with a known report whose modelled status agrees; Cohen's kappa is computed on the
same 3 x 3 table. :func:`fit_offset_to_labels` finds the RSRP offset that makes the model
agree best with the reports (a grid search; see there).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from towerplan.analysis.blankspots import BLANK, COVERED, PARTIAL

__all__ = [
    "AGREES_WITH",
    "MODEL_CLASSES",
    "REPORTED_CLASSES",
    "Agreement",
    "LabelFit",
    "agreement",
    "cohen_kappa",
    "confusion",
    "fit_offset_to_labels",
    "modelled_status",
]

#: Rows of the confusion table: the reported class for the coverage target.
REPORTED_CLASSES: tuple[str, ...] = ("blank", "semi_blank", "served", "unknown")
#: Columns of the confusion table: the modelled status.
MODEL_CLASSES: tuple[str, ...] = (BLANK, PARTIAL, COVERED)
#: The modelled status each known reported class agrees with.
AGREES_WITH: dict[str, str] = {"blank": BLANK, "semi_blank": PARTIAL, "served": COVERED}


def confusion(reported: ArrayLike, modelled: ArrayLike,
              weights: ArrayLike | None = None) -> pd.DataFrame:
    """Confusion table of reported (rows) against modelled status (columns).

    Parameters
    ----------
    reported : array-like of str
        Reported class of each village (:data:`REPORTED_CLASSES`).
    modelled : array-like of str
        Modelled status of each village (:data:`MODEL_CLASSES`).
    weights : array-like of float, optional
        Weight of each village (people); default 1 (villages counted).

    Returns
    -------
    pandas.DataFrame
        Index :data:`REPORTED_CLASSES`, columns :data:`MODEL_CLASSES`, sums of weights.

    Examples
    --------
    >>> table = confusion(["blank", "served", "served"], ["blank", "covered", "blank"])
    >>> table.loc["served"].tolist()
    [1.0, 0.0, 1.0]
    """
    rep = np.asarray(reported, dtype=object)
    mod = np.asarray(modelled, dtype=object)
    w = np.ones(rep.size) if weights is None else np.asarray(weights, dtype=float)
    table = np.zeros((len(REPORTED_CLASSES), len(MODEL_CLASSES)))
    for i, r in enumerate(REPORTED_CLASSES):
        for j, m in enumerate(MODEL_CLASSES):
            table[i, j] = float(w[(rep == r) & (mod == m)].sum())
    return pd.DataFrame(table, index=pd.Index(REPORTED_CLASSES, name="reported"),
                        columns=pd.Index(MODEL_CLASSES, name="modelled"))


def cohen_kappa(table: ArrayLike) -> float:
    """Cohen's kappa of a square agreement table (rows and columns the same classes).

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the share on the diagonal and ``p_e``
    the share expected by chance from the row and column totals. nan for an empty table;
    1.0 when chance agreement is already complete and every case agrees.

    Examples
    --------
    >>> round(cohen_kappa([[20, 5], [10, 15]]), 4)
    0.4
    """
    m = np.asarray(table, dtype=float)
    total = m.sum()
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        msg = f"an agreement table must be square, got shape {m.shape}"
        raise ValueError(msg)
    if total <= 0:
        return float("nan")
    p_o = np.trace(m) / total
    p_e = float((m.sum(axis=1) @ m.sum(axis=0)) / total**2)
    if p_e >= 1.0:
        return 1.0 if p_o >= 1.0 else 0.0
    return float((p_o - p_e) / (1.0 - p_e))


@dataclass(frozen=True, slots=True)
class Agreement:
    """Agreement of modelled and reported status over a set of villages.

    Attributes
    ----------
    villages, people : pandas.DataFrame
        Confusion tables (:func:`confusion`) counting villages and summing demand (people).
    reported : int
        Villages with a known report (class not ``unknown``).
    agreeing : int
        Of those, villages whose modelled status agrees (:data:`AGREES_WITH`).
    accuracy : float
        ``agreeing / reported`` (nan without a known report).
    kappa : float
        Cohen's kappa of the known 3 x 3 part of the village table (nan without a report).
    people_accuracy : float
        Share of the people of the reported villages living in agreeing villages.
    """

    villages: pd.DataFrame
    people: pd.DataFrame
    reported: int
    agreeing: int
    accuracy: float
    kappa: float
    people_accuracy: float

    def to_dict(self) -> dict[str, object]:
        """Plain figures for JSON (tables as nested ``{reported: {modelled: value}}``)."""
        def nested(frame: pd.DataFrame, digits: int) -> dict[str, dict[str, float]]:
            return {str(r): {str(c): round(float(frame.loc[r, c]), digits)
                             for c in frame.columns} for r in frame.index}
        return {
            "villages_reported": self.reported,
            "villages_agreeing": self.agreeing,
            "accuracy": _num(self.accuracy),
            "kappa": _num(self.kappa),
            "people_accuracy": _num(self.people_accuracy),
            "villages": nested(self.villages, 0),
            "people": nested(self.people, 1),
        }


def _num(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 4)


def _known(table: pd.DataFrame) -> np.ndarray:
    return table.loc[list(AGREES_WITH), list(MODEL_CLASSES)].to_numpy(dtype=float)


def agreement(reported: ArrayLike, modelled: ArrayLike,
              people: ArrayLike | None = None) -> Agreement:
    """Confusion tables, accuracy and kappa of *modelled* against *reported* status.

    Parameters
    ----------
    reported : array-like of str
        Reported class per village (:data:`REPORTED_CLASSES`).
    modelled : array-like of str
        Modelled status per village (:data:`MODEL_CLASSES`).
    people : array-like of float, optional
        Demand (people) per village; default 0 (the people table is then empty).
    """
    rep = np.asarray(reported, dtype=object)
    mod = np.asarray(modelled, dtype=object)
    w = np.zeros(rep.size) if people is None else np.asarray(people, dtype=float)
    villages = confusion(rep, mod)
    by_people = confusion(rep, mod, w)
    known = _known(villages)
    known_people = _known(by_people)
    n = int(round(known.sum()))
    agreeing = int(round(np.trace(known)))
    return Agreement(
        villages=villages, people=by_people, reported=n, agreeing=agreeing,
        accuracy=agreeing / n if n else float("nan"),
        kappa=cohen_kappa(known) if n else float("nan"),
        people_accuracy=(float(np.trace(known_people) / known_people.sum())
                         if known_people.sum() > 0 else float("nan")),
    )


def modelled_status(share_covered: ArrayLike, *, blank_below: float,
                    covered_at_least: float) -> np.ndarray:
    """Status of each village from its covered share (as the ``before`` stage classifies)."""
    share = np.asarray(share_covered, dtype=float)
    return np.where(share < blank_below, BLANK,
                    np.where(share >= covered_at_least, COVERED, PARTIAL)).astype(object)


@dataclass(frozen=True, slots=True)
class LabelFit:
    """RSRP offset fitted to village reports (:func:`fit_offset_to_labels`).

    Attributes
    ----------
    offset_db : float
        Best offset added to the modelled RSRP, dB.
    criterion : str
        ``"kappa"`` or ``"accuracy"``: what the grid search maximised.
    before, after : Agreement
        Agreement at offset 0 and at ``offset_db`` (in sample).
    cv_before, cv_after : tuple of float
        Cross-validated accuracy and kappa (mean over the held-out folds) at offset 0 and at
        each fold's fitted offset.
    fold_offsets_db : tuple of float
        Offset fitted on each fold's training villages, dB.
    k, seed : int
        Folds and seed of the assignment of villages to folds.
    offsets_db : numpy.ndarray
        The offsets searched, dB.
    scores : numpy.ndarray
        Criterion at each offset (all villages).
    """

    offset_db: float
    criterion: str
    before: Agreement
    after: Agreement
    cv_before: tuple[float, float]
    cv_after: tuple[float, float]
    fold_offsets_db: tuple[float, ...]
    k: int
    seed: int
    offsets_db: np.ndarray
    scores: np.ndarray


def _shares(rsrp_dbm: np.ndarray, unit_village: np.ndarray, weight: np.ndarray,
            area: np.ndarray, n: int, threshold: float) -> np.ndarray:
    """Share of each village's demand (area where it has none) at or above *threshold*."""
    cov = np.nan_to_num(rsrp_dbm, nan=-np.inf) >= threshold
    dem_total = np.bincount(unit_village, weights=weight, minlength=n)
    dem_cov = np.bincount(unit_village, weights=weight * cov, minlength=n)
    area_total = np.bincount(unit_village, weights=area, minlength=n)
    area_cov = np.bincount(unit_village, weights=area * cov, minlength=n)
    area_share = np.divide(area_cov, area_total, out=np.zeros(n), where=area_total > 0)
    return np.where(dem_total > 0,
                    np.divide(dem_cov, dem_total, out=np.zeros(n), where=dem_total > 0),
                    area_share)


def _score(known: np.ndarray, criterion: str) -> float:
    n = known.sum()
    if n <= 0:
        return float("nan")
    return cohen_kappa(known) if criterion == "kappa" else float(np.trace(known) / n)


def fit_offset_to_labels(rsrp_dbm: ArrayLike, unit_village: ArrayLike, weight: ArrayLike,
                         area_km2: ArrayLike, reported: Sequence[str], *,
                         threshold_rsrp_dbm: float, blank_below: float,
                         covered_at_least: float,
                         offsets_db: ArrayLike | None = None,
                         criterion: Literal["kappa", "accuracy"] = "kappa", k: int = 5,
                         seed: int = 0) -> LabelFit:
    """Fit the RSRP offset that makes the modelled status agree best with the reports.

    The RSRP of each demand unit is computed once; an offset ``d`` (dB added to the RSRP,
    i.e. subtracted from the path loss) covers a unit where ``rsrp + d >= threshold``, so
    each offset only shifts the threshold. For every offset of the grid the villages'
    modelled status (:func:`modelled_status`) is compared with the reported class
    (:data:`AGREES_WITH`, unknown reports left out) and *criterion* (Cohen's kappa by default,
    or accuracy) is computed; the best offset wins, ties going to the offset nearest 0 dB.
    Cross-validation: the reported villages are split into *k* folds at random (*seed*); the
    offset fitted on the other folds is scored on each held-out fold.

    Parameters
    ----------
    rsrp_dbm : array-like of float
        Best-server RSRP of each demand unit with the current settings, dBm (nan: none).
    unit_village : array-like of int
        Village (index into *reported*) of each unit.
    weight, area_km2 : array-like of float
        Demand weight (people) and area of each unit.
    reported : sequence of str
        Reported class of each village (:data:`REPORTED_CLASSES`).
    threshold_rsrp_dbm : float, keyword-only
        Coverage threshold, dBm.
    blank_below, covered_at_least : float, keyword-only
        Status thresholds (shares of demand).
    offsets_db : array-like of float, keyword-only, optional
        Offsets searched, dB; default -20 to +20 dB in 0.5 dB steps.
    criterion : {"kappa", "accuracy"}, keyword-only
        What is maximised (default kappa: it does not reward calling every village the
        majority class).
    k : int, keyword-only
        Folds (default 5; at most the number of reported villages).
    seed : int, keyword-only
        Seed of the fold assignment (default 0).

    Raises
    ------
    ValueError
        Without any known report, or for an unknown criterion.
    """
    if criterion not in ("kappa", "accuracy"):
        msg = f"criterion must be 'kappa' or 'accuracy', got {criterion!r}"
        raise ValueError(msg)
    rsrp = np.asarray(rsrp_dbm, dtype=float)
    v = np.asarray(unit_village, dtype=int)
    w = np.asarray(weight, dtype=float)
    a = np.asarray(area_km2, dtype=float)
    rep = np.asarray(reported, dtype=object)
    n = rep.size
    grid = (np.arange(-20.0, 20.0 + 1e-9, 0.5) if offsets_db is None
            else np.asarray(offsets_db, dtype=float))
    known = np.flatnonzero(rep != "unknown")
    if not known.size:
        msg = "no village has a known report: nothing to fit the offset to"
        raise ValueError(msg)
    # Per offset: the 3 x 3 table of each reported village as one-hot, so folds only sum rows.
    row = np.array([list(AGREES_WITH).index(r) for r in rep[known]])
    cells = np.zeros((grid.size, known.size), dtype=int)
    for g, d in enumerate(grid):
        status = modelled_status(_shares(rsrp + d, v, w, a, n, threshold_rsrp_dbm),
                                 blank_below=blank_below, covered_at_least=covered_at_least)
        col = np.array([MODEL_CLASSES.index(s) for s in status[known]])
        cells[g] = row * 3 + col

    def table(g: int, members: np.ndarray) -> np.ndarray:
        return np.bincount(cells[g, members], minlength=9).reshape(3, 3).astype(float)

    def best(members: np.ndarray) -> int:
        scores = np.array([_score(table(g, members), criterion) for g in range(grid.size)])
        scores = np.nan_to_num(scores, nan=-np.inf)
        top = np.flatnonzero(scores >= scores.max() - 1e-12)
        return int(top[np.argmin(np.abs(grid[top]))])

    everyone = np.arange(known.size)
    scores = np.array([_score(table(g, everyone), criterion) for g in range(grid.size)])
    chosen = best(everyone)
    k = max(2, min(k, known.size))
    folds = np.random.default_rng(seed).permutation(known.size) % k
    zero = _nearest(grid, 0.0)
    fold_offsets, cv_before, cv_after = [], [], []
    for f in range(k):
        train, test = everyone[folds != f], everyone[folds == f]
        g = best(train) if train.size else zero
        fold_offsets.append(float(grid[g]))
        before, after = table(zero, test), table(g, test)
        cv_before.append((np.trace(before) / before.sum(), cohen_kappa(before)))
        cv_after.append((np.trace(after) / after.sum(), cohen_kappa(after)))

    def verdict(offset: float) -> Agreement:
        status = modelled_status(_shares(rsrp + offset, v, w, a, n, threshold_rsrp_dbm),
                                 blank_below=blank_below, covered_at_least=covered_at_least)
        people = np.bincount(v, weights=w, minlength=n)
        return agreement(rep, status, people)

    return LabelFit(
        offset_db=float(grid[chosen]), criterion=criterion, before=verdict(0.0),
        after=verdict(float(grid[chosen])),
        cv_before=_mean_pairs(cv_before), cv_after=_mean_pairs(cv_after),
        fold_offsets_db=tuple(fold_offsets), k=k, seed=seed, offsets_db=grid, scores=scores)


def _nearest(grid: np.ndarray, value: float) -> int:
    return int(np.argmin(np.abs(grid - value)))


def _mean_pairs(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    arr = np.array(pairs, dtype=float)
    return (float(np.nanmean(arr[:, 0])) if np.isfinite(arr[:, 0]).any() else float("nan"),
            float(np.nanmean(arr[:, 1])) if np.isfinite(arr[:, 1]).any() else float("nan"))
