"""The programme dashboard page (``towerplan.outputs.dashboard``), checked as text.

:func:`make_dashboard_data` builds the dashboard data of a small, realistic programme (eight
villages in two kecamatan near Paser, three years, a failed tender, a site without
coordinates, a hostile village name); the browser test reuses it.
"""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from towerplan.errors import InputDataError, OutputError, ScenarioError
from towerplan.i18n import TEXT
from towerplan.io.history import STAGES
from towerplan.outputs import dashboard
from towerplan.outputs.dashboard import CLASS_COLORS, STAGE_COLORS, write_dashboard_page
from towerplan.outputs.maps import _EXTERNAL_ASSET, _leaflet_assets
from towerplan.outputs.portal import PORTAL_FILES

#: A village name that is markup, an entity and an accent at once.
HOSTILE_NAME = '<script>alert(1)</script> & "Désa"'
#: The village the accent-insensitive search finds as "muara kome".
ACCENT_NAME = "Muara Kömé"

#: (code, name, kecamatan, status, class, population, date, source)
_VILLAGES: tuple[tuple[str, str, str, str, str, float | None, str, str], ...] = (
    ("64.01.07.2001", "Muara Toyu", "Muara Komam", "none", "blank", 1520.0, "2023-11-02",
     "Diskominfo Paser"),
    ("64.01.07.2002", ACCENT_NAME, "Muara Komam", "weak", "semi_blank", 980.4, "2023-11-02",
     "Diskominfo Paser"),
    ("64.01.07.2003", "Prayon", "Muara Komam", "4g", "served", 2310.0, "2022-06",
     "BAKTI"),
    ("64.01.07.2004", "Lusan", "Muara Komam", "unknown", "unknown", None, "", ""),
    ("64.01.08.2001", "Kasungai", "Batu Sopang", "none", "blank", 12345.0, "2021-09-28",
     "Podes 2021"),
    ("64.01.08.2002", HOSTILE_NAME, "Batu Sopang", "none", "blank", 640.0, "2023",
     "Podes 2021 (url(https://example.org/x.css)) @import"),
    ("64.01.08.2003", "Rantau Buta", "Batu Sopang", "3g", "semi_blank", 1105.0, "2023-03-15",
     "Diskominfo Paser"),
    ("64.01.08.2004", "Legai", "Batu Sopang", "4g", "served", 3050.0, "2024", "BAKTI"),
)

#: (site_id, village index or None, year, channel, type, events, location, point or None)
_SITES: tuple[tuple[str, int | None, int, str, str, list[list[Any]], str | None,
                    tuple[float, float] | None], ...] = (
    ("PSR-01", 2, 2021, "BAKTI", "SST 72 m",
     [["budgeted", "2021-02-01", 1.7e9, None], ["tendered", "2021-04-10", 1.65e9, None],
      ["built", "2021-10-01", None, None], ["on_air", "2021-12-15", 1.6e9, "paid"]],
     "site", (116.0515, -1.8105)),
    ("PSR-02", 7, 2022, "APBD", "Monopole 42 m",
     [["proposed", "2021-11-01", None, None], ["budgeted", "2022-01-15", 1.2e9, None],
      ["tendered", "2022-05-02", 1.15e9, None], ["built", "2022-12-20", 1.1e9, None]],
     "site", (116.1525, -1.8095)),
    ("PSR-03", 0, 2023, "APBD", "SST 52 m",
     [["budgeted", "2023-01-20", 1.4e9, None],
      ["tendered", "2023-04-01", 1.38e9, None],
      ["tender_failed", "2023-06-30", None, "no bidder / tidak ada penawar"]],
     "village centre", (116.0100, -1.7900)),
    ("PSR-04", 4, 2023, "BAKTI", "SST 72 m",
     [["budgeted", "2023-02-01", 1.75e9, None]], None, None),
    ("PSR-05", 5, 2023, "APBD", "Monopole 42 m",
     [["proposed", "2023-08-01", None, "<b>usulan</b> musrenbang"]], "site", (116.1100, -1.7700)),
    ("PSR-06", None, 2022, "APBD", "SST 52 m",
     [["proposed", "2022-02-01", None, None], ["cancelled", "2022-09-01", None, None]],
     None, (116.0900, -1.8300)),
)


def _square(lon: float, lat: float, size: float = 0.04) -> dict[str, Any]:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    return {"type": "MultiPolygon", "coordinates": [[ring]]}


def _counts(props: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"villages": len(props)}
    for cls in CLASS_COLORS:
        out[cls] = sum(p["class"] == cls for p in props)
    for cls in ("blank", "semi_blank", "served"):
        known = [p["population"] for p in props if p["class"] == cls]
        out[f"people_{cls}"] = (None if any(v is None for v in known)
                                else float(sum(known)))
    return out


def make_dashboard_data(*, people: bool = True) -> dict[str, Any]:
    """The dashboard data of a small programme: 8 villages (2 kecamatan), 6 sites, 2021-2023.

    Parameters
    ----------
    people : bool
        False: every population is unknown (None), as when no population source is given.
    """
    sites_of: dict[int, list[dict[str, str]]] = {}
    site_features = []
    for site_id, village, year, channel, kind, events, location, point in _SITES:
        stage, stage_date = events[-1][0], events[-1][1]
        capex = next((e[2] for e in events if e[2] is not None), None)
        if village is not None:
            sites_of.setdefault(village, []).append({"site_id": site_id, "stage": stage})
        row = _VILLAGES[village] if village is not None else None
        site_features.append({"type": "Feature", "geometry": None if point is None else {
            "type": "Point", "coordinates": list(point)}, "properties": {
            "site_id": site_id, "code": row[0] if row else None,
            "village": row[1] if row else None, "kecamatan": row[2] if row else "Batu Sopang",
            "year": year, "channel": channel, "tower_type": kind, "stage": stage,
            "stage_date": stage_date, "capex_idr": capex,
            "people": 1234.6 if people and stage != "cancelled" else None,
            "location": location, "events": events}})
    props, village_features = [], []
    for k, (code, name, kec, status, cls, population, date, source) in enumerate(_VILLAGES):
        column, row = divmod(k, 4)
        p = {"code": code, "name": name, "kecamatan": kec, "kind": "desa",
             "population": population if people else None, "status": status, "class": cls,
             "date": date, "source": source, "n_reports": 0 if status == "unknown" else 2,
             "sites": sites_of.get(k, [])}
        props.append(p)
        village_features.append({"type": "Feature", "properties": p, "geometry": _square(
            116.0 + 0.1 * column + 0.01 * row, -1.9 + 0.05 * row)})
    head = _counts(props)
    stages = [f["properties"]["stage"] for f in site_features]
    head["sites"] = {s: stages.count(s) for s in STAGE_COLORS}
    by_kecamatan = []
    for kec in ("Batu Sopang", "Muara Komam"):
        row_counts = _counts([p for p in props if p["kecamatan"] == kec])
        row_counts.pop("people_served")
        by_kecamatan.append({"kecamatan": kec, **row_counts})
    over_time = [
        {"year": year, "blank": blank, "semi_blank": 2, "served": served, "unknown": 1,
         "people_blank": people_blank if people else None,
         "people_semi_blank": 2_085.4 if people else None, "reports": reports}
        for year, blank, served, people_blank, reports in (
            (2021, 5, 0, 18_450.0, 8), (2022, 4, 1, 16_140.0, 9), (2023, 3, 2, 14_505.0, 12))
    ]
    progress = [
        {"year": 2021, "channel": "BAKTI", "budget_idr": None, "budgeted_idr": 1.7e9,
         "committed_idr": 1.65e9, "spent_idr": 1.6e9, "proposed": 0, "budgeted": 1,
         "tenders": 1, "tenders_failed": 0, "built": 1, "on_air": 1},
        {"year": 2022, "channel": "APBD", "budget_idr": 2.5e9, "budgeted_idr": 1.2e9,
         "committed_idr": 1.15e9, "spent_idr": 1.1e9, "proposed": 2, "budgeted": 1,
         "tenders": 1, "tenders_failed": 0, "built": 1, "on_air": 0},
        {"year": 2023, "channel": "APBD", "budget_idr": 3.0e9, "budgeted_idr": 1.4e9,
         "committed_idr": 0.0, "spent_idr": 0.0, "proposed": 1, "budgeted": 1,
         "tenders": 1, "tenders_failed": 1, "built": 0, "on_air": 0},
        {"year": 2023, "channel": "BAKTI", "budget_idr": 1_234_567_890.0,
         "budgeted_idr": 1.75e9, "committed_idr": 0.0, "spent_idr": 0.0, "proposed": 0,
         "budgeted": 1, "tenders": 0, "tenders_failed": 0, "built": 0, "on_air": 0},
    ]
    limitations = [
        "Status desa dari laporan Diskominfo dan Podes, bukan pengukuran sinyal / Village "
        "status comes from Diskominfo reports and Podes, not from signal measurements",
        "Satu lokasi tanpa koordinat tidak ada di peta / One site without coordinates is not "
        "on the map",
    ]
    if not people:
        limitations.append("Jumlah penduduk desa tidak tersedia / Village populations are not "
                           "available")
    return {
        "title": "Program menara blank spot Kabupaten Paser",
        "region": "Kabupaten Paser, Kalimantan Timur",
        "target": "4g",
        "generated_utc": "2026-12-07T05:00:00Z",
        "period": ["2021-09-28", "2024"],
        "attribution": ["Batas desa: BIG / Kemendagri (CC BY 4.0)",
                        "Laporan sinyal: Diskominfo Kabupaten Paser; Podes 2021 (BPS)"],
        "limitations": limitations,
        "population_basis": "apportioned from kecamatan totals by area" if people else "",
        "headline": head,
        "by_kecamatan": by_kecamatan,
        "over_time": over_time,
        "progress": progress,
        "villages": {"type": "FeatureCollection", "features": village_features},
        "sites": {"type": "FeatureCollection", "features": site_features},
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, str]:
    """The page in Bahasa Indonesia, in English, and without population data."""
    out = tmp_path_factory.mktemp("dashboard")
    return {
        "id": write_dashboard_page(make_dashboard_data(), out / "id.html").read_text("utf-8"),
        "en": write_dashboard_page(make_dashboard_data(), out / "en.html", lang="en")
        .read_text("utf-8"),
        "no_people": write_dashboard_page(make_dashboard_data(people=False),
                                          out / "np.html").read_text("utf-8"),
    }


def _body(page: str) -> str:
    """The page without Leaflet's inlined code and style."""
    leaflet_js, leaflet_css = _leaflet_assets()
    assert leaflet_js in page and leaflet_css in page
    return page.replace(leaflet_js, "").replace(leaflet_css, "")


def _visible(fragment: str, lang: str) -> str:
    """Text of *fragment* as shown in *lang*: other-language spans dropped, tags stripped."""
    other = "en" if lang == "id" else "id"
    fragment = re.sub(rf'<span data-lang="{other}">.*?</span>', "", fragment, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", fragment))


def _section(page: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}".*?</\1>', page, flags=re.S)
    assert match, element_id
    return match.group(0)


def _map_payload(page: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="tp-data">(.*?)</script>', page,
                      flags=re.S)
    assert match
    return json.loads(match.group(1))


def test_writes_the_file_atomically_and_returns_its_path(tmp_path):
    path = write_dashboard_page(make_dashboard_data(), tmp_path / "index.html")
    assert path == tmp_path / "index.html"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]
    assert path.read_text("utf-8").startswith("<!DOCTYPE html>")


def test_same_data_gives_the_same_bytes_and_the_data_is_not_modified(tmp_path):
    data = make_dashboard_data()
    before = copy.deepcopy(data)
    first = write_dashboard_page(data, tmp_path / "a.html").read_bytes()
    second = write_dashboard_page(data, tmp_path / "b.html").read_bytes()
    assert first == second
    assert data == before


def test_an_unsupported_language_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="'fr'"):
        write_dashboard_page(make_dashboard_data(), tmp_path / "x.html", lang="fr")
    assert not (tmp_path / "x.html").exists()


def test_a_screen_page_reloads_itself_when_asked(tmp_path):
    plain = write_dashboard_page(make_dashboard_data(), tmp_path / "a.html").read_text("utf-8")
    assert 'http-equiv="refresh"' not in plain
    screen = write_dashboard_page(make_dashboard_data(), tmp_path / "b.html",
                                  refresh_min=5).read_text("utf-8")
    head = screen.split("</head>")[0]
    assert '<meta http-equiv="refresh" content="300">' in head
    with pytest.raises(ScenarioError, match="positive number"):
        write_dashboard_page(make_dashboard_data(), tmp_path / "c.html", refresh_min=-1)
    assert not (tmp_path / "c.html").exists()


def test_missing_keys_are_all_named_at_once(tmp_path):
    data = make_dashboard_data()
    del data["progress"], data["limitations"], data["headline"]["people_blank"]
    with pytest.raises(InputDataError) as info:
        write_dashboard_page(data, tmp_path / "x.html")
    assert set(info.value.problems) == {"progress", "limitations", "headline.people_blank"}


def test_default_language_and_both_languages_in_the_page(pages):
    assert '<html lang="id">' in pages["id"]
    assert '<html lang="en">' in pages["en"]
    for page in (pages["id"], pages["en"]):
        assert 'data-set-lang="id"' in page and 'data-set-lang="en"' in page
        assert '<span data-lang="id">Daftar desa</span>' in page
        assert '<span data-lang="en">Villages</span>' in page
        assert 'html[lang=id] [data-lang=en],html[lang=en] [data-lang=id]{display:none' in page
    # the first language's text is in the search box and the selects before any script runs
    assert 'placeholder="Cari nama atau kode desa"' in pages["id"]
    assert 'placeholder="Search a village name or code"' in pages["en"]
    assert ">Semua kecamatan</option>" in pages["id"]
    assert ">All kecamatan</option>" in pages["en"]


def test_every_label_has_both_languages():
    keys = [k for k in TEXT if k.startswith("dash.")]
    assert len(keys) > 80
    for key in keys:
        assert TEXT[key]["id"].strip() and TEXT[key]["en"].strip(), key
    used = set(re.findall(r'_(?:text|label)\(\s*"([\w.]+)"', Path(dashboard.__file__).read_text()))
    assert used and {f"dash.{k}" for k in used} <= set(keys)


def test_the_header_states_title_region_period_time_and_target(pages):
    header = _section(pages["id"], "tp-lim-h")  # sanity: the limitations heading exists
    assert "Keterbatasan" in header
    top = pages["id"].split("<main>")[0]
    assert "Program menara blank spot Kabupaten Paser</h1>" in top
    assert "Kabupaten Paser, Kalimantan Timur" in top
    assert "2021-09-28 – 2024" in top
    assert "2026-12-07 05:00 UTC" in top
    assert "Target cakupan" in top and ">4G<" in top


def test_limitations_come_first_and_whole(pages):
    page = pages["id"]
    main = page.split("<main>", 1)[1]
    assert main.startswith('<section id="tp-limitations"')
    first = page.index('id="tp-limitations"')
    assert first < page.index('id="tp-headline"') < page.index('id="tp-map"')
    limits = _section(page, "tp-limitations")
    # a bilingual limitation is shown in the page's language only
    assert ('<span data-lang="id">Satu lokasi tanpa koordinat tidak ada di peta</span>'
            '<span data-lang="en">One site without coordinates is not on the map</span>'
            ) in html.unescape(limits)


def test_headline_cards_count_villages_people_and_sites(pages):
    cards_id = _visible(_section(pages["id"], "tp-headline"), "id")
    cards_en = _visible(_section(pages["en"], "tp-headline"), "en")
    compact_id = " ".join(cards_id.split())
    compact_en = " ".join(cards_en.split())
    assert "3 blank spot" in compact_id and "2 semi blank spot" in compact_id
    assert "2 terlayani" in compact_id and "1 tidak diketahui" in compact_id
    assert "8 desa seluruhnya" in compact_id
    # 1520 + 12345 + 640 people in blank villages, Indonesian and English separators
    assert "14.505 di desa blank spot" in compact_id
    assert "14,505 in blank-spot villages" in compact_en
    assert "1 mengudara" in compact_id and "1 dibangun" in compact_id
    assert "1 on air" in compact_en and "1 built" in compact_en and "1 in tender" not in \
        compact_en  # the failed tender is not "in tender"
    assert "Tender gagal: 1 · dibatalkan: 1" in compact_id
    assert "apportioned from kecamatan totals by area" in compact_id


def test_unknown_people_read_not_available(pages):
    cards = _section(pages["no_people"], "tp-headline")
    assert "t/a" in _visible(cards, "id") and "n/a" in _visible(cards, "en")
    assert "Dasar jumlah penduduk" not in cards  # no basis stated when there is none
    chart = _section(pages["no_people"], "tp-chart-cb")
    assert "<svg" not in chart
    assert "grafik penduduk tidak digambar" in chart


def test_kecamatan_table_has_a_row_per_kecamatan_and_a_total(pages):
    table = _section(pages["id"], "tp-kecamatan")
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>", table)
    assert rows[:2] == ["Batu Sopang", "Muara Komam"]
    assert "Jumlah" in rows[2]


def test_charts_are_inline_svg_one_per_language_without_external_references(pages):
    page = pages["id"]
    for area in ("ca", "cb", "cc"):
        box = _section(page, f"tp-chart-{area}")
        assert box.count('<div class="tp-chart" data-lang="id"><svg') == 1, area
        assert box.count('<div class="tp-chart" data-lang="en"><svg') == 1, area
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    assert "<metadata" not in page and "<text" not in _body(page)  # text drawn as paths
    assert not re.search(r"(?:xlink:)?href=\"(?!#|data/)", _body(page))
    body = _body(page)
    ids = re.findall(r'(?<![\w-])id="([^"]+)"', body)
    assert len(ids) == len(set(ids)), "duplicate element ids"
    uses = set(re.findall(r'href="#([^"]+)"', body)) | set(re.findall(r"url\(#([^)]+)\)", body))
    assert uses <= set(ids)


def test_no_limit_budget_is_a_note_not_a_bar(pages):
    chart = html.unescape(_section(pages["id"], "tp-chart-cc"))
    assert "anggaran tanpa batas atau tidak dicatat (2021 BAKTI)" in chart
    assert "no limit, or not recorded (2021 BAKTI)" in chart


def test_numbers_and_money_follow_the_language(pages):
    sites_id = _visible(_section(pages["id"], "tp-site-table"), "id")
    sites_en = _visible(_section(pages["en"], "tp-site-table"), "en")
    assert "Rp 1,7 miliar" in sites_id and "Rp 1.7 bn" in sites_en
    villages_id = _visible(_section(pages["id"], "tp-village-table"), "id")
    villages_en = _visible(_section(pages["en"], "tp-village-table"), "en")
    assert "12.345" in villages_id and "12,345" in villages_en
    assert dashboard._money(1_669_691.47, "id") == "Rp 1,7 juta"
    assert dashboard._money(25_000, "en") == "Rp 25,000"
    assert dashboard._money(None, "en") == "n/a"


def test_village_table_has_one_row_per_village_with_filter_data(pages):
    table = _section(pages["id"], "tp-village-table")
    rows = re.findall(r"<tr data-kecamatan=\"([^\"]*)\" data-class=\"(\w+)\"", table)
    assert len(rows) == 8
    assert sorted(c for _, c in rows) == sorted(v[4] for v in _VILLAGES)
    page = pages["id"]
    for element in ('id="tp-search"', 'id="tp-filter-kecamatan"', 'id="tp-filter-status"',
                    'id="tp-count"'):
        assert element in page
    assert "8 dari 8 desa" in page and "8 of 8 villages" in page
    assert "PSR-01 (mengudara)" in _visible(table, "id")  # sites of a village, with their stage


def test_site_table_lists_every_site_with_its_history(pages):
    table = _section(pages["id"], "tp-site-table")
    assert len(re.findall(r"<tr data-stage=", table)) == len(_SITES)
    shown = " ".join(_visible(table, "id").split())
    assert "tender gagal 2023-06-30 (no bidder / tidak ada penawar)" in shown
    assert "PSR-04" in shown  # no coordinates, still listed


def test_map_data_draws_placed_sites_only(pages):
    payload = _map_payload(pages["id"])
    assert len(payload["villages"]["features"]) == 8
    assert len(payload["sites"]) == len(_SITES) - 1  # PSR-04 has no geometry
    assert {s["stage"] for s in payload["sites"]} <= set(STAGE_COLORS)
    assert [s["centre"] for s in payload["sites"]].count(True) == 1
    assert payload["classColors"]["blank"] == CLASS_COLORS["blank"]
    assert "Lokasi tanpa koordinat tidak digambar: 1" in pages["id"]
    assert "L.tileLayer" not in _body(pages["id"])


def test_untrusted_text_is_escaped_everywhere(pages):
    for page in pages.values():
        assert HOSTILE_NAME not in page
        assert "<script>alert" not in page and "<b>usulan</b>" not in page
        assert page.count("<script") == 3  # data, Leaflet, the page's own script
        assert html.escape(HOSTILE_NAME).replace("(", "&#40;") in page
        payload = _map_payload(page)
        tips = [f["properties"]["tip"] for f in payload["villages"]["features"]]
        assert html.unescape(tips[5]) == HOSTILE_NAME
        assert all("<" not in t for t in tips)
        for feature in payload["villages"]["features"]:
            assert "<script" not in feature["properties"]["popup"]


def test_the_page_loads_nothing_from_outside(pages):
    for page in pages.values():
        assert _EXTERNAL_ASSET.search(page) is None
        body = _body(page)
        for match in re.finditer(r"<(script|link|img|iframe)\b[^>]*>", body):
            assert not re.search(r"\b(?:src|href)=", match.group(0)), match.group(0)
        # data text that looks like CSS stays text (and does not trip the check above)
        assert "url&#40;https://example.org/x.css)) &#64;import" in body


def test_data_files_are_linked_relatively(pages):
    links = re.findall(r'<a href="([^"]+)"', _body(pages["id"]))
    assert links == ["data/villages.csv", "data/villages.geojson", "data/sites.csv",
                     "data/sites.geojson", "data/status_reports.csv",
                     "data/status_over_time.csv", "data/programme.csv", "data/metadata.json"]
    assert {link.removeprefix("data/") for link in links} == {*PORTAL_FILES, "metadata.json"}
    assert set(STAGE_COLORS) == set(STAGES)  # a colour for every stage of a site's life
    footer = pages["id"].split("<footer", 1)[1]
    assert "Batas desa: BIG / Kemendagri &#40;CC BY 4.0)" in footer


def test_a_page_with_an_external_asset_is_refused(tmp_path, monkeypatch):
    css, js = dashboard._page_assets()
    monkeypatch.setattr(dashboard, "_page_assets",
                        lambda: ("@import url(https://fonts.example/x.css);" + css, js))
    with pytest.raises(OutputError, match="external asset"):
        write_dashboard_page(make_dashboard_data(), tmp_path / "x.html")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_programme_still_renders(tmp_path):
    data = make_dashboard_data()
    data.update(over_time=[], progress=[], by_kecamatan=[],
                villages={"type": "FeatureCollection", "features": []},
                sites={"type": "FeatureCollection", "features": []}, limitations=[])
    page = write_dashboard_page(data, tmp_path / "x.html").read_text("utf-8")
    assert "Tidak ada keterbatasan yang dicatat." in page
    assert "Belum ada data." in page and "Belum ada lokasi menara." in page
    assert "0 dari 0 desa" in page


def test_path_may_be_a_string(tmp_path):
    path = write_dashboard_page(make_dashboard_data(), str(tmp_path / "p.html"))
    assert isinstance(path, Path) and path.exists()
