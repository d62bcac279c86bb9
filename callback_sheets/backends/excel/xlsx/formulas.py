"""The formula checks of a patch: where a chunk of sheet XML holds its first formula, and the refusal
to write a cell a shared or array formula's range covers."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

from callback_sheets.backends.excel.xlsx.cells import PatchRefused, cell_ref, parse_range
from callback_sheets.backends.excel.xlsx.read import CellValue

_FORMULA_REF = re.compile(rb"""<f\b[^>]*?\sref\s*=\s*["']([^"']+)["']""")
_F_LOOKS = 2048  # "f"s looked at one by one before the pair "<f" is searched for


def first_formula(xml: bytes, start: int = 0) -> int:
    """Where the first ``<f`` at or after ``start`` is (-1: none). The letter ``f`` is rare in sheet XML:
    its places are found with memchr and looked at one by one (much faster than searching for the pair),
    unless there are many, when the pair is searched for."""
    pos = start + 1
    for _ in range(_F_LOOKS):
        pos = xml.find(b"f", pos)
        if pos < 0:
            return -1
        if xml[pos - 1] == 0x3C:  # "<"
            return pos - 1
        pos += 1
    return xml.find(b"<f", pos - 1)


def refuse_formula_ranges(
    xml: bytes,
    keys: list[tuple[int, int]],
    appends: Sequence[Sequence[CellValue]],
    last_before: int,
    start: int = 0,
) -> None:
    """Refuses when a shared or array formula's range covers a cell the patch writes (``xml`` holds no
    formula before ``start``)."""
    if not (keys or appends):
        return
    start = xml.find(b"<f", start)
    if start < 0:
        return
    for match in _FORMULA_REF.finditer(xml, start):
        area = parse_range(match.group(1))
        if area is None:
            raise PatchRefused(f"unreadable formula range {match.group(1).decode(errors='replace')!r}")
        first_row, first_col, last_row, last_col = area
        covered = None
        index = bisect_left(keys, (first_row, 0))
        while covered is None and index < len(keys) and keys[index][0] <= last_row:
            if first_col <= keys[index][1] <= last_col:
                covered = keys[index]
            index += 1
        for row in range(max(first_row, last_before + 1), min(last_row, last_before + len(appends)) + 1):
            values = appends[row - last_before - 1]
            for col in range(first_col, min(last_col, len(values)) + 1):
                if covered is None and values[col - 1] is not None:
                    covered = (row, col)
        if covered is not None:
            ref = cell_ref(*covered).decode()
            raise PatchRefused(f"a shared or array formula ({match.group(1).decode()}) covers {ref}")


__all__ = ["first_formula", "refuse_formula_ranges"]
