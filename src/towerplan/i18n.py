"""Every label a user reads, in Bahasa Indonesia (first) and English, defined once.

Writers never hard-code user-facing text: they call :func:`t` with a label id. Number and
money formatting that depends on the language lives here too.

Examples
--------
>>> t("status.partial", "id")
'sebagian'
>>> format_idr(8_500_000_000, "id")
'Rp 8.500.000.000'
>>> format_idr(8_500_000_000, "en")
'Rp 8,500,000,000'
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping
from typing import Any

from towerplan.errors import ScenarioError

__all__ = [
    "SUPPORTED_LANGS",
    "TERM_COLUMNS",
    "TEXT",
    "bilingual",
    "check_lang",
    "format_idr",
    "format_number",
    "format_percent",
    "format_value",
    "in_language",
    "join_statements",
    "solver_label",
    "statement",
    "target_text",
    "status_label",
    "t",
    "term_label",
    "why_not_label",
]

#: Languages every label is available in; the first is the default.
SUPPORTED_LANGS: tuple[str, ...] = ("id", "en")

_COLUMNS: dict[str, tuple[str, str]] = {
    "code": ("Kode desa", "Village code"),
    "name": ("Nama desa", "Village name"),
    "district_code": ("Kode kecamatan", "District code"),
    "district": ("Kecamatan", "District (kecamatan)"),
    "kind": ("Jenis (desa/kelurahan)", "Type (desa/kelurahan)"),
    "area_km2": ("Luas (km²)", "Area (km²)"),
    "demand_total": ("Kebutuhan total", "Total demand"),
    "demand_covered_before": ("Kebutuhan tercakup sebelum", "Demand covered before"),
    "demand_covered_after": ("Kebutuhan tercakup sesudah", "Demand covered after"),
    "share_covered_before": ("Porsi tercakup sebelum", "Share covered before"),
    "share_covered_after": ("Porsi tercakup sesudah", "Share covered after"),
    "area_share_covered_before": ("Porsi luas tercakup sebelum", "Area share covered before"),
    "area_share_covered_after": ("Porsi luas tercakup sesudah", "Area share covered after"),
    "status_before": ("Status sebelum", "Status before"),
    "status_after": ("Status sesudah", "Status after"),
    "best_server_before": ("Menara terkuat sebelum", "Best server before"),
    "median_rsrp_before_dbm": ("RSRP median sebelum (dBm)", "Median RSRP before (dBm)"),
    "best_server_after": ("Menara terkuat sesudah", "Best server after"),
    "median_rsrp_after_dbm": ("RSRP median sesudah (dBm)", "Median RSRP after (dBm)"),
    "status_model": ("Status menurut model", "Status modelled"),
    "share_covered_model": ("Porsi tercakup menurut model", "Share covered modelled"),
    "status_reported": ("Status menurut laporan", "Status reported"),
    "signal_reported": ("Sinyal dilaporkan", "Signal reported"),
    "reported_date": ("Tanggal laporan", "Report date"),
    "reported_source": ("Sumber laporan", "Report source"),
    "status_source": ("Dasar status sebelum", "Basis of status before"),
    "conflict": ("Laporan dan model bertentangan", "Report and model disagree"),
    "agrees": ("Model sesuai laporan", "Model agrees with the report"),
    "population_rule": ("Penempatan penduduk", "People placed by"),
    "population_source": ("Sumber jumlah penduduk", "Population total from"),
    "committed_year": ("Tahun menara komitmen (setelah tahun rencana)",
                       "Committed tower year (after the plan year)"),
    "why_not_site": ("Lokasi termurah per orang", "Cheapest site per person"),
    "why_not_cost_per_person_idr": ("Biaya per orang terlayani (Rp)",
                                    "Cost per person served (Rp)"),
    "why_not_extra_budget_idr": ("Tambahan anggaran agar keluar dari blank spot (Rp)",
                                 "Extra budget to lift it out of blank spot (Rp)"),
    "why_not_reason": ("Alasan belum terpilih", "Why not chosen"),
    "tower_id": ("ID menara", "Tower ID"),
    "lon": ("Bujur", "Longitude"),
    "lat": ("Lintang", "Latitude"),
    "height_m": ("Tinggi antena (m)", "Antenna height (m)"),
    "operator": ("Operator", "Operator"),
    "radio": ("Teknologi radio", "Radio technology"),
    "cells": ("Jumlah sel", "Cells"),
    "tower_technology": ("Teknologi seluler", "Cellular technology"),
    "on_air_year": ("Tahun mengudara", "On-air year"),
    "programme": ("Program", "Programme"),
    "site_name": ("Nama lokasi", "Site name"),
    "committed_id": ("ID menara komitmen", "Committed tower id"),
    "site_id": ("ID lokasi", "Site ID"),
    "origin": ("Asal kandidat", "Candidate origin"),
    "land_status": ("Status lahan", "Land status"),
    "village_code": ("Kode desa", "Village code"),
    "village": ("Desa", "Village"),
    "elevation_m": ("Elevasi (m)", "Elevation (m)"),
    "cost_tower_idr": ("Biaya menara (Rp)", "Tower cost (Rp)"),
    "cost_road_idr": ("Biaya jalan akses (Rp)", "Access road cost (Rp)"),
    "cost_power_idr": ("Biaya listrik (Rp)", "Power cost (Rp)"),
    "cost_backhaul_idr": ("Biaya backhaul (Rp)", "Backhaul cost (Rp)"),
    "cost_colocation_idr": ("Biaya kolokasi (Rp)", "Co-location cost (Rp)"),
    "cost_total_idr": ("Biaya total (Rp)", "Total cost (Rp)"),
    "demand_alone": ("Tambahan cakupan jika sendiri", "New demand on its own"),
    "selected": ("Terpilih", "Selected"),
    "rank": ("Urutan", "Rank"),
    "cumulative_cost_idr": ("Biaya kumulatif (Rp)", "Cumulative cost (Rp)"),
    "new_demand": ("Tambahan kebutuhan tercakup", "Newly covered demand"),
    "cumulative_demand": ("Kebutuhan tercakup kumulatif", "Cumulative covered demand"),
    "villages_lifted": ("Desa keluar dari blank spot", "Villages leaving blank spot"),
    "villages_lifted_names": ("Nama desa tersebut", "Names of those villages"),
    "new_median_rsrp_dbm": ("RSRP median di cakupan baru (dBm)",
                        "Median RSRP where newly covered (dBm)"),
    "new_area_median_rsrp_dbm": ("RSRP median atas luas cakupan baru (dBm)",
                                 "Median RSRP over the area newly covered (dBm)"),
    "new_area_km2": ("Luas cakupan baru (km²)", "Area newly covered (km²)"),
    "backhaul_technology": ("Teknologi backhaul", "Backhaul technology"),
    "backhaul_hops": ("Jumlah hop backhaul", "Backhaul hops"),
    "backhaul_worst_clearance": ("Kebebasan Fresnel terburuk", "Worst Fresnel clearance"),
    "reason": ("Alasan", "Reason"),
    "demand_covered": ("Kebutuhan tercakup", "Demand covered"),
    "share_covered": ("Porsi tercakup", "Share covered"),
    "area_share_covered": ("Porsi luas tercakup", "Area share covered"),
    "status": ("Status", "Status"),
    "best_server": ("Menara terbaik", "Best server"),
    "median_rsrp_dbm": ("RSRP median (dBm)", "Median RSRP (dBm)"),
    "audit_id": ("ID lokasi audit", "Audit site ID"),
    "source": ("Asal lokasi", "Site source"),
    "link_id": ("ID hop", "Hop ID"),
    "from_id": ("Dari", "From"),
    "to_id": ("Ke", "To"),
    "from_lon": ("Bujur asal", "From longitude"),
    "from_lat": ("Lintang asal", "From latitude"),
    "to_lon": ("Bujur tujuan", "To longitude"),
    "to_lat": ("Lintang tujuan", "To latitude"),
    "technology": ("Teknologi backhaul", "Backhaul technology"),
    "distance_km": ("Jarak (km)", "Distance (km)"),
    "clearance_ratio": ("Rasio kebebasan Fresnel", "Fresnel clearance ratio"),
    "margin_db": ("Margin fading (dB)", "Fade margin (dB)"),
    "feasible": ("Layak", "Feasible"),
    "cost_idr": ("Biaya (Rp)", "Cost (Rp)"),
    "stage": ("Tahap", "Stage"),
    "threshold_rsrp_dbm": ("Ambang RSRP (dBm)", "RSRP threshold (dBm)"),
}

_SUMMARY: dict[str, tuple[str, str]] = {
    "scenario": ("Skenario", "Scenario"),
    "title": ("Judul", "Title"),
    "synthetic": ("Data sintetis", "Synthetic data"),
    "budget_idr": ("Anggaran", "Budget"),
    "spent_idr": ("Terpakai", "Spent"),
    "towers_selected": ("Menara baru terpilih", "New towers selected"),
    "villages_total": ("Jumlah desa", "Villages"),
    "blank_villages_before": ("Desa blank spot sebelum", "Blank-spot villages before"),
    "blank_villages_after": ("Desa blank spot sesudah", "Blank-spot villages after"),
    "before_state": ("Dasar cakupan saat ini", "Basis of today's coverage"),
    "before_state_note": ("Tentang cakupan saat ini", "About today's coverage"),
    "partial_villages_before": ("Desa tercakup sebagian sebelum",
                                "Partly covered villages before"),
    "partial_villages_after": ("Desa tercakup sebagian sesudah",
                               "Partly covered villages after"),
    "covered_villages_before": ("Desa tercakup sebelum", "Covered villages before"),
    "covered_villages_after": ("Desa tercakup sesudah", "Covered villages after"),
    "demand_total": ("Kebutuhan total", "Total demand"),
    "demand_basis": ("Dasar kebutuhan", "Demand basis"),
    "demand_covered_before": ("Kebutuhan tercakup sebelum", "Demand covered before"),
    "demand_covered_after": ("Kebutuhan tercakup sesudah", "Demand covered after"),
    "solver": ("Metode pemilihan", "Selection method"),
    "optimality_gap": ("Celah optimalitas", "Optimality gap"),
    "objective": ("Nilai tujuan (kebutuhan baru tercakup)", "Objective (new demand covered)"),
    "greedy_objective": ("Nilai tujuan metode greedy", "Greedy objective"),
    "model_chain": ("Model radio", "Radio model chain"),
    "threshold_rsrp_dbm": ("Ambang RSRP (dBm)", "RSRP threshold (dBm)"),
    "link_budget_text": ("Margin, uplink dan antena", "Margins, uplink and antenna"),
    "coverage_radius_flat_km": ("Radius cakupan di tanah datar (km)",
                                "Coverage radius on flat ground (km)"),
    "tower_cost_idr": ("Biaya per menara", "Cost per tower"),
    "cost_parts_not_costed": ("Bagian biaya yang tidak dihitung", "Cost parts not costed"),
    "candidates_total": ("Jumlah lokasi kandidat", "Candidate sites"),
    "existing_towers": ("Menara yang ada", "Existing towers"),
    "crs": ("Sistem koordinat kerja", "Working CRS"),
    "scenario_hash": ("Hash skenario", "Scenario hash"),
    "towerplan_version": ("Versi towerplan", "towerplan version"),
    "data_sources": ("Sumber data", "Data sources"),
    "runtime_s": ("Waktu proses (detik)", "Runtime (s)"),
    "created_utc": ("Dibuat (UTC)", "Created (UTC)"),
    "cache_discarded": ("Entri cache rusak yang dibuang dan dihitung ulang",
                        "Damaged cache entries discarded and recomputed"),
    "demand_basis_note": ("Keterangan dasar kebutuhan", "Demand basis note"),
    "population_rules": ("Penempatan penduduk per desa", "People placed per village"),
    "facility_demand": ("Tambahan kebutuhan fasilitas umum", "Demand added by facilities"),
    "solver_status": ("Status solver", "Solver status"),
    "plan_year": ("Tahun rencana", "Plan year"),
    "anchor_distance_m": ("Jarak maks. kandidat dari permukiman tanpa biaya jalan dan lahan (m)",
                          "Candidate distance from a settlement without road and land cost (m)"),
    "outputs_skipped": ("Keluaran yang dilewati", "Outputs skipped"),
    "objective_bound": ("Batas atas nilai tujuan", "Objective bound"),
    "greedy_spent_idr": ("Terpakai metode greedy", "Greedy spent"),
    "solver_runtime_s": ("Waktu solver (detik)", "Solver runtime (s)"),
    "greedy_shortfall_percent": ("Kekurangan metode greedy terhadap optimum (%)",
                                 "Greedy shortfall against the optimum (%)"),
    "cost_model": ("Model biaya", "Cost model"),
    "colocation_cost_idr": ("Biaya kolokasi per lokasi", "Co-location cost per site"),
    "access_road_idr_per_km": ("Biaya jalan akses per km", "Access road cost per km"),
    "access_road_from": ("Jalan akses diukur dari", "Access road measured from"),
    "access_road_note": ("Keterangan jalan akses", "Access road note"),
    "remote_road_idr_per_km": ("Biaya jalan akses per km, lokasi perlu jalan dan lahan",
                               "Access road cost per km, sites needing road and land"),
    "remote_power_idr": ("Biaya listrik sendiri (surya), lokasi perlu jalan dan lahan",
                         "Own power (solar), sites needing road and land"),
    "candidates_land_status": ("Kandidat menurut status lahan", "Candidates by land status"),
    "exclusion_layers": ("Lapisan kawasan dikecualikan (kandidat yang dihapus)",
                         "Exclusion layers (candidates removed)"),
    "grid_idr_per_km": ("Biaya sambungan listrik PLN per km", "Grid connection cost per km"),
    "grid_max_km": ("Jarak maksimum sambungan listrik (km)", "Farthest grid connection (km)"),
    "solar_idr": ("Biaya tenaga surya + baterai per lokasi", "Solar and battery cost per site"),
    "power_grid_basis": ("Dasar jaringan listrik", "Power grid basis"),
    "power_grid_basis_note": ("Keterangan jaringan listrik", "Power grid note"),
    "candidates_on_grid": ("Kandidat tersambung listrik PLN", "Candidates on the grid"),
    "candidates_on_solar": ("Kandidat dengan tenaga surya", "Candidates on solar"),
    "candidates_colocation": ("Kandidat kolokasi di menara yang ada",
                              "Co-location candidates on existing towers"),
    "cost_overrides_applied": ("Biaya lokasi yang ditetapkan manual",
                               "Sites with overridden costs"),
    "limitations": ("Keterbatasan", "Limitations"),
    "village_geometry_source": ("Sumber geometri desa", "Village geometry source"),
    "register_matched": ("Nama desa cocok dengan register",
                         "Village names matched to the register"),
    "register_ambiguous": ("Nama desa ambigu", "Ambiguous village names"),
    "register_unmatched": ("Nama desa tidak cocok", "Unmatched village names"),
    "register_without_polygon": ("Desa register tanpa poligon",
                                 "Register villages without a polygon"),
}

_LABELS: dict[str, tuple[str, str]] = {
    # village status
    "status.blank": ("blank spot", "blank spot"),
    "status.partial": ("sebagian", "partial"),
    "status.covered": ("tercakup", "covered"),
    "status.unknown": ("tidak diketahui", "unknown"),
    # status of a village in the signal reports, for the coverage target
    "status.served": ("terlayani", "served"),
    "status.semi_blank": ("semi blank spot", "semi blank spot"),
    "doc.evidence": ("Status sebelum: laporan sinyal dan model",
                     "Status before: signal reports and the model"),
    # towerplan evidence: modelled against reported status
    "evidence.title": ("Kesesuaian status model dengan laporan sinyal",
                       "Agreement of the modelled status with the signal reports"),
    "evidence.reported": ("Laporan", "Reported"),
    "evidence.modelled": ("Model", "Modelled"),
    "evidence.villages": ("desa", "villages"),
    "evidence.people": ("penduduk", "people"),
    "evidence.demand": ("kebutuhan", "demand"),
    "evidence.total": ("Jumlah", "Total"),
    "evidence.all": ("seluruh wilayah", "whole area"),
    "evidence.accuracy": ("Akurasi", "Accuracy"),
    "evidence.kappa": ("Kappa Cohen", "Cohen's kappa"),
    "evidence.rule": ("blank = blank spot, semi blank = sebagian, terlayani = tercakup; "
                      "laporan 'tidak diketahui' tidak dihitung",
                      "blank = blank, semi blank = partial, served = covered; unknown "
                      "reports are not counted"),
    "evidence.disagreeing": ("Desa yang status model dan laporannya berbeda",
                             "Villages whose modelled and reported status differ"),
    "evidence.none_disagree": ("Semua desa yang dilaporkan sesuai dengan model",
                               "Every reported village agrees with the model"),
    "before.unknown": (
        "Cakupan saat ini tidak diketahui: tidak ada menara yang ada di dalam wilayah dan "
        "tidak ada laporan sinyal; status sebelum hanya berasal dari model, sehingga optimum "
        "dan audit di bawah ini bersyarat pada model, bukan temuan",
        "Today's coverage is unknown: no existing tower lies inside the area and no signal "
        "report is given; the status before comes from the model alone, so the optimum and "
        "the audit below are conditional on the model, not findings"),
    "before.reports": (
        "Status sebelum: laporan sinyal untuk {n} desa ({blank} blank spot, {semi} semi "
        "blank spot, {served} terlayani untuk target {target}), model untuk desa lainnya; "
        "{conflicts} desa laporan dan model bertentangan ({served_blank} dilaporkan "
        "terlayani tetapi di luar jangkauan model dari menara yang ada, {blank_covered} "
        "dilaporkan blank atau semi blank tetapi dijangkau model); di desa itu laporan yang "
        "dipakai",
        "Status before: signal reports for {n} villages ({blank} blank, {semi} semi blank, "
        "{served} served at the {target} target), the model for the others; report and "
        "model disagree for {conflicts} villages ({served_blank} reported served but beyond "
        "the model's reach from the existing towers, {blank_covered} reported blank or semi "
        "blank but within it); there the report is used"),
    "before.reports_no_towers": (
        "Berkas menara tidak memuat satu pun menara di dalam wilayah, jadi model sendiri "
        "menyebut hampir setiap desa blank spot; laporan desa, bukan model, yang menentukan "
        "status sebelum",
        "The tower file holds no tower inside the area, so the model alone calls almost every "
        "village a blank spot; the village reports, not the model, decide the status before"),
    "before.coverage_maps": (
        "Status sebelum: peta cakupan operator atau kerumunan untuk {n} desa (unit yang "
        "tercakup pada target {target} dihitung terlayani), model untuk bagian lainnya",
        "Status before: operator or crowd coverage maps for {n} villages (units covered at "
        "the {target} target count as served), the model elsewhere"),
    "before.technology": (
        "Teknologi menara yang ada untuk target {target}: {serving} dari {towers} menara "
        "melayani target; {below} di bawah target (2G/3G) tidak dihitung sebagai cakupan "
        "target; {unknown} menara tanpa teknologi yang diketahui dianggap melayani target",
        "Technology of existing towers for the {target} target: {serving} of {towers} towers "
        "serve the target; {below} below it (2G/3G) do not count as coverage at the target; "
        "{unknown} towers of unknown technology are assumed to serve the target"),
    "before.committed": (
        "Menara komitmen (tahun rencana {year}): {on_air} sudah mengudara dihitung sebagai "
        "menara yang ada; {future} yang mengudara setelah {year} tidak dihitung melayani saat "
        "ini, tetapi rencana tidak membangun dalam {distance_m:g} m dari menara komitmen dan "
        "menganggap orang yang akan dilayaninya sudah terlayani",
        "Committed towers (plan year {year}): {on_air} on air count as existing towers; "
        "{future} going on air after {year} are not counted as serving today, but the plan "
        "builds nothing within {distance_m:g} m of a committed tower and counts the people "
        "they will serve as served"),
    # sheet names (at most 31 characters)
    "sheet.summary": ("Ringkasan", "Summary"),
    "sheet.ranking": ("Peringkat", "Ranking"),
    "sheet.villages": ("Desa", "Villages"),
    "sheet.costs": ("Biaya", "Costs"),
    "sheet.assumptions": ("Asumsi", "Assumptions"),
    "sheet.why_not": ("Mengapa tidak", "Why not"),
    # printing and cost scope of the workbook and reports
    "xlsx.page_of": ("Halaman {page} dari {pages}", "Page {page} of {pages}"),
    "xlsx.share_of_total": ("Porsi dari jumlah", "Share of the total"),
    "xlsx.share_of_budget": ("Porsi dari anggaran", "Share of the budget"),
    "xlsx.formula_note": (
        "Jumlah, kumulatif, sisa dan porsi adalah rumus: ubah biaya di lembar ini dan "
        "semuanya dihitung ulang.",
        "Totals, cumulative sums, remainder and shares are formulas: edit a cost on this "
        "sheet and they all recompute."),
    "cost.not_costed": ("tidak dihitung", "not costed"),
    "xlsx.folded_columns": (
        "Kolom rincian dilipat: klik tanda + di atas kolom untuk menampilkannya.",
        "Detail columns are folded: click the + above the columns to show them."),
    "report.cost_scope": ("Cakupan biaya", "What the cost covers"),
    "cost.part.cost_tower_idr": ("menara", "tower"),
    "cost.part.cost_road_idr": ("jalan akses", "access road"),
    "cost.part.cost_power_idr": ("listrik", "power"),
    "cost.part.cost_backhaul_idr": ("backhaul", "backhaul"),
    "cost.part.cost_colocation_idr": ("sewa menara bersama", "co-location"),
    "cost.scope": ("{cost} per menara: {included}; {excluded} tidak dihitung",
                   "{cost} per tower: {included}; {excluded} not costed"),
    "cost.scope_only": ("saja", "only"),
    "cost.scope_all": ("{cost} per menara: {included}", "{cost} per tower: {included}"),
    # why a village is still blank after the plan (analysis/why_not.py)
    "why_not.no_candidate": ("tidak ada kandidat yang menjangkaunya",
                             "no candidate reaches it"),
    "why_not.excluded": ("lokasi termurahnya dikecualikan", "its cheapest site is excluded"),
    "why_not.lower_yield": ("lebih sedikit orang per rupiah daripada lokasi terpilih",
                            "fewer people per rupiah than the chosen sites"),
    "why_not.over_budget": ("melebihi sisa anggaran", "over the budget left"),
    "doc.why_not": ("Mengapa desa ini masih blank spot", "Why these villages are still blank"),
    "doc.why_not_intro": (
        "Untuk setiap desa yang masih blank spot sesudah rencana: lokasi kandidat yang "
        "melayani penduduknya dengan biaya per orang terendah, biaya itu, tambahan anggaran "
        "di atas sisa anggaran agar desa keluar dari blank spot, dan alasannya.",
        "For every village still blank after the plan: the candidate site serving its people "
        "at the lowest cost per person, that cost, the budget needed beyond what is left to "
        "lift the village out of blank spot, and the reason."),
    "doc.why_not_none": ("Tidak ada desa yang masih blank spot.", "No village is still blank."),
    # synthetic data
    "banner.synthetic": ("DATA SINTETIS — bukan tempat nyata",
                         "SYNTHETIC DATA — not a real place"),
    "badge.synthetic": ("DATA SINTETIS / SYNTHETIC DATA", "DATA SINTETIS / SYNTHETIC DATA"),
    "badge.synthetic_note": ("Contoh buatan, bukan tempat nyata",
                             "Generated example, not a real place"),
    # map layers
    "layer.relief": ("Relief medan (luring)", "Terrain relief (offline)"),
    "layer.osm": ("OpenStreetMap (daring, perlu internet)",
                  "OpenStreetMap (online, needs internet)"),
    "layer.villages_before": ("Status desa — sebelum", "Village status — before"),
    "layer.villages_after": ("Status desa — sesudah rencana", "Village status — after the plan"),
    "layer.coverage_before": ("Cakupan sinyal — sebelum", "Signal coverage — before"),
    "layer.coverage_after": ("Cakupan sinyal — sesudah rencana",
                             "Signal coverage — after the plan"),
    "layer.existing": ("Menara yang ada", "Existing towers"),
    "layer.committed": ("Menara komitmen (BAKTI/operator)", "Committed towers (BAKTI/operators)"),
    "layer.candidates": ("Lokasi kandidat", "Candidate sites"),
    "layer.selected": ("Menara terpilih (urutan bangun)", "Selected towers (build order)"),
    "layer.links": ("Backhaul (warna = margin)", "Backhaul links (colour = margin)"),
    "layer.audit": ("Lokasi audit (keputusan lalu)", "Audit sites (past decision)"),
    "layer.coverage_map": ("Peta cakupan: {file}", "Coverage map: {file}"),
    "qgis.group_plan": ("Rencana", "Plan"),
    "qgis.group_villages": ("Desa", "Villages"),
    "qgis.group_coverage": ("Cakupan sinyal", "Signal coverage"),
    "qgis.layer_coverage_area": ("Wilayah tercakup (sebelum/sesudah)",
                                 "Covered area (before/after)"),
    # map title block and legend
    "map.model": ("Model radio", "Radio model"),
    "map.threshold": ("Ambang cakupan", "Coverage threshold"),
    "map.link_budget": ("Margin, uplink dan antena", "Margins, uplink and antenna"),
    "map.budget": ("Anggaran", "Budget"),
    "map.spent": ("Terpakai", "Spent"),
    "map.solver": ("Metode pemilihan", "Selection method"),
    "map.sources": ("Sumber data", "Data sources"),
    "map.limitations": ("Keterbatasan", "Limitations"),
    # coded values of origin / source / technology columns
    "term.grid": ("titik grid", "grid"),
    "term.hilltop": ("puncak bukit", "hilltop"),
    "term.settlement": ("dekat permukiman", "near settlement"),
    "term.user": ("usulan pengguna", "user-supplied"),
    "term.colocation": ("kolokasi menara ada", "co-location on a tower"),
    "term.in_settlement": ("permukiman", "in a settlement"),
    "term.needs_road_land": ("perlu jalan dan lahan", "needs road and land"),
    "term.village": ("desa yang diaudit", "audited village"),
    "term.sites": ("lokasi dari CSV", "sites from CSV"),
    "term.fibre": ("fiber optik", "fibre"),
    "term.villages": ("desa yang disebut", "named villages"),
    "term.existing": ("backhaul menara yang ada", "the existing tower's backhaul"),
    "term.microwave": ("gelombang mikro", "microwave"),
    "term.vsat": ("VSAT (satelit)", "VSAT (satellite)"),
    "map.blank_villages": ("Desa blank spot", "Blank-spot villages"),
    "map.before_after": ("sebelum → sesudah", "before → after"),
    "map.towers_new": ("Menara baru", "New towers"),
    "map.scenario": ("Skenario", "Scenario"),
    "map.search": ("Cari desa…", "Find a village…"),
    "map.details": ("Rincian rencana", "Plan details"),
    "map.no_match": ("Desa tidak ditemukan", "No village found"),
    "map.provenance": ("Versi / hash skenario", "Version / scenario hash"),
    "legend.title": ("Legenda", "Legend"),
    "legend.village_status": ("Status desa", "Village status"),
    "legend.rsrp": ("Kuat sinyal RSRP (dBm)", "Signal strength RSRP (dBm)"),
    "legend.below_threshold": ("Di bawah ambang: tidak diwarnai", "Below threshold: not shaded"),
    "legend.existing": ("Menara yang ada", "Existing tower"),
    "legend.committed": ("Menara komitmen", "Committed tower"),
    "legend.candidate": ("Lokasi kandidat", "Candidate site"),
    "legend.selected": ("Menara terpilih, nomor = urutan", "Selected tower, number = rank"),
    "legend.audit": ("Lokasi audit (keputusan lalu)", "Audit site (past decision)"),
    "legend.links": ("Backhaul", "Backhaul links"),
    "legend.link_infeasible": ("Tidak layak", "Not feasible"),
    "legend.link_margin_low": ("Gelombang mikro, margin < 10 dB", "Microwave, margin < 10 dB"),
    "legend.link_margin_mid": ("Gelombang mikro, margin 10–20 dB", "Microwave, margin 10–20 dB"),
    "legend.link_margin_high": ("Gelombang mikro, margin ≥ 20 dB", "Microwave, margin ≥ 20 dB"),
    "legend.link_fibre": ("Serat optik", "Fibre"),
    "legend.link_vsat": ("VSAT (satelit)", "VSAT (satellite)"),
    # popups
    "popup.village": ("Desa", "Village"),
    "popup.site": ("Lokasi kandidat", "Candidate site"),
    "popup.selected_site": ("Menara terpilih", "Selected tower"),
    "popup.existing": ("Menara yang ada", "Existing tower"),
    "popup.committed": ("Menara komitmen", "Committed tower"),
    "popup.audit": ("Lokasi audit", "Audit site"),
    "popup.link": ("Hop backhaul", "Backhaul hop"),
    "popup.coverage_map": ("Peta cakupan", "Coverage map"),
    "covmap.technology": ("Teknologi", "Technology"),
    "covmap.operator": ("Operator", "Operator"),
    "covmap.kind": ("Jenis peta", "Map kind"),
    "covmap.date": ("Tanggal", "Date"),
    "covmap.source": ("Sumber", "Source"),
    # Google Earth (KML)
    "kml.blank_villages": ("Desa blank spot (sebelum rencana)",
                           "Blank-spot villages (before the plan)"),
    "popup.yes": ("ya", "yes"),
    "popup.no": ("tidak", "no"),
    # units and demand basis
    "unit.people": ("jiwa", "people"),
    "unit.km2": ("km²", "km²"),
    "basis.population": ("jumlah penduduk", "population"),
    "basis.area_km2": ("luas wilayah (km²) — tidak ada data penduduk",
                       "area (km²) — no population data"),
    # limitations stated in summary.json (both languages; fields in braces)
    "limit.dem_placeholder_distance": (
        "Medan: sel DEM sumber ±{cell_km:.1f} km (grid kerja {grid_m:g} m), jadi detail medan "
        "hanya pengganti, bukan data medan kelas RF; model radio tidak memakai medan, "
        "ketinggian dan kandidat puncak bukit hanya perkiraan",
        "Terrain: source DEM cells ~{cell_km:.1f} km (working grid {grid_m:g} m), so terrain "
        "detail is a placeholder, not RF-grade; the radio model uses no terrain, elevations "
        "and hilltop candidates are approximate"),
    "limit.dem_repaired": (
        "Medan: {share:.0f} % sel DEM adalah lubang nodata yang diisi dengan interpolasi "
        "(lebih dari {limit:.0f} %), jadi bukit dan lembah di sana hanya perkiraan; cakupan "
        "dan kandidat di area itu kurang andal",
        "Terrain: {share:.0f} % of the DEM cells are nodata holes filled by interpolation "
        "(more than {limit:.0f} %), so hills and valleys there are guesses; coverage and "
        "candidates there are less reliable"),
    "limit.dem_unfilled": (
        "Medan: {n} sel DEM ({share:.1f} %) tidak punya ketinggian (lubang nodata tidak "
        "diisi); cakupan tidak dihitung di sana dan tidak ada kandidat di sana",
        "Terrain: {n} DEM cells ({share:.1f} %) have no elevation (nodata holes left "
        "unfilled); no coverage is computed there and no candidate stands there"),
    "limit.dem_placeholder_terrain": (
        "Medan: sel DEM sumber ±{cell_km:.1f} km (grid kerja {grid_m:g} m), jadi detail medan "
        "hanya pengganti, bukan data medan kelas RF; difraksi dan garis pandang di atas DEM "
        "ini tidak dapat diandalkan",
        "Terrain: source DEM cells ~{cell_km:.1f} km (working grid {grid_m:g} m), so terrain "
        "detail is a placeholder, not RF-grade; diffraction and line of sight over this DEM "
        "are not reliable"),
    "model.terrain": (
        "model = \"auto\": sel DEM ({cell_m:.0f} m) cukup halus untuk medan (<= {max_m:g} m), "
        "jadi rantai medan {chain} dipakai: bukit dan lembah mengubah cakupan",
        "model = \"auto\": the DEM cell ({cell_m:.0f} m) resolves terrain (<= {max_m:g} m), "
        "so the terrain chain {chain} is used: hills and valleys change the coverage"),
    "model.coarse_dem": (
        "model = \"auto\": sel DEM ({cell_m:.0f} m) lebih kasar dari {max_m:g} m dan tidak "
        "dapat menggambarkan bukit dan lembah, jadi rantai jarak saja {chain} dipakai: medan "
        "tidak mengubah cakupan",
        "model = \"auto\": the DEM cell ({cell_m:.0f} m) is coarser than {max_m:g} m and "
        "cannot resolve hills and valleys, so the distance-only chain {chain} is used: "
        "terrain changes nothing in the coverage"),
    # model chain and link budget statements (coverage.statement)
    "stmt.distance_only": (" (hanya jarak, tanpa medan)", " (distance only, no terrain)"),
    "stmt.terrain": (", faktor bumi k = {k:.4g}, medan {res:g} m",
                     ", earth k = {k:.4g}, terrain {res:g} m"),
    "stmt.itm_terrain": (
        ", medan {res:g} m, tanah eps {eps:g} sigma {sigma:g} S/m, N0 {n0:g}, iklim {climate}, "
        "polarisasi {pol}, {time:g} % waktu / {situations:g} % situasi",
        ", terrain {res:g} m, ground eps {eps:g} sigma {sigma:g} S/m, N0 {n0:g}, {climate} "
        "climate, {pol} polarisation, {time:g} % time / {situations:g} % situations"),
    "stmt.calibration": (", kalibrasi uji jalan {offset:+.2f} dB {slope:+.2f} dB/dekade",
                         ", drive-test calibration {offset:+.2f} dB {slope:+.2f} dB/decade"),
    "stmt.chain_tail": (
        "{freq:g} MHz, menara {tower:g} m, handset {rx:g} m, EIRP {eirp:g} dBm, kanal "
        "{bw:g} MHz, tercakup bila RSRP >= {thr:g} dBm (MAPL {mapl:.1f} dB), radius "
        "{radius:g} km",
        "{freq:g} MHz, tower {tower:g} m, handset {rx:g} m, EIRP {eirp:g} dBm, {bw:g} MHz "
        "channel, covered at RSRP >= {thr:g} dBm (MAPL {mapl:.1f} dB), radius {radius:g} km"),
    "stmt.outdoor": ("luar ruangan", "outdoor"),
    "stmt.indoor": ("redaman dalam ruangan {loss:g} dB", "indoor loss {loss:g} dB"),
    "stmt.uplink_limited": ("membatasi (uplink)", "uplink-limited"),
    "stmt.not_limiting": ("tidak membatasi", "not limiting"),
    "stmt.flat_radius": ("; radius di tanah datar {radius:.2f} km",
                         "; radius on flat ground {radius:.2f} km"),
    "stmt.link_budget": (
        "probabilitas lokasi {p:g} % (sigma bayangan {sigma:g} dB: margin {margin:g} dB), "
        "redaman tubuh {body:g} dB, {indoor}; uplink {ue:g} dBm ke {bs:g} dBm (MAPL "
        "{up:.1f} dB, downlink {down:.1f} dB: {limit}); antena {antenna}; MAPL dengan margin "
        "{mapl:.1f} dB",
        "location probability {p:g} % (shadowing sigma {sigma:g} dB: margin {margin:g} dB), "
        "body loss {body:g} dB, {indoor}; uplink {ue:g} dBm to {bs:g} dBm (MAPL {up:.1f} dB, "
        "downlink {down:.1f} dB: {limit}); antenna {antenna}; MAPL with margins {mapl:.1f} dB"),
    "model.named": (
        "rantai {chain} dipilih oleh skenario",
        "chain {chain} named by the scenario"),
    "siting.road_proxy": (
        "Tanpa lapisan jalan: jarak garis lurus ke {basis} terdekat dipakai sebagai panjang "
        "jalan akses (asumsi perencanaan)",
        "No roads layer: the straight-line distance to the nearest {basis} stands in for the "
        "access road length (planning assumption)"),
    "siting.road_layer": (
        "Panjang jalan akses: garis lurus ke jalan (lapisan jalan) atau permukiman terdekat",
        "Access road length: straight line to the nearest road (roads layer) or settlement"),
    "siting.basis.settlements": ("permukiman", "settlement"),
    "siting.basis.village centres": ("pusat desa tanpa titik permukiman",
                                     "village centre (villages without a settlement point)"),
    "siting.or": (" atau ", " or "),
    "term.village_centre": ("pusat desa", "village centre"),
    "siting.anchor": (
        "Kandidat di permukiman; titik grid dan puncak bukit lebih dari {distance_m:,.0f} m "
        "dari permukiman: perlu jalan dan lahan (jalan akses min. Rp {road:,.0f}/km, listrik "
        "sendiri min. Rp {power:,.0f} di luar jangkauan PLN)",
        "Candidates in settlements; grid points and hilltops farther than "
        "{distance_m:,.0f} m from a settlement need road and land (access road at least "
        "Rp {road:,.0f}/km, own power at least Rp {power:,.0f} beyond the grid)"),
    "siting.no_exclusions": ("tidak ada", "none"),
    "limit.no_towers": (
        "Tidak ada menara yang ada dalam {radius_km:g} km: semua desa dimulai tanpa sinyal",
        "No existing tower within {radius_km:g} km: every village starts without signal"),
    "limit.no_towers_inside": (
        "Tidak satu pun dari {n} menara yang ada dalam {radius_km:g} km berada di dalam "
        "wilayah: cakupan saat ini hanya dari menara di luar wilayah; bila wilayah sebenarnya "
        "memiliki menara, data menara tidak lengkap dan blank spot dilebih-lebihkan",
        "None of the {n} existing towers within {radius_km:g} km lies inside the area: "
        "today's coverage comes only from towers outside it; if the area does have towers, "
        "the tower data is incomplete and blank spots are overstated"),
    "limit.area_basis": (
        "Tidak ada data penduduk: kebutuhan = luas desa (km²), setiap km² dihitung sama",
        "No population data: demand is village area (km²), every km² counts the same"),
    "history.stale": (
        "Status desa berasal dari laporan sinyal, bukan dari menara yang dibangun: {n} desa "
        "mendapat menara sesudah laporan terakhirnya ({villages}), jadi statusnya masih status "
        "sebelum menara; catat laporan baru dengan 'towerplan status add report'",
        "Village status comes from signal reports, not from the towers built: {n} villages got "
        "a tower after their latest report ({villages}), so their status is still the one "
        "before the tower; record a new report with 'towerplan status add report'"),
    "limit.apportioned": (
        "Tidak ada data penduduk per desa: jumlah penduduk kecamatan ({source}) dibagi ke desa "
        "menurut luas, sehingga jumlah per desa hanya perkiraan",
        "No population per village: kecamatan totals ({source}) apportioned to villages by "
        "area, so each village's total is an estimate"),
    # how each village's people were placed (villages.csv population_rule)
    "rule.raster": ("raster penduduk", "population raster"),
    "rule.buildings": ("tapak bangunan", "building footprints"),
    "rule.settlements": ("titik permukiman", "settlement points"),
    "rule.office": ("kantor desa", "village office"),
    "rule.centroid": ("titik tengah desa", "village centre point"),
    "rule.area": ("merata di seluruh luas desa", "spread over the village area"),
    "rule.summary": ("{villages} desa, {people} jiwa", "{villages} villages, {people} people"),
    # cases of the programme audit's band (stage programme_audit)
    "prog.case.base": ("Kasus dasar (keadaan awal seperti rencana)",
                       "Base case (before-state as in the plan)"),
    "prog.case.before_from_model": ("Keadaan awal dari model saja, tanpa laporan sinyal",
                                    "Before-state from the model alone, no signal reports"),
    "prog.case.before_from_maps": ("Keadaan awal dari model dan peta cakupan",
                                   "Before-state from the model and the coverage maps"),
    "prog.case.type": ("Semua menara nyata sebagai {type}", "Every real tower as {type}"),
    # limitations of a multi-year programme (stage programme), stated first in its outputs
    "prog.cost_assumption": (
        "Biaya jenis menara ({sources}) adalah asumsi perencanaan, bukan harga kontrak",
        "Costs of the tower types ({sources}) are planning assumptions, not contract prices"),
    "prog.rule_population": (
        "Aturan penduduk kanal memakai jumlah penduduk desa perkiraan",
        "The channels' population rules use estimated village populations"),
    "prog.committed_year": (
        "Menara yang sudah dijadwalkan dihitung melayani sejak tahun on-air menara terkuat "
        "di tiap titik",
        "Committed towers count from the on-air year of the strongest one at each place"),
    "prog.locked": (
        "{n} menara yang sudah dibangun dikunci pada tahunnya; sampai {last} tidak ada "
        "menara baru lain",
        "{n} towers already built are locked to their year; no other new tower up to {last}"),
    "prog.partner_capex": (
        "Belanja modal dan biaya operasi tiap saluran adalah yang dibayar saluran itu, "
        "termasuk bagian mitra ({partners}) pada menara saluran lain",
        "Each channel's capex and opex are what that channel pays, including the parts a "
        "partner ({partners}) pays of other channels' towers"),
    "prog.no_lift_objective": (
        "Program multi-tahun tidak dapat menghitung desa yang naik sebagai tujuan: bagian "
        "blank_villages dari [selection] diabaikan, program menghitung penduduk",
        "The multi-year programme cannot value villages lifted: the blank_villages term of "
        "[selection] is left out and the programme counts people"),
    "prog.no_flag": (
        "Kanal {channel}: desa tidak memiliki kolom '{column}', sehingga tidak ada desa yang "
        "memenuhi aturannya",
        "Channel {channel}: the villages have no '{column}' column, so no village meets "
        "its rule"),
    "prog.no_village": (
        "Kanal {channel}: tidak ada desa yang memenuhi aturannya",
        "Channel {channel}: no village meets its rule"),
    "limit.kecamatan_units": (
        "Tidak ada poligon desa: {n} poligon kecamatan dipakai sebagai satuan; hasil per desa "
        "dan audit per desa tidak tersedia",
        "No village polygons: the {n} kecamatan polygons are the units; results per village "
        "and the audit of single villages are not available"),
    "limit.register_unsettled": (
        "{n} dari {total} nama desa belum cocok dengan register (lihat register_match.csv)",
        "{n} of {total} village names are not settled against the register (see "
        "register_match.csv)"),
    "limit.register_missing": (
        "{n} dari {total} desa dalam register tidak memiliki poligon di berkas batas",
        "{n} of {total} register villages have no polygon in the boundary file"),
    "geometry.village": ("poligon desa/kelurahan ({file}, {n})",
                         "desa/kelurahan polygons ({file}, {n})"),
    "geometry.kecamatan": ("poligon kecamatan sebagai pengganti desa ({file}, {n})",
                           "kecamatan polygons in place of villages ({file}, {n})"),
    "geometry.unknown": ("poligon desa tanpa kode Kemendagri ({file}, {n})",
                         "village polygons without Kemendagri codes ({file}, {n})"),
    # report
    "report.indicator": ("Indikator", "Indicator"),
    "report.value": ("Nilai", "Value"),
    "report.parameter": ("Parameter", "Parameter"),
    "report.total": ("Jumlah", "Total"),
    "report.budget": ("Anggaran", "Budget"),
    "report.remaining": ("Sisa anggaran", "Budget remaining"),
    "report.no_sites": ("Tidak ada menara baru terpilih", "No new tower selected"),
    "report.data_source": ("Sumber data", "Data source"),
    "report.demand_note": ("Tanpa data penduduk, kebutuhan = luas desa (km²)",
                           "Without population data, demand = village area (km²)"),
    "report.model_chain": ("Rantai model radio", "Radio model chain"),
    "report.link_budget": ("Margin, uplink dan antena", "Margins, uplink and antenna"),
    "doc.exec_model": (
        "Model radio: {chain}. Alasannya: {why}.",
        "Radio model: {chain}. Why: {why}."),
    "doc.exec_radius": (
        "Radius cakupan satu menara baru di tanah datar: {radius} km dengan margin yang "
        "dinyatakan (probabilitas lokasi {probability}, margin {margins} dB, antena "
        "{antenna}, {uplink}). Rentangnya: {median} km (median, luar ruangan), {p90_outdoor} "
        "km (90 %, luar ruangan), {p90_indoor} km (90 %, dalam ruangan).",
        "Coverage radius of one new tower on flat ground: {radius} km under the stated "
        "margins (location probability {probability}, margins {margins} dB, antenna "
        "{antenna}, {uplink}). Its range: {median} km (median, outdoor), {p90_outdoor} km "
        "(90 %, outdoor), {p90_indoor} km (90 %, indoor)."),
    "doc.uplink_limited": ("uplink membatasi cakupan", "the uplink limits coverage"),
    "doc.uplink_not_limiting": ("uplink tidak membatasi", "the uplink does not limit"),
    "report.solver": ("Metode pemilihan", "Selection method"),
    "report.demand_basis": ("Dasar kebutuhan", "Demand basis"),
    "report.version": ("Versi towerplan", "towerplan version"),
    "report.scenario_hash": ("Hash skenario", "Scenario hash"),
    "report.created_utc": ("Dibuat (UTC)", "Created (UTC)"),
    "report.synthetic": ("Data sintetis", "Synthetic data"),
    "sheet.audit": ("Audit", "Audit"),
    # report.html / report.pdf
    "doc.title": ("Laporan rencana menara", "Tower plan report"),
    "doc.page": ("Halaman", "Page"),
    "doc.summary": ("Ringkasan eksekutif", "Executive summary"),
    "doc.ranking": ("Peringkat lokasi (urutan bangun)", "Ranked sites (build order)"),
    "doc.costs": ("Rincian biaya per lokasi", "Cost breakdown per site"),
    "doc.backhaul": ("Backhaul per lokasi", "Backhaul per site"),
    "doc.links": ("Hop backhaul", "Backhaul hops"),
    "doc.audit": ("Audit keputusan", "Audit of a past decision"),
    "doc.audit_sites": ("Lokasi yang diaudit", "Audited sites"),
    "doc.lifted": ("Desa yang keluar dari blank spot", "Villages lifted out of blank spot"),
    "doc.no_lifted": ("Tidak ada desa yang keluar dari blank spot",
                      "No village leaves blank-spot status"),
    "doc.assumptions": ("Asumsi dan sumber data", "Assumptions and data sources"),
    "doc.key_assumptions": ("Asumsi utama", "Key assumptions"),
    "doc.data_sources": ("Sumber data dan lisensi", "Data sources and licences"),
    "doc.scenario_values": ("Semua nilai skenario", "All scenario values"),
    "doc.demand_covered": ("Kebutuhan tercakup", "Demand covered"),
    "doc.of_budget": ("{share} dari anggaran", "{share} of the budget"),
    "doc.blank_below": ("Blank spot: porsi kebutuhan tercakup di bawah",
                        "Blank spot: share of demand covered below"),
    "doc.covered_at_least": ("Tercakup: porsi kebutuhan tercakup minimal",
                             "Covered: share of demand covered at least"),
    "doc.cost_road_km": ("Biaya jalan akses per km", "Access road cost per km"),
    "doc.cost_power": ("Biaya listrik per lokasi", "Power cost per site"),
    "doc.cost_backhaul": ("Biaya backhaul per lokasi", "Backhaul cost per site"),
    "doc.exec_plan": ("Dengan anggaran {budget}, rencana ini membangun {towers} menara baru "
                      "dengan biaya {spent} (sisa {remaining}).",
                      "With a budget of {budget}, the plan builds {towers} new towers for "
                      "{spent} ({remaining} left)."),
    "doc.exec_plan_one": ("Dengan anggaran {budget}, rencana ini membangun {towers} menara baru "
                          "dengan biaya {spent} (sisa {remaining}).",
                          "With a budget of {budget}, the plan builds {towers} new tower for "
                          "{spent} ({remaining} left)."),
    "doc.exec_none": ("Tidak ada menara baru terpilih dengan anggaran {budget}.",
                      "No new tower is selected with a budget of {budget}."),
    "doc.exec_villages": ("{lifted} desa keluar dari blank spot: desa blank spot berkurang dari "
                          "{blank_before} menjadi {blank_after} dari {villages} desa.",
                          "{lifted} villages leave blank-spot status: blank-spot villages fall "
                          "from {blank_before} to {blank_after} of {villages}."),
    "doc.exec_villages_one": ("{lifted} desa keluar dari blank spot: desa blank spot berkurang "
                              "dari {blank_before} menjadi {blank_after} dari {villages} desa.",
                              "{lifted} village leaves blank-spot status: blank-spot villages "
                              "fall from {blank_before} to {blank_after} of {villages}."),
    "doc.exec_demand": ("Kebutuhan tercakup naik dari {before} menjadi {after} {unit} "
                        "({share_before} → {share_after} dari total {total}).",
                        "Covered demand rises from {before} to {after} {unit} "
                        "({share_before} → {share_after} of {total})."),
    "doc.exec_solver": ("Metode pemilihan: {solver}, celah optimalitas {gap}. Tambahan "
                        "kebutuhan tercakup {objective} {unit}; metode greedy: {greedy} {unit}.",
                        "Selection method: {solver}, optimality gap {gap}. Newly covered "
                        "demand {objective} {unit}; greedy rule: {greedy} {unit}."),
    "doc.exec_solver_regions": (
        "Metode pemilihan: {solver}: pilihan optimal di tiap kabupaten dengan satu anggaran "
        "yang dibagi antar kabupaten; tidak terbukti optimal untuk seluruh wilayah (celah "
        "optimalitas tidak diketahui). Tambahan kebutuhan tercakup {objective} {unit}; metode "
        "greedy: {greedy} {unit}.",
        "Selection method: {solver}: the optimal choice in each kabupaten, with one budget "
        "shared between them; not proven optimal for the whole area (optimality gap "
        "unknown). Newly covered demand {objective} {unit}; greedy rule: {greedy} {unit}."),
    "doc.exec_audit": ("Audit: pilihan lalu ({villages}) mencakup {audit} {unit} kebutuhan baru, "
                       "{share} dari optimum untuk anggaran yang sama ({optimum} {unit}).",
                       "Audit: the past choice ({villages}) newly covers {audit} {unit}, {share} "
                       "of the optimum for the same budget ({optimum} {unit})."),
    "doc.fig_budget_curve": ("Kebutuhan tercakup menurut biaya kumulatif lokasi terpilih "
                             "dalam urutan bangun, mulai dari cakupan saat ini; garis "
                             "putus-putus = anggaran.",
                             "Covered demand against the cumulative cost of the selected "
                             "sites in build order, starting from today's coverage; dashed "
                             "line = budget."),
    "doc.fig_blank_spots": ("Jumlah desa blank spot per kecamatan, sebelum dan sesudah "
                            "rencana.",
                            "Blank-spot villages per kecamatan, before and after the plan."),
    # report charts
    "chart.budget_curve": ("Cakupan menurut biaya (urutan bangun)",
                           "Coverage against cost (build order)"),
    "chart.curve": ("Lokasi terpilih, nomor = urutan", "Selected sites, number = rank"),
    "chart.budget_line": ("Anggaran", "Budget"),
    "chart.cost_axis": ("Biaya kumulatif (miliar Rp)", "Cumulative cost (Rp billion)"),
    "chart.demand_axis": ("Kebutuhan tercakup", "Covered demand"),
    "chart.share_axis": ("Porsi dari total kebutuhan", "Share of total demand"),
    "chart.blank_by_district": ("Desa blank spot per kecamatan",
                                "Blank-spot villages per kecamatan"),
    "chart.blank_axis": ("Jumlah desa blank spot", "Blank-spot villages"),
    "chart.before": ("Sebelum", "Before"),
    "chart.after": ("Sesudah rencana", "After the plan"),
    "chart.sweep": ("Cakupan menurut anggaran", "Coverage against budget"),
    "chart.sweep_milp": ("MILP (optimal)", "MILP (optimal)"),
    "chart.sweep_greedy": ("Greedy (rasio terbaik per rupiah)", "Greedy (best ratio per rupiah)"),
    "chart.sweep_budget_axis": ("Anggaran (miliar Rp)", "Budget (Rp billion)"),
    "chart.sweep_marginal": ("Tambahan per menara (senilai biaya satu menara)",
                             "Gain per extra tower (one tower's cost of budget)"),
    "chart.sweep_marginal_axis": ("Tambahan", "Gain"),
    # audit figures (PlanResult.audit_summary keys)
    "audit.budget_idr": ("Anggaran", "Budget"),
    "audit.audit_villages": ("Desa yang diaudit", "Audited villages"),
    "audit.audit_cost_idr": ("Biaya pilihan audit", "Cost of the audited choice"),
    "audit.audit_demand": ("Kebutuhan baru tercakup oleh pilihan audit",
                           "New demand covered by the audited choice"),
    "audit.optimum_cost_idr": ("Biaya optimum", "Cost of the optimum"),
    "audit.optimum_demand": ("Kebutuhan baru tercakup oleh optimum",
                             "New demand covered by the optimum"),
    "audit.optimum_gap": ("Celah optimalitas optimum", "Optimality gap of the optimum"),
    "audit.share_of_optimum": ("Porsi dari optimum", "Share of the optimum"),
    "audit.optimum_sites": ("Lokasi optimum", "Optimum sites"),
    "audit.villages_served_only_by_optimum": ("Desa yang hanya dilayani optimum",
                                              "Villages served only by the optimum"),
    "audit.villages_served_only_by_audit": ("Desa yang hanya dilayani pilihan audit",
                                            "Villages served only by the audited choice"),
    "audit.scenario": ("Skenario", "Scenario"),
    "audit.audit_source": ("Asal pilihan audit", "Source of the audited choice"),
    "audit.audit_sites": ("Lokasi yang diaudit", "Audited sites"),
    "audit.audit_towers": ("Jumlah menara pilihan audit", "Towers of the audited choice"),
    "audit.audit_within_budget": ("Pilihan audit dalam anggaran",
                                  "Audited choice within the budget"),
    "audit.optimum_towers": ("Jumlah menara optimum", "Towers of the optimum"),
    "audit.percent_of_optimum": ("Persen dari optimum (%)", "Percent of the optimum (%)"),
    "audit.demand_shortfall": ("Kekurangan kebutuhan tercakup terhadap optimum",
                               "Demand shortfall against the optimum"),
    "audit.blank_villages_before": ("Desa blank spot sebelum", "Blank-spot villages before"),
    "audit.blank_villages_after_audit": ("Desa blank spot sesudah pilihan audit",
                                         "Blank-spot villages after the audited choice"),
    "audit.blank_villages_after_optimum": ("Desa blank spot sesudah optimum",
                                           "Blank-spot villages after the optimum"),
    "audit.demand_basis": ("Dasar kebutuhan", "Demand basis"),
    "audit.model_chain": ("Model radio", "Radio model chain"),
    "audit.synthetic": ("Data sintetis", "Synthetic data"),
    # audit of a real multi-year sequence (towerplan.analysis.programme_audit)
    "programme_audit.case.base": ("Kasus dasar", "Base case"),
    "programme_audit.case.threshold_minus_5db": ("Ambang sinyal -5 dB",
                                                 "Signal threshold -5 dB"),
    "programme_audit.case.threshold_plus_5db": ("Ambang sinyal +5 dB",
                                                "Signal threshold +5 dB"),
    "programme_audit.case.height_minus_10m": ("Tinggi menara -10 m", "Tower height -10 m"),
    "programme_audit.case.height_plus_10m": ("Tinggi menara +10 m", "Tower height +10 m"),
    "programme_audit.case.before_from_reports": (
        "Keadaan awal dari laporan sinyal, bukan model",
        "Before-state from the signal reports instead of the model"),
    "programme_audit.band": ("Urutan pembangunan nyata mencapai {low}–{high} % (kasus dasar "
                             "{base} %) dari optimum untuk dana yang sama.",
                             "The real sequence reached {low}–{high} % (base {base} %) of the "
                             "optimum for the same money."),
    # link profile plot
    "link.terrain": ("Medan (dengan lengkung bumi)", "Terrain (with earth bulge)"),
    "link.los_ray": ("Garis pandang", "Line of sight"),
    "link.fresnel": ("Zona Fresnel pertama", "First Fresnel zone"),
    "link.fresnel60": ("Batas 60 % zona Fresnel", "60 % Fresnel clearance"),
    "link.worst": ("Titik paling terhalang", "Worst clearance"),
    "link.distance_km": ("Jarak (km)", "Distance (km)"),
    "link.height_m": ("Ketinggian (m)", "Height (m)"),
    "link.los_yes": ("garis pandang bebas", "line of sight clear"),
    "link.los_no": ("garis pandang terhalang", "line of sight blocked"),
    "link.loss": ("redaman", "loss"),
    "link.margin": ("margin", "margin"),
}


#: Labels of a multi-year programme (``prog.*``): sheets, the DPRD page, the Gantt chart.
_PROGRAMME: dict[str, tuple[str, str]] = {
    "sheet.programme_years": ("Program per tahun", "Programme by year"),
    "sheet.programme_towers": ("Menara program", "Programme towers"),
    "sheet.programme_villages": ("Status desa (Podes)", "Village status (Podes)"),
    "sheet.programme_dprd": ("Ringkasan DPRD", "DPRD summary"),
    "prog.col.year": ("Tahun", "Year"),
    "prog.col.channel": ("Saluran pendanaan", "Funding channel"),
    "prog.col.towers": ("Menara", "Towers"),
    "prog.col.people_new": ("Penduduk baru terlayani", "People newly served"),
    "prog.col.villages_lifted": ("Desa naik ke sinyal kuat", "Villages lifted to strong signal"),
    "prog.col.villages_lifted_names": ("Desa yang naik ke sinyal kuat",
                                       "Villages lifted to strong signal"),
    "prog.col.capex_idr": ("Belanja modal (capex)", "Capital cost (capex)"),
    "prog.col.opex_idr_per_year": ("Biaya operasi per tahun (opex)",
                                   "Running cost per year (opex)"),
    "prog.col.whole_life_idr": ("Biaya seumur pakai (nilai kini)",
                                "Whole-life cost (present value)"),
    "prog.col.budget_idr": ("Anggaran", "Budget"),
    "prog.col.spent_idr": ("Terpakai", "Spent"),
    "prog.col.carried_idr": ("Sisa dibawa ke tahun berikut", "Carried to the next year"),
    "prog.col.cost_per_person_idr": ("Belanja modal per penduduk baru",
                                     "Capex per person newly served"),
    "prog.col.channel_split": ("Menara per saluran", "Towers per channel"),
    "prog.col.site_id": ("Lokasi", "Site"),
    "prog.col.tower_type": ("Jenis menara", "Tower type"),
    "prog.col.height_m": ("Tinggi (m)", "Height (m)"),
    "prog.col.lon": ("Bujur", "Longitude"),
    "prog.col.lat": ("Lintang", "Latitude"),
    "prog.col.village_code": ("Kode desa lokasi", "Village code of the site"),
    "prog.col.village_name": ("Desa lokasi", "Village of the site"),
    "prog.col.district": ("Kecamatan", "District (kecamatan)"),
    "prog.col.locked": ("Sudah dibangun", "Already built"),
    "prog.col.code": ("Kode desa", "Village code"),
    "prog.col.name": ("Nama desa", "Village name"),
    "prog.col.population": ("Penduduk", "Population"),
    "prog.col.served_share": ("Porsi penduduk terlayani", "Share of people served"),
    "prog.col.signal": ("Sinyal (Podes)", "Signal (Podes)"),
    "prog.col.signal_before": ("Sinyal sebelum program", "Signal before the programme"),
    "prog.col.technology": ("Teknologi", "Technology"),
    "prog.col.lifted": ("Naik ke sinyal kuat tahun ini", "Lifted to strong signal this year"),
    "prog.col.case": ("Kasus", "Case"),
    "prog.col.people_years_real": ("Orang-tahun urutan nyata", "People-years, real sequence"),
    "prog.col.people_years_optimal": ("Orang-tahun optimum", "People-years, optimum"),
    "prog.col.share_pct": ("Porsi dari optimum (%)", "Share of the optimum (%)"),
    "prog.signal.tidak ada": ("tidak ada", "none (tidak ada)"),
    "prog.signal.lemah": ("lemah", "weak (lemah)"),
    "prog.signal.kuat": ("kuat", "strong (kuat)"),
    "prog.before_year": ("Tahun {year} = keadaan sebelum program.",
                         "Year {year} = the state before the programme."),
    "prog.total": ("Jumlah", "Total"),
    "prog.dprd_title": ("Ringkasan untuk DPRD", "Summary for the DPRD"),
    "prog.notes": ("Batasan dan catatan — baca dahulu", "Limitations and notes — read first"),
    "prog.partial_rule": (
        "Desa dihitung naik hanya bila sinyalnya menjadi kuat (sedikitnya {covered} penduduk "
        "terlayani). Desa dengan sinyal lemah (sebagian penduduk terlayani) tidak dihitung naik.",
        "A village counts as lifted only when its signal becomes strong (at least {covered} of "
        "its people served). A village with a weak signal (part of its people served) is never "
        "counted as lifted."),
    "prog.cost_rule": (
        "Biaya per penduduk = belanja modal ÷ penduduk baru terlayani; «–» bila tidak ada "
        "penduduk baru. Biaya operasi adalah biaya per tahun menara yang dibangun tahun itu; "
        "biaya seumur pakai menjumlahkan modal dan operasi {horizon} tahun dengan diskonto "
        "{rate} per tahun.",
        "Cost per person = capex ÷ people newly served; «–» when nobody new is served. Opex is "
        "the running cost per year of the towers built that year; the whole-life cost adds "
        "capex and {horizon} years of opex discounted at {rate} a year."),
    "prog.billion": ("miliar", "billion"),
    "prog.million": ("juta", "million"),
    "prog.money_note": (
        "Uang dibulatkan ke miliar/juta rupiah; angka lengkap ada di report.xlsx.",
        "Money is rounded to billion/million rupiah; exact amounts are in report.xlsx."),
    "prog.carry_yes": ("Sisa anggaran suatu tahun dibawa ke tahun berikutnya.",
                       "Money left in a year is carried to the next year."),
    "prog.carry_no": ("Sisa anggaran suatu tahun tidak dibawa ke tahun berikutnya.",
                      "Money left in a year is not carried to the next year."),
    "prog.headline": (
        "Program {first}–{last}: {towers} menara, {people} penduduk baru terlayani, {lifted} "
        "desa naik ke sinyal kuat, belanja modal {capex} ({per_person} per penduduk baru), "
        "biaya operasi {opex} per tahun setelah semua menara berdiri.",
        "Programme {first}–{last}: {towers} towers, {people} people newly served, {lifted} "
        "villages lifted to a strong signal, capex {capex} ({per_person} per person newly "
        "served), running cost {opex} a year once every tower stands."),
    "prog.locked_note": ("Menara yang sudah dibangun dan dimasukkan apa adanya: {locked}.",
                         "Towers already built and kept as they are: {locked}."),
    "prog.per_year": ("Per tahun", "By year"),
    "prog.by_channel": ("Per tahun dan saluran pendanaan", "By year and funding channel"),
    "prog.budgets": ("Anggaran, terpakai dan sisa per tahun dan saluran",
                     "Budget, spent and carried over by year and channel"),
    "prog.quality": ("Seberapa baik rencana ini", "How good this plan is"),
    "prog.gap_proven": (
        "Rencana ini terbukti yang terbaik untuk uang yang sama: tidak ada urutan lain yang "
        "melayani lebih banyak ({objective}). Celah optimalitas 0 %.",
        "This plan is proven the best for the same money: no other sequence serves more "
        "({objective}). Optimality gap 0 %."),
    "prog.gap_open": (
        "Pencarian berhenti setelah {runtime} detik. Rencana ini paling jauh {gap} di bawah "
        "yang terbaik yang mungkin ({objective}).",
        "The search stopped after {runtime} s. This plan is at most {gap} below the best "
        "possible ({objective})."),
    "prog.gap_unknown": (
        "Metode {method} tidak membuktikan seberapa dekat rencana ini dengan yang terbaik.",
        "The {method} method does not prove how close this plan is to the best."),
    "prog.greedy_worse": (
        "Cara sederhana — tiap tahun memilih menara terbaik tahun itu saja, tanpa melihat "
        "tahun berikutnya — mencapai {greedy}, {regret} lebih sedikit.",
        "The simple way — each year picking that year's best towers without looking ahead — "
        "achieves {greedy}, {regret} less."),
    "prog.greedy_same": (
        "Cara sederhana (tiap tahun memilih menara terbaik tahun itu saja) mencapai hasil "
        "yang sama.",
        "The simple way (each year picking that year's best towers) achieves the same."),
    "prog.method": ("Metode: {method}; status: {status}; waktu hitung {runtime} detik.",
                    "Method: {method}; status: {status}; solver time {runtime} s."),
    "prog.objective.people_new": ("orang-tahun terlayani", "people-years served"),
    "prog.objective.people_years": ("orang-tahun terlayani", "people-years served"),
    "prog.objective.villages_lifted": ("desa naik ke sinyal kuat",
                                       "villages lifted to strong signal"),
    "prog.objective.people_blank": ("penduduk desa blank spot terlayani",
                                    "people in blank villages served"),
    "prog.objective.facilities": ("fasilitas umum terlayani", "public facilities served"),
    "prog.objective.mixed": ("tujuan campuran ([selection.weights])",
                             "mixed objective ([selection.weights])"),
    "prog.section": ("Program per tahun dan saluran pendanaan",
                     "Programme by year and funding channel"),
    "prog.towers": ("Menara program", "Programme towers"),
    "prog.lifted": ("Desa yang naik ke sinyal kuat, per tahun",
                    "Villages lifted to a strong signal, by year"),
    "prog.no_lifted": ("Tidak ada desa yang naik ke sinyal kuat.",
                       "No village is lifted to a strong signal."),
    "prog.no_towers": ("Program ini tidak membangun menara.", "This programme builds no tower."),
    "prog.audit": ("Audit urutan nyata: rentang kepekaan", "Audit of the real sequence: "
                   "sensitivity band"),
    "prog.gantt": ("Jadwal program: satu baris per menara, warna menurut saluran pendanaan",
                   "Programme schedule: one row per tower, coloured by funding channel"),
    "prog.gantt_desc": (
        "Setiap baris adalah satu menara; kotak penuh menandai tahun pembangunan, garis tipis "
        "sesudahnya tahun-tahun beroperasi.",
        "Each row is one tower; the solid box marks the year it is built, the thin bar after "
        "it the years in service."),
    "prog.gantt_bar": ("{site}: dibangun {year}, {channel}, {type}, {people} penduduk baru",
                       "{site}: built {year}, {channel}, {type}, {people} people newly served"),
    "prog.gantt_service": ("beroperasi", "in service"),
    "prog.gantt_locked": ("✓ sudah dibangun", "✓ already built"),
    "prog.layer_year": ("Program {year}: menara baru ({towers})",
                        "Programme {year}: new towers ({towers})"),
    "prog.legend": ("Menara program (warna = saluran pendanaan; satu lapisan per tahun)",
                    "Programme towers (colour = funding channel; one layer per year)"),
    "prog.kml_year": ("Program {year}", "Programme {year}"),
    "prog.popup_title": ("Menara program {year}", "Programme tower {year}"),
    # a programme run: the single-budget plan is a comparison, not the plan
    "prog.single.layer_selected": ("Perbandingan: menara rencana satu anggaran",
                                   "Comparison: towers of the single-budget plan"),
    "prog.single.layer_villages": ("Perbandingan: status desa sesudah rencana satu anggaran",
                                   "Comparison: village status after the single-budget plan"),
    "prog.single.layer_coverage": ("Perbandingan: cakupan sesudah rencana satu anggaran",
                                   "Comparison: coverage after the single-budget plan"),
    "prog.single.layer_links": ("Perbandingan: backhaul rencana satu anggaran",
                                "Comparison: backhaul of the single-budget plan"),
    "prog.single.legend": (" (perbandingan satu anggaran)", " (single-budget comparison)"),
    "prog.layer_villages_end": ("Status desa — akhir program {year}",
                                "Village status — end of the programme {year}"),
    "prog.single.section": ("Perbandingan: rencana satu anggaran (bukan bagian program)",
                            "Comparison: the single-budget plan (not part of the programme)"),
    "prog.single.intro": (
        "Bagian ini dan tabel-tabel berikutnya menunjukkan rencana satu anggaran ({budget}, "
        "satu jenis menara, satu kali bangun) sebagai pembanding. Menaranya bukan bagian "
        "program; rencana program ada di Ringkasan untuk DPRD dan tabel program di atas.",
        "This section and the tables after it show the single-budget plan ({budget}, one "
        "tower type, built at once) for comparison. Its towers are not part of the "
        "programme; the programme is the DPRD summary and the programme tables above."),
    "prog.single.sheet_note": (
        "Perbandingan: rencana satu anggaran, bukan bagian program. Rencana program ada di "
        "lembar Ringkasan DPRD, Program per tahun dan Menara program.",
        "Comparison: the single-budget plan, not part of the programme. The programme is on "
        "the sheets DPRD summary, Programme by year and Programme towers."),
    "sheet.single_summary": ("Pembanding satu anggaran", "Single-budget comparison"),
    "prog.map.budget": ("Anggaran program", "Programme budget"),
    "prog.map.towers": ("Menara program", "Programme towers"),
    "prog.map.people": ("Penduduk baru terlayani", "People newly served"),
    "prog.map.per_person": ("Belanja modal per penduduk baru", "Capex per person newly served"),
    "prog.map.before_end": ("sebelum → akhir program", "before → end of the programme"),
    # why a village is still blank at the end of the programme (analysis/programme_why_not)
    "sheet.programme_why_not": ("Program mengapa tidak", "Programme why not"),
    "prog.why_not": ("Mengapa desa ini masih blank spot di akhir program",
                     "Why these villages are still blank at the end of the programme"),
    "prog.why_not_intro": (
        "Untuk tiap desa yang masih blank spot di akhir program: pilihan menara termurah per "
        "penduduk yang mengangkatnya keluar dari blank spot, tahun paling awal dan tambahan "
        "anggaran (di saluran mana) agar pilihan itu terbiayai di samping program.",
        "For each village still blank at the end of the programme: the cheapest tower option "
        "per person that lifts it out of blank, the earliest year and the extra budget (in "
        "which channel) that would pay for it beside the programme."),
    "prog.why_not_none": ("Tidak ada desa yang masih blank spot di akhir program.",
                          "No village is still blank at the end of the programme."),
    "prog.why_not.no_candidate": ("tidak ada pilihan menara yang menjangkaunya",
                                  "no tower option reaches it"),
    "prog.why_not.no_single": ("tidak ada satu menara yang mengangkatnya sendiri",
                               "no single tower lifts it alone"),
    "prog.why_not.lower_yield": ("uang ada, tetapi melayani lebih sedikit orang-tahun",
                                 "the money is there, but it serves fewer people-years"),
    "prog.why_not.over_budget": ("melebihi anggaran saluran", "over the channel's budget"),
    "prog.why_not.popup": ("Program: mengapa tidak", "Programme: why not"),
    "prog.why_not.popup_text": (
        "{site} ({type}, {channel}): {per_person} per orang; paling awal {year} dengan "
        "tambahan {extra}",
        "{site} ({type}, {channel}): {per_person} per person; earliest {year} with "
        "{extra} more"),
    "prog.col.why_site": ("Lokasi termurah per orang", "Cheapest site per person"),
    "prog.col.why_year": ("Tahun paling awal", "Earliest year"),
    "prog.col.extra_budget_idr": ("Tambahan anggaran", "Extra budget"),
    "prog.col.extra_channel": ("Saluran tambahan", "Channel of the extra"),
    "prog.col.reason": ("Alasan", "Reason"),
}


#: Statements about the inputs, demand, costs and solver that the outputs repeat, and the
#: coded values of the village tables.
_STATEMENTS: dict[str, tuple[str, str]] = {
    "demand.placed": ("penduduk ditempatkan per desa: {counts}",
                      "people placed per village: {counts}"),
    "demand.outside": ("{n} permukiman di luar semua desa diabaikan",
                       "{n} settlements outside every village ignored"),
    "demand.mean_density": (
        "{n} desa tanpa angka penduduk mendapat kepadatan rata-rata desa lain "
        "({density} jiwa/km²) atas luasnya",
        "{n} villages without any population figure get the mean density of the others "
        "({density} people/km²) over their area"),
    "demand.area": ("tidak ada data penduduk: kebutuhan = luas desa (km²), setiap km² sama "
                    "bobotnya",
                    "no population data: demand is village area (km²), every km² counts the "
                    "same"),
    "demand.facilities": ("{n} fasilitas umum menambah {people} setara-penduduk",
                          "{n} public facilities add {people} people-equivalents"),
    "demand.apportioned": ("jumlah penduduk kecamatan ({file}, {people} jiwa) dibagi ke desa "
                           "menurut luas",
                           "kecamatan totals ({file}, {people} people) apportioned to "
                           "villages by area"),
    "demand.apportioned_some": ("{text} untuk {n} desa tanpa jumlah sendiri",
                                "{text} for {n} villages without their own total"),
    "term.village_population": ("jumlah penduduk desa", "village population"),
    "term.district_population": ("bagian jumlah kecamatan", "share of the kecamatan total"),
    "term.raster": ("raster penduduk", "population raster"),
    "term.buildings": ("tapak bangunan", "building footprints"),
    "term.settlements": ("titik permukiman", "settlement points"),
    "term.office": ("kantor desa", "village office"),
    "term.centroid": ("titik tengah desa", "village centre point"),
    "term.area": ("merata di seluruh luas desa", "spread over the village area"),
    "term.none": ("tidak ada sinyal", "no signal"),
    "term.weak": ("sinyal lemah", "weak signal"),
    "term.signal": ("ada sinyal", "signal"),
    "term.2g": ("2G", "2G"),
    "term.3g": ("3G", "3G"),
    "term.4g": ("4G", "4G"),
    "term.model": ("model", "model"),
    "term.coverage_map": ("peta cakupan operator", "operator coverage map"),
    "term.reports": ("laporan sinyal", "signal reports"),
    "term.coverage_maps": ("peta cakupan", "coverage maps"),
    "term.unknown": ("tidak diketahui (model saja, tanpa pemeriksaan)",
                     "unknown (the model alone, unchecked)"),
    "source.report": ("laporan: {source}", "report: {source}"),
    "source.unlisted": ("tidak tercantum di {file}", "unlisted in {file}"),
    "grid.power": ("masukan listrik (jaringan dan titik)", "the power input (lines and points)"),
    "grid.settlements": ("permukiman jenis kota (tanpa data listrik)",
                         "settlements of kind town/kota (no power data given)"),
    "grid.kelurahan": ("pusat kelurahan (tanpa data listrik atau permukiman kota)",
                       "kelurahan (urban villages) centres (no power data or town settlements)"),
    "grid.none": ("tidak ada: tanpa data listrik, permukiman kota atau kelurahan; setiap "
                  "lokasi memakai tenaga surya",
                  "nothing: no power data, town settlements or kelurahan; every site is costed "
                  "with solar"),
    "cost.tower": ("menara {idr}", "tower {idr}"),
    "cost.road": ("jalan akses {idr}/km dari {basis} terdekat",
                  "access road {idr}/km from the nearest {basis}"),
    "cost.road_none": ("jalan akses tidak dihitung", "access road not costed"),
    "cost.power": ("listrik: jaringan {grid}/km dalam {km} km dari {source}, selain itu surya "
                   "{solar}, ditambah {power} per lokasi",
                   "power: grid {grid}/km within {km} km of {source}, else solar {solar}, "
                   "plus {power} per site"),
    "cost.remote": ("lokasi yang perlu jalan dan lahan: jalan akses min. {road}/km, listrik "
                    "sendiri min. {power} di luar jaringan",
                    "sites needing road and land: access road at least {road}/km, own solar "
                    "at least {power} beyond the grid"),
    "cost.backhaul": ("backhaul {idr}", "backhaul {idr}"),
    "cost.colocation": ("kolokasi di menara yang ada {idr} (tanpa menara, jalan, listrik atau "
                        "backhaul)",
                        "co-location on an existing tower {idr} (no tower, road, power or "
                        "backhaul)"),
    "backhaul.fixed": ("[backhaul] model = fixed: costs.backhaul_idr per lokasi",
                       "[backhaul] model = fixed: costs.backhaul_idr per site"),
    "backhaul.no_pops": ("tidak ada titik jaringan ([inputs] pops): backhaul dihitung "
                         "costs.backhaul_idr per lokasi",
                         "no points of presence given ([inputs] pops): backhaul costed at "
                         "costs.backhaul_idr per site"),
    "target.signal": ("sinyal", "signal"),
    "solver.Optimal": ("optimal", "optimal"),
    "solver.Optimal (root bound)": ("optimal (dibuktikan oleh batas akar)",
                                    "optimal (root bound)"),
    "solver.Optimal (count bounds)": ("optimal (dibuktikan oleh batas jumlah)",
                                      "optimal (count bounds)"),
    "solver.Time limit reached": ("batas waktu tercapai", "time limit reached"),
    "solver.greedy": ("rakus (greedy)", "greedy"),
}


#: Labels of the programme dashboard (``dash.<key>``).
_DASHBOARD: dict[str, tuple[str, str]] = {
    "page": ("Dasbor program menara", "Tower programme dashboard"),
    "region": ("Wilayah", "Region"),
    "period": ("Periode", "Period"),
    "generated": ("Dibuat", "Generated"),
    "as_of": ("Keadaan per", "As known on"),
    "target": ("Target cakupan", "Coverage target"),
    "lang_switch": ("Bahasa", "Language"),
    "limitations": ("Keterbatasan data — baca dahulu", "Limitations of the data — read first"),
    "no_limitations": ("Tidak ada keterbatasan yang dicatat.", "No limitation recorded."),
    "villages": ("Desa", "Villages"),
    "villages_total": ("desa seluruhnya", "villages in all"),
    "people": ("Penduduk", "People"),
    "people_blank": ("di desa blank spot", "in blank-spot villages"),
    "people_semi_blank": ("di desa semi blank spot", "in semi-blank villages"),
    "population_basis": ("Dasar jumlah penduduk", "Population basis"),
    "sites": ("Lokasi menara (tahap sekarang)", "Tower sites (current stage)"),
    "stage_others": ("Tender gagal: {failed} · dibatalkan: {cancelled}",
                     "Tender failed: {failed} · cancelled: {cancelled}"),
    "stage.proposed": ("diusulkan", "proposed"),
    "stage.budgeted": ("dianggarkan", "budgeted"),
    "stage.tendered": ("dalam tender", "in tender"),
    "stage.tender_failed": ("tender gagal", "tender failed"),
    "stage.built": ("dibangun", "built"),
    "stage.on_air": ("mengudara", "on air"),
    "stage.cancelled": ("dibatalkan", "cancelled"),
    "by_kecamatan": ("Per kecamatan", "By kecamatan"),
    "kecamatan": ("Kecamatan", "Kecamatan"),
    "total": ("Jumlah", "Total"),
    "total_short": ("jumlah", "all"),
    "chart.status": ("Desa blank spot dan semi blank spot per tahun (status akhir tahun)",
                     "Blank-spot and semi-blank villages per year (status at the year's end)"),
    "chart.people": ("Penduduk di desa blank spot dan semi blank spot per tahun",
                     "People in blank-spot and semi-blank villages per year"),
    "chart.progress": ("Kemajuan program per tahun dan saluran pendanaan",
                       "Programme progress per year and funding channel"),
    "axis.villages": ("Jumlah desa", "Villages"),
    "reports_n": ("{n} laporan", "{n} reports"),
    "axis.people": ("Penduduk (jiwa)", "People"),
    "axis.money": ("Miliar rupiah", "Rupiah, billion"),
    "money.budget": ("Pagu anggaran", "Budget"),
    "money.budgeted": ("Dianggarkan", "Budgeted"),
    "money.committed": ("Dikontrakkan", "Committed"),
    "money.spent": ("Dibayar", "Spent"),
    "no_limit": ("tanpa batas", "no limit"),
    "idle_note": ("Tidak digambar: tanpa pagu, tanpa uang dan tanpa menara ({items}).",
                  "Not drawn: no budget limit, no money and no site ({items})."),
    "no_limit_note": ("Tanpa batang pagu: anggaran tanpa batas atau tidak dicatat ({items}).",
                      "No budget bar: no limit, or not recorded ({items})."),
    "people_missing": ("Jumlah penduduk desa tidak tersedia, jadi grafik penduduk tidak "
                       "digambar.",
                       "Village populations are not available, so the people chart is not "
                       "drawn."),
    "people_gaps": ("Tahun tanpa data penduduk ditandai t/a.",
                    "Years without population data are marked n/a."),
    "no_data": ("Belum ada data.", "No data yet."),
    "missing": ("t/a", "n/a"),
    "billion": ("miliar", "bn"),
    "million": ("juta", "m"),
    "map": ("Peta: status desa terakhir dan lokasi menara",
            "Map: latest village status and tower sites"),
    "legend.status": ("Status desa (laporan terakhir)", "Village status (latest report)"),
    "legend.stage": ("Tahap lokasi menara", "Tower site stage"),
    "legend.centre": ("garis putus: posisi di pusat desa", "dashed: placed at the village centre"),
    "map_offline": ("Tanpa peta dasar: halaman ini tidak memuat apa pun dari internet.",
                    "No basemap: this page loads nothing from the internet."),
    "map_unplaced": ("Lokasi tanpa koordinat tidak digambar: {n} (ada di tabel lokasi).",
                     "Sites without coordinates, not drawn: {n} (they are in the sites table)."),
    "village_table": ("Daftar desa", "Villages"),
    "search": ("Cari nama atau kode desa", "Search a village name or code"),
    "all_kecamatan": ("Semua kecamatan", "All kecamatan"),
    "all_status": ("Semua status", "All statuses"),
    "count": ("{n} dari {m} desa", "{n} of {m} villages"),
    "col.name": ("Nama desa", "Village"),
    "col.code": ("Kode", "Code"),
    "col.status": ("Status terakhir", "Latest status"),
    "col.date": ("Tanggal laporan", "Report date"),
    "col.source": ("Sumber", "Source"),
    "col.population": ("Penduduk", "Population"),
    "col.sites": ("Lokasi menara", "Tower sites"),
    "col.kind": ("Jenis", "Type"),
    "col.reports": ("Jumlah laporan", "Reports"),
    "site_table": ("Daftar lokasi menara", "Tower sites"),
    "col.site_id": ("ID lokasi", "Site ID"),
    "col.village": ("Desa", "Village"),
    "col.year": ("Tahun", "Year"),
    "col.channel": ("Saluran pendanaan", "Funding channel"),
    "col.tower_type": ("Jenis menara", "Tower type"),
    "col.stage": ("Tahap", "Stage"),
    "col.stage_date": ("Tanggal tahap", "Stage date"),
    "col.capex": ("Belanja modal", "Capex"),
    "col.events": ("Riwayat", "History"),
    "col.people_new": ("Penduduk baru terlayani (perkiraan)", "People newly served (estimate)"),
    "col.location": ("Posisi", "Position"),
    "location.site": ("lokasi menara", "tower site"),
    "location.village centre": ("pusat desa (perkiraan)", "village centre (approximate)"),
    "no_sites": ("Belum ada lokasi menara.", "No tower site yet."),
    "footer.attribution": ("Atribusi", "Attribution"),
    "footer.data": ("Berkas data di folder ini (untuk portal Satu Data)",
                    "Data files in this folder (for the Satu Data portal)"),
    "file.villages_csv": ("Desa (CSV)", "Villages (CSV)"),
    "file.villages_geo": ("Desa (GeoJSON)", "Villages (GeoJSON)"),
    "file.sites_csv": ("Lokasi menara (CSV)", "Tower sites (CSV)"),
    "file.sites_geo": ("Lokasi menara (GeoJSON)", "Tower sites (GeoJSON)"),
    "file.programme_csv": ("Program per tahun dan saluran (CSV)",
                           "Programme by year and channel (CSV)"),
    "file.metadata": ("Metadata (JSON)", "Metadata (JSON)"),
    "file.reports_csv": ("Laporan sinyal (CSV)", "Signal reports (CSV)"),
    "file.over_time_csv": ("Status per akhir tahun (CSV)", "Status at each year end (CSV)"),
    "footer.made": ("Dibuat dengan towerplan {version}", "Made with towerplan {version}"),
}

def _build_text() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for prefix, group in (("col.", _COLUMNS), ("sum.", _SUMMARY), ("", _LABELS),
                          ("", _PROGRAMME), ("", _STATEMENTS), ("dash.", _DASHBOARD)):
        for key, (text_id, text_en) in group.items():
            table[prefix + key] = {"id": text_id, "en": text_en}
    return table


#: Every user-facing label: ``TEXT[label_id][lang]``. Column headers are ``col.<column>``,
#: summary.json keys are ``sum.<key>``.
TEXT: dict[str, dict[str, str]] = _build_text()


def check_lang(lang: str) -> str:
    """Return *lang* if it is supported.

    Raises
    ------
    ScenarioError
        If *lang* is not one of :data:`SUPPORTED_LANGS`; the message lists them.
    """
    if lang not in SUPPORTED_LANGS:
        msg = f"language {lang!r} is not supported; choose one of: {', '.join(SUPPORTED_LANGS)}"
        raise ScenarioError(msg)
    return lang


def t(key: str, lang: str) -> str:
    """Return the label *key* in language *lang*.

    Parameters
    ----------
    key : str
        Label id, e.g. ``"sheet.summary"`` or ``"col.cost_total_idr"``.
    lang : {"id", "en"}
        Language code.

    Returns
    -------
    str
        The translated label.

    Raises
    ------
    ScenarioError
        If *lang* is not supported (the message lists the supported languages).
    ValueError
        If *key* is not a known label id.
    """
    check_lang(lang)
    entry = TEXT.get(key)
    if entry is None:
        msg = f"no label {key!r} in the translation table"
        raise ValueError(msg)
    return IndonesianLabel(entry[lang]) if lang == "id" else entry[lang]


class _IndonesianFormatter(string.Formatter):
    """Fills a template with Indonesian number separators: ``.`` groups thousands, ``,``
    marks decimals (for numbers given a format spec, and for every non-whole float)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        text = format(value, format_spec)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and (format_spec or isinstance(value, float)):
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text


_ID_FORMATTER = _IndonesianFormatter()


class IndonesianLabel(str):
    """A label in Bahasa Indonesia: :meth:`format` writes numbers with Indonesian separators.

    Examples
    --------
    >>> t("demand.outside", "id").format(n=1234)
    '1234 permukiman di luar semua desa diabaikan'
    >>> IndonesianLabel("{x:,.1f} km").format(x=12345.67)
    '12.345,7 km'
    """

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        return _ID_FORMATTER.vformat(str(self), args, kwargs)


def bilingual(key: str, **fields: object) -> str:
    """Return label *key* in every supported language, joined by `` / ``, fields filled in.

    For statements written once into language-neutral files such as ``summary.json``.

    Examples
    --------
    >>> bilingual("limit.no_towers", radius_km=30).split(" / ")[1]
    'No existing tower within 30 km: every village starts without signal'
    """
    return " / ".join(t(key, lang).format(**fields) for lang in SUPPORTED_LANGS)


def bilingual_joined(*parts: tuple[str, dict[str, object]], sep: str = ". ") -> str:
    """Return several labels as one :func:`bilingual` statement: per language, each
    ``(key, fields)`` filled in and joined by *sep*.

    Examples
    --------
    >>> bilingual_joined(("limit.no_towers", {"radius_km": 30}),
    ...                  ("limit.no_towers", {"radius_km": 5})).split(" / ")[1][-35:]
    'every village starts without signal'
    """
    return " / ".join(sep.join(t(key, lang).format(**fields) for key, fields in parts)
                      for lang in SUPPORTED_LANGS)


def _field(value: object, lang: str) -> object:
    """A field of :func:`statement` in *lang*: callables are called with *lang*, numbers get
    the language's separators (whole numbers without decimals, others with one)."""
    if callable(value):
        return value(lang)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    number = float(value)
    return format_number(number, lang, 0 if number.is_integer() else 1)


def statement(*parts: tuple[str, Mapping[str, object]], sep: str = "; ") -> str:
    """Return several labels as one :func:`bilingual` statement with fields in each language.

    Like :func:`bilingual_joined`, but numbers are written with each language's separators
    and a callable field is called with the language (for nested labels).

    Examples
    --------
    >>> statement(("demand.outside", {"n": 1234})).split(" / ")[0]
    '1.234 permukiman di luar semua desa diabaikan'
    """
    return " / ".join(
        sep.join(t(key, lang).format(**{k: _field(v, lang) for k, v in fields.items()})
                 for key, fields in parts)
        for lang in SUPPORTED_LANGS)


def join_statements(*texts: str, sep: str = "; ") -> str:
    """Join :func:`bilingual` statements (or plain text) language by language.

    Examples
    --------
    >>> join_statements("satu / one", "dua / two")
    'satu; dua / one; two'
    """
    kept = [text for text in texts if text]
    return " / ".join(sep.join(in_language(text, lang) for text in kept)
                      for lang in SUPPORTED_LANGS)


def target_text(target: str) -> Callable[[str], str]:
    """The coverage target (``[coverage] target``) as a :func:`statement` field: ``"signal"``
    reads "sinyal" in Bahasa Indonesia, technologies read ``4G``, ``5G``."""
    return lambda lang: t("target.signal", lang) if target == "signal" else target.upper()


def solver_label(status: object, lang: str) -> str:
    """Return the translated status of a solver (unknown statuses come back unchanged)."""
    key = f"solver.{status}"
    return t(key, lang) if key in TEXT else str(status)


def in_language(text: str, lang: str) -> str:
    """Return the *lang* part of a statement written by :func:`bilingual` (else *text*).

    Examples
    --------
    >>> in_language("Tanpa menara / No tower", "en")
    'No tower'
    """
    parts = text.split(" / ")
    return parts[SUPPORTED_LANGS.index(lang)] if len(parts) == len(SUPPORTED_LANGS) else text


#: Columns holding coded values that :func:`term_label` translates.
TERM_COLUMNS: frozenset[str] = frozenset({"origin", "land_status", "source", "technology",
                                          "backhaul_technology", "signal_reported",
                                          "population_rule", "population_source",
                                          "status_source", "reported_source"})


def term_label(value: object, lang: str) -> str:
    """Return the translated coded value (``"microwave"`` -> ``"gelombang mikro"``).

    Unknown values come back unchanged; missing values give ``""``.

    Examples
    --------
    >>> term_label("vsat", "en")
    'VSAT (satellite)'
    >>> term_label("other", "id")
    'other'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value)
    if text.startswith("report: "):
        return t("source.report", lang).format(
            source=term_label(text.removeprefix("report: "), lang))
    if text.startswith("unlisted in "):
        return t("source.unlisted", lang).format(file=text.removeprefix("unlisted in "))
    key = f"term.{value}"
    return t(key, lang) if key in TEXT else str(value)


def why_not_label(reason: object, lang: str) -> str:
    """Return the translated reason a village is still blank ("" for none)."""
    key = f"why_not.{reason}"
    return t(key, lang) if key in TEXT else ""


def status_label(status: object, lang: str) -> str:
    """Return the translated village status (``blank``/``partial``/``covered``, and the
    reported classes ``served``/``semi_blank``)."""
    key = f"status.{status}"
    return t(key if key in TEXT else "status.unknown", lang)


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """Format *value* with the thousands and decimal separators of *lang*.

    Bahasa Indonesia groups thousands with ``.`` and uses ``,`` for decimals; English the
    reverse. Missing values (``None``, ``nan``) give ``"–"``.

    Examples
    --------
    >>> format_number(1234567.891, "id", 2)
    '1.234.567,89'
    >>> format_number(1234567.891, "en", 1)
    '1,234,567.9'
    """
    check_lang(lang)
    if value is None:
        return "–"
    number = float(value)
    if not math.isfinite(number):
        return "–"
    text = f"{number:,.{decimals}f}"
    if lang == "id":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_idr(value: float | None, lang: str) -> str:
    """Format a rupiah amount, e.g. ``"Rp 8.500.000.000"`` (id) or ``"Rp 8,500,000,000"`` (en)."""
    return f"Rp {format_number(value, lang, 0)}"


def format_percent(share: float | None, lang: str, decimals: int = 1) -> str:
    """Format a share in 0..1 as a percentage, e.g. ``"45,0 %"`` (id) or ``"45.0 %"`` (en)."""
    if share is None or not math.isfinite(float(share)):
        return "–"
    return f"{format_number(100.0 * float(share), lang, decimals)} %"


def _as_float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def format_value(value: object, how: str, lang: str, *, demand_basis: str = "population") -> str:
    """Format one table value for reading (popups, KML descriptions); the result is plain text.

    Parameters
    ----------
    value : object
        The value; missing numbers give ``"–"``, missing text ``""``.
    how : str
        ``"text"``, ``"status"`` (village status), ``"term"`` (a coded value such as
        ``"microwave"``, see :func:`term_label`), ``"why_not"`` (see :func:`why_not_label`),
        ``"yes/no"``, ``"idr"`` (rupiah),
        ``"percent"`` (a share in 0..1), ``"demand"`` (people or km², by *demand_basis*) or a
        digit: a number with that many decimals.
    lang : {"id", "en"}
        Language.
    demand_basis : {"population", "area_km2"}
        What demand counts.

    Examples
    --------
    >>> format_value(2200.25, "demand", "id")
    '2.200 jiwa'
    >>> format_value(True, "yes/no", "en")
    'yes'
    """
    if how == "text":
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return "" if missing else str(value)
    if how == "status":
        return status_label(value, lang)
    if how == "term":
        return term_label(value, lang)
    if how == "why_not":
        return why_not_label(value, lang)
    if how == "idr" and isinstance(value, str):  # "tidak dihitung" / "not costed"
        return value
    number = _as_float(value)
    if how == "yes/no":
        return t("popup.yes" if number == 1.0 else "popup.no", lang)
    if how == "idr":
        return format_idr(number, lang)
    if how == "percent":
        return format_percent(number, lang)
    if how == "demand":
        if demand_basis == "area_km2":
            return f"{format_number(number, lang, 1)} {t('unit.km2', lang)}"
        return f"{format_number(number, lang, 0)} {t('unit.people', lang)}"
    return format_number(number, lang, int(how))
