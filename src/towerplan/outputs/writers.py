"""Every output of a plan as a registry of independent writers.

Each :class:`Writer` produces one file from a :class:`~towerplan.results.PlanResult`. The
writers do not depend on each other: :func:`write_outputs` runs them in order and

- skips a writer whose optional or system library is missing
  (:class:`~towerplan.errors.MissingDependencyError`, e.g. WeasyPrint without Pango for
  ``report.pdf``): its file is left out with a one-line note;
- records a writer that fails for any other reason than a
  :class:`~towerplan.errors.TowerplanError` (a defect) as failed, with the error in one line,
  and writes the others;
- stops at a :class:`~towerplan.errors.TowerplanError` (a full disk, a directory that cannot
  be written): the caller's staging directory is then discarded, so nothing is published.

``summary.json`` comes last and lists what was skipped or failed (``outputs_skipped``), so
its presence marks a finished run and says what is missing. Some files start in the
background and are collected after the others, before ``summary.json``: ``report.pdf`` is
rendered by a child process (:mod:`towerplan.outputs.pdf_render`: WeasyPrint's layout is the
longest writer and holds the GIL), and the two coverage GeoTIFFs are written one after the
other by a thread (GDAL compresses them without holding the GIL, while this thread draws the
map and outlines the coverage). Adding an output means adding one :class:`Writer` to
:data:`WRITERS`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from towerplan.errors import (
    MissingDependencyError,
    OutputError,
    ScenarioError,
    TowerplanError,
)
from towerplan.i18n import check_lang
from towerplan.io.tables import write_json
from towerplan.outputs.document import (
    render_report_html,
    start_report_pdf,
    write_report_html,
    write_report_pdf,
)
from towerplan.outputs.exports import (
    write_coverage_qml_for,
    write_coverage_raster,
    write_plan_gpkg,
    write_ranking_csv,
    write_villages_csv,
)
from towerplan.outputs.kml import write_plan_kml, write_plan_kmz
from towerplan.outputs.maps import write_map
from towerplan.outputs.qgis_project import write_qgis_project
from towerplan.outputs.reports import write_report_xlsx

if TYPE_CHECKING:
    from towerplan.results import PlanResult

__all__ = ["OPTIONAL_OUTPUT_FILES", "OUTPUT_FILES", "WRITERS", "OutputReport", "Writer",
           "write_outputs"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Context:
    """What the writers of one run share: the language, the rendered report HTML and the
    threads of the files written in the background."""

    result: PlanResult
    lang: str
    _html: str | None = None
    _lanes: dict[str, ThreadPoolExecutor] = field(default_factory=dict)

    def lane(self, name: str) -> ThreadPoolExecutor:
        """The thread of background lane *name* (started on first use)."""
        if name not in self._lanes:
            self._lanes[name] = ThreadPoolExecutor(1, thread_name_prefix=f"towerplan-{name}")
        return self._lanes[name]

    def close(self) -> None:
        """Let the lanes' threads end once their files are written."""
        for pool in self._lanes.values():
            pool.shutdown(wait=False)

    def report_html(self) -> str:
        """The report rendered once for ``report.html`` and ``report.pdf``."""
        if self._html is None:
            self._html = render_report_html(self.result, lang=self.lang)
        return self._html


@dataclass(frozen=True, slots=True)
class Writer:
    """One output file.

    Attributes
    ----------
    name : str
        File name inside the output directory.
    write : callable
        ``write(context, path) -> Path``.
    wanted : callable, optional
        ``wanted(result) -> bool``: whether the scenario asks for this optional output;
        None = always written.
    start : callable, optional
        ``start(context, path) -> finish``: begins the file in the background (another
        process or a thread) when :func:`write_outputs` writes several files;
        ``finish(path) -> Path`` then collects it (writing it if not yet written) in the
        writer's turn, raising what ``write`` raises.
    queued : bool
        ``start`` only queues the file on a thread (:func:`_in_lane`): it is started after
        the other background writers. ``report.pdf``, the longest chain (the report HTML
        rendered here, then laid out in a child process), starts first, so the HTML does not
        share the CPU with the queued GeoTIFFs (measured on the 30 m demo on 2 cores: the
        outputs 4.3-4.7 s against 5.0-6.1 s with the GeoTIFFs queued first).
    """

    name: str
    write: Callable[[_Context, Path], Path]
    wanted: Callable[[PlanResult], bool] | None = None
    start: Callable[[_Context, Path], Callable[[Path], Path]] | None = None
    queued: bool = False


def _in_lane(lane: str, write: Callable[[_Context, Path], Path]
             ) -> Callable[[_Context, Path], Callable[[Path], Path]]:
    """A ``start`` that queues *write* on the run's thread *lane* (one thread per lane, its
    files written one after the other in the order started); ``finish`` waits for the file
    and returns its path or raises its error. For writers that spend their time in code
    that releases the GIL (GDAL); one lane keeps one such file in memory at a time."""
    def start(ctx: _Context, path: Path) -> Callable[[Path], Path]:
        pending = ctx.lane(lane).submit(write, ctx, path)
        return lambda _path: pending.result()

    return start


def _raster(stage: str) -> Callable[[_Context, Path], Path]:
    return lambda c, p: write_coverage_raster(c.result, p, stage)


def _summary(ctx: _Context, path: Path) -> Path:
    """``summary.json`` without notes (``write_outputs`` adds ``outputs_skipped``)."""
    return write_json(path, {**ctx.result.summary, "outputs_skipped": []})


#: Every output of ``towerplan plan``, in order (``summary.json`` last; see write_outputs).
WRITERS: tuple[Writer, ...] = (
    Writer("map.html", lambda c, p: write_map(c.result, p, lang=c.lang)),
    Writer("report.xlsx", lambda c, p: write_report_xlsx(c.result, p, lang=c.lang)),
    Writer("report.html", lambda c, p: write_report_html(c.result, p, html=c.report_html())),
    Writer("report.pdf", lambda c, p: write_report_pdf(c.result, p, html=c.report_html()),
           start=lambda c, _p: start_report_pdf(c.result, html=c.report_html)),
    Writer("ranking.csv", lambda c, p: write_ranking_csv(c.result, p)),
    Writer("villages.csv", lambda c, p: write_villages_csv(c.result, p)),
    Writer("plan.gpkg", lambda c, p: write_plan_gpkg(c.result, p, lang=c.lang)),
    Writer("coverage_before.tif", _raster("before"), start=_in_lane("rasters", _raster("before")),
           queued=True),
    Writer("coverage_before.qml", lambda c, p: write_coverage_qml_for(c.result, p)),
    Writer("coverage_after.tif", _raster("after"), start=_in_lane("rasters", _raster("after")),
           queued=True),
    Writer("coverage_after.qml", lambda c, p: write_coverage_qml_for(c.result, p)),
    Writer("plan.kml", lambda c, p: write_plan_kml(c.result, p, lang=c.lang)),
    Writer("plan.kmz", lambda c, p: write_plan_kmz(c.result, p, lang=c.lang)),
    Writer("plan.qgz", lambda c, p: write_qgis_project(c.result, p, lang=c.lang),
           wanted=lambda r: r.scenario.outputs.qgis_project),
    Writer("summary.json", _summary),
)

#: File names of the outputs every plan writes, in order.
OUTPUT_FILES: tuple[str, ...] = tuple(w.name for w in WRITERS if w.wanted is None)
#: File names of the outputs written when the scenario asks for them (``plan.qgz``).
OPTIONAL_OUTPUT_FILES: tuple[str, ...] = tuple(w.name for w in WRITERS if w.wanted is not None)


@dataclass(frozen=True, slots=True)
class OutputReport:
    """What :func:`write_outputs` wrote.

    Attributes
    ----------
    written : tuple of Path
        Files written, in order.
    skipped : tuple of dict
        ``{"file", "status", "reason"}`` per output left out: status ``skipped`` (a library
        is missing) or ``failed`` (an unexpected error).
    """

    written: tuple[Path, ...]
    skipped: tuple[dict[str, str], ...] = field(default=())

    @property
    def failed(self) -> tuple[dict[str, str], ...]:
        """The outputs that failed with an unexpected error."""
        return tuple(s for s in self.skipped if s["status"] == "failed")


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def write_outputs(result: PlanResult, out_dir: str | Path, *, lang: str = "id",
                  only: Sequence[str] | None = None, strict: bool = False,
                  progress: Callable[[str], None] | None = None) -> OutputReport:
    """Write the outputs of a plan into *out_dir* (created if needed), each independently.

    Writers with a ``start`` (``report.pdf``, the coverage GeoTIFFs) begin in the background
    first and are collected last, before ``summary.json``; the report lists the files in the
    order of :data:`WRITERS`.

    Parameters
    ----------
    result : PlanResult
        The plan to write.
    out_dir : str or Path
        Output directory (usually a staging directory, published by the caller).
    lang : {"id", "en"}
        Language of the map and the reports (default Bahasa Indonesia).
    only : sequence of str, optional
        Write only these files (names of :data:`OUTPUT_FILES` and
        :data:`OPTIONAL_OUTPUT_FILES`, an optional one then even when the scenario does not
        ask for it); ``summary.json`` is then written only when named.
    strict : bool, keyword-only
        Raise any writer's error instead of skipping its output (for a command that writes
        one file).
    progress : callable, optional
        Called with each file name just before it is written.

    Returns
    -------
    OutputReport
        Files written, and the outputs skipped or failed with their reason in one line
        (also listed as ``outputs_skipped`` in ``summary.json``).

    Raises
    ------
    OutputError
        If the directory cannot be created or a file cannot be written (a full disk, ...).
    ScenarioError
        If *lang* is not supported or *only* names an unknown output.
    """
    check_lang(lang)
    chosen = _chosen(only, result)
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create output directory {out_dir}: {exc.strerror or exc}"
        raise OutputError(msg) from exc
    ctx = _Context(result.in_language(lang), lang)
    written: list[Path] = []
    skipped: list[dict[str, str]] = []
    start = time.perf_counter()
    started = _started(chosen, ctx, out_dir) if len(chosen) > 1 else {}
    rank = {w.name: i for i, w in enumerate(chosen)}
    try:
        # what runs in the background is collected after the others, just before summary.json
        for writer in sorted(chosen, key=lambda w: (w.name == "summary.json", w.name in started,
                                                    rank[w.name])):
            if progress is not None:
                progress(writer.name)
            path = out_dir / writer.name
            if writer.name == "summary.json":
                skipped.sort(key=lambda s: rank[s["file"]])
                written.append(write_json(path, {**result.summary, "outputs_skipped": skipped}))
                continue
            try:
                finish = started.get(writer.name)
                written.append(finish(path) if finish is not None else writer.write(ctx, path))
            except MissingDependencyError as exc:
                if strict:
                    raise
                skipped.append({"file": writer.name, "status": "skipped", "reason": _one_line(exc)})
                log.warning("%s not written: %s", writer.name, _one_line(exc))
            except TowerplanError:
                raise
            except Exception as exc:  # a defect in one writer must not cost the others
                if strict:
                    raise
                reason = f"{type(exc).__name__}: {_one_line(exc)}"
                skipped.append({"file": writer.name, "status": "failed", "reason": reason})
                log.error("%s failed: %s", writer.name, reason, exc_info=True)
    finally:
        ctx.close()  # the lanes' threads end once their files are written
    log.info("wrote %d output files to %s in %.1f s", len(written), out_dir,
             time.perf_counter() - start)
    written.sort(key=lambda p: rank[p.name])
    skipped.sort(key=lambda s: rank[s["file"]])
    return OutputReport(tuple(written), tuple(skipped))


def _started(chosen: Sequence[Writer], ctx: _Context, out_dir: Path
             ) -> dict[str, Callable[[Path], Path]]:
    """Start the writers that run in the background; one that cannot start is written in
    its turn instead (where its error, if any, is reported)."""
    started = {}
    for writer in sorted(chosen, key=lambda w: w.queued):  # the queued ones last
        if writer.start is not None:
            try:
                started[writer.name] = writer.start(ctx, out_dir / writer.name)
            except Exception as exc:  # reported when the writer runs in its turn
                log.debug("%s not started in the background: %s", writer.name, _one_line(exc))
    return started


def _chosen(only: Sequence[str] | None, result: PlanResult) -> tuple[Writer, ...]:
    """The writers named in *only*; without it every output the scenario asks for."""
    if only is None:
        return tuple(w for w in WRITERS if w.wanted is None or w.wanted(result))
    names = (*OUTPUT_FILES, *OPTIONAL_OUTPUT_FILES)
    unknown = sorted(set(only) - set(names))
    if unknown:
        msg = f"unknown output(s) {', '.join(unknown)}; choose from {', '.join(names)}"
        raise ScenarioError(msg)
    return tuple(w for w in WRITERS if w.name in set(only))
