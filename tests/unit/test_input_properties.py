"""Property-based tests of the scenario and the input readers (Hypothesis).

Random valid input never crashes; random invalid input (wrong types, numbers out of range,
nan and inf, unknown and missing keys, random bytes as a TOML, CSV, GeoJSON or GeoTIFF file)
gives a :class:`~towerplan.errors.TowerplanError` with a message, never another exception.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from towerplan.errors import NodataRepairWarning, ScenarioError, TowerplanError
from towerplan.io.committed import read_committed_towers
from towerplan.io.demand import read_district_population, read_settlements
from towerplan.io.evidence import read_signal_reports
from towerplan.io.measurements import read_measurements
from towerplan.io.people import read_village_population
from towerplan.io.pops import read_pops
from towerplan.io.register import read_register, read_village_mapping
from towerplan.io.siting import read_cost_overrides, read_sites
from towerplan.io.terrain import read_dem
from towerplan.io.towers import read_towers
from towerplan.io.villages import read_villages
from towerplan.scenario import Scenario

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


# --------------------------------------------------------------------------- the scenario

def _plain_groups() -> dict[str, type]:
    """Sections of the groups a scenario file gives as (nested) tables, with their class."""
    found: dict[str, type] = {}

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            hint = hints[f.name]
            if isinstance(hint, type) and dataclasses.is_dataclass(hint):
                path = f"{prefix}{f.name}"
                found[path] = hint
                walk(hint, f"{path}.")

    walk(Scenario, "")
    return found


GROUPS = _plain_groups()
#: (section, field, low, high, is_int) of every ranged number of a plain group, except the two
#: tied by a rule across groups (the budget buys at least one tower).
RANGED = [(section, name, low, high, isinstance(low, int) and isinstance(high, int))
          for section, cls in GROUPS.items()
          for name, (low, high) in cls._ranges.items()  # type: ignore[attr-defined]
          if (section, name) not in (("budget", "total_idr"), ("costs", "tower_idr"))
          and typing.get_origin(typing.get_type_hints(cls)[name]) is not tuple]


def _nested(section: str, name: str, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: value}
    for part in reversed(section.split(".")):
        data = {part: data}
    return data


def _merge(into: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


@st.composite
def _valid_value(draw: st.DrawFn, low: float, high: float, is_int: bool) -> float | int:
    if is_int:
        return draw(st.integers(int(low), int(high)))
    return draw(st.floats(low, high, allow_nan=False, allow_infinity=False))


@FAST
@given(st.lists(st.sampled_from(RANGED), min_size=1, max_size=8, unique=True).flatmap(
    lambda fields: st.tuples(st.just(fields), st.tuples(*(
        _valid_value(low, high, is_int) for _, _, low, high, is_int in fields)))))
def test_random_values_within_range_build_a_scenario(drawn: tuple[list[Any], tuple]) -> None:
    fields, values = drawn
    data: dict[str, Any] = {}
    for (section, name, *_), value in zip(fields, values, strict=True):
        _merge(data, _nested(section, name, value))
    try:
        sc = Scenario.from_dict(data)
    except ScenarioError as exc:  # a rule between two drawn values (e.g. must be positive)
        assert str(exc)
        assume(False)
    for (section, name, *_), value in zip(fields, values, strict=True):
        obj: Any = sc
        for part in section.split("."):
            obj = getattr(obj, part)
        assert getattr(obj, name) == value


_WRONG = st.one_of(st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2),
                   st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                   st.none())


@FAST
@given(st.sampled_from(RANGED), st.data())
def test_random_bad_numbers_are_refused_naming_the_key(field: tuple[Any, ...],
                                                       data: st.DataObject) -> None:
    section, name, low, high, is_int = field
    span = max(abs(high - low), 1.0)
    bad = data.draw(st.one_of(
        st.sampled_from([math.nan, math.inf, -math.inf]),
        st.floats(high + span * 1e-3 + 1, 1e300) if math.isfinite(high) else st.nothing(),
        st.floats(-1e300, low - span * 1e-3 - 1) if math.isfinite(low) else st.nothing(),
        _WRONG))
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(_nested(section, name, bad))
    assert f"{section}.{name}" in str(info.value)


@FAST
@given(st.sampled_from(sorted(GROUPS)), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_",
                                                min_size=1, max_size=12))
def test_unknown_keys_are_refused(section: str, key: str) -> None:
    cls = GROUPS[section]
    assume(key not in {f.name for f in dataclasses.fields(cls)})
    with pytest.raises(ScenarioError, match=f"unknown key '{section}.{key}'"):
        Scenario.from_dict(_nested(section, key, 1))


_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=12)
_KEYS = st.sampled_from([*GROUPS, "channels", "tower_types", "programme.budgets",
                         "programme.built", "inputs.dem", "inputs.signal_reports",
                         "inputs.coverage_maps", "candidates.exclusions", "nonsense"])


@FAST
@given(st.lists(st.tuples(_KEYS, st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1,
                                          max_size=20), _JSONISH), max_size=5))
def test_random_tables_give_a_scenario_or_a_scenario_error(
        entries: list[tuple[str, str, Any]]) -> None:
    data: dict[str, Any] = {}
    for section, key, value in entries:
        _merge(data, _nested(section, key, value))
    try:
        Scenario.from_dict(data)
    except ScenarioError as exc:
        assert str(exc).strip()


@FAST
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_random_scenario_files_never_crash(tmp_path_factory: pytest.TempPathFactory,
                                          raw: bytes) -> None:
    path = tmp_path_factory.mktemp("toml") / "random.toml"
    path.write_bytes(raw)
    try:
        Scenario.from_toml(path)
    except TowerplanError as exc:
        assert str(exc).strip()


_TOML_VALUES = st.sampled_from(["nan", "inf", "-inf", "+inf", "1e400", "-0.0", "true", "[]",
                                "{}", "\"x\"", "1979-05-27", "0", "-1", "1e30"])


@FAST
@given(st.sampled_from(RANGED), _TOML_VALUES)
def test_toml_special_values_in_every_number(tmp_path_factory: pytest.TempPathFactory,
                                             field: tuple[Any, ...], value: str) -> None:
    section, name, low, high, _ = field
    path = tmp_path_factory.mktemp("toml") / "special.toml"
    path.write_text(f"[{section}]\n{name} = {value}\n", encoding="utf-8")
    try:
        sc = Scenario.from_toml(path)
    except ScenarioError as exc:
        assert f"{section}.{name}" in str(exc)
        return
    obj: Any = sc
    for part in section.split("."):
        obj = getattr(obj, part)
    got = getattr(obj, name)
    assert math.isfinite(got) and low <= got <= high  # only an in-range number is taken


# --------------------------------------------------------------------------- CSV readers

_CSV_READERS: dict[str, Callable[[Path], Any]] = {
    "towers": lambda p: read_towers(p),
    "settlements": read_settlements,
    "pops": read_pops,
    "committed": lambda p: read_committed_towers(p, plan_year=2024),
    "district_population": read_district_population,
    "village_population": read_village_population,
    "register": read_register,
    "village_mapping": read_village_mapping,
    "signal_reports": lambda p: read_signal_reports([p]),
    "measurements": read_measurements,
    "sites": read_sites,
    "cost_overrides": read_cost_overrides,
}

_HEADERS = ("lon,lat,height_m,operator", "lon,lat,population,name", "lon,lat,pop_id,kind",
            "lon,lat,on_air_year,height_m,technology", "district_code,district_name,population",
            "code,population,year", "code,name,district_code,district", "name,district,code",
            "code,status,date,source", "lon,lat,rsrp_dbm,site_id", "site_id,cost_tower_idr",
            "radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,"
            "averageSignal")
_CELL = st.one_of(st.sampled_from(["", "nan", "inf", "-inf", "1e999", "-1", "0", "116.0",
                                   "-1.7", "181", "91", "x", "2024", "4g", "\"", ";", "é"]),
                  st.text(max_size=6), st.floats().map(str))


@st.composite
def _csv_text(draw: st.DrawFn) -> str:
    header = draw(st.sampled_from(_HEADERS))
    width = header.count(",") + 1
    rows = draw(st.lists(st.lists(_CELL, min_size=width - 1, max_size=width + 1),
                         max_size=5))
    return "\n".join([header, *(",".join(r) for r in rows)]) + "\n"


def _refused_or_read(reader: Callable[[Path], Any], path: Path) -> None:
    try:
        reader(path)
    except TowerplanError as exc:
        assert str(exc).strip()


@FAST
@given(st.sampled_from(sorted(_CSV_READERS)),
       st.one_of(st.binary(max_size=300), _csv_text().map(str.encode)))
def test_random_csv_files_never_crash_a_reader(tmp_path_factory: pytest.TempPathFactory,
                                               which: str, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("csv") / f"{which}.csv"
    path.write_bytes(raw)
    _refused_or_read(_CSV_READERS[which], path)


@FAST
@given(st.lists(st.tuples(st.floats(95.0, 141.0), st.floats(-11.0, 6.0),
                          st.floats(1.0, 300.0)), min_size=1, max_size=8))
def test_valid_towers_are_read_as_given(tmp_path_factory: pytest.TempPathFactory,
                                        rows: list[tuple[float, float, float]]) -> None:
    path = tmp_path_factory.mktemp("csv") / "towers.csv"
    path.write_text("lon,lat,height_m\n" + "".join(f"{lon!r},{lat!r},{h!r}\n"
                                                   for lon, lat, h in rows), encoding="utf-8")
    towers, _ = read_towers(path)
    assert len(towers) == len(rows)
    np.testing.assert_allclose(towers["height_m"].to_numpy(float), [h for *_, h in rows])
    np.testing.assert_allclose(towers.geometry.x.to_numpy(), [r[0] for r in rows])


# --------------------------------------------------------------------------- vector files

_GEOMETRY = st.one_of(
    st.none(),
    st.fixed_dictionaries({"type": st.sampled_from(["Polygon", "Point", "LineString", "Nope"]),
                           "coordinates": _JSONISH}),
    _JSONISH)


@st.composite
def _geojson(draw: st.DrawFn) -> bytes:
    features = draw(st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(["Feature", "feature", "Bogus"]),
        "properties": st.one_of(st.none(), st.dictionaries(
            st.sampled_from(["name", "code", "district", "population"]), _JSONISH,
            max_size=4)),
        "geometry": _GEOMETRY}), max_size=4))
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


# GDAL reports an unknown geometry type from inside a C error handler (a warning Python cannot
# raise); the reader still gives a TowerplanError or a layer.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@FAST
@given(st.one_of(st.binary(max_size=300), _geojson()))
def test_random_geojson_never_crashes_the_village_reader(
        tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("geojson") / "villages.geojson"
    path.write_bytes(raw)
    _refused_or_read(read_villages, path)


@FAST
@given(st.lists(st.tuples(st.integers(0, 8), st.integers(0, 8)), min_size=1, max_size=6,
                unique=True))
def test_valid_village_squares_are_read(tmp_path_factory: pytest.TempPathFactory,
                                        cells: list[tuple[int, int]]) -> None:
    size = 0.01
    features = [{"type": "Feature",
                 "properties": {"name": f"Desa {k}", "code": f"64.01.01.{2001 + k}",
                                "district": "Kec", "population": 100 * (k + 1)},
                 "geometry": {"type": "Polygon", "coordinates": [[
                     [116 + i * size, -1.7 + j * size], [116 + (i + 1) * size, -1.7 + j * size],
                     [116 + (i + 1) * size, -1.7 + (j + 1) * size],
                     [116 + i * size, -1.7 + (j + 1) * size], [116 + i * size, -1.7 + j * size]]]}}
                for k, (i, j) in enumerate(cells)]
    path = tmp_path_factory.mktemp("geojson") / "villages.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    villages, report = read_villages(path)
    assert len(villages) == len(cells) and report.problems == ()
    assert sorted(villages["population"]) == [100.0 * (k + 1) for k in range(len(cells))]


# --------------------------------------------------------------------------- DEM files

UTM50S = CRS.from_epsg(32750)
_ORIGIN = (385_020.0, 9_815_040.0)
_SHAPE = (12, 15)
_BOUNDS = (_ORIGIN[0], _ORIGIN[1] - _SHAPE[0] * 90.0, _ORIGIN[0] + _SHAPE[1] * 90.0,
           _ORIGIN[1])


def _read_dem(path: Path, fill: bool) -> None:
    try:
        grid, report = read_dem([path], dst_crs=UTM50S, bounds=_BOUNDS, resolution_m=90.0,
                                fill_nodata=fill)
    except TowerplanError as exc:
        assert str(exc).strip()
        return
    values = grid.array[~np.isnan(grid.array)]
    assert values.size and ((values >= -500) & (values <= 9000)).all()  # only elevations
    assert report.problems == ()


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_as_a_dem_are_refused(tmp_path_factory: pytest.TempPathFactory,
                                           raw: bytes) -> None:
    path = tmp_path_factory.mktemp("dem") / "dem.tif"
    path.write_bytes(raw)
    with pytest.raises(TowerplanError):
        read_dem([path], dst_crs=UTM50S, bounds=_BOUNDS, resolution_m=90.0)


@FAST
@given(st.lists(st.one_of(st.floats(-500, 9000, width=32), st.just(math.nan),
                          st.sampled_from([math.inf, -math.inf, -32768.0, -9999.0, 32767.0,
                                           1e9, -1e30, 10000.0, -501.0])),
                min_size=_SHAPE[0] * _SHAPE[1], max_size=_SHAPE[0] * _SHAPE[1]),
       st.sampled_from([None, math.nan, -9999.0]), st.booleans())
def test_random_dem_content_is_used_only_when_it_is_elevation(
        tmp_path_factory: pytest.TempPathFactory, cells: list[float], nodata: float | None,
        fill: bool) -> None:
    path = tmp_path_factory.mktemp("dem") / "dem.tif"
    array = np.asarray(cells, dtype="float32").reshape(_SHAPE)
    with rasterio.open(path, "w", driver="GTiff", height=_SHAPE[0], width=_SHAPE[1], count=1,
                       dtype="float32", crs=UTM50S.to_wkt(), nodata=nodata,
                       transform=Affine(90.0, 0, _ORIGIN[0], 0, -90.0, _ORIGIN[1])) as dst:
        dst.write(array, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NodataRepairWarning)
        _read_dem(path, fill)


# --------------------------------------------------------------------------- found by the above

def test_weight_of_the_wrong_type_is_reported_not_a_crash() -> None:
    with pytest.raises(ScenarioError, match=r"'selection.weights.people' must be a number, "
                                            r"got None"):
        Scenario.from_dict({"selection": {"weights": {"people": None}}})


def test_programme_list_of_the_wrong_shape_is_reported_not_a_crash() -> None:
    with pytest.raises(ScenarioError, match=r"'programme.budgets' must be a list of strings or "
                                            r"of tables.*unknown key\(s\) 'ap'"):
        Scenario.from_dict({"programme": {"budgets": {"ap": []}}})


def test_csv_line_with_more_fields_than_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settlements.csv"
    path.write_text("lon,lat\n,,\n", encoding="utf-8")
    with pytest.raises(TowerplanError, match="some lines have more fields than the header "
                                             r"\(lon, lat\)"):
        read_settlements(path)
