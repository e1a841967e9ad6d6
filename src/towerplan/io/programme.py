"""Checks of a scenario's programme against the loaded villages and candidate sites.

The scenario validates the programme on its own (years, budgets, names of channels and
tower types). What needs the data is checked here, every problem at once, one line each:
a locked tower (``[[programme.built]]``) in an unknown village, at an unknown candidate site
or outside the area, and a channel with money that no village may use (a rule on a column
the village layer lacks, or that no village meets), unless it is another channel's partner
(its money then pays its parts of that channel's towers). Village attributes read by the rules
(``is_3t``, ``offers_land``) are true for ``true``/``1``/``ya``/``yes``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from towerplan.errors import InputDataError
from towerplan.programme_scenario import Channel, ChannelRule, Programme, ProgrammeBuilt

__all__ = [
    "built_village_rows",
    "check_programme",
    "missing_rule_columns",
    "rule_mask",
    "village_flags",
]

log = logging.getLogger(__name__)

_TRUE_WORDS = frozenset({"1", "true", "t", "y", "yes", "ya", "benar", "iya"})


def village_flags(values: pd.Series) -> NDArray[np.bool_]:
    """Return True where a village attribute says yes (true, 1, "ya", "yes", ...).

    Examples
    --------
    >>> village_flags(pd.Series(["Ya", "tidak", "", "1"])).tolist()
    [True, False, False, True]
    """
    if pd.api.types.is_bool_dtype(values):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values):
        return np.nan_to_num(values.to_numpy(dtype=float), nan=0.0) != 0
    text = values.astype(str).str.strip().str.lower()
    return text.isin(_TRUE_WORDS).to_numpy()


def _needs_population(rule: ChannelRule) -> bool:
    return bool(rule.min_population or rule.max_population)


def missing_rule_columns(columns: Sequence[str], channel: Channel, *,
                         population_column: str = "population") -> tuple[str, ...]:
    """Return the village columns *channel*'s rule reads that are not among *columns*."""
    wanted = ([population_column] if _needs_population(channel.rule) else []) + list(
        channel.rule.columns)
    return tuple(c for c in wanted if c not in columns)


def rule_mask(villages: pd.DataFrame, rule: ChannelRule, *,
              population_column: str = "population") -> NDArray[np.bool_]:
    """Return which villages a channel rule admits; a missing column admits none.

    Examples
    --------
    >>> frame = pd.DataFrame({"population": [900, 1000, float("nan")]})
    >>> rule_mask(frame, ChannelRule(min_population=1000)).tolist()
    [False, True, False]
    """
    n = len(villages)
    mask = np.ones(n, dtype=bool)
    if _needs_population(rule):
        if population_column not in villages:
            return np.zeros(n, dtype=bool)
        people = pd.to_numeric(villages[population_column], errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            mask &= people >= rule.min_population
            if rule.max_population:
                mask &= people <= rule.max_population
    for column in rule.columns:
        if column not in villages:
            return np.zeros(n, dtype=bool)
        mask &= village_flags(villages[column])
    return mask


def built_village_rows(built: Sequence[ProgrammeBuilt], villages: pd.DataFrame,
                       problems: list[str] | None = None) -> NDArray[np.int64]:
    """Return the village row each ``village`` entry names (by code, else name); -1 otherwise.

    Unknown or ambiguous names are appended to *problems* when given.
    """
    codes = villages["code"].astype(str).tolist() if "code" in villages else []
    names = villages["name"].astype(str).str.casefold().tolist() if "name" in villages else []
    rows = np.full(len(built), -1, dtype=np.int64)
    for i, entry in enumerate(built):
        if not entry.village:
            continue
        if entry.village in codes:
            rows[i] = codes.index(entry.village)
            continue
        hits = [j for j, n in enumerate(names) if n == entry.village.casefold()]
        if len(hits) == 1:
            rows[i] = hits[0]
        elif problems is not None:
            why = "is not among the villages" if not hits else (
                f"names {len(hits)} villages; give its code")
            problems.append(f"'programme.built' {entry.year}: village '{entry.village}' {why}")
    return rows


def check_programme(programme: Programme, channels: Sequence[Channel],
                    villages: gpd.GeoDataFrame, *, site_ids: Sequence[str] | None = None,
                    population_column: str = "population") -> None:
    """Check the programme against the villages (and candidate sites, when given).

    Parameters
    ----------
    programme : Programme
    channels : sequence of Channel
        The scenario's channels (``Scenario.all_channels``).
    villages : geopandas.GeoDataFrame
        Villages with ``code``, ``name``, population and the columns the rules read; their
        union is the area.
    site_ids : sequence of str, optional
        Candidate site ids; ``None`` = not checked.
    population_column : str

    Raises
    ------
    InputDataError
        Listing every problem, one line each.
    """
    if not programme.active:
        return
    problems: list[str] = []
    built_village_rows(programme.built, villages, problems)
    problems += _site_problems(programme.built, site_ids)
    problems += _outside_problems(programme.built, villages)
    problems += _channel_problems(programme, channels, villages, population_column)
    if problems:
        raise InputDataError("programme: " + "; ".join(problems), problems=tuple(problems))
    log.info("programme: %d years, %d budget lines, %d locked towers checked",
             len(programme.years), len(programme.budgets), len(programme.built))


def _site_problems(built: Sequence[ProgrammeBuilt], site_ids: Sequence[str] | None) -> list[str]:
    if site_ids is None:
        return []
    known = set(map(str, site_ids))
    return [f"'programme.built' {b.year}: site '{b.site}' is not a candidate site"
            for b in built if b.site and b.site not in known]


def _outside_problems(built: Sequence[ProgrammeBuilt], villages: gpd.GeoDataFrame) -> list[str]:
    points = [b for b in built if b.lon is not None and b.lat is not None]
    if not points or villages.crs is None or villages.empty:
        return []
    where = gpd.GeoSeries(gpd.points_from_xy([b.lon for b in points], [b.lat for b in points]),
                          crs="EPSG:4326").to_crs(villages.crs)
    area = villages.geometry.union_all()
    inside = where.intersects(area).to_numpy()
    return [f"'programme.built' {b.year}: tower at {b.lon:g}, {b.lat:g} is outside the area "
            "(no village contains it)" for b, ok in zip(points, inside, strict=True) if not ok]


def _channel_problems(programme: Programme, channels: Sequence[Channel],
                      villages: pd.DataFrame, population_column: str) -> list[str]:
    """Return a line for each channel with money that no village may use."""
    funded = {b.channel for b in programme.budgets if b.idr > 0}
    partners = {ch.partner for ch in channels if ch.partner}
    problems = []
    for channel in channels:
        if channel.name not in funded or channel.name in partners:
            continue  # a partner's money pays its parts of others' towers
        missing = missing_rule_columns(list(villages.columns), channel,
                                       population_column=population_column)
        if missing:
            problems.append(f"channel '{channel.name}' has a budget but its rule reads village "
                            f"column(s) {', '.join(missing)} that the village layer lacks: no "
                            "village may use it; add the column(s) or change [channels.rule]")
        elif not rule_mask(villages, channel.rule,
                           population_column=population_column).any():
            problems.append(f"channel '{channel.name}' has a budget but no village meets its "
                            f"rule ({_describe(channel.rule)})")
    return problems


def _describe(rule: ChannelRule) -> str:
    parts = []
    if rule.min_population:
        parts.append(f"population >= {rule.min_population:,.0f}")
    if rule.max_population:
        parts.append(f"population <= {rule.max_population:,.0f}")
    parts += [f"{c} true" for c in rule.columns]
    return ", ".join(parts) or "no condition"
