"""Creating and upgrading the workbook's layout with openpyxl: header, widths, dropdowns, colours, tabs."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from callback_sheets import model
from callback_sheets.backends.base import CellValue, TabSpec, column_index
from callback_sheets.backends.excel_charts import add_figure_layout

DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
LAST_ROW = 20000  # how far dropdowns and colours reach
STAFF_HEADER = PatternFill("solid", fgColor="1F4E78")
TOOL_HEADER = PatternFill("solid", fgColor="7F7F7F")
OVERDUE_FILL = PatternFill("solid", fgColor="F8CBAD", bgColor="F8CBAD")
ESCALATION_FILL = PatternFill("solid", fgColor="FFD966", bgColor="FFD966")
HIDDEN_TABS = (model.LISTS_TAB, model.INTAKE_TAB, model.STATE_TAB, "Lease")  # Lease: Google's write lease

# Which Queue column takes its dropdown from which list.
DROPDOWNS = {
    model.REASON: "reasons",
    model.URGENCY: "urgencies",
    model.STATUS: "statuses",
    model.LAST_OUTCOME: "outcomes",
    model.LANGUAGE: "languages",
    model.PATIENT_TYPE: "patient_types",
}


def style_header(ws: Worksheet, header: Sequence[str]) -> None:
    for col, name in enumerate(header, start=1):
        spec = model.COLUMNS_BY_NAME.get(name)
        cell = ws.cell(row=1, column=col)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        tool = spec is not None and spec.owner is model.Owner.TOOL
        cell.fill = TOOL_HEADER if tool else STAFF_HEADER
        if tool:
            cell.font = Font(bold=True, italic=True, color="FFFFFF")
            cell.comment = Comment(
                "Computed by callback-sheets on every refresh: edits here are replaced.", "callback-sheets"
            )
        elif spec is not None and spec.help:
            cell.comment = Comment(spec.help, "callback-sheets")
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = spec.width if spec else 14
        if spec is not None and spec.kind is model.Kind.DATETIME:
            ws.column_dimensions[letter].number_format = DATETIME_FORMAT
    ws.freeze_panes = "B2"
    ws.row_dimensions[1].height = 30
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}1"


def set_literal(cell: Cell, value: CellValue) -> None:
    """Store a value so it can never be taken for a formula; dates get a date format. Every cell openpyxl
    writes from config or staff text goes through here (the patcher has its own, equally literal)."""
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
        ranges[name] = f"{quote_sheetname(ws.title)}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def add_rules(ws: Worksheet, header: Sequence[str], ranges: Mapping[str, str]) -> None:
    """Dropdowns for the columns with fixed choices; colours for overdue rows and escalations."""
    cols = column_index(header)
    for column, list_name in DROPDOWNS.items():
        if column not in cols or list_name not in ranges:
            continue
        letter = get_column_letter(cols[column])
        dv = DataValidation(type="list", formula1=ranges[list_name], allow_blank=True)
        dv.error = f"Pick a {column.lower()} from the list (the Lists tab holds the choices)."
        dv.errorTitle = column
        dv.errorStyle = "warning"
        dv.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.add_data_validation(dv)
    last = get_column_letter(len(header))
    area = f"A2:{last}{LAST_ROW}"
    if model.ESCALATION in cols:
        esc = get_column_letter(cols[model.ESCALATION])
        ws.conditional_formatting.add(
            area, FormulaRule(formula=[f"LEN(${esc}2)>0"], fill=ESCALATION_FILL, stopIfTrue=True)
        )
    if model.OVERDUE in cols:
        ovd = get_column_letter(cols[model.OVERDUE])
        ws.conditional_formatting.add(
            area, FormulaRule(formula=[f'LEFT(${ovd}2,7)="OVERDUE"'], fill=OVERDUE_FILL)
        )


def build_workbook(
    *, header: Sequence[str], tabs: Sequence[TabSpec], choices: Mapping[str, Sequence[str]]
) -> Workbook:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = model.QUEUE_TAB
    ws.append(list(header))
    style_header(ws, header)
    ranges = write_lists(wb.create_sheet(model.LISTS_TAB), choices)
    add_rules(ws, header, ranges)
    for tab in tabs:
        add_tab(wb, tab)
    add_figure_layout(wb)
    for name in HIDDEN_TABS:
        if name in wb.sheetnames:
            wb[name].sheet_state = "hidden"
    return wb


def add_tab(wb: Workbook, tab: TabSpec) -> Worksheet:
    ws = wb.create_sheet(tab.name)
    if tab.header:
        ws.append(list(tab.header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for col in range(1, len(tab.header) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 16
    if tab.name in HIDDEN_TABS:
        ws.sheet_state = "hidden"
    return ws
