"""The read: one ``values.batchGet`` of the Queue and the tool tabs asked for, values only, as a Snapshot.

UNFORMATTED_VALUE with SERIAL_NUMBER costs about a fourteenth of the bytes of grid data with formats;
date-time columns are known by their header. The tabs come by column (``majorDimension=COLUMNS``): a
column's empty cells below its last value are left out, a wholly empty column is ``[]`` (by row, every
empty cell before a row's last value costs ``"",``), and there are far fewer columns than rows to
bracket. Each whole-tab range comes back closed at the tab's grid, which gives its size; the tab ids are
asked for only when a write must resize or add a tab.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import zip_longest
from typing import Any

from gspread.exceptions import APIError

from callback_sheets.backends.google.connection import Connection, params
from callback_sheets.backends.google.sheet_requests import SheetMeta
from callback_sheets.backends.google.values import from_plain, is_datetime_column, quote
from callback_sheets.cells import CellValue, SheetRow, Snapshot, row_factory
from callback_sheets.errors import BackendError

_ECHOED = re.compile(r"!([A-Z]+)(\d+):([A-Z]+)(\d+)$")


@dataclass(frozen=True, slots=True)
class ReadState:
    """``Snapshot.version`` of this backend: the tabs' ids and sizes and each read tab's next free row."""

    sheets: Mapping[str, SheetMeta]
    next_row: Mapping[str, int]


def read_snapshot(
    conn: Connection, queue: str, wanted: Sequence[str], role: Callable[[str], str]
) -> Snapshot:
    """The Queue tab ``queue`` and the tabs ``wanted`` (by title; ``role`` names them back as asked)."""
    titles, got = _batch_get(conn, queue, [queue, *wanted])
    grids = {
        title: _value_grid(by_rows(found.get("values", [])), header_only=title == queue)
        for title, found in zip(titles, got, strict=True)
    }
    sizes = {title: _size_of(title, found.get("range", "")) for title, found in zip(titles, got, strict=True)}
    grid = grids.pop(queue)
    header = tuple("" if h is None else str(h).strip() for h in (grid[0] if grid else ()))
    values = row_factory(header)  # every column kept: a second 'Notes' column is read too
    rows = tuple(SheetRow(n, values(raw)) for n, raw in enumerate(grid[1:], start=2))
    next_row = {queue: len(grid) + 1, **{t: len(g) + 1 for t, g in grids.items()}}
    return Snapshot(
        header=header,
        rows=rows,
        tabs={role(t): tuple(map(tuple, g)) for t, g in grids.items()},  # by role, as asked
        version=ReadState(sheets=sizes, next_row=next_row),
        locale=_locale(conn, header, rows),
    )


def _batch_get(conn: Connection, queue: str, wanted: list[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """The tabs' values; when a tool tab is missing (init not run yet), asks which tabs exist and reads
    those (the Queue must be one)."""
    try:
        got = conn.http.values_batch_get(conn.key, [quote(t) for t in wanted], params("COLUMNS"))
    except APIError as exc:
        if exc.response.status_code != 400 or "parse range" not in str(exc):
            raise conn.explain(exc) from None
        present = conn.tabs()
        if queue not in present:
            raise no_queue(conn, queue) from None
        wanted = [t for t in wanted if t in present]
        got = conn.call(conn.http.values_batch_get, conn.key, [quote(t) for t in wanted], params("COLUMNS"))
    return wanted, list(got["valueRanges"])


def by_rows(columns: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """A ``majorDimension=COLUMNS`` answer as rows (a cell left out is None, as an empty one)."""
    return list(zip_longest(*columns))


def no_queue(conn: Connection, queue: str) -> BackendError:
    return BackendError(f"{conn.label} has no {queue!r} tab: run `callback-sheets init` to add it")


def _locale(conn: Connection, header: Sequence[str], rows: Sequence[SheetRow]) -> str | None:
    """The spreadsheet's locale (how its text dates are meant), asked for only when a date column of
    the queue holds text: one small request then, none for the usual sheet of real dates."""
    dated = [h for h in header if h and is_datetime_column(h)]
    if not any(isinstance(r.get(h), str) and str(r.get(h)).strip() for r in rows for h in dated):
        return None
    got = conn.call(conn.http.fetch_sheet_metadata, conn.key, {"fields": "properties(locale)"})
    return str(got.get("properties", {}).get("locale") or "") or None


def _size_of(title: str, echoed: str) -> SheetMeta:
    """A tab's size from the range a whole-tab ``values.get`` echoes (``'Queue'!A1:W1000``); the id is
    not known there (-1)."""
    match = _ECHOED.search(echoed)
    if match is None:
        return SheetMeta(-1, title, 0, 0)
    cols = 0
    for ch in match.group(3):
        cols = cols * 26 + ord(ch) - 64
    return SheetMeta(-1, title, int(match.group(4)), cols)


def _value_grid(raw: Sequence[Sequence[Any]], *, header_only: bool = False) -> list[list[CellValue]]:
    """A tab's values (UNFORMATTED_VALUE, SERIAL_NUMBER) as rows from row 1, read as the Excel reader
    reads them. Date-times are known by their column's header, wherever it is: a column is a date-time
    column below a cell naming one (row 1 for the Queue and History; row 20 for the Metrics table)."""
    dated: set[int] = set()
    rows: list[list[CellValue]] = []
    for number, line in enumerate(raw):
        row = [from_plain(v, as_datetime=i in dated) for i, v in enumerate(line)]
        for i, v in enumerate(row if number == 0 or not header_only else ()):
            if isinstance(v, str) and is_datetime_column(v.strip()):
                dated.add(i)
        rows.append(row)
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((i + 1 for r in rows for i, v in enumerate(r) if v is not None), default=0)
    return [r[:width] + [None] * (width - len(r)) for r in rows]
