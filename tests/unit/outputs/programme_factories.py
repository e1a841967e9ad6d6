"""A synthetic three-year, two-channel :class:`ProgrammeOutcome` on the tiny plan of
:mod:`tests.unit.outputs.factories`.

2024: C004 (APBD, already built) lifts the village with a JavaScript template literal in its
name; 2025: C002 (BAKTI) lifts the village called ``<script>...``; 2026: C001 (APBD) serves
part of the formula-named village (weak signal: never counted as lifted, nobody newly served:
no cost per person) and C005 (BAKTI) adds 150 people. The APBD carries Rp 1 bn over 2025.
"""

from __future__ import annotations

import pandas as pd

from tests.unit.outputs.factories import (
    FORMULA_NAME,
    HOSTILE_NAME,
    TEMPLATE_NAME,
    make_plan_result,
    with_changes,
)
from towerplan.analysis.programme_outcome import (
    BUILD_COLUMNS,
    BY_YEAR_CHANNEL_COLUMNS,
    ProgrammeOutcome,
    cost_per_person_idr,
    podes_signal,
)
from towerplan.results import PlanResult

YEARS = (2024, 2025, 2026)
CHANNELS = ("apbd", "national")
LABELS = {"apbd": "APBD Kabupaten", "national": "BAKTI (nasional)"}
BLANK_BELOW, COVERED_AT_LEAST = 0.10, 0.90
#: year -> channel -> budget, rupiah
BUDGETS = {2024: {"apbd": 2.5e9, "national": 0.0}, 2025: {"apbd": 1.0e9, "national": 1.5e9},
           2026: {"apbd": 0.5e9, "national": 1.0e9}}

_VILLAGES = (  # code, name, district, population, served share before and per year, technology
    ("64.01.07.2001", "Muara Toyu", "Muara Komam", 1200.0, (0.95, 0.95, 0.95, 0.95), "4G"),
    ("64.01.07.2002", HOSTILE_NAME, "Muara Komam", 850.0, (0.40, 0.40, 0.92, 0.92), "4G"),
    ("64.01.08.2001", FORMULA_NAME, "Batu Sopang", 430.0, (0.05, 0.05, 0.05, 0.55), "4G"),
    ("64.01.08.2002", TEMPLATE_NAME, "Batu Sopang", 2100.0, (0.0, 0.93, 0.93, 0.93), "4G"),
)


def _builds(plan: PlanResult) -> pd.DataFrame:
    sites = plan.candidates.set_index("site_id")
    rows = [  # year, channel, site, type, height, locked, capex, opex, people, lifted
        (2024, "apbd", "C004", "menara-72m", 72.0, True, 2.0e9, 3.0e8, 2163.0,
         f"{TEMPLATE_NAME} (64.01.08.2002)"),
        (2025, "national", "C002", "menara-42m", 42.0, False, 1.2e9, 3.0e8, 442.0,
         f"{HOSTILE_NAME} (64.01.07.2002)"),
        (2026, "apbd", "C001", "menara-32m-vsat", 32.0, False, 0.5e9, 2.0e8, 0.0, ""),
        (2026, "national", "C005", "menara-42m", 42.0, False, 0.9e9, 3.0e8, 150.0, ""),
    ]
    out = []
    for year, channel, site, kind, height, locked, capex, opex, people, lifted in rows:
        s = sites.loc[site]
        out.append({"year": year, "channel": channel, "site_id": site, "tower_type": kind,
                    "height_m": height, "lon": float(s["lon"]), "lat": float(s["lat"]),
                    "village_code": s["village_code"], "village_name": s["village"],
                    "district": s["district"], "locked": locked, "capex_idr": capex,
                    "opex_idr_per_year": opex, "whole_life_idr": capex + 7.72 * opex,
                    "people_new": people, "villages_lifted": lifted})
    return pd.DataFrame(out, columns=list(BUILD_COLUMNS))


def _by_year_channel(builds: pd.DataFrame) -> pd.DataFrame:
    rows = []
    carried = dict.fromkeys(CHANNELS, 0.0)
    for year in YEARS:
        for channel in CHANNELS:
            picked = builds[(builds["year"] == year) & (builds["channel"] == channel)]
            budget = BUDGETS[year][channel]
            capex = float(picked["capex_idr"].sum())
            people = float(picked["people_new"].sum())
            available = budget + carried[channel]
            carried[channel] = available - capex
            rows.append({"year": year, "channel": channel, "towers": len(picked),
                         "people_new": people,
                         "villages_lifted": int((picked["villages_lifted"] != "").sum()),
                         "capex_idr": capex,
                         "opex_idr_per_year": float(picked["opex_idr_per_year"].sum()),
                         "budget_idr": budget, "spent_idr": capex,
                         "carried_idr": carried[channel],
                         "cost_per_person_idr": cost_per_person_idr(capex, people)})
    return pd.DataFrame(rows, columns=list(BY_YEAR_CHANNEL_COLUMNS))


def _village_status() -> pd.DataFrame:
    rows = []
    for code, name, district, population, shares, tech in _VILLAGES:
        strong_before = False
        for year, share in zip((YEARS[0] - 1, *YEARS), shares, strict=True):
            signal = podes_signal(share, BLANK_BELOW, COVERED_AT_LEAST)
            strong = signal == "kuat"
            rows.append({"code": code, "name": name, "district": district,
                         "population": population, "year": year, "served_share": share,
                         "signal": signal, "technology": "" if signal == "tidak ada" else tech,
                         "lifted": bool(strong and not strong_before and year != YEARS[0] - 1)})
            strong_before = strong_before or strong
    return pd.DataFrame(rows)


def make_programme(plan: PlanResult | None = None, *, gap: float = 0.0,
                   notes: tuple[str, ...] | None = None) -> ProgrammeOutcome:
    """The synthetic programme on *plan* (default: the tiny plan)."""
    plan = plan if plan is not None else make_plan_result()
    builds = _builds(plan)
    value = 2163.0 * 3 + 442.0 * 2 + 150.0
    return ProgrammeOutcome(
        years=YEARS, channels=CHANNELS, channel_labels=dict(LABELS), builds=builds,
        by_year_channel=_by_year_channel(builds), village_status=_village_status(),
        objective="people_new", objective_value=value, bound=value * (1 + gap), gap=gap,
        status="optimal" if gap == 0 else "time_limit", method="milp (HiGHS)", runtime_s=0.42,
        greedy_value=value * 0.9, greedy_regret_pct=10.0, discount_rate=0.05,
        horizon_years=10, carry_over=True,
        notes=notes if notes is not None else (
            "Data sintetis: bukan rencana nyata / Synthetic data: not a real plan",
            "Anggaran 2026 belum disahkan / The 2026 budget is not yet approved"),
        audit=pd.DataFrame({"case": ["threshold -5 dB", "base", "threshold +5 dB"],
                            "people_years_real": [5200.0, 4800.0, 4100.0],
                            "people_years_optimal": [8100.0, 7523.0, 6900.0],
                            "share_pct": [64.2, 63.8, 59.4]}),
    )


def make_programme_plan(**kwargs: object) -> PlanResult:
    """The tiny plan with :func:`make_programme` attached."""
    plan = make_plan_result()
    return with_changes(plan, programme=make_programme(plan, **kwargs))  # type: ignore[arg-type]


__all__ = ["BUDGETS", "CHANNELS", "LABELS", "YEARS", "make_programme", "make_programme_plan"]
