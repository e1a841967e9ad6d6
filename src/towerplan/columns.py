"""Column names of every table towerplan writes, defined once.

Units are part of the names (``_km2``, ``_idr``, ``_dbm``, ``_m``).
"""

from __future__ import annotations

__all__ = [
    "AUDIT_COLUMNS",
    "BACKHAUL_COLUMNS",
    "BLANKSPOT_COLUMNS",
    "CANDIDATE_COLUMNS",
    "COST_PARTS",
    "COVERAGE_COLUMNS",
    "HOP_COLUMNS",
    "POP_COLUMNS",
    "RANKING_COLUMNS",
    "SUMMARY_KEYS",
    "TOWER_COLUMNS",
    "VILLAGE_COLUMNS",
    "WHY_NOT_TABLE",
]

#: Cost components of a site, rupiah, in the order reports list them.
COST_PARTS: tuple[str, ...] = (
    "cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
    "cost_colocation_idr",
)

#: villages.csv and the ``villages`` layer of plan.gpkg.
VILLAGE_COLUMNS: tuple[str, ...] = (
    "code",                    # Kemendagri code or generated id
    "name",
    "district_code",           # kecamatan code
    "district",                # kecamatan name
    "kind",                    # desa / kelurahan
    "area_km2",
    "demand_total",            # people, or km2 when no population data (see summary demand_basis)
    "demand_covered_before",
    "demand_covered_after",
    "share_covered_before",    # 0..1, share of demand covered by existing towers
    "share_covered_after",     # 0..1, with the selected towers
    "area_share_covered_before",
    "area_share_covered_after",
    "status_before",           # blank / partial / covered
    "status_after",
    "best_server_before",      # tower_id of the strongest existing tower at the village, or ""
    "median_rsrp_before_dbm",  # median best-server RSRP over the village's cells (nan if none)
    "best_server_after",       # site_id or tower_id of the strongest server after the plan
    "median_rsrp_after_dbm",
    # status_before is the one used: the signal report where the village has a known one,
    # else the model ([inputs] signal_reports, [coverage] target)
    "status_model",            # blank / partial / covered by the existing towers in the model
    "share_covered_model",     # 0..1, share of demand the existing towers cover in the model
    "status_reported",         # served / semi_blank / blank / unknown at the coverage target
    "signal_reported",         # status of the deciding report (none, weak, 2g, 3g, 4g, signal)
    "reported_date",           # date of the deciding report (YYYY, YYYY-MM or YYYY-MM-DD)
    "reported_source",         # source of the deciding report
    "status_source",           # "report: SOURCE DATE", "coverage_map" or "model"
    "conflict",                # bool: report and model disagree (served vs blank)
    # how the village's people were placed on its demand units: raster, buildings,
    # settlements, office, centroid or area (summary population_rules)
    "population_rule",
    # where its total comes from: village_population, villages (own column),
    # district_population (kecamatan share), or "" (none)
    "population_source",
    "committed_year",          # earliest on-air year of committed towers after the plan year
                               # that will serve the village at the target (0 = none)
    # why a village is still blank after the plan (analysis/why_not.py; empty otherwise):
    "why_not_site",            # candidate serving its people most cheaply per person, or ""
    "why_not_cost_per_person_idr",  # that site's cost per person it serves in the village
    "why_not_extra_budget_idr",     # budget beyond what is left to lift it out of blank
    "why_not_reason",          # no_candidate / excluded / lower_yield / over_budget
)

#: The "why not" table of the workbook and the report: villages still blank after the plan.
WHY_NOT_TABLE: tuple[str, ...] = (
    "code", "name", "district", "demand_total", "share_covered_after", "why_not_site",
    "why_not_cost_per_person_idr", "why_not_extra_budget_idr", "why_not_reason",
)

#: villages.csv of ``towerplan blankspots`` (today's coverage by the existing towers).
BLANKSPOT_COLUMNS: tuple[str, ...] = (
    "code", "name", "district_code", "district", "kind", "area_km2",
    "demand_total", "demand_covered", "share_covered", "area_share_covered",
    "status",             # blank / partial / covered
    "best_server",        # tower_id serving the most demand in the village, or ""
    "median_rsrp_dbm",
    # status is the one used: the signal report where the village has a known one, else the
    # model; the columns below are those of villages.csv of ``towerplan plan``
    "status_model", "share_covered_model", "status_reported", "signal_reported",
    "reported_date", "reported_source", "status_source", "conflict",
)

#: Existing towers (``existing`` layer).
TOWER_COLUMNS: tuple[str, ...] = (
    "tower_id", "lon", "lat", "height_m", "operator", "radio",
    "technology",  # highest generation served: 2g, 3g, 4g, 5g or unknown
    "cells",
)

#: Candidate sites (``candidates`` layer).
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "site_id", "lon", "lat", "origin",  # grid / hilltop / settlement / village_centre / user
    # land_status: in_settlement / needs_road_land / colocation / user
    "land_status",
    "village_code", "village", "district", "elevation_m", "height_m",
    "cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
    "cost_colocation_idr",     # co-location fee on an existing tower (no new tower)
    "cost_total_idr",
    "demand_alone",  # new demand the site would cover on its own, beyond existing towers
    "selected",      # bool
)

#: ranking.csv and the ``selected`` layer (build order).
RANKING_COLUMNS: tuple[str, ...] = (
    "rank", "site_id", "lon", "lat",
    "land_status",             # in_settlement / needs_road_land / colocation / user
    "village_code", "village", "district", "elevation_m",
    "cost_tower_idr", "cost_road_idr", "cost_power_idr", "cost_backhaul_idr",
    "cost_colocation_idr",     # co-location fee on an existing tower (no new tower)
    "cost_total_idr",
    "cumulative_cost_idr",
    "new_demand",              # demand newly covered when added in this order
    "cumulative_demand",
    "villages_lifted",         # number of villages leaving 'blank' status at this step
    "villages_lifted_names",   # their names, separated by '; '
    "new_median_rsrp_dbm",     # median RSRP of the site over the demand it newly covers
    "new_area_median_rsrp_dbm",  # median RSRP of the site over the area it newly covers
    "new_area_km2",            # village area the site newly covers, km2
    "backhaul_technology",     # fibre / microwave / vsat / existing (co-location)
    "backhaul_hops",           # hops to the point of presence (0 for vsat and co-location)
    "backhaul_worst_clearance",  # smallest first-Fresnel clearance ratio on the path, nan if none
)

#: Audit sites of a past decision (``audit`` layer, audit table of the reports), one per site.
AUDIT_COLUMNS: tuple[str, ...] = (
    "audit_id",                # A1, A2, ... in the order given
    "lon", "lat",
    "village_code", "village", "district",
    "source",                  # "village" (best tower inside a named village) or "sites" (CSV)
    "cost_total_idr",
    "new_demand",              # demand this audit site covers beyond existing towers (alone)
)

#: Points of presence (fibre nodes), as :func:`towerplan.io.pops.read_pops` returns them.
POP_COLUMNS: tuple[str, ...] = ("pop_id", "lon", "lat", "kind", "capacity_mbps")

#: hops.csv of ``towerplan backhaul``: every microwave hop checked, one row per pair of nodes.
HOP_COLUMNS: tuple[str, ...] = (
    "from_id", "to_id",        # node ids: site_id, tower_id or pop_id
    "from_lon", "from_lat", "to_lon", "to_lat",
    "distance_km",
    "clearance_ratio",         # worst first-Fresnel clearance, nan when not checked
    "margin_db",               # fade margin left after rain at the availability target
    "feasible",                # bool
    "reason",                  # ok / rain margin / fresnel clearance / no line of sight
)

#: Backhaul links of the selected sites (``links`` layer), one row per hop.
BACKHAUL_COLUMNS: tuple[str, ...] = (
    "link_id",
    "site_id",                 # the selected site this hop serves
    "from_id", "to_id",        # node ids: site_id, tower_id or pop_id
    "from_lon", "from_lat", "to_lon", "to_lat",
    "technology",              # fibre / microwave / vsat
    "distance_km",
    "clearance_ratio",         # worst first-Fresnel-zone clearance (1 = fully clear), nan for vsat
    "margin_db",               # fade margin against the availability target, nan for vsat
    "feasible",                # bool
    "cost_idr",
)

#: Covered area before/after the plan (``coverage`` layer of plan.gpkg), one dissolved
#: (multi)polygon per stage: the cells whose best-server RSRP reaches the threshold.
COVERAGE_COLUMNS: tuple[str, ...] = (
    "stage",                   # before / after
    "threshold_rsrp_dbm",
    "area_km2",
)

#: Keys of summary.json (DESIGN.md section 7, plus provenance).
SUMMARY_KEYS: tuple[str, ...] = (
    "scenario", "title", "synthetic", "budget_idr", "spent_idr", "towers_selected",
    "villages_total", "blank_villages_before", "blank_villages_after",
    "partial_villages_before", "partial_villages_after",
    "covered_villages_before", "covered_villages_after",
    "demand_total", "demand_basis", "demand_covered_before", "demand_covered_after",
    "solver", "optimality_gap", "objective", "greedy_objective",
    "model_chain", "threshold_rsrp_dbm", "tower_cost_idr", "candidates_total",
    "existing_towers", "crs", "scenario_hash", "towerplan_version", "data_sources",
    "runtime_s", "created_utc",
)
