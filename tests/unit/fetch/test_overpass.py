"""Overpass queries and the conversion of their JSON answers into layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from tests.unit.fetch.factories import REGION, overpass_payload
from towerplan.errors import InputDataError
from towerplan.fetch.area import Area
from towerplan.fetch.http import DownloadError
from towerplan.fetch.overpass import (
    LAYER_COLUMNS,
    overpass_query,
    parse_overpass,
    relation_polygon,
    verify_overpass,
)

PASER = Area("kabupaten", name="Paser")


def _way(*points: tuple[float, float], role: str = "outer") -> dict[str, object]:
    return {"type": "way", "role": role,
            "geometry": [{"lon": x, "lat": y} for x, y in points]}


def _square(x0: float, y0: float, x1: float, y1: float, role: str = "outer") -> dict[str, object]:
    return _way((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0), role=role)


def test_query_of_a_kabupaten_searches_inside_its_boundary() -> None:
    query = overpass_query(PASER, timeout_s=600)
    assert query.startswith("[out:json][timeout:600];")
    assert ('relation["boundary"="administrative"]["admin_level"="5"]'
            '["name"~"^(Kabupaten |Kab\\\\. |Kota )?Paser$",i]->.target;') in query
    assert ".target map_to_area->.region;" in query
    assert 'relation(area.region)["boundary"="administrative"]["admin_level"~"^[67]$"];' in query
    for part in ('node(area.region)["place"', 'way(area.region)["highway"',
                 'nwr(area.region)["man_made"~"^(mast|tower)$"]["tower:type"="communication"]',
                 'way(area.region)["power"~"^(line|minor_line)$"]'):
        assert part in query
    assert query.rstrip().endswith("out geom;")


def test_query_of_a_desa_narrows_by_kabupaten_and_kecamatan() -> None:
    area = Area("desa", name="Muara Payang", code="64.01.07.2009", kabupaten="Paser",
                kecamatan="Muara Komam")
    query = overpass_query(area)
    lines = query.splitlines()
    assert lines[1].endswith('Paser$",i]->.p0;') and lines[2] == ".p0 map_to_area->.a0;"
    assert lines[3].startswith('relation(area.a0)["boundary"="administrative"]'
                               '["admin_level"="6"]')
    assert lines[5].startswith('relation(area.a1)["boundary"="administrative"]'
                               '["admin_level"="7"]')
    assert "Muara Payang$" in lines[5]
    assert '"admin_level"~' not in query  # nothing below desa level


def test_query_of_a_bbox_uses_south_west_north_east() -> None:
    query = overpass_query(Area("bbox", bbox=(115.9, -1.8, 116.1, -1.6)))
    box = "(-1.8000000,115.9000000,-1.6000000,116.1000000)"
    assert f'relation["boundary"="administrative"]["admin_level"~"^[567]$"]{box};' in query
    assert f'node{box}["place"~' in query
    assert "map_to_area" not in query


def test_names_cannot_break_out_of_the_query() -> None:
    query = overpass_query(Area("kabupaten", name='Evil"];out;(.x'))
    # The quote is escaped for the QL string, the regex characters for the regex.
    assert '?Evil\\"\\\\];out;\\\\(\\\\.x$",i]->.target;' in query
    assert query.count('"];out;') == 0 and query.count("out geom;") == 1


def test_relation_rings_from_several_ways_with_hole_and_island() -> None:
    members = [
        _way((0, 0), (4, 0), (4, 4)), _way((4, 4), (0, 4), (0, 0)),  # outer ring in two ways
        _square(1, 1, 3, 3, role="inner"),                           # hole
        _square(1.5, 1.5, 2.5, 2.5),                                 # island in the hole
        {"type": "node", "ref": 9, "lat": 2, "lon": 2},              # ignored
    ]
    polygon, open_lines = relation_polygon(members)
    assert polygon is not None and open_lines == 0
    assert polygon.area == pytest.approx(16 - 4 + 1)
    assert polygon.is_valid and len(polygon.geoms) == 2
    assert not polygon.contains(shapely.Point(1.2, 1.2))
    assert polygon.contains(shapely.Point(2, 2))


def test_relation_roles_do_not_matter_and_open_rings_are_counted() -> None:
    members = [_square(0, 0, 2, 2, role=""), _way((5, 5), (6, 5), (6, 6))]
    polygon, open_lines = relation_polygon(members)
    assert polygon is not None and polygon.area == pytest.approx(4.0) and open_lines == 1
    assert relation_polygon([_way((0, 0), (1, 0), (1, 1))]) == (None, 1)
    assert relation_polygon([]) == (None, 0)


def test_parse_builds_every_layer() -> None:
    data = parse_overpass(overpass_payload(), PASER)
    assert data.counts() == {"kabupaten": 1, "kecamatan": 2, "desa": 4, "places": 2,
                             "roads": 1, "towers": 2, "power_lines": 1}
    assert data.osm_base == "2025-01-31T08:00:00Z"
    assert data.region.area == pytest.approx(0.04)
    for name, frame in data.layers.items():
        columns, geometry_type = LAYER_COLUMNS[name]
        assert list(frame.columns) == [*columns, "geometry"]
        assert set(frame.geom_type) == {geometry_type}
        assert frame.crs.to_epsg() == 4326
    desa = data.layers["desa"].set_index("name")
    assert sorted(desa.index) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert desa.loc["Alpha", "geometry"].area == pytest.approx(0.01 - 0.0004)
    assert desa.loc["Beta", "kind"] == "kelurahan" and desa.loc["Alpha", "kind"] == "desa"
    assert desa.loc["Gamma", "kind"] == "" and desa.loc["Beta", "osm_name"] == "Kelurahan Beta"
    assert desa.loc["Alpha", "population"] == 1250.0
    assert desa["district"].to_dict() == {"Alpha": "Kuaro", "Beta": "Kuaro", "Gamma": "Long Ikis",
                                          "Delta": "Long Ikis"}
    assert desa.loc["Gamma", "osm_id"] == "r6" and desa.loc["Gamma", "admin_level"] == 7
    towers = data.layers["towers"].set_index("osm_id")
    assert towers.loc["n301", "height_m"] == 45.0 and towers.loc["n301", "operator"] == "Telkomsel"
    assert towers.loc["w302", "geometry"].x == pytest.approx(115.9201)
    places = data.layers["places"].set_index("osm_id")
    assert places.loc["n101", "osm_population"] == 830.0
    assert places["osm_population"].isna().sum() == 1


def test_parse_drops_neighbours_and_reports_broken_boundaries() -> None:
    data = parse_overpass(overpass_payload(), PASER)
    assert "Outside" not in set(data.layers["desa"]["name"])
    assert "1 desa boundaries outside kabupaten Paser left out" in data.notes
    assert any("relation r9 (Broken): no closed boundary" in n for n in data.notes)


def test_parse_of_a_bbox_keeps_units_centred_inside_it() -> None:
    west, south, east, north = REGION
    area = Area("bbox", bbox=(west, south, (west + east) / 2, north))
    data = parse_overpass(overpass_payload(), area)
    assert sorted(data.layers["desa"]["name"]) == ["Alpha", "Beta"]
    assert list(data.layers["kecamatan"]["name"]) == ["Kuaro"]
    assert len(data.layers["kabupaten"]) == 1  # touches the box


def test_parse_names_a_missing_or_ambiguous_unit() -> None:
    with pytest.raises(InputDataError, match="OpenStreetMap has no kabupaten named 'Pasir'"):
        parse_overpass(overpass_payload(), Area("kabupaten", name="Pasir"))
    twin = overpass_payload()["elements"][0] | {"id": 77}
    with pytest.raises(InputDataError, match=r"has 2 kabupaten boundaries named 'Paser' "
                                             r"\(r1, r77\); use --code or --bbox"):
        parse_overpass(overpass_payload(extra=[twin]), PASER)


def test_parse_matches_the_unit_name_without_prefix_or_case() -> None:
    payload = overpass_payload()
    payload["elements"][0]["tags"]["name"] = "KABUPATEN  PASER"
    assert len(parse_overpass(payload, PASER).layers["kabupaten"]) == 1


def test_verify_overpass(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(overpass_payload()))
    verify_overpass(good, url="http://o")
    timeout = tmp_path / "timeout.json"
    timeout.write_text(json.dumps({"elements": [], "remark": "runtime error: Query timed out "
                                   "in \"query\" at line 3 after 181 seconds."}))
    with pytest.raises(DownloadError, match="Overpass: http://o stopped with 'runtime error: "
                                            "Query timed out"):
        verify_overpass(timeout, url="http://o")
    html = tmp_path / "busy.json"
    html.write_text("<html>rate limited</html>")
    with pytest.raises(DownloadError, match="is not JSON"):
        verify_overpass(html, url="http://o")
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"features": []}')
    with pytest.raises(DownloadError, match="no 'elements' list"):
        verify_overpass(wrong, url="http://o")
