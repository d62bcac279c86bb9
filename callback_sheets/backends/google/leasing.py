"""Taking, checking and letting go of the write lease (the ticket lock of ``lease``) on one spreadsheet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import requests
from gspread.exceptions import APIError

from callback_sheets.backends.google.connection import Connection, new_sheet_id
from callback_sheets.backends.google.http import RetryPolicy
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
    unsettled,
)
from callback_sheets.backends.google.sheet_requests import Request, SheetMeta, add_sheet, delete_rows
from callback_sheets.backends.google.values import a1, quote
from callback_sheets.cells import CellValue
from callback_sheets.errors import BackendError, WorkbookBusyError


class LeaseHolder(Connection):
    """A spreadsheet this run may write to once it holds the lease: its claim while it holds one."""

    def __init__(
        self,
        key: str,
        session: requests.Session,
        *,
        account: str = "the service account",
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(key, session, account=account, policy=policy, sleep=sleep)
        self._claim: Claim | None = None  # this run's write lease while it holds one
        self._may_trim = False  # no claim followed ours at the re-read: the rows above it may go
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # for lease expiries (tests move it)

    def release(self) -> None:
        """Let go of the write lease if this run still holds it (best effort: it expires anyway)."""
        claim, self._claim = self._claim, None
        if claim is not None:
            self._mark(claim, RELEASED)

    def _take_lease(self, sheets: dict[str, SheetMeta]) -> Claim:
        """Append this run's claim to the Lease tab (creating the hidden tab the first time); the re-read
        then says whether it is the first live one. A claim kept from a try that is being redone serves
        again while it has a minute left."""
        now = self.clock()
        if self._claim is not None and self._claim.until - now > timedelta(minutes=1):
            return self._claim
        token, until = new_claim(now)
        params: dict[str, str | int | bool | float | list[str] | None] = {
            "valueInputOption": "RAW",
            "insertDataOption": "OVERWRITE",
            "fields": "updates/updatedRange",  # the claim's row: all of the answer read here
        }
        body = {"values": [Claim(token, until, 0).values()]}
        where = f"{quote(LEASE_TAB)}!A1"
        try:
            got = self.http.values_append(self.key, where, params, body)
        except APIError as exc:  # no Lease tab yet (the first write of this version): create it, hidden
            if exc.response.status_code != 400:
                raise self.explain(exc) from None
            every = self.tabs()
            if LEASE_TAB not in every:
                meta = SheetMeta(new_sheet_id(every), LEASE_TAB, TAB_ROWS, 3)
                request = add_sheet(meta, hidden=True, frozen=0)
                self.call(self.http.batch_update, self.key, {"requests": [request]})
                every[LEASE_TAB] = meta
            sheets.update(every)
            got = self.call(self.http.values_append, self.key, where, params, body)
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
            self._may_trim = not any(unsettled(r) for r in rows[mine - start + 1 :])
            return
        self._claim = None
        if mine is not None:  # gone: it expired and a winner trimmed it (nothing of ours to mark)
            self._mark(claim, WITHDRAWN)
        holder = f" ({first[1].rsplit(' ', 1)[0]}, until {first[2]})" if first is not None else ""
        raise WorkbookBusyError(
            f"another run is working on this sheet{holder}: nothing was written; try again in a minute"
        )

    def _trim_lease(self, sheets: dict[str, SheetMeta], claim: Claim) -> tuple[list[Request], int]:
        """The settled claims above ours deleted (issue 13) when ours sits past ``TRIM_AT`` and no claim
        follows it: the request (in the write's grid batch) and how many rows ours moves up."""
        if claim.row <= TRIM_AT or not self._may_trim:
            return [], 0
        lease = sheets.get(LEASE_TAB)
        if lease is None or lease.sheet_id < 0:
            sheets.update(self.tabs())
            lease = sheets.get(LEASE_TAB)
        if lease is None or lease.sheet_id < 0:
            return [], 0
        return [delete_rows(lease.sheet_id, 1, claim.row - 1)], claim.row - 2

    def _mark(self, claim: Claim, done: str) -> None:
        body = {
            "valueInputOption": "RAW",
            "data": [{"range": a1(LEASE_TAB, claim.row, 3), "values": [[done]]}],
        }
        with suppress(BackendError):
            self.call(self.http.values_batch_update, self.key, body)
