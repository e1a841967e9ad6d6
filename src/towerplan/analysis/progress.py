"""Programme progress from a history: village status over time, sites by stage, money by year.

The functions take the tables of a :class:`~towerplan.io.history.History` (DataFrames) and
return tables; :func:`dashboard_data` gathers them into the JSON-able dict the dashboard page
(:mod:`towerplan.outputs.dashboard`) and the portal export (:mod:`towerplan.outputs.portal`)
show.

Definitions
-----------
Village status at a date
    The status of the village's latest known report dated on or before it
    (:func:`~towerplan.io.evidence.resolve_status`: an ``unknown`` report never overrides a
    known one), classed against the history's coverage target
    (:func:`~towerplan.io.evidence.signal_class`). A tower reported built or on air does not
    change a village's status: only a report does.
Money of a year and channel
    ``budgeted_idr``: amounts of the ``budgeted`` events dated in that year; ``committed_idr``:
    amounts of the ``tendered`` events of that year whose tender did not fail (the contract
    value) and the payments of sites built without a recorded tender; ``spent_idr``: amounts
    of the ``built`` events of that year, or, without one, the site's contract value. The
    channel is the site's.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from towerplan.errors import ScenarioError
from towerplan.i18n import bilingual
from towerplan.io.evidence import parse_period, resolve_status, signal_class
from towerplan.io.history import STAGES
from towerplan.io.tables import jsonable

__all__ = [
    "CLASSES",
    "dashboard_data",
    "display_copy",
    "period_end",
    "programme_progress",
    "site_stages",
    "status_at",
    "status_over_time",
]

#: Village classes against a coverage target, worst first.
CLASSES: tuple[str, ...] = ("blank", "semi_blank", "served", "unknown")

_REPORT_COLUMNS = ("code", "village", "kecamatan", "status", "date", "source", "note")
#: Columns of the reports :func:`dashboard_data` hands on (to the portal export).
_EXPORTED_REPORT_COLUMNS = ("code", "status", "date", "source", "note")


def period_end(text: str) -> dt.date:
    """The last day of a period ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (day-first too).

    Raises
    ------
    ScenarioError
        If *text* is not such a period.

    Examples
    --------
    >>> period_end("2022"), period_end("2024-02"), period_end("2023-05-17")
    (datetime.date(2022, 12, 31), datetime.date(2024, 2, 29), datetime.date(2023, 5, 17))
    """
    found = parse_period(text)
    if found is None:
        msg = f"{text!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
        raise ScenarioError(msg)
    label, start = found
    if len(label) == 4:
        return dt.date(start.year, 12, 31)
    if len(label) == 7:
        following = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return following - dt.timedelta(days=1)
    return start


def status_at(reports: pd.DataFrame, codes: Sequence[str], target: str,
              as_of: dt.date | None = None) -> pd.DataFrame:
    """The status of each village as of *as_of* (every report when None).

    Parameters
    ----------
    reports : DataFrame
        History reports (``code``, ``status``, ``date``, ``date_start``, ``source``).
    codes : sequence of str
        Villages, in order.
    target : {"4g", "signal"}
        Coverage target the statuses are classed against.
    as_of : date, optional
        Only reports whose period starts on or before this day count.

    Returns
    -------
    DataFrame
        Indexed by ``code``: ``status``, ``date``, ``source``, ``n_reports`` and ``class``
        (:data:`CLASSES`).
    """
    table = reports
    if as_of is not None and len(table):
        table = table[table["date_start"] <= as_of.isoformat()]
    frame = pd.DataFrame({c: table.get(c, "") for c in _REPORT_COLUMNS})
    resolved = resolve_status(frame, list(codes))
    resolved["class"] = [signal_class(s, target) for s in resolved["status"]]  # type: ignore[arg-type]
    return resolved


def _people(frame: pd.DataFrame, mask: pd.Series) -> float | None:
    values = frame.loc[mask, "population"]
    if frame["population"].isna().all():
        return None
    return float(values.fillna(0).sum())


def status_over_time(reports: pd.DataFrame, villages: pd.DataFrame, target: str,
                     years: Sequence[int]) -> pd.DataFrame:
    """Villages and people of each class at the end of each of *years*.

    Returns
    -------
    DataFrame
        One row per year: ``year``, the count of each class (:data:`CLASSES`),
        ``people_blank``, ``people_semi_blank`` (None without population) and ``reports``
        (reports dated in that year).
    """
    rows = []
    codes = list(villages["code"])
    for year in years:
        status = status_at(reports, codes, target, dt.date(year, 12, 31))
        joined = villages.set_index("code").join(status["class"])
        row: dict[str, Any] = {"year": int(year)}
        row.update({c: int((joined["class"] == c).sum()) for c in CLASSES})
        row["people_blank"] = _people(joined, joined["class"] == "blank")
        row["people_semi_blank"] = _people(joined, joined["class"] == "semi_blank")
        row["reports"] = int((reports["date_start"].str[:4] == str(year)).sum()) if len(
            reports) else 0
        rows.append(row)
    return pd.DataFrame(rows)


def site_stages(sites: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Each site with its current stage and the date it reached it.

    Returns
    -------
    DataFrame
        *sites* with ``stage`` (``""`` for a site without events), ``stage_date`` and
        ``events`` (list of ``[stage, date, amount_idr, note]``, oldest first).
    """
    out = sites.copy()
    by_site = {k: g for k, g in events.groupby("site_id", sort=False)} if len(events) else {}
    stage: list[str] = []
    date: list[str] = []
    history: list[list[Any]] = []
    for site_id in out["site_id"]:
        group = by_site.get(site_id)
        if group is None:
            stage.append("")
            date.append("")
            history.append([])
            continue
        last = group.iloc[-1]
        stage.append(str(last["stage"]))
        date.append(str(last["date"]))
        history.append([[str(r.stage), str(r.date), _float(r.amount_idr), r.note or None]
                        for r in group.itertuples()])
    out["stage"] = stage
    out["stage_date"] = date
    out["events"] = history
    return out


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def programme_progress(budgets: pd.DataFrame, sites: pd.DataFrame, events: pd.DataFrame
                       ) -> pd.DataFrame:
    """Money and sites of each programme year and funding channel.

    Returns
    -------
    DataFrame
        One row per year and channel found in the budgets or the events: ``year``,
        ``channel``, ``budget_idr`` (None: no limit or not recorded), ``budgeted_idr``,
        ``committed_idr``, ``spent_idr`` and the counts of events ``proposed``,
        ``budgeted``, ``tenders``, ``tenders_failed``, ``built`` and ``on_air``.
    """
    channel = dict(zip(sites["site_id"], sites["channel"], strict=True))
    rows: dict[tuple[int, str], dict[str, Any]] = {}

    def row(year: int, ch: str) -> dict[str, Any]:
        return rows.setdefault((year, ch), {
            "year": year, "channel": ch, "budget_idr": None, "budgeted_idr": 0.0,
            "committed_idr": 0.0, "spent_idr": 0.0, "proposed": 0, "budgeted": 0,
            "tenders": 0, "tenders_failed": 0, "built": 0, "on_air": 0})

    for b in budgets.itertuples():
        row(int(b.year), str(b.channel))["budget_idr"] = _float(b.budget_idr)
    key = {"proposed": "proposed", "budgeted": "budgeted", "tendered": "tenders",
           "tender_failed": "tenders_failed", "built": "built", "on_air": "on_air"}
    for site_id, group in (events.groupby("site_id", sort=False) if len(events) else []):
        ch = str(channel.get(site_id) or "")
        contract: float | None = None
        records = list(group.itertuples())
        for i, e in enumerate(records):
            year = int(str(e.date_start)[:4])
            r = row(year, ch)
            if e.stage in key:
                r[key[e.stage]] += 1
            amount = _float(e.amount_idr)
            if e.stage == "budgeted":
                r["budgeted_idr"] += amount or 0.0
            elif e.stage == "tendered":
                failed = i + 1 < len(records) and records[i + 1].stage == "tender_failed"
                if not failed:
                    contract = amount
                    r["committed_idr"] += amount or 0.0
            elif e.stage == "built":
                paid = amount if amount is not None else contract
                r["spent_idr"] += paid or 0.0
                if contract is None:  # built without a recorded tender: its payment binds
                    r["committed_idr"] += paid or 0.0
    frame = pd.DataFrame(sorted(rows.values(), key=lambda r: (r["year"], r["channel"])))
    return frame


def stale_villages(status: pd.DataFrame, sites: pd.DataFrame) -> list[str]:
    """Codes of the villages where a tower was built (or went on air) after their latest
    report, or that have no report: their reported status is from before the tower.

    Parameters
    ----------
    status : DataFrame
        :func:`status_at` of every report (indexed by ``code``).
    sites : DataFrame
        :func:`site_stages` (``code``, ``stage``, ``events``).
    """
    stale = []
    for s in sites.itertuples():
        if not s.code or s.stage not in ("built", "on_air") or s.code not in status.index:
            continue
        built = min(str(e[1]) for e in s.events if e[0] in ("built", "on_air"))
        reported = str(status.at[s.code, "date"])
        if not reported or reported[:len(built)] <= built[:len(reported)]:
            stale.append(str(s.code))
    return list(dict.fromkeys(stale))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN becomes None, numpy scalars Python ones."""
    return json.loads(frame.to_json(orient="records", force_ascii=False))


def _year(label: str) -> int | None:
    return int(label[:4]) if label[:4].isdigit() else None


def dashboard_data(history: Any, *, generated_utc: str, limitations: Sequence[str] = (),
                   as_of: dt.date | None = None) -> dict[str, Any]:
    """Everything the dashboard and the portal export show, from an open history.

    Parameters
    ----------
    history : History
        An open :class:`~towerplan.io.history.History`.
    generated_utc : str
        Time stamp to state (ISO, UTC).
    limitations : sequence of str
        Statements about the data, shown first (bilingual ``"id / en"``).
    as_of : date, optional
        Show the history as it was known on this day: reports and site events whose period
        starts on or before it, budgets of its year and before, and the sites with an event
        by then (default: everything).

    Returns
    -------
    dict
        JSON-able: ``title``, ``region``, ``target``, ``generated_utc``, ``as_of``,
        ``period``, ``attribution``, ``limitations``, ``reports`` (the signal reports
        counted, as records), ``population_basis``, ``headline``,
        ``by_kecamatan``, ``over_time``, ``progress``, ``villages`` and ``sites``
        (GeoJSON FeatureCollections, longitude/latitude).
    """
    import shapely

    target = history.target
    villages = history.villages()
    reports = history.reports()
    budgets = history.budgets()
    events = history.events()
    sites = history.sites()
    if as_of is not None:
        day = as_of.isoformat()
        reports = reports[reports["date_start"] <= day]
        events = events[events["date_start"] <= day]
        budgets = budgets[budgets["year"] <= as_of.year]
        sites = sites[sites["site_id"].isin(set(events["site_id"]))]
    sites = site_stages(sites, events)
    codes = list(villages["code"])
    status = status_at(reports, codes, target)

    labels = [*reports["date"], *events["date"], *(str(y) for y in budgets["year"])]
    starts = sorted(labels, key=lambda s: (s[:4], s))
    years_all = [y for y in (_year(s) for s in labels) if y is not None]
    years = list(range(min(years_all), max(years_all) + 1)) if years_all else []
    over_time = status_over_time(reports, villages, target, years)
    progress = programme_progress(budgets, sites, events)

    joined = villages.set_index("code").join(status)
    headline: dict[str, Any] = {"villages": len(villages)}
    headline.update({c: int((joined["class"] == c).sum()) for c in CLASSES})
    for c in ("blank", "semi_blank", "served"):
        headline[f"people_{c}"] = _people(joined, joined["class"] == c) if len(joined) else None
    current = sites["stage"].value_counts()
    headline["sites"] = {s: int(current.get(s, 0)) for s in STAGES}

    by_kecamatan = []
    for kec, group in joined.groupby(joined["kecamatan"].fillna(""), sort=True):
        entry: dict[str, Any] = {"kecamatan": kec, "villages": len(group)}
        entry.update({c: int((group["class"] == c).sum()) for c in CLASSES})
        entry["people_blank"] = _people(group, group["class"] == "blank")
        entry["people_semi_blank"] = _people(group, group["class"] == "semi_blank")
        by_kecamatan.append(entry)

    site_list: dict[str, list[dict[str, str]]] = {}
    for s in sites.itertuples():
        if s.code:
            site_list.setdefault(str(s.code), []).append({"site_id": s.site_id,
                                                          "stage": s.stage})
    vfeatures = []
    for code, v in joined.iterrows():
        props = {"code": code, "name": v["name"], "kecamatan": v["kecamatan"],
                 "kind": v["kind"], "population": _float(v["population"]),
                 "status": v["status"], "class": v["class"], "date": v["date"],
                 "source": v["source"], "n_reports": int(v["n_reports"]),
                 "sites": site_list.get(str(code), [])}
        geom = v["geometry"]
        vfeatures.append({"type": "Feature", "properties": props,
                          "geometry": None if geom is None else json.loads(
                              shapely.to_geojson(shapely.set_precision(geom, 1e-5)))})
    sfeatures = []
    for s in sites.itertuples():
        props = {"site_id": s.site_id, "code": s.code, "village": s.village,
                 "kecamatan": s.kecamatan,
                 "year": None if s.year is None or pd.isna(s.year) else int(s.year),
                 "channel": s.channel, "tower_type": s.tower_type, "stage": s.stage,
                 "stage_date": s.stage_date, "capex_idr": _float(s.capex_idr),
                 "people": _float(s.people), "location": s.location, "events": s.events}
        geom = s.geometry
        sfeatures.append({"type": "Feature", "properties": props,
                          "geometry": None if geom is None else json.loads(
                              shapely.to_geojson(geom))})
    bases = sorted({b for b in villages["population_basis"].dropna() if b})
    stale = stale_villages(status, sites)
    notes = list(limitations)
    if stale:
        names = dict(zip(villages["code"], villages["name"], strict=True))
        listed = ", ".join(names.get(c, c) for c in stale)
        notes.insert(0, bilingual("history.stale", n=len(stale), villages=listed))
    return jsonable({
        "title": history.title, "region": history.meta.get("region", ""), "target": target,
        "generated_utc": generated_utc,
        "as_of": "" if as_of is None else as_of.isoformat(),
        "period": [starts[0], starts[-1]] if starts else ["", ""],
        "attribution": list(history.attribution), "limitations": notes,
        "reports": _records(reports[list(_EXPORTED_REPORT_COLUMNS)]),
        "population_basis": "; ".join(bases),
        "headline": headline, "by_kecamatan": by_kecamatan,
        "over_time": _records(over_time) if len(over_time) else [],
        "progress": _records(progress) if len(progress) else [],
        "villages": {"type": "FeatureCollection", "features": vfeatures},
        "sites": {"type": "FeatureCollection", "features": sfeatures},
    })


def display_copy(data: dict[str, Any], tolerance_deg: float = 3e-4) -> dict[str, Any]:
    """*data* with the village outlines simplified for a screen (topology kept).

    The default tolerance, 0.0003 degrees, is about 33 m: finer than a village and than a
    dashboard map shows; the portal export keeps the full outlines.
    """
    import shapely

    features = []
    for f in data["villages"]["features"]:
        geom = f["geometry"]
        if geom is not None:
            shape = shapely.simplify(shapely.from_geojson(json.dumps(geom)), tolerance_deg,
                                     preserve_topology=True)
            geom = json.loads(shapely.to_geojson(shapely.set_precision(shape, 1e-5)))
        features.append({**f, "geometry": geom})
    return {**data, "villages": {**data["villages"], "features": features}}
