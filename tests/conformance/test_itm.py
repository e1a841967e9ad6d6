"""Longley-Rice ITM point-to-point: NTIA ITM v1.4 test vectors and model invariants."""

from __future__ import annotations

import csv
import dataclasses
import doctest
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from towerplan.errors import ModelDomainError
from towerplan.radio import itm
from towerplan.radio.itm import ItmResult, itm_p2p, itm_p2p_db

DATA = Path(__file__).parent / "data"
TOLERANCE_DB = 0.15


def _cases() -> list[tuple[dict[str, Any], np.ndarray, float, float]]:
    """(keyword arguments, heights, step, expected loss) per NTIA case."""
    with (DATA / "ntia_itm_p2p.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    lines = (DATA / "ntia_itm_pfls.csv").read_text(encoding="utf-8").splitlines()
    cases = []
    for row, line in zip(rows, lines, strict=True):
        pfl = np.array([float(v) for v in line.split(",")])
        kwargs = {
            "h_tx_m": float(row["h_tx__meter"]),
            "h_rx_m": float(row["h_rx__meter"]),
            "freq_mhz": float(row["f__mhz"]),
            "epsilon": float(row["epsilon"]),
            "sigma": float(row["sigma"]),
            "n0": float(row["N_0"]),
            "climate": int(row["climate"]),
            "polarization": int(row["pol"]),
            "mdvar": int(row["mdvar"]),
            "time_pct": float(row["time"]),
            "location_pct": float(row["location"]),
            "situation_pct": float(row["situation"]),
        }
        cases.append((kwargs, pfl[2:], float(pfl[1]), float(row["A__db"])))
    return cases


CASES = _cases()
MEDIAN = {"time_pct": 50.0, "location_pct": 50.0, "situation_pct": 50.0}


def _flat(d_km: float, **kwargs: Any) -> ItmResult:
    n = round(d_km * 10)
    return itm_p2p(np.full(n + 1, 50.0), d_km * 1e3 / n, 10.0, 2.0, 900.0, **kwargs)


def test_reference_data_is_complete() -> None:
    assert len(CASES) == 5
    lines = (DATA / "ntia_itm_pfls.csv").read_text(encoding="utf-8").splitlines()
    for line in lines:
        values = line.split(",")
        assert len(values) == int(values[0]) + 3  # n_intervals, step, n_intervals + 1 heights
    assert [c[3] for c in CASES] == [207.65, 157.10, 178.53, 183.26, 218.91]


@pytest.mark.parametrize("case", range(5), ids=[f"ntia_p2p_{i + 1}" for i in range(5)])
def test_ntia_itm_v14_point_to_point(case: int, record_property: Any) -> None:
    kwargs, heights, step, expected = CASES[case]
    res = itm_p2p(heights, step, **kwargs)
    record_property("itm_loss_db", round(res.loss_db, 3))
    record_property("ntia_loss_db", expected)
    print(f"case {case + 1}: computed {res.loss_db:.3f} dB, NTIA {expected:.2f} dB, {res.mode}")
    assert res.loss_db == pytest.approx(expected, abs=TOLERANCE_DB)


def test_reference_modes_cover_all_three_regimes() -> None:
    modes = [itm_p2p(h, s, **kw).mode for kw, h, s, _ in CASES]
    assert modes == ["troposcatter", "line_of_sight", "line_of_sight", "diffraction", "diffraction"]


@pytest.mark.parametrize("case", range(5))
def test_median_loss_is_finite_and_at_least_free_space(case: int) -> None:
    kwargs, heights, step, _ = CASES[case]
    res = itm_p2p(heights, step, **{**kwargs, **MEDIAN})
    assert np.isfinite(res.loss_db)
    assert res.A_ref_db >= 0.0
    assert res.loss_db >= res.A_fs_db
    assert res.A_fs_db == pytest.approx(32.45 + 20 * np.log10(kwargs["freq_mhz"] * res.d_km))


@pytest.mark.parametrize("case", range(5))
def test_higher_time_percentage_gives_larger_loss(case: int) -> None:
    kwargs, heights, step, _ = CASES[case]
    losses = [itm_p2p_db(heights, step, **{**kwargs, "time_pct": t}) for t in (1, 10, 50, 90, 99)]
    assert np.all(np.diff(losses) > 0)


def test_input_array_is_not_modified() -> None:
    kwargs, heights, step, _ = CASES[1]
    before = heights.copy()
    frozen = heights.copy()
    frozen.setflags(write=False)
    assert itm_p2p_db(frozen, step, **kwargs) == itm_p2p_db(heights, step, **kwargs)
    assert np.array_equal(heights, before)


def test_accepts_lists_and_names_as_well_as_codes() -> None:
    kwargs, heights, step, _ = CASES[3]
    by_code = itm_p2p_db(heights, step, **kwargs)
    named = {**kwargs, "climate": "continental_subtropical", "polarization": "horizontal"}
    assert itm_p2p_db(list(heights), step, **named) == by_code
    assert itm.CLIMATES["continental_subtropical"] == kwargs["climate"] == 2


def test_db_shortcut_and_frozen_result() -> None:
    kwargs, heights, step, _ = CASES[0]
    res = itm_p2p(heights, step, **kwargs)
    assert itm_p2p_db(heights, step, **kwargs) == res.loss_db
    assert res.d_km == pytest.approx(3679 * 99.97805 / 1e3)
    assert len(res.theta_hzn) == len(res.d_hzn_m) == len(res.h_e_m) == 2
    assert res.delta_h_m > 0 and 250 < res.n_s <= 301
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.loss_db = 0.0  # type: ignore[misc]


def test_flat_earth_line_of_sight_then_diffraction_beyond_radio_horizon() -> None:
    near = _flat(5.0)
    assert near.mode == "line_of_sight"
    assert near.delta_h_m == 0.0
    horizon_km = sum(near.d_hzn_m) / 1e3  # smooth-earth radio horizon of 10 m + 2 m antennas
    assert 15.0 < horizon_km < 22.0
    assert _flat(0.9 * horizon_km).mode == "line_of_sight"
    assert _flat(1.1 * horizon_km).mode == "diffraction"
    assert _flat(300.0).mode == "troposcatter"


def test_flat_earth_loss_grows_with_distance() -> None:
    losses = [_flat(d).loss_db for d in (1, 2, 5, 10, 20, 40, 80, 160, 300)]
    assert np.all(np.diff(losses) > 0)


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ({"freq_mhz": 25_000.0}, "freq_mhz = 25000"),
        ({"freq_mhz": float("nan")}, "freq_mhz = nan"),
        ({"h_tx_m": 0.2}, "h_tx_m = 0.2"),
        ({"h_rx_m": 3500.0}, "h_rx_m = 3500"),
        ({"epsilon": 0.5}, "epsilon = 0.5"),
        ({"sigma": 0.0}, "sigma = 0"),
        ({"n0": 200.0}, "n0 = 200"),
        ({"time_pct": 100.0}, "time_pct = 100"),
        ({"location_pct": 0.0}, "location_pct = 0"),
        ({"situation_pct": -5.0}, "situation_pct = -5"),
        ({"climate": 8}, "climate = 8"),
        ({"climate": "tropical"}, "climate = 'tropical'"),
        ({"polarization": "circular"}, "polarization = 'circular'"),
        ({"mdvar": 5}, "mdvar = 5"),
        ({"step_m": 0.0}, "step_m = 0"),
        ({"heights_m": [100.0]}, "heights_m"),
        ({"heights_m": [100.0, float("nan"), 90.0]}, "non-finite"),
    ],
)
def test_invalid_input_raises_model_domain_error_naming_the_value(
    override: dict[str, Any], named: str
) -> None:
    args: dict[str, Any] = {
        "heights_m": np.zeros(51), "step_m": 100.0, "h_tx_m": 30.0, "h_rx_m": 2.0,
        "freq_mhz": 900.0,
    }
    args.update(override)
    with pytest.raises(ModelDomainError, match="ITM") as info:
        itm_p2p(**args)
    assert named in str(info.value)
    assert isinstance(info.value, ValueError)


def test_all_invalid_inputs_are_reported_together() -> None:
    with pytest.raises(ModelDomainError) as info:
        itm_p2p(np.zeros(51), 100.0, 0.1, 2.0, 5.0, sigma=-1.0, time_pct=150.0, mdvar=7)
    message = str(info.value)
    for named in ("h_tx_m = 0.1", "freq_mhz = 5", "sigma = -1", "time_pct = 150", "mdvar = 7"):
        assert named in message


def test_derived_refractivity_out_of_range_is_an_error() -> None:
    # A path 5 km above sea level lowers N_s = N0 exp(-h/9460) below 150 N-units.
    with pytest.raises(ModelDomainError, match="surface refractivity"):
        itm_p2p(np.full(51, 5000.0), 100.0, 30.0, 2.0, 900.0, n0=250.0)


def test_soft_limits_are_result_warnings_not_exceptions() -> None:
    res = itm_p2p(np.zeros(6), 100.0, 30.0, 0.7, 30.0, time_pct=99.95)
    text = " | ".join(res.warnings)
    assert "h_rx_m = 0.7" in text
    assert "freq_mhz = 30" in text
    assert "0.500 km" in text
    assert "3.1 standard deviations" in text
    assert np.isfinite(res.loss_db)
    assert _flat(5.0).warnings == ()


def test_mode_of_variability_flags_change_the_spread_only() -> None:
    kwargs, heights, step, _ = CASES[4]
    for mdvar in (0, 1, 2, 3, 10, 13, 20, 23, 30, 33):
        low, mid, high = (
            itm_p2p_db(heights, step, **{**kwargs, "mdvar": mdvar, "time_pct": t})
            for t in (10, 50, 90)
        )
        assert low <= mid <= high


def test_seven_hundred_point_profile_is_fast() -> None:
    rng = np.random.default_rng(7)
    heights = 150.0 + np.cumsum(rng.normal(0.0, 4.0, 700))
    itm_p2p_db(heights, 30.0, 42.0, 1.5, 900.0)
    start = time.perf_counter()
    for _ in range(20):
        itm_p2p_db(heights, 30.0, 42.0, 1.5, 900.0)
    assert (time.perf_counter() - start) / 20 < 0.050


def test_module_doctests_pass() -> None:
    result = doctest.testmod(itm, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3
    assert result.failed == 0
