"""Documentation stays in step with the code."""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

from towerplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## `\[\[?([a-z_.]+)\]\]?`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _table_list_item(cls: type, name: str) -> type | None:
    """Return the group of a list-of-tables field (``tuple[Group, ...]``), else None."""
    hint = typing.get_type_hints(cls)[name]
    if typing.get_origin(hint) is tuple:
        item = typing.get_args(hint)[0]
        if isinstance(item, type) and dataclasses.is_dataclass(item):
            return item
    return None


def test_scenario_reference_names_every_key() -> None:
    sections = _sections((ROOT / "docs" / "scenario.md").read_text(encoding="utf-8"))
    missing = []

    def walk(cls: type, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            if f.name == "base_dir":
                continue
            default = (f.default if f.default is not dataclasses.MISSING
                       else f.default_factory())  # type: ignore[misc]
            path = f"{prefix}.{f.name}" if prefix else f.name
            item = _table_list_item(cls, f.name)
            if dataclasses.is_dataclass(default):
                walk(type(default), path)
            elif item is not None and f"| `{f.name}` |" not in sections.get(prefix, ""):
                walk(item, path)  # a list of tables with its own section, e.g. [[channels]]
            elif f"| `{f.name}` |" not in sections.get(prefix, ""):
                missing.append(f"{prefix}.{f.name}")

    walk(Scenario, "")
    assert missing == []


def test_readme_starts_with_the_two_setup_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    assert blocks[0].strip() == "pip install . && towerplan plan"
    assert blocks[1].strip() == 'pip install ".[test]" && python -m pytest'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1].strip() in ci


def _groups(cls: type, found: dict[str, type]) -> dict[str, type]:
    """Every scenario group class reachable from *cls*, by its section."""
    found.setdefault(cls._section, cls)  # type: ignore[attr-defined]
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        item = _table_list_item(cls, f.name)
        group = item or (hint if isinstance(hint, type) and dataclasses.is_dataclass(hint)
                         else None)
        if group is not None and group._section not in found:
            _groups(group, found)
    return found


def test_scenario_reference_states_every_range() -> None:
    from towerplan._scenario_checks import _number
    from towerplan.programme_scenario import ChannelRule

    text = (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8")
    groups = _groups(Scenario, {})
    groups[ChannelRule._section] = ChannelRule  # inside [[channels]]
    missing = [f"{section}.{name}" for section, cls in groups.items()
               for name, (low, high) in cls._ranges.items()  # type: ignore[attr-defined]
               if f"| `{section + '.' if section else ''}{name}` | {_number(low)} | "
                  f"{_number(high)} |" not in text]
    assert len(groups) > 20
    assert missing == []
