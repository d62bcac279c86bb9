"""gspread's HTTP client with a bounded, jittered exponential backoff (gspread's own retries forever).

Retried: 429 (quota), 500, 502, 503 and timeouts or dropped connections; ``Retry-After`` is honoured.
After the last try the caller gets a :class:`BackendError` that says what happened and what to do.
Any other error (400, 403, 404...) is raised at once as gspread's ``APIError`` for the backend to explain.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from json import dumps
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL, SPREADSHEET_VALUES_BATCH_UPDATE_URL

from callback_sheets.errors import BackendError

RETRY_STATUSES = frozenset({429, 500, 502, 503})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: waits of base·2ⁿ (capped), times a jitter factor in [0.5, 1]."""

    tries: int = 6
    base: float = 1.0
    cap: float = 32.0
    max_retry_after: float = 120.0  # a Retry-After longer than this is cut down to it
    max_wait: float = 60.0  # all waits of one client together ([google] max_wait_seconds), then it gives up
    jitter: Callable[[], float] = field(default=random.random)

    def wait(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 1)."""
        backoff = float(min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + self.jitter() / 2))
        if retry_after is not None:
            return float(max(backoff, min(retry_after, self.max_retry_after)))
        return backoff


class RetryingHTTPClient(HTTPClient):
    """``gspread.http_client.HTTPClient`` whose ``request`` retries transient failures a bounded number
    of times."""

    def __init__(
        self,
        auth: Any,
        session: requests.Session | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float | tuple[float, float] = (10.0, 120.0),
    ) -> None:
        super().__init__(auth, session)
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.timeout = timeout
        self.waits: list[float] = []  # every wait so far, for tests and the log

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        params, data, json, headers = lean(params, data, json, headers)
        last = ""
        for attempt in range(1, self.policy.tries + 1):
            retry_after: float | None = None
            try:
                return super().request(method, endpoint, params, data, json, files, headers)
            except APIError as exc:
                status = exc.response.status_code
                if status not in RETRY_STATUSES:
                    raise
                retry_after = _retry_after(exc.response.headers.get("Retry-After"))
                last = _describe(status)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = "no answer in time" if isinstance(exc, requests.Timeout) else "the connection failed"
            if attempt < self.policy.tries:
                wait = self.policy.wait(attempt, retry_after)
                waited = sum(self.waits)
                if waited + wait > self.policy.max_wait:
                    raise BackendError(
                        f"Google Sheets kept failing ({last}); gave up after waiting {waited:.0f} s "
                        f"(google.max_wait_seconds = {self.policy.max_wait:.0f}): it is tried again next time"
                        + _quota_hint(last)
                    )
                self.waits.append(wait)
                self.sleep(wait)
        raise BackendError(
            f"Google Sheets gave up after {self.policy.tries} tries ({last}): "
            "wait a few minutes and run the command again" + _quota_hint(last)
        )

    def values_batch_update(self, id: str, body: Mapping[str, Any] | None = None) -> Any:
        """``values:batchUpdate`` answering only ``totalUpdatedCells`` (a fields mask): the per-range
        echo Google sends by default (about 130 bytes a range) is read by nothing here."""
        url = SPREADSHEET_VALUES_BATCH_UPDATE_URL % id
        return self.request("post", url, params={"fields": "totalUpdatedCells"}, json=body).json()

    def batch_update(self, id: str, body: Mapping[str, Any] | None) -> Any:
        """``spreadsheets:batchUpdate`` answering only the spreadsheet's id (a fields mask): the replies
        (an added tab's properties, ...) are read by nothing here."""
        url = SPREADSHEET_BATCH_UPDATE_URL % id
        return self.request("post", url, params={"fields": "spreadsheetId"}, json=body).json()


def lean(
    params: Any, data: bytes | None, body: Mapping[str, Any] | None, headers: MutableMapping[str, str] | None
) -> tuple[Any, bytes | None, Mapping[str, Any] | None, MutableMapping[str, str] | None]:
    """A request with Google's ``prettyPrint=false`` (no indentation in the answer, which is a third to
    half of an indented one) and a JSON body without the spaces ``json.dumps`` puts after separators."""
    if params is None or isinstance(params, Mapping):
        params = {"prettyPrint": "false", **(params or {})}
    if body is not None and data is None:
        text = dumps(body, separators=(",", ":"), allow_nan=False)
        data, body = text.encode(), None
        headers = {**(headers or {}), "Content-Type": "application/json"}
    return params, data, body, headers


def _quota_hint(last: str) -> str:
    return " (other scripts may be using the same service account's quota)" if "quota" in last else ""


def _describe(status: int) -> str:
    if status == 429:
        return "the Sheets API quota of requests per minute is used up"
    return f"Google answered {status}, a temporary server error"


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number of seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
