"""Workbooks from other producers, built by hand: each is patched correctly or refused, never corrupted.

Also: untrusted text that looks like a formula is written, and read back by openpyxl, python-calamine and
LibreOffice, as the literal text it is.
"""

from __future__ import annotations

import datetime as dt
import shutil
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.patch import CellValue, patch_workbook
from callback_sheets.backends.excel.xlsx.read import read_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{extra}</Types>"
)
STYLES = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
)


def worksheet(rows: str, *, root: str = f'<worksheet xmlns="{MAIN}">', close: str = "</worksheet>") -> str:
    """A worksheet part around ``rows`` (the content of <sheetData>)."""
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{root}<sheetData>{rows}</sheetData>{close}'


def make_package(
    path: Path,
    sheet_xml: str,
    *,
    workbook_pr: str = "",
    shared_strings: list[str] | None = None,
    styles: str = STYLES,
    extra: Mapping[str, str] = {},
    workbook_rels_extra: str = "",
    content_types_extra: str = "",
) -> Path:
    """A minimal, valid .xlsx holding one sheet "Queue" with ``sheet_xml`` as its part."""
    rels = [
        f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>',
        f'<Relationship Id="rId2" Type="{DOC_RELS}/styles" Target="styles.xml"/>',
    ]
    overrides = content_types_extra
    members = {"xl/worksheets/sheet1.xml": sheet_xml, "xl/styles.xml": styles, **extra}
    if shared_strings is not None:
        items = "".join(f"<si><t>{text}</t></si>" for text in shared_strings)
        count = len(shared_strings)
        members["xl/sharedStrings.xml"] = (
            f'<sst xmlns="{MAIN}" count="{count}" uniqueCount="{count}">{items}</sst>'
        )
        rels.append(f'<Relationship Id="rId3" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>')
        overrides += (
            '<Override PartName="/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
        f'<workbookPr{workbook_pr}/><sheets><sheet name="Queue" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    package_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    workbook_rels = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels)
        + workbook_rels_extra
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(extra=overrides))
        archive.writestr("_rels/.rels", package_rels)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def read_openpyxl(path: Path) -> list[list[CellValue]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path)
    return [[cell.value for cell in row] for row in book["Queue"].iter_rows()]


def assert_refused(src: Path, dst: Path, match: str, **changes: object) -> None:
    """The patch is refused with a reason matching ``match`` and nothing is written."""
    with pytest.raises(PatchRefused, match=match):
        patch_workbook(src, dst, **changes)  # type: ignore[arg-type]
    assert not dst.exists()


# --- producers whose files are patched ---------------------------------------------------------------


def test_inline_strings_everywhere_are_patched(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>ID</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>Notes</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>CB-1</t></is></c>'
        '<c r="B2" t="inlineStr"><is><r><rPr><b/></rPr><t>bold</t></r><r><t> plain</t></r></is></c></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, edits={"Queue": {(2, 2): "rewritten"}}, appends={"Queue": [["CB-2", "new"]]})
    expected = [["ID", "Notes"], ["CB-1", "rewritten"], ["CB-2", "new"]]
    assert read_sheet(out, "Queue") == expected
    assert read_openpyxl(out) == expected


def test_shared_strings_out_of_order_stay_mapped(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="s"><v>3</v></c><c r="B1" t="s"><v>0</v></c></row>'
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>1</v></c></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows), shared_strings=["Notes", "old", "CB-1", "ID"])
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, edits={"Queue": {(2, 2): "new"}}, appends={"Queue": [["CB-2", "Notes"]]})
    expected = [["ID", "Notes"], ["CB-1", "new"], ["CB-2", "Notes"]]
    assert read_sheet(out, "Queue") == expected
    assert read_openpyxl(out) == expected
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(out) as b:
        assert a.read("xl/sharedStrings.xml") == b.read("xl/sharedStrings.xml")


def test_shared_formula_in_other_columns_is_left_alone(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c>'
        '<c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
        '<row r="3"><c r="A3"><v>3</v></c><c r="B3"><f t="shared" si="0"/><v>6</v></c></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, edits={"Queue": {(2, 3): "note"}})
    assert read_sheet(out, "Queue") == [[1, 2, None], [2, 4, "note"], [3, 6, None]]
    assert read_openpyxl(out)[1] == [2, "=A2*2", "note"]


def test_rows_without_cell_references_can_still_get_new_rows(tmp_path: Path) -> None:
    rows = '<row r="1"><c t="inlineStr"><is><t>ID</t></is></c><c><v>5</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    out = tmp_path / "out.xlsx"
    patch_workbook(src, out, appends={"Queue": [["CB-9", 1]]})
    assert read_sheet(out, "Queue") == [["ID", 5], ["CB-9", 1]]


# --- producers whose files are refused -----------------------------------------------------------------


def test_cells_without_references_are_refused(tmp_path: Path) -> None:
    rows = '<row r="1"><c t="inlineStr"><is><t>ID</t></is></c><c><v>5</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    assert_refused(src, tmp_path / "out.xlsx", "no r= reference", edits={"Queue": {(1, 2): 6}})


def test_rows_without_numbers_are_refused(tmp_path: Path) -> None:
    rows = '<row><c r="A1"><v>1</v></c></row><row><c r="A2"><v>2</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    assert_refused(src, tmp_path / "out.xlsx", "no r= attribute", edits={"Queue": {(2, 1): 6}})


def test_rows_out_of_order_are_refused(tmp_path: Path) -> None:
    rows = '<row r="2"><c r="A2"><v>2</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    assert_refused(src, tmp_path / "out.xlsx", "out of order", edits={"Queue": {(1, 1): 6}})


def test_prefixed_main_namespace_is_refused(tmp_path: Path) -> None:
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    )
    src = make_package(tmp_path / "in.xlsx", sheet)
    assert read_sheet(src, "Queue") == [[1]]  # a valid file, which calamine reads
    assert_refused(src, tmp_path / "out.xlsx", "namespace prefix", edits={"Queue": {(1, 1): 2}})


def test_1904_date_system_is_written_with_its_epoch(tmp_path: Path) -> None:
    src = make_package(
        tmp_path / "in.xlsx",
        worksheet('<row r="1"><c r="A1"><v>1</v></c></row>'),
        workbook_pr=' date1904="1"',
    )
    out = tmp_path / "out.xlsx"
    when = dt.datetime(2026, 1, 1, 6)
    patch_workbook(src, out, edits={"Queue": {(1, 2): when, (1, 3): dt.date(1904, 1, 2)}})
    with zipfile.ZipFile(out) as package:
        sheet = package.read("xl/worksheets/sheet1.xml")
    assert b"<v>44561.25</v>" in sheet and b"<v>1</v></c></row>" in sheet  # 1904 serials (1900: 46023.25)
    assert read_sheet(out, "Queue")[0][1] == when
    wb = openpyxl.load_workbook(out)
    assert wb["Queue"]["B1"].value == when


def test_shared_formula_over_a_target_cell_is_refused(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1"><v>1</v></c>'
        '<c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
        '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
    )
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    # B3 does not exist yet, but the shared formula's range claims it.
    assert_refused(src, tmp_path / "out.xlsx", "shared or array formula", edits={"Queue": {(3, 2): 1}})
    assert_refused(src, tmp_path / "out.xlsx", "formula", edits={"Queue": {(2, 2): 1}})


def test_array_formula_over_a_target_cell_is_refused(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1"><f t="array" ref="A1:A2">ROW(1:2)</f><v>1</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    assert_refused(src, tmp_path / "out.xlsx", "array formula", edits={"Queue": {(2, 1): "x"}})


def test_calc_chain_listing_a_target_cell_is_refused(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c></row>'
    chain = f'<calcChain xmlns="{MAIN}"><c r="C9" i="1"/><c r="B1"/></calcChain>'
    src = make_package(
        tmp_path / "in.xlsx",
        worksheet(rows),
        extra={"xl/calcChain.xml": chain},
        workbook_rels_extra=f'<Relationship Id="rId9" Type="{DOC_RELS}/calcChain" Target="calcChain.xml"/>',
    )
    assert_refused(src, tmp_path / "out.xlsx", "calcChain", edits={"Queue": {(1, 2): 5}})
    patch_workbook(src, tmp_path / "ok.xlsx", edits={"Queue": {(1, 1): 5}})  # A1 is not in the chain
    assert read_sheet(tmp_path / "ok.xlsx", "Queue") == [[5, 2]]


def test_rich_value_cell_is_refused(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1" t="e" vm="1"><v>#VALUE!</v></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    assert_refused(src, tmp_path / "out.xlsx", "rich value", edits={"Queue": {(1, 1): "x"}})


def test_strict_open_xml_is_refused(tmp_path: Path) -> None:
    src = make_package(tmp_path / "in.xlsx", worksheet('<row r="1"><c r="A1"><v>1</v></c></row>'))
    strict = tmp_path / "strict.xlsx"
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(strict, "w") as b:
        for info in a.infolist():
            data = a.read(info)
            if info.filename == "_rels/.rels":
                data = data.replace(
                    DOC_RELS.encode(), b"http://purl.oclc.org/ooxml/officeDocument/relationships"
                )
            b.writestr(info, data)
    assert_refused(strict, tmp_path / "out.xlsx", "Strict", edits={"Queue": {(1, 1): 2}})


def test_encrypted_and_non_zip_files_are_refused(tmp_path: Path) -> None:
    encrypted = tmp_path / "locked.xlsx"
    encrypted.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert_refused(encrypted, tmp_path / "out.xlsx", "encrypted", edits={"Queue": {(1, 1): 2}})
    text = tmp_path / "text.xlsx"
    text.write_text("ID,Notes\n", encoding="utf-8")
    assert_refused(text, tmp_path / "out.xlsx", "not a zip", edits={"Queue": {(1, 1): 2}})


def test_table_with_totals_row_refuses_appends(tmp_path: Path) -> None:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>n</t></is></c></row>'
        + '<row r="2"><c r="A2"><v>1</v></c></row>'
    )
    table = (
        f'<table xmlns="{MAIN}" id="1" name="T" displayName="T" ref="A1:A2" totalsRowCount="1">'
        '<tableColumns count="1"><tableColumn id="1" name="n"/></tableColumns></table>'
    )
    sheet_rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{DOC_RELS}/table" Target="../tables/table1.xml"/></Relationships>'
    )
    sheet = worksheet(rows, close='<tableParts count="1"><tablePart r:id="rId1"/></tableParts></worksheet>')
    sheet = sheet.replace(f'xmlns="{MAIN}"', f'xmlns="{MAIN}" xmlns:r="{DOC_RELS}"', 1)
    src = make_package(
        tmp_path / "in.xlsx",
        sheet,
        extra={"xl/tables/table1.xml": table, "xl/worksheets/_rels/sheet1.xml.rels": sheet_rels},
        content_types_extra='<Override PartName="/xl/tables/table1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>',
    )
    assert_refused(src, tmp_path / "out.xlsx", "totals row", appends={"Queue": [[2]]})


# --- untrusted text stays text --------------------------------------------------------------------------

INJECTIONS = ['=HYPERLINK("http://x","y")', "+1-555-0100", "@SUM(A1)", "-2+3", "=1+1", "\t=cmd|' /C calc'!A0"]


@pytest.fixture
def injected(tmp_path: Path) -> Path:
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>Caller</t></is></c></row>'
    src = make_package(tmp_path / "in.xlsx", worksheet(rows))
    out = tmp_path / "injected.xlsx"
    patch_workbook(src, out, appends={"Queue": [[text] for text in INJECTIONS]})
    return out


def test_formula_like_text_is_literal_for_calamine_and_openpyxl(injected: Path) -> None:
    assert [row[0] for row in read_sheet(injected, "Queue")[1:]] == INJECTIONS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sheet = openpyxl.load_workbook(injected)["Queue"]
    cells = [sheet.cell(row, 1) for row in range(2, len(INJECTIONS) + 2)]
    assert [cell.value for cell in cells] == INJECTIONS
    assert all(cell.data_type == "s" for cell in cells)  # strings, not formulas
    with zipfile.ZipFile(injected) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")


@pytest.mark.libreoffice
def test_formula_like_text_is_literal_for_libreoffice(injected: Path, tmp_path: Path) -> None:
    from tests.test_xlsx_fidelity import libreoffice_csv

    assert shutil.which("soffice")
    rows = libreoffice_csv(injected, tmp_path / "csv", "Queue")
    assert [row[0] for row in rows[1:]] == INJECTIONS
