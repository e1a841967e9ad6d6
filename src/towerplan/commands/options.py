"""Parsers of command-line values shared by several commands (positions, budget lists)."""

from __future__ import annotations

import numpy as np

from towerplan.errors import InputDataError

__all__ = ["parse_budgets", "parse_lonlat"]


def parse_lonlat(text: str, what: str = "point") -> tuple[float, float]:
    """Parse ``"LON,LAT"`` in degrees.

    Raises
    ------
    InputDataError
        When the text is not two numbers or they are out of range.

    Examples
    --------
    >>> parse_lonlat("116.10,-1.70")
    (116.1, -1.7)
    """
    parts = [p.strip() for p in str(text).split(",")]
    try:
        lon, lat = (float(p) for p in parts)
    except ValueError:
        msg = f"{what} {text!r} must be LON,LAT in degrees, e.g. 116.10,-1.70"
        raise InputDataError(msg) from None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"{what} {text!r} is out of range: longitude -180..180, latitude -90..90"
        raise InputDataError(msg)
    return lon, lat


def parse_budgets(text: str) -> list[float]:
    """Budgets from ``START:STOP:STEP`` (inclusive) or a comma list, in rupiah.

    Examples
    --------
    >>> parse_budgets("1.7e9:6.8e9:1.7e9")
    [1700000000.0, 3400000000.0, 5100000000.0, 6800000000.0]
    """
    try:
        if ":" in text:
            start, stop, step = (float(v) for v in text.split(":"))
            if step <= 0 or stop < start:
                raise ValueError
            n = int(np.floor((stop - start) / step + 1e-9)) + 1
            values = [start + k * step for k in range(n)]
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        msg = (f"--budgets {text!r} must be START:STOP:STEP or a comma list of rupiah, e.g. "
               "1.7e9:17e9:1.7e9")
        raise InputDataError(msg) from None
    if not values or any(not (v > 0 and np.isfinite(v)) for v in values):
        msg = f"--budgets {text!r}: every budget must be a positive number"
        raise InputDataError(msg)
    if len(values) > 200:
        msg = f"--budgets {text!r} gives {len(values)} budgets; at most 200"
        raise InputDataError(msg)
    return values
