"""`attempt` and `script` read only the Queue's header and the rows holding the ID (backend.read
rows_of=): on real workbooks, the keyed read gives the same output and byte-identical workbooks as the
whole read (forced by turning the keyed read off), whatever the ID's case, spacing, column or neighbours."""

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
from callback_sheets.backends.excel.xlsx import keyed_queue
from callback_sheets.backends.excel.xlsx.read import read_sheet
from callback_sheets.cli import main
from tests.conftest import row

NOW = "2026-12-01T10:30"
ROWS = [
    row("2026-12-01 08:10", ID="CB-00001"),
    row("2026-12-01 08:20", ID="CB-000012"),  # CB-00001 is a prefix of it
    row("2026-12-01 08:30", ID="CB-00003"),
    row("2026-12-01 08:40", ID="CB-00004", Notes="same caller as CB-00003, see CB-00001"),
    row("2026-12-01 08:50", ID="CB-00005"),
    row("2026-12-01 08:55", ID="CB-00005"),  # a copy: refused as today
    row("2026-12-01 09:00", ID="  cb-00007 "),  # typed by staff: other case, spaces
    row("2026-12-01 09:05"),  # no ID yet
]
IDS = ["CB-00001", "CB-000012", "cb-00003 ", " CB-00004", "CB-00005", "CB-00007", "CB-09999", "CB-0000"]


def run(*args: str, cwd: Path) -> click.testing.Result:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return click.testing.CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


@pytest.fixture
def queue(clinic_dir: Path, make_queue: Callable[..., ExcelBackend]) -> Path:
    make_queue(ROWS)
    return clinic_dir


def _outcome(folder: Path, args: tuple[str, ...], keyed: bool, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """(exit code, output, workbook bytes) of the command run in a copy of ``folder``, with the keyed
    Queue read on or forced off, and the rows the keyed read gave (None: off or fell back)."""
    copy = folder.parent / f"{folder.name}-{'keyed' if keyed else 'whole'}-{abs(hash(args))}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(folder, copy)
    real = keyed_queue.read_queue_rows_of
    seen: list[Any] = []

    def spy(path: Path, sheet: str, key: str) -> Any:
        seen.append(real(path, sheet, key) if keyed else None)
        return seen[-1]

    with monkeypatch.context() as patch:
        patch.setattr(keyed_queue, "read_queue_rows_of", spy)
        result = run(*args, cwd=copy)
    workbook = _workbook(copy).read_bytes()
    return (result.exit_code, result.output, workbook), (seen[-1] if seen else None)


def _same_both_ways(folder: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    keyed, rows = _outcome(folder, args, True, monkeypatch)
    whole, _ = _outcome(folder, args, False, monkeypatch)
    assert keyed[:2] == whole[:2]
    assert keyed[2] == whole[2]  # byte for byte
    return keyed, rows


def _workbook(folder: Path) -> Path:
    found = sorted(folder.glob("*.xlsx"))
    assert len(found) == 1
    return found[0]


def _positions_hold_the_rows(path: Path, rows: Any) -> None:
    """The keyed rows are the whole read's rows at their positions (the header at 1)."""
    whole = read_sheet(path, model.QUEUE_TAB)
    positions, grid = rows
    width = len(grid[0])
    for position, cells in zip(positions, grid, strict=False):
        assert cells == whole[position - 1][:width]
        assert all(v is None for v in whole[position - 1][width:])


@pytest.mark.parametrize("item_id", IDS)
def test_attempt_is_the_same_keyed_or_whole(
    queue: Path, item_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (code, output, _), rows = _same_both_ways(
        queue, monkeypatch, "attempt", item_id, "--outcome", "No answer", "--note", "rang", "--now", NOW
    )
    assert rows is not None  # the keyed read was used, not a fall-back
    _positions_hold_the_rows(_workbook(queue), rows)
    if item_id == "CB-00005":
        assert code != 0 and "is on 2 rows" in output
    elif item_id in ("CB-09999", "CB-0000"):
        assert code == 1 and "no queue item with ID" in output
    else:
        assert code == 0, output
        assert f"ON {item_id.upper()} (" in output.upper()  # as typed


def test_the_keyed_rows_are_a_superset_with_their_real_numbers(queue: Path) -> None:
    path = _workbook(queue)
    positions, grid = keyed_queue.read_queue_rows_of(path, "queue", "CB-00001") or ([], [])
    ids = [r[0] for r in grid]
    assert ids[0] == "ID" and positions[0] == 1
    assert {"CB-00001", "CB-000012"} <= set(ids)  # the prefix's row found too: the caller filters
    assert positions == sorted(set(positions))
    _positions_hold_the_rows(path, (positions, grid))
    three = keyed_queue.read_queue_rows_of(path, "Queue", "cb-00003")
    assert three is not None and [r[0] for r in three[1]][1:] == ["CB-00003", "CB-00004"]  # Notes too


@pytest.mark.parametrize("key", ["12345", "1e-05", "inf", "CB 00001", "CB-1", "A&B-001", "Ça-0001", ""])
def test_keys_a_search_cannot_find_safely_read_the_whole_queue(queue: Path, key: str) -> None:
    assert keyed_queue.read_queue_rows_of(_workbook(queue), "Queue", key) is None


def test_script_reads_keyed_too(queue: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (code, output, _), rows = _same_both_ways(queue, monkeypatch, "script", "cb-00003")
    assert code == 0 and output and rows is not None


def _moved_id_column(folder: Path) -> None:
    """The ID column moved to the far right (staff dragged it), saved by openpyxl."""
    path = _workbook(folder)
    book = openpyxl.load_workbook(path)
    sheet = book[model.QUEUE_TAB]
    last = sheet.max_column + 1
    for r in range(1, sheet.max_row + 1):
        sheet.cell(r, last).value = sheet.cell(r, 1).value
    sheet.delete_cols(1)
    book.save(path)


@pytest.mark.parametrize("item_id", ["CB-00001", "cb-00003 ", "CB-00005", "CB-09999"])
def test_attempt_with_the_id_column_moved(queue: Path, item_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _moved_id_column(queue)
    header = read_sheet(_workbook(queue), model.QUEUE_TAB)[0]
    assert header[0] != "ID" and "ID" in header
    (code, output, _), rows = _same_both_ways(
        queue, monkeypatch, "attempt", item_id, "--outcome", "Voicemail left", "--now", NOW
    )
    assert rows is not None
    _positions_hold_the_rows(_workbook(queue), rows)
    assert (code == 0) == (item_id in ("CB-00001", "cb-00003 ")), output


@pytest.mark.libreoffice
@pytest.mark.parametrize("item_id", ["CB-00001", " cb-000012", "CB-00004", "CB-00005", "CB-09999"])
def test_attempt_on_a_queue_saved_by_libreoffice(
    queue: Path, item_id: str, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
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
    (code, output, _), rows = _same_both_ways(
        queue, monkeypatch, "attempt", item_id, "--outcome", "No answer", "--now", NOW
    )
    assert rows is not None
    _positions_hold_the_rows(_workbook(queue), rows)
    assert (code == 0) == (item_id.strip().casefold() in ("cb-00001", "cb-000012", "cb-00004")), output


def test_a_staff_save_during_the_keyed_read_is_noticed_and_read_again(
    queue: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callback_sheets.backends.excel.xlsx.patch import patch_workbook

    path = _workbook(queue)
    header = read_sheet(path, model.QUEUE_TAB)[0]
    notes = header.index(model.NOTES) + 1
    real = keyed_queue.read_queue_rows_of
    calls: list[str] = []

    def saving(where: Path, sheet: str, key: str) -> Any:
        found = real(where, sheet, key)
        if not calls:  # staff save a note on the item while the tool reads
            staged = where.with_name("staff.xlsx")
            patch_workbook(where, staged, edits={model.QUEUE_TAB: {(4, notes): "staff typed this"}})
            os.replace(staged, where)
        calls.append(key)
        return found

    monkeypatch.setattr(keyed_queue, "read_queue_rows_of", saving)
    result = run("attempt", "CB-00003", "--outcome", "No answer", "--note", "rang", "--now", NOW, cwd=queue)
    assert result.exit_code == 0, result.output
    assert len(calls) == 2  # read again after the save
    grid = read_sheet(path, model.QUEUE_TAB)
    assert grid[3][0] == "CB-00003"
    assert str(grid[3][notes - 1]).startswith("staff typed this\n[")  # theirs kept, the note after it


def _rewritten(path: Path, change: Callable[[bytes], bytes]) -> None:
    """The workbook with its Queue sheet's XML changed (every other member as it was)."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in members:
            out.writestr(info, change(data) if info.filename == "xl/worksheets/sheet1.xml" else data)


T = b'<t xml:space="preserve">CB-00003</t>'
HOSTILE = {
    "rich inline text splits the ID": lambda xml: xml.replace(
        b"<is>" + T + b"</is>", b"<is><r><t>CB-0</t></r><r><t>0003</t></r></is>"
    ),
    "a character reference": lambda xml: xml.replace(T, T.replace(b"-", b"&#45;")),
    "a comment in the rows": lambda xml: xml.replace(b"</row>", b"</row><!-- a note -->", 1),
    "rows without their number": lambda xml: xml.replace(b'<row r="4"', b"<row"),
    "UTF-16": lambda xml: (
        xml.replace(b'encoding="UTF-8"', b'encoding="UTF-16"')
        if b'encoding="UTF-8"' in xml
        else b'<?xml version="1.0" encoding="UTF-16"?>' + xml
    ),
}


@pytest.mark.parametrize("how", sorted(HOSTILE))
def test_a_sheet_the_search_could_miss_the_id_in_is_read_whole(queue: Path, how: str) -> None:
    path = _workbook(queue)
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert b"<is>" + T + b"</is>" in xml and b'<row r="4"' in xml  # what the changes below expect
    if how != "UTF-16":  # the search would see what it needs; the change is what makes it doubt
        assert keyed_queue.read_queue_rows_of(path, "Queue", "CB-00003") is not None
    _rewritten(path, HOSTILE[how])
    assert keyed_queue.read_queue_rows_of(path, "Queue", "CB-00003") is None
    if how != "UTF-16":  # (not a real UTF-16 file: only the declaration says so)
        snapshot = ExcelBackend(path).read(rows_of="CB-00003")
        assert [r.position for r in snapshot.rows if r.get(model.ID) == "CB-00003"] == [4]
