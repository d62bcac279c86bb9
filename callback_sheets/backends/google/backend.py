"""The Google Sheets backend: the queue in a shared Google Sheet, through the Sheets API v4.

A refresh costs at most three requests whatever the number of rows, and none beyond the read when nothing
changed: (1) ``values.batchGet`` of the Queue and the tool tabs read along, values only (UNFORMATTED_VALUE,
SERIAL_NUMBER: about a quarter of the bytes of grid data with formats; each whole-tab range comes back
closed at the tab's grid, which gives its size, and the tab ids are fetched only to resize); (2) just before
writing, one ``values.batchGet`` re-reading the header, the ID column and the columns that recognise a row
without an ID (Received, Phone, Caller) plus the columns about to be filled or set; (3) one
``values.batchUpdate`` (RAW). Between (1) and (3) staff may sort, insert or delete rows or type into a
cell: each write is moved to the row that now holds the same ID (or, for a row that had none, the same
Received/Phone/Caller), dropped if that row is gone, and a staff cell that became non-empty is never
overwritten (both reported in ``WriteResult.skipped``). A request is added only to create a missing tab or
to grow the grid past its last row (with a little room, not Google's 1,000 spare rows), or, for
``archive``, to delete the archived rows, found by ID in a re-read, in one ``batchUpdate``. Google offers
no lock, so ``session()`` holds none.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gspread
import requests
from gspread.exceptions import APIError
from gspread.utils import extract_id_from_url

from callback_sheets import model
from callback_sheets.backends.base import WriteResult
from callback_sheets.backends.google import layout
from callback_sheets.backends.google.http import RetryingHTTPClient, RetryPolicy
from callback_sheets.backends.google.lease import (
    LEASE_TAB,
    RELEASED,
    TAB_ROWS,
    TRIM_AT,
    WITHDRAWN,
    Claim,
    claimed_row,
    first_live,
    new_claim,
    own_row,
)
from callback_sheets.backends.google.values import (
    a1,
    column_letter,
    from_plain,
    is_datetime_column,
    quote,
    to_json,
)
from callback_sheets.cells import (
    CellValue,
    CellWrite,
    Changeset,
    Link,
    SheetRow,
    Snapshot,
    WriteMode,
    column_index,
    row_factory,
)
from callback_sheets.config.google import GoogleConfig
from callback_sheets.errors import BackendError, ConfigError, WorkbookBusyError, WorkbookChangedError
from callback_sheets.layout import TabSpec, clash_message
from callback_sheets.look import DEFAULT_LOOK, Look

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
KEY_COLUMNS = (model.RECEIVED, model.PHONE, model.CALLER)  # recognise a row that has no ID yet
META_FIELDS = "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)))"
UNFORMATTED = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "prettyPrint": "false",  # Google's system parameter: no indentation (it is most of an indented answer)
}


@dataclass(frozen=True, slots=True)
class ReadState:
    """``Snapshot.version`` of this backend: the tabs' ids and sizes and each read tab's next free row."""

    sheets: Mapping[str, layout.SheetMeta]
    next_row: Mapping[str, int]


def load_service_account(path: Path | None) -> tuple[dict[str, Any], str]:
    """The service-account key file's content and its e-mail address; ConfigError saying what to do."""
    if path is None:
        raise ConfigError(
            "google.credentials: set it to the service account's JSON key file "
            '(or set GOOGLE_APPLICATION_CREDENTIALS); see README, "Google Sheets setup"'
        )
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"google.credentials: no file at {path}: download the service account's JSON key "
            "(Google Cloud console → IAM → Service accounts → Keys) and put its path here"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"google.credentials: cannot read {path} as a JSON key file ({exc}); "
            "download a new JSON key for the service account"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account" or not info.get("client_email"):
        raise ConfigError(
            f"google.credentials: {path} is not a service-account JSON key "
            '("type": "service_account"); create one under IAM → Service accounts → Keys'
        )
    return info, str(info["client_email"])


class GoogleBackend:
    def __init__(
        self,
        spreadsheet: str,
        *,
        worksheet: str = model.QUEUE_TAB,
        client: gspread.Client | None = None,
        session: requests.Session | None = None,
        account: str = "the service account",
        policy: RetryPolicy | None = None,
        sleep: Any = None,
        tabs: Mapping[str, str] | None = None,
    ) -> None:
        """`spreadsheet` is the sheet's URL or key; pass the HTTP `session` (or a gspread `client`) to use.
        ``tabs``: the tool's tab roles -> their names here (``[queue] tabs``); a ``Queue`` entry names the
        queue's tab when ``worksheet`` is left at its default."""
        if session is None and client is None:
            raise ValueError("GoogleBackend needs a session or a gspread client (see from_config)")
        http_session = session if session is not None else client.http_client.session  # type: ignore[union-attr]
        extra = {"sleep": sleep} if sleep is not None else {}
        self.http = RetryingHTTPClient(None, http_session, policy=policy, **extra)
        self.key = extract_id_from_url(spreadsheet) if "/" in spreadsheet else spreadsheet.strip()
        self.tab_names: dict[str, str] = dict(tabs or {})
        if worksheet == model.QUEUE_TAB and model.QUEUE_TAB in self.tab_names:
            worksheet = self.tab_names[model.QUEUE_TAB]
        self.tab_names[model.QUEUE_TAB] = worksheet
        self.worksheet = worksheet
        self.account = account
        self.label = f"Google Sheet {self.key[:12]}…"
        self._claim: Claim | None = None  # this run's write lease while it holds one (google_lease)
        self._may_trim = False  # no claim followed ours at the re-read: the rows above it may go
        self.clock = lambda: datetime.now(UTC)  # wall clock for lease expiries (tests move it)
        self.archive_key: str | None = None  # [archive] spreadsheet; None: tabs "Archive YYYY" here
        self.archive_keys: dict[int, str] = {}  # [archive] spreadsheets: a year's own spreadsheet

    @classmethod
    def from_config(cls, config: GoogleConfig, *, tabs: Mapping[str, str] | None = None) -> GoogleBackend:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2.service_account import Credentials

        info, email = load_service_account(config.credentials)
        try:
            creds = Credentials.from_service_account_info(info, scopes=list(SCOPES))  # type: ignore[no-untyped-call]
        except ValueError as exc:
            raise ConfigError(
                f"google.credentials: the key file is damaged ({exc}); download a new JSON key"
            ) from None
        session = AuthorizedSession(creds)  # type: ignore[no-untyped-call]
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
        fields = (
            META_FIELDS[:-1]
            + ",conditionalFormats(booleanRule(condition(values))),protectedRanges(description))"
        )
        meta = self._call(self.http.fetch_sheet_metadata, self.key, {"fields": fields})
        state = layout.InitState(sheets=_sheets(meta))
        lists_tab = self._name(model.LISTS_TAB)
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
        ranges = [
            f"{quote(t)}!1:1" if t == self.worksheet else quote(t)
            for t in (self.worksheet, lists_tab)
            if t in state.sheets
        ]
        if ranges:
            got = self._call(self.http.values_batch_get, self.key, ranges, dict(UNFORMATTED))["valueRanges"]
            for text, found in zip(ranges, got, strict=True):
                rows = [[str(v) for v in r] for r in found.get("values", [])]
                if text.endswith("!1:1"):
                    state.queue_header = [h.strip() for h in (rows[0] if rows else [])]
                else:
                    state.lists = rows
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
            self._call(self.http.batch_update, self.key, {"requests": plan.requests})
        return plan.notes or [f"{self.label} is up to date"]

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

    def release(self) -> None:
        """Let go of the write lease if this run still holds it (best effort: it expires anyway)."""
        claim, self._claim = self._claim, None
        if claim is not None:
            self._mark(claim, RELEASED)

    def read(self, *, tabs: Sequence[str] = (), history_of: str | None = None) -> Snapshot:
        """One ``values.batchGet`` of the Queue and the tabs asked for, values only (UNFORMATTED_VALUE,
        SERIAL_NUMBER; date-time columns are known by their header), so a read costs about a quarter of
        the bytes of grid data with formats. Each whole-tab range comes back closed at the tab's grid,
        which gives its size; the tab ids are asked for only when a write must resize or add a tab."""
        wanted = [self.worksheet, *[self._name(t) for t in tabs if self._name(t) != self.worksheet]]
        params = {**UNFORMATTED, "majorDimension": "ROWS"}
        try:
            got = self.http.values_batch_get(self.key, [quote(t) for t in wanted], params)["valueRanges"]
        except APIError as exc:  # a tool tab is missing (init not run yet): ask which tabs exist
            if exc.response.status_code != 400 or "parse range" not in str(exc):
                raise self._explain(exc) from None
            present = _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
            if self.worksheet not in present:
                raise self._no_queue() from None
            wanted = [t for t in wanted if t in present]
            got = self._call(self.http.values_batch_get, self.key, [quote(t) for t in wanted], params)
            got = got["valueRanges"]
        grids = {
            title: _value_grid(found.get("values", []), header_only=title == self.worksheet)
            for title, found in zip(wanted, got, strict=True)
        }
        sizes = {
            title: _size_of(title, found.get("range", "")) for title, found in zip(wanted, got, strict=True)
        }
        queue = grids.pop(self.worksheet)
        header = tuple("" if h is None else str(h).strip() for h in (queue[0] if queue else ()))
        values = row_factory(header)  # every column kept: a second 'Notes' column is read too
        rows = tuple(SheetRow(n, values(raw)) for n, raw in enumerate(queue[1:], start=2))
        next_row = {self.worksheet: len(queue) + 1, **{t: len(g) + 1 for t, g in grids.items()}}
        state = ReadState(sheets=sizes, next_row=next_row)
        return Snapshot(
            header=header,
            rows=rows,
            tabs={self._role(t): tuple(map(tuple, g)) for t, g in grids.items()},  # by role, as asked
            version=state,
            locale=self._locale(header, rows),
        )

    def _locale(self, header: Sequence[str], rows: Sequence[SheetRow]) -> str | None:
        """The spreadsheet's locale (how its text dates are meant), asked for only when a date column of
        the queue holds text: one small request then, none for the usual sheet of real dates."""
        dated = [h for h in header if h and is_datetime_column(h)]
        if not any(isinstance(r.get(h), str) and str(r.get(h)).strip() for r in rows for h in dated):
            return None
        got = self._call(self.http.fetch_sheet_metadata, self.key, {"fields": "properties(locale)"})
        return str(got.get("properties", {}).get("locale") or "") or None

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        if not changes:
            return WriteResult(0)
        state = snapshot.version
        if not isinstance(state, ReadState):
            raise TypeError("write() needs a snapshot from this backend's read()")
        changes = replace(
            changes,
            tab_cells={self._name(t): c for t, c in changes.tab_cells.items()},
            tab_appends={self._name(t): r for t, r in changes.tab_appends.items()},
            removed={self._name(t): i for t, i in changes.removed.items()},
        )
        tabs = [replace(t, name=self._name(t.name)) for t in tabs]
        sheets = dict(state.sheets)
        targets = {self.worksheet} | {t for t, c in changes.tab_cells.items() if c}
        targets |= {t for t, r in changes.tab_appends.items() if r}
        if targets - set(sheets):  # a tab that was not read: is it there at all?
            sheets.update(
                _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
            )
        appends = [t for t, r in changes.tab_appends.items() if r and t in sheets]
        doomed = self._rows_by_id(snapshot, changes.removed) if any(changes.removed.values()) else {}
        out = _Out()
        next_row = dict(state.next_row)
        claim = self._take_lease(sheets)
        now = self._reread(snapshot, changes, appends, claim)
        claim = self._claim or claim  # its row as the re-read found it
        for tab in appends:  # another run (or a person) added rows meanwhile: read again and redo
            if tab in state.next_row and now.next_row.get(tab) != state.next_row[tab]:
                raise WorkbookChangedError(f"rows were added to the {tab} tab during the refresh")
        if changes.cells or changes.new_rows or appends:
            next_row.update(now.next_row)
            _place_cells(snapshot, changes.cells, now, out, self.worksheet)
            if changes.new_rows:
                start = max(next_row.get(self.worksheet, 2), now.queue_end + 1)
                for offset, new in enumerate(changes.new_rows):
                    for col, name in enumerate(snapshot.header, start=1):
                        if name and new.get(name) is not None:
                            out.put(self.worksheet, start + offset, col, new[name])
                out.written += len(changes.new_rows)
        specs = {t.name: t for t in tabs}
        prep: list[dict[str, Any]] = []
        for name, cells in changes.tab_cells.items():
            for (r, c), value in cells.items():
                out.put(name, r, c, value)
            out.written += len(cells)
        for name, rows in changes.tab_appends.items():
            start = next_row.get(name, 1) if name in sheets else 1
            if name not in sheets and name in specs and specs[name].header:
                rows = [list(specs[name].header), *rows]
            for offset, line in enumerate(rows):
                for c, value in enumerate(line, start=1):
                    out.put(name, start + offset, c, value)
            out.written += len(changes.tab_appends[name])
        if not out.cells and not out.links:
            deleted = self._delete_rows(doomed)
            self.release()
            return WriteResult(deleted, tuple(out.skipped))
        extent = out.extent()
        trimmed = 0
        if any(
            name not in sheets or rows > sheets[name].rows or cols > sheets[name].cols
            for name, (rows, cols) in extent.items()
        ) and any(m.sheet_id < 0 for m in sheets.values()):  # a read learns sizes, not ids
            sheets.update(
                _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
            )
        for name, (rows_needed, cols_needed) in extent.items():
            meta = sheets.get(name)
            if meta is None:
                meta = layout.SheetMeta(
                    _new_sheet_id(sheets), name, rows_needed + _room(rows_needed), cols_needed
                )
                frozen = 1 if name in specs and specs[name].header else 0
                prep.append(layout._add_sheet(meta, frozen=frozen, hidden=name in layout.HIDDEN_TABS))
            elif rows_needed > meta.rows or cols_needed > meta.cols:
                grown = layout.SheetMeta(
                    meta.sheet_id,
                    name,
                    max(meta.rows, rows_needed + _room(rows_needed)),
                    max(meta.cols, cols_needed),
                )
                prep.append(layout._grid_size(grown))
        if claim.row > TRIM_AT and self._may_trim:  # the settled claims above ours go (issue 13)
            lease = sheets.get(LEASE_TAB)
            if lease is None or lease.sheet_id < 0:
                sheets.update(
                    _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
                )
                lease = sheets.get(LEASE_TAB)
            if lease is not None and lease.sheet_id >= 0:
                prep.append(_delete_rows_request(lease.sheet_id, 1, claim.row - 1))
                trimmed = claim.row - 2
        if prep:
            self._call(self.http.batch_update, self.key, {"requests": prep})
        if trimmed:
            claim = replace(claim, row=claim.row - trimmed)
            self._claim = claim
        release = {"range": a1(LEASE_TAB, claim.row, 3), "values": [[RELEASED]]}
        option = "RAW"
        if out.links:  # links are formulas, which a RAW write cannot make: USER_ENTERED, text quote-prefixed
            out.add_links(sheets)
            option = "USER_ENTERED"
            release = {"range": release["range"], "values": [[_literal(RELEASED)]]}
        ranges = out.ranges(user_entered=option == "USER_ENTERED")
        data = ranges if doomed else [*ranges, release]  # let go in the same batch
        self._call(self.http.values_batch_update, self.key, {"valueInputOption": option, "data": data})
        if not doomed:
            self._claim = None
        if any(cell.mode is not WriteMode.TOOL for _, cell in out.placed):
            # a staff cell (a new ID, an Owner, an attempt) landing on the wrong row would clobber what a
            # person typed: read back and repair (computed cells alone are put right by the next refresh)
            self._verify_placement(snapshot, now, out)
        deleted = self._delete_rows(doomed)
        self.release()  # after the archive's deletions (a no-op when the write let go already)
        return WriteResult(out.written + deleted, tuple(out.skipped))

    # --- removing rows by ID (`archive`) -------------------------------------------------------------------
    def _rows_by_id(self, snapshot: Snapshot, removed: Mapping[str, frozenset[str]]) -> dict[str, list[int]]:
        """One re-read of the ID columns (the Queue's ID, a tool tab's column A), just before the write:
        the rows that hold each ID *now*, whatever staff sorted, inserted or deleted meanwhile."""
        cols = column_index(snapshot.header)
        tabs = [t for t, ids in removed.items() if ids and (t != self.worksheet or model.ID in cols)]
        ranges = [
            f"{quote(t)}!{_col(cols[model.ID])}1:{_col(cols[model.ID])}"
            if t == self.worksheet
            else f"{quote(t)}!A1:A"
            for t in tabs
        ]
        if not ranges:
            return {}
        params = {**UNFORMATTED, "majorDimension": "COLUMNS"}
        got = self._call(self.http.values_batch_get, self.key, ranges, params)["valueRanges"]
        found: dict[str, list[int]] = {}
        for tab, answer in zip(tabs, got, strict=True):
            wanted = {i.strip().casefold() for i in removed[tab]}
            column = (answer.get("values") or [[]])[0]
            rows = [n for n, v in enumerate(column, start=1) if n > 1 and str(v).strip().casefold() in wanted]
            if rows:
                found[tab] = rows
        return found

    def _delete_rows(self, doomed: Mapping[str, Sequence[int]]) -> int:
        """Deletes the rows (1-based, per tab) in one batchUpdate, bottom-up so the indexes hold."""
        if not doomed:
            return 0
        ids = _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
        requests: list[dict[str, Any]] = []
        for tab, rows in doomed.items():
            spans: list[list[int]] = []
            for row in sorted(set(rows)):
                if spans and spans[-1][1] == row - 1:
                    spans[-1][1] = row
                else:
                    spans.append([row, row])
            for first, last in reversed(spans):
                span = {
                    "sheetId": ids[tab].sheet_id,
                    "dimension": "ROWS",
                    "startIndex": first - 1,
                    "endIndex": last,
                }
                requests.append({"deleteDimension": {"range": span}})
        self._call(self.http.batch_update, self.key, {"requests": requests})
        return sum(len(set(rows)) for rows in doomed.values())

    # --- archives (`callback-sheets archive`) --------------------------------------------------------------
    def _archive_book(self, year: int | None = None) -> GoogleBackend:
        """Where ``year``'s archive goes: its own spreadsheet ([archive] spreadsheets), else the archive
        spreadsheet ([archive] spreadsheet), else this one."""
        key = self.archive_keys.get(year) if year is not None else None
        key = key or self.archive_key
        if not key or key == self.key:
            return self
        book = GoogleBackend(key, session=self.http.session, account=self.account, policy=self.http.policy)
        book.http.sleep = self.http.sleep
        return book

    def _archive_books(self) -> list[GoogleBackend]:
        """Every spreadsheet that may hold archive tabs (one metadata read each)."""
        books: dict[str, GoogleBackend] = {}
        for year in (None, *sorted(self.archive_keys)):
            book = self._archive_book(year)
            books.setdefault(book.key, book)
        return list(books.values())

    def _archive_years(self) -> dict[int, GoogleBackend]:
        found: dict[int, GoogleBackend] = {}
        for book in self._archive_books():
            titles = _sheets(book._call(book.http.fetch_sheet_metadata, book.key, {"fields": META_FIELDS}))
            for title in titles:
                if _is_archive_title(title):
                    year = int(title[len("Archive ") :])
                    # a year's own spreadsheet wins over tabs of that year left elsewhere
                    if year not in found or book.key == self.archive_keys.get(year):
                        found[year] = book
        return found

    def archive_years(self) -> list[int]:
        return sorted(self._archive_years())

    def archive_if_any(self, year: int) -> GoogleArchive | None:
        book = self._archive_years().get(year)
        return None if book is None else self._archive_in(book, year, ())

    def cell_counts(self) -> dict[str, int]:
        """Cells (rows x columns of every tab, what Google counts toward its 10 million cell limit) of
        this spreadsheet and of each archive spreadsheet, by key."""
        out = {}
        for book in [self, *self._archive_books()]:
            tabs = _sheets(book._call(book.http.fetch_sheet_metadata, book.key, {"fields": META_FIELDS}))
            out[book.key] = sum(t.rows * t.cols for t in tabs.values())
        return out

    def archive_for(self, year: int, header: Sequence[str]) -> GoogleArchive:
        """The archive of ``year``: tabs ``Archive YYYY`` (the items) and ``Archive YYYY History``, in the
        archive spreadsheet or this one, made (as wide as their columns, no spare rows) if missing."""
        return self._archive_in(self._archive_book(year), year, header)

    def _archive_in(self, book: GoogleBackend, year: int, header: Sequence[str]) -> GoogleArchive:
        title = f"Archive {year}"
        history = f"{title} History"
        present = _sheets(book._call(book.http.fetch_sheet_metadata, book.key, {"fields": META_FIELDS}))
        made = []
        for name, columns in ((title, tuple(header)), (history, model.HISTORY_COLUMNS)):
            if name not in present and columns:
                meta = layout.SheetMeta(_new_sheet_id(present), name, layout.TAB_ROWS, len(columns))
                present[name] = meta
                made.append((meta, columns))
        if made:
            prep = [layout._add_sheet(meta, frozen=1) for meta, _ in made]
            book._call(book.http.batch_update, book.key, {"requests": prep})
            data = [{"range": a1(m.title, 1, 1, 1, len(c)), "values": [list(c)]} for m, c in made]
            book._call(book.http.values_batch_update, book.key, {"valueInputOption": "RAW", "data": data})
        store = GoogleBackend(book.key, worksheet=title, session=self.http.session, account=self.account)
        store.http.policy, store.http.sleep = self.http.policy, self.http.sleep
        return GoogleArchive(store, history)

    # --- after the write: did every cell land on its row? ----------------------------------------------
    def _verify_placement(self, snapshot: Snapshot, before: _Now, out: _Out) -> None:
        """Request 5: read the ID and key columns back. Staff who deleted or inserted a row between the
        re-read and the write moved the rows under the written cells; each cell is then written again on
        the row that now holds its item, and what a misplaced cell covered is put back (an ID as the
        re-read saw it, a computed cell as the read saw it, an emptied row's cell cleared)."""
        cols = column_index(snapshot.header)
        fills = [c.column for _, c in out.placed if c.mode is WriteMode.FILL and c.column != model.ID]
        names = [n for n in dict.fromkeys((model.ID, *KEY_COLUMNS, *fills)) if n in cols]
        q = self.worksheet
        ranges = [f"{quote(q)}!{_col(cols[n])}2:{_col(cols[n])}" for n in names]
        params = {**UNFORMATTED, "majorDimension": "COLUMNS"}
        got = self._call(self.http.values_batch_get, self.key, ranges, params)["valueRanges"]
        after = _Now()
        for name, found in zip(names, got, strict=True):
            flat = (found.get("values") or [[]])[0]
            after.columns[name] = [from_plain(v, as_datetime=is_datetime_column(name)) for v in flat]
            after.queue_end = max(after.queue_end, len(flat) + 1)
        end = max(after.queue_end, before.queue_end, max(t for t, _ in out.placed))

        def ident(rows: _Now, position: int) -> tuple[str, tuple[str, ...]]:
            keys = tuple(_norm(rows.value(c, position)) for c in KEY_COLUMNS)
            return _norm(rows.value(model.ID, position)).casefold(), keys

        def index(rows: _Now) -> tuple[dict[object, list[int]], dict[int, tuple[str, tuple[str, ...]]]]:
            by: dict[object, list[int]] = {}
            idents = {}
            for p in range(2, end + 1):
                idents[p] = found = ident(rows, p)
                if found[0]:
                    by.setdefault(("id", found[0]), []).append(p)
                if any(found[1]):
                    by.setdefault(found[1], []).append(p)
            return by, idents

        indexes = {id(after): index(after), id(before): index(before)}

        def locate(rows: _Now, wanted: tuple[str, tuple[str, ...]]) -> int | None:
            by = indexes[id(rows)][0]
            item_id, keys = wanted
            if item_id and len(by.get(("id", item_id), ())) == 1:
                return by[("id", item_id)][0]
            if any(keys) and len(by.get(keys, ())) == 1:
                return by[keys][0]
            return None

        snapshot_rows = {_key([r.get(c) for c in (model.ID, *KEY_COLUMNS)]): r for r in snapshot.rows}
        written: dict[int, dict[str, CellValue]] = {}  # what this write put in the identity columns
        for target, cell in out.placed:
            if cell.column in (model.ID, *KEY_COLUMNS):
                written.setdefault(target, {})[cell.column] = cell.value
        before_ids = indexes[id(before)][1]

        def expected(target: int) -> tuple[str, tuple[str, ...]]:
            """The row's identity after this write, had nothing moved (a SET may change it: a sort)."""
            was_id, was_keys = before_ids.get(target) or ident(before, target)
            put = written.get(target, {})
            new_id = _norm(put[model.ID]).casefold() if model.ID in put else was_id
            keys = tuple(_norm(put[c]) if c in put else k for c, k in zip(KEY_COLUMNS, was_keys, strict=True))
            return new_id, keys

        wrong = {t for t, _ in out.placed if ident(after, t) != expected(t)}
        if not wrong:
            return
        right: set[tuple[int, int]] = set()
        moved: list[tuple[int, CellWrite, int | None]] = []
        for target, cell in out.placed:
            if target not in wrong:
                right.add((target, cols[cell.column]))
                continue
            exp_id, exp_keys = expected(target)
            trusted_id = exp_id if model.ID not in written.get(target, {}) else ""  # ours may be misplaced
            moved.append((target, cell, locate(after, (trusted_id, exp_keys))))
        repair: dict[tuple[int, int], Any] = {}
        for target, cell, _ in moved:  # put back what the misplaced cell covered
            col = cols[cell.column]
            if (target, col) in right:
                continue
            was = locate(before, ident(after, target))  # the row now there, where the re-read saw it
            if cell.mode is WriteMode.FILL and cell.column != model.ID:
                # an Owner or Urgency fill: taken back only while it still holds exactly what we wrote,
                # giving the row's own item what it had at the re-read (empty, as a rule)
                if _norm(after.value(cell.column, target)) != _norm(cell.value):
                    continue  # typed over since: a person's value, left alone
                # a row the re-read did not see (inserted meanwhile) had nothing there: cleared
                repair[(target, col)] = to_json(before.value(cell.column, was)) if was is not None else ""
                continue
            if was is not None and cell.column in before.columns:
                repair[(target, col)] = to_json(before.value(cell.column, was))
            elif was is not None:
                row = snapshot_rows.get(_key([before.value(c, was) for c in (model.ID, *KEY_COLUMNS)]))
                repair[(target, col)] = to_json(row.get(cell.column) if row is not None else None)
            elif not any(ident(after, target)[1]) and not ident(after, target)[0]:
                repair[(target, col)] = ""  # the rows moved up: an empty row keeps nothing
            elif cell.column == model.ID and _norm(after.value(model.ID, target)) == _norm(cell.value):
                repair[(target, col)] = ""  # our new ID on a row inserted meanwhile: it had none
        for _, cell, now_at in moved:  # and write each cell on its item's row
            if now_at is None:
                continue  # its row is gone
            col = cols[cell.column]
            if cell.mode is WriteMode.FILL and cell.column != model.ID:
                current = repair.get((now_at, col), after.value(cell.column, now_at))
                if not _norm(current):
                    repair[(now_at, col)] = to_json(cell.value)  # the fill on its item's row
                elif _norm(current) != _norm(cell.value):
                    out.skipped.append(f"row {now_at}: {cell.column} was filled in meanwhile")
                continue
            if cell.mode is not WriteMode.TOOL and cell.column != model.ID:
                out.skipped.append(f"row {now_at}: rows moved during the write; run the refresh again")
                continue
            repair[(now_at, col)] = to_json(cell.value)
        data = [{"range": a1(q, r, c), "values": [[v]]} for (r, c), v in sorted(repair.items())]
        if data:
            self._call(self.http.values_batch_update, self.key, {"valueInputOption": "RAW", "data": data})
        out.skipped.append(f"rows moved during the write: {len(data)} cells put back on their rows")

    # --- the write lease (google_lease) ---------------------------------------------------------------
    def _take_lease(self, sheets: dict[str, layout.SheetMeta]) -> Claim:
        """Append this run's claim to the Lease tab (creating the hidden tab the first time); the re-read
        then says whether it is the first live one. A claim kept from a try that is being redone serves
        again while it has a minute left."""
        now = self.clock()
        if self._claim is not None and self._claim.until - now > timedelta(minutes=1):
            return self._claim
        token, until = new_claim(now)
        params = {"valueInputOption": "RAW", "insertDataOption": "OVERWRITE"}
        body = {"values": [Claim(token, until, 0).values()]}
        where = f"{quote(LEASE_TAB)}!A1"
        try:
            got = self.http.values_append(self.key, where, params, body)
        except APIError as exc:  # no Lease tab yet (the first write of this version): create it, hidden
            if exc.response.status_code != 400:
                raise self._explain(exc) from None
            every = _sheets(self._call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))
            if LEASE_TAB not in every:
                meta = layout.SheetMeta(_new_sheet_id(every), LEASE_TAB, TAB_ROWS, 3)
                request = layout._add_sheet(meta, hidden=True, frozen=0)
                self._call(self.http.batch_update, self.key, {"requests": [request]})
                every[LEASE_TAB] = meta
            sheets.update(every)
            got = self._call(self.http.values_append, self.key, where, params, body)
        claim = Claim(token, until, claimed_row(str(got["updates"]["updatedRange"])))
        self._claim = claim
        return claim

    def _check_lease(self, claim: Claim, columns: Sequence[Sequence[CellValue]], start: int) -> None:
        """The claim rows up to ours (as columns): go on only if ours is the first live claim."""
        height = max((len(c) for c in columns), default=0)
        rows = [[c[i] if i < len(c) else None for c in columns] for i in range(height)]
        mine = own_row(rows, start_row=start, token=claim.token)
        if mine is not None and mine != claim.row:  # a winner trimmed the settled rows above ours
            claim = replace(claim, row=mine)
            self._claim = claim
        upto = rows[: mine - start + 1] if mine is not None else ()
        first = first_live(upto, start_row=start, now=self.clock())
        if first is not None and mine is not None and first[0] == mine and first[1] == claim.token:
            # trim only when no claim follows ours: a later one's withdrawal, marked by its row number
            # right after its re-read, must not land on a row a trim has just moved
            self._may_trim = not any(_unsettled(r) for r in rows[mine - start + 1 :])
            return
        self._claim = None
        if mine is not None:  # gone: it expired and a winner trimmed it (nothing of ours to mark)
            self._mark(claim, WITHDRAWN)
        holder = f" ({first[1].rsplit(' ', 1)[0]}, until {first[2]})" if first is not None else ""
        raise WorkbookBusyError(
            f"another run is working on this sheet{holder}: nothing was written; try again in a minute"
        )

    def _mark(self, claim: Claim, done: str) -> None:
        body = {
            "valueInputOption": "RAW",
            "data": [{"range": a1(LEASE_TAB, claim.row, 3), "values": [[done]]}],
        }
        with suppress(BackendError):
            self._call(self.http.values_batch_update, self.key, body)

    def _reread(
        self, snapshot: Snapshot, changes: Changeset, appends: Sequence[str], claim: Claim | None = None
    ) -> _Now:
        """Request 2: the header, the ID and key columns, the columns to fill or set, each append
        tab's column A, and the Lease tab's claims up to this run's."""
        cols = column_index(snapshot.header)
        wanted = [model.ID, *KEY_COLUMNS] + [c.column for c in changes.cells if c.mode is not WriteMode.TOOL]
        names = [n for n in dict.fromkeys(wanted) if n in cols]
        q = self.worksheet
        ranges = [f"{quote(q)}!1:1"] + [f"{quote(q)}!{_col(cols[n])}2:{_col(cols[n])}" for n in names]
        ranges += [f"{quote(t)}!A:A" for t in appends]
        if claim is not None:  # from row 1: rows above ours may have been trimmed since the append
            ranges.append(f"{quote(LEASE_TAB)}!A1:C")  # the whole tab: it stays small
        params = {**UNFORMATTED, "majorDimension": "COLUMNS"}
        got = self._call(self.http.values_batch_get, self.key, ranges, params)["valueRanges"]
        columns = [found.get("values", []) for found in got]
        if claim is not None:
            self._check_lease(claim, columns.pop(), 1)
        header = [str(c[0]).strip() if c else "" for c in columns[0]]
        if _trim(header) != _trim(list(snapshot.header)):
            raise WorkbookChangedError(f"the {q} tab's columns changed during the refresh")
        now = _Now()
        for name, values in zip(names, columns[1 : 1 + len(names)], strict=True):
            flat = values[0] if values else []
            now.columns[name] = [from_plain(v, as_datetime=is_datetime_column(name)) for v in flat]
            now.queue_end = max(now.queue_end, len(flat) + 1)
        for tab, values in zip(appends, columns[1 + len(names) :], strict=True):
            now.next_row[tab] = len(values[0] if values else []) + 1
        return now

    # --- internals ----------------------------------------------------------------------------------------
    def _call(self, method: Any, *args: Any) -> Any:
        try:
            return method(*args)
        except APIError as exc:
            raise self._explain(exc) from None

    def _explain(self, exc: APIError) -> BackendError:
        status = exc.response.status_code
        if status in (403, 404):
            return BackendError(
                f"Google Sheets answered {status} for spreadsheet {self.key}: "
                f"share the sheet with {self.account} "
                "as Editor (Share button), or fix google.spreadsheet in the config (URL or key)"
            )
        message = str(exc.error.get("message", exc)) if isinstance(exc.error, dict) else str(exc)
        return BackendError(f"Google Sheets refused the request ({status}): {message}")

    def _no_queue(self) -> BackendError:
        return BackendError(
            f"{self.label} has no {self.worksheet!r} tab: run `callback-sheets init` to add it"
        )


def _room(rows: int) -> int:
    """Spare rows a grown tab gets: a tenth of it, at least 100 (not Google's 1,000)."""
    return max(layout.MIN_ROOM, int(rows * layout.GROWTH))


def _is_archive_title(title: str) -> bool:
    return title.startswith("Archive ") and len(title) == 12 and title[8:].isdigit()


class GoogleArchive:
    """One year's archive on Google: the ``Archive YYYY`` tab read and written as a queue, with its
    ``Archive YYYY History`` tab standing for History."""

    def __init__(self, inner: GoogleBackend, history: str) -> None:
        self.inner = inner
        self.history = history
        self.label = f"{inner.label} {inner.worksheet}"

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


def _sheets(resource: Mapping[str, Any]) -> dict[str, layout.SheetMeta]:
    out = {}
    for sheet in resource.get("sheets", []):
        p = sheet["properties"]
        grid = p.get("gridProperties", {})
        out[p["title"]] = layout.SheetMeta(
            int(p.get("sheetId", 0)),
            p["title"],
            int(grid.get("rowCount", 0)),
            int(grid.get("columnCount", 0)),
        )
    return out


def _size_of(title: str, echoed: str) -> layout.SheetMeta:
    """A tab's size from the range a whole-tab ``values.get`` echoes (``'Queue'!A1:W1000``); the id is
    not known there (-1)."""
    import re

    match = re.search(r"!([A-Z]+)(\d+):([A-Z]+)(\d+)$", echoed)
    if match is None:
        return layout.SheetMeta(-1, title, 0, 0)
    letters = match.group(3)
    cols = 0
    for ch in letters:
        cols = cols * 26 + ord(ch) - 64
    return layout.SheetMeta(-1, title, int(match.group(4)), cols)


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


# --- the write: where each cell goes now ------------------------------------------------------------------
@dataclass(slots=True)
class _Now:
    """What request 2 found: Queue columns by name (index 0 = row 2), the Queue's last row, append rows."""

    columns: dict[str, list[CellValue]] = field(default_factory=dict)
    queue_end: int = 1
    next_row: dict[str, int] = field(default_factory=dict)

    def value(self, column: str, position: int) -> CellValue:
        found = self.columns.get(column, [])
        return found[position - 2] if 0 <= position - 2 < len(found) else None

    def key(self, position: int) -> tuple[str, ...]:
        return _key([self.value(c, position) for c in (model.ID, *KEY_COLUMNS)])


@dataclass(slots=True)
class _Out:
    """The cells to write by tab, (row, col) → JSON value, and what was written or left out."""

    cells: dict[str, dict[tuple[int, int], Any]] = field(default_factory=dict)
    links: dict[tuple[str, int, int], Link] = field(default_factory=dict)  # written as HYPERLINK formulas
    written: int = 0
    skipped: list[str] = field(default_factory=list)
    placed: list[tuple[int, CellWrite]] = field(default_factory=list)  # Queue cells by re-read row

    def put(self, tab: str, row: int, col: int, value: CellValue) -> None:
        if isinstance(value, Link):
            self.links[(tab, row, col)] = value
            self.cells.get(tab, {}).pop((row, col), None)
            return
        self.links.pop((tab, row, col), None)
        self.cells.setdefault(tab, {})[(row, col)] = to_json(value)

    def extent(self) -> dict[str, tuple[int, int]]:
        out = {t: (max(r for r, _ in c), max(k for _, k in c)) for t, c in self.cells.items() if c}
        for tab, row, col in self.links:
            rows, cols = out.get(tab, (0, 0))
            out[tab] = (max(rows, row), max(cols, col))
        return out

    def add_links(self, sheets: Mapping[str, layout.SheetMeta]) -> None:
        """The links as HYPERLINK formulas among the cells (for a USER_ENTERED write)."""
        for (tab, row, col), link in self.links.items():
            target = sheets.get(link.tab)  # a lean read may not know ids: then init's fixed one
            gid = target.sheet_id if target is not None and target.sheet_id >= 0 else layout.SCRIPTS_SHEET_ID
            text = str(link).replace('"', '""')
            formula = _Formula(f'=HYPERLINK("#gid={gid}&range=A{link.row}","{text}")')
            self.cells.setdefault(tab, {})[(row, col)] = formula

    def ranges(self, *, user_entered: bool = False) -> list[dict[str, Any]]:
        """One range per run of adjacent cells down a column (a refresh mostly rewrites whole columns).
        ``user_entered``: every text is quote-prefixed so Sheets stores it as the literal text it is
        (never a formula, number or date); only the tool's own links stay formulas."""
        data = []
        for tab, cells in self.cells.items():
            for col, runs in _runs(cells).items():
                for start, values in runs:
                    if user_entered:
                        values = [_literal(v) for v in values]
                    end = start + len(values) - 1
                    data.append(
                        {
                            "range": a1(tab, start, col, end, col) if end > start else a1(tab, start, col),
                            "values": [[v] for v in values],
                        }
                    )
        return data


def _literal(value: Any) -> Any:
    if isinstance(value, _Formula) or not isinstance(value, str) or value == "":
        return value
    return "'" + value


class _Formula(str):
    """A formula the tool itself wrote (a Script link): sent as is in a USER_ENTERED write."""


def _runs(cells: Mapping[tuple[int, int], Any]) -> dict[int, list[tuple[int, list[Any]]]]:
    by_col: dict[int, list[tuple[int, list[Any]]]] = {}
    for row, col in sorted(cells, key=lambda rc: (rc[1], rc[0])):
        runs = by_col.setdefault(col, [])
        if runs and runs[-1][0] + len(runs[-1][1]) == row:
            runs[-1][1].append(cells[(row, col)])
        else:
            runs.append((row, [cells[(row, col)]]))
    return by_col


def _norm(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _key(values: Sequence[CellValue]) -> tuple[str, ...]:
    """A row's identity: its ID, or for a row without one, its Received, Phone and Caller."""
    ident = _norm(values[0]).casefold()
    return ("id", ident) if ident else ("row", *(_norm(v) for v in values[1:]))


def _place_cells(snapshot: Snapshot, cells: Sequence[CellWrite], now: _Now, out: _Out, queue: str) -> None:
    cols = column_index(snapshot.header)
    by_position = {r.position: r for r in snapshot.rows}
    keys_then = {p: _key([r.get(c) for c in (model.ID, *KEY_COLUMNS)]) for p, r in by_position.items()}
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
        if cell.mode is WriteMode.FILL and (_norm(current) or _norm(cell.before)):
            skip(target, f"{cell.column} was filled in meanwhile")
            continue
        if cell.mode is WriteMode.SET and _norm(current) != _norm(cell.before):
            raise WorkbookChangedError(f"row {target}'s {cell.column} was edited during the command")
        out.put(queue, target, cols[cell.column], cell.value)
        out.placed.append((target, cell))
        out.written += 1


def _col(number: int) -> str:
    return column_letter(number)


def _trim(header: list[str]) -> list[str]:
    while header and not header[-1]:
        header.pop()
    return header


def _unsettled(cells: Sequence[CellValue]) -> bool:
    """A Lease row holding a claim not yet marked released or withdrawn (live, or maybe still running)."""
    token, done = (str(cells[i] or "").strip() if len(cells) > i else "" for i in (0, 2))
    return bool(token) and not done


def _delete_rows_request(sheet_id: int, start: int, end: int) -> dict[str, Any]:
    """Delete rows ``start`` to ``end - 1`` (0-based, end exclusive) of a tab."""
    span = {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": start, "endIndex": end}
    return {"deleteDimension": {"range": span}}


def _new_sheet_id(sheets: Mapping[str, layout.SheetMeta]) -> int:
    used = {m.sheet_id for m in sheets.values()}
    return next(i for i in range(1_000_001, 2**31 - 1, 7919) if i not in used)
