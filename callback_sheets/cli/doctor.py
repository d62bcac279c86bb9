"""`callback-sheets doctor`: checks the config, the credentials, access to the sheet and its headers.

Each check prints one line, ``ok``, ``WARN`` or ``FAIL`` with what to fix; the exit code is 1 when any
check failed (a warning alone keeps 0). The checks are plain functions returning :class:`Check` lists so
tests can run them on any backend.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from callback_sheets.backends.checks import Check, check_private
from callback_sheets.backends.registry import BACKENDS
from callback_sheets.cli.options import json_option, now_option
from callback_sheets.cli.render import emit_json
from callback_sheets.cli.state import State
from callback_sheets.config import Config, find_config_path, load_config
from callback_sheets.core.times import parse_now
from callback_sheets.errors import CallbackSheetsError

__all__ = ["Check", "check_notify", "check_watch", "names_a_secret", "run_checks"]


# Config keys whose value is a secret: a config naming one must be readable by its owner only.
SECRET_KEYS = ("password", "secret", "token", "api_key", "apikey")


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


def run_checks(config_path: str | None, now: str | None = None) -> list[Check]:
    """Every check, in order; stops after the config when it cannot be read. Each queue is checked as
    its backend's entry in the registry says, then its alert channels."""
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
    try:
        when = parse_now(now, config.tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    checks = [Check("config", True, f"{path} (backend: {config.backend})"), *private]
    queues = config.queues()
    for name, queue in queues:
        found = BACKENDS[queue.backend].doctor(queue, when) + check_notify(queue)
        prefix = f"{name}: " if len(queues) > 1 else ""
        checks += [Check(prefix + c.name, c.ok, c.detail, c.warning) for c in found]
    if config.intake.watch is not None:
        checks.append(check_watch(config.intake.watch))
    return checks


def check_watch(folder: Path) -> Check:
    """The watch folder exists (or can be made) and the tool may move files out of it."""
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
@now_option
@json_option
@click.pass_context
def doctor(ctx: click.Context, now: str | None, as_json: bool) -> None:
    """Check the config, the credentials, access to the sheet and its headers, and say what to fix.

    Exit code 1 when anything is wrong.

    \b
    Example:
        callback-sheets --config clinic.toml doctor
    """
    state: State = ctx.obj
    checks: Sequence[Check] = run_checks(state.config_path, now)
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
