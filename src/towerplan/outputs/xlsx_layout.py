"""Print layout, column widths, named tables and formulas of ``report.xlsx``.

Every sheet prints on A4, one page wide (as many pages tall as it needs), landscape when its
columns are wider than a portrait page, the table header repeated on every page, the report
title and sheet in the page header and the scenario and "page X of Y" in the footer.

Totals and shares are Excel formulas, so a budget officer who edits a cost sees every total
recompute. openpyxl writes a formula without its result, so a reader that does not
recalculate (a viewer, a parser, LibreOffice set to never recalculate) would show empty
cells. :func:`put_formula` therefore records the value towerplan computed alongside each
formula, and :func:`write_cached_values` writes these values into the saved file as the
formulas' cached results (the ``<v>`` element of each formula cell, edited in place in the
sheet's XML), the way Excel itself stores them. ``fullCalcOnLoad`` stays set, so Excel and
LibreOffice recompute on opening.
"""

from __future__ import annotations

import io
import logging
import math
import re
import textwrap
import zipfile
from datetime import UTC
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary
from xml.etree import ElementTree as ET

from towerplan.i18n import t
from towerplan.io.stamps import parse_utc, zip_member

if TYPE_CHECKING:
    from collections.abc import Iterable

    from openpyxl.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["add_table", "display_width", "print_setup", "put_formula", "set_widths",
           "wrap_rows", "write_cached_values"]

log = logging.getLogger(__name__)

#: Narrowest and widest column, characters; text longer than the widest wraps.
MIN_WIDTH, MAX_WIDTH = 8, 40
#: Widest text column of a two-column (label, value) sheet, characters.
WIDE_TEXT_WIDTH = 90
#: Widest table (sum of column widths, characters) printed portrait. Fitted to the page
#: width, a portrait page always holds more rows than a landscape one; up to this width it
#: prints at 60 % or more (about 7 points), beyond it landscape keeps the text readable.
_PORTRAIT_CHARACTERS = 170
#: Height of one line of 11-point text, points.
_LINE_HEIGHT_PT = 15.0
#: Longest header line once wrapped over up to three lines, characters.
_HEADER_LINES = 3
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

#: Cached results of the formulas of each sheet: coordinate -> value.
_CACHED: WeakKeyDictionary[Worksheet, dict[str, float | str]] = WeakKeyDictionary()


# --------------------------------------------------------------------------- formulas


def put_formula(sheet: Worksheet, row: int, col: int, formula: str, value: float | str,
                number_format: str = "") -> None:
    """Write ``=formula`` into a cell and record *value*, its result, as the cached value.

    Parameters
    ----------
    sheet : Worksheet
        The sheet.
    row, col : int
        The cell, 1-based.
    formula : str
        The formula without the leading ``=``, e.g. ``"SUM(E6:E10)"``.
    value : float or str
        Its result as towerplan computed it (written by :func:`write_cached_values`).
    number_format : str
        Number format of the cell.
    """
    cell = sheet.cell(row=row, column=col)
    cell.value = f"={formula}"
    if number_format:
        cell.number_format = number_format
    _CACHED.setdefault(sheet, {})[cell.coordinate] = value


def cached_value(sheet: Worksheet, coordinate: str) -> Any:
    """The value of a cell as a reader sees it: a formula's recorded result, else the value."""
    cached = _CACHED.get(sheet, {})
    return cached[coordinate] if coordinate in cached else sheet[coordinate].value


def write_cached_values(path: Path, workbook: Workbook, *, created_utc: str | None = None,
                        ) -> None:
    """Write the recorded formula results of *workbook* into its saved file *path*.

    Each formula cell ``<c r="J20"><f>SUM(J6:J19)</f><v/></c>`` gets its value in ``<v>``
    (and ``t="str"`` for text). Sheets are found through the workbook's relationships, not by
    file name. With *created_utc* (the run's time stamp), every zip member is dated at it and
    so is the workbook's modification date (which openpyxl sets to the time of saving), so
    the same plan gives the same file.
    """
    by_title = {sheet.title: _CACHED.get(sheet, {}) for sheet in workbook.worksheets}
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
        infos = source.infolist()
    for title, part in _sheet_parts(parts).items():
        if by_title.get(title):
            parts[part] = _with_values(parts[part], by_title[title])
    if created_utc is not None and _CORE_PART in parts:
        parts[_CORE_PART] = _MODIFIED.sub(
            lambda m: m.group(1) + _w3c_date(created_utc).encode() + m.group(2),
            parts[_CORE_PART])
        infos = [zip_member(info.filename, created_utc) for info in infos]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in infos:
            target.writestr(info, parts[info.filename], zipfile.ZIP_DEFLATED)
    path.write_bytes(buffer.getvalue())


_CORE_PART = "docProps/core.xml"
#: The workbook's modification date in its core properties.
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _w3c_date(created_utc: str) -> str:
    """*created_utc* as the W3CDTF date of the core properties (``2026-01-01T00:00:00Z``)."""
    return parse_utc(created_utc).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sheet_parts(parts: dict[str, bytes]) -> dict[str, str]:
    """Sheet title -> zip member of its XML."""
    book = ET.fromstring(parts["xl/workbook.xml"])
    rels = ET.fromstring(parts["xl/_rels/workbook.xml.rels"])
    target = {rel.get("Id"): rel.get("Target", "")
              for rel in rels.iter(f"{{{_PACKAGE_REL_NS}}}Relationship")}
    out = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        where = target.get(sheet.get(f"{{{_REL_NS}}}id"), "")
        name = where.lstrip("/") if where.startswith("/") else str(PurePosixPath("xl") / where)
        out[sheet.get("name", "")] = name
    return out


#: A formula cell as openpyxl writes it: ``<c r="J8" s="5"><f>SUM(J5:J6)</f><v/></c>``.
_FORMULA_CELL = re.compile(
    rb'<c r="(?P<ref>[A-Z]+[0-9]+)"(?P<attrs>[^>]*)>(?P<f><f>[^<]*</f>)'
    rb"(?:<v\s*/>|<v>\s*</v>)?</c>")


def _with_values(xml: bytes, values: dict[str, float | str]) -> bytes:
    """The sheet XML with the cached value of every recorded formula cell.

    The cells are rewritten in place (no reserialisation of the sheet, no global XML
    namespace registry touched).
    """
    from xml.sax.saxutils import escape

    def cell(match: re.Match[bytes]) -> bytes:
        ref = match["ref"].decode()
        if ref not in values:
            return match[0]
        value = values[ref]
        attrs = re.sub(rb'\st="[^"]*"', b"", match["attrs"])
        if isinstance(value, str):
            attrs += b' t="str"'
            text = escape(value)
        else:
            text = repr(float(value)) if math.isfinite(value) else "0"
        return b'<c r="%s"%s>%s<v>%s</v></c>' % (match["ref"], attrs, match["f"],
                                               text.encode("utf-8"))

    out, count = _FORMULA_CELL.subn(cell, xml)
    if count < len(values):
        log.warning("report.xlsx: %d of %d formula results could not be cached",
                    len(values) - count, len(values))
    return out


# --------------------------------------------------------------------------- widths


def display_width(value: Any, number_format: str = "") -> int:
    """Characters a value takes when shown with *number_format*.

    Examples
    --------
    >>> display_width(116.27676, "0.00000"), display_width(1.7e9, '"Rp" #,##0')
    (9, 16)
    >>> display_width(0.0346, "0.00%"), display_width("Muara Toyu")
    (5, 10)
    """
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        return max((len(line) for line in str(value).splitlines()), default=0)
    decimals = len(number_format.split(".")[1].rstrip("%")) if "." in number_format else 0
    number = float(value) * (100 if number_format.endswith("%") else 1)
    if not math.isfinite(number):
        return 0
    text = f"{number:,.{decimals}f}" if "," in number_format else f"{number:.{decimals}f}"
    prefix = len(number_format.split('"')[1]) + 1 if number_format.startswith('"') else 0
    return len(text) + prefix + (1 if number_format.endswith("%") else 0)


def _header_width(text: Any) -> int:
    """Width a wrapped header needs: its longest word, or a third of it."""
    words = str(text or "").split()
    if not words:
        return 0
    return max(max(len(w) for w in words), math.ceil(len(" ".join(words)) / _HEADER_LINES))


def set_widths(sheet: Worksheet, header_row: int, n_columns: int, *,
               last_widest: int = MAX_WIDTH, wrap: bool = True) -> None:
    """Size each column to its widest shown value and wrapped header (8 to 60 characters,
    the last column up to *last_widest*); text wider than the column wraps (with *wrap*).

    A formula cell counts with its recorded result. Rows with wrapped text get the height
    of their lines; a hidden (folded) column is sized but does not wrap.
    """
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    lines: dict[int, int] = {}
    top = {wrap: Alignment(wrap_text=wrap, vertical="top") for wrap in (False, True)}
    for col in range(1, n_columns + 1):
        longest = _header_width(sheet.cell(row=header_row, column=col).value)
        cells = [row[0] for row in sheet.iter_rows(min_row=header_row + 1, min_col=col,
                                                   max_col=col)]
        for cell in cells:
            shown = display_width(cached_value(sheet, cell.coordinate), cell.number_format)
            longest = max(longest, shown)
        widest = last_widest if col == n_columns else MAX_WIDTH
        width = min(max(longest + 2, MIN_WIDTH), widest)
        dim = sheet.column_dimensions[get_column_letter(col)]
        dim.width = width
        if dim.hidden:  # folded away: its text neither wraps nor sets row heights
            continue
        header = sheet.cell(row=header_row, column=col).value
        lines[header_row] = max(lines.get(header_row, 1), _line_count(header, width))
        for cell in cells if wrap else ():
            if isinstance(cell.value, str) and not cell.value.startswith("=") \
                    and len(cell.value) + 2 > width:
                cell.alignment = top[True]
                lines[cell.row] = max(lines.get(cell.row, 1), _line_count(cell.value, width))
    # Row heights are set, not left to the reader: LibreOffice does not grow rows of
    # wrapped text when it opens an .xlsx file.
    for row in range(header_row, sheet.max_row + 1):
        count = lines.get(row, 1)
        sheet.row_dimensions[row].height = count * _LINE_HEIGHT_PT if count > 1 else None
        if count > 1:
            for col in range(1, n_columns + 1):
                cell = sheet.cell(row=row, column=col)
                aligned = top[bool(cell.alignment.wrap_text)]
                if cell.alignment != aligned:  # the wrapped cells already are
                    cell.alignment = aligned


def wrap_rows(sheet: Worksheet, rows: Iterable[int], col: int) -> None:
    """Wrap the text of column *col* in *rows* (above a table, sized after it) and give each
    row the height of its lines."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    width = sheet.column_dimensions[get_column_letter(col)].width or MIN_WIDTH
    for row in rows:
        cell = sheet.cell(row=row, column=col)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        count = _line_count(cell.value, width) if isinstance(cell.value, str) else 1
        sheet.row_dimensions[row].height = count * _LINE_HEIGHT_PT if count > 1 else None


def _line_count(text: Any, width: float) -> int:
    """Lines *text* takes wrapped in a column *width* characters wide."""
    if not isinstance(text, str) or not text:
        return 1
    # a column width counts digits; text in a proportional font fits about 15 % more
    return sum(max(1, len(textwrap.wrap(line, max(int(width * 1.15) - 2, 1))))
               for line in text.splitlines() or [""])


# --------------------------------------------------------------------------- tables


def add_table(sheet: Worksheet, header_row: int, n_columns: int, last_row: int) -> None:
    """Make the block from *header_row* to *last_row* a named Excel table (with its own
    filter buttons, replacing the sheet's autofilter)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo

    name = "tbl_" + re.sub(r"\W+", "_", sheet.title, flags=re.ASCII).strip("_")
    ref = f"A{header_row}:{get_column_letter(n_columns)}{max(last_row, header_row + 1)}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=True)
    sheet.add_table(table)
    sheet.auto_filter.ref = None


# --------------------------------------------------------------------------- printing


def _header_text(text: str, limit: int = 80) -> str:
    """Text for a page header or footer: ``&`` escaped, at most *limit* characters."""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[:limit - 1] + "…"
    return text.replace("&", "&&")


def print_setup(sheet: Worksheet, header_row: int | None, *, title: str, scenario: str,
                lang: str, n_columns: int) -> None:
    """A4, one page wide, landscape when wider than a portrait page, the header row repeated
    on every page, narrow margins, the title in the header and the scenario and page number
    in the footer.

    Parameters
    ----------
    sheet : Worksheet
        The sheet, filled and with its column widths set.
    header_row : int or None
        The table header repeated on every printed page (None: none repeated).
    title, scenario : str
        Report title (page header) and scenario name (footer).
    lang : {"id", "en"}
        Language of "page X of Y".
    n_columns : int
        Columns printed (the print area; their widths decide the orientation).
    """
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    dims = [sheet.column_dimensions[get_column_letter(c)] for c in range(1, n_columns + 1)]
    width = sum(d.width or MIN_WIDTH for d in dims if not d.hidden)  # folded ones do not print
    setup = sheet.page_setup
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.orientation = "landscape" if width > _PORTRAIT_CHARACTERS else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_area = f"A1:{get_column_letter(n_columns)}{sheet.max_row}"
    if header_row is not None:
        sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.7, header=0.3,
                                     footer=0.3)
    sheet.print_options.horizontalCentered = False
    sheet.oddHeader.left.text = _header_text(title)
    sheet.oddHeader.left.size = 9
    sheet.oddHeader.right.text = _header_text(sheet.title, 31)
    sheet.oddHeader.right.size = 9
    sheet.oddFooter.left.text = _header_text(scenario, 60)
    sheet.oddFooter.left.size = 9
    sheet.oddFooter.right.text = t("xlsx.page_of", lang).format(page="&P", pages="&N")
    sheet.oddFooter.right.size = 9
