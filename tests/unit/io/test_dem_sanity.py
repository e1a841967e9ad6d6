"""A DEM whose content is impossible is refused or repaired with a statement, never used
silently: no elevation at all, values that are not elevations in metres, undeclared void
values, mostly filled terrain and holes left unfilled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from affine import Affine
from pyproj import CRS

from towerplan.errors import InputDataError, NodataRepairWarning
from towerplan.io.terrain import read_dem, undeclared_void

UTM50S = CRS.from_epsg(32750)
ORIGIN = (385_020.0, 9_815_040.0)
RES = 90.0
SHAPE = (40, 50)
BOUNDS = (ORIGIN[0], ORIGIN[1] - SHAPE[0] * RES, ORIGIN[0] + SHAPE[1] * RES, ORIGIN[1])


def _write(path: Path, array: np.ndarray, nodata: float | None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", height=array.shape[0], width=array.shape[1],
                       count=1, dtype=array.dtype, crs=UTM50S.to_wkt(),
                       transform=Affine(RES, 0, ORIGIN[0], 0, -RES, ORIGIN[1]),
                       nodata=nodata) as dst:
        dst.write(array, 1)
    return path


def _read(path: Path, **kw):
    return read_dem([path], dst_crs=UTM50S, bounds=BOUNDS, resolution_m=RES, **kw)


def _plane(dtype: str = "float32") -> np.ndarray:
    rows, cols = np.indices(SHAPE)
    return (100.0 + 2.0 * cols + rows).astype(dtype)


@pytest.mark.parametrize(("dtype", "nodata"), [("float32", float("nan")), ("int16", -32768),
                                               ("float32", -9999.0)])
def test_all_nodata_is_refused(tmp_path: Path, dtype: str, nodata: float) -> None:
    path = _write(tmp_path / "void.tif", np.full(SHAPE, nodata, dtype=dtype), nodata)
    with pytest.raises(InputDataError, match=r"DEM void.tif: no elevation at all over the area "
                                             r"to plan \(every one of its 2,000 cells"):
        _read(path)


@pytest.mark.parametrize(("value", "share"), [(1e9, "100.0 %"), (-600.0, "100.0 %"),
                                              (9001.0, "100.0 %")])
def test_values_that_are_not_elevations_are_refused(tmp_path: Path, value: float,
                                                    share: str) -> None:
    path = _write(tmp_path / "big.tif", np.full(SHAPE, value, dtype="float32"), None)
    with pytest.raises(InputDataError) as info:
        _read(path)
    assert f"{share} of the cells with data (2,000 of 2,000) lie outside -500..9,000 m" \
        in str(info.value)


def test_share_of_impossible_cells_is_named(tmp_path: Path) -> None:
    array = _plane()
    array[:4, :] = 20_000.0  # 4 of 40 rows: 10 % of the cells
    path = _write(tmp_path / "part.tif", array, float("nan"))
    with pytest.raises(InputDataError, match=r"10\.0 % of the cells with data \(200 of 2,000\)"):
        _read(path)


def test_range_ends_are_elevations(tmp_path: Path) -> None:
    array = _plane()
    array[0, 0], array[0, 1] = -500.0, 9000.0
    grid, report = _read(_write(tmp_path / "ends.tif", array, float("nan")))
    assert float(np.nanmin(grid.array)) == -500.0 and float(np.nanmax(grid.array)) == 9000.0
    assert report.problems == ()


@pytest.mark.parametrize(("dtype", "void"), [("int16", -32768), ("float32", -9999.0),
                                             ("int16", 32767)])
def test_undeclared_void_values_are_nodata_with_a_note(tmp_path: Path, dtype: str,
                                                       void: float) -> None:
    array = _plane(dtype)
    array[10:13, 20:23] = void  # one 3 x 3 hole
    path = _write(tmp_path / "srtm.tif", array, None)
    assert undeclared_void(path) == void
    with pytest.warns(NodataRepairWarning, match="9 cells"):
        grid, report = _read(path)
    assert any(f"cells hold {void:g}, a common void value" in n for n in report.notes)
    # Filled from the plane around it, not from the void value.
    assert 100.0 <= float(grid.array[11, 21]) <= 200.0
    assert report.problems == () and report.limitations == ()


def test_void_value_declared_or_absent_gives_no_note(tmp_path: Path) -> None:
    declared = _write(tmp_path / "tagged.tif", _plane("int16"), -32768)
    plain = _write(tmp_path / "plain.tif", _plane("int16"), None)
    assert undeclared_void(declared) is None and undeclared_void(plain) is None
    _, report = _read(plain)
    assert not any("void value" in n for n in report.notes)


def test_undeclared_void_is_not_blended_when_warped(tmp_path: Path) -> None:
    array = _plane("int16")
    array[10:14, 20:24] = -32768
    path = _write(tmp_path / "warp.tif", array, None)
    with pytest.warns(NodataRepairWarning):
        grid, _ = read_dem([path], dst_crs=UTM50S, bounds=BOUNDS, resolution_m=60.0)
    assert float(np.nanmin(grid.array)) >= 100.0  # no cell pulled towards -32768


def test_mostly_filled_dem_is_a_limitation(tmp_path: Path) -> None:
    array = _plane()
    array[5:35, 5:25] = np.nan  # 600 of 2,000 cells: 30 %, above the 25 % limit
    with pytest.warns(NodataRepairWarning, match="600 cells"):
        _, report = _read(_write(tmp_path / "holes.tif", array, float("nan")))
    assert len(report.limitations) == 1
    assert "30 % of the DEM cells are nodata holes filled by interpolation (more than 25 %)" \
        in report.limitations[0]


def test_few_filled_cells_are_no_limitation(tmp_path: Path) -> None:
    array = _plane()
    array[5:15, 5:25] = np.nan  # 200 of 2,000 cells: 10 %
    with pytest.warns(NodataRepairWarning, match="200 cells"):
        _, report = _read(_write(tmp_path / "holes.tif", array, float("nan")))
    assert report.limitations == ()


def test_unfilled_holes_stay_without_elevation_and_are_stated(tmp_path: Path) -> None:
    array = _plane()
    array[5:15, 5:25] = np.nan  # 200 of 2,000 cells: 10 %
    grid, report = _read(_write(tmp_path / "holes.tif", array, float("nan")),
                         fill_nodata=False)
    assert int(np.isnan(grid.array).sum()) == 200  # never flattened to a value
    assert report.problems == ()
    assert any(n.startswith("200 nodata cells (10.0 % of the DEM cells, 1.62 km²) left "
                            "unfilled (fill_nodata is off)") for n in report.notes)
    assert "200 DEM cells (10.0 %) have no elevation" in report.limitations[0]
