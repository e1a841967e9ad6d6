"""Tests of the terrain loader (towerplan.io.terrain) and the raster reader it uses."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS, Transformer

from towerplan.errors import (
    DEMCoverageError,
    InputDataError,
    InputFileError,
    NodataRepairWarning,
)
from towerplan.io.rasters import (
    RasterGrid,
    footprint_onto,
    grid_bounds,
    read_raster_onto,
    snap_grid,
    write_raster,
)
from towerplan.io.terrain import read_dem, utm_crs_for

UTM50S = CRS.from_epsg(32750)
#: Upper-left corner of generated UTM DEMs, on multiples of 90 m (near 116 E, 1.7 S).
ORIGIN = (385_020.0, 9_815_040.0)
RES = 90.0


def _bounds(rows: int, cols: int, origin: tuple[float, float] = ORIGIN,
            res: float = RES) -> tuple[float, float, float, float]:
    return (origin[0], origin[1] - rows * res, origin[0] + cols * res, origin[1])


def _cell(grid: RasterGrid, x: float, y: float) -> tuple[int, int]:
    t = grid.transform
    return int((y - t.f) // t.e), int((x - t.c) // t.a)


def _sample(grid: RasterGrid, x: float, y: float) -> float:
    return float(grid.array[_cell(grid, x, y)])


@pytest.mark.parametrize(("lon", "lat", "epsg"), [
    (116.0, -1.7, 32750),      # Paser
    (98.67, 3.59, 32647),      # Medan, north of the equator
    (106.8, -6.2, 32748),      # Jakarta
    (-180.0, 10.0, 32601),
    (180.0, -10.0, 32760),
    (0.0, 0.0, 32631),
])
def test_utm_zone(lon, lat, epsg):
    assert utm_crs_for(lon, lat).to_epsg() == epsg


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 0.0), (0.0, -91.0), (float("nan"), 0.0)])
def test_utm_zone_rejects_non_degrees(lon, lat):
    with pytest.raises(InputDataError, match="cannot choose a UTM zone"):
        utm_crs_for(lon, lat)


def test_snap_grid_outward():
    transform, shape = snap_grid((1010.0, 2020.0, 1290.0, 2200.0), 100.0)
    assert grid_bounds(transform, shape) == (1000.0, 2000.0, 1300.0, 2200.0)
    transform, shape = snap_grid((1000.0, 2000.0, 1300.0, 2200.0), 100.0)
    assert shape == (2, 3)


def test_flat_dem_on_aligned_grid(make_dem):
    path = make_dem(shape=(60, 80), kind="flat", origin=ORIGIN)
    grid, report = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80), resolution_m=RES)
    assert grid.shape == (60, 80)
    assert grid.array.dtype == np.float32
    assert grid.crs.equals(UTM50S)
    assert grid.transform == Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])
    np.testing.assert_allclose(grid.array, 100.0)
    assert report.layer == "terrain"
    assert report.crs == "EPSG:32750"
    assert report.count == 60 * 80
    assert report.repairs == () and report.problems == ()
    west, south, east, north = report.extent
    assert west < 116.0 < east and south < -1.7 < north


def test_bounds_snapped_to_resolution(make_dem):
    path = make_dem(origin=ORIGIN)
    west, south, east, north = _bounds(60, 80)
    grid, _ = read_dem([path], dst_crs=UTM50S, bounds=(west + 7, south + 7, east - 7, north - 7),
                       resolution_m=RES)
    assert grid.transform.c % RES == 0 and grid.transform.f % RES == 0
    assert grid_bounds(grid.transform, grid.shape) == (west, south, east, north)


def test_input_not_modified_and_shape_kept(make_dem):
    path = make_dem(kind="ridge", origin=ORIGIN)
    before = path.read_bytes()
    grid, _ = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80), resolution_m=RES)
    assert path.read_bytes() == before
    with rasterio.open(path) as ds:
        np.testing.assert_allclose(grid.array, ds.read(1), atol=1e-3)


def test_mosaic_of_two_tiles_equals_single_file(make_dem):
    single = make_dem(shape=(60, 80), kind="ridge", origin=ORIGIN, name="single.tif")
    west = make_dem(shape=(60, 40), kind="ridge", origin=ORIGIN, name="west.tif")
    east = make_dem(shape=(60, 40), kind="ridge", origin=(ORIGIN[0] + 40 * RES, ORIGIN[1]),
                    name="east.tif")
    bounds = _bounds(60, 80)
    one, _ = read_dem([single], dst_crs=UTM50S, bounds=bounds, resolution_m=RES)
    two, report = read_dem([west, east], dst_crs=UTM50S, bounds=bounds, resolution_m=RES)
    np.testing.assert_allclose(two.array, one.array, atol=1e-3)
    assert report.source.count(";") == 1
    assert report.problems == ()


def test_mosaic_reprojected_matches_single_file(make_dem):
    res_deg = 100.0 / 110_574.0
    kwargs = {"kind": "slope", "crs": "EPSG:4326", "res_m": 100.0}
    single = make_dem(shape=(60, 80), origin=(116.0, -1.7), name="single.tif", **kwargs)
    west = make_dem(shape=(60, 40), origin=(116.0, -1.7), name="west.tif", **kwargs)
    east = make_dem(shape=(60, 40), origin=(116.0 + 40 * res_deg, -1.7), name="east.tif",
                    **kwargs)
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    w, s, e, n = to_utm.transform_bounds(116.0, -1.7 - 60 * res_deg, 116.0 + 80 * res_deg, -1.7)
    bounds = (w + 500, s + 500, e - 500, n - 500)
    one, _ = read_dem([single], dst_crs=UTM50S, bounds=bounds, resolution_m=RES)
    two, _ = read_dem([west, east], dst_crs=UTM50S, bounds=bounds, resolution_m=RES)
    assert not np.isnan(two.array).any()
    seam_x = to_utm.transform(116.0 + 40 * res_deg, -1.7)[0]
    x, _ = two.xy()
    away = np.abs(x - seam_x) > 100.0
    np.testing.assert_allclose(two.array[:, away], one.array[:, away], atol=1e-3)
    # Next to the seam each tile is interpolated on its own: within half a source cell
    # of slope (0.02 m/m x 50 m).
    np.testing.assert_allclose(two.array, one.array, atol=1.0)


def test_reprojection_preserves_known_elevation(make_dem, elevation_at):
    path = make_dem(shape=(120, 120), kind="slope", crs="EPSG:4326", res_m=30.0,
                    origin=(115.98, -1.68))
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    lon, lat = 116.0, -1.7
    x, y = to_utm.transform(lon, lat)
    grid, report = read_dem([path], dst_crs=UTM50S, bounds=(x - 900, y - 900, x + 900, y + 900),
                            resolution_m=30.0)
    # Sample at the centre of the cell containing the point, back in lon/lat.
    row, col = _cell(grid, x, y)
    cx, cy = grid.xy()[0][col], grid.xy()[1][row]
    clon, clat = Transformer.from_crs(UTM50S, 4326, always_xy=True).transform(cx, cy)
    expected = float(elevation_at("slope", np.array(clon), np.array(clat)))
    assert _sample(grid, x, y) == pytest.approx(expected, abs=0.05)
    assert "EPSG:4326" in report.notes[0]


def test_hgt_tile(make_dem, elevation_at):
    path = make_dem(shape=(1201, 1201), kind="slope", fmt="hgt", origin=(116, -1))
    assert path.name == "S02E116.hgt"
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    x, y = to_utm.transform(116.5, -1.5)
    grid, report = read_dem([path], dst_crs=UTM50S, bounds=(x - 3000, y - 3000, x + 3000, y + 3000),
                            resolution_m=RES)
    assert "SRTMHGT 1201x1201 int16" in report.notes[0]
    xs, ys = grid.xy()
    gx, gy = np.meshgrid(xs, ys)
    lon, lat = Transformer.from_crs(UTM50S, 4326, always_xy=True).transform(gx, gy)
    np.testing.assert_allclose(grid.array, elevation_at("slope", lon, lat), atol=1.0)


def test_hgt_nodata_filled(make_dem):
    path = make_dem(shape=(1201, 1201), kind="flat", fmt="hgt", nodata_holes=1)
    to_utm = Transformer.from_crs(4326, UTM50S, always_xy=True)
    x, y = to_utm.transform(116.5, -1.5)
    with pytest.warns(NodataRepairWarning, match="of nodata filled"):
        grid, report = read_dem([path], dst_crs=UTM50S,
                                bounds=(x - 1000, y - 1000, x + 1000, y + 1000),
                                resolution_m=30.0)
    np.testing.assert_allclose(grid.array, 100.0)
    assert report.repairs


def test_holes_filled_and_counted(make_dem):
    path = make_dem(kind="slope", origin=ORIGIN, nodata_holes=2)
    with pytest.warns(NodataRepairWarning, match=r"18 cells \(0\.15 km²\) of nodata filled"):
        grid, report = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80),
                                resolution_m=RES)
    assert report.repairs == ("18 cells (0.15 km²) of nodata filled",)
    assert report.problems == ()
    assert not np.isnan(grid.array).any()
    # The filled cells lie on a plane rising 1.8 m per cell: interpolation stays close.
    block = grid.array[19:22, 25:28]
    left, right = grid.array[20, 24], grid.array[20, 28]
    assert left < block[1, 1] < right


def test_fill_limited_by_distance(make_dem):
    path = make_dem(kind="flat", origin=ORIGIN, nodata_holes=2)
    with pytest.warns(NodataRepairWarning, match="16 cells"):
        grid, report = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80),
                                resolution_m=RES, max_fill_distance_m=RES)
    assert np.isnan(grid.array).sum() == 2
    assert report.problems == ()
    assert any(n.startswith("2 nodata cells (0.0 % of the DEM cells, 0.02 km²) left unfilled "
                            f"(farther than {RES:g} m from data") for n in report.notes)
    assert len(report.limitations) == 1 and "2 DEM cells (0.0 %)" in report.limitations[0]


def test_fill_switched_off(make_dem):
    path = make_dem(kind="flat", origin=ORIGIN, nodata_holes=1)
    grid, report = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80), resolution_m=RES,
                            fill_nodata=False)
    assert np.isnan(grid.array).sum() == 9
    assert report.repairs == ()
    assert report.problems == ()
    # 9 of the 60 x 80 cells: the share is stated, and the cells stay without elevation.
    assert any("9 nodata cells (0.2 % of the DEM cells, 0.07 km²) left unfilled (fill_nodata "
               "is off): they have no elevation" in n for n in report.notes)
    assert "9 DEM cells (0.2 %) have no elevation" in report.limitations[0]


def test_int16_nodata_does_not_leak(make_dem):
    path = make_dem(kind="flat", origin=ORIGIN, nodata_holes=1, dtype="int16")
    with pytest.warns(NodataRepairWarning):
        grid, _ = read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80),
                           resolution_m=30.0)
    np.testing.assert_allclose(grid.array, 100.0)


def test_no_extrapolation_outside_files(tmp_path):
    array = np.full((40, 40), 50.0, dtype=np.float32)
    array[10:20, 37:] = np.nan  # a gap open to the file's east edge
    transform = Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])
    path = write_raster(tmp_path / "edge.tif", RasterGrid(array, transform, UTM50S))
    bounds = _bounds(40, 60)  # 20 columns east of the file
    grid, report = read_dem([path], dst_crs=UTM50S, bounds=bounds, resolution_m=RES)
    assert np.isnan(grid.array[:, 40:]).all()
    assert np.isnan(grid.array[10:20, 37:40]).all()
    assert report.repairs == ()
    assert report.problems == ()
    assert any("30 nodata cells" in n and "left unfilled" in n for n in report.notes)
    assert any("800 grid cells" in n and "outside every DEM file" in n for n in report.notes)


def test_coverage_error_names_uncovered_part(make_dem):
    path = make_dem(kind="flat", origin=ORIGIN)
    west, south, east, north = _bounds(60, 80)
    villages = (west + 1000, south + 1000, east + 20_000, north - 1000)
    bounds = (west, south, east + 25_000, north)
    with pytest.raises(DEMCoverageError) as info:
        read_dem([path], dst_crs=UTM50S, bounds=bounds, resolution_m=RES,
                 require_bounds=villages)
    message = str(info.value)
    assert "villages extend to 116.21 E but the DEM ends at 116.03 E" in message
    assert "uncovered part 116.03 E to 116.21 E" in message
    assert "DEM extent 115.97 E to 116.03 E, 1.72 S to 1.67 S" in message
    assert "S02E116.hgt" in message
    assert isinstance(info.value, InputDataError)
    assert info.value.problems


def test_coverage_satisfied(make_dem):
    path = make_dem(kind="flat", origin=ORIGIN)
    west, south, east, north = _bounds(60, 80)
    grid, _ = read_dem([path], dst_crs=UTM50S, bounds=(west - 900, south, east, north),
                       resolution_m=RES, require_bounds=(west + 500, south + 500, east, north))
    assert np.isnan(grid.array[:, :10]).all()


def test_missing_files_all_named(tmp_path, make_dem):
    path = make_dem(origin=ORIGIN)
    with pytest.raises(InputFileError, match=r"DEM file\(s\) not found: .*a\.tif, .*b\.hgt"):
        read_dem([tmp_path / "a.tif", path, tmp_path / "b.hgt"], dst_crs=UTM50S,
                 bounds=_bounds(60, 80), resolution_m=RES)


def test_corrupt_raster_named(tmp_path, make_dem):
    path = make_dem(shape=(600, 600), kind="ridge", origin=ORIGIN, name="broken.tif")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="broken.tif"):
        read_dem([path], dst_crs=UTM50S, bounds=_bounds(600, 600), resolution_m=RES)


def test_not_a_raster(tmp_path):
    path = tmp_path / "dem.tif"
    path.write_text("not a raster")
    with pytest.raises(InputFileError, match=r"cannot read DEM file .*dem\.tif as a raster"):
        read_dem([path], dst_crs=UTM50S, bounds=_bounds(60, 80), resolution_m=RES)


def test_raster_without_crs(tmp_path):
    path = tmp_path / "nocrs.tif"
    profile = {"driver": "GTiff", "width": 10, "height": 10, "count": 1, "dtype": "float32",
               "transform": Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.zeros((1, 10, 10), dtype=np.float32))
    with pytest.raises(InputDataError, match=r"nocrs\.tif has no CRS"):
        read_dem([path], dst_crs=UTM50S, bounds=_bounds(10, 10), resolution_m=RES)


def test_geographic_working_crs_rejected(make_dem):
    path = make_dem(origin=ORIGIN)
    with pytest.raises(ValueError, match="projected in metres"):
        read_dem([path], dst_crs=CRS.from_epsg(4326), bounds=(115.9, -1.8, 116.1, -1.6),
                 resolution_m=0.001)


def test_read_raster_onto_first_valid_wins(tmp_path):
    transform = Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])
    first = np.full((10, 10), 1.0, dtype=np.float32)
    first[:, :5] = np.nan
    second = np.full((10, 10), 2.0, dtype=np.float32)
    a = write_raster(tmp_path / "a.tif", RasterGrid(first, transform, UTM50S))
    b = write_raster(tmp_path / "b.tif", RasterGrid(second, transform, UTM50S))
    out = read_raster_onto([a, b], dst_crs=UTM50S, transform=transform, shape=(10, 12),
                           resampling="nearest", dst_dtype="float32")
    assert (out[:, :5] == 2.0).all()
    assert (out[:, 5:10] == 1.0).all()
    assert np.isnan(out[:, 10:]).all()
    ints = read_raster_onto(a, dst_crs=UTM50S, transform=transform, shape=(10, 12),
                            resampling="nearest", dst_dtype="int16", dst_nodata=-1)
    assert (ints[:, :5] == -1).all() and (ints[:, 5:10] == 1).all()
    inside = footprint_onto([a], dst_crs=UTM50S, transform=transform, shape=(10, 12))
    assert inside[:, :10].all() and not inside[:, 10:].any()


@pytest.mark.parametrize(("dtype", "nodata"), [("int16", -32768), ("float32", float("nan")),
                                               ("float32", -9999.0), ("uint8", 0)])
@pytest.mark.parametrize("offset", [(0, 0), (-7, 5), (25, -30)])
@pytest.mark.parametrize("resampling", ["nearest", "bilinear", "cubic", "cubic_spline",
                                        "average"])
def test_file_on_the_grid_lattice_is_read_as_the_warper_would(tmp_path, dtype, nodata, offset,
                                                              resampling):
    """A file on the target grid's lattice is read as a window: the same values as warping."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    from towerplan.io.rasters import _lattice_offset

    rng = np.random.default_rng(7)
    values = (rng.random((60, 50)) * 200).astype(dtype)
    values[rng.random(values.shape) < 0.05] = nodata
    values[20:30, 10:25] = nodata
    src = Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1])
    path = tmp_path / "lattice.tif"
    with rasterio.open(path, "w", driver="GTiff", width=50, height=60, count=1, dtype=dtype,
                       crs="EPSG:32750", transform=src, nodata=nodata) as dst:
        dst.write(values, 1)
    target = src @ Affine.translation(offset[1], offset[0])
    shape = (55, 70)
    with rasterio.open(path) as ds:  # the window is taken, not the warper
        assert _lattice_offset(ds, ds.crs, target) == offset
    for out_dtype in ("float32", dtype):
        fill = float("nan") if out_dtype == "float32" else 0
        got = read_raster_onto(path, dst_crs=UTM50S, transform=target, shape=shape,
                               resampling=resampling, dst_dtype=out_dtype)
        warped = np.full(shape, fill, dtype=out_dtype)
        with rasterio.open(path) as ds:
            reproject(rasterio.band(ds, 1), warped, src_nodata=ds.nodata, dst_transform=target,
                      dst_crs=UTM50S.to_wkt(), dst_nodata=fill,
                      resampling=Resampling[resampling])
        assert got.dtype == warped.dtype
        np.testing.assert_array_equal(got, warped)
    inside = footprint_onto(path, dst_crs=UTM50S, transform=target, shape=shape)
    off_lattice = footprint_onto(path, dst_crs=UTM50S,
                                 transform=target @ Affine.translation(1e-3, 0), shape=shape)
    np.testing.assert_array_equal(inside, off_lattice)


def test_overviews_of_an_integer_raster_hold_its_own_values(tmp_path):
    # server indices 0 and 3 in a checkerboard of single cells: an averaged overview would
    # hold 1 or 2 (no server's index); the nearest cell keeps 0 and 3. Floats still average.
    rows, cols = 1100, 1100  # above one 512 px block, so the COG has overviews
    board = ((np.arange(rows)[:, None] + np.arange(cols)[None, :]) % 2 * 3).astype(np.int32)
    transform = Affine(RES, 0.0, ORIGIN[0], 0.0, -RES, ORIGIN[1])
    index = write_raster(tmp_path / "server.tif", RasterGrid(board, transform, UTM50S, -1))
    level = write_raster(tmp_path / "level.tif",
                         RasterGrid(board.astype(np.float32), transform, UTM50S))
    with rasterio.open(index) as src:
        assert src.overviews(1)
        coarse = src.read(1, out_shape=(rows // 2, cols // 2))
        np.testing.assert_array_equal(src.read(1), board)
    assert set(np.unique(coarse).tolist()) <= {0, 3}
    with rasterio.open(level) as src:
        np.testing.assert_allclose(src.read(1, out_shape=(rows // 2, cols // 2)), 1.5)
