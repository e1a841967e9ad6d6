"""The outcome of a multi-year programme, as the output writers read it.

A :class:`ProgrammeOutcome` holds, per programme year and funding channel, the towers built,
the people newly served, the villages lifted and the money spent, plus each village's signal
in the vocabulary of the village census (Podes: *tidak ada*, *lemah*, *kuat*). The pipeline
fills it; the workbook, the report, the map and the KML only read it. The small functions
here derive the tables those outputs show (totals per year, towers per channel, the villages
lifted) so every output states the same figures.

A village with only part of its people served (*lemah*, "partial") is never counted as
lifted: a village is lifted in the first year its served share reaches
``[coverage] covered_at_least``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BUILD_COLUMNS",
    "BY_YEAR_CHANNEL_COLUMNS",
    "PODES_SIGNAL",
    "VILLAGE_STATUS_COLUMNS",
    "YEAR_TOTAL_COLUMNS",
    "ProgrammeOutcome",
    "channel_towers",
    "cost_per_person_idr",
    "lifted_villages",
    "podes_signal",
    "podes_signals",
    "programme_totals",
    "year_totals",
]

#: Signal classes of the village census (Podes), weakest first.
PODES_SIGNAL: tuple[str, str, str] = ("tidak ada", "lemah", "kuat")

#: Columns of :attr:`ProgrammeOutcome.builds` (one row per tower).
BUILD_COLUMNS: tuple[str, ...] = (
    "year", "channel", "site_id", "tower_type", "height_m", "lon", "lat", "village_code",
    "village_name", "district", "locked", "capex_idr", "opex_idr_per_year", "whole_life_idr",
    "people_new", "villages_lifted")
#: Columns of :attr:`ProgrammeOutcome.by_year_channel` (one row per year and channel).
BY_YEAR_CHANNEL_COLUMNS: tuple[str, ...] = (
    "year", "channel", "towers", "people_new", "villages_lifted", "capex_idr",
    "opex_idr_per_year", "budget_idr", "spent_idr", "carried_idr", "cost_per_person_idr")
#: Columns of :attr:`ProgrammeOutcome.village_status` (one row per village and year).
VILLAGE_STATUS_COLUMNS: tuple[str, ...] = (
    "code", "name", "district", "population", "year", "served_share", "signal", "technology",
    "lifted")
#: Columns of :func:`year_totals`.
YEAR_TOTAL_COLUMNS: tuple[str, ...] = (
    "year", "towers", "people_new", "villages_lifted", "capex_idr", "opex_idr_per_year",
    "budget_idr", "spent_idr", "carried_idr", "cost_per_person_idr")


def podes_signal(served_share: float, blank_below: float, covered_at_least: float) -> str:
    """Return the Podes signal class of a village from the share of its people served.

    Parameters
    ----------
    served_share : float
        Share of the village's people (or area) served, 0..1; ``nan`` (unknown) counts as no
        signal, so nothing is claimed without evidence.
    blank_below : float
        Below this share the village has no signal (``[coverage] blank_below``).
    covered_at_least : float
        At or above this share the signal is strong (``[coverage] covered_at_least``).

    Returns
    -------
    str
        ``"tidak ada"`` (share < *blank_below*), ``"kuat"`` (share >= *covered_at_least*),
        else ``"lemah"``. Only ``"kuat"`` counts as lifted.

    Examples
    --------
    >>> [podes_signal(s, 0.1, 0.9) for s in (0.0, 0.0999, 0.1, 0.8999, 0.9, 1.0)]
    ['tidak ada', 'tidak ada', 'lemah', 'lemah', 'kuat', 'kuat']
    """
    share = float(served_share)
    if math.isnan(share) or share < blank_below:
        return PODES_SIGNAL[0]
    if share >= covered_at_least:
        return PODES_SIGNAL[2]
    return PODES_SIGNAL[1]


def podes_signals(served_share: np.ndarray, blank_below: float,
                  covered_at_least: float) -> np.ndarray:
    """:func:`podes_signal` of every share in an array (object array of the class names).

    Examples
    --------
    >>> podes_signals(np.array([0.05, 0.5, 0.95, np.nan]), 0.1, 0.9).tolist()
    ['tidak ada', 'lemah', 'kuat', 'tidak ada']
    """
    share = np.asarray(served_share, dtype=np.float64)
    out = np.full(share.shape, PODES_SIGNAL[1], dtype=object)
    with np.errstate(invalid="ignore"):
        out[np.isnan(share) | (share < blank_below)] = PODES_SIGNAL[0]
        out[share >= covered_at_least] = PODES_SIGNAL[2]
    return out


def cost_per_person_idr(capex_idr: float, people: float) -> float:
    """Capital cost per person newly served, rupiah; ``nan`` when nobody is served.

    Examples
    --------
    >>> cost_per_person_idr(2_000_000_000, 1_000)
    2000000.0
    >>> cost_per_person_idr(2_000_000_000, 0)
    nan
    """
    people = float(people)
    if not math.isfinite(people) or people <= 0:
        return math.nan
    return float(capex_idr) / people


@dataclass(frozen=True, slots=True)
class ProgrammeOutcome:
    """A multi-year programme: what is built when, through which channel, and what it brings.

    Attributes
    ----------
    years : tuple of int
        Programme years, ascending.
    channels : tuple of str
        Funding channel names (e.g. ``"apbd"``, ``"national"``).
    channel_labels : dict
        Readable label of each channel (e.g. ``{"national": "BAKTI (nasional)"}``).
    builds : pandas.DataFrame
        One row per tower (:data:`BUILD_COLUMNS`); ``villages_lifted`` is text
        ``"Name (code); ..."``, ``locked`` marks towers already built (``[[programme.built]]``).
    by_year_channel : pandas.DataFrame
        One row per year and channel (:data:`BY_YEAR_CHANNEL_COLUMNS`); rupiah amounts,
        ``villages_lifted`` a count, ``cost_per_person_idr`` ``nan`` without people.
    village_status : pandas.DataFrame
        Long form (:data:`VILLAGE_STATUS_COLUMNS`): one row per village and year, the first
        with ``year = years[0] - 1`` (before the programme); ``signal`` is one of
        :data:`PODES_SIGNAL`, ``technology`` ``"2G"``/``"3G"``/``"4G"``/``""``, ``lifted`` true
        only in the first year the village is *kuat*.
    objective : str
        What the optimisation maximised (e.g. ``"people_new"``).
    objective_value, bound, gap : float
        Objective of the programme, best bound and relative optimality gap (0 = proven best).
    status, method : str
        Solver status and method (e.g. ``"optimal"``, ``"milp (HiGHS)"``).
    runtime_s : float
        Solver time, seconds.
    greedy_value : float
        Objective of the greedy year-by-year programme for the same money.
    greedy_regret_pct : float
        How much less the greedy programme achieves, percent of ``objective_value``.
    discount_rate : float
        Discount rate of the whole-life cost (per year, 0..1).
    horizon_years : int
        Years of opex in the whole-life cost.
    carry_over : bool
        Whether unspent money moves to the next year.
    notes : tuple of str
        Limitations, shown first in every output (bilingual ``"id / en"`` text allowed).
    audit : pandas.DataFrame or None
        Sensitivity band of an audited real sequence (``case``, ``people_years_real``,
        ``people_years_optimal``, ``share_pct``), when one was audited.
    why_not : pandas.DataFrame or None
        One row per village still blank in the last programme year
        (:data:`~towerplan.analysis.programme_why_not.PROGRAMME_WHY_NOT_COLUMNS`): its
        cheapest option, the earliest year and the extra budget (and channel) that would add
        it; None when not computed.
    """

    years: tuple[int, ...]
    channels: tuple[str, ...]
    channel_labels: dict[str, str]
    builds: pd.DataFrame
    by_year_channel: pd.DataFrame
    village_status: pd.DataFrame
    objective: str
    objective_value: float
    bound: float
    gap: float
    status: str
    method: str
    runtime_s: float
    greedy_value: float
    greedy_regret_pct: float
    discount_rate: float
    horizon_years: int
    carry_over: bool
    notes: tuple[str, ...]
    audit: pd.DataFrame | None = None
    why_not: pd.DataFrame | None = None

    def channel_label(self, channel: str) -> str:
        """The readable label of *channel* (its name when it has none)."""
        return str(self.channel_labels.get(channel) or channel)


def year_totals(outcome: ProgrammeOutcome) -> pd.DataFrame:
    """Sum :attr:`~ProgrammeOutcome.by_year_channel` over the channels, one row per year.

    Returns
    -------
    pandas.DataFrame
        :data:`YEAR_TOTAL_COLUMNS`, one row per programme year (years without any row give
        zeros); ``cost_per_person_idr`` is capex over people newly served (``nan`` for none).
    """
    import pandas as pd

    summed = ("towers", "people_new", "villages_lifted", "capex_idr", "opex_idr_per_year",
              "budget_idr", "spent_idr", "carried_idr")
    frame = outcome.by_year_channel
    grouped = (frame.groupby("year")[list(summed)].sum() if len(frame)
               else pd.DataFrame(columns=list(summed), dtype=float))
    grouped = grouped.reindex(list(outcome.years), fill_value=0)
    out = grouped.reset_index(names="year")
    out["cost_per_person_idr"] = [cost_per_person_idr(c, p) for c, p in
                                  zip(out["capex_idr"], out["people_new"], strict=True)]
    for column in ("towers", "villages_lifted"):
        out[column] = out[column].astype(int)
    out["year"] = out["year"].astype(int)
    return out[list(YEAR_TOTAL_COLUMNS)]


def programme_totals(outcome: ProgrammeOutcome) -> dict[str, float]:
    """Totals over every year: towers, people newly served, villages lifted, capex, opex per
    year (of every tower once built), budget, spent, the money left after the last year
    (``carried_idr``) and the cost per person (``nan`` for none).

    Examples
    --------
    >>> import pandas as pd
    >>> o = ProgrammeOutcome((2024,), ("apbd",), {}, pd.DataFrame(), pd.DataFrame({
    ...     "year": [2024], "channel": ["apbd"], "towers": [2], "people_new": [500.0],
    ...     "villages_lifted": [1], "capex_idr": [4e9], "opex_idr_per_year": [6e8],
    ...     "budget_idr": [5e9], "spent_idr": [4e9], "carried_idr": [1e9],
    ...     "cost_per_person_idr": [8e6]}), pd.DataFrame(), "people_new", 500.0, 500.0, 0.0,
    ...     "optimal", "milp", 0.1, 500.0, 0.0, 0.05, 10, True, ())
    >>> programme_totals(o)["cost_per_person_idr"]
    8000000.0
    """
    totals = year_totals(outcome)
    out = {column: float(totals[column].sum()) for column in YEAR_TOTAL_COLUMNS[1:-1]}
    out["carried_idr"] = float(totals["carried_idr"].iloc[-1]) if len(totals) else 0.0
    out["cost_per_person_idr"] = cost_per_person_idr(out["capex_idr"], out["people_new"])
    return out


def channel_towers(outcome: ProgrammeOutcome) -> pd.DataFrame:
    """Towers per year (rows, every programme year) and channel (columns, every channel)."""
    frame = outcome.by_year_channel
    table = (frame.pivot_table(index="year", columns="channel", values="towers",
                               aggfunc="sum", fill_value=0) if len(frame) else None)
    if table is None:
        import pandas as pd

        table = pd.DataFrame(index=pd.Index([], name="year"))
    table = table.reindex(index=list(outcome.years), columns=list(outcome.channels),
                          fill_value=0)
    return table.astype(int)


def lifted_villages(outcome: ProgrammeOutcome) -> pd.DataFrame:
    """The villages lifted to a strong signal, in the year they are lifted.

    Returns
    -------
    pandas.DataFrame
        ``year, code, name, district, population, signal_before, signal, technology``, one
        row per lifted village, sorted by year, district and name; ``signal_before`` is the
        village's class before the programme.
    """
    status = outcome.village_status
    before_year = outcome.years[0] - 1 if outcome.years else None
    before = (status[status["year"] == before_year].set_index("code")["signal"]
              if len(status) else None)
    lifted = status[status["lifted"].astype(bool)].copy() if len(status) else status.copy()
    lifted["signal_before"] = (lifted["code"].map(before).fillna(PODES_SIGNAL[0])
                               if before is not None else [])
    columns = ["year", "code", "name", "district", "population", "signal_before", "signal",
               "technology"]
    lifted = lifted.sort_values(["year", "district", "name"],
                                key=lambda s: s.astype(str) if s.name != "year" else s)
    return lifted[columns].reset_index(drop=True)
