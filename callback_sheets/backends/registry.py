"""The backends, by name: the only list of them.

Each :class:`BackendKind` says everything the rest of the tool needs to know about one backend: the
config key its settings are under (and how they are read, for the main queue and for a [[queues]]
entry), what makes two queues the same one, where the runner keeps a queue's state files, how the queue
is opened, and what `doctor` checks. A new backend is one more entry in :data:`BACKENDS` (plus its own
modules); nothing else names a backend.

This module imports no backend: the openers and the doctor checks import theirs when called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from callback_sheets.config.google import read_google
from callback_sheets.config.types import DEFAULT_WORKBOOK, Config, Location
from callback_sheets.config.values import a_text
from callback_sheets.errors import ConfigError

if TYPE_CHECKING:
    from callback_sheets.backends.base import Backend
    from callback_sheets.backends.checks import Check


@dataclass(frozen=True, slots=True)
class Setting:
    """A backend's setting for one queue, as the config file has it."""

    value: object  # None: not in the file (TOML has no null)
    key: str  # its name in messages: "queue.workbook", "queues[1].workbook", "google"
    base: Path  # the config's folder: relative paths are taken from here
    selected: bool  # the queue uses this backend
    entry: bool  # in a [[queues]] entry, else the main queue's


@dataclass(frozen=True, slots=True)
class BackendKind:
    name: str
    key: str
    """The config key of its settings: a key of [queue] and of each [[queues]] entry, or (``table``) a
    table: ``[key]`` for the main queue, ``key = { ... }`` in a [[queues]] entry."""
    table: bool
    read: Callable[[Location, Setting], Location]
    """The queue's location with this backend's setting read in (called for every backend: the setting
    may be given for another backend's queue, or not at all)."""
    identity: Callable[[Location], tuple[str, ...]]
    """What makes two [[queues]] entries the same queue."""
    same: tuple[str, str]
    """For a queue listed twice: the key the message names (after ``queues[i].``), and what is shared."""
    state: Callable[[Config], tuple[Path, str]]
    """The folder of the queue's runner files (lock, state, sent alerts) and the name telling them apart."""
    open: Callable[[Config], Backend]
    doctor: Callable[[Config, datetime], list[Check]]
    """`doctor`'s checks of the queue at ``now`` (the config and the alert channels are checked apart)."""


# --- Excel: a workbook file, `workbook` in [queue] or a [[queues]] entry ---------------------------------
def _read_workbook(place: Location, setting: Setting) -> Location:
    example = '"north.xlsx"' if setting.entry else '"queue.xlsx"'
    text = DEFAULT_WORKBOOK if setting.value is None else a_text(setting.value, setting.key, example=example)
    if setting.entry and setting.selected and not setting.value:
        raise ConfigError(f"{setting.key}: set the path of this location's workbook")
    return replace(place, workbook=setting.base / text)


def _workbook_identity(place: Location) -> tuple[str, ...]:
    """The workbook's resolved path (``a.xlsx`` and ``./a.xlsx`` are one file)."""
    return ("excel", os.path.normcase(str(place.workbook.resolve())))


def _workbook_state(config: Config) -> tuple[Path, str]:
    return config.workbook.parent, config.workbook.name


def _open_excel(config: Config) -> Backend:
    from callback_sheets.backends.excel.backend import ExcelBackend

    return ExcelBackend(config.workbook, tabs=config.tabs)


def _excel_doctor(config: Config, now: datetime) -> list[Check]:
    from callback_sheets.backends.excel.doctor import doctor

    return doctor(config, now)


EXCEL = BackendKind(
    name="excel",
    key="workbook",
    table=False,
    read=_read_workbook,
    identity=_workbook_identity,
    same=("workbook", "workbook"),
    state=_workbook_state,
    open=_open_excel,
    doctor=_excel_doctor,
)


# --- Google: a sheet, the [google] table (or `google = { ... }` in a [[queues]] entry) -------------------
def _read_sheet(place: Location, setting: Setting) -> Location:
    wanted = setting.selected or (setting.value is not None and not setting.entry)
    return replace(place, google=read_google(setting.value, setting.base)) if wanted else place


def _sheet_identity(place: Location) -> tuple[str, ...]:
    """The spreadsheet's key (from its URL or bare) and the tab."""
    assert place.google is not None  # read for every queue of this backend
    sheet = place.google.spreadsheet.strip()
    found = re.search(r"/spreadsheets/d/([A-Za-z0-9_-]+)", sheet)
    return ("google", found.group(1) if found else sheet, place.google.worksheet.strip().casefold())


def _sheet_state(config: Config) -> tuple[Path, str]:
    """Beside the config: a hash of the spreadsheet and tab names the files."""
    import hashlib  # not at every command's start (its OpenSSL binding costs a few milliseconds)

    assert config.google is not None
    base = config.path.parent if config.path else Path.cwd()
    ident = f"{config.google.spreadsheet}\n{config.google.worksheet}".encode()
    return base, f"google-{hashlib.sha256(ident).hexdigest()[:12]}"


def _open_google(config: Config) -> Backend:
    from callback_sheets.backends.google.backend import GoogleBackend

    if config.google is None:
        raise ConfigError('google.spreadsheet: set it to the sheet\'s URL or key (the backend is "google")')
    backend = GoogleBackend.from_config(config.google, tabs=config.tabs)
    backend.archive_key = config.archive_spreadsheet  # `archive`: elsewhere, or tabs of this spreadsheet
    backend.archive_keys = dict(config.archive_spreadsheets)  # or a spreadsheet per year
    return backend


def _google_doctor(config: Config, now: datetime) -> list[Check]:
    from callback_sheets.backends.google.doctor import doctor

    return doctor(config, now)


GOOGLE = BackendKind(
    name="google",
    key="google",
    table=True,
    read=_read_sheet,
    identity=_sheet_identity,
    same=("google.spreadsheet", "sheet"),
    state=_sheet_state,
    open=_open_google,
    doctor=_google_doctor,
)

BACKENDS: dict[str, BackendKind] = {kind.name: kind for kind in (EXCEL, GOOGLE)}
"""Every backend, by the name `backend = "..."` gives; the first is the default."""


def backend_kind(name: str, key: str) -> BackendKind:
    """The backend called ``name``, or ConfigError naming ``key`` and every backend."""
    try:
        return BACKENDS[name]
    except KeyError:
        known = ", ".join(f'"{n}"' for n in BACKENDS)
        raise ConfigError(f"{key}: {name!r} is not one of {known}") from None


def open_backend(config: Config) -> Backend:
    return backend_kind(config.backend, "queue.backend").open(config)
