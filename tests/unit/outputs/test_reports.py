"""The Excel report."""

from __future__ import annotations

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from towerplan.columns import RANKING_COLUMNS
from towerplan.errors import OutputError, ScenarioError
from towerplan.outputs.reports import FORMAT_IDR, FORMAT_PERCENT, write_report_xlsx

from .factories import FORMULA_NAME, HOSTILE_NAME, leftovers, with_changes

SHEETS_ID = ["Ringkasan", "Peringkat", "Desa", "Mengapa tidak", "Biaya", "Asumsi"]
SHEETS_EN = ["Summary", "Ranking", "Villages", "Why not", "Costs", "Assumptions"]


@pytest.fixture
def workbook(plan_result, tmp_path):
    path = write_report_xlsx(plan_result, tmp_path / "report.xlsx")
    return openpyxl.load_workbook(path)


@pytest.fixture
def cached(workbook, plan_result, tmp_path):
    """The workbook as a reader that does not recalculate sees it (formula results)."""
    return openpyxl.load_workbook(tmp_path / "report.xlsx", data_only=True)


def _header_row(sheet, first_header: str) -> int:
    for row in sheet.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_header:
            return row[0].row
    raise AssertionError(f"header {first_header!r} not found in {sheet.title}")


def _column(sheet, header_row: int, header: str) -> int:
    for cell in sheet[header_row]:
        if cell.value == header:
            return cell.column
    raise AssertionError(f"column {header!r} not found in {sheet.title}")


def test_five_sheets_named_in_bahasa_indonesia(workbook):
    assert workbook.sheetnames == SHEETS_ID


def test_english_changes_sheet_names_and_headers(plan_result, tmp_path):
    book = openpyxl.load_workbook(write_report_xlsx(plan_result, tmp_path / "r.xlsx", lang="en"))
    assert book.sheetnames == SHEETS_EN
    assert book["Summary"]["A1"].value == "SYNTHETIC DATA — not a real place"
    assert _header_row(book["Ranking"], "Rank") == 4


def test_every_sheet_has_frozen_header_named_table_and_widths(workbook):
    for sheet in workbook:
        assert sheet.freeze_panes == "A5", sheet.title  # banner, title, blank, header
        (table,) = sheet.tables.values()  # its filter buttons replace the sheet's autofilter
        assert table.ref.startswith("A4:") and table.autoFilter is not None, sheet.title
        assert sheet.auto_filter.ref is None, sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title
        assert sheet.column_dimensions["B"].width <= 90, sheet.title


def test_synthetic_banner_on_every_sheet_and_absent_for_user_data(workbook, make_result,
                                                                  tmp_path):
    for sheet in workbook:
        assert sheet["A1"].value == "DATA SINTETIS — bukan tempat nyata"
    real = openpyxl.load_workbook(
        write_report_xlsx(make_result(synthetic=False), tmp_path / "real.xlsx"))
    for sheet in real:
        assert "SINTETIS" not in str(sheet["A1"].value)
        assert sheet.freeze_panes == "A4"


def test_costs_carry_the_rupiah_format(workbook, cached):
    ranking = workbook["Peringkat"]
    header = _header_row(ranking, "Urutan")
    col = _column(ranking, header, "Biaya total (Rp)")
    cells = [ranking.cell(row=r, column=col) for r in (header + 1, header + 2)]
    assert [c.value for c in cells] == [f"=SUM(J{header + i}:N{header + i})" for i in (1, 2)]
    assert [cached["Peringkat"].cell(row=c.row, column=col).value for c in cells] == [
        1_950_000_000, 1_820_000_000]
    assert all(c.number_format == FORMAT_IDR == '"Rp" #,##0' for c in cells)
    costs = cached["Biaya"]
    money = [c for row in costs.iter_rows() for c in row if isinstance(c.value, int | float)
             and c.value >= 1_000_000]
    assert money and all(c.number_format == FORMAT_IDR for c in money)


def test_costs_sheet_totals_budget_and_remainder(workbook, cached):
    labels = {row[0].value: row for row in cached["Biaya"].iter_rows() if row[0].value}
    total_col = _column(cached["Biaya"], _header_row(cached["Biaya"], "Urutan"),
                        "Biaya total (Rp)")
    assert labels["Jumlah"][total_col - 1].value == 3_770_000_000
    assert labels["Anggaran"][total_col - 1].value == 8_500_000_000
    assert labels["Sisa anggaran"][total_col - 1].value == 8_500_000_000 - 3_770_000_000
    assert labels["Porsi dari anggaran"][total_col - 1].value == pytest.approx(3.77 / 8.5)
    assert labels["Porsi dari jumlah"][4].value == pytest.approx(3.4 / 3.77)  # towers
    formulas = {row[0].value: row for row in workbook["Biaya"].iter_rows() if row[0].value}
    total_row = formulas["Jumlah"][0].row
    assert formulas["Jumlah"][total_col - 1].value == "=SUM(J5:J6)"
    assert formulas["Sisa anggaran"][total_col - 1].value == f"=J{total_row + 2}-J{total_row}"


def test_shares_are_percentages_and_statuses_translated(workbook, cached):
    sheet = workbook["Desa"]
    header = _header_row(sheet, "Kode desa")
    share = _column(sheet, header, "Porsi tercakup sebelum")
    status = _column(sheet, header, "Status sesudah")
    covered = get_column_letter(_column(sheet, header, "Kebutuhan tercakup sebelum"))
    total = get_column_letter(_column(sheet, header, "Kebutuhan total"))
    assert sheet.cell(row=header + 2, column=share).value == \
        f"={covered}{header + 2}/{total}{header + 2}"
    assert cached["Desa"].cell(row=header + 2, column=share).value == pytest.approx(0.40)
    assert sheet.cell(row=header + 2, column=share).number_format == FORMAT_PERCENT
    statuses = [sheet.cell(row=r, column=status).value for r in range(header + 1, header + 5)]
    assert statuses == ["tercakup", "tercakup", "sebagian", "tercakup"]


#: Columns (by header) and rows (by label) whose cells are formulas the report writes.
FORMULA_COLUMNS = {"Biaya total (Rp)", "Biaya kumulatif (Rp)", "Kebutuhan tercakup kumulatif",
                   "Porsi tercakup sebelum", "Porsi tercakup sesudah"}
FORMULA_ROWS = {"Jumlah", "Porsi dari jumlah", "Sisa anggaran", "Porsi dari anggaran",
                "Terpakai"}


def test_text_from_data_never_becomes_a_formula(workbook):
    cells = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    formulas = [c for c in cells if c.data_type == "f"]
    assert formulas
    for cell in formulas:
        sheet = cell.parent
        header = int(sheet.freeze_panes[1:]) - 1
        assert (sheet.cell(row=header, column=cell.column).value in FORMULA_COLUMNS
                or sheet.cell(row=cell.row, column=1).value in FORMULA_ROWS), cell.coordinate
        assert "Belimbing" not in cell.value and "<" not in cell.value
    guarded = [c for c in cells if c.value == "'" + FORMULA_NAME]
    assert guarded and all(c.data_type == "s" for c in guarded)
    assert any(c.value == HOSTILE_NAME for c in cells)  # plain text in a spreadsheet


def test_summary_lists_labelled_values(workbook):
    sheet = workbook["Ringkasan"]
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=5) if row[0].value}
    assert values["Anggaran"].value == 8_500_000_000
    assert values["Anggaran"].number_format == FORMAT_IDR
    assert values["Desa blank spot sebelum"].value == 2
    assert values["Celah optimalitas"].value is None  # NaN is left empty
    assert values["Dasar kebutuhan"].value == "jumlah penduduk"
    assert values["Data sintetis"].value == "ya"


def test_assumptions_list_every_scenario_parameter_and_provenance(workbook, plan_result):
    sheet = workbook["Asumsi"]
    values = {row[0].value: row[1].value for row in sheet.iter_rows(min_row=5) if row[0].value}
    for section, fields in plan_result.scenario.to_dict().items():
        for key, value in fields.items():
            if isinstance(value, dict):
                assert any(k.startswith(f"{section}.{key}.") for k in values)
            else:
                assert f"{section}.{key}" in values
    assert values["radio.threshold_rsrp_dbm"] == -105
    assert values["budget.total_idr"] == 8_500_000_000
    assert values["Rantai model radio"] == plan_result.provenance.model_chain
    assert values["Metode pemilihan"] == "milp (HiGHS)"
    assert values["Sumber data 2"] == "Tower positions <synthetic> & demo"


def test_area_demand_is_explained(make_result, tmp_path):
    result = make_result()
    prov = result.provenance.__class__(**{
        **{f: getattr(result.provenance, f) for f in result.provenance.__slots__},
        "demand_basis": "area_km2"})
    book = openpyxl.load_workbook(
        write_report_xlsx(with_changes(result, provenance=prov), tmp_path / "r.xlsx"))
    texts = [c.value for row in book["Ringkasan"].iter_rows() for c in row if c.value]
    assert "Tanpa data penduduk, kebutuhan = luas desa (km²)" in texts


def test_empty_selection(make_result, tmp_path):
    book = openpyxl.load_workbook(
        write_report_xlsx(make_result(n_selected=0), tmp_path / "r.xlsx"))
    texts = [c.value for row in book["Biaya"].iter_rows() for c in row if c.value]
    assert "Tidak ada menara baru terpilih" in texts
    last = get_column_letter(len(RANKING_COLUMNS))
    # header and one empty row
    assert book["Peringkat"].tables["tbl_Peringkat"].ref == f"A4:{last}5"


def test_atomic_write_and_errors(plan_result, tmp_path):
    with pytest.raises(ScenarioError):
        write_report_xlsx(plan_result, tmp_path / "r.xlsx", lang="xx")
    broken = with_changes(plan_result, selected=plan_result.selected.drop(columns="rank"))
    with pytest.raises(OutputError, match="rank"):
        write_report_xlsx(broken, tmp_path / "r.xlsx")
    with pytest.raises(OutputError, match="cannot write"):
        write_report_xlsx(plan_result, tmp_path / "missing-dir" / "r.xlsx")
    assert leftovers(tmp_path) == []
