"""Model chains: parsing and the sum of their terms."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio import fspl_db, hata_db
from towerplan.radio.chain import chain_loss, parse_chain
from towerplan.radio.clutter import clutter_loss_db
from towerplan.radio.diffraction import diffraction_db


@pytest.mark.parametrize(("text", "name"), [
    ("hata-suburban", "hata-suburban"),
    ("HATA-SUBURBAN + Deygout + clutter", "hata-suburban+deygout+clutter"),
    ("rma+deygout", "rma+deygout"),
    ("itm", "itm"),
    ("fspl+bullington+clutter-p833", "fspl+bullington+clutter-p833"),
])
def test_parse_canonical_names(text: str, name: str) -> None:
    assert parse_chain(text).name == name


@pytest.mark.parametrize(("text", "match"), [
    ("hata-suburbn", "did you mean 'hata-suburban'"),
    ("deygout", "exactly one base model"),
    ("hata-open+fspl", "exactly one base model"),
    ("itm+deygout", "drop the diffraction term"),
    ("fspl+deygout+bullington", "at most one diffraction"),
])
def test_parse_errors(text: str, match: str) -> None:
    with pytest.raises(ModelDomainError, match=match):
        parse_chain(text)


def _ridge_profile() -> np.ndarray:
    z = np.zeros(201)
    z[80:90] = 120.0
    return z


def test_terms_add_up_and_match_the_kernels() -> None:
    z = _ridge_profile()
    chain = parse_chain("hata-suburban+deygout+clutter")
    terms = chain_loss(chain, z, 50.0, 42.0, 1.5, 900.0, vegetation_m=100.0)
    assert terms.base_db == pytest.approx(hata_db(10.0, 900.0, 42.0, 1.5, "suburban"))
    # Hata is charged the excess over its smooth earth: with equal end heights, flat ground.
    assert terms.diffraction_db == pytest.approx(
        diffraction_db(z, 50.0, 42.0, 1.5, 900.0) - diffraction_db(np.zeros(201), 50.0, 42.0,
                                                                     1.5, 900.0))
    assert terms.clutter_db == pytest.approx(clutter_loss_db(100.0, 900.0))
    assert terms.total_db == pytest.approx(terms.base_db + terms.diffraction_db
                                           + terms.clutter_db)
    assert terms.diffraction_db > 0


def test_fspl_chain_uses_the_slant_distance_and_notes_hata_limits() -> None:
    z = np.zeros(11)
    terms = chain_loss(parse_chain("fspl"), z, 100.0, 30.0, 30.0, 900.0)
    assert terms.total_db == pytest.approx(fspl_db(1.0, 900.0))
    short = chain_loss(parse_chain("hata-open"), np.zeros(6), 100.0, 42.0, 1.5, 900.0)
    assert any("1 km" in n for n in short.notes)


def test_rma_switches_to_nlos_behind_a_ridge() -> None:
    clear = chain_loss(parse_chain("rma"), np.zeros(201), 50.0, 35.0, 1.5, 900.0)
    blocked = chain_loss(parse_chain("rma"), _ridge_profile(), 50.0, 35.0, 1.5, 900.0)
    assert "RMa LOS formula" in clear.notes and "RMa NLOS formula" in blocked.notes
    assert blocked.base_db > clear.base_db


# ------------------------------------------------------------------ excess over smooth earth

H_TX, H_RX, FREQ = 42.0, 1.5, 900.0
DISTANCES_KM = (1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 25.0, 30.0)


def _plane(distance_km: float, step_m: float, slope: float) -> np.ndarray:
    """Ground 100 m above the datum at the transmitter, rising ``slope`` m per m."""
    n = round(distance_km * 1000.0 / step_m) + 1
    return 100.0 + slope * step_m * np.arange(n)


def _hata_suburban(d_km: float) -> float:
    """Closed-form Okumura-Hata suburban, extrapolated beyond 20 km without the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        return float(hata_db(d_km, FREQ, H_TX, H_RX, "suburban", strict=False))


@pytest.mark.parametrize("slope", [0.0, 0.004, -0.003])
@pytest.mark.parametrize("step_m", [30.0, 100.0])
def test_hata_deygout_over_smooth_ground_is_closed_form_hata(slope: float,
                                                             step_m: float) -> None:
    chain = parse_chain("hata-suburban+deygout")
    for d_km in DISTANCES_KM:
        terms = chain_loss(chain, _plane(d_km, step_m, slope), step_m, H_TX, H_RX, FREQ)
        hata = _hata_suburban(d_km)
        assert terms.diffraction_db == pytest.approx(0.0, abs=0.05), d_km
        assert terms.total_db == pytest.approx(hata, abs=0.5), d_km


@pytest.mark.parametrize("method", ["deygout", "bullington", "epstein-peterson"])
@pytest.mark.parametrize("base", ["hata-urban", "hata-open", "rma"])
def test_every_empirical_base_and_method_charge_no_diffraction_on_flat_ground(
        base: str, method: str) -> None:
    terms = chain_loss(parse_chain(f"{base}+{method}"), _plane(9.0, 90.0, 0.0), 90.0, H_TX,
                       H_RX, FREQ)
    assert terms.diffraction_db == pytest.approx(0.0, abs=1e-9)
    raw = diffraction_db(_plane(9.0, 90.0, 0.0), 90.0, H_TX, H_RX, FREQ, method=method)
    assert raw > 1.0  # the earth bulge and the ground near the handset are in the way


def test_fspl_keeps_the_whole_diffraction_of_the_earth_bulge() -> None:
    chain = parse_chain("fspl+deygout")
    beyond = []
    for d_km in DISTANCES_KM:
        z = _plane(d_km, 100.0, 0.0)
        terms = chain_loss(chain, z, 100.0, H_TX, H_RX, FREQ)
        assert terms.diffraction_db == pytest.approx(diffraction_db(z, 100.0, H_TX, H_RX, FREQ))
        beyond.append(terms.diffraction_db)
    # about 31.6 km radio horizon: the bulge costs more and more towards it
    assert beyond[-1] > 15.0 and np.all(np.diff(beyond[3:]) > 0)


def _village_behind_a_ridge(d_km: float, step_m: float = 50.0) -> np.ndarray:
    """Flat 20 m plain; a ridge 150 m high, 500 m wide, 3 km from the site; the village at
    ``d_km``."""
    x = np.arange(round(d_km * 1000.0 / step_m) + 1) * step_m
    return 20.0 + 150.0 * np.exp(-((x - 3000.0) ** 2) / (2 * 250.0**2))


@pytest.mark.parametrize("base", ["hata-suburban", "rma"])
def test_a_ridge_costs_its_excess_diffraction(base: str) -> None:
    chain = parse_chain(f"{base}+deygout")
    for d_km in (4.0, 5.0, 7.0):
        z = _village_behind_a_ridge(d_km)
        terms = chain_loss(chain, z, 50.0, H_TX, H_RX, FREQ)
        raw = diffraction_db(z, 50.0, H_TX, H_RX, FREQ)
        smooth = diffraction_db(np.full(z.size, 20.0), 50.0, H_TX, H_RX, FREQ)
        assert terms.diffraction_db == pytest.approx(raw - smooth)
        assert terms.diffraction_db > 6.0, d_km
    front = chain_loss(chain, _village_behind_a_ridge(2.0), 50.0, H_TX, H_RX, FREQ)
    assert front.diffraction_db == 0.0  # in front of the ridge


def test_excess_is_never_negative() -> None:
    # A valley: the terrain lies below its smooth-earth line and clears the path more.
    z = np.full(201, 120.0)
    z[20:181] = 20.0
    terms = chain_loss(parse_chain("hata-suburban+deygout"), z, 50.0, H_TX, H_RX, FREQ)
    assert terms.diffraction_db == 0.0
