"""Scale benchmark: re-plans of a kabupaten, and coverage of the synthetic province.

Kabupaten (the demo, terrain chain ``model = "auto"`` = hata-suburban+deygout): a cold plan
into an empty stage cache, then a re-plan after only a budget change (Rp 8.5 bn -> 11.9 bn)
and one after only a threshold change (-105 -> -100 dBm) against that cache. Each plan runs
in its own process; the script prints wall time, CPU time and peak RSS (``os.wait4``), the
stages computed and reused, and the seconds of the slowest stages and of the writers.

Province (``towerplan demo --province``, 90 m) and executors (the demo kabupaten): the
candidate coverage from a cache of the stages before it, computed serially (in-process with
one numba thread), in-process (numba's threads on every core) and with each of
``--schedulers`` (default ``dask-local:2,local:2``), each in its own process; the script
prints the stage's seconds and speed-up over serial and over in-process, the process's wall
and CPU time and peak RSS, the load average before and after, a hash of the matrix (the same
for every scheduler), what is sent to the workers (once, and with each batch: its part of
the terrain, against the whole DEM) and, for a LocalCluster, each of its processes' CPU
time and peak RSS.

Default size (a few minutes on 2 cores): kabupaten at 90 m, a province of 2 kabupaten.
``--full``: kabupaten at 30 m (the figures of issue 20) and the province of 10 kabupaten
(about 1,440 villages). Run as ``python benchmarks/scale.py [--full]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_KABUPATEN_TOML = """\
[demo]
resolution_m = {res:g}
[terrain]
resolution_m = {res:g}
[radio]
threshold_rsrp_dbm = {threshold:g}
[budget]
total_idr = {budget:.0f}
"""

_CHILD = """\
import hashlib, json, sys, time
from pathlib import Path
from towerplan.outputs.writers import write_outputs
from towerplan.pipeline.executors import executor_for
from towerplan.pipeline.plan import new_run, plan_result
from towerplan.scenario import Scenario

scenario = Scenario.from_toml(sys.argv[1])
cache = None if sys.argv[2] == "-" else sys.argv[2]
until = sys.argv[4] if len(sys.argv) > 4 else None
scheduler = sys.argv[5] if len(sys.argv) > 5 else "inprocess"
run = new_run(scenario, cache=cache, executor=executor_for(scheduler))
t0 = time.perf_counter()
extra = {}
if until in ("regions", "regions-kecamatan"):  # region by region against one MILP
    import numpy as np
    from towerplan.analysis.selection_regions import decomposition_gap
    from towerplan.pipeline.assemble import current_state, selection_problem
    state = current_state(scenario.radio, run.get("load"), run.get("terrain"),
                          run.get("demand"), run.get("existing_coverage"), run.get("before"),
                          run.get("coverage_maps"))
    problem = selection_problem(state, run.get("backhaul").candidates,
                                run.get("candidate_coverage"))
    parts = 3 if until == "regions-kecamatan" else 2  # regions: kabupaten, or kecamatan
    def kab(code):
        return ".".join(str(code).split(".")[:parts])
    site_region = np.array([kab(v) for v in problem.candidates["village_code"]])
    codes = state.villages["code"].astype(str).to_numpy()
    unit_region = np.array([kab(codes[v]) if v >= 0 else "" for v in state.units.village])
    budget = float(scenario.budget.total_idr)
    g = decomposition_gap(problem.matrix, state.units.weight, problem.costs, budget,
                          site_region, unit_region, state.covered, time_limit_s=600.0)
    cross = problem.matrix.tocoo()
    extra = {"regional": g.regional, "monolithic": g.monolithic, "gap": g.gap,
             "regional_s": g.regional_s, "monolithic_s": g.monolithic_s,
             "monolithic_gap": g.monolithic_gap, "budget": budget,
             "regions": len(set(site_region.tolist())), "candidates": len(site_region),
             "cross_pairs": int((site_region[cross.row] != unit_region[cross.col]).sum()),
             "pairs": int(cross.nnz)}
elif until:
    value = run.get(until)
    if until == "candidate_coverage":
        digest = hashlib.sha256()
        for part in (value.data, value.indices, value.indptr):
            digest.update(part.tobytes())
        extra["matrix_sha256"] = digest.hexdigest()[:16]
        extra["matrix_shape"] = list(value.shape)
        extra["matrix_nnz"] = int(value.nnz)
    if until == "candidate_coverage" and len(sys.argv) > 6 and sys.argv[6] == "sizes":
        # what the workers are sent: once, and with each batch (measured in one run only)
        import pickle
        import numpy as np
        from towerplan.analysis.problem import Sites
        from towerplan.coverage.context import radio_context
        from towerplan.pipeline.stages.coverage import (BATCH_SITES, SiteBatches, _Shared,
                                                        spatial_order)
        terrain, demand = run.get("terrain"), run.get("demand")
        link, context = radio_context(scenario.radio, terrain.dem, terrain.landcover,
                                      source_cell_m=terrain.source_cell_m)
        extra["shared_mb"] = len(pickle.dumps(_Shared(demand.xy, link, None))) / 1e6
        extra["dem_shape"] = list(context.dem_m.shape)
        extra["landcover"] = context.landcover is not None
        extra["whole_mb"] = len(pickle.dumps(context)) / 1e6
        sites = Sites.from_xy_columns(run.get("candidates"))
        order = spatial_order(sites.xy)
        chunks = [order[b:b + BATCH_SITES] for b in range(0, len(order), BATCH_SITES)]
        tasks = SiteBatches(sites.xy, sites.height_m, chunks, context, float(link.max_radius_m))
        extra["task_mb"] = [len(pickle.dumps(tasks[k])) / 1e6 for k in range(len(tasks))]
    if scheduler.startswith("dask-local"):  # the workers' own figures, before they stop
        import psutil
        workers = []
        for child in psutil.Process().children(recursive=True):
            try:
                cpu = child.cpu_times()
                with open(f"/proc/{child.pid}/status") as fh:
                    hwm = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM"))
                workers.append({"cpu_s": cpu.user + cpu.system, "peak_rss_mb": hwm / 1024})
            except (psutil.Error, OSError, StopIteration):
                pass
        extra["workers"] = workers
else:
    result = plan_result(run)
    t1 = time.perf_counter()
    write_outputs(result, Path(sys.argv[3]), lang="id")
    extra = {"outputs_s": time.perf_counter() - t1}
run.close()
print(json.dumps({"computed": list(run.computed), "reused": list(run.reused),
                  "stage_s": {r.name: r.seconds for r in run.records},
                  "units": len(run.get("demand").weight),
                  **extra}))
"""


def _env() -> dict[str, str]:
    """Environment of the child processes: this checkout's ``src`` first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), env.get("PYTHONPATH", "")])
    return env


def _measured(args: list[str], **env_extra: str) -> dict:
    """Run the child script with *args* in its own process (*env_extra* added to its
    environment): its JSON result with the wall time, CPU time and peak RSS of that process
    (``os.wait4``)."""
    env = {**_env(), **env_extra}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=out, stderr=err,
                                text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"benchmark child failed ({proc.returncode}):\n{err.read()[-3000:]}")
        data = json.loads(out.read().strip().splitlines()[-1])
    data.update(wall_s=wall, cpu_s=usage.ru_utime + usage.ru_stime,
                peak_rss_mb=usage.ru_maxrss / 1024.0)
    return data


def _slowest(stage_s: dict[str, float], n: int = 4) -> str:
    top = sorted(stage_s.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v:.1f} s" for k, v in top)


def kabupaten(work: Path, resolution_m: float) -> None:
    """Cold plan, then budget-only and threshold-only re-plans against its cache."""
    cache = work / "cache"
    runs = {"cold": (-105.0, 8.5e9), "budget re-plan": (-105.0, 11.9e9),
            "threshold re-plan": (-100.0, 8.5e9)}
    print(f"kabupaten: demo at {resolution_m:g} m, terrain chain (auto), stage cache {cache}")
    subprocess.run([sys.executable, "-c", "from towerplan.io.demo import ensure_demo; "
                    f"ensure_demo(resolution_m={resolution_m!r})"], check=True, env=_env())
    for k, (name, (threshold, budget)) in enumerate(runs.items()):
        toml = work / f"kabupaten-{k}.toml"
        toml.write_text(_KABUPATEN_TOML.format(res=resolution_m, threshold=threshold,
                                               budget=budget), encoding="utf-8")
        out = work / f"out-{k}"
        out.mkdir()
        r = _measured([str(toml), str(cache), str(out)])
        print(f"  {name:<18} wall {r['wall_s']:7.1f} s  cpu {r['cpu_s']:7.1f} s  "
              f"peak RSS {r['peak_rss_mb']:7.0f} MB  (writers {r['outputs_s']:.1f} s)")
        print(f"      computed: {', '.join(r['computed'])}")
        print(f"      slowest: {_slowest(r['stage_s'])}")


def province(work: Path, n_kabupaten: int, schedulers: list[str]) -> None:
    """Generate the province, then its candidate coverage by each scheduler."""
    env = _env()
    folder = work / "province"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "towerplan", "demo", "--province", "--kabupaten",
                    str(n_kabupaten), "--out", str(folder), "-q"], check=True, env=env)
    meta = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    facts = meta["facts"]
    print(f"province: {n_kabupaten} kabupaten, {facts['villages']} villages, "
          f"{facts['land_area_km2']:.0f} km², DEM {facts['dem_cells'] / 1e6:.0f} M cells at "
          f"{meta['resolution_m']:g} m; generated in {time.perf_counter() - started:.1f} s")
    done = by_scheduler(work / "province-runs", folder / "scenario.toml", "the province",
                        schedulers)
    for level in ("kabupaten", "kecamatan"):
        r = _measured([str(folder / "scenario.toml"), str(done), "-",
                       "regions" if level == "kabupaten" else "regions-kecamatan"])
        print(f"  selection of the province by {level} (Rp {r['budget'] / 1e9:.1f} bn, "
              f"{r['candidates']} candidates, {r['regions']} regions; {r['cross_pairs']:,} of "
              f"{r['pairs']:,} (candidate, unit) pairs cross a border): by {level} "
              f"{r['regional']:,.0f} people in {r['regional_s']:.1f} s, one MILP "
              f"{r['monolithic']:,.0f} in {r['monolithic_s']:.1f} s (its gap "
              f"{r['monolithic_gap']}); the decomposition gives up {100 * r['gap']:.2f} %")


def executors(work: Path, resolution_m: float, schedulers: list[str]) -> None:
    """The demo's candidate coverage by each scheduler."""
    toml = work / "executors.toml"
    toml.write_text(_KABUPATEN_TOML.format(res=resolution_m, threshold=-105.0, budget=8.5e9),
                    encoding="utf-8")
    subprocess.run([sys.executable, "-c", "from towerplan.io.demo import ensure_demo; "
                    f"ensure_demo(resolution_m={resolution_m!r})"], check=True, env=_env())
    by_scheduler(work / "executors", toml, f"the demo at {resolution_m:g} m", schedulers)


def by_scheduler(work: Path, toml: Path, label: str, schedulers: list[str]) -> Path:
    """The candidate coverage of *toml*: serially (in-process, one numba thread), in-process
    (numba's threads on every core) and on each of *schedulers*, each in its own process from
    a cache holding every stage before it (and none of its rows). Returns the in-process
    run's cache (with the candidate coverage)."""
    work.mkdir(parents=True, exist_ok=True)
    cache = work / "cache"
    fill = _measured([str(toml), str(cache), "-", "candidates"])
    s = fill["stage_s"]
    print(f"{label}: the stages before the candidate coverage in {fill['wall_s']:.1f} s (peak "
          f"RSS {fill['peak_rss_mb']:.0f} MB; existing towers "
          f"{s.get('existing_coverage', 0.0):.1f} s); {os.cpu_count()} cores")
    print(f"  candidate coverage of {label}, by scheduler:")
    times: dict[str, float] = {}
    for scheduler in ["serial", "inprocess", *schedulers]:
        copy = work / f"cache-{scheduler.replace(':', '-').replace('/', '')}"
        shutil.copytree(cache, copy)
        shutil.rmtree(copy / "candidate_coverage", ignore_errors=True)
        load = os.getloadavg()
        if scheduler == "serial":
            r = _measured([str(toml), str(copy), "-", "candidate_coverage", "inprocess",
                           "sizes"], NUMBA_NUM_THREADS="1")
        else:
            r = _measured([str(toml), str(copy), "-", "candidate_coverage", scheduler])
        after = os.getloadavg()
        stage = times[scheduler] = r["stage_s"]["candidate_coverage"]
        against = (f"speed-up {times['serial'] / stage:4.2f} over serial"
                   + (f", {times['inprocess'] / stage:4.2f} over in-process"
                      if "inprocess" in times and scheduler != "inprocess" else ""))
        name = "serial (1 thread)" if scheduler == "serial" else scheduler
        print(f"  {name:<18} {stage:7.1f} s ({against})  process wall {r['wall_s']:6.1f} s  "
              f"cpu {r['cpu_s']:6.1f} s  peak RSS {r['peak_rss_mb']:5.0f} MB  load average "
              f"{load[0]:.1f} -> {after[0]:.1f}  matrix {r['matrix_shape']} "
              f"sha256 {r['matrix_sha256']}")
        if scheduler == "serial":
            sizes = sorted(r["task_mb"])
            print(f"      sent to each worker once: {r['shared_mb']:.1f} MB pickled "
                  f"({r['units']} demand units, link); with each of the {len(sizes)} batches "
                  f"its part of the terrain: median {sizes[len(sizes) // 2]:.1f} MB, largest "
                  f"{sizes[-1]:.1f} MB, against {r['whole_mb']:.1f} MB for the whole DEM "
                  f"{r['dem_shape']}{' and land cover' if r['landcover'] else ''}; "
                  f"coverage {r['matrix_nnz']:,} (site, unit) pairs")
        for k, w in enumerate(r.get("workers", [])):
            print(f"      process {k} of the cluster: cpu {w['cpu_s']:6.1f} s  peak RSS "
                  f"{w['peak_rss_mb']:5.0f} MB")
        if scheduler != "inprocess":
            shutil.rmtree(copy)
    return work / "cache-inprocess"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true",
                        help="kabupaten at 30 m and a province of 10 kabupaten")
    parser.add_argument("--resolution-m", type=float, help="kabupaten DEM cell, m")
    parser.add_argument("--province-kabupaten", type=int, help="kabupaten in the province")
    parser.add_argument("--skip", choices=("kabupaten", "province", "executors"),
                        action="append", default=[], help="leave out one part")
    parser.add_argument("--schedulers", default="dask-local:2,local:2",
                        help="schedulers compared with inprocess (comma list)")
    args = parser.parse_args()
    res = args.resolution_m or (30.0 if args.full else 90.0)
    n = args.province_kabupaten or (10 if args.full else 2)
    with tempfile.TemporaryDirectory(prefix="towerplan-scale-") as tmp:
        work = Path(tmp)
        if "kabupaten" not in args.skip:
            kabupaten(work, res)
        schedulers = [x for x in args.schedulers.split(",") if x]
        if "province" not in args.skip:
            province(work, n, schedulers)
        if "executors" not in args.skip:
            executors(work, res, schedulers)


if __name__ == "__main__":
    main()
