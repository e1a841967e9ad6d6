"""plan.kml and plan.kmz for Google Earth."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pyogrio
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from towerplan.errors import OutputError, ScenarioError
from towerplan.outputs.kml import KML_NAMESPACE, plan_kml, write_plan_kml, write_plan_kmz

from .factories import FORMULA_NAME, TEMPLATE_NAME, leftovers, origin_xy, with_changes

_NS = {"k": KML_NAMESPACE}


def _parse(path):
    return ET.parse(path).getroot()


def _folders(root):
    return root.findall("k:Document/k:Folder", _NS)


def _names(folder):
    return [p.findtext("k:name", namespaces=_NS) for p in folder.findall("k:Placemark", _NS)]


def _data(placemark):
    return {d.get("name"): d.findtext("k:value", namespaces=_NS)
            for d in placemark.findall("k:ExtendedData/k:Data", _NS)}


def test_document_states_title_synthetic_and_provenance(plan_result, tmp_path):
    root = _parse(write_plan_kml(plan_result, tmp_path / "plan.kml"))
    assert root.tag == f"{{{KML_NAMESPACE}}}kml"
    document = root.find("k:Document", _NS)
    assert document.findtext("k:name", namespaces=_NS) == (
        "Kabupaten Contoh (demo sintetis) — DATA SINTETIS / SYNTHETIC DATA")
    description = document.findtext("k:description", namespaces=_NS)
    assert "RSRP ≥ -105 dBm" in description
    assert "Rp 8.500.000.000" in description
    assert plan_result.provenance.scenario_hash in description
    assert "Tower positions &lt;synthetic&gt; &amp; demo" in description  # HTML-escaped


def test_real_data_has_no_synthetic_marker(make_result, tmp_path):
    root = _parse(write_plan_kml(make_result(synthetic=False), tmp_path / "plan.kml"))
    text = ET.tostring(root, encoding="unicode")
    assert "SINTETIS" not in text


def test_selected_towers_numbered_in_build_order_at_their_positions(plan_result, tmp_path):
    root = _parse(write_plan_kml(plan_result, tmp_path / "plan.kml"))
    selected = _folders(root)[0]
    assert selected.findtext("k:name", namespaces=_NS) == "Menara terpilih (urutan bangun)"
    assert _names(selected) == ["1. C004", "2. C002"]
    placemarks = selected.findall("k:Placemark", _NS)
    for placemark, row in zip(placemarks, plan_result.selected.itertuples(), strict=True):
        lon, lat = map(float, placemark.findtext("k:Point/k:coordinates",
                                                 namespaces=_NS).split(","))
        assert lon == pytest.approx(row.lon, abs=1e-6)
        assert lat == pytest.approx(row.lat, abs=1e-6)
        assert placemark.findtext("k:styleUrl", namespaces=_NS) == "#selected"
    first = placemarks[0]
    description = first.findtext("k:description", namespaces=_NS)
    for text in ("Biaya menara (Rp)", "Rp 1.700.000.000", "Biaya jalan akses (Rp)",
                 "Rp 250.000.000", "Biaya total (Rp)", "Rp 1.950.000.000",
                 "Tambahan kebutuhan tercakup", "2.163 jiwa"):
        assert text in description
    data = _data(first)
    assert data["rank"] == "1" and data["site_id"] == "C004"
    assert float(data["cost_total_idr"]) == 1_950_000_000.0
    assert float(data["new_demand"]) == pytest.approx(2163.4)


def test_blank_villages_are_polygons_with_their_figures(plan_result, tmp_path):
    root = _parse(write_plan_kml(plan_result, tmp_path / "plan.kml", lang="en"))
    villages = _folders(root)[1]
    assert villages.findtext("k:name", namespaces=_NS) == "Blank-spot villages (before the plan)"
    assert _names(villages) == [FORMULA_NAME, TEMPLATE_NAME]  # blank before; names as they are
    placemark = villages.findall("k:Placemark", _NS)[0]
    ring = placemark.findtext("k:Polygon/k:outerBoundaryIs/k:LinearRing/k:coordinates",
                              namespaces=_NS)
    coords = np.array([[float(v) for v in pair.split(",")] for pair in ring.split()])
    assert len(coords) == 5 and (coords[0] == coords[-1]).all()
    bounds = plan_result.villages.iloc[[2]].to_crs(4326).total_bounds
    np.testing.assert_allclose([coords[:, 0].min(), coords[:, 1].min(), coords[:, 0].max(),
                                coords[:, 1].max()], bounds, atol=1e-6)
    description = placemark.findtext("k:description", namespaces=_NS)
    for text in ("64.01.08.2001", "Status before", "blank spot", "partial", "5.0 %", "55.0 %",
                 "430 people"):
        assert text in description
    assert _data(placemark)["status_before"] == "blank"
    style = root.find("k:Document/k:Style[@id='blank']/k:PolyStyle/k:color", _NS)
    assert style.text == "661f30d7"  # #d7301f at 40 % opacity, aabbggrr


def test_multipolygons_and_holes(make_result, tmp_path):
    result = make_result()
    villages = result.villages.copy()
    x0, y0 = origin_xy()
    ring = box(x0 + 6000, y0, x0 + 9000, y0 + 3000)
    holed = Polygon(ring.exterior.coords, [box(x0 + 7000, y0 + 1000, x0 + 8000, y0 + 2000)
                                           .exterior.coords])
    villages.loc[villages.index[2], "geometry"] = MultiPolygon(
        [holed, box(x0 + 9500, y0, x0 + 9900, y0 + 400)])
    root = _parse(write_plan_kml(with_changes(result, villages=villages), tmp_path / "p.kml"))
    placemark = _folders(root)[1].findall("k:Placemark", _NS)[0]
    polygons = placemark.findall("k:MultiGeometry/k:Polygon", _NS)
    assert len(polygons) == 2
    assert len(polygons[0].findall("k:innerBoundaryIs", _NS)) == 1
    assert polygons[1].find("k:innerBoundaryIs", _NS) is None


def test_no_selected_tower_still_writes_both_folders(make_result, tmp_path):
    root = _parse(write_plan_kml(make_result(n_selected=0), tmp_path / "plan.kml"))
    folders = _folders(root)
    assert len(folders) == 2
    assert _names(folders[0]) == []


def test_kmz_is_a_zip_holding_doc_kml(plan_result, tmp_path):
    kml = write_plan_kml(plan_result, tmp_path / "plan.kml")
    kmz = write_plan_kmz(plan_result, tmp_path / "plan.kmz")
    with zipfile.ZipFile(kmz) as archive:
        assert archive.namelist() == ["doc.kml"]
        assert archive.getinfo("doc.kml").compress_type == zipfile.ZIP_DEFLATED
        assert archive.read("doc.kml") == kml.read_bytes()
    assert kml.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("driver", ["KML", "LIBKML"])
def test_gdal_reads_both_folders(plan_result, tmp_path, driver):
    if driver not in pyogrio.list_drivers():
        pytest.skip(f"GDAL has no {driver} driver here")
    path = write_plan_kml(plan_result, tmp_path / "plan.kml")
    layers = [name for name, _ in pyogrio.list_layers(path)]
    assert layers == ["Menara terpilih (urutan bangun)", "Desa blank spot (sebelum rencana)"]
    selected = pyogrio.read_dataframe(path, layer=layers[0])
    villages = pyogrio.read_dataframe(path, layer=layers[1])
    assert selected["Name"].tolist() == ["1. C004", "2. C002"]
    assert villages["Name"].tolist() == [FORMULA_NAME, TEMPLATE_NAME]
    assert set(villages.geometry.geom_type) <= {"Polygon", "MultiPolygon"}


def test_missing_column_and_unknown_language(plan_result, tmp_path):
    with pytest.raises(OutputError, match="status_before"):
        plan_kml(with_changes(plan_result,
                              villages=plan_result.villages.drop(columns="status_before")))
    with pytest.raises(ScenarioError):
        plan_kml(plan_result, lang="fr")
