"""The formatted table the HTML/PDF report template draws (its ``table`` macro)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ReportTable"]


@dataclass(frozen=True, slots=True)
class ReportTable:
    """A table of formatted cells; ``numeric[i]`` right-aligns column *i*.

    Attributes
    ----------
    headers : list of str
        Column headers.
    rows : list of list of str
        Cell texts, one list per row.
    numeric : list of bool
        Whether each column holds numbers (right-aligned, not wrapped).
    foot : list of (str, list of str)
        Footer rows: a label spanning the first columns, then the cells of the last ones.
    css : str
        Class of the ``<table>`` element.
    """

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    foot: list[tuple[str, list[str]]] = field(default_factory=list)
    css: str = ""
