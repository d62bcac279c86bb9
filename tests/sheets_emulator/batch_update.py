"""``spreadsheets.batchUpdate``: each request kind as a function; the batch is all-or-nothing.

The requests are applied to a working copy of the spreadsheet (``Store.working_copy``: cells copied on
write); the copy replaces the original only when every request succeeded, so one failing request leaves
nothing applied (Google's behaviour). Errors read ``Invalid requests[i].<kind>: <reason>`` like Google's.

A cell's dicts and a row's or column's metadata are shared between copies, so they are replaced here,
never changed in place (``_with_path``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from tests.sheets_emulator.a1 import Bounds
from tests.sheets_emulator.dimensions import delete_dimension, insert_dimension, sort_range
from tests.sheets_emulator.errors import ApiError, bad_request
from tests.sheets_emulator.fieldmask import mask_paths
from tests.sheets_emulator.metadata import grid_range_out
from tests.sheets_emulator.store import Cell, Sheet, Spreadsheet, Store, new_sheet_properties

Reply = dict[str, Any]
Handler = Callable[[Store, Spreadsheet, dict[str, Any]], Reply]
CELL_FIELDS = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")


def _drop_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _drop_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_drop_nulls(v) for v in data]
    return data


_REMOVE: Any = object()


def _path_value(path: list[str], source: dict[str, Any]) -> Any:
    """``source[path]`` with nulls dropped, or ``_REMOVE`` when absent or empty (setting it deletes)."""
    src: Any = source
    for key in path:
        src = src.get(key) if isinstance(src, dict) else None
    src = _drop_nulls(src)
    if src is None or src == {} or (isinstance(src, dict) and all(v == {} for v in src.values())):
        return _REMOVE
    return src


def _set_path(target: dict[str, Any], path: list[str], source: dict[str, Any]) -> None:
    """Copy ``source[path]`` into ``target[path]`` in place; absent in source means delete."""
    node = target
    for key in path[:-1]:
        node = node.setdefault(key, {})
    src = _path_value(path, source)
    if src is _REMOVE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(src)


def _with_path(target: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """``target`` with ``path`` set to a ``_path_value`` (deleted for ``_REMOVE``), as a new dict: the
    dicts along the path are copied, the rest is shared. Missing levels are made (as ``_set_path`` does)."""
    out = dict(target)
    node = out
    for key in path[:-1]:
        child = node.get(key)
        node[key] = child = dict(child) if isinstance(child, dict) else {}
        node = child
    if value is _REMOVE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return out


def grid_bounds(book: Spreadsheet, grid: dict[str, Any]) -> tuple[Sheet, Bounds]:
    """The sheet and closed bounds of a GridRange."""
    sheet = book.sheet_by_id(int(grid.get("sheetId", 0)))
    bounds = Bounds(
        int(grid.get("startRowIndex", 0)),
        int(grid["endRowIndex"]) if "endRowIndex" in grid else None,
        int(grid.get("startColumnIndex", 0)),
        int(grid["endColumnIndex"]) if "endColumnIndex" in grid else None,
    )
    return sheet, bounds.clamp(sheet.row_count, sheet.col_count)


Edit = tuple[str, list[str], Any]


def _cell_paths(fields: str) -> list[list[str]]:
    """The leaf paths of a CellData field mask (``*``: every field the emulator stores)."""
    return [[f] for f in CELL_FIELDS] if fields.strip() == "*" else mask_paths(fields)


def _cell_edits(data: dict[str, Any], paths: list[list[str]]) -> list[Edit]:
    """What a CellData does to a cell under a mask: (attribute, format path, new value) in mask order."""
    edits: list[Edit] = []
    for path in paths:
        head = path[0]
        if head == "userEnteredValue":
            edits.append(("value", [], data.get("userEnteredValue")))
        elif head == "userEnteredFormat":
            given = data.get("userEnteredFormat") or {}
            if len(path) == 1:
                edits.append(("fmt", [], given))
            else:
                edits.append(("fmt", path[1:], _path_value(path[1:], given)))
        elif head == "note":
            edits.append(("note", [], data.get("note") or None))
        elif head == "dataValidation":
            edits.append(("validation", [], data.get("dataValidation")))
    return edits


def _apply_cell(sheet: Sheet, row: int, col: int, edits: list[Edit]) -> None:
    target = sheet.ensure(row, col)
    for attribute, path, value in edits:
        if attribute == "value":
            target.value = value
        elif attribute == "fmt":
            target.fmt = _with_path(target.fmt, path, value) if path else value
        elif attribute == "note":
            target.note = value
        else:
            target.validation = value
    if target.is_blank():
        sheet.rows[row][col] = None


def add_sheet(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    given = _drop_nulls(body.get("properties", {}))
    title = given.get("title") or f"Sheet{len(book.sheets) + 1}"
    if any(s.title == title for s in book.sheets):
        raise bad_request(f'A sheet with the name "{title}" already exists. Please enter another name.')
    sheet_id = int(given.get("sheetId", store.new_sheet_id()))
    if any(s.sheet_id == sheet_id for s in book.sheets):
        raise bad_request(f"A sheet with the id {sheet_id} already exists.")
    index = int(given.get("index", len(book.sheets)))
    props = new_sheet_properties(sheet_id, title, index)
    grid = {**props["gridProperties"], **given.get("gridProperties", {})}
    props.update({k: v for k, v in given.items() if k not in ("sheetId", "title", "index")})
    props["gridProperties"] = grid
    for sheet in book.sheets:
        if sheet.properties["index"] >= index:
            sheet.properties["index"] += 1
    book.sheets.append(Sheet(props))
    book.reindex()
    return {"addSheet": {"properties": copy.deepcopy(props)}}


def delete_sheet(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet = book.sheet_by_id(int(body.get("sheetId", 0)))
    if len(book.sheets) == 1:
        raise bad_request("You can't remove all the sheets in a document.")
    book.sheets.remove(sheet)
    for i, other in enumerate(book.sheets):
        other.properties["index"] = i
    return {}


def update_sheet_properties(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    given = body.get("properties", {})
    sheet = book.sheet_by_id(int(given.get("sheetId", 0)))
    before_index = sheet.properties["index"]
    for path in mask_paths(str(body.get("fields", ""))):
        if path == ["title"] and any(s.title == given.get("title") and s is not sheet for s in book.sheets):
            raise bad_request(
                f'A sheet with the name "{given.get("title")}" already exists. Please enter another name.'
            )
        _set_path(sheet.properties, path, given)
    grid = sheet.properties.get("gridProperties", {})
    for key in [k for k, v in grid.items() if v in (0, False)]:
        del grid[key]  # proto defaults (frozenRowCount 0, hideGridlines false) are not echoed
    if sheet.properties.get("hidden") and all(s.properties.get("hidden") for s in book.sheets):
        raise bad_request("You can't hide all the sheets in a document.")
    if not sheet.properties.get("hidden"):
        sheet.properties.pop("hidden", None)
    if sheet.properties["index"] != before_index:
        new_index = min(int(sheet.properties["index"]), len(book.sheets) - 1)
        book.sheets.remove(sheet)
        book.sheets.insert(new_index, sheet)
        for i, other in enumerate(book.sheets):
            other.properties["index"] = i
    return {}


def update_spreadsheet_properties(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    for path in mask_paths(str(body.get("fields", ""))):
        _set_path(book.properties, path, body.get("properties", {}))
    return {}


def update_cells(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    rows = body.get("rows", [])
    if "start" in body:
        start = body["start"]
        sheet = book.sheet_by_id(int(start.get("sheetId", 0)))
        top, left = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        height, width = len(rows), max((len(r.get("values", [])) for r in rows), default=0)
        bounds = Bounds(top, top + height, left, left + width)
    else:
        sheet, bounds = grid_bounds(book, body.get("range", {}))
    assert bounds.end_row is not None and bounds.end_col is not None
    paths = _cell_paths(str(body.get("fields", "")))
    blank = _cell_edits({}, paths)
    for r in range(bounds.start_row, bounds.end_row):
        line = rows[r - bounds.start_row].get("values", []) if r - bounds.start_row < len(rows) else []
        for c in range(bounds.start_col, bounds.end_col):
            data = line[c - bounds.start_col] if c - bounds.start_col < len(line) else None
            _apply_cell(sheet, r, c, blank if data is None else _cell_edits(data, paths))
    return {}


def repeat_cell(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, bounds = grid_bounds(book, body.get("range", {}))
    assert bounds.end_row is not None and bounds.end_col is not None
    edits = _cell_edits(body.get("cell", {}), _cell_paths(str(body.get("fields", ""))))
    for r in range(bounds.start_row, bounds.end_row):
        for c in range(bounds.start_col, bounds.end_col):
            _apply_cell(sheet, r, c, edits)
    return {}


def _dimension_range(book: Spreadsheet, body: dict[str, Any]) -> tuple[Sheet, str, int, int]:
    rng = body.get("range", {})
    sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
    dimension = str(rng.get("dimension", "ROWS"))
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    return sheet, dimension, int(rng.get("startIndex", 0)), int(rng.get("endIndex", limit))


def insert_dimension_request(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, dimension, start, end = _dimension_range(book, body)
    insert_dimension(sheet, dimension, start, end)
    return {}


def delete_dimension_request(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, dimension, start, end = _dimension_range(book, body)
    delete_dimension(sheet, dimension, start, end)
    return {}


def update_dimension_properties(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, dimension, start, end = _dimension_range(book, body)
    meta = sheet.row_meta if dimension == "ROWS" else sheet.col_meta
    given = body.get("properties", {})
    changes = [(path, _path_value(path, given)) for path in mask_paths(str(body.get("fields", "")))]
    for index in range(start, end):
        entry = meta.get(index, {})
        for path, value in changes:
            entry = _with_path(entry, path, value)
        meta[index] = dict(entry)
    return {}


def sort_range_request(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, bounds = grid_bounds(book, body.get("range", {}))
    sort_range(sheet, bounds, list(body.get("sortSpecs", [])))
    return {}


def set_data_validation(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    sheet, bounds = grid_bounds(book, body.get("range", {}))
    assert bounds.end_row is not None and bounds.end_col is not None
    rule = _drop_nulls(body.get("rule"))
    for r in range(bounds.start_row, bounds.end_row):
        for c in range(bounds.start_col, bounds.end_col):
            if rule is None and sheet.cell(r, c) is None:
                continue
            target: Cell = sheet.ensure(r, c)
            target.validation = rule
            if target.is_blank():
                sheet.rows[r][c] = None
    return {}


def add_conditional_format_rule(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    rule = _drop_nulls(copy.deepcopy(body.get("rule", {})))
    ranges = rule.get("ranges", [])
    if not ranges:
        raise bad_request("At least one range is required.")
    sheet = book.sheet_by_id(int(ranges[0].get("sheetId", 0)))
    index = int(body.get("index", 0))
    sheet.conditional_formats.insert(index, rule)
    return {}


def add_protected_range(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    given = _drop_nulls(copy.deepcopy(body.get("protectedRange", {})))
    sheet, _ = grid_bounds(book, given.get("range", {}))
    protected = {
        "protectedRangeId": int(given.get("protectedRangeId", store.new_sheet_id())),
        "range": given.get("range", {}),
        **{k: v for k, v in given.items() if k in ("description", "namedRangeId", "unprotectedRanges")},
        "warningOnly": bool(given.get("warningOnly", False)),
        "requestingUserCanEdit": True,
    }
    if not protected["warningOnly"]:
        del protected["warningOnly"]
    sheet.protected_ranges.append(protected)
    reply = copy.deepcopy(protected)
    reply["range"] = grid_range_out(reply["range"])
    reply["editors"] = {}
    return {"addProtectedRange": {"protectedRange": reply}}


def delete_protected_range(store: Store, book: Spreadsheet, body: dict[str, Any]) -> Reply:
    wanted = int(body.get("protectedRangeId", -1))
    for sheet in book.sheets:
        for prot in sheet.protected_ranges:
            if prot["protectedRangeId"] == wanted:
                sheet.protected_ranges.remove(prot)
                return {}
    raise bad_request(f"No protected range with id: {wanted}")


HANDLERS: dict[str, Handler] = {
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "updateCells": update_cells,
    "repeatCell": repeat_cell,
    "insertDimension": insert_dimension_request,
    "deleteDimension": delete_dimension_request,
    "updateDimensionProperties": update_dimension_properties,
    "sortRange": sort_range_request,
    "setDataValidation": set_data_validation,
    "addConditionalFormatRule": add_conditional_format_rule,
    "addProtectedRange": add_protected_range,
    "deleteProtectedRange": delete_protected_range,
}


def apply_requests(store: Store, book: Spreadsheet, requests: list[dict[str, Any]]) -> list[Reply]:
    """Apply requests in order to ``book`` (a working copy); the first failure raises."""
    replies: list[Reply] = []
    for i, request in enumerate(requests):
        if len(request) != 1:
            raise bad_request(f"Invalid requests[{i}]: exactly one request kind must be set.")
        kind, body = next(iter(request.items()))
        handler = HANDLERS.get(kind)
        if handler is None:
            raise bad_request(f"Invalid requests[{i}]: the emulator does not implement {kind}.")
        try:
            replies.append(handler(store, book, body or {}))
        except ApiError as exc:
            raise ApiError(exc.code, f"Invalid requests[{i}].{kind}: {exc.message}", exc.status) from exc
    return replies


def batch_update(store: Store, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a batch atomically and answer like Google (``replies`` in request order)."""
    with store.lock:
        original = store.get(spreadsheet_id)
        work = store.working_copy(original)
        replies = apply_requests(store, work, list(body.get("requests", [])))
        store.replace(work)
    return {"spreadsheetId": spreadsheet_id, "replies": replies}
