"""`callback-sheets notify`: send the alerts due now (new and overdue escalations, digests, summaries)."""

from __future__ import annotations

import click

from callback_sheets.cli.options import dry_run_option, json_option, now_option
from callback_sheets.cli.render import emit_json, emit_table, say
from callback_sheets.cli.state import State


@click.command("notify")
@now_option
@dry_run_option
@json_option
@click.option("--test", "test", is_flag=True, help="Send one test message on every configured channel.")
@click.pass_obj
def notify_cmd(state: State, now: str | None, dry_run: bool, as_json: bool, test: bool) -> None:
    """Send the alerts that are due: new escalations, overdue escalations, the morning digest, the
    end-of-day review and the weekly summary. Each is sent once per channel; exit 1 if a channel failed.

    \b
    Examples:
        callback-sheets notify --dry-run          # what would be sent, to whom
        callback-sheets notify --test             # one test message on every channel
    """
    from callback_sheets.app import notify as notify_mod

    config = state.config
    when = state.now(now)
    if test:
        result = notify_mod.send_test(config=config, now=when)
    else:
        result = notify_mod.notify(config=config, backend=state.backend(), now=when, dry_run=dry_run)
    rows = [
        {"kind": d.kind, "key": d.key, "channel": d.channel, "to": ", ".join(d.to), "status": d.status}
        for d in result.deliveries
    ]
    if as_json:
        emit_json(result.as_dict())
    else:
        emit_table(rows, ("kind", "key", "channel", "to", "status"), max_width=140)
    if result.note:
        say(result.note)
    for d in result.deliveries:
        if d.status == "failed":
            say(f"failed: {d.detail}")
    say(
        f"{result.count('sent')} sent, {result.count('would_send')} would be sent, "
        f"{result.count('failed')} failed, {result.count('deferred')} deferred"
    )
    if result.failed:
        raise click.exceptions.Exit(1)
