"""Coverage maps: polygons (GeoJSON, KML) and GeoTIFFs (RSRP, 0/1), read and checked."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS
from shapely.geometry import box

from towerplan.errors import InputDataError
from towerplan.io.coverage_maps import (
    MapSpec,
    grid_levels,
    parse_technology,
    read_coverage_maps,
    unit_levels,
)

UTM = CRS.from_epsg(32750)  # UTM 50S (Kalimantan Timur)
# The area: a 4 x 4 km square in UTM 50S.
X0, Y0 = 500_000.0, 9_800_000.0
AREA = box(X0, Y0, X0 + 4000.0, Y0 + 4000.0)


def _tif(path: Path, values: np.ndarray, *, nodata: float | None = -9999.0,
         crs: str | None = "EPSG:32750", cell_m: float = 1000.0) -> Path:
    transform = Affine(cell_m, 0.0, X0, 0.0, -cell_m, Y0 + 4000.0)
    with rasterio.open(path, "w", driver="GTiff", height=values.shape[0],
                       width=values.shape[1], count=1, dtype="float32", crs=crs,
                       transform=transform, nodata=nodata) as ds:
        ds.write(values.astype("float32"), 1)
    return path


def _centres() -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of the 4 x 4 km raster, row by row from the north."""
    cols, rows = np.meshgrid(np.arange(4), np.arange(4))
    return (X0 + 500.0 + 1000.0 * cols.ravel(), Y0 + 3500.0 - 1000.0 * rows.ravel())


def _geojson(path: Path, frame: gpd.GeoDataFrame) -> Path:
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def test_rsrp_raster_covers_exactly_the_cells_at_or_above_the_threshold(
        tmp_path: Path) -> None:
    rsrp = np.array([[-80.0, -104.9, -105.0, -105.1],
                     [-120.0, -9999.0, -90.0, -110.0],
                     [-105.0, -106.0, -70.0, -130.0],
                     [-100.0, -100.0, -9999.0, -104.0]])
    path = _tif(tmp_path / "rsrp.tif", rsrp)
    (one,), report = read_coverage_maps([MapSpec(path, technology="4g",
                                                 threshold_dbm=-105.0)], crs=UTM, area=AREA)
    assert one.kind == "rsrp"
    x, y = _centres()
    level = unit_levels(one, x, y, UTM)
    expected = (rsrp >= -105.0) & (rsrp != -9999.0)
    assert (level.reshape(4, 4) == np.where(expected, 4, 0)).all()
    assert int(expected.sum()) == 9
    assert "9 of 14 cells with data covered (RSRP >= -105 dBm, 4g)" in report.notes[0]
    # The same map with a stricter threshold.
    (strict,), _ = read_coverage_maps([MapSpec(path, technology="4g", threshold_dbm=-100.0)],
                                      crs=UTM, area=AREA)
    assert int((unit_levels(strict, x, y, UTM) > 0).sum()) == 5  # -80 -90 -70 -100 -100


def test_binary_raster_is_inferred_and_resampled_onto_a_grid(tmp_path: Path) -> None:
    values = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 255, 0], [0, 0, 0, 1]], float)
    path = _tif(tmp_path / "binary.tif", values, nodata=255)
    (one,), _ = read_coverage_maps([MapSpec(path, technology="3g")], crs=UTM, area=AREA)
    assert one.kind == "binary"
    x, y = _centres()
    assert list(np.flatnonzero(unit_levels(one, x, y, UTM))) == [0, 4, 5, 15]
    # A 500 m grid over the same square: each raster cell becomes 2 x 2 grid cells.
    grid = grid_levels(one, Affine(500.0, 0.0, X0, 0.0, -500.0, Y0 + 4000.0), (8, 8), UTM)
    assert int((grid == 3).sum()) == 16
    assert (grid[:2, :2] == 3).all() and (grid[6:, 6:] == 3).all() and grid[0, 2] == 0


def test_polygons_with_a_technology_per_feature(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"technology": ["LTE", None, "2G"]},
        geometry=[box(X0, Y0, X0 + 2000, Y0 + 2000), box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000),
                  box(X0, Y0, X0 + 4000, Y0 + 4000)], crs=UTM).to_crs("EPSG:4326")
    path = _geojson(tmp_path / "tsel.geojson", frame)
    (one,), report = read_coverage_maps([MapSpec(path, technology="3g", operator="T")],
                                        crs=UTM, area=AREA)
    assert one.kind == "polygons" and one.technologies == ("2g", "3g", "4g")
    x = np.array([X0 + 1000.0, X0 + 3000.0, X0 + 3000.0, X0 + 5000.0])
    y = np.array([Y0 + 1000.0, Y0 + 1000.0, Y0 + 3000.0, Y0 + 1000.0])
    assert unit_levels(one, x, y, UTM).tolist() == [4, 3, 2, 0]
    assert "3 polygons (2g, 3g, 4g)" in report.notes[0]
    grid = grid_levels(one, Affine(1000.0, 0.0, X0, 0.0, -1000.0, Y0 + 4000.0), (4, 4), UTM)
    assert grid.tolist() == [[2, 2, 2, 2], [2, 2, 2, 2], [4, 4, 3, 3], [4, 4, 3, 3]]


def test_kml_polygons_in_folders(tmp_path: Path) -> None:
    lon0, lat0, lon1, lat1 = gpd.GeoSeries([AREA], crs=UTM).to_crs("EPSG:4326").total_bounds
    ring = f"{lon0},{lat0},0 {lon1},{lat0},0 {lon1},{lat1},0 {lon0},{lat1},0 {lon0},{lat0},0"
    kml = tmp_path / "coverage.kml"
    kml.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>cov</name>
<Folder><name>4G</name><Placemark><name>a</name>
<ExtendedData><Data name="technology"><value>4G</value></Data></ExtendedData>
<Polygon><outerBoundaryIs><LinearRing><coordinates>{ring}</coordinates></LinearRing>
</outerBoundaryIs></Polygon></Placemark></Folder>
<Folder><name>labels</name><Placemark><name>b</name>
<Point><coordinates>{lon0},{lat0},0</coordinates></Point></Placemark></Folder>
</Document></kml>""", encoding="utf-8")
    (one,), report = read_coverage_maps([MapSpec(kml)], crs=UTM, area=AREA)
    assert one.technologies == ("4g",)
    assert unit_levels(one, np.array([X0 + 2000.0]), np.array([Y0 + 2000.0]), UTM).tolist() \
        == [4]
    assert "1 polygons (4g), 1 features that are not polygons ignored" in report.notes[0]


def test_every_bad_map_is_one_problem(tmp_path: Path) -> None:
    empty = _tif(tmp_path / "empty.tif", np.full((4, 4), -9999.0))
    far = gpd.GeoDataFrame(geometry=[box(X0 + 50_000, Y0, X0 + 51_000, Y0 + 1000)], crs=UTM)
    outside = _geojson(tmp_path / "far.geojson", far.to_crs("EPSG:4326"))
    typo = gpd.GeoDataFrame({"technology": ["4g", "6g", "lte"]},
                            geometry=[AREA] * 3, crs=UTM).to_crs("EPSG:4326")
    bad_tech = _geojson(tmp_path / "typo.geojson", typo)
    no_crs = _tif(tmp_path / "nocrs.tif", np.ones((4, 4)), crs=None)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        gpd.GeoDataFrame(geometry=[AREA], crs=None).to_file(tmp_path / "nocrs.shp",
                                                            engine="pyogrio")
    specs = [MapSpec(tmp_path / "missing.geojson"), MapSpec(empty, kind="rsrp"),
             MapSpec(outside), MapSpec(bad_tech), MapSpec(no_crs),
             MapSpec(tmp_path / "nocrs.shp"), MapSpec(bad_tech, kind="rsrp")]
    with pytest.raises(InputDataError) as info:
        read_coverage_maps(specs, crs=UTM, area=AREA)
    problems = info.value.problems
    assert len(problems) == 7, problems
    assert "coverage map file not found" in problems[0] and "missing.geojson" in problems[0]
    assert problems[1].endswith("empty.tif: coverage map has no data over the villages "
                                "(all nodata)")
    assert "far.geojson: coverage map does not overlap the villages" in problems[2]
    assert "typo.geojson: 1 features have an unknown 'technology' (#2 '6g')" in problems[3]
    assert "nocrs.tif has no CRS" in problems[4]
    assert "nocrs.shp: coverage map has no CRS" in problems[5]
    assert "kind 'rsrp' does not fit the file" in problems[6]


def test_a_binary_map_with_other_values_is_refused(tmp_path: Path) -> None:
    path = _tif(tmp_path / "b.tif", np.array([[0, 1, 2, 1]] * 4, float))
    with pytest.raises(InputDataError, match=r"binary coverage map holds only 0 and 1.*found 2"):
        read_coverage_maps([MapSpec(path, kind="binary")], crs=UTM, area=AREA)


@pytest.mark.parametrize(("text", "expected"), [
    ("4G", "4g"), ("LTE", "4g"), ("gsm", "2g"), ("UMTS", "3g"), ("NR", "5g"),
    ("signal", "signal"), ("", ""), (None, ""), ("6g", None), ("weak", None)])
def test_parse_technology(text: str | None, expected: str | None) -> None:
    assert parse_technology(text) == expected
