"""The offline HTML map."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
import xstatic.pkg.leaflet as xleaflet
from shapely.geometry import Point

from towerplan.errors import OutputError, ScenarioError
from towerplan.i18n import in_language
from towerplan.outputs import maps
from towerplan.outputs.maps import hillshade, rsrp_colors, write_map

from .factories import (
    FORMULA_OPERATOR,
    HOSTILE_NAME,
    TEMPLATE_NAME,
    VILLAGE_NAMES,
    leftovers,
    with_changes,
)

_TAGS = re.compile(r"<(script|link|img|iframe)\b([^>]*)>", re.IGNORECASE)


def _page(result, tmp_path: Path, lang: str = "id") -> str:
    path = write_map(result, tmp_path / "map.html", lang=lang)
    return path.read_text(encoding="utf-8")


def _geojson_layers(page: str) -> list[dict]:
    """The FeatureCollections given inline to ``L.geoJson(...)``, decoded."""
    decoder = json.JSONDecoder()
    return [decoder.raw_decode(page, m.end())[0]
            for m in re.finditer(r"L\.geoJson\((?=\{)", page)]


def _popup_text(feature: dict) -> str:
    """Title and values of a feature's popup (escaped, as embedded)."""
    props = feature["properties"]
    return " | ".join([props["title"], *props["v"]])


def _village_data(page: str) -> dict:
    match = re.search(r"var map_\w+_villages = ", page)
    assert match, "village data not embedded"
    return json.JSONDecoder().raw_decode(page, match.end())[0]


def test_page_references_no_external_script_stylesheet_or_image(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    for tag, attrs in _TAGS.findall(page):
        ref = re.search(r"\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)", attrs)
        if ref:
            assert not re.match(r"(?:https?:)?//", ref.group(1)), f"<{tag}> loads {ref.group(1)}"
    assert "cdn." not in page
    assert "bootstrap" not in page.lower()
    assert "font-awesome" not in page.lower() and "fontawesome" not in page.lower()
    assert "awesome-markers" not in page.lower() and "AwesomeMarkers" not in page


def test_leaflet_is_inlined_with_its_images_as_data_uris(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    leaflet_js = (Path(xleaflet.BASE_DIR) / "leaflet.js").read_text(encoding="utf-8")
    body = leaflet_js.split("\n//# sourceMappingURL")[0]
    assert body[-2000:] in page
    assert "sourceMappingURL" not in page
    assert "url(images/" not in page
    assert ".leaflet-control-layers-toggle" in page
    assert 'url("data:image/png;base64,' in page
    assert page.count("<script>") >= 2  # leaflet itself + the map
    assert '<html lang="id">' in page


def _control_names(page: str) -> list[str]:
    control = re.search(r"_layers = \{(.*?)\};", page, re.DOTALL)
    assert control, "no layer control"
    return [json.loads(name) for name in re.findall(r'("[^"]+") : ', control.group(1))]


def test_hostile_village_names_never_appear_unescaped(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    assert HOSTILE_NAME not in page
    assert "<script>alert" not in page
    assert "alert(\"x\")</script>" not in page
    data = _village_data(page)
    popups = [_popup_text(f) for f in data["features"]]
    tips = [f["properties"]["tip"] for f in data["features"]]
    assert html.escape(HOSTILE_NAME) in tips
    assert any(html.escape(HOSTILE_NAME) in p for p in popups)
    assert not any("<" in p or ">" in p for p in popups)
    # template-literal syntax from data stays inside JSON strings, never inside backticks
    assert not re.search(r"`[^`]*\$\{alert\(1\)\}", page.replace(TEMPLATE_NAME, ""))


def test_every_embedded_string_from_data_is_escaped(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    layers = _geojson_layers(page)
    assert len(layers) == 3  # existing, candidates, selected (villages are shared data)
    texts = []
    for layer in [*layers, _village_data(page)]:
        for feature in layer["features"]:
            props = feature["properties"]
            texts += [props["title"], props["tip"], props.get("label", ""), *props["v"]]
    assert texts
    assert not [text for text in texts if "<" in text or ">" in text or '"' in text]
    assert html.escape(FORMULA_OPERATOR) in texts
    labels = re.findall(r"tpPopups\((\[.*?\]), ", page)
    assert len(labels) == 5
    assert all("<" not in label for label in labels)


def test_title_block_states_scenario_model_threshold_budget_solver_sources(plan_result,
                                                                           tmp_path):
    page = _page(plan_result, tmp_path)
    prov = plan_result.provenance
    assert html.escape(in_language(plan_result.scenario.scenario.title, "id")) in page
    assert html.escape(prov.model_chain) in page
    assert "RSRP ≥ -105 dBm" in page
    assert "Rp 8.500.000.000" in page
    assert "Rp 3.770.000.000" in page  # spent
    assert html.escape(prov.solver) in page
    for source in prov.data_sources:
        assert html.escape(source) in page
    assert "Tower positions &lt;synthetic&gt; &amp; demo" in page
    assert "<title>Kabupaten Contoh (demo sintetis)</title>" in page


def test_english_labels_and_number_format(plan_result, tmp_path):
    page = _page(plan_result, tmp_path, lang="en")
    assert "Rp 8,500,000,000" in page
    assert "Village status — after the plan" in _control_names(page)
    assert '<html lang="en">' in page
    assert "Ringkasan" not in page


def test_synthetic_badge_only_for_synthetic_data(make_result, tmp_path):
    synthetic = _page(make_result(synthetic=True), tmp_path)
    assert "DATA SINTETIS / SYNTHETIC DATA" in synthetic
    real = write_map(make_result(synthetic=False), tmp_path / "real.html").read_text("utf-8")
    assert "DATA SINTETIS / SYNTHETIC DATA" not in real


def test_layers_are_all_in_the_layer_control(plan_result, tmp_path):
    assert _control_names(_page(plan_result, tmp_path)) == [
        "Relief medan (luring)", "OpenStreetMap (daring, perlu internet)",
        "Cakupan sinyal — sebelum", "Cakupan sinyal — sesudah rencana",
        "Status desa — sebelum", "Status desa — sesudah rencana",
        "Menara yang ada", "Lokasi kandidat", "Menara terpilih (urutan bangun)",
    ]


def test_online_tiles_are_off_by_default(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    tile = re.search(r"var (tile_layer_\w+) = L\.tileLayer\(", page)
    assert tile, "the optional OpenStreetMap layer is missing"
    assert f"{tile.group(1)}.addTo(" not in page
    assert "tile.openstreetmap.org" in page


def test_layers_shown_at_first(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    control = re.search(r"_layers = \{(.*?)\};", page, re.DOTALL).group(1)
    shown = [json.loads(name) for name, var in re.findall(r'("[^"]+") : (\w+),', control)
             if f"{var}.addTo(" in page]
    assert shown == ["Relief medan (luring)", "Cakupan sinyal — sesudah rencana",
                     "Status desa — sesudah rencana", "Menara yang ada",
                     "Menara terpilih (urutan bangun)"]


def test_images_are_data_uri_overlays_in_web_mercator(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    overlays = re.findall(r'L\.imageOverlay\(\s*"([^"]{0,30})', page)
    assert len(overlays) == 3  # relief, coverage before, coverage after
    assert all(uri.startswith("data:image/png;base64,") for uri in overlays)
    bounds = re.findall(r'L\.imageOverlay\(\s*"[^"]*",\s*(\[\[.*?\]\])', page)
    south_west, north_east = json.loads(bounds[0])
    assert -1.72 < south_west[0] < north_east[0] < -1.63
    assert 115.98 < south_west[1] < north_east[1] < 116.07


def test_selected_towers_are_numbered_div_icons_in_rank_order(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    selected = _geojson_layers(page)[2]
    assert [f["properties"]["label"] for f in selected["features"]] == ["1", "2"]
    assert "L.divIcon(" in page
    assert "L.circleMarker(" in page
    assert "L.marker(latlng, {zIndexOffset" in page


def test_popups_give_village_figures_and_site_costs(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    village = _village_data(page)["features"][2]["properties"]
    assert village["v"] == ["64.01.08.2001", "Batu Sopang", "blank spot", "sebagian", "5,0 %",
                            "55,0 %", "430 jiwa", "9,0", "blank spot", "blank spot",
                            "tidak ada sinyal",
                            "laporan: Tribun &lt;b&gt;Kaltim&lt;/b&gt; &amp; co 2021-09-28",
                            "tidak"]
    assert village["title"] == "Desa =1+2 Belimbing"
    candidate = _geojson_layers(page)[1]["features"][3]["properties"]
    assert candidate["v"][3] == "perlu jalan dan lahan"  # a hilltop away from settlements
    # power and backhaul are not costed by the scenario: said so, not Rp 0 (co-location
    # is a real 0 for a new tower)
    assert candidate["v"][5:12] == ["Rp 1.700.000.000", "Rp 250.000.000", "tidak dihitung",
                                    "tidak dihitung", "Rp 0", "Rp 1.950.000.000", "2.200 jiwa"]
    selected = _geojson_layers(page)[2]["features"][0]["properties"]
    assert selected["title"] == "Menara terpilih #1 — C004"
    labels = json.loads(re.findall(r"tpPopups\((\[.*?\]), ", page)[-1])
    assert labels[2] == "Status lahan"
    assert labels[4:10] == ["Biaya menara (Rp)", "Biaya jalan akses (Rp)", "Biaya listrik (Rp)",
                           "Biaya backhaul (Rp)", "Biaya kolokasi (Rp)",
                           "Biaya total (Rp)"]


def test_search_box_and_index_are_embedded(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    assert 'id="tp-search-input"' in page
    assert "textContent" in page
    index = re.search(r"index = (\[\[.*?\]\]), noMatch", page)
    assert index
    entries = json.loads(index.group(1))
    assert [e[0] for e in entries] == list(VILLAGE_NAMES)
    south, west, north, east = entries[0][3]
    assert south < north and west < east


def test_coordinates_are_rounded_and_outlines_simplified(make_result, tmp_path):
    result = make_result()
    villages = result.villages.copy()
    centre = villages.geometry.iloc[0].centroid
    villages.loc[villages.index[0], "geometry"] = Point(centre.x, centre.y).buffer(1200, 256)
    page = _page(with_changes(result, villages=villages), tmp_path)
    data = _village_data(page)
    ring = data["features"][0]["geometry"]["coordinates"][0]
    assert 8 < len(ring) < 200  # the 1,025-vertex circle is simplified for display
    for lon, lat in ring:
        assert round(lon, 5) == lon and round(lat, 5) == lat


def test_map_size_is_small_for_the_tiny_plan(plan_result, tmp_path):
    size = write_map(plan_result, tmp_path / "map.html").stat().st_size
    assert size < 300_000


def test_empty_selection_still_renders(make_result, tmp_path):
    page = _page(make_result(n_selected=0), tmp_path)
    assert _geojson_layers(page)[2]["features"] == []
    assert "Rp 0" in page


def test_write_is_atomic_and_leaves_no_temporary_files(plan_result, tmp_path, monkeypatch):
    target = tmp_path / "map.html"
    target.write_text("previous", encoding="utf-8")

    def broken(result, lang):
        raise RuntimeError("boom")

    monkeypatch.setattr(maps, "_render", broken)
    with pytest.raises(RuntimeError):
        write_map(plan_result, target)
    assert target.read_text(encoding="utf-8") == "previous"
    monkeypatch.undo()
    write_map(plan_result, target)
    assert leftovers(tmp_path) == []


def test_a_page_with_an_external_asset_is_refused(plan_result, tmp_path, monkeypatch):
    original = maps._render
    monkeypatch.setattr(maps, "_render", lambda result, lang: original(result, lang).replace(
        "</body>", '<script src="https://cdn.example.org/x.js"></script></body>'))
    with pytest.raises(OutputError, match="external asset"):
        write_map(plan_result, tmp_path / "map.html")
    assert not (tmp_path / "map.html").exists()


def test_unknown_language_is_refused(plan_result, tmp_path):
    with pytest.raises(ScenarioError, match="id, en"):
        write_map(plan_result, tmp_path / "map.html", lang="fr")


def test_missing_column_is_named(plan_result, tmp_path):
    broken = with_changes(plan_result, villages=plan_result.villages.drop(columns="status_after"))
    with pytest.raises(OutputError, match="status_after"):
        write_map(broken, tmp_path / "map.html")


# ------------------------------------------------------------------ kernels


def test_hillshade_flat_ground_is_sin_altitude_and_input_is_not_modified():
    z = np.zeros((5, 6))
    before = z.copy()
    shade = hillshade(z, 30.0, 30.0, altitude_deg=30.0)
    np.testing.assert_allclose(shade, 0.5, atol=1e-12)
    np.testing.assert_array_equal(z, before)


def test_hillshade_lights_slopes_facing_the_light():
    x = np.arange(20, dtype=float) * 30.0
    rises_east = np.tile(x * 0.5, (20, 1))  # faces west
    rises_west = rises_east[:, ::-1]  # faces east
    lit_west = hillshade(rises_east, 30.0, 30.0, azimuth_deg=270.0)
    lit_east = hillshade(rises_west, 30.0, 30.0, azimuth_deg=270.0)
    assert lit_west[10, 10] > 0.9 > 0.4 > lit_east[10, 10]
    # rows run southwards: terrain rising to the north faces south, lit from the south
    rises_north = np.tile((np.arange(20, dtype=float)[::-1] * 15.0)[:, None], (1, 20))
    assert hillshade(rises_north, 30.0, 30.0, azimuth_deg=180.0)[10, 10] > 0.9


def test_hillshade_keeps_nodata():
    z = np.ones((4, 4))
    z[1, 2] = np.nan
    shade = hillshade(z, 10.0, 10.0)
    assert np.isnan(shade[1, 2])
    assert np.isfinite(shade).sum() == 15


def test_rsrp_colors_hide_cells_below_threshold_and_nan():
    rgba = rsrp_colors(np.array([[-130.0, -106.0, -105.0, -60.0, np.nan, -40.0]]), -105.0)
    assert rgba.shape == (1, 6, 4)
    assert list(rgba[0, :, 3]) == [0, 0, 210, 210, 0, 210]
    np.testing.assert_array_equal(rgba[0, 3, :3], rgba[0, 5, :3])  # clipped at -60 dBm
    assert not np.array_equal(rgba[0, 2, :3], rgba[0, 3, :3])


@pytest.mark.slow
def test_regency_sized_map_stays_small_and_offline(tmp_path):
    from .factories import make_large_plan_result

    result = make_large_plan_result()
    path = write_map(result, tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 2_500_000
    assert len(_village_data(page)["features"]) == len(result.villages)
    images = re.findall(r'L\.imageOverlay\(\s*"data:image/png;base64,([^"]*)"', page)
    assert len(images) == 3
    assert max(len(i) for i in images) < 1_400_000  # relief of noisy terrain, base64
    assert leftovers(tmp_path) == []


# ------------------------------------------------------------------ backhaul links and audit


def test_links_and_audit_layers_when_present(make_result, tmp_path):
    from .factories import with_links_and_audit

    page = _page(with_links_and_audit(make_result()), tmp_path)
    names = _control_names(page)
    assert names[-2:] == ["Backhaul (warna = margin)", "Lokasi audit (keputusan lalu)"]
    layers = _geojson_layers(page)
    assert len(layers) == 5  # existing, candidates, selected, links, audit
    links, audit = layers[3], layers[4]
    assert [f["properties"]["tip"] for f in links["features"]] == ["L1", "L2", "L3", "L4"]
    # colour by class: >= 20 dB, < 10 dB, not feasible (dashed), fibre
    assert [(f["properties"]["c"], f["properties"]["d"]) for f in links["features"]] == [
        ("#1a9641", ""), ("#fdae61", ""), ("#d7191c", "6 5"), ("#2b83ba", "")]
    first = links["features"][0]
    assert first["geometry"]["type"] == "LineString"
    assert len(first["geometry"]["coordinates"]) == 2
    assert first["properties"]["v"][3:8] == ["gelombang mikro", "3,61", "0,82", "23,5", "ya"]
    assert links["features"][3]["properties"]["v"][5:7] == ["–", "–"]  # fibre: no margin
    assert [f["properties"]["label"] for f in audit["features"]] == ["A1", "A2"]
    assert audit["features"][1]["properties"]["title"] == "Lokasi audit A2"
    assert html.escape(HOSTILE_NAME) in audit["features"][1]["properties"]["v"]
    assert "L.divIcon({className: 'tp-audit'" in page
    legend = re.search(r'<div id="tp-legend".*?</div></div>', page, re.DOTALL)
    assert legend
    for label in ("Tidak layak", "Gelombang mikro, margin &lt; 10 dB",
                  "Gelombang mikro, margin ≥ 20 dB", "Serat optik",
                  "Lokasi audit (keputusan lalu)"):
        assert label in page
    assert "margin 10–20 dB" not in page  # only classes present are listed
    assert "VSAT" not in page


def test_links_without_geometry_are_drawn_between_their_ends(make_result, tmp_path):
    from .factories import make_links

    links = make_links()
    links["geometry"] = None
    page = _page(with_changes(make_result(), links=links), tmp_path)
    line = _geojson_layers(page)[3]["features"][0]["geometry"]["coordinates"]
    assert line == [[round(links.from_lon[0], 5), round(links.from_lat[0], 5)],
                    [round(links.to_lon[0], 5), round(links.to_lat[0], 5)]]


def test_no_links_or_audit_means_no_such_layer_or_legend(plan_result, tmp_path):
    page = _page(plan_result, tmp_path)
    assert "Backhaul (warna" not in page and "tp-line" not in page.split("</style>")[-1]
    assert "tp-audit'" not in page and "Lokasi audit" not in page


def test_audit_layer_needs_its_columns(make_result, tmp_path):
    from .factories import make_audit

    audit = make_audit().drop(columns="new_demand")
    with pytest.raises(OutputError, match="audit table: missing column.*new_demand"):
        write_map(with_changes(make_result(), audit=audit), tmp_path / "map.html")


def test_info_table_states_margins_uplink_and_antenna(plan_result, tmp_path):
    import dataclasses

    page = _page(plan_result, tmp_path)
    assert "Margin, uplink dan antena" in page
    assert "probabilitas lokasi 50 % (sigma bayangan 8 dB: margin 0 dB)" in page
    assert "MAPL 139,5 dB, downlink 138,2 dB: tidak membatasi" in page
    assert "antena omni" in page
    assert "location probability" not in page
    radio = dataclasses.replace(plan_result.scenario.radio, location_probability=0.9,
                                bs_sensitivity_dbm=-95.0)
    sectored = dataclasses.replace(radio, antenna=dataclasses.replace(
        radio.antenna, azimuths_deg=(0.0, 120.0, 240.0)))
    result = with_changes(plan_result, scenario=dataclasses.replace(plan_result.scenario,
                                                                    radio=sectored))
    page = _page(result, tmp_path, lang="en")
    assert "Margins, uplink and antenna" in page
    assert "margin 10.25 dB" in page
    assert "uplink-limited" in page
    assert "3 sectors 0/120/240 deg" in page


def test_village_popup_says_why_a_village_is_still_blank(plan_result, tmp_path):
    villages = plan_result.villages.copy()
    villages.loc[2, ["status_after", "why_not_site", "why_not_cost_per_person_idr",
                     "why_not_extra_budget_idr", "why_not_reason"]] = [
        "blank", "C9", 1_250_000.0, 900_000_000.0, "no_candidate"]
    page = _page(with_changes(plan_result, villages=villages), tmp_path, lang="en")
    features = _village_data(page)["features"]
    assert features[2]["properties"]["v"][-4:] == [
        "C9", "Rp 1,250,000", "Rp 900,000,000", "no candidate reaches it"]
    assert len(features[1]["properties"]["v"]) == 13  # not blank: no why-not rows
    labels = json.loads(re.findall(r"tpPopups\((\[.*?\]), ", page)[0])
    assert labels[-4:] == ["Cheapest site per person", "Cost per person served (Rp)",
                           "Extra budget to lift it out of blank spot (Rp)", "Why not chosen"]
    assert "labels.slice(0, p.v.length)" in page


def test_relief_of_a_fine_dem_is_shaded_at_the_image_size_in_bounded_memory():
    import base64
    import io
    import tracemalloc

    from affine import Affine
    from PIL import Image
    from pyproj import CRS

    from towerplan.io.rasters import RasterGrid
    from towerplan.outputs import map_rasters

    rows, cols = 2000, 3000  # 30 m cells, 60 x 90 km: shrunk to 1400 pixels a side
    plane = np.tile(np.arange(cols, dtype=np.float32) * 0.5, (rows, 1))  # rises east, 1:60
    plane[:10, :10] = -9999.0
    grid = RasterGrid(plane, Affine(30.0, 0.0, 400_000.0, 0.0, -30.0, 9_850_000.0),
                      CRS.from_epsg(32750), nodata=-9999.0)
    _, _, cell_m = map_rasters._to_web_mercator(grid, plane, resampling="average")
    assert cell_m == pytest.approx(30.0 * cols / 1400, rel=0.01)  # ground metres per pixel
    tracemalloc.start()
    try:
        uri, bounds = map_rasters.relief_uri(grid)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the float32 DEM, its masked copy and the warp's, not float64 grids of 6 M cells for the
    # shading (16 times the DEM before)
    assert peak < 5 * plane.nbytes
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert max(image.shape[:2]) <= 1400 and image.shape[2] == 4
    assert bounds[0][0] < bounds[1][0] and bounds[0][1] < bounds[1][1]
    # a plane has one shade: lit alike everywhere away from the edges, where the slope is
    # taken from the averaged grid with its ground cell size (1:60 at 64 m a pixel)
    inner = hillshade(np.tile(np.arange(50.0) * cell_m / 60.0, (50, 1)), cell_m, cell_m)
    assert np.ptp(inner[5:-5, 5:-5]) < 1e-9
