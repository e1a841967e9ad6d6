"""Fixtures of the output writer tests: a tiny, complete plan built from scratch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from towerplan.results import PlanResult

from .factories import make_plan_result


@pytest.fixture
def make_result() -> Callable[..., PlanResult]:
    """Return the factory ``make_result(*, synthetic=True, n_selected=2)``."""
    return make_plan_result


@pytest.fixture
def plan_result() -> PlanResult:
    """The tiny synthetic plan: 4 villages, 2 existing towers, 5 candidates, 2 selected."""
    return make_plan_result()


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An empty output directory."""
    path = tmp_path / "out"
    path.mkdir()
    return path

