"""`init` on a workbook that exists: the tool's tabs added through the zero-collateral patcher.

The tabs are built as they would be in a new workbook (openpyxl, in memory: the *donor*), then grafted
into the clinic's package (see :mod:`.xlsx.graft`); nothing of the clinic's workbook ever passes through
openpyxl. A Queue that exists only gains the columns it lacks, at the end of its header; a Lists tab that
exists gets the config's choices; every other tab of the tool that exists is left as it is.

Tab names compare case-insensitively, as in Excel. A tab that has one of the tool's names (or the name
``[queue] tabs`` gives it) but holds something else is never taken over: `init` stops with a message
saying how to name the tool's tab differently.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from callback_sheets import model
from callback_sheets.backends.excel.xlsx.parts import rename_references
from callback_sheets.backends.excel.xlsx.patch import sheet_tails
from callback_sheets.backends.excel.xlsx.read import read_workbook
from callback_sheets.backends.excel.xlsx.rules import Rules, donor_parts, missing_rules
from callback_sheets.cells import CellValue
from callback_sheets.errors import BackendError
from callback_sheets.layout import DEMAND_HEADER_ROW, TREND_HEADER_ROW, TabSpec, clash_message
from callback_sheets.look import DEFAULT_LOOK, Look


def resolve(names: Sequence[str], wanted: str) -> str | None:
    """The workbook's tab named ``wanted``, compared case-insensitively as Excel does."""
    lowered = wanted.casefold()
    return next((name for name in names if name.casefold() == lowered), None)


def is_ours(
    role: str,
    grid: Sequence[Sequence[CellValue]],
    choices: Mapping[str, Sequence[str]],
    header: Sequence[str] = (),
) -> bool:
    """True when a tab found under one of the tool's names holds the tool's content (or nothing)."""
    cells = [str(v).strip() for row in grid for v in row if v not in (None, "")]
    if not cells:
        return True
    first = [str(v).strip() for v in (grid[0] if grid else ()) if v not in (None, "")]
    if role == model.QUEUE_TAB:
        return len(set(first) & set(model.REQUIRED_COLUMNS)) >= 2
    if role == model.LISTS_TAB:
        return bool(first) and set(first) <= set(choices)
    if role == model.HISTORY_TAB:
        return (
            bool(first) and first[0] == model.HISTORY_COLUMNS[0] and set(first) <= set(model.HISTORY_COLUMNS)
        )
    if role == model.INTAKE_TAB:
        return bool(first) and set(first) <= set(model.INTAKE_COLUMNS)
    a1 = str(grid[0][0]) if grid and grid[0] and grid[0][0] is not None else ""
    if role == model.METRICS_TAB:
        return (
            a1.startswith("Missed calls and recovery rate") or _cell(grid, TREND_HEADER_ROW, 1) == "Week of"
        )
    if role == model.SCRIPTS_TAB:
        return a1.startswith("Call scripts of")
    if role == model.DEMAND_TAB:
        return a1.startswith("Missed calls by weekday") or _cell(grid, DEMAND_HEADER_ROW, 1) == "Weekday"
    return bool(first) and bool(header) and set(first) <= set(header)  # another tab of the tool's


def _cell(grid: Sequence[Sequence[CellValue]], row: int, col: int) -> CellValue:
    if len(grid) >= row and len(grid[row - 1]) >= col:
        return grid[row - 1][col - 1]
    return None


def donor_package(
    *,
    header: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    look: Look = DEFAULT_LOOK,
) -> bytes:
    """The tool's tabs as a new workbook would have them (the look's Scripts tab too), as package bytes."""
    from callback_sheets.backends.excel.layout import build_workbook

    buffer = io.BytesIO()
    build_workbook(header=header, tabs=tabs, choices=choices, look=look).save(buffer)
    return buffer.getvalue()


def tabs_package(tabs: Sequence[TabSpec]) -> bytes:
    """A package holding only ``tabs`` (as `init` makes them), for a write that needs a missing tab."""
    from openpyxl import Workbook

    from callback_sheets.backends.excel.charts import add_figure_layout
    from callback_sheets.backends.excel.layout import add_tab

    wb = Workbook()
    default = wb.active
    for tab in tabs:
        add_tab(wb, tab)
    if default is not None and any(ws.sheet_state == "visible" for ws in wb.worksheets if ws is not default):
        wb.remove(default)  # else kept: a package needs a visible sheet (the graft takes only ``tabs``)
    add_figure_layout(wb)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def lists_edits(
    grid: Sequence[Sequence[CellValue]], choices: Mapping[str, Sequence[str]]
) -> dict[tuple[int, int], CellValue]:
    """The cells that make an existing Lists tab hold ``choices`` (one column per list), and only
    those that differ."""
    wanted: dict[tuple[int, int], CellValue] = {}
    for col, (name, values) in enumerate(choices.items(), start=1):
        wanted[(1, col)] = name
        for row, choice in enumerate(values, start=2):
            wanted[(row, col)] = choice
    for r, row_values in enumerate(grid, start=1):
        for c, value in enumerate(row_values, start=1):
            if value not in (None, "") and (r, c) not in wanted:
                wanted[(r, c)] = None
    return {key: value for key, value in wanted.items() if _cell(grid, *key) != value}


def plan_init(
    path: Path,
    *,
    header: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    label: str,
    donor: bytes,
) -> tuple[dict[str, dict[tuple[int, int], CellValue]], list[str], dict[str, Rules], list[str]]:
    """What `init` does to an existing workbook: (edits by actual tab name, roles to graft, rules to
    add by actual tab name, notes). ``donor`` is :func:`donor_package`'s, the source of the rules."""
    roles = [model.QUEUE_TAB, model.LISTS_TAB, *(t.name for t in tabs)]
    found, grids = _found_tabs(path, roles, tabs, choices, names, label)
    edits: dict[str, dict[tuple[int, int], CellValue]] = {}
    notes: list[str] = []
    queue = found[model.QUEUE_TAB]
    full_header: list[str] = []
    if queue is not None:
        full_header = _queue_header(grids.get(queue, []), header, queue, edits, notes)
    rules = _missing_tab_rules(path, donor, found, roles, names, header, full_header, notes)
    lists = found[model.LISTS_TAB]
    if lists is not None:
        cells = lists_edits(grids.get(lists, []), choices)
        if cells:
            edits[lists] = cells
            notes.append(f"updated the choices on the {lists} tab")
    graft = [role for role in roles if found[role] is None]
    if graft:
        notes.insert(
            0, f"created tab{'s' if len(graft) > 1 else ''} {', '.join(names.get(r, r) for r in graft)}"
        )
    return edits, graft, rules, notes


def _found_tabs(
    path: Path,
    roles: Sequence[str],
    tabs: Sequence[TabSpec],
    choices: Mapping[str, Sequence[str]],
    names: Mapping[str, str],
    label: str,
) -> tuple[dict[str, str | None], dict[str, list[list[CellValue]]]]:
    """Each role's tab in the workbook (None: not there) and those tabs' grids; refuses a tab of one
    of our names that holds something else."""
    present = list(read_workbook(path, [])[0])
    found = {role: resolve(present, names.get(role, role)) for role in roles}
    grids = read_workbook(path, [name for name in found.values() if name is not None])[1]
    for role in roles:
        name = found[role]
        header_of = next((t.header for t in tabs if t.name == role), ())
        if name is not None and not is_ours(role, grids.get(name, []), choices, header_of):
            raise BackendError(clash_message(label, role, name))
    return found, grids


def _queue_header(
    grid: Sequence[Sequence[CellValue]],
    header: Sequence[str],
    queue: str,
    edits: dict[str, dict[tuple[int, int], CellValue]],
    notes: list[str],
) -> list[str]:
    """The queue tab's header once the missing columns are added after it (their edits and note added)."""
    present_header = [("" if v is None else str(v).strip()) for v in (grid[0] if grid else [])]
    while present_header and not present_header[-1]:
        present_header.pop()
    missing = [h for h in header if h not in present_header]
    if missing:
        edits[queue] = {(1, len(present_header) + i): h for i, h in enumerate(missing, start=1)}
        notes.append(f"added columns: {', '.join(missing)}")
    return present_header + missing


def _missing_tab_rules(
    path: Path,
    donor: bytes,
    found: Mapping[str, str | None],
    roles: Sequence[str],
    names: Mapping[str, str],
    header: Sequence[str],
    full_header: Sequence[str],
    notes: list[str],
) -> dict[str, Rules]:
    """The donor's dropdowns, colour rules and chart that the existing Queue, Demand and Metrics tabs
    lack, by actual tab name (a note added for each tab that gains some)."""
    rules: dict[str, Rules] = {}
    queue = found[model.QUEUE_TAB]
    demand = found.get(model.DEMAND_TAB)
    metrics = found.get(model.METRICS_TAB)
    if queue is None and demand is None and metrics is None:
        return rules
    parts, dxfs = donor_parts(donor, [model.QUEUE_TAB, model.DEMAND_TAB, model.METRICS_TAB])
    tails = sheet_tails(path, [n for n in (queue, demand, metrics) if n is not None])
    actual = {role: found.get(role) or names.get(role, role) for role in roles}
    renames = {r: n for r, n in actual.items() if r != n}

    def rename(xml: bytes) -> bytes:
        return rename_references(xml, renames)

    if queue in tails and model.QUEUE_TAB in parts:
        colmap = {i: full_header.index(h) + 1 for i, h in enumerate(header, start=1)}
        added = missing_rules(
            parts[model.QUEUE_TAB], dxfs, tails[queue], colmap=colmap,
            width=(len(header), len(full_header)), rename=rename,
        )  # fmt: skip
        if added:
            rules[queue] = added
            notes.append(f"added dropdowns and colour rules to {queue}")
    if demand in tails and model.DEMAND_TAB in parts:
        added = missing_rules(parts[model.DEMAND_TAB], dxfs, tails[demand], rename=rename)
        if added:
            rules[demand] = added
            notes.append(f"added the colour scale to {demand}")
    chart = parts.get(model.METRICS_TAB, b"")
    if metrics in tails and b"<drawing" in chart and not re.search(rb"<drawing[\s/>]", tails[metrics]):
        rules[metrics] = Rules(chart=(donor, model.METRICS_TAB, renames))
        notes.append(f"added the weekly chart to {metrics}")
    return rules


def renamed_package(package: bytes, names: Mapping[str, str]) -> bytes:
    """A donor package with its tabs renamed as ``[queue] tabs`` says (references in formulas, data
    validations, defined names and charts follow); the package itself when nothing is renamed."""
    import zipfile

    from callback_sheets.backends.excel.xlsx.markup import quoteattr  # xml.sax.saxutils' (which loads urllib)

    renames = {old: new for old, new in names.items() if old != new}
    if not renames:
        return package
    source = zipfile.ZipFile(io.BytesIO(package))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith(".xml"):
                data = rename_references(data, renames)
            if info.filename == "xl/workbook.xml":
                for old, new in renames.items():
                    named = rb"\g<1>" + quoteattr(new).encode().replace(b"\\", b"\\\\")
                    data = re.sub(rb'(<sheet\b[^>]*?\sname=)"' + re.escape(old.encode()) + rb'"', named, data)
            target.writestr(info, data)
    return out.getvalue()
