"""Bad input gives one actionable line on stderr, exit code 2, and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

Factory = Callable[..., Path]
Runner = Callable[..., Any]


def _assert_clean_error(proc, out: Path, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("towerplan: error: ")
    assert "Traceback" not in proc.stderr
    for frag in fragments:
        assert frag in lines[0], lines[0]
    assert not (out / "summary.json").exists()
    leftovers = [p for p in out.parent.iterdir() if ".partial-" in p.name]
    assert leftovers == []


@pytest.fixture
def plan_cli(run_cli: Runner) -> Runner:
    """Run ``towerplan plan SCENARIO --out OUT``."""
    return lambda scenario, out: run_cli("plan", scenario, "--out", out)


def test_missing_input_file(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    sc = small_scenario(villages_path=tmp_path / "nope.gpkg")
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "nope.gpkg")


def test_unreadable_raster(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    bad = tmp_path / "broken.tif"
    bad.write_bytes(b"this is not a GeoTIFF\n" * 10)
    sc = small_scenario(dem_path=bad)
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "broken.tif")


def test_vector_without_crs(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    gdf = gpd.GeoDataFrame({"code": ["1", "2"], "name": ["A", "B"]},
                           geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)])
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gdf.to_file(path, engine="pyogrio")
    sc = small_scenario(villages_path=path)
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "no CRS")


def test_villages_outside_dem(tmp_path: Path, small_scenario: Factory,
                              make_dem: Factory, plan_cli: Runner) -> None:
    far = make_dem(shape=(50, 50), crs="EPSG:32750", origin=(300_000.0, 9_900_000.0),
                   name="far.tif")
    sc = small_scenario(dem_path=far)
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "DEM")


def test_duplicate_village_codes(tmp_path: Path, small_scenario: Factory,
                                 make_villages: Factory, plan_cli: Runner) -> None:
    sc = small_scenario(villages_path=make_villages(n=4, duplicate_code=True, name="dup"))
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "duplicate", "64.01.01.2001")


def test_unknown_scenario_key(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    sc = small_scenario(extra="[costs]\ntower_cost = 1\n")
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o",
                        "unknown key 'costs.tower_cost'", "did you mean 'costs.tower_idr'")


def test_negative_budget(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    sc = small_scenario(budget="-1")
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "budget.total_idr")


def test_budget_below_one_tower(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    sc = small_scenario(budget="1_000_000_000")
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "below the cost of one tower")


def test_empty_villages_layer(tmp_path: Path, small_scenario: Factory, plan_cli: Runner) -> None:
    empty = gpd.GeoDataFrame({"code": [], "name": []}, geometry=[], crs="EPSG:4326")
    path = tmp_path / "empty.gpkg"
    empty.to_file(path, engine="pyogrio")
    sc = small_scenario(villages_path=path)
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "empty.gpkg")


def test_invalid_toml(tmp_path: Path, plan_cli: Runner) -> None:
    sc = tmp_path / "bad.toml"
    sc.write_text("[budget\ntotal_idr = 5", encoding="utf-8")
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "invalid TOML")


def test_non_numeric_tower_coordinates(tmp_path: Path, small_scenario: Factory,
                                       make_towers_csv: Factory, plan_cli: Runner) -> None:
    towers = make_towers_csv([{"lon": 116.0, "lat": -1.7}, {"lon": "abc", "lat": -1.7}],
                             name="bad_towers.csv")
    sc = small_scenario(towers_path=towers)
    _assert_clean_error(plan_cli(sc, tmp_path / "o"), tmp_path / "o", "bad_towers.csv", "abc")


def test_output_directory_not_writable(tmp_path: Path, small_scenario: Factory,
                                       plan_cli: Runner) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("x", encoding="utf-8")
    out = blocker / "out"
    proc = plan_cli(small_scenario(), out)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "not writable" in proc.stderr


def test_output_directory_not_empty_needs_overwrite(tmp_path: Path, small_scenario: Factory,
                                                    plan_cli: Runner) -> None:
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    proc = plan_cli(small_scenario(), out)
    assert proc.returncode == 2 and "--overwrite" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_missing_scenario_file(tmp_path: Path, plan_cli: Runner) -> None:
    _assert_clean_error(plan_cli(tmp_path / "nope.toml", tmp_path / "o"), tmp_path / "o",
                        "scenario file not found")


def test_debug_shows_traceback(tmp_path: Path, run_cli: Runner) -> None:
    proc = run_cli("plan", tmp_path / "nope.toml", "--debug")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr


@pytest.mark.parametrize("command", ["plan", "validate", "demo"])
def test_help_documents_options_with_units(command: str, run_cli: Runner) -> None:
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "--help" in proc.stdout
    if command == "demo":
        assert "metres" in proc.stdout and "--seed" in proc.stdout
    if command == "plan":
        assert "--out" in proc.stdout and "rupiah" in proc.stdout
        assert "--cache-dir" in proc.stdout and "--no-cache" in proc.stdout
    if command == "validate":
        text = " ".join(proc.stdout.split())
        assert "CRS, extent, counts, repairs and problems" in text
        assert "Exit code 2" in text


_PROGRAMME = "[programme]\nyears = [2022, 2023]\n"
_BAD_PROGRAMMES = {
    "year twice": ("[programme]\nyears = [2022, 2023, 2022]\n",
                   "'programme.years' gives 2022 more than once"),
    "negative budget": (_PROGRAMME + '[[programme.budgets]]\nyear = 2022\nchannel = "apbd"\n'
                        "idr = -1\n", "'programme.budgets' apbd 2022: idr must be zero or "
                        "positive, got -1"),
    "unknown channel": (_PROGRAMME + '[[programme.budgets]]\nyear = 2023\nchannel = "bakti"\n'
                        "idr = 1e9\n", "unknown channel 'bakti'"),
    "tower type without cost": ('[[tower_types]]\nname = "kosong"\nheight_m = 30\n',
                                "tower type 'kosong' has no cost"),
    "built year not in years": (_PROGRAMME + '[[programme.built]]\nyear = 2021\n'
                                'type = "menara-42m"\nchannel = "apbd"\nvillage = "A"\n',
                                "year 2021 is not one of 'programme.years' [2022, 2023]"),
}


@pytest.mark.parametrize("case", sorted(_BAD_PROGRAMMES))
@pytest.mark.parametrize("command", ["plan", "validate"])
def test_bad_programme_one_line_exit_2_nothing_written(
        case: str, command: str, tmp_path: Path, small_scenario: Factory,
        run_cli: Runner) -> None:
    extra, fragment = _BAD_PROGRAMMES[case]
    sc = small_scenario(extra=extra)
    out = tmp_path / "o"
    args = ("--out", out) if command == "plan" else ()
    _assert_clean_error(run_cli(command, sc, *args), out, fragment)
    assert not out.exists()
