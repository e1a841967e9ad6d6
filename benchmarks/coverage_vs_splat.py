"""towerplan's Longley-Rice (ITM) coverage against SPLAT!'s on the same tile and site.

Run: ``python benchmarks/coverage_vs_splat.py`` (needs ``splat-hd`` and ``srtm2sdf-hd``;
Debian/Ubuntu: ``apt-get install splat``). ``python benchmarks/coverage_vs_splat.py
--make-tile DIR`` only writes the generated tile ``DIR/S02E116.hgt``. Without SPLAT! the
benchmark prints one line saying it was skipped and exits 0.

**Tile.** A 1 arc-second SRTM tile, ``S02E116.hgt`` (3,601 x 3,601 big-endian int16, lat -2 to
-1, lon 116 to 117 E: East Kalimantan, Indonesia), is generated from the seeded fractal relief
of ``coverage_vs_viewshed.py`` (0-1,200 m, rounded to whole metres as SRTM stores them) into a
temporary folder; it is never committed. ``srtm2sdf-hd -d /dev/null`` converts it to the
``.sdf`` file SPLAT! HD reads (no void replacement). The site is the highest cell within
2 km of the tile centre (a tower goes on a hill), 42 m above ground.

**SPLAT!** ``splat-hd -t site.qth -L 1.5 -metric -R 20 -olditm -erp 0 -ano site.ano -d DIR``
runs in the temporary folder and is timed as a command (wall clock, start-up, loading the
tile and writing its map and ``.ano`` file included). Units: ``-metric`` makes ``-L`` metres
and ``-R`` kilometres (miles and feet without it); the ``.qth`` height is written ``42.0
meters`` (a plain number is feet). The ``.lrp`` file holds epsilon 15, sigma 0.005 S/m,
N0 301, 900 MHz, climate 1 (equatorial), polarisation 1 (vertical), fraction of situations
0.50 and of time 0.50, ERP 0 (so it reports path loss). ``-olditm`` selects ITM (SPLAT! 1.4
otherwise uses ITWOM 3.0). The same command with ``-R 0.1`` is timed too: SPLAT!'s start-up,
tile loading and map output without the area analysis.

The ``-ano`` file has two header lines (``max_west, min_west`` and ``max_north,
min_north``), then one line per evaluated point: latitude (deg N), longitude (deg **West**,
0-360), azimuth (deg), elevation angle (deg, to the first obstruction when obstructed) and
path loss (dB), followed by `` *`` when the path is obstructed. Longitude east is
``360 - west``. Each point is mapped to the SRTM sample nearest to it (SPLAT! rounds to the
same grid: a sample sits on whole arc-seconds) and the few points that fall on a sample
already taken are dropped.

**Receiver sample.** SPLAT! 1.4.2 evaluates the point ``y`` of a radial with the profile of
the points ``0 .. y-1`` (``elev[0] = y - 1`` in ``PlotLRPath``): the receiver stands on the
sample one arc-second nearer the site than the printed point. In rough terrain that changes
the loss by many dB from one sample to the next, so every comparison is printed twice: at
the cell the printed point falls in and at the cell of the sample SPLAT!'s receiver stood
on; the targets apply to the receiver's cell, the place SPLAT!'s loss belongs to. A model
check is printed too: ``itm_p2p`` on profiles built as SPLAT! builds them (nearest-sample
heights every arc-second along the line to the printed point, ending one step short of it),
on a seeded random subsample of 3,000 cells (``--subsample N``).

**Variability.** SPLAT!'s ``-olditm`` path calls the ITM point-to-point routine with mode of
variability 12 (mobile, no location variability) and the quantiles ``avar(time, 0,
situation)``: the ``.lrp`` "fraction of time" is the time quantile and "fraction of
situations" the situation quantile. towerplan uses ``mdvar=12`` and 50 % for time, location
(unused in mode 12) and situation.

**towerplan grid.** The tile is read back from the ``.hgt`` and treated as a local metric
grid (a local equirectangular projection about the site's latitude): a cell is
``1" x R pi / 180 / 3600`` = 30.89 m north-south and ``cos(lat_site)`` times that east-west
(30.88 m), with R = 6,371 km, SPLAT!'s earth radius; sample centres sit on whole
arc-seconds. At 1.5 deg S the east-west scale varies by less than 1e-4 over 20 km (under 2 m
at the edge of the radius), far below a cell.

**towerplan ITM.** ``towerplan.coverage.itm_area.itm_area(..., mode="fast")`` is timed in
memory (best of 3 after a warm-up call that compiles or loads its kernels) on the same grid,
site and radius, and compared with SPLAT! over every cell both evaluate; ``--exact`` also
compares ``mode="exact"`` (each cell's own profile: slow).

**Default chains.** ``sweep_site`` with ``hata-suburban+deygout`` and ``hata-suburban``
(LinkParams("hata-suburban", 900, 1.5, 61, 10, 0, -105, 20000), k = 4/3) on the same grid and
site, timed the same way, compared with SPLAT! over all common cells: median and MAD of the
difference, share within 6 dB, decision agreement (both sides on the same side of 143 dB),
the medians split by SPLAT!'s obstruction flag, and the agreement of the line-of-sight mask
with SPLAT!'s unobstructed points.

Measured on 2 shared cores: SPLAT! 18-33 s as a command (with the load of other users);
without ``itm_area``, ITM at the cell of the point median -1.0 dB, 66 % within 6 dB (FAIL),
at the receiver's cell -0.6 dB, 87 %, on SPLAT!'s own profiles +0.01 dB, 96 %.
Latest run (load average 12.6-14.5, other jobs sharing the 2 cores), terrain irregularity
on the radial lattice: SPLAT! 128.16 s as a command, 16.08 s of CPU; ``itm_area`` fast mode
12.52 s warm (cold first call 12.45 s with the numba cache in place), 3.18 s of CPU; speed
ratio 10.2 (FAIL), CPU ratio 5.1 (about 10 on 2 idle cores); at the receiver's cell median
-0.69 dB, MAD 1.01 dB, 85.9 % within 6 dB (both PASS). The speed ratio is printed from wall
times of the same run, the CPU times and the load average with it, since the load of other
users moves both. Before the lattice (load average 1.1-1.9): SPLAT! 15.64 s (5.36 s with
``-R 0.1``);
``itm_area`` fast mode 1.461 s, speed ratio 10.7 (FAIL; 7.0 against SPLAT! less its start-up);
at the receiver's cell median -0.72 dB, MAD 1.10 dB, 85.9 % within 6 dB (both PASS), at the
cell of the point -1.19 dB, 65.7 %; on SPLAT!'s own profiles +0.01 dB, 96.5 %.
``hata-suburban+deygout`` 0.075 s per site, ``hata-suburban`` 0.050 s. After the sweep's
knife-edge table, at load average 3.3-4.3: SPLAT! 16.86 s, fast mode 2.92 s (ratio 5.8, FAIL;
same agreement); ``hata-suburban+deygout`` 0.115 s against ``hata-suburban``'s 0.112 s (the
diffraction term now costs about as much as the cell loop without it), decision agreement
95.9 % and line-of-sight mask 98.5 % as before. Where the fast mode's time goes and why 50x
is out of reach while ITM is evaluated at every cell: ``itm_area_speed.py``.
On a quiet machine (load average 0.4-0.7, 2026-12-06): SPLAT! 13.85 s (13.85 s of CPU),
fast mode 1.337 s warm (2.75 s of CPU on 2 threads), speed ratio 10.4 (FAIL), CPU ratio 5.0;
at the receiver's cell median -0.69 dB, MAD 1.01 dB, 85.9 % within 6 dB (both PASS).

Targets: speed ratio SPLAT! s / towerplan s >= 50; |median(towerplan - SPLAT!)| <= 2 dB;
>= 80 % of cells within 6 dB. MAD is the unscaled median absolute deviation.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numba
import numpy as np
from affine import Affine
from coverage_vs_viewshed import relief_dem
from timing import best_of

from towerplan.coverage.itm_area import itm_area
from towerplan.coverage.raster import LinkParams
from towerplan.coverage.sweep import SiteCoverage, sweep_site
from towerplan.errors import ModelDomainError
from towerplan.radio.chain import ModelChain, parse_chain
from towerplan.radio.itm import ItmSettings, itm_p2p

SEED = 2024
TILE_LAT, TILE_LON = -2, 116  # south-west corner of the tile (SRTM naming)
N_SAMPLES = 3601  # samples per side of a 1 arc-second tile
ARCSEC_DEG = 1.0 / 3600.0
EARTH_RADIUS_M = 6_371_000.0  # SPLAT!'s EARTHRADIUS (20,902,230.97 ft)
SITE_SEARCH_M = 2_000.0
H_TX_M, H_RX_M, RADIUS_M, FREQ_MHZ = 42.0, 1.5, 20_000.0, 900.0
ITM: dict[str, Any] = {"epsilon": 15.0, "sigma": 0.005, "n0": 301.0, "climate": "equatorial",
       "polarization": "vertical", "mdvar": 12, "time_pct": 50.0, "location_pct": 50.0,
       "situation_pct": 50.0}
LRP = """\
15.000 ; Earth Dielectric Constant (Relative permittivity)
0.005 ; Earth Conductivity (Siemens per meter)
301.000 ; Atmospheric Bending Constant (N-units)
900.000 ; Frequency in MHz (20 MHz to 20 GHz)
1 ; Radio Climate (1 = Equatorial)
1 ; Polarization (0 = Horizontal, 1 = Vertical)
0.50 ; Fraction of situations (50% of locations)
0.50 ; Fraction of time (50% of the time)
0.0 ; Effective Radiated Power (ERP) in Watts (0: path loss)
"""
CHAINS = ("hata-suburban+deygout", "hata-suburban")
LINK = LinkParams("hata-suburban", FREQ_MHZ, H_RX_M, 61.0, 10.0, 0.0, -105.0, RADIUS_M)
L_THRESHOLD_DB = 143.0
N_SUBSAMPLE = 3_000
SPEED_TARGET, MEDIAN_TARGET_DB, WITHIN_DB, WITHIN_TARGET = 50.0, 2.0, 6.0, 0.80


def tile_name(lat: int, lon: int) -> str:
    """SRTM file name of the tile whose south-west corner is (lat, lon), e.g. S02E116.hgt."""
    return f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}{'E' if lon >= 0 else 'W'}{abs(lon):03d}.hgt"


def make_tile(folder: Path) -> Path:
    """Write the seeded relief as an SRTM-1 ``.hgt`` tile in ``folder``; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / tile_name(TILE_LAT, TILE_LON)
    np.rint(relief_dem(N_SAMPLES, SEED)).astype(">i2").tofile(path)
    return path


def read_hgt(path: Path) -> np.ndarray:
    """Heights of an SRTM-1 tile, m, float32; row 0 is the northern edge."""
    return np.fromfile(path, dtype=">i2").reshape(N_SAMPLES, N_SAMPLES).astype(np.float32)


def sample_latlon(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (deg E) of tile samples (whole arc-seconds)."""
    return TILE_LAT + 1 - rows * ARCSEC_DEG, TILE_LON + cols * ARCSEC_DEG


def local_transform(lat0_deg: float) -> Affine:
    """Local equirectangular grid of the tile: sample (r, c) at the centre of cell (r, c)."""
    cell_y = EARTH_RADIUS_M * math.radians(ARCSEC_DEG)
    cell_x = cell_y * math.cos(math.radians(lat0_deg))
    return Affine(cell_x, 0.0, -0.5 * cell_x, 0.0, -cell_y, (N_SAMPLES - 0.5) * cell_y)


def pick_site(dem: np.ndarray, transform: Affine) -> tuple[int, int]:
    """Highest sample within ``SITE_SEARCH_M`` of the tile centre (first one on a tie)."""
    centre = N_SAMPLES // 2
    half = int(SITE_SEARCH_M / transform.a) + 1
    window = dem[centre - half:centre + half + 1, centre - half:centre + half + 1]
    yy, xx = np.mgrid[-half:half + 1, -half:half + 1]
    inside = np.hypot(xx * transform.a, yy * transform.e) <= SITE_SEARCH_M
    r, c = np.unravel_index(np.argmax(np.where(inside, window, -np.inf)), window.shape)
    return centre - half + int(r), centre - half + int(c)


# ------------------------------------------------------------------------------- SPLAT!


def splat_command(exe: str, workdir: Path, radius_km: float, out: str) -> list[str]:
    """splat-hd ITM path-loss analysis of site.qth into ``out.ano`` and ``out.ppm``."""
    return [exe, "-t", "site.qth", "-L", f"{H_RX_M:g}", "-metric", "-R", f"{radius_km:g}",
            "-olditm", "-erp", "0", "-ano", f"{out}.ano", "-d", str(workdir), "-o", out]


def write_splat_inputs(workdir: Path, lat: float, lon_e: float) -> None:
    """Site (.qth: longitude in degrees west, height in metres) and ITM parameters (.lrp)."""
    (workdir / "site.qth").write_text(
        f"towerplan site\n{lat:.7f}\n{360.0 - lon_e:.7f}\n{H_TX_M:.1f} meters\n")
    (workdir / "site.lrp").write_text(LRP)


def run_timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    """Run a command, return its wall-clock time and its standard output."""
    return run_timed_cpu(cmd, cwd)[::2]


def run_timed_cpu(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Run a command, return its wall-clock time, its CPU time (user + system) and its
    standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True,
                          errors="replace")
    wall_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall_s, cpu_s, done.stdout


@dataclass(frozen=True)
class SplatPoints:
    """SPLAT!'s evaluated points mapped onto tile samples, one point per sample."""

    rows: np.ndarray  # tile sample the value is compared at
    cols: np.ndarray
    row_f: np.ndarray  # fractional row/column of the point SPLAT! printed
    col_f: np.ndarray
    loss_db: np.ndarray
    obstructed: np.ndarray
    n_lines: int


def _keep_first(rows: np.ndarray, cols: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Indices of the first point on each tile sample, among valid points on the tile."""
    valid = valid & (rows >= 0) & (rows < N_SAMPLES) & (cols >= 0) & (cols < N_SAMPLES)
    idx = np.flatnonzero(valid)
    _, first = np.unique(rows[idx] * N_SAMPLES + cols[idx], return_index=True)
    return np.sort(idx[first])


def read_ano(path: Path) -> SplatPoints:
    """Parse a path-loss ``-ano`` file (longitudes in degrees west) onto the tile samples."""
    lines = path.read_text().splitlines()[2:]
    obstructed = np.array([line.rstrip().endswith("*") for line in lines])
    values = np.array([line.rstrip(" *").split(",") for line in lines], dtype=float)
    row_f = (TILE_LAT + 1 - values[:, 0]) * 3600.0
    col_f = (360.0 - values[:, 1] - TILE_LON) * 3600.0
    rows, cols = np.rint(row_f).astype(np.int64), np.rint(col_f).astype(np.int64)
    ok = _keep_first(rows, cols, np.ones(rows.size, dtype=bool))
    return SplatPoints(rows[ok], cols[ok], row_f[ok], col_f[ok], values[ok, 4],
                       obstructed[ok], len(lines))


def step_back(splat: SplatPoints, site: tuple[int, int], transform: Affine,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Fractional row/column one profile step (1 arc-second) nearer the site than each point.

    SPLAT! 1.4.2 evaluates the point ``y`` of a radial with the profile of the points
    ``0 .. y-1`` (``elev[0] = y - 1`` in ``PlotLRPath``): its receiver stands on the sample
    before the printed point. Points within two steps of the site give nan.
    """
    step = -transform.e  # SPLAT!'s path step: 1 arc-second of great circle
    dr = (splat.row_f - site[0]) * -transform.e
    dc = (splat.col_f - site[1]) * transform.a
    d = np.hypot(dr, dc)
    f = np.where(d >= 2.0 * step, (d - step) / np.maximum(d, 1e-9), np.nan)
    return site[0] + f * (splat.row_f - site[0]), site[1] + f * (splat.col_f - site[1])


def at_receiver_sample(splat: SplatPoints, site: tuple[int, int], transform: Affine,
                       ) -> SplatPoints:
    """SPLAT!'s values moved to the sample its receiver stood on (see :func:`step_back`)."""
    row_b, col_b = step_back(splat, site, transform)
    valid = np.isfinite(row_b)
    rows = np.rint(np.nan_to_num(row_b, nan=-1.0)).astype(np.int64)
    cols = np.rint(np.nan_to_num(col_b, nan=-1.0)).astype(np.int64)
    ok = _keep_first(rows, cols, valid)
    return SplatPoints(rows[ok], cols[ok], row_b[ok], col_b[ok], splat.loss_db[ok],
                       splat.obstructed[ok], splat.n_lines)


# ---------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Agreement:
    """Agreement of towerplan's loss with SPLAT!'s over common cells."""

    cells: int
    median_db: float
    mad_db: float
    within: float
    decision: float
    median_los_db: float
    median_nlos_db: float
    n_los: int


def agreement(tp_db: np.ndarray, splat: SplatPoints, sel: np.ndarray) -> Agreement:
    """Statistics of ``tp_db - SPLAT!`` over the cells where ``tp_db`` is finite.

    ``tp_db`` and ``sel`` are aligned: ``sel`` indexes SPLAT!'s points.
    """
    ok = np.isfinite(tp_db)
    tp, sp = tp_db[ok].astype(float), splat.loss_db[sel][ok]
    obst = splat.obstructed[sel][ok]
    diff = tp - sp
    med = float(np.median(diff))

    def median_of(mask: np.ndarray) -> float:
        return float(np.median(diff[mask])) if mask.any() else math.nan

    return Agreement(int(ok.sum()), med, float(np.median(np.abs(diff - med))),
                     float(np.mean(np.abs(diff) <= WITHIN_DB)),
                     float(np.mean((tp <= L_THRESHOLD_DB) == (sp <= L_THRESHOLD_DB))),
                     median_of(~obst), median_of(obst), int((~obst).sum()))


def window_values(values: np.ndarray, rows: slice, cols: slice, splat: SplatPoints,
                  ) -> np.ndarray:
    """Values of a window raster at SPLAT!'s points (nan outside the window)."""
    out = np.full(splat.rows.shape, np.nan, dtype=float)
    r = splat.rows - (rows.start or 0)
    c = splat.cols - (cols.start or 0)
    inside = (r >= 0) & (r < values.shape[0]) & (c >= 0) & (c < values.shape[1])
    out[inside] = values[r[inside], c[inside]]
    return out


def bilinear(dem: np.ndarray, r: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of the grid at fractional row/column positions."""
    r0 = np.clip(np.floor(r).astype(np.int64), 0, dem.shape[0] - 2)
    c0 = np.clip(np.floor(c).astype(np.int64), 0, dem.shape[1] - 2)
    fr, fc = r - r0, c - c0
    return ((1 - fr) * ((1 - fc) * dem[r0, c0] + fc * dem[r0, c0 + 1])
            + fr * ((1 - fc) * dem[r0 + 1, c0] + fc * dem[r0 + 1, c0 + 1]))


def seeded_pick(splat: SplatPoints, n: int) -> np.ndarray:
    """Sorted seeded random subsample of SPLAT!'s point indices."""
    rng = np.random.default_rng(SEED)
    return np.sort(rng.choice(splat.rows.size, size=min(n, splat.rows.size), replace=False))


def itm_subsample(dem: np.ndarray, transform: Affine, site: tuple[int, int],
                  splat: SplatPoints, pick: np.ndarray, *, splat_profiles: bool = False,
                  ) -> tuple[np.ndarray, float, int]:
    """Exact point-to-point ITM at SPLAT!'s points ``pick``.

    By default the profile runs from the site to the centre of the cell the point is
    compared at, at the grid step, by bilinear interpolation. With ``splat_profiles`` it is
    built the way SPLAT! 1.4.2 builds it: nearest-sample heights every arc-second along the
    line to the printed point, ending one step short of it (see :func:`step_back`).

    Returns the losses (nan where ITM refused the path), the time per cell in s and the
    number of refused paths.
    """
    step = min(transform.a, -transform.e)
    loss = np.full(pick.size, np.nan)
    refused = 0
    t0 = time.perf_counter()
    for k, i in enumerate(pick):
        if splat_profiles:
            r1, c1 = splat.row_f[i], splat.col_f[i]
        else:
            r1, c1 = float(splat.rows[i]), float(splat.cols[i])
        d = math.hypot((r1 - site[0]) * -transform.e, (c1 - site[1]) * transform.a)
        if splat_profiles:
            m = max(2, round(d / -transform.e))  # points 0 .. y-1 of SPLAT!'s path
            t = np.arange(m) * -transform.e / max(d, 1e-9)
            profile = dem[np.rint(site[0] + t * (r1 - site[0])).astype(np.int64),
                          np.rint(site[1] + t * (c1 - site[1])).astype(np.int64)]
            spacing = -transform.e
        else:
            m = max(2, math.ceil(d / step) + 1)
            t = np.linspace(0.0, 1.0, m)
            profile = bilinear(dem, site[0] + t * (r1 - site[0]), site[1] + t * (c1 - site[1]))
            spacing = d / (m - 1)
        try:
            loss[k] = itm_p2p(profile.astype(float), spacing, H_TX_M, H_RX_M, FREQ_MHZ,
                              **ITM).loss_db
        except ModelDomainError:
            refused += 1
    return loss, (time.perf_counter() - t0) / max(pick.size, 1), refused


def time_in_memory(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result of a first call (cold: numba compiles its kernels or loads them from its
    cache), its time, and the best of 3 further (warm) calls, s."""
    t0 = time.perf_counter()
    result = fn()
    warm_s = time.perf_counter() - t0
    return result, warm_s, best_of(fn, 3)


def load_average() -> str:
    """The 1-minute load average of the machine (other users' processes included)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "unknown"


def describe(name: str, a: Agreement) -> list[str]:
    """Lines of agreement figures for one towerplan method against SPLAT!."""
    return [
        f"   {name}: {a.cells:,} cells; towerplan - SPLAT! median {a.median_db:+.2f} dB, "
        f"MAD {a.mad_db:.2f} dB, within {WITHIN_DB:g} dB {a.within:.1%}, decision agreement "
        f"at {L_THRESHOLD_DB:g} dB {a.decision:.1%}",
        f"      median on SPLAT!'s unobstructed paths ({a.n_los:,} cells) "
        f"{a.median_los_db:+.2f} dB, on its obstructed paths ({a.cells - a.n_los:,}) "
        f"{a.median_nlos_db:+.2f} dB",
    ]


def targets(a: Agreement) -> tuple[bool, bool, str]:
    """Median and within-6-dB targets: both verdicts and their line."""
    med_ok, within_ok = abs(a.median_db) <= MEDIAN_TARGET_DB, a.within >= WITHIN_TARGET
    return med_ok, within_ok, (
        f"   targets: |median| <= {MEDIAN_TARGET_DB:g} dB {verdict(med_ok)}; within "
        f"{WITHIN_DB:g} dB >= {WITHIN_TARGET:.0%} {verdict(within_ok)}")


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the figures; 0 when every measured target is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--make-tile", type=Path, metavar="DIR",
                        help="only write the generated .hgt tile into DIR")
    parser.add_argument("--subsample", type=int, default=N_SUBSAMPLE,
                        help="cells of the point-to-point model check (default %(default)s)")
    parser.add_argument("--exact", action="store_true",
                        help="also compare itm_area(mode='exact') (slow)")
    parser.add_argument("--workdir", type=Path,
                        help="run in this folder and keep its files (default: a temporary one)")
    args = parser.parse_args(argv)
    if args.make_tile is not None:
        print(make_tile(args.make_tile))
        return 0
    splat_exe, sdf_exe = shutil.which("splat-hd"), shutil.which("srtm2sdf-hd")
    if splat_exe is None or sdf_exe is None:
        missing = "splat-hd" if splat_exe is None else "srtm2sdf-hd"
        print(f"coverage_vs_splat: skipped, {missing} was not found on PATH "
              "(Debian/Ubuntu: apt-get install splat)")
        return 0
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return run(args.workdir.resolve(), splat_exe, sdf_exe, args)
    with tempfile.TemporaryDirectory(prefix="towerplan-splat-") as tmp:
        return run(Path(tmp), splat_exe, sdf_exe, args)


def run(workdir: Path, splat_exe: str, sdf_exe: str, args: argparse.Namespace) -> int:
    """The benchmark proper, in ``workdir``."""
    hgt = make_tile(workdir)
    subprocess.run([sdf_exe, "-d", "/dev/null", hgt.name], cwd=workdir, check=True,
                   capture_output=True)
    dem = read_hgt(hgt)
    site = pick_site(dem, local_transform(TILE_LAT + 0.5))
    lat, lon_e = (float(v) for v in sample_latlon(np.array(site[0]), np.array(site[1])))
    transform = local_transform(lat)
    x_m, y_m = transform * (site[1] + 0.5, site[0] + 0.5)

    write_splat_inputs(workdir, lat, lon_e)
    load_before = load_average()
    splat_s, splat_cpu_s, out = run_timed_cpu(
        splat_command(splat_exe, workdir, RADIUS_M / 1000.0, "site"), workdir)
    version = re.search(r"SPLAT! HD v[\d.]+", out)
    splat = read_ano(workdir / "site.ano")
    start_s, _ = run_timed(splat_command(splat_exe, workdir, 0.1, "startup"), workdir)
    shifted = at_receiver_sample(splat, site, transform)
    mappings = (("cell of the point", splat), ("cell of SPLAT!'s receiver sample", shifted))

    lines = [
        f"towerplan ITM coverage vs SPLAT! - Python {platform.python_version()}, numpy "
        f"{np.__version__}, {os.cpu_count()} CPUs, "
        f"{version.group(0) if version else 'SPLAT! HD (version unknown)'}",
        "",
        f"Tile {hgt.name}: seeded relief {dem.min():.0f}-{dem.max():.0f} m, 1 arc-second, "
        f"local grid {transform.a:.2f} m x {-transform.e:.2f} m. Site {lat:.5f}, "
        f"{lon_e:.5f} E (row {site[0]}, col {site[1]}), ground {dem[site]:.0f} m; "
        f"{H_TX_M:g} m mast, {H_RX_M:g} m handset, {FREQ_MHZ:g} MHz, {RADIUS_M / 1000:g} km",
        f"SPLAT! splat-hd -olditm: {splat_s:.2f} s as a command, {splat_cpu_s:.2f} s of CPU "
        f"({start_s:.2f} s with -R 0.1: "
        f"start-up, tile loading and map output); {splat.n_lines:,} points in the .ano file on "
        f"{splat.rows.size:,} tile samples, {np.mean(~splat.obstructed):.1%} unobstructed, "
        f"median loss {np.median(splat.loss_db):.1f} dB",
        "Each SPLAT! value is compared at the cell its point falls in, and at the cell of the "
        "sample its receiver stood on, one step nearer the site (SPLAT! 1.4.2 evaluates a "
        "point with the profile that ends on the sample before it); the targets apply to "
        "the receiver's cell, where SPLAT!'s loss was computed.",
        "",
    ]
    ok = True
    settings = ItmSettings(epsilon=15.0, sigma=0.005, n0=301.0, climate="equatorial",
                           polarization="vertical", mdvar=12, time_pct=50.0,
                           location_pct=50.0, situation_pct=50.0)
    for mode in ("fast", "exact") if args.exact else ("fast",):
        def call(mode: Literal["fast", "exact"] = mode) -> Any:
            return itm_area(dem, transform, x_m, y_m, H_TX_M, H_RX_M, FREQ_MHZ,
                            radius_m=RADIUS_M, settings=settings, mode=mode)

        res, warm_s, tp_s = time_in_memory(call)
        cpu0 = time.process_time()
        call()
        cpu_s = time.process_time() - cpu0
        ratio = splat_s / tp_s
        speed_ok = ratio >= SPEED_TARGET
        lines += [
            f"1{'' if mode == 'fast' else 'b'}. towerplan itm_area(mode={mode!r}): "
            f"{tp_s:.3f} s in memory, warm (best of 3 after a first call; the first, cold "
            f"call took {warm_s:.2f} s: numba compiling or loading its cached kernels); "
            f"{cpu_s:.2f} s of CPU on {numba.get_num_threads()} threads",
            f"   speed ratio SPLAT! s / towerplan s = {ratio:.1f} (target >= "
            f"{SPEED_TARGET:g}: {verdict(speed_ok)}); "
            f"{(splat_s - start_s) / tp_s:.1f} against SPLAT! less its -R 0.1 time; "
            f"load average {load_before} before SPLAT!, {load_average()} now "
            "(other processes share the machine)",
            f"   CPU time ratio SPLAT! / towerplan = {splat_cpu_s / cpu_s:.1f}; on "
            f"{numba.get_num_threads()} otherwise idle cores the wall-clock ratio would be "
            f"about {splat_cpu_s / cpu_s * numba.get_num_threads():.1f} (SPLAT! runs on one)",
        ]
        for k, (label, pts) in enumerate(mappings):
            tp = window_values(np.asarray(res.loss_db), res.rows, res.cols, pts)
            a = agreement(tp, pts, np.arange(pts.rows.size))
            lines += describe(f"ITM, {label}", a)
            if k == 1:
                med_ok, within_ok, line = targets(a)
                ok = ok and speed_ok and med_ok and within_ok
                lines.append(line)
    pick = seeded_pick(splat, args.subsample)
    loss, _, _ = itm_subsample(dem, transform, site, splat, pick, splat_profiles=True)
    lines.append("   model check: itm_p2p on SPLAT!'s own profiles (nearest samples every "
                 f"arc-second, ending one step short of the point; {pick.size:,} seeded "
                 "random cells):")
    lines += describe("ITM, SPLAT!'s profiles", agreement(loss, splat, pick))

    lines += ["", "2. default chains, sweep_site (k = 4/3), against SPLAT!'s ITM "
              "(evidence, no target)"]
    for name in CHAINS:
        chain = parse_chain(name)

        def sweep(chain: ModelChain = chain) -> SiteCoverage | None:
            return sweep_site(dem, transform, x_m, y_m, H_TX_M, link=LINK, chain=chain)

        cov, warm_s, tp_s = time_in_memory(sweep)
        lines.append(f"   {name}: {tp_s:.3f} s in memory (best of 3; warm-up {warm_s:.2f} s), "
                     f"{splat_s / tp_s:.0f}x less than SPLAT!")
        for label, pts in mappings:
            tp = window_values(cov.loss_db, cov.rows, cov.cols, pts)
            lines += describe(label, agreement(tp, pts, np.arange(pts.rows.size)))
        tp = window_values(cov.loss_db, cov.rows, cov.cols, splat)
        los = window_values(cov.los.astype(float), cov.rows, cov.cols, splat)
        common = np.isfinite(tp)
        lines.append(f"      LOS mask = SPLAT!'s unobstructed flag on "
                     f"{np.mean((los[common] == 1.0) == ~splat.obstructed[common]):.1%} "
                     "of cells")
    print("\n".join(lines))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
