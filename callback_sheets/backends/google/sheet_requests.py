"""The ``spreadsheets.batchUpdate`` requests the backend's parts share: add a tab, resize it, delete rows,
write a row of text, format a column; and the tabs' sizes (``SheetMeta``) they act on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callback_sheets import look as look_spec

Request = dict[str, Any]
GROWTH = 0.1  # a write past a tab's end grows it by what it needs plus a tenth (at least MIN_ROOM rows)
MIN_ROOM = 100
DATETIME_PATTERN = look_spec.DEFAULT_DATE_FORMAT


@dataclass(slots=True)
class SheetMeta:
    """What ``spreadsheets.get`` says about one tab."""

    sheet_id: int
    title: str
    rows: int
    cols: int


def rgb(hex_colour: str) -> dict[str, float]:
    """``"1F4E78"`` → ``{"red": .., "green": .., "blue": ..}`` in 0..1."""
    return {k: int(hex_colour[i : i + 2], 16) / 255 for k, i in (("red", 0), ("green", 2), ("blue", 4))}


STAFF_HEADER, TOOL_HEADER = rgb(look_spec.STAFF_HEADER), rgb(look_spec.TOOL_HEADER)
TAB_HEADER, TAB_HEADER_FONT = rgb(look_spec.TAB_HEADER), rgb(look_spec.TAB_HEADER_FONT)


def add_sheet(meta: SheetMeta, *, index: int | None = None, hidden: bool = False, frozen: int = 1) -> Request:
    props: dict[str, Any] = {
        "sheetId": meta.sheet_id,
        "title": meta.title,
        "gridProperties": {"rowCount": meta.rows, "columnCount": meta.cols, "frozenRowCount": frozen},
    }
    if index is not None:
        props["index"] = index
    if hidden:
        props["hidden"] = True
    return {"addSheet": {"properties": props}}


def grid_size(meta: SheetMeta) -> Request:
    props = {"sheetId": meta.sheet_id, "gridProperties": {"rowCount": meta.rows, "columnCount": meta.cols}}
    fields = "gridProperties.rowCount,gridProperties.columnCount"
    return {"updateSheetProperties": {"properties": props, "fields": fields}}


def text_cell(value: str) -> dict[str, Any]:
    return {"userEnteredValue": {"stringValue": value}}


def room(rows: int) -> int:
    """Spare rows a grown tab gets: a tenth of it, at least 100 (not Google's 1,000)."""
    return max(MIN_ROOM, int(rows * GROWTH))


def delete_rows(sheet_id: int, start: int, end: int) -> Request:
    """Delete rows ``start`` to ``end - 1`` (0-based, end exclusive) of a tab."""
    span = {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": start, "endIndex": end}
    return {"deleteDimension": {"range": span}}


def data_format(sheet_id: int, col: int, start_row: int, date_format: str | None, *, wrap: bool) -> Request:
    grid = {
        "sheetId": sheet_id,
        "startRowIndex": start_row,
        "startColumnIndex": col,
        "endColumnIndex": col + 1,
    }
    fmt: dict[str, Any] = {
        "wrapStrategy": "WRAP" if wrap else "OVERFLOW_CELL",
        "verticalAlignment": "TOP",
        "textFormat": {"bold": False, "italic": False, "foregroundColor": rgb(look_spec.DATA_FONT)},
    }
    fields = "userEnteredFormat(wrapStrategy,verticalAlignment,textFormat)"
    if date_format:
        fmt["numberFormat"] = {"type": "DATE_TIME", "pattern": date_format}
        fields = "userEnteredFormat(wrapStrategy,verticalAlignment,textFormat,numberFormat)"
    return {"repeatCell": {"range": grid, "cell": {"userEnteredFormat": fmt}, "fields": fields}}


def datetime_format(sheet_id: int, col: int, start_row: int, pattern: str = DATETIME_PATTERN) -> Request:
    grid = {
        "sheetId": sheet_id,
        "startRowIndex": start_row,
        "startColumnIndex": col,
        "endColumnIndex": col + 1,
    }
    fmt = {"numberFormat": {"type": "DATE_TIME", "pattern": pattern}}
    return {
        "repeatCell": {
            "range": grid,
            "cell": {"userEnteredFormat": fmt},
            "fields": "userEnteredFormat.numberFormat",
        }
    }
