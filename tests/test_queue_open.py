"""`queue` reads the Queue without the rows whose Status is certainly closed (backend.read
without_statuses=): on real workbooks the work list (table, --json, --owner, --overdue) is the same with
that read on or forced off, whatever the Status column's place, the statuses' case and spacing, the
clinic's own closed statuses, or the cells' encoding; a row it cannot read as closed for sure is kept."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click.testing
import openpyxl
import pytest

from callback_sheets import model
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.excel.xlsx import open_queue
from callback_sheets.backends.excel.xlsx.read import read_sheet
from callback_sheets.cli import main
from tests.conftest import row

NOW = "2026-12-01T16:30"
CLOSED = sorted(model.CLOSED_STATUSES)
ROWS = [
    row("2026-11-20 08:10", ID="CB-00001", Status="Booked"),
    row("2026-12-01 08:20", ID="CB-00002", Status="New", Owner="Maria"),
    row("2026-11-25 08:30", ID="CB-00003", Status="  resolved "),  # typed: other case, spaces
    row("2026-11-28 08:40", ID="CB-00004", Status="In progress", Owner="James"),
    row("2026-12-01 08:50", ID="CB-00005", Status="NO RESPONSE"),
    row("2026-11-30 08:55", ID="CB-00006"),  # no Status
    row("2026-12-01 09:00", ID="CB-00007", Status="Gone away", Owner="Maria"),  # closed at one clinic
    row("2026-11-29 09:05", ID="CB-00008", Status="Duplicate", Owner="Maria"),
    row("2026-12-01 09:10", ID="CB-00009", Status="Escalated", Owner="Nurse Patel"),
    row("2026-11-27 09:15", ID="CB-00010", Status="Booked", Notes="Booked & paid <cash>"),
    row("2026-12-01 09:20", ID="CB-00011", Status="Waiting on patient"),
]
COMMANDS = [("queue",), ("queue", "--json"), ("queue", "--owner", "Maria"), ("queue", "--overdue")]


def run(*args: str, cwd: Path) -> click.testing.Result:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return click.testing.CliRunner().invoke(main, [*args, "--now", NOW], catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def queue(clinic_dir: Path, make_queue: Callable[..., ExcelBackend]) -> Path:
    make_queue(ROWS)
    return clinic_dir


def _workbook(folder: Path) -> Path:
    return folder / "queue.xlsx"


def _outputs(folder: Path, monkeypatch: pytest.MonkeyPatch, on: bool) -> tuple[list[tuple], list[Any]]:
    real = open_queue.read_open_queue_rows
    seen: list[Any] = []

    def spy(path: Path, sheet: str, closed: Any) -> Any:
        seen.append(real(path, sheet, closed) if on else None)
        return seen[-1]

    with monkeypatch.context() as patch:
        patch.setattr(open_queue, "read_open_queue_rows", spy)
        out = [(r.exit_code, r.output) for r in (run(*args, cwd=folder) for args in COMMANDS)]
    return out, seen


def _same_both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple], Any]:
    before = _workbook(folder).read_bytes()
    filtered, seen = _outputs(folder, monkeypatch, True)
    whole, _ = _outputs(folder, monkeypatch, False)
    assert filtered == whole
    assert all(code == 0 for code, _ in filtered), filtered
    assert _workbook(folder).read_bytes() == before  # queue writes nothing
    assert len(seen) == len(COMMANDS)
    return filtered, seen[-1]


def _kept_ids(folder: Path, rows: Any) -> set[str]:
    """The IDs of the rows the filtered read kept, checked against the whole read at their positions."""
    assert rows is not None  # the filtered read was used, not a fall-back
    whole = read_sheet(_workbook(folder), model.QUEUE_TAB)
    positions, grid = rows
    width = len(grid[0])
    assert positions[0] == 1 and positions == sorted(set(positions))
    for position, cells in zip(positions, grid, strict=True):
        assert cells == whole[position - 1][:width]
    ids = whole[0].index(model.ID)
    return {str(cells[ids]) for cells in grid[1:]}


OPEN = {"CB-00002", "CB-00004", "CB-00006", "CB-00007", "CB-00009", "CB-00011"}


def test_our_own_queue(queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN  # the closed ones, in any case and spacing, left out
    assert "6 open item(s)" in out[0][1]
    assert "CB-00007" in out[2][1] and "CB-00002" in out[2][1] and "CB-00004" not in out[2][1]


def test_a_clinics_own_closed_statuses(queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = queue / "callback_sheets.toml"
    listed = ["New", "In progress", "Waiting on patient", "Escalated", "Booked", "Resolved",
                          "No response", "Duplicate", "Gone away"]  # fmt: skip
    toml.write_text(
        toml.read_text()
        + "\n[choices]\nstatuses = ["
        + ", ".join(f'"{s}"' for s in listed)
        + ']\nclosed_statuses = ["Gone away", "Duplicate"]\n'
    )
    out, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN - {"CB-00007"} | {"CB-00001", "CB-00003", "CB-00005", "CB-00010"}
    assert "CB-00007" not in out[0][1] and "CB-00001" in out[0][1]


def _moved_status_column(folder: Path) -> None:
    """The Status column moved to the far right (staff dragged it), saved by openpyxl."""
    path = _workbook(folder)
    book = openpyxl.load_workbook(path)
    sheet = book[model.QUEUE_TAB]
    status = [c.value for c in sheet[1]].index(model.STATUS) + 1
    last = sheet.max_column + 1
    for r in range(1, sheet.max_row + 1):
        sheet.cell(r, last).value = sheet.cell(r, status).value
    sheet.delete_cols(status)
    book.save(path)


def test_the_status_column_moved(queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _moved_status_column(queue)
    header = read_sheet(_workbook(queue), model.QUEUE_TAB)[0]
    assert header[-1] == model.STATUS
    _, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN


@pytest.mark.libreoffice
def test_a_queue_saved_by_libreoffice(
    queue: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = _workbook(queue)
    out = tmp_path_factory.mktemp("lo")
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{out}/profile", "--convert-to",
         "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180, env={**os.environ, "HOME": str(out)},
    )  # fmt: skip
    shutil.copyfile(out / path.name, path)
    with zipfile.ZipFile(path) as archive:
        assert "xl/sharedStrings.xml" in archive.namelist()
    _, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN


def _rewritten(path: Path, change: Callable[[bytes], bytes]) -> None:
    """The workbook with its Queue sheet's XML changed (every other member as it was)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            out.writestr(info, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)


def _status_cell(xml: bytes, text: bytes, replacement: bytes, nth: int = 0) -> bytes:
    cell = b'<is><t xml:space="preserve">' + text + b"</t></is>"
    assert xml.count(cell) > nth
    at = -1
    for _ in range(nth + 1):
        at = xml.find(cell, at + 1)
    return xml[:at] + replacement + xml[at + len(cell) :]


KEPT = {  # a closed Status the filtered read cannot be sure of: the row is kept, work_list drops it
    "rich text": (b"Booked", b"<is><r><t>Boo</t></r><r><t>ked</t></r></is>", "CB-00001"),
    "a character reference to a space": (
        b"Duplicate",
        b'<is><t xml:space="preserve">Duplicate&#32;</t></is>',
        "CB-00008",
    ),
    "an empty Status": (b"NO RESPONSE", b'<is><t xml:space="preserve"></t></is>', "CB-00005"),
    "a character reference to a letter": (
        b"Booked",
        b'<is><t xml:space="preserve">&#66;ooked</t></is>',
        "CB-00001",
    ),
}


@pytest.mark.parametrize("how", sorted(KEPT))
def test_a_status_it_cannot_read_exactly_keeps_its_row(
    queue: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, replacement, item = KEPT[how]
    _rewritten(_workbook(queue), lambda xml: _status_cell(xml, text, replacement))
    assert read_sheet(_workbook(queue), model.QUEUE_TAB)  # still a workbook calamine reads
    out, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN | {item}
    assert (item in out[0][1]) == (how == "an empty Status")  # else closed all the same: filtered after


def test_shared_strings_are_decoded_exactly_or_kept() -> None:
    table = [b'<sst count="4">', b"<t>Booked</t></si>", b'<t xml:space="preserve"> booked </t></si>']
    table += [b"<r><t>Booked</t></r></si>", b"<t>B&#111;oked</t></si></sst>"]
    decoder = open_queue._Decoder(table, {"booked"})
    found = [decoder.is_closed(b'" t="s"><v>%d</v></c>' % i) for i in range(5)]
    assert found == [True, True, False, False, False]  # rich, a reference, no such string: kept
    assert not decoder.is_closed(b'" s="3"><v>0</v></c>')  # a number 0, not the shared string
    assert not open_queue._Decoder(None, {"booked"}).is_closed(b'" t="s"><v>0</v></c>')  # table not plain
    assert decoder.is_closed(b'" s="1" t="inlineStr"><is><t>BOOKED</t></is></c>')
    assert not decoder.is_closed(b'" t="inlineStr"><is><t>Booked</t><rPh><t>x</t></rPh></is></c>')


def test_an_escaped_closed_status_is_read_exactly(queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clinic's closed status holding ``&``: its entity decoded, the row left out."""
    toml = queue / "callback_sheets.toml"
    toml.write_text(
        toml.read_text() + '\n[choices]\nstatuses = ["New", "In progress", "Waiting on patient", "Escalated",'
        ' "Booked", "Booked & paid", "Resolved", "No response", "Duplicate", "Gone away"]\n'
        'closed_statuses = ["Booked", "Booked & paid", "Resolved", "No response", "Duplicate"]\n'
    )
    _rewritten(
        _workbook(queue),
        lambda xml: _status_cell(xml, b"Booked", b'<is><t xml:space="preserve">booked &amp; PAID</t></is>'),
    )
    _, rows = _same_both_ways(queue, monkeypatch)
    assert _kept_ids(queue, rows) == OPEN


def test_a_staff_save_during_the_read_is_noticed_and_read_again(
    queue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callback_sheets.backends.excel.xlsx.patch import patch_workbook

    path = _workbook(queue)
    header = read_sheet(path, model.QUEUE_TAB)[0]
    status = header.index(model.STATUS) + 1
    real = open_queue.read_open_queue_rows
    calls: list[Any] = []

    def saving(where: Path, sheet: str, closed: Any) -> Any:
        found = real(where, sheet, closed)
        if not calls:  # staff reopen CB-00001 (row 2) while the tool reads
            staged = where.with_name("staff.xlsx")
            patch_workbook(where, staged, edits={model.QUEUE_TAB: {(2, status): "In progress"}})
            os.replace(staged, where)
        calls.append(found)
        return found

    monkeypatch.setattr(open_queue, "read_open_queue_rows", saving)
    result = run("queue", cwd=queue)
    assert result.exit_code == 0, result.output
    assert len(calls) == 2 and calls[1] is not None  # read again after the save
    assert "CB-00001" in result.output and "7 open item(s)" in result.output


def test_the_kept_rows_are_a_superset_with_their_real_numbers(queue: Path) -> None:
    found = open_queue.read_open_queue_rows(_workbook(queue), "queue", CLOSED)
    assert _kept_ids(queue, found) == OPEN
    assert open_queue.read_open_queue_rows(_workbook(queue), "Queue", []) is None  # nothing to leave out
    assert open_queue.read_open_queue_rows(_workbook(queue), "Nope", CLOSED) is None
    snapshot = ExcelBackend(_workbook(queue)).read(without_statuses=CLOSED)
    assert {r.get(model.ID) for r in snapshot.rows} == OPEN
    assert (
        ExcelBackend(_workbook(queue)).read(rows_of="CB-00001", without_statuses=CLOSED).rows[0].position == 2
    )


HOSTILE = {
    "a comment in the rows": lambda xml: xml.replace(b"</row>", b"</row><!-- a note -->", 1),
    "CDATA": lambda xml: xml.replace(b'<t xml:space="preserve">New</t>', b"<t><![CDATA[New]]></t>", 1),
    "rows without their number": lambda xml: xml.replace(b'<row r="3"', b"<row"),
    "rows out of order": lambda xml: xml.replace(b'<row r="3"', b'<row r="30"', 1),
    "a kept row holding another row's cell": lambda xml: xml.replace(b'<c r="A3"', b'<c r="A2"', 1),
    "no Status header": lambda xml: xml.replace(b">Status<", b">State<", 1),
    "a header not on row 1": lambda xml: xml.replace(b'<row r="1"', b'<row r="2"', 1),
    "UTF-16": lambda xml: (
        xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
        if b'encoding="UTF-8"' in xml
        else b'<?xml version="1.0" encoding="UTF-16"?>' + xml
    ),
}


@pytest.mark.parametrize("how", sorted(HOSTILE))
def test_an_unusual_sheet_is_read_whole(queue: Path, how: str) -> None:
    path = _workbook(queue)
    assert open_queue.read_open_queue_rows(path, "Queue", CLOSED) is not None
    _rewritten(path, HOSTILE[how])
    assert open_queue.read_open_queue_rows(path, "Queue", CLOSED) is None
