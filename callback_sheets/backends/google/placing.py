"""Where each Queue cell of a write goes now: the re-read just before writing (request 2) and the cells
moved to the row that now holds the same item.

Between the read and the write staff may sort, insert or delete rows or type into a cell: each write is
moved to the row that now holds the same ID (or, for a row that had none, the same Received/Phone/Caller),
dropped if that row is gone, and a staff cell that became non-empty is never overwritten (both reported
in ``WriteResult.skipped``). A write of computed cells on rows with IDs (a steady refresh) re-reads the
ID column alone: the key columns would only tell apart rows without one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gspread.exceptions import APIError

from callback_sheets import model
from callback_sheets.backends.google.batch import Out
from callback_sheets.backends.google.connection import Connection, params
from callback_sheets.backends.google.lease import LEASE_TAB
from callback_sheets.backends.google.values import column_letter, from_plain, is_datetime_column, quote
from callback_sheets.cells import CellValue, CellWrite, Changeset, Snapshot, WriteMode, column_index
from callback_sheets.errors import WorkbookChangedError

KEY_COLUMNS = (model.RECEIVED, model.PHONE, model.CALLER)  # recognise a row that has no ID yet
IDENTITY = (model.ID, *KEY_COLUMNS)


@dataclass(slots=True)
class Now:
    """What a re-read found: Queue columns by name (index 0 = row 2), the Queue's last row, append rows."""

    columns: dict[str, list[CellValue]] = field(default_factory=dict)
    queue_end: int = 1
    next_row: dict[str, int] = field(default_factory=dict)

    def value(self, column: str, position: int) -> CellValue:
        found = self.columns.get(column, [])
        return found[position - 2] if 0 <= position - 2 < len(found) else None

    def key(self, position: int) -> tuple[str, ...]:
        return row_key([self.value(c, position) for c in IDENTITY])

    def take(self, name: str, flat: Sequence[object]) -> None:
        """One Queue column read from row 2 (values only)."""
        self.columns[name] = [from_plain(v, as_datetime=is_datetime_column(name)) for v in flat]
        self.queue_end = max(self.queue_end, len(flat) + 1)


def column_range(queue: str, column: int, first_row: int = 2) -> str:
    letter = column_letter(column)
    return f"{quote(queue)}!{letter}{first_row}:{letter}"


def reread(
    conn: Connection,
    queue: str,
    snapshot: Snapshot,
    changes: Changeset,
    appends: Sequence[str],
    check_lease: Callable[[Sequence[Sequence[CellValue]]], None] | None = None,
) -> Now:
    """Request 2: the header, the ID column (and the key columns when ``needs_keys``), the columns to
    fill or set, each append tab's column A, and (with ``check_lease``, given them) the Lease tab's claims
    up to this run's."""
    cols = column_index(snapshot.header)
    identity = IDENTITY if needs_keys(changes) else (model.ID,)
    wanted = [*identity] + [c.column for c in changes.cells if c.mode is not WriteMode.TOOL]
    names = [n for n in dict.fromkeys(wanted) if n in cols]
    head = [f"{quote(queue)}!1:1"] + [column_range(queue, cols[n]) for n in names]
    # the Lease tab from row 1: rows above ours may have been trimmed since the append (it stays small)
    lease = [f"{quote(LEASE_TAB)}!A1:C"] if check_lease is not None else []
    tails = _tails(snapshot, appends)
    try:
        ranges = [*head, *(f"{quote(t)}!A{k}:A" for t, k in tails.items()), *lease]
        got = conn.http.values_batch_get(conn.key, ranges, params("COLUMNS"))["valueRanges"]
    except APIError as exc:  # a tab now shorter than its last row read: its whole column A instead
        if exc.response.status_code != 400 or all(k == 1 for k in tails.values()):
            raise conn.explain(exc) from None
        tails = dict.fromkeys(tails, 1)
        ranges = [*head, *(f"{quote(t)}!A1:A" for t in tails), *lease]
        got = conn.call(conn.http.values_batch_get, conn.key, ranges, params("COLUMNS"))["valueRanges"]
    columns = [found.get("values", []) for found in got]
    if check_lease is not None:
        check_lease(columns.pop())
    header = [str(c[0]).strip() if c else "" for c in columns[0]]
    if _trim(header) != _trim(list(snapshot.header)):
        raise WorkbookChangedError(f"the {queue} tab's columns changed during the refresh")
    now = Now()
    for name, values in zip(names, columns[1 : 1 + len(names)], strict=True):
        now.take(name, values[0] if values else [])
    for tab, values in zip(appends, columns[1 + len(names) :], strict=True):
        now.next_row[tab] = _next_row(tails[tab], values[0] if values else [])
    return now


def _tails(snapshot: Snapshot, appends: Sequence[str]) -> dict[str, int]:
    """The first row of column A to re-read of each tab rows are appended to: the last row the read
    found (not the whole column, a History of tens of thousands of IDs), or row 1 for a tab not read."""
    read = getattr(snapshot.version, "next_row", {})
    return {t: max(1, int(read[t]) - 1) if t in read else 1 for t in appends}


def _next_row(first: int, column: Sequence[object]) -> int:
    """A tab's next free row from its column A read from row ``first``: the row after its last value,
    as a read of the whole column says, whenever the tail holds a value. A tail with none means rows
    were deleted above the last row read; the next free row is then ``first`` or above, and ``first``
    (already not the row the read found) is enough to tell the write to read again."""
    if first == 1 or column:
        return first + len(column)
    return first


def needs_keys(changes: Changeset) -> bool:
    """Whether the re-read needs the key columns (Received, Phone, Caller) beside the ID column: to find
    a row that has no ID, to know the Queue's last row before new rows go under it, or for the check
    after a write of staff cells (``verify``). A steady refresh writes computed cells on rows with IDs:
    the ID column alone finds them (rows are found by ID, never by position)."""
    return bool(changes.new_rows) or any(
        not (c.row_id or "").strip() or c.mode is not WriteMode.TOOL for c in changes.cells
    )


def place_cells(snapshot: Snapshot, cells: Sequence[CellWrite], now: Now, out: Out, queue: str) -> None:
    """Each Queue cell onto the row that holds its item now (or left out, said in ``out.skipped``)."""
    cols = column_index(snapshot.header)
    keys_then = {r.position: row_key([r.get(c) for c in IDENTITY]) for r in snapshot.rows}
    count_then = Counter(keys_then.values())
    where_now: dict[tuple[str, ...], list[int]] = {}
    for position in range(2, now.queue_end + 1):
        where_now.setdefault(now.key(position), []).append(position)
    told: set[tuple[int, str]] = set()

    def skip(position: int, why: str) -> None:
        if (position, why) not in told:
            told.add((position, why))
            out.skipped.append(f"row {position}: {why}")

    for cell in cells:
        key = (
            ("id", cell.row_id.strip().casefold())
            if cell.row_id
            else keys_then.get(cell.position, ("row", "", "", ""))
        )
        found = where_now.get(key, [])
        if len(found) == 1:
            target = found[0]
        elif cell.position in found and len(found) == count_then[key]:
            target = cell.position  # rows alike in ID, Received, Phone and Caller that did not move
        else:
            skip(
                cell.position,
                "the row was deleted meanwhile"
                if not found
                else "rows moved and this one cannot be told apart from another; run the refresh again",
            )
            continue
        current = now.value(cell.column, target)
        if cell.mode is WriteMode.FILL and (norm(current) or norm(cell.before)):
            skip(target, f"{cell.column} was filled in meanwhile")
            continue
        if cell.mode is WriteMode.SET and norm(current) != norm(cell.before):
            raise WorkbookChangedError(f"row {target}'s {cell.column} was edited during the command")
        out.put(queue, target, cols[cell.column], cell.value)
        out.placed.append((target, cell))
        out.written += 1


def norm(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def row_key(values: Sequence[CellValue]) -> tuple[str, ...]:
    """A row's identity: its ID, or for a row without one, its Received, Phone and Caller."""
    ident = norm(values[0]).casefold()
    return ("id", ident) if ident else ("row", *(norm(v) for v in values[1:]))


def _trim(header: list[str]) -> list[str]:
    while header and not header[-1]:
        header.pop()
    return header
