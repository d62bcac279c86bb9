"""Cell values between the Sheets API and the core, and A1 ranges.

Reading matches what the Excel backend's reader returns, so the core sees the same values whichever
backend holds the queue:

* an empty cell is ``None``; text is returned as stored;
* a whole number is ``int``, any other number ``float``; a boolean is ``bool``; an error is its text;
* a number with a date or time format is a naive ``datetime`` (clinic wall-clock);
* in a date-time column (``model`` kind DATETIME, or a tool tab's date-time column) a serial number is a
  ``datetime`` even without a date format, and so is text that reads as a date (a date pasted as text).

Writing sends text as text (the write uses valueInputOption RAW, so ``=...`` is never a formula) and
datetimes as serial numbers (days since 1899-12-30), which a date-formatted column shows as dates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from callback_sheets import model
from callback_sheets.cells import CellValue

EPOCH = datetime(1899, 12, 30)
LAST_SERIAL = 2958466  # 9999-12-31 + 1
DATE_FORMAT_TYPES = frozenset({"DATE", "TIME", "DATE_TIME"})
JsonValue = str | int | float | bool
_UTC = ZoneInfo("UTC")  # only to parse; the wall-clock value is kept


def is_datetime_column(name: str) -> bool:
    """True for the columns whose cells hold date-times (by header name)."""
    spec = model.COLUMNS_BY_NAME.get(name)
    return (spec is not None and spec.kind is model.Kind.DATETIME) or name in model.TAB_DATETIME_COLUMNS


def to_serial(value: datetime | date) -> float:
    """Days since 1899-12-30 (Google's and Excel's serial number) of a wall-clock date-time."""
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None)
    else:
        naive = datetime(value.year, value.month, value.day)
    return (naive - EPOCH) / timedelta(days=1)


def from_serial(serial: float) -> datetime:
    """The wall-clock date-time of a serial number, to the second."""
    return EPOCH + timedelta(seconds=round(serial * 86400))


def to_json(value: CellValue) -> JsonValue:
    """A value for ``values.batchUpdate`` (RAW): ``None`` clears the cell."""
    if value is None:
        return ""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime | date):
        return to_serial(value)
    return str(value)


def _number(value: float, *, as_datetime: bool) -> CellValue:
    if as_datetime and 1 <= value < LAST_SERIAL:
        return from_serial(value)
    if math.isfinite(value) and float(value).is_integer():
        return int(value)
    return float(value)


def _text(value: str, *, as_datetime: bool) -> CellValue:
    """A text cell stays text, even in a date column: the core reads it in the clinic's date order
    (``[clinic] date_order`` or the spreadsheet's locale), as it does on Excel; only ISO 8601 text, which
    reads one way everywhere, becomes a date here."""
    if not value:
        return None
    if as_datetime and value.strip()[:1].isdigit():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return value
        return parsed.astimezone(_UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return value


def from_cell(cell: Mapping[str, Any], *, as_datetime: bool) -> CellValue:
    """The value of one ``CellData`` (``effectiveValue`` and ``userEnteredFormat.numberFormat``)."""
    effective = cell.get("effectiveValue")
    if not effective:
        return None
    if "numberValue" in effective:
        kind = cell.get("userEnteredFormat", {}).get("numberFormat", {}).get("type")
        return _number(float(effective["numberValue"]), as_datetime=as_datetime or kind in DATE_FORMAT_TYPES)
    if "stringValue" in effective:
        return _text(str(effective["stringValue"]), as_datetime=as_datetime)
    if "boolValue" in effective:
        return bool(effective["boolValue"])
    if "errorValue" in effective:
        return str(cell.get("formattedValue") or "#" + str(effective["errorValue"].get("type", "ERROR")))
    return None


def from_plain(value: object, *, as_datetime: bool) -> CellValue:
    """A value from ``values.batchGet`` with UNFORMATTED_VALUE / SERIAL_NUMBER rendering."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return _number(float(value), as_datetime=as_datetime)
    return _text(str(value), as_datetime=as_datetime)


def column_letter(number: int) -> str:
    """1 → A, 26 → Z, 27 → AA."""
    out = ""
    while number:
        number, rem = divmod(number - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


def quote(title: str) -> str:
    """A sheet title as A1 notation wants it: always quoted, inner quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def a1(title: str, row: int, col: int, end_row: int | None = None, end_col: int | None = None) -> str:
    """``'Title'!C5`` or ``'Title'!C5:D9`` (1-based)."""
    start = f"{column_letter(col)}{row}"
    if end_row is None and end_col is None:
        return f"{quote(title)}!{start}"
    return f"{quote(title)}!{start}:{column_letter(end_col or col)}{end_row or row}"
