"""The plan report for reading and printing: ``report.html`` and ``report.pdf``.

One Jinja2 template (``templates/report.html.j2``, autoescaped: village names are data, not
HTML) gives a self-contained HTML file: an executive summary (budget, towers, villages lifted
out of blank spot, demand covered), two charts embedded as PNG data URIs (see
:mod:`towerplan.outputs.charts`), the ranked sites, their costs, backhaul and audit tables when
the plan has them, the villages lifted out of blank spot, and every assumption (model chain,
thresholds, costs, scenario values, data sources with licences). A plan with a multi-year
programme opens with the one-page "Ringkasan untuk DPRD" and the programme's Gantt chart and
tables (:mod:`towerplan.outputs.programme_report`). WeasyPrint renders the PDF
from the same HTML, with local resources only: its URL fetcher refuses everything but ``data:``
URLs, so nothing is fetched from the network. Fonts come from fontconfig (DejaVu Sans).
"""

from __future__ import annotations

import base64
import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerplan.analysis.costs import cost_scope_text, with_not_costed
from towerplan.columns import AUDIT_COLUMNS, BACKHAUL_COLUMNS, WHY_NOT_TABLE
from towerplan.coverage.statement import link_budget_summary, link_budget_text, stated_model_chain
from towerplan.i18n import (
    TERM_COLUMNS,
    TEXT,
    check_lang,
    format_idr,
    format_number,
    format_percent,
    in_language,
    status_label,
    t,
    term_label,
    why_not_label,
)
from towerplan.io.atomic import atomic_output
from towerplan.io.tables import require_columns
from towerplan.outputs.charts import blank_spots_png, budget_curve_png
from towerplan.outputs.pdf_render import html_to_pdf, local_url_fetcher, start_pdf
from towerplan.outputs.programme_report import programme_context
from towerplan.outputs.report_table import ReportTable as _Table
from towerplan.outputs.reports import (
    AUDIT_FIGURES_SHOWN_ELSEWHERE,
    clean_cell,
    flatten_settings,
    siting_assumptions,
)

if TYPE_CHECKING:
    import jinja2
    import pandas as pd

    from towerplan.results import PlanResult

__all__ = [
    "HASH_CHARACTERS",
    "LONG_WORD_CHARACTERS",
    "css_string",
    "has_long_word",
    "local_url_fetcher",
    "render_report_html",
    "start_report_pdf",
    "short_hash",
    "write_report_html",
    "write_report_pdf",
]

log = logging.getLogger(__name__)

#: Hex characters of the scenario hash in the report's header and footer.
HASH_CHARACTERS = 12
_TEMPLATE = "report.html.j2"
_RANKED = ("rank", "site_id", "village", "district", "land_status", "elevation_m", "new_demand",
           "cumulative_demand", "villages_lifted", "villages_lifted_names", "new_median_rsrp_dbm",
           "new_area_median_rsrp_dbm", "new_area_km2")
_COSTS = ("rank", "site_id", "cost_tower_idr", "cost_road_idr", "cost_power_idr",
          "cost_backhaul_idr", "cost_colocation_idr", "cost_total_idr", "cumulative_cost_idr")
_LIFTED = ("code", "name", "district", "share_covered_before", "share_covered_after",
           "status_after", "best_server_after")
#: Villages whose status before comes from a signal report, or whose report and model disagree.
_EVIDENCE = ("code", "name", "district", "status_before", "status_model", "status_reported",
             "signal_reported", "reported_date", "reported_source", "conflict")
_LINKS = ("link_id", "site_id", "from_id", "to_id", "technology", "distance_km",
          "clearance_ratio", "margin_db", "feasible", "cost_idr")
_AUDIT = tuple(c for c in AUDIT_COLUMNS if c not in ("lon", "lat"))
# The main cost figures of ``[costs]`` (every other one is in the scenario table).
_COST_LABELS = {"tower_idr": "sum.tower_cost_idr", "access_road_idr_per_km": "doc.cost_road_km",
                "power_idr": "doc.cost_power", "backhaul_idr": "doc.cost_backhaul"}
_INT_COLUMNS = frozenset({"rank", "villages_lifted", "cells", "backhaul_hops"})
_BOOL_COLUMNS = frozenset({"feasible", "selected", "conflict"})


# --------------------------------------------------------------------------- public API


def render_report_html(result: PlanResult, *, lang: str = "id") -> str:
    """Return the report of a plan as one self-contained HTML document.

    Parameters
    ----------
    result : PlanResult
        The plan to report.
    lang : {"id", "en"}
        Language of every label and of number formats (default Bahasa Indonesia).

    Returns
    -------
    str
        HTML with inline CSS and the charts as PNG data URIs; no external reference.

    Raises
    ------
    OutputError
        If a table lacks a required column.
    ScenarioError
        If *lang* is not supported.
    """
    check_lang(lang)
    result = result.in_language(lang)
    require_columns(result.selected, (*_RANKED, *_COSTS), "ranking")
    require_columns(result.villages, ("code", "name", "district", "status_before",
                                      "status_after", "share_covered_before",
                                      "share_covered_after", "best_server_after"), "villages")
    start = time.perf_counter()
    html = _environment().get_template(_TEMPLATE).render(**_context(result, lang))
    log.debug("report html: %d characters in %.2f s", len(html), time.perf_counter() - start)
    return html


def write_report_html(result: PlanResult, path: str | Path, *, lang: str = "id",
                      html: str | None = None) -> Path:
    """Write ``report.html`` atomically.

    Parameters
    ----------
    result : PlanResult
        The plan to report.
    path : str or Path
        Destination file.
    lang : {"id", "en"}
        Language (default Bahasa Indonesia).
    html : str, optional
        The document from :func:`render_report_html` when already rendered.

    Returns
    -------
    Path
        The file written (UTF-8).
    """
    text = html if html is not None else render_report_html(result, lang=lang)
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    log.info("report: %s (%d characters)", path, len(text))
    return path


def write_report_pdf(result: PlanResult, path: str | Path, *, lang: str = "id",
                     html: str | None = None) -> Path:
    """Render the HTML report to PDF with WeasyPrint and write ``report.pdf`` atomically.

    Parameters
    ----------
    result : PlanResult
        The plan to report.
    path : str or Path
        Destination file.
    lang : {"id", "en"}
        Language (default Bahasa Indonesia).
    html : str, optional
        The document from :func:`render_report_html` when already rendered.

    Returns
    -------
    Path
        The file written: A4 pages, numbered, with the synthetic-data banner on every page
        when the plan comes from the demo.

    Raises
    ------
    OutputError
        If WeasyPrint or its Pango libraries are missing, or the file cannot be written.
    """
    text = html if html is not None else render_report_html(result, lang=lang)
    start = time.perf_counter()
    return _write_pdf(path, html_to_pdf(text), start)


def start_report_pdf(result: PlanResult, *, lang: str = "id",
                     html: str | Callable[[], str] | None = None
                     ) -> Callable[[str | Path], Path]:
    """Start rendering ``report.pdf`` in a child process (:func:`~towerplan.outputs.
    pdf_render.start_pdf`) and return the function that collects it and writes it to the
    path it is given, atomically: the same file as :func:`write_report_pdf`, while this
    process writes other outputs. The function raises what :func:`write_report_pdf` raises.

    *html* is the report's HTML, or a function rendering it: the child is then started
    first and imports WeasyPrint while this process renders the HTML.
    """
    start = time.perf_counter()
    pending = start_pdf()
    try:
        text = (html() if callable(html) else html if html is not None
                else render_report_html(result, lang=lang))
    except BaseException:
        pending.cancel()
        raise
    pending.send(text)

    def finish(path: str | Path) -> Path:
        return _write_pdf(path, pending.result(), start)

    return finish


def _write_pdf(path: str | Path, pdf: bytes, start: float) -> Path:
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_bytes(pdf)
    log.info("report: %s (%d bytes in %.1f s)", path, len(pdf), time.perf_counter() - start)
    return path


# --------------------------------------------------------------------------- template


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("towerplan.outputs", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["css_string"] = css_string
    env.tests["long_word"] = has_long_word
    return env


#: Characters of the longest word a table cell keeps whole; a longer one (a file name, a
#: long code) may break anywhere, so it cannot push the table past the page's margin.
LONG_WORD_CHARACTERS = 16


def has_long_word(text: object) -> bool:
    """Whether *text* has a word longer than :data:`LONG_WORD_CHARACTERS` characters.

    Examples
    --------
    >>> has_long_word("unlisted in paser_signal_reports_2021.csv"), has_long_word("Rp 2,06 miliar")
    (True, False)
    """
    return any(len(word) > LONG_WORD_CHARACTERS for word in str(text).split())


def css_string(text: object) -> Any:
    """Return *text* as a quoted CSS string, safe inside a ``<style>`` element.

    Every character but letters, digits and spaces becomes a CSS escape, so neither quotes
    nor ``</style>`` can end the string or the element.

    Examples
    --------
    >>> str(css_string('a"</style>'))
    '"a\\\\22 \\\\3c \\\\2f style\\\\3e "'
    """
    from markupsafe import Markup

    body = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(text))
    return Markup(f'"{body}"')  # noqa: S704 - every special character is escaped above


def short_hash(scenario_hash: str) -> str:
    """The first :data:`HASH_CHARACTERS` characters of a scenario hash, as the report's
    header and footer show it (``summary.json`` keeps the whole hash).

    Examples
    --------
    >>> short_hash("1f226bd8df91ed6f0a")
    '1f226bd8df91'
    """
    return str(scenario_hash)[:HASH_CHARACTERS]


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --------------------------------------------------------------------------- cells


@dataclass(frozen=True, slots=True)
class _Cells:
    """Formats table cells in one language; demand with 0 (people) or 1 (km²) decimals."""

    lang: str
    demand_decimals: int

    def label(self, column: str) -> str:
        key = f"col.{column}"
        return t(key, self.lang) if key in TEXT else column

    def text(self, column: str, value: Any) -> tuple[str, bool]:
        """Return the cell text and whether it is a number."""
        value = clean_cell(value)
        lang = self.lang
        if value is None:
            return "–", False
        if isinstance(value, bool) or column in _BOOL_COLUMNS:
            return t("popup.yes" if bool(value) else "popup.no", lang), False
        if isinstance(value, str):
            if column.startswith("status") and column != "status_source":
                return status_label(value, lang), False
            if column in TERM_COLUMNS:
                return term_label(value, lang), False
            if column == "why_not_reason":
                return why_not_label(value, lang), False
            return value, False
        if not isinstance(value, int | float):
            return str(value), False
        if column.startswith(("share_", "area_share_")) or column == "share_of_optimum":
            return format_percent(value, lang), True
        return format_number(value, lang, self._decimals(column, value)), True

    def _decimals(self, column: str, value: float) -> int:
        if column.endswith("_idr") or column in _INT_COLUMNS or column.endswith("_m"):
            return 0
        if column in ("lon", "lat"):
            return 5
        if column.endswith(("_ratio", "_clearance")):
            return 2
        if column.endswith(("_dbm", "_db", "_km")):
            return 1
        if "demand" in column:
            return self.demand_decimals
        return 0 if float(value).is_integer() else 2

    def table(self, frame: pd.DataFrame, columns: Sequence[str], css: str = "") -> _Table:
        rows, numeric = [], [False] * len(columns)
        for values in frame[list(columns)].itertuples(index=False, name=None):
            row = []
            for i, (column, value) in enumerate(zip(columns, values, strict=True)):
                text, is_number = self.text(column, value)
                numeric[i] = numeric[i] or is_number
                row.append(text)
            rows.append(row)
        return _Table([self.label(c) for c in columns], rows, numeric, css=css)


# --------------------------------------------------------------------------- context


def _context(result: PlanResult, lang: str) -> dict[str, Any]:
    """Everything the template shows, formatted in *lang*."""
    prov = result.provenance
    cells = _Cells(lang, 0 if prov.demand_basis == "population" else 1)
    ranking = result.selected.sort_values("rank") if len(result.selected) else result.selected
    label: Callable[[str], str] = functools.partial(t, lang=lang)
    return {
        "lang": lang,
        "t": label,
        "title": result.scenario.scenario.title,
        "synthetic": prov.synthetic,
        "meta": [
            (label("sum.scenario"), result.scenario.scenario.name),
            (label("report.created_utc"), prov.created_utc),
            (label("report.version"), prov.version),
            (label("report.scenario_hash"), short_hash(prov.scenario_hash)),
        ],
        "footer": f"towerplan {prov.version} · {short_hash(prov.scenario_hash)}",
        "created_utc": prov.created_utc,
        "kpis": _kpis(result, lang),
        "paragraphs": _paragraphs(result, lang),
        "limitations": [in_language(str(text), lang)
                        for text in result.summary.get("limitations") or ()],
        "before_unknown": _before_note(result, lang, "unknown"),
        "before_reports": (_before_note(result, lang, "reports")
                           or _before_note(result, lang, "coverage_maps")),
        "towers_notes": [in_language(str(text), lang)
                         for text in result.summary.get("towers_note") or ()],
        "evidence": _evidence_table(result, cells),
        "charts": [
            (label("doc.fig_budget_curve"), _png_uri(budget_curve_png(result, lang=lang))),
            (label("doc.fig_blank_spots"), _png_uri(blank_spots_png(result, lang=lang))),
        ],
        "ranking": cells.table(ranking, _RANKED, css="ranked") if len(ranking) else None,
        "costs": _cost_table(result, ranking, cells) if len(ranking) else None,
        "backhaul": _backhaul_table(ranking, cells),
        "links": _links_table(result, cells),
        "audit_facts": _audit_facts(result, cells),
        "audit": _audit_table(result, cells),
        "lifted": _lifted_table(result, cells),
        "why_not": _why_not_table(result, cells),
        "assumptions": _assumptions(result, lang),
        "sources": list(prov.data_sources),
        "scenario_rows": _two_columns(_scenario_sections(result, lang)),
        "programme": programme_context(result, lang),
    }


def _summary_number(result: PlanResult, key: str, fallback: Callable[[], float]) -> float:
    value = clean_cell(result.summary.get(key))
    return float(value) if isinstance(value, int | float) else float(fallback())


def _figures(result: PlanResult) -> dict[str, float]:
    """Headline figures, from ``summary.json`` where it has them, else from the tables."""
    villages = result.villages
    status_before = villages["status_before"].astype(str)
    status_after = villages["status_after"].astype(str)
    selected = result.selected
    return {
        "budget": float(result.scenario.budget.total_idr),
        "spent": _summary_number(result, "spent_idr",
                                 lambda: selected["cost_total_idr"].astype(float).sum()),
        "towers": _summary_number(result, "towers_selected", lambda: len(selected)),
        "villages": _summary_number(result, "villages_total", lambda: len(villages)),
        "blank_before": _summary_number(result, "blank_villages_before",
                                        lambda: (status_before == "blank").sum()),
        "blank_after": _summary_number(result, "blank_villages_after",
                                       lambda: (status_after == "blank").sum()),
        "lifted": float(((status_before == "blank") & (status_after != "blank")).sum()),
        "demand_total": _summary_number(result, "demand_total",
                                        lambda: villages["demand_total"].astype(float).sum()),
        "demand_before": _summary_number(
            result, "demand_covered_before",
            lambda: villages["demand_covered_before"].astype(float).sum()),
        "demand_after": _summary_number(
            result, "demand_covered_after",
            lambda: villages["demand_covered_after"].astype(float).sum()),
    }


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _kpis(result: PlanResult, lang: str) -> list[tuple[str, str, str]]:
    f = _figures(result)
    unit = _unit(result, lang)
    decimals = 0 if result.provenance.demand_basis == "population" else 1
    arrow = " → "
    return [
        (t("report.budget", lang), format_idr(f["budget"], lang), ""),
        (t("sum.spent_idr", lang), format_idr(f["spent"], lang),
         t("doc.of_budget", lang).format(share=format_percent(_share(f["spent"], f["budget"]),
                                                              lang))),
        (t("sum.towers_selected", lang), format_number(f["towers"], lang), ""),
        (t("col.villages_lifted", lang), format_number(f["lifted"], lang),
         f"{t('map.blank_villages', lang)}: {format_number(f['blank_before'], lang)}{arrow}"
         f"{format_number(f['blank_after'], lang)}"),
        (t("doc.demand_covered", lang),
         format_percent(_share(f["demand_before"], f["demand_total"]), lang) + arrow
         + format_percent(_share(f["demand_after"], f["demand_total"]), lang),
         f"{format_number(f['demand_before'], lang, decimals)}{arrow}"
         f"{format_number(f['demand_after'], lang, decimals)} {unit}"),
    ]


def _unit(result: PlanResult, lang: str) -> str:
    return t("unit.people" if result.provenance.demand_basis == "population" else "unit.km2",
             lang)


def _plural(key: str, count: float, lang: str) -> str:
    """The label *key*, or ``key + "_one"`` for a count of exactly one."""
    return t(f"{key}_one" if count == 1 else key, lang)


def _paragraphs(result: PlanResult, lang: str) -> list[str]:
    f = _figures(result)
    unit = _unit(result, lang)
    decimals = 0 if result.provenance.demand_basis == "population" else 1

    def num(value: float) -> str:
        return format_number(value, lang, decimals)

    texts = []
    if f["towers"] == 0:
        texts.append(t("doc.exec_none", lang).format(budget=format_idr(f["budget"], lang)))
    else:
        texts.append(_plural("doc.exec_plan", f["towers"], lang).format(
            budget=format_idr(f["budget"], lang), towers=format_number(f["towers"], lang),
            spent=format_idr(f["spent"], lang),
            remaining=format_idr(f["budget"] - f["spent"], lang)))
        if scope := cost_scope_text(result.selected, result.scenario.costs, lang):
            texts.append(f"{scope}.")
    texts.append(_plural("doc.exec_villages", f["lifted"], lang).format(
        lifted=format_number(f["lifted"], lang), villages=format_number(f["villages"], lang),
        blank_before=format_number(f["blank_before"], lang),
        blank_after=format_number(f["blank_after"], lang)))
    texts.append(t("doc.exec_demand", lang).format(
        before=num(f["demand_before"]), after=num(f["demand_after"]), unit=unit,
        total=num(f["demand_total"]),
        share_before=format_percent(_share(f["demand_before"], f["demand_total"]), lang),
        share_after=format_percent(_share(f["demand_after"], f["demand_total"]), lang)))
    gap = clean_cell(result.summary.get("optimality_gap"))
    greedy = clean_cell(result.summary.get("greedy_objective"))
    objective = clean_cell(result.summary.get("objective"))
    regions = "by kabupaten" in str(result.provenance.solver)
    texts.append(t("doc.exec_solver_regions" if regions else "doc.exec_solver", lang).format(
        solver=result.provenance.solver,
        gap=format_percent(gap, lang, 2) if isinstance(gap, int | float) else "–",
        objective=num(objective) if isinstance(objective, int | float) else "–",
        greedy=num(greedy) if isinstance(greedy, int | float) else "–", unit=unit))
    audit = result.audit_summary or {}
    share = clean_cell(audit.get("share_of_optimum"))
    audit_demand = clean_cell(audit.get("audit_demand"))
    optimum_demand = clean_cell(audit.get("optimum_demand"))
    if all(isinstance(v, int | float) for v in (share, audit_demand, optimum_demand)):
        texts.append(t("doc.exec_audit", lang).format(
            villages=", ".join(str(v) for v in audit.get("audit_villages") or ()) or "–",
            share=format_percent(share, lang), audit=num(audit_demand),
            optimum=num(optimum_demand), unit=unit))
    choice = result.summary.get("model_choice")
    if isinstance(choice, dict) and choice.get("why"):
        texts.append(t("doc.exec_model", lang).format(
            chain=choice["chain"], why=in_language(str(choice["why"]), lang)))
    radius = _radius_paragraph(result, lang)
    if radius:
        texts.append(radius)
    if result.provenance.demand_basis != "population":
        texts.append(t("report.demand_note", lang))
    return texts


def _radius_paragraph(result: PlanResult, lang: str) -> str:
    """The flat-ground coverage radius under the stated margins and its range ("" for a
    profile model, which has no flat-ground radius)."""
    s = link_budget_summary(result.scenario)
    cases = s["radius_cases_km"]
    if s["coverage_radius_flat_km"] is None:
        return ""

    def km(value: float | None) -> str:
        # A base model is evaluated no closer than its minimum distance (Hata: 1 km): a
        # radius of 0 means the margins are not met even there.
        if value is None:
            return "–"
        return "< 1" if value == 0 else format_number(value, lang, 2)

    return t("doc.exec_radius", lang).format(
        radius=km(s["coverage_radius_flat_km"]),
        probability=format_percent(s["location_probability"], lang, 0),
        margins=format_number(s["margins_db"], lang, 2), antenna=s["antenna"],
        uplink=t("doc.uplink_limited" if s["uplink_limited"] else "doc.uplink_not_limiting",
                 lang),
        median=km(cases["median_outdoor"]), p90_outdoor=km(cases["p90_outdoor"]),
        p90_indoor=km(cases["p90_indoor"]))


def _cost_table(result: PlanResult, ranking: pd.DataFrame, cells: _Cells) -> _Table:
    """Cost parts per site (a part the scenario does not cost reads "not costed", not Rp 0),
    then the totals, budget and remainder."""
    lang = cells.lang
    shown = with_not_costed(ranking, result.scenario.costs, lang)
    table = cells.table(shown, _COSTS, css="costs")
    spent = float(ranking["cost_total_idr"].astype(float).sum())
    budget = float(result.scenario.budget.total_idr)
    words = t("cost.not_costed", lang)
    totals = [words if len(shown) and (shown[c] == words).all()
              else cells.text(c, ranking[c].astype(float).sum())[0] for c in _COSTS[2:]]
    blank = [""] * (len(_COSTS) - 2)
    total_at = _COSTS.index("cost_total_idr") - 2
    budget_row, remaining_row = list(blank), list(blank)
    budget_row[total_at] = cells.text("cost_total_idr", budget)[0]
    remaining_row[total_at] = cells.text("cost_total_idr", budget - spent)[0]
    table.foot.extend([
        (t("report.total", lang), [*totals[:-1], ""]),
        (t("report.budget", lang), budget_row),
        (t("report.remaining", lang), remaining_row),
    ])
    return table


def _backhaul_table(ranking: pd.DataFrame, cells: _Cells) -> _Table | None:
    """The ranking's per-site backhaul columns (``backhaul_*``), when any holds a value."""
    extra = [c for c in ranking.columns if str(c).startswith("backhaul_")]
    if not len(ranking) or not extra:
        return None
    if "backhaul_technology" in ranking:  # empty when the backhaul stage did not run
        ran = (ranking["backhaul_technology"].fillna("").astype(str) != "").any()
    else:
        ran = any(ranking[c].notna().any() for c in extra)
    if not ran:
        return None
    return cells.table(ranking, ["rank", "site_id", "village", *extra, "cost_backhaul_idr"],
                       css="backhaul")


def _links_table(result: PlanResult, cells: _Cells) -> _Table | None:
    links = result.links
    if links is None or not len(links):
        return None
    require_columns(links, BACKHAUL_COLUMNS, "links")
    return cells.table(links, _LINKS, css="links")


def _audit_table(result: PlanResult, cells: _Cells) -> _Table | None:
    audit = result.audit
    if audit is None:
        return None
    require_columns(audit, AUDIT_COLUMNS, "audit")
    return cells.table(audit, _AUDIT, css="audit")


def _fact_text(key: str, value: Any, cells: _Cells) -> str:
    """One audit figure as text (lists joined, rupiah and shares formatted)."""
    value = clean_cell(value)
    lang = cells.lang
    if isinstance(value, list | tuple):
        return "; ".join(_fact_text(key, v, cells) for v in value) or "–"
    if isinstance(value, dict):
        if "site_id" in value:
            where = value.get("village")
            return f"{value['site_id']} ({where})" if where else str(value["site_id"])
        return ", ".join(f"{k}: {_fact_text(str(k), v, cells)}" for k, v in value.items())
    if isinstance(value, bool):
        return t("popup.yes" if value else "popup.no", lang)
    if key == "audit_source":
        return " + ".join(term_label(part, lang) for part in str(value).split("+"))
    if isinstance(value, int | float) and key.endswith("_idr"):
        return format_idr(value, lang)
    if isinstance(value, int | float) and (key.startswith("share") or key.endswith("gap")):
        return format_percent(value, lang, 1 if key.startswith("share") else 2)
    return cells.text(key, value)[0]


def _audit_facts(result: PlanResult, cells: _Cells) -> list[tuple[str, str]]:
    summary = result.audit_summary or {}
    return [(t(f"audit.{key}", cells.lang) if f"audit.{key}" in TEXT else key,
             _fact_text(key, value, cells))
            for key, value in summary.items() if key not in AUDIT_FIGURES_SHOWN_ELSEWHERE]


def _before_note(result: PlanResult, lang: str, basis: str) -> str:
    """The statement on today's coverage when it rests on *basis* (else empty)."""
    note = result.summary.get("before_state_note")
    if not note or result.summary.get("before_state") != basis:
        return ""
    return in_language(str(note), lang)


def _evidence_table(result: PlanResult, cells: _Cells) -> _Table | None:
    """The villages a signal report speaks of, with the model's status beside the report's."""
    villages = result.villages
    if "status_source" not in villages:
        return None
    shown = villages[(villages["status_source"].astype(str) != "model")
                     | villages["conflict"].astype(bool)]
    if not len(shown):
        return None
    shown = shown.sort_values(["district", "name"], key=lambda s: s.astype(str))
    return cells.table(shown, _EVIDENCE, css="evidence")


def _lifted_table(result: PlanResult, cells: _Cells) -> _Table | None:
    villages = result.villages
    lifted = villages[(villages["status_before"].astype(str) == "blank")
                      & (villages["status_after"].astype(str) != "blank")]
    if not len(lifted):
        return None
    lifted = lifted.sort_values(["district", "name"], key=lambda s: s.astype(str))
    return cells.table(lifted, _LIFTED, css="lifted")


def _why_not_table(result: PlanResult, cells: _Cells) -> _Table | None:
    """The villages still blank after the plan, with why they were left out."""
    villages = result.villages
    if "why_not_reason" not in villages:
        return None
    still = villages[villages["status_after"].astype(str) == "blank"]
    if not len(still):
        return None
    still = still.sort_values(["district", "name"], key=lambda s: s.astype(str))
    return cells.table(still, WHY_NOT_TABLE, css="why-not")


def population_rules_text(rules: object, lang: str) -> str:
    """How many villages and people each placement rule took, in *lang*.

    Examples
    --------
    >>> population_rules_text({"centroid": {"villages": 2, "people": 1500.0}}, "en")
    'village centre point: 2 villages, 1,500 people'
    """
    if not isinstance(rules, dict) or not rules:
        return ""
    return "; ".join(
        f"{t(f'rule.{rule}', lang)}: " + t("rule.summary", lang).format(
            villages=format_number(int(v["villages"]), lang),
            people=format_number(round(float(v["people"])), lang))
        for rule, v in rules.items())


def _assumptions(result: PlanResult, lang: str) -> list[tuple[str, str]]:
    scenario, prov = result.scenario, result.provenance
    basis = prov.demand_basis
    cov = scenario.coverage
    note = result.summary.get("demand_basis_note")
    rows = [
        (t("report.model_chain", lang),
         stated_model_chain(scenario, result.summary, prov.model_chain, lang)),
        (t("sum.threshold_rsrp_dbm", lang),
         format_number(scenario.radio.threshold_rsrp_dbm, lang, 1)),
        (t("report.link_budget", lang), link_budget_text(scenario, lang)),
        (t("doc.blank_below", lang), format_percent(cov.blank_below, lang, 0)),
        (t("doc.covered_at_least", lang), format_percent(cov.covered_at_least, lang, 0)),
        (t("report.budget", lang), format_idr(scenario.budget.total_idr, lang)),
        *((t(_COST_LABELS[key], lang), format_idr(value, lang))
          for key, value in scenario.to_dict()["costs"].items() if key in _COST_LABELS),
        (t("report.solver", lang), prov.solver),
        (t("report.demand_basis", lang),
         t(f"basis.{basis}", lang) if f"basis.{basis}" in TEXT else basis),
    ]
    if note:
        rows.append((t("sum.demand_basis_note", lang), in_language(str(note), lang)))
    if rules := population_rules_text(result.summary.get("population_rules"), lang):
        rows.append((t("sum.population_rules", lang), rules))
    rows += siting_assumptions(result.summary, lang)
    for key in ("candidates_total", "existing_towers", "crs"):
        value = clean_cell(result.summary.get(key))
        if value is not None:
            rows.append((t(f"sum.{key}", lang),
                         format_number(value, lang) if isinstance(value, int | float)
                         else str(value)))
    rows.append((t("report.synthetic", lang), t("popup.yes" if prov.synthetic else "popup.no",
                                                lang)))
    return rows


def _scenario_sections(result: PlanResult, lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The scenario's values grouped by TOML section, formatted in *lang*."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for name, value in flatten_settings(result.scenario.to_shared_dict()):
        section, _, key = name.partition(".")
        sections.setdefault(section, []).append((key, _setting_text(key, value, lang)))
    return list(sections.items())


_Line = tuple[str, str, str]  # kind ("section", "item", "wide" or "empty"), key, value
_WIDE_CHARACTERS = 36  # longer values get a row of their own


def _two_columns(sections: list[tuple[str, list[tuple[str, str]]]]) -> list[tuple[_Line, ...]]:
    """Rows of the scenario table: a heading row per section, then its items two by two.

    Items read left to right, then down, so a table broken across pages reads in order; a
    long value takes a whole row where it comes (ahead of a short item still unpaired).
    """
    empty: _Line = ("empty", "", "")
    rows: list[tuple[_Line, ...]] = []
    for section, items in sections:
        rows.append((("section", section, ""),))
        pending: _Line | None = None
        for key, value in items:
            if len(value) > _WIDE_CHARACTERS:
                rows.append((("wide", key, value),))
                continue
            if pending is None:
                pending = ("item", key, value)
            else:
                rows.append((pending, ("item", key, value)))
                pending = None
        if pending is not None:
            rows.append((pending, empty))
    return rows


def _setting_text(key: str, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return t("popup.yes" if value else "popup.no", lang)
    if isinstance(value, int) and (key == "seed" or key.endswith("year")):
        return str(value)
    if isinstance(value, int | float):
        if key.endswith("_idr") or "_idr_" in key:
            return format_idr(value, lang)
        decimals = 0 if float(value).is_integer() else min(4, _decimals_of(float(value)))
        return format_number(value, lang, decimals)
    return str(value) if value not in ("", None) else "–"


def _decimals_of(value: float) -> int:
    """Decimals needed to show *value* (at most 4), e.g. 0.1 → 1, 1.3333 → 4."""
    for places in range(1, 4):
        if math.isclose(value, round(value, places), rel_tol=0, abs_tol=1e-9):
            return places
    return 4

