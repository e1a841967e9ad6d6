"""Model chains: a base path-loss model plus optional terrain diffraction and clutter.

A chain is named by joining terms with ``+``, for example ``"hata-suburban+deygout+clutter"``,
``"rma+deygout"`` or ``"itm"``:

- base (exactly one): ``fspl`` (ITU-R P.525), ``hata-urban``, ``hata-suburban``, ``hata-open``
  (Okumura-Hata / COST-231), ``rma`` (3GPP TR 38.901 rural macro), ``itm`` (Longley-Rice, which
  models terrain itself and so takes no diffraction term);
- diffraction (at most one): ``deygout``, ``bullington``, ``epstein-peterson`` (ITU-R P.526
  multiple knife edges over the terrain profile, earth curvature with the k-factor);
- clutter (at most one): ``clutter`` (Weissberger foliage loss) or ``clutter-p833``
  (ITU-R P.833) for the vegetation around the receiver.

Total loss = base + diffraction + clutter. With a diffraction term, ``rma`` is evaluated with its
line-of-sight formula, since the terrain obstruction is then counted by the diffraction term;
without one, ``rma`` picks LOS or NLOS from the terrain line of sight.
"""

from __future__ import annotations

import difflib
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from towerplan.errors import ModelDomainError, ModelValidityWarning
from towerplan.radio.clutter import clutter_loss_db
from towerplan.radio.diffraction import diffraction_db
from towerplan.radio.models import fspl_db, hata_db, rma_db
from towerplan.radio.profile import line_of_sight

__all__ = [
    "BASE_MODELS",
    "CLUTTER_MODELS",
    "DIFFRACTION_METHODS",
    "ITM_SETTINGS",
    "LossTerms",
    "ModelChain",
    "chain_loss",
    "parse_chain",
]

#: Base models and what they are, as stated on outputs.
BASE_MODELS: dict[str, str] = {
    "fspl": "free space (ITU-R P.525)",
    "hata-urban": "Okumura-Hata urban, medium city",
    "hata-suburban": "Okumura-Hata suburban",
    "hata-open": "Okumura-Hata open area",
    "rma": "3GPP TR 38.901 rural macro (RMa), no shadowing",
    "itm": "Longley-Rice ITM v1.4 point-to-point (NTIA)",
}
DIFFRACTION_METHODS: dict[str, str] = {
    "deygout": "Deygout multiple knife edges (ITU-R P.526)",
    "bullington": "Bullington equivalent knife edge (ITU-R P.526)",
    "epstein-peterson": "Epstein-Peterson multiple knife edges",
}
#: Clutter terms and the vegetation model each uses.
CLUTTER_MODELS: dict[str, str] = {"clutter": "weissberger", "clutter-p833": "p833"}
_CLUTTER_TEXT = {"weissberger": "Weissberger foliage loss", "p833": "ITU-R P.833 vegetation loss"}

_HATA_ENV = {"hata-urban": "urban", "hata-suburban": "suburban", "hata-open": "open"}

#: ITM settings of the ``itm`` chain: equatorial climate and surface refractivity for
#: Indonesia, average ground, vertical polarisation, median time/location/situation.
ITM_SETTINGS: dict[str, float | str | int] = {
    "epsilon": 15.0, "sigma": 0.005, "n0": 360.0, "climate": "equatorial",
    "polarization": "vertical", "mdvar": 12, "time_pct": 50.0, "location_pct": 50.0,
    "situation_pct": 50.0,
}


@dataclass(frozen=True, slots=True)
class ModelChain:
    """A parsed model chain.

    Attributes
    ----------
    base : str
        Base model (a key of :data:`BASE_MODELS`).
    diffraction : str or None
        Diffraction method (a key of :data:`DIFFRACTION_METHODS`), or None.
    clutter : str or None
        Vegetation model (``"weissberger"`` or ``"p833"``), or None.
    """

    base: str
    diffraction: str | None = None
    clutter: str | None = None

    @property
    def name(self) -> str:
        """Canonical chain name, e.g. ``"hata-suburban+deygout+clutter"``."""
        terms = [self.base]
        if self.diffraction:
            terms.append(self.diffraction)
        if self.clutter:
            terms.append("clutter" if self.clutter == "weissberger" else "clutter-p833")
        return "+".join(terms)

    @property
    def uses_terrain(self) -> bool:
        """True when the chain needs terrain profiles (diffraction, ITM or RMa LOS/NLOS)."""
        return self.diffraction is not None or self.base in ("itm", "rma")

    def describe(self) -> str:
        """Human-readable statement of the chain, for outputs."""
        parts = [BASE_MODELS[self.base]]
        if self.diffraction:
            parts.append(DIFFRACTION_METHODS[self.diffraction])
        if self.clutter:
            parts.append(_CLUTTER_TEXT[self.clutter])
        return " + ".join(parts)


@dataclass(frozen=True, slots=True)
class LossTerms:
    """Loss of one path split into the chain's terms, dB.

    Attributes
    ----------
    base_db, diffraction_db, clutter_db, total_db : float
        The terms and their sum.
    notes : tuple of str
        Assumptions applied on this path (distance clamped, model extrapolated, ...).
    """

    base_db: float
    diffraction_db: float
    clutter_db: float
    total_db: float
    notes: tuple[str, ...] = field(default=())


def parse_chain(text: str) -> ModelChain:
    """Parse a chain name such as ``"hata-suburban+deygout+clutter"``.

    Raises
    ------
    ModelDomainError
        Naming the unknown term (with the nearest valid one) or the invalid combination.

    Examples
    --------
    >>> parse_chain("hata-suburban+deygout+clutter").name
    'hata-suburban+deygout+clutter'
    >>> parse_chain("itm").uses_terrain
    True
    """
    terms = [t.strip().lower() for t in str(text).split("+") if t.strip()]
    known = [*BASE_MODELS, *DIFFRACTION_METHODS, *CLUTTER_MODELS]
    bases = [t for t in terms if t in BASE_MODELS]
    diffs = [t for t in terms if t in DIFFRACTION_METHODS]
    clutters = [t for t in terms if t in CLUTTER_MODELS]
    unknown = [t for t in terms if t not in known]
    problems = []
    for t in unknown:
        close = difflib.get_close_matches(t, known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(f"unknown model term '{t}'{hint}")
    if len(bases) != 1:
        problems.append(f"a chain needs exactly one base model of {', '.join(BASE_MODELS)}")
    if len(diffs) > 1:
        problems.append("at most one diffraction method")
    if len(clutters) > 1:
        problems.append("at most one clutter term")
    if bases == ["itm"] and diffs:
        problems.append("'itm' models terrain diffraction itself; drop the diffraction term")
    if problems:
        msg = f"model chain {text!r}: " + "; ".join(problems)
        raise ModelDomainError(msg)
    return ModelChain(bases[0], diffs[0] if diffs else None,
                      CLUTTER_MODELS[clutters[0]] if clutters else None)


def chain_loss(chain: ModelChain, heights_m: np.ndarray, step_m: float, h_tx_m: float,
               h_rx_m: float, freq_mhz: float, *, k_factor: float = 4.0 / 3.0,
               vegetation_m: float = 0.0) -> LossTerms:
    """Loss of a chain over one terrain profile.

    Parameters
    ----------
    chain : ModelChain
        The chain.
    heights_m : numpy.ndarray
        Terrain heights from transmitter to receiver at equal spacing, m.
    step_m : float
        Spacing of the heights, m.
    h_tx_m, h_rx_m : float
        Antenna heights above ground, m.
    freq_mhz : float
        Frequency, MHz.
    k_factor : float, keyword-only
        Effective earth radius factor (default 4/3).
    vegetation_m : float, keyword-only
        Path length inside vegetation at the receiver, m (used by a clutter term).
    """
    z = np.asarray(heights_m, dtype=float)
    distance_m = step_m * (len(z) - 1)
    notes: list[str] = []
    base = _base_loss(chain, z, step_m, distance_m, h_tx_m, h_rx_m, freq_mhz, k_factor, notes)
    diff = 0.0
    if chain.diffraction is not None:
        diff = float(diffraction_db(z, step_m, h_tx_m, h_rx_m, freq_mhz,
                                    method=chain.diffraction, k_factor=k_factor))
    clut = 0.0
    if chain.clutter is not None and vegetation_m > 0:
        clut = float(clutter_loss_db(vegetation_m, freq_mhz, model=chain.clutter))
    return LossTerms(base, diff, clut, base + diff + clut, tuple(notes))


def _base_loss(chain: ModelChain, z: np.ndarray, step_m: float, distance_m: float,
               h_tx_m: float, h_rx_m: float, freq_mhz: float, k_factor: float,
               notes: list[str]) -> float:
    d_km = distance_m / 1000.0
    if chain.base == "fspl":
        slant_km = math.hypot(distance_m, (z[-1] + h_rx_m) - (z[0] + h_tx_m)) / 1000.0
        return float(fspl_db(slant_km, freq_mhz))
    if chain.base in _HATA_ENV:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelValidityWarning)
            loss = float(hata_db(max(d_km, 1.0), freq_mhz, h_tx_m, h_rx_m,
                                 _HATA_ENV[chain.base],  # type: ignore[arg-type]
                                 strict=False))
        if d_km < 1.0:
            notes.append("Hata evaluated at 1 km (its validity starts at 1 km)")
        notes.extend(str(w.message) for w in caught)
        return loss
    if chain.base == "rma":
        los = True if chain.diffraction else line_of_sight(
            z, step_m, h_tx_m, h_rx_m, freq_mhz, k_factor).los
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ModelValidityWarning)
            loss = float(rma_db(max(distance_m, 10.0), freq_mhz / 1000.0, h_tx_m, h_rx_m, los,
                                strict=False))
        notes.append(f"RMa {'LOS' if los else 'NLOS'} formula")
        notes.extend(str(w.message) for w in caught)
        return loss
    from towerplan.radio.itm import itm_p2p

    res = itm_p2p(z, step_m, h_tx_m, h_rx_m, freq_mhz, **ITM_SETTINGS)  # type: ignore[arg-type]
    notes.append(f"ITM mode: {res.mode}")
    notes.extend(res.warnings)
    return float(res.loss_db)
