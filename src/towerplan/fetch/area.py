"""The area to fetch: a kabupaten by name, a Kemendagri code from the register, or a bbox.

Kemendagri codes are ``PP.KK`` (kabupaten), ``PP.KK.CC`` (kecamatan) and ``PP.KK.CC.TNNN``
(desa/kelurahan). Names come from the village register (``builtin:paser-register``,
shipped with towerplan, or ``--register FILE``); OpenStreetMap is then searched by name, since
its boundaries rarely carry the codes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from towerplan.errors import InputDataError
from towerplan.io.register import packaged_register, read_register

__all__ = [
    "ADMIN_LEVELS",
    "KABUPATEN_NAMES",
    "MAX_BBOX_DEG",
    "Area",
    "area_from_options",
    "default_register",
    "parse_bbox",
]

AreaKind = Literal["kabupaten", "kecamatan", "desa", "bbox"]

#: OpenStreetMap ``admin_level`` of each Indonesian administrative unit.
ADMIN_LEVELS: dict[str, int] = {"kabupaten": 5, "kecamatan": 6, "desa": 7}

#: Kabupaten names by Kemendagri code, for codes whose register lists only the villages.
KABUPATEN_NAMES: dict[str, str] = {"64.01": "Paser"}

#: Largest bbox side accepted, degrees (an Overpass query beyond that rarely finishes).
MAX_BBOX_DEG = 5.0

_KABUPATEN_CODE = re.compile(r"^\d{2}\.\d{2}$")
_KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
_DESA_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.[12]\d{3}$")
_PREFIXES = re.compile(r"^(kabupaten|kab\.?|kota|kecamatan|kec\.?|desa|kelurahan|kel\.?)\s+",
                       re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Area:
    """What to fetch.

    Attributes
    ----------
    kind : {"kabupaten", "kecamatan", "desa", "bbox"}
        Administrative unit searched by name, or a plain bounding box.
    name : str
        Name of the unit (empty for a bbox).
    code : str
        Kemendagri code when known.
    kabupaten : str
        Name of the enclosing kabupaten (kecamatan and desa), narrowing the name search.
    kecamatan : str
        Name of the enclosing kecamatan (desa).
    bbox : tuple of float or None
        ``(west, south, east, north)`` in degrees for ``kind="bbox"``.
    """

    kind: AreaKind
    name: str = ""
    code: str = ""
    kabupaten: str = ""
    kecamatan: str = ""
    bbox: tuple[float, float, float, float] | None = None

    @property
    def admin_level(self) -> int:
        """OpenStreetMap admin_level of the unit (0 for a bbox)."""
        return ADMIN_LEVELS.get(self.kind, 0)

    @property
    def label(self) -> str:
        """``kabupaten Paser (64.01)`` or ``bbox 115.9,-1.8,116.1,-1.6``."""
        if self.kind == "bbox":
            assert self.bbox is not None
            return "bbox " + ",".join(f"{v:g}" for v in self.bbox)
        return f"{self.kind} {self.name}" + (f" ({self.code})" if self.code else "")

    @property
    def slug(self) -> str:
        """Lower-case ASCII identifier, e.g. ``paser`` (``bbox`` for a bounding box)."""
        if self.kind == "bbox":
            return "bbox"
        text = unicodedata.normalize("NFKD", self.name).encode("ascii", "ignore").decode()
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or self.kind


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Parse ``W,S,E,N`` degrees.

    Raises
    ------
    InputDataError
        Unless there are four finite numbers with W < E, S < N inside -180..180/-90..90 and
        each side at most :data:`MAX_BBOX_DEG`.

    Examples
    --------
    >>> parse_bbox("115.9,-1.8,116.1,-1.6")
    (115.9, -1.8, 116.1, -1.6)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = (f"--bbox {text!r}: expected four numbers W,S,E,N in degrees, "
               "e.g. 115.9,-1.8,116.1,-1.6")
        raise InputDataError(msg, problems=(msg,))
    west, south, east, north = values
    problems = []
    if not (-180 <= west < east <= 180):
        problems.append(f"west {west:g} must be less than east {east:g}, both within -180..180")
    if not (-90 <= south < north <= 90):
        problems.append(f"south {south:g} must be less than north {north:g}, both within -90..90")
    if not problems and max(east - west, north - south) > MAX_BBOX_DEG:
        problems.append(f"the box is {east - west:g} x {north - south:g} degrees; at most "
                        f"{MAX_BBOX_DEG:g} degrees a side; fetch a kabupaten at a time")
    if problems:
        msg = f"--bbox {text!r}: " + "; ".join(problems)
        raise InputDataError(msg, problems=tuple(problems))
    return (west, south, east, north)


def default_register() -> Path:
    """Return the village register shipped with towerplan (Kabupaten Paser, 64.01)."""
    return packaged_register()


def area_from_options(*, kabupaten: str | None = None, code: str | None = None,
                      bbox: str | None = None, register: str | Path | None = None) -> Area:
    """Return the area named by exactly one of *kabupaten*, *code* and *bbox*.

    Parameters
    ----------
    kabupaten : str, optional
        Kabupaten name as in OpenStreetMap (``"Paser"``; a ``Kabupaten`` prefix is allowed).
    code : str, optional
        Kemendagri code of a kabupaten, kecamatan or desa, looked up in *register*.
    bbox : str, optional
        ``W,S,E,N`` in degrees.
    register : str or Path, optional
        Village register CSV; default :func:`default_register`.

    Raises
    ------
    InputDataError
        When none or several are given, the name is unusable, the code is malformed or not in
        the register, or the bbox is invalid.
    InputFileError
        When a code is given and no register is available.
    """
    given = [n for n, v in (("--kabupaten", kabupaten), ("--code", code), ("--bbox", bbox))
             if v is not None]
    if len(given) != 1:
        msg = ("give exactly one of --kabupaten NAME, --code KEMENDAGRI_CODE or --bbox W,S,E,N"
               + (f" (got {', '.join(given)})" if given else ""))
        raise InputDataError(msg, problems=(msg,))
    if bbox is not None:
        return Area("bbox", bbox=parse_bbox(bbox))
    if kabupaten is not None:
        name = _PREFIXES.sub("", _check_name(kabupaten, "--kabupaten"))
        return Area("kabupaten", name=name)
    assert code is not None
    return _area_from_code(code.strip(), register)


def _check_name(text: str, option: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > 100 or any(unicodedata.category(c)[0] == "C" for c in text):
        msg = f"{option} {text!r}: expected a place name of 1-100 printable characters"
        raise InputDataError(msg, problems=(msg,))
    return name


def _area_from_code(code: str, register: str | Path | None) -> Area:
    if not (_KABUPATEN_CODE.match(code) or _KECAMATAN_CODE.match(code)
            or _DESA_CODE.match(code)):
        msg = (f"--code {code!r}: expected a Kemendagri code PP.KK (kabupaten), PP.KK.CC "
               "(kecamatan) or PP.KK.CC.TNNN (desa/kelurahan), e.g. 64.01")
        raise InputDataError(msg, problems=(msg,))
    path = Path(register) if register is not None else default_register()
    register_frame, _ = read_register(path)
    kab_code = code[:5]
    kabupaten = KABUPATEN_NAMES.get(kab_code, "")
    inside = register_frame[register_frame["code"].str.startswith(kab_code + ".")]
    if inside.empty or not kabupaten:
        known = sorted({c[:5] for c in register_frame["code"]})
        msg = (f"--code {code}: kabupaten {kab_code} is not in the register {path} (it lists "
               f"{', '.join(known) or 'nothing'}); use --kabupaten NAME or --bbox W,S,E,N")
        raise InputDataError(msg, problems=(msg,))
    if _KABUPATEN_CODE.match(code):
        return Area("kabupaten", name=kabupaten, code=code)
    if _KECAMATAN_CODE.match(code):
        rows = inside[(inside["district_code"] == code) & (inside["district"] != "")]
        if rows.empty:
            msg = f"--code {code}: no kecamatan with this code in the register {path}"
            raise InputDataError(msg, problems=(msg,))
        return Area("kecamatan", name=str(rows["district"].iloc[0]), code=code,
                    kabupaten=kabupaten)
    rows = inside[inside["code"] == code]
    if rows.empty:
        msg = f"--code {code}: no desa/kelurahan with this code in the register {path}"
        raise InputDataError(msg, problems=(msg,))
    return Area("desa", name=str(rows["name"].iloc[0]), code=code, kabupaten=kabupaten,
                kecamatan=str(rows["district"].iloc[0]))
