"""Model chains: a base path-loss model plus optional terrain diffraction and clutter.

A chain is named by joining terms with ``+``, for example ``"hata-suburban+deygout+clutter"``,
``"rma+deygout"`` or ``"itm"``:

- base (exactly one): an entry of :data:`towerplan.radio.models.BASE_MODEL_REGISTRY`:
  ``fspl`` (ITU-R P.525), ``hata-urban``, ``hata-suburban``, ``hata-open``
  (Okumura-Hata / COST-231), ``rma`` (3GPP TR 38.901 rural macro), ``itm`` (Longley-Rice, a
  profile model that handles terrain itself and so takes no diffraction term);
- diffraction (at most one): ``deygout``, ``bullington``, ``epstein-peterson`` (ITU-R P.526
  multiple knife edges over the terrain profile, earth curvature with the k-factor);
- clutter (at most one): ``clutter`` (Weissberger foliage loss) or ``clutter-p833``
  (ITU-R P.833) for the vegetation around the receiver.

Total loss = base + diffraction + clutter. The base model is evaluated by the rules of its
registry entry (:class:`towerplan.radio.models.BaseModel`): at its distance (horizontal, or
slant between the antenna tips over the profile's end heights), clamped at its minimum
distance, with a frequency outside its range refused and heights outside their validated
range extrapolated; clamps and extrapolation are recorded in :attr:`LossTerms.notes`. With a
diffraction term, a model with LOS and NLOS formulas (``rma``) is evaluated with its
line-of-sight formula, since the terrain obstruction is then counted by the diffraction term;
without one, it picks LOS or NLOS from the terrain line of sight.

The diffraction charged depends on the base model. An empirical model (``hata-*``, ``rma``;
:attr:`towerplan.radio.models.BaseModel.smooth_earth`) already includes the losses of
quasi-smooth terrain, so the chain charges only the diffraction in excess of its smooth-earth
assumption, ``max(0, D(terrain) - D(smooth))``: ``D`` is the chain's diffraction method
(:func:`towerplan.radio.diffraction.diffraction_db`) and the smooth-earth reference profile is
the straight ground line from the transmitter ground to the receiver ground (same end heights
and antenna heights) under the same k-factor earth bulge. Flat or evenly sloping ground then
costs no diffraction, however far the path reaches beyond the radio horizon. Free space
(``fspl``) is charged the whole diffraction, earth bulge included.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from towerplan.errors import ModelDomainError
from towerplan.radio.clutter import clutter_loss_db
from towerplan.radio.diffraction import diffraction_db
from towerplan.radio.models import ITM_SETTINGS, base_model, base_model_descriptions
from towerplan.radio.profile import line_of_sight

__all__ = [
    "BASE_MODELS",
    "CLUTTER_MODELS",
    "DIFFRACTION_METHODS",
    "ITM_SETTINGS",
    "AUTO",
    "LossTerms",
    "ModelChain",
    "ModelChoice",
    "chain_loss",
    "choose_chain",
    "parse_chain",
]

#: The model name that lets the DEM decide between a terrain chain and a distance-only chain.
AUTO = "auto"

#: Base models and what they are, as stated on outputs: a live view of
#: :data:`towerplan.radio.models.BASE_MODEL_REGISTRY`.
BASE_MODELS: Mapping[str, str] = base_model_descriptions()
DIFFRACTION_METHODS: dict[str, str] = {
    "deygout": "Deygout multiple knife edges (ITU-R P.526)",
    "bullington": "Bullington equivalent knife edge (ITU-R P.526)",
    "epstein-peterson": "Epstein-Peterson multiple knife edges",
}
#: Clutter terms and the vegetation model each uses.
CLUTTER_MODELS: dict[str, str] = {"clutter": "weissberger", "clutter-p833": "p833"}
_CLUTTER_TEXT = {"weissberger": "Weissberger foliage loss", "p833": "ITU-R P.833 vegetation loss"}


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
        """True when the chain needs terrain.

        That is a chain with a diffraction term, a profile base model (ITM) or a base model
        with LOS and NLOS formulas (RMa).
        """
        model = base_model(self.base)
        return self.diffraction is not None or model.distance == "profile" or model.los_nlos

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
        The terms and their sum. ``diffraction_db`` is the diffraction charged: for a base
        model with a smooth-earth assumption, the excess over the smooth-earth reference
        (see the module documentation), else the whole diffraction loss.
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
    if len(bases) == 1 and diffs and base_model(bases[0]).distance == "profile":
        problems.append(f"'{bases[0]}' models terrain diffraction itself; drop the diffraction "
                        "term")
    if problems:
        msg = f"model chain {text!r}: " + "; ".join(problems)
        raise ModelDomainError(msg)
    return ModelChain(bases[0], diffs[0] if diffs else None,
                      CLUTTER_MODELS[clutters[0]] if clutters else None)


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The model chain a scenario runs, and why.

    Attributes
    ----------
    requested : str
        ``[radio] model`` as written (``"auto"`` or a chain name).
    chain : ModelChain
        The chain evaluated.
    dem_cell_m : float
        Cell of the terrain the decision saw: the larger of the DEM files' own cell and the
        working grid's cell, m (0 when unknown).
    max_cell_m : float
        ``[radio] auto_max_cell_m``: the coarsest DEM cell that still resolves terrain, m.
    reason : str
        ``"terrain"`` (auto, the DEM resolves terrain), ``"coarse_dem"`` (auto, the DEM is
        too coarse: a distance-only chain) or ``"named"`` (the scenario names the chain).
    """

    requested: str
    chain: ModelChain
    dem_cell_m: float
    max_cell_m: float
    reason: str

    @property
    def auto(self) -> bool:
        """True when the chain was chosen by ``model = "auto"``."""
        return self.reason != "named"

    def explain(self) -> str:
        """Why this chain, in one English sentence (outputs give the Indonesian too)."""
        if self.reason == "terrain":
            return (f"model = \"auto\": the DEM cell ({self.dem_cell_m:.0f} m) resolves terrain "
                    f"(<= {self.max_cell_m:g} m), so the terrain chain {self.chain.name} is used")
        if self.reason == "coarse_dem":
            return (f"model = \"auto\": the DEM cell ({self.dem_cell_m:.0f} m) is coarser than "
                    f"{self.max_cell_m:g} m and cannot resolve hills and valleys, so the "
                    f"distance-only chain {self.chain.name} is used and terrain changes nothing")
        return f"model {self.chain.name} named by the scenario"


def choose_chain(requested: str, dem_cell_m: float, *, max_cell_m: float = 100.0,
                 terrain_chain: str = "hata-suburban+deygout",
                 distance_chain: str = "hata-suburban") -> ModelChoice:
    """The chain a scenario runs: *requested*, or for ``"auto"`` by the DEM's cell.

    Parameters
    ----------
    requested : str
        ``"auto"`` or a chain name.
    dem_cell_m : float
        Coarsest cell of the terrain as loaded, m (the DEM files' own cell or the working
        grid's, whichever is larger).
    max_cell_m : float, keyword-only
        With ``"auto"``, a DEM cell up to this resolves terrain (default 100 m: a 30 m or
        90 m SRTM/Copernicus DEM does; a 1 km or coarser DEM does not).
    terrain_chain, distance_chain : str, keyword-only
        The chains ``"auto"`` picks between.

    Examples
    --------
    >>> choose_chain("auto", 90.0).chain.name
    'hata-suburban+deygout'
    >>> choose_chain("auto", 2300.0).reason
    'coarse_dem'
    >>> choose_chain("rma+deygout", 2300.0).chain.name
    'rma+deygout'
    """
    if str(requested).strip().lower() != AUTO:
        return ModelChoice(requested, parse_chain(requested), float(dem_cell_m),
                           float(max_cell_m), "named")
    fine = 0.0 < float(dem_cell_m) <= float(max_cell_m)
    chain = parse_chain(terrain_chain if fine else distance_chain)
    return ModelChoice(AUTO, chain, float(dem_cell_m), float(max_cell_m),
                       "terrain" if fine else "coarse_dem")


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

    Returns
    -------
    LossTerms
        The terms; ``diffraction_db`` is the diffraction charged (the excess over the
        smooth-earth reference for ``hata-*`` and ``rma``, see the module documentation).

    Examples
    --------
    Over flat ground an empirical base model is charged no diffraction, free space is
    charged the earth bulge beyond the radio horizon (42 m and 1.5 m antennas, 30 km):

    >>> flat = np.zeros(301)
    >>> chain_loss(parse_chain("hata-suburban+deygout"), flat, 100.0, 42.0, 1.5,
    ...            900.0).diffraction_db
    0.0
    >>> round(chain_loss(parse_chain("fspl+deygout"), flat, 100.0, 42.0, 1.5,
    ...                  900.0).diffraction_db, 2)
    17.77
    """
    z = np.asarray(heights_m, dtype=float)
    distance_m = step_m * (len(z) - 1)
    notes: list[str] = []
    base = _base_loss(chain, z, step_m, distance_m, h_tx_m, h_rx_m, freq_mhz, k_factor, notes)
    diff = 0.0
    if chain.diffraction is not None:
        diff = _diffraction_charged(chain, z, step_m, h_tx_m, h_rx_m, freq_mhz, k_factor)
    clut = 0.0
    if chain.clutter is not None and vegetation_m > 0:
        clut = float(clutter_loss_db(vegetation_m, freq_mhz, model=chain.clutter))
    return LossTerms(base, diff, clut, base + diff + clut, tuple(notes))


def _diffraction_charged(chain: ModelChain, z: np.ndarray, step_m: float, h_tx_m: float,
                         h_rx_m: float, freq_mhz: float, k_factor: float) -> float:
    """Diffraction the chain charges over the profile ``z``, dB.

    The whole loss of the chain's method, or for a base model with a smooth-earth
    assumption its excess ``max(0, D(terrain) - D(smooth))`` over the straight ground line
    between the end heights (the earth bulge is added to both by
    :func:`towerplan.radio.diffraction.diffraction_db`).
    """
    method = str(chain.diffraction)
    terrain = float(diffraction_db(z, step_m, h_tx_m, h_rx_m, freq_mhz, method=method,
                                   k_factor=k_factor))
    if not base_model(chain.base).smooth_earth or terrain == 0.0:
        return terrain
    smooth = float(diffraction_db(np.linspace(z[0], z[-1], z.size), step_m, h_tx_m, h_rx_m,
                                  freq_mhz, method=method, k_factor=k_factor))
    return max(0.0, terrain - smooth)


def _base_loss(chain: ModelChain, z: np.ndarray, step_m: float, distance_m: float,
               h_tx_m: float, h_rx_m: float, freq_mhz: float, k_factor: float,
               notes: list[str]) -> float:
    """Base-model loss over the profile by the rules of its registry entry, dB."""
    model = base_model(chain.base)
    notes.extend(model.check(freq_mhz, h_tx_m, h_rx_m))
    if model.profile_loss is not None:
        loss, extra = model.profile_loss(z, step_m, h_tx_m, h_rx_m, freq_mhz)
        notes.extend(extra)
        return loss
    los = True
    if model.los_nlos:
        los = chain.diffraction is not None or line_of_sight(
            z, step_m, h_tx_m, h_rx_m, freq_mhz, k_factor).los
        notes.append(f"{model.label} {'LOS' if los else 'NLOS'} formula")
    rise_m = float((z[-1] + h_rx_m) - (z[0] + h_tx_m))
    notes.extend(model.distance_notes(distance_m, rise_m, los))
    return float(model.evaluate_db(distance_m, rise_m, freq_mhz, h_tx_m, h_rx_m, los))
