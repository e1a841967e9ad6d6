"""Tests of the land-cover and land-mask loaders (towerplan.io.landcover)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import InputDataError, InputFileError
from towerplan.io.landcover import WORLDCOVER_CLASSES, read_landcover, read_landmask
from towerplan.io.rasters import RasterGrid, write_raster

UTM50S = CRS.from_epsg(32750)
ORIGIN = (385_020.0, 9_815_040.0)


def _write(tmp_path, name, array, res, crs=UTM50S, origin=ORIGIN, nodata=0):
    transform = Affine(res, 0, origin[0], 0, -res, origin[1])
    return write_raster(tmp_path / name, RasterGrid(array, transform, crs, nodata))


def test_worldcover_classes():
    assert len(WORLDCOVER_CLASSES) == 11
    assert WORLDCOVER_CLASSES[10] == "Tree cover"
    assert WORLDCOVER_CLASSES[95] == "Mangroves"
    assert WORLDCOVER_CLASSES[100] == "Moss and lichen"
    assert sorted(WORLDCOVER_CLASSES) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]


def test_same_grid_is_unchanged(tmp_path):
    classes = np.full((20, 30), 10, dtype=np.uint8)
    classes[:, 20:] = 80
    classes[:5, :5] = 50
    path = _write(tmp_path, "lc.tif", classes, 10.0)
    transform = Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1])
    out, report = read_landcover(path, dst_crs=UTM50S, transform=transform, shape=(20, 30))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, classes)
    assert report.layer == "landcover"
    assert report.count == 600
    assert report.problems == ()
    shares = next(n for n in report.notes if n.startswith("class shares"))
    assert shares == ("class shares: Tree cover 62.5 %, Permanent water bodies 33.3 %, "
                      "Built-up 4.2 %")
    assert "nearest resampling" in report.notes[0]


def test_coarser_grid_takes_the_mode(tmp_path):
    classes = np.full((30, 30), 10, dtype=np.uint8)
    classes[::3, :] = 40  # one row in three is cropland
    path = _write(tmp_path, "lc.tif", classes, 10.0)
    transform = Affine(30.0, 0, ORIGIN[0], 0, -30.0, ORIGIN[1])
    out, report = read_landcover(path, dst_crs=UTM50S, transform=transform, shape=(10, 10))
    assert (out == 10).all()
    assert "mode resampling" in report.notes[0]


def test_unknown_codes_and_nodata_reported(tmp_path):
    classes = np.full((10, 10), 20, dtype=np.uint8)
    classes[0, :3] = 7
    classes[1, 0] = 0  # WorldCover nodata
    path = _write(tmp_path, "lc.tif", classes, 10.0)
    transform = Affine(10.0, 0, ORIGIN[0], 0, -10.0, ORIGIN[1])
    out, report = read_landcover(path, dst_crs=UTM50S, transform=transform, shape=(10, 12))
    assert (out[0, :3] == 0).all() and out[1, 0] == 0 and (out[:, 10:] == 0).all()
    assert report.count == 100 - 4
    assert report.problems[0] == ("codes 7 (3 cells) are not ESA WorldCover classes; treated as "
                                  "no data")
    assert len(report.problems) == 1
    assert report.notes[1].startswith("24 cells (0.00 km²) have no land cover: no clutter loss")


def test_landcover_reprojected_from_geographic(tmp_path):
    res = 0.0001
    classes = np.full((200, 200), 10, dtype=np.uint8)
    classes[:, 100:] = 40
    path = _write(tmp_path, "lc4326.tif", classes, res, crs=CRS.from_epsg(4326),
                  origin=(115.99, -1.69))
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    x0, y0 = to_utm.transform(115.991, -1.691)
    x1, _ = to_utm.transform(115.999, -1.691)
    transform = Affine(30.0, 0, x0, 0, -30.0, y0)
    out, _ = read_landcover(path, dst_crs=UTM50S, transform=transform, shape=(20, 60))
    boundary_x = to_utm.transform(116.0, -1.695)[0]
    xs = x0 + 30.0 * (np.arange(60) + 0.5)
    assert (out[:, xs < boundary_x - 30] == 10).all()
    assert (out[:, xs > boundary_x + 30] == 40).all()
    assert x1 < boundary_x


def test_landmask(tmp_path):
    mask = np.ones((10, 10), dtype=np.uint8)
    mask[:, 7:] = 0
    mask[0, 0] = 2
    path = _write(tmp_path, "mask.tif", mask, 100.0, nodata=255)
    transform = Affine(100.0, 0, ORIGIN[0], 0, -100.0, ORIGIN[1])
    land, report = read_landmask(path, dst_crs=UTM50S, transform=transform, shape=(12, 10))
    assert land.dtype == bool
    assert not land[0, 0]
    assert land[1:10, :7].all()
    assert not land[:10, 7:].any()
    assert land[10:, :].all()  # outside the mask: treated as land
    assert report.layer == "landmask"
    assert report.count == 100
    assert report.problems == (
        "1 cells hold values 2, neither 0 (water) nor 1 (land); treated as water",
    )
    assert "20 cells (0.20 km²) outside the mask or nodata; treated as land" in report.notes
    assert "land 69.0 % of 100 cells with data" in report.notes


def test_errors(tmp_path):
    transform = Affine(100.0, 0, ORIGIN[0], 0, -100.0, ORIGIN[1])
    with pytest.raises(InputFileError, match="land cover file not found"):
        read_landcover(tmp_path / "x.tif", dst_crs=UTM50S, transform=transform, shape=(2, 2))
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"\x00\x01garbage")
    with pytest.raises(InputFileError, match="junk.tif"):
        read_landmask(junk, dst_crs=UTM50S, transform=transform, shape=(2, 2))
    nocrs = tmp_path / "nocrs.tif"
    with rasterio.open(nocrs, "w", driver="GTiff", width=2, height=2, count=1, dtype="uint8",
                       transform=transform) as dst:
        dst.write(np.ones((1, 2, 2), dtype=np.uint8))
    with pytest.raises(InputDataError, match="has no CRS"):
        read_landcover(nocrs, dst_crs=UTM50S, transform=transform, shape=(2, 2))
