"""How many years of archive a Google spreadsheet has room for, at the clinic's own pace.

Google counts every cell of every tab (rows x columns, empty or not) toward a limit of 10 million cells
per spreadsheet, after which it refuses every write. With archiving the queue's own tabs stay about the
same size (the last 30 days of items); the archive grows by one Queue row and its History rows per item
(its tabs are as wide as their columns and grow exactly to their last row, with no spare rows). At 150
calls a business day that is about 1.3 million cells a year: one spreadsheet holding every year's archive
fills in about 7.5 years, so a clinic that keeps 20 years gives each year its own spreadsheet
(``[archive] spreadsheets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.cells import Snapshot

LIMIT = 10_000_000
"""Google's limit on the cells of one spreadsheet."""
YEARS_WANTED = 20
"""A clinic keeps its records this long (the projection warns below it)."""
PACE_DAYS = 30
"""The pace is the items received over this many days (what the queue holds after archiving)."""


@dataclass(frozen=True, slots=True)
class Room:
    key: str  # the spreadsheet that receives the archive of years not given their own
    cells: int  # what it holds now
    items_a_year: float
    cells_per_item: float

    @property
    def a_year(self) -> float:
        return self.items_a_year * self.cells_per_item

    @property
    def years(self) -> float:
        """Years until the spreadsheet is full at this pace (inf when nothing is received)."""
        return (LIMIT - self.cells) / self.a_year if self.a_year else float("inf")


def pace(snapshot: Snapshot, now: datetime) -> tuple[float, float]:
    """Items a year (received over the last :data:`PACE_DAYS` days, scaled to a year) and cells each
    archived item takes (its Queue row's columns and its History rows: archive tabs keep no room)."""
    since = now - timedelta(days=PACE_DAYS)
    received = [r.get(model.RECEIVED) for r in snapshot.rows]
    recent = sum(1 for v in received if isinstance(v, datetime) and since <= v.replace(tzinfo=None) <= now)
    history = max(len(snapshot.tabs.get(model.HISTORY_TAB, ())) - 1, 0)
    per_item = history / len(snapshot.rows) if snapshot.rows else 0.0
    cells = len(snapshot.header) + per_item * len(model.HISTORY_COLUMNS)
    return recent * 365 / PACE_DAYS, cells


def archive_room(
    snapshot: Snapshot,
    counts: Mapping[str, int],
    *,
    queue_key: str,
    archive_key: str | None,
    archive_keys: Mapping[int, str],
    now: datetime,
) -> Room | None:
    """The room left where years without a spreadsheet of their own are archived (``[archive]
    spreadsheet``, else the queue's own); None when the coming years all have their own."""
    if now.year in archive_keys and now.year + 1 in archive_keys:
        return None
    key = archive_key or queue_key
    items, per_item = pace(snapshot, now)
    return Room(key, counts.get(key, 0), items, per_item)


def projection(backend: Backend, counts: Mapping[str, int], *, now: datetime) -> tuple[str, str, bool] | None:
    """`doctor`'s words on a Google queue's archive room: the spreadsheet the archive goes to, what to
    say of it, and whether that is a warning (room for fewer than :data:`YEARS_WANTED` years); None for
    a backend without a spreadsheet key, or when the coming years each have their own spreadsheet."""
    key = getattr(backend, "key", None)
    if not isinstance(key, str):
        return None
    room = archive_room(
        backend.read(tabs=(model.HISTORY_TAB,)),
        counts,
        queue_key=key,
        archive_key=getattr(backend, "archive_key", None),
        archive_keys=getattr(backend, "archive_keys", {}),
        now=now,
    )
    if room is None:
        return None
    pace_text = (
        f"about {room.items_a_year:,.0f} items a year (the last {PACE_DAYS} days' pace), "
        f"{room.cells_per_item:.0f} cells each"
    )
    if room.years >= YEARS_WANTED:
        return room.key, f"room for {YEARS_WANTED}+ years of archive at {pace_text}", False
    return (
        room.key,
        f"the archive fills it in about {room.years:.1f} years at {pace_text}: to keep "
        f"{YEARS_WANTED} years, give each year its own spreadsheet, [archive] spreadsheets = "
        f'{{ {now.year} = "<URL or key>", {now.year + 1} = "<URL or key>" }}',
        True,
    )
