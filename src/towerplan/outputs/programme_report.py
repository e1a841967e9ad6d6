"""What the outputs show of a multi-year programme (:class:`ProgrammeOutcome`).

One place formats the programme for every output, so the workbook, the report, the map and
the KML state the same figures in the same words:

* the one-page **"Ringkasan untuk DPRD"** (limitations and notes first, then the totals per
  year: towers, people newly served, villages lifted, capex, opex, cost per person and the
  channel split; then the optimality gap and the greedy comparison in plain words);
* the per-year, per-channel, tower, lifted-village and audit tables of the report;
* the **Gantt-like chart** as inline SVG: one row per tower, its build year as a box coloured
  by channel, its years in service as a thin bar; every bar carries ``data-year`` and
  ``data-site`` and a ``<title>`` read by screen readers;
* the rows of a programme tower's map popup and KML description.

Every text from data (village names, site ids, channel labels, notes) is escaped where it
becomes markup: the report's template autoescapes, the SVG is built with :func:`html.escape`.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    VILLAGE_STATUS_COLUMNS,
    channel_towers,
    lifted_villages,
    programme_totals,
    year_totals,
)
from towerplan.analysis.programme_plan import audit_case_label
from towerplan.analysis.programme_why_not import PROGRAMME_WHY_NOT_COLUMNS
from towerplan.i18n import TEXT, format_idr, format_number, format_percent, in_language, t
from towerplan.io.tables import require_columns
from towerplan.outputs.report_table import ReportTable as _Table

if TYPE_CHECKING:
    import pandas as pd

    from towerplan.analysis.programme_outcome import ProgrammeOutcome
    from towerplan.results import PlanResult

__all__ = [
    "CHANNEL_PALETTE",
    "TOWER_POPUP_ROWS",
    "channel_colors",
    "check_programme",
    "dprd_rows",
    "gantt_svg",
    "money_text",
    "programme_context",
    "programme_label",
    "programme_value",
    "signal_label",
    "tower_popup",
    "why_not_popup",
]

#: Colours of the funding channels, in the order of ``ProgrammeOutcome.channels``
#: (colour-blind safe, from the Okabe-Ito palette).
CHANNEL_PALETTE: tuple[str, ...] = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
                                    "#d55e00", "#f0e442", "#000000")
#: Rows of a programme tower's popup (map) and description (KML): column, how it is shown.
TOWER_POPUP_ROWS: tuple[tuple[str, str], ...] = (
    ("tower_type", "text"), ("channel", "channel"), ("village_name", "text"),
    ("district", "text"), ("villages_lifted", "text"), ("people_new", "people"),
    ("capex_idr", "idr"), ("opex_idr_per_year", "idr"), ("locked", "yes/no"))

_MISSING = "–"


def check_programme(outcome: ProgrammeOutcome) -> None:
    """Raise :class:`~towerplan.errors.OutputError` if a programme table lacks a column."""
    require_columns(outcome.builds, BUILD_COLUMNS, "programme builds")
    require_columns(outcome.by_year_channel, BY_YEAR_CHANNEL_COLUMNS, "programme by year")
    require_columns(outcome.village_status, VILLAGE_STATUS_COLUMNS, "programme villages")


def programme_label(column: str, lang: str) -> str:
    """The header of a programme column (``prog.col.<column>``; the column name without)."""
    key = f"prog.col.{column}"
    return t(key, lang) if key in TEXT else column


def signal_label(signal: object, lang: str) -> str:
    """The Podes signal class in *lang* (``"kuat"`` -> ``"strong (kuat)"`` in English)."""
    key = f"prog.signal.{signal}"
    return t(key, lang) if key in TEXT else ("" if signal is None else str(signal))


def channel_colors(outcome: ProgrammeOutcome) -> dict[str, str]:
    """The colour of each channel (:data:`CHANNEL_PALETTE`, in channel order)."""
    return {c: CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i, c in enumerate(outcome.channels)}


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def money_text(value: float, lang: str) -> str:
    """A rupiah amount rounded for reading: billions with 2 decimals, millions with 0 to 2.

    Examples
    --------
    >>> money_text(1_669_691.47, "id"), money_text(4.6e9, "en"), money_text(924_642, "id")
    ('Rp 1,7 juta', 'Rp 4.60 billion', 'Rp 0,92 juta')
    >>> money_text(300_000_000, "id")
    'Rp 300 juta'
    >>> money_text(25_000, "id")
    'Rp 25.000'
    """
    if abs(value) >= 1e9:
        return f"Rp {format_number(value / 1e9, lang, 2)} {t('prog.billion', lang)}"
    if abs(value) >= 1e5:
        decimals = 0 if abs(value) >= 1e8 else (1 if abs(value) >= 1e6 else 2)
        return f"Rp {format_number(value / 1e6, lang, decimals)} {t('prog.million', lang)}"
    return format_idr(value, lang)


def programme_value(column: str, value: Any, outcome: ProgrammeOutcome, lang: str, *,
                    short_money: bool = False) -> str:
    """One programme value as plain text in *lang* (``–`` for a missing number); rupiah
    rounded to billions/millions with *short_money* (:func:`money_text`)."""
    if column == "channel":
        return outcome.channel_label(str(value)) if str(value) else _MISSING
    if column == "extra_channel":
        return "; ".join(outcome.channel_label(c) for c in str(value).split("; ") if c) \
            or _MISSING
    if column == "reason":
        key = f"prog.why_not.{value}"
        return t(key, lang) if key in TEXT else str(value)
    if column == "case":
        return audit_case_label(str(value), lang)
    if column == "signal" or column == "signal_before":
        return signal_label(value, lang)
    if column in ("locked", "lifted"):
        return t("popup.yes" if bool(value) else "popup.no", lang)
    if isinstance(value, str):
        return value
    number = _finite(value)
    if column == "year":
        return str(int(number)) if number is not None else _MISSING
    if number is None:
        return _MISSING
    if "_idr" in column:
        exact = not short_money or column == "cost_per_person_idr"  # small: say it exactly
        return format_idr(number, lang) if exact else money_text(number, lang)
    if column == "served_share":
        return format_percent(number, lang, 0)
    if column == "share_pct":
        return format_number(number, lang, 1)
    if column in ("lon", "lat"):
        return format_number(number, lang, 5)
    return format_number(number, lang, 0)


def tower_popup(row: Any, outcome: ProgrammeOutcome, lang: str
                ) -> tuple[str, list[tuple[str, str]]]:
    """Title and ``(label, value)`` rows of a programme tower, plain text (escape to show)."""
    title = f"{t('prog.popup_title', lang).format(year=int(row.year))} — {row.site_id}"
    rows = []
    for column, how in TOWER_POPUP_ROWS:
        value = getattr(row, column)
        if how == "people":
            text = f"{programme_value(column, value, outcome, lang)} {t('unit.people', lang)}"
        else:
            text = programme_value(column, value, outcome, lang)
        rows.append((programme_label(column, lang), text))
    return title, rows


# --------------------------------------------------------------------------- report tables


def _table(frame: pd.DataFrame, columns: Sequence[str], outcome: ProgrammeOutcome, lang: str,
           css: str, headers: dict[str, str] | None = None) -> _Table:
    """Format *columns* of *frame*; numbers (but the year) are right-aligned."""
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    rows = [[programme_value(c, v, outcome, lang, short_money=True)
             for c, v in zip(columns, values, strict=True)]
            for values in frame[list(columns)].itertuples(index=False, name=None)]
    labels = [(headers or {}).get(c) or programme_label(c, lang) for c in columns]
    numeric = [c != "year" and is_numeric_dtype(frame[c]) and not is_bool_dtype(frame[c])
               for c in columns]
    return _Table(labels, rows, numeric, css=css)


def _channel_split(outcome: ProgrammeOutcome, towers: pd.Series) -> str:
    parts = [f"{outcome.channel_label(c)}: {int(n)}" for c, n in towers.items() if int(n) > 0]
    return "; ".join(parts) or _MISSING


def _year_table(outcome: ProgrammeOutcome, lang: str) -> _Table:
    totals = year_totals(outcome)
    columns = ("year", "towers", "people_new", "villages_lifted", "capex_idr",
               "opex_idr_per_year", "cost_per_person_idr")
    table = _table(totals, columns, outcome, lang, "programme-years")
    overall = programme_totals(outcome)
    table.foot.append((t("prog.total", lang), [
        programme_value(c, overall[c], outcome, lang, short_money=True) for c in columns[1:]]))
    return table


def _split_table(outcome: ProgrammeOutcome, lang: str) -> _Table:
    """Towers per funding channel (rows) and year (columns), with the total per channel."""
    split = channel_towers(outcome)
    rows = [[outcome.channel_label(str(c)), *(str(int(split.loc[y, c])) for y in split.index),
             str(int(split[c].sum()))] for c in split.columns]
    headers = [programme_label("channel_split", lang), *(str(y) for y in split.index),
               t("prog.total", lang)]
    return _Table(headers, rows, [False, *([True] * (len(headers) - 1))], css="programme-split")


_CHANNEL_RESULTS = ("year", "channel", "towers", "people_new", "villages_lifted", "capex_idr",
                    "opex_idr_per_year", "cost_per_person_idr")
_CHANNEL_MONEY = ("year", "channel", "budget_idr", "spent_idr", "carried_idr")


def _channel_table(outcome: ProgrammeOutcome, lang: str, columns: Sequence[str],
                   css: str) -> _Table:
    """*columns* of ``by_year_channel`` by year, channels in their declared order."""
    order = {c: i for i, c in enumerate(outcome.channels)}
    frame = outcome.by_year_channel.sort_values(["year", "channel"], key=lambda s: (
        s.map(order) if s.name == "channel" else s))
    return _table(frame, columns, outcome, lang, css)


def _towers_table(outcome: ProgrammeOutcome, lang: str) -> _Table | None:
    if not len(outcome.builds):
        return None
    columns = ("year", "channel", "site_id", "tower_type", "village_name", "villages_lifted",
               "people_new", "capex_idr", "locked")
    frame = _sorted_builds(outcome)
    return _table(frame, columns, outcome, lang, "programme-towers",
                  {"villages_lifted": programme_label("villages_lifted_names", lang)})


def _sorted_builds(outcome: ProgrammeOutcome) -> pd.DataFrame:
    order = {c: i for i, c in enumerate(outcome.channels)}
    return (outcome.builds.assign(_c=outcome.builds["channel"].map(order))
            .sort_values(["year", "_c", "site_id"]).drop(columns="_c"))


def _lifted_table(outcome: ProgrammeOutcome, lang: str) -> _Table | None:
    lifted = lifted_villages(outcome)
    if not len(lifted):
        return None
    columns = ("year", "code", "name", "district", "population", "signal_before", "signal",
               "technology")
    return _table(lifted, columns, outcome, lang, "programme-lifted")


#: Columns of the report's "why not" table of the programme.
_WHY_NOT = ("name", "district", "site_id", "tower_type", "channel", "cost_per_person_idr",
            "year", "extra_budget_idr", "extra_channel", "reason")


def _why_not_table(outcome: ProgrammeOutcome, lang: str) -> _Table | None:
    frame = outcome.why_not
    if frame is None or not len(frame):
        return None
    require_columns(frame, PROGRAMME_WHY_NOT_COLUMNS, "programme why not")
    return _table(frame, _WHY_NOT, outcome, lang, "programme-why-not",
                  {"site_id": programme_label("why_site", lang),
                   "year": programme_label("why_year", lang)})


def why_not_popup(outcome: ProgrammeOutcome, lang: str) -> dict[str, str]:
    """Per village code still blank at the end of the programme: one line (plain text) of
    its cheapest option, cost per person, earliest year and extra budget, for the map."""
    frame = outcome.why_not
    if frame is None or not len(frame):
        return {}
    out = {}
    for row in frame.itertuples(index=False):
        if not str(row.site_id):
            out[str(row.code)] = programme_value("reason", row.reason, outcome, lang)
            continue
        extra = programme_value("extra_budget_idr", row.extra_budget_idr, outcome, lang,
                                short_money=True)
        if str(row.extra_channel):
            where = programme_value("extra_channel", row.extra_channel, outcome, lang)
            extra = f"{extra} ({where})"
        text = t("prog.why_not.popup_text", lang).format(
            site=row.site_id, type=row.tower_type,
            channel=programme_value("channel", row.channel, outcome, lang),
            per_person=programme_value("cost_per_person_idr", row.cost_per_person_idr,
                                       outcome, lang),
            year=programme_value("year", row.year, outcome, lang), extra=extra)
        out[str(row.code)] = f"{text} — {programme_value('reason', row.reason, outcome, lang)}"
    return out


def _audit_table(outcome: ProgrammeOutcome, lang: str) -> _Table | None:
    audit = outcome.audit
    if audit is None or not len(audit):
        return None
    columns = ("case", "people_years_real", "people_years_optimal", "share_pct")
    require_columns(audit, columns, "programme audit")
    return _table(audit, columns, outcome, lang, "programme-audit")


# --------------------------------------------------------------------------- DPRD page


def _objective_text(outcome: ProgrammeOutcome, lang: str, value: float) -> str:
    """*value* of the programme's objective with its name, e.g. "7.523 orang-tahun ..."."""
    key = f"prog.objective.{outcome.objective}"
    name = t(key, lang) if key in TEXT else outcome.objective
    return f"{format_number(value, lang, 0)} {name}"


def _quality(outcome: ProgrammeOutcome, lang: str) -> list[str]:
    """The optimality gap and the greedy comparison in plain words."""
    texts = []
    gap = _finite(outcome.gap)
    objective = _objective_text(outcome, lang, outcome.objective_value)
    runtime = format_number(outcome.runtime_s, lang, 1)
    if gap is None:
        texts.append(t("prog.gap_unknown", lang).format(method=outcome.method))
    elif gap <= 1e-9:
        texts.append(t("prog.gap_proven", lang).format(objective=objective))
    else:
        texts.append(t("prog.gap_open", lang).format(
            runtime=runtime, gap=format_percent(gap, lang, 1), objective=objective))
    regret = _finite(outcome.greedy_regret_pct)
    if regret is not None and regret > 0.05:
        texts.append(t("prog.greedy_worse", lang).format(
            greedy=_objective_text(outcome, lang, outcome.greedy_value),
            regret=f"{format_number(regret, lang, 1)} %"))
    elif regret is not None:
        texts.append(t("prog.greedy_same", lang))
    method = t("prog.method", lang).format(method=outcome.method, status=outcome.status,
                                           runtime=runtime)
    texts[-1] = f"{texts[-1]} {method}"
    return texts


def _notes(result: PlanResult, outcome: ProgrammeOutcome, lang: str) -> list[str]:
    """Limitations first: the programme's own notes, then how the figures are counted."""
    cov = result.scenario.coverage
    notes = [in_language(str(n), lang) for n in outcome.notes]
    notes.append(t("prog.partial_rule", lang).format(
        covered=format_percent(cov.covered_at_least, lang, 0)))
    notes.append(t("prog.cost_rule", lang).format(
        horizon=outcome.horizon_years, rate=format_percent(outcome.discount_rate, lang, 1)))
    notes.append(t("prog.carry_yes" if outcome.carry_over else "prog.carry_no", lang))
    notes.append(t("prog.money_note", lang))
    locked = int(outcome.builds["locked"].astype(bool).sum()) if len(outcome.builds) else 0
    if locked:
        notes.append(t("prog.locked_note", lang).format(locked=locked))
    return notes


def _headline(outcome: ProgrammeOutcome, lang: str) -> str:
    totals = programme_totals(outcome)
    if not outcome.years or totals["towers"] == 0:
        return t("prog.no_towers", lang)
    return t("prog.headline", lang).format(
        first=outcome.years[0], last=outcome.years[-1],
        towers=format_number(totals["towers"], lang),
        people=format_number(totals["people_new"], lang),
        lifted=format_number(totals["villages_lifted"], lang),
        capex=money_text(totals["capex_idr"], lang),
        per_person=programme_value("cost_per_person_idr", totals["cost_per_person_idr"],
                                   outcome, lang, short_money=True),
        opex=money_text(totals["opex_idr_per_year"], lang))


def dprd_rows(result: PlanResult, lang: str) -> list[tuple[str, list[tuple[Any, str]]]]:
    """The DPRD summary as spreadsheet rows: ``(kind, [(value, how), ...])``.

    *kind* is ``heading``, ``note``, ``text``, ``header``, ``row`` or ``total``; *how* is
    ``"idr"`` (rupiah), ``"int"`` (a count) or ``""`` (text). Notes come first, then the
    headline, the totals per year (exact rupiah) and the plain-words quality statements.
    """
    outcome = result.programme
    if outcome is None:
        return []
    rows: list[tuple[str, list[tuple[Any, str]]]] = [
        ("heading", [(t("prog.dprd_title", lang), "")]),
        ("header", [(t("prog.notes", lang), "")]),
        *(("note", [(f"• {text}", "")]) for text in _notes(result, outcome, lang)),
        ("text", [("", "")]),
        ("text", [(_headline(outcome, lang), "")]),
        ("text", [("", "")]),
    ]
    columns = ("year", "towers", "people_new", "villages_lifted", "capex_idr",
               "opex_idr_per_year", "cost_per_person_idr")
    how = {"year": "", "capex_idr": "idr", "opex_idr_per_year": "idr",
           "cost_per_person_idr": "idr"}
    totals = year_totals(outcome)
    split = channel_towers(outcome)
    rows.append(("header", [(programme_label(c, lang), "") for c in
                            (*columns, "channel_split")]))

    def cell(column: str, value: Any) -> tuple[Any, str]:
        number = _finite(value)
        if number is None:
            return _MISSING, ""
        return (int(number) if column == "year" else number), how.get(column, "int")

    for values in totals[list(columns)].itertuples(index=False, name=None):
        year = int(values[0])
        rows.append(("row", [cell(c, v) for c, v in zip(columns, values, strict=True)]
                     + [(_channel_split(outcome, split.loc[year]), "")]))
    overall = programme_totals(outcome)
    rows.append(("total", [(t("prog.total", lang), "")]
                 + [cell(c, overall[c]) for c in columns[1:]]
                 + [(_channel_split(outcome, split.sum()), "")]))
    rows.append(("text", [("", "")]))
    rows.append(("header", [(t("prog.quality", lang), "")]))
    rows.extend(("text", [(text, "")]) for text in _quality(outcome, lang))
    return rows


def programme_context(result: PlanResult, lang: str) -> dict[str, Any] | None:
    """What the report template shows of ``result.programme`` (None without a programme).

    Returns
    -------
    dict or None
        ``notes`` (limitations first), ``headline``, ``years`` (per-year totals table with a
        total row), ``split`` (towers per channel and year), ``quality`` (gap and greedy in
        plain words), ``channels`` (results per year and channel), ``budgets`` (budget,
        spent, carried over), ``towers``, ``lifted``, ``audit`` and ``why_not`` tables
        (None when empty), ``gantt`` (inline SVG markup, escaped) and ``single_intro`` (what
        the single-budget comparison after the programme is).
    """
    from markupsafe import Markup

    outcome = result.programme
    if outcome is None:
        return None
    check_programme(outcome)
    return {
        "notes": _notes(result, outcome, lang),
        "headline": _headline(outcome, lang),
        "years": _year_table(outcome, lang),
        "split": _split_table(outcome, lang),
        "quality": _quality(outcome, lang),
        "channels": _channel_table(outcome, lang, _CHANNEL_RESULTS, "programme-channels"),
        "budgets": _channel_table(outcome, lang, _CHANNEL_MONEY, "programme-budgets"),
        "towers": _towers_table(outcome, lang),
        "lifted": _lifted_table(outcome, lang),
        "audit": _audit_table(outcome, lang),
        "why_not": _why_not_table(outcome, lang),
        "gantt": Markup(gantt_svg(outcome, lang)),  # noqa: S704 - built escaped below
        "single_intro": t("prog.single.intro", lang).format(budget=money_text(
            float(result.summary.get("budget_idr") or result.scenario.budget.total_idr),
            lang)),
    }


# --------------------------------------------------------------------------- Gantt chart

_ROW_PX, _HEAD_PX, _LEGEND_PX, _LABEL_PX, _WIDTH_PX = 22, 26, 30, 300, 720
_LABEL_CHARACTERS = 46


def _short(text: str, limit: int = _LABEL_CHARACTERS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def gantt_svg(outcome: ProgrammeOutcome, lang: str) -> str:
    """The programme's Gantt-like chart as an SVG element (escaped markup).

    One row per tower in build order (year, channel, site): its label (site and village),
    a box in its build year coloured by its channel (``class="bar"``, ``data-year``,
    ``data-site``, ``data-channel``) and a thin bar over the later programme years
    (``class="service"``). A legend names the channels. The element has ``role="img"``, a
    ``<title>`` and a ``<desc>``; each box has its own ``<title>``.

    Parameters
    ----------
    outcome : ProgrammeOutcome
        The programme.
    lang : {"id", "en"}
        Language of the labels and numbers.

    Returns
    -------
    str
        ``<svg ...>...</svg>``; every text from data passed through :func:`html.escape`.
    """
    esc: Callable[[object], str] = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    builds = _sorted_builds(outcome)
    years = list(outcome.years)
    colors = channel_colors(outcome)
    n_rows = max(len(builds), 1)
    height = _HEAD_PX + n_rows * _ROW_PX + _LEGEND_PX + 8
    col_px = (_WIDTH_PX - _LABEL_PX) / max(len(years), 1)
    title, desc = t("prog.gantt", lang), t("prog.gantt_desc", lang)
    parts = [
        f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {_WIDTH_PX} {height}" width="100%" '
        f'aria-labelledby="gantt-title gantt-desc" font-family="DejaVu Sans, sans-serif">',
        f'<title id="gantt-title">{esc(title)}</title><desc id="gantt-desc">{esc(desc)}</desc>',
    ]
    for i, year in enumerate(years):
        x = _LABEL_PX + i * col_px
        fill = "#f3f6fb" if i % 2 == 0 else "#ffffff"
        parts.append(f'<rect x="{x:.1f}" y="0" width="{col_px:.1f}" '
                     f'height="{_HEAD_PX + n_rows * _ROW_PX}" fill="{fill}"/>')
        parts.append(f'<text x="{x + col_px / 2:.1f}" y="17" text-anchor="middle" '
                     f'font-size="12" font-weight="bold" fill="#1b1b1b">{year}</text>')
    position = {year: i for i, year in enumerate(years)}
    people_word = t("unit.people", lang)
    for row_index, row in enumerate(builds.itertuples(index=False)):
        y = _HEAD_PX + row_index * _ROW_PX
        label = f"{row.site_id} — {row.village_name}" if str(row.village_name) else row.site_id
        if bool(row.locked):
            label = f"{label} ✓"
        parts.append(f'<text x="4" y="{y + 15}" font-size="10.5" fill="#1b1b1b">'
                     f"{esc(_short(str(label)))}</text>")
        parts.append(f'<line x1="0" x2="{_WIDTH_PX}" y1="{y + _ROW_PX}" y2="{y + _ROW_PX}" '
                     'stroke="#e3e3e3" stroke-width="0.6"/>')
        year = int(row.year)
        if year not in position:
            continue
        color = colors.get(str(row.channel), "#777777")
        x = _LABEL_PX + position[year] * col_px
        later = len(years) - position[year] - 1
        if later:
            parts.append(f'<rect class="service" x="{x + col_px:.1f}" y="{y + 9}" '
                         f'width="{later * col_px - 4:.1f}" height="4" fill="{color}" '
                         f'fill-opacity="0.45"/>')
        bar_title = t("prog.gantt_bar", lang).format(
            site=row.site_id, year=year, channel=outcome.channel_label(str(row.channel)),
            type=row.tower_type,
            people=f"{format_number(_finite(row.people_new), lang)}").rstrip()
        parts.append(
            f'<rect class="bar" data-year="{year}" data-site="{esc(row.site_id)}" '
            f'data-channel="{esc(row.channel)}" x="{x + 3:.1f}" y="{y + 3}" '
            f'width="{col_px - 6:.1f}" height="{_ROW_PX - 6}" rx="3" fill="{color}">'
            f"<title>{esc(bar_title)}</title></rect>")
        parts.append(f'<text x="{x + col_px / 2:.1f}" y="{y + 15}" text-anchor="middle" '
                     f'font-size="9.5" fill="#ffffff" aria-hidden="true">'
                     f"{esc(format_number(_finite(row.people_new), lang))} {esc(people_word)}"
                     "</text>")
    if not len(builds):
        parts.append(f'<text x="4" y="{_HEAD_PX + 15}" font-size="10.5" font-style="italic">'
                     f'{esc(t("prog.no_towers", lang))}</text>')
    parts.extend(_gantt_legend(outcome, colors, _HEAD_PX + n_rows * _ROW_PX + 10, lang, esc))
    parts.append("</svg>")
    return "".join(parts)


def _gantt_legend(outcome: ProgrammeOutcome, colors: dict[str, str], y: int, lang: str,
                  esc: Callable[[object], str]) -> list[str]:
    parts, x = [], 4.0
    for channel in outcome.channels:
        label = _short(outcome.channel_label(channel), 30)
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="14" height="12" rx="2" '
                     f'fill="{colors[channel]}"/>')
        parts.append(f'<text x="{x + 18:.1f}" y="{y + 10}" font-size="10">{esc(label)}</text>')
        x += 30 + 6.2 * len(label)
    parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="22" height="4" fill="#555" '
                 'fill-opacity="0.45"/>')
    service = t("prog.gantt_service", lang)
    parts.append(f'<text x="{x + 26:.1f}" y="{y + 10}" font-size="10">{esc(service)}</text>')
    if len(outcome.builds) and outcome.builds["locked"].astype(bool).any():
        x += 40 + 6.2 * len(service)
        parts.append(f'<text x="{x:.1f}" y="{y + 10}" font-size="10">'
                     f'{esc(t("prog.gantt_locked", lang))}</text>')
    return parts
