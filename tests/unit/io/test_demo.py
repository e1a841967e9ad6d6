"""Tests of the synthetic demo kabupaten (towerplan.io.demo)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.features import geometry_mask

import towerplan.io.demo as demo_module
from towerplan.errors import OutputError, ScenarioError
from towerplan.io.demo import (
    DEMO_VERSION,
    DemoManifest,
    _generator_code,
    ensure_demo,
    generate_demo,
)

UTM = "EPSG:32748"
KECAMATAN_VILLAGES = [9, 7, 15, 16, 13, 26, 13, 23, 13, 9]
WORLDCOVER = {10, 20, 30, 40, 50, 80, 90}
FILES = {"villages.gpkg", "districts.gpkg", "dem.tif", "landcover.tif", "towers.csv",
         "settlements.csv", "pops.csv", "village_population.csv", "README.txt",
         "manifest.json"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoManifest, list[str]]:
    stages: list[str] = []
    manifest = generate_demo(tmp_path_factory.mktemp("demo") / "kabupaten",
                             progress=stages.append)
    return manifest, stages


@pytest.fixture(scope="module")
def demo(generated: tuple[DemoManifest, list[str]]) -> DemoManifest:
    return generated[0]


@pytest.fixture(scope="module")
def villages(demo: DemoManifest) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.villages, layer="villages")


@pytest.fixture(scope="module")
def villages_utm(villages: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return villages.to_crs(UTM)


@pytest.fixture(scope="module")
def settlements(demo: DemoManifest) -> pd.DataFrame:
    return pd.read_csv(demo.settlements)


@pytest.fixture(scope="module")
def towers(demo: DemoManifest) -> pd.DataFrame:
    return pd.read_csv(demo.towers)


@pytest.fixture(scope="module")
def dem(demo: DemoManifest) -> tuple[np.ndarray, rasterio.Affine, str, float | None]:
    with rasterio.open(demo.dem) as src:
        return src.read(1), src.transform, src.crs.to_string(), src.nodata


@pytest.fixture(scope="module")
def cached(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    """Return a seed-7 copy made by ensure_demo over an interrupted earlier copy."""
    root = tmp_path_factory.mktemp("cache")
    stale = root / f"demo-v{DEMO_VERSION}-{_generator_code()}-s7-r90"
    stale.mkdir()
    (stale / "villages.gpkg").write_bytes(b"partial")
    return ensure_demo(seed=7, cache_dir=root)


def utm_points(frame: pd.DataFrame) -> gpd.GeoSeries:
    return gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326).to_crs(UTM)


def dem_land(dem: tuple, villages_utm: gpd.GeoDataFrame) -> np.ndarray:
    array, transform, _, _ = dem
    inside = ~geometry_mask([villages_utm.union_all()], array.shape, transform)
    return array[inside & (array > 0)]


# ------------------------------------------------------------------------ files and manifest
def test_writes_every_file_and_no_temporaries(demo: DemoManifest) -> None:
    assert {p.name for p in demo.directory.iterdir()} == FILES
    for path in (demo.villages, demo.districts, demo.dem, demo.landcover, demo.towers,
                 demo.settlements, demo.pops):
        assert path.parent == demo.directory
        assert path.stat().st_size > 0


def test_village_population_is_the_sum_of_each_village_s_settlements(
        demo: DemoManifest) -> None:
    totals = pd.read_csv(demo.village_population, dtype={"code": str})
    assert list(totals.columns) == ["code", "name", "population", "year", "source"]
    settlements = pd.read_csv(demo.settlements, dtype={"village_code": str})
    people = settlements.groupby("village_code")["population"].sum()
    assert totals.set_index("code")["population"].to_dict() == people.to_dict()
    villages = gpd.read_file(demo.villages)
    assert sorted(totals["code"]) == sorted(villages["code"])


def test_manifest_states_synthetic_origin(demo: DemoManifest,
                                          generated: tuple[DemoManifest, list[str]]) -> None:
    assert (demo.seed, demo.resolution_m, demo.crs) == (2022, 90.0, "EPSG:32748")
    meta = json.loads((demo.directory / "manifest.json").read_text(encoding="utf-8"))
    assert meta["synthetic"] is True
    assert (meta["seed"], meta["demo_version"]) == (2022, DEMO_VERSION)
    assert meta["generator"] == "towerplan.io.demo"
    assert meta["kabupaten"] == {"code": "99.01", "name": "Kabupaten Contoh (sintetis)"}
    assert "SINTETIS" in meta["notice"] and "SYNTHETIC" in meta["notice"]
    readme = (demo.directory / "README.txt").read_text(encoding="utf-8")
    assert "SINTETIS" in readme and "SYNTHETIC" in readme and "seed 2022" in readme
    assert DemoManifest.from_directory(demo.directory) == demo
    stages = generated[1]
    assert stages and all(isinstance(s, str) and 0 < len(s) < 30 for s in stages)


def test_rasters_are_tagged_synthetic(demo: DemoManifest) -> None:
    for path in (demo.dem, demo.landcover):
        with rasterio.open(path) as src:
            assert src.tags()["SYNTHETIC"].startswith("yes")
            assert src.tags()["seed"] == "2022"


def test_refuses_non_empty_or_file_output(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputError, match="not an empty folder"):
        generate_demo(tmp_path / "taken")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError):
        generate_demo(tmp_path / "file")
    assert (tmp_path / "taken" / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_rejects_bad_parameters_all_at_once(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="seed.*resolution_m") as info:
        generate_demo(tmp_path / "x", seed=-1, resolution_m=50)
    assert isinstance(info.value, ValueError)
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------------ administrative
def test_village_and_kecamatan_counts(demo: DemoManifest, villages: gpd.GeoDataFrame) -> None:
    assert len(villages) == 144
    assert (villages["kind"] == "desa").sum() == 139
    assert (villages["kind"] == "kelurahan").sum() == 5
    counts = villages.groupby("district_code").size()
    assert counts.index.tolist() == [f"99.01.{k:02d}" for k in range(1, 11)]
    assert counts.tolist() == KECAMATAN_VILLAGES
    districts = gpd.read_file(demo.districts, layer="districts")
    assert len(districts) == 10
    assert districts["code"].tolist() == counts.index.tolist()
    assert districts.crs.to_epsg() == 4326


def test_layer_schema(villages: gpd.GeoDataFrame) -> None:
    assert villages.crs.to_epsg() == 4326
    assert list(villages.columns) == ["code", "name", "district_code", "district", "kind",
                                      "population", "geometry"]
    assert villages["population"].dtype.kind == "i"


def test_codes_follow_the_kemendagri_pattern(villages: gpd.GeoDataFrame) -> None:
    pattern = re.compile(r"^99\.01\.\d\d\.[12]\d{3}$")
    assert villages["code"].map(lambda c: bool(pattern.match(c))).all()
    assert villages["code"].is_unique
    assert (villages["code"].str[:8] == villages["district_code"]).all()
    kelurahan = villages[villages["kind"] == "kelurahan"]
    assert kelurahan["code"].str[9].eq("1").all()
    assert villages.loc[villages["kind"] == "desa", "code"].str[9].eq("2").all()
    assert kelurahan["district_code"].is_unique  # one seat per town kecamatan


def test_names_are_unique(demo: DemoManifest, villages: gpd.GeoDataFrame,
                          settlements: pd.DataFrame) -> None:
    districts = gpd.read_file(demo.districts)
    hamlets = settlements.loc[settlements["kind"] == "hamlet", "name"]
    names = [*villages["name"], *districts["name"], *hamlets]
    assert len(names) == len(set(names))
    assert villages.groupby("district_code")["district"].nunique().eq(1).all()


def test_geometries_are_valid_polygons_above_one_km2(villages_utm: gpd.GeoDataFrame) -> None:
    assert villages_utm.is_valid.all()
    assert set(villages_utm.geom_type) <= {"Polygon", "MultiPolygon"}
    area_km2 = villages_utm.area / 1e6
    assert area_km2.min() > 1.0
    assert area_km2.max() < 1_000.0
    assert area_km2.max() / area_km2.min() > 30  # small coastal, large inland villages


def test_villages_tile_the_land(demo: DemoManifest, villages_utm: gpd.GeoDataFrame) -> None:
    union_km2 = villages_utm.union_all().area / 1e6
    assert villages_utm.area.sum() / 1e6 == pytest.approx(union_km2, rel=1e-3)
    assert 9_000 <= union_km2 <= 11_000
    districts = gpd.read_file(demo.districts).to_crs(UTM)
    assert districts.area.sum() / 1e6 == pytest.approx(union_km2, rel=1e-3)
    area_km2 = districts.area / 1e6
    assert 250 <= area_km2.min() <= area_km2.max() <= 3_000


def test_lies_in_open_ocean_south_of_the_sunda_strait(villages: gpd.GeoDataFrame) -> None:
    west, south, east, north = villages.total_bounds
    assert 103.9 <= west < east <= 105.3
    assert -10.3 <= south < north <= -8.4


# ------------------------------------------------------------------------------- terrain
def test_dem_grid_covers_villages_with_margin(dem: tuple,
                                              villages_utm: gpd.GeoDataFrame) -> None:
    array, transform, crs, nodata = dem
    assert crs == UTM
    assert (transform.a, -transform.e) == (90.0, 90.0)
    assert array.dtype == np.float32
    assert nodata is not None
    assert np.isfinite(array).all()
    west, south, east, north = villages_utm.total_bounds
    dem_east = transform.c + transform.a * array.shape[1]
    dem_south = transform.f + transform.e * array.shape[0]
    margin_m = 19_000
    assert transform.c <= west - margin_m and dem_east >= east + margin_m
    assert transform.f >= north + margin_m and dem_south <= south - margin_m


def test_elevation_resembles_the_model_regency(dem: tuple,
                                               villages_utm: gpd.GeoDataFrame) -> None:
    land = dem_land(dem, villages_utm)
    assert 1_000 <= land.max() <= 1_300
    assert 40 <= np.median(land) <= 250
    assert 250 <= np.quantile(land, 0.95) <= 600


def test_coast_is_on_the_east(dem: tuple) -> None:
    array = dem[0]
    assert (array[:, -1] <= 0).mean() >= 0.9
    assert (array[:, 0] > 0).mean() >= 0.9
    assert (array <= 0).any() and array.min() >= 0


def test_ridge_is_in_the_west(dem: tuple, villages_utm: gpd.GeoDataFrame) -> None:
    array, transform, _, _ = dem
    inside = ~geometry_mask([villages_utm.union_all()], array.shape, transform)
    rows, cols = np.nonzero(inside & (array > np.quantile(array[inside], 0.99)))
    west, _, east, _ = villages_utm.total_bounds
    x = transform.c + transform.a * (cols + 0.5)
    assert np.median((x - west) / (east - west)) < 0.4


def test_landcover_uses_worldcover_codes(demo: DemoManifest, dem: tuple) -> None:
    with rasterio.open(demo.landcover) as src:
        classes = src.read(1)
        assert src.crs.to_string() == UTM and src.res == (90.0, 90.0)
        assert src.transform == dem[1] and classes.shape == dem[0].shape
    values, counts = np.unique(classes, return_counts=True)
    assert set(values.tolist()) <= WORLDCOVER
    assert {10, 40, 50, 80} <= set(values.tolist())
    land = dem[0] > 0
    assert np.bincount(classes[land]).argmax() == 10  # tree cover dominates the land
    assert (classes[~land] == 80).all()


# -------------------------------------------------------------------- people and network
def test_population_is_summed_from_settlements(villages: gpd.GeoDataFrame,
                                               settlements: pd.DataFrame) -> None:
    assert list(settlements.columns) == ["name", "lon", "lat", "population", "village_code",
                                         "kind"]
    assert set(settlements["kind"]) == {"town", "village", "hamlet"}
    by_village = settlements.groupby("village_code")["population"].sum()
    assert by_village.reindex(villages["code"]).tolist() == villages["population"].tolist()
    assert 250_000 <= villages["population"].sum() <= 300_000
    per_kec = villages.groupby("district_code")["population"].sum()
    assert 6_000 <= per_kec.min() <= per_kec.max() <= 90_000
    assert 0.2 <= per_kec.max() / per_kec.sum() <= 0.4  # the capital's kecamatan


def test_each_village_has_one_main_settlement(villages: gpd.GeoDataFrame,
                                              settlements: pd.DataFrame) -> None:
    main = settlements[settlements["kind"] != "hamlet"]
    assert sorted(main["village_code"]) == sorted(villages["code"])
    towns = main.loc[main["kind"] == "town", "village_code"]
    assert set(towns) == set(villages.loc[villages["kind"] == "kelurahan", "code"])


def test_settlements_lie_in_their_village(villages_utm: gpd.GeoDataFrame,
                                          settlements: pd.DataFrame) -> None:
    polygons = villages_utm.set_index("code").geometry
    points = utm_points(settlements)
    inside = shapely.contains(polygons.loc[settlements["village_code"]].to_numpy(),
                              points.to_numpy())
    assert inside.all()


def test_towers_cluster_near_towns(towers: pd.DataFrame, settlements: pd.DataFrame) -> None:
    assert list(towers.columns) == ["tower_id", "lon", "lat", "height_m", "operator",
                                    "technology"]
    assert set(towers["technology"]) == {"4g"}
    assert 8 <= len(towers) <= 12
    assert towers["tower_id"].is_unique
    assert towers["height_m"].between(30, 42).all()
    assert towers["operator"].str.fullmatch(r"Operator [A-Z]").all()
    towns = utm_points(settlements[settlements["kind"] == "town"])
    for point in utm_points(towers):
        assert towns.distance(point).min() <= 15_000


def test_many_interior_villages_are_blank_spots(villages_utm: gpd.GeoDataFrame,
                                                towers: pd.DataFrame) -> None:
    sites = utm_points(towers).union_all()
    nearest_m = villages_utm.representative_point().distance(sites)
    assert (nearest_m > 10_000).mean() >= 0.4


def test_fibre_pops_are_in_towns(demo: DemoManifest, settlements: pd.DataFrame) -> None:
    pops = pd.read_csv(demo.pops)
    assert list(pops.columns) == ["pop_id", "lon", "lat", "kind", "capacity_mbps"]
    assert 2 <= len(pops) <= 4
    assert (pops["capacity_mbps"] > 0).all()
    towns = utm_points(settlements[settlements["kind"] == "town"])
    for point in utm_points(pops):
        assert towns.distance(point).min() <= 2_000


# ---------------------------------------------------------------- determinism and caching
def test_same_seed_gives_identical_data(tmp_path: Path, demo: DemoManifest,
                                        villages: gpd.GeoDataFrame, dem: tuple) -> None:
    again = generate_demo(tmp_path / "again")
    other = gpd.read_file(again.villages)
    assert other.geometry.to_wkb().tolist() == villages.geometry.to_wkb().tolist()
    pd.testing.assert_frame_equal(other.drop(columns="geometry"),
                                  villages.drop(columns="geometry"))
    with rasterio.open(again.dem) as src:
        np.testing.assert_array_equal(src.read(1), dem[0])
    for name in ("towers.csv", "settlements.csv", "pops.csv", "manifest.json"):
        assert (again.directory / name).read_bytes() == (demo.directory / name).read_bytes()


def test_other_seed_gives_other_data(cached: DemoManifest, villages: gpd.GeoDataFrame,
                                     dem: tuple) -> None:
    other = gpd.read_file(cached.villages)
    assert len(other) == 144
    assert other.geometry.to_wkb().tolist() != villages.geometry.to_wkb().tolist()
    with rasterio.open(cached.dem) as src:
        array = src.read(1)
    assert array.shape != dem[0].shape or not np.array_equal(array, dem[0])


def test_ensure_demo_reuses_its_cache(cached: DemoManifest) -> None:
    assert cached.directory.name == f"demo-v{DEMO_VERSION}-{_generator_code()}-s7-r90"
    assert cached.seed == 7
    assert {p.name for p in cached.directory.iterdir()} == FILES  # partial copy replaced
    assert [p.name for p in cached.directory.parent.iterdir()] == [cached.directory.name]
    before = {p.name: p.stat().st_mtime_ns for p in cached.directory.iterdir()}
    again = ensure_demo(seed=7, cache_dir=cached.directory.parent)
    assert again == cached
    assert {p.name: p.stat().st_mtime_ns for p in again.directory.iterdir()} == before


def test_ensure_demo_reads_cache_dir_from_environment(tmp_path: Path, demo: DemoManifest,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / f"demo-v{DEMO_VERSION}-{_generator_code()}-s2022-r90"
    shutil.copytree(demo.directory, target)
    monkeypatch.setenv("TOWERPLAN_CACHE_DIR", os.fspath(tmp_path))
    monkeypatch.setattr(demo_module, "generate_demo", pytest.fail)
    assert ensure_demo().directory == target


def test_ensure_demo_uses_the_copy_of_a_faster_process(
        tmp_path: Path, demo: DemoManifest, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / f"demo-v{DEMO_VERSION}-{_generator_code()}-s2022-r90"

    def racing(out_dir: Path, **_: object) -> DemoManifest:
        shutil.copytree(demo.directory, out_dir, dirs_exist_ok=True)
        shutil.copytree(demo.directory, target)  # another process finishes first
        return DemoManifest.from_directory(out_dir)

    monkeypatch.setattr(demo_module, "generate_demo", racing)
    assert ensure_demo(cache_dir=tmp_path).directory == target
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # own copy removed


@pytest.mark.slow
def test_30m_dem_refines_the_90m_grid(tmp_path: Path, demo: DemoManifest, dem: tuple,
                                      villages: gpd.GeoDataFrame) -> None:
    fine = generate_demo(tmp_path / "fine", resolution_m=30)
    with rasterio.open(fine.dem) as src:
        array, transform = src.read(1), src.transform
    assert array.shape == (3 * dem[0].shape[0], 3 * dem[0].shape[1])
    assert (transform.a, transform.c, transform.f) == (30.0, dem[1].c, dem[1].f)
    assert gpd.read_file(fine.villages).geometry.to_wkb().tolist() == \
        villages.geometry.to_wkb().tolist()
    coarse = array.reshape(dem[0].shape[0], 3, dem[0].shape[1], 3).mean(axis=(1, 3))
    assert np.abs(coarse - dem[0]).mean() < 10.0


def test_progress_reports_every_stage_in_order(tmp_path: Path) -> None:
    from towerplan.io.demo import DEMO_STAGES

    seen: list[str] = []
    generate_demo(tmp_path / "d", seed=3, progress=seen.append)
    assert tuple(seen) == DEMO_STAGES


def test_survey_reports_follow_the_model_except_the_flipped_tenth() -> None:
    import pandas as pd

    from towerplan.io.demo import SURVEY_SOURCE, survey_reports
    from towerplan.io.evidence import parse_status

    n = 40
    status = ["blank"] * 20 + ["partial"] * 8 + ["covered"] * 12
    share = [0.0] * 10 + [0.05] * 10 + [0.3] * 4 + [0.7] * 4 + [1.0] * 12
    villages = pd.DataFrame({"code": [f"99.01.01.{2001 + k}" for k in range(n)],
                             "name": [f"Desa {k}" for k in range(n)],
                             "district": ["Rakan"] * n})
    table = survey_reports(villages, status, share, seed=2022)
    assert int(table["flipped"].sum()) == 4  # 10 % of 40
    assert set(table["source"]) == {SURVEY_SOURCE}
    assert table["note"].str.contains("SINTETIS").all()
    assert all(parse_status(s) is not None for s in table["status"])  # readable labels
    same = {"blank": {"tidak ada sinyal"}, "partial": {"sinyal lemah"},
            "covered": {"4G", "sinyal kuat"}}
    flipped = {"blank": {"4G", "sinyal lemah"}, "partial": {"tidak ada sinyal", "4G"},
               "covered": {"sinyal lemah"}}
    for k, row in table.iterrows():
        allowed = flipped if row["flipped"] else same
        assert row["status"] in allowed[status[k]], (k, row["status"])
    # blank with some coverage flips to weak, blank without any to 4G
    for k, row in table[table["flipped"]].iterrows():
        if status[k] == "blank":
            assert row["status"] == ("sinyal lemah" if share[k] > 0 else "4G")
        if status[k] == "partial":
            assert row["status"] == ("tidak ada sinyal" if share[k] < 0.5 else "4G")
    # at least one covered village answers "sinyal kuat" (no generation stated)
    assert (table["status"] == "sinyal kuat").sum() >= 1
    again = survey_reports(villages, status, share, seed=2022)
    assert again.equals(table)  # seeded
    other = survey_reports(villages, status, share, seed=7)
    assert not other["flipped"].equals(table["flipped"])
