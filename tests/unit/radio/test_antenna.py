"""3GPP sector antenna patterns: oracle values, best sector, symmetry."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.radio.antenna import (
    OMNI,
    AntennaPattern,
    bearing_deg,
    horizontal_pattern_db,
    parse_azimuths,
    vertical_pattern_db,
)

TRI = AntennaPattern((0.0, 120.0, 240.0))


def test_three_65_degree_sectors_lose_10_22_db_midway() -> None:
    # 60 deg off both neighbouring boresights: -min(12 (60/65)^2, 25) = -10.225 dB
    expected = -12.0 * (60.0 / 65.0) ** 2
    for b in (60.0, 180.0, 300.0):
        assert float(TRI.gain_db(b)) == pytest.approx(expected, abs=1e-9)
    assert float(TRI.gain_db(60.0)) == pytest.approx(-10.0, abs=0.5)


def test_boresight_has_no_loss_and_half_beamwidth_three_db() -> None:
    assert float(TRI.gain_db(120.0)) == 0.0
    assert float(horizontal_pattern_db(32.5, 65.0, 25.0)) == pytest.approx(-3.0)
    assert float(vertical_pattern_db(5.0, 0.0, 10.0, 20.0)) == pytest.approx(-3.0)


def test_back_lobe_and_side_lobe_floors() -> None:
    single = AntennaPattern((90.0,))
    assert float(single.gain_db(270.0)) == -25.0
    assert float(vertical_pattern_db(60.0, 0.0, 10.0, 20.0)) == -20.0
    # combined: -min(-(A_H + A_V), A_m) never below -A_m
    assert float(single.gain_db(270.0, 60.0)) == -25.0


def test_tilt_moves_the_vertical_peak() -> None:
    tilted = AntennaPattern((0.0,), tilt_deg=6.0)
    assert float(tilted.gain_db(0.0, 6.0)) == 0.0
    assert float(tilted.gain_db(0.0, 0.0)) == pytest.approx(-12.0 * 0.36)


def test_best_sector_is_symmetric_and_periodic() -> None:
    b = np.linspace(0.0, 360.0, 721)
    g = TRI.gain_db(b)
    assert np.allclose(g, TRI.gain_db(b + 360.0))
    assert np.allclose(g, TRI.gain_db(-b))  # sectors at 0/120/240 mirror about north
    assert np.all(g <= 0.0)
    assert g.min() == pytest.approx(-12.0 * (60.0 / 65.0) ** 2)


def test_omni_has_no_pattern() -> None:
    assert OMNI.omni
    assert np.all(OMNI.gain_db(np.arange(0.0, 360.0, 10.0), 30.0) == 0.0)


def test_bearings_are_clockwise_from_north() -> None:
    assert list(bearing_deg([0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, 0.0])) == \
        [0.0, 90.0, 180.0, 270.0]


def test_azimuth_text() -> None:
    assert parse_azimuths("0;120;240") == (0.0, 120.0, 240.0)
    assert parse_azimuths(" 10 / 130 ") == (10.0, 130.0)
    with pytest.raises(ValueError):
        parse_azimuths("north")
