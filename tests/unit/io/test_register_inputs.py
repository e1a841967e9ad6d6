"""The register, kecamatan population and input limitations inside load_inputs and plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from towerplan.errors import InputDataError, ScenarioError
from towerplan.inputs import load_inputs, validate_inputs
from towerplan.io.register import packaged_register
from towerplan.pipeline.plan import plan
from towerplan.scenario import Scenario

ROOT = Path(__file__).resolve().parents[3]
PASER_REGISTER = packaged_register()
LONG_KALI_2020 = 26_991.0


@pytest.fixture
def inputs(tmp_path, village_gdf, write_layer, make_dem, make_towers_csv):
    """Four generated squares named like Long Kali villages, without codes or population."""
    gdf = village_gdf(4, size_deg=0.02)
    gdf["name"] = ["Ds. Muara Toyu", "Muara Lambakan", "Kel. Long Kali", "Danau Biru"]
    gdf["district"] = "Long Kali"
    gdf = gdf[["name", "district", "geometry"]]
    villages = write_layer(gdf, "villages_no_codes")
    population = tmp_path / "kecamatan.csv"
    population.write_text("district_code,district_name,population_2020\n"
                          f"64.01.08,Long Kali,{LONG_KALI_2020:.0f}\n"
                          "64.01.10,Muara Samu,6868\n", encoding="utf-8")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("name,district,code\nDanau Biru,Long Kali,-\n", encoding="utf-8")
    towers = make_towers_csv([{"lon": 116.12, "lat": -1.70, "height_m": 40}])
    return {"villages": villages, "population": population, "mapping": mapping,
            "towers": towers, "dem": make_dem(shape=(80, 90), res_m=90.0),
            "coarse_dem": make_dem(shape=(8, 8), res_m=2300.0, name="coarse.tif")}


def _scenario(files: dict[str, Path], *, dem: str = "dem", mapping: bool = True,
              model: str = "hata-suburban", extra: str = "") -> Scenario:
    import tomllib

    text = f"""
[inputs]
villages = "{files['villages']}"
dem = ["{files[dem]}"]
towers = "{files['towers']}"
district_population = "{files['population']}"
register = "{PASER_REGISTER}"
{f'village_mapping = "{files["mapping"]}"' if mapping else ''}

[inputs.village_columns]
code = ""
district_code = ""
kind = ""
population = ""

[radio]
max_radius_km = 20
model = "{model}"

[candidates]
grid_spacing_m = 1500
{extra}
"""
    return Scenario.from_dict(tomllib.loads(text))


def test_register_codes_population_and_limitations(inputs):
    data = load_inputs(_scenario(inputs))
    v = data.villages
    assert v["code"].tolist() == ["64.01.08.2008", "64.01.08.2011", "64.01.08.1001", "V0004"]
    assert v["district_code"].tolist() == ["64.01.08", "64.01.08", "64.01.08", ""]
    assert v["kind"].tolist() == ["desa", "desa", "kelurahan", ""]
    statuses = [m.status for m in data.register_match.villages]
    assert statuses == ["normalised", "exact", "normalised", "not_in_register"]
    # Long Kali's people are split by area over its four villages (equal squares here)
    people = v["population"].to_numpy()
    assert people.sum() == pytest.approx(LONG_KALI_2020)
    assert people / people.sum() == pytest.approx(v["area_km2"] / v["area_km2"].sum())
    assert "kecamatan.csv, 26,991 people" in data.population_note
    report = {r.layer: r for r in data.reports}
    assert report["register"].problems == ()
    assert "kecamatan without villages in the layer: Muara Samu" in \
        report["district_population"].notes
    english = [text.split(" / ")[1] for text in data.limitations]
    assert english == [
        "141 of 144 register villages have no polygon in the boundary file",
        "None of the 1 existing towers within 20 km lies inside the area: today's coverage "
        "comes only from towers outside it; if the area does have towers, the tower data is "
        "incomplete and blank spots are overstated",
    ]
    assert data.village_geometry_source.endswith(
        "village polygons without Kemendagri codes (villages_no_codes.gpkg, 4)")


def test_unsettled_names_are_problems_of_validate_and_of_every_load(inputs):
    scenario = _scenario(inputs, mapping=False)
    report = validate_inputs(scenario)
    assert report.problems == (
        "register: 'Danau Biru' (Long Kali): unmatched: best score 43 is below 85; settle it "
        "in the mapping file; candidates 64.01.08.2016 Sebakung Taka (Long Kali) 43, "
        "64.01.08.2018 Sebakung Makmur (Long Kali) 43, 64.01.08.2006 Munggu (Long Kali) 40",)
    with pytest.raises(InputDataError) as info:  # in validate's words
        load_inputs(scenario)
    assert info.value.problems == report.problems
    assert str(info.value) == f"1 input problem(s): {report.problems[0]}"


def test_coarse_dem_is_called_a_placeholder(inputs):
    data = load_inputs(_scenario(inputs, dem="coarse_dem"))
    (terrain,) = [t for t in data.limitations if t.startswith("Medan")]
    assert "source DEM cells ~2.3 km (working grid 90 m), so terrain detail is a " \
           "placeholder, not RF-grade; the radio model uses no terrain" in terrain
    fine = load_inputs(_scenario(inputs))
    assert not any(t.startswith("Medan") for t in fine.limitations)
    terrain_chain = load_inputs(_scenario(inputs, dem="coarse_dem", model="rma+deygout",
                                          extra="[terrain]\nresolution_m = 500\n"))
    (terrain,) = [t for t in terrain_chain.limitations if t.startswith("Medan")]
    assert terrain.endswith("source DEM cells ~2.3 km (working grid 500 m), so terrain detail "
                            "is a placeholder, not RF-grade; diffraction and line of sight "
                            "over this DEM are not reliable")


def test_plan_states_the_demand_method_and_limitations(inputs):
    result = plan(_scenario(inputs))
    s = result.summary
    assert s["demand_basis"] == "population"
    assert s["demand_total"] == pytest.approx(LONG_KALI_2020, rel=1e-9)
    note = s["demand_basis_note"].split(" / ")
    assert note[0].startswith("jumlah penduduk kecamatan (kecamatan.csv, 26.991 jiwa) dibagi ke "
                              "desa menurut luas")
    assert note[1].startswith("kecamatan totals (kecamatan.csv, 26,991 people) "
                              "apportioned to villages by area")
    assert (s["register_matched"], s["register_ambiguous"], s["register_unmatched"],
            s["register_without_polygon"]) == (3, 0, 0, 141)
    english = [text.split(" / ")[1] for text in s["limitations"]]
    assert english[-1] == ("No population per village: kecamatan totals (kecamatan.csv) "
                           "apportioned to villages by area, so each village's total is an "
                           "estimate")
    # no settlement: each village's share stands at its representative point
    assert s["population_rules"] == {"centroid": {"villages": 4, "people": 26991.0}}
    assert len(s["limitations"]) == 3
    assert s["village_geometry_source"]


def test_plan_without_population_says_demand_is_area(inputs, tmp_path):
    scenario = _scenario(inputs)
    scenario = Scenario.from_dict({**scenario.to_dict(), "inputs": {
        **scenario.to_dict()["inputs"], "district_population": ""}})
    s = plan(scenario).summary
    assert s["demand_basis"] == "area_km2"
    assert s["limitations"][-1].split(" / ")[1] == (
        "No population data: demand is village area (km²), every km² counts the same")
    assert np.isfinite(s["demand_total"])


def test_mapping_needs_a_register():
    with pytest.raises(ScenarioError, match="'inputs.village_mapping' settles register"):
        Scenario.from_dict({"inputs": {"villages": "v.gpkg", "dem": ["d.tif"],
                                       "village_mapping": "m.csv"}})
