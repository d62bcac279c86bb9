"""`attempt` reads one item's History rows: the keyed read gives exactly the rows a whole read gives."""

from __future__ import annotations

import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from callback_sheets.backends.excel.xlsx.keyed import read_rows_of
from callback_sheets.backends.excel.xlsx.read import read_sheet

HEADER = ["ID", "Attempt", "Time", "Outcome", "Recorded", "Source"]


def _whole(path: Path, key: str) -> list[list[object]]:
    grid = read_sheet(path, "History")
    return grid[:1] + [r for r in grid[1:] if r and str(r[0] or "").strip().casefold() == key.casefold()]


def _book(path: Path, *, date1904: bool = False) -> Path:
    book = openpyxl.Workbook()  # openpyxl writes shared strings, as Excel does
    book.active.title = "Queue"
    book.active.append(["ID", "Status"])
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    history = book.create_sheet("History")
    history.append(HEADER)
    rows = [
        ["CB-1", 1, datetime(2026, 3, 2, 9, 15), "No answer", datetime(2026, 3, 2, 9, 15), "sheet"],
        ["CB-10", 1, datetime(2026, 3, 2, 10, 0), "Reached", datetime(2026, 3, 2, 10, 0), "sheet"],
        ["cb-1 ", 2, datetime(2026, 3, 3, 11, 0), "Voicemail left", None, True],
        ["A&B <1>", 1, 3.5, "Booked", "text", False],
        [None, None, None, "a row without ID", None, None],
        ["CB-1", 3, datetime(2026, 3, 4, 8, 0), "Booked", datetime(2026, 3, 4, 8, 0), "CB-1"],
        ["CB-2", 1, datetime(2026, 3, 5, 8, 0), "CB-1", None, "CB-1"],  # the key, but not in column A
        ["CB-1x", 1, None, None, None, None],
    ]
    for row in rows:
        history.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("key", ["CB-1", "cb-10", "A&B <1>", "CB-2", " CB-1 "])
@pytest.mark.parametrize("date1904", [False, True])
def test_keyed_rows_equal_the_whole_reads(tmp_path: Path, key: str, date1904: bool) -> None:
    path = _book(tmp_path / "q.xlsx", date1904=date1904)
    assert read_rows_of(path, "History", key) == _whole(path, key.strip())
    assert read_rows_of(path, "history", key) == _whole(path, key.strip())  # Excel's names ignore case


def test_keyed_rows_of_a_tool_written_history(tmp_path: Path) -> None:
    """The tool appends inline strings; a big tab is searched, never parsed, and the rows come out
    in order with their dates."""
    from callback_sheets import model
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.cells import Changeset
    from callback_sheets.layout import TOOL_TABS

    backend = ExcelBackend(tmp_path / "q.xlsx")
    backend.init(header=model.REQUIRED_COLUMNS, tabs=TOOL_TABS, choices={})
    history = [
        [f"CB-{n % 500:04d}", n // 500 + 1, datetime(2026, 1, 1 + n % 28, 9), "No answer", None, "sheet"]
        for n in range(5000)
    ]
    with backend.session():
        backend.write(backend.read(), Changeset(tab_appends={model.HISTORY_TAB: history}))
    for key in ("CB-0007", "CB-0499", "CB-9999"):
        mine = read_rows_of(backend.path, "History", key)
        assert mine == _whole(backend.path, key)
    assert [r[1] for r in read_rows_of(backend.path, "History", "CB-0007")[1:]] == list(range(1, 11))
    snapshot = backend.read(tabs=(model.HISTORY_TAB,), history_of="CB-0007")
    assert len(snapshot.tabs[model.HISTORY_TAB]) == 11  # the header and the item's ten rows


def test_keyed_rows_without_the_tab_or_rows(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Queue"
    book.create_sheet("History")
    book.save(tmp_path / "q.xlsx")
    assert read_rows_of(tmp_path / "q.xlsx", "Demand", "CB-1") is None
    assert read_rows_of(tmp_path / "q.xlsx", "History", "CB-1") == _whole(tmp_path / "q.xlsx", "CB-1") == []


@pytest.mark.libreoffice
def test_keyed_rows_of_a_workbook_saved_by_libreoffice(tmp_path: Path) -> None:
    """LibreOffice writes its own shared strings, styles and row attributes."""
    source = _book(tmp_path / "src" / "q.xlsx") if (tmp_path / "src").mkdir() is None else None
    assert source is not None
    out = tmp_path / "out"
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to",
         "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    saved = out / "q.xlsx"
    with zipfile.ZipFile(saved) as archive:
        assert "xl/sharedStrings.xml" in archive.namelist()
    for key in ("CB-1", "CB-10", "A&B <1>"):
        assert read_rows_of(saved, "History", key) == _whole(saved, key)
