"""The History tab as the refresh reads it: what is logged per ID, and the row to append for an attempt.

History is append-only and reconciled: a row's attempt is logged when its number is above every number
logged for the ID, or equals the highest one with a later time (a real attempt after Attempts was
corrected down, which then supersedes the row before it). A number below the highest is a decrease: a
Problem (see :func:`attempts_decrease`), never a second row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from callback_sheets.cells import CellValue, Grid, grid_rows, is_blank
from callback_sheets.core.times import to_cell
from callback_sheets.core.validation import Item


@dataclass(slots=True)
class Logged:
    """What History holds for one ID: the highest attempt number, the time of the latest row with that
    number, and how many rows."""

    top: int = 0
    latest: CellValue = None
    rows: int = 0


def history_log(history: Grid) -> dict[str, Logged]:
    """ID -> what History holds for it, reading the rows in order (a later row supersedes)."""
    out: dict[str, Logged] = {}
    for _, row in grid_rows(history):
        if len(row) < 2 or is_blank(row[0]):
            continue
        key = cell_key(row[0])
        entry = out.get(key)
        if entry is None:
            entry = out[key] = Logged()
        entry.rows += 1
        number = _int(row[1])
        if number >= entry.top:
            entry.top, entry.latest = number, row[2] if len(row) > 2 else None
    return out


def history_entry(
    item: Item,
    item_id: str,
    logged: dict[str, Logged],
    now_cell: datetime | None,
    tz: ZoneInfo,
    source: str = "sheet",
) -> list[CellValue] | None:
    """The History row to append for the attempt the row holds now, or None when History already has it
    (see the module doc); ``logged`` is updated, so a second look in the same plan adds nothing."""
    if not item.attempts or item.last_attempt is None:
        return None
    at = to_cell(item.last_attempt, tz)
    entry = logged.get(item_id)
    if entry is not None:
        if item.attempts < entry.top:
            return None
        if item.attempts == entry.top:
            before = entry.latest
            if (
                not isinstance(before, datetime)
                or at is None
                or not at > before.replace(second=0, microsecond=0, tzinfo=None)
            ):
                return None
    else:
        entry = logged[item_id] = Logged()
    entry.top, entry.latest, entry.rows = item.attempts, at, entry.rows + 1
    return [item_id, item.attempts, at, item.last_outcome or "", now_cell, source]


def attempts_decrease(item: Item, logged: Logged | None) -> str | None:
    """The Problem when Attempts is below what History logged: staff corrected it down (or cleared it),
    and History (append-only) still holds the higher count."""
    if logged is None or item.attempts >= logged.top:
        return None
    rows = "1 row" if logged.rows == 1 else f"{logged.rows} rows"
    return f"Attempts went from {logged.top} to {item.attempts}: History keeps {rows}"


def first_attempts(history: Grid) -> dict[str, datetime]:
    """ID -> the time History logged for attempt 1 (as the cell holds it), for IDs whose lowest logged
    attempt is 1; the first such row wins."""
    first: dict[str, datetime] = {}
    below: set[str] = set()  # IDs with an attempt logged as 0 or unreadable: no first time for them
    for _, row in grid_rows(history):
        if len(row) > 2 and isinstance(row[2], datetime):
            attempt = _int(row[1])
            if attempt == 1:
                first.setdefault(cell_key(row[0]), row[2])
            elif attempt < 1:
                below.add(cell_key(row[0]))
    for key in below:
        first.pop(key, None)
    return first


def cell_key(value: object) -> str:
    """An ID cell as the key History and the queue are matched by."""
    return value if value.__class__ is str else str(value)


def _int(value: object) -> int:
    if value.__class__ is int:
        return value
    try:
        return int(float(str(value)))
    except ValueError:
        return -1
