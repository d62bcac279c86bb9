"""What a refresh plans: the cells to write, and per item what the work list, reports and alerts show."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from callback_sheets.cells import Changeset
from callback_sheets.core.validation import Item


@dataclass(slots=True)  # not frozen: one per row, and frozen makes __init__ 4x slower
class ItemView:
    """An item with what the refresh computed for it: what the work list shows."""

    item: Item
    id: str | None
    owner: str | None
    due: datetime | None
    final: bool
    overdue: bool
    unresolved: bool
    escalation: str | None
    next_step: str
    problems: tuple[str, ...]
    flagged: str | None = None  # what triage found, even once handled or closed (the reports count it)
    arrived: str | None = None  # In hours / After hours / Closed day; None without a Received

    def sort_key(self, urgency_rank: Mapping[str, int]) -> tuple[int, int, float, int, float]:
        """Escalations, then overdue, then by due time and urgency (``urgency_rank``: the clinic's urgency
        words -> 0 for the most urgent, see model.Words.urgency_rank); ties (the night's after-hours calls
        all fall due at the end of the first block) in arrival order."""
        urgency = urgency_rank.get(self.item.urgency or "", 2)
        due = self.due.timestamp() if self.due else float("inf")
        received = self.item.received.timestamp() if self.item.received else float("inf")
        return (0 if self.escalation else 1, 0 if self.overdue else 1, due, urgency, received)


@dataclass(slots=True)
class Summary:
    """What a refresh found and did, counted."""

    rows: int = 0
    open: int = 0
    problems: int = 0
    overdue: int = 0
    escalations: int = 0
    new_ids: int = 0
    assigned: int = 0
    urgency_filled: int = 0
    final_due: int = 0
    changes: int = 0
    after_hours: int = 0  # open items that arrived after hours or on a closed day
    after_hours_escalations: int = 0


@dataclass(frozen=True, slots=True)
class EscalationAlert:
    """An open escalation that must reach people: the escalation owner, and `[escalation] after_hours_to`
    for a message left after hours. (Issue 11's notify package sends them; the plan names them.)"""

    id: str
    to: tuple[str, ...]
    after_hours: bool


@dataclass(slots=True)
class RefreshPlan:
    """What a refresh (or a read-only command) decided: the cell changes, each row's view, the counts."""

    changes: Changeset
    views: list[ItemView]
    summary: Summary
    unassigned: dict[str, str] = field(default_factory=dict)
    sheet_problems: tuple[str, ...] = ()  # problems of the sheet itself (two columns with one header)
    escalation_owner: str | None = None  # every escalated open item is on this owner's list
    alerts: list[EscalationAlert] = field(default_factory=list)
