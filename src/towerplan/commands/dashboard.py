"""``towerplan dashboard``: the programme dashboard of a history, one offline folder.

The folder holds ``index.html`` (headline counts, blank spots over time, programme progress,
the map and the village and site tables, in Bahasa Indonesia and English; every asset
inlined, no network) and ``data/`` (the portal export: CSV, GeoJSON and ``metadata.json``,
:mod:`towerplan.outputs.portal`). It is built in a staging directory and published whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from towerplan.analysis.progress import dashboard_data, display_copy
from towerplan.i18n import check_lang
from towerplan.io.history import open_history
from towerplan.io.outdir import staged_directory
from towerplan.outputs.dashboard import write_dashboard_page
from towerplan.outputs.portal import write_portal_export

__all__ = ["DASHBOARD_FILES", "DashboardResult", "history_data", "write_dashboard",
           "write_portal"]

#: Files of a dashboard folder (the portal files are in ``data/``).
DASHBOARD_FILES: tuple[str, ...] = ("index.html", "data/metadata.json")


@dataclass(frozen=True, slots=True)
class DashboardResult:
    """A written dashboard (or portal export) and what it shows."""

    path: Path
    data: dict[str, Any]


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def history_data(history: str | Path, *, generated_utc: str | None = None,
                 as_of: dt.date | None = None) -> dict[str, Any]:
    """The dashboard data of a history (with its reports), as known on *as_of* (default:
    everything)."""
    with open_history(history) as h:
        return dashboard_data(h, generated_utc=generated_utc or _now(),
                              limitations=h.limitations, as_of=as_of)


def write_dashboard(history: str | Path, out_dir: str | Path, *, overwrite: bool = False,
                    lang: str = "id", organization: str = "", maintainer: str = "",
                    refresh_min: float = 0.0, as_of: dt.date | None = None
                    ) -> DashboardResult:
    """Write the dashboard folder of *history* to *out_dir*.

    Parameters
    ----------
    history : str or Path
        The history (``programme.gpkg``).
    out_dir : str or Path
        Folder to write (refused when it exists and is not empty, unless *overwrite*).
    lang : {"id", "en"}
        Language the page opens in (both are in the page).
    organization, maintainer : str
        Publisher and contact stated in the portal metadata.
    refresh_min : float
        The page reloads itself every so many minutes (0: never), for a screen that shows
        a dashboard written again on a schedule.
    as_of : date, optional
        Show the history as it was known on this day (e.g. for a budget hearing about a past
        year); default: everything.

    Raises
    ------
    HistoryError, InputFileError
        If the history is missing, foreign or corrupt (nothing is written).
    OutputError
        If the folder cannot be written.
    """
    check_lang(lang)
    data = history_data(history, as_of=as_of)
    target = Path(out_dir)
    with staged_directory(target, overwrite=overwrite) as staging:
        (staging / "data").mkdir()
        write_portal_export(data, staging / "data", organization=organization,
                            maintainer=maintainer)
        write_dashboard_page(display_copy(data), staging / "index.html", lang=lang,
                             refresh_min=refresh_min)
    return DashboardResult(target, data)


def write_portal(history: str | Path, out_dir: str | Path, *, overwrite: bool = False,
                 organization: str = "", maintainer: str = "",
                 as_of: dt.date | None = None) -> DashboardResult:
    """Write only the portal export (CSV, GeoJSON, ``metadata.json``) of *history*, as
    known on *as_of* (default: everything)."""
    data = history_data(history, as_of=as_of)
    target = Path(out_dir)
    with staged_directory(target, overwrite=overwrite) as staging:
        write_portal_export(data, staging, organization=organization,
                            maintainer=maintainer)
    return DashboardResult(target, data)
