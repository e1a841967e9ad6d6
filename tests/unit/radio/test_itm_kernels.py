"""The numba port of ITM against :func:`towerplan.radio.itm.itm_p2p` and its intermediates."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.errors import ModelDomainError
from towerplan.radio.itm import ItmSettings, itm_p2p
from towerplan.radio.itm_kernels import (
    MODE_NAMES,
    itm_constants,
    itm_loss_k,
    itm_profile_k,
    profile_geometry_k,
    reference_attenuation_k,
)

TEMPERATE = ItmSettings(climate="continental_temperate")


def _profiles() -> list[tuple[str, np.ndarray, float, float, float, float]]:
    """(name, heights, step, h_tx, h_rx, freq): flat, a hill, rough, long rough."""
    rng = np.random.default_rng(7)
    x = np.arange(201) * 50.0
    hill = 40.0 + 180.0 * np.exp(-(((x - 6000.0) / 900.0) ** 2))
    rough = np.maximum(np.cumsum(rng.normal(0.0, 6.0, 401)) + 200.0, 0.0)
    long_rough = np.maximum(np.cumsum(rng.normal(0.0, 12.0, 801)) + 400.0, 0.0)
    return [
        ("flat", np.zeros(101), 100.0, 42.0, 1.5, 900.0),
        ("hill", hill, 50.0, 30.0, 2.0, 1800.0),
        ("rough", rough, 30.0, 42.0, 1.5, 900.0),
        ("long rough", long_rough, 90.0, 60.0, 10.0, 450.0),
    ]


@pytest.mark.parametrize("settings", [TEMPERATE, ItmSettings()], ids=["temperate", "default"])
@pytest.mark.parametrize("case", _profiles(), ids=lambda c: c[0])
def test_kernels_equal_itm_p2p_and_its_intermediate_values(
        case: tuple[str, np.ndarray, float, float, float, float], settings: ItmSettings) -> None:
    _, z, step, h_tx, h_rx, f = case
    ref = itm_p2p(z, step, h_tx, h_rx, f, **settings.p2p_kwargs())
    c = itm_constants(settings, h_tx, h_rx, f)
    path, _ = profile_geometry_k(z, step, h_tx, h_rx, c.n0, 25)
    assert path.delta_h_m == pytest.approx(ref.delta_h_m, rel=1e-12, abs=1e-9)
    assert (path.he_tx, path.he_rx) == pytest.approx(ref.h_e_m, rel=1e-12)
    assert (path.dl_tx, path.dl_rx) == pytest.approx(ref.d_hzn_m, rel=1e-12)
    assert (path.th_tx, path.th_rx) == pytest.approx(ref.theta_hzn, rel=1e-10, abs=1e-15)
    assert path.n_s == pytest.approx(ref.n_s, rel=1e-12)
    a_ref, mode = reference_attenuation_k(path, c)
    assert a_ref == pytest.approx(ref.A_ref_db, abs=1e-9)
    assert MODE_NAMES[mode] == ref.mode
    assert itm_loss_k(path, c) == pytest.approx(ref.loss_db, abs=1e-9)
    assert itm_profile_k(z, step, c) == pytest.approx(ref.loss_db, abs=1e-9)


def test_flat_ground_example() -> None:
    """10 km over flat ground, 42 m / 1.5 m, 900 MHz, continental temperate: 124.2 dB."""
    c = itm_constants(TEMPERATE, 42.0, 1.5, 900.0)
    path, los = profile_geometry_k(np.zeros(101), 100.0, 42.0, 1.5, c.n0, 25)
    assert los and MODE_NAMES[reference_attenuation_k(path, c)[1]] == "line_of_sight"
    assert round(itm_profile_k(np.zeros(101), 100.0, c), 1) == 124.2


def test_constants_report_every_problem() -> None:
    with pytest.raises(ModelDomainError, match="n0 = 200.*time_pct = 0"):
        itm_constants(ItmSettings(n0=200.0, time_pct=0.0), 42.0, 1.5, 900.0)
