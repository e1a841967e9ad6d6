"""The ``towerplan`` command line: parse options, call the library, print.

Every :class:`~towerplan.errors.TowerplanError` becomes one line on stderr and exit code 2
(``--debug`` shows the traceback instead).
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from towerplan import __version__
from towerplan.errors import TowerplanError
from towerplan.scenario import Radio, Scenario, load_scenario

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
    bool, typer.Option("--overwrite", help="Replace files in a non-empty output directory."),
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
    progress = Progress(SpinnerColumn(), TextColumn("{task.description:<20}"), BarColumn(),
                        TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                        console=err, transient=False, disable=quiet or not err.is_terminal)
    task = progress.add_task("starting", total=len(labels))

    def advance(label: str) -> None:
        done = labels.index(label) if label in labels else 0
        progress.update(task, description=label, completed=done)

    with progress:
        yield advance
        progress.update(task, description="done", completed=len(labels))


def _load(scenario: Path | None) -> Scenario:
    return load_scenario(scenario)


@app.command()
def plan(
    scenario: ScenarioArg = None,
    out_dir: OutOpt = None,
    overwrite: OverwriteOpt = False,
    lang: LangOpt = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Run the whole plan and write map.html, report.xlsx, ranking.csv, villages.csv,
    plan.gpkg, coverage_before/after.tif and summary.json.

    Budgets and costs are in rupiah (IDR), heights in metres, RSRP in dBm.
    """
    from towerplan.pipeline import PLAN_STAGES, run_plan

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    target = out_dir if out_dir is not None else Path(sc.outputs.dir)
    t0 = time.perf_counter()
    with _stages(PLAN_STAGES, quiet=quiet) as progress:
        result = run_plan(sc, target, overwrite=overwrite,
                          lang=lang.value if lang else None, progress=progress)
    if quiet:
        return
    s = result.summary
    unit = "people" if s["demand_basis"] == "population" else "km2"
    gap = "n/a (heuristic)" if s["optimality_gap"] is None else f"{s['optimality_gap']:.2%}"
    out.print(
        f"[bold]{sc.scenario.title}[/bold]"
        f"{'  (SYNTHETIC DATA / DATA SINTETIS)' if s['synthetic'] else ''}"
    )
    out.print(f"model: {s['model_chain']}")
    out.print(f"towers selected: {s['towers_selected']}, spent Rp {s['spent_idr']:,.0f} of "
              f"Rp {s['budget_idr']:,.0f}; solver {s['solver']}, optimality gap {gap}")
    out.print(f"blank villages: {s['blank_villages_before']} -> {s['blank_villages_after']} of "
              f"{s['villages_total']}; demand covered {s['demand_covered_before']:,.0f} -> "
              f"{s['demand_covered_after']:,.0f} {unit} of {s['demand_total']:,.0f}")
    out.print(f"outputs in {target} ({time.perf_counter() - t0:.1f} s)")


@app.command()
def validate(
    scenario: ScenarioArg = None,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Check every input of a scenario and print what was found: CRS, extent, counts,
    repairs and problems. Exit code 2 when any problem is found."""
    from towerplan.inputs import raise_for_problems, validate_inputs

    _setup_logging(verbose, quiet)
    sc = _load(scenario)
    report = validate_inputs(sc)
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
    raise_for_problems(report)
    if not quiet:
        out.print("all inputs are usable")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory to write the demo "
                                          "data set into (must be empty or new).",
                                          file_okay=False)],
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")]
    = 2022,
    resolution_m: Annotated[float, typer.Option("--resolution-m", help="Terrain cell size in "
                                                "metres: 90 or 30.")] = 90.0,
    quiet: QuietOpt = False,
) -> None:
    """Write the synthetic demo kabupaten (villages, terrain, towers, settlements, land
    cover, fibre points of presence). Not a real place: every file says so."""
    from towerplan.io.demo import DEMO_STAGES, generate_demo

    with _stages(DEMO_STAGES, quiet=quiet) as progress:
        manifest = generate_demo(out_dir, seed=seed, resolution_m=float(resolution_m),
                                 progress=progress)
    if not quiet:
        out.print(f"synthetic demo (seed {seed}, {float(resolution_m):g} m) written to "
                  f"{manifest.directory}")


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
    h_tx_m: Annotated[float, typer.Option("--h-tx-m", help="Transmitter antenna height "
                                          "above ground, m.")] = _RADIO.tower_height_m,
    h_rx_m: Annotated[float, typer.Option("--h-rx-m", help="Receiver antenna height above "
                                          "ground, m.")] = _RADIO.rx_height_m,
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
    lang: LangOpt = None,
) -> None:
    """Point-to-point report between two points over the terrain: distance, line of sight,
    worst first-Fresnel clearance, diffraction per method, clutter, total loss (dB), RSRP
    (dBm) and margin (dB), plus a profile plot. EIRP and threshold come from the radio
    defaults (61 dBm, -105 dBm)."""
    import dataclasses
    import json

    from towerplan.link import analyse_link, parse_lonlat
    from towerplan.outputs.profile_plot import write_profile_png

    radio = dataclasses.replace(_RADIO, freq_mhz=freq_mhz)
    report, profile, clearance = analyse_link(
        dem, parse_lonlat(start, "--from"), parse_lonlat(end, "--to"), radio=radio,
        h_tx_m=h_tx_m, h_rx_m=h_rx_m, model=model, resolution_m=resolution_m,
        landcover=landcover)
    write_profile_png(report, profile, clearance, png, lang=lang.value if lang else "id")
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
        ("profile plot", str(png)),
    ]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``towerplan`` command.

    ``--debug`` may stand anywhere on the command line.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        app(args=args, prog_name="towerplan")
    except TowerplanError as exc:
        if debug:
            traceback.print_exc()
        err.print(f"towerplan: error: {_one_line(exc)}", markup=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("towerplan: interrupted", markup=False)
        sys.exit(130)
    except Exception as exc:  # a defect, not a user error
        if debug:
            traceback.print_exc()
        err.print(f"towerplan: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  "(rerun with --debug for the traceback)", markup=False, soft_wrap=True)
        sys.exit(1)
