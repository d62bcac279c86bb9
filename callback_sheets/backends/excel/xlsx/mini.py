"""The pieces shared by the keyed reads (:mod:`.keyed`, :mod:`.keyed_queue`, :mod:`.open_queue`): the
small in-memory workbook they hand calamine holds the rows found, an empty sheet for every other worksheet,
and a shared-string table cut down to the strings those rows use. Light on purpose: it imports nothing of
the patcher, so a read that needs none of it (``queue``) does not load it."""

from __future__ import annotations

import re
from itertools import repeat

EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)
INDEX = re.compile(rb"<v>\s*([0-9]+)\s*</v>")
DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
PREFIX = re.compile(rb"<(\w+:)?sheetData\b")


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
