"""The programme dashboard (``dashboard.html``): one offline page for a Command Center screen.

The page is written from a JSON-able dict (the *dashboard data*, see
:func:`write_dashboard_page`) and holds, in this order: a header (title, region, period,
generation time, coverage target, language buttons), the **limitations** of the inputs, headline
counts, a Leaflet map of the villages' latest status and the tower sites' stage, three charts,
a table per kecamatan, a searchable table of villages, a table of sites and a footer with the
attribution and links to the data files beside the page (``data/*.csv``, ``data/*.geojson``,
``data/metadata.json``).

Nothing is fetched when the page is opened: Leaflet's JavaScript and CSS are inlined (from
:func:`towerplan.outputs.maps._leaflet_assets`), there is no tile layer, the charts are inline
SVG drawn by matplotlib with text as paths, and the page uses the system font. Every label is
written in Bahasa Indonesia and English; the language buttons switch the ``lang`` attribute of
``<html>`` and CSS shows the ``[data-lang]`` elements of that language, without a reload.

Village names and every other text field are data, not markup: they are escaped with
:func:`html.escape` (plus ``@`` and ``(``, so that data text can never look like a CSS
``@import`` or ``url(...)`` to the external-asset check), JSON inside ``<script>`` has ``<``,
``>`` and ``&`` escaped, and popups are built here and only inserted by the page's JavaScript.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import io
import logging
import math
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan._version import __version__
from towerplan.errors import InputDataError, ScenarioError
from towerplan.i18n import (
    SUPPORTED_LANGS,
    TEXT,
    check_lang,
    format_idr,
    format_number,
    status_label,
    target_text,
    term_label,
)
from towerplan.outputs.charts import _plain
from towerplan.outputs.maps import _leaflet_assets, _script_json, write_offline_page
from towerplan.outputs.styles import STATUS_COLORS, UNKNOWN_COLOR

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["CLASS_COLORS", "STAGE_COLORS", "write_dashboard_page"]

log = logging.getLogger(__name__)

#: Village status classes in display order, with their fill colours (shared with the map).
CLASS_COLORS: dict[str, str] = {"blank": STATUS_COLORS["blank"],
                                "semi_blank": STATUS_COLORS["partial"],
                                "served": STATUS_COLORS["covered"], "unknown": UNKNOWN_COLOR}
#: Site stages in the order of a site's life, with their marker colours.
STAGE_COLORS: dict[str, str] = {"proposed": "#ffffff", "budgeted": "#c6dbef",
                                "tendered": "#6baed6", "tender_failed": "#e7298a",
                                "built": "#2171b5", "on_air": "#ffd400", "cancelled": "#525252"}
#: Site stages counted in the headline cards (the others are named below them).
_CARD_STAGES = ("on_air", "built", "tendered", "budgeted", "proposed")
#: Files the portal export writes beside the page, with their label ids.
_DATA_FILES = (("villages.csv", "file.villages_csv"), ("villages.geojson", "file.villages_geo"),
               ("sites.csv", "file.sites_csv"), ("sites.geojson", "file.sites_geo"),
               ("status_reports.csv", "file.reports_csv"),
               ("status_over_time.csv", "file.over_time_csv"),
               ("programme.csv", "file.programme_csv"), ("metadata.json", "file.metadata"))
_REQUIRED = ("title", "region", "target", "generated_utc", "period", "attribution",
             "limitations", "population_basis", "headline", "by_kecamatan", "over_time",
             "progress", "villages", "sites")
_HEADLINE = ("villages", "blank", "semi_blank", "served", "unknown", "people_blank",
             "people_semi_blank", "sites")
#: Chart size, inches (the page scales the SVG to its box).
_CHART_IN = (6.0, 3.3)
#: Bars of a chart above which value labels are turned upright.
_LEVEL_LABELS_MAX = 12
_MONEY_COLORS = {"budget": "#bdbdbd", "budgeted": "#9ecae1", "committed": "#4292c6",
                 "spent": "#08519c"}
#: Decimals of longitude/latitude in the page (5 decimals ≈ 1 m).
_COORD_DECIMALS = 5



# --------------------------------------------------------------------------- public


def write_dashboard_page(data: dict[str, Any], path: str | Path, *, lang: str = "id",
                         refresh_min: float = 0.0) -> Path:
    """Write the offline programme dashboard page.

    Parameters
    ----------
    data : dict
        The dashboard data, JSON-able; every key is present: ``title``, ``region``,
        ``target`` (``"4g"`` or ``"signal"``), ``generated_utc`` (ISO time, UTC), ``period``
        (first and last period label), ``attribution`` and ``limitations`` (lists of text, a
        limitation being ``"Indonesian / English"``), ``population_basis`` (text, ``""`` when
        populations are exact), ``headline`` (village counts by status class, people in blank
        and semi-blank villages, sites by current stage), ``by_kecamatan`` (the same counts
        per kecamatan), ``over_time`` (counts at the end of each year), ``progress`` (per year
        and channel: ``budget_idr`` (None: no limit or not recorded), ``budgeted_idr``,
        ``committed_idr``, ``spent_idr``, rupiah, and site counts), ``villages`` and ``sites``
        (GeoJSON FeatureCollections, lon/lat; a site's geometry may be null). People counts may
        be None (unknown).
    path : str or Path
        Destination file, normally ``index.html`` beside the ``data/`` folder.
    lang : {"id", "en"}
        Language shown first (default Bahasa Indonesia); the page switches without a reload,
        and keeps the language chosen in its tab across reloads.
    refresh_min : float
        Reload the page every so many minutes (a Command Center screen showing a dashboard
        that is written again on a schedule); 0, the default, never.

    Returns
    -------
    Path
        The file written (atomically).

    Raises
    ------
    ScenarioError
        If *lang* is not supported.
    InputDataError
        If *data* lacks keys (all missing keys are named).
    OutputError
        If the file cannot be written or the page would load an external asset.
    """
    check_lang(lang)
    if not (math.isfinite(refresh_min) and refresh_min >= 0):
        msg = f"refresh every {refresh_min} minutes: give 0 (never) or a positive number"
        raise ScenarioError(msg)
    _check_data(data)
    path = write_offline_page(_render(data, lang, round(refresh_min * 60)), path,
                              what="dashboard")
    log.info("dashboard: %s (%d villages, %d sites, %.0f kB)", path,
             len(data["villages"]["features"]), len(data["sites"]["features"]),
             path.stat().st_size / 1024)
    return path


def _check_data(data: Mapping[str, Any]) -> None:
    """Raise :class:`InputDataError` naming every missing key of *data* at once."""
    missing = [key for key in _REQUIRED if key not in data]
    headline = data.get("headline")
    if isinstance(headline, Mapping):
        missing += [f"headline.{key}" for key in _HEADLINE if key not in headline]
    for key in ("villages", "sites"):
        if key in data and "features" not in (data[key] or {}):
            missing.append(f"{key}.features")
    if missing:
        msg = f"dashboard data lacks {', '.join(missing)}"
        raise InputDataError(msg, tuple(missing))


# --------------------------------------------------------------------------- text


def _esc(value: Any) -> str:
    """Escape data text for HTML; ``@`` and ``(`` too, so text never reads as CSS."""
    text = "" if value is None else str(value)
    return html.escape(text, quote=True).replace("@", "&#64;").replace("(", "&#40;")


def _text(key: str, lang: str) -> str:
    """Return label *key* of the page in *lang* (plain text)."""
    return TEXT["dash." + key][lang]


def _bi(texts: Callable[[str], str]) -> str:
    """Return a text in every language as markup.

    One ``[data-lang]`` span per language, or the bare (escaped) text when every language
    reads the same.
    """
    parts = {lang: texts(lang) for lang in SUPPORTED_LANGS}
    if len(set(parts.values())) == 1:
        return _esc(parts[SUPPORTED_LANGS[0]])
    return "".join(f'<span data-lang="{lang}">{_esc(text)}</span>' for lang, text in parts.items())


def _in_all(texts: Callable[..., str], *args: Any) -> str:
    """Return ``texts(*args, lang)`` in every language as markup (see :func:`_bi`)."""
    return _bi(lambda lang: texts(*args, lang))


def _label(key: str, **fields: Any) -> str:
    """Return label *key* in every language as markup, *fields* formatted in."""
    return _bi(lambda lang: _text(key, lang).format(**fields))


def _finite(value: Any) -> float | None:
    """Return *value* as a finite float, or None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _count(value: Any, lang: str) -> str:
    """Format a count or a number of people: rounded, separators of *lang*, "t/a"/"n/a"."""
    number = _finite(value)
    return _text("missing", lang) if number is None else format_number(number, lang, 0)


def _money(value_idr: Any, lang: str) -> str:
    """Format rupiah for reading: ``Rp 1,7 miliar`` (id), ``Rp 1.7 bn`` (en), "t/a"/"n/a".

    Billions and millions get one decimal; amounts below a million are written in full.
    """
    number = _finite(value_idr)
    if number is None:
        return _text("missing", lang)
    for scale, key in ((1e9, "billion"), (1e6, "million")):
        if abs(number) >= scale:
            return f"Rp {format_number(number / scale, lang, 1)} {_text(key, lang)}"
    return format_idr(number, lang)


def _stage(stage: Any, lang: str) -> str:
    key = f"stage.{stage}"
    return _text(key, lang) if "dash." + key in TEXT else str(stage or "")


def _signal(status: Any, cls: Any, lang: str) -> str:
    """Describe a latest status: the class, and the reported signal when it says more."""
    text = status_label(cls, lang)
    if status and status not in ("unknown", cls):
        text += f" ({term_label(status, lang)})"
    return text


def _class_of(props: Mapping[str, Any]) -> str:
    """Return the status class of a village (``"unknown"`` when missing or unknown)."""
    cls = str(props.get("class"))
    return cls if cls in CLASS_COLORS else "unknown"


def _or_dash(value: Any) -> str:
    return "–" if value is None or value == "" else str(value)


# --------------------------------------------------------------------------- header


def _generated(text: Any) -> str:
    try:
        when = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def _header_html(data: Mapping[str, Any]) -> str:
    period = [str(p) for p in data["period"] if p not in (None, "")]
    target = target_text(str(data["target"]))
    facts = (
        ("region", _esc(data["region"])),
        ("period", _esc(" – ".join(period) or "–")),
        ("generated", _esc(_generated(data["generated_utc"]))),
        ("target", _bi(target)),
        *((("as_of", _esc(data["as_of"])),) if data.get("as_of") else ()),
    )
    items = "".join(f"<div><dt>{_label(key)}</dt><dd>{value}</dd></div>"
                    for key, value in facts)
    buttons = "".join(
        f'<button type="button" data-set-lang="{lang}" lang="{lang}">{name}</button>'
        for lang, name in (("id", "Bahasa Indonesia"), ("en", "English")))
    return (f'<header class="tp-header"><div class="tp-titles"><p class="tp-kicker">'
            f'{_label("page")}</p><h1>{_esc(data["title"])}</h1></div>'
            f'<dl class="tp-facts">{items}</dl>'
            f'<div class="tp-lang" role="group" aria-label="{_esc(_text("lang_switch", "id"))}'
            f' / {_esc(_text("lang_switch", "en"))}">{buttons}</div></header>')


def _halves(text: str) -> str:
    """A bilingual ``"Indonesian / English"`` text as markup in each language; a text that
    is not split once by `` / `` is shown whole in both."""
    parts = text.split(" / ")
    if len(parts) != len(SUPPORTED_LANGS):
        return _esc(text)
    return _bi(lambda lang: parts[SUPPORTED_LANGS.index(lang)])


def _limitations_html(data: Mapping[str, Any]) -> str:
    items = [str(x) for x in data["limitations"] if str(x).strip()]
    body = ("<ul>" + "".join(f"<li>{_halves(x)}</li>" for x in items) + "</ul>" if items
            else f"<p>{_label('no_limitations')}</p>")
    return (f'<section id="tp-limitations" class="tp-limits" aria-labelledby="tp-lim-h">'
            f'<h2 id="tp-lim-h"><span aria-hidden="true">⚠</span> {_label("limitations")}</h2>'
            f"{body}</section>")


# --------------------------------------------------------------------------- headline


def _card(value: str, caption: str, css: str = "", color: str = "") -> str:
    swatch = f'<i class="tp-sw" style="background:{color}"></i>' if color else ""
    return (f'<div class="tp-card {css}"><span class="tp-num">{value}</span>'
            f'<span class="tp-cap">{swatch}{caption}</span></div>')


def _cards_html(data: Mapping[str, Any]) -> str:
    head = data["headline"]
    villages = "".join(
        _card(_in_all(_count, head[cls]), _in_all(status_label, cls),
              f"tp-{cls}", color)
        for cls, color in CLASS_COLORS.items())
    total = _bi(lambda lang: f"{_count(head['villages'], lang)} {_text('villages_total', lang)}")
    people = "".join(
        _card(_in_all(_count, head[key]),
              _label(key), "tp-people", CLASS_COLORS[cls])
        for key, cls in (("people_blank", "blank"), ("people_semi_blank", "semi_blank")))
    basis = str(data["population_basis"] or "")
    basis_html = (f'<p class="tp-note">{_label("population_basis")}: {_halves(basis)}</p>'
                  if basis else "")
    sites = head["sites"] or {}
    stages = "".join(
        _card(_in_all(_count, sites.get(stage, 0)), _in_all(_stage, stage),
              "tp-site", STAGE_COLORS[stage])
        for stage in _CARD_STAGES)
    others = _bi(lambda lang: _text("stage_others", lang).format(
        failed=_count(sites.get("tender_failed", 0), lang),
        cancelled=_count(sites.get("cancelled", 0), lang)))
    return (f'<section id="tp-headline" class="tp-cards">'
            f'<div class="tp-group"><h2>{_label("villages")}</h2><div class="tp-row">{villages}'
            f'</div><p class="tp-note">{total}</p></div>'
            f'<div class="tp-group"><h2>{_label("people")}</h2><div class="tp-row">{people}</div>'
            f"{basis_html}</div>"
            f'<div class="tp-group"><h2>{_label("sites")}</h2><div class="tp-row">{stages}</div>'
            f'<p class="tp-note">{others}</p></div></section>')


def _kecamatan_html(data: Mapping[str, Any]) -> str:
    """Build the table per kecamatan, with the headline as its total row.

    Columns: villages (all, by status class) and people in blank and semi-blank villages.
    """
    head = data["headline"]
    columns = (("villages", _label("total_short")),
               *((cls, _in_all(status_label, cls)) for cls in CLASS_COLORS),
               *((f"people_{cls}", _in_all(status_label, cls))
                 for cls in ("blank", "semi_blank")))
    groups = (f'<tr><td></td><th scope="colgroup" colspan="{1 + len(CLASS_COLORS)}" '
              f'class="tp-group-h">{_label("villages")}</th><th scope="colgroup" colspan="2" '
              f'class="tp-group-h">{_label("people")}</th></tr>')
    header = "".join(f'<th scope="col" class="tp-n">{label}</th>' for _, label in columns)

    def cells(row: Mapping[str, Any]) -> str:
        return "".join(f'<td class="tp-n">{_in_all(_count, row.get(k))}</td>'
                       for k, _ in columns)

    rows = "".join(f'<tr><th scope="row">{_esc(r.get("kecamatan"))}</th>{cells(r)}</tr>'
                   for r in data["by_kecamatan"])
    return (f'<section class="tp-box tp-area-kec" id="tp-kecamatan"><h2>{_label("by_kecamatan")}'
            f'</h2><div class="tp-scroll"><table class="tp-table"><thead>{groups}<tr>'
            f'<th scope="col">{_label("kecamatan")}</th>{header}</tr></thead><tbody>{rows}'
            f'</tbody><tfoot><tr><th scope="row">{_label("total")}</th>{cells(head)}</tr>'
            "</tfoot></table></div></section>")


# --------------------------------------------------------------------------- charts


_SVG_DROP = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->|<metadata>.*?</metadata>"
                       r"|<style[^>]*>.*?</style>|<defs>\s*</defs>", re.DOTALL)


def _svg(fig: Figure, prefix: str, label: str) -> str:
    """Return *fig* as SVG to inline in the page.

    Text is drawn as paths (no font is loaded); metadata, comments and the style sheet (which
    would style the whole page) are dropped; every id is prefixed with *prefix*, as several
    charts share one document; *label* names the image for screen readers.
    """
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": prefix}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _SVG_DROP.sub("", buffer.getvalue())
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', svg)
    svg = re.sub(r'(href=")#', rf"\1#{prefix}-", svg)
    svg = svg.replace("url(#", f"url(#{prefix}-")
    svg = re.sub(r'\s(?:width|height)="[\d.]+pt"', "", svg, count=2)
    attrs = f' role="img" aria-label="{_esc(label)}" class="tp-svg"'
    return svg.replace("<svg ", f"<svg{attrs} ", 1).strip()


def _figure() -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=_CHART_IN)
    fig.set_layout_engine("tight")
    return fig


def _style_axes(ax: Axes, lang: str, ylabel: str, *, integer: bool = False) -> None:
    """Y label, ticks with the separators of *lang* (whole numbers only if *integer*), grid."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_ylabel(ylabel, fontsize=10)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=integer))
    ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _p: format_number(v, lang, 0 if float(v).is_integer() else 1)))
    ax.tick_params(labelsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


_Series = tuple[str, str, list[float | None]]


def _grouped_bars(ax: Axes, labels: Sequence[str], series: Sequence[_Series],
                  text: Callable[[float | None], str]) -> None:
    """Draw grouped vertical bars, one group per label, with a value label on each bar.

    A missing value (None) has no bar; its label (*text* of None) stands at the foot.
    """
    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    top = max((v for *_, values in series for v in values if v is not None), default=0.0)
    upright = len(labels) * len(series) > _LEVEL_LABELS_MAX  # crowded: labels turned upright
    for k, (name, color, values) in enumerate(series):
        pos = x - 0.4 + width * (k + 0.5)
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(pos, heights, width * 0.92, color=color, label=name)
        ax.bar_label(bars, labels=[_plain(text(v)) for v in values], padding=2,
                     fontsize=7.5 if upright else 8.5, rotation=90 if upright else 0)
    ax.set_xticks(x, [_plain(s) for s in labels])
    ax.set_ylim(0, max(top, 1.0) * (1.32 if upright else 1.18))
    ax.legend(fontsize=9, frameon=False, loc="lower left", bbox_to_anchor=(0, 1.0),
              ncols=len(series), handlelength=1.2, columnspacing=1.0, borderaxespad=0.2)


def _status_chart(over_time: Sequence[Mapping[str, Any]], lang: str) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    years = [f"{r['year']}\n{_text('reports_n', lang).format(n=_count(r.get('reports'), lang))}"
             for r in over_time]
    _grouped_bars(ax, years, [
        (status_label(cls, lang), CLASS_COLORS[cls], [_finite(r.get(cls)) for r in over_time])
        for cls in ("blank", "semi_blank")], lambda v: _count(v, lang))
    _style_axes(ax, lang, _text("axis.villages", lang), integer=True)
    return fig


def _people_chart(over_time: Sequence[Mapping[str, Any]], lang: str) -> Figure:
    fig = _figure()
    ax = fig.add_subplot()
    years = [str(r["year"]) for r in over_time]
    _grouped_bars(ax, years, [
        (status_label(cls, lang), CLASS_COLORS[cls],
         [_finite(r.get(f"people_{cls}")) for r in over_time])
        for cls in ("blank", "semi_blank")], lambda v: _count(v, lang))
    _style_axes(ax, lang, _text("axis.people", lang))
    return fig


def _progress_chart(progress: Sequence[Mapping[str, Any]], lang: str) -> Figure:
    """Draw budget, budgeted, committed and spent per year and channel (billion rupiah).

    A budget of None (no limit, or not recorded) gets a "no limit" mark instead of a bar.
    """
    fig = _figure()
    ax = fig.add_subplot()
    labels = [f"{r['year']}\n{r['channel']}" for r in progress]
    series = [(_text(f"money.{key}", lang), color,
               [None if _finite(r.get(f"{key}_idr")) is None else float(r[f"{key}_idr"]) / 1e9
                for r in progress])
              for key, color in _MONEY_COLORS.items()]
    _grouped_bars(ax, labels, series,
                  lambda v: "" if v is None else format_number(v, lang, 1))
    width = 0.8 / len(series)
    for i, row in enumerate(progress):
        if _finite(row.get("budget_idr")) is None:
            ax.text(i - 0.4 + width / 2, 0, _plain(_text("no_limit", lang)), rotation=90,
                    ha="center", va="bottom", fontsize=8, color="#444444")
    _style_axes(ax, lang, _text("axis.money", lang))
    return fig


def _idle(row: Mapping[str, Any]) -> bool:
    """A year and channel without a budget limit, money or site: nothing to draw."""
    money = ("budgeted_idr", "committed_idr", "spent_idr")
    counts = ("proposed", "budgeted", "tenders", "tenders_failed", "built", "on_air")
    return (_finite(row.get("budget_idr")) is None
            and not any(_finite(row.get(k)) for k in money)
            and not any(row.get(k) for k in counts))


def _chart_box(area: str, key: str, draw: Callable[[str], Figure] | None,
               notes: str = "") -> str:
    """Build a chart box: caption in every language, one SVG per language, and a note."""
    body = ""
    if draw is not None:
        for lang in SUPPORTED_LANGS:
            svg = _svg(draw(lang), f"tp-{area}-{lang}", _text(key, lang))
            body += f'<div class="tp-chart" data-lang="{lang}">{svg}</div>'
    note = f'<p class="tp-note">{notes}</p>' if notes else ""
    return (f'<figure class="tp-box tp-area-{area}" id="tp-chart-{area}"><figcaption>'
            f"{_label(key)}</figcaption>{body}{note}</figure>")


def _charts_html(data: Mapping[str, Any]) -> str:
    over_time = list(data["over_time"])
    progress = sorted(data["progress"], key=lambda r: (r["year"], str(r["channel"])))
    no_data = _label("no_data")
    status = _chart_box("ca", "chart.status",
                        (lambda lang: _status_chart(over_time, lang)) if over_time else None,
                        "" if over_time else no_data)
    people_known = [r for r in over_time
                    if _finite(r.get("people_blank")) is not None
                    or _finite(r.get("people_semi_blank")) is not None]
    if not over_time:
        people = _chart_box("cb", "chart.people", None, no_data)
    elif not people_known:
        people = _chart_box("cb", "chart.people", None, _label("people_missing"))
    else:
        gaps = _label("people_gaps") if len(people_known) < len(over_time) else ""
        people = _chart_box("cb", "chart.people", lambda lang: _people_chart(over_time, lang),
                            gaps)
    idle = [r for r in progress if _idle(r)]
    progress = [r for r in progress if not _idle(r)]
    unlimited = [r for r in progress if _finite(r.get("budget_idr")) is None]
    note = (_bi(lambda lang: _text("no_limit_note", lang).format(items="; ".join(
        f"{r['year']} {r['channel']}" for r in unlimited))) if unlimited else "")
    if idle:
        note += " " + _bi(lambda lang: _text("idle_note", lang).format(items="; ".join(
            f"{r['year']} {r['channel']}" for r in idle)))
    money = _chart_box("cc", "chart.progress",
                       (lambda lang: _progress_chart(progress, lang)) if progress else None,
                       note if progress else no_data)
    return status + people + money


# --------------------------------------------------------------------------- map


def _rounded(coords: Any) -> Any:
    if isinstance(coords, int | float):
        return round(float(coords), _COORD_DECIMALS)
    return [_rounded(c) for c in coords]


def _popup(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """Build popup markup: *title* and (label, value) rows, all already escaped markup."""
    body = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in rows)
    return f'<div class="tp-pop"><b>{title}</b><table>{body}</table></div>'


def _sites_text(sites: Sequence[Mapping[str, Any]]) -> str:
    return _bi(lambda lang: ", ".join(f"{s.get('site_id')} ({_stage(s.get('stage'), lang)})"
                                      for s in sites) or "–")


def _village_popup(p: Mapping[str, Any]) -> str:
    return _popup(_esc(p.get("name")), (
        (_label("col.code"), _esc(p.get("code"))),
        (_label("kecamatan"), _esc(p.get("kecamatan"))),
        (_label("col.kind"), _esc(_or_dash(p.get("kind")))),
        (_label("col.status"), _in_all(_signal, p.get("status"), _class_of(p))),
        (_label("col.date"), _esc(_or_dash(p.get("date")))),
        (_label("col.source"), _esc(_or_dash(p.get("source")))),
        (_label("col.reports"), _esc(p.get("n_reports", 0))),
        (_label("col.population"), _in_all(_count, p.get("population"))),
        (_label("col.sites"), _sites_text(p.get("sites") or ())),
    ))


def _site_popup(p: Mapping[str, Any]) -> str:
    location = p.get("location")
    where = (_label(f"location.{location}") if f"dash.location.{location}" in TEXT
             else _esc(_or_dash(location)))
    return _popup(_esc(p.get("site_id")), (
        (_label("col.village"), _esc(_or_dash(p.get("village")))),
        (_label("kecamatan"), _esc(_or_dash(p.get("kecamatan")))),
        (_label("col.year"), _esc(_or_dash(p.get("year")))),
        (_label("col.channel"), _esc(_or_dash(p.get("channel")))),
        (_label("col.tower_type"), _esc(_or_dash(p.get("tower_type")))),
        (_label("col.stage"), _in_all(_stage, p.get("stage"))),
        (_label("col.stage_date"), _esc(_or_dash(p.get("stage_date")))),
        (_label("col.capex"), _in_all(_money, p.get("capex_idr"))),
        (_label("col.people_new"), _in_all(_count, p.get("people"))),
        (_label("col.location"), where),
    ))


def _map_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Collect what the page's script draws: villages (class, popup) and placed sites."""
    villages = []
    for feature in data["villages"]["features"]:
        geometry, props = feature.get("geometry"), feature.get("properties") or {}
        if not geometry:
            continue
        cls = _class_of(props)
        villages.append({"type": "Feature", "properties": {
            "c": cls, "popup": _village_popup(props), "tip": _esc(props.get("name"))},
            "geometry": {"type": geometry["type"],
                         "coordinates": _rounded(geometry["coordinates"])}})
    sites = []
    for feature in data["sites"]["features"]:
        geometry, props = feature.get("geometry"), feature.get("properties") or {}
        if not geometry or geometry.get("type") != "Point":
            continue
        lon, lat = (round(float(c), _COORD_DECIMALS) for c in geometry["coordinates"][:2])
        sites.append({"lon": lon, "lat": lat, "stage": str(props.get("stage")),
                      "popup": _site_popup(props),
                      "centre": props.get("location") == "village centre"})
    return {"villages": {"type": "FeatureCollection", "features": villages}, "sites": sites,
            "classColors": CLASS_COLORS, "stageColors": STAGE_COLORS}


def _legend_html() -> str:
    classes = "".join(
        f'<li><i class="tp-sw" style="background:{color}"></i>'
        f"{_in_all(status_label, cls)}</li>"
        for cls, color in CLASS_COLORS.items())
    stages = "".join(
        f'<li><i class="tp-dot" style="background:{color}"></i>'
        f"{_in_all(_stage, stage)}</li>"
        for stage, color in STAGE_COLORS.items())
    centre = f'<li><i class="tp-dot tp-dashed"></i>{_label("legend.centre")}</li>'
    return (f'<div class="tp-legend" id="tp-legend"><div><h3>{_label("legend.status")}</h3>'
            f'<ul>{classes}</ul></div><div><h3>{_label("legend.stage")}</h3><ul>{stages}'
            f"{centre}</ul></div></div>")


def _map_html(data: Mapping[str, Any], drawn_sites: int) -> str:
    unplaced = len(data["sites"]["features"]) - drawn_sites
    note = _label("map_offline")
    if unplaced:
        note += " " + _bi(lambda lang: _text("map_unplaced", lang).format(
            n=format_number(unplaced, lang, 0)))
    return (f'<section class="tp-box tp-area-map" id="tp-map-box"><h2>{_label("map")}</h2>'
            f'<div class="tp-map-wrap"><div id="tp-map" role="region" aria-label="'
            f'{_esc(_text("map", "id"))} / {_esc(_text("map", "en"))}"></div></div>'
            f'{_legend_html()}<p class="tp-note">{note}</p></section>')


# --------------------------------------------------------------------------- tables


def _select(select_id: str, all_key: str, options: Sequence[tuple[str, Mapping[str, str]]],
            lang: str) -> str:
    """Build a filter ``<select>``: "all", then *options* as (value, text by language).

    Each option carries its text in every language (``data-id``, ``data-en``) for the
    language switch, and shows *lang* first.
    """
    def option(value: str, texts: Mapping[str, str]) -> str:
        attrs = "".join(f' data-{code}="{_esc(texts[code])}"' for code in SUPPORTED_LANGS)
        return f'<option value="{_esc(value)}"{attrs}>{_esc(texts[lang])}</option>'

    everything = option("", {code: _text(all_key, code) for code in SUPPORTED_LANGS})
    return (f'<select id="{select_id}" aria-label="{_esc(_text(all_key, lang))}">{everything}'
            + "".join(option(v, texts) for v, texts in options) + "</select>")


def _village_rows(features: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for feature in features:
        p = feature.get("properties") or {}
        cls = _class_of(p)
        search = f"{p.get('name') or ''} {p.get('code') or ''}"
        status = _in_all(_signal, p.get("status"), cls)
        rows.append(
            f'<tr data-kecamatan="{_esc(p.get("kecamatan") or "")}" data-class="{cls}" '
            f'data-search="{_esc(search)}"><td class="tp-name">{_esc(p.get("name"))}</td>'
            f'<td class="tp-code">{_esc(p.get("code"))}</td><td>{_esc(p.get("kecamatan"))}</td>'
            f'<td><i class="tp-sw" style="background:{CLASS_COLORS[cls]}"></i>{status}</td>'
            f'<td>{_esc(_or_dash(p.get("date")))}</td><td>{_esc(_or_dash(p.get("source")))}</td>'
            f'<td class="tp-n">{_in_all(_count, p.get("population"))}</td>'
            f'<td>{_sites_text(p.get("sites") or ())}</td></tr>')
    return "".join(rows)


def _villages_html(data: Mapping[str, Any], lang: str) -> str:
    features = sorted(data["villages"]["features"], key=lambda f: (
        str((f.get("properties") or {}).get("kecamatan") or ""),
        str((f.get("properties") or {}).get("name") or "")))
    kecamatan = sorted({str((f.get("properties") or {}).get("kecamatan") or "")
                        for f in features} - {""})
    n = len(features)
    count = "".join(
        f'<span data-lang="{code}" data-template="{_esc(_text("count", code))}">'
        f'{_esc(_text("count", code).format(n=format_number(n, code), m=format_number(n, code)))}'
        "</span>" for code in SUPPORTED_LANGS)
    columns = ("col.name", "col.code", "kecamatan", "col.status", "col.date", "col.source",
               "col.population", "col.sites")
    head = "".join(f'<th scope="col">{_label(c)}</th>' for c in columns)
    kec_select = _select("tp-filter-kecamatan", "all_kecamatan",
                         [(k, dict.fromkeys(SUPPORTED_LANGS, k)) for k in kecamatan], lang)
    status_select = _select("tp-filter-status", "all_status",
                            [(c, {code: status_label(c, code) for code in SUPPORTED_LANGS})
                             for c in CLASS_COLORS], lang)
    placeholders = "".join(f' data-ph-{code}="{_esc(_text("search", code))}"'
                           for code in SUPPORTED_LANGS)
    return (f'<section class="tp-box" id="tp-villages"><h2>{_label("village_table")}</h2>'
            f'<div class="tp-filters"><input type="search" id="tp-search" autocomplete="off" '
            f'placeholder="{_esc(_text("search", lang))}" '
            f'aria-label="{_esc(_text("search", lang))}"{placeholders}>'
            f"{kec_select}{status_select}"
            f'<p id="tp-count" aria-live="polite">{count}</p></div>'
            f'<div class="tp-scroll tp-tall"><table class="tp-table" id="tp-village-table">'
            f"<thead><tr>{head}</tr></thead><tbody>{_village_rows(features)}</tbody></table>"
            "</div></section>")


def _events_text(events: Sequence[Sequence[Any]], lang: str) -> str:
    parts = []
    for event in events:
        stage, date, amount, note = (list(event) + [None] * 4)[:4]
        text = f"{_stage(stage, lang)} {_or_dash(date)}"
        if _finite(amount) is not None:
            text += f" {_money(amount, lang)}"
        if note:
            text += f" ({note})"
        parts.append(text)
    return "; ".join(parts) or "–"


def _sites_html(data: Mapping[str, Any]) -> str:
    features = sorted(data["sites"]["features"], key=lambda f: (
        (f.get("properties") or {}).get("year") or 0,
        str((f.get("properties") or {}).get("site_id"))))
    columns = ("col.site_id", "col.village", "kecamatan", "col.year", "col.channel",
               "col.tower_type", "col.stage", "col.stage_date", "col.capex", "col.events")
    head = "".join(f'<th scope="col">{_label(c)}</th>' for c in columns)
    rows = []
    for feature in features:
        p = feature.get("properties") or {}
        color = STAGE_COLORS.get(str(p.get("stage")), UNKNOWN_COLOR)
        rows.append(
            f'<tr data-stage="{_esc(p.get("stage"))}"><td class="tp-code">{_esc(p.get("site_id"))}'
            f'</td><td>{_esc(_or_dash(p.get("village")))}</td>'
            f'<td>{_esc(_or_dash(p.get("kecamatan")))}</td><td>{_esc(_or_dash(p.get("year")))}'
            f'</td><td>{_esc(_or_dash(p.get("channel")))}</td>'
            f'<td>{_esc(_or_dash(p.get("tower_type")))}</td><td class="tp-nw"><i class="tp-dot" '
            f'style="background:{color}"></i>{_in_all(_stage, p.get("stage"))}'
            f'</td><td class="tp-nw">{_esc(_or_dash(p.get("stage_date")))}</td><td class="tp-n">'
            f'{_in_all(_money, p.get("capex_idr"))}</td><td class="tp-events">'
            f'{_in_all(_events_text, p.get("events") or ())}</td></tr>')
    body = (f'<div class="tp-scroll tp-tall"><table class="tp-table" id="tp-site-table"><thead>'
            f"<tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>" if rows
            else f'<p class="tp-note">{_label("no_sites")}</p>')
    return f'<section class="tp-box" id="tp-sites"><h2>{_label("site_table")}</h2>{body}</section>'


def _footer_html(data: Mapping[str, Any]) -> str:
    lines = "".join(f"<li>{_esc(x)}</li>" for x in data["attribution"] if str(x).strip())
    files = "".join(f'<li><a href="data/{name}">{_label(key)}</a> <code>data/{name}</code></li>'
                    for name, key in _DATA_FILES)
    return (f'<footer class="tp-footer"><div><h2>{_label("footer.attribution")}</h2>'
            f"<ul>{lines}</ul></div><div><h2>{_label('footer.data')}</h2><ul>{files}</ul></div>"
            f'<p class="tp-note">{_label("footer.made", version=__version__)}</p></footer>')


# --------------------------------------------------------------------------- page


@functools.lru_cache(maxsize=1)
def _page_assets() -> tuple[str, str]:
    """The page's own CSS and JavaScript (``templates/dashboard.css`` and ``.js``)."""
    folder = resources.files("towerplan.outputs") / "templates"
    css = (folder / "dashboard.css").read_text(encoding="utf-8")
    js = (folder / "dashboard.js").read_text(encoding="utf-8")
    return css.replace("</style", "<\\/style"), js.replace("</script", "<\\/script")


def _render(data: Mapping[str, Any], lang: str, refresh_s: int = 0) -> str:
    """Return the whole page as text (reloading itself every *refresh_s* seconds when > 0)."""
    leaflet_js, leaflet_css = _leaflet_assets()
    page_css, page_js = _page_assets()
    payload = _map_data(data)
    sections = (
        _limitations_html(data)
        + _cards_html(data)
        + '<div class="tp-overview">'
        + _map_html(data, len(payload["sites"]))
        + _charts_html(data)
        + _kecamatan_html(data)
        + "</div>"
        + _villages_html(data, lang)
        + _sites_html(data)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="towerplan {_esc(__version__)}">\n'
        + (f'<meta http-equiv="refresh" content="{refresh_s:d}">\n' if refresh_s > 0 else "")
        + f"<title>{_esc(data['title'])}</title>\n"
        f"<style>{leaflet_css}</style>\n<style>{page_css}</style>\n</head>\n<body>\n"
        f"{_header_html(data)}\n<main>{sections}</main>\n{_footer_html(data)}\n"
        f'<script type="application/json" id="tp-data">{_script_json(payload)}</script>\n'
        f"<script>{leaflet_js}</script>\n<script>{page_js}</script>\n</body>\n</html>\n"
    )
