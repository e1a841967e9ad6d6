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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    VILLAGE_STATUS_COLUMNS,
    YEAR_TOTAL_COLUMNS,
    year_totals,
)
from towerplan.columns import (
    AUDIT_COLUMNS,
    RANKING_COLUMNS,
    SUMMARY_KEYS,
    VILLAGE_COLUMNS,
    WHY_NOT_TABLE,
)
from towerplan.coverage.statement import link_budget_text, stated_model_chain
from towerplan.i18n import (
    TEXT,
    check_lang,
    format_percent,
    in_language,
    status_label,
    t,
    term_label,
    why_not_label,
)
from towerplan.io.atomic import atomic_output
from towerplan.io.tables import guard_formula, require_columns
from towerplan.outputs.programme_report import (
    check_programme,
    dprd_rows,
    programme_label,
    programme_value,
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
FORMAT_PERCENT = "0.0%"
_FORMAT_INT = "#,##0"
_FORMAT_DEMAND = "#,##0.0"
_FORMAT_DEGREES = "0.00000"
_FORMAT_ONE = "0.0"

_COST_COLUMNS = ("cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
                 "cost_colocation_idr", "cost_total_idr")
_MIN_WIDTH, _MAX_WIDTH = 8, 60

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

    With a programme (``result.programme``), four sheets follow the summary: ``Ringkasan
    DPRD`` (notes first, the totals per year, the optimality gap and the greedy comparison),
    ``Program per tahun`` (``by_year_channel``, then the totals per year), ``Menara program``
    (one row per tower) and ``Status desa (Podes)`` (every village and year: signal *tidak
    ada* / *lemah* / *kuat*, technology, lifted); printed landscape, one page wide.
    """
    from openpyxl import Workbook

    check_lang(lang)
    require_columns(result.selected, RANKING_COLUMNS, "ranking")
    require_columns(result.villages, VILLAGE_COLUMNS, "villages")
    if result.audit is not None:
        require_columns(result.audit, AUDIT_COLUMNS, "audit")
    workbook = Workbook()
    workbook.remove(workbook.active)
    sheets = [("sheet.summary", _fill_summary)]
    if result.programme is not None:
        check_programme(result.programme)
        sheets += [("sheet.programme_dprd", _fill_programme_dprd),
                   ("sheet.programme_years", _fill_programme_years),
                   ("sheet.programme_towers", _fill_programme_towers),
                   ("sheet.programme_villages", _fill_programme_villages)]
    sheets += [("sheet.ranking", _fill_ranking), ("sheet.villages", _fill_villages),
               ("sheet.why_not", _fill_why_not), ("sheet.costs", _fill_costs)]
    if result.audit is not None:
        sheets.append(("sheet.audit", _fill_audit))
    sheets.append(("sheet.assumptions", _fill_assumptions))
    for key, fill in sheets:
        sheet = workbook.create_sheet(t(key, lang))
        fill(sheet, result, lang)
    props = workbook.properties
    props.title = result.scenario.scenario.title
    props.creator = f"towerplan {result.provenance.version}"
    props.keywords = "synthetic" if result.provenance.synthetic else "user data"
    path = Path(path)
    with atomic_output(path) as tmp:
        workbook.save(tmp)
    log.info("report: %s (%d selected sites, %d villages)", path, len(result.selected),
             len(result.villages))
    return path


# --------------------------------------------------------------------------- cell helpers


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
    return row + 2


def _table(sheet: Worksheet, header_row: int, headers: Sequence[str],
           rows: Iterable[Sequence[Any]], formats: Sequence[str] | None = None) -> int:
    """Write a table with a styled, frozen header and an autofilter; return its last row.

    *formats* gives one number format per column; without it each row ends with its own
    list of formats (``(*values, formats)``).
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
    _set_widths(sheet, header_row, len(headers))
    return last


def _set_widths(sheet: Worksheet, header_row: int, n_columns: int) -> None:
    """Size each column to its longest value below the preamble (8 to 60 characters)."""
    from openpyxl.utils import get_column_letter

    for col in range(1, n_columns + 1):
        longest = _MIN_WIDTH
        for (value,) in sheet.iter_rows(min_row=header_row, min_col=col, max_col=col,
                                        values_only=True):
            if value is None:
                continue
            text = f"{value:,.0f}" if isinstance(value, float) else str(value)
            longest = max(longest, len(text) + 4 if isinstance(value, float) else len(text) + 2)
        sheet.column_dimensions[get_column_letter(col)].width = min(longest, _MAX_WIDTH)


def _format_for(column: str) -> str:
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
        return _FORMAT_DEMAND
    return ""


# --------------------------------------------------------------------------- sheets


def _summary_format(key: str) -> str:
    if key.endswith("_idr"):
        return FORMAT_IDR
    if key == "optimality_gap":
        return "0.00%"
    if key.startswith("demand_") or key in ("objective", "greedy_objective", "objective_bound"):
        return _FORMAT_DEMAND
    if key.endswith("runtime_s"):
        return "0.0"
    return _FORMAT_INT


def _summary_value(key: str, value: Any, lang: str) -> Any:
    if isinstance(value, bool):
        return t("popup.yes" if value else "popup.no", lang)
    if key == "demand_basis" and f"basis.{value}" in TEXT:
        return t(f"basis.{value}", lang)
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return value


def _fill_summary(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    header = _preamble(sheet, result, lang)
    summary = result.summary
    keys = [k for k in SUMMARY_KEYS if k in summary]
    keys += [k for k in summary if k not in SUMMARY_KEYS]
    # nested (a table or a list of tables): own sheets/sections
    keys = [k for k in keys if not isinstance(summary[k], dict)
            and not (isinstance(summary[k], list) and any(isinstance(v, dict)
                                                          for v in summary[k]))]
    rows = [(t(f"sum.{key}", lang) if f"sum.{key}" in TEXT else key,
             _summary_value(key, summary[key], lang), ("", _summary_format(key)))
            for key in keys]
    last = _table(sheet, header, (t("report.indicator", lang), t("report.value", lang)), rows)
    if result.provenance.demand_basis == "area_km2":
        _put(sheet, last + 2, 1, t("report.demand_note", lang))


def _fill_ranking(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    header = _preamble(sheet, result, lang)
    frame = result.selected.sort_values("rank") if len(result.selected) else result.selected
    frame = frame.assign(land_status=[term_label(v, lang) for v in frame["land_status"]])
    rows = frame[list(RANKING_COLUMNS)].itertuples(index=False, name=None)
    _table(sheet, header, [t(f"col.{c}", lang) for c in RANKING_COLUMNS], rows,
           [_format_for(c) for c in RANKING_COLUMNS])


def _fill_villages(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    _village_rows(sheet, result, lang, list(VILLAGE_COLUMNS), result.villages)


def _fill_why_not(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    """The villages still blank after the plan, with why they were left out."""
    frame = result.villages[result.villages["status_after"] == "blank"]
    _village_rows(sheet, result, lang, list(WHY_NOT_TABLE), frame)


def _village_rows(sheet: Worksheet, result: PlanResult, lang: str, columns: list[str],
                  frame: Any) -> None:
    header = _preamble(sheet, result, lang)
    status_at = {columns.index(c) for c in ("status_before", "status_after") if c in columns}
    reason_at = columns.index("why_not_reason") if "why_not_reason" in columns else -1

    def label(i: int, v: Any) -> Any:
        if i in status_at:
            return status_label(v, lang)
        return why_not_label(v, lang) if i == reason_at else v

    def rows() -> Iterable[list[Any]]:
        for values in frame[columns].itertuples(index=False, name=None):
            yield [label(i, v) for i, v in enumerate(values)]

    _table(sheet, header, [t(f"col.{c}", lang) for c in columns], rows(),
           [_format_for(c) for c in columns])


def _fill_costs(sheet: Worksheet, result: PlanResult, lang: str) -> None:
    from openpyxl.styles import Font

    header = _preamble(sheet, result, lang)
    columns = ["rank", "site_id", "village", "district", *_COST_COLUMNS, "cumulative_cost_idr"]
    frame = result.selected.sort_values("rank") if len(result.selected) else result.selected
    last = _table(sheet, header, [t(f"col.{c}", lang) for c in columns],
                  frame[columns].itertuples(index=False, name=None),
                  [_format_for(c) for c in columns])
    row = last + 2
    if len(frame) == 0:
        _put(sheet, row, 1, t("report.no_sites", lang))
        row += 1
    _put(sheet, row, 1, t("report.total", lang))
    sheet.cell(row=row, column=1).font = Font(bold=True)
    for offset, column in enumerate(_COST_COLUMNS, start=columns.index(_COST_COLUMNS[0]) + 1):
        total = float(frame[column].astype(float).sum()) if len(frame) else 0.0
        _put(sheet, row, offset, total, FORMAT_IDR)
        sheet.cell(row=row, column=offset).font = Font(bold=True)
    total_col = columns.index("cost_total_idr") + 1
    spent = float(frame["cost_total_idr"].astype(float).sum()) if len(frame) else 0.0
    budget = result.scenario.budget.total_idr
    for label, value in (("report.budget", budget), ("report.remaining", budget - spent)):
        row += 1
        _put(sheet, row, 1, t(label, lang))
        _put(sheet, row, total_col, value, FORMAT_IDR)


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
    last = _table(sheet, header, [t(f"col.{c}", lang) for c in columns],
                  audit[columns].itertuples(index=False, name=None),
                  [_format_for(c) for c in columns])
    row = last + 2
    for key, value in (result.audit_summary or {}).items():
        if key in AUDIT_FIGURES_SHOWN_ELSEWHERE:
            continue
        label = t(f"audit.{key}", lang) if f"audit.{key}" in TEXT else key
        cell_value, number_format = _audit_value(key, clean_cell(value))
        _put(sheet, row, 1, label)
        sheet.cell(row=row, column=1).font = Font(bold=True)
        _put(sheet, row, 2, _summary_value(key, cell_value, lang), number_format)
        row += 1
    _set_widths(sheet, header, len(columns))


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
           [(k, _summary_value(k, v, lang), ("", FORMAT_IDR if "_idr" in k else ""))
            for k, v in rows])


# --------------------------------------------------------------------------- programme


def _print_wide(sheet: Worksheet, header_row: int) -> None:
    """Print landscape, one page wide, the header row repeated on every page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"


def _programme_cell(column: str, value: Any, outcome: ProgrammeOutcome,
                    lang: str) -> tuple[Any, str]:
    """A programme value as a cell: numbers stay numbers (rupiah, share, count formats),
    labels and yes/no become text, a missing cost per person shows ``–``."""
    value = clean_cell(value)
    if column in ("channel", "signal", "signal_before", "locked", "lifted"):
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
                     columns: Sequence[str]) -> int:
    """The preamble, then the programme table *frame_name* printed wide; its last row."""
    from openpyxl.utils import get_column_letter

    outcome = result.programme
    if outcome is None:  # only called for plans with a programme
        return 0
    header = _preamble(sheet, result, lang)
    last = _table(sheet, header, [programme_label(c, lang) for c in columns],
                  _programme_rows(getattr(outcome, frame_name), columns, outcome, lang))
    for col, column in enumerate(columns, start=1):
        if column in ("lon", "lat"):  # 5 decimals: wider than the integer part suggests
            sheet.column_dimensions[get_column_letter(col)].width = 12
    _print_wide(sheet, header)
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
    _set_widths(sheet, 3, 8)
    sheet.column_dimensions["A"].width = 14
    _print_wide(sheet, 1)


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
