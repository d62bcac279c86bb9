"""What an import produces: call records, bad records, and the error for an unknown layout.

Nothing in this module stores or prints patient data in messages: exceptions name columns and line
numbers only.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from callback_sheets.errors import CallbackSheetsError

CallKind = Literal["missed", "abandoned", "voicemail"]


class UnknownFormatError(CallbackSheetsError):
    """The export's columns match no preset and no usable mapping; the message lists what was found."""


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One missed, abandoned or voicemail inbound call, as read from an export.

    `key` is the idempotency key: the export's own call id when it has one, otherwise a hash of the
    normalised number and the call time (see `call_key`). `received` is aware, in clinic time.
    `phone_raw` and `caller_name` are the export's text, unchanged apart from surrounding blanks.
    """

    key: str
    received: datetime
    phone_raw: str
    phone_key: str
    caller_name: str
    line: int
    kind: CallKind
    rang_seconds: float | None = None  # how long it rang, where the export says; None: unknown


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A row that looked like a missed call but could not be imported; `line` is the file's physical line."""

    line: int
    reason: str


@dataclass(slots=True)
class CallLog:
    """Everything read from one export file."""

    format: str
    calls: list[CallRecord] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    ignored: int = 0  # answered, outbound and non-voice rows
    # Values of the direction/status columns that are neither a missed inbound call's nor a known answered
    # or outbound one: column label -> value -> rows (those rows are counted in `ignored` too).
    unknown: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_keys: dict[str, str] = field(default_factory=dict)  # column label -> the mapping key for it
    recognised_ignored: int = 0  # ignored rows whose values are known (answered, outbound, fax...)
    # Why rows or calls were ignored ("answered", "internal call"...), where the preset says; counts.
    ignored_why: Counter[str] = field(default_factory=Counter)
    unit: str = "line"  # what BadRecord.line counts: "line", or "event" for one-file-per-call exports

    @property
    def recognised(self) -> int:
        """Rows understood: missed calls, bad records, and answered/outbound rows with known values."""
        return len(self.calls) + len(self.bad) + self.recognised_ignored

    def ignore(self, why: str, count: int = 1) -> None:
        """Count rows (or calls) ignored for a known reason."""
        self.ignored += count
        self.recognised_ignored += count
        self.ignored_why[why] += count

    def unknown_value(self, column: str, value: str, key: str = "") -> None:
        """Count a status value the preset does not know (listed in the summary with its count)."""
        if key:
            self.unknown_keys[column] = key
        values = self.unknown.setdefault(column, {})
        values[value] = values.get(value, 0) + 1


def call_key(*, fmt: str, call_id: str, phone_key: str, received: datetime) -> str:
    """The stable idempotency key of a call.

    With an export call id (Twilio `Sid`, RingCentral `Id`...): "<format>:<id>". Without one: a hash of
    the normalised number and the call time in UTC to the second, so the same call exported twice, or
    in two overlapping files, gets the same key.
    """
    if call_id:
        return f"{fmt}:{call_id}"
    stamp = received.astimezone(UTC).replace(microsecond=0).isoformat()
    digest = hashlib.sha1(f"{phone_key}|{stamp}".encode(), usedforsecurity=False).hexdigest()
    return f"call:{digest[:24]}"
