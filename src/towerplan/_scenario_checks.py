"""Validation helpers of the scenario groups in :mod:`towerplan.scenario`.

Every group checks itself when it is constructed, also through :func:`dataclasses.replace`:
first the type of each field (from its annotation), then the group's value rules. The
problems of one object are raised together as one :class:`~towerplan.errors.ScenarioError`,
or, inside :func:`collecting`, recorded so that a whole scenario file is reported at once.

This module knows the groups only by their fields; it does not import the scenario.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ClassVar, Literal

from towerplan.errors import ScenarioError

__all__ = ["Check", "Group", "collecting", "join"]

_SINK: ContextVar[list[str] | None] = ContextVar("towerplan_scenario_problems", default=None)

# Field kinds, derived once per class from its annotations.
(_FLOAT, _INT, _BOOL, _STR, _STRS, _CHOICE, _GROUP, _ANY, _FLOATS, _GROUPS, _OPT_FLOAT,
 _INTS) = range(12)
_Spec = tuple[tuple[str, int, Any], ...]
_SPECS: dict[type, _Spec] = {}


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Record the problems of every group constructed in the block instead of raising.

    Yields the list the problems are appended to, in the order the groups are constructed.
    """
    problems: list[str] = []
    token = _SINK.set(problems)
    try:
        yield problems
    finally:
        _SINK.reset(token)


def join(problems: list[str]) -> str:
    """Return one message listing every problem."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems: " + "; ".join(problems)


def _kind(hint: Any) -> tuple[int, Any]:
    if hint is float:
        return _FLOAT, None
    if hint is int:
        return _INT, None
    if hint is bool:
        return _BOOL, None
    if hint is str:
        return _STR, None
    if set(typing.get_args(hint)) == {float, type(None)}:
        return _OPT_FLOAT, None
    if typing.get_origin(hint) is Literal:
        return _CHOICE, typing.get_args(hint)
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return _GROUPS, item
        if item is int:
            return _INTS, None
        return (_FLOATS, None) if item is float else (_STRS, None)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _GROUP, hint
    return _ANY, None  # pragma: no cover - every field has one of the kinds above


def _spec(cls: type) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        hints = typing.get_type_hints(cls)
        spec = tuple((f.name, *_kind(hints[f.name])) for f in dataclasses.fields(cls))
        _SPECS[cls] = spec
    return spec


class Group:
    """Base of the scenario's parameter groups: each one validates itself when constructed.

    A group checks the type of each of its fields, its own value rules (``_rules``), then
    that every number is finite (unless in ``_infinite_ok``) and within its ``_ranges``, in
    ``__post_init__``, so :func:`dataclasses.replace` validates too. ``_section`` is the
    group's dotted path in a scenario file, used in every message.

    Raises
    ------
    ScenarioError
        Listing every problem of the group at once.
    """

    __slots__ = ()
    _section: ClassVar[str]
    #: Physical range ``(low, high)`` of numeric fields, inclusive (docs/scenario.md lists
    #: them); a list of numbers has the range of each item.
    _ranges: ClassVar[dict[str, tuple[float, float]]] = {}
    #: Number fields that may be ``inf`` (every other number must be finite).
    _infinite_ok: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        check = Check(self, self._section)
        self._rules(check)
        check.done()

    def _rules(self, c: Check) -> None:
        """Add the problems of the group's values; fields of the wrong type are skipped."""


class Check:
    """The problems of one scenario group.

    Construction checks the type of every field and normalises what is unambiguous: an
    integer or numpy number in a float field becomes a float, a numpy integer in an integer
    field an int, a string or list in a list-of-strings field a tuple. The value rules then
    skip fields whose type is wrong, so each field is reported once. :meth:`done` raises
    :class:`~towerplan.errors.ScenarioError` listing every problem, or records them inside
    :func:`collecting`.

    Parameters
    ----------
    obj : dataclass instance
        The group being constructed (frozen; normalised values are set on it).
    section : str
        Its dotted path in a scenario file, e.g. ``"costs.backhaul"``; empty for the
        scenario itself.
    """

    __slots__ = ("_bad", "_named", "_obj", "_prefix", "problems")

    def __init__(self, obj: object, section: str) -> None:
        self._obj = obj
        self._prefix = f"{section}." if section else ""
        self.problems: list[str] = []
        self._bad: set[str] = set()
        self._named: set[str] = set()
        for name, kind, arg in _spec(type(obj)):
            value = getattr(obj, name)
            problem = _type_problem(obj, name, kind, arg, value)
            if problem:
                self._bad.add(name)
                self.problems.append(f"'{self._prefix}{name}' {problem}")

    def ok(self, *names: str) -> bool:
        """Return True when every field in *names* has the right type."""
        return self._bad.isdisjoint(names)

    def add(self, problem: str, *fields: str) -> None:
        """Add a problem; *fields* are the fields it names where the message does not quote
        them (they are then not reported again as out of range)."""
        self.problems.append(problem)
        self._named.update(fields)

    def positive(self, *names: str) -> None:
        """Require finite numbers greater than zero."""
        for name in names:
            value = getattr(self._obj, name)
            if name not in self._bad and not (value > 0 and math.isfinite(value)):
                self.problems.append(f"'{self._prefix}{name}' must be positive, got {value:g}")

    def non_negative(self, *names: str) -> None:
        """Require finite numbers of zero or more."""
        for name in names:
            value = getattr(self._obj, name)
            if name not in self._bad and not (value >= 0 and math.isfinite(value)):
                self.problems.append(
                    f"'{self._prefix}{name}' must be zero or positive, got {value:g}")

    def finite(self, *names: str) -> None:
        """Require finite numbers."""
        for name in names:
            value = getattr(self._obj, name)
            if name not in self._bad and not math.isfinite(value):
                self.problems.append(
                    f"'{self._prefix}{name}' must be a finite number, got {value:g}")

    def done(self) -> None:
        """Check finiteness and ranges, then raise every problem found, or record them
        inside :func:`collecting`.

        Raises
        ------
        ScenarioError
            Listing every problem of the group, when there is one and no collection is on.
        """
        self._check_values()
        if not self.problems:
            return
        sink = _SINK.get()
        if sink is None:
            raise ScenarioError(join(self.problems))
        sink.extend(self.problems)


    def _check_values(self) -> None:
        """Every number finite and within its range; a field a rule already named is skipped,
        so each field is reported once."""
        obj = self._obj
        ranges: dict[str, tuple[float, float]] = getattr(obj, "_ranges", {})
        infinite_ok: tuple[str, ...] = getattr(obj, "_infinite_ok", ())
        for name, kind, _ in _spec(type(obj)):
            if kind not in _NUMBERS or name in self._bad or name in self._named:
                continue
            where = f"'{self._prefix}{name}'"
            if any(where in p for p in self.problems):
                continue
            value = getattr(obj, name)
            values = value if kind in (_FLOATS, _INTS) else () if value is None else (value,)
            bad = [v for v in values if math.isnan(v)
                   or (math.isinf(v) and name not in infinite_ok)]
            if bad:
                self.problems.append(f"{where} must be a finite number, got {_shown(value)}")
                continue
            low, high = ranges.get(name, (-math.inf, math.inf))
            if not all(low <= v <= high for v in values):
                self.problems.append(f"{where} must be within {_number(low)}..{_number(high)}"
                                     f"{_unit(name)}, got {_shown(value)}")


_NUMBERS = frozenset({_FLOAT, _INT, _OPT_FLOAT, _FLOATS, _INTS})
_UNITS = (("_dbm", " dBm"), ("_dbi", " dBi"), ("_db", " dB"), ("_db_per_decade", " dB"),
          ("_mhz", " MHz"), ("_ghz", " GHz"), ("_km", " km"), ("_m", " m"), ("_m2", " m²"),
          ("_deg", "°"), ("_idr", " rupiah"), ("_idr_per_km", " rupiah per km"),
          ("_idr_per_year", " rupiah per year"), ("_mm_h", " mm/h"), ("_s", " s"),
          ("_w", " W"), ("_years", " years"))


def _unit(name: str) -> str:
    """The unit of a field, from the suffix of its name (longest match); empty for none."""
    found = [(len(suffix), unit) for suffix, unit in _UNITS if name.endswith(suffix)]
    return max(found)[1] if found else ""


def _number(value: float) -> str:
    """A range bound as the docs write it: ``10,000``, ``1e+13``, ``0.5``."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e12:
        return f"{int(value):,}"
    return f"{value:g}"


def _shown(value: Any) -> str:
    if isinstance(value, tuple):
        return f"[{', '.join(_shown(v) for v in value)}]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _type_problem(obj: object, name: str, kind: int, arg: Any, value: Any) -> str:
    """Return what is wrong with the type of *value*, normalising it on *obj* where safe."""
    if kind == _FLOAT:
        if type(value) is float:
            return ""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"must be a number, got {value!r}"
        object.__setattr__(obj, name, float(value))
    elif kind == _INT:
        if type(value) is int:
            return ""
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            return f"must be an integer, got {value!r}"
        object.__setattr__(obj, name, int(value))
    elif kind == _OPT_FLOAT:
        if value is None or type(value) is float:
            return ""
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"must be a number, got {value!r}"
        object.__setattr__(obj, name, float(value))
    elif kind == _BOOL:
        if not isinstance(value, bool):
            return f"must be true or false, got {value!r}"
    elif kind == _STR:
        if not isinstance(value, str):
            return f"must be a string, got {value!r}"
    elif kind == _STRS:
        if type(value) is tuple and all(type(v) is str for v in value):
            return ""
        items = (value,) if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            return f"must be a string or a list of strings, got {value!r}"
        object.__setattr__(obj, name, tuple(items))
    elif kind in (_FLOATS, _INTS):
        number, what = (float, "numbers") if kind == _FLOATS else (int, "integers")
        if type(value) is tuple and all(type(v) is number for v in value):
            return ""
        base = numbers.Real if kind == _FLOATS else numbers.Integral
        if not isinstance(value, list | tuple) or not all(
                isinstance(v, base) and not isinstance(v, bool) for v in value):
            return f"must be a list of {what}, got {value!r}"
        object.__setattr__(obj, name, tuple(number(v) for v in value))
    elif kind == _CHOICE:
        if value not in arg:
            return f"must be one of {', '.join(map(repr, arg))}, got {value!r}"
    elif kind == _GROUP and not isinstance(value, arg):
        return f"must be a {arg.__name__}, got {value!r}"
    elif kind == _GROUPS:
        return _groups_problem(obj, name, arg, value)
    return ""


def _groups_problem(obj: object, name: str, cls: Any, value: Any) -> str:
    """Normalise a list of *cls* given as instances, tables or (first field) strings.

    A string stands for a table giving only the first field of *cls* (e.g. a path); a table
    is built into *cls*, which validates its own values.
    """
    if type(value) is tuple and all(isinstance(v, cls) for v in value):
        return ""
    items = (value,) if isinstance(value, str | dict) else value
    first = dataclasses.fields(cls)[0].name
    names = [f.name for f in dataclasses.fields(cls)]
    expected = f"must be a list of strings or of tables with keys {', '.join(names)}"
    if not isinstance(items, list | tuple):
        return f"{expected}, got {value!r}"
    built = []
    for item in items:
        if isinstance(item, cls):
            built.append(item)
        elif isinstance(item, str):
            built.append(cls(**{first: item}))
        elif isinstance(item, dict):
            made = _from_table(cls, item)
            if isinstance(made, str):
                return f"{expected}, got {made}"
            built.append(made)
        else:
            return f"{expected}, got {item!r}"
    object.__setattr__(obj, name, tuple(built))
    return ""


def _from_table(cls: Any, table: dict[str, Any]) -> Any:
    """Build *cls* from a table whose sub-tables are its group fields; a str on unknown keys."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [k for k in table if k not in names]
    if unknown:
        return f"unknown key(s) {', '.join(map(repr, unknown))}"
    kwargs = dict(table)
    for name, kind, arg in _spec(cls):
        if kind == _GROUP and isinstance(kwargs.get(name), dict):
            made = _from_table(arg, kwargs[name])
            if isinstance(made, str):
                return f"{made} in '{name}'"
            kwargs[name] = made
    return cls(**kwargs)
