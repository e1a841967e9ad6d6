"""Model chains: parsing and the sum of their terms."""

from __future__ import annotations

import numpy as np
import pytest

from towerplan.errors import ModelDomainError
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
    assert terms.diffraction_db == pytest.approx(diffraction_db(z, 50.0, 42.0, 1.5, 900.0))
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
