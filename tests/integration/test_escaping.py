"""Hostile names through every output: village names are data, never markup or formulas.

One plan whose seven villages are named with HTML, quotes, spreadsheet formulas and Unicode is
written with :func:`write_outputs`; each output is then read back with its own reader.
"""

from __future__ import annotations

import csv
import html
import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from tests.unit.outputs.factories import make_plan_result, with_changes, with_links_and_audit
from towerplan.outputs.kml import KML_NAMESPACE
from towerplan.outputs.maps import write_map
from towerplan.outputs.writers import write_outputs

SCRIPT = "<script>alert(1)</script>"
QUOTES = "\"'"
HYPERLINK = '=HYPERLINK("http://x")'
UNICODE = "Muara Kömam"
HOSTILE = (SCRIPT, QUOTES, HYPERLINK, "+1", "-1", "@SUM(A1)", UNICODE)
FORMULA_LIKE = tuple(n for n in HOSTILE if n[0] in "=+-@")
_NS = {"k": KML_NAMESPACE}


def _hostile_result(names: tuple[str, ...] = HOSTILE):
    """The tiny plan with seven villages named *names*, all blank before the plan."""
    base = with_links_and_audit(make_plan_result())
    extra = base.villages.iloc[:3].copy()
    extra["geometry"] = extra.geometry.translate(xoff=6000.0)
    extra["code"] = ["64.01.09.2001", "64.01.09.2002", "64.01.09.2003"]
    villages = gpd.GeoDataFrame(pd.concat([base.villages, extra], ignore_index=True),
                                crs=base.villages.crs)
    villages["name"] = list(names)
    villages["status_before"] = "blank"
    selected = base.selected.copy()
    selected["village"] = [names[0], names[2]]
    selected["villages_lifted_names"] = ["; ".join(names[:3]), names[4]]
    audit = base.audit.copy()
    audit["village"] = [names[0], names[3]]
    return with_changes(base, villages=villages, selected=selected, audit=audit)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("escaping")
    write_outputs(_hostile_result(), directory)
    return directory


def _embedded_json(page: str, marker: str):
    match = re.search(marker, page)
    assert match, marker
    return json.JSONDecoder().raw_decode(page, match.end())[0]


def test_map_has_no_raw_markup_from_names(out, tmp_path):
    page = (out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page.lower()
    assert "alert(1)</script>" not in page
    # hostile names add no element: the same map with plain names has as many script tags
    plain = write_map(_hostile_result(tuple(f"Desa {k}" for k in range(7))),
                      tmp_path / "plain.html")
    plain_page = plain.read_text(encoding="utf-8")
    for tag in ("<script", "</script", "<style", "<div", "<iframe", "<img"):
        assert page.lower().count(tag) == plain_page.lower().count(tag), tag


def test_map_string_literals_carry_the_names_exactly(out):
    page = (out / "map.html").read_text(encoding="utf-8")
    index = _embedded_json(page, r"index = ")
    assert [entry[0] for entry in index] == list(HOSTILE)  # JSON literals decode to the names
    data = _embedded_json(page, r"var map_\w+_villages = ")
    tips = [f["properties"]["tip"] for f in data["features"]]
    assert [html.unescape(tip) for tip in tips] == list(HOSTILE)
    for feature in data["features"]:
        props = feature["properties"]
        for text in (props["title"], props["tip"], *props["v"]):
            assert not set(text) & set("<>\"'"), text  # escaped before it can become markup
    # the search index keeps the raw names (shown with textContent): inside <script>, as JSON
    # with every "<" and ">" written as \u003c / \u003e
    literal = page[page.index("index = "):page.index(", noMatch")]
    assert "<" not in literal and ">" not in literal
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in literal


#: The only formulas the workbook writes: sums, differences, ratios and IF of cell references,
#: optionally on another sheet (never text from the data).
OWN_FORMULA = re.compile(r"=(?:'[^']+'!)?[A-Z0-9$:(),+\-/=]+")


def test_xlsx_cells_from_data_are_text_never_formulas(out):
    workbook = openpyxl.load_workbook(out / "report.xlsx")
    seen: dict[str, int] = {}
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    assert OWN_FORMULA.fullmatch(cell.value), f"{sheet.title}!{cell.coordinate}"
                    continue
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")) or \
                        cell.value in ("-", "–"), f"{sheet.title}!{cell.coordinate}"
                    for name in HOSTILE:
                        if name in cell.value:
                            seen[name] = seen.get(name, 0) + 1
    assert set(seen) == set(HOSTILE)  # every name made it into the workbook
    villages = [c.value for s in workbook.worksheets for r in s.iter_rows() for c in r
                if isinstance(c.value, str)]
    for name in FORMULA_LIKE:
        assert "'" + name in villages  # guarded with a leading apostrophe, shown as typed


def test_csv_cells_are_guarded(out):
    with (out / "villages.csv").open(encoding="utf-8", newline="") as fh:
        names = [row["name"] for row in csv.DictReader(fh)]
    assert names == ["'" + n if n in FORMULA_LIKE else n for n in HOSTILE]


def test_kml_parses_and_names_round_trip(out):
    root = ET.parse(out / "plan.kml").getroot()
    assert root.tag == f"{{{KML_NAMESPACE}}}kml"
    folders = root.findall("k:Document/k:Folder", _NS)
    villages = [p.findtext("k:name", namespaces=_NS)
                for p in folders[1].findall("k:Placemark", _NS)]
    assert villages == list(HOSTILE)
    for placemark in root.iter(f"{{{KML_NAMESPACE}}}Placemark"):
        description = placemark.findtext("k:description", namespaces=_NS)
        assert "<script" not in description.lower()  # HTML that Google Earth renders
        assert "<table>" in description
    selected = folders[0].findall("k:Placemark", _NS)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in selected[0].findtext("k:description",
                                                                          namespaces=_NS)
    with zipfile.ZipFile(out / "plan.kmz") as kmz:
        assert kmz.namelist() == ["doc.kml"]
        assert kmz.read("doc.kml") == (out / "plan.kml").read_bytes()


def test_geopackage_stores_names_as_they_are(out):
    villages = pyogrio.read_dataframe(out / "plan.gpkg", layer="villages")
    assert villages["name"].tolist() == list(HOSTILE)
    assert shapely.is_valid(villages.geometry.values).all()


def test_html_report_is_escaped(out):
    report = out / "report.html"
    assert report.exists(), "write_outputs wrote no report.html"
    text = report.read_text(encoding="utf-8")
    assert "<script>alert" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
