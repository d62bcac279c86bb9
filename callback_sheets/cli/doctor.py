"""`callback-sheets doctor`: checks the config, the credentials, access to the sheet and its headers.

Each check prints one line, ``ok``, ``WARN`` or ``FAIL`` with what to fix; the exit code is 1 when any
check failed (a warning alone keeps 0). The checks are plain functions returning :class:`Check` lists so
tests can run them on any backend.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.cli.options import json_option
from callback_sheets.cli.render import emit_json
from callback_sheets.cli.state import State
from callback_sheets.config import Config, GoogleConfig, find_config_path, load_config
from callback_sheets.errors import CallbackSheetsError


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # ok, but worth fixing (e.g. a secret others can read)

    @property
    def level(self) -> str:
        return "fail" if not self.ok else ("warn" if self.warning else "ok")

    def line(self) -> str:
        tag = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}[self.level]
        return f"{tag}  {self.name}: {self.detail}"

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "level": self.level, "detail": self.detail}


# Config keys whose value is a secret: a config naming one must be readable by its owner only.
SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey")


def check_private(path: Path, what: str) -> list[Check]:
    """A warning when ``path`` can be read by the group or others (POSIX modes; Windows uses ACLs, which
    a mode cannot show, so nothing is said there)."""
    if os.name == "nt":
        return []
    try:
        mode = path.stat().st_mode
    except OSError:
        return []
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return []
    readers = (("its group", stat.S_IRGRP), ("every user", stat.S_IROTH))
    who = " and ".join(w for w, bit in readers if mode & bit)
    return [
        Check(
            "permissions",
            True,
            f"{what} {path} is readable by {who} (mode {stat.filemode(mode)}): run `chmod 600 {path}`",
            warning=True,
        )
    ]


def names_a_secret(raw: Mapping[str, Any]) -> str | None:
    """The first config key (dotted) that holds a secret, or None."""
    for key, value in raw.items():
        if isinstance(value, Mapping):
            found = names_a_secret(value)
            if found:
                return f"{key}.{found}"
        elif isinstance(value, list):
            for entry in value:
                found = names_a_secret(entry) if isinstance(entry, Mapping) else None
                if found:
                    return f"{key}.{found}"
        elif value and any(s in str(key).lower() for s in SECRET_KEYS):
            return str(key)
    return None


def check_header(backend: Backend, worksheet: str = model.QUEUE_TAB) -> list[Check]:
    """Read the queue: the tab is there and has every required column."""
    try:
        snapshot = backend.read()
    except CallbackSheetsError as exc:
        return [Check("access", False, str(exc))]
    checks = [
        Check("access", True, f"read {backend.label}: {len(snapshot.rows)} rows on the {worksheet} tab")
    ]
    present = {h for h in snapshot.header if h}
    missing = [c for c in model.REQUIRED_COLUMNS if c not in present and c not in model.OPTIONAL_COLUMNS]
    if missing:
        checks.append(
            Check(
                "headers",
                False,
                f"missing columns {', '.join(missing)}: run `callback-sheets init` "
                "to add them (rows are left as they are)",
            )
        )
    else:
        optional = sorted(c for c in model.OPTIONAL_COLUMNS if c not in present)
        note = (
            f" (optional {', '.join(optional)} not there: `callback-sheets init` adds it)" if optional else ""
        )
        checks.append(
            Check("headers", True, f"all {len(model.REQUIRED_COLUMNS) - len(optional)} columns present{note}")
        )
    from callback_sheets.core.refresh import sheet_problems

    for problem in sheet_problems(snapshot.header):
        checks.append(Check("duplicate header", False, problem))
    return checks


def check_excel(path: Path) -> list[Check]:
    """The workbook exists, is not open in Excel or LibreOffice, and has the Queue tab and headers."""
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.backends.excel.files import open_elsewhere

    if not path.exists():
        return [
            Check(
                "workbook",
                False,
                f"{path} does not exist: run `callback-sheets init` to create it, "
                "or fix queue.workbook in the config",
            )
        ]
    checks = [Check("workbook", True, str(path))]
    who = open_elsewhere(path)
    checks.append(
        Check(
            "not open elsewhere",
            not who,
            f"open in {who}: save and close it there before a refresh" if who else "no lock file",
        )
    )
    return checks + check_header(ExcelBackend(path))


def check_google(
    google: GoogleConfig | None,
    *,
    connect: Callable[[GoogleConfig], Backend] | None = None,
    archive_key: str | None = None,
    archive_keys: Mapping[int, str] | None = None,
) -> list[Check]:
    """The key file is a service-account key; the sheet is shared with it and has the Queue tab and
    headers."""
    from callback_sheets.backends.google.backend import GoogleBackend, load_service_account
    from callback_sheets.config.fields import GSPREAD_DEFAULT_KEY

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
        backend.archive_key = archive_key  # type: ignore[attr-defined]
        backend.archive_keys = dict(archive_keys or {})  # type: ignore[attr-defined]
    header = check_header(backend, google.worksheet)
    return checks + header + (check_cells(backend) if all(c.ok for c in header) else [])


GOOGLE_CELL_LIMIT = 10_000_000
"""Google's limit on the cells of one spreadsheet (every tab's rows x columns, empty or not)."""
CELLS_WARN_AT = 0.8


def check_cells(backend: Backend) -> list[Check]:
    """How full each spreadsheet is (the queue's and every archive one), warning from 80% of Google's
    limit: the archive then needs a new spreadsheet ([archive] spreadsheets, one per year)."""
    from datetime import datetime

    counts = getattr(backend, "cell_counts", None)
    if counts is None:
        return []
    try:
        found: dict[str, int] = counts()
    except CallbackSheetsError as exc:
        return [Check("cells", True, f"not counted: {exc}", warning=True)]
    from callback_sheets.app.cell_room import projection  # the archive's room at the clinic's pace

    try:
        room = projection(backend, found, now=datetime.now())
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


def check_notify(config: Config) -> list[Check]:
    """Each alert channel: e-mail is connected to and logged in (nothing sent); a webhook is judged by its
    last sends (a check would post a message). A channel's last failure is named with its fix."""
    from callback_sheets.app.notify import channels_for
    from callback_sheets.notify.channels import ChannelError, EmailChannel
    from callback_sheets.notify.record import SentRecord, record_path

    channels = channels_for(config)
    if not channels:
        return []
    record = SentRecord.load(record_path(config))
    checks = []
    for channel in channels:
        name = f"notify {channel.name} ({channel.label})"
        state = record.channels.get(channel.name)
        last = (
            f"; last send failed {state.failures} time(s) since {state.since:%m-%d %H:%M}: {state.error}"
            if state and state.since
            else ""
        )
        if isinstance(channel, EmailChannel):
            try:
                channel.connect().quit()
            except ChannelError as exc:
                checks.append(Check(name, False, str(exc).removeprefix(f"{channel.name} {channel.label}: ")))
                continue
            except OSError as exc:
                checks.append(Check(name, False, f"{type(exc).__name__}: check notify.email"))
                continue
            checks.append(Check(name, True, "connected and logged in" + (last and " (it works now)" + last)))
            owner = config.escalation_owner
            if owner and not config.owner_email(owner):
                checks.append(
                    Check(
                        "notify escalation owner",
                        False,
                        f'{owner!r} has no e-mail: add email = "..." to their [[owners]] table, or new '
                        "escalations reach nobody by e-mail",
                    )
                )
        else:
            checks.append(Check(name, not last, last[2:] if last else "no failed send on record"))
    return checks


def run_checks(
    config_path: str | None, *, connect: Callable[[GoogleConfig], Backend] | None = None
) -> list[Check]:
    """Every check, in order; stops after the config when it cannot be read."""
    path = find_config_path(config_path)
    try:
        secret = names_a_secret(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        secret = None
    private = check_private(path, f"the config (it holds {secret})") if secret else []
    try:
        config: Config = load_config(path)
    except CallbackSheetsError as exc:
        return [Check("config", False, str(exc)), *private]
    checks = [Check("config", True, f"{path} (backend: {config.backend})"), *private]
    for name, queue in config.queues():
        found = (
            check_excel(queue.workbook)
            if queue.backend == "excel"
            else check_google(
                queue.google,
                connect=connect,
                archive_key=queue.archive_spreadsheet,
                archive_keys=dict(queue.archive_spreadsheets),
            )
        )
        prefix = f"{name}: " if len(config.queues()) > 1 else ""
        found += check_notify(queue)
        checks += [Check(prefix + c.name, c.ok, c.detail, c.warning) for c in found]
    if config.intake.watch is not None:
        checks.append(check_watch(config.intake.watch))
    return checks


def check_watch(folder: Path) -> Check:
    """The watch folder exists (or can be made) and the tool may move files out of it."""
    import os

    if not folder.exists():
        parent = next((p for p in folder.parents if p.exists()), None)
        if parent is not None and os.access(parent, os.W_OK | os.X_OK):
            return Check("watch", True, f"{folder} does not exist yet: the first look creates it")
        return Check(
            "watch", False, f"{folder} does not exist and cannot be created: create it, or fix intake.watch"
        )
    if not folder.is_dir():
        return Check("watch", False, f"{folder} is not a folder: fix intake.watch")
    if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
        return Check(
            "watch", False, f"{folder}: this account cannot move files out of it (needs write access)"
        )
    waiting = sum(1 for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return Check("watch", True, f"{folder} ({waiting} file(s) waiting to be imported)")


@click.command()
@json_option
@click.pass_context
def doctor(ctx: click.Context, as_json: bool) -> None:
    """Check the config, the credentials, access to the sheet and its headers, and say what to fix.

    Exit code 1 when anything is wrong.

    \b
    Example:
        callback-sheets --config clinic.toml doctor
    """
    state: State = ctx.obj
    checks: Sequence[Check] = run_checks(state.config_path)
    failed = [c for c in checks if not c.ok]
    if as_json:
        emit_json({"ok": not failed, "checks": [c.as_dict() for c in checks]})
        if failed:
            ctx.exit(1)
        return
    for check in checks:
        click.echo(check.line())
    if failed:
        click.echo(
            f"{len(failed)} problem(s) found: fix the FAIL lines above, "
            "then run `callback-sheets doctor` again",
            err=True,
        )
        ctx.exit(1)
    click.echo("all good", err=True)
