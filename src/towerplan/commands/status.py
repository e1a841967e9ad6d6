"""``towerplan status``: keep the programme history (``programme.gpkg``).

:func:`import_history` fills a history in one transaction from a scenario (villages with
their population, signal reports, programme budgets and the towers built), signal-report
files, a site-events CSV and the sites a plan proposes; :func:`add_report`,
:func:`add_site_event` and :func:`set_budget` record one fact each; :func:`list_history`
reads a table back. Every write is validated before anything is kept, and is atomic
(:mod:`towerplan.io.history`).

Site-events CSV
---------------
One row per event, UTF-8, header (case-insensitive): ``site_id``, ``stage``
(:data:`~towerplan.io.history.STAGES`), ``date``; optional ``code`` (Kemendagri code of the
village; empty when it is not public), ``year``, ``channel``, ``tower_type``, ``lon``,
``lat``, ``amount_idr``, ``source`` and ``note``. A site is created by its first row; its
events must follow each other in order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from towerplan.analysis.progress import site_stages
from towerplan.errors import InputDataError, InputFileError
from towerplan.inputs import load_vectors
from towerplan.io.csvfile import read_csv_records
from towerplan.io.evidence import read_signal_reports
from towerplan.io.history import (
    History,
    HistoryError,
    create_history,
    open_history,
)
from towerplan.pipeline.plan import ensure_demo_survey
from towerplan.scenario import Scenario

__all__ = ["HISTORY_TABLES", "ImportResult", "add_report", "add_site_event", "import_history",
           "list_history", "set_budget"]

#: Tables ``towerplan status list`` shows.
HISTORY_TABLES: tuple[str, ...] = ("reports", "sites", "events", "budgets", "villages")

_SITE_COLUMNS = ("site_id", "stage", "date", "code", "year", "channel", "tower_type", "lon",
                 "lat", "amount_idr", "source", "note")


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What :func:`import_history` added (and found already there), per table."""

    path: Path
    created: bool
    added: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _tally(result: dict[str, int], key: str, n: int) -> None:
    result[key] = result.get(key, 0) + n


def _scenario_villages(scenario: Scenario) -> tuple[Any, Any]:
    """The scenario's villages (with population and its basis) and its signal reports."""
    ensure_demo_survey(scenario)  # the demo's synthetic survey, when the scenario reads it
    vectors = load_vectors(scenario)
    villages = vectors.villages.copy()
    if "population" in villages and vectors.population_note:
        villages["population_basis"] = vectors.population_note
    return vectors, villages


def _village_code(frame: pd.DataFrame, text: str) -> str:
    if text in set(frame["code"]):
        return text
    hits = frame.loc[frame["name"].str.casefold() == text.casefold(), "code"]
    if len(hits) != 1:
        msg = (f"programme.built: village {text!r} is "
               f"{'ambiguous' if len(hits) else 'not among the villages'}; give its code")
        raise InputDataError(msg)
    return str(hits.iloc[0])


def _import_scenario(h: History, scenario: Scenario, added: dict[str, int],
                     existing: dict[str, int]) -> None:
    vectors, villages = _scenario_villages(scenario)
    w = h.add_villages(villages)
    _tally(added, "villages", w.added)
    _tally(existing, "villages", w.existing)
    if vectors.signal_reports is not None:
        w = h.add_reports(vectors.signal_reports.table)
        _tally(added, "status_reports", w.added)
        _tally(existing, "status_reports", w.existing)
    h.add_attribution(vectors.attribution)
    h.add_limitations(vectors.limitations)
    for b in scenario.programme.budgets:
        h.set_budget(b.year, b.channel, b.idr, f"scenario {scenario.scenario.name}")
        _tally(added, "budgets", 1)


def _import_built(h: History, scenario: Scenario, added: dict[str, int],
                  existing: dict[str, int]) -> None:
    """The scenario's ``[[programme.built]]`` towers: budgeted and built in their year."""
    villages = h.villages()
    for built in scenario.programme.built:
        code = _village_code(villages, built.village) if built.village else None
        site_id = f"{built.year}-{built.channel}-{code or built.site or 'site'}"
        new = h.add_site(site_id, code=code, year=built.year, channel=built.channel,
                         tower_type=built.type, lon=built.lon, lat=built.lat,
                         origin=f"scenario {scenario.scenario.name}: programme.built")
        _tally(added if new else existing, "sites", 1)
        for stage in ("budgeted", "built"):
            done = h.add_event(site_id, stage, str(built.year),
                               note="year only (scenario programme.built)")
            _tally(added if done else existing, "site_events", 1)


def _read_site_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The rows of a site-events CSV with their line numbers."""
    records, _ = read_csv_records(path, what="site events")
    if not records:
        msg = f"site events {path} is empty"
        raise InputDataError(msg)
    names = [h.strip().lower() for h in records[0][1]]
    missing = [c for c in ("site_id", "stage", "date") if c not in names]
    if missing:
        msg = (f"site events {path}: no column {', '.join(missing)} (expected "
               f"{', '.join(_SITE_COLUMNS)})")
        raise InputDataError(msg)
    return [(line, dict(zip(names, row, strict=False))) for line, row in records[1:]]


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace("_", ""))
    except ValueError:
        msg = f"{what}: {text!r} is not a number"
        raise HistoryError(msg) from None


def _import_sites(h: History, path: Path, added: dict[str, int],
                  existing: dict[str, int]) -> None:
    for line, row in _read_site_rows(path):
        what = f"{path.name} line {line}"
        try:
            year = _number(row.get("year", ""), f"{what} year")
            new = h.add_site(row["site_id"], code=row.get("code") or None,
                             year=None if year is None else int(year),
                             channel=row.get("channel") or None,
                             tower_type=row.get("tower_type") or None,
                             lon=_number(row.get("lon", ""), f"{what} lon"),
                             lat=_number(row.get("lat", ""), f"{what} lat"),
                             origin=f"site events {path.name}",
                             note=row.get("source") or None)
            if new:
                _tally(added, "sites", 1)
            note = "; ".join(t for t in (row.get("note"), row.get("source")) if t) or None
            done = h.add_event(row["site_id"], row["stage"], row["date"],
                               amount_idr=_number(row.get("amount_idr", ""), f"{what} amount"),
                               note=note)
        except HistoryError as exc:
            msg = f"{what}: {exc}"
            raise HistoryError(msg) from exc
        _tally(added if done else existing, "site_events", 1)


def _plan_builds(plan_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sites a plan output directory proposes: a programme's builds not yet built, or
    the single-budget plan's selected towers (in the plan year)."""
    summary_path = plan_dir / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        msg = f"{plan_dir} is not a plan output directory (no summary.json)"
        raise InputFileError(msg) from None
    except (OSError, ValueError) as exc:
        msg = f"cannot read {summary_path}: {exc}"
        raise InputFileError(msg) from exc
    import pyogrio

    gpkg = plan_dir / "plan.gpkg"
    try:
        layer = "candidates" if "programme" in summary else "selected"
        points = pyogrio.read_dataframe(gpkg, layer=layer, read_geometry=False)
    except Exception as exc:
        msg = f"cannot read the sites of {gpkg}: {exc}"
        raise InputFileError(msg) from exc
    where = {str(r.site_id): (float(r.lon), float(r.lat)) for r in points.itertuples()}
    builds = []
    if "programme" in summary:
        for b in summary["programme"]["builds"]:
            if b.get("locked"):
                continue  # built already: the record, not the plan, says so
            builds.append({"year": b["year"], "channel": b["channel"], "code": b["village_code"],
                           "tower_type": b["tower_type"], "capex_idr": b["capex_idr"],
                           "people": b["people_new"], "position": where.get(str(b["site_id"])),
                           "plan_site": b["site_id"]})
    else:
        for r in points.itertuples():
            builds.append({"year": summary.get("plan_year"), "channel": "",
                           "code": r.village_code, "tower_type": "",
                           "capex_idr": r.cost_total_idr, "people": r.new_demand,
                           "position": (float(r.lon), float(r.lat)), "plan_site": r.site_id})
    return summary, builds


def _import_plan(h: History, plan_dir: Path, added: dict[str, int],
                 existing: dict[str, int]) -> None:
    summary, builds = _plan_builds(plan_dir)
    name = summary.get("scenario", plan_dir.name)
    for b in builds:
        year = b["year"]
        if year is None:
            msg = f"{plan_dir}: the plan has no plan year; set [scenario] year and plan again"
            raise HistoryError(msg)
        site_id = f"{year}-{b['channel'] or 'plan'}-{b['code'] or b['plan_site']}"
        lon, lat = b["position"] or (None, None)
        new = h.add_site(site_id, code=b["code"] or None, year=int(year),
                         channel=b["channel"] or None, tower_type=b["tower_type"] or None,
                         lon=lon, lat=lat, capex_idr=b["capex_idr"], people=b["people"],
                         origin=f"plan {name} (candidate {b['plan_site']})")
        _tally(added if new else existing, "sites", 1)
        done = h.add_event(site_id, "proposed", str(year), amount_idr=b["capex_idr"],
                           note=f"towerplan plan {name}: estimated capital cost")
        _tally(added if done else existing, "site_events", 1)
    h.add_attribution(summary.get("data_sources", []))
    h.add_limitations(summary.get("limitations", []))


def import_history(path: str | Path, *, scenario: Scenario | None = None,
                   reports: Sequence[str | Path] = (), sites: str | Path | None = None,
                   plan: str | Path | None = None, title: str | None = None,
                   region: str | None = None) -> ImportResult:
    """Add a scenario, report files, site events and a plan's sites to a history.

    Everything goes in one transaction: when any row is invalid, nothing is added. A missing
    history is created (titled after the scenario, or *title*). Facts already in the
    history are not added twice, so an import can be repeated.

    Parameters
    ----------
    path : str or Path
        The history (``.gpkg``).
    scenario : Scenario, optional
        Its villages (with population and how it was found), signal reports
        (``[inputs] signal_reports``), attribution and limitations, programme budgets and the
        towers built (``[[programme.built]]``: events ``budgeted`` and ``built`` in that
        year, without amounts).
    reports : sequence of path
        More signal-report files (CSV/XLSX, as ``[inputs] signal_reports``), matched to the
        history's villages.
    sites : path, optional
        Site-events CSV (see the module docstring).
    plan : path, optional
        A ``towerplan plan`` output directory: the programme's builds not yet built (or the
        selected towers of a single-budget plan) become ``proposed`` sites with their
        estimated capital cost and people.
    title : str, optional
        Title of a new history.
    region : str, optional
        The area the history covers (e.g. ``"Kabupaten Paser, Kalimantan Timur"``); set on a
        new or an existing history. Default for a new one: the scenario's name.

    Raises
    ------
    HistoryError, InputDataError, InputFileError
        For an invalid row or an unreadable input (the history is left as it was).
    """
    path = Path(path)
    created = False
    if not path.exists():
        if scenario is None and title is None:
            msg = f"history {path} does not exist; give a scenario (or --title) to create it"
            raise InputFileError(msg)
        create_history(path, title=title or (scenario.scenario.title if scenario else ""),
                       region=scenario.scenario.name if scenario else "",
                       target=scenario.coverage.target if scenario else "4g")
        created = True
    added: dict[str, int] = {}
    existing: dict[str, int] = {}
    try:
        with open_history(path, write=True) as h, h.transaction():
            if region:
                h.set_region(region)
            if scenario is not None:
                _import_scenario(h, scenario, added, existing)
            if reports:
                _import_reports(h, reports, added, existing)
            if sites is not None:  # before the built towers: its events may be finer
                _import_sites(h, Path(sites), added, existing)
            if scenario is not None:
                _import_built(h, scenario, added, existing)
            if plan is not None:
                _import_plan(h, Path(plan), added, existing)
        with open_history(path) as h:
            counts = h.counts()
    except BaseException:
        if created:
            path.unlink(missing_ok=True)
        raise
    return ImportResult(path, created, added, existing, counts)


def _import_reports(h: History, paths: Sequence[str | Path], added: dict[str, int],
                    existing: dict[str, int]) -> None:
    villages = h.villages()
    if not len(villages):
        msg = "the history has no villages to match reports to; import a scenario first"
        raise HistoryError(msg)
    frame = pd.DataFrame({"code": villages["code"], "name": villages["name"],
                          "district_name": villages["kecamatan"]})
    found, _ = read_signal_reports([Path(p) for p in paths], villages=frame)
    w = h.add_reports(found.table)
    _tally(added, "status_reports", w.added)
    _tally(existing, "status_reports", w.existing)


def add_report(path: str | Path, *, code: str, status: str, date: str, source: str,
               note: str | None = None) -> bool:
    """Record one signal report; False when the same report is there already."""
    with open_history(path, write=True) as h:
        w = h.add_reports(pd.DataFrame([{"code": code, "status": status, "date": date,
                                         "source": source, "note": note}]))
    return w.added == 1


def add_site_event(path: str | Path, *, site_id: str, stage: str, date: str,
                   amount_idr: float | None = None, note: str | None = None,
                   code: str | None = None, year: int | None = None,
                   channel: str | None = None, tower_type: str | None = None,
                   lon: float | None = None, lat: float | None = None) -> bool:
    """Record that a site reached a stage (creating the site with its first event)."""
    with open_history(path, write=True) as h, h.transaction():
        h.add_site(site_id, code=code, year=year, channel=channel, tower_type=tower_type,
                   lon=lon, lat=lat, origin="manual")
        return h.add_event(site_id, stage, date, amount_idr=amount_idr, note=note)


def set_budget(path: str | Path, *, year: int, channel: str, budget_idr: float | None,
               source: str | None = None) -> None:
    """Set the money of a year and channel (None: no limit)."""
    with open_history(path, write=True) as h:
        h.set_budget(year, channel, budget_idr, source)


def list_history(path: str | Path, table: str) -> pd.DataFrame:
    """One table of a history (:data:`HISTORY_TABLES`), without geometry.

    Sites carry their current stage and its date.
    """
    if table not in HISTORY_TABLES:
        msg = f"table {table!r} is not one of {', '.join(HISTORY_TABLES)}"
        raise HistoryError(msg)
    with open_history(path) as h:
        if table == "reports":
            frame = h.reports()
        elif table == "events":
            frame = h.events()
        elif table == "budgets":
            frame = h.budgets()
        elif table == "sites":
            frame = site_stages(h.sites(), h.events()).drop(columns="events")
        else:
            frame = h.villages()
    return pd.DataFrame(frame.drop(columns=["geometry"], errors="ignore"))
