"""``spreadsheets.get``: the Spreadsheet resource, optional grid data, ``ranges`` and field masks."""

from __future__ import annotations

import copy
import math
from typing import Any

from tests.sheets_emulator import values as vals
from tests.sheets_emulator.a1 import A1Error, Bounds, parse_range
from tests.sheets_emulator.errors import ApiError, unable_to_parse
from tests.sheets_emulator.fieldmask import apply_mask, parse_mask
from tests.sheets_emulator.store import Sheet, Spreadsheet

_COLOR_FIELDS = ("backgroundColor", "foregroundColor", "tabColor")
DEFAULT_ROW_PX = 21
DEFAULT_COL_PX = 100


def float32(value: float) -> float | int:
    """A colour component as Google returns it: stored as float32, shortest decimal that round-trips."""
    import struct

    single: float = struct.unpack("f", struct.pack("f", float(value)))[0]
    for digits in range(1, 10):
        text = f"{single:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            number = float(text)
            return int(number) if number.is_integer() else number
    return single


def _color(data: Any) -> Any:
    """Components as float32, zero components left out (proto defaults)."""
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if isinstance(value, int | float) and value != 0:
            # Google keeps 8 bits per channel (0.5 comes back as 127/255), alpha as given.
            level = value if key == "alpha" else math.floor(value * 255 + 1e-6) / 255
            if level:
                out[key] = float32(level)
    return out


def with_color_styles(data: Any) -> Any:
    """Add the ``...ColorStyle`` twin Google reports next to every plain ``...Color`` field."""
    if isinstance(data, list):
        return [with_color_styles(item) for item in data]
    if not isinstance(data, dict):
        return data
    out = {key: with_color_styles(value) for key, value in data.items()}
    for key in _COLOR_FIELDS:
        if key in out:
            out[key] = _color(out[key])
        style = out.get(f"{key}Style")
        if isinstance(style, dict) and "rgbColor" in style:
            out[f"{key}Style"] = {**style, "rgbColor": _color(style["rgbColor"])}
        if key in out and f"{key}Style" not in out:
            out[f"{key}Style"] = {"rgbColor": copy.deepcopy(out[key])}
        elif f"{key}Style" in out and key not in out and "rgbColor" in out[f"{key}Style"]:
            out[key] = copy.deepcopy(out[f"{key}Style"]["rgbColor"])
    return out


def grid_range_out(grid: dict[str, Any]) -> dict[str, Any]:
    """A GridRange as Google echoes it: ``sheetId`` 0 is a proto default and left out."""
    out = dict(grid)
    if out.get("sheetId") == 0:
        del out["sheetId"]
    return out


def protected_range_out(book_owner: str, prot: dict[str, Any]) -> dict[str, Any]:
    """A stored protected range as ``spreadsheets.get`` lists it (the caller is the editor)."""
    out = copy.deepcopy(prot)
    out["range"] = grid_range_out(out["range"])
    out["editors"] = {"users": [book_owner]}
    return out


def cell_data(sheet: Sheet, row: int, col: int) -> dict[str, Any]:
    """The CellData of one cell (``{}`` when it holds nothing)."""
    found = sheet.cell(row, col)
    if found is None:
        return {}
    out: dict[str, Any] = {}
    if found.value is not None:
        out["userEnteredValue"] = dict(found.value)
        computed = sheet.computed(row, col)
        if computed is not None:
            out["effectiveValue"] = computed
            out["formattedValue"] = vals.format_value(computed, found.fmt.get("numberFormat"))
    if found.fmt:
        out["userEnteredFormat"] = with_color_styles(found.fmt)
    if found.note:
        out["note"] = found.note
    if found.validation is not None:
        out["dataValidation"] = copy.deepcopy(found.validation)
    return out


def grid_data(sheet: Sheet, bounds: Bounds) -> dict[str, Any]:
    """GridData for closed bounds: rows of cells, plus row and column metadata."""
    assert bounds.end_row is not None and bounds.end_col is not None
    rows: list[dict[str, Any]] = []
    for r in range(bounds.start_row, bounds.end_row):
        cells = [cell_data(sheet, r, c) for c in range(bounds.start_col, bounds.end_col)]
        rows.append({"values": cells} if any(cells) else {})
    out: dict[str, Any] = {}
    if bounds.start_row:
        out["startRow"] = bounds.start_row
    if bounds.start_col:
        out["startColumn"] = bounds.start_col
    out["rowData"] = rows
    out["rowMetadata"] = [
        {"pixelSize": DEFAULT_ROW_PX, **sheet.row_meta.get(r, {})}
        for r in range(bounds.start_row, bounds.end_row)
    ]
    out["columnMetadata"] = [
        {"pixelSize": DEFAULT_COL_PX, **sheet.col_meta.get(c, {})}
        for c in range(bounds.start_col, bounds.end_col)
    ]
    return out


def _trim(data: Any) -> Any:
    """Drop trailing empty cells and rows (after masking), as Google trims GridData."""
    if isinstance(data, dict):
        out = {key: _trim(value) for key, value in data.items()}
        for key in ("rowData", "values"):
            if key in out and isinstance(out[key], list):
                while out[key] and out[key][-1] == {}:
                    out[key].pop()
                if not out[key]:
                    del out[key]
        return out
    if isinstance(data, list):
        return [_trim(item) for item in data]
    return data


def sheet_resource(
    book: Spreadsheet, sheet: Sheet, owner: str, data_bounds: list[Bounds] | None
) -> dict[str, Any]:
    """The Sheet resource; grid data only when ``data_bounds`` is given."""
    out: dict[str, Any] = {"properties": with_color_styles(sheet.properties)}
    if data_bounds is not None:
        out["data"] = [grid_data(sheet, b.clamp(sheet.row_count, sheet.col_count)) for b in data_bounds]
    if sheet.conditional_formats:
        out["conditionalFormats"] = [
            {**copy.deepcopy(rule), "ranges": [grid_range_out(r) for r in rule["ranges"]]}
            for rule in sheet.conditional_formats
        ]
    if sheet.protected_ranges:
        out["protectedRanges"] = [protected_range_out(owner, p) for p in sheet.protected_ranges]
    return out


def spreadsheet_resource(
    book: Spreadsheet,
    owner: str,
    ranges: list[str],
    include_grid_data: bool,
    fields: str | None,
) -> dict[str, Any]:
    """The answer to ``GET /v4/spreadsheets/{id}``."""
    wants_data = include_grid_data or (fields is not None and "data" in fields.replace("/", "."))
    titles = [s.title for s in book.sheets]
    selected: dict[int, list[Bounds]] = {}
    for text in ranges:
        try:
            parsed = parse_range(text, titles)
        except A1Error as exc:
            raise unable_to_parse(text) from exc
        sheet = book.sheet_by_title(parsed.sheet) if parsed.sheet else book.sheets[0]
        selected.setdefault(sheet.sheet_id, []).append(parsed.bounds)
    sheets_out = []
    for sheet in book.sheets:
        if ranges and sheet.sheet_id not in selected:
            continue
        bounds = selected.get(sheet.sheet_id, [Bounds()]) if wants_data else None
        sheets_out.append(sheet_resource(book, sheet, owner, bounds))
    out: dict[str, Any] = {
        "spreadsheetId": book.spreadsheet_id,
        "properties": copy.deepcopy(book.properties),
        "sheets": sheets_out,
    }
    if book.named_ranges:
        out["namedRanges"] = copy.deepcopy(book.named_ranges)
    out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit"
    if fields:
        out = _trim(apply_mask(out, parse_mask(fields)))
    return out


def check_known(book: Spreadsheet, ranges: list[str]) -> None:
    """Reject ranges naming sheets that do not exist, as Google does."""
    titles = [s.title for s in book.sheets]
    for text in ranges:
        parsed = parse_range(text, titles)
        if parsed.sheet is not None and parsed.sheet not in titles:
            raise ApiError(400, f"Unable to parse range: {text}")
