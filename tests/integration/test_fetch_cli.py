"""``towerplan fetch`` end to end against a local server, then ``towerplan validate``.

The fetch runs in-process so the network guard applies: any request not to 127.0.0.1, or to a
default source URL, fails the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.fetch.factories import (
    FakeServer,
    Reply,
    dem_path,
    guard_network,
    publish_area,
    serve,
    sources_for,
)
from towerplan.cli import main


@pytest.fixture(autouse=True)
def asked_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    return guard_network(monkeypatch, tmp_path / "user-cache")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    yield from serve()


def _fetch(server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           *args: str) -> tuple[int, str, str]:
    sources = sources_for(server)
    argv = ["fetch", "--out", str(tmp_path / "paser"), "--cache", str(tmp_path / "cache"),
            "--overpass-url", sources.overpass_url, "--dem-url", sources.dem_url,
            "--worldcover-url", sources.worldcover_url, "--margin-km", "5", *args]
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return int(info.value.code or 0), captured.out, captured.err


def test_fetch_then_validate_the_written_scenario(
        server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        asked_urls: list[str], run_cli: Callable[..., Any]) -> None:
    publish_area(server, tmp_path)
    code, out, err = _fetch(server, tmp_path, capsys, "--kabupaten", "Paser")
    assert code == 0, err
    assert "kabupaten Paser: 4 desa, 2 places, 2 towers, 1 roads, 1 power lines; 4 files, " \
           "4 downloaded" in " ".join(out.split())
    assert f"towerplan plan {tmp_path / 'paser' / 'scenario.toml'}" in " ".join(out.split())
    assert asked_urls and all(url.startswith(server.url) for url in asked_urls)
    proc = run_cli("validate", tmp_path / "paser" / "scenario.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all inputs are usable" in proc.stdout
    text = " ".join(proc.stdout.split())
    assert "osm.gpkg" in text and "dem.tif" in text and "landcover.tif" in text


def test_offline_cli_lists_missing_then_works_from_the_cache(
        server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        asked_urls: list[str]) -> None:
    code, _, err = _fetch(server, tmp_path, capsys, "--bbox", "115.9,-1.8,116.1,-1.6",
                          "--offline")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("towerplan: error: offline: 4 file(s) not "
                                                   "in the cache")
    assert "Copernicus_DSM_COG_10_S02_00_E116_00_DEM" in lines[0]
    assert asked_urls == [] and not (tmp_path / "paser").exists()

    publish_area(server, tmp_path)
    code, _, err = _fetch(server, tmp_path, capsys, "--bbox", "115.9,-1.8,116.1,-1.6")
    assert code == 0, err
    server.close()
    asked = len(asked_urls)
    code, out, err = _fetch(server, tmp_path, capsys, "--bbox", "115.9,-1.8,116.1,-1.6",
                            "--offline", "--overwrite")
    assert code == 0, err
    assert "0 downloaded" in out and len(asked_urls) == asked


def test_cli_errors_are_one_line_and_write_nothing(
        server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bodies = publish_area(server, tmp_path)
    server.add(dem_path(-2, 116), Reply(body=bodies[dem_path(-2, 116)][:300]))
    code, _, err = _fetch(server, tmp_path, capsys, "--kabupaten", "Paser")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "not a readable GeoTIFF" in lines[0]
    assert not (tmp_path / "paser").exists()

    code, _, err = _fetch(server, tmp_path, capsys, "--kabupaten", "Paser",
                          "--overpass-url", "ftp://mirror/api")
    assert code == 2 and "'sources.overpass_url' must be an http:// or https:// URL" in err

    code, _, err = _fetch(server, tmp_path, capsys, "--kabupaten", "Paser", "--code", "64.01")
    assert code == 2 and "give exactly one of --kabupaten" in err


def test_sources_and_radius_come_from_a_scenario_file(
        server: FakeServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    publish_area(server, tmp_path)
    sources = sources_for(server)
    scenario = tmp_path / "mirror.toml"
    scenario.write_text(f"""
[radio]
max_radius_km = 4

[sources]
overpass_url = "{sources.overpass_url}"
dem_url = "{sources.dem_url}"
worldcover_url = "{sources.worldcover_url}"
""", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["fetch", str(scenario), "--kabupaten", "Paser", "--out", str(tmp_path / "p"),
              "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert info.value.code in (0, None), err
    assert len(server.hits("/api/interpreter")) == 1
    written = (tmp_path / "p" / "scenario.toml").read_text(encoding="utf-8")
    assert f'dem_url = "{sources.dem_url}"' in written
    assert "[radio]\nmax_radius_km = 4.0" in written  # default margin = 4 km + 2 km
    report = json.loads((tmp_path / "p" / "sources.json").read_text(encoding="utf-8"))
    assert report["margin_km"] == 6.0
