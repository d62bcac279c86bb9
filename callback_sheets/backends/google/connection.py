"""One spreadsheet through the Sheets API: the retrying HTTP client, the service-account key, the
tabs' metadata and how Google's refusals are explained to staff."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from gspread.exceptions import APIError
from gspread.http_client import ParamsType

from callback_sheets.backends.google.http import RetryingHTTPClient, RetryPolicy
from callback_sheets.backends.google.sheet_requests import SheetMeta
from callback_sheets.config.google import GoogleConfig
from callback_sheets.errors import BackendError, ConfigError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
META_FIELDS = "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)))"
UNFORMATTED: dict[str, str | int | bool | float | list[str] | None] = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "SERIAL_NUMBER",
    "prettyPrint": "false",  # Google's system parameter: no indentation (it is most of an indented answer)
}


def params(major: str) -> ParamsType:
    """The values-only read parameters, by ``major`` dimension (``"ROWS"`` or ``"COLUMNS"``)."""
    return {**UNFORMATTED, "majorDimension": major}


def load_service_account(path: Path | None) -> tuple[dict[str, Any], str]:
    """The service-account key file's content and its e-mail address; ConfigError saying what to do."""
    if path is None:
        raise ConfigError(
            "google.credentials: set it to the service account's JSON key file "
            '(or set GOOGLE_APPLICATION_CREDENTIALS); see README, "Google Sheets setup"'
        )
    try:
        info = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"google.credentials: no file at {path}: download the service account's JSON key "
            "(Google Cloud console → IAM → Service accounts → Keys) and put its path here"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"google.credentials: cannot read {path} as a JSON key file ({exc}); "
            "download a new JSON key for the service account"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account" or not info.get("client_email"):
        raise ConfigError(
            f"google.credentials: {path} is not a service-account JSON key "
            '("type": "service_account"); create one under IAM → Service accounts → Keys'
        )
    return info, str(info["client_email"])


def authorized_session(config: GoogleConfig) -> tuple[requests.Session, str]:
    """An HTTP session signed with the configured service account, and the account's e-mail address."""
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2.service_account import Credentials

    info, email = load_service_account(config.credentials)
    try:
        creds = Credentials.from_service_account_info(info, scopes=list(SCOPES))  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise ConfigError(
            f"google.credentials: the key file is damaged ({exc}); download a new JSON key"
        ) from None
    return AuthorizedSession(creds), email  # type: ignore[no-untyped-call]


class Connection:
    """One spreadsheet (by key) and the HTTP client that talks to it."""

    def __init__(
        self,
        key: str,
        session: requests.Session,
        *,
        account: str = "the service account",
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        sleep = time.sleep if sleep is None else sleep
        self.http = RetryingHTTPClient(None, session, policy=policy, sleep=sleep)
        self.key = key
        self.account = account
        self.label = f"Google Sheet {self.key[:12]}…"

    def sibling(self, key: str) -> Connection:
        """Another spreadsheet through the same session, retry policy and sleep."""
        return Connection(
            key, self.http.session, account=self.account, policy=self.http.policy, sleep=self.http.sleep
        )

    def call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except APIError as exc:
            raise self.explain(exc) from None

    def explain(self, exc: APIError) -> BackendError:
        status = exc.response.status_code
        if status in (403, 404):
            return BackendError(
                f"Google Sheets answered {status} for spreadsheet {self.key}: "
                f"share the sheet with {self.account} "
                "as Editor (Share button), or fix google.spreadsheet in the config (URL or key)"
            )
        message = str(exc.error.get("message", exc)) if isinstance(exc.error, dict) else str(exc)
        return BackendError(f"Google Sheets refused the request ({status}): {message}")

    def tabs(self) -> dict[str, SheetMeta]:
        """One ``spreadsheets.get``: every tab's id and grid size, by title."""
        return sheets_of(self.call(self.http.fetch_sheet_metadata, self.key, {"fields": META_FIELDS}))


def sheets_of(resource: Mapping[str, Any]) -> dict[str, SheetMeta]:
    out = {}
    for sheet in resource.get("sheets", []):
        p = sheet["properties"]
        grid = p.get("gridProperties", {})
        out[p["title"]] = SheetMeta(
            int(p.get("sheetId", 0)),
            p["title"],
            int(grid.get("rowCount", 0)),
            int(grid.get("columnCount", 0)),
        )
    return out


def new_sheet_id(sheets: Mapping[str, SheetMeta]) -> int:
    used = {m.sheet_id for m in sheets.values()}
    return next(i for i in range(1_000_001, 2**31 - 1, 7919) if i not in used)
