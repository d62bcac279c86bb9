"""The pieces shared by the keyed reads (:mod:`.keyed`, :mod:`.keyed_queue`, :mod:`.open_queue`): the
small in-memory workbook they hand calamine holds the rows found, an empty sheet for every other worksheet,
and a shared-string table cut down to the strings those rows use. Light on purpose: it imports nothing of
the patcher, so a read that needs none of it (``queue``) does not load it."""

from __future__ import annotations

import re
from itertools import repeat
from typing import NamedTuple

EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)
INDEX = re.compile(rb"<v>\s*([0-9]+)\s*</v>")
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
PREFIX = re.compile(rb"<(\w+:)?sheetData\b")
ROW_R = re.compile(rb'<row\b[^>]*?\sr="([0-9]+)"')


def si_pieces(sst: bytes) -> list[bytes] | None:
    """The table split at each ``<si>`` (the first piece is what comes before the first one) when every
    string is a plain ``<si>...</si>`` and they simply follow one another; else None."""
    if b":si" in sst or sst.count(b"<si") != sst.count(b"<si>"):
        return None
    pieces = sst.split(b"<si>")
    closes = set(map(bytes.count, pieces[1:], repeat(b"</si>")))
    return pieces if b"</si>" not in pieces[0] and closes <= {1} else None


def trimmed_table(pieces: list[bytes], rows: bytes) -> bytes | None:
    """The shared strings (split by :func:`si_pieces`) the ``rows`` may use (any whole number in a
    ``<v>``), the others emptied in place: the indexes stay, and calamine decodes a few strings, not the
    whole table. None when the rows hold a prefixed ``<v>``."""
    if b":v>" in rows:
        return None
    strings = [b"</si>"] * (len(pieces) - 1)
    for index in {int(n) for n in INDEX.findall(rows)}:
        if index < len(strings):
            strings[index] = pieces[index + 1]
    if strings and strings[-1] is not pieces[-1]:
        strings[-1] += pieces[-1].partition(b"</si>")[2]  # what follows the last string: </sst>
    return b"<si>".join([pieces[0], *strings])


class Rows(NamedTuple):
    """Where a sheet part's rows are: ``<sheetData ...>`` ends at ``opening_end``, the header (row 1)
    spans ``header_start:header_end`` (``</row>`` included), and ``</sheetData>`` is at ``close``. (A
    NamedTuple: it costs the read no dataclass to build at import.)"""

    opening_end: int
    header_start: int
    header_end: int
    close: int

    def sheet(self, data: bytes, rows: bytes) -> bytes:
        """The part with ``rows`` in place of its own (its ``<dimension>`` dropped: calamine sizes the
        sheet from the rows)."""
        return DIMENSION.sub(b"", data[: self.opening_end]) + rows + b"</sheetData></worksheet>"


def rows_of_sheet(data: bytes) -> Rows | None:
    """Where the rows of an unprefixed sheet part are, when its first row is row 1 and a row of its own;
    None for anything else (a prefix, a comment or DOCTYPE before the rows, an empty ``<sheetData/>``)."""
    prefix = PREFIX.search(data)
    if prefix is None or prefix.group(1):
        return None
    opening_end = data.find(b">", prefix.end()) + 1
    close = data.rfind(b"</sheetData>")
    if opening_end <= 0 or b"<!" in data[:opening_end] or close < opening_end:
        return None
    if data[opening_end - 2 : opening_end] == b"/>":
        return None
    header_start = data.find(b"<row", opening_end, close)
    header_end = data.find(b"</row>", header_start, close)
    first = ROW_R.match(data, header_start) if header_start >= 0 else None
    if first is None or first.group(1) != b"1" or not one_row(data, header_start, header_end):
        return None
    return Rows(opening_end, header_start, header_end + len(b"</row>"), close)


def one_row(data: bytes, start: int, end: int) -> bool:
    """Whether ``data[start:end]`` (``end``: where ``</row>`` is) is one row, not an empty ``<row/>``
    and the next one."""
    return end >= 0 and data.find(b"<row", start + 4, end) < 0
