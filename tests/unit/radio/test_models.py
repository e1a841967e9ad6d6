"""Path-loss kernels: validity ranges, invariants and array behaviour."""

from __future__ import annotations

import dataclasses
import doctest
import math
import sys
import warnings

import numpy as np
import pytest
from affine import Affine

from towerplan.coverage.raster import MODEL_DESCRIPTIONS, LinkParams, path_loss_db
from towerplan.coverage.sweep import sweep_site
from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio import (
    eirp_dbm,
    fspl_db,
    hata_db,
    mapl_db,
    models,
    rma_db,
    rsrp_dbm,
    subcarriers,
)
from towerplan.radio.chain import BASE_MODELS, chain_loss, parse_chain
from towerplan.radio.models import BASE_MODEL_REGISTRY, BaseModel, base_model


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


# ---------------------------------------------------------------------------------- registry


def test_registry_holds_every_base_model_with_its_rules() -> None:
    assert list(BASE_MODEL_REGISTRY) == ["fspl", "hata-urban", "hata-suburban", "hata-open",
                                         "rma", "itm"]
    assert all(name == m.name for name, m in BASE_MODEL_REGISTRY.items())
    fspl, hata, rma, itm = (base_model(n) for n in ("fspl", "hata-open", "rma", "itm"))
    assert (fspl.distance, fspl.min_distance_m, fspl.los_nlos) == ("slant", 1.0, False)
    assert (hata.distance, hata.min_distance_m, hata.max_distance_m) == ("horizontal", 1e3, 2e4)
    assert hata.freq_range_mhz == (150.0, 2000.0)
    assert (rma.distance, rma.min_distance_m, rma.los_nlos) == ("horizontal", 10.0, True)
    assert (rma.max_distance_m, rma.max_distance_nlos_m) == (10_000.0, 5_000.0)
    assert itm.loss_db is None and itm.profile_loss is not None and itm.distance == "profile"
    # empirical models include smooth-earth losses: diffraction is charged in excess of them
    assert {n for n, m in BASE_MODEL_REGISTRY.items() if m.smooth_earth} == {
        "hata-urban", "hata-suburban", "hata-open", "rma"}
    assert dict(BASE_MODELS) == {n: m.description for n, m in BASE_MODEL_REGISTRY.items()}
    assert list(MODEL_DESCRIPTIONS) == ["fspl", "hata-urban", "hata-suburban", "hata-open",
                                        "rma"]
    assert "extrapolated beyond 20 km" in MODEL_DESCRIPTIONS["hata-suburban"]


def test_closed_forms_equal_the_kernels() -> None:
    d_m = np.array([1000.0, 3000.0, 20_000.0])
    for env in ("urban", "suburban", "open"):
        got = base_model(f"hata-{env}").evaluate_db(d_m, -40.0, 900.0, 42.0, 1.5)
        assert np.allclose(got, hata_db(d_m / 1000.0, 900.0, 42.0, 1.5, env))
    los = np.array([True, False, True])
    got = base_model("rma").evaluate_db(d_m / 4, -40.0, 900.0, 42.0, 1.5, los)
    assert np.allclose(got, rma_db(d_m / 4, 0.9, 42.0, 1.5, los))
    got = base_model("fspl").evaluate_db(d_m, -40.0, 900.0, 42.0, 2.0)
    assert np.allclose(got, fspl_db(np.hypot(d_m, 40.0) / 1000.0, 900.0))


def test_distance_rule_and_clamp() -> None:
    fspl, hata, rma = base_model("fspl"), base_model("hata-urban"), base_model("rma")
    assert float(fspl.rule_distance_m(300.0, -400.0)) == pytest.approx(500.0)
    assert float(hata.rule_distance_m(300.0, -400.0)) == 300.0
    assert float(fspl.evaluate_db(0.0, 0.0, 900.0, 1.5, 1.5)) == pytest.approx(
        fspl_db(0.001, 900.0))
    assert float(hata.evaluate_db(200.0, 0.0, 900.0, 42.0, 1.5)) == pytest.approx(
        hata_db(1.0, 900.0, 42.0, 1.5, "urban"))
    assert float(rma.evaluate_db(2.0, 0.0, 900.0, 42.0, 1.5)) == pytest.approx(
        rma_db(10.0, 0.9, 42.0, 1.5, True))
    assert hata.distance_notes(500.0, -40.0) == (
        "Hata evaluated at 1 km (its validity starts at 1 km)",)
    assert hata.distance_notes(5000.0, -40.0) == ()
    assert "beyond 5 km" in rma.distance_notes(6000.0, -40.0, los=False)[0]
    assert rma.distance_notes(6000.0, -40.0, los=True) == ()


def test_frequency_outside_the_range_raises_heights_only_warn() -> None:
    hata = base_model("hata-suburban")
    with pytest.raises(ModelDomainError) as err:
        hata.check(2600.0, -1.0, 1.5)
    assert "freq_mhz = 2600 is outside 150-2000 MHz" in str(err.value)
    assert "h_tx_m = -1 must be finite and >= 0" in str(err.value)  # every error at once
    soft = hata.check(900.0, 20.0, 12.0)
    assert len(soft) == 2 and "h_tx_m = 20" in soft[0] and "h_rx_m = 12" in soft[1]
    assert base_model("fspl").check(90_000.0, 0.0, 0.0) == ()
    with pytest.raises(ModelDomainError, match="freq_mhz = 300"):
        base_model("rma").check(300.0, 42.0, 1.5)


def test_paths_refuse_frequency_and_warn_once_for_heights() -> None:
    with pytest.raises(ModelDomainError, match="freq_mhz = 2600"):
        path_loss_db(1000.0, model="hata-open", freq_mhz=2600.0, h_tx_m=42.0, h_rx_m=1.5)
    with pytest.raises(ModelDomainError, match="freq_mhz = 2600"):
        chain_loss(parse_chain("hata-open"), np.zeros(11), 100.0, 42.0, 1.5, 2600.0)
    with pytest.warns(ModelValidityWarning) as caught:
        path_loss_db(np.array([500.0, 30_000.0]), model="hata-open", freq_mhz=900.0,
                     h_tx_m=20.0, h_rx_m=1.5)
    assert len(caught) == 1 and "h_tx_m = 20" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # distance is clamped or extrapolated silently
        path_loss_db(np.array([500.0, 30_000.0]), model="hata-open", freq_mhz=900.0,
                     h_tx_m=42.0, h_rx_m=1.5)
        terms = chain_loss(parse_chain("hata-open"), np.zeros(301), 100.0, 20.0, 1.5, 900.0)
    assert any("h_tx_m = 20" in n for n in terms.notes)
    assert any("extrapolated beyond 20 km" in n for n in terms.notes)


def test_entries_must_be_consistent() -> None:
    def loss(d: np.ndarray, f: float, h_tx: float, h_rx: float, los: np.ndarray) -> np.ndarray:
        return np.asarray(d, dtype=float)

    with pytest.raises(ModelDomainError, match="exactly one of"):
        BaseModel("x", "X", "x", "-", (1.0, 2.0))
    with pytest.raises(ModelDomainError, match="profile"):
        BaseModel("x", "X", "x", "-", (1.0, 2.0), distance="profile", loss_db=loss)
    with pytest.raises(ModelDomainError, match="min_distance_m > 0"):
        BaseModel("x", "X", "x", "-", (1.0, 2.0), distance="slant", min_distance_m=0.0,
                  loss_db=loss)
    with pytest.raises(ModelDomainError, match="no smooth-earth reference"):
        BaseModel("x", "X", "x", "-", (1.0, 2.0), distance="profile", smooth_earth=True,
                  profile_loss=lambda z, s, a, b, f: (0.0, ()))
    with pytest.raises(ModelDomainError, match="did you mean 'hata-open'"):
        base_model("hata-opn")


def test_models_doctests_pass() -> None:
    result = doctest.testmod(models, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 0


# A log-distance model, the example of docs/models.md: one entry, no other module changed.
def _log_distance_db(distance_m: np.ndarray, freq_mhz: float, h_tx_m: float, h_rx_m: float,
                     los: np.ndarray) -> np.ndarray:
    fspl_1m_db = 20.0 * np.log10(4.0 * np.pi * freq_mhz * 1e6 / 299_792_458.0)
    exponent = np.where(los, 2.0, 3.5)
    return np.asarray(fspl_1m_db + 10.0 * exponent * np.log10(distance_m))


LOG_DISTANCE = BaseModel(
    name="log-distance",
    label="log-distance",
    description="log-distance model, n = 2.0 LOS / 3.5 NLOS",
    reference="close-in free-space reference distance model, S. Sun et al., IEEE Trans. "
              "Veh. Technol. 65(5), 2016, eq. (1)",
    freq_range_mhz=(700.0, 2600.0),
    h_tx_range_m=(10.0, 100.0),
    h_rx_range_m=(1.0, 10.0),
    distance="slant",
    min_distance_m=1.0,
    max_distance_m=10_000.0,
    los_nlos=True,
    loss_db=_log_distance_db,
)


@pytest.mark.parametrize("distance", ["slant", "horizontal"])
def test_a_model_added_to_the_registry_works_in_every_path(
        monkeypatch: pytest.MonkeyPatch, distance: str) -> None:
    entry = dataclasses.replace(LOG_DISTANCE, distance=distance)
    monkeypatch.setitem(BASE_MODEL_REGISTRY, entry.name, entry)
    chain = parse_chain("log-distance")
    assert chain.describe() == entry.description and chain.uses_terrain
    assert "log-distance" in BASE_MODELS and "log-distance" in MODEL_DESCRIPTIONS
    cell, h_tx, h_rx, n = 100.0, 30.0, 1.5, 81
    rise = h_rx - h_tx

    def want(d_m: float, los: bool) -> float:
        d = math.hypot(d_m, rise) if distance == "slant" else d_m
        return float(_log_distance_db(np.array(max(d, 1.0)), 900.0, h_tx, h_rx,
                                      np.array(los)))

    # chain evaluator over a flat profile, and behind a ridge
    for steps in (1, 10, 40):
        terms = chain_loss(chain, np.full(steps + 1, 20.0), cell, h_tx, h_rx, 900.0)
        assert terms.base_db == pytest.approx(want(steps * cell, True), abs=1e-9)
    ridge = np.full(41, 20.0)
    ridge[20] = 200.0
    blocked = chain_loss(chain, ridge, cell, h_tx, h_rx, 900.0)
    assert blocked.base_db == pytest.approx(want(4000.0, False), abs=1e-9)
    assert "log-distance NLOS formula" in blocked.notes
    # distance-only coverage
    d = np.array([0.0, 100.0, 4000.0])
    assert np.allclose(path_loss_db(d, model="log-distance", freq_mhz=900.0, h_tx_m=h_tx,
                                    h_rx_m=h_rx), [want(x, True) for x in d])
    assert float(path_loss_db(4000.0, model="log-distance", freq_mhz=900.0, h_tx_m=h_tx,
                              h_rx_m=h_rx, los=False)) == pytest.approx(want(4000.0, False))
    # radial sweep over a flat DEM with a wall 3 km east of the site
    dem = np.full((n, n), 20.0, np.float32)
    dem[:, n // 2 + 30] = 200.0
    t = Affine(cell, 0.0, 0.0, 0.0, -cell, n * cell)
    x0 = y0 = (n // 2 + 0.5) * cell
    link = LinkParams("log-distance", 900.0, h_rx, 61.0, 10.0, 0.0, -105.0, 3900.0)
    cov = sweep_site(dem, t, x0, y0, h_tx, link=link, chain=chain)
    assert cov is not None
    row, col = n // 2 - cov.rows.start, n // 2 - cov.cols.start
    for i in (0, 1, 10, 29, 35):
        los = i < 30
        assert bool(cov.los[row, col + i]) == los
        assert cov.loss_db[row, col + i] == pytest.approx(want(i * cell, los), abs=1e-3)
    with pytest.raises(ModelDomainError, match="freq_mhz = 3500"):
        path_loss_db(100.0, model="log-distance", freq_mhz=3500.0, h_tx_m=h_tx, h_rx_m=h_rx)
