"""The filtered Queue read (``open_queue``) on every sheet of the xlsx corpus: each column with a header
taken as the Status column and its most common text as the closed status, the rows it keeps are the
whole read's rows at their numbers, and no row it leaves out holds anything but that status."""

from __future__ import annotations

from pathlib import Path

import pytest

from callback_sheets.backends.excel.xlsx import open_queue
from callback_sheets.backends.excel.xlsx.read import read_sheet, sheet_names
from callback_sheets.cells import CellValue, text
from tests.corpus_check import CORPUS

pytestmark = pytest.mark.skipif(
    not (CORPUS / "manifest.json").exists(), reason=f"the xlsx corpus is not at {CORPUS}"
)


def _check_column(path: Path, sheet: str, whole: list[list[CellValue]], column: int) -> bool | None:
    """Whether the filtered read used (True) or fell back (False) with this column as Status; None when
    the column has no text to call closed."""
    values = [text(r[column]).casefold() for r in whole[1:] if text(r[column])]
    if not values:
        return None
    closed = max(sorted(set(values)), key=values.count)
    found = open_queue.read_open_queue_rows(path, sheet, [closed])
    if found is None:
        return False
    positions, grid = found
    width = len(grid[0])
    assert len(grid) <= len(positions)  # trailing empty rows trimmed, as a whole read trims them
    for position, cells in zip(positions, grid, strict=False):
        assert cells == whole[position - 1][:width], (path.name, sheet, position)
        assert all(v is None for v in whole[position - 1][width:]), (path.name, sheet, position)
    kept = set(positions)
    for position, cells in enumerate(whole, start=1):
        if position not in kept and any(v is not None for v in cells):
            assert text(cells[column]).casefold() == closed, (path.name, sheet, position)
    return True


def test_the_filtered_read_of_every_corpus_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    used = 0
    for path in sorted(CORPUS.glob("*.xlsx")):
        try:
            names = sheet_names(path)
        except Exception:
            continue
        for sheet in names:
            try:
                whole = read_sheet(path, sheet)
            except Exception:
                continue
            header = ["" if h is None else str(h).strip() for h in (whole[0] if whole else ())]
            for column, name in enumerate(header):
                if len(whole) < 2 or not name or header.index(name) != column:
                    continue
                monkeypatch.setattr(open_queue, "STATUS", name)
                used += bool(_check_column(path, sheet, whole, column))
    assert used > 100  # the filtered read was used, not only fallen back from
