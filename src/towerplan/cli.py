"""The ``towerplan`` command line: parse options, call the library, print.

Every :class:`~towerplan.errors.TowerplanError` becomes one line on stderr and exit code 2
(``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from towerplan._version import __version__
from towerplan.errors import TowerplanError
from towerplan.scenario import Compute, Radio, Scenario, load_scenario

if TYPE_CHECKING:
    from towerplan.commands.coverage import CoverageResult
    from towerplan.io.cache import StageCache

__all__ = ["app", "main"]

app = typer.Typer(
    name="towerplan",
    help=(
        "Plan telecom towers for blank-spot villages: terrain, coverage, blank spots, "
        "budgeted site selection, map and reports. Without a scenario file every command "
        "uses the built-in synthetic demo kabupaten."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_RADIO = Radio()  # radio defaults, stated once in towerplan.scenario

#: Exit code of a plan whose outputs were written except those listed as failed in
#: summary.json ``outputs_skipped`` (an output skipped for a missing library exits 0).
PARTIAL_OUTPUT = 3

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

# Options shared by several commands, defined once.
ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario TOML file. Default: the built-in synthetic demo scenario.",
                   show_default=False, dir_okay=False),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Output directory. Default: [outputs] dir of the scenario "
                 "(towerplan-out).", show_default=False, file_okay=False),
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace existing outputs; an output directory is "
                       "replaced as a whole (its files this run does not write are removed)."),
]
MapOverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace map.html in an existing output directory; "
                       "its other files are kept."),
]


class Lang(StrEnum):
    """Languages of user-facing text."""

    id = "id"
    en = "en"


LangOpt = Annotated[
    Lang | None,
    typer.Option("--lang", help="Language of map and reports: id (Bahasa Indonesia) or en. "
                 "Default: [outputs] lang of the scenario (id).", show_default=False),
]
VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log output (-v info, -vv debug)."),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only print errors.")]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option("--cache-dir", help="Folder of the stage cache: results of stages whose "
                 "inputs and code did not change are reused from it. Default: stages/ in "
                 "towerplan's user cache folder ($TOWERPLAN_CACHE_DIR or the platform's).",
                 file_okay=False, show_default=False),
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Compute every stage; read and write no cache."),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="Where the coverage of the candidates and (terrain "
                 "chains) of the existing towers is computed: inprocess, local:N (N local "
                 "worker processes), dask-local:N (a Dask LocalCluster of N workers; needs "
                 "towerplan[dask]) or tcp://HOST:PORT (a running Dask scheduler). The results "
                 "are the same. Default: [compute] scheduler of the scenario (inprocess).",
                 show_default=False),
]


def _version(value: bool) -> None:
    if value:
        out.print(f"towerplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors "
                                        "(accepted anywhere on the command line).")] = False,
) -> None:
    """Plan telecom towers for blank-spot villages."""
    from towerplan.io.stamps import run_time_utc

    run_time_utc()  # a bad SOURCE_DATE_EPOCH: one line, before libraries that read it load


def _setup_logging(verbose: int, quiet: bool) -> None:
    from rich.logging import RichHandler

    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    level = logging.ERROR if quiet else levels[min(verbose, 2)]
    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.captureWarnings(True)
    for name in ("towerplan", "py.warnings"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [h for h in logger.handlers if not isinstance(h, RichHandler)]
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False


@contextmanager
def _stages(labels: tuple[str, ...], *, quiet: bool) -> Iterator[Callable[[str], None]]:
    """Rich progress bar over pipeline stages; yields the callback to pass to the library."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description:<30}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=err, transient=False, disable=quiet or not err.is_terminal)
    task = progress.add_task("starting", total=len(labels))

    def advance(label: str) -> None:
        # "candidate coverage 50/953" refines the stage "candidate coverage".
        stage = next((k for k, name in enumerate(labels) if label.startswith(name)), None)
        if stage is None:
            progress.update(task, description=label)
        else:
            progress.update(task, description=label, completed=stage)

    with progress:
        yield advance
        progress.update(task, description="done", completed=len(labels))


def _load(scenario: Path | None, scheduler: str | None = None) -> Scenario:
    """The scenario, with ``--scheduler`` (checked like the file's value) when given."""
    sc = load_scenario(scenario)
    if scheduler is None:
        return sc
    return dataclasses.replace(sc, compute=Compute(scheduler=scheduler))


def _cache(cache_dir: Path | None, no_cache: bool) -> StageCache | Path | bool:
    """The ``cache`` argument of the library from --cache-dir / --no-cache."""
    if no_cache:
        return False
    return cache_dir if cache_dir is not None else True


def _print_skipped(skipped: tuple[dict[str, str], ...]) -> None:
    """One line per output left out (also listed in summary.json ``outputs_skipped``)."""
    for item in skipped:
        verb = "not written" if item["status"] == "skipped" else "failed"
        err.print(f"towerplan: {item['file']} {verb}: {item['reason']}", markup=False,
                  soft_wrap=True)


@app.command()
def plan(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the estimated memory and "
                                          "disk of the run, what it would do with the output "
                                          "directory and which stages it would compute or "
                                          "reuse from the cache; compute and write nothing. "
                                          "Exit code 2 when the run would not fit.")] = False,
    skip_resource_check: Annotated[bool, typer.Option(
        "--skip-resource-check", help="Run even when the memory or disk estimate exceeds "
        "what is available.")] = False,
    qgis_project: Annotated[bool, typer.Option(
        "--qgis-project", help="Also write plan.qgz, a QGIS project of the plan's layers "
        "styled, grouped and ordered as on the map. Default: [outputs] qgis_project of the "
        "scenario (false).")] = False,
) -> None:
    """Run the whole plan and write map.html, report.xlsx/.html/.pdf, ranking.csv,
    villages.csv, plan.gpkg, coverage_before/after.tif (+ QGIS .qml), plan.kml/.kmz and
    summary.json (and, when asked, the QGIS project plan.qgz).

    Budgets and costs are in rupiah (IDR), heights in metres, RSRP in dBm. Memory and disk
    are estimated first; a run that cannot fit is refused. The output directory is locked
    during the run and published whole at the end; SIGINT, SIGTERM or SIGHUP stop the run
    with nothing changed (exit code 128 + the signal number).
    """
    from towerplan.commands.plan import run_plan
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    if qgis_project:
        sc = dataclasses.replace(sc, outputs=dataclasses.replace(sc.outputs, qgis_project=True))
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    if dry_run:
        _dry_run(sc, target, overwrite=overwrite, cache=_cache(cache_dir, no_cache))
        return
    t0 = time.perf_counter()
    with _stages(PLAN_STAGES, quiet=quiet) as progress:
        run = run_plan(sc, target, overwrite=overwrite, lang=lang.value if lang else None,
                       progress=progress, cache=_cache(cache_dir, no_cache),
                       check=not skip_resource_check)
    _print_skipped(run.outputs.skipped)
    if not quiet:
        s = run.summary
        unit = "people" if s["demand_basis"] == "population" else "km2"
        gap = (f"{s['optimality_gap']:.2%}" if s["optimality_gap"] is not None
               else "unknown (not proven optimal for the whole area)"
               if "by kabupaten" in str(s["solver"]) else "n/a (heuristic)")
        out.print(
            f"[bold]{sc.scenario.title}[/bold]"
            f"{'  (SYNTHETIC DATA / DATA SINTETIS)' if s['synthetic'] else ''}"
        )
        out.print(f"model: {s['model_chain']}")
        out.print(f"towers selected: {s['towers_selected']}, spent Rp {s['spent_idr']:,.0f} "
                  f"of Rp {s['budget_idr']:,.0f}; solver {s['solver']}, optimality gap {gap}")
        out.print(f"blank villages: {s['blank_villages_before']} -> "
                  f"{s['blank_villages_after']} of {s['villages_total']}; demand covered "
                  f"{s['demand_covered_before']:,.0f} -> {s['demand_covered_after']:,.0f} "
                  f"{unit} of {s['demand_total']:,.0f}")
        for text in s.get("limitations", ()):
            out.print(f"limitation: {text}", markup=False)
        if "programme" in s:
            _print_programme(s["programme"], unit)
        if run.reused:
            out.print(f"reused from the cache: {', '.join(run.reused)}", markup=False)
        out.print(f"outputs in {target} ({time.perf_counter() - t0:.1f} s)")
    if run.outputs.failed:
        raise typer.Exit(PARTIAL_OUTPUT)


def _dry_run(sc: Scenario, target: Path, *, overwrite: bool, cache: Any) -> None:
    """Print the estimate of ``plan --dry-run``; exit 2 (one line) when it cannot fit."""
    from towerplan.commands.plan import dry_run
    from towerplan.pipeline.resources import check_resources

    found = dry_run(sc, target, overwrite=overwrite, cache=cache)
    e = found.estimate

    def size(n: float | None) -> str:
        return "unknown" if n is None else f"{n / 1e6:,.0f} MB"

    where = {"new": "new directory", "empty": "empty directory, filled",
             "replace": "replaced as a whole (--overwrite)",
             "not empty": "not empty: the run would be refused without --overwrite"}
    lines = [
        "dry run: nothing computed, nothing written",
        f"villages extent {e.width_m / 1000:,.1f} x {e.height_m / 1000:,.1f} km; terrain grid "
        f"{e.terrain_shape[0]:,} x {e.terrain_shape[1]:,} cells of "
        f"{sc.terrain.resolution_m:g} m (radius {sc.radio.max_radius_km:g} km around)",
        f"demand cells up to {e.demand_cells:,} of {sc.coverage.demand_cell_m:g} m; candidates "
        f"about {e.candidates:,}; coverage matrix up to {e.matrix_entries:,} entries",
        f"memory: about {size(e.memory_bytes)} needed ("
        + ", ".join(f"{k} {size(v)}" for k, v in e.memory.items())
        + f"), {size(found.memory_available)} available",
        f"disk: outputs about {size(e.output_bytes)} in {found.out_dir} "
        f"({size(found.out_free)} free there)"
        + ("; no cache" if found.cache_dir is None else
           f"; cache up to {size(e.cache_bytes)} in {found.cache_dir} "
           f"({size(found.cache_free)} free)"),
        f"output directory {found.out_dir}: {where[found.out_state]}",
        "stages: " + ", ".join(f"{k} ({v})" for k, v in found.stages.items()),
    ]
    for line in lines:
        out.print(line, markup=False, soft_wrap=True)
    check_resources(sc, e, target, found.cache_dir)
    out.print("the run fits the memory and disks available", markup=False)


def _print_programme(p: dict[str, Any], unit: str) -> None:
    """The programme's lines: per year and channel, the totals and the audit band."""
    def money(value: float | None) -> str:
        return "no limit" if value is None else f"Rp {value:,.0f}"

    out.print(f"programme {p['years'][0]}-{p['years'][-1]}: {p['towers']} towers, "
              f"{p['people_new']:,.0f} {unit} newly served, capex Rp {p['capex_idr']:,.0f} "
              f"(Rp {p['cost_per_person_idr'] or 0:,.0f} per person); {p['method']}, gap "
              f"{p['gap']:.2%}, greedy {p['greedy_regret_pct']:.1f} % worse", markup=False)
    carried: dict[str, float] = {}
    for row in p["by_year_channel"]:
        came = carried.get(row["channel"], 0.0)
        extra = f" + Rp {came:,.0f} carried over" if came and row["budget_idr"] else ""
        carried[row["channel"]] = row["carried_idr"] or 0.0
        out.print(f"  {row['year']} {row['channel']}: {row['towers']} towers, "
                  f"{row['people_new']:,.0f} {unit}, spent {money(row['spent_idr'])} of "
                  f"{money(row['budget_idr'])}{extra}", markup=False)
    if p["audit"]:
        shares = [r["share_pct"] for r in p["audit"]]
        out.print(f"audit of the built towers: {min(shares):.1f}-{max(shares):.1f} % of the "
                  f"optimum for the same money (base {shares[0]:.1f} %)", markup=False)


@app.command("map")
def map_(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: MapOverwriteOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Run the plan and write only the offline map, map.html (layers, legend, village
    search; opens without internet)."""
    from towerplan.commands.map import plan_map
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES, quiet=quiet) as progress:
        result = plan_map(sc, target, lang=lang.value if lang else None, overwrite=overwrite,
                          progress=progress, cache=_cache(cache_dir, no_cache))
    if not quiet:
        s = result.summary
        out.print(f"{s['towers_selected']} towers selected; blank villages "
                  f"{s['blank_villages_before']} -> {s['blank_villages_after']}; "
                  f"map: {target / 'map.html'}")


@app.command()
def validate(
    scenario: ScenarioArg = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Check every input of a scenario and print what was found: CRS, extent, counts,
    repairs and problems. Exit code 2 when any problem is found."""
    from towerplan.commands.validate import validate as validate_scenario

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    report = validate_scenario(sc)
    if not quiet:
        table = Table(title=f"Inputs of {sc.scenario.name} (working CRS {report.crs or '?'})")
        for col in ("layer", "source", "CRS", "extent (W, S, E, N deg)", "count",
                    "repairs / notes", "problems"):
            table.add_column(col, overflow="fold")
        for r in report.reports:
            extent = ", ".join(f"{v:.3f}" for v in r.extent) if r.count else "-"
            table.add_row(r.layer, r.source, r.crs, extent, f"{r.count:,}",
                          "\n".join((*r.repairs, *r.notes)) or "-",
                          "\n".join(r.problems) or "-")
        out.print(table)
        for problem in report.problems:  # one line each, never wrapped
            out.print(f"problem: {problem}", markup=False, highlight=False, soft_wrap=True)
    report.raise_for_problems()
    if not quiet:
        out.print("all inputs are usable")


@app.command()
def match(
    scenario: ScenarioArg = None,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Matching report CSV; "
                                           "village_mapping_todo.csv is written beside it when "
                                           "names remain to settle.", dir_okay=False)]
    = Path("register_match.csv"),
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Match the village names of the boundary file to the register ([inputs] register):
    exact, normalised (prefixes, spelling, spacing, abbreviations) and fuzzy within each
    kecamatan. Writes the report; fill in village_mapping_todo.csv and name it in
    [inputs] village_mapping to settle the rest. Exit code 2 while names remain unsettled."""
    from towerplan.commands.match import match_scenario

    _setup_logging(verbose, quiet)
    run = match_scenario(_load(scenario), out_file, overwrite=overwrite)
    if not quiet:
        out.print(run.report.summary_line(), markup=False)
        for m in run.report.unsettled:
            out.print(f"{m.status}: {m.name} ({m.district or '?'}) - {m.note}"
                      f"{'; candidates ' + ', '.join(m.candidates) if m.candidates else ''}",
                      markup=False)
        for path in run.files:
            out.print(f"wrote {path}", markup=False)
    run.raise_if_unsettled()


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the demo "
                                          "data set into (must be empty or new).",
                                          file_okay=False)],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")]
    = 2022,
    resolution_m: Annotated[float, typer.Option("--resolution-m", help="Terrain cell size in "
                                                "metres: 90 or 30.")] = 90.0,
    province: Annotated[bool, typer.Option("--province", help="Write a synthetic province "
                                           "instead: --kabupaten demo kabupaten side by side "
                                           "(seeds SEED, SEED+1, ...) with a ready-to-run "
                                           "scenario.toml.")] = False,
    kabupaten: Annotated[int, typer.Option("--kabupaten", help="With --province: number of "
                                           "kabupaten, 1-40 (10: about 1,440 villages).")]
    = 10,
    quiet: QuietOpt = False,
) -> None:
    """Write the synthetic demo kabupaten (villages, terrain, towers, settlements, land
    cover, fibre points of presence), or with --province a synthetic province of several.
    Not a real place: every file says so."""
    from towerplan.commands.demo import write_demo, write_province
    from towerplan.io.demo import DEMO_STAGES

    if province:
        labels = (*(f"kabupaten {k + 1}/{kabupaten}" for k in range(max(kabupaten, 0))),
                  "writing")
        with _stages(labels, quiet=quiet) as progress:
            manifest = write_province(out_dir, seed=seed, kabupaten=kabupaten,
                                      resolution_m=float(resolution_m), progress=progress)
        if not quiet:
            out.print(f"synthetic province ({kabupaten} kabupaten, seed {seed}, "
                      f"{float(resolution_m):g} m) written to {manifest.directory}; run: "
                      f"towerplan plan {manifest.directory / 'scenario.toml'}")
        return
    with _stages(DEMO_STAGES, quiet=quiet) as progress:
        manifest = write_demo(out_dir, seed=seed, resolution_m=float(resolution_m),
                              progress=progress)
    if not quiet:
        out.print(f"synthetic demo (seed {seed}, {float(resolution_m):g} m) written to "
                  f"{manifest.directory}")


@contextmanager
def _downloads(*, quiet: bool) -> Iterator[Callable[[str, int, int | None], None]]:
    """Rich progress bars of downloads on stderr; yields the callback for the library."""
    from rich.progress import DownloadColumn, TaskID, TransferSpeedColumn

    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                        TransferSpeedColumn(), console=err, transient=True,
                        disable=quiet or not err.is_terminal)
    tasks: dict[str, TaskID] = {}

    def update(label: str, done: int, total: int | None) -> None:
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=total)
        progress.update(tasks[label], completed=done, total=total)

    with progress:
        yield update


@app.command()
def fetch(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write (new or "
                                          "empty): osm.gpkg, dem.tif, landcover.tif, "
                                          "towers.csv, settlements.csv, sources.json and a "
                                          "ready-to-run scenario.toml.", file_okay=False,
                                          show_default=False)],
    scenario: ScenarioArg = None,
    kabupaten: Annotated[str | None, typer.Option("--kabupaten", help="Kabupaten name as in "
                                                  "OpenStreetMap, e.g. Paser.",
                                                  show_default=False)] = None,
    code: Annotated[str | None, typer.Option("--code", help="Kemendagri code of a kabupaten "
                                             "(64.01), kecamatan (64.01.07) or desa "
                                             "(64.01.07.2009), named through the village "
                                             "register.", show_default=False)] = None,
    bbox: Annotated[str | None, typer.Option("--bbox", help="Bounding box W,S,E,N in degrees "
                                             "(WGS 84).", show_default=False)] = None,
    offline: Annotated[bool, typer.Option("--offline", help="Use only the cache; list what "
                                          "is missing (exit code 2).")] = False,
    cache: Annotated[Path | None, typer.Option("--cache", help="Cache folder. Default: "
                                               "fetch/ in towerplan's user cache folder "
                                               "($TOWERPLAN_CACHE_DIR or the platform's).",
                                               file_okay=False, show_default=False)] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Download again what is "
                                          "cached.")] = False,
    overpass_url: Annotated[str | None, typer.Option("--overpass-url", help="Overpass API "
                                                     "endpoint. Default: [sources] "
                                                     "overpass_url.", show_default=False)]
    = None,
    dem_url: Annotated[str | None, typer.Option("--dem-url", help="Base URL of the Copernicus "
                                                "GLO-30 tiles. Default: [sources] dem_url.",
                                                show_default=False)] = None,
    worldcover_url: Annotated[str | None, typer.Option("--worldcover-url", help="Base URL of "
                                                       "the ESA WorldCover 2021 tiles. "
                                                       "Default: [sources] worldcover_url.",
                                                       show_default=False)] = None,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Attempts per "
                                              "file on HTTP 429/5xx and connection errors "
                                              "(exponential backoff, Retry-After "
                                              "honoured).")] = 5,
    margin_km: Annotated[float | None, typer.Option("--margin-km", min=3.0, help="Margin of "
                                                    "the rasters around the area, km. "
                                                    "Default: [radio] max_radius_km + 2 "
                                                    "(32).", show_default=False)] = None,
    register: Annotated[Path | None, typer.Option("--register", help="Village register CSV "
                                                  "for --code. Default: "
                                                  "builtin:paser-register (Kabupaten Paser, "
                                                  "shipped with towerplan).", dir_okay=False,
                                                  show_default=False)] = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Download open data for a kabupaten, kecamatan, desa or bbox: OpenStreetMap boundaries,
    places, roads, towers and power lines (Overpass API), Copernicus GLO-30 terrain and ESA
    WorldCover land cover; cached, retried and resumed; with sources.json (licences,
    checksums) and a scenario.toml that `towerplan plan` runs as is. SCENARIO gives the
    [sources] URLs and [radio] max_radius_km (margin)."""
    from towerplan.commands.fetch import default_margin_km, fetch_area
    from towerplan.fetch.area import area_from_options
    from towerplan.fetch.http import RetryPolicy

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    urls = {k: v for k, v in (("overpass_url", overpass_url), ("dem_url", dem_url),
                              ("worldcover_url", worldcover_url)) if v is not None}
    sources = dataclasses.replace(sc.sources, **urls)
    area = area_from_options(kabupaten=kabupaten, code=code, bbox=bbox, register=register)
    with _downloads(quiet=quiet) as progress:
        result = fetch_area(
            area, out_dir, sources=sources, cache_dir=cache, offline=offline,
            refresh=refresh, overwrite=overwrite, policy=RetryPolicy(max_attempts=max_attempts),
            margin_km=margin_km if margin_km is not None
            else default_margin_km(sc.radio.max_radius_km),
            register=register, progress=progress)
    if quiet:
        return
    n = result.counts
    out.print(f"{result.area.label}: {n[result.villages_layer]} {result.villages_layer}, "
              f"{n['places']} places, {n['towers']} towers, {n['roads']} roads, "
              f"{n['power_lines']} power lines; {len(result.downloads)} files, "
              f"{result.downloaded} downloaded", markup=False, soft_wrap=True)
    for note in result.notes:
        out.print(f"note: {note}", markup=False, soft_wrap=True)
    out.print(f"written to {result.directory}; next: towerplan plan "
              f"{result.directory / 'scenario.toml'}", markup=False, soft_wrap=True)


@app.command()
def link(
    start: Annotated[str, typer.Option("--from", help="Transmitter position LON,LAT in "
                                       "degrees (WGS 84).", show_default=False)],
    end: Annotated[str, typer.Option("--to", help="Receiver position LON,LAT in degrees.",
                                     show_default=False)],
    dem: Annotated[list[Path], typer.Option("--dem", help="Terrain file (GeoTIFF or SRTM "
                                            ".hgt); repeat for a mosaic.", exists=False,
                                            dir_okay=False, show_default=False)],
    freq_mhz: Annotated[float, typer.Option("--freq-mhz", help="Frequency in MHz.")]
    = _RADIO.freq_mhz,
    h_tx_m: Annotated[float | None, typer.Option("--h-tx-m", help="Transmitter antenna "
                                                 "height above ground, m. Default: 42 (tower); "
                                                 "with --band-ghz 40 (dish on a new site).",
                                                 show_default=False)] = None,
    h_rx_m: Annotated[float | None, typer.Option("--h-rx-m", help="Receiver antenna height "
                                                 "above ground, m. Default: 1.5 (handset); "
                                                 "with --band-ghz 40.",
                                                 show_default=False)] = None,
    model: Annotated[str, typer.Option("--model", help="Model chain, e.g. hata-suburban, "
                                       "hata-suburban+deygout+clutter, rma+deygout, itm.")]
    = _RADIO.model,
    landcover: Annotated[Path | None, typer.Option("--landcover", help="ESA WorldCover "
                                                   "raster for the vegetation depth at the "
                                                   "receiver (clutter term).",
                                                   dir_okay=False, show_default=False)] = None,
    resolution_m: Annotated[float, typer.Option("--resolution-m", help="Cell size of the "
                                                "terrain grid the profile is sampled from, "
                                                "m.")] = 30.0,
    png: Annotated[Path, typer.Option("--png", help="Profile plot to write (PNG).",
                                      dir_okay=False)] = Path("link_profile.png"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
    = False,
    band_ghz: Annotated[float | None, typer.Option("--band-ghz", help="Check the path as a "
                                                   "microwave backhaul hop in this band (e.g. "
                                                   "7, 13, 18 GHz): Fresnel clearance, rain "
                                                   "fade margin at the [backhaul] defaults.",
                                                   show_default=False)] = None,
    lang: LangOpt = None,
) -> None:
    """Point-to-point report between two points over the terrain: distance, line of sight,
    worst first-Fresnel clearance, diffraction per method, clutter, total loss (dB), RSRP
    (dBm) and margin (dB), plus a profile plot. EIRP and threshold come from the radio
    defaults (61 dBm, -105 dBm). With --band-ghz the path is checked as a microwave backhaul
    hop: clearance of 60 % of the first Fresnel zone and the rain fade margin (ITU-R P.530)."""
    from towerplan.commands.link import link as run_link
    from towerplan.commands.options import parse_lonlat

    radio = dataclasses.replace(_RADIO, freq_mhz=freq_mhz)
    run = run_link(dem, parse_lonlat(start, "--from"), parse_lonlat(end, "--to"), png,
                   radio=radio, h_tx_m=h_tx_m, h_rx_m=h_rx_m, model=model,
                   resolution_m=resolution_m, landcover=landcover, band_ghz=band_ghz,
                   lang=lang.value if lang else "id")
    report = run.report
    if as_json:
        out.print_json(json.dumps({**report.to_dict(), "png": str(png)}))
        return
    table = Table(title=f"{report.model}: {report.model_text}", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    rows = [
        ("distance", f"{report.distance_m / 1000:.3f} km (profile step {report.step_m:g} m)"),
        ("frequency, heights", f"{report.freq_mhz:g} MHz, Tx {report.h_tx_m:g} m, "
                               f"Rx {report.h_rx_m:g} m, k = {report.k_factor:.4g}"),
        ("line of sight", "yes" if report.los else "no (blocked)"),
        ("worst Fresnel clearance", f"{report.worst_fresnel_ratio:.2f} x F1 at "
                                    f"{report.worst_at_m / 1000:.2f} km"),
        *((f"diffraction {m}", f"{v:.2f} dB") for m, v in report.diffraction_db.items()),
        ("vegetation at receiver", f"{report.vegetation_m:g} m"),
        ("base loss", f"{report.base_db:.2f} dB"),
        ("diffraction (model)", f"{report.model_diffraction_db:.2f} dB"),
        ("clutter", f"{report.clutter_db:.2f} dB"),
        ("total loss", f"{report.total_loss_db:.2f} dB"),
        ("RSRP", f"{report.rsrp_dbm:.2f} dBm (EIRP {report.eirp_dbm:g} dBm)"),
        ("margin", f"{report.margin_db:+.2f} dB over {report.threshold_rsrp_dbm:g} dBm"),
        ("terrain", report.terrain),
        *(("note", n) for n in report.notes),
        *_microwave_rows(report.microwave),
        ("profile plot", str(png)),
    ]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)


def _microwave_rows(mw: dict[str, Any] | None) -> list[tuple[str, str]]:
    if mw is None:
        return []
    verdict = "yes" if mw["feasible"] else f"no ({mw['reason']})"
    return [
        ("microwave hop", f"{mw['band_ghz']:g} GHz {mw['polarisation']}, dishes "
                          f"{mw['antenna_gain_dbi']:.1f} dBi"),
        ("Fresnel clearance", f"{mw['clearance_ratio']:.2f} x F1 (needed "
                              f"{mw['min_clearance']:g} at k = {mw['k_factor']:.4g})"),
        ("free space, gases", f"{mw['free_space_db']:.2f} dB, {mw['gaseous_db']:.2f} dB"),
        ("receive level", f"{mw['rx_level_dbm']:.2f} dBm, fade margin "
                          f"{mw['fade_margin_db']:.2f} dB"),
        ("rain", f"{mw['rain_db']:.2f} dB exceeded {100 - mw['availability']:.3g} % of the "
                 f"year at R0.01 = {mw['rain_rate_mm_h']:g} mm/h"),
        ("margin after rain", f"{mw['margin_db']:+.2f} dB"),
        ("feasible", verdict),
    ]


@app.command()
def coverage(
    scenario: ScenarioArg = None,
    dem: Annotated[list[Path] | None, typer.Option("--dem", help="Terrain file (GeoTIFF or "
                                                   "SRTM .hgt); repeat for a mosaic. With "
                                                   "--dem, the sites come from --site/--sites "
                                                   "instead of the scenario's towers.",
                                                   dir_okay=False, show_default=False)] = None,
    site: Annotated[list[str] | None, typer.Option("--site", help="Site position LON,LAT in "
                                                   "degrees; repeatable.",
                                                   show_default=False)] = None,
    sites: Annotated[Path | None, typer.Option("--sites", help="CSV of sites "
                                               "(lon,lat[,height_m][,tower_id]).",
                                               dir_okay=False, show_default=False)] = None,
    height_m: Annotated[float | None, typer.Option("--height-m", help="Antenna height above "
                                                   "ground, m. Default: [radio] "
                                                   "tower_height_m (42).",
                                                   show_default=False)] = None,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="Largest distance "
                                                    "evaluated, km. Default: [radio] "
                                                    "max_radius_km (30).",
                                                    show_default=False)] = None,
    freq_mhz: Annotated[float | None, typer.Option("--freq-mhz", help="Frequency, MHz. "
                                                   "Default: [radio] freq_mhz (900).",
                                                   show_default=False)] = None,
    model: Annotated[str | None, typer.Option("--model", help="Model chain, e.g. "
                                              "hata-suburban+deygout+clutter. Default: "
                                              "[radio] model.", show_default=False)] = None,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Best-server RSRP COG (dBm); "
                                           "<name>_server.tif, <name>_servers.tif and the "
                                           "QGIS style <name>.qml are written beside it.",
                                           dir_okay=False)]
    = Path("coverage.tif"),
    overwrite: OverwriteOpt = False,
    timings: Annotated[bool, typer.Option("--timings", help="Print on stderr the seconds "
                                          "spent loading the program, reading the inputs, "
                                          "reprojecting the DEM, computing and writing.")]
    = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Coverage rasters (best-server RSRP, server index, servers above the threshold) of
    given sites over a DEM, or of a scenario's existing towers."""
    started = time.perf_counter()
    if dem:  # given sites over a DEM: neither pandas nor geopandas is loaded
        from towerplan.commands.coverage import coverage as run_coverage
        from towerplan.commands.options import parse_lonlat
    else:
        from towerplan.commands.coverage_towers import coverage_of_towers

    loaded = time.perf_counter() - started

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    result: CoverageResult
    if dem:
        points = [parse_lonlat(text, "--site") for text in site or ()]
        result = run_coverage(sc, out_file, dem=dem, sites_lonlat=points, sites_csv=sites,
                              height_m=height_m, radius_km=radius_km, freq_mhz=freq_mhz,
                              model=model, overwrite=overwrite)
    else:
        with _stages(("inputs", "coverage"), quiet=quiet) as progress:
            result = coverage_of_towers(sc, out_file, height_m=height_m, radius_km=radius_km,
                                        freq_mhz=freq_mhz, model=model, overwrite=overwrite,
                                        progress=progress)
    if timings:
        for phase, seconds in {"imports": loaded, **result.timings}.items():
            err.print(f"timing {phase:<10} {seconds:8.3f} s", markup=False)
        err.print(f"timing {'total':<10} {time.perf_counter() - started:8.3f} s", markup=False)
    if not quiet:
        out.print(f"{len(result.site_ids)} sites; {result.covered_km2():,.1f} km2 at RSRP "
                  f">= {result.threshold_rsrp_dbm:g} dBm; model: {result.model_chain}")
        for path in result.files:
            out.print(f"wrote {path}")


@app.command()
def blankspots(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Today's blank spots per village: area and demand covered by the existing towers,
    status (blank / partial / covered), best server and median RSRP. Writes villages.csv,
    blankspots.gpkg and coverage_before.tif."""
    from towerplan.commands.blankspots import blankspots as run_blankspots
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:4], quiet=quiet) as progress:
        state = run_blankspots(sc, target, overwrite=overwrite, progress=progress,
                               cache=_cache(cache_dir, no_cache))
    if not quiet:
        counts = state.stats["status"].value_counts()
        out.print(f"{len(state.villages)} villages: {counts.get('blank', 0)} blank, "
                  f"{counts.get('partial', 0)} partial, {counts.get('covered', 0)} covered "
                  f"(blank < {sc.coverage.blank_below:.0%}, covered >= "
                  f"{sc.coverage.covered_at_least:.0%} of demand); outputs in {target}")


@app.command()
def evidence(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    lang: LangOpt = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Agreement of the modelled status of today with the village signal reports: confusion
    table (reported blank / semi blank / served / unknown against modelled blank / partial /
    covered) in villages and people, overall and per kecamatan, accuracy and Cohen's kappa
    (semi blank agrees with partial), and the disagreeing villages. Writes evidence.csv,
    evidence_agreement.csv and evidence.json. Exit 2 when the scenario has no
    [inputs] signal_reports."""
    from towerplan.commands.evidence import evidence as run_evidence
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:4], quiet=quiet) as progress:
        result = run_evidence(sc, target, overwrite=overwrite, progress=progress,
                              cache=_cache(cache_dir, no_cache))
    if not quiet:
        _print_evidence(result, lang.value if lang else sc.outputs.lang)
        for path in result.files:
            out.print(f"wrote {path}", markup=False)


def _print_evidence(result: Any, lang: str) -> None:
    """Confusion tables, figures and disagreeing villages of ``towerplan evidence``."""
    from towerplan.analysis.agreement import MODEL_CLASSES
    from towerplan.i18n import format_number, format_percent, status_label, t

    people_key = "evidence.people" if result.demand_basis == "population" else "evidence.demand"

    def confusion(agr: Any, where: str) -> None:
        for key, frame, decimals in (("evidence.villages", agr.villages, 0),
                                     (people_key, agr.people, 0)):
            table = Table(title=f"{t('evidence.title', lang)}: {where} ({t(key, lang)})")
            table.add_column(t("evidence.reported", lang))
            for m in MODEL_CLASSES:
                table.add_column(f"{t('evidence.modelled', lang)}: {status_label(m, lang)}",
                                 justify="right")
            table.add_column(t("evidence.total", lang), justify="right")
            for rep in frame.index:
                row = frame.loc[rep]
                table.add_row(status_label(rep, lang),
                              *(format_number(float(v), lang, decimals) for v in row),
                              format_number(float(row.sum()), lang, decimals))
            out.print(table)
        out.print(f"{t('evidence.accuracy', lang)} {format_percent(agr.accuracy, lang)} "
                  f"({agr.agreeing}/{agr.reported}), {t('evidence.kappa', lang)} "
                  f"{format_number(agr.kappa, lang, 2)}", markup=False)

    confusion(result.overall, t("evidence.all", lang))
    for key, attr in (("evidence.villages", "villages"), (people_key, "people")):
        table = Table(title=f"{t('evidence.title', lang)}: {t('col.district', lang)} "
                      f"({t(key, lang)}; {' / '.join(status_label(m, lang) for m in MODEL_CLASSES)}"
                      f" {t('evidence.modelled', lang).lower()})")
        table.add_column(t("col.district", lang))
        for rep in result.overall.villages.index:
            table.add_column(f"{t('evidence.reported', lang)}: {status_label(rep, lang)}",
                             justify="right")
        table.add_column(t("evidence.accuracy", lang), justify="right")
        table.add_column(t("evidence.kappa", lang), justify="right")
        for code, (name, agr) in result.districts.items():
            frame = getattr(agr, attr)
            table.add_row(f"{name} ({code})",
                          *(" / ".join(format_number(float(v), lang) for v in frame.loc[rep])
                            for rep in frame.index),
                          format_percent(agr.accuracy if attr == "villages"
                                         else agr.people_accuracy, lang),
                          format_number(agr.kappa, lang, 2) if attr == "villages" else "")
        out.print(table)
    out.print(t("evidence.rule", lang), markup=False)
    rows = result.disagreeing
    if not len(rows):
        out.print(t("evidence.none_disagree", lang), markup=False)
        return
    table = Table(title=t("evidence.disagreeing", lang))
    for col in ("code", "name", "district", "status_reported", "reported_date",
                "reported_source", "status_model", "share_covered_model", "demand_total"):
        table.add_column(t(f"col.{col}", lang),
                         justify="right" if col in ("share_covered_model", "demand_total")
                         else "left")
    for _, r in rows.iterrows():
        table.add_row(str(r["code"]), str(r["name"]), str(r["district"]),
                      f"{status_label(r['status_reported'], lang)} ({r['signal_reported']})",
                      str(r["reported_date"]), str(r["reported_source"]),
                      status_label(r["status_model"], lang),
                      format_percent(float(r["share_covered_model"]), lang),
                      format_number(float(r["demand_total"]), lang))
    out.print(table)


class Criterion(StrEnum):
    """What a calibration to village reports maximises."""

    kappa = "kappa"
    accuracy = "accuracy"


@app.command()
def calibrate(
    scenario: ScenarioArg = None,
    measurements: Annotated[Path | None, typer.Option(
        "--measurements", "-m", help="Drive-test CSV: lon,lat,rsrp_dbm[,site_id]; site_id is "
        "the tower_id of the serving site (default: the nearest existing tower).",
        dir_okay=False, show_default=False)] = None,
    from_reports: Annotated[bool, typer.Option(
        "--from-reports", help="Use the village signal reports ([inputs] signal_reports) as "
        "labels instead of a drive test: fit the RSRP offset (-20..+20 dB, 0.5 dB steps) that "
        "makes the modelled status agree best with the reported status, cross-validated over "
        "villages.")] = False,
    criterion: Annotated[Criterion, typer.Option(
        "--criterion", help="With --from-reports: what the offset maximises, Cohen's kappa "
        "or accuracy.")] = Criterion.kappa,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for calibration.json "
                                          "and calibration.toml. Default: the current "
                                          "directory.", show_default=False, file_okay=False)]
    = Path(),
    folds: Annotated[int, typer.Option("--folds", min=2, help="Folds of the "
                                       "cross-validation.")] = 5,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
) -> None:
    """Fit an RSRP offset (dB) and distance slope (dB per decade) of the scenario's model
    chain to drive-test measurements (--measurements), or the offset alone to the village
    signal reports (--from-reports), cross-validate them, and write calibration.json and
    calibration.toml (a [radio.calibration] table to paste into the scenario)."""
    from towerplan.commands.calibrate import calibrate as run_calibration
    from towerplan.io.landcover import WORLDCOVER_CLASSES

    _setup_logging(verbose, quiet)
    if (measurements is None) == (not from_reports):
        err.print("towerplan: give either --measurements FILE (a drive test) or "
                  "--from-reports (the scenario's village signal reports)", markup=False)
        raise typer.Exit(2)
    sc = _load(scenario)
    if from_reports:
        _calibrate_from_reports(sc, out_dir, folds, criterion.value, overwrite, quiet,
                                _cache(cache_dir, no_cache))
        return
    assert measurements is not None
    run = run_calibration(sc, measurements, out_dir, k=folds, overwrite=overwrite)
    if quiet:
        return
    result = run.result
    fit, cv = result.fit, result.cross_validation
    table = Table(title=f"Calibration of {result.model}")
    for col in ("", "before", "after"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("RMSE (dB)", f"{fit.before.rmse_db:.2f}", f"{fit.after.rmse_db:.2f}")
    table.add_row("mean error (dB)", f"{round(fit.before.mean_error_db, 2) + 0.0:+.2f}",
                  f"{round(fit.after.mean_error_db, 2) + 0.0:+.2f}")
    table.add_row(f"{cv.k}-fold CV RMSE (dB)", f"{cv.before.rmse_db:.2f}",
                  f"{cv.after.rmse_db:.2f}")
    table.add_row(f"{cv.k}-fold CV mean error (dB)",
                  f"{round(cv.before.mean_error_db, 2) + 0.0:+.2f}",
                  f"{round(cv.after.mean_error_db, 2) + 0.0:+.2f}")
    out.print(table)
    out.print(f"offset {fit.offset_db:+.2f} dB, slope {fit.slope_db_per_decade:+.2f} dB per "
              f"decade of distance; n = {fit.n} of {result.rows} measurements, "
              f"{len(result.sites)} sites, {result.distance_km[0]:.2f}-"
              f"{result.distance_km[1]:.2f} km")
    for c in result.class_offsets:
        out.print(f"land cover {c.code} {WORLDCOVER_CLASSES.get(c.code, '')}: mean residual "
                  f"after the fit {c.offset_db:+.2f} dB (n = {c.count})")
    for note in result.notes:
        out.print(f"note: {note}")
    out.print(f"written {run.files[0]} and {run.files[1]}")


def _calibrate_from_reports(sc: Scenario, out_dir: Path, folds: int, criterion: Any,
                            overwrite: bool, quiet: bool, cache: Any) -> None:
    from towerplan.commands.calibrate_reports import calibrate_from_reports
    from towerplan.pipeline.plan import PLAN_STAGES

    with _stages(PLAN_STAGES[:4], quiet=quiet) as progress:
        result = calibrate_from_reports(sc, out_dir, k=folds, criterion=criterion,
                                        overwrite=overwrite, progress=progress, cache=cache)
    if quiet:
        return
    fit = result.fit
    table = Table(title=f"Calibration of {result.model} to village signal reports")
    for col in ("", "before", "after"):
        table.add_column(col, justify="left" if not col else "right")
    table.add_row("accuracy", f"{fit.before.accuracy:.3f}", f"{fit.after.accuracy:.3f}")
    table.add_row("Cohen's kappa", f"{fit.before.kappa:.3f}", f"{fit.after.kappa:.3f}")
    table.add_row(f"{fit.k}-fold CV accuracy", f"{fit.cv_before[0]:.3f}",
                  f"{fit.cv_after[0]:.3f}")
    table.add_row(f"{fit.k}-fold CV kappa", f"{fit.cv_before[1]:.3f}", f"{fit.cv_after[1]:.3f}")
    out.print(table)
    out.print(f"offset change {fit.offset_db:+.1f} dB (maximising {fit.criterion}; folds "
              f"{min(fit.fold_offsets_db):+.1f}..{max(fit.fold_offsets_db):+.1f} dB): "
              f"[radio.calibration] offset_db = {result.offset_db:+.2f}; "
              f"{fit.before.reported} reported villages, target {result.target}",
              markup=False)
    out.print(f"written {result.files[0]} and {result.files[1]}", markup=False)


@app.command()
def candidates(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Candidate sites (hilltops, grid, settlements, user CSV) in and around blank and partial
    villages, with village, kecamatan, elevation (m), cost parts (Rp) and the demand each would
    newly cover. Writes candidates.csv and candidates.gpkg."""
    from towerplan.commands.candidates import candidates as run_candidates
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:7], quiet=quiet) as progress:
        problem = run_candidates(sc, target, overwrite=overwrite, progress=progress,
                                 cache=_cache(cache_dir, no_cache))
    if not quiet:
        counts = problem.candidates["origin"].value_counts().to_dict()
        out.print(f"{len(problem.candidates)} candidates "
                  f"({', '.join(f'{k} {v}' for k, v in counts.items())}); outputs in {target}")


@app.command()
def sweep(
    scenario: ScenarioArg = None,
    budgets: Annotated[str, typer.Option("--budgets", help="Budgets in rupiah: START:STOP:STEP "
                                         "(inclusive) or a comma list.")]
    = "1.7e9:17e9:1.7e9",
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Coverage against budget (Rp) for the exact MILP and the greedy rule, with the marginal
    demand per extra tower: people gained since the previous budget per tower's worth
    (costs.tower_idr) of extra money. Writes sweep.csv and sweep.png (both curves and the
    gain per extra tower, labelled in --lang)."""
    from towerplan.commands.options import parse_budgets
    from towerplan.commands.sweep import sweep as run_sweep
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    values = parse_budgets(budgets)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:8], quiet=quiet) as progress:
        table = run_sweep(sc, values, target, overwrite=overwrite,
                          lang=lang.value if lang else None, progress=progress,
                          cache=_cache(cache_dir, no_cache))
    if quiet:
        return
    view = Table(title=f"{sc.scenario.title}: coverage vs budget")
    for col in ("budget (Rp bn)", "towers", "covered (MILP)", "covered (greedy)",
                "greedy shortfall", "per extra tower"):
        view.add_column(col, justify="right")
    for _, r in table.iterrows():
        view.add_row(f"{r.budget_idr / 1e9:g}", str(int(r.towers_milp)),
                     f"{r.demand_covered_milp:,.0f}", f"{r.demand_covered_greedy:,.0f}",
                     f"{r.greedy_shortfall_pct:.2f} %",
                     f"{r.marginal_demand_per_extra_tower:,.0f}")
    out.print(view)
    out.print(f"outputs in {target}")


@app.command()
def audit(
    scenario: ScenarioArg = None,
    villages: Annotated[str | None, typer.Option("--villages", help="Comma-separated village "
                                                 "names or Kemendagri codes that each get one "
                                                 "tower. Default: [audit] villages of the "
                                                 "scenario.", show_default=False)] = None,
    sites: Annotated[Path | None, typer.Option("--sites", metavar="<csv>", help="CSV of "
                                               "audited sites: lon,lat[,site_id,height_m]; "
                                               "coverage and costs are computed like "
                                               "candidates'. Default: [audit] sites of the "
                                               "scenario.", show_default=False)] = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Compare a choice of villages (the best candidate inside each) and/or sites with the
    exact optimum for the same budget (Rp): demand covered, % of optimum, and the villages
    the optimum serves instead. Writes audit.csv, audit.json and audit.gpkg."""
    from towerplan.commands.audit import audit as run_audit
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    names = [v.strip() for v in villages.split(",") if v.strip()] if villages else []
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:9], quiet=quiet) as progress:
        s = run_audit(sc, target, villages=names, sites=sites, overwrite=overwrite,
                      progress=progress, cache=_cache(cache_dir, no_cache))
    if quiet:
        return
    unit = "people" if s["demand_basis"] == "population" else "km2"
    out.print(f"audited: {', '.join(v or '-' for v in s['audit_villages'])} - "
              f"Rp {s['audit_cost_idr']:,.0f}, "
              f"{s['audit_demand']:,.0f} {unit} newly covered")
    out.print(f"optimum for Rp {s['budget_idr']:,.0f}: {s['optimum_demand']:,.0f} {unit} "
              f"({len(s['optimum_sites'])} towers); the audited choice reaches "
              f"{s['share_of_optimum']:.1%} of it")
    if s["villages_served_only_by_optimum"]:
        out.print("the optimum serves instead: "
                  + ", ".join(s["villages_served_only_by_optimum"]))
    out.print(f"outputs in {target}")


@app.command()
def backhaul(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    cache_dir: CacheDirOpt = None,
    no_cache: NoCacheOpt = False,
    scheduler: SchedulerOpt = None,
) -> None:
    """Backhaul of the selected sites: fibre, microwave hops over the terrain (60 % first
    Fresnel clearance, rain fade margin) relaying through existing towers, or VSAT; per-site
    and joint models compared. Writes links.gpkg, links.csv, hops.csv (every hop checked)
    and backhaul.json. Costs in rupiah (Rp)."""
    from towerplan.commands.backhaul import run_backhaul
    from towerplan.pipeline.plan import PLAN_STAGES

    _setup_logging(verbose, quiet)
    sc = _load(scenario, scheduler)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    with _stages(PLAN_STAGES[:8], quiet=quiet) as progress:
        run = run_backhaul(sc, target, overwrite=overwrite, progress=progress,
                           cache=_cache(cache_dir, no_cache))
    if quiet:
        return
    s = run.outcome.summary
    table = Table(title=f"Backhaul ({s['model']}): {s['hop_model']}")
    for col in ("site", "village", "technology", "hops", "path", "backhaul (Rp)",
                "worst clearance"):
        table.add_column(col, justify="right" if col in ("hops", "backhaul (Rp)") else "left",
                         overflow="fold")
    for r in run.rows():
        clear = "-" if r["worst_clearance"] != r["worst_clearance"] \
            else f"{r['worst_clearance']:.2f} x F1"
        table.add_row(str(r["site_id"]), str(r["village"]), str(r["technology"]),
                      str(r["hops"]), str(r["path"]) or "-", f"{r['backhaul_idr']:,.0f}", clear)
    out.print(table)
    ps, jt = s.get("per-site"), s.get("joint")
    for name, m in (("per-site", ps), ("joint", jt)):
        if m:
            out.print(f"{name}: {m['towers']} towers, demand {m['demand_covered']:,.0f}, total "
                      f"Rp {m['total_cost_idr']:,.0f} (backhaul Rp {m['backhaul_idr']:,.0f})")
    out.print(f"{s['hop_pairs_checked']:,} hops checked, {s['hops_feasible']:,} feasible; "
              f"outputs in {target}")


# --------------------------------------------------------------------------- history

status_app = typer.Typer(
    help="Keep the programme history (programme.gpkg): village signal reports, budgets per "
    "year and channel, and the life of each tower site (proposed, budgeted, tendered, "
    "tender_failed, built, on_air, cancelled). Every write is validated and atomic.",
    no_args_is_help=True, rich_markup_mode=None)
status_add_app = typer.Typer(help="Record one fact in the history.", no_args_is_help=True,
                             rich_markup_mode=None)
status_app.add_typer(status_add_app, name="add")
app.add_typer(status_app, name="status")

HistoryOpt = Annotated[
    Path, typer.Option("--history", "-H", help="The history, a GeoPackage (QGIS opens it).",
                       dir_okay=False),
]
_HISTORY_DEFAULT = Path("programme.gpkg")


@status_app.command("import")
def status_import(
    scenario: Annotated[Path | None, typer.Argument(
        help="Scenario TOML: its villages (with population), signal reports, programme "
        "budgets and built towers are added. Default: none.", show_default=False,
        dir_okay=False)] = None,
    history: HistoryOpt = _HISTORY_DEFAULT,
    reports: Annotated[list[Path] | None, typer.Option(
        "--reports", help="A signal-report file (CSV/XLSX, as [inputs] signal_reports); "
        "repeat for several.", dir_okay=False, show_default=False)] = None,
    sites: Annotated[Path | None, typer.Option(
        "--sites", help="Site-events CSV: site_id, stage, date and optional code, year, "
        "channel, tower_type, lon, lat, amount_idr, source, note.", dir_okay=False,
        show_default=False)] = None,
    plan_dir: Annotated[Path | None, typer.Option(
        "--plan", help="A 'towerplan plan' output directory: the sites it proposes (a "
        "programme's builds not yet built) are added as proposed.", file_okay=False,
        show_default=False)] = None,
    title: Annotated[str | None, typer.Option(
        "--title", help="Title of a new history. Default: the scenario's title.",
        show_default=False)] = None,
    region: Annotated[str | None, typer.Option(
        "--region", help="The area the history covers, e.g. 'Kabupaten Paser, Kalimantan "
        "Timur'. Default for a new history: the scenario's name.", show_default=False)] = None,
) -> None:
    """Add a scenario, report files, site events and a plan's sites to the history, in one
    transaction (nothing is added when any row is invalid). A missing history is created.
    Facts already in the history are not added twice."""
    from towerplan.commands.status import import_history

    sc = load_scenario(scenario) if scenario is not None else None
    if sc is None and not (reports or sites or plan_dir):
        raise typer.BadParameter("give a scenario, --reports, --sites or --plan")
    result = import_history(history, scenario=sc, reports=reports or (), sites=sites,
                            plan=plan_dir, title=title, region=region)
    verb = "created" if result.created else "updated"
    added = ", ".join(f"{v} {k}" for k, v in result.added.items() if v) or "nothing new"
    out.print(f"{verb} {result.path}: added {added}", markup=False, soft_wrap=True)
    same = sum(result.existing.values())
    if same:
        out.print(f"{same} facts were already recorded (in the history, or earlier in this "
                  "import) and were kept once", markup=False)
    out.print("history holds " + ", ".join(f"{v} {k}" for k, v in result.counts.items()),
              markup=False, soft_wrap=True)


@status_add_app.command("report")
def status_add_report(
    code: Annotated[str, typer.Option("--code", help="Kemendagri code of the village.")],
    status: Annotated[str, typer.Option(
        "--status", help="none, weak, 2g, 3g, 4g, signal or unknown (Indonesian labels such "
        "as 'blank spot', 'sinyal lemah' are accepted).")],
    date: Annotated[str, typer.Option("--date", help="YYYY, YYYY-MM or YYYY-MM-DD.")],
    source: Annotated[str, typer.Option("--source", help="Who reported it, where.")],
    note: Annotated[str | None, typer.Option("--note", show_default=False)] = None,
    history: HistoryOpt = _HISTORY_DEFAULT,
) -> None:
    """Record a village's signal report."""
    from towerplan.commands.status import add_report

    added = add_report(history, code=code, status=status, date=date, source=source, note=note)
    out.print(f"{'recorded' if added else 'already recorded'}: {code} {status} {date}",
              markup=False)


@status_add_app.command("site")
def status_add_site(
    site_id: Annotated[str, typer.Option("--site-id", help="The site's id.")],
    stage: Annotated[str, typer.Option(
        "--stage", help="proposed, budgeted, tendered, tender_failed, built, on_air or "
        "cancelled; must follow the site's current stage.")],
    date: Annotated[str, typer.Option("--date", help="YYYY, YYYY-MM or YYYY-MM-DD.")],
    amount_idr: Annotated[float | None, typer.Option(
        "--amount-idr", help="Rupiah: the sum budgeted, the contract value or the money "
        "paid.", show_default=False)] = None,
    note: Annotated[str | None, typer.Option("--note", show_default=False)] = None,
    code: Annotated[str | None, typer.Option(
        "--code", help="Village code of a new site.", show_default=False)] = None,
    year: Annotated[int | None, typer.Option(
        "--year", help="Programme year of a new site.", show_default=False)] = None,
    channel: Annotated[str | None, typer.Option(
        "--channel", help="Funding channel of a new site (e.g. apbd).",
        show_default=False)] = None,
    tower_type: Annotated[str | None, typer.Option(
        "--type", help="Tower type of a new site.", show_default=False)] = None,
    lon: Annotated[float | None, typer.Option("--lon", show_default=False)] = None,
    lat: Annotated[float | None, typer.Option("--lat", show_default=False)] = None,
    history: HistoryOpt = _HISTORY_DEFAULT,
) -> None:
    """Record that a site reached a stage; a new site is created with its first event
    (placed at --lon/--lat, or at its village's centre)."""
    from towerplan.commands.status import add_site_event

    added = add_site_event(history, site_id=site_id, stage=stage, date=date,
                           amount_idr=amount_idr, note=note, code=code, year=year,
                           channel=channel, tower_type=tower_type, lon=lon, lat=lat)
    out.print(f"{'recorded' if added else 'already recorded'}: {site_id} {stage} {date}",
              markup=False)


@status_add_app.command("budget")
def status_add_budget(
    year: Annotated[int, typer.Option("--year", help="Budget year.")],
    channel: Annotated[str, typer.Option("--channel", help="Funding channel, e.g. apbd.")],
    idr: Annotated[float | None, typer.Option(
        "--idr", help="Rupiah available; leave out for no limit.", show_default=False)] = None,
    source: Annotated[str | None, typer.Option("--source", show_default=False)] = None,
    history: HistoryOpt = _HISTORY_DEFAULT,
) -> None:
    """Set the money of a year and channel (replacing an earlier figure)."""
    from towerplan.commands.status import set_budget

    set_budget(history, year=year, channel=channel, budget_idr=idr, source=source)
    money = "no limit" if idr is None else f"Rp {idr:,.0f}"
    out.print(f"budget {year} {channel}: {money}", markup=False)


class HistoryTable(StrEnum):
    """Tables of ``towerplan status list``."""

    reports = "reports"
    sites = "sites"
    events = "events"
    budgets = "budgets"
    villages = "villages"


@status_app.command("list")
def status_list(
    table: Annotated[HistoryTable, typer.Argument(help="Which table.")] = HistoryTable.sites,
    history: HistoryOpt = _HISTORY_DEFAULT,
    csv_out: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
) -> None:
    """Show a table of the history (sites with their current stage)."""
    from towerplan.commands.status import list_history

    frame = list_history(history, table.value)
    if csv_out:
        sys.stdout.write(frame.to_csv(index=False))
        return
    frame = frame[[c for c in _LIST_COLUMNS[table.value] if c in frame]]
    grid = Table(title=f"{table.value} ({len(frame)}; all columns with --csv)",
                 show_lines=False)
    for column in frame.columns:
        grid.add_column(str(column), overflow="fold")
    for row in frame.itertuples(index=False):
        grid.add_row(*(_cell(c, v) for c, v in zip(frame.columns, row, strict=True)))
    out.print(grid)


#: Columns ``towerplan status list`` shows as a table (``--csv`` gives them all).
_LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "reports": ("code", "status", "date", "source"),
    "sites": ("site_id", "village", "year", "channel", "tower_type", "stage", "stage_date",
              "capex_idr"),
    "events": ("site_id", "stage", "date", "amount_idr", "note"),
    "budgets": ("year", "channel", "budget_idr", "source"),
    "villages": ("code", "name", "kecamatan", "kind", "population"),
}


def _cell(column: str, value: Any) -> str:
    """A history value as table text: rupiah with thousands separators, empty for none."""
    if value is None or value != value:
        return ""
    if column.endswith("_idr") and isinstance(value, float):
        return f"{value:,.0f}"
    if isinstance(value, float) and value.is_integer():
        return f"{value:.0f}"
    return str(value)


AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Show the history as it was known at the end of this period (YYYY, "
    "YYYY-MM or YYYY-MM-DD), e.g. for a hearing about a past year. Default: everything.",
    show_default=False)]
OrganizationOpt = Annotated[str, typer.Option(
    "--organization", help="Publisher stated in the portal metadata (metadata.json).")]
MaintainerOpt = Annotated[str, typer.Option(
    "--maintainer", help="Contact stated in the portal metadata (metadata.json).")]


@status_app.command("export")
def status_export(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.",
                                          file_okay=False)],
    history: HistoryOpt = _HISTORY_DEFAULT,
    overwrite: OverwriteOpt = False,
    organization: OrganizationOpt = "",
    maintainer: MaintainerOpt = "",
    as_of: AsOfOpt = None,
) -> None:
    """Write the portal export of the history ("satu data", CKAN): villages and sites as
    CSV and GeoJSON, reports, status over time and programme progress as CSV, and
    metadata.json (title, period, source, licence, resources)."""
    from towerplan.analysis.progress import period_end
    from towerplan.commands.dashboard import write_portal

    result = write_portal(history, out_dir, overwrite=overwrite, organization=organization,
                          maintainer=maintainer,
                          as_of=None if as_of is None else period_end(as_of))
    out.print(f"portal export in {result.path}", markup=False)


@app.command()
def dashboard(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.",
                                          file_okay=False)] = Path("dashboard"),
    history: HistoryOpt = _HISTORY_DEFAULT,
    overwrite: OverwriteOpt = False,
    lang: Annotated[Lang, typer.Option(
        "--lang", help="Language the page opens in; both are in the page.")] = Lang.id,
    organization: OrganizationOpt = "",
    maintainer: MaintainerOpt = "",
    refresh_min: Annotated[float, typer.Option(
        "--refresh-min", help="The page reloads itself every so many minutes, for a screen "
        "that keeps it open while a scheduled job writes it again with --overwrite; 0 = "
        "never.", min=0)] = 0.0,
    as_of: AsOfOpt = None,
) -> None:
    """Write the programme dashboard of a history: index.html (headline counts, blank spots
    over time, programme progress per year and channel, map, village and site tables with
    search and filters, Bahasa Indonesia and English; offline, every asset inlined) and
    data/ (the portal export, as 'towerplan status export')."""
    from towerplan.analysis.progress import period_end
    from towerplan.commands.dashboard import write_dashboard

    result = write_dashboard(history, out_dir, overwrite=overwrite, lang=lang.value,
                             organization=organization, maintainer=maintainer,
                             refresh_min=refresh_min,
                             as_of=None if as_of is None else period_end(as_of))
    h = result.data["headline"]
    out.print(f"{result.data['title']}: {h['villages']} villages, {h['blank']} blank, "
              f"{h['semi_blank']} semi blank, {h['served']} served, {h['unknown']} unknown; "
              f"{sum(h['sites'].values())} sites", markup=False, soft_wrap=True)
    for text in result.data["limitations"]:
        out.print(f"limitation: {text}", markup=False, soft_wrap=True)
    out.print(f"dashboard in {result.path / 'index.html'}", markup=False)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _interrupted(name: str, published: Path | None) -> None:
    """The one line of a run stopped by a signal (the terminal may be gone: SIGHUP)."""
    if published is None:
        text = (f"towerplan: interrupted by {name}; the run stopped and nothing was changed "
                "(no output written or replaced)")
    else:
        text = f"towerplan: interrupted by {name} after the outputs were written to {published}"
    with suppress(OSError):
        err.print(text, markup=False, soft_wrap=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``towerplan`` command.

    ``--debug`` may stand anywhere on the command line.
    """
    from towerplan.io import interrupts

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    interrupts.install()
    try:
        app(args=args, prog_name="towerplan")
    except interrupts.Interrupted as exc:
        _interrupted(exc.name, exc.published)
        sys.exit(128 + exc.signum)
    except TowerplanError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"towerplan: error: {_one_line(exc)}", markup=False, soft_wrap=True)
        for line in getattr(exc, "details", ()):
            err.print(f"  {' '.join(str(line).split())}", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        _interrupted("SIGINT", None)
        sys.exit(130)
    except Exception as exc:  # a defect, not a user error
        if debug:
            traceback.print_exc()
        err.print(f"towerplan: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  "(rerun with --debug for the traceback)", markup=False, soft_wrap=True)
        sys.exit(1)
