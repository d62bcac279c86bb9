"""The ``spreadsheets.values`` methods: get, batchGet, update, batchUpdate, append, clear, batchClear."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.sheets_emulator import values as vals
from tests.sheets_emulator.a1 import A1Error, Bounds, format_range, parse_range
from tests.sheets_emulator.errors import ApiError, bad_request, unable_to_parse
from tests.sheets_emulator.store import Sheet, Spreadsheet

Params = Mapping[str, list[str]]


def _param(params: Params, name: str, default: str) -> str:
    found = params.get(name)
    return found[0] if found else default


def resolve(book: Spreadsheet, text: str) -> tuple[Sheet, Bounds, Bounds]:
    """(sheet, bounds as given, bounds closed at the grid) of a range; Google's 400 when unparsable."""
    titles = [s.title for s in book.sheets]
    try:
        parsed = parse_range(text, titles)
    except A1Error as exc:
        raise unable_to_parse(text) from exc
    if parsed.sheet is None:
        sheet = book.sheets[0]
    elif parsed.sheet in titles:
        sheet = book.sheet_by_title(parsed.sheet)
    else:
        raise unable_to_parse(text)
    closed = parsed.bounds.clamp(sheet.row_count, sheet.col_count)
    assert closed.end_row is not None and closed.end_col is not None
    if closed.start_row >= sheet.row_count or closed.start_col >= sheet.col_count:
        corner = parsed.bounds.clamp(closed.start_row + 1, closed.start_col + 1)
        raise ApiError(
            400,
            f"Range ({format_range(sheet.title, corner)}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}",
        )
    return sheet, parsed.bounds, closed


def _transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    out = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
    for line in out:
        while line and line[-1] == "":
            line.pop()
    return out


def value_range(book: Spreadsheet, text: str, params: Params) -> dict[str, Any]:
    """One ValueRange, as ``values.get`` answers."""
    sheet, _, closed = resolve(book, text)
    major = _param(params, "majorDimension", "ROWS")
    rows = sheet.read(
        closed,
        _param(params, "valueRenderOption", "FORMATTED_VALUE"),
        _param(params, "dateTimeRenderOption", "SERIAL_NUMBER"),
    )
    out: dict[str, Any] = {"range": format_range(sheet.title, closed), "majorDimension": major}
    if rows:
        out["values"] = _transpose(rows) if major == "COLUMNS" else rows
    return out


def batch_get(book: Spreadsheet, params: Params) -> dict[str, Any]:
    """``values:batchGet``."""
    ranges = params.get("ranges", [])
    return {
        "spreadsheetId": book.spreadsheet_id,
        "valueRanges": [value_range(book, text, params) for text in ranges],
    }


def _rows_of(body: Mapping[str, Any]) -> list[list[Any]]:
    data = body.get("values")
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(row, list) for row in data):
        raise _invalid_values(data)
    rows: list[list[Any]] = data
    return _transpose_raw(rows) if body.get("majorDimension") == "COLUMNS" else rows


def _transpose_raw(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    return [[r[c] if c < len(r) else None for r in rows] for c in range(width)]


def _invalid_values(data: Any) -> ApiError:
    import json

    shown = json.dumps(data)
    message = f"Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), {shown}"
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {
                    "field": "data.values",
                    "description": message,
                }
            ],
        }
    ]
    return ApiError(400, message, details=details)


def _parser(params: Params, body_option: str | None = None) -> Any:
    option = body_option or _param(params, "valueInputOption", "")
    if option == "RAW":
        return vals.parse_raw
    if option == "USER_ENTERED":
        return vals.parse_user_entered
    raise bad_request(
        "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED"
        if not option
        else f"Invalid value at 'value_input_option' (TYPE_ENUM), \"{option}\""
    )


def write_rows(
    sheet: Sheet, top: int, left: int, rows: list[list[Any]], parse: Any, echo: Bounds | None = None
) -> dict[str, Any]:
    """Write rows at a top-left corner; ``None`` skips a cell, ``""`` clears it.

    Counts follow Google: only non-null cells count, ``updatedRange`` echoes a multi-cell target range.
    """
    width = max((len(r) for r in rows), default=0)
    if top + len(rows) > sheet.row_count or left + width > sheet.col_count:
        bounds = Bounds(top + len(rows) - 1, top + len(rows), left + width - 1, left + width)
        raise ApiError(
            400,
            f"Range ({format_range(sheet.title, bounds)}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}",
        )
    written_rows: set[int] = set()
    written_cols: set[int] = set()
    cells = 0
    for r, line in enumerate(rows):
        for c, raw in enumerate(line):
            if raw is None:
                continue
            cells += 1
            written_rows.add(top + r)
            written_cols.add(left + c)
            sheet.set_value(top + r, left + c, parse(raw))
    if not cells:
        return {}
    target = echo or Bounds(top, top + len(rows), left, left + width)
    return {
        "updatedRange": format_range(sheet.title, target),
        "updatedRows": len(written_rows),
        "updatedColumns": len(written_cols),
        "updatedCells": cells,
        "_cells": {(sheet.sheet_id, r) for r in written_rows},
        "_cols": {(sheet.sheet_id, c) for c in written_cols},
    }


def _public(written: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in written.items() if not k.startswith("_")}


def _echo(given: Bounds, closed: Bounds) -> Bounds | None:
    single = given.end_row == given.start_row + 1 and given.end_col == given.start_col + 1
    return None if single else closed


def _check_fits(sheet: Sheet, given: Bounds, closed: Bounds, rows: list[list[Any]], text: str) -> None:
    single = given.end_row == given.start_row + 1 and given.end_col == given.start_col + 1
    if single and given.end_row is not None:
        return
    assert closed.end_row is not None and closed.end_col is not None
    width = max((len(r) for r in rows), default=0)
    if given.end_row is not None and closed.start_row + len(rows) > closed.end_row:
        last_row = closed.start_row + len(rows)
        raise bad_request(f"Requested writing within range [{text}], but tried writing to row [{last_row}]")
    if given.end_col is not None and closed.start_col + width > closed.end_col:
        from tests.sheets_emulator.a1 import index_to_col

        raise bad_request(
            f"Requested writing within range [{text}], but tried writing to column "
            f"[{index_to_col(closed.start_col + width - 1)}]"
        )


def update(book: Spreadsheet, text: str, body: Mapping[str, Any], params: Params) -> dict[str, Any]:
    """``values.update`` (PUT)."""
    parse = _parser(params)
    rows = _rows_of(body)
    sheet, given, closed = resolve(book, text)
    _check_fits(sheet, given, closed, rows, text)
    written = _public(
        write_rows(sheet, closed.start_row, closed.start_col, rows, parse, _echo(given, closed))
    )
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, **written}
    if _param(params, "includeValuesInResponse", "false").lower() == "true" and "updatedRange" in written:
        out["updatedData"] = value_range(book, written["updatedRange"], params_for_response(params))
    return out


def params_for_response(params: Params) -> dict[str, list[str]]:
    """Render options for ``updatedData`` (``responseValueRenderOption``...)."""
    return {
        "valueRenderOption": [_param(params, "responseValueRenderOption", "FORMATTED_VALUE")],
        "dateTimeRenderOption": [_param(params, "responseDateTimeRenderOption", "SERIAL_NUMBER")],
    }


def batch_update(book: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
    """``values:batchUpdate``."""
    option = str(body.get("valueInputOption", ""))
    parse = _parser({}, option)
    responses: list[dict[str, Any]] = []
    touched: set[int] = set()
    all_rows: set[tuple[int, int]] = set()
    all_cols: set[tuple[int, int]] = set()
    for item in body.get("data", []):
        rows = _rows_of(item)
        sheet, given, closed = resolve(book, str(item.get("range", "")))
        _check_fits(sheet, given, closed, rows, str(item.get("range", "")))
        written = write_rows(sheet, closed.start_row, closed.start_col, rows, parse, _echo(given, closed))
        if written:
            touched.add(sheet.sheet_id)
            all_rows |= written["_cells"]
            all_cols |= written["_cols"]
        responses.append({"spreadsheetId": book.spreadsheet_id, **_public(written)})
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if responses and touched:
        out.update(
            {
                "totalUpdatedRows": len(all_rows),
                "totalUpdatedColumns": len(all_cols),
                "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
                "totalUpdatedSheets": len(touched),
            }
        )
    out["responses"] = responses
    return out


def _has_value(sheet: Sheet, row: int, col: int) -> bool:
    found = sheet.cell(row, col)
    return found is not None and found.value is not None


def find_table(sheet: Sheet, area: Bounds, from_last: bool = False) -> Bounds | None:
    """The table ``values.append`` appends to: the block of data connected to the first value in the
    range (for a whole-sheet range, Google starts from the last value instead)."""
    assert area.end_row is not None and area.end_col is not None
    start: tuple[int, int] | None = None
    for r in range(area.start_row, min(area.end_row, len(sheet.rows))):
        for c in range(area.start_col, min(area.end_col, len(sheet.rows[r]))):
            if _has_value(sheet, r, c):
                start = (r, c)
                if not from_last:
                    break
        if start and not from_last:
            break
    if start is None:
        return None
    top, left = start
    bottom, right = top + 1, left + 1
    grid = Bounds(0, sheet.row_count, 0, sheet.col_count)  # the table may extend past the given range
    end_row, end_col = sheet.row_count, sheet.col_count
    grown = True
    while grown:
        grown = False
        if bottom < end_row and any(_has_value(sheet, bottom, c) for c in range(left, right)):
            bottom += 1
            grown = True
        if right < end_col and any(_has_value(sheet, r, right) for r in range(top, bottom)):
            right += 1
            grown = True
        if left > grid.start_col and any(_has_value(sheet, r, left - 1) for r in range(top, bottom)):
            left -= 1
            grown = True
        if top > grid.start_row and any(_has_value(sheet, top - 1, c) for c in range(left, right)):
            top -= 1
            grown = True
    return Bounds(top, bottom, left, right)


def append(book: Spreadsheet, text: str, body: Mapping[str, Any], params: Params) -> dict[str, Any]:
    """``values.append``: find the table in the range, write after its last row (grid grows)."""
    parse = _parser(params)
    rows = _rows_of(body)
    sheet, given, closed = resolve(book, text)
    table = find_table(sheet, closed, from_last=given == Bounds())
    top = table.end_row if table else closed.start_row
    assert top is not None
    left = table.start_col if table else closed.start_col
    if _param(params, "insertDataOption", "OVERWRITE") == "INSERT_ROWS" and rows:
        from tests.sheets_emulator.dimensions import insert_dimension

        insert_dimension(sheet, "ROWS", top, top + len(rows))
    width = max((len(r) for r in rows), default=0)
    grid = sheet.properties["gridProperties"]
    grid["rowCount"] = max(sheet.row_count, top + len(rows))
    grid["columnCount"] = max(sheet.col_count, left + width)
    written = _public(write_rows(sheet, top, left, rows, parse))
    updates: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, **written}
    if _param(params, "includeValuesInResponse", "false").lower() == "true" and "updatedRange" in written:
        updates["updatedData"] = value_range(book, written["updatedRange"], params_for_response(params))
    out: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
    if table is not None:
        out["tableRange"] = format_range(sheet.title, table)
    out["updates"] = updates
    return out


def clear(book: Spreadsheet, text: str) -> str:
    """Clear values in a range; returns the ``clearedRange`` echo."""
    sheet, _, closed = resolve(book, text)
    sheet.clear_values(closed)
    return format_range(sheet.title, closed)


def batch_clear(book: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
    """``values:batchClear``."""
    cleared = [clear(book, str(text)) for text in body.get("ranges", [])]
    return {"spreadsheetId": book.spreadsheet_id, "clearedRanges": cleared}
