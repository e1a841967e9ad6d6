"""Every number of a scenario is finite and within the physical range docs/scenario.md states;
the check belongs to the scenario type (file, Python, ``dataclasses.replace``)."""

from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path
from typing import Any

import pytest

from towerplan.errors import ScenarioError
from towerplan.programme_scenario import (
    EXAMPLE_TOWER_TYPES,
    Channel,
    ChannelRule,
    ProgrammeBudget,
    ProgrammeBuilt,
)
from towerplan.scenario import CoverageMapFile, Exclusion, Scenario, SignalReportFile

#: A valid instance of every group that has no valid all-default instance, or sits in a list.
BASES: dict[str, Any] = {
    "tower_types": EXAMPLE_TOWER_TYPES[0],
    "programme.budgets": ProgrammeBudget(2022, "apbd", 1.0),
    "programme.built": ProgrammeBuilt(2022, "menara-42m", "apbd", village="Desa 1"),
    "channels": Channel("apbd"),
    "channels.rule": ChannelRule(),
    "inputs.coverage_maps": CoverageMapFile("map.tif"),
    "inputs.signal_reports": SignalReportFile("reports.csv"),
    "candidates.exclusions": Exclusion("forest.gpkg"),
}


def _groups() -> dict[str, Any]:
    """A valid instance of every scenario group, by section."""
    found: dict[str, Any] = dict(BASES)

    def walk(obj: Any) -> None:
        found.setdefault(obj._section, obj)
        hints = typing.get_type_hints(type(obj))
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                walk(value)
            hint = hints[f.name]
            if typing.get_origin(hint) is tuple:
                item = typing.get_args(hint)[0]
                if dataclasses.is_dataclass(item) and item._section in found:
                    walk(found[item._section])

    walk(Scenario.default())
    return found


GROUPS = _groups()


def _number_fields() -> list[tuple[str, str, bool]]:
    """(section, field, is a list) of every float field of every group."""
    out = []
    for section, obj in GROUPS.items():
        hints = typing.get_type_hints(type(obj))
        for f in dataclasses.fields(obj):
            hint = hints[f.name]
            if hint is float or set(typing.get_args(hint)) == {float, type(None)}:
                out.append((section, f.name, False))
            elif typing.get_origin(hint) is tuple and typing.get_args(hint)[0] is float:
                out.append((section, f.name, True))
    return out


FLOATS = _number_fields()
RANGES = [(section, name, bounds) for section, obj in GROUPS.items()
          for name, bounds in type(obj)._ranges.items()]


#: Fields whose range starts above 0 (the lowest value is refused as not positive).
POSITIVE = frozenset({"radio.antenna.front_to_back_db", "radio.antenna.side_lobe_db",
                      "backhaul.max_hop_km", "backhaul.rain_rate_mm_h", "budget.total_idr",
                      "costs.tower_idr", "selection.time_limit_s"})


def _with(section: str, name: str, value: Any) -> Any:
    return dataclasses.replace(GROUPS[section], **{name: value})


def test_every_group_and_number_is_covered() -> None:
    assert len(GROUPS) >= 25
    assert len(FLOATS) >= 95
    assert len(RANGES) >= 80


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("section", "name", "is_list"), FLOATS,
                         ids=[f"{s}.{n}" for s, n, _ in FLOATS])
def test_no_number_may_be_nan_or_infinite(section: str, name: str, is_list: bool,
                                          bad: float) -> None:
    obj = GROUPS[section]
    if bad == math.inf and name in type(obj)._infinite_ok:
        assert getattr(_with(section, name, bad), name) == math.inf  # "no limit"
        return
    if section == "programme.built" and name in ("lon", "lat"):
        obj = dataclasses.replace(obj, village="", lon=116.0, lat=-1.7)
    with pytest.raises(ScenarioError) as info:
        dataclasses.replace(obj, **{name: (bad,) if is_list else bad})
    message = str(info.value)
    assert name in message, message
    assert message.count(f"'{section}.{name}'") <= 1  # each field named once


@pytest.mark.parametrize(("section", "name", "bounds"), RANGES,
                         ids=[f"{s}.{n}" for s, n, _ in RANGES])
def test_ranges_refuse_outside_and_take_their_ends(section: str, name: str,
                                                   bounds: tuple[float, float]) -> None:
    low, high = bounds
    kind = type(getattr(GROUPS[section], name))
    as_value = (lambda v: (float(v),)) if kind is tuple else kind
    for end in (low, high):
        if end == 0 and f"{section}.{name}" in POSITIVE:  # its own rule: above 0
            with pytest.raises(ScenarioError, match=rf"'{section}\.{name}' must be positive"):
                _with(section, name, as_value(end))
            continue
        assert getattr(_with(section, name, as_value(end)), name) == as_value(end)
    step = max(abs(high - low) * 1e-3, 1.0 if kind is int else 1e-6)
    for outside in (low - step, high + step):
        if not math.isfinite(outside):
            continue
        with pytest.raises(ScenarioError, match=rf"'{section}\.{name}'"):
            _with(section, name, as_value(outside))


def test_range_message_states_range_and_unit() -> None:
    with pytest.raises(ScenarioError, match=r"^'radio.tx_power_dbm' must be within 0\.\.70 dBm, "
                                            r"got 100$"):
        _with("radio", "tx_power_dbm", 100.0)
    with pytest.raises(ScenarioError, match=r"'costs.tower_idr' must be within 0\.\.1e\+13 "
                                            r"rupiah, got 1e\+20"):
        _with("costs", "tower_idr", 1e20)


def test_replace_on_the_scenario_is_checked() -> None:
    sc = Scenario.default()
    with pytest.raises(ScenarioError, match="'radio.threshold_rsrp_dbm' must be a finite"):
        dataclasses.replace(sc, radio=dataclasses.replace(sc.radio, threshold_rsrp_dbm=math.nan))


def test_file_lists_every_bad_number_at_once(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[radio]\nthreshold_rsrp_dbm = nan\ntx_power_dbm = inf\nfreq_mhz = 1e9\n"
                    "[terrain]\nmax_fill_distance_m = -1\n[coverage]\ndemand_cell_m = -inf\n"
                    "[costs.vsat]\nyears = 1000\n[demo]\nseed = -1\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        Scenario.from_toml(path)
    message = str(info.value)
    assert "7 problems: " in message
    for words in ("'radio.threshold_rsrp_dbm' must be a finite number, got nan",
                  "'radio.tx_power_dbm' must be a finite number, got inf",
                  "'radio.freq_mhz' must be within 30..10,000 MHz, got 1e+09",
                  "'terrain.max_fill_distance_m' must be within 0..100,000 m, got -1",
                  "'coverage.demand_cell_m' must be positive, got -inf",
                  "'costs.vsat.years' must be within 0..100, got 1000",
                  "'demo.seed' must be within 0..4,294,967,295, got -1"):
        assert words in message


def test_programme_budget_may_be_unlimited_but_not_nan() -> None:
    assert ProgrammeBudget(2022, "operator", math.inf).idr == math.inf
    with pytest.raises(ScenarioError, match="idr must be zero or positive, got nan$"):
        ProgrammeBudget(2022, "operator", math.nan)
