"""The audit of a real multi-year sequence against the optimum for the same money.

:func:`audit_sequence` works on the matrices of the programme kernel
(:mod:`towerplan.analysis.programme`) only: it values a real sequence of builds in
people-years, takes its spend per year and funding channel as the budget, and solves the
optimal and the greedy programme for that money. :func:`sensitivity_band` turns several such
audits (one per :class:`SensitivityCase`: the threshold, the tower height and the source of the
before-state moved) into a table, and :func:`band` into the one line a budget hearing reads:
"the real sequence reached 31–44 % (base 36 %) of the optimum for the same money".
The pipeline stage recomputes the coverage for each case and calls these functions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.programme import (
    greedy_programme,
    optimise_programme,
    programme_spend,
    programme_value,
)
from towerplan.errors import InputDataError, ScenarioError
from towerplan.i18n import format_number, t

if TYPE_CHECKING:
    from towerplan.scenario import Scenario

__all__ = [
    "BAND_COLUMNS",
    "BEFORE_SOURCES",
    "DEFAULT_CASES",
    "SensitivityCase",
    "SequenceAudit",
    "audit_sequence",
    "band",
    "band_text",
    "sensitivity_band",
]

log = logging.getLogger(__name__)

#: Where the before-state of a case comes from: the coverage model or the signal reports.
BEFORE_SOURCES: tuple[str, ...] = ("model", "reports")

#: Columns of :func:`sensitivity_band`, one row per case.
BAND_COLUMNS: tuple[str, ...] = (
    "case",
    "people_years_real",       # discounted people-years of the real sequence
    "people_years_optimal",    # of the optimal programme for the same money
    "people_years_greedy",     # of the greedy year-by-year programme for the same money
    "share_pct",               # real / optimal * 100
    "gap",                     # optimality gap of the optimum (0 = proven optimal)
)

#: The share of a case whose optimum is worth nothing (nothing was left to serve).
_SHARE_WHEN_NOTHING = 100.0
_TOL = 1e-6

Build = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SensitivityCase:
    """One variant of the audit: the coverage recomputed with its inputs moved.

    Attributes
    ----------
    name : str
        Short id, e.g. ``"base"`` or ``"threshold_minus_5db"``; the ``case`` column.
    label_id, label_en : str
        What a reader sees, in Bahasa Indonesia and English.
    threshold_delta_db : float
        Added to the coverage threshold (dBm), e.g. -5 (a weaker signal counts as served).
    height_delta_m : float
        Added to the antenna height of every candidate tower type, metres.
    before_source : {"model", "reports"}
        Whether units served before the programme come from the coverage model or from the
        signal reports of the villages.
    """

    name: str
    label_id: str
    label_en: str
    threshold_delta_db: float = 0.0
    height_delta_m: float = 0.0
    before_source: str = "model"

    def __post_init__(self) -> None:
        """Reject an unknown before-state source or a non-finite change."""
        problems = []
        if self.before_source not in BEFORE_SOURCES:
            problems.append(f"before_source {self.before_source!r} is not one of "
                            f"{', '.join(BEFORE_SOURCES)}")
        for key in ("threshold_delta_db", "height_delta_m"):
            if not math.isfinite(getattr(self, key)):
                problems.append(f"{key} must be a finite number")
        if problems:
            msg = f"sensitivity case {self.name!r}: " + "; ".join(problems)
            raise ScenarioError(msg)

    def label(self, lang: str) -> str:
        """Return the label in *lang* (``"id"`` or ``"en"``)."""
        return self.label_id if lang == "id" else self.label_en

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario with this case's threshold and tower heights.

        ``[radio] threshold_rsrp_dbm`` moves by ``threshold_delta_db``; ``[radio]
        tower_height_m`` and the height of every ``[[tower_types]]`` entry by
        ``height_delta_m`` (existing towers keep theirs). ``before_source`` is for the caller
        to apply when it builds the before-state.

        Raises
        ------
        ScenarioError
            If a moved height is not positive.
        """
        if not (self.threshold_delta_db or self.height_delta_m):
            return scenario
        radio = replace(scenario.radio,
                        threshold_rsrp_dbm=scenario.radio.threshold_rsrp_dbm
                        + self.threshold_delta_db,
                        tower_height_m=scenario.radio.tower_height_m + self.height_delta_m)
        changes: dict[str, Any] = {"radio": radio}
        types = getattr(scenario, "tower_types", ())
        if types and self.height_delta_m:
            changes["tower_types"] = tuple(
                replace(tt, height_m=tt.height_m + self.height_delta_m) for tt in types)
        return replace(scenario, **changes)


def _case(name: str, threshold_delta_db: float = 0.0, height_delta_m: float = 0.0,
          before_source: str = "model") -> SensitivityCase:
    key = f"programme_audit.case.{name}"
    return SensitivityCase(name, t(key, "id"), t(key, "en"), threshold_delta_db,
                           height_delta_m, before_source)


#: The cases a pipeline audits by default; the first is the base case.
DEFAULT_CASES: tuple[SensitivityCase, ...] = (
    _case("base"),
    _case("threshold_minus_5db", threshold_delta_db=-5.0),
    _case("threshold_plus_5db", threshold_delta_db=5.0),
    _case("height_minus_10m", height_delta_m=-10.0),
    _case("height_plus_10m", height_delta_m=10.0),
    _case("before_from_reports", before_source="reports"),
)


@dataclass(frozen=True, slots=True)
class SequenceAudit:
    """A real multi-year sequence compared with the optimal programme for the same money.

    Attributes
    ----------
    real_value : float
        Discounted people-years the real sequence adds to the before-state (people served
        without any build do not count), as :func:`~towerplan.analysis.programme.programme_value`
        weighs the years.
    optimal_value : float
        The same for the optimal programme for the same money (at least ``real_value``: the
        real sequence is itself a candidate programme).
    greedy_value : float
        Of the greedy year-by-year programme for the same money.
    share_pct : float
        ``real_value / optimal_value * 100`` (100 when the optimum is worth nothing).
    gap : float
        Relative optimality gap of the optimum on the added people-years,
        ``(bound - optimal_value) / bound`` (0 = proven optimal).
    spend_idr : numpy.ndarray, shape (Y, C)
        Spend of the real sequence per year and channel, rupiah.
    optimal_builds : tuple of (int, int)
        The optimum's builds, (option, year index).
    newly_served_real, newly_served_optimal : numpy.ndarray, shape (Y,)
        People newly served in each year by the real sequence and by the optimum.
    real_builds : tuple of (int, int)
        The audited builds, (option, year index), sorted by year.
    budget_idr : numpy.ndarray, shape (Y, C)
        The money the optimum and the greedy programme had (``spend_idr`` unless given).
    optimal_spend_idr, greedy_spend_idr : numpy.ndarray, shape (Y, C)
        What they spent of it.
    greedy_builds : tuple of (int, int)
        The greedy programme's builds.
    bound : float
        Upper bound on ``optimal_value`` proven by the solver.
    status : str
        Solver status of the optimum; ``"real sequence"`` when the solver found nothing
        better than the real sequence within its time limit.
    real_within_budget : bool
        Whether the real sequence keeps to ``budget_idr`` (always true without a given budget).
    runtime_s : float
        Time of the optimiser and the greedy programme, seconds.
    """

    real_value: float
    optimal_value: float
    greedy_value: float
    share_pct: float
    gap: float
    spend_idr: np.ndarray
    optimal_builds: tuple[Build, ...]
    newly_served_real: np.ndarray
    newly_served_optimal: np.ndarray
    real_builds: tuple[Build, ...] = ()
    budget_idr: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    optimal_spend_idr: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    greedy_spend_idr: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    greedy_builds: tuple[Build, ...] = ()
    bound: float = math.nan
    status: str = ""
    real_within_budget: bool = True
    runtime_s: float = 0.0

    @property
    def greedy_share_pct(self) -> float:
        """Greedy value as a percentage of the optimum (100 when the optimum is worth nothing)."""
        return _share_pct(self.greedy_value, self.optimal_value)


def _share_pct(value: float, optimum: float) -> float:
    return 100.0 * (value / optimum) if optimum > 0 else _SHARE_WHEN_NOTHING


def _check_builds(builds: Sequence[Build], site_of: np.ndarray, n_years: int) -> tuple[Build, ...]:
    """The real builds as sorted (option, year) pairs; every problem in one InputDataError."""
    n_options = len(site_of)
    problems: list[str] = []
    seen_sites: dict[int, int] = {}
    out: list[Build] = []
    for k, y in builds:
        k, y = int(k), int(y)
        if not 0 <= k < n_options:
            problems.append(f"option {k} is not one of the {n_options} options")
            continue
        if not 0 <= y < n_years:
            problems.append(f"option {k}: year index {y} is outside the {n_years} "
                            "programme years")
            continue
        site = int(site_of[k])
        if site in seen_sites:
            problems.append(f"site {site} is built twice (options {seen_sites[site]} and {k})")
            continue
        seen_sites[site] = k
        out.append((k, y))
    if problems:
        msg = "real sequence: " + "; ".join(problems)
        raise InputDataError(msg)
    return tuple(sorted(out, key=lambda b: (b[1], b[0])))


def _within(spend: np.ndarray, budget: np.ndarray, *, carry_over: bool) -> bool:
    """Whether *spend* keeps to *budget* (cumulative per channel under carry-over)."""
    if carry_over:
        spend, budget = np.cumsum(spend, axis=0), np.cumsum(budget, axis=0)
    return bool(np.all(spend <= budget + 1e-6 + 1e-9 * np.abs(budget)))


def _first_year(cover: sp.csr_matrix, served: np.ndarray, builds: Sequence[Build]) -> np.ndarray:
    """First year index each unit is served (``Y`` = never), with *builds* added."""
    srv = np.asarray(served, dtype=bool)
    year = np.where(srv.any(axis=0), srv.argmax(axis=0), srv.shape[0])
    for k, y in builds:
        idx = cover.indices[cover.indptr[k]:cover.indptr[k + 1]]
        year[idx] = np.minimum(year[idx], y)
    return year


def _newly_served(cover: sp.csr_matrix, weights: np.ndarray, served: np.ndarray,
                  builds: Sequence[Build]) -> np.ndarray:
    """People the builds serve first in each year, who would not be served then without them."""
    n_years = served.shape[0]
    without = _first_year(cover, served, ())
    with_builds = _first_year(cover, served, builds)
    gain = with_builds < without
    return np.bincount(with_builds[gain], weights=weights[gain], minlength=n_years)[:n_years]


def audit_sequence(cover: sp.spmatrix, site_of: np.ndarray, weights: np.ndarray,
                   served: np.ndarray, pay: np.ndarray, opex: np.ndarray,
                   discount: np.ndarray, real_builds: Sequence[Build], *,
                   budget: np.ndarray | None = None, carry_over: bool = True,
                   time_limit_s: float = 60.0) -> SequenceAudit:
    """Compare a real multi-year sequence with the optimal programme for the same money.

    Parameters
    ----------
    cover : scipy.sparse matrix of bool, shape (K, U)
        Demand units each option (site, tower type, channel) covers.
    site_of : numpy.ndarray of int, shape (K,)
        Site of each option; a site carries at most one tower.
    weights : numpy.ndarray, shape (U,)
        People per demand unit.
    served : numpy.ndarray of bool, shape (Y, U)
        Units served in each year without the audited sequence (existing towers and towers
        of other programmes included), monotone in the year.
    pay : numpy.ndarray, shape (K, C)
        Capital cost each channel pays for each option, rupiah.
    opex : numpy.ndarray, shape (K, C)
        Running cost per year each channel pays, rupiah.
    discount : numpy.ndarray, shape (Y,)
        Weight of a person served in each year (discounting, remaining horizon).
    real_builds : sequence of (int, int)
        What was built when: (option, year index).
    budget : numpy.ndarray, shape (Y, C), optional
        The money of the optimum; by default the real sequence's own spend per year and
        channel.
    carry_over : bool
        Whether money unspent in a year stays available later (per channel).
    time_limit_s : float
        Time limit of the optimiser, seconds.

    Returns
    -------
    SequenceAudit

    Raises
    ------
    InputDataError
        If a real build names an unknown option or year, or builds a site twice.

    Examples
    --------
    Two people-units, one year, one channel: the real tower serves 2 people for Rp 5, the
    other option serves 3 for the same money.

    >>> import numpy as np, scipy.sparse as sp
    >>> cover = sp.csr_matrix(np.array([[1, 0], [0, 1]], bool))
    >>> a = audit_sequence(cover, np.array([0, 1]), np.array([2.0, 3.0]),
    ...                    np.zeros((1, 2), bool), np.array([[5.0], [5.0]]),
    ...                    np.zeros((2, 1)), np.array([1.0]), [(0, 0)])
    >>> a.real_value, a.optimal_value, round(a.share_pct, 1)
    (2.0, 3.0, 66.7)
    """
    a = sp.csr_matrix(cover, dtype=bool)
    a.sort_indices()
    site = np.asarray(site_of, dtype=int)
    w = np.asarray(weights, dtype=float)
    srv = np.asarray(served, dtype=bool)
    p, o = np.asarray(pay, dtype=float), np.asarray(opex, dtype=float)
    disc = np.asarray(discount, dtype=float)
    n_years = srv.shape[0]
    real = _check_builds(real_builds, site, n_years)

    spend = programme_spend(p, o, real, n_years)
    money = spend.copy() if budget is None else np.asarray(budget, dtype=float)
    real_fits = _within(spend, money, carry_over=carry_over)
    before = programme_value(a, w, srv, disc, ())
    real_value = programme_value(a, w, srv, disc, real) - before

    args = (a, site, w, srv, p, o, money, disc)
    optimum = optimise_programme(*args, carry_over=carry_over, time_limit_s=time_limit_s,
                                 warm_start=real if real_fits else None)
    greedy = greedy_programme(*args, carry_over=carry_over)
    builds, value, status = tuple(optimum.builds), optimum.objective - before, optimum.status
    if real_fits and real_value > value + _TOL * max(1.0, real_value):
        # The solver stopped before reaching even the real sequence: the best programme
        # known for this money is the real one.
        builds, value, status = real, real_value, "real sequence"
    elif real_fits:
        value = max(value, real_value)  # rounding must not lift the share above 100 %
    gap = _gap(optimum.bound - before, value)
    log.info("sequence audit: %d real builds add %.0f people-years, the optimum %.0f (%s, "
             "gap %.4f), greedy %.0f", len(real), real_value, value, status, gap,
             greedy.objective - before)
    return SequenceAudit(
        real_value=real_value, optimal_value=value, greedy_value=greedy.objective - before,
        share_pct=_share_pct(real_value, value), gap=gap, spend_idr=spend,
        optimal_builds=builds,
        newly_served_real=_newly_served(a, w, srv, real),
        newly_served_optimal=_newly_served(a, w, srv, builds),
        real_builds=real, budget_idr=money,
        optimal_spend_idr=programme_spend(p, o, builds, n_years),
        greedy_spend_idr=np.asarray(greedy.spend_idr, dtype=float),
        greedy_builds=tuple(greedy.builds), bound=optimum.bound - before, status=status,
        real_within_budget=real_fits, runtime_s=optimum.runtime_s + greedy.runtime_s)


def _gap(bound: float, value: float) -> float:
    """Relative gap between *value* and the proven *bound* on it (0 = proven optimal)."""
    if not math.isfinite(bound):
        return math.inf
    return max(0.0, (bound - value) / max(bound, _TOL))


def sensitivity_band(cases: Mapping[str, SequenceAudit]) -> pd.DataFrame:
    """One row per case: the real and optimal people-years, the share and the gap.

    Parameters
    ----------
    cases : mapping of str to SequenceAudit
        Audits by case name, in the order to report them (the base case first).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`BAND_COLUMNS`.
    """
    rows = [{"case": name, "people_years_real": a.real_value,
             "people_years_optimal": a.optimal_value, "people_years_greedy": a.greedy_value,
             "share_pct": a.share_pct, "gap": a.gap} for name, a in cases.items()]
    return pd.DataFrame(rows, columns=list(BAND_COLUMNS))


def band(frame: pd.DataFrame, base: str = "base") -> tuple[float, float, float]:
    """The lowest, the base and the highest share of the optimum over the cases, in percent.

    Parameters
    ----------
    frame : pandas.DataFrame
        As :func:`sensitivity_band` returns.
    base : str
        Name of the base case; when absent, the first row is the base.

    Raises
    ------
    InputDataError
        If *frame* has no rows.

    Examples
    --------
    >>> f = pd.DataFrame({"case": ["base", "a", "b"], "share_pct": [36.0, 31.0, 44.0]})
    >>> band(f)
    (31.0, 36.0, 44.0)
    """
    if frame.empty:
        msg = "the sensitivity band needs at least one audited case"
        raise InputDataError(msg)
    share = frame["share_pct"].astype(float)
    is_base = (frame["case"] == base).to_numpy()
    base_share = float(share[is_base].iloc[0]) if is_base.any() else float(share.iloc[0])
    return float(share.min()), base_share, float(share.max())


def band_text(frame: pd.DataFrame, lang: str, base: str = "base") -> str:
    """The band as one sentence, e.g. "... reached 31–44 % (base 36 %) of the optimum ...".

    Examples
    --------
    >>> f = pd.DataFrame({"case": ["base", "a"], "share_pct": [36.2, 31.0]})
    >>> band_text(f, "en")
    'The real sequence reached 31–36 % (base 36 %) of the optimum for the same money.'
    """
    low, mid, high = band(frame, base)
    return t("programme_audit.band", lang).format(
        low=format_number(low, lang), base=format_number(mid, lang),
        high=format_number(high, lang))
