"""Programme progress from a history: status over time, sites by stage, money by year."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from towerplan.analysis.progress import (
    dashboard_data,
    display_copy,
    period_end,
    programme_progress,
    site_stages,
    stale_villages,
    status_at,
    status_over_time,
)
from towerplan.errors import ScenarioError
from towerplan.io.history import create_history, open_history
from towerplan.outputs.portal import portal_licence

A, B, C = "64.01.01.2001", "64.01.01.2002", "64.01.02.2001"


def _reports(*rows: tuple[str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["code", "status", "date"])
    frame["source"] = "s"
    frame["date_start"] = [f"{d}-01-01"[:10] if len(d) == 4 else f"{d}-01"[:10]
                           for d in frame["date"]]
    return frame


def test_status_at_takes_the_latest_report_before_the_day():
    reports = _reports((A, "none", "2021"), (A, "4g", "2023-06"), (B, "weak", "2022"))
    early = status_at(reports, [A, B, C], "4g", dt.date(2022, 12, 31))
    assert early["class"].tolist() == ["blank", "semi_blank", "unknown"]
    late = status_at(reports, [A, B, C], "4g")
    assert late["class"].tolist() == ["served", "semi_blank", "unknown"]
    assert late.at[A, "date"] == "2023-06"


def test_signal_is_served_only_for_the_signal_target():
    reports = _reports((A, "signal", "2021"))
    assert status_at(reports, [A], "signal").at[A, "class"] == "served"
    assert status_at(reports, [A], "4g").at[A, "class"] == "unknown"


def test_status_over_time_counts_villages_and_people_at_each_year_end():
    villages = pd.DataFrame({"code": [A, B, C], "population": [1000.0, 200.0, 30.0]})
    reports = _reports((A, "none", "2021"), (B, "none", "2021"), (B, "weak", "2022"),
                       (A, "4g", "2023"), (C, "4g", "2022"))
    table = status_over_time(reports, villages, "4g", [2021, 2022, 2023]).set_index("year")
    assert table.loc[2021, ["blank", "semi_blank", "served", "unknown"]].tolist() == [2, 0, 0, 1]
    assert table.loc[2022, ["blank", "semi_blank", "served", "unknown"]].tolist() == [1, 1, 1, 0]
    assert table.loc[2023, ["blank", "semi_blank", "served"]].tolist() == [0, 1, 2]
    assert table.loc[2021, "people_blank"] == 1200.0
    assert table.loc[2022, "people_semi_blank"] == 200.0
    assert table["reports"].tolist() == [2, 2, 1]
    unknown_people = villages.assign(population=float("nan"))
    assert status_over_time(reports, unknown_people, "4g", [2021])["people_blank"].iloc[0] is None


def _events(*rows: tuple) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["site_id", "stage", "date", "amount_idr"])
    frame["date_start"] = [f"{d}-01-01" if len(d) == 4 else d for d in frame["date"]]
    frame["note"] = None
    return frame


def test_programme_progress_money_by_year_and_channel():
    sites = pd.DataFrame({"site_id": ["S1", "S2", "S3"], "channel": ["apbd", "apbd", "op"]})
    events = _events(("S1", "budgeted", "2023", 2e9), ("S1", "tendered", "2023", 1.9e9),
                     ("S1", "built", "2023", None),  # paid: the contract value
                     ("S2", "budgeted", "2023", 2e9), ("S2", "tendered", "2023", 2e9),
                     ("S2", "tender_failed", "2023", None),
                     ("S2", "budgeted", "2024", 2.1e9),
                     ("S3", "proposed", "2024", 1e9), ("S3", "built", "2024", 0.8e9))
    budgets = pd.DataFrame({"year": [2023, 2024], "channel": ["apbd", "apbd"],
                            "budget_idr": [6e9, float("nan")]})
    table = programme_progress(budgets, sites, events).set_index(["year", "channel"])
    a23 = table.loc[(2023, "apbd")]
    assert (a23["budget_idr"], a23["budgeted_idr"], a23["committed_idr"],
            a23["spent_idr"]) == (6e9, 4e9, 1.9e9, 1.9e9)
    assert (a23["tenders"], a23["tenders_failed"], a23["built"]) == (2, 1, 1)
    a24 = table.loc[(2024, "apbd")]
    assert a24["budgeted_idr"] == 2.1e9 and pd.isna(a24["budget_idr"])
    assert table.loc[(2024, "op"), "spent_idr"] == 0.8e9
    assert table.loc[(2024, "op"), "committed_idr"] == 0.8e9  # built without a tender
    assert table.loc[(2024, "op"), "proposed"] == 1


def test_site_stages_and_stale_villages():
    sites = pd.DataFrame({"site_id": ["S1", "S2", "S3"], "code": [A, B, None]})
    events = _events(("S1", "budgeted", "2022", None), ("S1", "built", "2022", None),
                     ("S2", "on_air", "2021-03", None), ("S3", "proposed", "2024", None))
    stages = site_stages(sites, events).set_index("site_id")
    assert stages["stage"].tolist() == ["built", "on_air", "proposed"]
    assert stages.at["S1", "events"] == [["budgeted", "2022", None, None],
                                         ["built", "2022", None, None]]
    status = status_at(_reports((A, "none", "2021-09"), (B, "4g", "2021-06")), [A, B], "4g")
    # A: built 2022 after its 2021 report -> stale; B: reported after it went on air
    assert stale_villages(status, stages.reset_index()) == [A]


@pytest.fixture
def history(tmp_path):
    path = create_history(tmp_path / "h.gpkg", title="T", region="R", target="4g",
                          attribution=["Register: idn-area-data (ODbL 1.0)"])
    villages = gpd.GeoDataFrame(
        {"code": [A, B], "name": ["Alpha", "Beta"], "district": ["K1", "K2"],
         "population": [1000.0, 300.0]},
        geometry=[shapely.Point(116.0, -2.0).buffer(0.05, 64),
                  shapely.box(116.1, -2.0, 116.2, -1.9)], crs="EPSG:4326")
    with open_history(path, write=True) as h:
        h.add_villages(villages)
        h.add_reports(pd.DataFrame({"code": [A, B], "status": ["none", "4g"],
                                    "date": ["2021-09", "2022"], "source": ["x", "y"]}))
        h.add_site("S1", code=A, year=2022, channel="apbd")
        h.add_event("S1", "budgeted", "2022", amount_idr=2e9)
        h.add_event("S1", "built", "2022-11", amount_idr=1.9e9)
        h.set_budget(2022, "apbd", 2e9)
    return path


def test_dashboard_data_gathers_the_history(history):
    with open_history(history) as h:
        data = dashboard_data(h, generated_utc="2026-01-01T00:00:00Z", limitations=["L"])
    assert data["period"] == ["2021-09", "2022-11"]
    assert data["headline"]["blank"] == 1 and data["headline"]["served"] == 1
    assert data["headline"]["people_blank"] == 1000.0
    assert data["headline"]["sites"]["built"] == 1
    assert [r["year"] for r in data["over_time"]] == [2021, 2022]
    assert data["limitations"][0].startswith("Status desa berasal dari laporan sinyal")
    assert "1 desa" in data["limitations"][0] and "Alpha" in data["limitations"][0]
    assert data["limitations"][1] == "L"
    [kec1, kec2] = data["by_kecamatan"]
    assert (kec1["kecamatan"], kec1["blank"], kec2["served"]) == ("K1", 1, 1)
    alpha = data["villages"]["features"][0]
    assert alpha["properties"]["sites"] == [{"site_id": "S1", "stage": "built"}]
    assert data["sites"]["features"][0]["geometry"]["type"] == "Point"
    shown = display_copy(data, tolerance_deg=0.01)
    ring = shown["villages"]["features"][0]["geometry"]["coordinates"][0][0]
    full = data["villages"]["features"][0]["geometry"]["coordinates"][0][0]
    assert len(ring) < len(full) / 4  # the circle's 257 points thinned for the screen


@pytest.mark.parametrize(("lines", "licence"), [
    (["Register: idn-area-data, ODbL 1.0", "Towers: OpenCelliD, CC BY-SA 4.0"], "odc-odbl"),
    (["Towers: OpenCelliD Project, CC BY-SA 4.0"], "cc-by-sa"),
    (["Settlements: GeoNames (CC BY 4.0)"], "cc-by"),
])
def test_portal_licence_follows_share_alike_sources(lines, licence):
    assert portal_licence(lines)[0] == licence


def test_period_end_closes_each_period():
    assert period_end("2022") == dt.date(2022, 12, 31)
    assert period_end("2024-02") == dt.date(2024, 2, 29)
    assert period_end("2023-12") == dt.date(2023, 12, 31)
    assert period_end("17/05/2023") == dt.date(2023, 5, 17)
    with pytest.raises(ScenarioError, match="not a date"):
        period_end("2021-13")


def test_dashboard_data_as_known_on_a_past_day(history):
    with open_history(history) as h:
        past = dashboard_data(h, generated_utc="x", as_of=dt.date(2021, 12, 31))
        mid = dashboard_data(h, generated_utc="x", as_of=dt.date(2022, 6, 30))
    assert past["as_of"] == "2021-12-31"
    assert (past["headline"]["blank"], past["headline"]["unknown"]) == (1, 1)  # B: 2022
    assert past["sites"]["features"] == [] and past["progress"] == []
    assert [r["year"] for r in past["over_time"]] == [2021]
    assert not any("laporan sinyal" in x for x in past["limitations"])  # no tower yet
    [site] = mid["sites"]["features"]
    assert site["properties"]["stage"] == "budgeted"  # built only in 2022-11
    assert mid["progress"][0]["budgeted_idr"] == 2e9 and mid["progress"][0]["spent_idr"] == 0
