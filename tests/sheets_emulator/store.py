"""In-memory spreadsheets: the state the emulator serves, and the handle tests use to "play staff".

Every mutation goes through a :class:`Store` under one lock. ``batchUpdate`` applies its requests to a
working copy and swaps it in only when all of them succeed. The copy is cheap: each sheet gets its own
row lists and properties, but the cells are shared and copied on write (a cell belongs to the sheet
generation that made it; :meth:`Sheet.ensure` copies one from an older generation before it is changed).
The dicts a cell holds (value, format, validation) are never changed in place, only replaced, so a cell
copy is shallow.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import random
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.sheets_emulator import values as vals
from tests.sheets_emulator.a1 import Bounds, col_to_index
from tests.sheets_emulator.errors import ApiError, not_found
from tests.sheets_emulator.formula import FormulaError

DEFAULT_ROWS = 1000
DEFAULT_COLS = 26

_generations = itertools.count(1)


@dataclass
class Cell:
    """One cell: its stored ``ExtendedValue``, ``userEnteredFormat``, note and data validation."""

    value: dict[str, Any] | None = None
    fmt: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    validation: dict[str, Any] | None = None
    generation: int = field(default=0, compare=False, repr=False)

    def is_blank(self) -> bool:
        """No value, format, note or validation: the cell can be dropped."""
        return self.value is None and not self.fmt and not self.note and self.validation is None


@dataclass
class Sheet:
    """A worksheet: properties as the API shows them, and a sparse grid of cells."""

    properties: dict[str, Any]
    rows: list[list[Cell | None]] = field(default_factory=list)
    protected_ranges: list[dict[str, Any]] = field(default_factory=list)
    conditional_formats: list[dict[str, Any]] = field(default_factory=list)
    row_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    col_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    generation: int = field(default_factory=lambda: next(_generations), compare=False, repr=False)

    def clone(self) -> Sheet:
        """A copy to apply a batch to: own rows, properties and ranges; cells shared, copied on write.

        Row and column metadata entries are replaced, never changed in place, so they are shared too.
        """
        return Sheet(
            copy.deepcopy(self.properties),
            list(map(list, self.rows)),
            copy.deepcopy(self.protected_ranges),
            copy.deepcopy(self.conditional_formats),
            dict(self.row_meta),
            dict(self.col_meta),
        )

    @property
    def sheet_id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def row_count(self) -> int:
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def col_count(self) -> int:
        return int(self.properties["gridProperties"]["columnCount"])

    def cell(self, row: int, col: int) -> Cell | None:
        """The cell at a position, or ``None`` when nothing was ever stored there."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def ensure(self, row: int, col: int) -> Cell:
        """The cell at a position, to change: created if absent, copied if an older sheet shares it."""
        rows = self.rows
        if len(rows) <= row:
            rows.extend([] for _ in range(row + 1 - len(rows)))
        line = rows[row]
        if len(line) <= col:
            line.extend([None] * (col + 1 - len(line)))
        found = line[col]
        if found is None:
            found = line[col] = Cell(generation=self.generation)
        elif found.generation != self.generation:
            found = line[col] = Cell(found.value, found.fmt, found.note, found.validation, self.generation)
        return found

    def set_value(self, row: int, col: int, parsed: vals.Parsed) -> None:
        """Store a parsed input value; a parsed number format replaces the cell's one."""
        if parsed.value is None and self.cell(row, col) is None:
            return
        target = self.ensure(row, col)
        target.value = parsed.value
        if parsed.number_format is not None:
            target.fmt = {**target.fmt, "numberFormat": dict(parsed.number_format)}

    def computed(self, row: int, col: int, depth: int = 0) -> dict[str, Any] | None:
        """The effective value of a cell (formulas evaluated)."""
        found = self.cell(row, col)
        if found is None or found.value is None:
            return None

        def lookup(ref: str) -> float:
            letters = "".join(ch for ch in ref if ch.isalpha())
            r, c = int(ref[len(letters) :]) - 1, col_to_index(letters)
            if depth > 50:
                raise FormulaError("REF", "Circular dependency detected.")
            value = self.computed(r, c, depth + 1)
            if value is None:
                return 0.0
            if "numberValue" in value:
                return float(value["numberValue"])
            raise FormulaError("VALUE", f"{ref} is not a number.")

        return vals.effective(found.value, lookup)

    def render(self, row: int, col: int, value_render: str, date_render: str) -> Any:
        """The ``values.get`` rendering of one cell, ``None`` when empty."""
        found = self.cell(row, col)
        if found is None or found.value is None:
            return None
        number_format = found.fmt.get("numberFormat")
        return vals.render(found.value, self.computed(row, col), number_format, value_render, date_render)

    def data_extent(self) -> tuple[int, int]:
        """(rows, columns) up to the last cell holding a value."""
        last_row, last_col = 0, 0
        for r, line in enumerate(self.rows):
            for c, found in enumerate(line):
                if found is not None and found.value is not None:
                    last_row = max(last_row, r + 1)
                    last_col = max(last_col, c + 1)
        return last_row, last_col

    def read(self, bounds: Bounds, value_render: str, date_render: str) -> list[list[Any]]:
        """Rows of rendered values in closed bounds, with trailing empty cells and rows trimmed."""
        assert bounds.end_row is not None and bounds.end_col is not None
        out: list[list[Any]] = []
        end_row = min(bounds.end_row, len(self.rows))
        for r in range(bounds.start_row, end_row):
            line = self.rows[r]
            stop = min(bounds.end_col, len(line))
            while stop > bounds.start_col and (line[stop - 1] is None or line[stop - 1].value is None):
                stop -= 1  # formatted but empty cells at the end render nothing: not rendered at all
            row_out: list[Any] = []
            for c in range(bounds.start_col, stop):
                row_out.append(self.render(r, c, value_render, date_render))
            while row_out and row_out[-1] is None:
                row_out.pop()
            out.append(["" if v is None else v for v in row_out])
        while out and not out[-1]:
            out.pop()
        return out

    def clear_values(self, bounds: Bounds) -> None:
        """Remove values (not formats) in closed bounds."""
        assert bounds.end_row is not None and bounds.end_col is not None
        for r in range(bounds.start_row, min(bounds.end_row, len(self.rows))):
            line = self.rows[r]
            for c in range(bounds.start_col, min(bounds.end_col, len(line))):
                if line[c] is not None:
                    self.ensure(r, c).value = None


@dataclass
class Spreadsheet:
    """A spreadsheet file: Drive metadata, spreadsheet properties and sheets."""

    spreadsheet_id: str
    properties: dict[str, Any]
    sheets: list[Sheet]
    created: dt.datetime
    modified: dt.datetime
    named_ranges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    def sheet_by_title(self, title: str) -> Sheet:
        """The sheet with a title, or Google's 400 for an unknown one."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise ApiError(400, f"Unable to parse range: {title}")

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        """The sheet with an id, or Google's 400 for an unknown one."""
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"No grid with id: {sheet_id}")

    def reindex(self) -> None:
        """Keep each sheet's ``index`` property equal to its position."""
        self.sheets.sort(key=lambda s: s.properties["index"])
        for i, sheet in enumerate(self.sheets):
            sheet.properties["index"] = i

    def touch(self) -> None:
        self.modified = dt.datetime.now(dt.UTC)


def default_properties(title: str) -> dict[str, Any]:
    """Spreadsheet properties as Google gives a new en_US spreadsheet."""
    from tests.sheets_emulator.defaults import default_spreadsheet_properties

    return default_spreadsheet_properties(title)


def new_sheet_properties(sheet_id: int, title: str, index: int) -> dict[str, Any]:
    """Properties of a fresh 1000x26 grid sheet."""
    return {
        "sheetId": sheet_id,
        "title": title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": DEFAULT_ROWS, "columnCount": DEFAULT_COLS},
    }


class Store:
    """All spreadsheets of one emulator, behind one lock (``with store.lock:`` for compound edits)."""

    def __init__(self, seed: int | None = None) -> None:
        self.lock = threading.RLock()
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.caller_email = "emulator@callback-sheets.iam.gserviceaccount.com"
        self._random = random.Random(seed)

    def new_id(self) -> str:
        """A fresh 44-character spreadsheet id."""
        alphabet = string.ascii_letters + string.digits + "-_"
        return "1" + "".join(self._random.choice(alphabet) for _ in range(43))

    def new_sheet_id(self) -> int:
        """A fresh positive sheet id (Google's are random 31-bit numbers)."""
        return self._random.randint(1, 2**31 - 1)

    def create(self, title: str, sheets: dict[str, list[list[Any]]] | None = None) -> Spreadsheet:
        """Create a spreadsheet; ``sheets`` maps titles to rows of USER_ENTERED values (default: Sheet1)."""
        with self.lock:
            now = dt.datetime.now(dt.UTC)
            spreadsheet_id = self.new_id()
            layout = sheets if sheets else {"Sheet1": []}
            made: list[Sheet] = []
            for i, (name, rows) in enumerate(layout.items()):
                sheet_id = 0 if i == 0 else self.new_sheet_id()
                sheet = Sheet(new_sheet_properties(sheet_id, name, i))
                for r, line in enumerate(rows):
                    for c, raw in enumerate(line):
                        sheet.set_value(r, c, vals.parse_user_entered(raw))
                made.append(sheet)
            book = Spreadsheet(spreadsheet_id, default_properties(title), made, now, now)
            self.spreadsheets[spreadsheet_id] = book
            return book

    def get(self, spreadsheet_id: str) -> Spreadsheet:
        """A spreadsheet by id, or Google's 404."""
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise not_found()
        return book

    def delete(self, spreadsheet_id: str) -> None:
        """Delete a spreadsheet (Drive files.delete)."""
        with self.lock:
            self.get(spreadsheet_id)
            del self.spreadsheets[spreadsheet_id]

    def replace(self, book: Spreadsheet) -> None:
        """Swap in an edited copy of a spreadsheet (end of an atomic batch).

        The replaced spreadsheet's sheets move to a new generation, so that an edit through a reference
        kept to one of them copies the cells it shares with the copy instead of changing them under it.
        """
        book.touch()
        old = self.spreadsheets.get(book.spreadsheet_id)
        if old is not None and old is not book:
            for sheet in old.sheets:
                sheet.generation = next(_generations)
        self.spreadsheets[book.spreadsheet_id] = book

    @staticmethod
    def working_copy(book: Spreadsheet) -> Spreadsheet:
        """A copy to apply a batch to; the original is left as it was whatever the batch does to it."""
        return Spreadsheet(
            book.spreadsheet_id,
            copy.deepcopy(book.properties),
            [sheet.clone() for sheet in book.sheets],
            book.created,
            book.modified,
            copy.deepcopy(book.named_ranges),
        )
