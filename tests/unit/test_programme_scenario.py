"""Programme groups of a scenario: years, budgets by channel, channels, tower types."""

from __future__ import annotations

import dataclasses
import math
import re
import tomllib
from pathlib import Path

import pytest

from towerplan.errors import ScenarioError
from towerplan.programme_scenario import (
    CHANNEL_COST_PARTS,
    DEFAULT_CHANNELS,
    EXAMPLE_TOWER_TYPES,
    Channel,
    ChannelRule,
    Programme,
    ProgrammeBudget,
    ProgrammeBuilt,
    TowerType,
)
from towerplan.scenario import Scenario

GOOD = """
[programme]
years = [2022, 2023, 2024]
carry_over = false
discount_rate = 0.08
horizon_years = 15

[[programme.budgets]]
year = 2022
channel = "apbd"
idr = 5_500_000_000

[[programme.budgets]]
year = 2023
channel = "operator"
idr = inf

[[programme.built]]
year = 2022
type = "menara-72m"
channel = "apbd"
village = "64.01.06.2012"

[[channels]]
name = "apbd"
label = "APBD Kabupaten"
label_en = "Regency budget"
pays = ["tower", "power", "access", "land"]
partner = "operator"
partner_pays = ["radio", "backhaul", "opex"]

[[channels]]
name = "operator"
[channels.rule]
min_population = 1000

[[tower_types]]
name = "menara-72m"
height_m = 72
azimuths_deg = [0, 120, 240]
tower_idr = 1_700_000_000
land_m2 = 200

[radio.antenna]
azimuths_deg = [0, 120, 240]
"""


def _load(text: str) -> Scenario:
    return Scenario.from_dict(tomllib.loads(text))


def _problems(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        _load(text)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_programme_file_is_read_into_typed_groups() -> None:
    s = _load(GOOD)
    p = s.programme
    assert p.active and p.years == (2022, 2023, 2024)
    assert (p.carry_over, p.discount_rate, p.horizon_years) == (False, 0.08, 15)
    assert p.budgets == (ProgrammeBudget(2022, "apbd", 5.5e9),
                         ProgrammeBudget(2023, "operator", math.inf))
    assert p.built == (ProgrammeBuilt(2022, "menara-72m", "apbd", village="64.01.06.2012"),)
    apbd, operator = s.all_channels
    assert apbd.payer("tower") == "apbd" and apbd.payer("radio") == "operator"
    assert operator.rule == ChannelRule(min_population=1000.0)
    assert operator.pays == CHANNEL_COST_PARTS
    (tower,) = s.all_tower_types
    assert tower.azimuths_deg == (0.0, 120.0, 240.0) and tower.capex_idr == 1.7e9


def test_default_scenario_has_no_programme_and_hashes_as_before() -> None:
    s = Scenario()
    assert not s.programme.active
    assert s.all_channels == DEFAULT_CHANNELS
    (tower,) = s.all_tower_types
    assert (tower.height_m, tower.capex_idr) == (42.0, 1.7e9)
    assert "programme" not in s.to_dict() and "channels" not in s.to_dict()
    # an active programme changes the hash; an empty one hashes like no programme at all
    with_years = Scenario.from_dict({"programme": {"years": [2024]}})
    assert with_years.content_hash() != s.content_hash()
    assert Scenario.from_dict({"programme": {}}).content_hash() == s.content_hash()


def test_a_year_twice_is_refused() -> None:
    msg = _problems("[programme]\nyears = [2022, 2023, 2022]\n")
    assert "'programme.years' gives 2022 more than once" in msg


def test_negative_budget_and_year_not_in_years_are_refused_together() -> None:
    msg = _problems("""
[programme]
years = [2022]
[[programme.budgets]]
year = 2025
channel = "apbd"
idr = -5
""")
    assert msg.startswith("2 problems: ")
    assert "'programme.budgets' apbd 2025: idr must be zero or positive, got -5" in msg
    assert "year 2025 is not one of 'programme.years' [2022]" in msg


def test_unknown_channel_and_tower_type_are_named() -> None:
    msg = _problems("""
[programme]
years = [2022, 2023]
[[programme.budgets]]
year = 2022
channel = "bakti"
idr = 1e9
[[programme.built]]
year = 2024
type = "menara-99m"
channel = "apbd"
lon = 116.0
lat = -1.5
""")
    assert "'programme.budgets' 2022: unknown channel 'bakti' (channels: apbd, " in msg
    assert "'programme.built' 2024 116, -1.5: unknown tower type 'menara-99m'" in msg
    assert "'programme.built' 116, -1.5: year 2024 is not one of" in msg


def test_tower_type_without_cost_is_refused() -> None:
    msg = _problems('[[tower_types]]\nname = "kosong"\nheight_m = 30\n')
    assert "tower type 'kosong' has no cost" in msg
    with pytest.raises(ScenarioError, match="has no cost"):
        TowerType("x", 30.0)


def test_built_entry_names_exactly_one_place() -> None:
    with pytest.raises(ScenarioError, match="exactly one of village, site or lon/lat, got 2"):
        ProgrammeBuilt(2022, "t", "apbd", village="A", site="S1")
    with pytest.raises(ScenarioError, match="give both lon and lat"):
        ProgrammeBuilt(2022, "t", "apbd", lon=116.0)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"pays": ("tower",)}, "nobody pays power, backhaul, radio, access, land, opex"),
    ({"pays": CHANNEL_COST_PARTS, "partner": "op", "partner_pays": ("radio",)},
     "radio paid by both the channel and its partner"),
    ({"pays": ("tower", "roof")}, "unknown cost part(s) roof"),
    ({"partner_pays": ("radio",), "pays": tuple(p for p in CHANNEL_COST_PARTS if p != "radio")},
     "partner_pays needs a partner channel"),
])
def test_every_cost_part_has_exactly_one_payer(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ScenarioError, match=re.escape(fragment)):
        Channel("c", **kwargs)


def test_partner_must_be_a_channel() -> None:
    msg = _problems('[[channels]]\nname = "apbd"\npays = ["tower"]\npartner = "op"\n'
                    'partner_pays = ["power", "backhaul", "radio", "access", "land", "opex"]\n')
    assert "channel 'apbd': partner 'op' is not a channel (apbd)" in msg


def test_unknown_key_in_a_channel_rule_is_reported() -> None:
    msg = _problems('[[channels]]\nname = "x"\n[channels.rule]\nmin_people = 5\n')
    assert "unknown key(s) 'min_people' in 'rule'" in msg


def test_rule_limits() -> None:
    with pytest.raises(ScenarioError, match="max_population 10 is below min_population 20"):
        ChannelRule(min_population=20, max_population=10)


def test_replace_validates_across_groups() -> None:
    s = Scenario()
    with pytest.raises(ScenarioError, match="unknown channel 'x'"):
        dataclasses.replace(s, programme=Programme(
            years=(2022,), budgets=(ProgrammeBudget(2022, "x", 1.0),)))


def test_example_tower_types_carry_their_cited_figures() -> None:
    by_name = {t.name: t for t in EXAMPLE_TOWER_TYPES}
    big = by_name["menara-72m"]
    assert (big.height_m, big.tower_idr, big.land_m2) == (72.0, 1.7e9, 200.0)
    assert by_name["menara-42m"].height_m == 42.0
    small = by_name["menara-32m-vsat"]
    assert small.opex_idr_per_year == 12 * 25_000_000  # Rp 25 million a month
    for tower in EXAMPLE_TOWER_TYPES:
        parts = tower.cost_parts_idr()
        assert list(parts) == list(CHANNEL_COST_PARTS)
        assert tower.capex_idr == pytest.approx(sum(parts.values()) - parts["opex"])
        assert tower.source


def test_a_bad_tower_height_is_reported_once() -> None:
    msg = _problems("[radio]\ntower_height_m = \"high\"\n")
    assert msg == "'radio.tower_height_m' must be a number, got 'high'"


def test_the_documented_example_is_a_valid_scenario() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "scenario.md").read_text("utf-8")
    example = text.split("## `[programme]`")[1].split("```toml\n")[1].split("```")[0]
    s = _load(example)
    assert s.programme.years == (2022, 2023, 2024)
    (tower,) = s.all_tower_types
    assert tower == dataclasses.replace(EXAMPLE_TOWER_TYPES[0], source=tower.source)


def test_budgets_without_years_and_half_a_position() -> None:
    msg = _problems('[[programme.budgets]]\nyear = 2022\nchannel = "apbd"\nidr = 1\n'
                    '[[programme.built]]\nyear = 2022\ntype = "menara-42m"\nchannel = "apbd"\n'
                    "lat = -1.5\n")
    assert "give both lon and lat" in msg
    assert msg.endswith("'programme.budgets' and 'programme.built' need 'programme.years'")
    assert ProgrammeBuilt(2022, "t", "a", lon=116.0, lat=-1.5).where == "116, -1.5"


def test_tower_type_sectors_other_than_the_radio_antenna_are_refused() -> None:
    msg = _problems('[[tower_types]]\nname = "sektor"\nheight_m = 42\n'
                    'azimuths_deg = [0, 120, 240]\ntower_idr = 1_000_000_000\n')
    assert ("tower type 'sektor': azimuths_deg [0.0, 120.0, 240.0] differ from "
            "'radio.antenna.azimuths_deg' []") in msg
