"""Point-to-point link analysis over a terrain profile (``towerplan link``).

Line of sight, first-Fresnel-zone clearance, the three diffraction methods, vegetation clutter
and the model chain's total loss, RSRP and margin of one path; with a microwave band, the
backhaul hop check of :mod:`towerplan.analysis.backhaul`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from towerplan.analysis.backhaul import HopParams, hop_margin_db
from towerplan.radio.chain import DIFFRACTION_METHODS, chain_loss, parse_chain
from towerplan.radio.diffraction import diffraction_db
from towerplan.radio.linkbudget import eirp_dbm, margin_db, rsrp_dbm
from towerplan.radio.models import fspl_db
from towerplan.radio.profile import Clearance, Profile, line_of_sight
from towerplan.radio.rain import gaseous_specific_attenuation_db_km, rain_attenuation_db
from towerplan.scenario import Backhaul, Radio

__all__ = ["LinkReport", "link_report", "microwave_hop"]


@dataclass(frozen=True, slots=True)
class LinkReport:
    """Outcome of a point-to-point analysis (all figures in the units their names give).

    ``worst_fresnel_ratio`` is the smallest clearance divided by the first-Fresnel radius
    along the path (>= 0.6 is the usual microwave criterion; < 0 means blocked).
    ``microwave`` holds the backhaul hop check when a microwave band was given
    (:func:`microwave_hop`). ``diffraction_db`` is the whole loss of each diffraction method
    over the terrain; ``model_diffraction_db`` is the term the model chain charges (over
    ``hata-*`` and ``rma`` only the excess over the smooth-earth reference, see
    :mod:`towerplan.radio.chain`).
    """

    start_lon: float
    start_lat: float
    end_lon: float
    end_lat: float
    distance_m: float
    step_m: float
    freq_mhz: float
    h_tx_m: float
    h_rx_m: float
    k_factor: float
    model: str
    model_text: str
    los: bool
    worst_fresnel_ratio: float
    worst_at_m: float
    diffraction_db: dict[str, float]
    vegetation_m: float
    base_db: float
    model_diffraction_db: float
    clutter_db: float
    total_loss_db: float
    eirp_dbm: float
    rsrp_dbm: float
    threshold_rsrp_dbm: float
    margin_db: float
    terrain: str
    notes: tuple[str, ...]
    microwave: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (non-finite numbers become None)."""
        data = asdict(self)
        data["notes"] = list(self.notes)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in data.items()}


def link_report(profile: Profile, *, radio: Radio, model: str | None = None,
                h_tx_m: float | None = None, h_rx_m: float | None = None,
                vegetation_m: float = 0.0, terrain: str = "", notes: Sequence[str] = (),
                backhaul: Backhaul | None = None) -> tuple[LinkReport, Clearance]:
    """Evaluate a point-to-point path over its terrain profile.

    Parameters
    ----------
    profile : Profile
        Terrain profile from the transmitter to the receiver
        (:func:`towerplan.radio.profile.terrain_profile`).
    radio : Radio
        Frequency, powers, threshold and k-factor (scenario ``[radio]``).
    model : str, optional
        Model chain (default ``radio.model``).
    h_tx_m, h_rx_m : float, optional
        Antenna heights above ground, m (default ``radio.tower_height_m`` and
        ``radio.rx_height_m``).
    vegetation_m : float
        Vegetation depth at the receiver, m (for a clutter term).
    terrain : str
        Statement of the terrain the profile was sampled from.
    notes : sequence of str
        Notes to carry into the report.
    backhaul : Backhaul, optional
        Check the path as a microwave backhaul hop in ``backhaul.band_ghz`` (clearance at
        ``backhaul.k_factor``, rain fade margin); the frequency is then the band's.

    Returns
    -------
    LinkReport, Clearance
        The report and the first-Fresnel clearance along the profile.
    """
    # A microwave hop is checked at its band, outside the access radio's frequency range.
    freq_mhz = radio.freq_mhz if backhaul is None else backhaul.band_ghz * 1000.0
    chain = parse_chain(model or radio.model)
    h_tx = radio.tower_height_m if h_tx_m is None else h_tx_m
    h_rx = radio.rx_height_m if h_rx_m is None else h_rx_m
    clearance = line_of_sight(profile.heights_m, profile.step_m, h_tx, h_rx, freq_mhz,
                              radio.k_factor)
    notes = list(notes)
    terms = chain_loss(chain, profile.heights_m, profile.step_m, h_tx, h_rx, freq_mhz,
                       k_factor=radio.k_factor, vegetation_m=vegetation_m)
    notes.extend(terms.notes)
    per_method = {m: round(float(diffraction_db(profile.heights_m, profile.step_m, h_tx, h_rx,
                                                freq_mhz, method=m,
                                                k_factor=radio.k_factor)), 2)
                  for m in DIFFRACTION_METHODS}
    eirp = eirp_dbm(radio.tx_power_dbm, radio.antenna_gain_dbi, radio.cable_loss_db)
    rsrp = float(rsrp_dbm(eirp, terms.total_db, radio.bandwidth_mhz, radio.rx_gain_dbi))
    worst_at = clearance.worst_index * profile.step_m if clearance.worst_index >= 0 else math.nan
    start = (float(profile.lon[0]), float(profile.lat[0]))
    end = (float(profile.lon[-1]), float(profile.lat[-1]))
    report = LinkReport(
        start_lon=start[0], start_lat=start[1], end_lon=end[0], end_lat=end[1],
        distance_m=round(profile.length_m, 1), step_m=round(profile.step_m, 2),
        freq_mhz=freq_mhz, h_tx_m=h_tx, h_rx_m=h_rx, k_factor=radio.k_factor,
        model=chain.name, model_text=chain.describe(), los=clearance.los,
        worst_fresnel_ratio=round(clearance.worst_ratio, 3), worst_at_m=round(worst_at, 1),
        diffraction_db=per_method, vegetation_m=round(vegetation_m, 1),
        base_db=round(terms.base_db, 2), model_diffraction_db=round(terms.diffraction_db, 2),
        clutter_db=round(terms.clutter_db, 2), total_loss_db=round(terms.total_db, 2),
        eirp_dbm=eirp, rsrp_dbm=round(rsrp, 2), threshold_rsrp_dbm=radio.threshold_rsrp_dbm,
        margin_db=round(float(margin_db(rsrp, radio.threshold_rsrp_dbm)), 2),
        terrain=terrain, notes=tuple(notes),
        microwave=None if backhaul is None else microwave_hop(
            profile, h_tx, h_rx, backhaul, latitude_deg=(start[1] + end[1]) / 2.0),
    )
    return report, clearance


def microwave_hop(profile: Profile, h_tx_m: float, h_rx_m: float, backhaul: Backhaul, *,
                  latitude_deg: float = 0.0) -> dict[str, Any]:
    """The backhaul hop check of :mod:`towerplan.analysis.backhaul` on one profile.

    Returns band, dish gain, free-space, gaseous and rain attenuation, fade margin, margin
    left after rain at the availability target, clearance at ``backhaul.k_factor`` and the
    verdict (``feasible``, ``reason``).
    """
    params = HopParams.from_backhaul(backhaul, latitude_deg)
    d_km = profile.length_m / 1000.0
    clear = line_of_sight(profile.heights_m, profile.step_m, h_tx_m, h_rx_m,
                          params.freq_ghz * 1000.0, params.k_factor)
    p, t, rho = params.surface
    gas = float(gaseous_specific_attenuation_db_km(params.freq_ghz, pressure_hpa=p,
                                                   temperature_c=t, water_vapour_g_m3=rho))
    rain = float(rain_attenuation_db(d_km, params.freq_ghz, params.rain_rate_mm_h,
                                     polarisation=params.polarisation,
                                     percent_time=params.percent_time,
                                     latitude_deg=latitude_deg))
    margin = float(hop_margin_db(np.array([profile.length_m]), params)[0])
    fsl = float(fspl_db(d_km, params.freq_ghz * 1000.0))
    reason = ("rain margin" if margin < 0 else "no line of sight" if clear.worst_ratio < 0
              else "fresnel clearance" if clear.worst_ratio < params.min_clearance else "ok")
    return {"band_ghz": params.freq_ghz, "polarisation": params.polarisation,
            "antenna_gain_dbi": round(params.antenna_gain_dbi, 2),
            "free_space_db": round(fsl, 2), "gaseous_db": round(gas * d_km, 2),
            "rx_level_dbm": round(margin + rain + params.rx_threshold_dbm, 2),
            "fade_margin_db": round(margin + rain, 2), "rain_db": round(rain, 2),
            "availability": params.availability, "rain_rate_mm_h": params.rain_rate_mm_h,
            "margin_db": round(margin, 2), "clearance_ratio": round(clear.worst_ratio, 3),
            "min_clearance": params.min_clearance, "k_factor": params.k_factor,
            "feasible": reason == "ok", "reason": reason}
