"""Archives on Google (`callback-sheets archive`): the archived rows found by ID and deleted, and the
``Archive YYYY`` tabs, in this spreadsheet or in the archive spreadsheets of ``[archive]``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from callback_sheets import model
from callback_sheets.backends.base import Backend, WriteResult
from callback_sheets.backends.google.connection import Connection, new_sheet_id, params
from callback_sheets.backends.google.layout import TAB_ROWS
from callback_sheets.backends.google.placing import column_range
from callback_sheets.backends.google.sheet_requests import Request, SheetMeta, add_sheet, delete_rows
from callback_sheets.backends.google.values import a1, quote
from callback_sheets.cells import Changeset, Snapshot, column_index
from callback_sheets.layout import TabSpec

ARCHIVE = "Archive "


# --- removing rows by ID ---------------------------------------------------------------------------------
def rows_by_id(
    conn: Connection, queue: str, snapshot: Snapshot, removed: Mapping[str, frozenset[str]]
) -> dict[str, list[int]]:
    """One re-read of the ID columns (the Queue's ID, a tool tab's column A), just before the write:
    the rows that hold each ID *now*, whatever staff sorted, inserted or deleted meanwhile."""
    cols = column_index(snapshot.header)
    tabs = [t for t, ids in removed.items() if ids and (t != queue or model.ID in cols)]
    ranges = [column_range(queue, cols[model.ID], 1) if t == queue else f"{quote(t)}!A1:A" for t in tabs]
    if not ranges:
        return {}
    got = conn.call(conn.http.values_batch_get, conn.key, ranges, params("COLUMNS"))["valueRanges"]
    found: dict[str, list[int]] = {}
    for tab, answer in zip(tabs, got, strict=True):
        wanted = {i.strip().casefold() for i in removed[tab]}
        column = (answer.get("values") or [[]])[0]
        rows = [n for n, v in enumerate(column, start=1) if n > 1 and str(v).strip().casefold() in wanted]
        if rows:
            found[tab] = rows
    return found


def delete_found(conn: Connection, doomed: Mapping[str, Sequence[int]]) -> int:
    """Deletes the rows (1-based, per tab) in one batchUpdate, bottom-up so the indexes hold."""
    if not doomed:
        return 0
    ids = conn.tabs()
    requests: list[Request] = []
    for tab, rows in doomed.items():
        spans: list[list[int]] = []
        for row in sorted(set(rows)):
            if spans and spans[-1][1] == row - 1:
                spans[-1][1] = row
            else:
                spans.append([row, row])
        requests += [delete_rows(ids[tab].sheet_id, first - 1, last) for first, last in reversed(spans)]
    conn.call(conn.http.batch_update, conn.key, {"requests": requests})
    return sum(len(set(rows)) for rows in doomed.values())


# --- the archive spreadsheets and their tabs -------------------------------------------------------------
def archive_book(conn: Connection, key: str | None) -> Connection:
    """The spreadsheet ``key`` (this one when None or the same)."""
    return conn if not key or key == conn.key else conn.sibling(key)


def archive_books(
    conn: Connection, archive_key: str | None, archive_keys: Mapping[int, str]
) -> list[Connection]:
    """Every spreadsheet that may hold archive tabs: ``archive_key`` (else this one) and each year's."""
    books: dict[str, Connection] = {}
    for year in (None, *sorted(archive_keys)):
        key = (archive_keys.get(year) if year is not None else None) or archive_key
        book = archive_book(conn, key)
        books.setdefault(book.key, book)
    return list(books.values())


def archive_years(
    conn: Connection, archive_key: str | None, archive_keys: Mapping[int, str]
) -> dict[int, Connection]:
    """The years that have an archive, and the spreadsheet holding it (one metadata read each)."""
    found: dict[int, Connection] = {}
    for book in archive_books(conn, archive_key, archive_keys):
        for title in book.tabs():
            if is_archive_title(title):
                year = int(title[len(ARCHIVE) :])
                # a year's own spreadsheet wins over tabs of that year left elsewhere
                if year not in found or book.key == archive_keys.get(year):
                    found[year] = book
    return found


def is_archive_title(title: str) -> bool:
    return title.startswith(ARCHIVE) and len(title) == 12 and title[8:].isdigit()


def ensure_archive_tabs(book: Connection, year: int, header: Sequence[str]) -> tuple[str, str]:
    """The tabs ``Archive YYYY`` (the items) and ``Archive YYYY History`` of ``book``, made (as wide as
    their columns, no spare rows) if missing; with no ``header`` only History is made."""
    title = f"{ARCHIVE}{year}"
    history = f"{title} History"
    present = book.tabs()
    made = []
    for name, columns in ((title, tuple(header)), (history, model.HISTORY_COLUMNS)):
        if name not in present and columns:
            meta = SheetMeta(new_sheet_id(present), name, TAB_ROWS, len(columns))
            present[name] = meta
            made.append((meta, columns))
    if made:
        prep = [add_sheet(meta, frozen=1) for meta, _ in made]
        book.call(book.http.batch_update, book.key, {"requests": prep})
        data = [{"range": a1(m.title, 1, 1, 1, len(c)), "values": [list(c)]} for m, c in made]
        book.call(book.http.values_batch_update, book.key, {"valueInputOption": "RAW", "data": data})
    return title, history


class GoogleArchive:
    """One year's archive on Google: the ``Archive YYYY`` tab read and written as a queue (by ``inner``,
    a backend whose queue is that tab), with its ``Archive YYYY History`` tab standing for History."""

    def __init__(self, inner: Backend, title: str, history: str) -> None:
        self.inner = inner
        self.history = history
        self.label = f"{inner.label} {title}"

    def session(self) -> AbstractContextManager[None]:
        return self.inner.session()

    def init(self, **_: Any) -> list[str]:
        return []

    def read(self, *, tabs: Sequence[str] = (), history_of: str | None = None) -> Snapshot:
        snapshot = self.inner.read(tabs=[self.history if t == model.HISTORY_TAB else t for t in tabs])
        renamed = {model.HISTORY_TAB if t == self.history else t: g for t, g in snapshot.tabs.items()}
        return replace(snapshot, tabs=renamed)

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        renamed = Changeset(
            cells=changes.cells,
            new_rows=changes.new_rows,
            tab_appends={
                self.history if t == model.HISTORY_TAB else t: r for t, r in changes.tab_appends.items()
            },
        )
        return self.inner.write(snapshot, renamed, tabs=[TabSpec(self.history, model.HISTORY_COLUMNS)])
