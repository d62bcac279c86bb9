"""The value vocabulary every layer shares: a cell's value, a tab's grid, a row by header name, and the
snapshot a backend reads and the changeset the core computes from it.

A Snapshot holds the Queue tab (and any tool tabs asked for); a Changeset addresses Queue cells by row
position *and* the row's ID as read, so a backend can check that each write still lands on the same item,
and tool tabs by position. Nothing here knows a spreadsheet program.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from operator import itemgetter

from callback_sheets import model

CellValue = str | int | float | bool | datetime | date | None


class Link(str):
    """Text that links to a row of one of the tool's tabs (a Script cell -> its block on the Scripts tab).

    It compares and reads as its text, so a refresh rewrites it only when the text changes; a backend
    writes it as a link (Excel: an internal HYPERLINK, Google: a ``#gid=`` HYPERLINK)."""

    tab: str
    row: int

    def __new__(cls, text: str, tab: str, row: int) -> Link:
        made = super().__new__(cls, text)
        made.tab = tab
        made.row = row
        return made

    def __hash__(self) -> int:  # equal to its text, but never found in a cache of plain texts' encodings
        return hash((str(self), Link))


Grid = tuple[tuple[CellValue, ...], ...]


class WriteMode(StrEnum):
    TOOL = "tool"  # a tool-owned cell: the tool's value replaces whatever is there
    FILL = "fill"  # a staff cell the tool may fill only while it is still empty (ID, Owner)
    SET = "set"  # a staff cell changed on a person's explicit command (`attempt`)


class RowShape:
    """What the rows under one header share: header name -> 0-based position, and the row width."""

    __slots__ = ("_pickers", "index", "repeated", "width")

    def __init__(self, header: Sequence[str]) -> None:
        self.index = {name: i - 1 for name, i in column_index(header).items()}
        self.width = len(header)
        # names heading more than one column -> every 0-based position (the first is in ``index``)
        self.repeated = {name: tuple(i - 1 for i in cols) for name, cols in duplicate_headers(header).items()}
        self._pickers: dict[tuple[str, ...], Callable[[Sequence[CellValue]], tuple[CellValue, ...]]] = {}

    def picker(self, names: tuple[str, ...]) -> Callable[[Sequence[CellValue]], tuple[CellValue, ...]]:
        """A function from a row's cells to the cells of ``names`` (None for a column not there), made
        once per shape: the planner reads a dozen fields of every row through one C-level call."""
        pick = self._pickers.get(names)
        if pick is None:
            at = [self.index.get(name) for name in names]
            if len(names) > 1 and None not in at:
                pick = itemgetter(*at)
            else:
                found = [(i, n) for n, i in enumerate(at) if i is not None]

                def pick(cells: Sequence[CellValue]) -> tuple[CellValue, ...]:
                    out: list[CellValue] = [None] * len(names)
                    for i, n in found:
                        out[n] = cells[i]
                    return tuple(out)

            self._pickers[names] = pick
        return pick


class RowValues(Mapping[str, CellValue]):
    """One row's cells by header name, sharing the header's RowShape: a dict's interface without a dict
    per row (a 100,000-row queue is read into a fraction of the memory)."""

    __slots__ = ("_cells", "_shape")

    def __init__(self, cells: Sequence[CellValue], shape: RowShape) -> None:
        if len(cells) < shape.width:
            cells = (*cells, *([None] * (shape.width - len(cells))))
        self._cells = cells
        self._shape = shape

    def __getitem__(self, key: str) -> CellValue:
        return self._cells[self._shape.index[key]]

    def get(self, key: str, default: CellValue = None) -> CellValue:  # type: ignore[override]
        i = self._shape.index.get(key)
        return default if i is None else self._cells[i]

    def pick(self, names: tuple[str, ...]) -> tuple[CellValue, ...]:
        """The cells of ``names`` in that order (None for a column the header lacks)."""
        return self._shape.picker(names)(self._cells)

    def every(self, name: str) -> tuple[CellValue, ...]:
        """The cells of every column headed ``name`` (two columns may share a header)."""
        shape = self._shape
        many = shape.repeated.get(name)
        if many is not None:
            return tuple(self._cells[i] for i in many)
        i = shape.index.get(name)
        return () if i is None else (self._cells[i],)

    def __iter__(self) -> Iterator[str]:
        return iter(self._shape.index)

    def __len__(self) -> int:
        return len(self._shape.index)

    def __repr__(self) -> str:
        return f"RowValues({dict(self)!r})"


def pick(values: Mapping[str, CellValue], names: tuple[str, ...]) -> tuple[CellValue, ...]:
    """The cells of ``names`` in that order, from a RowValues (fast) or any other mapping."""
    if values.__class__ is RowValues:
        return values.pick(names)
    return tuple(values.get(name) for name in names)


def every(values: Mapping[str, CellValue], name: str) -> tuple[CellValue, ...]:
    """The cells of every column headed ``name`` in a row (one for a plain mapping)."""
    if values.__class__ is RowValues:
        return values.every(name)
    return (values[name],) if name in values else ()


def row_factory(header: Sequence[str]) -> Callable[[Sequence[CellValue]], RowValues]:
    """Makes the RowValues of rows under `header` (first occurrence of a name wins)."""
    shape = RowShape(header)
    return lambda cells: RowValues(cells, shape)


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class SheetRow:
    """A Queue row: its sheet row number and its values by header."""

    position: int  # 1-based sheet row number
    values: Mapping[str, CellValue]  # by header name

    def get(self, column: str) -> CellValue:
        return self.values.get(column)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a backend read: the Queue's header and rows, the tool tabs read along."""

    header: tuple[str, ...]
    rows: tuple[SheetRow, ...]
    tabs: Mapping[str, Grid] = field(default_factory=dict)  # tool tabs read along, row 1 = header
    version: object = None  # opaque: lets the backend notice a change between read and write
    locale: str | None = None  # the spreadsheet's locale when it has one (Google: "en_GB"): how dates read


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class CellWrite:
    """One Queue cell to write, found again by the row's ID."""

    position: int
    row_id: str | None  # the row's ID in the snapshot; None when it had none
    column: str
    value: CellValue
    mode: WriteMode = WriteMode.TOOL
    before: CellValue = None  # the value read, for --dry-run and conflict checks


@dataclass(slots=True)
class Changeset:
    """What a command writes: cell changes, appended rows, tool tabs' cells and rows."""

    cells: list[CellWrite] = field(default_factory=list)
    new_rows: list[dict[str, CellValue]] = field(default_factory=list)  # appended to the Queue
    tab_cells: dict[str, dict[tuple[int, int], CellValue]] = field(
        default_factory=dict
    )  # (row, col), 1-based
    tab_appends: dict[str, list[list[CellValue]]] = field(default_factory=dict)
    # Rows to remove (`archive`): tab -> the IDs whose rows go (the Queue's ID column, a tool tab's first
    # column). Removed by ID after everything else is applied; appended rows are never removed.
    removed: dict[str, frozenset[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.cells
            or self.new_rows
            or any(self.tab_cells.values())
            or any(self.tab_appends.values())
            or any(self.removed.values())
        )

    def count(self) -> int:
        return (
            len(self.cells)
            + len(self.new_rows)
            + sum(len(c) for c in self.tab_cells.values())
            + sum(len(r) for r in self.tab_appends.values())
            + sum(len(r) for r in self.removed.values())
        )


def is_blank(value: object) -> bool:
    """An empty cell as a person sees it: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def column_index(header: Sequence[str]) -> dict[str, int]:
    """Header name → 1-based column number (first occurrence wins; blank headers skipped)."""
    index: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        key = str(name).strip() if name is not None else ""
        if key and key not in index:
            index[key] = i
    return index


def removed_positions(snapshot: Snapshot, tab: str, ids: frozenset[str]) -> list[int]:
    """The 1-based rows of ``tab`` (the Queue or a tool tab) whose ID is one of ``ids``, in the snapshot."""
    def key(value: CellValue) -> str:
        return "" if value is None else str(value).strip().casefold()

    wanted = {key(i) for i in ids}
    if tab == model.QUEUE_TAB:
        return [r.position for r in snapshot.rows if key(r.get(model.ID)) in wanted]
    return [n for n, row in grid_rows(snapshot.tabs.get(tab, ())) if row and key(row[0]) in wanted]


def duplicate_headers(header: Sequence[object]) -> dict[str, tuple[int, ...]]:
    """Header names heading more than one column -> their 1-based column numbers (blank ones ignored)."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        key = str(name).strip() if name is not None else ""
        if key:
            seen.setdefault(key, []).append(i)
    return {k: tuple(v) for k, v in seen.items() if len(v) > 1}


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA."""
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def sheet_problems(header: Sequence[str]) -> tuple[str, ...]:
    """Problems of the header row: a name heading two columns (both are read for keywords, but staff
    should know which one is the real one)."""
    out = []
    for name, cols in duplicate_headers(header).items():
        where = ", ".join(column_letter(c) for c in cols)
        out.append(
            f"{len(cols)} columns are headed {name!r} (columns {where}): the tool reads the first "
            f"(and every one for escalation keywords); rename or merge the others"
        )
    return tuple(out)


def grid_rows(grid: Grid) -> Iterator[tuple[int, tuple[CellValue, ...]]]:
    """(1-based row number, values) for each row of a tab grid below its header."""
    yield from enumerate(grid[1:], start=2)


def changed_cells(grid: Grid, cells: Mapping[tuple[int, int], CellValue]) -> dict[tuple[int, int], CellValue]:
    """Only the cells whose value differs from the grid."""
    out = {}
    for (r, c), value in cells.items():
        before = grid[r - 1][c - 1] if r <= len(grid) and c <= len(grid[r - 1]) else None
        if not same_value(before, value):
            out[(r, c)] = value
    return out


def same_value(a: object, b: object) -> bool:
    """Equal as a person would read the cells: blank is blank, times to the minute, 3 == 3.0."""
    if a == b:
        return True
    if a is None or a == "":
        return is_blank(b)
    if b is None or b == "":
        return is_blank(a)
    if isinstance(a, datetime) and isinstance(b, datetime):
        trim = {"second": 0, "microsecond": 0, "tzinfo": None}
        return a.replace(**trim) == b.replace(**trim)  # type: ignore[arg-type]
    if isinstance(a, str) and isinstance(b, str):
        return a.strip() == b.strip()
    return False


def text(value: object) -> str:
    """A cell as a person reads its text: stripped, "" for nothing, 3.0 as "3"."""
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
