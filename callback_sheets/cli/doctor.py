"""`callback-sheets doctor`: checks the config, the credentials, access to the sheet and its headers.

Each check prints one line, ``ok`` or ``FAIL`` with what to fix; the exit code is 1 when any check failed.
The checks are plain functions returning :class:`Check` lists so tests can run them on any backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.cli import State, main
from callback_sheets.config import Config, GoogleConfig, find_config_path, load_config
from callback_sheets.errors import CallbackSheetsError


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


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
    return checks


def check_excel(path: Path) -> list[Check]:
    """The workbook exists, is not open in Excel or LibreOffice, and has the Queue tab and headers."""
    from callback_sheets.backends.excel import ExcelBackend
    from callback_sheets.backends.excel_files import open_elsewhere

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
    google: GoogleConfig | None, *, connect: Callable[[GoogleConfig], Backend] | None = None
) -> list[Check]:
    """The key file is a service-account key; the sheet is shared with it and has the Queue tab and
    headers."""
    from callback_sheets.backends.google import GoogleBackend, load_service_account

    if google is None:
        return [Check("config", False, "google.spreadsheet: set it to the sheet's URL or key")]
    try:
        _, email = load_service_account(google.credentials)
    except CallbackSheetsError as exc:
        return [Check("credentials", False, str(exc))]
    checks = [Check("credentials", True, f"service account {email} ({google.credentials})")]
    try:
        backend = (connect or GoogleBackend.from_config)(google)
    except CallbackSheetsError as exc:
        return [*checks, Check("credentials", False, str(exc))]
    return checks + check_header(backend, google.worksheet)


def run_checks(
    config_path: str | None, *, connect: Callable[[GoogleConfig], Backend] | None = None
) -> list[Check]:
    """Every check, in order; stops after the config when it cannot be read."""
    path = find_config_path(config_path)
    try:
        config: Config = load_config(path)
    except CallbackSheetsError as exc:
        return [Check("config", False, str(exc))]
    checks = [Check("config", True, f"{path} (backend: {config.backend})")]
    for name, queue in config.queues():
        found = (
            check_excel(queue.workbook)
            if queue.backend == "excel"
            else check_google(queue.google, connect=connect)
        )
        prefix = f"{name}: " if len(config.queues()) > 1 else ""
        checks += [Check(prefix + c.name, c.ok, c.detail) for c in found]
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


@main.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check the config, the credentials, access to the sheet and its headers, and say what to fix.

    Exit code 1 when anything is wrong.

    \b
    Example:
        callback-sheets --config clinic.toml doctor
    """
    state: State = ctx.obj
    checks: Sequence[Check] = run_checks(state.config_path)
    for check in checks:
        click.echo(check.line())
    failed = [c for c in checks if not c.ok]
    if failed:
        click.echo(
            f"{len(failed)} problem(s) found: fix the FAIL lines above, "
            "then run `callback-sheets doctor` again",
            err=True,
        )
        ctx.exit(1)
    click.echo("all good", err=True)
