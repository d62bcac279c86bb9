"""The read `attempt`, `queue` and `script` make: the keyed History search (bytes.find of the key's
encoded forms) gives what the regular-expression search before it gave, over the whole corpus and our
own workbooks; the small tabs read without a thread give what the threaded read gives; a save during the
read is noticed; hostile packages are still refused in one line."""

from __future__ import annotations

import os
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from callback_sheets import model
from callback_sheets.app.cycle import READ_TABS
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.excel.guard import HostileWorkbook, check_heads
from callback_sheets.backends.excel.xlsx import read as xlsx_read
from callback_sheets.backends.excel.xlsx.keyed import read_rows_of
from callback_sheets.backends.excel.xlsx.read import PackageRefused, read_sheet, read_workbook
from callback_sheets.cells import Changeset
from callback_sheets.errors import BackendError
from callback_sheets.layout import TOOL_TABS
from tests import keyed_reference
from tests.corpus_check import CORPUS

HISTORY = model.HISTORY_TAB


def _outcome(read: object, *args: object) -> object:
    try:
        return ("ok", read(*args))  # type: ignore[operator]
    except Exception as exc:  # both implementations must fail alike
        return ("error", type(exc).__name__, str(exc))


def _whole(path: Path, sheet: str, key: str) -> list[list[object]]:
    grid = read_sheet(path, sheet)
    wanted = key.strip().casefold()
    return grid[:1] + [r for r in grid[1:] if r and str(r[0] or "").strip().casefold() == wanted]


def _keys(grid: list[list[object]]) -> list[str]:
    """A few keys to look up in a sheet: values of its column A, a prefix of one, one that is not there."""
    found = list(dict.fromkeys(str(r[0]).strip() for r in grid[1:] if r and r[0] not in (None, "")))
    keys = found[:3] + [k.upper() for k in found[:1]] + [k[:-1] for k in found[:1] if len(k) > 1]
    return [*keys, "CB-00001", ""]


def _corpus() -> list[Path]:
    if not (CORPUS / "manifest.json").exists():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix.lower() in (".xlsx", ".xlsm"))


@pytest.mark.skipif(not _corpus(), reason=f"the xlsx corpus is not at {CORPUS}")
def test_keyed_search_equals_the_regex_search_over_the_corpus() -> None:
    """Every worksheet of all 256 workbooks, keyed by values of its column A (shared strings, inline
    strings, numbers), a prefix of one, another case, a key that is not there."""
    compared = 0
    for path in _corpus():
        try:
            check_heads(path, limits=True)  # what the backend refuses before reading
            names = xlsx_read.sheet_names(path)
        except Exception:
            continue
        for sheet in names:
            whole = _outcome(read_sheet, path, sheet)
            grid = whole[1] if whole[0] == "ok" else []
            prefixed = _prefixed_sheet(path, sheet)
            for key in _keys(grid):  # type: ignore[arg-type]
                new = _outcome(read_rows_of, path, sheet, key)
                if prefixed:  # read whole now: the regex search found nothing in such a sheet
                    assert new == ("ok", _whole(path, sheet, key)), (path.name, sheet, key)
                    continue
                assert new == _outcome(keyed_reference.read_rows_of, path, sheet, key), (
                    path.name,
                    sheet,
                    key,
                )
                compared += 1
    assert compared > 1000


def _prefixed_sheet(path: Path, sheet: str) -> bool:
    from callback_sheets.backends.excel.xlsx.package import Package

    try:
        with zipfile.ZipFile(path) as archive:
            package = Package(archive)
            return re.search(rb"<\w+:sheetData\b", package.read(package.sheet_part(sheet))) is not None
    except Exception:
        return False


def _tool_workbook(path: Path) -> ExcelBackend:
    """A workbook the tool made, its History appended by the tool (inline strings), with IDs that are
    prefixes of one another and an ID in another column than A."""
    backend = ExcelBackend(path)
    backend.init(header=model.REQUIRED_COLUMNS, tabs=TOOL_TABS, choices={})
    history = [
        [
            f"CB-{n % 40:05d}",
            n // 40 + 1,
            datetime(2026, 1, 1 + n % 28, 9, n % 60),
            "No answer",
            None,
            "sheet",
        ]
        for n in range(400)
    ]
    history += [
        ["CB-000012", 1, datetime(2026, 2, 1, 10), "Reached", datetime(2026, 2, 1, 10, 5), "sheet"],
        ["CB-00002", 9, datetime(2026, 2, 2, 10), "CB-00001", None, "CB-00001"],  # the key, not in A
        [" cb-00001 ", 7, None, "Booked", None, True],  # another case, spaces around
        ["A&B <1>", 1, 3.5, "Booked", "text", False],
        [None, None, None, "a row without ID", None, None],
    ]
    with backend.session():
        backend.write(backend.read(), Changeset(tab_appends={HISTORY: history}))
    return backend


KEYS = ["CB-00001", "CB-000012", "CB-0000", "cb-00001", " CB-00012 ", "CB-00002", "A&B <1>", "CB-99999"]


@pytest.mark.parametrize("key", KEYS)
def test_keyed_rows_of_a_tool_written_history(tmp_path: Path, key: str) -> None:
    backend = _tool_workbook(tmp_path / "q.xlsx")
    path = backend.path
    mine = read_rows_of(path, HISTORY, key)
    assert mine == keyed_reference.read_rows_of(path, HISTORY, key) == _whole(path, HISTORY, key)
    if key == "CB-00001":
        assert len(mine) == 1 + 10 + 1  # its ten rows and the lower-case one, not CB-000012 or CB-00002's
    if key == "CB-000012":
        assert [r[3] for r in mine[1:]] == ["Reached"]


def _shared_strings_workbook(path: Path) -> Path:
    """openpyxl writes shared strings, as Excel and LibreOffice do when staff save."""
    book = openpyxl.Workbook()
    book.active.title = model.QUEUE_TAB
    book.active.append(["ID", "Status"])
    history = book.create_sheet(HISTORY)
    history.append(list(model.HISTORY_COLUMNS))
    for n in range(60):
        history.append(
            [f"CB-{n % 12:05d}", n // 12 + 1, datetime(2026, 3, 1 + n % 20, 9), "No answer", None, "x"]
        )
    history.append(["CB-000012", 1, datetime(2026, 3, 2, 9, 15), "Reached", None, "sheet"])
    history.append(["CB-00007", 1, None, "CB-00001", "CB-00001", "CB-00001"])  # the key in other columns
    history.append([1, 2, 3, 4, 5, 6])  # numbers that equal shared-string indexes
    book.save(path)
    return path


@pytest.mark.parametrize("key", KEYS)
def test_keyed_rows_of_a_shared_strings_history(tmp_path: Path, key: str) -> None:
    path = _shared_strings_workbook(tmp_path / "q.xlsx")
    mine = read_rows_of(path, HISTORY, key)
    assert mine == keyed_reference.read_rows_of(path, HISTORY, key) == _whole(path, HISTORY, key)


_EXCEL_SST = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="12" uniqueCount="9">'
    "<si><t>ID</t></si><si><t>Attempt</t></si><si><t>Time</t></si><si><t>Outcome</t></si>"
    "<si><t>CB-00001</t></si><si><t>CB-000012</t></si>"
    '<si><r><rPr><b/><sz val="11"/></rPr><t>CB-</t></r><r><t xml:space="preserve">00003</t></r></si>'
    '<si><t>No answer</t><phoneticPr fontId="1"/></si><si><t>CB-0000&amp;4</t></si></sst>'
)


def _excel_sheet(rows: list[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac">'
        f'<dimension ref="A1:D{len(rows)}"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/><sheetData>'
        + "".join(rows)
        + '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
        'footer="0.3"/></worksheet>'
    )


def _prefixed(xml: str) -> str:
    """The sheet as the Open XML SDK may write it: every element of the main namespace prefixed ``x:``."""
    xml = re.sub(r"<(/?)(?![?])(\w+)(?=[\s/>])", r"<\1x:\2", xml)
    return xml.replace(
        'xmlns="http://schemas.openxmlformats.org/spreadsheetml',
        'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml',
    )


def _excel_workbook(path: Path, *, prefixed: bool = False) -> Path:
    """A History as Excel saves it: shared strings (one of them rich text, one with an entity), rows
    with spans and x14ac attributes, a date style, the 1904 date system off; or ``prefixed``."""
    row = '<row r="{n}" spans="1:4" x14ac:dyDescent="0.25">{cells}</row>'
    history = [
        row.format(n=1, cells='<c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
                   '<c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c>'),
    ]  # fmt: skip
    ids = [4, 5, 4, 6, 8, 4, 5]
    for n, index in enumerate(ids, start=2):
        cells = (
            f'<c r="A{n}" t="s"><v>{index}</v></c><c r="B{n}"><v>{n}</v></c>'
            f'<c r="C{n}" s="1"><v>46082.{n}5</v></c><c r="D{n}" t="s"><v>{7 if n % 2 else 4}</v></c>'
        )
        history.append(row.format(n=n, cells=cells))
    history.append('<row r="9" spans="1:4"><c r="A9"><v>4</v></c><c r="B9" t="b"><v>1</v></c></row>')
    history.append('<row r="10" spans="1:4"><c r="A10" t="inlineStr"><is><t>CB-00001</t></is></c></row>')
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<workbookPr defaultThemeVersion="166925"/><sheets>'
            '<sheet name="Queue" sheetId="1" r:id="rId1"/><sheet name="History" sheetId="2" r:id="rId2"/>'
            "</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet2.xml"/>'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" '
            'fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" '
            'fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" '
            'xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>'
        ),
        "xl/sharedStrings.xml": _EXCEL_SST,
        "xl/worksheets/sheet1.xml": _excel_sheet(['<row r="1"><c r="A1" t="s"><v>0</v></c></row>']),
        "xl/worksheets/sheet2.xml": (_prefixed if prefixed else str)(_excel_sheet(history)),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize("prefixed", [False, True], ids=["excel", "prefixed"])
@pytest.mark.parametrize("key", [*KEYS, "CB-00003", "CB-0000&4", "ID"])
def test_keyed_rows_of_a_history_written_by_excel(tmp_path: Path, key: str, prefixed: bool) -> None:
    path = _excel_workbook(tmp_path / "q.xlsx", prefixed=prefixed)
    if prefixed:
        with zipfile.ZipFile(path) as archive:
            assert b'<x:c r="A2" t="s"><x:v>4</x:v></x:c>' in archive.read("xl/worksheets/sheet2.xml")
    mine = read_rows_of(path, HISTORY, key)
    if prefixed:  # read whole: the search before found nothing in a prefixed sheet
        assert mine == _whole(path, HISTORY, key) != keyed_reference.read_rows_of(path, HISTORY, key)
        return
    assert mine == keyed_reference.read_rows_of(path, HISTORY, key)
    if key not in ("CB-00003", "ID"):  # rich text, and the header row: the search never claimed those
        assert mine == _whole(path, HISTORY, key)
    if key == "CB-00001":
        assert [r[1] for r in mine[1:]] == [2, 4, 7, None]  # shared index 4, and the inline one
        assert isinstance(mine[1][2], datetime)


def test_the_attempt_read_equals_the_whole_read(tmp_path: Path) -> None:
    """The Queue and State read without a thread, History searched for one ID: the same values as the
    read of every tab, the History filtered to that ID."""
    backend = _tool_workbook(tmp_path / "q.xlsx")
    whole = backend.read(tabs=READ_TABS)
    mine = backend.read(tabs=READ_TABS, history_of="CB-00001")
    assert mine.header == whole.header and mine.rows == whole.rows
    assert mine.tabs[model.STATE_TAB] == whole.tabs[model.STATE_TAB]
    history = whole.tabs[HISTORY]
    wanted = history[:1] + tuple(r for r in history[1:] if str(r[0] or "").strip().casefold() == "cb-00001")
    assert mine.tabs[HISTORY] == wanted and len(wanted) == 12
    assert mine.version == whole.version
    assert backend.read().rows == whole.rows


def test_small_tabs_read_without_a_thread_equal_the_threaded_read(tmp_path: Path) -> None:
    path = _tool_workbook(tmp_path / "q.xlsx").path
    sheets = [model.QUEUE_TAB, model.STATE_TAB, model.LISTS_TAB, HISTORY, "no such tab"]
    assert read_workbook(path, sheets, threaded=False) == read_workbook(path, sheets)


def test_a_save_during_the_read_is_noticed_and_the_read_redone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = _tool_workbook(tmp_path / "q.xlsx")
    before = backend.read(tabs=READ_TABS, history_of="CB-00001")
    saved = tmp_path / "saved.xlsx"
    other = _tool_workbook(saved)
    with other.session():
        other.write(
            other.read(), Changeset(tab_appends={HISTORY: [["CB-00001", 99, None, "Booked", None, "x"]]})
        )
    real = read_rows_of
    calls = []

    def staff_saves_meanwhile(path: Path, sheet: str, key: str) -> object:
        found = real(path, sheet, key)
        if not calls:
            os.replace(saved, path)  # a staff save lands between the Queue read and the digest
        calls.append(key)
        return found

    monkeypatch.setattr("callback_sheets.backends.excel.xlsx.keyed.read_rows_of", staff_saves_meanwhile)
    after = backend.read(tabs=READ_TABS, history_of="CB-00001")
    assert len(calls) == 2
    assert [r[1] for r in after.tabs[HISTORY][1:]][-1] == 99  # the saved version, read again
    assert len(after.tabs[HISTORY]) == len(before.tabs[HISTORY]) + 1


def test_hostile_packages_are_refused_in_one_line(tmp_path: Path) -> None:
    backend = _tool_workbook(tmp_path / "q.xlsx")
    source = backend.path.read_bytes()
    with zipfile.ZipFile(backend.path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    doctype = dict(parts)
    doctype["xl/styles.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + parts["xl/styles.xml"]
    )
    bomb = dict(parts)
    bomb["xl/worksheets/sheet9.xml"] = b"<a/>" + b" " * (xlsx_read.RATIO_FROM_BYTES * 2)
    for name, changed, error in (("doctype", doctype, HostileWorkbook), ("bomb", bomb, BackendError)):
        with zipfile.ZipFile(backend.path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, data in changed.items():
                archive.writestr(part, data)
        for tabs, key in ((READ_TABS, "CB-00001"), ((), None)):
            with pytest.raises(error) as caught:
                backend.read(tabs=tabs, history_of=key)
            assert "\n" not in str(caught.value), name
            assert ("document type" if name == "doctype" else "zip bomb") in str(caught.value)
    with pytest.raises(PackageRefused):
        check_heads(backend.path, limits=True)
    backend.path.write_bytes(b"not a zip" + source[:100])
    with pytest.raises(BackendError, match=r"^cannot read q.xlsx: .*; is it an .xlsx workbook\?$"):
        backend.read(tabs=READ_TABS, history_of="CB-00001")


@pytest.mark.skipif(not _corpus(), reason=f"the xlsx corpus is not at {CORPUS}")
def test_the_unmerged_read_equals_calamines_over_the_corpus() -> None:
    """Every sheet of all 256 workbooks read through the copy with an empty ``<mergeCells>`` (whatever
    its size) gives calamine's own values and types; the workbooks it does not take are read as before."""
    import python_calamine

    from callback_sheets.backends.excel.xlsx import unmerged

    taken = 0
    for path in _corpus():
        try:
            check_heads(path, limits=True)
            names = xlsx_read.sheet_names(path)
        except Exception:
            continue
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        expected = {}
        for name in names:
            try:
                expected[name] = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except Exception:  # a chart sheet: not read either way
                continue
        workbook.close()
        found = unmerged.read_raw(path, list(expected), min_bytes=0)
        if found is None:
            continue
        taken += 1
        assert found == expected, path.name
        for name, grid in expected.items():
            kinds = [type(v) for row in grid for v in row]
            assert [type(v) for row in found[name] for v in row] == kinds, (path.name, name)
    assert taken > 200


def test_a_big_queue_reads_alike_through_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A queue past the copy's size threshold (our own sheets, inline strings, dates) reads the same
    with and without it, whole and keyed; a package it does not expect is read from the file."""
    from callback_sheets.backends.excel.xlsx import unmerged

    backend = _tool_workbook(tmp_path / "q.xlsx")
    rows = [
        {
            "Caller": f"Caller {n} & <co>",
            "Phone": f"(312) 555-{n:04d}",
            "Received": datetime(2026, 3, 1, 9, n % 60),
        }
        for n in range(6000)
    ]
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=rows))
    sheets = [model.QUEUE_TAB, model.STATE_TAB, HISTORY]
    assert unmerged.read_raw(backend.path, [model.QUEUE_TAB]) is not None  # over the threshold
    fast = read_workbook(backend.path, sheets), backend.read(tabs=READ_TABS, history_of="CB-00001")
    monkeypatch.setattr(unmerged, "read_raw", lambda *_args, **_kw: None)
    slow = read_workbook(backend.path, sheets), backend.read(tabs=READ_TABS, history_of="CB-00001")
    assert fast[0] == slow[0] and len(fast[0][1][model.QUEUE_TAB]) == 6001
    assert (fast[1].header, fast[1].rows, fast[1].tabs) == (slow[1].header, slow[1].rows, slow[1].tabs)
    monkeypatch.undo()
    with zipfile.ZipFile(backend.path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    queue = parts["xl/worksheets/sheet1.xml"]
    commented = queue.replace(b"<sheetData>", b"<!-- <sheetData> --><sheetData>", 1)
    for changed in (commented, queue.replace(b"<sheetData>", b"<mergeCells/><sheetData>", 1)):
        with zipfile.ZipFile(backend.path, "w", zipfile.ZIP_DEFLATED) as archive:
            for part, data in {**parts, "xl/worksheets/sheet1.xml": changed}.items():
                archive.writestr(part, data)
        assert unmerged.read_raw(backend.path, [model.QUEUE_TAB]) is None
        assert read_workbook(backend.path, sheets)[1] == fast[0][1]
