"""Charts of the plan report (PNG, matplotlib with the Agg backend).

Two charts, both drawn from a :class:`~towerplan.results.PlanResult` only:

* the **budget curve**: demand covered against the cumulative cost of the selected sites in
  build order (the ranking), starting from today's coverage, with the budget as a vertical line;
* **blank spots per kecamatan**: the number of blank-spot villages in each district before and
  after the plan (grouped horizontal bars).

Labels come from :mod:`towerplan.i18n`; numbers use the separators of the language.
The same result always gives the same bytes (fixed size, resolution and metadata).
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from towerplan.i18n import check_lang, format_idr, format_number, t

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from towerplan.results import PlanResult

__all__ = ["CHART_DPI", "blank_spots_png", "budget_curve_png", "sweep_png"]

#: Resolution of every chart (pixels per inch).
CHART_DPI = 110
_WIDTH_IN = 8.0
_BEFORE, _AFTER, _CURVE, _BUDGET = "#c0392b", "#1f6fb2", "#1f4e9c", "#7f7f7f"
# PNG metadata: nothing that changes between runs or versions.
_METADATA = {"Software": "towerplan"}


def _plain(text: object) -> str:
    """Return data text safe for matplotlib: ``$`` never starts mathtext."""
    return str(text).replace("$", r"\$")


def _figure(height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(_WIDTH_IN, height_in), dpi=CHART_DPI)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CHART_DPI, metadata=_METADATA)
    return buffer.getvalue()


def _demand_unit(result: PlanResult, lang: str) -> str:
    return t("unit.people" if result.provenance.demand_basis == "population" else "unit.km2",
             lang)


def budget_curve_png(result: PlanResult, *, lang: str = "id") -> bytes:
    """Draw demand covered against the cumulative cost of the ranked sites.

    The curve starts at today's coverage (``summary["demand_covered_before"]``, or the
    villages' ``demand_covered_before`` when absent) at Rp 0 and adds each selected site in
    build order: ``cumulative_cost_idr`` against ``cumulative_demand``. Points carry the rank;
    a dashed vertical line marks the budget; the right axis gives the share of all demand.

    Parameters
    ----------
    result : PlanResult
        The plan; ``result.selected`` carries the ranking columns.
    lang : {"id", "en"}
        Language of the labels and numbers.

    Returns
    -------
    bytes
        The PNG image.
    """
    from matplotlib.ticker import FuncFormatter

    check_lang(lang)
    ranking = result.selected.sort_values("rank") if len(result.selected) else result.selected
    before = result.summary.get("demand_covered_before")
    if before is None:
        before = float(result.villages["demand_covered_before"].astype(float).sum())
    total = result.summary.get("demand_total")
    if total is None:
        total = float(result.villages["demand_total"].astype(float).sum())
    cost_bn = np.concatenate([[0.0], ranking["cumulative_cost_idr"].to_numpy(float) / 1e9])
    covered = float(before) + np.concatenate([[0.0], ranking["cumulative_demand"].to_numpy(float)])
    budget_bn = float(result.scenario.budget.total_idr) / 1e9

    fig = _figure(3.8)
    ax = fig.add_subplot()
    ax.plot(cost_bn, covered, "o-", color=_CURVE, lw=1.8, ms=5, label=t("chart.curve", lang))
    for rank, x, y in zip(ranking["rank"], cost_bn[1:], covered[1:], strict=True):
        ax.annotate(str(int(rank)), (x, y), textcoords="offset points", xytext=(-4, 7),
                    fontsize=8, color=_CURVE)
    ax.axvline(budget_bn, color=_BUDGET, ls="--", lw=1.2,
               label=f"{t('chart.budget_line', lang)}: {format_idr(budget_bn * 1e9, lang)}")
    right = max(budget_bn, float(cost_bn[-1])) * 1.08 or 1.0
    ax.set_xlim(0.0, right)
    top = max(float(covered[-1]), 1e-9)
    ax.set_ylim(0.0, top * 1.12)
    decimals_x = 1 if right < 20 else 0
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: format_number(v, lang, decimals_x)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v, lang, 0)))
    ax.set_xlabel(t("chart.cost_axis", lang))
    ax.set_ylabel(f"{t('chart.demand_axis', lang)} ({_demand_unit(result, lang)})")
    total_f = float(total) if total is not None else math.nan
    if math.isfinite(total_f) and total_f > 0:
        def to_percent(y: Any) -> Any:
            return 100.0 * np.asarray(y, dtype=float) / total_f

        def from_percent(p: Any) -> Any:
            return np.asarray(p, dtype=float) * total_f / 100.0

        share = ax.secondary_yaxis("right", functions=(to_percent, from_percent))
        share.set_ylabel(t("chart.share_axis", lang))
        share.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _pos: f"{format_number(v, lang, 0)} %"))
    ax.set_title(t("chart.budget_curve", lang), fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return _png(fig)


def _blank_counts(result: PlanResult) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Districts (most blank-spot villages today first) and their blank counts before/after."""
    villages = result.villages
    district = villages["district"].astype(object).where(villages["district"].notna(), "–")
    names = [str(d) for d in district]
    before_blank = (villages["status_before"].astype(str) == "blank").to_numpy()
    after_blank = (villages["status_after"].astype(str) == "blank").to_numpy()
    order = sorted(set(names))
    index = {name: i for i, name in enumerate(order)}
    codes = np.array([index[n] for n in names], dtype=int)
    before = np.bincount(codes, weights=before_blank, minlength=len(order)).astype(int)
    after = np.bincount(codes, weights=after_blank, minlength=len(order)).astype(int)
    ranked = sorted(range(len(order)), key=lambda i: (-before[i], -after[i], order[i]))
    return [order[i] for i in ranked], before[ranked], after[ranked]


def blank_spots_png(result: PlanResult, *, lang: str = "id") -> bytes:
    """Draw the blank-spot villages of each kecamatan before and after the plan.

    Parameters
    ----------
    result : PlanResult
        The plan; ``result.villages`` carries ``district``, ``status_before`` and
        ``status_after``.
    lang : {"id", "en"}
        Language of the labels.

    Returns
    -------
    bytes
        The PNG image: one pair of bars per district, the district with the most blank-spot
        villages today at the top, counts written at the bar ends.
    """
    from matplotlib.ticker import MaxNLocator

    check_lang(lang)
    districts, before, after = _blank_counts(result)
    n = len(districts)
    fig = _figure(min(max(2.8, 1.6 + 0.42 * n), 22.0))
    ax = fig.add_subplot()
    y = np.arange(n)
    height = 0.38
    bars_before = ax.barh(y - height / 2, before, height, color=_BEFORE,
                          label=t("chart.before", lang))
    bars_after = ax.barh(y + height / 2, after, height, color=_AFTER,
                         label=t("chart.after", lang))
    for bars, counts in ((bars_before, before), (bars_after, after)):
        ax.bar_label(bars, labels=[format_number(float(v), lang, 0) for v in counts],
                     padding=2, fontsize=8)
    ax.set_yticks(y, [_plain(d) for d in districts], fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(int(before.max(initial=0)), int(after.max(initial=0)), 1) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(t("chart.blank_axis", lang))
    ax.set_title(t("chart.blank_by_district", lang), fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    fig.tight_layout()
    return _png(fig)


def sweep_png(budget_idr: np.ndarray, milp: np.ndarray, greedy: np.ndarray,
              marginal: np.ndarray, *, title: str, unit: str, lang: str = "id") -> bytes:
    """Draw a budget sweep: demand covered by the MILP and greedy, and the gain per tower.

    Parameters
    ----------
    budget_idr : numpy.ndarray
        Budgets, rupiah, increasing.
    milp, greedy : numpy.ndarray
        Demand covered at each budget (today's coverage included).
    marginal : numpy.ndarray
        MILP demand gained since the previous budget per tower's worth of extra budget.
    title : str
        Scenario title (data text, drawn literally).
    unit : str
        Demand unit label, e.g. "people".
    lang : {"id", "en"}
        Language of the labels and numbers.

    Returns
    -------
    bytes
        The PNG image.
    """
    from matplotlib.ticker import FuncFormatter

    check_lang(lang)
    bn = np.asarray(budget_idr, dtype=float) / 1e9
    fig = _figure(6.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1.0))
    top.plot(bn, milp, "o-", color=_CURVE, lw=1.8, ms=5, label=t("chart.sweep_milp", lang))
    top.plot(bn, greedy, "s--", color=_BEFORE, lw=1.2, ms=4,
             label=t("chart.sweep_greedy", lang))
    top.set_ylabel(f"{t('chart.demand_axis', lang)} ({unit})")
    top.set_title(f"{_plain(title)}: {t('chart.sweep', lang)}", fontsize=11)
    top.legend(loc="lower right", fontsize=8, framealpha=0.9)
    width = 0.6 * float(np.min(np.diff(bn))) if len(bn) > 1 else 0.5
    bottom.bar(bn, marginal, width=width, color=_AFTER)
    bottom.set_ylabel(f"{t('chart.sweep_marginal_axis', lang)} ({unit})")
    bottom.set_title(t("chart.sweep_marginal", lang), fontsize=9)
    bottom.set_xlabel(t("chart.sweep_budget_axis", lang))
    decimals_x = 1 if float(bn.max(initial=0.0)) < 20 else 0
    bottom.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _pos: format_number(v, lang, decimals_x)))
    for ax in (top, bottom):
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_number(v, lang, 0)))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)

