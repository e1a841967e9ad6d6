"""Every export opens with its own reader: GeoPackage (pyogrio), COG (rasterio and the TIFF
layout itself), QGIS style (XML), KML/KMZ (ElementTree and GDAL), XLSX (openpyxl)."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pyogrio
import pytest
import rasterio
import shapely

from tests.unit.outputs.factories import (
    CELL_M,
    make_plan_result,
    with_changes,
    with_links_and_audit,
)
from towerplan.columns import AUDIT_COLUMNS, BACKHAUL_COLUMNS, COVERAGE_COLUMNS
from towerplan.io.rasters import RasterGrid
from towerplan.outputs.exports import coverage_polygons, write_coverage_raster
from towerplan.outputs.kml import KML_NAMESPACE
from towerplan.outputs.writers import OUTPUT_FILES, write_outputs

_TIFF_TAG_TILE_OFFSETS = 324
_TIFF_TYPE_SIZES = {3: 2, 4: 4, 16: 8}


@pytest.fixture(scope="module")
def result():
    return with_links_and_audit(make_plan_result())


@pytest.fixture(scope="module")
def out(result, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("exports")
    write_outputs(result, directory)
    return directory


def test_every_listed_file_is_written(out):
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)


def test_geopackage_layers_and_feature_counts(out, result):
    layers = dict(pyogrio.list_layers(out / "plan.gpkg"))
    assert layers == {"villages": "MultiPolygon", "candidates": "Point", "selected": "Point",
                      "existing": "Point", "links": "LineString", "audit": "Point",
                      "coverage": "MultiPolygon", "layer_styles": None}
    counts = {name: pyogrio.read_info(out / "plan.gpkg", layer=name)["features"]
              for name in layers}
    assert counts == {"villages": 4, "candidates": 5, "selected": 2, "existing": 2,
                      "links": 4, "audit": 2, "coverage": 2, "layer_styles": 7}
    for name, columns in (("links", BACKHAUL_COLUMNS), ("audit", AUDIT_COLUMNS),
                          ("coverage", COVERAGE_COLUMNS)):
        info = pyogrio.read_info(out / "plan.gpkg", layer=name)
        assert list(info["fields"]) == [*columns, "data_source"], name
        assert info["crs"] == "EPSG:32750", name
    links = pyogrio.read_dataframe(out / "plan.gpkg", layer="links")
    assert links["feasible"].tolist() == [True, True, False, True]
    assert links["technology"].tolist() == ["microwave", "microwave", "microwave", "fibre"]
    np.testing.assert_allclose(links.geometry.length / 1000.0, result.links["distance_km"])
    audit = pyogrio.read_dataframe(out / "plan.gpkg", layer="audit")
    assert audit["audit_id"].tolist() == ["A1", "A2"]
    assert audit["village"].tolist() == result.audit["village"].tolist()


def test_coverage_layer_is_the_covered_cells_dissolved(out, result):
    coverage = pyogrio.read_dataframe(out / "plan.gpkg", layer="coverage")
    assert coverage["stage"].tolist() == ["before", "after"]
    threshold = result.scenario.radio.threshold_rsrp_dbm
    assert coverage["threshold_rsrp_dbm"].tolist() == [threshold, threshold]
    for row, grid in zip(coverage.itertuples(), (result.rsrp_before, result.rsrp_after),
                         strict=True):
        cells = np.count_nonzero(np.nan_to_num(grid.array, nan=-999.0) >= threshold)
        assert row.geometry.area == pytest.approx(cells * CELL_M**2)
        assert row.area_km2 == pytest.approx(cells * CELL_M**2 / 1e6, abs=1e-3)
        assert shapely.is_valid(row.geometry)
    before, after = coverage.geometry
    assert after.area > before.area
    assert after.buffer(1.0).contains(before)  # new towers only add coverage here


def test_coverage_polygons_known_geometry():
    from affine import Affine

    rsrp = np.full((4, 5), -120.0)
    rsrp[0:2, 0:2] = -80.0  # a 2 x 2 block
    rsrp[3, 4] = -100.0  # one cell, not touching the block
    rsrp[3, 0] = np.nan
    geom = coverage_polygons(rsrp, Affine(10.0, 0, 1000.0, 0, -10.0, 2000.0), -105.0)
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(5 * 100.0)
    assert geom.bounds == (1000.0, 1960.0, 1050.0, 2000.0)
    empty = coverage_polygons(np.full((3, 3), np.nan), Affine.identity(), -105.0)
    assert empty.is_empty


def test_coverage_polygons_valid_where_regions_touch_at_corners():
    """Diagonal neighbours, a ring with a hole and an island inside it: a valid MultiPolygon
    equal to the union of the covered cells."""
    import shapely
    from affine import Affine

    rsrp = np.full((9, 9), -120.0)
    rsrp[0, 0] = rsrp[1, 1] = rsrp[0, 2] = -90.0  # touching at corners only
    rsrp[3:8, 3:8] = -90.0
    rsrp[4:7, 4:7] = -120.0  # a hole ...
    rsrp[5, 5] = -90.0  # ... with an island
    rsrp[2, 2] = -90.0  # touches the ring's corner
    transform = Affine(30.0, 0, 0.0, 0, -30.0, 270.0)
    geom = coverage_polygons(rsrp, transform, -105.0)
    cells = [shapely.box(30.0 * c, 270.0 - 30.0 * (r + 1), 30.0 * (c + 1), 270.0 - 30.0 * r)
             for r, c in zip(*np.nonzero(rsrp >= -105.0), strict=True)]
    assert geom.is_valid and geom.geom_type == "MultiPolygon"
    assert len(geom.geoms) == 6  # 3 corner cells, the cell at the ring's corner, ring, island
    assert geom.area == pytest.approx(len(cells) * 900.0)
    assert shapely.equals(geom, shapely.union_all(cells))


def _tiff_layout(path: Path) -> tuple[bytes, list[int], list[int]]:
    """Return the GDAL ghost header, the offset of every IFD and each IFD's first tile offset.

    Classic TIFF only (``BIGTIFF=IF_SAFER`` writes classic files below 4 GB).
    """
    data = path.read_bytes()
    order = {b"II": "<", b"MM": ">"}[data[:2]]
    magic, first_ifd = struct.unpack(order + "HI", data[2:8])
    assert magic == 42, "not a classic TIFF"
    ghost = data[8:first_ifd]
    ifds, first_tiles = [], []
    offset = first_ifd
    while offset:
        ifds.append(offset)
        (count,) = struct.unpack(order + "H", data[offset:offset + 2])
        tiles = None
        for k in range(count):
            entry = data[offset + 2 + 12 * k: offset + 14 + 12 * k]
            tag, kind, n = struct.unpack(order + "HHI", entry[:8])
            if tag == _TIFF_TAG_TILE_OFFSETS:
                size = _TIFF_TYPE_SIZES[kind]
                fmt = order + ("I" if size == 4 else "Q")
                if n * size <= 4:
                    tiles = struct.unpack(fmt, entry[8:8 + size])[0]
                else:
                    (where,) = struct.unpack(order + "I", entry[8:12])
                    tiles = min(struct.unpack(order + ("I" if size == 4 else "Q") * n,
                                              data[where:where + n * size]))
        assert tiles is not None, "IFD without TileOffsets: not tiled"
        first_tiles.append(tiles)
        (offset,) = struct.unpack(order + "I",
                                  data[offset + 2 + 12 * count: offset + 6 + 12 * count])
    return ghost, ifds, first_tiles


def assert_valid_cog(path: Path) -> None:
    """Check what a cloud-optimised GeoTIFF reader relies on.

    Tiled, with overviews, the GDAL structural-metadata header saying the IFDs come first, every
    IFD before any image data, and the smallest overview's data first in the file.
    """
    with rasterio.open(path) as src:
        assert src.driver == "GTiff"
        assert src.profile.get("tiled") is True
        assert src.block_shapes[0] == (512, 512)
        overviews = src.overviews(1)
        assert overviews, "no overviews"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
    ghost, ifds, first_tiles = _tiff_layout(path)
    assert b"GDAL_STRUCTURAL_METADATA_SIZE=" in ghost
    assert b"LAYOUT=IFDS_BEFORE_DATA" in ghost
    assert b"BLOCK_ORDER=ROW_MAJOR" in ghost
    assert len(ifds) == 1 + len(overviews)
    assert max(ifds) < min(first_tiles), "an IFD comes after image data"
    assert first_tiles == sorted(first_tiles, reverse=True), "overview data not first"


def test_coverage_geotiffs_are_valid_cogs_with_overviews(result, tmp_path):
    # overviews exist only above one 512 px block: use a regency-sized grid (1,300 x 1,100)
    rows, cols = 1300, 1100
    yy, xx = np.mgrid[0:rows, 0:cols]
    rsrp = (-60.0 - 35.0 * np.log10(np.hypot(yy - 650, xx - 550) + 1.0)).astype(np.float32)
    grid = result.rsrp_after
    big = RasterGrid(rsrp, grid.transform, grid.crs)
    changed = with_changes(result, rsrp_before=big, rsrp_after=big)
    paths = [write_coverage_raster(changed, tmp_path / f"coverage_{stage}.tif", stage)
             for stage in ("before", "after")]
    for path in paths:
        assert_valid_cog(path)
        with rasterio.open(path) as src:
            assert src.tags()["units"] == "dBm"
            np.testing.assert_array_equal(src.read(1), rsrp)


def test_tiny_coverage_geotiffs_are_tiled_cogs(out):
    for stage in ("before", "after"):
        path = out / f"coverage_{stage}.tif"
        with rasterio.open(path) as src:
            assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
            assert src.profile.get("tiled") is True
            assert src.tags()["stage"] == stage
        ghost, ifds, first_tiles = _tiff_layout(path)
        assert b"LAYOUT=IFDS_BEFORE_DATA" in ghost
        assert max(ifds) < min(first_tiles)


def test_qgis_styles_sit_next_to_the_geotiffs(out):
    for stage in ("before", "after"):
        root = ET.parse(out / f"coverage_{stage}.qml").getroot()
        assert root.tag == "qgis"
        assert root.find("pipe/rasterrenderer").get("type") == "singlebandpseudocolor"
        assert (out / f"coverage_{stage}.tif").exists()


def test_kml_and_kmz_open_with_elementtree_and_gdal(out):
    ns = {"k": KML_NAMESPACE}
    root = ET.parse(out / "plan.kml").getroot()
    folders = root.findall("k:Document/k:Folder", ns)
    assert [len(f.findall("k:Placemark", ns)) for f in folders] == [2, 2]
    with zipfile.ZipFile(out / "plan.kmz") as kmz:
        assert ET.fromstring(kmz.read("doc.kml")).tag == root.tag
    drivers = pyogrio.list_drivers()
    if "KML" in drivers:
        counts = [pyogrio.read_info(out / "plan.kml", layer=name)["features"]
                  for name, _ in pyogrio.list_layers(out / "plan.kml")]
        assert counts == [2, 2]
        inside = f"/vsizip/{out / 'plan.kmz'}/doc.kml"
        assert len(pyogrio.list_layers(inside)) == 2
    if "LIBKML" in drivers:
        assert len(pyogrio.list_layers(out / "plan.kmz")) == 2


def test_xlsx_opens_with_openpyxl(out):
    workbook = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert workbook.sheetnames[0] == "Ringkasan"
    cells = [c for s in workbook.worksheets for r in s.iter_rows(values_only=True) for c in r]
    assert "C004" in cells and "C002" in cells
    workbook.close()
