"""Stage ``load``: the vector inputs (villages matched to the register, existing towers,
settlements, siting inputs, points of presence) in the working CRS."""

from __future__ import annotations

from typing import Any

from towerplan.inputs import VectorInputs, load_vectors, resolve_paths
from towerplan.pipeline.graph import Stage, StageContext, file_fingerprint
from towerplan.scenario import Scenario

__all__ = ["STAGE"]


def _load(ctx: StageContext) -> VectorInputs:
    return load_vectors(ctx.scenario)


def _files(scenario: Scenario) -> list[Any]:
    paths = resolve_paths(scenario)  # reports name files relative to the scenario's folder
    return [*file_fingerprint(paths.vector_files()), str(paths.base_dir)]


STAGE = Stage(
    name="load", run=_load, label="inputs",
    reads=("inputs", "demo", "candidates.user_csv", "candidates.exclude_areas",
           "candidates.exclusions",
           "costs.overrides", "audit.sites", "radio.existing_height_m", "radio.tower_height_m",
           "radio.max_radius_km", "scenario.year"),
    fingerprint=_files)
