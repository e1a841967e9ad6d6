"""Foliage loss models, the WorldCover clutter table and vegetation depth."""

from __future__ import annotations

import dataclasses
import doctest
import math

import numpy as np
import pytest

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio import clutter
from towerplan.radio.clutter import (
    WORLDCOVER_CLUTTER,
    ClutterClass,
    clutter_loss_db,
    vegetation_depth_m,
)
from towerplan.radio.diffraction import knife_edge_db

MODELS = ("weissberger", "p833")


# ------------------------------------------------------------------------------ Weissberger


@pytest.mark.parametrize(("depth_m", "expected"), [
    (10.0, 0.45 * 0.9**0.284 * 10.0),
    (14.0, 0.45 * 0.9**0.284 * 14.0),
    (100.0, 1.33 * 0.9**0.284 * 100.0**0.588),
    (400.0, 1.33 * 0.9**0.284 * 400.0**0.588),
])
def test_weissberger_closed_form_at_900_mhz(depth_m: float, expected: float) -> None:
    assert clutter_loss_db(depth_m, 900.0) == pytest.approx(expected, rel=1e-12)


def test_weissberger_is_capped_at_its_400_m_value() -> None:
    at_400 = clutter_loss_db(400.0, 900.0)
    assert at_400 == pytest.approx(43.74, abs=0.01)
    assert clutter_loss_db(2000.0, 900.0) == at_400


def test_weissberger_holds_the_14_m_value_across_the_branch_change() -> None:
    loss = np.asarray(clutter_loss_db(np.array([14.0, 14.05, 14.2]), 900.0))
    f_term = 0.9**0.284
    assert loss[1] == pytest.approx(0.45 * f_term * 14.0)
    assert loss[2] == pytest.approx(1.33 * f_term * 14.2**0.588)


# ----------------------------------------------------------------------------------- P.833


def test_p833_at_a_table_row_uses_its_gamma_and_a_m() -> None:
    d = np.array([5.0, 50.0, 200.0])
    expected = 26.5 * (1.0 - np.exp(-d * 0.17 / 26.5))  # P.833 Table 1, 949 MHz
    np.testing.assert_allclose(clutter_loss_db(d, 949.0, model="p833"), expected, rtol=1e-12)


def test_p833_starts_at_gamma_d_and_saturates_at_a_m() -> None:
    small = clutter_loss_db(0.1, 949.0, model="p833")
    assert small == pytest.approx(0.1 * 0.17, rel=1e-3)
    deep = clutter_loss_db(5000.0, 949.0, model="p833")
    assert deep == pytest.approx(26.5, abs=1e-6)
    assert deep <= 26.5


def test_p833_out_of_table_strict_or_held_at_the_end_row() -> None:
    with pytest.raises(ModelDomainError, match="105.9-2117.5"):
        clutter_loss_db(50.0, 2600.0, model="p833")
    with pytest.warns(ModelValidityWarning, match="2600"):
        loss = clutter_loss_db(50.0, 2600.0, model="p833", strict=False)
    assert loss == pytest.approx(34.1 * (1 - math.exp(-50.0 * 0.34 / 34.1)))


# ------------------------------------------------------------------------------ both models


@pytest.mark.parametrize("model", MODELS)
def test_monotonic_in_depth_and_zero_at_zero(model: str) -> None:
    d = np.linspace(0.0, 1000.0, 20_001)
    loss = np.asarray(clutter_loss_db(d, 900.0, model=model))
    assert loss[0] == 0.0
    assert np.all(np.diff(loss) >= 0)
    assert loss[-1] > 20.0


@pytest.mark.parametrize("model", MODELS)
def test_monotonic_in_frequency(model: str) -> None:
    f = np.geomspace(300.0, 2100.0, 200)
    for depth in (5.0, 30.0, 150.0, 600.0):
        loss = np.asarray(clutter_loss_db(depth, f, model=model))
        assert np.all(np.diff(loss) >= 0)
        assert loss[-1] > loss[0]


@pytest.mark.parametrize("model", MODELS)
def test_max_loss_caps_and_arrays_broadcast(model: str) -> None:
    d = np.array([[10.0], [100.0], [300.0]])
    f = np.array([450.0, 900.0, 1800.0])
    d0 = d.copy()
    loss = clutter_loss_db(d, f, model=model, max_loss_db=15.0)
    assert isinstance(loss, np.ndarray)
    assert loss.shape == (3, 3)
    assert loss.max() <= 15.0
    assert np.array_equal(d, d0)


def test_invalid_inputs_are_reported_together() -> None:
    with pytest.raises(ModelDomainError) as info:
        clutter_loss_db(-1.0, 0.0, model="itu", max_loss_db=-3.0)
    text = str(info.value)
    for part in ("model", "path_in_vegetation_m", "freq_mhz", "max_loss_db"):
        assert part in text
    with pytest.raises(ModelDomainError, match="Weissberger"):
        clutter_loss_db(10.0, 150.0)
    with pytest.warns(ModelValidityWarning):
        clutter_loss_db(10.0, 150.0, strict=False)


# ---------------------------------------------------------------------------- clutter table


def test_worldcover_table_covers_every_class() -> None:
    assert sorted(WORLDCOVER_CLUTTER) == [10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100]
    for code in (10, 95):
        cls = WORLDCOVER_CLUTTER[code]
        assert cls.vegetation
        assert 15.0 <= cls.height_m <= 20.0
        assert cls.extra_loss_db == 0.0
    assert WORLDCOVER_CLUTTER[50].extra_loss_db > 0
    assert not WORLDCOVER_CLUTTER[50].vegetation
    for code in (30, 40, 60, 70, 80, 90, 100):
        cls = WORLDCOVER_CLUTTER[code]
        assert (cls.vegetation, cls.height_m, cls.extra_loss_db) == (False, 0.0, 0.0)


def test_worldcover_table_and_classes_are_read_only() -> None:
    with pytest.raises(TypeError):
        WORLDCOVER_CLUTTER[10] = ClutterClass("x", False, 0.0, 0.0)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        WORLDCOVER_CLUTTER[10].height_m = 30.0  # type: ignore[misc]
    taller = dataclasses.replace(WORLDCOVER_CLUTTER[10], height_m=30.0)
    assert taller.height_m == 30.0
    assert WORLDCOVER_CLUTTER[10].height_m == 20.0


def test_built_up_extra_loss_is_p2108_terminal_correction_at_900_mhz() -> None:
    # ITU-R P.2108-1 section 3.1, "suburban": R = 10 m, w_s = 27 m, h = 1.5 m, f = 0.9 GHz.
    h_dif = 10.0 - 1.5
    theta_deg = math.degrees(math.atan(h_dif / 27.0))
    nu = 0.342 * math.sqrt(0.9) * math.sqrt(h_dif * theta_deg)
    a_h = float(knife_edge_db(nu)) - 6.03
    assert WORLDCOVER_CLUTTER[50].extra_loss_db == pytest.approx(a_h, abs=0.05)


# -------------------------------------------------------------------------- vegetation depth


def test_vegetation_depth_counts_the_run_at_the_receiver() -> None:
    assert vegetation_depth_m([30, 30, 10, 10, 10], 10.0) == 25.0
    assert vegetation_depth_m([10, 10, 10, 30], 10.0) == 0.0
    assert vegetation_depth_m([10, 10, 10, 10], 10.0) == 30.0
    assert vegetation_depth_m([10, 95, 30, 95, 10], 10.0) == 15.0  # the gap ends the run
    assert vegetation_depth_m([0, 10, 10], 10.0) == 15.0  # unknown codes count as open
    assert vegetation_depth_m([10], 10.0) == 0.0


def test_vegetation_depth_is_capped() -> None:
    assert vegetation_depth_m(np.full(200, 10), 30.0) == 400.0
    assert vegetation_depth_m(np.full(200, 10), 30.0, max_depth_m=1000.0) == 1000.0


def test_vegetation_depth_rows_with_padding_and_per_row_steps() -> None:
    codes = np.array([
        [30, 10, 10, 10, 0],
        [10, 10, 30, 10, 10],
        [10, 10, 10, 10, 10],
    ])
    codes0 = codes.copy()
    depth = vegetation_depth_m(codes, [10.0, 20.0, 30.0], n_points=[4, 5, 3])
    np.testing.assert_allclose(depth, [25.0, 30.0, 60.0])
    assert np.array_equal(codes, codes0)


def test_vegetation_depth_with_a_custom_table() -> None:
    table = dict(WORLDCOVER_CLUTTER)
    table[20] = dataclasses.replace(table[20], vegetation=True)
    assert vegetation_depth_m([30, 20, 10], 10.0, classes=table) == 15.0
    assert vegetation_depth_m([30, 20, 10], 10.0) == 5.0


def test_vegetation_depth_validation() -> None:
    with pytest.raises(ModelDomainError) as info:
        vegetation_depth_m([10, 10], -1.0, n_points=5, max_depth_m=-1.0)
    text = str(info.value)
    for part in ("n_points", "step_m", "max_depth_m"):
        assert part in text
    with pytest.raises(ModelDomainError, match="shape"):
        vegetation_depth_m(np.zeros((2, 2, 2), dtype=int), 10.0)


def test_docstring_examples() -> None:
    result = doctest.testmod(clutter, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
