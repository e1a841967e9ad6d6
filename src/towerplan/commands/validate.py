"""``towerplan validate``: load every input and report every problem at once."""

from __future__ import annotations

from towerplan.inputs import ValidationReport, validate_inputs
from towerplan.pipeline.plan import ensure_demo_survey
from towerplan.scenario import Scenario

__all__ = ["validate"]


def validate(scenario: Scenario) -> ValidationReport:
    """Check every input of *scenario*: one report per layer (CRS, extent, count, repairs,
    notes, problems); ``report.raise_for_problems()`` raises when anything is wrong."""
    ensure_demo_survey(scenario)
    return validate_inputs(scenario)
