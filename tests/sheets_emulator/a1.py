"""A1 notation: parse ranges such as ``'Sheet 1'!A1:B2`` and write them back the way Google echoes them.

Rows and columns are zero-based and end-exclusive internally (like the API's ``GridRange``); ``None``
as an end means "unbounded" (``A:A``, ``1:1``, a bare sheet name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_REF = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*|[A-Za-z]{1,3}|\d+)$")


@dataclass(frozen=True)
class Bounds:
    """A rectangle of a sheet; ends are exclusive, ``None`` means to the edge of the grid."""

    start_row: int = 0
    end_row: int | None = None
    start_col: int = 0
    end_col: int | None = None

    def clamp(self, rows: int, cols: int) -> Bounds:
        """The same rectangle with open ends closed at the grid size (and ends never past it)."""
        end_row = rows if self.end_row is None else min(self.end_row, rows)
        end_col = cols if self.end_col is None else min(self.end_col, cols)
        return Bounds(self.start_row, end_row, self.start_col, end_col)


@dataclass(frozen=True)
class ParsedRange:
    """A range string split into the sheet title (``None``: not given) and its bounds."""

    sheet: str | None
    bounds: Bounds
    whole_sheet: bool = False


class A1Error(ValueError):
    """The text is not a valid A1 range."""


def col_to_index(letters: str) -> int:
    """``A`` -> 0, ``Z`` -> 25, ``AA`` -> 26."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - ord("A") + 1)
    return n - 1


def index_to_col(index: int) -> str:
    """0 -> ``A``, 26 -> ``AA``."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def quote_title(title: str) -> str:
    """The sheet title as Google writes it in a range: bare when plain, else in single quotes."""
    if _PLAIN_TITLE.match(title) and not _LOOKS_LIKE_REF.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_sheet(text: str) -> tuple[str | None, str]:
    """Split ``'It''s'!A1`` into (``It's``, ``A1``); a text without ``!`` has no sheet part."""
    if text.startswith("'"):
        i = 1
        title = ""
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title += "'"
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest == "":
                    return title, ""
                if rest.startswith("!"):
                    return title, rest[1:]
                raise A1Error(text)
            title += text[i]
            i += 1
        raise A1Error(text)
    if "!" in text:
        title, _, rest = text.rpartition("!")
        return title, rest
    return None, text


def _parse_cell(text: str) -> tuple[int | None, int | None]:
    """A cell reference -> (row, col), either may be ``None`` (``A`` or ``5``)."""
    m = _CELL.match(text)
    if not m or (not m.group(1) and not m.group(2)):
        raise A1Error(text)
    col = col_to_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise A1Error(text)
    return row, col


def parse_cells(text: str) -> Bounds:
    """The bounds of ``A1``, ``A1:B2``, ``A:B``, ``1:3``, ``A2:C`` or ``A1:1`` (ends may be reversed)."""
    if ":" not in text:
        row, col = _parse_cell(text)
        if row is None or col is None:
            raise A1Error(text)
        return Bounds(row, row + 1, col, col + 1)
    left, _, right = text.partition(":")
    r1, c1 = _parse_cell(left)
    r2, c2 = _parse_cell(right)
    if r1 is not None and r2 is not None and r1 > r2:
        r1, r2 = r2, r1
    if c1 is not None and c2 is not None and c1 > c2:
        c1, c2 = c2, c1
    start_row = r1 if r1 is not None else (r2 if c1 is None and r2 is not None else 0)
    start_col = c1 if c1 is not None else (c2 if r1 is None and c2 is not None else 0)
    if r1 is None and c1 is not None and r2 is not None:  # e.g. A:B5 -> rows from 1
        start_row = 0
    end_row = r2 + 1 if r2 is not None else None
    end_col = c2 + 1 if c2 is not None else None
    return Bounds(start_row, end_row, start_col, end_col)


def parse_range(text: str, sheet_titles: list[str]) -> ParsedRange:
    """Parse a range as the API does: an unqualified sheet title means the whole sheet."""
    sheet, cells = split_sheet(text)
    if sheet is None and text in sheet_titles:
        return ParsedRange(text, Bounds(), whole_sheet=True)
    if cells == "":
        return ParsedRange(sheet, Bounds(), whole_sheet=True)
    return ParsedRange(sheet, parse_cells(cells))


def format_cells(bounds: Bounds) -> str:
    """Closed bounds as ``A1`` or ``A1:B2``."""
    assert bounds.end_row is not None and bounds.end_col is not None
    first = f"{index_to_col(bounds.start_col)}{bounds.start_row + 1}"
    last = f"{index_to_col(bounds.end_col - 1)}{bounds.end_row}"
    return first if first == last else f"{first}:{last}"


def format_range(title: str, bounds: Bounds) -> str:
    """``Sheet1!A1:B2`` with the title quoted when Google would quote it."""
    return f"{quote_title(title)}!{format_cells(bounds)}"
