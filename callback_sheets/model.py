"""The queue's vocabulary: column names, who owns each column, and the default choices.

Nothing here knows about spreadsheets; backends and the core both speak in these names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final, Protocol


class Owner(StrEnum):
    STAFF = "staff"  # typed by people; the tool may fill it only while it is empty
    TOOL = "tool"  # computed by the tool on every refresh


class Kind(StrEnum):
    TEXT = "text"
    DATETIME = "datetime"
    INT = "int"


@dataclass(frozen=True, slots=True)
class Column:
    """A Queue column: its header, who writes it (staff or the tool), its kind and width."""

    name: str
    owner: Owner
    kind: Kind = Kind.TEXT
    width: int = 14
    help: str = ""


# Column names (exact defaults; staff may reorder columns and add their own).
ID = "ID"
RECEIVED = "Received"
CALLER = "Caller"
PHONE = "Phone"
PATIENT_TYPE = "Patient type"
LANGUAGE = "Language"
REASON = "Reason"
URGENCY = "Urgency"
OWNER = "Owner"
STATUS = "Status"
ATTEMPTS = "Attempts"
LAST_ATTEMPT = "Last attempt"
LAST_OUTCOME = "Last outcome"
NOTES = "Notes"
NEXT_ATTEMPT = "Next attempt"
OVERDUE = "Overdue"
NEXT_STEP = "Next step"
ESCALATION = "Escalation"
FIRST_ATTEMPT = "First attempt"
CLOSED_AT = "Closed at"
CALLS = "Calls"
LATEST_CALL = "Latest call"
ARRIVED = "Arrived"
PROBLEMS = "Problems"
SCRIPT = "Script"

QUEUE_COLUMNS: tuple[Column, ...] = (
    Column(ID, Owner.STAFF, width=10, help="Stable ID; the tool fills it when empty."),
    Column(RECEIVED, Owner.STAFF, Kind.DATETIME, 16, "When the (first) missed call came in, clinic time."),
    Column(CALLER, Owner.STAFF, width=20),
    Column(PHONE, Owner.STAFF, width=16),
    Column(PATIENT_TYPE, Owner.STAFF, width=10),
    Column(LANGUAGE, Owner.STAFF, width=10),
    Column(REASON, Owner.STAFF, width=25),
    Column(URGENCY, Owner.STAFF, width=10),
    Column(OWNER, Owner.STAFF, width=12, help="Who calls back; the tool assigns it when empty."),
    Column(STATUS, Owner.STAFF, width=17),
    Column(ATTEMPTS, Owner.STAFF, Kind.INT, 9, "How many callback attempts so far."),
    Column(LAST_ATTEMPT, Owner.STAFF, Kind.DATETIME, 16, "When the latest attempt was made."),
    Column(LAST_OUTCOME, Owner.STAFF, width=18, help="What happened on the latest attempt."),
    Column(NOTES, Owner.STAFF, width=30),
    Column(NEXT_ATTEMPT, Owner.TOOL, Kind.DATETIME, 16, "When the next attempt is due (computed)."),
    Column(OVERDUE, Owner.TOOL, width=30),
    Column(NEXT_STEP, Owner.TOOL, width=34),
    Column(PROBLEMS, Owner.TOOL, width=34),
    Column(SCRIPT, Owner.TOOL, width=38, help="A link to the call script for this row's next attempt."),
    Column(ESCALATION, Owner.TOOL, width=34),
    Column(FIRST_ATTEMPT, Owner.TOOL, Kind.DATETIME, 16, "When the first callback attempt was made."),
    Column(CLOSED_AT, Owner.TOOL, Kind.DATETIME, 16, "When the item was first seen closed."),
    Column(CALLS, Owner.TOOL, Kind.INT, 7, "How many missed calls this item stands for."),
    Column(LATEST_CALL, Owner.TOOL, Kind.DATETIME, 16, "When the latest of those calls came in."),
    Column(ARRIVED, Owner.TOOL, width=12, help="In hours, After hours or Closed day (from Received)."),
)
COLUMNS_BY_NAME = {c.name: c for c in QUEUE_COLUMNS}
TOOL_COLUMNS = tuple(c.name for c in QUEUE_COLUMNS if c.owner is Owner.TOOL)
REQUIRED_COLUMNS = tuple(c.name for c in QUEUE_COLUMNS)  # what `init` writes
LAYOUT_COLUMNS = REQUIRED_COLUMNS  # the same, in the order `init` makes them
# Columns added after 0.1.0: a queue without them still works (`init` adds them; refresh skips them).
OPTIONAL_COLUMNS = frozenset({ARRIVED, SCRIPT})

# Default choices (config may translate or extend them).
REASONS = (
    "New appointment",
    "Existing patient follow-up",
    "Document / referral",
    "Prior authorization",
    "Billing",
    "Prescription question",
    "Clinical concern",
    "Other",
)


class Status:
    """The canonical statuses: the code's names for them. ``[choices] statuses`` may translate them, so
    code compares a cell with the clinic's word (``clinic_words(config).status(Status.BOOKED)``)."""

    NEW: Final = "New"
    IN_PROGRESS: Final = "In progress"
    WAITING: Final = "Waiting on patient"
    ESCALATED: Final = "Escalated"
    BOOKED: Final = "Booked"
    RESOLVED: Final = "Resolved"
    NO_RESPONSE: Final = "No response"
    DUPLICATE: Final = "Duplicate"


class Urgency:
    """The canonical urgencies, most urgent last (``[choices] urgencies`` may translate them)."""

    ROUTINE: Final = "Routine"
    SAME_DAY: Final = "Same day"
    URGENT: Final = "Urgent"


class Outcome:
    """The canonical attempt outcomes (``[choices] outcomes`` may translate them)."""

    NO_ANSWER: Final = "No answer"
    VOICEMAIL: Final = "Voicemail left"
    SECURE_MESSAGE: Final = "Secure message sent"
    REACHED: Final = "Reached"
    BOOKED: Final = "Booked"
    WRONG_NUMBER: Final = "Wrong number"


STATUSES = (
    Status.NEW,
    Status.IN_PROGRESS,
    Status.WAITING,
    Status.ESCALATED,
    Status.BOOKED,
    Status.RESOLVED,
    Status.NO_RESPONSE,
    Status.DUPLICATE,
)
CLOSED_STATUSES = frozenset({Status.BOOKED, Status.RESOLVED, Status.NO_RESPONSE, Status.DUPLICATE})
OUTCOMES = (
    Outcome.NO_ANSWER,
    Outcome.VOICEMAIL,
    Outcome.SECURE_MESSAGE,
    Outcome.REACHED,
    Outcome.BOOKED,
    Outcome.WRONG_NUMBER,
)
URGENCIES = (Urgency.ROUTINE, Urgency.SAME_DAY, Urgency.URGENT)
PATIENT_TYPES = ("New", "Existing")
LANGUAGES = ("English", "Spanish", "Other")

# Tabs the tool owns (besides Queue, where it owns only the TOOL columns).
QUEUE_TAB = "Queue"
SCRIPTS_TAB = "Scripts"
LISTS_TAB = "Lists"
HISTORY_TAB = "History"
METRICS_TAB = "Metrics"
DEMAND_TAB = "Demand"
INTAKE_TAB = "Intake"
STATE_TAB = "State"  # hidden: the queue's own record (the highest ID ever issued), see queue_state

HISTORY_COLUMNS = ("ID", "Attempt", "Time", "Outcome", "Recorded", "Source")
INTAKE_COLUMNS = ("Key", "Imported")
STATE_COLUMNS = ("Key", "Value")
# Date-time columns of the tool's own tabs (History, Intake, Metrics), by header name.
TAB_DATETIME_COLUMNS = frozenset({"Time", "Recorded", "Imported", "Updated"})


class Choices(Protocol):
    """What :func:`clinic_words` reads of a Config: its ``[choices]`` lists."""

    @property
    def statuses(self) -> tuple[str, ...]: ...
    @property
    def urgencies(self) -> tuple[str, ...]: ...
    @property
    def outcomes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True, eq=False)  # one per [choices] lists (cached): hashed by identity
class Words:
    """The clinic's word for each canonical status, urgency and outcome (see :func:`clinic_words`)."""

    statuses: Mapping[str, str]
    urgencies: Mapping[str, str]
    outcomes: Mapping[str, str]

    def status(self, canonical: str) -> str:
        return self.statuses.get(canonical, canonical)

    def urgency(self, canonical: str) -> str:
        return self.urgencies.get(canonical, canonical)

    def outcome(self, canonical: str) -> str:
        return self.outcomes.get(canonical, canonical)

    def urgency_rank(self) -> dict[str, int]:
        """The clinic's urgency words -> their order in the work list (most urgent first: 0)."""
        return {self.urgency(u): rank for rank, u in enumerate(reversed(URGENCIES))}


def translation(canonical: Sequence[str], clinic: Sequence[str]) -> dict[str, str]:
    """Canonical word -> the clinic's word, for one ``[choices]`` list that translates or extends the
    default one: a default word still in the clinic's list is itself; one that is not stands for the
    clinic's word at its place in the default list, unless that word is another default word (a list
    that dropped a word) or is missing; else it stays as it is (and matches no cell)."""
    present = set(clinic)
    out = {}
    for index, word in enumerate(canonical):
        if word in present:
            out[word] = word
        elif index < len(clinic) and clinic[index] not in canonical:
            out[word] = clinic[index]
        else:
            out[word] = word
    return out


def clinic_words(choices: Choices) -> Words:
    """The clinic's words for the canonical ones, from a config's ``[choices]`` (cached per lists)."""
    return _words(choices.statuses, choices.urgencies, choices.outcomes)


@lru_cache(maxsize=16)
def _words(statuses: tuple[str, ...], urgencies: tuple[str, ...], outcomes: tuple[str, ...]) -> Words:
    return Words(
        translation(STATUSES, statuses), translation(URGENCIES, urgencies), translation(OUTCOMES, outcomes)
    )


DEFAULT_WORDS = _words(STATUSES, URGENCIES, OUTCOMES)
