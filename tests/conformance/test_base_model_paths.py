"""Every closed-form base model gives the same loss through each path that evaluates it.

The three paths are the chain evaluator over a terrain profile (``chain_loss``), distance-only
coverage (``path_loss_db``, the closed form over flat ground) and the radial sweep over a DEM
(``sweep_site``). The sweep is read at cells due east of a site placed on a cell centre, with
the step equal to the cell size, so the sweep's sample distance is the cell's distance exactly.
They must agree to 0.01 dB, with and without earth curvature. Every closed-form entry of the
registry is checked, so a model added there is checked here too.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from affine import Affine

from towerplan.coverage.raster import LinkParams, path_loss_db
from towerplan.coverage.sweep import SiteCoverage, sweep_site
from towerplan.errors import ModelValidityWarning
from towerplan.radio.chain import chain_loss, parse_chain
from towerplan.radio.models import BASE_MODEL_REGISTRY

CLOSED_FORM = tuple(n for n, m in BASE_MODEL_REGISTRY.items() if m.loss_db is not None)
DISTANCES_M = (200.0, 1000.0, 5000.0, 20_000.0)
CELL_M = 200.0
GROUND_M = 50.0
H_RX_M = 1.5
ROWS, COLS = 5, 110
SITE_ROW, SITE_COL = 2, 2
TOLERANCE_DB = 0.01


def test_every_shipped_closed_form_model_is_checked_here() -> None:
    assert {"fspl", "hata-urban", "hata-suburban", "hata-open", "rma"} <= set(CLOSED_FORM)


def _frequency_mhz(model: str, wanted_mhz: float) -> float:
    """``wanted_mhz`` when the model covers it, else the middle of its range (log scale)."""
    lo, hi = BASE_MODEL_REGISTRY[model].freq_range_mhz
    return wanted_mhz if lo <= wanted_mhz <= hi else math.sqrt(lo * hi)


def _sweep_east(model: str, dem: np.ndarray, h_tx_m: float, freq_mhz: float,
                k_factor: float) -> SiteCoverage:
    """Sweep of a site on the centre of cell (SITE_ROW, SITE_COL) of a 200 m grid."""
    t = Affine(CELL_M, 0.0, 0.0, 0.0, -CELL_M, ROWS * CELL_M)
    x0 = (SITE_COL + 0.5) * CELL_M
    y0 = (ROWS - SITE_ROW - 0.5) * CELL_M
    link = LinkParams(model, freq_mhz, H_RX_M, 61.0, 10.0, 0.0, -105.0,
                      max(DISTANCES_M) + CELL_M / 2)
    cov = sweep_site(dem, t, x0, y0, h_tx_m, link=link, chain=parse_chain(model),
                     k_factor=k_factor)
    assert cov is not None and cov.rows.start == 0 and cov.cols.start == 0
    return cov


def _east(cov: SiteCoverage, distance_m: float, name: str) -> float:
    """Value of the cell ``distance_m`` due east of the site."""
    value = getattr(cov, name)[SITE_ROW, SITE_COL + round(distance_m / CELL_M)]
    return float(value)


@pytest.mark.parametrize("freq_mhz", [900.0, 1800.0])
@pytest.mark.parametrize("k_factor", [math.inf, 4.0 / 3.0], ids=["flat-earth", "k=4/3"])
@pytest.mark.parametrize("h_tx_m", [30.0, 60.0])
@pytest.mark.parametrize("model", CLOSED_FORM)
def test_chain_closed_form_and_sweep_agree_on_flat_ground(model: str, h_tx_m: float,
                                                          k_factor: float,
                                                          freq_mhz: float) -> None:
    chain = parse_chain(model)
    freq_mhz = _frequency_mhz(model, freq_mhz)
    with warnings.catch_warnings():  # a model added later may not validate these heights
        warnings.simplefilter("ignore", ModelValidityWarning)
        cov = _sweep_east(model, np.full((ROWS, COLS), GROUND_M, np.float32), h_tx_m,
                          freq_mhz, k_factor)
        closed_db = path_loss_db(np.array(DISTANCES_M), model=model, freq_mhz=freq_mhz,
                                 h_tx_m=h_tx_m, h_rx_m=H_RX_M)
    for d, closed in zip(DISTANCES_M, closed_db.tolist(), strict=True):
        profile = np.full(round(d / CELL_M) + 1, GROUND_M)
        terms = chain_loss(chain, profile, CELL_M, h_tx_m, H_RX_M, freq_mhz, k_factor=k_factor)
        assert bool(_east(cov, d, "los"))  # these heights see 20 km even over a 4/3 earth
        assert terms.total_db == pytest.approx(closed, abs=TOLERANCE_DB), d
        assert _east(cov, d, "loss_db") == pytest.approx(closed, abs=TOLERANCE_DB), d
        assert _east(cov, d, "diffraction_db") == 0.0


@pytest.mark.parametrize("k_factor", [math.inf, 4.0 / 3.0], ids=["flat-earth", "k=4/3"])
def test_rma_los_and_nlos_agree_where_the_earth_bulge_hides_the_handset(
        k_factor: float) -> None:
    """A 10 m mast 20 km away: out of sight over a 4/3 earth (bulge 5.9 m at mid-path)."""
    h_tx_m, d = 10.0, 20_000.0
    cov = _sweep_east("rma", np.full((ROWS, COLS), GROUND_M, np.float32), h_tx_m, 900.0,
                      k_factor)
    terms = chain_loss(parse_chain("rma"), np.full(101, GROUND_M), CELL_M, h_tx_m, H_RX_M,
                       900.0, k_factor=k_factor)
    los = math.isinf(k_factor)
    assert bool(_east(cov, d, "los")) == los
    assert f"RMa {'LOS' if los else 'NLOS'} formula" in terms.notes
    closed = float(path_loss_db(d, model="rma", freq_mhz=900.0, h_tx_m=h_tx_m, h_rx_m=H_RX_M,
                                los=los))
    assert terms.base_db == pytest.approx(closed, abs=TOLERANCE_DB)
    assert _east(cov, d, "loss_db") == pytest.approx(closed, abs=TOLERANCE_DB)


@pytest.mark.parametrize("model", CLOSED_FORM)
def test_chain_and_sweep_agree_over_sloping_ground(model: str) -> None:
    """Ground rising 4 m per cell eastwards: the slant distance runs over the terrain."""
    cols = np.arange(COLS) - SITE_COL
    dem = np.broadcast_to(GROUND_M + 4.0 * cols, (ROWS, COLS)).astype(np.float32)
    freq_mhz = _frequency_mhz(model, 900.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelValidityWarning)
        cov = _sweep_east(model, dem, 30.0, freq_mhz, math.inf)
    for d in DISTANCES_M:
        n = round(d / CELL_M)
        profile = GROUND_M + 4.0 * np.arange(n + 1)
        terms = chain_loss(parse_chain(model), profile, CELL_M, 30.0, H_RX_M, freq_mhz,
                           k_factor=math.inf)
        assert _east(cov, d, "loss_db") == pytest.approx(terms.total_db, abs=TOLERANCE_DB), d
    if model == "fspl":
        rise = 4.0 * 100 + H_RX_M - 30.0
        want = 32.45 + 20 * math.log10(900.0) + 20 * math.log10(math.hypot(20_000.0, rise) / 1e3)
        assert _east(cov, 20_000.0, "loss_db") == pytest.approx(want, abs=TOLERANCE_DB)
