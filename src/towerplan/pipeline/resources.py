"""Memory and disk a plan will need, estimated from the scenario before any work.

The estimate reads only file headers: the extent of the villages, the number of settlements,
user candidates and existing towers. From the extent, the radius and the cell sizes it counts
the terrain grid, the demand cells and the candidates, and from them the bytes of the largest
arrays (per item costs in :data:`BYTES`, measured on the demo and the test scenarios):

- memory: the libraries (:data:`BASE_MEMORY_BYTES`), the terrain grid, one site's window of
  the coverage sweep, the demand cells, and the candidate coverage matrix (each candidate's
  demand cells within ``[radio] max_radius_km``: an upper bound, as only cells above the
  threshold are kept);
- disk: the output directory (two coverage rasters over the terrain grid, the other files)
  and the stage cache (terrain, demand, coverage matrix).

:func:`check_resources` refuses a run whose estimate exceeds what is available, with one line
naming the largest part and the scenario value to change.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from towerplan.errors import InsufficientResourcesError, ScenarioError
from towerplan.inputs import ResolvedPaths, resolve_paths
from towerplan.io.atomic import free_bytes
from towerplan.scenario import Scenario

__all__ = ["BASE_MEMORY_BYTES", "BYTES", "ResourceEstimate", "available_memory_bytes",
           "check_resources", "estimate_resources"]

#: Memory of the interpreter and libraries of a plan (measured: 0.44 GB on a 10 km scenario).
BASE_MEMORY_BYTES = 450_000_000
#: Outputs besides the rasters (reports, map, GeoPackage, KML), bytes.
BASE_OUTPUT_BYTES = 10_000_000

#: Bytes per item, by part of the estimate.
BYTES: dict[str, float] = {
    "terrain_cell": 48.0,        # DEM (float32 + float64 while reprojected), land cover, mask,
                                 # population, RSRP before/after and server index
    "window_cell": 64.0,         # one site's sweep: loss, RSRP, diffraction, horizon (x2)
    "demand_cell": 64.0,         # coordinates, weights, village index, status
    "matrix_entry": 12.0,        # candidate coverage: RSRP float32, index int32, coverage
    "output_cell": 3.0,          # coverage_before/after.tif (compressed) and the map's images
    "cache_terrain_cell": 16.0,  # terrain stage entry
    "cache_demand_cell": 32.0,   # demand stage entry
    "cache_entry": 8.0,          # candidate coverage entries
}


@dataclass(frozen=True, slots=True)
class ResourceEstimate:
    """Estimated size of a plan.

    Attributes
    ----------
    width_m, height_m : float
        Extent of the villages.
    terrain_cells : int
        Cells of the terrain grid (villages plus the radius on every side).
    terrain_shape : tuple of int
        Rows and columns of the terrain grid.
    demand_cells : int
        Demand cells over the villages' extent (an upper bound: only cells inside villages).
    candidates : int
        Candidate sites (grid, hilltops, settlements, user sites, existing towers).
    matrix_entries : int
        Entries of the candidate coverage matrix (upper bound).
    memory : dict of str to int
        Bytes of memory per part (``libraries``, ``terrain``, ``sweep``, ``demand``,
        ``coverage matrix``).
    output_bytes : int
        Size of the output directory.
    cache_bytes : int
        Size of the stage cache entries written.
    """

    width_m: float
    height_m: float
    terrain_cells: int
    terrain_shape: tuple[int, int]
    demand_cells: int
    candidates: int
    matrix_entries: int
    memory: dict[str, int]
    output_bytes: int
    cache_bytes: int

    @property
    def memory_bytes(self) -> int:
        """Peak memory, bytes."""
        return sum(self.memory.values())


def _extent_m(path: Path) -> tuple[float, float]:
    """Width and height of a vector file's extent in metres (from its header)."""
    import pyogrio
    from pyproj import CRS

    try:
        info = pyogrio.read_info(path)
    except Exception:  # a bad file is reported by the loader; no estimate then
        return 0.0, 0.0
    bounds = info.get("total_bounds")
    if bounds is None or len(bounds) != 4 or not all(math.isfinite(float(v)) for v in bounds):
        return 0.0, 0.0
    w, s, e, n = (float(v) for v in bounds)
    try:
        crs = CRS.from_user_input(info["crs"]) if info.get("crs") else None
    except Exception:  # an unknown CRS is reported by the loader
        crs = None
    if crs is None or crs.is_geographic:
        mid = math.radians((s + n) / 2)
        return (e - w) * 111_320.0 * math.cos(mid), (n - s) * 110_574.0
    return e - w, n - s


def _rows(path: Path | None) -> int:
    """Features of a vector file or data lines of a CSV (0 when absent or unreadable)."""
    if path is None or not path.is_file():
        return 0
    if path.suffix.lower() in (".csv", ".txt"):
        with path.open("rb") as fh:
            return max(sum(1 for line in fh if line.strip()) - 1, 0)
    import pyogrio

    try:
        return int(pyogrio.read_info(path).get("features", 0))
    except Exception:
        return 0


def estimate_resources(scenario: Scenario) -> ResourceEstimate:
    """Estimate the memory and disk a plan of *scenario* needs, from file headers only (a
    file that cannot be read counts as empty: the loader reports it)."""
    paths = resolve_paths(scenario)
    width_m, height_m = _extent_m(paths.villages)
    try:
        return _estimate(scenario, paths, width_m, height_m)
    except (ValueError, OverflowError, ZeroDivisionError):  # values the scenario refuses
        return ResourceEstimate(width_m, height_m, 0, (0, 0), 0, 0, 0,
                                {"libraries": BASE_MEMORY_BYTES}, BASE_OUTPUT_BYTES, 0)


def _estimate(scenario: Scenario, paths: ResolvedPaths, width_m: float,
              height_m: float) -> ResourceEstimate:
    radius_m = scenario.radio.max_radius_km * 1000.0
    res_m = scenario.terrain.resolution_m
    shape = (math.ceil((height_m + 2 * radius_m) / res_m),
             math.ceil((width_m + 2 * radius_m) / res_m))
    terrain_cells = shape[0] * shape[1]
    window_cells = math.ceil(2 * radius_m / res_m) ** 2
    cell_m = scenario.coverage.demand_cell_m
    area_m2 = width_m * height_m
    # the demand grid is snapped to whole cells: one more row and column at most
    demand_cells = (math.ceil(width_m / cell_m) + 1) * (math.ceil(height_m / cell_m) + 1)
    cand = scenario.candidates
    candidates = math.ceil(area_m2 / cand.grid_spacing_m**2)
    if cand.include_hilltops:
        candidates += math.ceil(area_m2 / cand.hilltop_window_m**2)
    candidates += _rows(paths.settlements) + _rows(paths.candidates) + _rows(paths.towers)
    per_candidate = min(demand_cells, math.ceil(math.pi * radius_m**2 / cell_m**2))
    entries = candidates * per_candidate
    memory = {
        "libraries": BASE_MEMORY_BYTES,
        "terrain": int(terrain_cells * BYTES["terrain_cell"]),
        "sweep": int(window_cells * BYTES["window_cell"]),
        "demand": int(demand_cells * BYTES["demand_cell"]),
        "coverage matrix": int(entries * BYTES["matrix_entry"]),
    }
    output = int(BASE_OUTPUT_BYTES + terrain_cells * BYTES["output_cell"])
    cache = int(terrain_cells * BYTES["cache_terrain_cell"]
                + demand_cells * BYTES["cache_demand_cell"] + entries * BYTES["cache_entry"])
    return ResourceEstimate(width_m, height_m, terrain_cells, shape, demand_cells, candidates,
                            entries, memory, output, cache)


def _meminfo_available() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def _cgroup_available() -> int | None:
    """Memory left under this process's cgroup (v2) limit, or None without one."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text(encoding="ascii").strip()
    except OSError:
        return None
    if limit == "max":
        return None
    return max(int(limit) - int(used), 0)


def available_memory_bytes() -> int | None:
    """Memory available to a new run: the system's available memory (``/proc/meminfo``,
    else psutil), bounded by a container's (cgroup) limit; None when unknown.

    ``$TOWERPLAN_MEMORY_BYTES`` overrides it (e.g. to plan for a smaller machine).
    """
    env = os.environ.get("TOWERPLAN_MEMORY_BYTES")
    if env:
        try:
            value = float(env)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and value > 0):
            msg = (f"TOWERPLAN_MEMORY_BYTES={env!r} is not a number of bytes: give the memory "
                   "to plan for (e.g. 8e9), or unset it")
            raise ScenarioError(msg)
        return int(value)
    found = _meminfo_available()
    if found is None:
        try:
            import psutil

            found = int(psutil.virtual_memory().available)
        except ImportError:
            found = None
    group = _cgroup_available()
    values = [v for v in (found, group) if v is not None]
    return min(values) if values else None


def _gb(n: float) -> str:
    return f"{n / 1e9:,.2f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def _remedy(scenario: Scenario, part: str) -> str:
    """What to change in the scenario to shrink *part* of the estimate."""
    if part == "demand":
        return f"a coarser [coverage] demand_cell_m (now {scenario.coverage.demand_cell_m:g} m)"
    if part in ("terrain", "sweep"):
        return (f"a coarser [terrain] resolution_m (now {scenario.terrain.resolution_m:g} m) "
                f"or a smaller [radio] max_radius_km (now {scenario.radio.max_radius_km:g})")
    return (f"fewer candidates (a larger [candidates] grid_spacing_m, now "
            f"{scenario.candidates.grid_spacing_m:g} m), a coarser [coverage] demand_cell_m "
            f"(now {scenario.coverage.demand_cell_m:g} m) or a smaller [radio] max_radius_km "
            f"(now {scenario.radio.max_radius_km:g})")


def check_resources(scenario: Scenario, estimate: ResourceEstimate, out_dir: str | Path,
                    cache_dir: str | Path | None) -> None:
    """Refuse a run whose estimate does not fit the memory or the disks.

    Parameters
    ----------
    scenario : Scenario
        The scenario (to name what to change).
    estimate : ResourceEstimate
        From :func:`estimate_resources`.
    out_dir : str or Path
        The output directory (its file system must hold the outputs, staged beside it).
    cache_dir : str or Path, optional
        The stage cache folder; None when the run uses no cache.

    Raises
    ------
    InsufficientResourcesError
        With one line: needed against available, the largest part and what to change.
    """
    memory = available_memory_bytes()
    if memory is not None and estimate.memory_bytes > memory:
        part = max(estimate.memory, key=lambda k: estimate.memory[k])
        msg = (f"this run needs about {_gb(estimate.memory_bytes)} of memory, "
               f"{_gb(memory)} available (largest part: {part}, {_gb(estimate.memory[part])}); "
               f"use {_remedy(scenario, part)}")
        raise InsufficientResourcesError(msg)
    folder = Path(out_dir).resolve().parent
    free = free_bytes(folder)
    if free is not None and estimate.output_bytes > free:
        msg = (f"the outputs need about {_gb(estimate.output_bytes)} in {folder}, "
               f"{_gb(free)} free; free some space there or choose another --out")
        raise InsufficientResourcesError(msg)
    if cache_dir is not None:
        free = free_bytes(cache_dir)
        if free is not None and estimate.cache_bytes > free:
            msg = (f"the stage cache needs about {_gb(estimate.cache_bytes)} in {cache_dir}, "
                   f"{_gb(free)} free; free some space there, choose another --cache-dir or "
                   "run with --no-cache")
            raise InsufficientResourcesError(msg)
