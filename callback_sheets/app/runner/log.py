"""What the runner records: one log line per job, and a small state file per queue.

Log lines carry only times, the queue's name, the job, counts, a duration and the outcome. They never carry
a cell's content: an error from this library is written for users and names files and settings, while any
other exception is logged by its type alone, because its message could quote a patient's cell.

The state file (JSON, beside the runner's lock) keeps, per job family, the slot it last completed and the
current streak of failures, so that cron, starting a fresh ``run --once`` every few minutes, runs each slot
once and still reports how long a fault has lasted.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from callback_sheets.errors import CallbackSheetsError

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One job's run, as logged."""

    time: datetime
    queue: str
    job: str
    outcome: str  # "ok" or "failed"
    duration: float = 0.0
    rows: int | None = None
    changes: int | None = None
    streak: int = 0  # failures in a row, this one included (0 when ok)
    recovered_after: int = 0  # failures before this success
    attention: bool | None = None  # the end-of-day review found items that need someone
    error: str | None = None
    slot: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "time": self.time.isoformat(timespec="seconds"),
            "queue": self.queue,
            "job": self.job,
            "rows": self.rows,
            "changes": self.changes,
            "duration_s": round(self.duration, 3),
            "outcome": self.outcome,
        }
        if self.slot is not None:
            out["slot"] = self.slot.isoformat(timespec="minutes")
        if self.attention is not None:
            out["attention"] = self.attention
        if self.streak:
            out["streak"] = self.streak
        if self.recovered_after:
            out["recovered_after"] = self.recovered_after
        if self.error:
            out["error"] = self.error
        return out


def describe_error(exc: BaseException) -> str:
    """One line safe to log: a library error's message (its first line), else only the exception's type."""
    if isinstance(exc, CallbackSheetsError):
        return (str(exc).splitlines() or [type(exc).__name__])[0]
    return f"unexpected {type(exc).__name__} (details withheld: they may quote a cell)"


def format_text(record: JobRecord) -> str:
    """``2026-11-02T08:00:00-06:00 queue="Main" job=open rows=60 changes=12 duration=0.41s outcome=ok``."""
    parts = [
        record.time.isoformat(timespec="seconds"),
        f"queue={json.dumps(record.queue, ensure_ascii=False)}",
        f"job={record.job}",
        f"rows={'-' if record.rows is None else record.rows}",
        f"changes={'-' if record.changes is None else record.changes}",
        f"duration={record.duration:.2f}s",
        f"outcome={record.outcome}",
    ]
    if record.attention is not None:
        parts.append(f"attention={'yes' if record.attention else 'no'}")
    if record.streak:
        parts.append(f"streak={record.streak}")
    if record.recovered_after:
        parts.append(f"recovered_after={record.recovered_after}")
    if record.error:
        parts.append(f"error={json.dumps(record.error, ensure_ascii=False)}")
    return " ".join(parts)


def format_json(record: JobRecord) -> str:
    return json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=False)


class RunLog:
    """Writes one line per record to ``stream`` (by default whatever ``sys.stderr`` is at that moment)."""

    def __init__(self, *, stream: TextIO | None = None, as_json: bool = False) -> None:
        self._stream = stream
        self._as_json = as_json
        self.records: list[JobRecord] = []
        self._lock = threading.Lock()  # jobs run on worker threads: one whole line at a time

    def emit(self, record: JobRecord) -> None:
        line = (format_json(record) if self._as_json else format_text(record)) + "\n"
        with self._lock:
            self.records.append(record)
            stream = self._stream or sys.stderr
            stream.write(line)
            stream.flush()

    def event(self, time: datetime, event: str, **fields: Any) -> None:
        """A line about the runner itself (``started``, ``stopped``), not a job: the same format as the
        job lines, ``event=`` in place of ``job=``. Fields carry no patient data (queue names, times)."""
        stream = self._stream or sys.stderr
        if self._as_json:
            line = json.dumps(
                {"time": time.isoformat(timespec="seconds"), "event": event, **fields}, ensure_ascii=False
            )
        else:
            parts = [time.isoformat(timespec="seconds"), f"event={event}"]
            for key, value in fields.items():
                if value is None:
                    continue
                if isinstance(value, int | float):
                    parts.append(f"{key}={value}")
                    continue
                text = value if isinstance(value, str) else ",".join(map(str, value))
                if text and all(ch.isalnum() or ch in "-_:.+," for ch in text):
                    parts.append(f"{key}={text}")
                else:
                    parts.append(f"{key}={json.dumps(text, ensure_ascii=False)}")
            line = " ".join(parts)
        stream.write(line + "\n")
        stream.flush()


@dataclass(slots=True)
class RunState:
    """Per job family: the last completed slot, and the failures in a row."""

    done: dict[str, datetime] = field(default_factory=dict)
    streaks: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RunState:
        """The saved state; an unreadable or missing file is an empty state (every current slot is due)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            done = {str(k): datetime.fromisoformat(str(v)) for k, v in dict(raw.get("done", {})).items()}
            streaks = {str(k): int(v) for k, v in dict(raw.get("streaks", {})).items() if int(v) > 0}
        except (OSError, ValueError, TypeError, AttributeError):
            return cls()
        return cls({k: v for k, v in done.items() if v.tzinfo is not None}, streaks)

    def save(self, path: Path) -> None:
        """Write atomically: a crash leaves the old state or the new one."""
        payload = {
            "version": STATE_VERSION,
            "done": {k: v.isoformat() for k, v in sorted(self.done.items())},
            "streaks": {k: v for k, v in sorted(self.streaks.items()) if v},
        }
        fd, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(payload, fh, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name)
            raise
