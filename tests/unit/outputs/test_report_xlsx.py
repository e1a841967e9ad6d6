"""report.xlsx opened with openpyxl: number formats, frozen headers, autofilters, widths, audit."""

from __future__ import annotations

import math

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from towerplan.columns import AUDIT_COLUMNS, RANKING_COLUMNS, VILLAGE_COLUMNS, WHY_NOT_TABLE
from towerplan.errors import OutputError
from towerplan.i18n import t
from towerplan.outputs.reports import FORMAT_IDR, FORMAT_PERCENT, write_report_xlsx

from .factories import FORMULA_NAME, HOSTILE_NAME, make_audit, with_changes

AUDIT_SUMMARY = {
    "budget_idr": 8_500_000_000.0,
    "audit_villages": ["Muara Toyu", HOSTILE_NAME],
    "audit_cost_idr": 3_400_000_000.0,
    "audit_demand": 345.5,
    "optimum_cost_idr": 3_520_000_000.0,
    "optimum_demand": 2605.4,
    "optimum_gap": 0.0,
    "share_of_optimum": 0.1326,
    "optimum_sites": [{"site_id": "C004", "village": "Desa X", "lon": 116.04, "lat": -1.66}],
    "villages_served_only_by_optimum": [FORMULA_NAME],
    "optimum_towers": 2,
    "percent_of_optimum": 13.26,  # the share again: not repeated
    "model_chain": "on the assumptions sheet",
}


def _sheet_table(sheet, first_header: str) -> tuple[int, dict[str, int]]:
    """Header row of the table starting with *first_header* and its column numbers by title."""
    for (cell,) in sheet.iter_rows(min_col=1, max_col=1):
        if cell.value == first_header:
            return cell.row, {c.value: c.column for c in sheet[cell.row] if c.value}
    raise AssertionError(f"{first_header!r} not in {sheet.title}")


@pytest.fixture
def book(plan_result, tmp_path):
    return openpyxl.load_workbook(write_report_xlsx(plan_result, tmp_path / "report.xlsx"))


@pytest.fixture
def cached(book, tmp_path):
    """The cached formula results, as a reader that does not recalculate sees them."""
    return openpyxl.load_workbook(tmp_path / "report.xlsx", data_only=True)


def test_every_rupiah_cell_of_ranking_and_costs_has_the_rupiah_format(book, cached,
                                                                      plan_result):
    ranking = cached["Peringkat"]
    header, cols = _sheet_table(ranking, "Urutan")
    idr = [c for c in RANKING_COLUMNS if c.endswith("_idr")]
    assert len(idr) == 7
    for column in idr:
        number = cols[t(f"col.{column}", "id")]
        cells = [ranking.cell(row=header + i, column=number) for i in (1, 2)]
        expected = plan_result.selected.sort_values("rank")[column].tolist()
        if column in ("cost_power_idr", "cost_backhaul_idr"):  # 0 in the default scenario
            assert expected == [0, 0] and [c.value for c in cells] == ["tidak dihitung"] * 2
            continue
        assert [c.value for c in cells] == pytest.approx(expected), column
        assert {book["Peringkat"][c.coordinate].number_format for c in cells} == {FORMAT_IDR}
    costs = cached["Biaya"]
    header, cols = _sheet_table(costs, "Urutan")
    money = [costs.cell(row=r, column=cols["Biaya total (Rp)"]) for r in range(header + 1,
                                                                              costs.max_row + 1)]
    money = [c for c in money if isinstance(c.value, int | float)]
    assert len(money) == 2 + 5  # two sites, total, its share, budget, remainder, budget share
    assert [c.number_format for c in money] == [FORMAT_IDR] * 3 + [FORMAT_PERCENT] + [
        FORMAT_IDR] * 2 + [FORMAT_PERCENT]


def test_header_rows_are_frozen_and_autofilters_span_each_table(book, plan_result):
    expected = {  # sheet: (first header, columns, data rows)
        "Peringkat": ("Urutan", len(RANKING_COLUMNS), len(plan_result.selected)),
        "Desa": ("Kode desa", len(VILLAGE_COLUMNS), len(plan_result.villages)),
        "Biaya": ("Urutan", 11, len(plan_result.selected)),
        "Mengapa tidak": ("Kode desa", len(WHY_NOT_TABLE), None),  # none still blank
        "Ringkasan": ("Indikator", 2, None),
        "Asumsi": ("Parameter", 2, None),
    }
    for name, (first, n_columns, n_rows) in expected.items():
        sheet = book[name]
        header, cols = _sheet_table(sheet, first)
        assert len(cols) == n_columns, name
        assert sheet.freeze_panes == f"A{header + 1}", name
        start, end = next(iter(sheet.tables.values())).ref.split(":")
        assert start == f"A{header}", name
        assert end.startswith(get_column_letter(n_columns)), name
        if n_rows is not None:
            assert end == f"{get_column_letter(n_columns)}{header + n_rows}", name


def test_column_widths_are_set_from_the_content(book):
    for sheet in book:
        header = int(sheet.freeze_panes[1:]) - 1
        numbers = [c.column for c in sheet[header] if c.value]
        assert len(numbers) >= 2, sheet.title
        for number in numbers:
            dim = sheet.column_dimensions[get_column_letter(number)]
            assert dim.customWidth, (sheet.title, number)
            assert 8 <= dim.width <= 90, (sheet.title, number)
    ranking = book["Peringkat"]
    header, cols = _sheet_table(ranking, "Urutan")
    width = {title: ranking.column_dimensions[get_column_letter(n)].width
             for title, n in cols.items()}
    # Headers wrap over up to three lines: "Kebutuhan tercakup kumulatif" (28 characters)
    # needs 10 of them per line, plus a margin of 2; its values ("2,605") need less.
    assert width["Kebutuhan tercakup kumulatif"] == 10 + 2
    assert ranking.row_dimensions[header].height in (2 * 15, 3 * 15, 4 * 15)  # wrapped
    assert width["Urutan"] < width["Nama desa tersebut"]
    # Longitude with 5 decimals ("116.04076") fits: no "###".
    assert width["Bujur"] >= len("116.04076") + 2


def test_no_audit_sheet_without_an_audit(book):
    assert "Audit" not in book.sheetnames


def test_audit_sheet_lists_sites_and_figures(plan_result, tmp_path):
    result = with_changes(plan_result, audit=make_audit(), audit_summary=AUDIT_SUMMARY)
    book = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx"))
    assert book.sheetnames == ["Ringkasan", "Peringkat", "Desa", "Mengapa tidak", "Biaya",
                               "Audit", "Asumsi"]
    sheet = book["Audit"]
    assert sheet["A1"].value == "DATA SINTETIS — bukan tempat nyata"
    header, cols = _sheet_table(sheet, "ID lokasi audit")
    assert len(cols) == len(AUDIT_COLUMNS)
    assert sheet.freeze_panes == f"A{header + 1}"
    assert sheet.tables["tbl_Audit"].ref == \
        f"A{header}:{get_column_letter(len(AUDIT_COLUMNS))}{header + 2}"
    cost = sheet.cell(row=header + 1, column=cols["Biaya total (Rp)"])
    assert cost.value == 1_700_000_000 and cost.number_format == FORMAT_IDR
    names = [sheet.cell(row=header + i, column=cols["Desa"]).value for i in (1, 2)]
    assert names == ["Muara Toyu", HOSTILE_NAME]

    figures = {row[0].value: row[1] for row in sheet.iter_rows(min_row=header + 3)
               if row[0].value}
    assert figures["Porsi dari optimum"].value == pytest.approx(0.1326)
    assert figures["Porsi dari optimum"].number_format == FORMAT_PERCENT
    assert figures["Biaya pilihan audit"].value == 3_400_000_000
    assert figures["Biaya pilihan audit"].number_format == FORMAT_IDR
    assert figures["Desa yang diaudit"].value == f"Muara Toyu; {HOSTILE_NAME}"
    assert figures["Lokasi optimum"].value == "C004 (Desa X)"
    assert figures["Jumlah menara optimum"].value == 2
    assert figures["Jumlah menara optimum"].number_format == "#,##0"
    assert "Persen dari optimum (%)" not in figures and "Model radio" not in figures
    # Text from data is guarded against formula injection here too.
    assert figures["Desa yang hanya dilayani optimum"].value == "'" + FORMULA_NAME
    assert not [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_audit_sheet_in_english_and_missing_audit_columns_refused(plan_result, tmp_path):
    result = with_changes(plan_result, audit=make_audit(), audit_summary=None)
    book = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx", lang="en"))
    assert book.sheetnames[5] == "Audit"
    header, cols = _sheet_table(book["Audit"], "Audit site ID")
    assert "Site source" in cols
    assert book["Audit"].max_row == header + 2  # no figures without an audit summary
    broken = with_changes(plan_result, audit=make_audit().drop(columns="source"))
    with pytest.raises(OutputError, match="source"):
        write_report_xlsx(broken, tmp_path / "broken.xlsx")


def test_nan_audit_figures_are_left_empty(plan_result, tmp_path):
    result = with_changes(plan_result, audit=make_audit(),
                          audit_summary={"optimum_gap": math.nan, "share_of_optimum": 1.0})
    sheet = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx"))["Audit"]
    header, _ = _sheet_table(sheet, "ID lokasi audit")
    figures = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=header + 3)
               if row[0].value}
    assert figures["Celah optimalitas optimum"] is None
    assert figures["Porsi dari optimum"] == 1.0


def test_why_not_sheet_lists_the_villages_still_blank(plan_result, tmp_path):
    villages = plan_result.villages.copy()
    villages.loc[2, ["status_after", "why_not_site", "why_not_cost_per_person_idr",
                     "why_not_extra_budget_idr", "why_not_reason"]] = [
        "blank", "=C009", 1_250_000.0, 900_000_000.0, "lower_yield"]
    result = with_changes(plan_result, villages=villages)
    for lang, name, reason in (("id", "Mengapa tidak",
                                "lebih sedikit orang per rupiah daripada lokasi terpilih"),
                               ("en", "Why not", "fewer people per rupiah than the chosen sites")):
        book = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / f"{lang}.xlsx",
                                                        lang=lang))
        sheet = book[name]
        first = "Kode desa" if lang == "id" else "Village code"
        header, cols = _sheet_table(sheet, first)
        assert len(cols) == len(WHY_NOT_TABLE)
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=header + 1)
                if row[0].value is not None]
        assert len(rows) == 1  # only the village still blank
        row = rows[0]
        assert row[0] == "64.01.08.2001"
        assert row[5] == "'=C009"  # guarded against formula injection
        assert row[6:] == [1_250_000.0, 900_000_000.0, reason]
        money = sheet.cell(row=header + 1, column=8)
        assert money.number_format == FORMAT_IDR
        villages_sheet = book["Desa" if lang == "id" else "Villages"]
        _, vcols = _sheet_table(villages_sheet, first)
        assert villages_sheet.cell(row=header + 3, column=vcols[
            "Alasan belum terpilih" if lang == "id" else "Why not chosen"]).value == reason


@pytest.mark.parametrize("lang", ["id", "en"])
def test_limitations_open_the_summary_sheet_before_any_figure(plan_result, tmp_path, lang):
    from towerplan.i18n import bilingual

    statements = [bilingual("limit.no_towers", radius_km=30),
                  f"{FORMULA_NAME} raw note " + "kata " * 60]
    result = with_changes(plan_result, summary={**plan_result.summary,
                                                "limitations": statements})
    book = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx", lang=lang))
    sheet = book[t("sheet.summary", lang)]
    column_a = [sheet.cell(row=r, column=1).value for r in range(1, sheet.max_row + 1)]
    heading = column_a.index(t("map.limitations", lang)) + 1
    header = column_a.index(t("report.indicator", lang)) + 1
    assert heading < header  # stated before the first figure
    assert [sheet.cell(row=heading + i, column=2).value for i in range(2)] == [
        "1. " + t("limit.no_towers", lang).format(radius_km=30),
        f"2. {FORMULA_NAME} raw note " + "kata " * 60]
    assert sheet.cell(row=heading + 1, column=2).data_type == "s"  # never a formula
    assert sheet.cell(row=heading, column=2).alignment.wrap_text
    width = sheet.column_dimensions["B"].width
    long_note = sheet.cell(row=heading + 1, column=2).value
    assert len(long_note) > 2 * width  # wraps: its row is as tall as its lines
    assert sheet.row_dimensions[heading + 1].height >= 3 * 12
    assert int(sheet.freeze_panes[1:]) - 1 == header
    labels = {sheet.cell(row=r, column=1).value for r in range(header, sheet.max_row + 1)}
    assert t("sum.limitations", lang) not in labels  # not a second time in the table


def test_summary_sheet_without_limitations_starts_with_the_table(plan_result, tmp_path):
    result = with_changes(plan_result, summary={k: v for k, v in plan_result.summary.items()
                                                if k != "limitations"})
    sheet = openpyxl.load_workbook(write_report_xlsx(result, tmp_path / "r.xlsx"))["Ringkasan"]
    column_a = [sheet.cell(row=r, column=1).value for r in range(1, 8)]
    assert "Keterbatasan" not in column_a
    assert column_a.index(t("report.indicator", "id")) + 1 == int(sheet.freeze_panes[1:]) - 1
