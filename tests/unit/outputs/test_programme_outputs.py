"""The outputs of a multi-year programme: workbook sheets, the DPRD page, the Gantt chart, the
map layers per year and the KML folders per year (synthetic three-year, two-channel fixture)."""

from __future__ import annotations

import html
import json
import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.unit.outputs.factories import FORMULA_NAME, HOSTILE_NAME, make_plan_result
from tests.unit.outputs.programme_factories import LABELS, YEARS, make_programme_plan
from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    VILLAGE_STATUS_COLUMNS,
)
from towerplan.i18n import t
from towerplan.outputs.document import render_report_html, write_report_pdf
from towerplan.outputs.kml import KML_NAMESPACE, plan_kml
from towerplan.outputs.maps import _programme_features, write_map
from towerplan.outputs.programme_report import gantt_svg, programme_context
from towerplan.outputs.reports import write_report_xlsx

SVG = "{http://www.w3.org/2000/svg}"
PROGRAMME_SHEETS = ("Ringkasan DPRD", "Program per tahun", "Menara program",
                    "Status desa (Podes)")


@pytest.fixture(scope="module")
def programme_plan():
    return make_programme_plan()


@pytest.fixture(scope="module")
def workbook(programme_plan, tmp_path_factory):
    from openpyxl import load_workbook

    path = write_report_xlsx(programme_plan, tmp_path_factory.mktemp("xlsx") / "report.xlsx")
    return load_workbook(path)


def _table(sheet, first_header: str) -> tuple[list[str], list[tuple]]:
    """The header and rows of the table whose first header cell is *first_header*."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == first_header)
    header = [c for c in rows[start] if c is not None]
    body = []
    for row in rows[start + 1:]:
        if row[0] is None:
            break
        body.append(row[:len(header)])
    return header, body


# --------------------------------------------------------------------------- workbook


def test_programme_sheets_come_first_and_the_single_budget_is_a_labelled_comparison(
        workbook):
    names = workbook.sheetnames
    assert names[:5] == [*PROGRAMME_SHEETS, "Program mengapa tidak"]
    assert names[5:] == ["Pembanding satu anggaran", "Peringkat", "Desa", "Mengapa tidak",
                         "Biaya", "Asumsi"]
    note = t("prog.single.sheet_note", "id")
    for name in names[5:9]:  # every single-budget sheet says it is a comparison
        assert note in [c for row in workbook[name].iter_rows(max_row=4, values_only=True)
                        for c in row], name
    for name in names[:5]:
        assert note not in [c for row in workbook[name].iter_rows(max_row=4,
                                                                   values_only=True)
                            for c in row], name


def test_without_a_programme_the_workbook_is_unchanged(tmp_path):
    from openpyxl import load_workbook

    path = write_report_xlsx(make_plan_result(), tmp_path / "report.xlsx")
    assert load_workbook(path).sheetnames == [
        "Ringkasan", "Peringkat", "Desa", "Mengapa tidak", "Biaya", "Asumsi"]


def test_english_sheet_names(programme_plan, tmp_path):
    from openpyxl import load_workbook

    path = write_report_xlsx(programme_plan, tmp_path / "report.xlsx", lang="en")
    assert load_workbook(path).sheetnames[:6] == [
        "DPRD summary", "Programme by year", "Programme towers", "Village status (Podes)",
        "Programme why not", "Single-budget comparison"]


def _same(cell, value) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return cell == "–"
    if isinstance(value, bool):
        return cell == ("ya" if value else "tidak")
    if value == "":
        return cell is None
    if isinstance(value, float):  # the file keeps 15 significant digits
        return cell == pytest.approx(value, rel=1e-14)
    return cell == value


def test_year_and_channel_sheet_equals_the_frame(workbook, programme_plan):
    frame = programme_plan.programme.by_year_channel
    header, rows = _table(workbook["Program per tahun"], "Tahun")
    assert header == [t(f"prog.col.{c}", "id") for c in BY_YEAR_CHANNEL_COLUMNS]
    assert len(rows) == len(frame)
    for row, expected in zip(rows, frame.itertuples(index=False), strict=True):
        for column, cell in zip(BY_YEAR_CHANNEL_COLUMNS, row, strict=True):
            value = getattr(expected, column)
            if column == "channel":
                value = LABELS[value]
            assert _same(cell, value), (column, cell, value)
    sheet = workbook["Program per tahun"]
    money = [c for c in sheet[5] if isinstance(c.value, int | float) and c.column > 5]
    assert {c.number_format for c in money} == {'"Rp" #,##0'}


def test_towers_sheet_equals_the_builds(workbook, programme_plan):
    builds = programme_plan.programme.builds
    header, rows = _table(workbook["Menara program"], "Tahun")
    assert header == [t(f"prog.col.{c}", "id") for c in BUILD_COLUMNS]
    for row, expected in zip(rows, builds.itertuples(index=False), strict=True):
        for column, cell in zip(BUILD_COLUMNS, row, strict=True):
            value = getattr(expected, column)
            if column == "channel":
                value = LABELS[value]
            if isinstance(value, str) and value.startswith("="):
                value = "'" + value  # formula guard
            assert _same(cell, value), (column, cell, value)


def test_village_sheet_speaks_podes_and_never_lifts_a_weak_village(workbook, programme_plan):
    status = programme_plan.programme.village_status
    header, rows = _table(workbook["Status desa (Podes)"], "Kode desa")
    assert header == [t(f"prog.col.{c}", "id") for c in VILLAGE_STATUS_COLUMNS]
    assert len(rows) == len(status)
    signal_at, lifted_at = header.index("Sinyal (Podes)"), len(header) - 1
    assert {r[signal_at] for r in rows} == {"tidak ada", "lemah", "kuat"}
    assert all(r[lifted_at] == "tidak" for r in rows if r[signal_at] == "lemah")
    assert sum(r[lifted_at] == "ya" for r in rows) == int(status["lifted"].sum()) == 2
    for row, expected in zip(rows, status.itertuples(index=False), strict=True):
        assert row[0] == expected.code
        assert row[4] == expected.year
        assert row[5] == pytest.approx(expected.served_share)


def test_dprd_sheet_puts_notes_first_and_totals_per_year(workbook):
    values = [r[0] for r in workbook["Ringkasan DPRD"].iter_rows(values_only=True)]
    notes_at = values.index(t("prog.notes", "id"))
    years_at = values.index("Tahun")
    assert notes_at < years_at
    assert values[notes_at + 1].startswith("• Data sintetis")
    rows = list(workbook["Ringkasan DPRD"].iter_rows(values_only=True))
    assert [r[0] for r in rows[years_at + 1:years_at + 4]] == list(YEARS)
    total = rows[years_at + 4]
    assert total[0] == "Jumlah"
    assert total[1:5] == (4, 2755, 2, 4_600_000_000)
    assert rows[years_at + 3][6] == pytest.approx(1.4e9 / 150)


def test_programme_sheets_print_one_page_wide_landscape_when_wide(workbook):
    from openpyxl.utils import get_column_letter

    for name in PROGRAMME_SHEETS:
        sheet = workbook[name]
        width = sum(sheet.column_dimensions[get_column_letter(c)].width or 8
                    for c in range(1, sheet.max_column + 1))
        wide = sheet.page_setup.orientation == "landscape"
        assert wide == (width > 170), (name, width)
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage


# --------------------------------------------------------------------------- report


def test_dprd_page_comes_first_with_its_notes_before_the_figures(programme_plan):
    page = render_report_html(programme_plan)
    dprd = page.index('id="dprd"')
    assert dprd < page.index(t("doc.summary", "id")) < page.index(t("doc.ranking", "id"))
    section = page[dprd:page.index('id="programme"')]
    assert section.index(t("prog.notes", "id")) < section.index("Per tahun") < section.index(
        t("prog.quality", "id"))
    assert "Rencana ini terbukti yang terbaik" in section
    assert "10,0 % lebih sedikit" in section
    assert "Rp 4,60 miliar" in section  # capex in words a reader can say aloud


def test_gap_and_unknown_gap_in_plain_words(programme_plan):
    from towerplan.outputs.programme_report import _quality

    open_gap = make_programme_plan(gap=0.031).programme
    assert "paling jauh 3,1 % di bawah" in _quality(open_gap, "id")[0]
    unknown = make_programme_plan(gap=math.nan).programme
    assert "tidak membuktikan" in _quality(unknown, "id")[0]


def test_a_year_without_people_shows_no_cost_per_person(programme_plan):
    context = programme_context(programme_plan, "id")
    channels = context["channels"]
    at = channels.headers.index(t("prog.col.cost_per_person_idr", "id"))
    apbd_2026 = next(r for r in channels.rows if r[0] == "2026" and r[1] == LABELS["apbd"])
    assert apbd_2026[at] == "–"


def _pdf_pages(path: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (poppler-utils) is not on PATH; PDF pages not read")
@pytest.mark.parametrize("lang", ["id", "en"])
def test_dprd_summary_is_exactly_the_first_pdf_page(programme_plan, tmp_path, lang):
    pytest.importorskip("weasyprint")
    path = write_report_pdf(programme_plan, tmp_path / "report.pdf", lang=lang)
    pages = _pdf_pages(path)
    first, second = pages[0], pages[1]
    assert t("prog.dprd_title", lang) in first
    assert t("prog.notes", lang) in first
    method = t("prog.method", lang).split(":")[0]
    assert method in first  # the last line of the DPRD page
    assert t("prog.section", lang) not in first
    assert t("prog.section", lang) in second
    assert t("prog.dprd_title", lang) not in second


# --------------------------------------------------------------------------- Gantt chart


def test_gantt_has_one_bar_per_tower_in_its_year(programme_plan):
    outcome = programme_plan.programme
    svg = ET.fromstring(gantt_svg(outcome, "id"))
    bars = [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"]
    assert len(bars) == len(outcome.builds)
    built = dict(zip(outcome.builds["site_id"], outcome.builds["year"], strict=True))
    assert {b.get("data-site"): int(b.get("data-year")) for b in bars} == built
    # later years in service: one thin bar for every tower not built in the last year
    service = [e for e in svg.iter(f"{SVG}rect") if e.get("class") == "service"]
    assert len(service) == int((outcome.builds["year"] < YEARS[-1]).sum())
    # the box sits in its year's column: columns are equal and in year order
    xs = {int(b.get("data-year")): float(b.get("x")) for b in bars}
    assert xs[2024] < xs[2025] < xs[2026]
    assert xs[2026] - xs[2025] == pytest.approx(xs[2025] - xs[2024])
    colors = {b.get("data-channel"): b.get("fill") for b in bars}
    assert len(set(colors.values())) == 2


def test_gantt_is_accessible_and_escapes_names(programme_plan):
    text = gantt_svg(programme_plan.programme, "en")
    svg = ET.fromstring(text)  # well formed although a village is called <script>...
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "gantt-title gantt-desc"
    assert svg.find(f"{SVG}title").text.startswith("Programme schedule")
    for bar in (e for e in svg.iter(f"{SVG}rect") if e.get("class") == "bar"):
        assert bar.find(f"{SVG}title").text.startswith(bar.get("data-site") + ": built ")
    labels = [e.text for e in svg.iter(f"{SVG}text")]
    assert any(HOSTILE_NAME[:20] in (label or "") for label in labels)
    assert "<script>" not in text


# --------------------------------------------------------------------------- escaping


def test_a_village_called_script_is_escaped_everywhere(programme_plan, tmp_path):
    page = render_report_html(programme_plan)
    assert "<script" not in page
    assert html.escape(HOSTILE_NAME)[:30] in page
    map_page = write_map(programme_plan, tmp_path / "map.html").read_text(encoding="utf-8")
    assert HOSTILE_NAME not in map_page
    assert json.dumps(HOSTILE_NAME)[1:-1] not in map_page
    root = plan_kml(programme_plan)
    descriptions = [d.text or "" for d in root.iter("description")]
    assert not any("<script" in d for d in descriptions)
    assert any(html.escape(HOSTILE_NAME) in d for d in descriptions)


# --------------------------------------------------------------------------- map and KML


def test_map_has_one_layer_per_programme_year(programme_plan, tmp_path):
    page = write_map(programme_plan, tmp_path / "map.html").read_text(encoding="utf-8")
    for year, n in zip(YEARS, (1, 1, 2), strict=True):
        name = t("prog.layer_year", "id").format(year=year, towers=n)
        assert page.count(json.dumps(name)[1:-1]) == 1, name
    layers = _programme_features(programme_plan.programme, "id")
    assert [year for year, _, _ in layers] == list(YEARS)
    sites = [[f["properties"]["tip"] for f in data["features"]] for _, data, _ in layers]
    assert sites == [["2024: C004"], ["2025: C002"], ["2026: C001", "2026: C005"]]
    _, data, labels = layers[1]
    popup = dict(zip(labels, data["features"][0]["properties"]["v"], strict=True))
    assert popup[t("prog.col.tower_type", "id")] == "menara-42m"
    assert popup[t("prog.col.channel", "id")] == html.escape(LABELS["national"])
    assert popup[t("prog.col.people_new", "id")] == "442 jiwa"
    assert popup[t("prog.col.capex_idr", "id")] == "Rp 1.200.000.000"
    assert popup[t("prog.col.villages_lifted", "id")] == html.escape(
        f"{HOSTILE_NAME} (64.01.07.2002)")


def test_map_without_programme_has_no_programme_layer(tmp_path):
    page = write_map(make_plan_result(), tmp_path / "map.html").read_text(encoding="utf-8")
    assert "Program 20" not in page


def test_kml_has_a_folder_per_year(programme_plan):
    root = plan_kml(programme_plan, lang="en")
    ns = {"k": KML_NAMESPACE}
    folders = {f.findtext("name"): f for f in root.iter("Folder")}
    for year, sites in zip(YEARS, (["C004"], ["C002"], ["C001", "C005"]), strict=True):
        folder = folders[f"Programme {year}"]
        names = [p.findtext("name") for p in folder.iter("Placemark")]
        assert [re.sub(r".* — ", "", n) for n in names] == sites
        assert folder.findtext("visibility") is None  # shown
    assert ns  # the writer uses the default namespace (no prefixes)
    # the single-budget towers: a comparison, hidden at first
    assert t("layer.selected", "en") not in folders
    single = folders[t("prog.single.layer_selected", "en")]
    assert single.findtext("visibility") == "0"
    assert len(list(single.iter("Placemark"))) == len(programme_plan.selected)


def test_kml_without_programme_has_two_folders():
    root = plan_kml(make_plan_result())
    assert len(list(root.iter("Folder"))) == 2


def _crowded(plan):
    """The fixture with four channels, twelve towers and five notes of its own."""
    import dataclasses

    import pandas as pd

    outcome = plan.programme
    channels = ("apbd", "apbd_provinsi", "national", "operator")
    labels = {"apbd": "APBD Kabupaten", "apbd_provinsi": "APBD Provinsi Kalimantan Timur",
              "national": "BAKTI (nasional)", "operator": "Operator seluler (komersial)"}
    builds = pd.concat([outcome.builds.assign(
        site_id=outcome.builds["site_id"] + f"-{k}", channel=channels[k]) for k in range(3)],
        ignore_index=True)
    by_year = pd.concat([outcome.by_year_channel.assign(channel=c) for c in channels],
                        ignore_index=True)
    notes = tuple(f"Catatan {k}: " + "anggaran dan lokasi masih dapat berubah. " * 3
                  for k in range(5))
    return dataclasses.replace(plan, programme=dataclasses.replace(
        outcome, channels=channels, channel_labels=labels, builds=builds,
        by_year_channel=by_year, notes=notes))


@pytest.mark.skipif(shutil.which("pdftotext") is None,
                    reason="pdftotext (poppler-utils) is not on PATH; PDF pages not read")
def test_dprd_summary_stays_one_page_for_a_crowded_programme(programme_plan, tmp_path):
    pytest.importorskip("weasyprint")
    path = write_report_pdf(_crowded(programme_plan), tmp_path / "report.pdf")
    first, second = _pdf_pages(path)[:2]
    assert "Catatan 4" in first
    assert t("prog.method", "id").split(":")[0] in first
    assert t("prog.section", "id") in second
    assert t("prog.section", "id") not in first


def test_every_output_of_a_programme_plan_is_written(programme_plan, tmp_path):
    from towerplan.outputs.writers import OUTPUT_FILES, write_outputs

    report = write_outputs(programme_plan, tmp_path / "out")
    assert report.failed == ()
    written = {p.name for p in report.written} | {s["file"] for s in report.skipped}
    assert written == set(OUTPUT_FILES)


def _boxes_past_the_right_margin(html_text: str) -> tuple[list[tuple[int, str, str, float]], int]:
    """Laid out by WeasyPrint: every box whose right edge passes the page's content area
    (page, tag, class, overshoot in CSS px), and the number of pages."""
    weasyprint = pytest.importorskip("weasyprint")
    document = weasyprint.HTML(string=html_text).render()
    found: list[tuple[int, str, str, float]] = []

    def walk(box, page: int, right: float) -> None:
        if hasattr(box, "border_box_x") and hasattr(box, "border_width"):
            edge = box.border_box_x() + box.border_width()
            if edge > right + 0.5:
                element = getattr(box, "element", None)
                css = element.get("class", "") if element is not None else ""
                found.append((page, str(box.element_tag), str(css), round(edge - right, 1)))
                return
        for child in getattr(box, "children", None) or ():
            walk(child, page, right)

    for number, page in enumerate(document.pages, 1):
        page_box = page._page_box
        for child in page_box.children:  # the body's boxes, not the margin boxes
            walk(child, number, page_box.content_box_x() + page_box.width)
    return found, len(document.pages)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_report_table_and_the_header_fit_within_the_margins(programme_plan, lang):
    """Four channels with long labels, long village names and a long unbroken source name."""
    import dataclasses

    crowded = _crowded(programme_plan)
    outcome = crowded.programme
    labels = {c: f"{label} — kemitraan operator seluler dan pemerintah daerah"
              for c, label in outcome.channel_labels.items()}
    builds = outcome.builds.assign(
        villages_lifted="Muara Andeh Ilir Hulu (64.01.10.2009); Rantau Layung Baru "
                        "(64.01.06.2012); paser_signal_reports_2021_unlisted_village.csv")
    plan = dataclasses.replace(
        crowded, provenance=dataclasses.replace(crowded.provenance, scenario_hash="f" * 64),
        programme=dataclasses.replace(outcome, channel_labels=labels, builds=builds))
    text = render_report_html(plan, lang=lang)
    assert "f" * 12 in text and "f" * 13 not in text  # the hash shortened to 12 hex
    past, pages = _boxes_past_the_right_margin(text)
    assert pages >= 3
    assert past == []


def _with_why_not(plan):
    """The fixture with the formula-named village (no signal in 2026) explained."""
    import dataclasses

    import pandas as pd

    from towerplan.analysis.programme_why_not import PROGRAMME_WHY_NOT_COLUMNS

    why = pd.DataFrame([{
        "code": "64.01.08.2001", "name": FORMULA_NAME, "district": "Batu Sopang",
        "population": 430.0, "site_id": "C003", "tower_type": "menara-42m",
        "channel": "national", "people_new": 400.0, "cost_per_person_idr": 2_500_000.0,
        "capex_idr": 1.0e9, "opex_idr_per_year": 3.0e8, "year": 2025,
        "extra_budget_idr": 4.5e8, "extra_channel": "national", "reason": "over_budget"}],
        columns=list(PROGRAMME_WHY_NOT_COLUMNS))
    return dataclasses.replace(plan, programme=dataclasses.replace(plan.programme,
                                                                   why_not=why))


def test_map_shows_the_programme_as_the_plan_and_the_single_budget_as_a_comparison(
        programme_plan, tmp_path):
    page = write_map(_with_why_not(programme_plan), tmp_path / "map.html").read_text(
        encoding="utf-8")
    shown = {}
    for name, var in re.findall(r'^\s*"((?:[^"\\]|\\.)*)" : (\w+),$', page, re.M):
        shown[json.loads(f'"{name}"')] = f"{var}.addTo(" in page
    assert t("layer.selected", "id") not in shown
    assert shown[t("prog.single.layer_selected", "id")] is False
    assert shown[t("prog.single.layer_villages", "id")] is False
    assert shown[t("prog.single.layer_coverage", "id")] is False
    assert shown[t("prog.layer_villages_end", "id").format(year=2026)] is True
    for year, n in zip(YEARS, (1, 1, 2), strict=True):
        assert shown[t("prog.layer_year", "id").format(year=year, towers=n)] is True
    # the title block states the programme: 4 towers, 2,755 people, Rp 4.6 bn / 2,755
    assert f"{t('prog.map.towers', 'id')}</th><td>4 · " in page
    assert "2.755" in page and "Rp 1.669.691" in page
    # the village popup: the Podes signal at the end and the programme's "why not"
    assert t("prog.why_not.popup", "id") in page
    assert "C003 (menara-42m, BAKTI (nasional)): Rp 2.500.000 per orang; paling awal 2025 " \
           "dengan tambahan Rp 450 juta (BAKTI (nasional))" in html.unescape(page)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_report_and_workbook_explain_the_villages_left_blank(programme_plan, tmp_path, lang):
    from openpyxl import load_workbook

    plan = _with_why_not(programme_plan)
    text = render_report_html(plan, lang=lang)
    assert t("prog.why_not", lang) in text and 'class="data programme-why-not' in text
    assert text.index(t("prog.why_not", lang)) < text.index(t("prog.single.section", lang))
    assert t("prog.why_not.over_budget", lang) in html.unescape(text)
    book = load_workbook(write_report_xlsx(plan, tmp_path / "r.xlsx", lang=lang))
    sheet = list(book[t("sheet.programme_why_not", lang)].values)
    row = next(r for r in sheet if r and r[0] == "64.01.08.2001")
    assert 450_000_000 in row and 2025 in row and t("prog.why_not.over_budget", lang) in row
