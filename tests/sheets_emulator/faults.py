"""Fault injection and the request log: quota errors, 5xx, delays and "staff edits" between requests."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUOTA_MESSAGE = (
    "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' "
    "of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
)
SERVER_MESSAGES = {
    500: ("Internal error encountered.", "INTERNAL"),
    502: ("Bad Gateway", "UNAVAILABLE"),
    503: ("The service is currently unavailable.", "UNAVAILABLE"),
}


@dataclass
class LoggedRequest:
    """One HTTP request as the emulator received it (``path`` without the query string)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int = 0


@dataclass
class Fault:
    """Answer the next ``count`` matching requests with ``status`` (0: answer normally) after ``delay``.

    ``method`` is matched exactly, ``path`` as a regular expression searched in the decoded path.
    """

    status: int = 429
    count: int = 1
    method: str | None = None
    path: str | None = None
    delay: float = 0.0
    retry_after: int | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None

    def body(self) -> dict[str, Any]:
        """Google's error body for this status."""
        if self.status == 429:
            return {
                "error": {
                    "code": 429,
                    "message": QUOTA_MESSAGE,
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": "RATE_LIMIT_EXCEEDED",
                            "domain": "googleapis.com",
                            "metadata": {
                                "quota_metric": "sheets.googleapis.com/write_requests",
                                "quota_limit": "WriteRequestsPerMinutePerUser",
                                "service": "sheets.googleapis.com",
                            },
                        }
                    ],
                }
            }
        message, status = SERVER_MESSAGES.get(self.status, ("Error", "UNKNOWN"))
        return {"error": {"code": self.status, "message": message, "status": status}}


@dataclass
class Hook:
    """Run ``action`` when the request counter reaches ``at`` (before that request is handled)."""

    at: int
    action: Callable[[], None]


@dataclass
class FaultPlan:
    """Pending faults and hooks plus the request log; thread-safe."""

    faults: list[Fault] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    log: list[LoggedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    def before_request(self, nth: int, action: Callable[[], None]) -> None:
        """Run ``action`` just before the ``nth`` request from now (1: the next one)."""
        with self.lock:
            self.hooks.append(Hook(len(self.log) + nth, action))

    def clear(self) -> None:
        with self.lock:
            self.faults.clear()
            self.hooks.clear()

    def record(self, entry: LoggedRequest) -> tuple[list[Callable[[], None]], Fault | None]:
        """Log a request; return the hooks due now and the fault to apply (if any)."""
        with self.lock:
            self.log.append(entry)
            number = len(self.log)
            due = [h.action for h in self.hooks if h.at == number]
            self.hooks = [h for h in self.hooks if h.at > number]
            chosen = None
            for fault in self.faults:
                if fault.count > 0 and fault.matches(entry.method, entry.path):
                    fault.count -= 1
                    chosen = fault
                    break
            self.faults = [f for f in self.faults if f.count > 0]
            return due, chosen
