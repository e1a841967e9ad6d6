"""Documentation stays in step with the code."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from towerplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[2]


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## `\[([a-z_.]+)\]`$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_scenario_reference_names_every_key() -> None:
    sections = _sections((ROOT / "docs" / "scenario.md").read_text(encoding="utf-8"))
    missing = []

    def walk(cls: type, prefix: str) -> None:
        for f in dataclasses.fields(cls):
            if f.name == "base_dir":
                continue
            default = getattr(cls(), f.name)
            if dataclasses.is_dataclass(default):
                walk(type(default), f"{prefix}{f.name}" if not prefix else f"{prefix}.{f.name}")
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
