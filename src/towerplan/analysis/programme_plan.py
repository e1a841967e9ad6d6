"""A multi-year programme from the plan's candidates: the arrays of
:func:`~towerplan.analysis.programme.optimise_programme` and the outcome the writers read.

:func:`programme_problem` turns today's state, the costed candidates and their coverage per
tower-type height into options (site x tower type x channel), pay and running costs per
channel, the units served by year before any new tower (today's state plus the committed
towers by their on-air year), the budgets and the discount; the ``[[programme.built]]``
towers become locked options in their year (a village: its best candidate for the type; a
site id: that candidate; lon/lat: a site added and costed like an audited one).
:func:`programme_outcome` turns a solved programme into the tables of
:class:`~towerplan.analysis.programme_outcome.ProgrammeOutcome`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from towerplan.analysis.audit import site_rows
from towerplan.analysis.blankspots import BLANK, COVERED, PARTIAL
from towerplan.analysis.channels import (
    ProgrammeOptions,
    budget_array,
    eligible_channels,
    programme_options,
)
from towerplan.analysis.evidence import covered_today
from towerplan.analysis.programme import programme_spend
from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    PODES_SIGNAL,
    VILLAGE_STATUS_COLUMNS,
    ProgrammeOutcome,
    cost_per_person_idr,
    podes_signals,
)
from towerplan.analysis.programme_why_not import (
    PROGRAMME_WHY_NOT_COLUMNS,
    WhyNotProgramme,
    programme_why_not,
)
from towerplan.analysis.selection_plan import objective_of
from towerplan.errors import ScenarioError
from towerplan.i18n import TEXT, bilingual, t
from towerplan.io.programme import built_village_rows
from towerplan.io.towers import parse_technology
from towerplan.programme_scenario import Programme, programme_problems
from towerplan.scenario import ObjectiveWeights, Selection

if TYPE_CHECKING:
    from towerplan.analysis.blankspots import DemandUnits
    from towerplan.analysis.problem import CurrentState, SelectionProblem
    from towerplan.analysis.programme import ProgrammeResult
    from towerplan.programme_scenario import Channel, ProgrammeBuilt, TowerType
    from towerplan.scenario import Scenario

__all__ = ["BEFORE_SOURCES", "ProgrammeProblem", "audit_case_label", "before_served",
           "discount_factors", "free_budget", "programme_outcome", "programme_problem",
           "programme_weights", "village_people", "village_share"]

log = logging.getLogger(__name__)

#: Sources of the state before the programme: the model alone, the model with the village
#: signal reports where a village has one, the model with the coverage maps.
BEFORE_SOURCES: tuple[str, ...] = ("model", "reports", "maps")

#: Cost parts of a site that depend on where it stands (the candidate table's access road
#: and power line), by the channel cost part they are paid as. Backhaul is the tower type's
#: (a small tower's VSAT, a big one's microwave hop), not the candidate's own hop plan.
_SITE_PARTS: dict[str, str] = {"access": "cost_road_idr", "power": "cost_power_idr"}


@dataclass(frozen=True, slots=True)
class ProgrammeProblem:
    """The arrays of a programme and what they stand for.

    Attributes
    ----------
    years : tuple of int
        Programme years.
    channels : tuple of Channel
        Funding channels (columns of ``budget``, ``options.pay``).
    tower_types : tuple of TowerType
        Tower types (``options.type_index``).
    sites : pandas.DataFrame
        One row per site an option stands on (``site_id, x, y, origin, village_code,
        village, district`` and the candidate cost parts); the candidates first, then the
        sites added for ``[[programme.built]]`` lon/lat entries (origin ``built``).
    options : ProgrammeOptions
        Site x type x channel options with what each channel pays.
    cover : scipy.sparse.csr_matrix
        ``(K, U)`` bool: the units each option covers (its site at its type's height).
    weights : numpy.ndarray
        ``(U,)`` demand weight per unit.
    served : numpy.ndarray
        ``(Y, U)`` bool: units served in each year without any programme tower.
    budget : numpy.ndarray
        ``(Y, C)`` rupiah per year and channel (``[[programme.budgets]]``).
    free_budget : numpy.ndarray
        ``(Y, C)`` what is left of it for new towers once the locked ones are paid
        (:func:`free_budget`).
    discount : numpy.ndarray
        ``(Y,)`` discount factor per year, ``(1 + r) ** -y``.
    locked : tuple of (int, int)
        ``(option, year index)`` of every ``[[programme.built]]`` tower.
    notes : tuple of str
        What the arrays cannot represent (missing village attributes, assumed figures).
    """

    years: tuple[int, ...]
    channels: tuple[Channel, ...]
    tower_types: tuple[TowerType, ...]
    sites: pd.DataFrame
    options: ProgrammeOptions
    cover: sp.csr_matrix
    weights: np.ndarray
    served: np.ndarray
    budget: np.ndarray
    free_budget: np.ndarray
    discount: np.ndarray
    locked: tuple[tuple[int, int], ...]
    notes: tuple[str, ...] = ()

    def arrays(self) -> dict[str, Any]:
        """Keyword arguments of ``optimise_programme`` / ``greedy_programme``."""
        o = self.options
        return {"cover": self.cover, "site_of": o.site, "weights": self.weights,
                "served": self.served, "pay": o.pay, "opex": o.opex, "budget": self.free_budget,
                "discount": self.discount}


def free_budget(budget: np.ndarray, locked_spend: np.ndarray, *, carry_over: bool,
                closed_years: int = 0) -> np.ndarray:
    """Money per year and channel left for new towers once the locked ones are paid.

    Without carry-over, each year's budget less that year's locked spend (at least 0).
    With carry-over, the limits on cumulative spending stay exact: new spending up to year
    ``t`` may not exceed what is left at ``t`` or at any later year, so the cumulative
    limit is the running minimum from the end of ``cumsum(budget - locked)``. The first
    *closed_years* (past years, built as they were) get nothing new; with carry-over what
    they left moves to the first open year.

    Examples
    --------
    >>> b = np.array([[5.0], [5.0], [5.0]])
    >>> free_budget(b, np.array([[4.0], [7.0], [0.0]]), carry_over=True).ravel().tolist()
    [0.0, 0.0, 4.0]
    >>> free_budget(b, np.array([[4.0], [7.0], [0.0]]), carry_over=False).ravel().tolist()
    [1.0, 0.0, 5.0]
    >>> free_budget(b, np.array([[2.0], [0.0], [0.0]]), carry_over=True,
    ...             closed_years=1).ravel().tolist()
    [0.0, 8.0, 5.0]
    """
    left = np.asarray(budget, dtype=float) - np.asarray(locked_spend, dtype=float)
    if not carry_over:
        out = np.maximum(left, 0.0)
        out[:closed_years] = 0.0
        return out
    cum = np.cumsum(left, axis=0)
    limit = np.maximum(np.minimum.accumulate(cum[::-1], axis=0)[::-1], 0.0)
    limit[:closed_years] = 0.0
    return np.diff(limit, axis=0, prepend=np.zeros((1, limit.shape[1])))


#: Name of the programme's objective (``ProgrammeOutcome.objective``) per selection term.
_OBJECTIVE_NAMES: dict[str, str] = {"people": "people_years", "blank_people": "people_blank",
                                    "facilities": "facilities"}


def programme_weights(scenario: Scenario, problem: SelectionProblem
                      ) -> tuple[np.ndarray | None, str, tuple[str, ...]]:
    """Value per demand unit and year of the ``[selection]`` objective, its name and notes.

    People (the default), people of blank villages and public facilities are values per
    unit and carry over to every year; villages lifted are not (the multi-year kernel values
    units), so a ``blank_villages`` term is left out and a note says so.

    Returns
    -------
    weights : numpy.ndarray or None
        None for people alone.
    name : str
        ``people_years``, ``people_blank``, ``facilities`` or ``mixed``.
    notes : tuple of str
    """
    terms = dict(scenario.selection.terms)
    notes: tuple[str, ...] = ()
    if "blank_villages" in terms:
        terms.pop("blank_villages")
        notes = (bilingual("prog.no_lift_objective"),)
        if not terms:
            terms = {"people": 1.0}
    if terms == {"people": 1.0}:
        return None, "people_years", notes
    objective = objective_of(Selection(weights=ObjectiveWeights(**terms)), problem,
                             covered_at_least=scenario.coverage.covered_at_least)
    assert objective is not None and objective.unit_value is not None
    name = _OBJECTIVE_NAMES[next(iter(terms))] if len(terms) == 1 else "mixed"
    return np.asarray(objective.unit_value, dtype=float), name, notes


def _finite_budget(budget: np.ndarray, options: ProgrammeOptions) -> np.ndarray:
    """*budget* with ``inf`` (no limit) replaced by twice what every option together could
    cost the channel over the years, so the limit never binds, the locked towers paid."""
    n_years = budget.shape[0]
    cap = 2.0 * (options.pay.sum(axis=0) + n_years * options.opex.sum(axis=0)) + 1.0
    return np.where(np.isinf(budget), cap[None, :], budget)


def _closed_years(years: Sequence[int], built: Sequence[ProgrammeBuilt]) -> int:
    """Years up to the last built tower's: past years, built as they were."""
    return max((list(years).index(b.year) + 1 for b in built if b.year in years), default=0)


def audit_case_label(case: str, lang: str) -> str:
    """Readable name of a case of the programme audit's band (``base``,
    ``threshold_minus_5db``, ``type:menara-72m``, ``before_from_model``, ...).

    Examples
    --------
    >>> audit_case_label("type:menara-72m", "en")
    'Every real tower as menara-72m'
    >>> audit_case_label("height_plus_10m", "id")
    'Tinggi menara +10 m'
    """
    if case.startswith("type:"):
        return t("prog.case.type", lang).format(type=case.split(":", 1)[1])
    for key in (f"prog.case.{case}", f"programme_audit.case.{case}"):
        if key in TEXT:
            return t(key, lang)
    return case


def discount_factors(n_years: int, rate: float) -> np.ndarray:
    """``(1 + rate) ** -y`` for y = 0 .. n_years - 1.

    Examples
    --------
    >>> discount_factors(3, 0.05).round(4).tolist()
    [1.0, 0.9524, 0.907]
    """
    return np.power(1.0 + float(rate), -np.arange(n_years, dtype=float))


def village_share(unit_village: np.ndarray, weight: np.ndarray, area_km2: np.ndarray,
                  n_villages: int, served: np.ndarray) -> np.ndarray:
    """Share of each village's demand served (of its area where it has no demand).

    Examples
    --------
    >>> village_share(np.array([0, 0, 1]), np.array([1., 3, 0]), np.array([1., 1, 2]), 2,
    ...               np.array([False, True, True])).tolist()
    [0.75, 1.0]
    """
    served = np.asarray(served, dtype=float)
    tot = np.bincount(unit_village, weights=weight, minlength=n_villages)
    got = np.bincount(unit_village, weights=weight * served, minlength=n_villages)
    area = np.bincount(unit_village, weights=area_km2, minlength=n_villages)
    area_got = np.bincount(unit_village, weights=area_km2 * served, minlength=n_villages)
    return np.where(tot > 0, got / np.where(tot > 0, tot, 1.0),
                    area_got / np.where(area > 0, area, 1.0))


def before_served(state: CurrentState, source: str = "reports", *,
                  level_dbm: float | None = None) -> np.ndarray:
    """Units served today by one before-state *source* (:data:`BEFORE_SOURCES`): the
    model alone, the model with the signal reports where a village has one (the plan's own
    state, with the maps too), or the model with the coverage maps. *level_dbm* moves the
    threshold on the existing towers' RSRP (default the link's)."""
    model = state.covered_model if level_dbm is None \
        else np.asarray(state.before.rsrp_dbm >= level_dbm)
    maps = state.covered_maps
    if source != "model" and maps is not None:
        model = model | np.asarray(maps, dtype=bool)
    if source != "reports" or "served_reported" not in state.stats:
        return model
    return covered_today(model, state.units.village,
                         state.stats["served_reported"].to_numpy(float))


def _served_by_year(base: np.ndarray, committed_first_year: np.ndarray | None,
                    years: Sequence[int]) -> np.ndarray:
    served = np.repeat(np.asarray(base, dtype=bool)[None, :], len(years), axis=0)
    if committed_first_year is not None:
        for y, year in enumerate(years):
            served[y] |= committed_first_year <= year
    return served


def _life(scenario: Scenario) -> dict[str, Any]:
    prog = scenario.programme
    return {"discount_rate": prog.discount_rate, "horizon_years": prog.horizon_years}


def _site_parts(sites: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({part: sites[col].to_numpy(float) if col in sites
                         else np.zeros(len(sites)) for part, col in _SITE_PARTS.items()})


def _village_rows(sites: pd.DataFrame, villages: pd.DataFrame) -> np.ndarray:
    index = {str(c): i for i, c in enumerate(villages["code"].astype(str))}
    return np.array([index.get(str(c), -1) for c in sites["village_code"]], dtype=np.int64)


def _concat(a: ProgrammeOptions, b: ProgrammeOptions, site_offset: int) -> ProgrammeOptions:
    fields = {}
    for name in ("site", "type_index", "channel_index", "pay", "opex", "capex_idr",
                 "opex_idr_per_year", "whole_life_idr", "parts_idr"):
        extra = getattr(b, name)
        if name == "site":
            extra = extra + site_offset
        fields[name] = np.concatenate([getattr(a, name), extra])
    return replace(a, **fields)


def village_people(villages: pd.DataFrame, units: DemandUnits) -> np.ndarray:
    """People per village for the channel rules: the village file's population, else the
    demand units' people in the village (nan when demand is not people)."""
    n = len(villages)
    given = villages["population"].to_numpy(float) if "population" in villages \
        else np.full(n, np.nan)
    if units.basis != "population":
        return given
    people = np.bincount(units.village, weights=units.weight, minlength=n)
    return np.where(np.isfinite(given), given, people)


def programme_problem(scenario: Scenario, problem: SelectionProblem,
                      type_cover: Mapping[float, sp.csr_matrix], *,
                      committed_first_year: np.ndarray | None = None,
                      before_source: str = "reports",
                      served_base: np.ndarray | None = None,
                      tower_types: Sequence[TowerType] | None = None,
                      built: Sequence[ProgrammeBuilt] | None = None,
                      weights: np.ndarray | None = None) -> ProgrammeProblem:
    """The programme's arrays.

    Parameters
    ----------
    scenario : Scenario
        ``programme``, ``all_channels``, ``all_tower_types``, ``costs``, ``backhaul`` and
        ``radio`` (the coverage of added sites) are read.
    problem : SelectionProblem
        Today's state and the costed candidates with their coverage at the candidates'
        heights.
    type_cover : mapping of float to csr_matrix
        Coverage ``(n_candidates, U)`` of every candidate at each tower-type height, m.
    committed_first_year : numpy.ndarray, optional
        Per unit, the first year a committed tower (on air after the plan year) serves it;
        a large number where none does.
    before_source : str
        Source of today's state (:data:`BEFORE_SOURCES`); ignored with *served_base*.
    served_base : numpy.ndarray, optional
        Units served today, when the caller computed them (e.g. at another threshold).
    tower_types, built : sequence, optional
        In place of the scenario's tower types and ``[[programme.built]]`` (an audit case).
    weights : numpy.ndarray, optional
        Value of each demand unit served for a year (default its people; see
        :func:`programme_weights`).

    Raises
    ------
    ScenarioError
        When a ``[[programme.built]]`` tower names a type, channel, village or site that
        does not exist, or a year outside ``[programme] years``.
    """
    prog = scenario.programme
    years = tuple(int(y) for y in prog.years)
    channels = tuple(scenario.all_channels)
    types = tuple(scenario.all_tower_types if tower_types is None else tower_types)
    state = problem.state
    villages = state.villages
    cands = problem.candidates.reset_index(drop=True)
    keep = np.flatnonzero(cands["origin"].astype(str).to_numpy() != "colocation")
    sites = cands.iloc[keep].reset_index(drop=True)
    people = pd.DataFrame(villages.drop(columns="geometry", errors="ignore")).assign(
        population=village_people(villages, state.units))
    eligible = eligible_channels(people, channels)
    options = programme_options(_village_rows(sites, villages), eligible, _site_parts(sites),
                                types, channels, **_life(scenario))
    rows = [type_cover[float(t.height_m)][keep] for t in types]
    fresh = np.where(before_served(state, before_source) if served_base is None
                     else served_base, 0.0, state.units.weight)
    built_entries = scenario.programme.built if built is None else tuple(built)
    locked, sites, options, rows = _lock_built(
        scenario, problem, sites, options, rows, fresh, years, types, channels,
        built_entries)
    cover = _option_cover(options, rows, len(state.units.weight))
    base = before_served(state, before_source) if served_base is None else served_base
    served = _served_by_year(base, committed_first_year, years)
    budget = budget_array(prog, channels)
    spend = programme_spend(options.pay, options.opex, locked, len(years))
    notes = _problem_notes(people, channels, eligible)
    log.info("programme: %d sites, %d options, %d years, %d channels, %d locked", len(sites),
             len(options.site), len(years), len(channels), len(locked))
    value = state.units.weight if weights is None else weights
    return ProgrammeProblem(years, channels, types, sites, options, cover,
                            np.asarray(value, dtype=float), served, budget,
                            free_budget(_finite_budget(budget, options), spend,
                                        carry_over=prog.carry_over,
                                        closed_years=_closed_years(years, built_entries)),
                            discount_factors(len(years), prog.discount_rate), locked, notes)


def _option_cover(options: ProgrammeOptions, rows: Sequence[sp.csr_matrix],
                  n_units: int) -> sp.csr_matrix:
    """Coverage row of each option: its site's row in its type's matrix."""
    if not len(options.site):
        return sp.csr_matrix((0, n_units), dtype=bool)
    stacked = sp.vstack(rows, format="csr")
    offsets = np.cumsum([0, *(r.shape[0] for r in rows)])
    index = offsets[options.type_index] + options.site
    return sp.csr_matrix(stacked[index], dtype=bool)


def _lock_built(scenario: Scenario, problem: SelectionProblem, sites: pd.DataFrame,
                options: ProgrammeOptions, rows: list[sp.csr_matrix], fresh: np.ndarray,
                years: tuple[int, ...], types: tuple[TowerType, ...],
                channels: tuple[Channel, ...], built: tuple[ProgrammeBuilt, ...]
                ) -> tuple[tuple[tuple[int, int], ...], pd.DataFrame, ProgrammeOptions,
                           list[sp.csr_matrix]]:
    """Options of the ``[[programme.built]]`` towers, added where the rules do not offer
    them (a tower was built through that channel whatever the rule says)."""
    if not built:
        return (), sites, options, rows
    villages = problem.state.villages
    type_of = {t.name: i for i, t in enumerate(types)}
    channel_of = {c.name: i for i, c in enumerate(channels)}
    problems = programme_problems(Programme(years=years, built=built), channels,
                                  tuple(type_of))
    if problems:
        raise ScenarioError("; ".join(problems))
    added = _added_sites(scenario, problem, built, types)
    if len(added[0]):
        frame, extra_rows = added
        sites = pd.concat([sites, frame], ignore_index=True)
        rows = [sp.vstack([r, e], format="csr") for r, e in zip(rows, extra_rows, strict=True)]
    site_ids = sites["site_id"].astype(str).to_numpy()
    codes = sites["village_code"].astype(str).to_numpy()
    locked: list[tuple[int, int]] = []
    n_added = 0
    for b in built:
        t, c = type_of[b.type], channel_of[b.channel]
        site = _built_site(b, site_ids, codes, villages, rows[t], fresh, n_added)
        if b.lon is not None and b.lat is not None and not b.village and not b.site:
            n_added += 1
        match = np.flatnonzero((options.site == site) & (options.type_index == t)
                               & (options.channel_index == c))
        if not len(match):
            one = np.zeros((1, len(channels)), dtype=bool)
            one[0, c] = True
            v = _village_rows(sites.iloc[[site]], villages)
            extra = programme_options(np.array([0 if v[0] >= 0 else -1]), one,
                                      _site_parts(sites.iloc[[site]]), (types[t],),
                                      channels, **_life(scenario))
            extra = replace(extra, type_index=np.full(len(extra.site), t),
                            site=np.zeros(len(extra.site), dtype=np.int64))
            options = _concat(options, extra, site)
            match = np.array([len(options.site) - 1])
        locked.append((int(match[0]), years.index(b.year)))
    return tuple(locked), sites, options, rows


def _built_site(b: ProgrammeBuilt, site_ids: np.ndarray, codes: np.ndarray, villages: Any,
                cover: sp.csr_matrix, fresh: np.ndarray, n_added: int) -> int:
    """Site row of one built tower (village: its best candidate for the type's coverage)."""
    if b.site:
        hit = np.flatnonzero(site_ids == b.site)
        if not len(hit):
            raise ScenarioError(f"[[programme.built]] {b.year}: no candidate site "
                                f"{b.site!r}")
        return int(hit[0])
    if b.village:
        problems: list[str] = []
        v = int(built_village_rows([b], villages, problems)[0])
        if problems:
            raise ScenarioError(problems[0])
        inside = np.flatnonzero(codes == str(villages["code"].iloc[v]))
        if not len(inside):
            raise ScenarioError(f"[[programme.built]] {b.year}: no candidate site inside "
                                f"{villages['name'].iloc[v]} (a village served today gets no "
                                f"candidates): give the tower's lon/lat")
        gain = np.asarray(cover[inside] @ fresh, dtype=float).ravel()
        return int(inside[np.argmax(gain)])
    added = np.flatnonzero(np.char.startswith(site_ids.astype(str), "B-"))
    return int(added[n_added])


def _added_sites(scenario: Scenario, problem: SelectionProblem,
                 built: Sequence[ProgrammeBuilt], types: tuple[TowerType, ...]
                 ) -> tuple[pd.DataFrame, list[sp.csr_matrix]]:
    """Sites of the lon/lat built towers, covered at every type height and costed like
    audited sites."""
    points = [b for b in built if b.lon is not None and b.lat is not None
              and not b.village and not b.site]
    n_units = len(problem.state.units.weight)
    if not points:
        return pd.DataFrame(), [sp.csr_matrix((0, n_units), dtype=bool) for _ in types]
    crs = problem.state.villages.crs
    ll = gpd.GeoSeries(gpd.points_from_xy([b.lon for b in points], [b.lat for b in points]),
                       crs="EPSG:4326").to_crs(crs)
    ids = [f"B-{k + 1}" for k in range(len(points))]
    frame: pd.DataFrame = pd.DataFrame()
    rows = []
    for tower in types:
        gdf = gpd.GeoDataFrame({"site_id": ids, "height_m": float(tower.height_m)}, geometry=ll,
                               crs=crs)
        for col in ("cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
                    "cost_colocation_idr", "cost_total_idr"):
            gdf[col] = np.nan
        matrix, costed = site_rows(scenario, problem, gdf)
        rows.append(matrix)
        frame = costed.assign(origin="built")
    return frame, rows


def _problem_notes(people: pd.DataFrame, channels: Sequence[Channel],
                   eligible: np.ndarray) -> tuple[str, ...]:
    """What the channel rules cannot see: village columns they need that are missing."""
    notes = []
    partners = {ch.partner for ch in channels if ch.partner}
    for c, channel in enumerate(channels):
        if channel.name in partners:
            continue  # a partner pays its parts of others' towers, whatever its own rule
        rule = channel.rule
        missing = [col for col, used in ((rule.village_flag, bool(rule.village_flag)),
                                         (rule.land_column, rule.offers_land))
                   if used and col not in people]
        for col in missing:
            notes.append(bilingual("prog.no_flag", channel=channel.name, column=col))
        if not missing and not eligible[:, c].any():
            notes.append(bilingual("prog.no_village", channel=channel.name))
    return tuple(notes)


def _ordered(problem: ProgrammeProblem, builds: Sequence[tuple[int, int]]
             ) -> list[tuple[int, int]]:
    """Builds by year; within a year, locked first, then in greedy order of gain."""
    locked = set(problem.locked)
    out: list[tuple[int, int]] = []
    covered = np.zeros(problem.cover.shape[1], dtype=bool)
    for y in range(len(problem.years)):
        covered |= problem.served[y]
        todo = [b for b in builds if b[1] == y]
        first = [b for b in todo if b in locked]
        rest = [b for b in todo if b not in locked]
        for b in first:
            out.append(b)
            covered |= problem.cover[b[0]].toarray().ravel()
        while rest:
            gains = [float(problem.weights[problem.cover[k].indices[
                ~covered[problem.cover[k].indices]]].sum()) for k, _ in rest]
            best = rest.pop(int(np.argmax(gains)))
            out.append(best)
            covered |= problem.cover[best[0]].toarray().ravel()
    return out


def programme_outcome(scenario: Scenario, problem: ProgrammeProblem, state: CurrentState,
                      result: ProgrammeResult, greedy: ProgrammeResult, *,
                      notes: Sequence[str] = (), objective: str = "people_years"
                      ) -> ProgrammeOutcome:
    """The outcome of a solved programme: one row per tower, per year and channel, and
    each village's status per year in the Podes vocabulary.

    Parameters
    ----------
    scenario : Scenario
        ``programme`` and ``coverage`` are read.
    problem : ProgrammeProblem
        The programme's arrays.
    state : CurrentState
        Today's state (villages and demand units).
    result, greedy : ProgrammeResult
        The optimised programme and the greedy year-by-year plan.
    notes : sequence of str
        Limitations stated first (the problem's own notes follow).
    objective : str
        Name of the objective.
    """
    cov = scenario.coverage
    villages = state.villages
    units = state.units
    n_v = len(villages)
    years = problem.years
    o = problem.options
    sites = problem.sites
    locked = set(problem.locked)
    lonlat = _lonlat(sites, villages.crs)
    names = villages["name"].astype(str).to_numpy()
    codes = villages["code"].astype(str).to_numpy()

    def share(served: np.ndarray) -> np.ndarray:
        return village_share(units.village, units.weight, units.area_km2, n_v, served)

    base_share = share(problem.served[0])
    covered_before = base_share >= cov.covered_at_least
    rows = []
    covered = np.zeros(problem.cover.shape[1], dtype=bool)
    tower_served = np.zeros_like(covered)
    done_v = covered_before.copy()
    year_shares = []
    current_y = -1
    for k, y in _ordered(problem, result.builds):
        while current_y < y:
            if current_y >= 0:
                year_shares.append(share(covered))
            current_y += 1
            covered |= problem.served[current_y]
        row = problem.cover[k].toarray().ravel()
        new = row & ~covered
        covered |= row
        tower_served |= row
        now = share(covered) >= cov.covered_at_least
        lifted = np.flatnonzero(now & ~done_v)
        done_v |= now
        s = int(o.site[k])
        c = int(o.channel_index[k])
        t = problem.tower_types[int(o.type_index[k])]
        rows.append({
            "year": int(years[y]), "channel": problem.channels[c].name,
            "site_id": str(sites["site_id"].iloc[s]), "tower_type": t.name,
            "height_m": float(t.height_m), "lon": lonlat[s, 0], "lat": lonlat[s, 1],
            "village_code": str(sites["village_code"].iloc[s]),
            "village_name": str(sites["village"].iloc[s]),
            "district": str(sites["district"].iloc[s]), "locked": (k, y) in locked,
            "capex_idr": float(o.capex_idr[k]), "opex_idr_per_year": float(o.opex_idr_per_year[k]),
            "whole_life_idr": float(o.whole_life_idr[k]),
            "people_new": float(units.weight[new].sum()),
            "villages_lifted": "; ".join(f"{names[v]} ({codes[v]})" for v in lifted),
            "villages_lifted_n": len(lifted),
            "channel_capex_idr": o.pay[k].astype(float),
            "channel_opex_idr": o.opex[k].astype(float),
        })
    while current_y < len(years) - 1:
        if current_y >= 0:
            year_shares.append(share(covered))
        current_y += 1
        covered |= problem.served[current_y]
    year_shares.append(share(covered))
    builds = pd.DataFrame(rows, columns=[*BUILD_COLUMNS, "villages_lifted_n",
                                         "channel_capex_idr", "channel_opex_idr"])
    table = _by_year_channel(scenario, problem, builds, result)
    status = _village_status(scenario, state, base_share, year_shares, tower_served,
                             covered_before)
    why_not = _why_not(scenario, problem, state, result, covered,
                       np.flatnonzero(~(year_shares[-1] >= cov.blank_below)))
    value = float(result.objective)
    regret = 100.0 * (value - float(greedy.objective)) / value if value > 0 else 0.0
    return ProgrammeOutcome(
        years=years, channels=tuple(c.name for c in problem.channels),
        channel_labels={c.name: c.label for c in problem.channels},
        builds=builds[list(BUILD_COLUMNS)].reset_index(drop=True),
        by_year_channel=table, village_status=status, objective=objective,
        objective_value=value, bound=float(result.bound), gap=float(result.gap),
        status=str(result.status), method=str(result.method),
        runtime_s=float(result.runtime_s), greedy_value=float(greedy.objective),
        greedy_regret_pct=float(regret), discount_rate=float(scenario.programme.discount_rate),
        horizon_years=int(scenario.programme.horizon_years),
        carry_over=bool(scenario.programme.carry_over),
        notes=(*notes, *problem.notes), why_not=why_not)


def _why_not(scenario: Scenario, problem: ProgrammeProblem, state: CurrentState,
             result: ProgrammeResult, covered_end: np.ndarray, blank: np.ndarray
             ) -> pd.DataFrame:
    """Each village blank at the end of the programme: its cheapest option, the earliest
    year and the extra budget that would add it (:mod:`~towerplan.analysis.programme_why_not`)."""
    o, units, villages = problem.options, state.units, state.villages
    used = np.zeros(len(problem.sites), dtype=bool)
    used[[int(o.site[k]) for k, _ in result.builds]] = True
    inp = WhyNotProgramme(
        cover=problem.cover, site=o.site, type_index=o.type_index,
        channel_index=o.channel_index, capex_idr=o.capex_idr, pay=o.pay, opex=o.opex,
        weight=np.asarray(units.weight, float), area_km2=np.asarray(units.area_km2, float),
        unit_village=np.asarray(units.village), covered_end=covered_end, used_sites=used,
        spend=np.asarray(result.spend_idr, float), budget=problem.budget,
        first_open=_closed_years(problem.years, scenario.programme.built))
    found = programme_why_not(inp, blank, blank_below=scenario.coverage.blank_below,
                              carry_over=scenario.programme.carry_over)
    people = np.bincount(units.village, weights=units.weight, minlength=len(villages))
    names = [c.name for c in problem.channels]
    rows = []
    for r in found.itertuples(index=False):
        v, k = int(r.village), int(r.option)
        extra = np.nan_to_num(np.asarray(r.extra, float))
        rows.append({
            "code": str(villages["code"].iloc[v]), "name": str(villages["name"].iloc[v]),
            "district": str(villages["district"].iloc[v]),
            "population": float(people[v]) if units.basis == "population" else np.nan,
            "site_id": str(problem.sites["site_id"].iloc[int(o.site[k])]) if k >= 0 else "",
            "tower_type": problem.tower_types[int(o.type_index[k])].name if k >= 0 else "",
            "channel": names[int(o.channel_index[k])] if k >= 0 else "",
            "people_new": r.people_new, "cost_per_person_idr": r.cost_per_person_idr,
            "capex_idr": float(o.capex_idr[k]) if k >= 0 else np.nan,
            "opex_idr_per_year": float(o.opex_idr_per_year[k]) if k >= 0 else np.nan,
            "year": int(problem.years[int(r.year)]) if r.year >= 0 else np.nan,
            "extra_budget_idr": r.extra_budget_idr,
            "extra_channel": "; ".join(names[c] for c in np.argsort(-extra) if extra[c] > 0),
            "reason": str(r.reason)})
    frame = pd.DataFrame(rows, columns=list(PROGRAMME_WHY_NOT_COLUMNS))
    return frame.sort_values(["district", "name"]).reset_index(drop=True)


#: Podes signal word of a before-state status (where a report decides it).
_SIGNAL_OF_STATUS: dict[str, str] = dict(zip((BLANK, PARTIAL, COVERED), PODES_SIGNAL,
                                             strict=True))

def _lonlat(sites: pd.DataFrame, crs: Any) -> np.ndarray:
    if not len(sites):
        return np.empty((0, 2))
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["x"], sites["y"]), crs=crs).to_crs(4326)
    return np.column_stack([pts.x.round(6), pts.y.round(6)])


def _by_year_channel(scenario: Scenario, problem: ProgrammeProblem, builds: pd.DataFrame,
                     result: ProgrammeResult) -> pd.DataFrame:
    """Per year and channel: towers it funds, people they newly serve, what it pays.

    Capex and opex are what the channel *pays* (each cost part by its payer, so a partner's
    parts of another channel's towers count for the partner); towers and people are those of
    the towers the channel funds.
    """
    spend = np.asarray(result.spend_idr, dtype=float)
    carry_over = scenario.programme.carry_over
    out = []
    for c, channel in enumerate(problem.channels):
        carried = 0.0
        for y, year in enumerate(problem.years):
            mine = builds[(builds["year"] == year) & (builds["channel"] == channel.name)]
            in_year = builds[builds["year"] == year]
            capex = float(sum(p[c] for p in in_year["channel_capex_idr"]))
            opex = float(sum(p[c] for p in in_year["channel_opex_idr"]))
            budget = float(problem.budget[y, c])
            available = budget + carried
            spent = float(spend[y, c])
            carried = max(available - spent, 0.0) if carry_over else 0.0
            people = float(mine["people_new"].sum())
            out.append({
                "year": int(year), "channel": channel.name, "towers": len(mine),
                "people_new": people, "villages_lifted": int(mine["villages_lifted_n"].sum()),
                "capex_idr": capex,
                "opex_idr_per_year": opex,
                "budget_idr": budget, "spent_idr": spent, "carried_idr": carried,
                "cost_per_person_idr": cost_per_person_idr(capex, people),
            })
    return pd.DataFrame(out, columns=list(BY_YEAR_CHANNEL_COLUMNS))


def _existing_technology(state: CurrentState) -> np.ndarray:
    """Per village, the generation (``2G`` .. ``5G``) of the existing tower serving it best
    today; empty where none does or the tower file does not say."""
    n_v = len(state.villages)
    towers = getattr(state.data, "towers", None)
    if "best_server" not in state.stats or towers is None or "technology" not in towers:
        return np.full(n_v, "", dtype=object)
    techs = [parse_technology(str(t)) or "unknown" for t in towers["technology"]]
    words = np.array([t.upper() if t != "unknown" else "" for t in techs] + [""],
                     dtype=object)
    best = state.stats["best_server"].to_numpy(int)
    return words[np.where((best >= 0) & (best < len(techs)), best, len(techs))]


def _village_status(scenario: Scenario, state: CurrentState, base_share: np.ndarray,
                    year_shares: Sequence[np.ndarray], tower_served: np.ndarray,
                    covered_before: np.ndarray) -> pd.DataFrame:
    """Long table: each village before the programme and in each year."""
    cov = scenario.coverage
    villages = state.villages
    units = state.units
    years = scenario.programme.years
    n_v = len(villages)
    by_tower = np.bincount(units.village, weights=tower_served.astype(float),
                           minlength=n_v) > 0
    people = np.bincount(units.village, weights=units.weight, minlength=n_v) \
        if units.basis == "population" else np.full(n_v, np.nan)
    before_status = state.stats["status"].to_numpy() if "status" in state.stats else None
    existing = _existing_technology(state)
    frames = []
    previous = covered_before
    for label, shares in ((int(years[0]) - 1, base_share),
                          *zip((int(y) for y in years), year_shares, strict=True)):
        covered = shares >= cov.covered_at_least
        signal = podes_signals(shares, cov.blank_below, cov.covered_at_least).tolist()
        if label == int(years[0]) - 1 and before_status is not None:
            # the before row as the plan's before state says (a report decides there)
            signal = [_SIGNAL_OF_STATUS.get(str(s), sig)
                      for s, sig in zip(before_status, signal, strict=True)]
        tech = np.where(by_tower & (shares > 0) & (label >= int(years[0])), "4G",
                        np.where(shares > 0, existing, ""))
        frames.append(pd.DataFrame({
            "code": villages["code"].astype(str).to_numpy(),
            "name": villages["name"].astype(str).to_numpy(),
            "district": villages["district"].astype(str).to_numpy(),
            "population": people, "year": label, "served_share": np.round(shares, 4),
            "signal": signal, "technology": tech,
            "lifted": covered & ~previous if label >= int(years[0])
            else np.zeros(n_v, dtype=bool),
        }))
        previous = previous | covered
    return pd.concat(frames, ignore_index=True)[list(VILLAGE_STATUS_COLUMNS)]
