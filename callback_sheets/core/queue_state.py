"""The queue's own record of itself: a hidden ``State`` tab of ``Key | Value`` rows that staff never edit.

It keeps what the rows alone cannot tell once staff delete them: the highest ID number ever issued
(``id_high_water``), so an ID is never issued twice. Pure: it reads a tab grid and adds to a Changeset;
the backends store the tab like any other tool tab (hidden in Excel and on Google).

Another part of the tool that issues or retires IDs (an archive moving rows out of the Queue, say) keeps
the mark true through one function, :meth:`QueueState.raise_id_high_water`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from callback_sheets import model
from callback_sheets.cells import CellValue, Changeset, Grid, grid_rows
from callback_sheets.core.history import cell_key
from callback_sheets.core.validation import Item

STATE_TAB = model.STATE_TAB
STATE_COLUMNS = model.STATE_COLUMNS
ID_HIGH_WATER = "id_high_water"


@dataclass(slots=True)
class QueueState:
    """The State tab as read: key -> (row, value), plus the rows this run is about to add."""

    rows: dict[str, tuple[int, CellValue]] = field(default_factory=dict)
    next_row: int = 2
    has_header: bool = False

    @classmethod
    def of(cls, grid: Grid) -> QueueState:
        state = cls(has_header=bool(grid and grid[0] and grid[0][0] is not None))
        for number, row in grid_rows(grid):
            key = str(row[0]).strip() if row and row[0] is not None else ""
            if key and key not in state.rows:
                state.rows[key] = (number, row[1] if len(row) > 1 else None)
            state.next_row = number + 1
        return state

    def get_int(self, key: str) -> int:
        value = self.rows.get(key, (0, None))[1]
        try:
            return int(float(str(value))) if value is not None and str(value).strip() else 0
        except ValueError:
            return 0

    def id_high_water(self) -> int:
        """The highest ID number ever issued, as the tab records it (0 when it records none)."""
        return self.get_int(ID_HIGH_WATER)

    def raise_id_high_water(self, changes: Changeset, number: int) -> bool:
        """Make sure the State tab records at least ``number`` as the highest ID issued, adding the cell
        writes to ``changes``; never lowers it. True when a write was added. The one place that moves it:
        the refresh calls it for the IDs it issues (and any higher one it sees), an archive for the IDs
        it moves away."""
        if number <= self.id_high_water():
            return False
        self.set(changes, ID_HIGH_WATER, number)
        return True

    def set(self, changes: Changeset, key: str, value: CellValue) -> None:
        cells = changes.tab_cells.setdefault(STATE_TAB, {})
        if not self.has_header:
            cells[(1, 1)], cells[(1, 2)] = STATE_COLUMNS
            self.has_header = True
        if key in self.rows:
            row = self.rows[key][0]
        else:
            row = self.next_row
            self.next_row += 1
        cells[(row, 1)] = key
        cells[(row, 2)] = value
        self.rows[key] = (row, value)


def id_number(item_id: str, prefix: str) -> int | None:
    """The number of ``PREFIX-00042`` (42), or None for any other text."""
    head, sep, digits = item_id.strip().rpartition("-")
    if not sep or head != prefix or not digits.isdigit():
        return None
    return int(digits)


def new_ids(
    items: Sequence[Item], history: Grid, high_water: int, *, prefix: str
) -> tuple[dict[int, str], int]:
    """IDs for the rows without one (by position), above every ID in the queue, in History and ever
    issued (``high_water``, the State tab's mark: an ID whose row staff deleted is not issued again);
    and the new highest."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    used = {i.id for i in items if i.id}
    used.update(cell_key(r[0]) for _, r in grid_rows(history) if r)
    highest = max((int(m.group(1)) for u in used if (m := pattern.match(u))), default=0)
    highest = max(highest, high_water)
    ids = {}
    for item in items:
        if not item.id:
            highest += 1
            ids[item.position] = f"{prefix}-{highest:05d}"
    return ids, highest
