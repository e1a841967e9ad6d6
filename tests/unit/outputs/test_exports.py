"""CSV, GeoPackage, JSON and GeoTIFF outputs, and :func:`write_outputs`."""

from __future__ import annotations

import csv
import json
import math
import sqlite3
import xml.etree.ElementTree as ET
from contextlib import closing

import numpy as np
import pyogrio
import pytest
import rasterio

from towerplan.columns import (
    CANDIDATE_COLUMNS,
    RANKING_COLUMNS,
    TOWER_COLUMNS,
    VILLAGE_COLUMNS,
)
from towerplan.errors import MissingDependencyError, OutputError, ScenarioError
from towerplan.io.atomic import atomic_output
from towerplan.io.tables import DATA_SOURCE_SYNTHETIC, DATA_SOURCE_USER, guard_formula
from towerplan.outputs import writers
from towerplan.outputs.exports import (
    write_coverage_raster,
    write_plan_gpkg,
    write_ranking_csv,
    write_summary_json,
    write_villages_csv,
)
from towerplan.outputs.writers import (
    OPTIONAL_OUTPUT_FILES,
    OUTPUT_FILES,
    WRITERS,
    write_outputs,
)

from .factories import (
    FORMULA_NAME,
    FORMULA_OPERATOR,
    HOSTILE_NAME,
    VILLAGE_NAMES,
    leftovers,
    with_changes,
    with_links_and_audit,
)


def _read_csv(path):
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text", ["=1+2", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_guard_formula_prefixes_an_apostrophe(text):
    assert guard_formula(text) == "'" + text


def test_guard_formula_leaves_ordinary_text():
    assert guard_formula("Muara Toyu") == "Muara Toyu"
    assert guard_formula("64.01.07.2009") == "64.01.07.2009"
    assert guard_formula("") == ""


def test_atomic_output_replaces_only_on_success(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(ValueError, match="boom"), atomic_output(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        (tmp.parent / (tmp.name + "-journal")).write_text("j", encoding="utf-8")
        raise ValueError("boom")
    assert target.read_text(encoding="utf-8") == "old"
    assert leftovers(tmp_path) == []
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and ".tmp" in tmp.name and not tmp.exists()
        tmp.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert leftovers(tmp_path) == []


def test_atomic_output_turns_os_errors_into_output_errors(tmp_path):
    with pytest.raises(OutputError, match="cannot write"), \
            atomic_output(tmp_path / "no" / "such.txt") as tmp:
        tmp.write_text("x", encoding="utf-8")


def test_ranking_csv(plan_result, out_dir):
    rows = _read_csv(write_ranking_csv(plan_result, out_dir / "ranking.csv"))
    assert rows[0] == [*RANKING_COLUMNS, "data_source"]
    assert len(rows) == 3
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["rank"] == "1" and first["site_id"] == "C004"
    assert first["cost_total_idr"] == "1950000000"
    assert first["cumulative_cost_idr"] == "1950000000"
    assert len(first["lon"].split(".")[1]) <= 6
    assert first["data_source"] == DATA_SOURCE_SYNTHETIC
    second = dict(zip(rows[0], rows[2], strict=True))
    assert second["village"] == HOSTILE_NAME  # UTF-8 text survives, CSV quoting intact
    assert second["villages_lifted_names"] == "'" + FORMULA_NAME


def test_villages_csv(plan_result, out_dir):
    path = write_villages_csv(plan_result, out_dir / "villages.csv")
    rows = _read_csv(path)
    assert rows[0] == [*VILLAGE_COLUMNS, "data_source"]
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["name"] for r in records] == [
        "'" + n if n == FORMULA_NAME else n for n in VILLAGE_NAMES]
    assert records[1]["share_covered_before"] == "0.4"
    assert records[3]["median_rsrp_before_dbm"] == ""  # NaN is an empty cell
    assert {r["data_source"] for r in records} == {DATA_SOURCE_SYNTHETIC}
    assert path.read_bytes().decode("utf-8")  # valid UTF-8, no BOM
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")


def test_user_data_is_labelled_as_such(make_result, out_dir):
    rows = _read_csv(write_villages_csv(make_result(synthetic=False), out_dir / "v.csv"))
    assert {r[-1] for r in rows[1:]} == {DATA_SOURCE_USER}


def test_csv_refuses_a_table_without_its_columns(plan_result, out_dir):
    broken = with_changes(plan_result, villages=plan_result.villages.drop(columns=["code", "kind"]))
    with pytest.raises(OutputError, match="code, kind"):
        write_villages_csv(broken, out_dir / "villages.csv")
    assert list(out_dir.iterdir()) == []


def test_gpkg_layers_rows_columns_and_crs(plan_result, out_dir):
    path = write_plan_gpkg(plan_result, out_dir / "plan.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert layers == {"villages": "MultiPolygon", "candidates": "Point", "selected": "Point",
                      "existing": "Point", "coverage": "MultiPolygon",
                      "layer_styles": None}  # QGIS's default styles, an attribute table
    expected = {"villages": (4, VILLAGE_COLUMNS), "candidates": (5, CANDIDATE_COLUMNS),
                "selected": (2, RANKING_COLUMNS), "existing": (2, TOWER_COLUMNS)}
    for name, (count, columns) in expected.items():
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == count, name
        assert info["crs"] == "EPSG:32750", name
        assert list(info["fields"]) == [*columns, "data_source"], name
    villages = pyogrio.read_dataframe(path, layer="villages")
    assert villages.loc[1, "name"] == HOSTILE_NAME
    assert villages.geometry.area.round().tolist() == [9e6] * 4
    existing = pyogrio.read_dataframe(path, layer="existing")
    assert existing.loc[1, "operator"] == FORMULA_OPERATOR  # GIS data: stored as is
    assert existing["cells"].dtype.kind == "i"
    candidates = pyogrio.read_dataframe(path, layer="candidates")
    assert candidates["selected"].tolist() == [False, True, False, True, False]


def _styles(path):
    with closing(sqlite3.connect(path)) as db:
        version = (db.execute("PRAGMA application_id").fetchone()[0],
                   db.execute("PRAGMA user_version").fetchone()[0])
        rows = db.execute("SELECT f_table_name, f_geometry_column, styleName, styleQML, "
                          "useAsDefault FROM layer_styles").fetchall()
    return version, {r[0]: r for r in rows}


def test_gpkg_is_version_1_2_with_a_default_style_per_layer(make_result, out_dir):
    result = with_links_and_audit(make_result())
    path = write_plan_gpkg(result, out_dir / "plan.gpkg", lang="en")
    (app_id, user_version), styles = _styles(path)
    assert app_id == int.from_bytes(b"GPKG", "big") and user_version == 10200
    layers = dict(pyogrio.list_layers(path))
    assert set(styles) == set(layers) - {"layer_styles"}
    assert set(styles) == {"villages", "candidates", "selected", "existing", "links", "audit",
                           "coverage"}
    for name, (_, geom_column, style_name, qml, default) in styles.items():
        assert (geom_column, style_name, default) == ("geom", name, 1)
        assert ET.fromstring(qml.split("\n", 1)[1]).tag == "qgis"
    assert pyogrio.read_info(path, layer="villages")["features"] == 4  # still readable
    villages = ET.fromstring(styles["villages"][3].split("\n", 1)[1])
    renderer = villages.find("renderer-v2")
    assert (renderer.get("type"), renderer.get("attr")) == ("categorizedSymbol", "status_after")
    colors = {c.get("value"): villages.find(
        f"renderer-v2/symbols/symbol[@name='{c.get('symbol')}']/layer/Option/"
        "Option[@name='color']").get("value") for c in renderer.iter("category")}
    assert colors["blank"] == "215,48,31,107"  # STATUS_COLORS["blank"] at the map's 0.42
    assert colors["covered"] == "49,163,84,107"
    selected = ET.fromstring(styles["selected"][3].split("\n", 1)[1])
    assert selected.get("labelsEnabled") == "1"
    assert selected.find("labeling/settings/text-style").get("fieldName") == "rank"


def test_gpkg_has_no_empty_column_where_the_source_has_values(make_result, out_dir):
    result = with_links_and_audit(make_result())
    path = write_plan_gpkg(result, out_dir / "plan.gpkg")
    sources = {"villages": result.villages, "candidates": result.candidates,
               "selected": result.selected, "existing": result.existing,
               "links": result.links, "audit": result.audit}
    with closing(sqlite3.connect(path)) as db:
        for name, frame in sources.items():
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            for column in columns:
                if column not in frame or not frame[column].notna().any():
                    continue
                filled = db.execute(f'SELECT count(*) FROM "{name}" WHERE "{column}" IS NOT '
                                    "NULL").fetchone()[0]
                assert filled == frame[column].notna().sum(), (name, column)


def test_gpkg_writes_empty_layers_with_their_schema(make_result, out_dir):
    result = make_result(n_selected=0)
    result = with_changes(result, existing=result.existing.iloc[0:0])
    path = write_plan_gpkg(result, out_dir / "plan.gpkg")
    for name, columns in (("selected", RANKING_COLUMNS), ("existing", TOWER_COLUMNS)):
        info = pyogrio.read_info(path, layer=name)
        assert info["features"] == 0
        assert info["geometry_type"] == "Point"
        assert info["crs"] == "EPSG:32750"
        assert list(info["fields"]) == [*columns, "data_source"]
    assert leftovers(out_dir) == []


def test_summary_json_round_trips_with_nan_as_null(plan_result, out_dir):
    summary = {**plan_result.summary, "extra": np.float64(np.inf), "count": np.int64(3),
               "nested": {"gap": math.nan, "list": (1.5, float("nan"))}}
    path = write_summary_json(with_changes(plan_result, summary=summary), out_dir / "s.json")
    text = path.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert text.startswith('{\n  "scenario": "demo"')
    data = json.loads(text)
    assert data["optimality_gap"] is None
    assert data["extra"] is None and data["count"] == 3
    assert data["nested"] == {"gap": None, "list": [1.5, None]}
    assert data["data_sources"][1] == "Tower positions <synthetic> & demo"
    assert list(data)[: len(plan_result.summary)] == list(plan_result.summary)


def test_coverage_rasters_carry_rsrp_and_provenance_tags(plan_result, out_dir):
    before = write_coverage_raster(plan_result, out_dir / "coverage_before.tif", "before")
    after = write_coverage_raster(plan_result, out_dir / "coverage_after.tif", "after")
    assert (before.name, after.name) == ("coverage_before.tif", "coverage_after.tif")
    for path, grid in ((before, plan_result.rsrp_before), (after, plan_result.rsrp_after)):
        with rasterio.open(path) as src:
            tags = src.tags()
            values = src.read(1)
            assert src.crs.to_epsg() == 32750
            assert src.dtypes[0] == "float32"
        assert tags["model_chain"] == plan_result.provenance.model_chain
        assert tags["scenario_hash"] == plan_result.provenance.scenario_hash
        assert tags["threshold"] == "-105"
        assert tags["synthetic"] == "true"
        np.testing.assert_allclose(values, grid.array.astype(np.float32), equal_nan=True)


def test_write_outputs_writes_everything_in_order(plan_result, tmp_path):
    seen: list[str] = []
    out_dir = tmp_path / "run" / "out"
    report = write_outputs(plan_result, out_dir, progress=seen.append)
    written = report.written
    assert report.skipped == ()
    names = [p.name for p in written]
    assert names == list(OUTPUT_FILES)
    # report.pdf (a child process) and the GeoTIFFs (threads), started first, are
    # collected after the others, before summary.json
    background = ["report.pdf", "coverage_before.tif", "coverage_after.tif"]
    assert seen == [n for n in names if n not in {*background, "summary.json"}] + [
        *background, "summary.json"]
    assert names == ["map.html", "report.xlsx", "report.html", "report.pdf", "ranking.csv",
                     "villages.csv", "plan.gpkg", "coverage_before.tif", "coverage_before.qml",
                     "coverage_after.tif", "coverage_after.qml", "plan.kml", "plan.kmz",
                     "summary.json"]
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(names)
    assert all(p.stat().st_size > 0 for p in written)
    mtimes = [p.stat().st_mtime_ns for p in written]
    assert mtimes[-1] == max(mtimes)  # summary.json last
    assert leftovers(out_dir) == []


def test_write_outputs_in_english(plan_result, out_dir):
    import openpyxl

    write_outputs(plan_result, out_dir, lang="en")
    assert openpyxl.load_workbook(out_dir / "report.xlsx").sheetnames[0] == "Summary"
    assert '<html lang="en">' in (out_dir / "map.html").read_text(encoding="utf-8")


def test_write_outputs_refuses_unknown_language_before_writing(plan_result, out_dir):
    with pytest.raises(ScenarioError):
        write_outputs(plan_result, out_dir, lang="jv")
    assert list(out_dir.iterdir()) == []


def test_write_outputs_reports_an_unusable_directory(plan_result, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot create output directory"):
        write_outputs(plan_result, blocker / "out")


def test_a_writer_that_fails_costs_only_its_own_file(plan_result, out_dir, monkeypatch):
    def broken(result, path, **_):
        with atomic_output(path) as tmp:
            tmp.write_text("partial", encoding="utf-8")
            raise RuntimeError("disk full")

    monkeypatch.setattr(writers, "write_plan_gpkg", broken)
    report = write_outputs(plan_result, out_dir)
    assert report.failed == ({"file": "plan.gpkg", "status": "failed",
                              "reason": "RuntimeError: disk full"},)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(
        n for n in OUTPUT_FILES if n != "plan.gpkg")
    assert leftovers(out_dir) == []
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["outputs_skipped"] == list(report.skipped)


def test_a_missing_library_skips_its_output_with_a_note(plan_result, out_dir, monkeypatch):
    def no_pango(result, path, *, lang="id", html=None):
        raise MissingDependencyError("report.pdf needs WeasyPrint and the Pango library")

    def no_pango_later(result, *, lang="id", html=None):  # the child process finds it out
        def finish(path):
            raise MissingDependencyError("report.pdf needs WeasyPrint and the Pango library")
        return finish

    monkeypatch.setattr(writers, "write_report_pdf", no_pango)
    monkeypatch.setattr(writers, "start_report_pdf", no_pango_later)
    report = write_outputs(plan_result, out_dir)
    assert [s["file"] for s in report.skipped] == ["report.pdf"]
    assert report.skipped[0]["status"] == "skipped" and report.failed == ()
    assert not (out_dir / "report.pdf").exists()
    assert (out_dir / "report.html").exists() and (out_dir / "summary.json").exists()


def test_a_user_caused_write_error_stops_the_writers(plan_result, out_dir, monkeypatch):
    def full(result, path, **_):
        raise OutputError(f"cannot write {path}: No space left on device")

    monkeypatch.setattr(writers, "write_plan_gpkg", full)
    with pytest.raises(OutputError, match="No space left"):
        write_outputs(plan_result, out_dir)
    assert not (out_dir / "summary.json").exists()


def test_only_and_strict(plan_result, out_dir, monkeypatch):
    report = write_outputs(plan_result, out_dir, only=("ranking.csv",))
    assert [p.name for p in report.written] == ["ranking.csv"]
    with pytest.raises(ScenarioError, match="unknown output"):
        write_outputs(plan_result, out_dir, only=("nothing.txt",))

    def broken(result, path):
        raise RuntimeError("bug")

    monkeypatch.setattr(writers, "write_ranking_csv", broken)
    with pytest.raises(RuntimeError, match="bug"):
        write_outputs(plan_result, out_dir, only=("ranking.csv",), strict=True)


def test_the_registry_lists_every_output_once():
    names = tuple(w.name for w in WRITERS)
    assert sorted(names) == sorted((*OUTPUT_FILES, *OPTIONAL_OUTPUT_FILES))
    assert len(set(names)) == len(names)
    assert OPTIONAL_OUTPUT_FILES == ("plan.qgz",)
    assert names[-1] == OUTPUT_FILES[-1] == "summary.json"


def test_missing_text_is_an_empty_cell(plan_result, out_dir):
    import pandas as pd

    villages = plan_result.villages.copy()
    villages["best_server_before"] = pd.Series([None, "T1", math.nan, pd.NA], dtype=object,
                                               index=villages.index)
    result = with_changes(plan_result, villages=villages)
    rows = _read_csv(write_villages_csv(result, out_dir / "villages.csv"))
    column = rows[0].index("best_server_before")
    assert [r[column] for r in rows[1:]] == ["", "T1", "", ""]
    layer = pyogrio.read_dataframe(write_plan_gpkg(result, out_dir / "plan.gpkg"),
                                   layer="villages")
    assert layer["best_server_before"].fillna("").tolist() == ["", "T1", "", ""]


def test_a_geotiff_written_by_a_thread_that_fails_is_reported_and_the_others_written(
        plan_result, tmp_path, monkeypatch):
    """A GeoTIFF thread's error reaches write_outputs in the file's turn: a defect fails that
    file alone (one line in outputs_skipped); a TowerplanError (a full disk) stops the run."""
    import json

    from towerplan.errors import DiskFullError
    from towerplan.outputs import exports

    real = exports.write_coverage_raster

    def broken(result, path, stage):
        if stage == "after":
            raise RuntimeError("band 1\nunwritable")
        return real(result, path, stage)

    monkeypatch.setattr("towerplan.outputs.writers.write_coverage_raster", broken)
    report = write_outputs(plan_result, tmp_path / "a")
    assert report.skipped == ({"file": "coverage_after.tif", "status": "failed",
                               "reason": "RuntimeError: band 1 unwritable"},)
    assert (tmp_path / "a" / "coverage_before.tif").stat().st_size > 0
    assert not (tmp_path / "a" / "coverage_after.tif").exists()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["outputs_skipped"] == list(report.skipped)

    def full(result, path, stage):
        raise DiskFullError("no space left on the output disk")

    monkeypatch.setattr("towerplan.outputs.writers.write_coverage_raster", full)
    with pytest.raises(DiskFullError, match="no space left"):
        write_outputs(plan_result, tmp_path / "b")
    assert not (tmp_path / "b" / "summary.json").exists()


def test_coverage_outline_of_a_float32_grid_compares_as_in_float64() -> None:
    """The outline of a float32 grid is taken without a float64 copy, with the same cells as
    the float64 comparison, at thresholds that float32 does and does not represent."""
    from affine import Affine

    from towerplan.outputs.exports import coverage_polygons

    rng = np.random.default_rng(5)
    grid = rng.normal(-105.0, 3.0, (60, 70)).astype(np.float32)
    grid[rng.random(grid.shape) < 0.1] = np.nan
    grid[0, :5] = [np.float32(-105.3), np.nextafter(np.float32(-105.3), np.float32(0)),
                   np.nextafter(np.float32(-105.3), np.float32(-200)), -105.0, np.inf]
    t = Affine(30.0, 0, 0, 0, -30.0, 0)
    for threshold in (-105.0, -105.3, -104.99999999):
        want = (np.isfinite(grid.astype(np.float64))
                & (grid.astype(np.float64) >= threshold)).sum() * 900.0
        got = coverage_polygons(grid, t, threshold)
        assert got.area == pytest.approx(want)
        got64 = coverage_polygons(grid.astype(np.float64), t, threshold)
        assert got.equals(got64)


def test_the_geotiffs_are_queued_after_the_pdf_has_its_html(plan_result, tmp_path,
                                                             monkeypatch):
    """report.pdf's start renders the HTML and hands it to its child before the GeoTIFF
    thread begins: the longest chain does not share the CPU with the GeoTIFFs."""
    import threading

    from towerplan.outputs import exports

    sent = threading.Event()
    seen: list[bool] = []
    real_raster, real_start = exports.write_coverage_raster, writers.start_report_pdf

    def raster(result, path, stage):
        seen.append(sent.is_set())  # False: a GeoTIFF began before the HTML was handed over
        return real_raster(result, path, stage)

    def start_pdf(result, *, lang="id", html=None):
        finish = real_start(result, lang=lang, html=html)
        sent.set()
        return finish

    monkeypatch.setattr(writers, "write_coverage_raster", raster)
    monkeypatch.setattr(writers, "start_report_pdf", start_pdf)
    report = write_outputs(plan_result, tmp_path / "out")
    assert seen == [True, True]
    assert report.skipped == () and (tmp_path / "out" / "report.pdf").stat().st_size > 0
