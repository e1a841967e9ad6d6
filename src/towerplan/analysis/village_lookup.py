"""Villages named by the user: found by name or Kemendagri code, and those an audit needs.

:func:`find_villages` looks names up the way the register matching normalises them, and
suggests near names when one is unknown; :func:`audit_villages` gives the villages that must
get candidates because an audit names them or holds an audited site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
from rapidfuzz import process

from towerplan.analysis.candidates import village_of
from towerplan.errors import InputDataError
from towerplan.io.names import normalise_name

if TYPE_CHECKING:
    from towerplan.io.siting import SitingInputs
    from towerplan.scenario import Audit

__all__ = ["audit_site_frame", "audit_villages", "find_villages"]


def find_villages(villages: Any, names: Sequence[str]) -> list[int]:
    """Village indices for names or codes (case-insensitive); all problems reported at once.

    Raises
    ------
    InputDataError
        Naming every unknown or ambiguous village.
    """
    raw_names = villages["name"].astype(str).to_numpy()
    keys_name = np.array([n.strip().casefold() for n in raw_names])
    keys_norm = np.array([normalise_name(n) for n in raw_names])
    keys_code = villages["code"].astype(str).to_numpy()
    found, problems = [], []
    for name in names:
        hits = np.flatnonzero((keys_name == name.strip().casefold()) | (keys_code == name))
        if len(hits) == 0:  # "Ds. Muara Toyu", "MUARA-TOYU": the register's normalisation
            hits = np.flatnonzero(keys_norm == normalise_name(name))
        if len(hits) == 1:
            found.append(int(hits[0]))
        elif len(hits) == 0:
            close = [str(raw_names[i]) for _, _, i in
                     process.extract(name, list(raw_names), limit=3, score_cutoff=70)]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(f"no village named {name!r}{hint}")
        else:
            codes = ", ".join(keys_code[hits])
            problems.append(f"{name!r} is ambiguous ({codes}); give the code instead")
    if problems:
        raise InputDataError("audit: " + "; ".join(problems), problems=tuple(problems))
    return found


def audit_site_frame(siting: SitingInputs | None) -> Any:
    """The audited sites of the siting inputs (None when there are none)."""
    return siting.audit_sites if siting is not None else None


def audit_villages(audit: Audit, villages: gpd.GeoDataFrame,
                   siting: SitingInputs | None) -> np.ndarray | None:
    """Villages that must get candidates for the audit: those named and those holding an
    audited site; None when the scenario names no audit.

    Parameters
    ----------
    audit : towerplan.scenario.Audit
        The scenario's ``[audit]``.
    villages : geopandas.GeoDataFrame
        Villages (working CRS, index 0..n-1).
    siting : SitingInputs or None
        Siting inputs holding the audited sites of ``audit.sites``.

    Raises
    ------
    InputDataError
        When a named village is unknown or ambiguous.
    """
    sites = audit_site_frame(siting)
    if not audit.villages and (sites is None or not len(sites)):
        return None
    extra = np.zeros(len(villages), bool)
    extra[find_villages(villages, audit.villages)] = True
    if sites is not None and len(sites):
        owner = village_of(np.column_stack([sites.geometry.x, sites.geometry.y]),
                           villages.geometry.to_numpy())
        extra[owner[owner >= 0]] = True
    return extra
