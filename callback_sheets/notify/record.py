"""The record of what was sent: each (alert, channel) at most once, across runs, restarts and processes.

A JSON file beside the queue's other state (the runner's state file: beside the workbook, or beside the
config for a Google Sheet), guarded by an exclusive ``flock`` on a lock file held for a whole notify run,
so two processes (``run`` and a ``notify`` typed by hand) never both send the same alert. An alert is
recorded only after the server accepted it, and the file is rewritten atomically after each one, so a
crash between two sends loses nothing already sent. A channel's failures are kept too: the next try waits
a bounded, growing time (1, 2, 4 ... 60 minutes), and `doctor` reports the last error.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from callback_sheets import oslock
from callback_sheets.config import Config
from callback_sheets.config.state_files import runner_files
from callback_sheets.errors import BackendError, WorkbookBusyError

MAX_BACKOFF_MINUTES = 60
KEEP_DAYS = 120  # sent entries older than this are dropped (the file stays small)
LOCK_WAIT_SECONDS = 30.0


def record_path(config: Config) -> Path:
    """``.callback-sheets-notify.<queue>.json`` beside the runner's state file."""
    _, state = runner_files(config)
    return state.with_name(state.name.replace(".callback-sheets-runner.", ".callback-sheets-notify.", 1))


@dataclass(slots=True)
class ChannelState:
    failures: int = 0
    next_try: datetime | None = None
    error: str = ""
    since: datetime | None = None  # first failure of this streak

    def as_dict(self) -> dict[str, object]:
        return {
            "failures": self.failures,
            "next_try": self.next_try.isoformat() if self.next_try else None,
            "error": self.error,
            "since": self.since.isoformat() if self.since else None,
        }


@dataclass(slots=True)
class SentRecord:
    path: Path
    sent: dict[str, str] = field(default_factory=dict)  # "key|channel" -> when (ISO)
    channels: dict[str, ChannelState] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> SentRecord:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            channels = {}
            for name, c in (raw.get("channels") or {}).items():
                channels[str(name)] = ChannelState(
                    failures=int(c.get("failures", 0)),
                    next_try=_dt(c.get("next_try")),
                    error=str(c.get("error", "")),
                    since=_dt(c.get("since")),
                )
            return cls(path, {str(k): str(v) for k, v in (raw.get("sent") or {}).items()}, channels)
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, TypeError, AttributeError):
            # unreadable or not ours: start afresh, keeping the old file for a person to look at
            with contextlib.suppress(OSError):
                os.replace(path, path.with_suffix(".unreadable.json"))
            return cls(path)

    def was_sent(self, key: str, channel: str) -> bool:
        return f"{key}|{channel}" in self.sent

    def mark_sent(self, key: str, channel: str, now: datetime) -> None:
        self.sent[f"{key}|{channel}"] = now.isoformat(timespec="seconds")
        try:
            self.save()
        except OSError as exc:  # stop the run: going on would send alerts it cannot record
            raise BackendError(
                f"cannot write {self.path.name} ({exc.strerror}): the last alert was sent but not "
                "recorded; nothing more is sent this run"
            ) from None

    def waiting(self, channel: str, now: datetime) -> ChannelState | None:
        """The channel's failure state while it is backing off, else None."""
        state = self.channels.get(channel)
        if state and state.next_try and now < state.next_try:
            return state
        return None

    def failed(
        self, channel: str, error: str, now: datetime, retry_after: float | None = None
    ) -> ChannelState:
        state = self.channels.setdefault(channel, ChannelState())
        state.failures += 1
        state.error = error
        state.since = state.since or now
        minutes = min(2 ** (state.failures - 1), MAX_BACKOFF_MINUTES)
        if retry_after is not None and retry_after > 0:
            minutes = max(minutes, min(retry_after / 60, MAX_BACKOFF_MINUTES))
        state.next_try = now + timedelta(minutes=minutes)
        self.save()
        return state

    def succeeded(self, channel: str) -> None:
        if self.channels.pop(channel, None) is not None:
            self.save()

    def prune(self, now: datetime) -> None:
        cutoff = now - timedelta(days=KEEP_DAYS)
        old = [k for k, v in self.sent.items() if (_dt(v) or now) < cutoff]
        for k in old:
            del self.sent[k]

    def save(self) -> None:
        data = {
            "version": 1,
            "sent": self.sent,
            "channels": {name: c.as_dict() for name, c in self.channels.items()},
        }
        fd, tmp = tempfile.mkstemp(prefix=".notify-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _dt(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


@contextlib.contextmanager
def locked(path: Path, *, wait: float = LOCK_WAIT_SECONDS) -> Iterator[SentRecord]:
    """Hold the record's lock (waiting up to ``wait`` seconds for another notify run), then load it.
    The OS drops the lock when a process ends, however it ends."""
    lock = path.with_suffix(".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BackendError(f"cannot create the notify lock {lock}: {exc.strerror}: nothing sent") from None
    deadline = time.monotonic() + wait
    try:
        while not oslock.try_lock(fd):
            if time.monotonic() >= deadline:
                raise WorkbookBusyError(
                    f"another notify run still holds {lock.name}: this one sends nothing (the next will)"
                )
            time.sleep(0.05)
    except BaseException:
        oslock.close_refused(fd)
        raise
    try:
        yield SentRecord.load(path)
    finally:
        oslock.unlock(fd)
        os.close(fd)
