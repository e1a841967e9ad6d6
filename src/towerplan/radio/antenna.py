"""Base station antenna patterns: omni or sectors with the 3GPP parabolic pattern.

A site's antenna is either omnidirectional (its gain in every direction, no pattern) or a set
of sectors, each with the 3GPP macro-cell pattern (3GPP TR 36.814 Table A.2.1.1-2, TR 38.901
Table 7.3-1) around its boresight::

    A_H(phi)   = -min(12 (phi / phi_3dB)**2, A_m)
    A_V(theta) = -min(12 ((theta - tilt) / theta_3dB)**2, SLA_V)
    A(phi, theta) = -min(-(A_H + A_V), A_m)

with ``phi`` the bearing off the sector's boresight and ``theta`` the depression of the path
below the horizontal at the antenna (positive downwards, like the electrical down-tilt). The
gain in a direction is the antenna gain plus ``A``; a place is served by the site's best
sector, so the site's pattern is the largest ``A`` over its sectors. Patterns apply to both
links (reciprocity).

Bearings are compass bearings: degrees clockwise from north.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "OMNI",
    "AntennaPattern",
    "bearing_deg",
    "horizontal_pattern_db",
    "parse_azimuths",
    "vertical_pattern_db",
]


def horizontal_pattern_db(off_boresight_deg: ArrayLike, beamwidth_deg: float,
                          front_to_back_db: float) -> np.ndarray:
    """Horizontal pattern ``A_H = -min(12 (phi / phi_3dB)**2, A_m)``, dB (0 at boresight).

    Parameters
    ----------
    off_boresight_deg : float or array
        Bearing off the boresight, degrees (any real value; wrapped to -180..180).
    beamwidth_deg : float
        Half-power (3 dB) beamwidth ``phi_3dB``, degrees.
    front_to_back_db : float
        Front-to-back ratio ``A_m``, dB.

    References
    ----------
    3GPP TR 36.814 V9.2.0, Table A.2.1.1-2; 3GPP TR 38.901 V17.0.0, Table 7.3-1.

    Examples
    --------
    >>> round(float(horizontal_pattern_db(60.0, 65.0, 25.0)), 2)
    -10.22
    >>> float(horizontal_pattern_db(180.0, 65.0, 25.0))
    -25.0
    """
    phi = (np.asarray(off_boresight_deg, dtype=float) + 180.0) % 360.0 - 180.0
    return -np.minimum(12.0 * (phi / beamwidth_deg) ** 2, front_to_back_db)


def vertical_pattern_db(depression_deg: ArrayLike, tilt_deg: float, beamwidth_deg: float,
                        side_lobe_db: float) -> np.ndarray:
    """Vertical pattern ``A_V = -min(12 ((theta - tilt) / theta_3dB)**2, SLA_V)``, dB.

    Parameters
    ----------
    depression_deg : float or array
        Angle of the path below the horizontal at the antenna, degrees (positive downwards).
    tilt_deg : float
        Electrical down-tilt, degrees (positive downwards).
    beamwidth_deg : float
        Vertical half-power beamwidth ``theta_3dB``, degrees.
    side_lobe_db : float
        Side-lobe level ``SLA_V``, dB.

    References
    ----------
    3GPP TR 36.814 V9.2.0, Table A.2.1.1-2; 3GPP TR 38.901 V17.0.0, Table 7.3-1.

    Examples
    --------
    >>> round(float(vertical_pattern_db(5.0, 0.0, 10.0, 20.0)), 2)
    -3.0
    """
    theta = np.asarray(depression_deg, dtype=float) - tilt_deg
    return -np.minimum(12.0 * (theta / beamwidth_deg) ** 2, side_lobe_db)


def bearing_deg(dx_m: ArrayLike, dy_m: ArrayLike) -> np.ndarray:
    """Compass bearing of an offset (east ``dx``, north ``dy``), degrees in 0..360.

    Examples
    --------
    >>> [float(b) for b in bearing_deg([0.0, 1.0, 0.0, -1.0], [1.0, 0.0, -1.0, 0.0])]
    [0.0, 90.0, 180.0, 270.0]
    """
    return np.degrees(np.arctan2(np.asarray(dx_m, float), np.asarray(dy_m, float))) % 360.0


def parse_azimuths(text: str) -> tuple[float, ...]:
    """Sector azimuths from text such as ``"0;120;240"`` (``;``, ``,``, ``/`` or spaces).

    Raises
    ------
    ValueError
        When an item is not a number.

    Examples
    --------
    >>> parse_azimuths("0;120;240")
    (0.0, 120.0, 240.0)
    >>> parse_azimuths("")
    ()
    """
    items = text.replace(";", " ").replace(",", " ").replace("/", " ").split()
    return tuple(float(v) for v in items)


@dataclass(frozen=True, slots=True)
class AntennaPattern:
    """Antenna of one site: omni (no azimuths) or sectors.

    Attributes
    ----------
    azimuths_deg : tuple of float
        Boresight bearing of each sector, degrees clockwise from north; empty = omni.
    beamwidth_deg : float
        Horizontal half-power beamwidth of a sector, degrees (default 65).
    front_to_back_db : float
        Front-to-back ratio ``A_m``, dB (default 25).
    tilt_deg : float
        Electrical down-tilt, degrees (default 0).
    vertical_beamwidth_deg : float
        Vertical half-power beamwidth, degrees (default 10).
    side_lobe_db : float
        Vertical side-lobe level ``SLA_V``, dB (default 20).
    """

    azimuths_deg: tuple[float, ...] = ()
    beamwidth_deg: float = 65.0
    front_to_back_db: float = 25.0
    tilt_deg: float = 0.0
    vertical_beamwidth_deg: float = 10.0
    side_lobe_db: float = 20.0

    @property
    def omni(self) -> bool:
        """True for an omnidirectional antenna."""
        return not self.azimuths_deg

    def describe(self) -> str:
        """One-line statement, e.g. ``"3 sectors 0/120/240 deg, 65 deg, ..."``."""
        if self.omni:
            return "omni"
        az = "/".join(f"{a:g}" for a in self.azimuths_deg)
        n = len(self.azimuths_deg)
        return (f"{n} sector{'s' if n > 1 else ''} {az} deg, beamwidth {self.beamwidth_deg:g} "
                f"deg, front-to-back {self.front_to_back_db:g} dB, tilt {self.tilt_deg:g} deg "
                f"(vertical {self.vertical_beamwidth_deg:g} deg, SLA {self.side_lobe_db:g} dB)")

    def gain_db(self, bearing: ArrayLike, depression_deg: ArrayLike = 0.0) -> np.ndarray:
        """Gain of the best sector relative to boresight, dB (<= 0; 0 for omni).

        Parameters
        ----------
        bearing : float or array
            Compass bearing from the site, degrees.
        depression_deg : float or array
            Angle of the path below the horizontal at the antenna, degrees.

        Examples
        --------
        >>> ant = AntennaPattern((0.0, 120.0, 240.0))
        >>> round(float(ant.gain_db(60.0)), 2)
        -10.22
        >>> float(ant.gain_db(120.0))
        0.0
        """
        b = np.asarray(bearing, dtype=float)
        if self.omni:
            return np.zeros(np.broadcast(b, np.asarray(depression_deg)).shape)
        a_v = vertical_pattern_db(depression_deg, self.tilt_deg, self.vertical_beamwidth_deg,
                                  self.side_lobe_db)
        best = np.full(np.broadcast(b, a_v).shape, -np.inf)
        for az in self.azimuths_deg:
            a_h = horizontal_pattern_db(b - az, self.beamwidth_deg, self.front_to_back_db)
            best = np.maximum(best, -np.minimum(-(a_h + a_v), self.front_to_back_db))
        return best + 0.0  # no negative zero at boresight


#: The omnidirectional antenna (no pattern).
OMNI = AntennaPattern()
