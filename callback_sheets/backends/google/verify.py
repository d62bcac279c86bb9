"""After the write: did every staff cell land on its item's row? (request 5, only when staff cells were
written)

Staff who deleted or inserted a row between the re-read and the write moved the rows under the written
cells. The ID and key columns are read back; each cell is then written again on the row that now holds
its item, and what a misplaced cell covered is put back (an ID as the re-read saw it, a computed cell as
the read saw it, an emptied row's cell cleared), in one more ``values.batchUpdate``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from callback_sheets import model
from callback_sheets.backends.google.batch import Out
from callback_sheets.backends.google.connection import Connection, params
from callback_sheets.backends.google.placing import IDENTITY, KEY_COLUMNS, Now, column_range, norm, row_key
from callback_sheets.backends.google.values import a1, to_json
from callback_sheets.cells import CellValue, CellWrite, SheetRow, Snapshot, WriteMode, column_index

Ident = tuple[str, tuple[str, ...]]  # a row's ID (casefolded) and its Received, Phone, Caller
Moved = tuple[int, CellWrite, int | None]  # where a cell was written, the cell, its item's row now


def verify_placement(conn: Connection, queue: str, snapshot: Snapshot, before: Now, out: Out) -> None:
    """Read the identity columns back and, if some written rows are not the items they were meant for,
    repair them in one batch (and say so in ``out.skipped``)."""
    cols = column_index(snapshot.header)
    after = _read_back(conn, queue, cols, out)
    end = max(after.queue_end, before.queue_end, max(t for t, _ in out.placed))
    check = _Check(snapshot, out, _Index.of(before, end), _Index.of(after, end))
    wrong = {t for t, _ in out.placed if ident(after, t) != check.expected(t)}
    if not wrong:
        return
    right, moved = check.sort_out(wrong, cols)
    repair: dict[tuple[int, int], Any] = {}
    check.put_back(moved, right, cols, repair)
    check.rewrite(moved, cols, repair)
    data = [{"range": a1(queue, r, c), "values": [[v]]} for (r, c), v in sorted(repair.items())]
    if data:
        conn.call(conn.http.values_batch_update, conn.key, {"valueInputOption": "RAW", "data": data})
    out.skipped.append(f"rows moved during the write: {len(data)} cells put back on their rows")


def _read_back(conn: Connection, queue: str, cols: Mapping[str, int], out: Out) -> Now:
    """The ID and key columns and the columns filled, as they are after the write."""
    fills = [c.column for _, c in out.placed if c.mode is WriteMode.FILL and c.column != model.ID]
    names = [n for n in dict.fromkeys((*IDENTITY, *fills)) if n in cols]
    ranges = [column_range(queue, cols[n]) for n in names]
    got = conn.call(conn.http.values_batch_get, conn.key, ranges, params("COLUMNS"))["valueRanges"]
    after = Now()
    for name, found in zip(names, got, strict=True):
        after.take(name, (found.get("values") or [[]])[0])
    return after


def ident(rows: Now, position: int) -> Ident:
    keys = tuple(norm(rows.value(c, position)) for c in KEY_COLUMNS)
    return norm(rows.value(model.ID, position)).casefold(), keys


@dataclass(slots=True)
class _Index:
    """One read of the identity columns, rows 2 to ``end``: each row's identity, and the rows by ID and
    by key columns."""

    rows: Now
    idents: dict[int, Ident] = field(default_factory=dict)
    by: dict[object, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Now, end: int) -> _Index:
        index = cls(rows)
        for p in range(2, end + 1):
            index.idents[p] = found = ident(rows, p)
            if found[0]:
                index.by.setdefault(("id", found[0]), []).append(p)
            if any(found[1]):
                index.by.setdefault(found[1], []).append(p)
        return index

    def locate(self, wanted: Ident) -> int | None:
        """The one row holding ``wanted`` (by ID, else by its key columns), None if none or several."""
        item_id, keys = wanted
        if item_id and len(self.by.get(("id", item_id), ())) == 1:
            return self.by[("id", item_id)][0]
        if any(keys) and len(self.by.get(keys, ())) == 1:
            return self.by[keys][0]
        return None


class _Check:
    """The rows before (the re-read) and after the write, and what the write put in identity columns."""

    def __init__(self, snapshot: Snapshot, out: Out, before: _Index, after: _Index) -> None:
        self.out = out
        self.before = before
        self.after = after
        self.snapshot_rows: dict[tuple[str, ...], SheetRow] = {
            row_key([r.get(c) for c in IDENTITY]): r for r in snapshot.rows
        }
        self.written: dict[int, dict[str, CellValue]] = {}
        for target, cell in out.placed:
            if cell.column in IDENTITY:
                self.written.setdefault(target, {})[cell.column] = cell.value

    def expected(self, target: int) -> Ident:
        """The row's identity after this write, had nothing moved (a SET may change it: a sort)."""
        was_id, was_keys = self.before.idents.get(target) or ident(self.before.rows, target)
        put = self.written.get(target, {})
        new_id = norm(put[model.ID]).casefold() if model.ID in put else was_id
        keys = tuple(norm(put[c]) if c in put else k for c, k in zip(KEY_COLUMNS, was_keys, strict=True))
        return new_id, keys

    def sort_out(self, wrong: set[int], cols: Mapping[str, int]) -> tuple[set[tuple[int, int]], list[Moved]]:
        """The cells that landed right, and each misplaced one with the row its item is on now."""
        right: set[tuple[int, int]] = set()
        moved: list[Moved] = []
        for target, cell in self.out.placed:
            if target not in wrong:
                right.add((target, cols[cell.column]))
                continue
            exp_id, exp_keys = self.expected(target)
            trusted_id = (
                exp_id if model.ID not in self.written.get(target, {}) else ""
            )  # ours may be misplaced
            moved.append((target, cell, self.after.locate((trusted_id, exp_keys))))
        return right, moved

    def put_back(
        self,
        moved: list[Moved],
        right: set[tuple[int, int]],
        cols: Mapping[str, int],
        repair: dict[tuple[int, int], Any],
    ) -> None:
        """What each misplaced cell covered, put back (a cell another write put right is left alone)."""
        after, before = self.after.rows, self.before.rows
        for target, cell, _ in moved:
            col = cols[cell.column]
            if (target, col) in right:
                continue
            was = self.before.locate(ident(after, target))  # the row now there, where the re-read saw it
            if cell.mode is WriteMode.FILL and cell.column != model.ID:
                # an Owner or Urgency fill: taken back only while it still holds exactly what we wrote,
                # giving the row's own item what it had at the re-read (empty, as a rule)
                if norm(after.value(cell.column, target)) != norm(cell.value):
                    continue  # typed over since: a person's value, left alone
                # a row the re-read did not see (inserted meanwhile) had nothing there: cleared
                repair[(target, col)] = to_json(before.value(cell.column, was)) if was is not None else ""
                continue
            if was is not None and cell.column in before.columns:
                repair[(target, col)] = to_json(before.value(cell.column, was))
            elif was is not None:
                row = self.snapshot_rows.get(row_key([before.value(c, was) for c in IDENTITY]))
                repair[(target, col)] = to_json(row.get(cell.column) if row is not None else None)
            elif not any(ident(after, target)[1]) and not ident(after, target)[0]:
                repair[(target, col)] = ""  # the rows moved up: an empty row keeps nothing
            elif cell.column == model.ID and norm(after.value(model.ID, target)) == norm(cell.value):
                repair[(target, col)] = ""  # our new ID on a row inserted meanwhile: it had none

    def rewrite(
        self, moved: list[Moved], cols: Mapping[str, int], repair: dict[tuple[int, int], Any]
    ) -> None:
        """Each misplaced cell written on its item's row (a fill only where that row's cell is empty; a
        staff cell other than the ID is left for the next run, said in ``out.skipped``)."""
        after = self.after.rows
        for _, cell, now_at in moved:
            if now_at is None:
                continue  # its row is gone
            col = cols[cell.column]
            if cell.mode is WriteMode.FILL and cell.column != model.ID:
                current = repair.get((now_at, col), after.value(cell.column, now_at))
                if not norm(current):
                    repair[(now_at, col)] = to_json(cell.value)  # the fill on its item's row
                elif norm(current) != norm(cell.value):
                    self.out.skipped.append(f"row {now_at}: {cell.column} was filled in meanwhile")
                continue
            if cell.mode is not WriteMode.TOOL and cell.column != model.ID:
                self.out.skipped.append(f"row {now_at}: rows moved during the write; run the refresh again")
                continue
            repair[(now_at, col)] = to_json(cell.value)
