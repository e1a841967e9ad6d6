"""The programme groups of a scenario: years, budgets by funding channel, channels, tower types.

A programme plans several years at once (``[programme]``): each year has a budget per funding
channel (``[[programme.budgets]]``), past years are locked to what was built
(``[[programme.built]]``), and money left in a year may carry over. A channel
(``[[channels]]``) says which villages it may fund (``[channels.rule]``) and which cost parts it
pays; a partner channel pays the rest (the regency buys the passive tower, the operator brings
radio and backhaul). A tower type (``[[tower_types]]``) has a height, sectors and cost parts.

Every group validates itself when constructed; the rules that need more than one group
(a budget naming an unknown channel, a built tower of an unknown type) are checked by
:class:`towerplan.scenario.Scenario`, with :func:`programme_problems`. Sources of the example
figures: ``docs/costs.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from towerplan._scenario_checks import Check
from towerplan._scenario_checks import Group as _Group

__all__ = [
    "CHANNEL_COST_PARTS",
    "DEFAULT_CHANNELS",
    "EXAMPLE_TOWER_TYPES",
    "Channel",
    "ChannelRule",
    "Programme",
    "ProgrammeBudget",
    "ProgrammeBuilt",
    "TowerType",
    "programme_problems",
    "rule_columns",
]

#: Cost parts of a tower, each paid by exactly one channel; ``opex`` is per year.
CHANNEL_COST_PARTS: tuple[str, ...] = (
    "tower", "power", "backhaul", "radio", "access", "land", "opex")

#: The capital parts (all but ``opex``).
CAPITAL_PARTS: tuple[str, ...] = CHANNEL_COST_PARTS[:-1]


@dataclass(frozen=True, slots=True)
class ProgrammeBudget(_Group):
    """Money of one funding channel in one year (``[[programme.budgets]]``).

    Attributes
    ----------
    year : int
        Budget year; must be one of ``[programme] years``.
    channel : str
        Funding channel (a ``[[channels]]`` name, or a default channel).
    idr : float
        Rupiah available (>= 0; ``inf`` = no limit, e.g. an operator's own money).
    """

    year: int = 0
    channel: str = ""
    idr: float = 0.0

    _section = "programme.budgets"
    _infinite_ok = ("idr",)

    def _rules(self, c: Check) -> None:
        if c.ok("idr") and not self.idr >= 0:
            c.add(f"'programme.budgets' {self.channel or '?'} {self.year}: idr must be zero "
                  f"or positive, got {self.idr:g}", "idr")
        if c.ok("channel") and not self.channel:
            c.add("'programme.budgets' needs a channel for each entry")


@dataclass(frozen=True, slots=True)
class ProgrammeBuilt(_Group):
    """A tower built in a past year, locked into the programme (``[[programme.built]]``).

    Attributes
    ----------
    year : int
        Year it was built; must be one of ``[programme] years``.
    type : str
        Tower type (a ``[[tower_types]]`` name).
    channel : str
        Channel that paid for it.
    village : str
        Kemendagri code or name of the village it stands in; or
    site : str
        Candidate ``site_id``; or
    lon, lat : float
        Its position in degrees (WGS 84). Exactly one of village, site or lon/lat.
    """

    year: int = 0
    type: str = ""
    channel: str = ""
    village: str = ""
    site: str = ""
    lon: float | None = None
    lat: float | None = None

    _section = "programme.built"

    def _rules(self, c: Check) -> None:
        if not c.ok("village", "site", "lon", "lat"):
            return
        where = f"'programme.built' {self.year}"
        has_point = self.lon is not None or self.lat is not None
        given = sum((bool(self.village), bool(self.site), has_point))
        if given != 1:
            c.add(f"{where}: give exactly one of village, site or lon/lat, got {given}")
        if has_point and (self.lon is None or self.lat is None):
            c.add(f"{where}: give both lon and lat", "lon", "lat")
        elif has_point and not (-180 <= self.lon <= 180 and -90 <= self.lat <= 90):  # type: ignore[operator]
            c.add(f"{where}: lon/lat ({self.lon:g}, {self.lat:g}) are not degrees", "lon", "lat")
        if c.ok("type", "channel") and not (self.type and self.channel):
            c.add(f"{where}: give its type and channel")

    @property
    def where(self) -> str:
        """How the entry names its place: ``village X``, ``site S`` or ``lon, lat``."""
        if self.village:
            return f"village {self.village}"
        if self.site:
            return f"site {self.site}"
        return ", ".join("?" if v is None else f"{v:g}" for v in (self.lon, self.lat))


@dataclass(frozen=True, slots=True)
class Programme(_Group):
    """A programme over several years (``[programme]``); inactive when ``years`` is empty.

    Attributes
    ----------
    years : tuple of int
        Programme years in order, e.g. ``[2022, 2023, 2024]``; empty (default) = no programme.
    carry_over : bool
        Money a channel leaves unspent in a year is available the next year (default true).
    discount_rate : float
        Real discount rate per year of the whole-life cost (default 0.05).
    horizon_years : int
        Years of operation counted in the whole-life cost (default 10).
    budgets : tuple of ProgrammeBudget
        Money per year and channel (``[[programme.budgets]]``).
    built : tuple of ProgrammeBuilt
        Towers built in past years (``[[programme.built]]``). The years up to the last of
        them are closed: nothing else is built in them.
    notes : tuple of str
        What the data cannot show about the programme (e.g. towers of other programmes
        whose positions are unknown), stated with the limitations of every output.
    """

    years: tuple[int, ...] = ()
    carry_over: bool = True
    discount_rate: float = 0.05
    horizon_years: int = 10
    budgets: tuple[ProgrammeBudget, ...] = ()
    built: tuple[ProgrammeBuilt, ...] = ()
    notes: tuple[str, ...] = ()

    _section = "programme"

    def _rules(self, c: Check) -> None:
        self._check_years(c)
        if c.ok("discount_rate") and not 0 <= self.discount_rate < 1:
            c.add(f"'programme.discount_rate' must be in 0..1, got {self.discount_rate:g}")
        if c.ok("horizon_years") and not 1 <= self.horizon_years <= 100:
            c.add(f"'programme.horizon_years' must be 1..100, got {self.horizon_years}")
        if not c.ok("years", "budgets", "built"):
            return
        if (self.budgets or self.built) and not self.years:
            c.add("'programme.budgets' and 'programme.built' need 'programme.years'")
            return
        years = set(self.years)
        for budget in self.budgets:
            if budget.year not in years:
                c.add(f"'programme.budgets' {budget.channel}: year {budget.year} is not one "
                      f"of 'programme.years' {list(self.years)}")
        pairs = [(b.year, b.channel) for b in self.budgets]
        for year, channel in sorted({p for p in pairs if pairs.count(p) > 1}):
            c.add(f"'programme.budgets' {channel} {year} is given twice")
        for built in self.built:
            if built.year not in years:
                c.add(f"'programme.built' {built.where}: year {built.year} is not one of "
                      f"'programme.years' {list(self.years)}")

    def _check_years(self, c: Check) -> None:
        if not c.ok("years"):
            return
        years = self.years
        twice = sorted({y for y in years if years.count(y) > 1})
        if twice:
            c.add(f"'programme.years' gives {', '.join(map(str, twice))} more than once")
        outside = [y for y in years if not 1990 <= y <= 2100]
        if outside:
            c.add(f"'programme.years' must be years in 1990..2100, got {outside}")
        if not twice and list(years) != sorted(years):
            c.add(f"'programme.years' must be in increasing order, got {list(years)}")

    @property
    def active(self) -> bool:
        """True when the scenario plans a programme (``years`` is set)."""
        return bool(self.years)


@dataclass(frozen=True, slots=True)
class ChannelRule(_Group):
    """Which villages a channel may fund (``[channels.rule]``); all conditions must hold.

    Attributes
    ----------
    min_population : float
        Fewest residents of the village (default 0 = no minimum).
    max_population : float
        Most residents (default 0 = no maximum).
    village_flag : str
        Village column that must be true (e.g. ``"is_3t"``); empty = none. A village layer
        without the column admits no village.
    offers_land : bool
        The village must offer land (column ``land_column`` true; default false).
    land_column : str
        Village column saying the desa offers land (default ``"offers_land"``).
    """

    min_population: float = 0.0
    max_population: float = 0.0
    village_flag: str = ""
    offers_land: bool = False
    land_column: str = "offers_land"

    _section = "channels.rule"
    _ranges = {"min_population": (0.0, 1e9), "max_population": (0.0, 1e9)}

    def _rules(self, c: Check) -> None:
        c.non_negative("min_population", "max_population")
        if (c.ok("min_population", "max_population") and self.max_population
                and self.max_population < self.min_population):
            c.add(f"'channels.rule' max_population {self.max_population:g} is below "
                  f"min_population {self.min_population:g}")
        if c.ok("offers_land", "land_column") and self.offers_land and not self.land_column:
            c.add("'channels.rule' offers_land needs a land_column")

    @property
    def columns(self) -> tuple[str, ...]:
        """Village columns the rule reads, besides the population."""
        return tuple(c for c in (self.village_flag,
                                 self.land_column if self.offers_land else "") if c)


@dataclass(frozen=True, slots=True)
class Channel(_Group):
    """A funding channel (``[[channels]]``).

    Attributes
    ----------
    name : str
        Identifier used in budgets and outputs, e.g. ``"apbd"``.
    label, label_en : str
        Name shown to users in Bahasa Indonesia and English (empty = the name).
    rule : ChannelRule
        Villages the channel may fund (default: every village).
    pays : tuple of str
        Cost parts (:data:`CHANNEL_COST_PARTS`) the channel pays when it funds a tower
        (default all).
    partner : str
        Channel paying ``partner_pays`` (e.g. ``"operator"``); empty = none.
    partner_pays : tuple of str
        Cost parts the partner pays. ``pays`` and ``partner_pays`` together name every part
        exactly once.
    """

    name: str = ""
    label: str = ""
    label_en: str = ""
    rule: ChannelRule = field(default_factory=ChannelRule)
    pays: tuple[str, ...] = CHANNEL_COST_PARTS
    partner: str = ""
    partner_pays: tuple[str, ...] = ()

    _section = "channels"

    def _rules(self, c: Check) -> None:
        if c.ok("name") and not self.name:
            c.add("'channels' needs a name for each channel")
        if not c.ok("pays", "partner", "partner_pays"):
            return
        who = f"channel '{self.name}'"
        unknown = sorted(set(self.pays + self.partner_pays) - set(CHANNEL_COST_PARTS))
        if unknown:
            c.add(f"{who}: unknown cost part(s) {', '.join(unknown)}; choose from "
                  f"{', '.join(CHANNEL_COST_PARTS)}")
        both = sorted(set(self.pays) & set(self.partner_pays))
        if both:
            c.add(f"{who}: {', '.join(both)} paid by both the channel and its partner; "
                  "list the channel's own parts in pays")
        nobody = [p for p in CHANNEL_COST_PARTS
                  if p not in self.pays and p not in self.partner_pays]
        if nobody and not unknown:
            c.add(f"{who}: nobody pays {', '.join(nobody)}; add them to pays or partner_pays")
        if self.partner_pays and not self.partner:
            c.add(f"{who}: partner_pays needs a partner channel")
        if self.partner and self.partner == self.name:
            c.add(f"{who}: a channel cannot be its own partner")

    def payer(self, part: str) -> str:
        """Return the channel paying cost *part* of a tower this channel funds."""
        return self.partner if part in self.partner_pays else self.name


@dataclass(frozen=True, slots=True)
class TowerType(_Group):
    """A tower design the programme may build (``[[tower_types]]``); money in rupiah.

    Attributes
    ----------
    name : str
        Identifier, e.g. ``"menara-72m"``.
    height_m : float
        Antenna height above ground, m.
    azimuths_deg : tuple of float
        Sector azimuths, degrees from north; empty = the ``[radio.antenna]`` (omni by
        default). When given, they must equal ``radio.antenna.azimuths_deg``: coverage uses
        one antenna for every tower type.
    tower_idr, radio_idr, power_idr, backhaul_idr, access_idr, land_idr : float
        Capital cost parts (site-dependent access and power are added per site).
    power_w : float
        Power draw of the site, W.
    opex_idr_per_year : float
        Running cost per year (maintenance, energy, backhaul service).
    land_m2 : float
        Land the site needs, m².
    source : str
        Where the figures come from (``docs/costs.md``).
    """

    name: str = ""
    height_m: float = 42.0
    azimuths_deg: tuple[float, ...] = ()
    tower_idr: float = 0.0
    radio_idr: float = 0.0
    power_idr: float = 0.0
    backhaul_idr: float = 0.0
    access_idr: float = 0.0
    land_idr: float = 0.0
    power_w: float = 0.0
    opex_idr_per_year: float = 0.0
    land_m2: float = 0.0
    source: str = ""

    _section = "tower_types"
    _ranges = {"height_m": (1.0, 300.0), "power_w": (0.0, 1e6), "land_m2": (0.0, 1e6),
               **{name: (0.0, 1e13) for name in (
                   "tower_idr", "radio_idr", "power_idr", "backhaul_idr", "access_idr",
                   "land_idr", "opex_idr_per_year")}}

    def _rules(self, c: Check) -> None:
        if c.ok("name") and not self.name:
            c.add("'tower_types' needs a name for each type")
        c.positive("height_m")
        money = ("tower_idr", "radio_idr", "power_idr", "backhaul_idr", "access_idr",
                 "land_idr", "opex_idr_per_year")
        c.non_negative(*money, "power_w", "land_m2")
        if c.ok(*money) and not any(getattr(self, m) > 0 for m in money):
            c.add(f"tower type '{self.name}' has no cost: all of {', '.join(money)} are 0")
        if c.ok("azimuths_deg") and not all(0 <= a < 360 for a in self.azimuths_deg):
            c.add(f"tower type '{self.name}': azimuths_deg must be in 0..360, "
                  f"got {list(self.azimuths_deg)}", "azimuths_deg")

    @property
    def capex_idr(self) -> float:
        """Capital cost: the sum of the capital parts, rupiah."""
        return math.fsum(self.cost_parts_idr()[p] for p in CAPITAL_PARTS)

    def cost_parts_idr(self) -> dict[str, float]:
        """Return every cost part by :data:`CHANNEL_COST_PARTS` (``opex`` per year)."""
        return {"tower": self.tower_idr, "power": self.power_idr,
                "backhaul": self.backhaul_idr, "radio": self.radio_idr,
                "access": self.access_idr, "land": self.land_idr,
                "opex": self.opex_idr_per_year}


#: The four default channels; a scenario's ``[[channels]]`` replaces them all.
DEFAULT_CHANNELS: tuple[Channel, ...] = (
    Channel("apbd", "APBD Kabupaten", "Regency budget (APBD)"),
    Channel("apbd_provinsi", "APBD Provinsi", "Provincial budget (APBD Provinsi)"),
    Channel("national", "BAKTI (USO nasional)", "National USO programme (BAKTI)",
            ChannelRule(village_flag="is_3t", offers_land=True)),
    Channel("operator", "Operator seluler", "Mobile operator (commercial)",
            ChannelRule(min_population=1000.0)),
)

_PLN_5500VA_IDR = 5_500 * 969.0  # Rp 969/VA above 2,200 VA (Permen ESDM 27/2017)
_OPEX_SHARE = 0.10  # running cost a year per rupiah of capital (Kominfo: 10-12.5 %)


def _pln_tower(name: str, height_m: float, tower_idr: float, source: str) -> TowerType:
    """Return a 4G tower on PLN power with one microwave hop (docs/costs.md); its antenna is
    the scenario's ``[radio.antenna]``."""
    parts = {"tower_idr": tower_idr, "radio_idr": 500_000_000.0,
             "power_idr": _PLN_5500VA_IDR, "backhaul_idr": 350_000_000.0}
    return TowerType(name, height_m, (), **parts, power_w=2_000.0,
                     opex_idr_per_year=_OPEX_SHARE * math.fsum(parts.values()),
                     land_m2=200.0, source=source)


#: Example tower types with the figures of docs/costs.md (cited or planning assumptions).
EXAMPLE_TOWER_TYPES: tuple[TowerType, ...] = (
    _pln_tower("menara-72m", 72.0, 1_700_000_000.0,
               "72 m four-legged, Rp 1.7 bn (SSH Paser), 10 x 20 m land, PLN required; "
               "see docs/costs.md"),
    _pln_tower("menara-42m", 42.0, 1_200_000_000.0,
               "national programme 40-42 m, three sectors; cost a planning assumption; "
               "see docs/costs.md"),
    TowerType("menara-32m-vsat", 32.0, (), tower_idr=700_000_000.0,
              radio_idr=350_000_000.0, power_idr=600_000_000.0, backhaul_idr=150_000_000.0,
              power_w=1_000.0, opex_idr_per_year=300_000_000.0, land_m2=100.0,
              source="small tower, solar, VSAT; opex Rp 25 million a month (Kominfo 2023); "
                     "see docs/costs.md"),
)


def rule_columns(channels: tuple[Channel, ...]) -> tuple[str, ...]:
    """Return the village columns the channels' rules read (without population), once each."""
    return tuple(dict.fromkeys(col for ch in channels for col in ch.rule.columns))


def programme_problems(programme: Programme, channels: tuple[Channel, ...],
                       type_names: tuple[str, ...]) -> list[str]:
    """Return the problems across groups: unknown channel or tower type names, repeats.

    Parameters
    ----------
    programme : Programme
    channels : tuple of Channel
        The scenario's channels (the defaults when it names none).
    type_names : tuple of str
        Names of the scenario's tower types (the one from ``[radio]`` when it names none).
    """
    problems: list[str] = []
    lists = ((programme.budgets, ProgrammeBudget), (programme.built, ProgrammeBuilt),
             (channels, Channel))
    if not all(isinstance(items, tuple) and all(isinstance(i, cls) for i in items)
               for items, cls in lists):
        return problems  # a list of the wrong type: its own group reports it
    names = [ch.name for ch in channels]
    for label, values in (("channels", names), ("tower_types", list(type_names))):
        twice = sorted({n for n in values if values.count(n) > 1})
        if twice:
            problems.append(f"'{label}' names {', '.join(twice)} more than once")
    known = ", ".join(names)
    for ch in channels:
        if ch.partner and ch.partner not in names:
            problems.append(f"channel '{ch.name}': partner '{ch.partner}' is not a channel "
                            f"({known})")
    for budget in programme.budgets:
        if budget.channel not in names:
            problems.append(f"'programme.budgets' {budget.year}: unknown channel "
                            f"'{budget.channel}' (channels: {known})")
    for built in programme.built:
        if built.channel not in names:
            problems.append(f"'programme.built' {built.year} {built.where}: unknown channel "
                            f"'{built.channel}' (channels: {known})")
        if built.type not in type_names:
            problems.append(f"'programme.built' {built.year} {built.where}: unknown tower "
                            f"type '{built.type}' (types: {', '.join(type_names)})")
    return problems
