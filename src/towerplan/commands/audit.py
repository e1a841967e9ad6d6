"""``towerplan audit``: a choice of villages and/or sites against the optimum for the same
budget."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from towerplan.columns import AUDIT_COLUMNS
from towerplan.commands.plan import CacheArg
from towerplan.errors import InputDataError
from towerplan.io.outdir import staged_directory
from towerplan.io.tables import data_source, typed_layer, write_json, write_table_csv
from towerplan.io.vectors import write_gpkg_layers
from towerplan.pipeline.graph import ProgressFn
from towerplan.pipeline.plan import new_run
from towerplan.scenario import Scenario

__all__ = ["audit"]

_OPTIMUM_COLUMNS = ("site_id", "village_code", "village", "district", "lon", "lat",
                    "cost_total_idr", "demand_alone")


def audit(scenario: Scenario, out_dir: str | Path, *, villages: Sequence[str] = (),
          sites: str | Path | None = None, overwrite: bool = False,
          progress: ProgressFn | None = None, cache: CacheArg = True) -> dict[str, Any]:
    """Audit a choice of villages and/or sites against the optimum: ``towerplan audit``
    (audit.csv, audit.json, audit.gpkg with layers audit_sites and optimum_sites).

    Parameters
    ----------
    scenario : Scenario
        The scenario; its ``[audit]`` is used where *villages* and *sites* are not given.
    out_dir : str or Path
        Output directory.
    villages : sequence of str
        Village names or codes that each get their best candidate.
    sites : str or Path, optional
        CSV of audited sites (``lon,lat[,site_id,height_m,cost columns]``).
    overwrite : bool, keyword-only
        Replace files of an existing, non-empty output directory.
    progress : callable, optional
        Stage callback.
    cache : StageCache, path, bool or None, keyword-only
        Stage cache (default the user cache folder).

    Returns
    -------
    dict
        The audit summary written to audit.json.
    """
    if villages or sites is not None:
        scenario = dataclasses.replace(scenario, audit=dataclasses.replace(
            scenario.audit, villages=tuple(villages),
            sites=str(Path(sites).resolve()) if sites is not None else ""))
    if not scenario.audit.villages and not scenario.audit.sites:
        msg = ("audit: name the villages with --villages or the sites with --sites (or "
               "[audit] villages / sites in the scenario)")
        raise InputDataError(msg)
    with staged_directory(Path(out_dir), overwrite=overwrite) as staging:
        run = new_run(scenario, cache=cache, progress=progress)
        res = run.get("audit")
        source = data_source(run.get("load").paths.demo is not None)
        write_table_csv(res.sites, AUDIT_COLUMNS, "audit", staging / "audit.csv", source)
        write_json(staging / "audit.json", res.summary)
        write_gpkg_layers(staging / "audit.gpkg", [
            ("audit_sites", typed_layer(res.sites, AUDIT_COLUMNS, res.sites.crs, source),
             "Point"),
            ("optimum_sites", typed_layer(res.optimum, _OPTIMUM_COLUMNS, res.optimum.crs,
                                          source), "Point")])
    return dict(res.summary)
