"""The Google Sheets backend: the queue in a shared Google Sheet, through the Sheets API v4.

A refresh costs at most three requests whatever the number of rows, and none beyond the read when nothing
changed: (1) ``values.batchGet`` of the Queue and the tool tabs read along, values only, by column
(``reading``); (2) just before writing, one ``values.batchGet`` re-reading the header, the ID column (and,
only when a row without an ID, new rows or staff cells need them, the columns that recognise a row without
an ID: Received, Phone, Caller) plus the columns about to be filled or set, and the Lease tab
(``placing``, ``leasing``); (3) one ``values.batchUpdate`` (RAW) of the cells moved to the rows that hold
their items now (``batch``). Every request asks for an unindented answer with only the fields read
(``http``). A request is added only to create a missing tab or to grow the grid past its last row (with
a little room, not Google's 1,000 spare rows; an archive's exactly), to put back cells that staff moved
during the write (``verify``), or, for ``archive``, to delete the archived rows, found by ID in a re-read,
in one ``batchUpdate`` (``archive``). Google offers no lock: the write lease is a ticket lock on a hidden
tab (``lease``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import gspread
import requests
from gspread.utils import extract_id_from_url

from callback_sheets import model
from callback_sheets.backends.base import WriteResult
from callback_sheets.backends.google import layout
from callback_sheets.backends.google.archive import (
    GoogleArchive,
    archive_book,
    archive_books,
    archive_years,
    delete_found,
    ensure_archive_tabs,
    rows_by_id,
)
from callback_sheets.backends.google.batch import (
    Out,
    grid_requests,
    literal,
    needs_ids,
    put_new_rows,
    put_tabs,
)
from callback_sheets.backends.google.connection import (
    META_FIELDS,
    UNFORMATTED,
    Connection,
    authorized_session,
    load_service_account,
    sheets_of,
)
from callback_sheets.backends.google.http import RetryPolicy
from callback_sheets.backends.google.lease import LEASE_TAB, RELEASED, Claim
from callback_sheets.backends.google.leasing import LeaseHolder
from callback_sheets.backends.google.placing import Now, place_cells, reread
from callback_sheets.backends.google.reading import ReadState, read_snapshot
from callback_sheets.backends.google.sheet_requests import SheetMeta
from callback_sheets.backends.google.values import a1, quote
from callback_sheets.backends.google.verify import verify_placement
from callback_sheets.cells import Changeset, Snapshot, WriteMode
from callback_sheets.config.google import GoogleConfig
from callback_sheets.errors import BackendError, WorkbookChangedError
from callback_sheets.layout import TabSpec, clash_message
from callback_sheets.look import DEFAULT_LOOK, Look

__all__ = ["META_FIELDS", "GoogleArchive", "GoogleBackend", "ReadState", "load_service_account"]


class GoogleBackend(LeaseHolder):
    """The Backend port on one Google spreadsheet: its queue tab, the tool tabs (by role, named by
    ``[queue] tabs``) and its archives; a connection (``connection``) that holds the write lease."""

    def __init__(
        self,
        spreadsheet: str,
        *,
        worksheet: str = model.QUEUE_TAB,
        client: gspread.Client | None = None,
        session: requests.Session | None = None,
        account: str = "the service account",
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        tabs: Mapping[str, str] | None = None,
    ) -> None:
        """`spreadsheet` is the sheet's URL or key; pass the HTTP `session` (or a gspread `client`) to use.
        ``tabs``: the tool's tab roles -> their names here (``[queue] tabs``); a ``Queue`` entry names the
        queue's tab when ``worksheet`` is left at its default."""
        if session is None:
            if client is None:
                raise ValueError("GoogleBackend needs a session or a gspread client (see from_config)")
            session = client.http_client.session
        key = extract_id_from_url(spreadsheet) if "/" in spreadsheet else spreadsheet.strip()
        super().__init__(key, session, account=account, policy=policy, sleep=sleep)
        self.tab_names: dict[str, str] = dict(tabs or {})
        if worksheet == model.QUEUE_TAB and model.QUEUE_TAB in self.tab_names:
            worksheet = self.tab_names[model.QUEUE_TAB]
        self.tab_names[model.QUEUE_TAB] = worksheet
        self.worksheet = worksheet
        self.archive_key: str | None = None  # [archive] spreadsheet; None: tabs "Archive YYYY" here
        self.archive_keys: dict[int, str] = {}  # [archive] spreadsheets: a year's own spreadsheet
        self.spare_rows = True  # grown tabs get a little room; an archive's grow exactly to their rows

    @classmethod
    def from_config(cls, config: GoogleConfig, *, tabs: Mapping[str, str] | None = None) -> GoogleBackend:
        session, email = authorized_session(config)
        policy = RetryPolicy(max_wait=float(config.max_wait_seconds))
        return cls(
            config.spreadsheet,
            worksheet=config.worksheet,
            session=session,
            account=email,
            tabs=tabs,
            policy=policy,
        )

    def _name(self, role: str) -> str:
        """The tab that plays ``role`` (a default tab name such as "Lists") here."""
        return self.tab_names.get(role, role)

    def _role(self, name: str) -> str:
        return next((role for role, n in self.tab_names.items() if n == name), name)

    # --- the port ---------------------------------------------------------------------------------------
    def init(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: Look | None = None,
    ) -> list[str]:
        state = self._init_state(tabs)
        ids = iter(range(1_000_001, 2_000_000_000, 7919))
        used = {m.sheet_id for m in state.sheets.values()}
        plan = layout.plan_init(
            state,
            queue=self.worksheet,
            header=header,
            tabs=tabs,
            choices=choices,
            new_id=lambda: next(i for i in ids if i not in used),
            look=look or DEFAULT_LOOK,
            names=self.tab_names,
        )
        if plan.requests:
            self.call(self.http.batch_update, self.key, {"requests": plan.requests})
        return plan.notes or [f"{self.label} is up to date"]

    def _init_state(self, tabs: Sequence[TabSpec]) -> layout.InitState:
        """The spreadsheet as init finds it: its tabs, the Queue's header, rules and protections, and the
        Lists tab (one metadata read and one values read)."""
        fields = (
            META_FIELDS[:-1]
            + ",conditionalFormats(booleanRule(condition(values))),protectedRanges(description))"
        )
        meta = self.call(self.http.fetch_sheet_metadata, self.key, {"fields": fields})
        state = layout.InitState(sheets=sheets_of(meta))
        for role in (model.QUEUE_TAB, model.LISTS_TAB, *(t.name for t in tabs)):
            name = self._name(role)
            clash = next((t for t in state.sheets if t.casefold() == name.casefold() and t != name), None)
            if clash is not None:  # Google, like Excel, refuses two tab names that differ only in case
                raise BackendError(clash_message(self.label, role, clash))
        for sheet in meta.get("sheets", []):
            if sheet["properties"]["title"] == self.worksheet:
                for rule in sheet.get("conditionalFormats", []):
                    values = rule.get("booleanRule", {}).get("condition", {}).get("values", [])
                    state.formulas |= {str(v.get("userEnteredValue", "")) for v in values}
                state.protected = {str(p.get("description", "")) for p in sheet.get("protectedRanges", [])}
        lists_tab = self._name(model.LISTS_TAB)
        ranges = [
            f"{quote(t)}!1:1" if t == self.worksheet else quote(t)
            for t in (self.worksheet, lists_tab)
            if t in state.sheets
        ]
        if ranges:
            got = self.call(self.http.values_batch_get, self.key, ranges, dict(UNFORMATTED))["valueRanges"]
            for text, found in zip(ranges, got, strict=True):
                rows = [[str(v) for v in r] for r in found.get("values", [])]
                if text.endswith("!1:1"):
                    state.queue_header = [h.strip() for h in (rows[0] if rows else [])]
                else:
                    state.lists = rows
        return state

    @contextmanager
    def session(self) -> Iterator[None]:
        """The write lease is taken by write() (a read-only command never takes it) and let go by the
        write itself; a session ending in an error lets it go, except when the caller will read again and
        redo (WorkbookChangedError), which keeps it."""
        try:
            yield
        except WorkbookChangedError:
            raise
        except BaseException:
            self.release()
            raise
        self.release()

    def read(
        self,
        *,
        tabs: Sequence[str] = (),
        history_of: str | None = None,
        rows_of: str | None = None,
        without_statuses: Collection[str] = (),
    ) -> Snapshot:
        """One ``values.batchGet`` of the Queue and the tabs asked for, values only (see ``reading``)."""
        wanted = [self._name(t) for t in tabs if self._name(t) != self.worksheet]
        return read_snapshot(self, self.worksheet, wanted, self._role)

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        """Take the lease and re-read (request 2), place the cells, grow the grid if needed, write in one
        batch that also lets the lease go, then check that the staff cells landed right, and delete the
        archived rows."""
        if not changes:
            return WriteResult(0)
        state = snapshot.version
        if not isinstance(state, ReadState):
            raise TypeError("write() needs a snapshot from this backend's read()")
        changes = self._by_title(changes)
        specs = {t.name: t for t in (replace(t, name=self._name(t.name)) for t in tabs)}
        sheets = dict(state.sheets)
        if _targets(self.worksheet, changes) - set(sheets):  # a tab that was not read: is it there at all?
            sheets.update(self.tabs())
        appends = [t for t, r in changes.tab_appends.items() if r and t in sheets]
        doomed = (
            rows_by_id(self, self.worksheet, snapshot, changes.removed)
            if any(changes.removed.values())
            else {}
        )
        claim = self._take_lease(sheets)
        now = reread(
            self, self.worksheet, snapshot, changes, appends, lambda c: self._check_lease(claim, c, 1)
        )
        claim = self._claim or claim  # its row as the re-read found it
        out = self._place(snapshot, changes, state, now, appends, sheets, specs)
        if not out.cells and not out.links:  # nothing to send: the archive's deletions, if any
            deleted = delete_found(self, doomed)
            self.release()
            return WriteResult(deleted, tuple(out.skipped))
        claim = self._prepare_grid(out, sheets, specs, claim)
        self._send(out, sheets, claim, let_go=not doomed)
        if any(cell.mode is not WriteMode.TOOL for _, cell in out.placed):
            # a staff cell (a new ID, an Owner, an attempt) landing on the wrong row would clobber what a
            # person typed: read back and repair (computed cells alone are put right by the next refresh)
            verify_placement(self, self.worksheet, snapshot, now, out)
        deleted = delete_found(self, doomed)
        self.release()  # after the archive's deletions (a no-op when the write let go already)
        return WriteResult(out.written + deleted, tuple(out.skipped))

    # --- the write's steps --------------------------------------------------------------------------------
    def _by_title(self, changes: Changeset) -> Changeset:
        """The changes with their tabs named by their titles here (the core names them by role)."""
        return replace(
            changes,
            tab_cells={self._name(t): c for t, c in changes.tab_cells.items()},
            tab_appends={self._name(t): r for t, r in changes.tab_appends.items()},
            removed={self._name(t): i for t, i in changes.removed.items()},
        )

    def _place(
        self,
        snapshot: Snapshot,
        changes: Changeset,
        state: ReadState,
        now: Now,
        appends: Sequence[str],
        sheets: Mapping[str, SheetMeta],
        specs: Mapping[str, TabSpec],
    ) -> Out:
        """Every cell to write, where it goes now; rows appended by someone else meanwhile: read again."""
        for tab in appends:  # another run (or a person) added rows meanwhile: read again and redo
            if tab in state.next_row and now.next_row.get(tab) != state.next_row[tab]:
                raise WorkbookChangedError(f"rows were added to the {tab} tab during the refresh")
        out = Out()
        next_row = dict(state.next_row)
        if changes.cells or changes.new_rows or appends:
            next_row.update(now.next_row)
            place_cells(snapshot, changes.cells, now, out, self.worksheet)
            if changes.new_rows:
                start = max(next_row.get(self.worksheet, 2), now.queue_end + 1)
                put_new_rows(out, snapshot.header, changes.new_rows, self.worksheet, start)
        put_tabs(out, changes, sheets, next_row, specs)
        return out

    def _prepare_grid(
        self, out: Out, sheets: dict[str, SheetMeta], specs: Mapping[str, TabSpec], claim: Claim
    ) -> Claim:
        """Request 3, only when needed: missing tabs added, grids grown, settled Lease rows trimmed.
        Returns the claim on the row it holds afterwards."""
        extent = out.extent()
        if needs_ids(extent, sheets):
            sheets.update(self.tabs())
        prep = grid_requests(extent, sheets, specs, spare=self.spare_rows)
        trim, trimmed = self._trim_lease(sheets, claim)
        if prep or trim:
            self.call(self.http.batch_update, self.key, {"requests": [*prep, *trim]})
        if trimmed:
            claim = replace(claim, row=claim.row - trimmed)
            self._claim = claim
        return claim

    def _send(self, out: Out, sheets: Mapping[str, SheetMeta], claim: Claim, *, let_go: bool) -> None:
        """The one ``values.batchUpdate`` of the cells; ``let_go``: the lease is released in it too.
        Links are formulas, which a RAW write cannot make: then USER_ENTERED, every text quote-prefixed."""
        release: dict[str, Any] = {"range": a1(LEASE_TAB, claim.row, 3), "values": [[RELEASED]]}
        option = "RAW"
        if out.links:
            out.add_links(sheets)
            option = "USER_ENTERED"
            release["values"] = [[literal(RELEASED)]]
        ranges = out.ranges(user_entered=option == "USER_ENTERED")
        data = [*ranges, release] if let_go else ranges
        self.call(self.http.values_batch_update, self.key, {"valueInputOption": option, "data": data})
        if let_go:
            self._claim = None

    # --- archives (`callback-sheets archive`) --------------------------------------------------------------
    def archive_years(self) -> list[int]:
        return sorted(archive_years(self, self.archive_key, self.archive_keys))

    def archive_if_any(self, year: int) -> GoogleArchive | None:
        book = archive_years(self, self.archive_key, self.archive_keys).get(year)
        return None if book is None else self._archive_in(book, year, ())

    def cell_counts(self) -> dict[str, int]:
        """Cells (rows x columns of every tab, what Google counts toward its 10 million cell limit) of
        this spreadsheet and of each archive spreadsheet, by key."""
        out = {}
        for book in [self, *archive_books(self, self.archive_key, self.archive_keys)]:
            out[book.key] = sum(t.rows * t.cols for t in book.tabs().values())
        return out

    def archive_for(self, year: int, header: Sequence[str]) -> GoogleArchive:
        """The archive of ``year``: tabs ``Archive YYYY`` (the items) and ``Archive YYYY History``, in the
        year's spreadsheet ([archive] spreadsheets), the archive spreadsheet or this one, made if missing."""
        key = self.archive_keys.get(year) or self.archive_key
        return self._archive_in(archive_book(self, key), year, header)

    def _archive_in(self, book: Connection, year: int, header: Sequence[str]) -> GoogleArchive:
        title, history = ensure_archive_tabs(book, year, header)
        store = GoogleBackend(book.key, worksheet=title, session=self.http.session, account=self.account)
        store.http.policy, store.http.sleep = self.http.policy, self.http.sleep
        store.spare_rows = False  # every cell an archive keeps counts toward Google's limit for good
        return GoogleArchive(store, title, history)


def _targets(queue: str, changes: Changeset) -> set[str]:
    """The tabs a write puts cells in."""
    targets = {queue} | {t for t, c in changes.tab_cells.items() if c}
    return targets | {t for t, r in changes.tab_appends.items() if r}
