"""The programme history GeoPackage: schema, validation, atomic writes, foreign files."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from towerplan.errors import InputFileError
from towerplan.io.history import (
    HistoryError,
    create_history,
    decode_geometry,
    encode_geometry,
    open_history,
)

A, B = "64.01.01.2001", "64.01.01.2002"


def _villages() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [A, B], "name": ["Alpha", "Beta"], "district": ["K1", "K2"],
         "population": [1200.0, None]},
        geometry=[shapely.box(116.0, -2.0, 116.1, -1.9),
                  shapely.MultiPolygon([shapely.box(116.1, -2.0, 116.2, -1.9)])],
        crs="EPSG:4326")


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = create_history(tmp_path / "programme.gpkg", title="Test", region="K",
                          attribution=["Batas desa: test (ODbL)"])
    with open_history(path, write=True) as h:
        h.add_villages(_villages())
    return path


def test_geometry_round_trip_in_geopackage_binary():
    for geom in (shapely.Point(116.5, -1.25), shapely.box(1, 2, 3, 4),
                 shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)])):
        blob = encode_geometry(geom)
        assert blob[:2] == b"GP" and blob[3] == 0b11  # little endian, xy envelope
        assert decode_geometry(blob).equals(geom)
    assert decode_geometry(encode_geometry(shapely.Point())).is_empty
    assert encode_geometry(None) is None and decode_geometry(None) is None


def test_gdal_reads_the_history_as_a_geopackage(history):
    layers = dict(map(tuple, pyogrio.list_layers(history)))
    assert layers["villages"] == "MultiPolygon" and layers["sites"] == "Point"
    assert {"status_reports", "budgets", "site_events"} <= set(layers)
    frame = pyogrio.read_dataframe(history, layer="villages")
    assert frame.crs.to_epsg() == 4326
    assert list(frame["code"]) == [A, B]
    assert list(frame["kecamatan"]) == ["K1", "K2"]  # 'district' read as kecamatan
    assert frame.geometry.iloc[0].equals(shapely.MultiPolygon([shapely.box(116.0, -2.0,
                                                                           116.1, -1.9)]))
    info = pyogrio.read_info(history, layer="villages")
    assert info["features"] == 2
    with sqlite3.connect(history) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_reports_are_validated_and_kept_once(history):
    rows = pd.DataFrame({"code": [A, B], "status": ["blank spot", "sinyal lemah"],
                         "date": ["28/09/2021", "2022"], "source": ["News", "News"]})
    with open_history(history, write=True) as h:
        assert h.add_reports(rows).added == 2
        again = h.add_reports(rows)
        assert (again.added, again.existing) == (0, 2)
        reports = h.reports()
    assert list(reports["status"]) == ["none", "weak"]
    assert list(reports["date"]) == ["2021-09-28", "2022"]
    assert list(reports["date_start"]) == ["2021-09-28", "2022-01-01"]


@pytest.mark.parametrize(("row", "message"), [
    ({"code": A, "status": "strong-ish", "date": "2021", "source": "x"}, "status"),
    ({"code": A, "status": "none", "date": "2021-13", "source": "x"}, "not a date"),
    ({"code": "64.99.99.9999", "status": "none", "date": "2021", "source": "x"},
     "not among the history's 2 villages"),
    ({"code": A, "status": "none", "date": "2021", "source": ""}, "no source"),
])
def test_an_invalid_report_adds_nothing(history, row, message):
    good = {"code": B, "status": "4g", "date": "2021", "source": "ok"}
    with open_history(history, write=True) as h:
        with pytest.raises(HistoryError, match=message):
            h.add_reports(pd.DataFrame([good, row]))
        assert h.counts()["status_reports"] == 0  # the good first row was rolled back


def test_site_life_follows_the_stages(history):
    with open_history(history, write=True) as h:
        assert h.add_site("S1", code=A, year=2023, channel="apbd")
        assert not h.add_site("S1", code=B)  # kept as it was
        for stage, date, amount in (("budgeted", "2023", 2e9), ("tendered", "2023-03", 2e9),
                                    ("tender_failed", "2023-05-02", None),
                                    ("tendered", "2023-07", 1.9e9), ("built", "2023-11", None),
                                    ("on_air", "2024-01-15", None)):
            assert h.add_event("S1", stage, date, amount_idr=amount)
        with pytest.raises(HistoryError, match="on_air; it cannot become built"):
            h.add_event("S1", "built", "2024-02")
        assert h.add_site("S2", code=B)
        h.add_event("S2", "proposed", "2024-03")
        with pytest.raises(HistoryError, match="before its proposed on 2024-03"):
            h.add_event("S2", "budgeted", "2024-01")
        with pytest.raises(HistoryError, match="new; it cannot become on_air"):
            h.add_site("S3", code=A)
            h.add_event("S3", "on_air", "2024")
        with pytest.raises(HistoryError, match="not in the history"):
            h.add_event("S9", "proposed", "2024")
        with pytest.raises(HistoryError, match="stage 'dreaming'"):
            h.add_event("S2", "dreaming", "2024")
        sites = h.sites()
        events = h.events()
    s1 = sites.set_index("site_id").loc["S1"]
    assert s1["location"] == "village centre"
    assert shapely.box(116.0, -2.0, 116.1, -1.9).contains(s1.geometry)
    assert list(events.loc[events["site_id"] == "S1", "stage"]) == [
        "budgeted", "tendered", "tender_failed", "tendered", "built", "on_air"]


def test_an_amount_learnt_later_fills_the_event(history):
    with open_history(history, write=True) as h:
        h.add_site("S1", code=A)
        h.add_event("S1", "budgeted", "2022")
        assert h.add_event("S1", "budgeted", "2022", amount_idr=1.5e9)
        assert not h.add_event("S1", "budgeted", "2022", amount_idr=9e9)  # not overwritten
        assert h.events()["amount_idr"].tolist() == [1.5e9]


def test_a_site_without_a_public_village_has_no_position(history):
    with open_history(history, write=True) as h:
        h.add_site("tender-b", year=2023, channel="apbd")
        h.add_site("gps", code=B, lon=116.15, lat=-1.95)
        with pytest.raises(HistoryError, match="not a position"):
            h.add_site("bad", lon=400.0, lat=0.0)
        sites = h.sites().set_index("site_id")
    assert sites.at["tender-b", "geometry"] is None
    assert sites.at["gps", "location"] == "site"
    assert sites.at["gps", "geometry"].equals(shapely.Point(116.15, -1.95))


def test_budget_replaces_and_no_limit_is_null(history):
    with open_history(history, write=True) as h:
        h.set_budget(2024, "apbd", 4e9, "first")
        h.set_budget(2024, "apbd", 3.5e9, "revised")
        h.set_budget(2024, "operator", float("inf"))
        with pytest.raises(HistoryError, match="not a sum of rupiah"):
            h.set_budget(2024, "apbd", -1)
        budgets = h.budgets()
    assert budgets[["channel", "budget_idr", "source"]].values.tolist()[0] == [
        "apbd", 3.5e9, "revised"]
    assert pd.isna(budgets["budget_idr"].iloc[1])


def test_create_refuses_an_existing_file_and_other_suffixes(history, tmp_path):
    with pytest.raises(HistoryError, match="already exists"):
        create_history(history, title="again")
    with pytest.raises(HistoryError, match=r"\.gpkg"):
        create_history(tmp_path / "history.sqlite", title="x")


def test_foreign_and_corrupt_files_are_refused_in_one_line(tmp_path):
    missing = tmp_path / "none.gpkg"
    with pytest.raises(InputFileError, match="does not exist"), open_history(missing):
        pass
    text = tmp_path / "notes.gpkg"
    text.write_text("village,status\n")
    with pytest.raises(HistoryError, match="not an SQLite file"), open_history(text):
        pass
    plain = tmp_path / "plain.gpkg"
    with sqlite3.connect(plain) as con:
        con.execute("CREATE TABLE t (x)")
    with pytest.raises(HistoryError, match="not a GeoPackage"), open_history(plain):
        pass
    foreign = tmp_path / "roads.gpkg"
    gpd.GeoDataFrame({"name": ["jalan"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])],
                     crs="EPSG:4326").to_file(foreign, layer="roads")
    with pytest.raises(HistoryError, match="not a towerplan history"), open_history(foreign):
        pass
    good = create_history(tmp_path / "good.gpkg", title="x")
    broken = tmp_path / "broken.gpkg"
    data = bytearray(good.read_bytes())
    data[1024:] = b"\xff" * (len(data) - 1024)  # every page after the first overwritten
    broken.write_bytes(bytes(data))
    with pytest.raises(HistoryError, match="corrupt") as caught, open_history(broken) as h:
        h.counts()
    assert "\n" not in str(caught.value)


_KILLED_WRITER = textwrap.dedent("""
    import sys, time
    import pandas as pd
    from towerplan.io.history import open_history
    rows = pd.DataFrame({"code": [sys.argv[2]] * 200, "status": ["4g"] * 200,
                         "date": [f"2030-01-{1 + i % 28:02d}" for i in range(200)],
                         "source": [f"bulk {i}" for i in range(200)]})
    with open_history(sys.argv[1], write=True) as h, h.transaction():
        h.add_reports(rows)
        h.set_budget(2030, "apbd", 1e9)
        print("inside", flush=True)
        time.sleep(120)
""")


def test_a_write_killed_mid_transaction_leaves_the_history_intact(history):
    with open_history(history, write=True) as h:
        h.add_reports(pd.DataFrame([{"code": A, "status": "none", "date": "2021",
                                     "source": "before"}]))
        before = h.counts()
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(history), A],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "inside"
        journal = history.with_name(history.name + "-journal")
        assert journal.exists()  # the write is half-way: its rollback journal is there
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with open_history(history) as h:  # a reader rolls the hot journal back
        assert h.counts() == before
    with open_history(history, write=True) as h:
        assert h.counts() == before
        assert h.reports()["source"].tolist() == ["before"]
        assert h.budgets().empty
        h.set_budget(2031, "apbd", 2e9)  # and it takes writes again
    with sqlite3.connect(history) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not history.with_name(history.name + "-journal").exists()


def test_a_second_writer_waits_then_gets_one_line(history, monkeypatch):
    import towerplan.io.history as store

    monkeypatch.setattr(store, "_BUSY_TIMEOUT_S", 0.2)
    with open_history(history, write=True) as first, first.transaction():
        first.set_budget(2030, "apbd", 1e9)
        with pytest.raises(HistoryError, match="being written by another command") as caught, \
                open_history(history, write=True) as second:
            second.set_budget(2031, "apbd", 1e9)
        assert "\n" not in str(caught.value)
    with open_history(history) as h:
        assert h.budgets()["year"].tolist() == [2030]


def test_layer_extents_grow_with_what_is_added(history):
    with open_history(history, write=True) as h:
        h.add_site("far", lon=117.5, lat=-2.5)
        h.add_site("near", code=A)
    info = pyogrio.read_info(history, layer="villages", force_total_bounds=False)
    assert tuple(round(v, 6) for v in info["total_bounds"]) == (116.0, -2.0, 116.2, -1.9)
    with sqlite3.connect(history) as con:
        sites = con.execute("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents "
                            "WHERE table_name = 'sites'").fetchone()
    assert sites[0] < 116.1 and sites[2] == 117.5 and sites[1] == -2.5
