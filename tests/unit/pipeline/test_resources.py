"""``$TOWERPLAN_MEMORY_BYTES``: the memory a run plans for, or one clear error."""

from __future__ import annotations

import pytest

from towerplan.errors import ScenarioError
from towerplan.pipeline.resources import available_memory_bytes


@pytest.mark.parametrize(("value", "expected"), [("8e9", 8_000_000_000), ("1024", 1024)])
def test_memory_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str,
                                     expected: int) -> None:
    monkeypatch.setenv("TOWERPLAN_MEMORY_BYTES", value)
    assert available_memory_bytes() == expected


@pytest.mark.parametrize("value", ["lots", "inf", "nan", "-5", "0"])
def test_an_unusable_memory_value_is_one_clear_error(monkeypatch: pytest.MonkeyPatch,
                                                     value: str) -> None:
    monkeypatch.setenv("TOWERPLAN_MEMORY_BYTES", value)
    with pytest.raises(ScenarioError, match=r"TOWERPLAN_MEMORY_BYTES='.*' is not a number of "
                                            r"bytes: give the memory to plan for"):
        available_memory_bytes()
