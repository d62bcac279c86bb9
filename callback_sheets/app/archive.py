"""Archiving: closed items older than ``[archive] after_days`` leave the Queue, with their History rows.

The queue's cost then follows the open work, not the years of history. Never losing a row is the order of
the writes: each archive (a store per year of ``Received``: an ``.archive-YYYY.xlsx`` workbook beside an
Excel queue, an ``Archive YYYY`` tab or spreadsheet for Google) is written and flushed first, and only
then do the rows leave the Queue, removed by ID. A run stopped in between leaves the items in both; the
next run finds them in the archive by ID, adds nothing twice and finishes the move. Readers that meet an
item in both (reports) take the Queue's row.

IDs stay unique: when the highest ID ever given leaves the Queue, a History row ``(ID, 0, ..., source
"archive")`` keeps it there as a mark, which the ID allocator already reads (see ``Planner._new_ids``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.cells import CellValue, Changeset, Grid, SheetRow, Snapshot, grid_rows, text
from callback_sheets.config import Config
from callback_sheets.core.item_views import snapshot_row
from callback_sheets.core.queue_state import QueueState, id_number
from callback_sheets.core.refresh import Planner
from callback_sheets.core.times import localize, to_cell
from callback_sheets.errors import UsageError

MARK_SOURCE = "archive"  # History rows keeping the highest archived ID


class Archives(Protocol):
    """What a backend offers for archiving: one store (itself a Backend) per year."""

    def archive_for(self, year: int, header: Sequence[str]) -> Backend:
        """The store of ``year``, created with ``header`` if missing."""
        ...

    def archive_years(self) -> list[int]:
        """The years that have a store."""
        ...

    def archive_if_any(self, year: int) -> Backend | None: ...


@dataclass(slots=True)
class ArchiveOutcome:
    moved: list[str] = field(default_factory=list)  # IDs that left the Queue (or would, in a dry run)
    by_year: dict[int, int] = field(default_factory=dict)
    already: int = 0  # of them, found in the archive already (a run stopped before the Queue's write)
    history: int = 0  # History rows copied
    kept_back: int = 0  # closed and old enough, but with a problem: left in the Queue
    dry_run: bool = False
    tries: int = 1


def archives_of(backend: Backend) -> Archives:
    if not hasattr(backend, "archive_for"):
        raise UsageError(f"{backend.label}: this kind of queue cannot be archived")
    return backend  # type: ignore[return-value]


def _key(value: object) -> str:
    return text(value).casefold()


def _when(value: CellValue, config: Config) -> datetime | None:
    return localize(value, config.tz) if isinstance(value, datetime) else None


def choose(
    snapshot: Snapshot, *, config: Config, now: datetime, days: int
) -> tuple[dict[int, list[SheetRow]], int]:
    """Rows to archive by year of Received (closed, Closed at older than ``days``, no problem, an ID),
    and how many closed, old rows were kept back for a problem."""
    plan = Planner(config=config, now=now).plan(snapshot, assign=False)
    cutoff = now - timedelta(days=days)
    chosen: dict[int, list[SheetRow]] = {}
    kept = 0
    rows = {r.position: r for r in snapshot.rows}
    for view in plan.views:
        item = view.item
        if not item.closed or not item.id:
            continue
        closed_at = _when(snapshot_row(snapshot, item.position).get(model.CLOSED_AT), config)
        if closed_at is None or closed_at >= cutoff:
            continue
        if view.problems:
            kept += 1
            continue
        year = (item.received or closed_at).year
        chosen.setdefault(year, []).append(rows[item.position])
    return chosen, kept


def archive(
    *,
    config: Config,
    backend: Backend,
    now: datetime,
    older_than_days: int | None = None,
    dry_run: bool = False,
) -> ArchiveOutcome:
    """Move old closed items (and their History rows) into the archive, then out of the Queue."""
    from callback_sheets.app.cycle import retrying
    from callback_sheets.layout import TOOL_TABS

    days = config.archive_after_days if older_than_days is None else older_than_days
    if days < 0:
        raise UsageError("--older-than must be 0 or more days")
    stores = archives_of(backend)

    def step(attempt: int) -> ArchiveOutcome:
        snapshot = backend.read(tabs=(model.HISTORY_TAB, model.STATE_TAB))
        chosen, kept = choose(snapshot, config=config, now=now, days=days)
        outcome = ArchiveOutcome(kept_back=kept, dry_run=dry_run, tries=attempt)
        history = snapshot.tabs.get(model.HISTORY_TAB, ())
        for year, rows in sorted(chosen.items()):
            outcome.by_year[year] = len(rows)
            outcome.moved += [text(r.get(model.ID)) for r in rows]
        if dry_run or not chosen:
            return outcome
        for year, rows in sorted(chosen.items()):
            already, copied = _store(stores.archive_for(year, snapshot.header), rows, history)
            outcome.already += already
            outcome.history += copied
        ids = frozenset(outcome.moved)
        changes = Changeset(removed={model.QUEUE_TAB: ids, model.HISTORY_TAB: ids})
        mark = _mark(snapshot, ids, config, now)
        if mark is not None:
            changes.tab_appends[model.HISTORY_TAB] = [mark[0]]
            changes.removed[model.HISTORY_TAB] = ids | mark[1]
        numbers = [n for i in ids if (n := id_number(i, config.id_prefix)) is not None]
        if numbers:  # the State tab's mark (issue 13): an archived ID is never issued again
            QueueState.of(snapshot.tabs.get(model.STATE_TAB, ())).raise_id_high_water(changes, max(numbers))
        backend.write(snapshot, changes, tabs=TOOL_TABS)
        return outcome

    return retrying(backend, step, what="the archive")


def _store(store: Backend, rows: Sequence[SheetRow], history: Grid) -> tuple[int, int]:
    """Adds to one year's store the rows (and History rows) it does not hold yet; returns how many rows
    it held already and how many History rows were copied. The store's write is atomic and flushed."""
    with store.session():
        held = store.read(tabs=(model.HISTORY_TAB,))
        held_ids = {_key(r.get(model.ID)) for r in held.rows}
        held_history = {
            (_key(r[0]), text(r[1]), text(r[2]))
            for _, r in grid_rows(held.tabs.get(model.HISTORY_TAB, ()))
            if r
        }
        wanted = {_key(r.get(model.ID)) for r in rows}
        new_rows = [dict(r.values) for r in rows if _key(r.get(model.ID)) not in held_ids]
        new_history = [
            list(r)
            for _, r in grid_rows(history)
            if r
            and _key(r[0]) in wanted
            and text(r[5] if len(r) > 5 else "") != MARK_SOURCE
            and (_key(r[0]), text(r[1]), text(r[2])) not in held_history
        ]
        if new_rows or new_history:
            changes = Changeset(new_rows=new_rows)
            if new_history:
                changes.tab_appends[model.HISTORY_TAB] = new_history
            store.write(held, changes)
    return len(rows) - len(new_rows), len(new_history)


def _id_number(value: object, pattern: re.Pattern[str]) -> int:
    match = pattern.match(text(value))
    return int(match.group(1)) if match else 0


def _mark(
    snapshot: Snapshot, ids: frozenset[str], config: Config, now: datetime
) -> tuple[list[CellValue], frozenset[str]] | None:
    """The History row keeping the highest ID when it leaves the Queue, and the IDs of the marks it
    replaces; None when an ID as high stays behind."""
    pattern = re.compile(rf"^{re.escape(config.id_prefix)}-(\d+)$", re.IGNORECASE)
    gone = {_key(i) for i in ids}
    marks = {
        text(r[0])
        for _, r in grid_rows(snapshot.tabs.get(model.HISTORY_TAB, ()))
        if len(r) > 5 and text(r[5]) == MARK_SOURCE
    }
    leaving = max((_id_number(i, pattern) for i in ids | marks), default=0)
    staying = max(
        [_id_number(r.get(model.ID), pattern) for r in snapshot.rows if _key(r.get(model.ID)) not in gone]
        + [
            _id_number(r[0], pattern)
            for _, r in grid_rows(snapshot.tabs.get(model.HISTORY_TAB, ()))
            if r and _key(r[0]) not in gone and text(r[0]) not in marks
        ],
        default=0,
    )
    if leaving <= staying:
        return None
    stamp = to_cell(now, config.tz)
    return [f"{config.id_prefix}-{leaving:05d}", 0, stamp, "", stamp, MARK_SOURCE], frozenset(marks)


# --- reading the archives back (reports) -------------------------------------------------------------------
def horizon(config: Config, now: datetime) -> date:
    """Items received on or after this day are all still in the Queue (closed items leave only after
    ``after_days``; a run with ``--older-than`` fewer days may have moved some sooner: pass them as
    ``days``)."""
    return (now - timedelta(days=config.archive_after_days)).date()


def with_archives(
    snapshot: Snapshot, *, backend: Backend, config: Config, now: datetime, start: date, end: date
) -> Snapshot:
    """The snapshot with the archived items received between ``start`` and ``end`` (and their History)
    added, when the period reaches back past the horizon; an item in both keeps the Queue's row."""
    if not hasattr(backend, "archive_if_any"):
        return snapshot
    stores: Archives = backend  # type: ignore[assignment]
    years = [y for y in stores.archive_years() if start.year <= y <= end.year]
    if not years:
        return snapshot
    present = {_key(r.get(model.ID)) for r in snapshot.rows}
    rows = list(snapshot.rows)
    history = list(snapshot.tabs.get(model.HISTORY_TAB, ()) or [model.HISTORY_COLUMNS])
    position = max((r.position for r in rows), default=1)
    for year in years:
        store = stores.archive_if_any(year)
        if store is None:
            continue
        held = store.read(tabs=(model.HISTORY_TAB,))
        for row in held.rows:
            key = _key(row.get(model.ID))
            if key in present:
                continue
            present.add(key)
            position += 1
            rows.append(SheetRow(position, _reheaded(row.values, snapshot.header)))
        history += list(grid_rows_values(held.tabs.get(model.HISTORY_TAB, ())))
    tabs = {**snapshot.tabs, model.HISTORY_TAB: tuple(map(tuple, history))}
    return replace(snapshot, rows=tuple(rows), tabs=tabs)


def grid_rows_values(grid: Grid) -> Iterable[tuple[CellValue, ...]]:
    return (row for _, row in grid_rows(grid))


def _reheaded(values: Mapping[str, CellValue], header: Sequence[str]) -> Mapping[str, CellValue]:
    from callback_sheets.cells import row_factory

    return row_factory(header)([values.get(name) if name else None for name in header])
