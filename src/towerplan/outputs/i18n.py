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

from towerplan.errors import ScenarioError

__all__ = [
    "SUPPORTED_LANGS",
    "TEXT",
    "check_lang",
    "format_idr",
    "format_number",
    "format_percent",
    "status_label",
    "t",
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
    "tower_id": ("ID menara", "Tower ID"),
    "lon": ("Bujur", "Longitude"),
    "lat": ("Lintang", "Latitude"),
    "height_m": ("Tinggi antena (m)", "Antenna height (m)"),
    "operator": ("Operator", "Operator"),
    "radio": ("Teknologi radio", "Radio technology"),
    "cells": ("Jumlah sel", "Cells"),
    "site_id": ("ID lokasi", "Site ID"),
    "origin": ("Asal kandidat", "Candidate origin"),
    "village_code": ("Kode desa", "Village code"),
    "village": ("Desa", "Village"),
    "elevation_m": ("Elevasi (m)", "Elevation (m)"),
    "cost_tower_idr": ("Biaya menara (Rp)", "Tower cost (Rp)"),
    "cost_road_idr": ("Biaya jalan akses (Rp)", "Access road cost (Rp)"),
    "cost_power_idr": ("Biaya listrik (Rp)", "Power cost (Rp)"),
    "cost_backhaul_idr": ("Biaya backhaul (Rp)", "Backhaul cost (Rp)"),
    "cost_total_idr": ("Biaya total (Rp)", "Total cost (Rp)"),
    "demand_alone": ("Tambahan cakupan jika sendiri", "New demand on its own"),
    "selected": ("Terpilih", "Selected"),
    "rank": ("Urutan", "Rank"),
    "cumulative_cost_idr": ("Biaya kumulatif (Rp)", "Cumulative cost (Rp)"),
    "new_demand": ("Tambahan kebutuhan tercakup", "Newly covered demand"),
    "cumulative_demand": ("Kebutuhan tercakup kumulatif", "Cumulative covered demand"),
    "villages_lifted": ("Desa keluar dari blank spot", "Villages leaving blank spot"),
    "villages_lifted_names": ("Nama desa tersebut", "Names of those villages"),
    "best_rsrp_dbm": ("RSRP terbaik (dBm)", "Best RSRP (dBm)"),
    "demand_covered": ("Kebutuhan tercakup", "Demand covered"),
    "share_covered": ("Porsi tercakup", "Share covered"),
    "area_share_covered": ("Porsi luas tercakup", "Area share covered"),
    "status": ("Status", "Status"),
    "best_server": ("Menara terbaik", "Best server"),
    "median_rsrp_dbm": ("Median RSRP (dBm)", "Median RSRP (dBm)"),
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
    "tower_cost_idr": ("Biaya per menara", "Cost per tower"),
    "candidates_total": ("Jumlah lokasi kandidat", "Candidate sites"),
    "existing_towers": ("Menara yang ada", "Existing towers"),
    "crs": ("Sistem koordinat kerja", "Working CRS"),
    "scenario_hash": ("Hash skenario", "Scenario hash"),
    "towerplan_version": ("Versi towerplan", "towerplan version"),
    "data_sources": ("Sumber data", "Data sources"),
    "runtime_s": ("Waktu proses (detik)", "Runtime (s)"),
    "created_utc": ("Dibuat (UTC)", "Created (UTC)"),
    "demand_basis_note": ("Keterangan dasar kebutuhan", "Demand basis note"),
    "solver_status": ("Status solver", "Solver status"),
    "objective_bound": ("Batas atas nilai tujuan", "Objective bound"),
    "greedy_spent_idr": ("Terpakai metode greedy", "Greedy spent"),
    "solver_runtime_s": ("Waktu solver (detik)", "Solver runtime (s)"),
}

_LABELS: dict[str, tuple[str, str]] = {
    # village status
    "status.blank": ("blank spot", "blank spot"),
    "status.partial": ("sebagian", "partial"),
    "status.covered": ("tercakup", "covered"),
    "status.unknown": ("tidak diketahui", "unknown"),
    # sheet names (at most 31 characters)
    "sheet.summary": ("Ringkasan", "Summary"),
    "sheet.ranking": ("Peringkat", "Ranking"),
    "sheet.villages": ("Desa", "Villages"),
    "sheet.costs": ("Biaya", "Costs"),
    "sheet.assumptions": ("Asumsi", "Assumptions"),
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
    "layer.candidates": ("Lokasi kandidat", "Candidate sites"),
    "layer.selected": ("Menara terpilih (urutan bangun)", "Selected towers (build order)"),
    # map title block and legend
    "map.model": ("Model radio", "Radio model"),
    "map.threshold": ("Ambang cakupan", "Coverage threshold"),
    "map.budget": ("Anggaran", "Budget"),
    "map.spent": ("Terpakai", "Spent"),
    "map.solver": ("Metode pemilihan", "Selection method"),
    "map.sources": ("Sumber data", "Data sources"),
    "map.blank_villages": ("Desa blank spot", "Blank-spot villages"),
    "map.before_after": ("sebelum → sesudah", "before → after"),
    "map.towers_new": ("Menara baru", "New towers"),
    "map.search": ("Cari desa…", "Find a village…"),
    "map.no_match": ("Desa tidak ditemukan", "No village found"),
    "map.provenance": ("Versi / hash skenario", "Version / scenario hash"),
    "legend.title": ("Legenda", "Legend"),
    "legend.village_status": ("Status desa", "Village status"),
    "legend.rsrp": ("Kuat sinyal RSRP (dBm)", "Signal strength RSRP (dBm)"),
    "legend.below_threshold": ("Di bawah ambang: tidak diwarnai", "Below threshold: not shaded"),
    "legend.existing": ("Menara yang ada", "Existing tower"),
    "legend.candidate": ("Lokasi kandidat", "Candidate site"),
    "legend.selected": ("Menara terpilih, nomor = urutan", "Selected tower, number = rank"),
    # popups
    "popup.village": ("Desa", "Village"),
    "popup.site": ("Lokasi kandidat", "Candidate site"),
    "popup.selected_site": ("Menara terpilih", "Selected tower"),
    "popup.existing": ("Menara yang ada", "Existing tower"),
    "popup.yes": ("ya", "yes"),
    "popup.no": ("tidak", "no"),
    # units and demand basis
    "unit.people": ("jiwa", "people"),
    "unit.km2": ("km²", "km²"),
    "basis.population": ("jumlah penduduk", "population"),
    "basis.area_km2": ("luas wilayah (km²) — tidak ada data penduduk",
                       "area (km²) — no population data"),
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
    "report.solver": ("Metode pemilihan", "Selection method"),
    "report.demand_basis": ("Dasar kebutuhan", "Demand basis"),
    "report.version": ("Versi towerplan", "towerplan version"),
    "report.scenario_hash": ("Hash skenario", "Scenario hash"),
    "report.created_utc": ("Dibuat (UTC)", "Created (UTC)"),
    "report.synthetic": ("Data sintetis", "Synthetic data"),
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


def _build_text() -> dict[str, dict[str, str]]:
    table: dict[str, dict[str, str]] = {}
    for prefix, group in (("col.", _COLUMNS), ("sum.", _SUMMARY), ("", _LABELS)):
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
    return entry[lang]


def status_label(status: object, lang: str) -> str:
    """Return the translated village status (``blank``/``partial``/``covered``)."""
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
