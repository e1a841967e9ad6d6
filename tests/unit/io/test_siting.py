"""Readers of siting inputs: site lists, exclusion areas, power/roads and cost overrides."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.report import LayerReport
from towerplan.io.siting import (
    COST_COLUMNS,
    load_siting,
    read_areas,
    read_cost_overrides,
    read_network,
    read_sites,
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_read_sites_with_ids_heights_and_costs(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.csv", "longitude,latitude,site_id,height,cost_idr,cost_road_idr\n"
                  "116.0,-1.7,BUKIT1,30,1200000000,\n116.1,-1.8,BUKIT2,,,2_000_000\n")
    sites, report = read_sites(path, default_height_m=42.0)
    assert sites["site_id"].tolist() == ["BUKIT1", "BUKIT2"]
    assert sites["height_m"].tolist() == [30.0, 42.0]
    assert sites["cost_total_idr"].iloc[0] == 1.2e9 and np.isnan(sites["cost_total_idr"].iloc[1])
    assert np.isnan(sites["cost_road_idr"].iloc[0]) and sites["cost_road_idr"].iloc[1] == 2e6
    assert set(COST_COLUMNS) <= set(sites.columns)
    assert sites.crs == "EPSG:4326"
    assert sites.geometry.x.tolist() == [116.0, 116.1]
    assert report.count == 2


def test_read_sites_generates_ids_and_reads_semicolons_with_decimal_commas(tmp_path: Path
                                                                           ) -> None:
    path = _write(tmp_path, "c.csv", "lon;lat\n116,5;-1,25\n116,6;-1,5\n")
    sites, _ = read_sites(path, id_prefix="A")
    assert sites["site_id"].tolist() == ["A0001", "A0002"]
    assert sites.geometry.x.tolist() == [116.5, 116.6]


def test_read_sites_lists_every_bad_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.csv", "lon,lat,site_id,height_m,cost_total_idr\n"
                  "200,-1.7,A,30,1\n116,-1.7,,-3,x\n116,-1.7,B,30,-5\n116,-1.7,B,30,1\n")
    with pytest.raises(InputDataError) as err:
        read_sites(path)
    text = str(err.value)
    for part in ("line 2: lon/lat 200", "line 3: empty site_id", "line 3: height '-3'",
                 "line 3: cost_total_idr 'x'", "line 4: cost_total_idr '-5'",
                 "site_id B is used on lines 4, 5"):
        assert part in text, part


def test_read_sites_without_coordinates_names_the_columns(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="columns found: a, b"):
        read_sites(_write(tmp_path, "c.csv", "a,b\n1,2\n"))
    with pytest.raises(InputFileError, match="not found"):
        read_sites(tmp_path / "missing.csv")


def _square(crs: str, size: float = 1000.0) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["forest"]}, geometry=[shapely.box(0, 0, size, size)],
                            crs=crs)


def test_read_areas_reprojects_to_degrees(tmp_path: Path,
                                          write_layer: Callable[..., Path]) -> None:
    box = gpd.GeoDataFrame({"name": ["hutan lindung"]},
                           geometry=[shapely.box(115.9, -1.8, 116.0, -1.7)], crs="EPSG:4326")
    path = write_layer(box.to_crs("EPSG:32750"), "forest", "gpkg")
    areas, report = read_areas([path])
    assert areas.crs == "EPSG:4326"
    assert areas.geometry.iloc[0].bounds == pytest.approx((115.9, -1.8, 116.0, -1.7), abs=1e-6)
    assert report.count == 1 and report.layer == "exclude_areas"


def test_read_areas_reports_every_problem_of_every_file(tmp_path: Path,
                                                        write_layer: Callable[..., Path]
                                                        ) -> None:
    points = gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(116, -1.7)], crs="EPSG:4326")
    pts = write_layer(points, "points", "gpkg")
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        no_crs = write_layer(_square("EPSG:32750").set_crs(None, allow_override=True),
                             "nocrs", "shp")
    with pytest.raises(InputDataError) as err:
        read_areas([pts, no_crs])
    assert len(err.value.problems) == 2
    assert "not polygons (#1 Point)" in str(err.value)
    assert "no CRS" in str(err.value)
    with pytest.raises(InputFileError, match="exclusion area file not found"):
        read_areas([tmp_path / "missing.gpkg"])


def test_read_network_filters_kinds_and_reads_lines(tmp_path: Path,
                                                    write_layer: Callable[..., Path]) -> None:
    path = _write(tmp_path, "s.csv", "name,lon,lat,kind\nKota,116,-1.7,town\nDusun,116.1,-1.7,"
                  "hamlet\nKota2,116.2,-1.7,KOTA\n")
    towns, report = read_network(path, what="settlements", kinds=("town", "kota"))
    assert towns.geometry.x.tolist() == [116.0, 116.2]
    assert "2 of 3 features" in report.notes[0]
    bare = _write(tmp_path, "b.csv", "lon,lat\n116,-1.7\n")
    none, report = read_network(bare, kinds=("town",))
    assert len(none) == 0 and "no kind column" in report.notes[0]
    line = gpd.GeoDataFrame({"voltage": [20]}, geometry=[
        shapely.LineString([(116.0, -1.7), (116.1, -1.7)])], crs="EPSG:4326")
    lines, _ = read_network(write_layer(line.to_crs("EPSG:32750"), "grid", "gpkg"))
    assert lines.geom_type.tolist() == ["LineString"] and lines.crs == "EPSG:4326"


def test_read_cost_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, "o.csv", "site_id,cost_total_idr,cost_power_idr,note\n"
                  "S0001,2500000000,,road washed out\nS0002,,0,\n")
    table, report = read_cost_overrides(path)
    assert table["site_id"].tolist() == ["S0001", "S0002"]
    assert table["cost_total_idr"].iloc[0] == 2.5e9 and np.isnan(table["cost_total_idr"].iloc[1])
    assert table["cost_power_idr"].iloc[1] == 0.0
    assert "cost_power_idr, cost_total_idr" in report.notes[0]
    with pytest.raises(InputDataError, match="expected site_id and at least one of"):
        read_cost_overrides(_write(tmp_path, "bad.csv", "id,cost\nS1,1\n"))
    with pytest.raises(InputDataError, match="line 2: cost_tower_idr 'lots'"):
        read_cost_overrides(_write(tmp_path, "bad2.csv", "site_id,cost_tower_idr\nS1,lots\n"))


def test_load_siting_reprojects_everything_and_collects_problems(
        tmp_path: Path, write_layer: Callable[..., Path]) -> None:
    sites = _write(tmp_path, "c.csv", "lon,lat\n116,-1.7\n")
    forest = write_layer(gpd.GeoDataFrame(geometry=[shapely.box(115.9, -1.8, 116.0, -1.7)],
                                          crs="EPSG:4326"), "forest", "geojson")
    broken = _write(tmp_path, "o.csv", "site_id\nS1\n")
    seen: list[str] = []
    problems: list[str] = []

    def run(layer: str, source: object, fn: Callable[[], tuple[Any, LayerReport]]) -> Any:
        seen.append(layer)
        try:
            return fn()[0]
        except InputDataError as exc:
            problems.append(f"{layer}: {exc}")
            return None

    crs = CRS.from_epsg(32750)
    out = load_siting(crs=crs, run=run, user_sites=sites, exclude_areas=[forest],
                      overrides=broken)
    assert seen == ["candidates", "exclude_areas", "cost overrides"]
    assert out.user_sites is not None and out.user_sites.crs == crs
    assert out.exclude is not None and out.exclude.bounds[0] > 100_000  # metres, not degrees
    assert out.overrides is None and problems and problems[0].startswith("cost overrides:")
    assert out.power is None and out.power_source == ""


def test_network_layer_of_a_multi_layer_file(tmp_path: Path) -> None:
    path = tmp_path / "osm.gpkg"
    places = gpd.GeoDataFrame({"kind": ["town"]}, geometry=[shapely.Point(116, -1.7)],
                              crs="EPSG:4326")
    lines = gpd.GeoDataFrame({"power": ["line"]}, geometry=[
        shapely.LineString([(116.0, -1.7), (116.2, -1.7)])], crs="EPSG:4326")
    roads = gpd.GeoDataFrame({"fclass": ["primary"]}, geometry=[
        shapely.LineString([(116.0, -1.8), (116.0, -1.6)])], crs="EPSG:4326")
    places.to_file(path, layer="places", engine="pyogrio")
    lines.to_file(path, layer="power_lines", engine="pyogrio", append=True)
    roads.to_file(path, layer="roads", engine="pyogrio", append=True)
    power, _ = read_network(path, prefer=("power",))
    assert power.geom_type.tolist() == ["LineString"]
    assert power.geometry.iloc[0].length == pytest.approx(0.2)
    named, _ = read_network(f"{path}|layername=roads", prefer=("power",))
    assert named["kind"].tolist() == ["primary"]
    first, _ = read_network(path)
    assert first.geom_type.tolist() == ["Point"]
    areas_path = tmp_path / "zones.gpkg"
    gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326").to_file(
        areas_path, layer="protected", engine="pyogrio")
    areas, _ = read_areas([f"{areas_path}|layername=protected"])
    assert len(areas) == 1


def test_read_areas_names_features_by_scenario_column_or_file(
        tmp_path: Path, write_layer: Callable[..., Path]) -> None:
    two = gpd.GeoDataFrame({"name": ["Hutan lindung", "Cagar alam"]}, geometry=[
        shapely.box(115.9, -1.8, 116.0, -1.7), shapely.box(116.1, -1.8, 116.2, -1.7)],
        crs="EPSG:4326")
    named = write_layer(two, "kawasan", "gpkg")
    plain = write_layer(two.drop(columns="name"), "lindung", "gpkg")
    areas, _ = read_areas([named, plain, named],
                          names=[("", "other"), ("", "protected_forest"),
                                 ("Taman nasional", "nature_reserve")])
    assert areas["name"].tolist() == ["Hutan lindung", "Cagar alam", "lindung", "lindung",
                                      "Taman nasional", "Taman nasional"]
    assert areas["kind"].tolist() == ["other", "other", "protected_forest",
                                      "protected_forest", "nature_reserve", "nature_reserve"]


def test_load_siting_keeps_one_geometry_per_named_exclusion(
        tmp_path: Path, write_layer: Callable[..., Path]) -> None:
    two = gpd.GeoDataFrame({"name": ["Hutan lindung", "Hutan lindung"]}, geometry=[
        shapely.box(115.9, -1.8, 116.0, -1.7), shapely.box(116.1, -1.8, 116.2, -1.7)],
        crs="EPSG:4326")
    path = write_layer(two, "kawasan", "gpkg")
    other = write_layer(_square("EPSG:32750"), "base", "gpkg")

    def run(layer: str, source: object, fn: Callable[[], tuple[Any, LayerReport]]) -> Any:
        return fn()[0]

    out = load_siting(crs=CRS.from_epsg(32750), run=run, exclude_areas=[path, other],
                      exclusion_names=[("", "protected_forest"), ("Basis", "military")])
    assert [(a.name, a.kind) for a in out.exclusions] == [
        ("Hutan lindung", "protected_forest"), ("Basis", "military")]
    assert out.exclusions[0].geometry.geom_type == "MultiPolygon"
    assert out.exclude is not None
    assert out.exclude.area == pytest.approx(sum(a.geometry.area for a in out.exclusions))
