"""The write lease of the Google backend: two runs (two machines, or cron beside a hand run) never both
write one spreadsheet.

Google has no lock and no compare-and-swap on cells, but it orders appends: ``values.append`` puts each
claim on its own row after the last one. So the lease is a ticket lock on a hidden ``Lease`` tab:

1. a run about to write appends a claim row: a token (host, pid, random), an expiry, an empty state;
   the response says which row it got;
2. the re-read it does anyway just before writing also reads the claim rows up to its own;
3. the first *live* claim (not released or withdrawn, not expired) wins. The winner writes, and marks its
   claim ``released`` in the same write batch; a loser marks its claim ``withdrawn`` and stops with
   "another run is working on this sheet" (exit 1).

Two runs that claim at the same time see the same order, so exactly one writes. A crashed winner's claim
expires after ``LEASE_SECONDS``.

The tab stays small: a winner whose claim sits below row ``TRIM_AT`` deletes, in the grid request its
write makes, every row between row 1 and its own, unless an unsettled claim follows its own (a loser
marks its withdrawal by row number right after its re-read). Those rows are settled for good (it is the
first live claim, so all before it are released, withdrawn or expired), the order of the rest is kept
(nothing is ever inserted above a claim), and each run finds its own claim again by its token.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

LEASE_TAB = "Lease"
LEASE_HEADER = ("Run", "Until", "Done")
LEASE_SECONDS = 180  # a winner's claim outlives a crash by this long at most
TRIM_AT = 20  # a winner on a row past this one deletes the settled claims above it
TAB_ROWS = 30  # the Lease tab's grid when the tool makes it (appends grow it, trims shrink it)
RELEASED = "released"
WITHDRAWN = "withdrawn"
_ROW = re.compile(r"![A-Z]+(\d+)(?::[A-Z]+\d+)?$")


@dataclass(frozen=True, slots=True)
class Claim:
    token: str
    until: datetime  # UTC
    row: int  # 1-based row of the Lease tab

    def values(self) -> list[str]:
        return [self.token, self.until.isoformat(timespec="seconds"), ""]


def new_claim(now: datetime, seconds: int = LEASE_SECONDS) -> tuple[str, datetime]:
    """A token naming this run (no patient data: host, pid and a random part) and its expiry."""
    token = f"{socket.gethostname()[:40]} pid {os.getpid()} {secrets.token_hex(4)}"
    return token, now.astimezone(UTC) + timedelta(seconds=seconds)


def claimed_row(updated_range: str) -> int:
    """The row of ``'Lease'!A7:C7`` (a values.append response's ``updates.updatedRange``)."""
    found = _ROW.search(updated_range)
    if not found:
        raise ValueError(updated_range)
    return int(found.group(1))


def own_row(rows: Sequence[Sequence[object]], *, start_row: int, token: str) -> int | None:
    """The row now holding the claim ``token`` (rows above it may have been deleted since the append)."""
    for offset, cells in enumerate(rows):
        if len(cells) > 0 and cells[0] is not None and str(cells[0]).strip() == token:
            return start_row + offset
    return None


def first_live(
    rows: Sequence[Sequence[object]], *, start_row: int, now: datetime
) -> tuple[int, str, str] | None:
    """The first live claim among ``rows`` (read from ``start_row``): (row, token, until text)."""
    for offset, cells in enumerate(rows):
        token = str(cells[0]).strip() if len(cells) > 0 and cells[0] is not None else ""
        until = str(cells[1]).strip() if len(cells) > 1 and cells[1] is not None else ""
        done = str(cells[2]).strip() if len(cells) > 2 and cells[2] is not None else ""
        if not token or token == LEASE_HEADER[0] or done:
            continue
        try:
            expires = datetime.fromisoformat(until)
        except ValueError:
            continue  # not a claim this tool wrote
        if expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        if expires > now:
            return start_row + offset, token, until
    return None


def unsettled(cells: Sequence[object]) -> bool:
    """A Lease row holding a claim not yet marked released or withdrawn (live, or maybe still running)."""
    token, done = (str(cells[i] or "").strip() if len(cells) > i else "" for i in (0, 2))
    return bool(token) and not done
