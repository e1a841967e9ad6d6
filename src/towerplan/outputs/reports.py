"""The ranked report for budget staff (``report.xlsx``).

Six sheets, named in the report's language: summary, ranking (build order), villages, why
not (the villages still blank and why), costs
and assumptions, plus an audit sheet when the plan audits a past decision and four programme
sheets (DPRD summary, by year and channel, towers, village status in Podes words) when the plan
has a multi-year programme. Money carries the
Rupiah number format, shares a percentage format; every table has a frozen header row, an
autofilter and set column widths. Results from the synthetic demo say so in a banner on every
sheet. Text from data is guarded against formula injection.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerplan.analysis.costs import cost_scope_text, with_not_costed
from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    VILLAGE_STATUS_COLUMNS,
    YEAR_TOTAL_COLUMNS,
    year_totals,
)
from towerplan.analysis.programme_why_not import PROGRAMME_WHY_NOT_COLUMNS
from towerplan.columns import (
    AUDIT_COLUMNS,
    COST_PARTS,
    RANKING_COLUMNS,
    SUMMARY_KEYS,
    VILLAGE_COLUMNS,
    WHY_NOT_TABLE,
)
from towerplan.coverage.statement import link_budget_text, stated_model_chain
from towerplan.i18n import (
    TERM_COLUMNS,
    TEXT,
    check_lang,
    format_percent,
    in_language,
    solver_label,
    status_label,
    t,
    term_label,
    why_not_label,
)
from towerplan.io.atomic import atomic_output
from towerplan.io.stamps import parse_utc
from towerplan.io.tables import guard_formula, require_columns
from towerplan.outputs.programme_report import (
    check_programme,
    dprd_rows,
    programme_label,
    programme_value,
)
from towerplan.outputs.xlsx_layout import (
    MAX_WIDTH,
    WIDE_TEXT_WIDTH,
    add_table,
    print_setup,
    put_formula,
    set_widths,
    wrap_rows,
    write_cached_values,
)

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.results import PlanResult

__all__ = ["AUDIT_FIGURES_SHOWN_ELSEWHERE", "FORMAT_IDR", "FORMAT_PERCENT", "clean_cell",
           "flatten_settings", "write_report_xlsx"]

log = logging.getLogger(__name__)

#: Number format of rupiah amounts.
FORMAT_IDR = '"Rp" #,##0'
#: Number format of shares (0..1).
FORMAT_PERCENT = "0.00%"
_FORMAT_INT = "#,##0"
_FORMAT_DEMAND = "#,##0.0"
_FORMAT_DEGREES = "0.00000"
_FORMAT_ONE = "0.0"

_COST_COLUMNS = ("cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
                 "cost_colocation_idr", "cost_total_idr")

#: ``audit_summary`` keys the reports leave out of the audit figures: stated on other sheets or
#: sections already, repeated by the audited-sites table, or another form of a listed figure.
AUDIT_FIGURES_SHOWN_ELSEWHERE = frozenset({
    "scenario", "model_chain", "demand_basis", "synthetic", "audit_sites", "percent_of_optimum",
})


def write_report_xlsx(result: PlanResult, path: str | Path, *, lang: str = "id") -> Path:
    """Write the Excel report of a plan.

    Parameters
    ----------
    result : PlanResult
        The plan to report.
    path : str or Path
        Destination file, normally ``report.xlsx``.
    lang : {"id", "en"}
        Language of sheet names, headers and labels (default Bahasa Indonesia).

    Returns
    -------
    Path
        The file written (atomically).

    Raises
    ------
    OutputError
        If a table lacks a required column or the file cannot be written.
    ScenarioError
        If *lang* is not supported.

    Notes
    -----
    Sheets: ``Ringkasan``/``Summary`` (summary.json with labels), ``Peringkat``/``Ranking``
    (selected sites in build order), ``Desa``/``Villages``, ``Biaya``/``Costs`` (cost parts per
    site, total, budget and remainder), ``Audit`` (only when ``result.audit`` is set: the
    audited sites, then the figures of ``result.audit_summary``) and ``Asumsi``/``Assumptions``
    (every scenario parameter, model chain, solver, demand basis, data sources and licences).

    With a programme (``result.programme``) the programme is the plan and comes first:
    ``Ringkasan DPRD`` (notes first, the totals per year, the optimality gap and the greedy
    comparison), ``Program per tahun`` (``by_year_channel``, then the totals per year),
    ``Menara program`` (one row per tower), ``Status desa (Podes)`` (every village and year:
    signal *tidak ada* / *lemah* / *kuat*, technology, lifted) and ``Program mengapa tidak``
    (``why_not``). The single-budget sheets follow, the summary renamed ``Pembanding satu
    anggaran``, each with a note that it is a comparison.

    Every sheet prints on A4 one page wide (landscape when wide) with its header row repeated
    and the scenario and page number in the footer. Each plain table is a named Excel table.
    The total of each site, cumulative cost and demand, the cost totals, remainder and shares
    and the village shares are formulas (with their values cached for readers that do not
    recalculate); the summary's spent amount refers to the costs sheet's total. Cost parts the
    scenario does not cost read "tidak dihitung" / "not costed", and the summary states what
    the cost per tower covers.
    """
    from openpyxl import Workbook

    check_lang(lang)
    result = result.in_language(lang)
    require_columns(result.selected, RANKING_COLUMNS, "ranking")
    require_columns(result.villages, VILLAGE_COLUMNS, "villages")
    if result.audit is not None:
        require_columns(result.audit, AUDIT_COLUMNS, "audit")
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = [("sheet.summary", _fill_summary)]
    if result.programme is not None:  # the programme is the plan; the single budget compares
        check_programme(result.programme)
        sheets = [("sheet.programme_dprd", _fill_programme_dprd),
                  ("sheet.programme_years", _fill_programme_years),
                  ("sheet.programme_towers", _fill_programme_towers),
                  ("sheet.programme_villages", _fill_programme_villages),
                  ("sheet.programme_why_not", _fill_programme_why_not),
                  ("sheet.single_summary", _fill_summary)]
    sheets += [("sheet.ranking", _fill_ranking), ("sheet.villages", _fill_villages),
               ("sheet.why_not", _fill_why_not), ("sheet.costs", _fill_costs)]
    if result.audit is not None:
        sheets.append(("sheet.audit", _fill_audit))
    sheets.append(("sheet.assumptions", _fill_assumptions))
    for key, fill in sheets:
        sheet = workbook.create_sheet(t(key, lang))
        fill(sheet, result, lang)
    _link_spent(workbook, t(sheets[0][0] if result.programme is None
                            else "sheet.single_summary", lang), lang)
    for sheet in workbook.worksheets:
        header = int(sheet.freeze_panes[1:]) - 1 if sheet.freeze_panes else None
        width = sum(1 for c in sheet[header] if c.value is not None) if header \
            else sheet.max_column
        print_setup(sheet, header, title=result.scenario.scenario.title,
                    scenario=result.scenario.scenario.name, lang=lang, n_columns=width)
    props = workbook.properties
    props.title = result.scenario.scenario.title
    props.creator = f"towerplan {result.provenance.version}"
    props.keywords = "synthetic" if result.provenance.synthetic else "user data"
    props.created = parse_utc(result.provenance.created_utc).astimezone(UTC).replace(
        tzinfo=None)  # openpyxl writes naive dates as UTC
    path = Path(path)
    with atomic_output(path) as tmp:
        workbook.save(tmp)
        write_cached_values(tmp, workbook, created_utc=result.provenance.created_utc)
    log.info("report: %s (%d selected sites, %d villages)", path, len(result.selected),
             len(result.villages))
    return path


# --------------------------------------------------------------------------- cell helpers


def _link_spent(workbook: Any, summary_title: str, lang: str) -> None:
    """Make the spent amount of the summary sheet *summary_title* a reference to the costs
    sheet's total."""
    from openpyxl.utils import get_column_letter

    summary, costs = workbook[summary_title], workbook[t("sheet.costs", lang)]
    spent = next((row[1] for row in summary.iter_rows(max_col=2)
                  if row[0].value == t("sum.spent_idr", lang)), None)
    total = next((row[0].row for row in costs.iter_rows(max_col=1)
                  if row[0].value == t("report.total", lang)), None)
    if spent is None or total is None or not isinstance(spent.value, int | float):
        return
    column = get_column_letter(5 + _COST_COLUMNS.index("cost_total_idr"))
    title = costs.title.replace("'", "''")
    put_formula(summary, spent.row, spent.column, f"'{title}'!{column}{total}",
                float(spent.value), FORMAT_IDR)


def clean_cell(value: Any) -> Any:
    """Turn a table value into a cell value: NaN/None/NA/NaT empty (None), numpy scalars
    Python. Shared by the workbook and the HTML/PDF report."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    import pandas as pd

    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _put(sheet: Worksheet, row: int, col: int, value: Any, number_format: str = "") -> None:
    """Write one cell; text from data never becomes a formula."""
    value = clean_cell(value)
    cell = sheet.cell(row=row, column=col)
    if isinstance(value, str):
        cell.value = guard_formula(value)
        cell.data_type = "s"
        return
    cell.value = value
    if number_format and value is not None:
        cell.number_format = number_format


def _preamble(sheet: Worksheet, result: PlanResult, lang: str) -> int:
    """Write the banner (synthetic data) and title lines; return the header row."""
    from openpyxl.styles import Font, PatternFill

    row = 1
    if result.provenance.synthetic:
        _put(sheet, row, 1, t("banner.synthetic", lang))
        cell = sheet.cell(row=row, column=1)
        cell.font = Font(bold=True, color="FFFFFF", size=13)
        cell.fill = PatternFill("solid", fgColor="B00020")
        for col in range(2, 9):
            sheet.cell(row=row, column=col).fill = PatternFill("solid", fgColor="B00020")
        row += 1
    _put(sheet, row, 1, result.scenario.scenario.title)
    sheet.cell(row=row, column=1).font = Font(bold=True, size=12)
    if result.programme is not None and sheet.title in {
            t(key, lang) for key in _SINGLE_BUDGET_SHEETS}:
        _put(sheet, row + 1, 1, t("prog.single.sheet_note", lang))
        sheet.cell(row=row + 1, column=1).font = Font(bold=True, italic=True, color="8A5A00")
        row += 1  # the line before the header stays free for a sheet's own note
    return row + 2


#: Sheets of the single-budget plan: in a programme run a note calls them a comparison.
_SINGLE_BUDGET_SHEETS: tuple[str, ...] = (
    "sheet.single_summary", "sheet.ranking", "sheet.villages", "sheet.why_not",
    "sheet.costs", "sheet.audit")


def _table(sheet: Worksheet, header_row: int, headers: Sequence[str],
           rows: Iterable[Sequence[Any]], formats: Sequence[str] | None = None, *,
           widest: int | None = None) -> int:
    """Write a named table with a styled, frozen header; return its last row.

    *formats* gives one number format per column; without it each row ends with its own
    list of formats (``(*values, formats)``). Columns are sized to their content (the last
    one up to *widest* characters, for label/value sheets); longer text wraps.
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    fill = PatternFill("solid", fgColor="DDE5F0")
    for col, text in enumerate(headers, start=1):
        _put(sheet, header_row, col, text)
        cell = sheet.cell(row=header_row, column=col)
        cell.font = Font(bold=True)
        cell.fill = fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    last = header_row
    for last, values in enumerate(rows, start=header_row + 1):  # noqa: B007
        row_formats = formats if formats is not None else values[-1]
        cells = values if formats is not None else values[:-1]
        for col, (value, fmt) in enumerate(zip(cells, row_formats, strict=True), start=1):
            _put(sheet, last, col, value, fmt)
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    end = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{header_row}:{end}{max(last, header_row + 1)}"
    set_widths(sheet, header_row, len(headers), last_widest=widest or MAX_WIDTH)
    if len(set(headers)) == len(headers) and all(headers):
        add_table(sheet, header_row, len(headers), last)
    return last


def _format_for(column: str, result: PlanResult | None = None) -> str:
    """Number format of a table column; demand in whole people when it counts people."""
    if column.endswith("_idr"):
        return FORMAT_IDR
    if column.startswith(("share_", "area_share_")):
        return FORMAT_PERCENT
    if column in ("lon", "lat"):
        return _FORMAT_DEGREES
    if column in ("rank", "villages_lifted", "cells", "elevation_m", "height_m"):
        return _FORMAT_INT
    if column.endswith("_dbm") or column == "area_km2":
        return _FORMAT_ONE
    if "demand" in column:
        return _FORMAT_INT if _people(result) else _FORMAT_DEMAND
    return ""


def _people(result: PlanResult | None) -> bool:
    """Whether demand counts people (whole numbers) rather than km²."""
    return result is not None and result.provenance.demand_basis == "population"


def _formats(columns: Sequence[str], result: PlanResult) -> list[str]:
    return [_format_for(c, result) for c in columns]


# --------------------------------------------------------------------------- sheets


def _summary_format(key: str, result: PlanResult) -> str:
    if key.endswith("_idr"):
        return FORMAT_IDR
    if key == "optimality_gap":
        return "0.00%"
    if key.startswith("demand_") or key in ("objective", "greedy_objective", "objective_bound"):
        return _FORMAT_INT if _people(result) else _FORMAT_DEMAND
    if key.endswith("runtime_s"):
        return "0.0"
    if key in ("plan_year", "year"):
        return "0"
    return _FORMAT_INT


def _summary_value(key: str, value: Any, result: PlanResult, lang: str) -> Any:
    """A summary.json value as the reader of *lang* reads it: coded values and statements
    translated, lists joined."""
    if isinstance(value, bool):
        return t("popup.yes" if value else "popup.no", lang)
    if key == "demand_basis" and f"basis.{value}" in TEXT:
        return t(f"basis.{value}", lang)
    if key == "cost_parts_not_costed" and isinstance(value, list | tuple):
        return ", ".join(t(f"cost.part.{v}", lang) if f"cost.part.{v}" in TEXT else str(v)
                         for v in value) or "–"
    if key == "solver_status":
        return solver_label(value, lang)
    if key == "link_budget_text":
        return link_budget_text(result.scenario, lang)
    if key == "model_chain":
        return stated_model_chain(result.scenario, result.summary,
                                  result.provenance.model_chain, lang)
    if key == "access_road_from":
        return t("siting.or", lang).join(
            t(f"siting.basis.{b}", lang) if f"siting.basis.{b}" in TEXT else term_label(b, lang)
            for b in str(value).split(" or "))
    if key in ("before_state", "power_grid_basis"):
        return term_label(value, lang)
    if key == "audit_source":
        return " + ".join(term_label(part, lang) for part in str(value).split("+"))
    if isinstance(value, list | tuple):
        return "; ".join(in_language(str(v), lang) for v in value)
    return in_language(value, lang) if isinstance(value, str) else value


def _limitations_first(sheet: Worksheet, row: int, result: PlanResult, lang: str) -> int:
    """Write what the inputs cannot support (summary.json ``limitations``) above the figures,
    one statement per row in the wide value column; return the row the table starts on."""
    from openpyxl.styles import Alignment, Font

    statements = [in_language(str(text), lang)
                  for text in result.summary.get("limitations") or ()]
    if not statements:
        return row
    _put(sheet, row, 1, t("map.limitations", lang))
    sheet.cell(row=row, column=1).font = Font(bold=True, color="B00020")
    sheet.cell(row=row, column=1).alignment = Alignment(vertical="top")
    for number, text in enumerate(statements, start=1):
        _put(sheet, row, 2, f"{number}. {text}")
        row += 1
    return row + 1


def _fill_summary(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    first = _preamble(sheet, result, lang)
    header = _limitations_first(sheet, first, result, lang)
    summary = result.summary
    keys = [k for k in SUMMARY_KEYS if k in summary]
    keys += [k for k in summary if k not in SUMMARY_KEYS and k != "limitations"]
    # nested (a table or a list of tables): own sheets/sections
    keys = [k for k in keys if not isinstance(summary[k], dict)
            and not (isinstance(summary[k], list) and any(isinstance(v, dict)
                                                          for v in summary[k]))]
    rows = [(t(f"sum.{key}", lang) if f"sum.{key}" in TEXT else key,
             _summary_value(key, summary[key], result, lang), ("", _summary_format(key, result)))
            for key in keys]
    if scope := cost_scope_text(result.selected, result.scenario.costs, lang):
        rows.insert(keys.index("spent_idr") + 1 if "spent_idr" in keys else 0,
                    (t("report.cost_scope", lang), scope, ("", "")))
    last = _table(sheet, header, (t("report.indicator", lang), t("report.value", lang)), rows,
                  widest=WIDE_TEXT_WIDTH)
    wrap_rows(sheet, range(first, header - 1), 2)  # the limitations, in the table's width
    if result.provenance.demand_basis == "area_km2":
        _put(sheet, last + 2, 1, t("report.demand_note", lang))


def _sites(result: PlanResult, lang: str) -> Any:
    """The selected sites in build order, each cost part the scenario does not cost written
    as "not costed" instead of Rp 0."""
    frame = result.selected.sort_values("rank") if len(result.selected) else result.selected
    return with_not_costed(frame, result.scenario.costs, lang)


def _number(value: Any) -> float:
    """A cell's number; text ("not costed") and empty count 0, as in a SUM."""
    value = clean_cell(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else 0.0


def _site_formulas(sheet: Worksheet, header: int, columns: Sequence[str], frame: Any) -> None:
    """Replace the totals of each site (sum of its parts), the cumulative cost and demand by
    formulas where they agree with the figures written (a per-site total given by the user
    that is not the sum of its parts stays a number)."""
    from openpyxl.utils import get_column_letter

    col = {c: get_column_letter(columns.index(c) + 1) for c in columns}
    first, last = col[COST_PARTS[0]], col[COST_PARTS[-1]]
    running = {"cumulative_cost_idr": 0.0, "cumulative_demand": 0.0}
    adds = {"cumulative_cost_idr": "cost_total_idr", "cumulative_demand": "new_demand"}
    for row, (_, site) in enumerate(frame.iterrows(), start=header + 1):
        total = sum(_number(site[p]) for p in COST_PARTS)
        if math.isclose(total, _number(site["cost_total_idr"]), rel_tol=1e-9, abs_tol=0.5):
            put_formula(sheet, row, columns.index("cost_total_idr") + 1,
                        f"SUM({first}{row}:{last}{row})", total, FORMAT_IDR)
        for name, part in adds.items():
            if name not in col:
                continue
            value = running[name] + _number(site[part])
            if math.isclose(value, _number(site[name]), rel_tol=1e-9, abs_tol=0.5):
                before = f"{col[name]}{row - 1}+" if row > header + 1 else ""
                put_formula(sheet, row, columns.index(name) + 1, f"{before}{col[part]}{row}",
                            value, sheet.cell(row=row, column=columns.index(name) + 1)
                            .number_format)
            running[name] = _number(site[name])


def _fill_ranking(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    header = _preamble(sheet, result, lang)
    frame = _sites(result, lang)
    frame = frame.assign(**{c: [term_label(v, lang) for v in frame[c]]
                            for c in RANKING_COLUMNS if c in TERM_COLUMNS and c in frame})
    rows = frame[list(RANKING_COLUMNS)].itertuples(index=False, name=None)
    _table(sheet, header, [t(f"col.{c}", lang) for c in RANKING_COLUMNS], rows,
           _formats(RANKING_COLUMNS, result))
    _site_formulas(sheet, header, RANKING_COLUMNS, frame)


#: Columns of the villages sheet shown and printed; the others are grouped and folded away
#: (one click on the outline's "+" shows them), so the sheet prints readably on one page width.
_VILLAGE_SHOWN = ("code", "name", "district", "demand_total", "demand_covered_before",
                  "demand_covered_after", "share_covered_before", "share_covered_after",
                  "status_before", "status_after", "why_not_reason")


def _fill_villages(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    from openpyxl.utils import get_column_letter

    columns = list(VILLAGE_COLUMNS)
    header = _village_rows(sheet, result, lang, columns, result.villages)
    for col, column in enumerate(columns, start=1):
        if column not in _VILLAGE_SHOWN:
            dim = sheet.column_dimensions[get_column_letter(col)]
            dim.outline_level, dim.hidden = 1, True
    sheet.sheet_format.outlineLevelCol = 1
    set_widths(sheet, header, len(columns))
    _put(sheet, header - 1, 1, t("xlsx.folded_columns", lang))


def _fill_why_not(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    """The villages still blank after the plan, with why they were left out."""
    frame = result.villages[result.villages["status_after"] == "blank"]
    _village_rows(sheet, result, lang, list(WHY_NOT_TABLE), frame)


def _village_rows(sheet: Worksheet, result: PlanResult, lang: str, columns: list[str],
                  frame: Any) -> int:
    """The village table of *columns*; its header row."""
    header = _preamble(sheet, result, lang)
    status_at = {columns.index(c) for c in ("status_before", "status_after", "status_model",
                                              "status_reported") if c in columns}
    reason_at = columns.index("why_not_reason") if "why_not_reason" in columns else -1

    term_at = {i for i, c in enumerate(columns) if c in TERM_COLUMNS}

    def label(i: int, v: Any) -> Any:
        if i in status_at:
            return status_label(v, lang)
        if i in term_at:
            return term_label(v, lang)
        return why_not_label(v, lang) if i == reason_at else v

    def rows() -> Iterable[list[Any]]:
        for values in frame[columns].itertuples(index=False, name=None):
            yield [label(i, v) for i, v in enumerate(values)]

    _table(sheet, header, [t(f"col.{c}", lang) for c in columns], rows(),
           _formats(columns, result))
    _share_formulas(sheet, header, columns, frame)
    return header


def _share_formulas(sheet: Worksheet, header: int, columns: Sequence[str], frame: Any) -> None:
    """Shares of demand covered as formulas (covered / total) where they agree with the
    figures written."""
    from openpyxl.utils import get_column_letter

    if "demand_total" not in columns:
        return
    total_col = get_column_letter(columns.index("demand_total") + 1)
    for stage in ("before", "after"):
        share, covered = f"share_covered_{stage}", f"demand_covered_{stage}"
        if share not in columns or covered not in columns:
            continue
        covered_col = get_column_letter(columns.index(covered) + 1)
        for row, (total, part, value) in enumerate(
                frame[["demand_total", covered, share]].itertuples(index=False, name=None),
                start=header + 1):
            total, part, value = _number(total), _number(part), clean_cell(value)
            if total > 0 and isinstance(value, float) and math.isclose(
                    part / total, value, rel_tol=1e-6, abs_tol=1e-9):
                put_formula(sheet, row, columns.index(share) + 1,
                            f"{covered_col}{row}/{total_col}{row}", part / total,
                            FORMAT_PERCENT)


def _fill_costs(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    """Cost parts per site, then the totals, budget, remainder and shares, as formulas."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    header = _preamble(sheet, result, lang)
    columns = ["rank", "site_id", "village", "district", *_COST_COLUMNS, "cumulative_cost_idr"]
    frame = _sites(result, lang)
    last = _table(sheet, header, [t(f"col.{c}", lang) for c in columns],
                  frame[columns].itertuples(index=False, name=None), _formats(columns, result))
    _site_formulas(sheet, header, columns, frame)
    row = last + 2
    if len(frame) == 0:
        _put(sheet, row, 1, t("report.no_sites", lang))
        row += 1
    total_row = row
    total_col = columns.index("cost_total_idr") + 1
    tc = get_column_letter(total_col)
    totals = {c: sum(_number(v) for v in frame[c]) for c in _COST_COLUMNS}
    spent = totals["cost_total_idr"]
    budget = float(result.scenario.budget.total_idr)
    _put(sheet, total_row, 1, t("report.total", lang))
    _put(sheet, total_row + 1, 1, t("xlsx.share_of_total", lang))
    for offset, column in enumerate(_COST_COLUMNS, start=columns.index(_COST_COLUMNS[0]) + 1):
        letter = get_column_letter(offset)
        rows = f"{letter}{header + 1}:{letter}{max(last, header + 1)}"
        put_formula(sheet, total_row, offset, f"SUM({rows})", totals[column], FORMAT_IDR)
        put_formula(sheet, total_row + 1, offset,
                    f"IF(${tc}${total_row}=0,0,{letter}{total_row}/${tc}${total_row})",
                    totals[column] / spent if spent else 0.0, FORMAT_PERCENT)
    row = total_row + 2
    _put(sheet, row, 1, t("report.budget", lang))
    _put(sheet, row, total_col, budget, FORMAT_IDR)
    _put(sheet, row + 1, 1, t("report.remaining", lang))
    put_formula(sheet, row + 1, total_col, f"{tc}{row}-{tc}{total_row}", budget - spent,
                FORMAT_IDR)
    _put(sheet, row + 2, 1, t("xlsx.share_of_budget", lang))
    put_formula(sheet, row + 2, total_col, f"IF({tc}{row}=0,0,{tc}{total_row}/{tc}{row})",
                spent / budget if budget else 0.0, FORMAT_PERCENT)
    for r in (total_row, row + 1):
        for c in range(1, len(columns) + 1):
            sheet.cell(row=r, column=c).font = Font(bold=True)
    if scope := cost_scope_text(result.selected, result.scenario.costs, lang):
        _put(sheet, row + 4, 1, scope)
    _put(sheet, row + 5, 1, t("xlsx.formula_note", lang))


def _audit_value(key: str, value: Any) -> tuple[Any, str]:
    """One figure of ``audit_summary`` as a cell value and its number format."""
    if isinstance(value, list | tuple):
        parts = [_audit_value(key, v)[0] for v in value]
        return "; ".join(str(p) for p in parts if p is not None), ""
    if isinstance(value, dict):
        if "site_id" in value:
            where = value.get("village")
            return (f"{value['site_id']} ({where})" if where else str(value["site_id"])), ""
        return ", ".join(f"{k}: {v}" for k, v in value.items()), ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value, ""
    if key.endswith("_idr"):
        return value, FORMAT_IDR
    if key.startswith("share"):
        return value, FORMAT_PERCENT
    if key.endswith("gap"):
        return value, "0.00%"
    if "demand" in key:
        return value, _FORMAT_DEMAND
    return value, _FORMAT_INT if isinstance(value, int) else ""


def _fill_audit(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    from openpyxl.styles import Font

    header = _preamble(sheet, result, lang)
    audit = result.audit
    if audit is None:  # only called for plans with an audit
        return
    columns = list(AUDIT_COLUMNS)
    terms = [c in TERM_COLUMNS for c in columns]
    last = _table(sheet, header, [t(f"col.{c}", lang) for c in columns],
                  ([term_label(v, lang) if term else v for v, term in zip(row, terms, strict=True)]
                   for row in audit[columns].itertuples(index=False, name=None)),
                  _formats(columns, result))
    row = last + 2
    for key, value in (result.audit_summary or {}).items():
        if key in AUDIT_FIGURES_SHOWN_ELSEWHERE:
            continue
        label = t(f"audit.{key}", lang) if f"audit.{key}" in TEXT else key
        cell_value, number_format = _audit_value(key, clean_cell(value))
        _put(sheet, row, 1, label)
        sheet.cell(row=row, column=1).font = Font(bold=True)
        _put(sheet, row, 2, _summary_value(key, cell_value, result, lang), number_format)
        row += 1
    set_widths(sheet, header, len(columns))


def siting_assumptions(summary: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    """Where candidates stand, the access road basis and the exclusion layers applied, as
    (label, text) rows of the assumptions."""
    rows: list[tuple[str, str]] = []
    scenario_costs = summary.get("remote_road_idr_per_km")
    if "anchor_distance_m" in summary and scenario_costs is not None:
        rows.append((t("col.land_status", lang), t("siting.anchor", lang).format(
            distance_m=summary["anchor_distance_m"], road=scenario_costs,
            power=summary.get("remote_power_idr", 0.0))))
    counts = summary.get("candidates_land_status") or {}
    if counts:
        rows.append((t("sum.candidates_land_status", lang), "; ".join(
            f"{term_label(k, lang)} {v}" for k, v in counts.items())))
    if note := summary.get("access_road_note"):
        rows.append((t("sum.access_road_note", lang), in_language(str(note), lang)))
    if "exclusion_layers" in summary:
        layers = summary["exclusion_layers"] or []
        rows.append((t("sum.exclusion_layers", lang), "; ".join(
            f"{a['name']} ({a['kind']}): {a['candidates_removed']}" for a in layers)
            or t("siting.no_exclusions", lang)))
    return rows


def flatten_settings(data: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Yield ``("section.key", value)`` for every leaf of nested scenario data."""
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flatten_settings(value, f"{name}.")
        elif isinstance(value, list | tuple):
            yield name, ", ".join(str(v) for v in value)
        else:
            yield name, value


def _fill_assumptions(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    header = _preamble(sheet, result, lang)
    prov = result.provenance
    basis = prov.demand_basis
    rows: list[tuple[str, Any]] = list(flatten_settings(result.scenario.to_shared_dict()))
    rows += [
        (t("report.model_chain", lang),
         stated_model_chain(result.scenario, result.summary, prov.model_chain, lang)),
        (t("report.link_budget", lang), link_budget_text(result.scenario, lang)),
        (t("report.solver", lang), prov.solver),
        (t("report.demand_basis", lang),
         t(f"basis.{basis}", lang) if f"basis.{basis}" in TEXT else basis),
        (t("report.synthetic", lang), t("popup.yes" if prov.synthetic else "popup.no", lang)),
        (t("report.version", lang), prov.version),
        (t("report.scenario_hash", lang), prov.scenario_hash),
        (t("report.created_utc", lang), prov.created_utc),
    ]
    rows += siting_assumptions(result.summary, lang)
    rows += [(f"{t('report.data_source', lang)} {i}", source)
             for i, source in enumerate(prov.data_sources, start=1)]
    _table(sheet, header, (t("report.parameter", lang), t("report.value", lang)),
           [(k, _summary_value(k, v, result, lang), ("", FORMAT_IDR if "_idr" in k else ""))
            for k, v in rows], widest=WIDE_TEXT_WIDTH)


# --------------------------------------------------------------------------- programme


def _programme_cell(column: str, value: Any, outcome: ProgrammeOutcome,
                    lang: str) -> tuple[Any, str]:
    """A programme value as a cell: numbers stay numbers (rupiah, share, count formats),
    labels and yes/no become text, a missing cost per person shows ``–``."""
    value = clean_cell(value)
    if column in ("channel", "signal", "signal_before", "locked", "lifted", "extra_channel",
                  "reason"):
        return programme_value(column, value, outcome, lang), ""
    if value is None and column == "cost_per_person_idr":
        return "–", ""
    if isinstance(value, str) or value is None:
        return value, ""
    if "_idr" in column:
        return value, FORMAT_IDR
    if column == "served_share":
        return value, FORMAT_PERCENT
    if column in ("lon", "lat"):
        return value, _FORMAT_DEGREES
    if column == "year":
        return value, "0"
    return value, _FORMAT_INT


def _programme_rows(frame: Any, columns: Sequence[str], outcome: ProgrammeOutcome,
                    lang: str) -> Iterable[list[Any]]:
    for values in frame[list(columns)].itertuples(index=False, name=None):
        cells = [_programme_cell(c, v, outcome, lang) for c, v in zip(columns, values,
                                                                       strict=True)]
        yield [value for value, _ in cells] + [[fmt for _, fmt in cells]]


def _programme_table(sheet: Worksheet, result: PlanResult, lang: str, frame_name: str,
                     columns: Sequence[str], *, frame: Any = None) -> int:
    """The preamble, then the programme table *frame_name* (or *frame*); its last row."""
    outcome = result.programme
    if outcome is None:  # only called for plans with a programme
        return 0
    header = _preamble(sheet, result, lang)
    last = _table(sheet, header, [programme_label(c, lang) for c in columns],
                  _programme_rows(getattr(outcome, frame_name) if frame is None else frame,
                                  columns, outcome, lang))
    return last


def _fill_programme_dprd(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    formats = {"idr": FORMAT_IDR, "int": _FORMAT_INT, "": ""}
    row = _preamble(sheet, result, lang)
    for kind, cells in dprd_rows(result, lang):
        for col, (value, how) in enumerate(cells, start=1):
            _put(sheet, row, col, value, formats[how])
            cell = sheet.cell(row=row, column=col)
            if kind in ("heading", "header", "total"):
                cell.font = Font(bold=True, size=12 if kind == "heading" else 11)
            if kind == "text":
                cell.alignment = Alignment(wrap_text=False, vertical="top")
        row += 2 if kind == "heading" else 1
    set_widths(sheet, 3, 8, wrap=False)
    sheet.column_dimensions["A"].width = 14


def _fill_programme_years(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    from openpyxl.styles import Font

    outcome = result.programme
    if outcome is None:
        return
    row = _programme_table(sheet, result, lang, "by_year_channel", BY_YEAR_CHANNEL_COLUMNS) + 2
    _put(sheet, row, 1, t("prog.per_year", lang))
    sheet.cell(row=row, column=1).font = Font(bold=True)
    totals = year_totals(outcome)
    for col, column in enumerate(YEAR_TOTAL_COLUMNS, start=1):
        _put(sheet, row + 1, col, programme_label(column, lang))
        sheet.cell(row=row + 1, column=col).font = Font(bold=True)
    for offset, values in enumerate(_programme_rows(totals, YEAR_TOTAL_COLUMNS, outcome, lang),
                                    start=row + 2):
        for col, (value, fmt) in enumerate(zip(values[:-1], values[-1], strict=True), start=1):
            _put(sheet, offset, col, value, fmt)
    # the totals per year share the columns: size them for both tables (no "###")
    set_widths(sheet, int(sheet.freeze_panes[1:]) - 1,
               max(len(BY_YEAR_CHANNEL_COLUMNS), len(YEAR_TOTAL_COLUMNS)))


def _fill_programme_towers(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    last = _programme_table(sheet, result, lang, "builds", BUILD_COLUMNS)
    if result.programme is not None and not len(result.programme.builds):
        _put(sheet, last + 2, 1, t("prog.no_towers", lang))


def _fill_programme_villages(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    last = _programme_table(sheet, result, lang, "village_status", VILLAGE_STATUS_COLUMNS)
    outcome = result.programme
    if outcome is not None and outcome.years:
        _put(sheet, last + 2, 1, t("prog.before_year", lang).format(
            year=outcome.years[0] - 1))
        _put(sheet, last + 3, 1, t("prog.partial_rule", lang).format(
            covered=format_percent(result.scenario.coverage.covered_at_least, lang, 0)))


def _fill_programme_why_not(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    outcome = result.programme
    if outcome is None:
        return
    frame = outcome.why_not
    if frame is None:
        import pandas as pd

        frame = pd.DataFrame(columns=list(PROGRAMME_WHY_NOT_COLUMNS))
    last = _programme_table(sheet, result, lang, "why_not", PROGRAMME_WHY_NOT_COLUMNS,
                            frame=frame)
    _put(sheet, last + 2, 1, t("prog.why_not_intro" if len(frame) else "prog.why_not_none",
                               lang))
