"""Scenario schema: defaults, TOML loading, collected validation problems."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from towerplan.errors import InputFileError, ScenarioError
from towerplan.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_demo_toml_states_exactly_the_defaults() -> None:
    demo = Scenario.from_toml(ROOT / "scenarios" / "demo.toml")
    assert dataclasses.replace(demo, base_dir=".") == Scenario.default()


def test_paser_scenario_budget_and_paths_relative_to_file() -> None:
    s = Scenario.from_toml(ROOT / "scenarios" / "paser-2022.toml")
    assert s.budget.total_idr == 8_500_000_000
    assert s.costs.tower_idr == 1_700_000_000
    assert s.resolve(s.inputs.villages) == (ROOT.parent / "shared/data/paser_villages.geojson")
    assert not s.uses_demo


def test_defaults_follow_design_section_4() -> None:
    r = load_scenario().radio
    assert (r.freq_mhz, r.tower_height_m, r.rx_height_m, r.threshold_rsrp_dbm) == \
        (900.0, 42.0, 1.5, -105.0)
    assert r.tx_power_dbm + r.antenna_gain_dbi - r.cable_loss_db == 61.0
    assert r.max_radius_km == 30.0


def test_unknown_key_suggests_nearest(tmp_path: Path) -> None:
    p = _write(tmp_path, "[radio]\nfreq_mz = 900\n[budgett]\ntotal_idr = 1\n")
    with pytest.raises(ScenarioError) as exc:
        Scenario.from_toml(p)
    msg = str(exc.value)
    assert "unknown key 'radio.freq_mz' (did you mean 'radio.freq_mhz'?)" in msg
    assert "unknown key 'budgett' (did you mean 'budget'?)" in msg


def test_all_value_problems_reported_together(tmp_path: Path) -> None:
    p = _write(tmp_path, '[budget]\ntotal_idr = -5\n[radio]\nfreq_mhz = "x"\n'
                         '[outputs]\nlang = "fr"\n')
    with pytest.raises(ScenarioError, match="3 problems") as exc:
        Scenario.from_toml(p)
    assert "'radio.freq_mhz' must be a number" in str(exc.value)
    assert "'outputs.lang' must be one of 'id', 'en'" in str(exc.value)


def test_negative_budget_and_budget_below_one_tower(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="'budget.total_idr' must be positive"):
        Scenario.from_toml(_write(tmp_path, "[budget]\ntotal_idr = -1\n"))
    with pytest.raises(ScenarioError, match="below the cost of one tower"):
        Scenario.from_toml(_write(tmp_path, "[budget]\ntotal_idr = 1_000_000_000\n"))


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="invalid TOML"):
        Scenario.from_toml(_write(tmp_path, "[radio\nfreq_mhz = 9"))
    with pytest.raises(InputFileError, match="scenario file not found"):
        Scenario.from_toml(tmp_path / "nope.toml")


def test_unknown_model_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="did you mean 'hata-suburban'"):
        Scenario.from_toml(_write(tmp_path, '[radio]\nmodel = "hata-suburbn"\n'))
    s = Scenario.from_toml(_write(tmp_path, '[radio]\nmodel = "rma+deygout+clutter"\n'))
    assert s.radio.model == "rma+deygout+clutter"
    with pytest.raises(ScenarioError, match="drop the diffraction term"):
        Scenario.from_toml(_write(tmp_path, '[radio]\nmodel = "itm+deygout"\n'))


def test_dem_accepts_string_or_list_and_hash_changes(tmp_path: Path) -> None:
    a = Scenario.from_toml(_write(tmp_path, '[inputs]\ndem = "a.tif"\n'))
    assert a.inputs.dem == ("a.tif",)
    b = dataclasses.replace(a, budget=dataclasses.replace(a.budget, total_idr=1.7e10))
    assert a.content_hash() != b.content_hash()
    assert a.content_hash() == dataclasses.replace(a, base_dir="/elsewhere").content_hash()


def test_own_villages_do_not_inherit_demo_inputs(tmp_path: Path) -> None:
    s = Scenario.from_toml(_write(tmp_path, '[inputs]\nvillages = "v.gpkg"\ndem = "d.tif"\n'))
    assert (s.inputs.towers, s.inputs.settlements, s.inputs.landcover) == ("", "", "")
    assert not s.uses_demo
    with pytest.raises(ScenarioError, match="'inputs.dem' is required"):
        Scenario.from_toml(_write(tmp_path, '[inputs]\nvillages = "v.gpkg"\n'))
    with pytest.raises(ScenarioError, match="cannot be combined with your own villages"):
        Scenario.from_toml(_write(tmp_path, '[inputs]\nvillages = "v.gpkg"\ndem = "d.tif"\n'
                                            'towers = "builtin:demo"\n'))
