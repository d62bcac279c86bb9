"""The tool's tabs, declared once: the tool tabs a workbook should have and their headers, which Queue
columns take a dropdown from which list, which tabs are hidden, and the `[queue] tabs` role keys.

Both backends and the use cases read these; the look of the tabs (colours, widths, print set-up) is in
:mod:`callback_sheets.look`, and the columns themselves in :mod:`callback_sheets.model`.
"""

from __future__ import annotations

from dataclasses import dataclass

from callback_sheets import model
from callback_sheets.core.demand import METRICS_COLUMNS, METRICS_TABLE_ROW

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
