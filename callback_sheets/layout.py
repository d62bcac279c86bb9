"""The tool's tabs, declared once: the tool tabs a workbook should have and their headers, which Queue
columns take a dropdown from which list, which tabs are hidden, and the `[queue] tabs` role keys.

Both backends and the use cases read these; the look of the tabs (colours, widths, print set-up) is in
:mod:`callback_sheets.look`, and the columns themselves in :mod:`callback_sheets.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from callback_sheets import model

# Which Queue column takes its dropdown from which list (the Lists tab, written by `init`).
DROPDOWNS = {
    model.REASON: "reasons",
    model.URGENCY: "urgencies",
    model.STATUS: "statuses",
    model.LAST_OUTCOME: "outcomes",
    model.LANGUAGE: "languages",
    model.PATIENT_TYPE: "patient_types",
    model.OWNER: "owners",
}


HIDDEN_TABS = (model.LISTS_TAB, model.INTAKE_TAB, model.STATE_TAB, "Lease")  # Lease: Google's write lease


ROLE_KEYS = {
    "queue": model.QUEUE_TAB,
    "lists": model.LISTS_TAB,
    "history": model.HISTORY_TAB,
    "metrics": model.METRICS_TAB,
    "demand": model.DEMAND_TAB,
    "intake": model.INTAKE_TAB,
}
"""`[queue] tabs` key -> the tab role (its default name)."""


def clash_message(label: str, role: str, found: str) -> str:
    key = next((k for k, v in ROLE_KEYS.items() if v == role), role.lower())
    return (
        f"{label} already has a tab {found!r} that is not the tool's {role} tab (tab names compare "
        f"case-insensitively): give the tool's tab another name in the config, [queue] tabs = "
        f'{{ {key} = "Callback {role.lower()}" }}, or rename that tab (nothing was written)'
    )


@dataclass(frozen=True, slots=True)
class TabSpec:
    """A tool tab the workbook should have, with its header row."""

    name: str
    header: tuple[str, ...]
    # (1-based column, first row) of date-time cells below a header that is not on row 1 (Metrics),
    # so a backend that must format cells ahead of time (Google) can make them real dates.
    date_columns: tuple[tuple[int, int], ...] = ()


# --- the Demand and Metrics tabs' geometry (where each block's cells go) ----------------------------------
TREND_WEEKS = 12


# Demand tab: title in A1, grid header in row 3, Mon..Sun in rows 4..10, totals in row 11,
# breakdowns in AD:AG.
DEMAND_HEADER_ROW = 3


GRID_FIRST_ROW = 4


GRID_FIRST_COL = 2  # hour 0 in column B, hour 23 in column Y


TOTALS_ROW = GRID_FIRST_ROW + 7


SIDE_COL = GRID_FIRST_COL + 24  # Z: missed calls, AA: recovered, AB: recovery rate %


BREAKDOWN_FIRST_ROW = DEMAND_HEADER_ROW  # reason / patient type / language tables, right of the grid


BREAKDOWN_COL = SIDE_COL + 4  # AD: value, AE: missed calls, AF: recovered, AG: recovery rate %


# Metrics tab: the chart's data block (title A1, header row 2, weeks in rows 3..14, oldest first).
TREND_HEADER_ROW = 2


TREND_FIRST_ROW = 3


TREND_LAST_ROW = TREND_FIRST_ROW + TREND_WEEKS - 1


TREND_HEADER = ("Week of", "Missed calls", "Recovery rate %")


METRICS_TABLE_ROW = TREND_LAST_ROW + 6  # the report table's header row, below the chart


METRICS_COLUMNS = (
    "Period",
    "Kind",
    "Start",
    "End",
    "Scope",
    "Missed calls",
    "Calls",
    "Recovered",
    "Recovery rate %",
    "First callback mean (business min)",
    "First callback median",
    "First callback p90",
    "Callbacks timed",
    "First attempt time unknown",
    "Same block met",
    "Same block judged",
    "Same block %",
    "Same day met",
    "Same day judged",
    "Same day %",
    "Booked",
    "Unresolved now",
    "Unresolved > 1 business day",
    "Escalations",
    "Escalation handled mean (business min)",
    "Escalation handled median",
    "Escalation handled p90",
    "Escalations pending",
    "No response",
    "Updated",
    # added after 0.1.0, so at the end: an older Metrics table keeps its columns in place
    "After hours",
    "After hours recovered",
    "After hours recovery %",
)

# The Metrics report table's "Updated" cells are date-times below a header on row METRICS_TABLE_ROW: said
# here, so a backend that formats cells ahead of time (Google) makes them real dates.
METRICS_DATE_COLUMNS = ((METRICS_COLUMNS.index("Updated") + 1, METRICS_TABLE_ROW + 1),)

TOOL_TABS: tuple[TabSpec, ...] = (
    TabSpec(model.HISTORY_TAB, model.HISTORY_COLUMNS),
    TabSpec(model.METRICS_TAB, (), date_columns=METRICS_DATE_COLUMNS),
    TabSpec(model.DEMAND_TAB, ()),
    TabSpec(model.INTAKE_TAB, model.INTAKE_COLUMNS),
    TabSpec(model.STATE_TAB, model.STATE_COLUMNS),
)
