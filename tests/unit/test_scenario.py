"""Scenario schema: defaults, TOML loading, collected validation problems."""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan.errors import InputFileError, ScenarioError
from towerplan.scenario import BackhaulCosts, Budget, Radio, Scenario, VsatCosts, load_scenario

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
    shared_villages = ROOT.parent / "shared/data/paser_villages.geojson"
    assert s.resolve(s.inputs.villages) == shared_villages.resolve()
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


def _group(path: str) -> Any:
    return functools.reduce(getattr, path.split("."), Scenario())


@pytest.mark.parametrize(("path", "name", "value", "message"), [
    ("radio", "freq_mhz", -900.0, "'radio.freq_mhz' must be positive, got -900"),
    ("radio.calibration", "offset_db", math.inf,
     "'radio.calibration.offset_db' must be a finite number, got inf"),
    ("budget", "total_idr", -5, "'budget.total_idr' must be positive, got -5"),
    ("costs", "tower_idr", 0.0, "'costs.tower_idr' must be positive, got 0"),
    ("costs.backhaul", "relay_idr", -1.0,
     "'costs.backhaul.relay_idr' must be zero or positive, got -1"),
    ("costs.vsat", "years", -1, "'costs.vsat.years' must be 0 or more, got -1"),
    ("coverage", "blank_below", 0.95, "'coverage.blank_below' and 'coverage.covered_at_least'"),
    ("candidates", "grid_spacing_m", math.nan,
     "'candidates.grid_spacing_m' must be positive, got nan"),
    ("selection", "time_limit_s", math.nan, "'selection.time_limit_s' must be positive, got nan"),
    ("backhaul", "band_ghz", 80.0, "'backhaul.band_ghz' must be within 1-50 GHz, got 80"),
    ("backhaul", "availability", math.nan, "'backhaul.availability' must be within 99-99.999"),
    ("terrain", "resolution_m", 0, "'terrain.resolution_m' must be positive, got 0"),
    ("demo", "resolution_m", 60.0, "'demo.resolution_m' must be 30 or 90, got 60"),
    ("sources", "dem_url", "ftp://x", "'sources.dem_url' must be an http:// or https:// URL"),
    ("inputs", "dem", 5, "'inputs.dem' must be a string or a list of strings, got 5"),
    ("inputs.village_columns", "name", None, "'inputs.village_columns.name' must be a string"),
    ("audit", "villages", [1], "'audit.villages' must be a string or a list of strings"),
    ("scenario", "title", 3, "'scenario.title' must be a string, got 3"),
])
def test_replace_refuses_an_invalid_value_with_its_dotted_key(path: str, name: str,
                                                              value: object,
                                                              message: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(message)) as exc:
        dataclasses.replace(_group(path), **{name: value})
    assert "problems" not in str(exc.value)


@pytest.mark.parametrize(("path", "name", "value"), [
    ("selection", "method", "cplex"), ("backhaul", "model", "ring"),
    ("backhaul", "polarisation", "circular"), ("outputs", "lang", "fr"),
    ("terrain", "resampling", "lanczos"),
])
def test_literal_fields_refuse_unknown_values(path: str, name: str, value: str) -> None:
    with pytest.raises(ScenarioError, match=f"'{path}.{name}' must be one of .*got '{value}'"):
        dataclasses.replace(_group(path), **{name: value})


def test_nested_replace_raises_at_the_inner_replace() -> None:
    s = Scenario()
    inner_done = False

    def radio() -> Radio:
        nonlocal inner_done
        r = dataclasses.replace(s.radio, model="nonsense")
        inner_done = True
        return r

    with pytest.raises(ScenarioError, match="'radio.model': model chain 'nonsense'"):
        dataclasses.replace(s, radio=radio())
    assert not inner_done


def test_groups_report_their_path_also_when_built_alone() -> None:
    with pytest.raises(ScenarioError, match=re.escape(
            "2 problems: 'costs.backhaul.fibre_max_km' must be a number, got 'x'; "
            "'costs.backhaul.relay_idr' must be zero or positive, got nan")):
        BackhaulCosts(relay_idr=math.nan, fibre_max_km="x")
    with pytest.raises(ScenarioError, match="'budget' must be a Budget, got 5"):
        dataclasses.replace(Scenario(), budget=5)


def test_every_group_knows_its_path_in_a_file() -> None:
    def walk(obj: object, path: str) -> Iterator[tuple[object, str]]:
        yield obj, path
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                yield from walk(value, f"{path}.{f.name}".lstrip("."))

    groups = list(walk(Scenario(), ""))
    assert len(groups) == 24  # with [programme], [selection.weights] and [compute]
    for group, path in groups:
        assert type(group)._section == path


def test_rules_across_groups_apply_to_replace() -> None:
    s = Scenario()
    with pytest.raises(ScenarioError, match="below the cost of one tower"):
        dataclasses.replace(s, budget=Budget(total_idr=1e9))
    with pytest.raises(ScenarioError, match="'inputs.village_mapping' settles register"):
        dataclasses.replace(s, inputs=dataclasses.replace(s.inputs, village_mapping="m.csv"))
    with pytest.raises(ScenarioError, match="2 problems: 'inputs.villages' is required; "
                                            "'inputs.dem' is required"):
        dataclasses.replace(s, inputs=dataclasses.replace(s.inputs, villages="", dem=()))
    cheap = dataclasses.replace(s, costs=dataclasses.replace(s.costs, tower_idr=1e8))
    assert dataclasses.replace(cheap, budget=Budget(total_idr=1e9)).budget.total_idr == 1e9


def test_valid_replace_equals_the_same_values_loaded() -> None:
    s = Scenario()
    replaced = dataclasses.replace(
        s, budget=Budget(total_idr=17_000_000_000),
        costs=dataclasses.replace(s.costs, backhaul=dataclasses.replace(
            s.costs.backhaul, relay_idr=0), vsat=VsatCosts(years=np.int64(3))),
        candidates=dataclasses.replace(s.candidates, exclude_areas=["a.gpkg"]),
        inputs=dataclasses.replace(s.inputs, dem="d.tif"),
        selection=dataclasses.replace(s.selection, method="greedy",
                                      min_share_blank_village=np.float64(0.5)))
    loaded = Scenario.from_dict({
        "budget": {"total_idr": 17_000_000_000},
        "costs": {"backhaul": {"relay_idr": 0}, "vsat": {"years": 3}},
        "candidates": {"exclude_areas": ["a.gpkg"]}, "inputs": {"dem": "d.tif"},
        "selection": {"method": "greedy", "min_share_blank_village": 0.5}})
    assert replaced == loaded
    assert replaced.content_hash() == loaded.content_hash()
    assert type(replaced.budget.total_idr) is float and type(replaced.costs.vsat.years) is int
    assert type(replaced.selection.min_share_blank_village) is float
    assert replaced.candidates.exclude_areas == ("a.gpkg",) and replaced.inputs.dem == ("d.tif",)


def test_a_file_reports_the_problems_of_every_group_at_once(tmp_path: Path) -> None:
    p = _write(tmp_path, '[radio]\nmodel = "nonsense"\nfreq_mhz = true\n'
                         '[costs]\ntower_idr = -1\n[costs.backhaul]\nrelay_idr = -1\n'
                         '[costs.vsat]\nyears = 1.5\n[selection]\nmethod = "cplex"\n'
                         "[backhaul]\navailability = nan\n[coverage]\nblank_below = 0.95\n"
                         '[inputs]\nvillage_mapping = "m.csv"\n[terrain]\nresolutoin_m = 30\n')
    with pytest.raises(ScenarioError) as exc:
        Scenario.from_toml(p)
    msg = str(exc.value)
    expected = [
        "unknown key 'terrain.resolutoin_m' (did you mean 'terrain.resolution_m'?)",
        "'radio.freq_mhz' must be a number, got True",
        "'radio.model': model chain 'nonsense'",
        "'costs.tower_idr' must be positive, got -1",
        "'costs.backhaul.relay_idr' must be zero or positive, got -1",
        "'costs.vsat.years' must be an integer, got 1.5",
        "'selection.method' must be one of 'greedy', 'milp', 'milp-by-kabupaten', got 'cplex'",
        "'backhaul.availability' must be within 99-99.999 %, got nan",
        "'coverage.blank_below' and 'coverage.covered_at_least' must satisfy",
        "'inputs.village_mapping' settles register matches",
    ]
    assert msg.startswith(f"{p}: {len(expected)} problems: ")
    for text in expected:
        assert msg.count(text) == 1, text


def test_loading_a_bad_file_leaves_replace_raising(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        Scenario.from_toml(_write(tmp_path, "[budget]\ntotal_idr = -1\n"))
    with pytest.raises(ScenarioError, match="'budget.total_idr' must be positive"):
        Budget(total_idr=-1)


def test_margins_uplink_and_antenna_from_toml(tmp_path: Path) -> None:
    s = Scenario.from_toml(_write(tmp_path, """
[radio]
location_probability = 0.9
shadow_sigma_db = 7
body_loss_db = 3
indoor_building = "traditional"
ue_tx_power_dbm = 20
bs_sensitivity_dbm = -103

[radio.antenna]
azimuths_deg = [0, 120, 240]
beamwidth_deg = 65
tilt_deg = 2
"""))
    r = s.radio
    assert (r.location_probability, r.shadow_sigma_db, r.body_loss_db) == (0.9, 7.0, 3.0)
    assert r.indoor_building == "traditional"
    assert (r.ue_tx_power_dbm, r.bs_sensitivity_dbm) == (20.0, -103.0)
    assert r.antenna.azimuths_deg == (0.0, 120.0, 240.0)
    assert r.antenna.tilt_deg == 2.0
    assert Scenario.default().radio.antenna.azimuths_deg == ()


def test_margin_and_antenna_problems_reported_together(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as err:
        Scenario.from_toml(_write(tmp_path, """
[radio]
location_probability = 1.0
shadow_sigma_db = -1
indoor_loss_db = 10
indoor_building = "traditional"

[radio.antenna]
azimuths_deg = ["north"]
beamwidth_deg = 0
"""))
    text = str(err.value)
    for part in ("'radio.location_probability' must be between 0 and 1",
                 "'radio.shadow_sigma_db' must be zero or positive",
                 "give either 'radio.indoor_loss_db' or 'radio.indoor_building'",
                 "'radio.antenna.azimuths_deg' must be a list of numbers",
                 "'radio.antenna.beamwidth_deg' must be positive"):
        assert part in text


def test_signal_reports_accept_paths_and_tables() -> None:
    sc = Scenario.from_dict({"inputs": {"signal_reports": [
        "a.csv", {"path": "b.xlsx", "unlisted": "signal"}]}, "coverage": {"target": "signal"}})
    files = sc.inputs.signal_reports
    assert [(f.path, f.unlisted) for f in files] == [("a.csv", "unknown"),
                                                     ("b.xlsx", "signal")]
    assert sc.coverage.target == "signal"
    assert Scenario().coverage.target == "4g"
    assert Scenario.from_dict({"inputs": {"signal_reports": "a.csv"}}).inputs.signal_reports[
        0].path == "a.csv"


def test_signal_report_problems_are_listed_together() -> None:
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict({"inputs": {"signal_reports": [
            {"path": "a.csv", "unlisted": "sinyal"}, {"paht": "b.csv"}]},
            "coverage": {"target": "5g"}})
    text = str(err.value)
    assert "'inputs.signal_reports.unlisted' must be one of" in text
    assert "unknown key(s) 'paht'" in text
    assert "'coverage.target' must be one of '4g', 'signal'" in text


def test_selection_objective_and_weights() -> None:
    assert Scenario().selection.terms == {"people": 1.0}
    s = Scenario.from_dict({"selection": {"objective": "blank_villages"}})
    assert s.selection.terms == {"blank_villages": 1.0}
    mixed = Scenario.from_dict({"selection": {"weights": {"people": 1, "blank_villages": 5000}}})
    assert mixed.selection.terms == {"people": 1.0, "blank_villages": 5000.0}
    same = Scenario.from_dict({"selection": {"objective": "facilities",
                                             "weights": {"facilities": 2.0}}})
    assert same.selection.terms == {"facilities": 2.0}
    with pytest.raises(ScenarioError, match="'selection.objective' = 'blank_people' disagrees "
                                            r"with \[selection.weights\] \(people = 1, "
                                            "blank_villages = 5000\\)"):
        Scenario.from_dict({"selection": {"objective": "blank_people",
                                          "weights": {"people": 1, "blank_villages": 5000}}})
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict({"selection": {"objective": "villages",
                                          "weights": {"people": -1, "lifted": 1}}})
    text = str(err.value)
    assert "'selection.objective'" in text and "'selection.weights.people' must be zero" in text
    assert "unknown key 'selection.weights.lifted'" in text


def test_shown_path_names_inputs_without_the_users_folders(tmp_path):
    from towerplan.scenario import shown_path

    assert shown_path("/work/shared/data/v.geojson", "/work/repo/scenarios") == \
        "../../shared/data/v.geojson"
    assert shown_path(tmp_path / "data" / "dem.tif", tmp_path) == "data/dem.tif"
    assert shown_path("/root/.cache/towerplan/demo/dem.tif", "/work/scenarios") == "dem.tif"
    assert shown_path("/data/x.csv", "/") == "x.csv"  # nothing in common below the root
    scenario = Scenario.from_dict({}, base_dir=tmp_path / "s")
    assert scenario.shown_path(tmp_path / "in" / "towers.csv") == "../in/towers.csv"
