"""Funding channels: which villages each may fund, and who pays what of each build option.

A build option is one candidate site, one tower type and one funding channel that may fund a
tower in the site's village. Each cost part of the option is paid by exactly one channel:
the funding channel, or its partner for the parts in ``partner_pays``. The programme's
budgets (:func:`budget_array`) constrain only what each channel pays. Works on arrays and
plain frames; the rules themselves are data (:class:`~towerplan.programme_scenario.Channel`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from towerplan.analysis.lifecycle import whole_life_cost_idr
from towerplan.io.programme import rule_mask
from towerplan.programme_scenario import (
    CHANNEL_COST_PARTS,
    Channel,
    ChannelRule,
    Programme,
    TowerType,
)

__all__ = [
    "ProgrammeOptions",
    "budget_array",
    "eligible_channels",
    "programme_options",
]

_OPEX = CHANNEL_COST_PARTS.index("opex")


@dataclass(frozen=True, slots=True)
class ProgrammeOptions:
    """Every build option (site, tower type, funding channel) with its payments, rupiah.

    Attributes
    ----------
    site : ndarray of int, shape (K,)
        Candidate row of each option.
    type_index : ndarray of int, shape (K,)
        Tower type of each option (index into the tower types).
    channel_index : ndarray of int, shape (K,)
        Funding channel of each option (index into the channels).
    pay : ndarray, shape (K, C)
        Capital cost each channel pays for the option.
    opex : ndarray, shape (K, C)
        Running cost each channel pays per year.
    capex_idr, opex_idr_per_year, whole_life_idr : ndarray, shape (K,)
        Totals of the option; whole life over the programme's horizon and discount rate.
    parts_idr : ndarray, shape (K, P)
        Each cost part of :data:`~towerplan.programme_scenario.CHANNEL_COST_PARTS`
        (``opex`` per year).
    """

    site: NDArray[np.int64]
    type_index: NDArray[np.int64]
    channel_index: NDArray[np.int64]
    pay: NDArray[np.float64]
    opex: NDArray[np.float64]
    capex_idr: NDArray[np.float64]
    opex_idr_per_year: NDArray[np.float64]
    whole_life_idr: NDArray[np.float64]
    parts_idr: NDArray[np.float64]

    def __len__(self) -> int:
        """Return the number of options."""
        return len(self.site)


def eligible_channels(villages: pd.DataFrame, channels: Sequence[Channel], *,
                      population_column: str = "population") -> NDArray[np.bool_]:
    """Return which channel may fund a tower in which village.

    Parameters
    ----------
    villages : pandas.DataFrame
        One row per village, with ``population`` (people; ``nan`` = unknown) and the
        columns the rules name (e.g. ``is_3t``, ``offers_land``: true/false, 1/0, "ya").
    channels : sequence of Channel
    population_column : str
        Column of residents.

    Returns
    -------
    ndarray of bool, shape (n_villages, n_channels)
        A rule on a column the frame lacks, or on an unknown population, admits no village.

    Examples
    --------
    >>> from towerplan.programme_scenario import DEFAULT_CHANNELS
    >>> frame = pd.DataFrame({"population": [500, 1500], "is_3t": [1, 0],
    ...                       "offers_land": ["ya", "ya"]})
    >>> eligible_channels(frame, DEFAULT_CHANNELS).tolist()
    [[True, True, True, False], [True, True, False, True]]
    """
    if not channels:
        return np.zeros((len(villages), 0), dtype=bool)
    return np.column_stack([rule_mask(villages, ch.rule, population_column=population_column)
                            for ch in channels])


def programme_options(site_village: NDArray[np.int64], eligible: NDArray[np.bool_],
                      site_parts: pd.DataFrame, tower_types: Sequence[TowerType],
                      channels: Sequence[Channel], *, discount_rate: float = 0.05,
                      horizon_years: int = 10) -> ProgrammeOptions:
    """Return every build option with what each channel pays for it.

    Parameters
    ----------
    site_village : ndarray of int, shape (n_sites,)
        Village row of each candidate site; -1 = in no village (then only channels whose
        rule has no condition may fund it).
    eligible : ndarray of bool, shape (n_villages, n_channels)
        From :func:`eligible_channels`.
    site_parts : pandas.DataFrame
        ``n_sites`` rows of site-dependent cost parts in rupiah (columns named by
        :data:`~towerplan.programme_scenario.CHANNEL_COST_PARTS`, e.g. ``access``,
        ``power``, ``land``; ``opex`` per year), added to each tower type's parts.
    tower_types : sequence of TowerType
    channels : sequence of Channel
    discount_rate, horizon_years
        Of the whole-life cost.

    Returns
    -------
    ProgrammeOptions
        Ordered by site, then tower type, then channel.

    Raises
    ------
    ValueError
        If the shapes disagree, a ``site_parts`` column is no cost part, or a partner is
        not among *channels*.
    """
    site_village = np.asarray(site_village, dtype=np.int64)
    eligible = np.asarray(eligible, dtype=bool)
    n_sites, n_channels = len(site_village), len(channels)
    _check_shapes(site_village, eligible, site_parts, n_channels)
    names = [ch.name for ch in channels]
    extra = np.zeros((n_sites, len(CHANNEL_COST_PARTS)))
    for column in site_parts.columns:
        extra[:, CHANNEL_COST_PARTS.index(column)] = site_parts[column].to_numpy(float)
    open_rule = np.array([ch.rule == ChannelRule() for ch in channels], dtype=bool)
    allowed = np.where(site_village[:, None] >= 0,
                       eligible[np.clip(site_village, 0, None)] if len(eligible) else False,
                       open_rule[None, :])
    sites, chans = np.nonzero(allowed)  # site-major, channel order within a site
    blocks = []
    for t, tower in enumerate(tower_types):
        base = np.array([tower.cost_parts_idr()[p] for p in CHANNEL_COST_PARTS])
        blocks.append((sites, np.full(len(sites), t), chans, extra[sites] + base))
    site = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, np.int64)
    type_index = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros(0, np.int64)
    channel_index = np.concatenate([b[2] for b in blocks]) if blocks else np.zeros(0, np.int64)
    parts = (np.concatenate([b[3] for b in blocks]) if blocks
             else np.zeros((0, len(CHANNEL_COST_PARTS))))
    order = np.lexsort((channel_index, type_index, site))
    site, type_index, channel_index, parts = (
        site[order], type_index[order], channel_index[order], parts[order])
    payer = _payer_matrix(channels, names)  # (n_channels, n_parts) -> paying channel
    pay = np.zeros((len(site), n_channels))
    opex = np.zeros((len(site), n_channels))
    rows = np.arange(len(site))
    for p in range(len(CHANNEL_COST_PARTS)):
        target = opex if p == _OPEX else pay
        np.add.at(target, (rows, payer[channel_index, p]), parts[:, p])
    capex = pay.sum(axis=1)
    running = opex.sum(axis=1)
    return ProgrammeOptions(
        site=site.astype(np.int64), type_index=type_index.astype(np.int64),
        channel_index=channel_index.astype(np.int64), pay=pay, opex=opex, capex_idr=capex,
        opex_idr_per_year=running,
        whole_life_idr=whole_life_cost_idr(capex, running, discount_rate, horizon_years),
        parts_idr=parts)


def _check_shapes(site_village: NDArray[np.int64], eligible: NDArray[np.bool_],
                  site_parts: pd.DataFrame, n_channels: int) -> None:
    if eligible.ndim != 2 or eligible.shape[1] != n_channels:
        msg = f"eligible must be (n_villages, {n_channels}), got {eligible.shape}"
        raise ValueError(msg)
    if len(site_parts) != len(site_village):
        msg = (f"site_parts has {len(site_parts)} rows for {len(site_village)} sites")
        raise ValueError(msg)
    if len(site_village) and site_village.max(initial=-1) >= len(eligible):
        msg = f"site_village names village row {site_village.max()} of {len(eligible)}"
        raise ValueError(msg)
    unknown = [c for c in site_parts.columns if c not in CHANNEL_COST_PARTS]
    if unknown:
        msg = (f"site_parts columns {unknown} are no cost part "
               f"({', '.join(CHANNEL_COST_PARTS)})")
        raise ValueError(msg)


def _payer_matrix(channels: Sequence[Channel], names: list[str]) -> NDArray[np.int64]:
    """Return, for each funding channel and cost part, the index of the paying channel."""
    payer = np.zeros((len(channels), len(CHANNEL_COST_PARTS)), dtype=np.int64)
    for c, channel in enumerate(channels):
        for p, part in enumerate(CHANNEL_COST_PARTS):
            who = channel.payer(part)
            if who not in names:
                msg = f"channel '{channel.name}': partner '{who}' is not among the channels"
                raise ValueError(msg)
            payer[c, p] = names.index(who)
    return payer


def budget_array(programme: Programme, channels: Sequence[Channel]) -> NDArray[np.float64]:
    """Return the money of each programme year (rows) and channel (columns), rupiah.

    A channel without a budget line in a year has 0 that year; ``inf`` = no limit.

    Raises
    ------
    ValueError
        If a budget names a year or channel that is not in the programme.

    Examples
    --------
    >>> from towerplan.programme_scenario import DEFAULT_CHANNELS, ProgrammeBudget
    >>> p = Programme(years=(2022, 2023), budgets=(ProgrammeBudget(2023, "apbd", 5e9),))
    >>> budget_array(p, DEFAULT_CHANNELS)[:, 0].tolist()
    [0.0, 5000000000.0]
    """
    names = [ch.name for ch in channels]
    budget = np.zeros((len(programme.years), len(channels)))
    for entry in programme.budgets:
        if entry.year not in programme.years or entry.channel not in names:
            msg = f"budget {entry.channel} {entry.year} is not in the programme"
            raise ValueError(msg)
        budget[programme.years.index(entry.year), names.index(entry.channel)] += entry.idr
    return budget
