"""`init` on a workbook whose Queue exists without the tool's dropdowns and colour rules: they are added
by header name, through the patcher, and nothing else in the tab (cells, the staff's own rules) changes."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.read import read_sheet
from callback_sheets.backends.excel.xlsx.rules import Rules, TailWriter, missing_rules, with_rules
from callback_sheets.config import Config
from callback_sheets.layout import DROPDOWNS, TOOL_TABS
from tests.corpus_check import _not_additive, compare

NOW = datetime(2026, 12, 4, 10, 0)


def _sheet_xml(path: Path, sheet: int = 1) -> bytes:
    with zipfile.ZipFile(path) as package:
        return package.read(f"xl/worksheets/sheet{sheet}.xml")


def _opens(path: Path) -> None:
    """The zip test passes; python-calamine and openpyxl read the Queue."""
    import python_calamine

    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    assert book.get_sheet_by_name("Queue").to_python()
    assert openpyxl.load_workbook(path)["Queue"].max_column >= len(model.REQUIRED_COLUMNS)


def _staff_queue(path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Queue"
    ws.append(["Status", "Phone", "Caller", "Received", "My notes", "Reason"])
    ws.append(["New", "(312) 555-0100", "Someone", datetime(2026, 12, 1, 9), "keep", "Billing"])
    ws.conditional_formatting.add(
        "E2:E100", FormulaRule(formula=["LEN($E2)>10"], fill=PatternFill("solid", fgColor="FFFF00"))
    )
    mine = DataValidation(type="list", formula1='"Billing,Other"')
    mine.add("F2:F100")
    ws.add_data_validation(mine)
    wb.save(path)


def test_rules_follow_the_headers_and_leave_the_staff_rules(config: Config, tmp_path: Path) -> None:
    _staff_queue(config.workbook)
    before = tmp_path / "before.xlsx"
    before.write_bytes(config.workbook.read_bytes())
    backend = ExcelBackend(config.workbook)
    notes = service.init(config=config, backend=backend)
    assert "added dropdowns and colour rules to Queue" in notes
    header = read_sheet(config.workbook, "Queue")[0]
    assert header[:6] == ["Status", "Phone", "Caller", "Received", "My notes", "Reason"]
    assert read_sheet(config.workbook, "Queue")[1][:6] == read_sheet(before, "Queue")[1][:6]
    letter = {name: get_column_letter(header.index(name) + 1) for name in header}
    ws = openpyxl.load_workbook(config.workbook)["Queue"]
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert validations.pop("F2:F100") == '"Billing,Other"'  # the staff's own dropdown on Reason stays
    for column in DROPDOWNS:
        if column == "Reason" or column not in header:
            continue
        sqref = next(s for s in validations if s.startswith(f"{letter[column]}2:"))
        assert validations[sqref].startswith("'Lists'!")
    rules = {str(cf.sqref): [r.formula[0] for r in cf.rules] for cf in ws.conditional_formatting}
    assert rules.pop("E2:E100") == ["LEN($E2)>10"]
    ((area, formulas),) = rules.items()
    assert area.startswith("A2:") and area.split(":")[1].startswith(get_column_letter(len(header)))
    assert any(f"${letter[model.ESCALATION]}2" in f for f in formulas)
    assert any(f"${letter[model.OVERDUE]}2" in f for f in formulas)
    problems = compare(before, config.workbook)
    assert problems == ["xl/worksheets/sheet1.xml rewritten"]  # the header cells and the rules, see below
    tail = _sheet_xml(config.workbook).split(b"</sheetData>")[1]
    assert _not_additive(_sheet_xml(before).split(b"</sheetData>")[1], tail) is None
    assert (
        tail.index(b"<conditionalFormatting") < tail.index(b"<dataValidations") < tail.index(b"<pageMargins")
    )
    assert service.init(config=config, backend=backend) == [f"{config.workbook.name} is up to date"]
    service.refresh(config=config, backend=backend, now=NOW.replace(tzinfo=config.tz))
    _opens(config.workbook)


def _xlsxwriter_queue(path: Path, header: list[str]) -> None:
    book = xlsxwriter.Workbook(str(path))
    mine = book.add_worksheet("Mine")
    mine.write("A1", "theirs")
    ws = book.add_worksheet("Queue")
    for col, name in enumerate(header):
        ws.write(0, col, name)
    ws.write(1, header.index("Caller"), "Someone")
    ws.write(1, header.index("Phone"), "(312) 555-0100")
    ws.autofilter(0, 0, 1, len(header) - 1)
    ws.merge_range("AD1:AE1", "merged")
    ws.write_url("AF1", "https://example.org/", string="a link")
    red = book.add_format({"bg_color": "#FFC7CE"})
    ws.conditional_format("AD2:AD50", {"type": "cell", "criteria": ">", "value": 5, "format": red})
    notes = header.index("Notes")
    ws.data_validation(1, notes, 50, notes, {"validate": "length", "criteria": "<", "value": 500})
    ws.set_landscape()
    book.close()


def test_xlsxwriter_queue_in_another_order_gains_only_rules(config: Config, tmp_path: Path) -> None:
    header = list(reversed(model.REQUIRED_COLUMNS))
    _xlsxwriter_queue(config.workbook, header)
    before = tmp_path / "before.xlsx"
    before.write_bytes(config.workbook.read_bytes())
    backend = ExcelBackend(config.workbook)
    notes = service.init(config=config, backend=backend)
    assert "added dropdowns and colour rules to Queue" in notes
    assert not any(n.startswith("added columns") for n in notes)
    assert compare(before, config.workbook) == ["xl/worksheets/sheet2.xml rewritten"]  # the Queue
    old, new = _sheet_xml(before, 2), _sheet_xml(config.workbook, 2)
    assert _not_additive(old, new) is None  # and there only additions
    assert old.split(b"</sheetData>")[0] == new.split(b"</sheetData>")[0]  # not a cell touched
    tail = new.split(b"</sheetData>")[1]
    order = [b"<autoFilter", b"<mergeCells", b"<conditionalFormatting", b"<dataValidations",
             b"<hyperlinks", b"<pageMargins", b"<pageSetup"]  # fmt: skip
    assert [tail.index(t) for t in order] == sorted(tail.index(t) for t in order)
    assert tail.count(b"<dataValidations") == 1 and tail.count(b"<conditionalFormatting") == 2
    ws = openpyxl.load_workbook(config.workbook)["Queue"]
    notes_letter = get_column_letter(header.index("Notes") + 1)
    kinds = {str(dv.sqref).split(":")[0]: dv.type for dv in ws.data_validations.dataValidation}
    assert kinds[f"{notes_letter}2"] == "textLength"
    status = get_column_letter(header.index("Status") + 1)
    assert kinds[f"{status}2"] == "list"
    priorities = [r.priority for cf in ws.conditional_formatting for r in cf.rules]
    assert sorted(priorities) == list(range(1, len(priorities) + 1))
    with zipfile.ZipFile(config.workbook) as package:
        dxfs = re.search(rb"<dxfs count=\"(\d+)\"", package.read("xl/styles.xml"))
    assert dxfs is not None and int(dxfs.group(1)) >= 3  # xlsxwriter's one kept first, the tool's after
    service.refresh(config=config, backend=backend, now=NOW.replace(tzinfo=config.tz))
    assert read_sheet(config.workbook, "Mine")[0][0] == "theirs"
    _opens(config.workbook)
    assert service.init(config=config, backend=backend) == [f"{config.workbook.name} is up to date"]


def test_a_demand_tab_without_its_colour_scale_gets_it(config: Config) -> None:
    service.init(config=config, backend=ExcelBackend(config.workbook))
    wb = openpyxl.load_workbook(config.workbook)
    wb[model.DEMAND_TAB].conditional_formatting = type(wb[model.DEMAND_TAB].conditional_formatting)()
    wb.save(config.workbook)
    notes = service.init(config=config, backend=ExcelBackend(config.workbook))
    assert notes == [f"added the colour scale to {model.DEMAND_TAB}"]
    demand = openpyxl.load_workbook(config.workbook)[model.DEMAND_TAB]
    assert [r.type for cf in demand.conditional_formatting for r in cf.rules] == ["colorScale"]


def test_an_existing_colour_rule_on_a_column_is_not_doubled() -> None:
    donor = (
        b'<worksheet><sheetData/><conditionalFormatting sqref="A2:C9"><cfRule type="expression" dxfId="0" '
        b'priority="1"><formula>LEN($B2)&gt;0</formula></cfRule><cfRule type="expression" dxfId="1" '
        b'priority="2"><formula>$C2="x"</formula></cfRule></conditionalFormatting></worksheet>'
    )
    tail = (
        b'<conditionalFormatting sqref="D2:D9"><cfRule type="expression" dxfId="4" priority="7">'
        b"<formula>LEN($D2)&gt;3</formula></cfRule></conditionalFormatting><pageMargins/></worksheet>"
    )
    rules = missing_rules(donor, [b"<dxf>a</dxf>", b"<dxf>b</dxf>"], tail, colmap={1: 1, 2: 4, 3: 2},
                          width=(3, 5))  # fmt: skip
    assert rules.dxfs == (b"<dxf>b</dxf>",)  # the rule on B (now D) is left: that column has one
    (cf,) = rules.conditional
    assert b'sqref="A2:E9"' in cf and b'$B2="x"' in cf and b'dxfId="0"' in cf
    out = with_rules(tail, rules, dxf_base=10)
    assert b'dxfId="10" priority="8"' in out or b'priority="8" dxfId="10"' in out
    assert out.index(b"</conditionalFormatting>") < out.index(b'sqref="A2:E9"') < out.index(b"<pageMargins")


def test_rules_go_before_the_extension_list_and_prefixed_sheets_are_refused() -> None:
    rules = Rules(validations=(b'<dataValidation sqref="A2:A9" type="list"><formula1>"a"</formula1>'
                               b"</dataValidation>",))  # fmt: skip
    tail = b'<pageMargins/><extLst><ext><x14:dataValidations count="1"/></ext></extLst></worksheet>'
    out = with_rules(tail, rules, 0)
    assert out.startswith(b'<dataValidations count="1"><dataValidation sqref="A2:A9"')
    with pytest.raises(PatchRefused):
        with_rules(b"<x:pageMargins/></x:worksheet>", rules, 0)


def test_the_tail_is_found_across_chunk_boundaries() -> None:
    xml = b"<worksheet><sheetData>" + b"<row r='1'/>" * 50 + b"</sheetData><pageMargins/></worksheet>"
    for size in (1, 5, 11, 64, 1000):
        out: list[bytes] = []
        writer = TailWriter(out.append, lambda tail: b"[" + tail + b"]")
        for at in range(0, len(xml), size):
            writer.write(xml[at : at + size])
        writer.close()
        assert b"".join(out) == xml.replace(b"</sheetData>", b"</sheetData>[").replace(
            b"</worksheet>", b"</worksheet>]"
        )


def test_the_grafted_tabs_hold_no_date_cells(config: Config) -> None:
    """The donor's cells are written as they are into a workbook on either date system: a date there would
    move four years in a 1904 workbook. It holds none (text and plain numbers only); if the layout ever
    puts a date on a tool tab, the graft must convert it (xlsx_graft._sheet_xml), and this says so."""
    from callback_sheets.backends.excel.init import donor_package
    from callback_sheets.backends.excel.xlsx.styles import is_date_format_code

    donor = donor_package(
        header=model.REQUIRED_COLUMNS, tabs=TOOL_TABS, choices=service.choices(config)
    )
    with zipfile.ZipFile(io.BytesIO(donor)) as package:
        styles = package.read("xl/styles.xml")
        formats = {
            int(m.group(1)): m.group(2).decode()
            for m in re.finditer(rb'<numFmt numFmtId="(\d+)" formatCode="([^"]*)"', styles)
        }
        xfs = re.findall(rb"<xf\b[^>]*>", styles.split(b"<cellXfs")[1].split(b"</cellXfs>")[0])
        date_styles = set()
        for index, xf in enumerate(xfs):
            number = int(re.search(rb'numFmtId="(\d+)"', xf).group(1))  # type: ignore[union-attr]
            if 14 <= number <= 22 or 45 <= number <= 47 or is_date_format_code(formats.get(number, "")):
                date_styles.add(index)
        sheets = [n for n in package.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 2 + len(TOOL_TABS)
        cells = 0
        for name in sheets:
            for cell in re.finditer(rb"<c\b([^>]*?)(/>|>(.*?)</c>)", package.read(name), re.DOTALL):
                attrs, body = cell.group(1), cell.group(3) or b""
                if b"<v>" not in body and b"<is>" not in body:
                    continue
                cells += 1
                kind = re.search(rb'\st="(\w+)"', attrs)
                style = re.search(rb'\ss="(\d+)"', attrs)
                numeric = kind is None or kind.group(1) == b"n" or kind.group(1) == b"d"
                dated = style is not None and int(style.group(1)) in date_styles
                assert not (numeric and dated), (
                    f"{name}: a date cell {attrs!r}: convert it for 1904 workbooks"
                )
                assert kind is None or kind.group(1) != b"d", f"{name}: an ISO date cell {attrs!r}"
        assert cells > 20  # the headers and the Lists' choices were looked at


def test_a_metrics_tab_without_its_chart_gets_it(config: Config, tmp_path: Path) -> None:
    """A workbook made before the chart existed: init adds the drawing and chart parts and links them
    from the Metrics tab (a <drawing> element and a relationship); nothing else changes."""
    from callback_sheets.backends.excel.layout import build_workbook

    wb = build_workbook(
        header=model.REQUIRED_COLUMNS,
        tabs=TOOL_TABS,
        choices=service.choices(config),
        look=service.look(config),
    )
    wb[model.METRICS_TAB]._charts = []  # as an older version of the tool made it
    wb.save(config.workbook)
    before = tmp_path / "before.xlsx"
    before.write_bytes(config.workbook.read_bytes())
    with zipfile.ZipFile(before) as package:
        assert not any(n.startswith("xl/charts/") for n in package.namelist())
    backend = ExcelBackend(config.workbook)
    assert service.init(config=config, backend=backend) == [f"added the weekly chart to {model.METRICS_TAB}"]
    metrics = 4  # Queue, Lists, History, Metrics
    old, new = _sheet_xml(before, metrics), _sheet_xml(config.workbook, metrics)
    assert _not_additive(old, new) is None and old.split(b"</sheetData>")[0] == new.split(b"</sheetData>")[0]
    assert compare(before, config.workbook) == [f"xl/worksheets/sheet{metrics}.xml rewritten"]
    with zipfile.ZipFile(config.workbook) as package:
        names = package.namelist()
        assert names[: len(zipfile.ZipFile(before).namelist())] == zipfile.ZipFile(before).namelist()
        rels = package.read(f"xl/worksheets/_rels/sheet{metrics}.xml.rels")
        drawing = re.search(rb'Target="([^"]*drawing[^"]*)"', rels)
        assert drawing is not None and re.search(rb"<drawing [^>]*r:id=", new)
        chart = next(n for n in names if n.startswith("xl/charts/chart"))
        assert b"Metrics!$B$" in package.read(chart) or b"'Metrics'!$B$" in package.read(chart)
        assert b"/" + chart.encode() in package.read("[Content_Types].xml")
    assert openpyxl.load_workbook(config.workbook)[model.METRICS_TAB]._charts  # openpyxl sees the chart
    service.refresh(config=config, backend=backend, now=NOW.replace(tzinfo=config.tz))
    assert service.init(config=config, backend=backend) == [f"{config.workbook.name} is up to date"]
