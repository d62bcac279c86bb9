"""Creating and upgrading the workbook's layout with openpyxl: header, widths, dropdowns, colours, tabs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from callback_sheets import look as look_spec
from callback_sheets import model
from callback_sheets.backends.excel.charts import add_figure_layout
from callback_sheets.cells import CellValue, column_index
from callback_sheets.errors import BackendError
from callback_sheets.layout import DROPDOWNS, HIDDEN_TABS, TabSpec
from callback_sheets.look import DEFAULT_LOOK, Look

DATETIME_FORMAT = look_spec.DEFAULT_DATE_FORMAT  # data cells' date format unless the config sets one
LAST_ROW = look_spec.LAST_ROW  # how far dropdowns and colours reach
STAFF_HEADER = PatternFill("solid", fgColor=look_spec.STAFF_HEADER)
TOOL_HEADER = PatternFill("solid", fgColor=look_spec.TOOL_HEADER)
TAB_HEADER = PatternFill("solid", fgColor=look_spec.TAB_HEADER)
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def data_style(ws: Worksheet, letter: str, *, date_format: str | None, wrap: bool) -> None:
    """The column's style, which every data cell typed or appended below the header takes: plain black
    text, top-aligned, wrapped where asked, dates in the one date format."""
    dim = ws.column_dimensions[letter]
    dim.font = Font(color=look_spec.DATA_FONT)
    dim.alignment = Alignment(vertical="top", wrap_text=wrap)
    if date_format:
        dim.number_format = date_format


def style_header(ws: Worksheet, header: Sequence[str], look: Look = DEFAULT_LOOK) -> None:
    for col, name in enumerate(header, start=1):
        spec = model.COLUMNS_BY_NAME.get(name)
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True, color=look_spec.HEADER_FONT)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        tool = spec is not None and spec.owner is model.Owner.TOOL
        cell.fill = TOOL_HEADER if tool else STAFF_HEADER
        if tool:
            cell.font = Font(bold=True, italic=True, color=look_spec.HEADER_FONT)
            note = "Computed by callback-sheets on every refresh: edits here are replaced."
            if spec is not None and spec.help:
                note = f"{spec.help} {note}"
            cell.comment = Comment(note, "callback-sheets")
        elif spec is not None and spec.help:
            cell.comment = Comment(spec.help, "callback-sheets")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = spec.width if spec else 14
        dated = spec is not None and spec.kind is model.Kind.DATETIME
        data_style(
            ws, letter, date_format=look.date_format if dated else None, wrap=name in look_spec.WRAP_COLUMNS
        )
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 30
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}1"
    print_setup(ws, model.QUEUE_TAB, look)


def print_setup(ws: Worksheet, tab: str, look: Look) -> None:
    """Landscape (mostly), one page wide, header row on every page, narrow margins, the clinic's name
    in the page header and the print date in the footer."""
    spec = look_spec.TAB_PRINT.get(tab, look_spec.PrintSetup())
    ws.page_setup.orientation = "landscape" if spec.landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_setup.fitToWidth = spec.fit_width
    ws.page_setup.fitToHeight = spec.fit_height
    left, right, top, bottom = spec.margins
    ws.page_margins = PageMargins(
        left=left, right=right, top=top, bottom=bottom, header=spec.header_margin, footer=spec.footer_margin
    )
    if spec.repeat_header:
        ws.print_title_rows = "1:1"
    header, footer = ws.oddHeader, ws.oddFooter
    assert header is not None and footer is not None  # openpyxl makes both with the sheet
    header.center.text = f"{look_spec.page_header(look.clinic_name)} - {tab}"
    header.center.size = 10
    footer.left.text = look_spec.FOOTER_LEFT
    footer.right.text = look_spec.FOOTER_RIGHT
    footer.left.size = footer.right.size = 8


def set_literal(cell: Cell | MergedCell, value: CellValue) -> None:
    """Store a value so it can never be taken for a formula; dates get a date format. Every cell openpyxl
    writes from config or staff text goes through here (the patcher has its own, equally literal)."""
    if isinstance(cell, MergedCell):  # openpyxl cannot give it a value
        raise BackendError(f"{cell.coordinate} lies inside merged cells: unmerge them (nothing was written)")
    if isinstance(value, str):
        cell.value = _ILLEGAL.sub("", value)
        cell.data_type = "s"  # '=…' stays text: openpyxl would otherwise write a formula
        return
    cell.value = value
    if isinstance(value, datetime | date):
        cell.number_format = DATETIME_FORMAT


def write_lists(ws: Worksheet, choices: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Write each choice list in its own column; return list name → absolute range for dropdowns."""
    ws.delete_rows(1, ws.max_row)
    ranges = {}
    for col, (name, values) in enumerate(choices.items(), start=1):
        letter = get_column_letter(col)
        ws.cell(row=1, column=col, value=name).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            set_literal(ws.cell(row=row, column=col), value)  # config text: never a formula
        if values:
            ranges[name] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def add_rules(
    ws: Worksheet, header: Sequence[str], ranges: Mapping[str, str], look: Look = DEFAULT_LOOK
) -> None:
    """Dropdowns for the columns with fixed choices; row colours for escalated, overdue, closed rows."""
    cols = column_index(header)
    for column, list_name in DROPDOWNS.items():
        if column not in cols or list_name not in ranges:
            continue
        letter = get_column_letter(cols[column])
        dv = DataValidation(type="list", formula1=ranges[list_name], allow_blank=True)
        where = "the owners in the config" if column == model.OWNER else "the Lists tab holds the choices"
        dv.error = f"Pick a {column.lower()} from the list ({where})."
        dv.errorTitle = column
        dv.errorStyle = "warning"  # staff may still type a name that is not listed
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)
    last = get_column_letter(len(header))
    area = f"A2:{last}{LAST_ROW}"
    for rule in look.row_rules():
        if rule.column not in cols:
            continue
        formula = rule.formula_for(get_column_letter(cols[rule.column]))
        fill = PatternFill("solid", fgColor=rule.fill, bgColor=rule.fill)
        font = Font(color=rule.font, bold=rule.bold or None)
        ws.conditional_formatting.add(
            area,
            FormulaRule(  # type: ignore[no-untyped-call]  # types-openpyxl leaves its parameters untyped
                formula=[formula], fill=fill, font=font, stopIfTrue=rule.stop
            ),
        )


def build_workbook(
    *,
    header: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    look: Look = DEFAULT_LOOK,
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = model.QUEUE_TAB
    ws.append(list(header))
    style_header(ws, header, look)
    ranges = write_lists(wb.create_sheet(model.LISTS_TAB), choices)
    add_rules(ws, header, ranges, look)
    for tab in tabs:
        add_tab(wb, tab, look)
    add_figure_layout(wb, look.date_format)
    if look.scripts:
        write_scripts(wb, look)
    for name in HIDDEN_TABS:
        if name in wb.sheetnames:
            wb[name].sheet_state = "hidden"
    return wb


def add_tab(wb: Workbook, tab: TabSpec, look: Look = DEFAULT_LOOK) -> Worksheet:
    ws: Worksheet = wb.create_sheet(tab.name)  # typed Any in the stubs (a write-only sheet or not)
    if tab.header:
        ws.append(list(tab.header))
        for col, name in enumerate(tab.header, start=1):
            cell = ws.cell(row=1, column=col)
            cell.font = Font(bold=True, color=look_spec.TAB_HEADER_FONT)
            cell.fill = TAB_HEADER
            letter = get_column_letter(col)
            ws.column_dimensions[letter].width = look_spec.TAB_WIDTHS.get(name, look_spec.TAB_WIDTH)
            dated = name in model.TAB_DATETIME_COLUMNS
            data_style(ws, letter, date_format=look.date_format if dated else None, wrap=False)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(tab.header))}1"
    if tab.name in HIDDEN_TABS:
        ws.sheet_state = "hidden"
    else:
        print_setup(ws, tab.name, look)
    return ws


def write_scripts(wb: Workbook, look: Look) -> list[str]:
    """The Scripts tab (rewritten whole: it is the tool's own): block titles as headings, each script's
    text wrapped in one cell beside what it is for."""
    created = model.SCRIPTS_TAB not in wb.sheetnames
    ws = wb.create_sheet(model.SCRIPTS_TAB) if created else wb[model.SCRIPTS_TAB]
    if not created:
        for merged in list(ws.merged_cells.ranges):
            ws.unmerge_cells(str(merged))
        ws.delete_rows(1, ws.max_row)
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 110
    data_style(ws, "A", date_format=None, wrap=True)
    data_style(ws, "B", date_format=None, wrap=True)
    for number, (what, text) in enumerate(look.scripts, start=1):
        a = ws.cell(row=number, column=1, value=what or None)
        b = ws.cell(row=number, column=2, value=text or None)
        for cell in (a, b):
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if isinstance(cell.value, str):
                cell.data_type = "s"
        if number == 1:
            a.font = Font(bold=True, size=13)
            a.alignment = Alignment(vertical="top", wrap_text=False)  # the title runs across the tab
        elif number == 2:
            for cell in (a, b):
                cell.font = Font(bold=True, color=look_spec.TAB_HEADER_FONT)
                cell.fill = TAB_HEADER
        elif number in look.script_titles:
            ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=2)
            a.font = Font(bold=True, color=look_spec.HEADER_FONT)
            a.fill = STAFF_HEADER
        else:
            a.font = Font(bold=True)
            lines = sum(1 + len(line) // 120 for line in text.split("\n"))
            ws.row_dimensions[number].height = max(15, 14 * lines + 4)
    ws.freeze_panes = "A3"
    print_setup(ws, model.SCRIPTS_TAB, look)
    return [f"created tab {model.SCRIPTS_TAB}"] if created else []
