"""The patcher's cell-level behaviour, its zip handling, and the reader's types (issue 7)."""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callback_sheets.backends.excel.xlsx.cells import excel_serial
from callback_sheets.backends.excel.xlsx.patch import CellValue, patch_workbook
from callback_sheets.backends.excel.xlsx.read import read_sheet, sheet_names
from callback_sheets.backends.excel.xlsx.styles import is_date_format_code
from tests.test_xlsx_quirks import MAIN, STYLES, make_package, worksheet

DATE_STYLES = STYLES.replace(
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>',
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd hh:mm"/></numFmts>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="1" borderId="0" xfId="0" applyFill="1"/></cellXfs>',
).replace("<fonts", '<numFmts count="0"/><fonts', 0)


def sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def styles_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/styles.xml")


def openpyxl_sheet(path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(path)["Queue"]


# --- cells and rows -------------------------------------------------------------------------------------


def test_cells_are_inserted_in_column_order_and_spans_widened(tmp_path: Path) -> None:
    rows = (
        '<row r="2" spans="2:3"><c r="B2"><v>1</v></c><c r="C2"><v>2</v></c></row>'
        '<row r="5" spans="1:1" ht="30" customHeight="1"/>'
    )
    sheet = worksheet(rows).replace("<sheetData>", '<dimension ref="B2:C2"/><sheetData>')
    src = make_package(tmp_path / "in.xlsx", sheet)
    out = tmp_path / "out.xlsx"
    edits: dict[tuple[int, int], CellValue] = {
        (2, 1): "a",
        (2, 4): "d",
        (5, 2): 7,
        (3, 1): "new row",
        (9, 26): 1.5,
    }
    patch_workbook(src, out, edits={"Queue": edits})
    xml = sheet_xml(out)
    assert re.findall(rb'<c r="([A-Z]+)2"', xml) == [b"A", b"B", b"C", b"D"]
    assert re.findall(rb'<row r="(\d+)"', xml) == [b"2", b"3", b"5", b"9"]
    assert b'<row r="2" spans="1:4">' in xml
    assert b'<row r="5" spans="1:2" ht="30" customHeight="1">' in xml
    assert b'<dimension ref="A2:Z9"/>' in xml
    rows_read = read_sheet(out, "Queue")
    assert rows_read[1][:4] == ["a", 1, 2, "d"] and rows_read[2][0] == "new row"
    assert rows_read[4][1] == 7 and rows_read[8][25] == 1.5


def test_none_clears_the_value_and_keeps_the_style(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" s="2"><v>1</v></c>'
        '<c r="B1" t="inlineStr"><is><t>x</t></is></c><c r="C1"><v>3</v></c></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows), styles=DATE_STYLES)
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, edits={"Queue": {(1, 1): None, (1, 2): None, (1, 4): None}})
    assert b'<row r="1"><c r="A1" s="2"/><c r="C1"><v>3</v></c></row>' in sheet_xml(out)
    assert read_sheet(out, "Queue") == [[None, None, 3]]


def test_text_is_escaped_and_kept_exactly(tmp_path: Path) -> None:
    texts = [
        "  leading and trailing  ",
        "<b>&amp; \"quoted\" 'single'</b>",
        "line one\nline two",
        "literal _x000D_ stays",
        "emoji 📞 and ñ",
        "tab\there",
    ]
    src = make_package(tmp_path / "in.xlsx", worksheet(""))
    out = tmp_path / "out.xlsx"
    patch_workbook(
        src, out, appends={"Queue": [[text] for text in texts] + [["bell\x07 and nul\x00 dropped"]]}
    )
    expected = [*texts, "bell and nul dropped"]
    assert [row[0] for row in read_sheet(out, "Queue")] == expected
    sheet = openpyxl_sheet(out)
    by_openpyxl = [sheet.cell(row, 1).value for row in range(1, len(expected) + 1)]
    # openpyxl does not undo Excel's "_x005F_" escape in inline strings (Excel and calamine do).
    assert by_openpyxl[3] == "literal _x005F_x000D_ stays"
    assert by_openpyxl[:3] + by_openpyxl[4:] == expected[:3] + expected[4:]


def test_values_of_every_type_round_trip(tmp_path: Path) -> None:
    values: list[CellValue] = [
        "text",
        42,
        -7,
        2.5,
        1e-7,
        True,
        False,
        dt.datetime(2026, 12, 1, 9, 10),
        dt.datetime(2026, 12, 1, 16, 59, 59),
        dt.datetime(1900, 1, 1, 6, 0),
    ]
    src = make_package(tmp_path / "in.xlsx", worksheet(""))
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, appends={"Queue": [values]})
    assert read_sheet(out, "Queue") == [values]
    sheet = openpyxl_sheet(out)
    assert [sheet.cell(1, col).value for col in range(1, len(values) + 1)] == values


def test_plain_dates_read_back_as_midnight_datetimes(tmp_path: Path) -> None:
    src = make_package(tmp_path / "in.xlsx", worksheet(""))
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, appends={"Queue": [[dt.date(2026, 12, 1)]]})
    assert read_sheet(out, "Queue") == [[dt.datetime(2026, 12, 1)]]
    assert b'numFmtId="14"' in styles_xml(out)


def test_excel_serials_follow_the_1900_system() -> None:
    assert excel_serial(dt.datetime(1900, 1, 1)) == 1
    assert excel_serial(dt.datetime(1900, 2, 28)) == 59
    assert excel_serial(dt.datetime(1900, 3, 1)) == 61  # Excel's phantom 1900-02-29 is serial 60
    assert excel_serial(dt.datetime(2026, 12, 1, 12, 0)) == 46357.5
    with pytest.raises(ValueError, match="time zone"):
        excel_serial(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


# --- date styles ----------------------------------------------------------------------------------------


def test_date_cells_keep_their_date_style(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1" s="1"><v>46000</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows), styles=DATE_STYLES)
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, edits={"Queue": {(1, 1): dt.datetime(2026, 12, 1, 12, 0)}})
    assert b'<c r="A1" s="1"><v>46357.5</v></c>' in sheet_xml(out)
    assert styles_xml(out) == styles_xml(src)  # nothing to add


def test_an_unstyled_date_gets_a_date_copy_of_its_style_once(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1" s="2" t="inlineStr"><is><t>x</t></is></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows), styles=DATE_STYLES)
    out, again = tmp_path / "out.xlsx", tmp_path / "again.xlsx"
    when = dt.datetime(2026, 12, 1, 12, 0)
    patch_workbook(src, out, edits={"Queue": {(1, 1): when, (1, 2): when}})
    styles = styles_xml(out)
    assert b'<cellXfs count="5">' in styles
    assert (
        b'<xf numFmtId="22" applyNumberFormat="1" fontId="0" fillId="1" borderId="0" xfId="0" applyFill="1"/>'
        in styles
    )
    assert b'<xf numFmtId="22" applyNumberFormat="1" fontId="0" fillId="0" borderId="0" xfId="0"/>' in styles
    assert styles.replace(styles[styles.index(b"<cellXfs") : styles.index(b"</cellXfs>")], b"") == styles_xml(
        src
    ).replace(styles_xml(src)[styles_xml(src).index(b"<cellXfs") : styles_xml(src).index(b"</cellXfs>")], b"")
    assert b'<c r="A1" s="3">' in sheet_xml(out) and b'<c r="B1" s="4">' in sheet_xml(out)
    # A second patch of more dates reuses the formats it added instead of piling up new ones.
    patch_workbook(out, again, edits={"Queue": {(2, 1): when}}, appends={})
    assert styles_xml(again) == styles
    sheet = openpyxl_sheet(out)
    assert sheet["A1"].value == when and sheet["A1"].fill.fill_type == "gray125"


def test_date_format_codes_are_recognised() -> None:
    assert is_date_format_code("yyyy\\-mm\\-dd hh:mm")
    assert is_date_format_code("[h]:mm")
    assert is_date_format_code("[$-409]d-mmm-yy;@")
    assert not is_date_format_code('"$"#,##0.00;[Red]-"$"#,##0.00')
    assert not is_date_format_code("General")
    assert not is_date_format_code('0.00" days"')


# --- appends --------------------------------------------------------------------------------------------


def test_appends_follow_the_last_row_with_a_value_and_inherit_its_styles(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>When</t></is></c></row>'
        '<row r="2"><c r="A2" s="1"><v>46000</v></c><c r="B2" s="2" t="inlineStr"><is><t>x</t></is></c></row>'
        '<row r="3"><c r="A3" s="2"/></row>'  # styled but empty: not a used row
    )
    sheet = worksheet(rows, close='<autoFilter ref="A1:B2"/></worksheet>')
    src = make_package(tmp_path / "in.xlsx", sheet, styles=DATE_STYLES)
    out = tmp_path / "out.xlsx"
    when = dt.datetime(2026, 12, 2, 9, 0)
    patch_workbook(src, out, appends={"Queue": [[when, "y"], [when, None]]})
    xml = sheet_xml(out)
    assert b'<row r="3"><c r="A3" s="3"><v>' in xml  # the empty cell is filled: a date copy of its style
    assert b'<c r="B3" s="2" t="inlineStr">' in xml  # inherited from the row above
    assert b'<row r="4"><c r="A4" s="1">' in xml
    assert b'<autoFilter ref="A1:B4"/>' in xml
    assert read_sheet(out, "Queue")[1:] == [[dt.datetime(2025, 12, 9), "x"], [when, "y"], [when, None]]


def test_edit_colliding_with_appends_is_an_error(tmp_path: Path) -> None:
    src = make_package(tmp_path / "in.xlsx", worksheet('<row r="1"><c r="A1"><v>1</v></c></row>'))
    with pytest.raises(ValueError, match="collides"):
        patch_workbook(src, tmp_path / "o.xlsx", edits={"Queue": {(2, 1): 1}}, appends={"Queue": [[2]]})
    with pytest.raises(ValueError, match="no sheet"):
        patch_workbook(src, tmp_path / "o.xlsx", edits={"Nope": {(1, 1): 1}})
    with pytest.raises(ValueError, match="must differ"):
        patch_workbook(src, src, edits={"Queue": {(1, 1): 1}})


# --- the zip package ------------------------------------------------------------------------------------


class _Unseekable(io.RawIOBase):
    """A write-only stream: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: object) -> int:
        chunk = bytes(b)  # type: ignore[call-overload]
        self.data += chunk
        return len(chunk)


def test_stored_members_data_descriptors_and_comment_survive(tmp_path: Path) -> None:
    src = make_package(tmp_path / "plain.xlsx", worksheet('<row r="1"><c r="A1"><v>1</v></c></row>'))
    stream = _Unseekable()
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(stream, "w") as b:
        for info in a.infolist():
            method = zipfile.ZIP_STORED if info.filename.endswith(".rels") else zipfile.ZIP_DEFLATED
            b.writestr(zipfile.ZipInfo(info.filename, info.date_time), a.read(info), compress_type=method)
        b.comment = b"made by hand"
    quirky = tmp_path / "quirky.xlsx"
    quirky.write_bytes(bytes(stream.data))
    out = tmp_path / "out.xlsx"
    patch_workbook(quirky, out, edits={"Queue": {(1, 1): 2}})
    with zipfile.ZipFile(quirky) as a, zipfile.ZipFile(out) as b:
        assert b.testzip() is None
        assert b.comment == b"made by hand"
        assert [(i.filename, i.compress_type) for i in a.infolist()] == [
            (i.filename, i.compress_type) for i in b.infolist()
        ]
        assert any(i.flag_bits & 0x08 for i in b.infolist())  # copied with their descriptors
        for info in a.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                assert a.read(info) == b.read(info.filename)
    assert read_sheet(out, "Queue") == [[2]]


# --- the reader -----------------------------------------------------------------------------------------


def test_reader_types_and_shape(tmp_path: Path) -> None:
    rows = (
        '<row r="2"><c r="B2"><v>5</v></c><c r="C2"><v>5.25</v></c><c r="D2" t="b"><v>0</v></c>'
        '<c r="E2" s="1"><v>46357.5</v></c><c r="F2" t="e"><v>#N/A</v></c>'
        '<c r="G2" t="inlineStr"><is><t></t></is></c></row><row r="4"><c r="A4" s="2"/></row>'
    )
    path = make_package(tmp_path / "in.xlsx", worksheet(rows), styles=DATE_STYLES)
    assert sheet_names(path) == ["Queue"]
    assert read_sheet(path, "Queue") == [
        [None, None, None, None, None],
        [None, 5, 5.25, False, dt.datetime(2026, 12, 1, 12, 0)],
    ]
    assert type(read_sheet(path, "Queue")[1][1]) is int
    with pytest.raises(KeyError):
        read_sheet(path, "Nope")


# --- property: any set of edits reads back as a model of the grid says ----------------------------------

_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # dropped on write
_values = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda x: not float(x).is_integer()),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(st.tuples(st.integers(1, 6), st.integers(1, 5)), _values, max_size=12),
    st.lists(st.lists(_values, max_size=4), max_size=3),
)
def test_any_edits_read_back_as_expected(
    tmp_path: Path, edits: dict[tuple[int, int], CellValue], appends: list[list[CellValue]]
) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>h</t></is></c><c r="C1" s="2"><v>46000</v></c></row>'
        '<row r="3" spans="2:4"><c r="B3"><v>3</v></c><c r="D3" s="2"/></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows), styles=DATE_STYLES)
    out = tmp_path / "out.xlsx"
    model: dict[tuple[int, int], CellValue] = {(1, 1): "h", (1, 3): 46000, (3, 2): 3}
    appends = [] if any(row > 3 for row, _ in edits) else appends
    for key, value in edits.items():
        model[key] = _ILLEGAL.sub("", value) if isinstance(value, str) else value
    last = 3  # appends go after the last row holding a value as read (B3), whatever this call's edits clear
    for offset, values in enumerate(appends, start=1):
        for col, value in enumerate(values, start=1):
            if value is not None:
                model[(last + offset, col)] = _ILLEGAL.sub("", value) if isinstance(value, str) else value
    patch_workbook(src, out, edits={"Queue": edits}, appends={"Queue": appends})
    grid = read_sheet(out, "Queue")
    for (row, col), value in model.items():
        got = grid[row - 1][col - 1] if row <= len(grid) and col <= len(grid[row - 1]) else None
        expected = None if value == "" else value
        if isinstance(expected, float):
            assert got == pytest.approx(expected, rel=1e-15)
        else:
            assert got == expected, (row, col)
    assert f'xmlns="{MAIN}"'.encode() in sheet_xml(out)


# --- reading changed parts in chunks ---------------------------------------------------------------------


@pytest.mark.parametrize("piece", [1, 7, 64, 1000])
def test_tiny_read_pieces_give_the_same_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    """Whatever the decompression piece size, chunks end on rows and the new part is the same bytes."""
    spans = ' spans="2:3"'
    rows = (
        "".join(
            f'<row r="{r}"{spans if r % 3 else ""}>'
            f'<c r="B{r}" s="0"><v>{r}</v></c><c r="C{r}" t="inlineStr"><is><t>x{r}</t></is></c></row>'
            + ("\n" if r % 4 == 0 else "")
            for r in range(1, 60)
            if r % 5
        )
        + '<row r="60" customFormat="1" s="0"/><row r="61"/>'
    )
    src = make_package(
        tmp_path / "src.xlsx",
        worksheet(rows, close='<autoFilter ref="A1:C59"/></worksheet>').replace(
            "<sheetData>", '<dimension ref="A1:C61"/><sheetData>'
        ),
    )
    edits: dict[tuple[int, int], CellValue] = {(r, 1 + r % 4): f"e{r}" for r in range(1, 72, 2)}
    edits.update({(5, 2): None, (7, 3): None, (58, 2): dt.datetime(2026, 1, 2, 3, 4), (66, 9): None})
    appends: list[list[CellValue]] = [["new", None, 3], [None], [None, dt.datetime(2026, 5, 6)], [1]]
    for changes in ({"edits": {"Queue": edits}}, {"appends": {"Queue": appends}}):
        expected_path = tmp_path / "expected.xlsx"
        patch_workbook(src, expected_path, **changes)  # type: ignore[arg-type]
        with monkeypatch.context() as patched:
            patched.setattr("callback_sheets.backends.excel.xlsx.package.READ_PIECE", piece)
            got_path = tmp_path / "got.xlsx"
            patch_workbook(src, got_path, **changes)  # type: ignore[arg-type]
        assert sheet_xml(got_path) == sheet_xml(expected_path)
        got_path.unlink()
        expected_path.unlink()
    patch_workbook(src, tmp_path / "edited.xlsx", edits={"Queue": edits})
    assert read_sheet(tmp_path / "edited.xlsx", "Queue")[70][3] == "e71"
    patch_workbook(src, tmp_path / "appended.xlsx", appends={"Queue": appends})
    xml = sheet_xml(tmp_path / "appended.xlsx")
    assert b'<row r="60" customFormat="1" s="0"><c r="A60" t="inlineStr">' in xml
    assert b'<row r="63"><c r="A63"' in xml and b'<autoFilter ref="A1:C63"/>' in xml
