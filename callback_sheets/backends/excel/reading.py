"""Which sheets an Excel read parses whole and which it searches by key (one item's rows)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from callback_sheets import model
from callback_sheets.cells import CellValue, SheetRow, row_factory

_SMALL_TABS = frozenset((model.STATE_TAB, model.LISTS_TAB, model.SCRIPTS_TAB))
"""Tool tabs of a few cells: read after the Queue through the same handle, not on a second thread."""


def read_grids(
    path: Path,
    names: Mapping[str, str],
    history_of: str | None,
    rows_of: str | None,
    without_statuses: Collection[str] = (),
) -> tuple[tuple[str, ...], dict[str, list[list[CellValue]]], list[int] | None]:
    """All the workbook's sheet names, and the sheets of the roles ``names`` maps to their names
    (keyed by name; the Queue first), read whole or keyed: History with ``history_of`` (that item's
    rows), the Queue with ``rows_of`` (its header and the rows holding that ID, whose row numbers in
    the sheet come third; None when the Queue was read whole), or without ``without_statuses`` (its
    header and the rows whose Status is not certainly one of those, numbered the same way)."""
    from callback_sheets.backends.excel.xlsx.read import read_workbook

    keyed = history_of is not None and model.HISTORY_TAB in names
    queue = None
    if rows_of is not None:  # the Queue's header and that ID's rows, or None: the Queue read whole
        from callback_sheets.backends.excel.xlsx.keyed_queue import read_queue_rows_of

        queue = read_queue_rows_of(path, names[model.QUEUE_TAB], rows_of)
    elif without_statuses:  # the Queue's header and its rows not certainly closed, or None: read whole
        from callback_sheets.backends.excel.xlsx.open_queue import read_open_queue_rows

        queue = read_open_queue_rows(path, names[model.QUEUE_TAB], without_statuses)
    skipped = {model.HISTORY_TAB} if keyed else set()
    skipped |= {model.QUEUE_TAB} if queue is not None else set()
    wanted = [role for role in names if role not in skipped]
    found, grids = read_workbook(
        path, [names[role] for role in wanted], threaded=not set(wanted[1:]) <= _SMALL_TABS, checked=True
    )
    if keyed:  # that item's History rows only: the rest of the tab is searched, not parsed
        from callback_sheets.backends.excel.xlsx.keyed import read_rows_of

        mine = read_rows_of(path, names[model.HISTORY_TAB], str(history_of))
        if mine is not None:
            grids[names[model.HISTORY_TAB]] = mine
    if queue is None:
        return found, grids, None
    grids[names[model.QUEUE_TAB]] = queue[1]
    return found, grids, queue[0]


def queue_rows(
    queue: list[list[CellValue]], positions: list[int] | None
) -> tuple[tuple[str, ...], tuple[SheetRow, ...]]:
    """The Queue's header (its names stripped) and rows, numbered as in the sheet: ``positions`` (a
    keyed or filtered read's, the header's first), or 2, 3, ... for a whole read."""
    header = tuple("" if h is None else str(h).strip() for h in (queue[0] if queue else ()))
    values = row_factory(header)
    numbers = range(2, len(queue) + 1) if positions is None else positions[1 : len(queue)]
    return header, tuple(SheetRow(n, values(raw)) for n, raw in zip(numbers, queue[1:], strict=True))
