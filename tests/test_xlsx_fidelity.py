"""Fidelity of the zero-collateral patcher on feature-rich workbooks (issue 7).

Fixtures are written by xlsxwriter (Excel-faithful: x14 extension blocks, sparklines, data bars, text boxes,
rich text, dynamic arrays, notes, pictures with links, charts, tables...) plus, when LibreOffice is
installed, a copy of each re-saved by LibreOffice. After a patch of a few Queue cells and rows appended to
the Log tab: every other zip member is byte-identical, inside the changed sheets only the targeted cells
differ, and openpyxl, python-calamine and LibreOffice read the new values back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import struct
import subprocess
import warnings
import zipfile
import zlib
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
import xlsxwriter  # type: ignore[import-untyped]

from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.patch import CellValue, patch_workbook
from callback_sheets.backends.excel.xlsx.read import read_sheet

X14_VALIDATION = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>Lists!$A$1:$A$4</xm:f></x14:formula1><xm:sqref>C2:C50</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext></extLst>"
)
HEADER = ["ID", "Received", "Reason", "Status", "Next attempt", "Overdue", "Attempts", "Notes"]
EDITS: dict[tuple[int, int], CellValue] = {
    (2, 5): dt.datetime(2026, 12, 1, 12, 0),  # replaces a datetime in a date-formatted cell
    (3, 5): dt.datetime(2026, 12, 1, 17, 0),  # fills an empty, unstyled cell: needs a date style
    (2, 6): "OVERDUE since Tue 12:00",
    (3, 6): None,  # clears a value, keeps the cell's style
    (4, 7): 3,
    (5, 6): '=HYPERLINK("http://x","y")',
}
LOG_APPENDS: list[list[CellValue]] = [
    [dt.datetime(2026, 12, 2, 9, 30), "refresh", 17],
    [dt.datetime(2026, 12, 2, 9, 40), "  spaced  ", 0],
]


def tiny_png() -> bytes:
    """A 1x1 green PNG, so the fixture needs no image file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00\xff\x00"))


def build_fixture(path: Path) -> None:
    """A workbook holding every feature staff might use, around a small Queue and a Log tab."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": "Callbacks", "author": "Front desk", "company": "Test Clinic"})
    book.set_custom_property("Clinic code", "TC-1")
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7"})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": '"$"#,##0.00;[Red]-"$"#,##0.00'})
    grey = book.add_format({"bg_color": "#EEEEEE"})
    red = book.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})

    queue = book.add_worksheet("Queue")
    log = book.add_worksheet("Log")
    lists = book.add_worksheet("Lists")
    extras = book.add_worksheet("Extras")

    lists.write_column(0, 0, ["New", "In progress", "Booked", "Resolved"])
    lists.write_column(0, 1, ["Billing", "Other"])
    book.define_name("Statuses", "=Lists!$A$1:$A$4")
    book.define_name("Queue!LocalName", "=Queue!$A$2")

    queue.write_row(0, 0, HEADER, bold)
    received = dt.datetime(2026, 12, 1, 9, 10)
    for index in range(5):
        row = index + 1
        queue.write_string(row, 0, f"CB-{row:05d}")
        queue.write_datetime(row, 1, received + dt.timedelta(hours=index), when)
        queue.write_string(row, 2, "Billing" if index % 2 else "Other")
        queue.write_string(row, 3, "New")
        if index == 0:
            queue.write_datetime(row, 4, received, when)
        queue.write_string(row, 5, "stale", grey) if index == 1 else None
        queue.write_number(row, 6, index)
    queue.write_rich_string(3, 7, "call ", bold, "before noon", " please")
    queue.write_formula(5, 6, "=SUM(G2:G5)", None, 6)
    queue.write_dynamic_array_formula("J2:J6", "=SORT(G2:G6)")
    queue.write_url(2, 8, "https://example.org/chart", string="Chart")
    queue.write_comment(1, 0, "First caller of the day", {"author": "Ana", "visible": False})
    queue.merge_range("K1:L1", "Merged note", bold)
    queue.write_number(6, 10, 1234.5, money)
    queue.freeze_panes(1, 1)
    queue.autofilter("A1:H6")
    queue.data_validation("D2:D50", {"validate": "list", "source": "=Lists!$A$1:$A$4"})
    queue.data_validation(
        "G2:G50", {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": 9}
    )
    queue.conditional_format("G2:G6", {"type": "cell", "criteria": ">", "value": 2, "format": red})
    queue.conditional_format(
        "C2:C6", {"type": "text", "criteria": "containing", "value": "Bill", "format": red}
    )
    queue.conditional_format("G2:G6", {"type": "3_color_scale"})
    queue.conditional_format("G2:G6", {"type": "data_bar", "data_bar_2010": True, "bar_solid": True})
    queue.conditional_format("G2:G6", {"type": "icon_set", "icon_style": "3_arrows"})
    queue.conditional_format("A2:A6", {"type": "duplicate", "format": red})
    queue.conditional_format(
        "A2:H6", {"type": "formula", "criteria": '=LEFT($F2,7)="OVERDUE"', "format": red}
    )

    log.write_row(0, 0, ["When", "What", "Rows"])
    log.write_row(1, 0, [dt.datetime(2026, 12, 1, 9, 0), "refresh", 5])
    log.write_datetime(1, 0, dt.datetime(2026, 12, 1, 9, 0), when)
    log.add_table(
        "A1:C2", {"name": "RefreshLog", "columns": [{"header": h} for h in ("When", "What", "Rows")]}
    )
    log.protect("", {"format_columns": True})

    extras.write_row(0, 0, [3, 1, 4, 1, 5, 9])
    extras.add_sparkline("G1", {"range": "Extras!A1:F1", "markers": True})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Extras!$A$1:$F$1", "name": "Calls"})
    extras.insert_chart("B3", chart)
    extras.insert_textbox("J3", "Staff: type in white columns only", {"width": 240, "height": 60})
    image = io.BytesIO(tiny_png())
    extras.insert_image("B20", "dot.png", {"image_data": image, "url": "https://example.org/help"})
    extras.insert_image("E20", "dot2.png", {"image_data": io.BytesIO(tiny_png())})
    book.close()
    _inject_x14_validation(path)


def _inject_x14_validation(path: Path) -> None:
    """Adds an Excel 2010 extension-form dropdown (cross-sheet list) to the Queue sheet part."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                if "<extLst>" in text:
                    text = text.replace("<extLst>", X14_VALIDATION[: -len("</extLst>")], 1)
                else:
                    text = text.replace("</worksheet>", X14_VALIDATION + "</worksheet>")
                data = text.encode()
            target.writestr(info, data)


def soffice(args: list[str], outdir: Path) -> None:
    """Runs LibreOffice headless with a private profile (other runs may be going on)."""
    profile = outdir / "lo-profile"
    env = {**os.environ, "HOME": str(outdir)}
    subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless", *args, "--outdir", str(outdir)],
        check=True,
        capture_output=True,
        timeout=240,
        env=env,
    )


def libreoffice_copy(src: Path, outdir: Path) -> Path:
    """``src`` re-saved by LibreOffice as .xlsx."""
    outdir.mkdir(parents=True, exist_ok=True)
    soffice(["--convert-to", "xlsx:Calc MS Excel 2007 XML", str(src)], outdir)
    return outdir / src.name


def libreoffice_csv(src: Path, outdir: Path, sheet: str) -> list[list[str]]:
    """One sheet of ``src`` as LibreOffice reads it, values as shown, through CSV export of every sheet."""
    outdir.mkdir(parents=True, exist_ok=True)
    soffice(
        [
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1",
            str(src),
        ],
        outdir,
    )
    with open(outdir / f"{src.stem}-{sheet}.csv", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


# --- comparing packages and sheets ------------------------------------------------------------------

_CELL = re.compile(rb'<c r="([A-Z]+[0-9]+)"[^>]*?(?:/>|>.*?</c>)', re.DOTALL)
_ROW = re.compile(rb'<row r="([0-9]+)"[^>]*?(?:/>|>.*?</row>)', re.DOTALL)


def members(path: Path) -> list[tuple[str, int, int, bytes]]:
    """(name, compression, CRC, content) of every member, in order."""
    with zipfile.ZipFile(path) as archive:
        return [(i.filename, i.compress_type, i.CRC, archive.read(i)) for i in archive.infolist()]


def raw_member(path: Path, name: str) -> bytes:
    """A member's stored (compressed) bytes, to prove the copy is raw."""
    with open(path, "rb") as handle, zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
        handle.seek(info.header_offset)
        header = handle.read(30)
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        handle.seek(info.header_offset + 30 + name_length + extra_length)
        return handle.read(info.compress_size)


def sheet_part(path: Path, sheet: str) -> str:
    """The zip member holding ``sheet``, through the workbook's relationships."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    rel_id = re.search(rf'<sheet [^>]*name="{sheet}"[^>]*r:id="([^"]+)"', workbook)
    assert rel_id is not None
    tag = next(t for t in re.findall(r"<Relationship [^>]*>", rels) if f'Id="{rel_id.group(1)}"' in t)
    target = re.search(r'Target="([^"]+)"', tag)
    assert target is not None
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def split_sheet(xml: bytes) -> tuple[bytes, dict[int, bytes], dict[str, bytes], bytes]:
    """(before sheetData, rows by number, cells by reference, after sheetData)."""
    start = xml.index(b"<sheetData")
    end = xml.rindex(b"</sheetData>") if b"</sheetData>" in xml else xml.index(b"/>", start) + 2
    body = xml[start:end]
    rows = {int(m.group(1)): m.group(0) for m in _ROW.finditer(body)}
    cells = {m.group(1).decode(): m.group(0) for m in _CELL.finditer(body)}
    return xml[:start], rows, cells, xml[end:]


def ref(row: int, col: int) -> str:
    return f"{chr(64 + col)}{row}"


def assert_only_targets_changed(before: bytes, after: bytes, targets: set[str]) -> None:
    """Every cell other than ``targets`` is byte-identical; so is everything around <sheetData>."""
    head0, rows0, cells0, tail0 = split_sheet(before)
    head1, rows1, cells1, tail1 = split_sheet(after)
    assert set(cells0) - set(cells1) <= targets  # only targets may disappear (cleared, no style)
    assert set(cells1) - set(cells0) <= targets
    for key in set(cells0) & set(cells1):
        if key not in targets:
            assert cells0[key] == cells1[key], key
    touched_rows = {int(re.sub("[A-Z]", "", key)) for key in targets}
    for number, xml in rows0.items():
        if number not in touched_rows:
            assert rows1[number] == xml, number
    dimension = re.compile(rb'<dimension ref="[^"]*"/>')
    autofilter = re.compile(rb'<autoFilter ref="[^"]*"')
    assert dimension.sub(b"", head0) == dimension.sub(b"", head1)
    assert autofilter.sub(b"", tail0) == autofilter.sub(b"", tail1)


# --- the tests ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The xlsxwriter fixture and, when LibreOffice is installed, its LibreOffice-saved copy."""
    folder = tmp_path_factory.mktemp("fidelity")
    original = folder / "features.xlsx"
    build_fixture(original)
    found = {"xlsxwriter": original}
    if shutil.which("soffice"):
        found["libreoffice"] = libreoffice_copy(original, folder / "lo")
    return found


@pytest.fixture(scope="module")
def patched(fixtures: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each fixture patched: a few Queue cells changed, two rows appended to the Log."""
    folder = tmp_path_factory.mktemp("patched")
    result = {}
    for producer, path in fixtures.items():
        out = folder / f"{producer}.xlsx"
        patch_workbook(path, out, edits={"Queue": EDITS}, appends={"Log": LOG_APPENDS})
        result[producer] = out
    return result


PRODUCERS = ["xlsxwriter", pytest.param("libreoffice", marks=pytest.mark.libreoffice)]


@pytest.mark.parametrize("producer", PRODUCERS)
def test_other_members_are_byte_identical(
    fixtures: dict[str, Path], patched: dict[str, Path], producer: str
) -> None:
    src, out = fixtures[producer], patched[producer]
    before, after = members(src), members(out)
    assert [m[:2] for m in before] == [m[:2] for m in after]  # same members, order, compression
    queue, log = sheet_part(src, "Queue"), sheet_part(src, "Log")
    changed = {name for (name, _, _, a), (_, _, _, b) in zip(before, after, strict=True) if a != b}
    assert {queue, log} <= changed
    tables = {name for name, *_ in before if name.startswith("xl/tables/")}
    assert changed <= {queue, log, "xl/styles.xml", "xl/workbook.xml", *tables}
    for name, *_ in before:
        if name not in changed:
            assert raw_member(src, name) == raw_member(out, name), name  # copied raw, not recompressed


@pytest.mark.parametrize("producer", PRODUCERS)
def test_only_target_cells_differ_inside_changed_sheets(
    fixtures: dict[str, Path], patched: dict[str, Path], producer: str
) -> None:
    src, out = fixtures[producer], patched[producer]
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        queue, log = sheet_part(src, "Queue"), sheet_part(src, "Log")
        assert_only_targets_changed(a.read(queue), b.read(queue), {ref(r, c) for r, c in EDITS})
        appended = {ref(3 + i, c + 1) for i, row in enumerate(LOG_APPENDS) for c in range(len(row))}
        assert_only_targets_changed(a.read(log), b.read(log), appended)
        assert b"x14:dataValidation" in b.read(queue) or producer == "libreoffice"


@pytest.mark.parametrize("producer", PRODUCERS)
def test_openpyxl_and_calamine_read_the_new_values(patched: dict[str, Path], producer: str) -> None:
    out = patched[producer]
    rows = read_sheet(out, "Queue")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(out)
    for (row, col), value in EDITS.items():
        assert rows[row - 1][col - 1] == value, (row, col)
        assert book["Queue"].cell(row, col).value == value, (row, col)
    assert book["Queue"].cell(3, 6).fill.fgColor.rgb.endswith("EEEEEE")  # cleared, style kept
    assert book["Queue"]["G6"].value == "=SUM(G2:G5)"  # formulas untouched
    log_rows = read_sheet(out, "Log")
    assert log_rows[2:] == [list(r) for r in LOG_APPENDS]
    assert [[c.value for c in r] for r in book["Log"].iter_rows(min_row=3)] == [list(r) for r in LOG_APPENDS]
    assert book["Log"].tables["RefreshLog"].ref == "A1:C4"
    assert book["Queue"].cell(3, 5).number_format != "General"


def test_patched_fixture_keeps_what_openpyxl_would_lose(
    fixtures: dict[str, Path], patched: dict[str, Path]
) -> None:
    """The parts openpyxl drops or rewrites on a save are all still there after a patch."""
    names = {m[0] for m in members(patched["xlsxwriter"])}
    assert "xl/metadata.xml" in names  # dynamic arrays
    with zipfile.ZipFile(patched["xlsxwriter"]) as archive:
        extras = archive.read(sheet_part(fixtures["xlsxwriter"], "Extras"))
        queue = archive.read(sheet_part(fixtures["xlsxwriter"], "Queue"))
        drawings = b"".join(archive.read(n) for n in names if n.startswith("xl/drawings/drawing"))
    assert b"x14:sparklineGroups" in extras
    assert b"x14:dataBar" in queue and b"x14:dataValidation" in queue
    assert b'cm="1"' in queue  # the dynamic-array formula keeps its cell metadata
    assert b"txBody" in drawings and b"hlinkClick" in drawings  # text box, picture hyperlink


@pytest.mark.libreoffice
@pytest.mark.parametrize("producer", PRODUCERS)
def test_libreoffice_reads_the_new_values(patched: dict[str, Path], producer: str, tmp_path: Path) -> None:
    queue = libreoffice_csv(patched[producer], tmp_path / "csv", "Queue")
    log = libreoffice_csv(patched[producer], tmp_path / "csv", "Log")
    assert queue[1][4] == "2026-12-01 12:00"
    assert queue[2][4] in ("12/1/2026 17:00", "12/01/2026 17:00", "2026-12-01 17:00")  # built-in format 22
    assert queue[1][5] == "OVERDUE since Tue 12:00"
    assert queue[2][5] == ""
    assert queue[3][6] == "3"
    assert queue[4][5] == '=HYPERLINK("http://x","y")'
    assert log[3][1:] == ["  spaced  ", "0"] and log[2][1:] == ["refresh", "17"]


def test_patch_refuses_formula_cells_in_the_fixture(fixtures: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(PatchRefused, match="formula"):
        patch_workbook(fixtures["xlsxwriter"], tmp_path / "x.xlsx", edits={"Queue": {(6, 7): 1}})
    with pytest.raises(PatchRefused, match="formula"):
        patch_workbook(fixtures["xlsxwriter"], tmp_path / "x.xlsx", edits={"Queue": {(3, 10): 1}})
    assert not (tmp_path / "x.xlsx").exists()
