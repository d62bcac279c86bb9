"""Row/column structure edits on a sheet: insert, delete, sort (as staff do them in the UI)."""

from __future__ import annotations

import functools
from typing import Any

from tests.sheets_emulator.a1 import Bounds
from tests.sheets_emulator.errors import bad_request
from tests.sheets_emulator.store import Cell, Sheet


def _shift_meta(meta: dict[int, dict[str, Any]], start: int, delta: int) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for index, value in meta.items():
        if index < start:
            out[index] = value
        elif delta < 0 and index < start - delta:
            continue
        else:
            out[index + delta] = value
    return out


def insert_dimension(sheet: Sheet, dimension: str, start: int, end: int) -> None:
    """Insert ``end - start`` empty rows or columns before ``start``; the grid grows."""
    count = end - start
    grid = sheet.properties["gridProperties"]
    if dimension == "ROWS":
        if start > sheet.row_count:
            raise bad_request("Invalid requests[0].insertDimension: range is out of bounds.")
        if start < len(sheet.rows):
            sheet.rows[start:start] = [[] for _ in range(count)]
        grid["rowCount"] = sheet.row_count + count
        sheet.row_meta = _shift_meta(sheet.row_meta, start, count)
    else:
        if start > sheet.col_count:
            raise bad_request("Invalid requests[0].insertDimension: range is out of bounds.")
        for line in sheet.rows:
            if start < len(line):
                line[start:start] = [None] * count
        grid["columnCount"] = sheet.col_count + count
        sheet.col_meta = _shift_meta(sheet.col_meta, start, count)


def delete_dimension(sheet: Sheet, dimension: str, start: int, end: int) -> None:
    """Delete rows or columns ``[start, end)``; refuses to delete every row or column, as Google does."""
    grid = sheet.properties["gridProperties"]
    if dimension == "ROWS":
        end = min(end, sheet.row_count)
        if start == 0 and end >= sheet.row_count:
            raise bad_request("You can't delete all the rows on the sheet.")
        del sheet.rows[start:end]
        grid["rowCount"] = sheet.row_count - (end - start)
        sheet.row_meta = _shift_meta(sheet.row_meta, start, start - end)
    else:
        end = min(end, sheet.col_count)
        if start == 0 and end >= sheet.col_count:
            raise bad_request("You can't delete all the columns on the sheet.")
        for line in sheet.rows:
            del line[start:end]
        grid["columnCount"] = sheet.col_count - (end - start)
        sheet.col_meta = _shift_meta(sheet.col_meta, start, start - end)


def _sort_key(sheet: Sheet, row: int, col: int) -> tuple[int, Any]:
    value = sheet.computed(row, col)
    if value is None:
        return (3, 0)
    if "numberValue" in value:
        return (0, float(value["numberValue"]))
    if "stringValue" in value:
        return (1, str(value["stringValue"]).lower())
    if "boolValue" in value:
        return (2, bool(value["boolValue"]))
    return (2, 0)


def sort_range(sheet: Sheet, bounds: Bounds, specs: list[dict[str, Any]]) -> None:
    """Sort the rows of closed bounds by the sort specs; empty cells always sort last."""
    assert bounds.end_row is not None and bounds.end_col is not None
    rows = list(range(bounds.start_row, bounds.end_row))

    def compare(a: int, b: int) -> int:
        for spec in specs:
            col = int(spec.get("dimensionIndex", 0))
            ka, kb = _sort_key(sheet, a, col), _sort_key(sheet, b, col)
            if ka == kb:
                continue
            if ka[0] == 3 or kb[0] == 3:
                return 1 if ka[0] == 3 else -1
            less = ka < kb
            descending = spec.get("sortOrder") == "DESCENDING"
            return (1 if less else -1) if descending else (-1 if less else 1)
        return 0

    order = sorted(rows, key=functools.cmp_to_key(compare))
    snapshot: dict[int, list[Cell | None]] = {
        r: [sheet.cell(r, c) for c in range(bounds.start_col, bounds.end_col)] for r in rows
    }
    for target, source in zip(rows, order, strict=True):
        for offset, found in enumerate(snapshot[source]):
            col = bounds.start_col + offset
            if found is None:
                if sheet.cell(target, col) is not None:
                    sheet.rows[target][col] = None
            else:
                sheet.ensure(target, col)
                sheet.rows[target][col] = found
