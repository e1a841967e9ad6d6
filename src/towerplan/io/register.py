"""Village register: match the names of a boundary file to Kemendagri register codes.

Boundary files spell villages in many ways: ``"Ds. Muara Toyu"``, ``"MUARA TOIYU"``,
``"Labuang Kallo"``, ``"Sei Terik"``. :func:`match_register` finds the register entry of each
name in four steps, stopping at the first that decides:

1. **mapping**: a row of the user's mapping file (``name[,district],code``) settles the name;
2. **exact**: the same name, ignoring case and spacing;
3. **normalised**: the same name after :func:`normalise_name` (no ``Desa``/``Kel.`` prefix,
   punctuation, old spelling ``oe``/``dj``/``tj``, doubled letters, spaces, abbreviations such
   as ``Sei`` = Sungai, ``Tg`` = Tanjung, Roman numerals = digits);
4. **fuzzy**: the best RapidFuzz score (0-100) of at least ``min_score``, unless a second
   candidate scores within ``margin`` of it (then the name is **ambiguous**).

Kecamatan names are matched first, the same way. When a village's kecamatan is known, only
register entries of that kecamatan are candidates, so a village never takes the code of a
namesake in another kecamatan. Every register entry is given to at most one name.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.atomic import atomic_output
from towerplan.io.csvfile import field, find_column, read_csv_records, read_csv_table
from towerplan.io.names import name_numbers, normalise, normalise_name, plain_name
from towerplan.io.report import LayerReport
from towerplan.io.tables import guard_formula
from towerplan.io.villages import KEMENDAGRI_CODE, problems_message

if TYPE_CHECKING:
    pass

__all__ = [
    "BUILTIN_REGISTERS",
    "MATCHED",
    "MATCH_REPORT_COLUMNS",
    "MappingRow",
    "MatchReport",
    "NameMatch",
    "apply_register",
    "district_register",
    "match_register",
    "match_villages",
    "packaged_register",
    "read_register",
    "read_village_mapping",
    "unit_level",
    "write_mapping_todo",
    "write_match_report",
]

log = logging.getLogger(__name__)

#: Registers shipped with towerplan, by the name a scenario gives them
#: (``[inputs] register = "builtin:paser-register"``) and their file in the package.
BUILTIN_REGISTERS: dict[str, str] = {"builtin:paser-register": "paser_register.csv"}


def packaged_register(name: str = "builtin:paser-register") -> Path:
    """Path of a register shipped with towerplan (package data; see :data:`BUILTIN_REGISTERS`).

    Raises
    ------
    InputFileError
        For a name that is not a shipped register.
    """
    if name not in BUILTIN_REGISTERS:
        msg = (f"unknown built-in register {name!r}; choose one of "
               f"{', '.join(BUILTIN_REGISTERS)} or give the path of a register CSV")
        raise InputFileError(msg)
    return Path(str(resources.files("towerplan").joinpath("data", BUILTIN_REGISTERS[name])))

#: Methods that settle a name with a register code.
MATCHED: tuple[str, ...] = ("mapping", "exact", "normalised", "fuzzy")
#: Every status of a name: matched (see :data:`MATCHED`), confirmed absent from the register
#: by the mapping file, ambiguous, or unmatched.
STATUSES: tuple[str, ...] = (*MATCHED, "not_in_register", "ambiguous", "unmatched")

#: Columns of the matching report CSV, in order.
MATCH_REPORT_COLUMNS: tuple[str, ...] = (
    "level", "name", "district", "status", "score", "code", "register_name",
    "register_district", "candidates", "note",
)
#: Columns of the mapping template written for names still to settle.
MAPPING_COLUMNS: tuple[str, ...] = ("name", "district", "code", "candidates")

#: A mapping file's code that confirms a name has no register entry (e.g. a lake polygon).
NOT_IN_REGISTER = "-"

DEFAULT_MIN_SCORE = 85.0
DEFAULT_MARGIN = 5.0

_KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_GENERATED_CODE = re.compile(r"^V\d{4,}$")
_METHOD_RANK = {m: k for k, m in enumerate(MATCHED)}
_MAX_CANDIDATES = 3

_NAME_COLUMNS = ("name", "nama", "village", "desa", "nama_desa")
_CODE_COLUMNS = ("code", "kode", "kode_desa", "village_code")
_DISTRICT_COLUMNS = ("district", "district_name", "kecamatan", "nama_kecamatan")
_DISTRICT_CODE_COLUMNS = ("district_code", "kode_kecamatan")
_KIND_COLUMNS = ("kind", "jenis")


# --------------------------------------------------------------------------- names


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class MappingRow:
    """One row of a user mapping file: *name* (in *district*, when given) is register *code*.

    ``code == "-"`` confirms the name has no register entry.
    """

    name: str
    district: str
    code: str
    line: int


@dataclass(frozen=True, slots=True)
class NameMatch:
    """How one name was matched.

    Attributes
    ----------
    level : {"village", "kecamatan"}
        What the name is.
    name, district : str
        The name as given, and its kecamatan as given (empty when unknown).
    status : str
        One of :data:`STATUSES`.
    score : float
        Similarity 0-100 of the chosen (or best) candidate; 100 for exact, normalised and
        mapping matches; ``nan`` when there was no candidate.
    code, register_name, register_district : str
        The register entry (empty unless matched).
    candidates : tuple of str
        The best candidates (``"code name (kecamatan) score"``) of ambiguous and unmatched
        names.
    note : str
        Why a name is ambiguous or unmatched, and what to do.
    """

    level: str
    name: str
    district: str
    status: str
    score: float
    code: str = ""
    register_name: str = ""
    register_district: str = ""
    candidates: tuple[str, ...] = ()
    note: str = ""

    @property
    def matched(self) -> bool:
        """True when a register code was assigned."""
        return self.status in MATCHED


@dataclass(frozen=True, slots=True)
class MatchReport:
    """Outcome of :func:`match_register`.

    Attributes
    ----------
    villages : tuple of NameMatch
        One per input name, in input order.
    districts : tuple of NameMatch
        One per distinct kecamatan name given.
    register_size : int
        Entries in the register.
    min_score, margin : float
        Fuzzy acceptance threshold and ambiguity margin used (score points).
    unused_mapping : tuple of str
        Mapping rows that matched no name (``"line N: name"``).
    """

    villages: tuple[NameMatch, ...]
    districts: tuple[NameMatch, ...]
    register_size: int
    min_score: float
    margin: float
    unused_mapping: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Register code of each input name (``""`` where not matched)."""
        return tuple(m.code if m.matched else "" for m in self.villages)

    @property
    def unsettled(self) -> tuple[NameMatch, ...]:
        """Names that are ambiguous or unmatched (to settle with a mapping file)."""
        return tuple(m for m in self.villages if m.status in ("ambiguous", "unmatched"))

    def counts(self, level: Literal["village", "kecamatan"] = "village") -> dict[str, int]:
        """Names per status, plus ``matched`` (all matched methods) and ``total``.

        Examples
        --------
        >>> reg = pd.DataFrame({"code": ["1"], "name": ["Busui"], "district_code": [""],
        ...                     "district": [""]})
        >>> match_register(["Busui", "Nowhere"], ["", ""], reg).counts()["matched"]
        1
        """
        rows = self.villages if level == "village" else self.districts
        out = {s: sum(m.status == s for m in rows) for s in STATUSES}
        out["matched"] = sum(m.matched for m in rows)
        out["total"] = len(rows)
        if level == "village":
            out["register_without_name"] = self.register_size - out["matched"]
        return out

    def summary_line(self) -> str:
        """One line of counts for logs and reports."""
        c = self.counts()
        return (f"{c['matched']} of {c['total']} names matched to the register "
                f"({c['exact']} exact, {c['normalised']} normalised, {c['fuzzy']} fuzzy, "
                f"{c['mapping']} by mapping); {c['ambiguous']} ambiguous, {c['unmatched']} "
                f"unmatched, {c['not_in_register']} confirmed not in the register; "
                f"{c['register_without_name']} of {self.register_size} register entries "
                "have no name in the file")

    def to_frame(self) -> pd.DataFrame:
        """The report as a table (:data:`MATCH_REPORT_COLUMNS`), kecamatan rows first."""
        rows = [{
            "level": m.level, "name": m.name, "district": m.district, "status": m.status,
            "score": None if math.isnan(m.score) else round(m.score, 1), "code": m.code,
            "register_name": m.register_name, "register_district": m.register_district,
            "candidates": "; ".join(m.candidates), "note": m.note,
        } for m in (*self.districts, *self.villages)]
        return pd.DataFrame(rows, columns=list(MATCH_REPORT_COLUMNS))


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True, slots=True)
class _Choices:
    """Register entries as candidates: codes, names, kecamatan and their keys."""

    code: np.ndarray
    name: np.ndarray
    district: np.ndarray
    plain: np.ndarray
    compact: np.ndarray
    spaced: np.ndarray

    @classmethod
    def build(cls, codes: Sequence[str], names: Sequence[str], districts: Sequence[str],
              level: str) -> _Choices:
        names = [str(n) for n in names]
        return cls(np.asarray(codes, dtype=object), np.asarray(names, dtype=object),
                   np.asarray(districts, dtype=object),
                   np.asarray([plain_name(n) for n in names], dtype=object),
                   np.asarray([normalise(n, level) for n in names], dtype=object),
                   np.asarray([normalise(n, level, compact=False) for n in names],
                              dtype=object))

    def subset(self, mask: np.ndarray) -> _Choices:
        return _Choices(self.code[mask], self.name[mask], self.district[mask],
                        self.plain[mask], self.compact[mask], self.spaced[mask])

    def label(self, k: int, score: float) -> str:
        where = f" ({self.district[k]})" if self.district[k] else ""
        return f"{self.code[k]} {self.name[k]}{where} {score:.0f}"


def _scores(query: str, choices: _Choices, level: str) -> np.ndarray:
    """RapidFuzz similarity 0-100 of *query* to every choice (names with other numbers: 0)."""
    from rapidfuzz import fuzz, process

    if not len(choices.code):
        return np.empty(0)
    compact = normalise(query, level)
    spaced = normalise(query, level, compact=False)
    by_letters = process.cdist([compact], list(choices.compact), scorer=fuzz.ratio)[0]
    by_words = process.cdist([spaced], list(choices.spaced), scorer=fuzz.token_sort_ratio)[0]
    scores = np.maximum(by_letters, by_words).astype(float)
    numbers = name_numbers(query, level)
    other = np.array([name_numbers(n, level) != numbers for n in choices.name], dtype=bool)
    scores[other] = 0.0
    return scores


def _match_one(query: str, district: str, choices: _Choices, level: str, *,
               min_score: float, margin: float) -> NameMatch:
    """Match one name against *choices* (exact, normalised, then fuzzy)."""
    base = NameMatch(level, query, district, "unmatched", math.nan)
    if not plain_name(query):
        return replace(base, note="empty name")
    for method, keys, key in (("exact", choices.plain, plain_name(query)),
                              ("normalised", choices.compact, normalise(query, level))):
        hits = np.flatnonzero(keys == key)
        if len(hits) == 1:
            k = int(hits[0])
            return replace(base, status=method, score=100.0, code=str(choices.code[k]),
                            register_name=str(choices.name[k]),
                            register_district=str(choices.district[k]))
        if len(hits) > 1:
            return replace(base, status="ambiguous", score=100.0,
                            candidates=tuple(choices.label(int(k), 100.0) for k in hits),
                            note=f"{len(hits)} register entries have this name; give the code "
                                 "in the mapping file")
    scores = _scores(query, choices, level)
    if not len(scores) or scores.max() <= 0:
        return replace(base, note="no register entry with a similar name")
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    top = tuple(choices.label(int(k), float(scores[k])) for k in order[:_MAX_CANDIDATES]
                if scores[k] > 0)
    if scores[best] < min_score:
        return replace(base, score=float(scores[best]), candidates=top,
                        note=f"best score {scores[best]:.0f} is below {min_score:g}; settle "
                             "it in the mapping file")
    close = [int(k) for k in order[1:] if scores[k] >= max(min_score, scores[best] - margin)]
    if close:
        return replace(base, status="ambiguous", score=float(scores[best]),
                        candidates=top[:1 + len(close)] if len(close) < _MAX_CANDIDATES
                        else top,
                        note=f"{len(close) + 1} candidates within {margin:g} points; give "
                             "the code in the mapping file")
    return replace(base, status="fuzzy", score=float(scores[best]),
                    code=str(choices.code[best]), register_name=str(choices.name[best]),
                    register_district=str(choices.district[best]))


def _match_districts(districts: Sequence[str], register: pd.DataFrame, *, min_score: float,
                     margin: float) -> dict[str, NameMatch]:
    """Match every distinct kecamatan name (or code) to the register's kecamatan."""
    table = register[["district_code", "district"]].drop_duplicates("district_code")
    table = table[table["district_code"] != ""]
    choices = _Choices.build(table["district_code"].tolist(), table["district"].tolist(),
                             [""] * len(table), "kecamatan")
    out: dict[str, NameMatch] = {}
    for value in dict.fromkeys(str(d) for d in districts):
        if not value.strip():
            continue
        if value.strip() in set(choices.code):
            k = int(np.flatnonzero(choices.code == value.strip())[0])
            out[value] = NameMatch("kecamatan", value, "", "exact", 100.0, str(choices.code[k]),
                                   str(choices.name[k]))
            continue
        out[value] = _match_one(value, "", choices, "kecamatan", min_score=min_score,
                                margin=margin)
    return out


def _mapping_lookup(mapping: Sequence[MappingRow], register: pd.DataFrame, level: str
                    ) -> dict[str, list[MappingRow]]:
    """Mapping rows by normalised name; every code must be in the register."""
    known = set(register["code"])
    problems = [f"mapping line {row.line}: code {row.code} of '{row.name}' is not in the "
                "register" for row in mapping
                if row.code != NOT_IN_REGISTER and row.code not in known]
    by_name: dict[str, list[MappingRow]] = {}
    for row in mapping:
        by_name.setdefault(normalise(row.name, level), []).append(row)
    if problems:
        raise InputDataError(problems_message("village mapping", problems),
                             problems=tuple(problems))
    return by_name


def _from_mapping(rows: list[MappingRow], name: str, district: str,
                  district_match: NameMatch | None, register: pd.DataFrame, level: str
                  ) -> tuple[NameMatch, MappingRow] | None:
    """The mapping row that settles *name* in *district*, if any."""
    def same_district(row: MappingRow) -> bool:
        if not row.district:
            return True
        if normalise_name(row.district, level="kecamatan") == normalise_name(
                district, level="kecamatan"):
            return True
        return district_match is not None and row.district in (district_match.code,
                                                               district_match.register_name)

    fitting = [r for r in rows if same_district(r)]
    if not fitting:
        return None
    row = sorted(fitting, key=lambda r: (not r.district, r.line))[0]
    if row.code == NOT_IN_REGISTER:
        return NameMatch(level, name, district, "not_in_register", math.nan,
                         note=f"mapping line {row.line}: not in the register"), row
    entry = register.loc[register["code"] == row.code].iloc[0]
    return NameMatch(level, name, district, "mapping", 100.0, row.code, str(entry["name"]),
                     str(entry["district"]), note=f"mapping line {row.line}"), row


def match_register(names: Sequence[str], districts: Sequence[str], register: pd.DataFrame, *,
                   mapping: Sequence[MappingRow] | None = None,
                   min_score: float = DEFAULT_MIN_SCORE, margin: float = DEFAULT_MARGIN,
                   level: Literal["village", "kecamatan"] = "village") -> MatchReport:
    """Match village names (with their kecamatan) to register entries.

    Parameters
    ----------
    names : sequence of str
        Village names as written in the boundary file.
    districts : sequence of str
        Kecamatan name (or code ``PP.KK.CC``) of each village; ``""`` where unknown. A known
        kecamatan restricts the candidates to the register entries of that kecamatan.
    register : pandas.DataFrame
        Columns ``code``, ``name``, ``district_code``, ``district`` (:func:`read_register`).
    mapping : sequence of MappingRow, optional
        User decisions (:func:`read_village_mapping`); they take precedence over any match.
    min_score : float
        Lowest fuzzy score (0-100) accepted (default 85).
    margin : float
        A fuzzy match is ambiguous when another candidate scores within this many points
        (default 5).
    level : {"village", "kecamatan"}
        What the names are (which prefixes :func:`normalise_name` drops); ``"kecamatan"``
        for a layer of kecamatan polygons matched to :func:`district_register`.

    Returns
    -------
    MatchReport
        One :class:`NameMatch` per name (and per distinct kecamatan name).

    Raises
    ------
    InputDataError
        If *names* and *districts* differ in length, or a mapping code is not in the register
        (every such row listed).
    """
    names = [str(n) for n in names]
    districts = [str(d) for d in districts]
    if len(names) != len(districts):
        msg = f"{len(names)} names but {len(districts)} kecamatan values; give one per name"
        raise InputDataError(msg)
    register = _register_frame(register)
    by_name = _mapping_lookup(mapping or (), register, level)
    dmatch = _match_districts(districts, register, min_score=min_score, margin=margin)
    everyone = _Choices.build(register["code"].tolist(), register["name"].tolist(),
                              register["district"].tolist(), level)
    in_district = {code: everyone.subset(register["district_code"].to_numpy() == code)
                   for code in {m.code for m in dmatch.values() if m.matched}}
    used: set[int] = set()
    out: list[NameMatch] = []
    for name, district in zip(names, districts, strict=True):
        dm = dmatch.get(district)
        settled = _from_mapping(by_name.get(normalise(name, level), []), name, district, dm,
                                register, level)
        if settled is not None:
            out.append(settled[0])
            used.add(settled[1].line)
            continue
        scope = in_district[dm.code] if dm is not None and dm.matched else everyone
        found = _match_one(name, district, scope, level, min_score=min_score, margin=margin)
        if dm is not None and dm.matched and not found.matched:
            found = _elsewhere(found, everyone, dm, level, min_score=min_score, margin=margin)
        elif district.strip() and (dm is None or not dm.matched):
            found = replace(found, note="; ".join(filter(None, (
                found.note, f"kecamatan '{district}' not in the register: searched all "
                "kecamatan"))))
        out.append(found)
    out = _one_name_per_entry(out)
    unused = tuple(f"line {r.line}: {r.name}" for rows in by_name.values() for r in rows
                   if r.line not in used)
    report = MatchReport(tuple(out), tuple(dmatch.values()), len(register), min_score, margin,
                         unused)
    log.info("register: %s", report.summary_line())
    return report


def _elsewhere(found: NameMatch, everyone: _Choices, dm: NameMatch, level: str, *,
               min_score: float, margin: float) -> NameMatch:
    """Say when an unmatched name matches an entry of another kecamatan (never assigned)."""
    other = _match_one(found.name, "", everyone, level, min_score=min_score, margin=margin)
    if not other.matched or other.register_district == dm.register_name:
        return found
    hint = (f"matches {other.code} {other.register_name} in kecamatan "
            f"{other.register_district}, not {dm.register_name}; if the kecamatan is wrong, "
            "settle it in the mapping file")
    return replace(found, note="; ".join(filter(None, (found.note, hint))))


def _one_name_per_entry(matches: list[NameMatch]) -> list[NameMatch]:
    """Give each register entry to its best name; the others become ambiguous."""
    by_code: dict[str, list[int]] = {}
    for i, m in enumerate(matches):
        if m.matched:
            by_code.setdefault(m.code, []).append(i)
    out = list(matches)
    for code, idx in by_code.items():
        if len(idx) < 2:
            continue
        ranked = sorted(idx, key=lambda i: (_METHOD_RANK[matches[i].status], -matches[i].score,
                                            i))
        keep = ranked[0]
        for i in ranked[1:]:
            m = matches[i]
            out[i] = replace(m, status="ambiguous", code="", register_name="",
                              register_district="",
                              candidates=(f"{code} {m.register_name} {m.score:.0f}",),
                              note=f"register entry {code} is already matched by "
                                   f"'{matches[keep].name}'")
    return out


# --------------------------------------------------------------------------- files


def _register_frame(register: pd.DataFrame) -> pd.DataFrame:
    """Register with text columns ``code, name, district_code, district, kind``."""
    out = pd.DataFrame({"code": register["code"].astype(str).str.strip(),
                        "name": register["name"].astype(str).str.strip()})
    for column in ("district_code", "district", "kind"):
        out[column] = (register[column].fillna("").astype(str).str.strip()
                       if column in register else "")
    derived = out["code"].str.extract(KEMENDAGRI_CODE)
    fill = (out["district_code"] == "") & derived[0].notna()
    out.loc[fill, "district_code"] = derived.loc[fill, 0]
    return out.reset_index(drop=True)


def read_register(path: str | Path) -> tuple[pd.DataFrame, LayerReport]:
    """Read a village register CSV (``code,name[,district_code,district,kind]``).

    Parameters
    ----------
    path : str or Path
        Register CSV (e.g. :func:`packaged_register`); ``kode``/``nama``/``kecamatan``
        headers are accepted too.

    Returns
    -------
    register : pandas.DataFrame
        Text columns ``code, name, district_code, district, kind``; ``district_code`` is
        taken from Kemendagri codes where the file has none.
    report : LayerReport
        Entries and kecamatan counted.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        Naming a missing code or name column, and listing every empty or duplicate code.
    """
    path = Path(path)
    header, _, records, _ = read_csv_table(
        path, what="register", expected="expected code,name,district_code,district")
    icode, iname = find_column(header, _CODE_COLUMNS), find_column(header, _NAME_COLUMNS)
    if icode is None or iname is None:
        msg = (f"{path}: no {'code' if icode is None else 'name'} column; columns found: "
               f"{', '.join(header)}; expected code,name,district_code,district")
        raise InputDataError(msg, problems=(msg,))

    def column(names: tuple[str, ...]) -> list[str]:
        i = find_column(header, names)
        return ["" if i is None or i >= len(f) else f[i] for _, f in records]

    frame = _register_frame(pd.DataFrame({
        "code": column(_CODE_COLUMNS), "name": column(_NAME_COLUMNS),
        "district_code": column(_DISTRICT_CODE_COLUMNS), "district": column(_DISTRICT_COLUMNS),
        "kind": column(_KIND_COLUMNS)}))
    lines = [line for line, _ in records]
    problems = [f"line {lines[i]}: empty code" for i in np.flatnonzero(frame["code"] == "")]
    problems += [f"line {lines[i]}: empty name" for i in np.flatnonzero(frame["name"] == "")]
    counts = frame.loc[frame["code"] != "", "code"].value_counts()
    problems += [f"code {code} appears {n} times; codes must be unique"
                 for code, n in counts[counts > 1].items()]
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    n_districts = frame.loc[frame["district_code"] != "", "district_code"].nunique()
    report = LayerReport(layer="register", source=str(path), crs="",
                         extent=(math.nan,) * 4, count=len(frame),  # type: ignore[arg-type]
                         notes=(f"{len(frame)} register entries in {n_districts} kecamatan",))
    return frame, report


def read_village_mapping(path: str | Path) -> tuple[MappingRow, ...]:
    """Read a mapping file settling names: ``name[,district],code`` per line.

    ``code`` is a register code, or ``-`` for a name that has no register entry. Rows with an
    empty code (a template not filled in yet) are skipped. Further columns are ignored, so the
    template :func:`write_mapping_todo` writes can be filled in and used as is.

    Raises
    ------
    InputFileError
        If the file is missing or unreadable.
    InputDataError
        If the name or code column is missing, or a name (in one kecamatan) is given two
        different codes (every such row listed).
    """
    path = Path(path)
    records, _ = read_csv_records(path, what="village mapping")
    header = [h.lower() for h in records[0][1]] if records else []
    iname, icode = find_column(header, _NAME_COLUMNS), find_column(header, _CODE_COLUMNS)
    if iname is None or icode is None:
        msg = (f"{path}: expected the columns name,code (district optional); columns found: "
               f"{', '.join(header) or 'none'}")
        raise InputDataError(msg, problems=(msg,))
    idistrict = find_column(header, _DISTRICT_COLUMNS)

    rows = [MappingRow(field(f, iname), field(f, idistrict), field(f, icode), line)
            for line, f in records[1:] if field(f, icode)]
    problems = [f"line {r.line}: empty name" for r in rows if not r.name]
    seen: dict[tuple[str, str], MappingRow] = {}
    for r in rows:
        key = (normalise_name(r.name), normalise_name(r.district, level="kecamatan"))
        first = seen.setdefault(key, r)
        if first.code != r.code:
            problems.append(f"line {r.line}: '{r.name}' is {r.code} here but {first.code} on "
                            f"line {first.line}")
    if problems:
        raise InputDataError(problems_message(path, problems), problems=tuple(problems))
    return tuple(rows)


def _write_csv(frame: pd.DataFrame, path: Path, numeric: tuple[str, ...] = ()) -> Path:
    """Write *frame* as UTF-8 CSV atomically, text guarded against spreadsheet formulas."""
    import csv

    def cell(column: str, value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return ""
        if column in numeric:
            return f"{float(value):g}"  # type: ignore[arg-type]
        return guard_formula(str(value))

    with atomic_output(path) as tmp, tmp.open("x", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(frame.columns)
        for row in frame.itertuples(index=False, name=None):
            writer.writerow([cell(c, v) for c, v in zip(frame.columns, row, strict=True)])
    return path


def write_match_report(report: MatchReport, path: str | Path) -> Path:
    """Write the matching report as CSV (:data:`MATCH_REPORT_COLUMNS`).

    One row per kecamatan name, then one per village name, with its status (``exact``,
    ``normalised``, ``fuzzy``, ``mapping``, ``not_in_register``, ``ambiguous``,
    ``unmatched``), score, register entry, best candidates and a note.
    """
    return _write_csv(report.to_frame(), Path(path), numeric=("score",))


def write_mapping_todo(report: MatchReport, path: str | Path) -> Path:
    """Write a mapping template (``name,district,code,candidates``) of the unsettled names.

    Fill in ``code`` (a register code, or ``-`` when the name has no entry) and name the file
    in ``[inputs] village_mapping``.
    """
    frame = pd.DataFrame([{"name": m.name, "district": m.district, "code": "",
                           "candidates": "; ".join(m.candidates)} for m in report.unsettled],
                         columns=list(MAPPING_COLUMNS))
    return _write_csv(frame, Path(path))


# --------------------------------------------------------------------------- villages


def district_register(register: pd.DataFrame) -> pd.DataFrame:
    """The register's kecamatan as a register of their own (code = kecamatan code)."""
    table = _register_frame(register)
    table = table[table["district_code"] != ""].drop_duplicates("district_code")
    return pd.DataFrame({"code": table["district_code"].to_numpy(),
                         "name": table["district"].to_numpy(), "district_code": "",
                         "district": "", "kind": "kecamatan"}).reset_index(drop=True)


def unit_level(codes: Sequence[str]) -> Literal["village", "kecamatan", "unknown"]:
    """What the polygons of a boundary file are, judged from their codes.

    Examples
    --------
    >>> unit_level(["64.01.08.2008", "64.01.04.1001"])
    'village'
    >>> unit_level(["64.01.01", "64.01.02"])
    'kecamatan'
    >>> unit_level(["V0001"])
    'unknown'
    """
    codes = [str(c) for c in codes]
    if codes and all(KEMENDAGRI_CODE.match(c) for c in codes):
        return "village"
    if codes and all(_KECAMATAN_CODE.match(c) for c in codes):
        return "kecamatan"
    return "unknown"


def match_villages(villages: pd.DataFrame, register_path: str | Path, *,
                   mapping_path: str | Path | None = None,
                   min_score: float = DEFAULT_MIN_SCORE) -> tuple[MatchReport, LayerReport]:
    """Match the villages of a boundary layer to a register file.

    When the layer holds kecamatan polygons (:func:`unit_level`), their names are matched to
    the register's kecamatan instead.

    Parameters
    ----------
    villages : pandas.DataFrame
        Columns ``name`` and ``district`` (:func:`~towerplan.io.villages.read_villages`).
    register_path : str or Path
        Register CSV (:func:`read_register`).
    mapping_path : str or Path, optional
        Mapping file (:func:`read_village_mapping`).
    min_score : float
        Lowest fuzzy score accepted (default 85).

    Returns
    -------
    report : MatchReport
        The matching report.
    layer : LayerReport
        Counts as notes; ambiguous and unmatched names as problems (settle them with a
        mapping file).
    """
    register, reg_report = read_register(register_path)
    mapping = read_village_mapping(mapping_path) if mapping_path else ()
    names = villages["name"].astype(str).tolist()
    kecamatan = unit_level(villages["code"].astype(str).tolist()) == "kecamatan"
    if kecamatan:
        report = match_register(names, [""] * len(names), district_register(register),
                                mapping=mapping, min_score=min_score, level="kecamatan")
    else:
        report = match_register(names, villages["district"].astype(str).tolist(), register,
                                mapping=mapping, min_score=min_score)
    notes = [*reg_report.notes, report.summary_line()]
    if kecamatan:
        notes.append("the layer holds kecamatan polygons: names matched to the register's "
                     "kecamatan")
    if mapping_path:
        notes.append(f"{len(mapping)} mapping rows from {mapping_path}")
    notes += [f"mapping {u} matched no name" for u in report.unused_mapping]
    problems = [f"'{m.name}'{f' ({m.district})' if m.district else ''}: {m.status}"
                f"{': ' + m.note if m.note else ''}"
                f"{'; candidates ' + ', '.join(m.candidates) if m.candidates else ''}"
                for m in report.unsettled]
    layer = LayerReport(layer="register", source=str(register_path), crs="",
                        extent=(math.nan,) * 4, count=report.counts()["matched"],  # type: ignore[arg-type]
                        problems=tuple(problems), notes=tuple(notes))
    return report, layer


def apply_register(villages: pd.DataFrame, report: MatchReport, register: pd.DataFrame
                   ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Complete villages from their register entries.

    Generated codes (``V0001``...) of matched villages become register codes, with district
    code, kecamatan and kind; empty kecamatan names are filled. A file code that differs from
    the matched entry's code is a problem (the file's code is kept).

    Returns
    -------
    villages : pandas.DataFrame
        A copy with the completed columns.
    notes, problems : list of str
        What was filled in; codes that disagree with the register.
    """
    out = villages.copy()
    reg = _register_frame(register).set_index("code")
    codes = out["code"].astype(str).to_numpy()
    generated = bool(len(codes)) and all(_GENERATED_CODE.match(c) for c in codes)
    notes: list[str] = []
    problems: list[str] = []
    filled = 0
    for i, m in enumerate(report.villages):
        if not m.matched or m.code not in reg.index:
            continue
        entry = reg.loc[m.code]
        row = out.index[i]
        if generated:
            out.at[row, "code"] = m.code
            for column in ("district_code", "district", "kind"):
                if column in out and entry[column]:
                    out.at[row, column] = entry[column]
        elif codes[i] != m.code:
            problems.append(f"village '{m.name}': code {codes[i]} in the file but the register "
                            f"entry of this name is {m.code} ({m.register_name}, "
                            f"{m.register_district}); check the file or settle it in the "
                            "mapping file")
        if "district" in out and not str(out.at[row, "district"]) and entry["district"]:
            out.at[row, "district"] = entry["district"]
            filled += 1
    if generated:
        notes.append(f"codes of {sum(m.matched for m in report.villages)} villages taken from "
                     "the register")
    if filled:
        notes.append(f"kecamatan of {filled} villages taken from the register")
    return out, notes, problems
