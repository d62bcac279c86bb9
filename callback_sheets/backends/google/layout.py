"""`init` on a Google Sheet: the ``spreadsheets.batchUpdate`` requests that create or upgrade the layout.

The same layout as the Excel backend (``backends.excel.layout``): a Queue tab with a bold frozen header (staff
columns blue, tool-owned columns grey and italic, each with a note), column widths, date-time formats,
dropdowns from a hidden Lists tab, colours for escalations and overdue rows, and the tool tabs. On
Google the tool-owned columns are also protected with a warning (``warningOnly``) so staff who type there
are told the column is computed. An upgrade adds what is missing and never moves or changes a row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from callback_sheets import look as look_spec
from callback_sheets import model
from callback_sheets.backends.google.sheet_requests import (
    STAFF_HEADER,
    TOOL_HEADER,
    Request,
    SheetMeta,
    add_sheet,
    data_format,
    grid_size,
    rgb,
    text_cell,
)
from callback_sheets.backends.google.tool_tabs import scripts_tab, tool_tab
from callback_sheets.backends.google.values import column_letter, is_datetime_column, quote
from callback_sheets.layout import DROPDOWNS, TabSpec
from callback_sheets.look import DEFAULT_LOOK, Look

QUEUE_ROWS = 200  # a new Queue's grid: room for staff to type (Google's default is 1,000); writes grow it
REPORT_ROWS, REPORT_COLS = 60, 36  # a new Metrics or Demand tab: what the trend, table and grid use
TAB_ROWS = 100  # a new History or Intake tab (Google's default is 1,000 rows of 26 columns)
PROTECTION_PREFIX = "callback-sheets: computed column "
# The Scripts tab's sheet id when `init` creates it (if free), so a refresh can write a row's #gid= link
# without asking which id the tab has.
SCRIPTS_SHEET_ID = 1_414_141
TOOL_NOTE = "Computed by callback-sheets on every refresh: edits here are replaced."


@dataclass(slots=True)
class InitState:
    """The spreadsheet as it is before `init`: tabs, the Queue header, Lists content, our rules."""

    sheets: dict[str, SheetMeta]
    queue_header: list[str] = field(default_factory=list)
    lists: list[list[str]] = field(default_factory=list)  # the Lists tab by rows
    formulas: set[str] = field(default_factory=set)  # conditional-format formulas on the Queue
    protected: set[str] = field(default_factory=set)  # protected-range descriptions on the Queue


@dataclass(slots=True)
class InitPlan:
    requests: list[Request] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_init(
    state: InitState,
    *,
    queue: str,
    header: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    new_id: Callable[[], int],
    look: Look = DEFAULT_LOOK,
    names: Mapping[str, str] | None = None,
) -> InitPlan:
    """The one batch of requests that brings the spreadsheet up to the layout, and what it does.
    ``names``: the tool's tab roles -> their titles here (``[queue] tabs``), the role's name if absent.
    The parts come in a fixed order (the Queue, its lists and rules, its protections, the tool tabs, the
    Scripts tab), which is also the order new tab ids are drawn in."""
    titles = dict(names or {})
    plan = InitPlan()
    meta, final = _plan_queue(state, queue, header, new_id, plan, look)
    lists_title = titles.get(model.LISTS_TAB, model.LISTS_TAB)
    lists = _lists(state, choices, plan, new_id, lists_title)
    plan.requests += _dropdowns(meta, final, choices, lists, lists_title)
    if not any("OVERDUE" in f for f in state.formulas):
        plan.requests += _colour_rules(meta, final, look)
        plan.notes.append("added dropdowns and colour rules")
    _plan_protection(state, meta, final, plan)
    _plan_tool_tabs(state, tabs, titles, new_id, plan, look)
    if look.scripts and model.SCRIPTS_TAB not in state.sheets:
        used = {m.sheet_id for m in state.sheets.values()}
        sheet_id = SCRIPTS_SHEET_ID if SCRIPTS_SHEET_ID not in used else new_id()
        scripts = SheetMeta(sheet_id, model.SCRIPTS_TAB, len(look.scripts) + 5, 2)
        plan.requests += scripts_tab(scripts, look)
        plan.notes.append(f"created tab {model.SCRIPTS_TAB}")
    if not plan.notes:
        plan.requests = []  # dropdowns and header styles are already there: nothing to send
    return plan


def _plan_queue(
    state: InitState,
    queue: str,
    header: Sequence[str],
    new_id: Callable[[], int],
    plan: InitPlan,
    look: Look,
) -> tuple[SheetMeta, list[str]]:
    """The Queue tab made or widened, its header and the new columns' widths and formats; returns the
    tab and its columns after init (those present first, then the missing ones)."""
    meta = state.sheets.get(queue)
    fresh = meta is None
    present = [] if fresh else list(state.queue_header)
    missing = [h for h in header if h not in present]
    final = present + missing
    if meta is None:
        meta = SheetMeta(new_id(), queue, QUEUE_ROWS, len(final))
        plan.requests.append(add_sheet(meta, index=0))
        plan.notes.append(f"created tab {queue}")
    elif len(final) > meta.cols:
        meta.cols = len(final)
        plan.requests.append(grid_size(meta))
    if missing and not fresh:
        plan.notes.append(f"added columns: {', '.join(missing)}")
    rules_missing = not any("OVERDUE" in f for f in state.formulas)
    new_columns = {i for i, name in enumerate(final) if fresh or name in missing or rules_missing}
    plan.requests += _queue_header(meta, final, set(missing) | set(final if fresh else ()))
    plan.requests += _columns(meta, final, new_columns, look)
    return meta, final


def _plan_protection(state: InitState, meta: SheetMeta, final: Sequence[str], plan: InitPlan) -> None:
    """A warning on each computed column that has none yet."""
    protect = [
        (i, n)
        for i, n in enumerate(final)
        if n in model.TOOL_COLUMNS and PROTECTION_PREFIX + repr(n) not in state.protected
    ]
    if protect:
        plan.requests += [_protect(meta, i, n) for i, n in protect]
        plan.notes.append(f"protected computed columns with a warning: {', '.join(n for _, n in protect)}")


def _plan_tool_tabs(
    state: InitState,
    tabs: Sequence[TabSpec],
    titles: Mapping[str, str],
    new_id: Callable[[], int],
    plan: InitPlan,
    look: Look,
) -> None:
    for tab in tabs:
        title = titles.get(tab.name, tab.name)
        if title not in state.sheets:
            # as wide as their columns, without spare rows (a write grows a tab with a little room);
            # the report grids (Metrics, Demand) start at the size of what a refresh writes there
            size = (TAB_ROWS, len(tab.header)) if tab.header else (REPORT_ROWS, REPORT_COLS)
            plan.requests += tool_tab(SheetMeta(new_id(), title, *size), tab, look)
            plan.notes.append(f"created tab {title}")


def _queue_header(meta: SheetMeta, final: Sequence[str], write: set[str]) -> list[Request]:
    """Header cells: names (only those being added), bold white on blue or grey, notes; frozen row and
    column."""
    cells = []
    for name in final:
        spec = model.COLUMNS_BY_NAME.get(name)
        tool = spec is not None and spec.owner is model.Owner.TOOL
        cell: dict[str, Any] = {
            "userEnteredFormat": {
                "backgroundColor": TOOL_HEADER if tool else STAFF_HEADER,
                "textFormat": {"bold": True, "italic": tool, "foregroundColor": rgb("FFFFFF")},
                "wrapStrategy": "WRAP",
                "verticalAlignment": "MIDDLE",
            }
        }
        note = TOOL_NOTE if tool else (spec.help if spec is not None else "")
        if note:
            cell["note"] = note
        cells.append(cell)
    fields = "userEnteredFormat(backgroundColor,textFormat,wrapStrategy,verticalAlignment),note"
    start = {"sheetId": meta.sheet_id, "rowIndex": 0, "columnIndex": 0}
    frozen = {"sheetId": meta.sheet_id, "gridProperties": {"frozenRowCount": 1, "frozenColumnCount": 1}}
    out: list[Request] = []
    first = next((i for i, name in enumerate(final) if name in write), None)
    if first is not None:  # the names being added sit together at the end
        names = [{"values": [text_cell(n) for n in final[first:]]}]
        out.append(
            {
                "updateCells": {
                    "start": {**start, "columnIndex": first},
                    "rows": names,
                    "fields": "userEnteredValue",
                }
            }
        )
    out.append({"updateCells": {"start": start, "rows": [{"values": cells}], "fields": fields}})
    out.append(
        {
            "updateSheetProperties": {
                "properties": frozen,
                "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount",
            }
        }
    )
    return out


def _columns(
    meta: SheetMeta, final: Sequence[str], which: set[int], look: Look = DEFAULT_LOOK
) -> list[Request]:
    """Widths and data formats of new columns (existing ones keep what staff chose): plain top-aligned
    text, wrapped where the look says, dates in the one date format."""
    out: list[Request] = []
    for i in sorted(which):
        spec = model.COLUMNS_BY_NAME.get(final[i])
        width = (spec.width if spec else 14) * 7 + 5
        dim = {"sheetId": meta.sheet_id, "dimension": "COLUMNS", "startIndex": i, "endIndex": i + 1}
        out.append(
            {
                "updateDimensionProperties": {
                    "range": dim,
                    "properties": {"pixelSize": width},
                    "fields": "pixelSize",
                }
            }
        )
        out.append(
            data_format(
                meta.sheet_id,
                i,
                1,
                look.date_format if is_datetime_column(final[i]) else None,
                wrap=final[i] in look_spec.WRAP_COLUMNS,
            )
        )
    return out


def _lists(
    state: InitState,
    choices: Mapping[str, Sequence[str]],
    plan: InitPlan,
    new_id: Callable[[], int],
    title: str = model.LISTS_TAB,
) -> dict[str, str]:
    """Write the Lists tab when it is missing or differs; return list name → range for dropdowns."""
    names = list(choices)
    longest = max((len(v) for v in choices.values()), default=0)
    grid = [[name for name in names]] + [
        [choices[n][r] if r < len(choices[n]) else "" for n in names] for r in range(longest)
    ]
    meta = state.sheets.get(title)
    if meta is None:  # as wide as its lists and as tall as the longest (Google's default: 1,000 x 26)
        meta = SheetMeta(new_id(), title, len(grid), max(len(names), 1))
        plan.requests.append(add_sheet(meta, hidden=True))
        plan.notes.append(f"created tab {title}")
    elif len(grid) > meta.rows or len(names) > meta.cols:  # more choices than the tab holds: grow it
        meta = SheetMeta(meta.sheet_id, title, max(meta.rows, len(grid)), max(meta.cols, len(names)))
        plan.requests.append(grid_size(meta))
    if _trimmed(grid) != _trimmed(state.lists):
        rows = [{"values": [text_cell(v) if v else {} for v in line]} for line in grid]
        for cell in rows[0]["values"]:
            cell["userEnteredFormat"] = {"textFormat": {"bold": True}}
        plan.requests.append(
            {
                "updateCells": {
                    "range": {"sheetId": meta.sheet_id},
                    "rows": rows,
                    "fields": "userEnteredValue,userEnteredFormat.textFormat.bold",
                }
            }
        )
        if title in state.sheets:
            plan.notes.append(f"updated the choices on the {title} tab")
    return {
        name: f"={quote(title)}!${column_letter(i)}$2:${column_letter(i)}${len(choices[name]) + 1}"
        for i, name in enumerate(names, start=1)
    }


def _trimmed(grid: Sequence[Sequence[str]]) -> list[list[str]]:
    rows = [[str(v) for v in r] for r in grid]
    for r in rows:
        while r and not r[-1]:
            r.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def _dropdowns(
    meta: SheetMeta,
    final: Sequence[str],
    choices: Mapping[str, Sequence[str]],
    lists: Mapping[str, str],
    lists_title: str = model.LISTS_TAB,
) -> list[Request]:
    out: list[Request] = []
    for column, list_name in DROPDOWNS.items():
        if column not in final or list_name not in lists or not choices.get(list_name):
            continue
        col = final.index(column)
        grid = {
            "sheetId": meta.sheet_id,
            "startRowIndex": 1,
            "startColumnIndex": col,
            "endColumnIndex": col + 1,
        }
        rule = {
            "condition": {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": lists[list_name]}]},
            "inputMessage": (
                f"Pick a {column.lower()} from the list (the {lists_title} tab holds the choices)."
            ),
            "strict": False,
            "showCustomUi": True,
        }
        out.append({"setDataValidation": {"range": grid, "rule": rule}})
    return out


def _colour_rules(meta: SheetMeta, final: Sequence[str], look: Look = DEFAULT_LOOK) -> list[Request]:
    """The look's row rules (escalated, overdue, closed), in priority order: fill and text colour."""
    area = {"sheetId": meta.sheet_id, "startRowIndex": 1, "startColumnIndex": 0, "endColumnIndex": len(final)}
    out: list[Request] = []
    for spec in look.row_rules():
        if spec.column not in final:
            continue
        formula = "=" + spec.formula_for(column_letter(final.index(spec.column) + 1))
        condition = {"type": "CUSTOM_FORMULA", "values": [{"userEnteredValue": formula}]}
        text = {"foregroundColor": rgb(spec.font), "bold": spec.bold}
        fmt = {"backgroundColor": rgb(spec.fill), "textFormat": text}
        rule = {"ranges": [area], "booleanRule": {"condition": condition, "format": fmt}}
        out.append({"addConditionalFormatRule": {"rule": rule, "index": len(out)}})
    return out


def _protect(meta: SheetMeta, col: int, name: str) -> Request:
    grid = {"sheetId": meta.sheet_id, "startRowIndex": 0, "startColumnIndex": col, "endColumnIndex": col + 1}
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": grid,
                "description": PROTECTION_PREFIX + repr(name),
                "warningOnly": True,
            }
        }
    }
