"""report.xlsx as printed and edited: page setup, formulas with cached values, not-costed parts,
and LibreOffice's page count and recalculation."""

from __future__ import annotations

import dataclasses
import math

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from towerplan.i18n import t
from towerplan.outputs.reports import FORMAT_IDR, FORMAT_PERCENT, write_report_xlsx
from towerplan.outputs.xlsx_layout import display_width

from .factories import make_large_plan_result
from .office import convert, needs_soffice, pdf_pages

#: Pages a regency-sized workbook (144 villages) may print on.
MAX_PAGES = 12


@pytest.fixture
def path(plan_result, tmp_path):
    return write_report_xlsx(plan_result, tmp_path / "report.xlsx")


@pytest.fixture(scope="module")
def large_path(tmp_path_factory):
    result = make_large_plan_result(n_villages=144, n_candidates=1000)
    return write_report_xlsx(result, tmp_path_factory.mktemp("large") / "report.xlsx")


def _rows(sheet):
    """Label in column A -> the row's cells."""
    return {row[0].value: row for row in sheet.iter_rows() if row[0].value}


def _column(sheet, header: int, title: str) -> int:
    return next(c.column for c in sheet[header] if c.value == title)


def test_every_sheet_prints_a4_one_page_wide_with_repeated_header_and_page_numbers(path):
    book = openpyxl.load_workbook(path)
    for sheet in book:
        header = int(sheet.freeze_panes[1:]) - 1
        setup = sheet.page_setup
        assert setup.paperSize == 9, sheet.title  # A4
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage, sheet.title
        assert sheet.print_title_rows == f"${header}:${header}", sheet.title
        n_columns = sum(1 for c in sheet[header] if c.value is not None)
        area = f"'{sheet.title}'!$A$1:${get_column_letter(n_columns)}$"
        assert sheet.print_area.startswith(area), sheet.title  # the table's columns only
        assert int(sheet.print_area[len(area):]) >= sheet.max_row, sheet.title
        assert sheet.page_margins.left == pytest.approx(0.4)
        assert sheet.oddHeader.left.text == "Kabupaten Contoh (demo sintetis)"
        assert sheet.oddFooter.left.text == "demo"
        assert sheet.oddFooter.right.text == "Halaman &P dari &N"
        dims = [sheet.column_dimensions[get_column_letter(c)] for c in range(1, n_columns + 1)]
        width = sum(d.width for d in dims if not d.hidden)
        assert setup.orientation == ("landscape" if width > 170 else "portrait"), sheet.title
    assert book["Peringkat"].page_setup.orientation == "landscape"  # 24 columns
    assert book["Ringkasan"].page_setup.orientation == "portrait"  # label and value


def test_page_footer_in_english_and_ampersands_escaped(plan_result, tmp_path):
    book = openpyxl.load_workbook(write_report_xlsx(plan_result, tmp_path / "r.xlsx",
                                                    lang="en"))
    assert book["Summary"].oddFooter.right.text == "Page &P of &N"
    scenario = plan_result.scenario
    titled = dataclasses.replace(scenario, scenario=dataclasses.replace(
        scenario.scenario, title="Roads & towers"))
    book = openpyxl.load_workbook(write_report_xlsx(
        dataclasses.replace(plan_result, scenario=titled), tmp_path / "a.xlsx"))
    assert book["Ringkasan"].oddHeader.left.text == "Roads && towers"  # "&" codes a field


def test_people_are_whole_numbers_and_shares_keep_two_decimals(path):
    book = openpyxl.load_workbook(path)
    desa = book["Desa"]
    header = int(desa.freeze_panes[1:]) - 1
    demand = desa.cell(row=header + 1, column=_column(desa, header, "Kebutuhan total"))
    share = desa.cell(row=header + 1, column=_column(desa, header, "Porsi tercakup sebelum"))
    assert demand.number_format == "#,##0"
    assert share.number_format == FORMAT_PERCENT == "0.00%"  # 3.46 %, not 3 %
    summary = _rows(book["Ringkasan"])
    assert summary["Kebutuhan tercakup sebelum"][1].number_format == "#,##0"


def test_totals_are_formulas_with_cached_values(path, plan_result):
    book = openpyxl.load_workbook(path)
    seen = openpyxl.load_workbook(path, data_only=True)  # what a non-recalculating reader sees
    costs, costs_seen = book["Biaya"], seen["Biaya"]
    header = int(costs.freeze_panes[1:]) - 1
    total_col = _column(costs, header, "Biaya total (Rp)")
    cumulative = _column(costs, header, "Biaya kumulatif (Rp)")
    letter = get_column_letter(total_col)
    first = header + 1
    assert costs.cell(row=first, column=total_col).value == f"=SUM(E{first}:I{first})"
    assert costs.cell(row=first + 1, column=cumulative).value == \
        f"={get_column_letter(cumulative)}{first}+{letter}{first + 1}"
    assert costs_seen.cell(row=first + 1, column=cumulative).value == 3_770_000_000
    rows = _rows(costs)
    total_row = rows["Jumlah"][0].row
    assert rows["Jumlah"][total_col - 1].value == f"=SUM({letter}{first}:{letter}{first + 1})"
    seen_rows = _rows(costs_seen)
    spent = float(plan_result.selected["cost_total_idr"].sum())
    assert seen_rows["Jumlah"][total_col - 1].value == spent
    assert seen_rows["Jumlah"][5].value == 370_000_000  # access roads 250 + 120 million
    assert seen_rows["Porsi dari jumlah"][5].value == pytest.approx(0.37 / 3.77)
    assert seen_rows["Porsi dari anggaran"][total_col - 1].value == pytest.approx(
        spent / plan_result.scenario.budget.total_idr)
    # The summary's spent amount is the costs sheet's total.
    summary = _rows(book["Ringkasan"])
    assert summary["Terpakai"][1].value == f"='Biaya'!{letter}{total_row}"
    assert summary["Terpakai"][1].number_format == FORMAT_IDR
    assert _rows(seen["Ringkasan"])["Terpakai"][1].value == spent


def test_a_total_given_by_the_user_stays_a_number(plan_result, tmp_path):
    selected = plan_result.selected.copy()
    selected.loc[selected.index[0], "cost_total_idr"] = 1_000_000_000.0  # surveyed figure
    selected["cumulative_cost_idr"] = selected["cost_total_idr"].cumsum()
    result = dataclasses.replace(plan_result, selected=selected)
    sheet = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx"))["Biaya"]
    header = int(sheet.freeze_panes[1:]) - 1
    total_col = _column(sheet, header, "Biaya total (Rp)")
    assert sheet.cell(row=header + 1, column=total_col).value == 1_000_000_000
    assert str(sheet.cell(row=header + 2, column=total_col).value).startswith("=SUM(")


@pytest.mark.parametrize(("lang", "words", "scope"), [
    ("id", "tidak dihitung", "Rp 1.885.000.000 per menara: menara, jalan akses; listrik, "
                             "backhaul tidak dihitung"),
    ("en", "not costed", "Rp 1,885,000,000 per tower: tower, access road; power, backhaul "
                         "not costed"),
])
def test_parts_not_costed_say_so_and_the_summary_says_what_the_cost_covers(
        plan_result, tmp_path, lang, words, scope):
    book = openpyxl.load_workbook(write_report_xlsx(plan_result, tmp_path / f"{lang}.xlsx",
                                                    lang=lang), data_only=True)
    costs = book[t("sheet.costs", lang)]
    header = int(costs.freeze_panes[1:]) - 1
    titles = {t(f"col.{c}", lang): c for c in ("cost_road_idr", "cost_power_idr",
                                               "cost_backhaul_idr")}
    values = {name: [costs.cell(row=header + i, column=_column(costs, header, title)).value
                     for i in (1, 2)] for title, name in titles.items()}
    assert values == {"cost_road_idr": [250_000_000, 120_000_000],
                      "cost_power_idr": [words, words], "cost_backhaul_idr": [words, words]}
    summary = _rows(book[t("sheet.summary", lang)])
    assert summary[t("report.cost_scope", lang)][1].value == scope
    assert scope in [c.value for row in costs.iter_rows() for c in row]


def test_widths_fit_the_shown_numbers():
    assert display_width(116.0407583, "0.00000") == len("116.04076")
    assert display_width(1_950_000_000, FORMAT_IDR) == len("Rp 1,950,000,000")
    assert display_width(0.0346, FORMAT_PERCENT) == len("3.46%")
    assert display_width(math.nan, "0.0") == 0
    assert display_width("two\nlines longer") == len("lines longer")


def test_cached_values_leave_the_workbook_valid(path):
    import zipfile

    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        xml = archive.read("xl/workbook.xml").decode()
    assert 'fullCalcOnLoad="1"' in xml  # Excel and LibreOffice recompute on opening
    book = openpyxl.load_workbook(path)
    assert [s.title for s in book] == ["Ringkasan", "Peringkat", "Desa", "Mengapa tidak",
                                       "Biaya", "Asumsi"]


# --------------------------------------------------------------------------- LibreOffice


@pytest.mark.slow
@needs_soffice
def test_a_regency_sized_workbook_prints_on_at_most_twelve_pages(large_path, tmp_path):
    book = openpyxl.load_workbook(large_path)
    assert book["Desa"].max_row >= 144
    pdf = convert(large_path, "pdf", tmp_path)
    assert 7 <= pdf_pages(pdf) <= MAX_PAGES  # at least one page per sheet


@pytest.mark.slow
@needs_soffice
def test_libreoffice_shows_the_cached_totals_and_recomputes_them_after_a_cost_edit(
        path, tmp_path):
    book = openpyxl.load_workbook(path)
    costs = book["Biaya"]
    header = int(costs.freeze_panes[1:]) - 1
    tower = _column(costs, header, "Biaya menara (Rp)")
    total_col = _column(costs, header, "Biaya total (Rp)")
    total_row = _rows(costs)["Jumlah"][0].row
    costs.cell(row=header + 1, column=tower).value = 2_700_000_000  # one tower Rp 1 bn dearer
    costs.cell(row=header + 1, column=tower + 2).value = 300_000_000  # power, not costed before
    edited = tmp_path / "edited.xlsx"
    book.save(edited)  # openpyxl keeps the formulas but drops every cached value

    def seen(source, name):
        out = convert(source, "xlsx", tmp_path / name)
        return openpyxl.load_workbook(out, data_only=True)

    before = seen(path, "before")
    assert before["Biaya"].cell(row=total_row, column=total_col).value == 3_770_000_000
    after = seen(edited, "after")
    assert after["Biaya"].cell(row=header + 1, column=total_col).value == 3_250_000_000
    assert after["Biaya"].cell(row=total_row, column=total_col).value == 5_070_000_000
    rows = _rows(after["Biaya"])
    assert rows["Sisa anggaran"][total_col - 1].value == 8_500_000_000 - 5_070_000_000
    assert _rows(after["Ringkasan"])["Terpakai"][1].value == 5_070_000_000


# --------------------------------------------------------------------------- other outputs

SCOPE_ID = ("Rp 1.885.000.000 per menara: menara, jalan akses; listrik, backhaul tidak "
            "dihitung")


def test_report_kml_and_map_say_not_costed_instead_of_rp_0(plan_result, tmp_path):
    import html

    from towerplan.outputs.document import render_report_html
    from towerplan.outputs.kml import write_plan_kml
    from towerplan.outputs.maps import write_map

    page = render_report_html(plan_result)
    costs = page[page.index('class="data costs'):]
    costs = costs[:costs.index("</table>")]
    assert costs.count("tidak dihitung") == 2 * 2 + 2  # power and backhaul, sites and totals
    assert ">250.000.000<" in costs  # the access road is costed
    assert f"{SCOPE_ID}." in html.unescape(page)
    kml = write_plan_kml(plan_result, tmp_path / "plan.kml").read_text(encoding="utf-8")
    assert kml.count("tidak dihitung") == 2 * 2
    assert "<value>1950000000.0</value>" in kml  # the extended data stay numbers
    page = write_map(plan_result, tmp_path / "map.html").read_text(encoding="utf-8")
    assert "tidak dihitung" in page and SCOPE_ID in html.unescape(page)


def test_nothing_is_called_not_costed_when_the_scenario_costs_every_part(plan_result, tmp_path):
    costs = dataclasses.replace(plan_result.scenario.costs, power_idr=1.0, backhaul_idr=1.0)
    result = dataclasses.replace(plan_result, scenario=dataclasses.replace(
        plan_result.scenario, costs=costs))
    book = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx"))
    cells = [c.value for sheet in book for row in sheet.iter_rows() for c in row]
    assert "tidak dihitung" not in cells
    assert ("Rp 1.885.000.000 per menara: menara, jalan akses, listrik, backhaul"
            in cells)


def test_cached_values_of_numbers_and_text_are_read_back(tmp_path):
    from openpyxl import Workbook

    from towerplan.outputs.xlsx_layout import put_formula, write_cached_values

    book = Workbook()
    sheet = book.active
    sheet.title = "It's"
    sheet["A1"], sheet["A2"] = 2, 3
    put_formula(sheet, 3, 1, "A1*A2", 6.0)
    put_formula(sheet, 4, 1, 'IF(A3>5,"big & <ok>","small")', "big & <ok>")
    sheet["B1"] = "=A1"  # a formula nobody recorded keeps no cached value
    path = tmp_path / "f.xlsx"
    book.save(path)
    write_cached_values(path, book)
    seen = openpyxl.load_workbook(path, data_only=True)["It's"]
    assert (seen["A3"].value, seen["A4"].value, seen["B1"].value) == (6, "big & <ok>", None)
    assert openpyxl.load_workbook(path)["It's"]["A4"].value.startswith("=IF(")
