"""Every command that loads a scenario refuses what ``towerplan validate`` refuses: the same
problems in the same words, exit code 2, nothing written.

The commands run in-process (fixture ``cli_in_process``) so that the cases x commands stay
fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine

Factory = Callable[..., Path]

#: Commands that load a scenario's inputs, with their own arguments.
COMMANDS: dict[str, tuple[str, ...]] = {
    "plan": ("--no-cache",),
    "map": ("--no-cache",),
    "blankspots": ("--no-cache",),
    "candidates": ("--no-cache",),
    "sweep": ("--no-cache", "--budgets", "3.4e9"),
    "audit": ("--no-cache", "--villages", "Desa 1"),
    "backhaul": ("--no-cache",),
    "coverage": (),
}

pytestmark = pytest.mark.filterwarnings("default")


def _half_population(villages: Path, path: Path) -> Path:
    w, s, e, n = gpd.read_file(villages).to_crs(4326).total_bounds
    res = 0.002
    cols, rows = int(np.ceil((e - w) / 2 / res)), int(np.ceil((n - s) / res)) + 2
    with rasterio.open(path, "w", driver="GTiff", height=rows, width=cols, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=float("nan"),
                       transform=Affine(res, 0, w, 0, -res, n + res)) as dst:
        dst.write(np.full((rows, cols), 10.0, dtype="float32"), 1)
    return path


def _case(name: str, tmp_path: Path, small_scenario: Factory, make_towers_csv: Factory,
          rewrite_dem: Factory) -> Path:
    """Write the scenario of case *name* and return its path."""
    good = small_scenario()
    text = good.read_text(encoding="utf-8")
    dem = Path(text.split('dem = ["')[1].split('"')[0])
    villages = Path(text.split('villages = "')[1].split('"')[0])
    if name == "dem_all_nodata":
        return small_scenario(dem_path=rewrite_dem(
            dem, tmp_path / "void.tif", lambda a: np.full_like(a, np.nan)))
    if name == "dem_not_metres":
        return small_scenario(dem_path=rewrite_dem(
            dem, tmp_path / "huge.tif", lambda a: np.full_like(a, 1e9)))
    if name == "dem_some_impossible":
        def spikes(a: np.ndarray) -> np.ndarray:
            a[:22, :] = 20_000.0
            return a
        return small_scenario(dem_path=rewrite_dem(dem, tmp_path / "spikes.tif", spikes))
    if name == "dem_missing":
        return small_scenario(dem_path=tmp_path / "gone.tif")
    if name == "population_half":
        people = _half_population(villages, tmp_path / "people.tif")
        return _with_line(good, 'settlements = ""', f'population = "{people}"')
    if name == "towers_bad_height":
        bad = make_towers_csv([{"lon": 115.97, "lat": -1.68, "height_m": "tall",
                                "operator": "A"}], name="bad_towers.csv")
        return small_scenario(towers_path=bad)
    if name == "threshold_nan":
        return _with_line(good, "max_radius_km = 6", "threshold_rsrp_dbm = nan")
    if name == "tx_power_inf":
        return _with_line(good, "max_radius_km = 6", "tx_power_dbm = inf")
    if name == "freq_out_of_range":
        return _with_line(good, "max_radius_km = 6", "freq_mhz = 9e9")
    msg = f"unknown case {name}"
    raise AssertionError(msg)


def _with_line(scenario: Path, after: str, line: str) -> Path:
    text = scenario.read_text(encoding="utf-8")
    assert after in text
    scenario.write_text(text.replace(after, f"{after}\n{line}", 1), encoding="utf-8")
    return scenario


#: Case -> words every command's one line must carry (validate's problem, without its layer).
CASES: dict[str, str] = {
    "dem_all_nodata": "DEM void.tif: no elevation at all over the area to plan",
    "dem_not_metres": "100.0 % of the cells with data",
    "dem_some_impossible": "lie outside -500..9,000 m",
    "dem_missing": "gone.tif",
    "population_half": "cells have no population data",
    "towers_bad_height": "height 'tall' is not a height in metres",
    "threshold_nan": "'radio.threshold_rsrp_dbm' must be a finite number, got nan",
    "tx_power_inf": "'radio.tx_power_dbm' must be a finite number, got inf",
    "freq_out_of_range": "'radio.freq_mhz' must be within 30..10,000 MHz, got 9e+09",
}


@pytest.fixture
def case_scenario(tmp_path: Path, small_scenario: Factory, make_towers_csv: Factory,
                  rewrite_dem: Factory) -> Callable[[str], Path]:
    return lambda name: _case(name, tmp_path, small_scenario, make_towers_csv, rewrite_dem)


def _validate_problems(cli: Callable[..., tuple[int, str, str]], scenario: Path) -> list[str]:
    """validate's problems, each without its ``layer: `` prefix (or its one error line)."""
    code, out, err = cli("validate", scenario)
    assert code == 2, (out, err)
    listed = [ln.removeprefix("problem: ") for ln in out.splitlines()
              if ln.startswith("problem: ")]
    if not listed:  # the scenario itself is refused before any input is read
        return [err.strip().removeprefix("towerplan: error: ").split(": ", 1)[-1]]
    return [p.split(": ", 1)[1] for p in listed]


@pytest.mark.parametrize("case", list(CASES))
def test_validate_and_every_command_refuse_alike(case: str, tmp_path: Path,
                                                case_scenario: Callable[[str], Path],
                                                cli_in_process: Factory) -> None:
    scenario = case_scenario(case)
    problems = _validate_problems(cli_in_process, scenario)
    assert len(problems) == 1 and CASES[case] in problems[0], problems
    for command, args in COMMANDS.items():
        out = tmp_path / f"out-{command}"
        code, _, err = cli_in_process(command, scenario, "--out", out, *args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2, (command, err)
        assert len(lines) == 1 and lines[0].startswith("towerplan: error: "), (command, err)
        assert problems[0] in lines[0], (command, problems[0], lines[0])
        assert not out.exists() or not any(out.iterdir()), command
        assert [p for p in tmp_path.iterdir() if ".partial-" in p.name] == []
