"""``towerplan status`` and ``towerplan dashboard`` from the command line: the Paser history
of 2021-2024, the portal export, and one-line errors that change nothing."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from tests.integration.conftest import shared_data_dir, shared_data_scenario
from towerplan.commands.status import import_history
from towerplan.io.history import create_history, open_history

ROOT = Path(__file__).resolve().parents[2]
PASER = ROOT / "scenarios" / "paser-programme.toml"
PASER_SITES = ROOT / "scenarios" / "paser-sites-2022-2024.csv"

# The Paser programme's small towers (22 m antennas) are below Hata's validated heights.
pytestmark = pytest.mark.filterwarnings("ignore::towerplan.errors.ModelValidityWarning")


def _small_history(path: Path) -> Path:
    create_history(path, title="Uji / Test", region="K")
    villages = gpd.GeoDataFrame(
        {"code": ["64.01.01.2001", "64.01.01.2002"], "name": ["Alpha", "Beta"],
         "district": ["K1", "K1"], "population": [1000.0, 500.0]},
        geometry=[shapely.box(116.0, -2.0, 116.1, -1.9), shapely.box(116.1, -2.0, 116.2, -1.9)],
        crs="EPSG:4326")
    with open_history(path, write=True) as h:
        h.add_villages(villages)
    return path


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))


def _one_error_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("towerplan: error: ")
    return lines[0]


def test_status_add_and_list_round_trip(run_cli, tmp_path):
    history = _small_history(tmp_path / "programme.gpkg")
    ok = run_cli("status", "add", "report", "--code", "64.01.01.2001", "--status",
                 "blank spot", "--date", "2021-09-28", "--source", "Berita", "-H", history)
    assert ok.returncode == 0, ok.stderr
    assert "recorded: 64.01.01.2001" in ok.stdout
    steps = [("proposed", "2023", ["--code", "64.01.01.2002", "--year", "2024",
                                   "--channel", "apbd"]),
             ("budgeted", "2024", ["--amount-idr", "2000000000"]),
             ("tendered", "2024-04", ["--amount-idr", "1950000000"])]
    for stage, date, extra in steps:
        done = run_cli("status", "add", "site", "--site-id", "S-1", "--stage", stage, "--date",
                       date, *extra, "-H", history)
        assert done.returncode == 0, done.stderr
    run_cli("status", "add", "budget", "--year", "2024", "--channel", "apbd", "--idr",
            "4000000000", "-H", history)
    listed = run_cli("status", "list", "sites", "--csv", "-H", history)
    rows = list(csv.DictReader(listed.stdout.splitlines()))
    assert [(r["site_id"], r["stage"], r["stage_date"], r["village"]) for r in rows] == [
        ("S-1", "tendered", "2024-04", "Beta")]
    table = run_cli("status", "list", "budgets", "-H", history)
    assert "4,000,000,000" in table.stdout


def test_an_invalid_write_is_one_line_and_changes_nothing(run_cli, tmp_path):
    history = _small_history(tmp_path / "programme.gpkg")
    run_cli("status", "add", "site", "--site-id", "S-1", "--stage", "proposed", "--date", "2024",
            "--code", "64.01.01.2001", "-H", history)
    before = hashlib.sha256(history.read_bytes()).hexdigest()
    bad = run_cli("status", "add", "site", "--site-id", "S-1", "--stage", "on_air", "--date",
                  "2024-06", "-H", history)
    assert "S-1 is proposed; it cannot become on_air" in _one_error_line(bad)
    unknown = run_cli("status", "add", "report", "--code", "64.99.99.9999", "--status", "none",
                      "--date", "2022", "--source", "x", "-H", history)
    assert "not among the history's 2 villages" in _one_error_line(unknown)
    assert hashlib.sha256(history.read_bytes()).hexdigest() == before


@pytest.mark.parametrize("kind", ["text", "foreign", "corrupt", "missing"])
def test_a_foreign_or_corrupt_history_is_one_line_and_exit_2(run_cli, tmp_path, kind):
    path = tmp_path / "programme.gpkg"
    if kind == "text":
        path.write_text("this is not a database\n")
    elif kind == "foreign":
        gpd.GeoDataFrame({"name": ["jalan"]}, geometry=[shapely.Point(116, -2)],
                         crs="EPSG:4326").to_file(path, layer="roads")
    elif kind == "corrupt":
        good = _small_history(tmp_path / "good.gpkg").read_bytes()
        path.write_bytes(good[:4096] + b"\x00\xff" * ((len(good) - 4096) // 2))
    expected = {"text": "not a GeoPackage", "foreign": "not a towerplan history",
                "corrupt": "corrupt", "missing": "does not exist"}[kind]
    out = tmp_path / "dash"
    for args in (("dashboard", "--out", out), ("status", "list", "sites"),
                 ("status", "export", "--out", out),
                 ("status", "add", "budget", "--year", "2024", "--channel", "apbd")):
        proc = run_cli(*args, "-H", path)
        assert expected in _one_error_line(proc), (args, proc.stderr)
        assert not out.exists()  # nothing half-written


@pytest.fixture(scope="module")
def paser_history(tmp_path_factory) -> tuple[Path, Path]:
    """A history of Paser 2021-2024: the signal reports of 2021 and 2022, the programme's
    budgets and built towers, the site events of 2022-2023 (a failed tender among them) and
    the 2024 sites the programme plan proposes."""
    from towerplan.commands.plan import run_plan

    data = shared_data_dir()
    scenario = shared_data_scenario(PASER, data)
    base = tmp_path_factory.mktemp("paser-history")
    plan = run_plan(scenario, base / "plan", only=("summary.json", "plan.gpkg"))
    assert plan.summary["programme"]["years"] == [2022, 2023, 2024]
    history = base / "programme.gpkg"
    result = import_history(history, scenario=scenario, sites=PASER_SITES, plan=base / "plan",
                            region="Kabupaten Paser, Kalimantan Timur")
    assert result.created
    return history, base


def test_paser_history_holds_four_years(paser_history):
    history, _ = paser_history
    with open_history(history) as h:
        counts = h.counts()
        reports = h.reports()
        sites = h.sites()
        budgets = h.budgets()
    assert counts["villages"] == 144
    assert set(reports["date"].str[:4]) == {"2021", "2022"}
    assert (reports["status"] == "none").sum() == 6  # the six blank desa of September 2021
    assert sorted(budgets.loc[budgets["channel"] == "apbd", "budget_idr"]) == [4e9, 5.5e9, 6e9]
    assert counts["sites"] == 8  # 3 built 2022, 1 built + 2 failed tenders 2023, 2 proposed
    proposed = sites[sites["year"] == 2024]
    assert len(proposed) == 2 and proposed.geometry.notna().all()
    assert sites.loc[sites["code"].isna(), "geometry"].isna().all()  # village not public


def test_paser_import_again_adds_nothing(paser_history, tmp_path):
    history, base = paser_history
    copy = tmp_path / "programme.gpkg"
    copy.write_bytes(history.read_bytes())
    scenario = shared_data_scenario(PASER, shared_data_dir())
    again = import_history(copy, scenario=scenario, sites=PASER_SITES, plan=base / "plan")
    assert not again.created
    assert again.added.get("status_reports", 0) == 0 and again.added.get("sites", 0) == 0
    assert again.added.get("site_events", 0) == 0
    with open_history(history) as a, open_history(copy) as b:
        assert a.counts() == b.counts()


def test_paser_dashboard_and_portal_export(run_cli, paser_history, tmp_path):
    history, _ = paser_history
    out = tmp_path / "dashboard"
    proc = run_cli("dashboard", "--out", out, "-H", history, "--organization",
                   "Diskominfostaper Kabupaten Paser")
    assert proc.returncode == 0, proc.stderr
    assert "144 villages, 6 blank, 5 semi blank, 133 served, 0 unknown; 8 sites" in proc.stdout
    assert "limitation: Status desa berasal dari laporan sinyal" in proc.stdout
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "Kabupaten Paser, Kalimantan Timur" in page  # the region, in the header
    assert "Muara Toyu" in page and "Kepala Telake" in page
    over = _csv(out / "data" / "status_over_time.csv")
    assert [(r["year"], r["blank"], r["semi_blank"]) for r in over] == [
        ("2021", "6", "3"), ("2022", "6", "5"), ("2023", "6", "5"), ("2024", "6", "5")]
    progress = {(r["year"], r["channel"]): r
                for r in _csv(out / "data" / "programme.csv")}
    p23 = progress[("2023", "apbd")]
    assert (p23["tenders"], p23["tenders_failed"], p23["built"]) == ("3", "2", "1")
    assert float(p23["budget_idr"]) == 6e9 and float(p23["committed_idr"]) == 2e9
    assert float(progress[("2022", "apbd")]["spent_idr"]) == 5.5e9
    assert progress[("2022", "operator")]["budget_idr"] == ""  # no limit

    meta = json.loads((out / "data" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["license_id"] == "odc-odbl"  # the register is ODbL: share-alike binds
    assert meta["organization"] == "Diskominfostaper Kabupaten Paser"
    extras = {e["key"]: e["value"] for e in meta["extras"]}
    assert (extras["temporal_start"], extras["temporal_end"]) == ("2021-09-28", "2024")
    assert "OpenCelliD" in extras["source"] or "ODbL" in extras["source"]
    for resource in meta["resources"]:
        body = (out / "data" / resource["url"]).read_bytes()
        assert resource["size"] == len(body)
        assert resource["hash"] == "sha256:" + hashlib.sha256(body).hexdigest()
    geo = json.loads((out / "data" / "villages.geojson").read_text(encoding="utf-8"))
    assert len(geo["features"]) == 144
    blank = sorted(f["properties"]["name"] for f in geo["features"]
                   if f["properties"]["class"] == "blank")
    assert blank == ["Kepala Telake", "Long Sayo", "Muara Toyu", "Rantau Layung", "Segendang",
                     "Swan Slutung"]
    with sqlite3.connect(history) as con:  # the dashboard only read the history
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_paser_dashboard_renders_in_chromium(paser_history, tmp_path):
    from tests.integration.test_dashboard_browser import (
        _FILTER,
        _STATE,
        _WAIT_DRAWN,
        _call,
        _screenshot,
    )
    from tests.integration.test_map_browser import (
        CHROMIUM,
        _chromium_command,
        _DevTools,
        _requests,
        open_page,
        page_problems,
    )
    from towerplan.commands.dashboard import write_dashboard

    if CHROMIUM is None:
        pytest.skip("chromium is not on PATH (apt-get install chromium); dashboard not rendered")
    from PIL import Image

    history, _ = paser_history
    page = write_dashboard(history, tmp_path / "dashboard").path / "index.html"
    tools = _DevTools(_chromium_command(tmp_path), tmp_path / "chromium.log")
    try:
        sid, start = open_page(tools, page, (1920, 1080))
        drawn = _call(tools, sid, _WAIT_DRAWN, 144 + 6)
        state = _call(tools, sid, _STATE)
        shot = _screenshot(tools, sid, tmp_path / "paser_dashboard.png")
        events = tools.events[start:]
        blank_long_kali = _call(tools, sid, _FILTER, "", "Long Kali", "blank")
        everything = _call(tools, sid, _FILTER, "", "", "")
    finally:
        tools.close()
    assert _requests(events) == [page.as_uri()]
    assert page_problems(events) == []
    assert drawn == 144 + 6  # every village, and the six sites with a position
    assert state["overflow"] <= 0 and state["tiles"] == 0
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    assert pixels.std() > 10 and len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200
    assert sorted(blank_long_kali["rows"]) == ["Kepala Telake", "Muara Toyu"]
    assert len(everything["rows"]) == 144


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_an_import_stopped_mid_transaction_leaves_the_history_as_it_was(tmp_path, how):
    """``towerplan status import`` killed (or terminated) while its transaction writes: the
    history has exactly its earlier rows and passes SQLite's integrity check."""
    import os
    import signal
    import subprocess
    import sys
    import time

    history = _small_history(tmp_path / "programme.gpkg")
    with open_history(history, write=True) as h:
        h.add_site("S-0", code="64.01.01.2001")
        h.add_event("S-0", "proposed", "2023")
        before = h.counts()
    sites = tmp_path / "sites.csv"
    rows = [f"S-{i},64.01.01.2002,proposed,2024,bulk" for i in range(1, 20001)]
    sites.write_text("site_id,code,stage,date,note\n" + "\n".join(rows) + "\n")
    journal = history.with_name(history.name + "-journal")
    env = {**os.environ, "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "towerplan", "status", "import", "--sites",
                             str(sites), "-H", str(history)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not journal.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert journal.exists(), "the import finished before it could be stopped"
    time.sleep(0.2)
    proc.send_signal(getattr(signal, how))
    _, stderr = proc.communicate(timeout=60)
    if how == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 128 + signal.SIGTERM, stderr
        assert "interrupted by SIGTERM" in stderr
        assert not journal.exists()  # rolled back by the command itself
    with open_history(history) as h:
        assert h.counts() == before
        assert h.sites()["site_id"].tolist() == ["S-0"]
    with sqlite3.connect(history) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_paser_dashboard_as_known_at_the_end_of_2022(run_cli, paser_history, tmp_path):
    history, _ = paser_history
    out = tmp_path / "dashboard-2022"
    proc = run_cli("dashboard", "--out", out, "-H", history, "--as-of", "2022", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "144 villages, 6 blank, 5 semi blank, 133 served, 0 unknown; 3 sites" in proc.stdout
    meta = json.loads((out / "data" / "metadata.json").read_text(encoding="utf-8"))
    extras = {e["key"]: e["value"] for e in meta["extras"]}
    assert extras["as_of"] == "2022-12-31" and extras["temporal_end"] == "2022-11-16"
    years = [r["year"] for r in _csv(out / "data" / "programme.csv")]
    assert set(years) == {"2022"}
    reports = _csv(out / "data" / "status_reports.csv")
    assert len(reports) == 149 and max(r["date"] for r in reports) == "2022-11-16"
    assert "As known on" in (out / "index.html").read_text(encoding="utf-8")
    bad = run_cli("dashboard", "--out", tmp_path / "x", "-H", history, "--as-of", "2022-13")
    assert "'2022-13' is not a date" in _one_error_line(bad)
