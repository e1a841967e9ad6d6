"""``towerplan calibrate`` on a simulated drive test over the demo terrain."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pyproj import Geod, Transformer

from towerplan.io.demo import DemoManifest
from towerplan.scenario import Scenario

MODEL = "hata-suburban+deygout"
BIAS_DB = 6.5
SIGMA_DB = 8.0
#: Site with named measurements, and site around which measurements name no site.
NAMED_SITE, UNNAMED_SITE = "T04", "T08"
PER_SITE = 200

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class DriveTest:
    scenario: Path
    csv: Path
    rmse_before_db: float
    rmse_after_db: float


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    from towerplan.io.demo import generate_demo

    return generate_demo(tmp_path_factory.mktemp("demo") / "d", seed=2022)


def _scenario(folder: Path, demo: DemoManifest) -> Path:
    path = folder / "scenario.toml"
    path.write_text(f"""
[scenario]
name = "calibration-test"

[inputs]
villages = "{demo.villages}"
dem = ["{demo.dem}"]
towers = "{demo.towers}"
landcover = "{demo.landcover}"

[radio]
model = "{MODEL}"
""", encoding="utf-8")
    return path


def _predict(scenario: Scenario, towers: Any, serving: list[str], lon: np.ndarray,
             lat: np.ndarray) -> np.ndarray:
    """The chain's RSRP at each point from its serving site, over the demo terrain."""
    from towerplan.io.terrain import read_dem, utm_crs_for
    from towerplan.radio.chain import chain_loss, parse_chain
    from towerplan.radio.linkbudget import eirp_dbm, rsrp_dbm
    from towerplan.radio.profile import terrain_profile

    radio = scenario.radio
    tlon = towers.loc[serving, "lon"].to_numpy(float)
    tlat = towers.loc[serving, "lat"].to_numpy(float)
    every_lon, every_lat = np.concatenate([lon, tlon]), np.concatenate([lat, tlat])
    crs = utm_crs_for(float(every_lon.mean()), float(every_lat.mean()))
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(every_lon,
                                                                           every_lat)
    pad = 2000.0
    dem, _ = read_dem(scenario.inputs.dem, dst_crs=crs,
                      bounds=(x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad),
                      resolution_m=scenario.terrain.resolution_m)
    chain = parse_chain(radio.model)
    eirp = eirp_dbm(radio.tx_power_dbm, radio.antenna_gain_dbi, radio.cable_loss_db)
    loss = []
    for k, site in enumerate(serving):
        profile = terrain_profile(dem.array, dem.transform, crs, (tlon[k], tlat[k]),
                                  (lon[k], lat[k]))
        loss.append(chain_loss(chain, profile.heights_m, profile.step_m,
                               float(towers.loc[site, "height_m"]), radio.rx_height_m,
                               radio.freq_mhz, k_factor=radio.k_factor).total_db)
    return np.asarray(rsrp_dbm(eirp, np.array(loss), radio.bandwidth_mhz, radio.rx_gain_dbi))


@pytest.fixture(scope="module")
def drive_test(tmp_path_factory: pytest.TempPathFactory, demo: DemoManifest) -> DriveTest:
    """Points 0.3-6 km around two demo towers; RSRP = the chain's + bias + 8 dB shadowing.

    Points around NAMED_SITE name it; points around UNNAMED_SITE name no site and are
    simulated from their nearest tower, as calibrate assigns them.
    """
    import pandas as pd

    folder = tmp_path_factory.mktemp("drive")
    scenario_path = _scenario(folder, demo)
    scenario = Scenario.from_toml(scenario_path)
    towers = pd.read_csv(demo.towers, dtype={"tower_id": str}).set_index("tower_id")
    rng = np.random.default_rng(7)
    lon_parts, lat_parts, named, serving = [], [], [], []
    for site in (NAMED_SITE, UNNAMED_SITE):
        distance_m = 10 ** rng.uniform(np.log10(300.0), np.log10(6000.0), PER_SITE)
        lon, lat, _ = _GEOD.fwd(np.full(PER_SITE, towers.loc[site, "lon"]),
                                np.full(PER_SITE, towers.loc[site, "lat"]),
                                rng.uniform(0.0, 360.0, PER_SITE), distance_m)
        lon_parts.append(lon)
        lat_parts.append(lat)
        if site == NAMED_SITE:
            named += [site] * PER_SITE
            serving += [site] * PER_SITE
        else:
            named += [""] * PER_SITE
            serving += [_nearest(towers, x, y) for x, y in zip(lon, lat, strict=True)]
    lon, lat = np.concatenate(lon_parts), np.concatenate(lat_parts)
    assert len(set(serving)) > 2  # some unnamed points are nearer another tower
    predicted = _predict(scenario, towers, serving, lon, lat)
    noise = rng.normal(0.0, SIGMA_DB, predicted.size)
    measured = np.round(predicted + BIAS_DB + noise, 1)
    path = folder / "drive.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["lon", "lat", "rsrp_dbm", "site_id"])
        for row in zip(np.round(lon, 6), np.round(lat, 6), measured, named, strict=True):
            writer.writerow(row)
    return DriveTest(scenario_path, path,
                     float(np.sqrt(np.mean((measured - predicted) ** 2))),
                     float(np.sqrt(np.mean((noise - noise.mean()) ** 2))))


def _nearest(towers: Any, lon: float, lat: float) -> str:
    n = len(towers)
    _, _, dist = _GEOD.inv(np.full(n, lon), np.full(n, lat), towers["lon"].to_numpy(float),
                           towers["lat"].to_numpy(float))
    return str(towers.index[int(np.argmin(dist))])


def test_calibrate_recovers_the_bias(tmp_path: Path, drive_test: DriveTest,
                                     run_cli: Callable[..., Any]) -> None:
    out = tmp_path / "cal"
    proc = run_cli("calibrate", drive_test.scenario, "--measurements", drive_test.csv,
                   "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert "RMSE" in proc.stdout and "offset" in proc.stdout
    data = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert data["model_chain"] == MODEL
    assert data["n"] == data["rows"] == 2 * PER_SITE
    assert data["sites"][NAMED_SITE] == PER_SITE
    assert data["fit"]["offset_db"] == pytest.approx(BIAS_DB, abs=1.0)
    assert abs(data["fit"]["slope_db_per_decade"]) < 3.0
    fit, cv = data["fit"], data["cross_validation"]
    assert fit["before"]["rmse_db"] == pytest.approx(drive_test.rmse_before_db, abs=0.05)
    assert fit["after"]["rmse_db"] == pytest.approx(SIGMA_DB, abs=1.0)
    assert fit["after"]["rmse_db"] <= drive_test.rmse_after_db + 0.01
    assert cv["k"] == 5
    assert cv["after"]["rmse_db"] == pytest.approx(SIGMA_DB, abs=1.0)
    assert cv["before"]["rmse_db"] > cv["after"]["rmse_db"] + 1.5
    assert data["class_offsets"] and all(c["n"] >= 5 for c in data["class_offsets"])

    snippet = (out / "calibration.toml").read_text(encoding="utf-8")
    assert snippet.startswith("# Drive-test calibration of model chain " + MODEL)
    extended = tmp_path / "calibrated.toml"
    extended.write_text(drive_test.scenario.read_text(encoding="utf-8") + "\n" + snippet,
                        encoding="utf-8")
    loaded = Scenario.from_toml(extended)
    assert loaded.radio.model == MODEL
    assert loaded.radio.calibration.offset_db == pytest.approx(fit["offset_db"], abs=0.005)
    assert loaded.radio.calibration.slope_db_per_decade == pytest.approx(
        fit["slope_db_per_decade"], abs=0.005)

    again = run_cli("calibrate", drive_test.scenario, "--measurements", drive_test.csv,
                    "--out", out, "--folds", "4")
    assert again.returncode == 2
    assert "--overwrite" in again.stderr
    again = run_cli("calibrate", drive_test.scenario, "--measurements", drive_test.csv,
                    "--out", out, "--folds", "4", "--overwrite", "-q")
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""
    assert json.loads((out / "calibration.json").read_text())["cross_validation"]["k"] == 4


def test_unknown_site_is_one_line(tmp_path: Path, drive_test: DriveTest,
                                  run_cli: Callable[..., Any]) -> None:
    lines = drive_test.csv.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0] + ",NOPE"
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("calibrate", drive_test.scenario, "--measurements", bad, "--out", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "line 2: site_id 'NOPE' is not an existing tower" in proc.stderr
    assert not (tmp_path / "calibration.json").exists()
