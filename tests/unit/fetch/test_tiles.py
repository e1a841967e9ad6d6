"""Tile names, tile selection, GeoTIFF checks and mosaics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.unit.fetch.factories import dem_tile_bytes, dem_value, worldcover_tile_bytes
from towerplan.fetch.http import DownloadError
from towerplan.fetch.tiles import (
    COPERNICUS_DEM,
    WORLDCOVER,
    copernicus_dem_tile,
    mosaic,
    tiles_for,
    verify_geotiff,
    worldcover_tile,
)


@pytest.mark.parametrize(("lat", "lon", "name"), [
    (-2, 116, "Copernicus_DSM_COG_10_S02_00_E116_00_DEM"),
    (-1, 115, "Copernicus_DSM_COG_10_S01_00_E115_00_DEM"),
    (0, 0, "Copernicus_DSM_COG_10_N00_00_E000_00_DEM"),
    (45, -120, "Copernicus_DSM_COG_10_N45_00_W120_00_DEM"),
])
def test_copernicus_names(lat: int, lon: int, name: str) -> None:
    assert copernicus_dem_tile(lat, lon) == name


def test_urls_follow_the_bucket_layouts() -> None:
    name = copernicus_dem_tile(-2, 116)
    assert COPERNICUS_DEM.url("https://copernicus-dem-30m.s3.amazonaws.com/", name) == (
        "https://copernicus-dem-30m.s3.amazonaws.com/Copernicus_DSM_COG_10_S02_00_E116_00_DEM/"
        "Copernicus_DSM_COG_10_S02_00_E116_00_DEM.tif")
    assert WORLDCOVER.url("https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map",
                          worldcover_tile(-3, 114)) == (
        "https://esa-worldcover.s3.eu-central-1.amazonaws.com/v200/2021/map/"
        "ESA_WorldCover_10m_2021_v200_S03E114_Map.tif")
    assert worldcover_tile(3, -9) == "ESA_WorldCover_10m_2021_v200_N03W009_Map.tif"


def test_tiles_cover_the_bbox_and_nothing_more() -> None:
    # Paser with a 32 km margin: 3 x 2 Copernicus tiles, one WorldCover tile.
    bbox = (115.25, -2.71, 116.89, -0.75)
    dem = tiles_for(COPERNICUS_DEM, bbox)
    assert [t.name[22:40] for t in dem] == [
        "S01_00_E115_00_DEM", "S01_00_E116_00_DEM", "S02_00_E115_00_DEM",
        "S02_00_E116_00_DEM", "S03_00_E115_00_DEM", "S03_00_E116_00_DEM"]
    assert dem[0].bounds == (115.0, -1.0, 116.0, 0.0)
    assert [t.name for t in tiles_for(WORLDCOVER, bbox)] == [worldcover_tile(-3, 114)]
    # Edges on whole degrees take no extra row or column of tiles.
    assert len(tiles_for(COPERNICUS_DEM, (115.0, -2.0, 116.0, -1.0))) == 1
    assert len(tiles_for(WORLDCOVER, (114.0, -3.0, 117.0, 0.0))) == 1
    assert len(tiles_for(WORLDCOVER, (116.5, -0.5, 117.5, 0.5))) == 4


def test_verify_accepts_a_good_tile_and_rejects_damaged_ones(tmp_path: Path) -> None:
    good = tmp_path / "good.tif"
    good.write_bytes(dem_tile_bytes(tmp_path, -2, 116))
    verify_geotiff(good, label="tile A", url="http://x/a.tif")
    data = good.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DownloadError, match=r"^tile A: the file downloaded from http://x/a.tif "
                                            r"is not a readable GeoTIFF \(.+nothing was cached"):
        verify_geotiff(cut, label="tile A", url="http://x/a.tif")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"<html>503 Service Unavailable</html>" * 20)
    with pytest.raises(DownloadError, match="not a readable GeoTIFF"):
        verify_geotiff(junk, label="tile A", url="http://x/a.tif")


def test_mosaic_joins_tiles_on_their_grid_and_clips(tmp_path: Path) -> None:
    west_tile, east_tile = tmp_path / "w.tif", tmp_path / "e.tif"
    west_tile.write_bytes(dem_tile_bytes(tmp_path, -2, 115))
    east_tile.write_bytes(dem_tile_bytes(tmp_path, -2, 116))
    grid = mosaic([west_tile, east_tile], (115.853, -1.8449, 116.1449, -1.5551))
    # Widened to whole 0.01 degree pixels of the tiles' grid.
    assert grid.transform.c == pytest.approx(115.85) and grid.transform.f == pytest.approx(-1.55)
    assert grid.shape == (30, 30)
    xs, ys = grid.xy()
    expected = dem_value(xs[None, :], ys[:, None])
    np.testing.assert_allclose(grid.array, expected, atol=1e-3)
    assert grid.crs.to_epsg() == 4326 and grid.nodata is None


def test_mosaic_fills_unpublished_tiles_with_the_sea_value(tmp_path: Path) -> None:
    tile = tmp_path / "w.tif"
    tile.write_bytes(dem_tile_bytes(tmp_path, -2, 115))
    grid = mosaic([tile], (115.9, -2.05, 116.05, -1.95), sea_boxes=[(116.0, -2.0, 117.0, -1.0),
                                                                    (115.0, -3.0, 116.0, -2.0)],
                  sea_value=0.0)
    xs, ys = grid.xy()
    west, north = (xs < 116.0)[None, :], (ys > -2.0)[:, None]
    land = west & north
    np.testing.assert_allclose(grid.array[land], dem_value(*np.meshgrid(xs, ys))[land],
                               atol=1e-3)
    assert np.all(grid.array[(~west & north) | (west & ~north)] == 0.0)
    # The south-east corner lies in a tile no box names: it stays nodata.
    assert np.isnan(grid.array[~west & ~north]).all()


def test_mosaic_of_classes_keeps_integer_codes(tmp_path: Path) -> None:
    tile = tmp_path / "wc.tif"
    tile.write_bytes(worldcover_tile_bytes(tmp_path, -3, 114))
    grid = mosaic([tile], (115.95, -1.7, 116.05, -1.6))
    assert grid.array.dtype == np.uint8 and grid.nodata == 0.0
    xs, _ = grid.xy()
    assert set(np.unique(grid.array[:, xs < 116.0])) == {10}
    assert set(np.unique(grid.array[:, xs > 116.0])) == {40}
