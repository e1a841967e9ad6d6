"""fetch_area against a local server: outputs, provenance, retries, corrupt tiles, offline."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import rasterio

from tests.unit.fetch.factories import (
    FakeServer,
    Reply,
    dem_path,
    dem_value,
    overpass_bytes,
    overpass_query_of,
    publish_area,
    sources_for,
)
from towerplan.commands.fetch import FetchResult, fetch_area
from towerplan.errors import InputDataError, OutputError
from towerplan.fetch.area import Area, area_from_options
from towerplan.fetch.http import DownloadError, MissingFromCacheError, RetryPolicy
from towerplan.fetch.tiles import COPERNICUS_DEM, WORLDCOVER, copernicus_dem_tile
from towerplan.io.register import packaged_register
from towerplan.scenario import Scenario

REGISTER = packaged_register()

PASER = Area("kabupaten", name="Paser")
FILES = ("osm.gpkg", "towers.csv", "settlements.csv", "dem.tif", "landcover.tif",
         "sources.json", "scenario.toml")


def _fetch(server: FakeServer, tmp_path: Path, policy: RetryPolicy, *, area: Area = PASER,
           out: str = "out", **kwargs: object) -> FetchResult:
    options: dict[str, object] = {"sources": sources_for(server), "cache_dir": tmp_path / "cache",
                                  "policy": policy, "margin_km": 5.0}
    options.update(kwargs)
    return fetch_area(area, tmp_path / out, **options)  # type: ignore[arg-type]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_writes_data_provenance_and_a_ready_scenario(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy, asked_urls: list[str]) -> None:
    publish_area(server, tmp_path)
    result = _fetch(server, tmp_path, policy)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert result.files == FILES and result.villages_layer == "desa"
    assert result.counts["desa"] == 4 and result.downloaded == 4
    assert all(url.startswith(server.url) for url in asked_urls) and len(asked_urls) == 4
    # The one Overpass request is a POST of the query for the kabupaten.
    (query,) = server.hits("/api/interpreter")
    assert query.method == "POST" and 'Paser$",i]->.target;' in overpass_query_of(query)

    sources = json.loads((out / "sources.json").read_text(encoding="utf-8"))
    assert sources["area"] == "kabupaten Paser" and sources["margin_km"] == 5.0
    assert sources["overpass_query"] == overpass_query_of(query)
    for name in FILES[:5]:
        entry = sources["files"][name]
        assert entry["sha256"] == _sha(out / name)
        assert entry["size_bytes"] == (out / name).stat().st_size
        assert entry["sources"] and all(s["url"].startswith(server.url)
                                        for s in entry["sources"])
    osm = sources["files"]["osm.gpkg"]
    assert osm["licence"].startswith("ODbL") and osm["attribution"] == (
        "© OpenStreetMap contributors")
    assert osm["sources"][0]["osm_base"] == "2025-01-31T08:00:00Z"
    dem = sources["files"]["dem.tif"]
    assert dem["attribution"] == COPERNICUS_DEM.attribution
    assert "© DLR e.V. 2010-2014 and © Airbus Defence and Space GmbH 2014-2018" in dem[
        "attribution"]
    assert [s["url"].rsplit("/", 1)[1] for s in dem["sources"]] == [
        f"{copernicus_dem_tile(-2, 115)}.tif", f"{copernicus_dem_tile(-2, 116)}.tif"]
    tile_body = server.routes[dem_path(-2, 115)][0].body
    assert dem["sources"][0]["sha256"] == hashlib.sha256(tile_body).hexdigest()
    assert dem["sources"][0]["retrieved"].endswith("Z")
    assert sources["files"]["landcover.tif"]["licence"] == "CC BY 4.0"
    assert "ESA WorldCover project 2021" in sources["files"]["landcover.tif"]["attribution"]

    scenario = Scenario.from_toml(out / "scenario.toml")
    assert scenario.inputs.villages == "osm.gpkg" and scenario.inputs.village_layer == "desa"
    assert scenario.inputs.dem == ("dem.tif",) and scenario.inputs.landcover == "landcover.tif"
    assert scenario.radio.max_radius_km == 3.0  # margin 5 km - 2 km slack
    assert scenario.sources == sources_for(server)
    assert any("OpenStreetMap contributors" in a for a in scenario.inputs.attribution)


def test_fetched_layers_and_rasters_hold_the_served_data(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    publish_area(server, tmp_path)
    result = _fetch(server, tmp_path, policy)
    out = tmp_path / "out"
    layers = [str(name) for name in pyogrio.list_layers(out / "osm.gpkg")[:, 0]]
    assert layers == ["kabupaten", "kecamatan", "desa", "places", "roads", "towers",
                      "power_lines"]
    desa = pyogrio.read_dataframe(out / "osm.gpkg", layer="desa").set_index("name")
    assert desa["code"].to_dict() == {"Alpha": "osm-r4", "Beta": "osm-r5", "Gamma": "osm-r6",
                                      "Delta": "osm-r7"}
    kab = pyogrio.read_dataframe(out / "osm.gpkg", layer="kabupaten")
    assert list(kab["code"]) == ["64.01"]
    with rasterio.open(out / "dem.tif") as ds:
        elevation = ds.read(1)
        west, south, east, north = result.bbox
        assert ds.bounds.left <= west and ds.bounds.right >= east
        assert ds.bounds.bottom <= south and ds.bounds.top >= north
        rows, cols = np.indices(elevation.shape)
        xs, ys = rasterio.transform.xy(ds.transform, rows.ravel(), cols.ravel())
    np.testing.assert_allclose(elevation.ravel(), dem_value(np.array(xs), np.array(ys)),
                               atol=1e-3)
    with rasterio.open(out / "landcover.tif") as ds:
        classes = ds.read(1)
        lon = rasterio.transform.xy(ds.transform, 0, np.arange(ds.width))[0]
    assert set(np.unique(classes[:, np.array(lon) < 116.0])) == {10}
    assert set(np.unique(classes[:, np.array(lon) > 116.0])) == {40}
    towers = (out / "towers.csv").read_text(encoding="utf-8").splitlines()
    assert towers[0] == "tower_id,lon,lat,height_m,operator"
    assert towers[1] == "osm-n301,116.0800000,-1.6200000,45,Telkomsel"
    settlements = (out / "settlements.csv").read_text(encoding="utf-8")
    assert "'=cmd|" in settlements  # formula guarded


def test_overpass_429_and_504_are_retried(server: FakeServer, tmp_path: Path,
                                          policy: RetryPolicy, slept: list[float]) -> None:
    publish_area(server, tmp_path, overpass=[
        Reply(429, b"Too Many Requests", {"Retry-After": "2"}), Reply(504, b"Gateway Timeout"),
        Reply(body=overpass_bytes())])
    result = _fetch(server, tmp_path, policy)
    assert len(server.hits("/api/interpreter")) == 3
    assert result.downloads[0].attempts == 3
    assert slept == [2.0, 0.02]


def test_truncated_tile_is_resumed(server: FakeServer, tmp_path: Path,
                                   policy: RetryPolicy) -> None:
    bodies = publish_area(server, tmp_path)
    body = bodies[dem_path(-2, 116)]
    server.add(dem_path(-2, 116), Reply(body=body, truncate_at=len(body) // 2), Reply(body=body))
    _fetch(server, tmp_path, policy)
    first, second = server.hits(dem_path(-2, 116))
    assert second.headers["Range"] == f"bytes={len(body) // 2}-"
    cached = tmp_path / "cache" / "dem" / f"{copernicus_dem_tile(-2, 116)}.tif"
    assert cached.read_bytes() == body


def test_corrupt_tile_is_a_clear_error_and_leaves_nothing(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    bodies = publish_area(server, tmp_path)
    body = bodies[dem_path(-2, 116)]
    broken = body[:200] + bytes(len(body) - 200)  # header intact, data zeroed
    server.add(dem_path(-2, 116), Reply(body=broken))
    with pytest.raises(DownloadError) as info:
        _fetch(server, tmp_path, policy)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"Copernicus DEM GLO-30 tile {copernicus_dem_tile(-2, 116)}: "
                              "the file downloaded from ")
    assert "is not a readable GeoTIFF" in message and "nothing was cached" in message
    tile_dir = tmp_path / "cache" / "dem"
    assert sorted(p.name for p in tile_dir.iterdir()) == [
        f"{copernicus_dem_tile(-2, 115)}.tif", f"{copernicus_dem_tile(-2, 115)}.tif.meta.json"]
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_bbox_without_data_says_so(server: FakeServer, tmp_path: Path,
                                   policy: RetryPolicy) -> None:
    server.add("/api/interpreter", Reply(body=overpass_bytes({"elements": []})))
    area = area_from_options(bbox="120.1,-5.9,120.3,-5.7")
    with pytest.raises(InputDataError) as info:
        _fetch(server, tmp_path, policy, area=area)
    message = str(info.value)
    assert message.startswith("no usable data for bbox 120.1,-5.9,120.3,-5.7: ")
    assert "OpenStreetMap has no kecamatan or desa boundaries" in message
    assert "Copernicus DEM GLO-30 publishes no tile for" in message
    assert message.endswith("nothing written") and len(info.value.problems) == 2
    assert not (tmp_path / "out").exists()


def test_unpublished_sea_tiles_are_filled_and_remembered(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    publish_area(server, tmp_path)
    result = _fetch(server, tmp_path, policy, margin_km=32.0)  # reaches 2.1 S: tiles S03 too
    sea = copernicus_dem_tile(-3, 115)
    assert any(f"tile {sea} is not published (open sea)" in n for n in result.notes)
    with rasterio.open(tmp_path / "out" / "dem.tif") as ds:
        elevation = ds.read(1)
        ys = rasterio.transform.xy(ds.transform, np.arange(ds.height), 0)[1]
    assert np.all(elevation[np.array(ys) < -2.0] == 0.0)
    assert np.all(elevation[np.array(ys) > -2.0] > 0.0)
    sources = json.loads((tmp_path / "out" / "sources.json").read_text(encoding="utf-8"))
    assert any(sea in n for n in sources["files"]["dem.tif"]["notes"])
    assert "radio" not in (tmp_path / "out" / "scenario.toml").read_text(encoding="utf-8")
    assert (tmp_path / "cache" / "dem" / f"{sea}.tif.absent.json").exists()


def test_offline_with_an_empty_cache_lists_what_is_missing(
        server: FakeServer, tmp_path: Path, asked_urls: list[str]) -> None:
    with pytest.raises(MissingFromCacheError) as info:
        _fetch(server, tmp_path, RetryPolicy(), offline=True)
    assert info.value.missing[0] == "OpenStreetMap (Overpass) answer for kabupaten Paser"
    assert "tiles of kabupaten Paser (known once its boundary is in the cache)" in \
        info.value.missing[1]
    assert str(info.value).startswith("offline: 2 file(s) not in the cache ")
    area = area_from_options(bbox="115.9,-1.8,116.1,-1.6")
    with pytest.raises(MissingFromCacheError) as info:
        _fetch(server, tmp_path, RetryPolicy(), area=area, offline=True)
    assert len(info.value.missing) == 4  # Overpass answer, two DEM tiles, one WorldCover tile
    assert f"{COPERNICUS_DEM.title} tile {copernicus_dem_tile(-2, 116)}" in info.value.missing
    assert asked_urls == [] and server.requests == []
    assert not (tmp_path / "out").exists()


def test_offline_after_a_fetch_needs_no_server(tmp_path: Path, policy: RetryPolicy,
                                               asked_urls: list[str]) -> None:
    server = FakeServer()
    publish_area(server, tmp_path)
    online = _fetch(server, tmp_path, policy, out="online", margin_km=32.0)
    server.close()
    asked = len(asked_urls)
    offline = _fetch(server, tmp_path, policy, out="offline", margin_km=32.0, offline=True)
    assert len(asked_urls) == asked
    assert offline.downloaded == 0 and all(d.from_cache for d in offline.downloads)
    assert [d.sha256 for d in offline.downloads] == [d.sha256 for d in online.downloads]
    for name in ("dem.tif", "landcover.tif", "towers.csv", "settlements.csv"):
        assert _sha(tmp_path / "offline" / name) == _sha(tmp_path / "online" / name)
    assert WORLDCOVER.title in (tmp_path / "offline" / "scenario.toml").read_text(
        encoding="utf-8")


def test_non_empty_output_is_refused_before_any_request(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty; pass --overwrite"):
        _fetch(server, tmp_path, policy)
    assert server.requests == []
    publish_area(server, tmp_path)
    _fetch(server, tmp_path, policy, overwrite=True)
    assert not (tmp_path / "out" / "keep.txt").exists()  # replaced as a whole
    assert (tmp_path / "out" / "scenario.toml").exists()


def test_kecamatan_by_code_keeps_its_villages(server: FakeServer, tmp_path: Path,
                                              policy: RetryPolicy) -> None:
    publish_area(server, tmp_path)
    area = area_from_options(code="64.01.05", register=REGISTER)  # Kuaro in the register
    result = _fetch(server, tmp_path, policy, area=area)
    query = overpass_query_of(server.hits("/api/interpreter")[0])
    assert 'Paser$",i]->.p0;' in query and 'Kuaro$",i]->.target;' in query
    assert result.counts["kecamatan"] == 1 and result.counts["desa"] == 2
    kec = pyogrio.read_dataframe(tmp_path / "out" / "osm.gpkg", layer="kecamatan")
    assert list(kec["code"]) == ["64.01.05"] and list(kec["name"]) == ["Kuaro"]
    text = (tmp_path / "out" / "scenario.toml").read_text(encoding="utf-8")
    assert 'title = "Kecamatan Kuaro, Kabupaten Paser"' in text


def test_margin_must_leave_room_for_coverage(server: FakeServer, tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="margin 2 km is too small"):
        _fetch(server, tmp_path, RetryPolicy(), margin_km=2.0)
