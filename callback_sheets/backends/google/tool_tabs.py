"""The requests that make a tool tab (History, Intake, Metrics, Demand...) and the Scripts tab on Google."""

from __future__ import annotations

from typing import Any

from callback_sheets.backends.google.sheet_requests import (
    STAFF_HEADER,
    TAB_HEADER,
    TAB_HEADER_FONT,
    Request,
    SheetMeta,
    add_sheet,
    datetime_format,
    rgb,
    text_cell,
)
from callback_sheets.backends.google.values import is_datetime_column
from callback_sheets.layout import HIDDEN_TABS, TabSpec
from callback_sheets.look import DEFAULT_LOOK, Look


def tool_tab(meta: SheetMeta, tab: TabSpec, look: Look = DEFAULT_LOOK) -> list[Request]:
    out = [add_sheet(meta, hidden=tab.name in HIDDEN_TABS, frozen=1 if tab.header else 0)]
    if tab.header:
        head = {
            "backgroundColor": TAB_HEADER,
            "textFormat": {"bold": True, "foregroundColor": TAB_HEADER_FONT},
        }
        cells = [{**text_cell(h), "userEnteredFormat": head} for h in tab.header]
        start = {"sheetId": meta.sheet_id, "rowIndex": 0, "columnIndex": 0}
        out.append(
            {
                "updateCells": {
                    "start": start,
                    "rows": [{"values": cells}],
                    "fields": "userEnteredValue,userEnteredFormat(backgroundColor,textFormat)",
                }
            }
        )
        out += [
            datetime_format(meta.sheet_id, i, 1, look.date_format)
            for i, h in enumerate(tab.header)
            if is_datetime_column(h)
        ]
    out += [
        datetime_format(meta.sheet_id, col - 1, row - 1, look.date_format) for col, row in tab.date_columns
    ]
    return out


def scripts_tab(meta: SheetMeta, look: Look) -> list[Request]:
    """The Scripts tab: titles bold white on blue, each script wrapped in one cell, column B wide."""
    out: list[Request] = [add_sheet(meta, frozen=2)]
    rows = []
    for number, (what, text) in enumerate(look.scripts, start=1):
        fmt: dict[str, Any] = {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
        first = dict(fmt)
        if number in look.script_titles:
            first = {
                **fmt,
                "backgroundColor": STAFF_HEADER,
                "textFormat": {"bold": True, "foregroundColor": rgb("FFFFFF")},
            }
        elif number == 2:
            first = {
                **fmt,
                "backgroundColor": TAB_HEADER,
                "textFormat": {"bold": True, "foregroundColor": TAB_HEADER_FONT},
            }
        elif what:
            first = {**fmt, "textFormat": {"bold": True}}
        cells = [
            {**(text_cell(what) if what else {}), "userEnteredFormat": first},
            {
                **(text_cell(text) if text else {}),
                "userEnteredFormat": first if number in (2, *look.script_titles) else fmt,
            },
        ]
        rows.append({"values": cells})
    start = {"sheetId": meta.sheet_id, "rowIndex": 0, "columnIndex": 0}
    out.append(
        {"updateCells": {"start": start, "rows": rows, "fields": "userEnteredValue,userEnteredFormat"}}
    )
    for col, pixels in ((0, 120), (1, 760)):
        dim = {"sheetId": meta.sheet_id, "dimension": "COLUMNS", "startIndex": col, "endIndex": col + 1}
        out.append(
            {
                "updateDimensionProperties": {
                    "range": dim,
                    "properties": {"pixelSize": pixels},
                    "fields": "pixelSize",
                }
            }
        )
    return out
