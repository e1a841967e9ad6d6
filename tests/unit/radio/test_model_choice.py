"""``[radio] model = "auto"``: the DEM's cell picks a terrain or a distance-only chain."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from affine import Affine

from towerplan.coverage.context import dem_cell_m, radio_context
from towerplan.coverage.statement import (
    link_budget_text,
    model_chain_text,
    model_choice,
    model_choice_summary,
)
from towerplan.errors import ScenarioError
from towerplan.io.rasters import RasterGrid
from towerplan.radio.chain import choose_chain
from towerplan.scenario import Radio, Scenario


def _grid(cell_m: float) -> RasterGrid:
    return RasterGrid(np.zeros((20, 20), np.float32), Affine(cell_m, 0, 0, 0, -cell_m, 0),
                      "EPSG:32750", None)


@pytest.mark.parametrize(("cell_m", "chain", "reason"), [
    (30.0, "hata-suburban+deygout", "terrain"),
    (90.0, "hata-suburban+deygout", "terrain"),
    (100.0, "hata-suburban+deygout", "terrain"),
    (100.5, "hata-suburban", "coarse_dem"),
    (2300.0, "hata-suburban", "coarse_dem"),
    (0.0, "hata-suburban", "coarse_dem"),  # no DEM known: distance only
])
def test_auto_picks_by_the_dem_cell(cell_m: float, chain: str, reason: str) -> None:
    choice = choose_chain("auto", cell_m)
    assert (choice.chain.name, choice.reason, choice.auto) == (chain, reason, True)


def test_a_named_chain_is_kept_whatever_the_dem() -> None:
    choice = choose_chain("rma+deygout", 2300.0)
    assert (choice.chain.name, choice.reason, choice.auto) == ("rma+deygout", "named", False)


def test_the_threshold_and_the_chains_are_scenario_fields() -> None:
    radio = Radio(auto_max_cell_m=30.0, auto_terrain_model="itm",
                  auto_distance_model="hata-open")
    assert model_choice(radio, 30.0).chain.name == "itm"
    assert model_choice(radio, 90.0).chain.name == "hata-open"


@pytest.mark.parametrize(("field", "value", "message"), [
    ("auto_terrain_model", "hata-suburban", "must be a terrain chain"),
    ("auto_distance_model", "hata-suburban+deygout", "must be a distance-only chain"),
    ("auto_terrain_model", "nonsense", "unknown model term"),
    ("auto_max_cell_m", -5.0, "must be positive"),
])
def test_auto_fields_are_validated(field: str, value: object, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        dataclasses.replace(Radio(), **{field: value})


def test_default_is_auto() -> None:
    assert Radio().model == "auto"


def test_radio_context_takes_the_coarser_of_source_and_grid_cells() -> None:
    radio = Radio()
    link, terrain = radio_context(radio, _grid(90.0))
    assert link.model == "hata-suburban+deygout" and terrain is not None
    # A 2.3 km source DEM resampled onto a 90 m grid is still a 2.3 km DEM.
    assert dem_cell_m(_grid(90.0), 2300.0) == 2300.0
    link, terrain = radio_context(radio, _grid(90.0), source_cell_m=2300.0)
    assert link.model == "hata-suburban" and terrain is None


def test_outputs_state_the_chain_and_why() -> None:
    scenario = Scenario.default()
    fine = model_choice(scenario.radio, 90.0)
    text = model_chain_text(scenario, fine)
    assert text.startswith("hata-suburban+deygout:")
    assert "the DEM cell (90 m) resolves terrain" in text
    coarse = model_choice(scenario.radio, 2300.0)
    assert "cannot resolve hills and valleys" in model_chain_text(scenario, coarse)
    entry = model_choice_summary(coarse)
    assert entry["chain"] == "hata-suburban" and entry["reason"] == "coarse_dem"
    assert entry["dem_cell_m"] == 2300.0 and entry["uses_terrain"] is False
    indonesian, english = str(entry["why"]).split(" / ")
    assert "rantai jarak saja hata-suburban" in indonesian
    assert "terrain changes nothing" in english
    named = model_choice(dataclasses.replace(scenario.radio, model="itm"), 90.0)
    assert "[" not in model_chain_text(scenario, named)


def test_itm_settings_come_from_the_scenario() -> None:
    from towerplan.coverage.raster import LinkParams
    from towerplan.scenario import Itm

    radio = dataclasses.replace(Radio(), itm=Itm(n0=350.0, climate="continental_temperate"))
    link = LinkParams.from_radio(radio, "itm")
    assert (link.itm.n0, link.itm.climate, link.itm.epsilon) == (350.0, "continental_temperate",
                                                                 15.0)
    assert LinkParams.from_radio(Radio(), "itm").itm.n0 == 301.0
    with pytest.raises(ScenarioError, match="radio.itm.climate"):
        Itm(climate="tropical")
    text = model_chain_text(dataclasses.replace(Scenario.default(), radio=radio),
                            model_choice(dataclasses.replace(radio, model="itm"), 90.0))
    assert "N0 350, continental_temperate climate" in text and "earth k" not in text


def test_statements_in_indonesian_keep_the_figures() -> None:
    """The model chain and link budget in Indonesian: same model names and figures, no
    English phrase left."""
    scenario = Scenario.default()
    coarse = model_choice(scenario.radio, 2318.0)
    en, id_ = model_chain_text(scenario, coarse), model_chain_text(scenario, coarse, "id")
    assert "hanya jarak, tanpa medan" in id_ and "lebih kasar dari 100 m" in id_
    assert "distance only" not in id_ and "covered at" not in id_
    figures_en, figures_id = re.compile(r"-?\d+(?:\.\d+)?"), re.compile(r"-?\d+(?:,\d+)?")

    def same_figures(text_en: str, text_id: str) -> bool:  # Indonesian writes 1,5 for 1.5
        return figures_en.findall(text_en) == [f.replace(",", ".")
                                               for f in figures_id.findall(text_id)]

    assert same_figures(en, id_)
    budget_en, budget_id = link_budget_text(scenario), link_budget_text(scenario, "id")
    assert "probabilitas lokasi 50 %" in budget_id and "tanah datar 4,94 km" in budget_id
    assert same_figures(budget_en, budget_id)
