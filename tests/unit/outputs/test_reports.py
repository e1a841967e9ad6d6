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


def test_every_sheet_has_frozen_header_autofilter_and_widths(workbook):
    for sheet in workbook:
        assert sheet.freeze_panes == "A5", sheet.title  # banner, title, blank, header
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A4:"), sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title
        assert sheet.column_dimensions["B"].width <= 60, sheet.title


def test_synthetic_banner_on_every_sheet_and_absent_for_user_data(workbook, make_result,
                                                                  tmp_path):
    for sheet in workbook:
        assert sheet["A1"].value == "DATA SINTETIS — bukan tempat nyata"
    real = openpyxl.load_workbook(
        write_report_xlsx(make_result(synthetic=False), tmp_path / "real.xlsx"))
    for sheet in real:
        assert "SINTETIS" not in str(sheet["A1"].value)
        assert sheet.freeze_panes == "A4"


def test_costs_carry_the_rupiah_format(workbook):
    ranking = workbook["Peringkat"]
    header = _header_row(ranking, "Urutan")
    col = _column(ranking, header, "Biaya total (Rp)")
    cells = [ranking.cell(row=r, column=col) for r in (header + 1, header + 2)]
    assert [c.value for c in cells] == [1_950_000_000, 1_820_000_000]
    assert all(c.number_format == FORMAT_IDR == '"Rp" #,##0' for c in cells)
    costs = workbook["Biaya"]
    money = [c for row in costs.iter_rows() for c in row if isinstance(c.value, int | float)
             and c.value >= 1_000_000]
    assert money and all(c.number_format == FORMAT_IDR for c in money)


def test_costs_sheet_totals_budget_and_remainder(workbook):
    costs = workbook["Biaya"]
    labels = {row[0].value: row for row in costs.iter_rows() if row[0].value}
    total_col = _column(costs, _header_row(costs, "Urutan"), "Biaya total (Rp)")
    assert labels["Jumlah"][total_col - 1].value == 3_770_000_000
    assert labels["Anggaran"][total_col - 1].value == 8_500_000_000
    assert labels["Sisa anggaran"][total_col - 1].value == 8_500_000_000 - 3_770_000_000


def test_shares_are_percentages_and_statuses_translated(workbook):
    sheet = workbook["Desa"]
    header = _header_row(sheet, "Kode desa")
    share = _column(sheet, header, "Porsi tercakup sebelum")
    status = _column(sheet, header, "Status sesudah")
    assert sheet.cell(row=header + 2, column=share).value == pytest.approx(0.40)
    assert sheet.cell(row=header + 2, column=share).number_format == FORMAT_PERCENT
    statuses = [sheet.cell(row=r, column=status).value for r in range(header + 1, header + 5)]
    assert statuses == ["tercakup", "tercakup", "sebagian", "tercakup"]


def test_text_from_data_never_becomes_a_formula(workbook):
    cells = [c for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
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
    assert book["Peringkat"].auto_filter.ref == f"A4:{last}5"  # header and one empty row


def test_atomic_write_and_errors(plan_result, tmp_path):
    with pytest.raises(ScenarioError):
        write_report_xlsx(plan_result, tmp_path / "r.xlsx", lang="xx")
    broken = with_changes(plan_result, selected=plan_result.selected.drop(columns="rank"))
    with pytest.raises(OutputError, match="rank"):
        write_report_xlsx(broken, tmp_path / "r.xlsx")
    with pytest.raises(OutputError, match="cannot write"):
        write_report_xlsx(plan_result, tmp_path / "missing-dir" / "r.xlsx")
    assert leftovers(tmp_path) == []
