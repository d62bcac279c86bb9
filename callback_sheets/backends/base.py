"""The backend port: what the core needs from a spreadsheet, and nothing more.

A backend reads the Queue tab (and any tool tabs asked for) into a Snapshot, and applies a Changeset
computed from that snapshot. Queue cells are addressed by row position *and* the row's ID as read, so a
backend can check that each write still lands on the same item; tool tabs are addressed by position.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from callback_sheets.cells import Changeset, Snapshot
from callback_sheets.layout import TabSpec


@dataclass(frozen=True, slots=True)
class WriteResult:
    written: int  # cells and rows actually written
    skipped: tuple[str, ...] = ()  # writes left out because staff changed the cell meanwhile (why, no PHI)


class Backend(Protocol):
    """A place where the queue lives: an .xlsx file, a Google Sheet, or memory (tests)."""

    label: str  # names the workbook in messages, e.g. "callback_queue.xlsx"

    def init(
        self,
        *,
        header: Sequence[str],
        tabs: Sequence[TabSpec],
        choices: Mapping[str, Sequence[str]],
        look: Any = None,
    ) -> list[str]:
        """Create the queue (or upgrade it without touching rows); return what was done, one line each.
        ``look`` (a :class:`~callback_sheets.look.Look`): the clinic's name, date format,
        closed statuses and Scripts tab."""
        ...

    def session(self) -> AbstractContextManager[None]:
        """Hold the backend's own lock for a read-plan-write cycle; raise WorkbookBusyError if taken."""
        ...

    def read(
        self,
        *,
        tabs: Sequence[str] = (),
        history_of: str | None = None,
        rows_of: str | None = None,
        without_statuses: Collection[str] = (),
    ) -> Snapshot:
        """Read the Queue tab and the named tool tabs (missing tabs read as empty). With ``history_of``
        (an item ID), the History tab may hold only its header and that item's rows (Excel reads no
        others); callers filter History by ID themselves either way. With ``rows_of`` (an item ID), the
        Queue may hold only its header and the rows with that ID (Excel may read only those and some
        others, each with its real row number); callers find the item's row themselves either way. With
        ``without_statuses`` (closed statuses), the Queue may leave out rows whose Status, stripped and
        casefolded, is one of these casefolded (Excel leaves out those it reads as certainly such, the
        others keep their real row numbers; ignored with ``rows_of``); callers filter by Status
        themselves either way."""
        ...

    def write(self, snapshot: Snapshot, changes: Changeset, *, tabs: Sequence[TabSpec] = ()) -> WriteResult:
        """Apply `changes` computed from `snapshot`, all or nothing; `tabs` says how to create missing tabs.

        Raises WorkbookChangedError when the data changed since `snapshot` in a way the backend cannot
        reconcile; the caller then reads again and recomputes.
        """
        ...
