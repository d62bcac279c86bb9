"""[google]: the Google Sheet a queue lives in (the main queue's table, or a [[queues]] entry's)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from callback_sheets import model
from callback_sheets.config.values import a_text, no_unknown, opt_text, positive_int
from callback_sheets.errors import ConfigError


@dataclass(frozen=True, slots=True)
class GoogleConfig:
    """The [google] section: the spreadsheet, its tab, the credentials."""

    spreadsheet: str
    worksheet: str
    credentials: Path | None
    max_wait_seconds: int = 60  # a refresh's total wait on a failing API, then it gives up until next time


def read_google(raw: object, base: Path) -> GoogleConfig:
    if not isinstance(raw, Mapping) or not raw.get("spreadsheet"):
        raise ConfigError('google.spreadsheet: set it to the sheet\'s URL or key (the backend is "google")')
    no_unknown(raw, {"spreadsheet", "worksheet", "credentials", "max_wait_seconds"}, "google")
    spreadsheet = a_text(raw["spreadsheet"], "google.spreadsheet", example='"https://docs.google.com/..."')
    worksheet = opt_text(raw, "worksheet", "google.worksheet", model.QUEUE_TAB, example='"Queue"')
    if "credentials" in raw:
        a_text(raw["credentials"], "google.credentials", example='"key.json"')
    creds = raw.get("credentials") or os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
    if not creds and GSPREAD_DEFAULT_KEY.expanduser().is_file():
        creds = str(GSPREAD_DEFAULT_KEY.expanduser())  # where gspread itself looks by default
    return GoogleConfig(
        spreadsheet=spreadsheet,
        worksheet=worksheet,
        credentials=(base / str(creds)) if creds else None,
        max_wait_seconds=positive_int(raw.get("max_wait_seconds", 60), "google.max_wait_seconds"),
    )


# gspread's own default service-account key path, used when neither the config nor the environment names one.
GSPREAD_DEFAULT_KEY = Path("~/.config/gspread/service_account.json")
