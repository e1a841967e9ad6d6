"""The programme against the loaded villages: locked towers and channels with money."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from towerplan.analysis.channels import eligible_channels
from towerplan.errors import InputDataError
from towerplan.io.programme import built_village_rows, check_programme, rule_mask
from towerplan.io.villages import read_villages
from towerplan.programme_scenario import (
    DEFAULT_CHANNELS,
    ChannelRule,
    Programme,
    ProgrammeBudget,
    ProgrammeBuilt,
    rule_columns,
)


def _villages(**extra: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["64.01.01.2001", "64.01.01.2002", "64.01.02.2001"],
         "name": ["Muara Toyu", "Belimbing", "Belimbing"],
         "population": [400.0, 1_200.0, 800.0], **extra},
        geometry=[shapely.box(116.0, -1.6, 116.1, -1.5), shapely.box(116.1, -1.6, 116.2, -1.5),
                  shapely.box(116.2, -1.6, 116.3, -1.5)], crs="EPSG:4326").to_crs("EPSG:32750")


def _programme(*built: ProgrammeBuilt, budgets: tuple[ProgrammeBudget, ...] = ()) -> Programme:
    return Programme(years=(2022, 2023), budgets=budgets, built=built)


def _error(programme: Programme, villages: gpd.GeoDataFrame, **kw: object) -> InputDataError:
    with pytest.raises(InputDataError) as info:
        check_programme(programme, DEFAULT_CHANNELS, villages, **kw)
    assert "\n" not in str(info.value)
    return info.value


def test_a_good_programme_passes() -> None:
    villages = _villages(is_3t=[1, 0, 1], offers_land=[True, True, True])
    budgets = (ProgrammeBudget(2022, "apbd", 1e9), ProgrammeBudget(2022, "national", 1e9),
               ProgrammeBudget(2023, "operator", 1e9))
    built = (ProgrammeBuilt(2022, "t", "apbd", village="Muara Toyu"),
             ProgrammeBuilt(2022, "t", "apbd", village="64.01.02.2001"),
             ProgrammeBuilt(2022, "t", "apbd", lon=116.05, lat=-1.55),
             ProgrammeBuilt(2023, "t", "apbd", site="S3"))
    check_programme(_programme(*built, budgets=budgets), DEFAULT_CHANNELS, villages,
                    site_ids=["S1", "S3"])
    assert built_village_rows(built, villages).tolist() == [0, 2, -1, -1]


def test_no_programme_checks_nothing() -> None:
    check_programme(Programme(), DEFAULT_CHANNELS, _villages())


def test_locked_tower_outside_the_area() -> None:
    err = _error(_programme(ProgrammeBuilt(2022, "t", "apbd", lon=117.0, lat=-1.55)),
                 _villages())
    assert err.problems == ("'programme.built' 2022: tower at 117, -1.55 is outside the area "
                            "(no village contains it)",)


def test_unknown_and_ambiguous_villages_and_sites() -> None:
    err = _error(_programme(ProgrammeBuilt(2022, "t", "apbd", village="Atlantis"),
                            ProgrammeBuilt(2023, "t", "apbd", village="belimbing"),
                            ProgrammeBuilt(2023, "t", "apbd", site="S9")),
                 _villages(), site_ids=["S1"])
    assert err.problems == (
        "'programme.built' 2022: village 'Atlantis' is not among the villages",
        "'programme.built' 2023: village 'belimbing' names 2 villages; give its code",
        "'programme.built' 2023: site 'S9' is not a candidate site",
    )
    assert str(err).startswith("programme: 'programme.built' 2022: village 'Atlantis'")


def test_channel_with_money_but_missing_columns_names_them() -> None:
    err = _error(_programme(budgets=(ProgrammeBudget(2022, "national", 1e9),)), _villages())
    assert err.problems == (
        "channel 'national' has a budget but its rule reads village column(s) is_3t, "
        "offers_land that the village layer lacks: no village may use it; add the column(s) "
        "or change [channels.rule]",)


def test_channel_no_village_meets() -> None:
    villages = _villages(is_3t=[0, 0, 0], offers_land=[1, 1, 1])
    budgets = (ProgrammeBudget(2022, "national", 1e9), ProgrammeBudget(2022, "apbd", 0.0))
    err = _error(_programme(budgets=budgets), villages.assign(population=[10.0, 20.0, 30.0]))
    assert err.problems == ("channel 'national' has a budget but no village meets its rule "
                            "(is_3t true, offers_land true)",)
    budgets = (ProgrammeBudget(2022, "operator", 1e9),)
    err = _error(_programme(budgets=budgets), villages.assign(population=[10.0, 20.0, 30.0]))
    assert "no village meets its rule (population >= 1,000)" in err.problems[0]


def test_rule_mask_reads_yes_words_and_unknown_population() -> None:
    villages = _villages(is_3t=["Ya", "tidak", "TRUE"], offers_land=[1, 1, 0])
    rule = ChannelRule(village_flag="is_3t", offers_land=True)
    assert rule_mask(villages, rule).tolist() == [True, False, False]
    assert rule_mask(villages.assign(population=float("nan")),
                     ChannelRule(max_population=5)).tolist() == [False] * 3


def test_village_layer_attributes_kept_for_the_rules(tmp_path: Path) -> None:
    path = tmp_path / "v.gpkg"
    _villages(is_3t=["ya", "tidak", "ya"]).to_file(path, engine="pyogrio")
    plain, _ = read_villages(path)
    assert "is_3t" not in plain
    kept, _ = read_villages(path, keep=rule_columns(DEFAULT_CHANNELS))
    assert kept["is_3t"].tolist() == ["ya", "tidak", "ya"] and "offers_land" not in kept
    assert eligible_channels(kept, DEFAULT_CHANNELS)[:, 2].tolist() == [False] * 3
    eligible = eligible_channels(kept.assign(offers_land=1), DEFAULT_CHANNELS)
    assert eligible[:, 2].tolist() == [True, False, True]
