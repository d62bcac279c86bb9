"""`doctor`'s checks of a Google Sheet queue: the key is a service-account key (kept private), the sheet
is shared with it and has every column, and no spreadsheet is near Google's cell limit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from callback_sheets.backends.base import Backend
from callback_sheets.backends.checks import Check, check_header, check_private
from callback_sheets.backends.google.backend import GoogleBackend, load_service_account
from callback_sheets.config.google import GSPREAD_DEFAULT_KEY, GoogleConfig
from callback_sheets.errors import CallbackSheetsError

if TYPE_CHECKING:
    from callback_sheets.config.types import Config


def doctor(config: Config, now: datetime) -> list[Check]:
    return check_google(
        config.google,
        archive_key=config.archive_spreadsheet,
        archive_keys=dict(config.archive_spreadsheets),
        now=now.astimezone(config.tz).replace(tzinfo=None),  # clinic wall-clock, as the sheet's times
    )


def check_google(
    google: GoogleConfig | None,
    *,
    connect: Callable[[GoogleConfig], GoogleBackend] | None = None,
    archive_key: str | None = None,
    archive_keys: Mapping[int, str] | None = None,
    now: datetime | None = None,
) -> list[Check]:
    """The key file is a service-account key; the sheet is shared with it and has the Queue tab and
    headers."""
    if google is None:
        return [Check("config", False, "google.spreadsheet: set it to the sheet's URL or key")]
    try:
        _, email = load_service_account(google.credentials)
    except CallbackSheetsError as exc:
        looked = "" if google.credentials else f" (nothing at gspread's default {GSPREAD_DEFAULT_KEY} either)"
        return [Check("credentials", False, f"{exc}{looked}")]
    where = str(google.credentials)
    if google.credentials == GSPREAD_DEFAULT_KEY.expanduser():
        where += ", gspread's default key path"
    checks = [Check("credentials", True, f"service account {email} ({where})")]
    if google.credentials is not None:
        checks += check_private(google.credentials, "the service-account key")
    try:
        backend = (connect or GoogleBackend.from_config)(google)
    except CallbackSheetsError as exc:
        return [*checks, Check("credentials", False, str(exc))]
    if archive_key is not None or archive_keys:
        backend.archive_key = archive_key
        backend.archive_keys = dict(archive_keys or {})
    header = check_header(backend, google.worksheet)
    return checks + header + (check_cells(backend, now) if all(c.ok for c in header) else [])


GOOGLE_CELL_LIMIT = 10_000_000
"""Google's limit on the cells of one spreadsheet (every tab's rows x columns, empty or not)."""
CELLS_WARN_AT = 0.8


def check_cells(backend: Backend, now: datetime | None = None) -> list[Check]:
    """How full each spreadsheet is (the queue's and every archive one), warning from 80% of Google's
    limit: the archive then needs a new spreadsheet ([archive] spreadsheets, one per year)."""
    counts = getattr(backend, "cell_counts", None)
    if counts is None:
        return []
    try:
        found: dict[str, int] = counts()
    except CallbackSheetsError as exc:
        return [Check("cells", True, f"not counted: {exc}", warning=True)]
    from callback_sheets.backends.google.cell_room import (
        projection,  # the archive's room at the clinic's pace
    )

    try:
        room = projection(backend, found, now=now or datetime.now())
    except CallbackSheetsError:
        room = None  # the cells are counted all the same
    checks = []
    for key, cells in found.items():
        name = "cells" if key == getattr(backend, "key", None) else f"archive cells ({key})"
        share = cells / GOOGLE_CELL_LIMIT
        detail = f"{cells:,} of Google's {GOOGLE_CELL_LIMIT:,} cells ({share:.0%})"
        warn = share >= CELLS_WARN_AT
        if warn:
            detail += (
                ": near the limit, after which Google refuses every write; set [archive] "
                'spreadsheets = { YEAR = "<a new spreadsheet>" } for the next archive run '
                "(older years stay where they are)"
            )
        elif room is not None and key == room[0]:  # where the archive goes: its years of room
            detail, warn = f"{detail}; {room[1]}", room[2]
        checks.append(Check(name, True, detail, warning=warn))
    return checks
