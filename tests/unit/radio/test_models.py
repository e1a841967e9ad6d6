"""Path-loss kernels: validity ranges, invariants and array behaviour."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio import eirp_dbm, fspl_db, hata_db, mapl_db, rsrp_dbm, subcarriers


def test_fspl_grows_6_db_per_doubling() -> None:
    d = np.array([1.0, 2.0, 4.0])
    loss = fspl_db(d, 900.0)
    assert np.allclose(np.diff(loss), 20 * np.log10(2))


def test_fspl_rejects_non_positive_distance() -> None:
    with pytest.raises(ModelDomainError):
        fspl_db(0.0, 900.0)


def test_hata_monotonic_and_input_not_modified() -> None:
    d = np.linspace(1.0, 20.0, 50)
    d0 = d.copy()
    loss = hata_db(d, 900.0, 42.0, 1.5, "suburban")
    assert np.all(np.diff(loss) > 0)
    assert np.array_equal(d, d0)


def test_hata_environment_ordering() -> None:
    urban = hata_db(5.0, 900.0, 42.0, 1.5, "urban")
    suburban = hata_db(5.0, 900.0, 42.0, 1.5, "suburban")
    open_ = hata_db(5.0, 900.0, 42.0, 1.5, "open")
    assert urban > suburban > open_


def test_hata_large_city_uses_minus_4_97() -> None:
    # Large city above 300 MHz: a(hm) = 3.2 (log10(11.75 hm))^2 - 4.97.
    hm = 1.5
    a_large = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
    a_medium = (1.1 * np.log10(900) - 0.7) * hm - (1.56 * np.log10(900) - 0.8)
    diff = hata_db(5.0, 900.0, 42.0, hm, "urban", "large") - hata_db(5.0, 900.0, 42.0, hm)
    assert diff == pytest.approx(a_medium - a_large, abs=1e-9)


def test_cost231_metropolitan_adds_3_db_over_large_city_a_hm() -> None:
    hm = 1.5
    a_large = 3.2 * np.log10(11.75 * hm) ** 2 - 4.97
    a_medium = (1.1 * np.log10(1800) - 0.7) * hm - (1.56 * np.log10(1800) - 0.8)
    diff = hata_db(5.0, 1800.0, 42.0, hm, "urban", "large") - hata_db(5.0, 1800.0, 42.0, hm)
    assert diff == pytest.approx(3.0 + a_medium - a_large, abs=1e-9)


def test_hata_outside_validity_raises_or_warns() -> None:
    with pytest.raises(ModelDomainError, match="distance_km = 25"):
        hata_db(25.0, 900.0, 42.0, 1.5)
    with pytest.warns(ModelValidityWarning):
        loss = hata_db(25.0, 900.0, 42.0, 1.5, strict=False)
    assert loss > hata_db(20.0, 900.0, 42.0, 1.5)
    with pytest.raises(ModelDomainError, match="freq_mhz"):
        hata_db(5.0, 2600.0, 42.0, 1.5)


def test_link_budget_defaults_design_section_4() -> None:
    eirp = eirp_dbm(46.0, 18.0, 3.0)
    assert eirp == 61.0
    assert subcarriers(10.0) == 600
    assert subcarriers(20.0) == 1200
    mapl = mapl_db(eirp, -105.0, 10.0)
    assert mapl == pytest.approx(61.0 - 10 * np.log10(600) + 105.0)
    assert rsrp_dbm(eirp, mapl, 10.0) == pytest.approx(-105.0)


def test_radio_imports_without_geo_stack() -> None:
    import subprocess

    code = ("import sys, towerplan.radio; "
            "bad = [m for m in ('geopandas', 'rasterio', 'pyogrio') if m in sys.modules]; "
            "sys.exit(1 if bad else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
