"""`import-calls`: missed calls from a phone system's call-log export into the queue."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from callback_sheets import service
from callback_sheets.cli import State, main
from callback_sheets.cli.options import dry_run_option, json_option, now_option, quiet_option
from callback_sheets.cli.render import emit_json, say


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A bar on stderr when it is a terminal and not --quiet; otherwise no progress at all."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1, label="reading", file=sys.stderr) as bar:

        def update(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        yield update


@main.command("import-calls")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", metavar="NAME", help="twilio, ringcentral or generic (default: detect).")
@dry_run_option
@now_option
@json_option
@quiet_option
@click.pass_obj
def import_calls_cmd(
    state: State, file: Path, fmt: str | None, dry_run: bool, now: str | None, as_json: bool, quiet: bool
) -> None:
    """Add missed, abandoned and voicemail calls from a phone-system export (CSV or .xlsx) to the queue.

    Answered and outbound calls are ignored; a repeat caller with an open item is merged into it;
    importing the same file twice adds nothing. The queue is refreshed afterwards.

    \b
    Example:
        callback-sheets import-calls twilio-calls.csv --format twilio --dry-run
    """
    from callback_sheets.intake_service import import_calls

    config = state.config
    backend = state.backend()
    when = state.now(now)
    with progress_bar(not quiet and not as_json) as progress:
        outcome = import_calls(
            config=config, backend=backend, path=file, fmt=fmt, now=when, dry_run=dry_run, progress=progress
        )
    log, plan = outcome.log, outcome.plan
    if outcome.written:
        service.refresh(config=config, backend=backend, now=when)
    summary = {
        "format": log.format,
        "missed_calls": len(log.calls),
        "ignored": log.ignored,
        "bad_records": len(log.bad),
        "new_rows": len(plan.new_rows),
        "merged": plan.merged,
        "already_imported": plan.skipped_duplicates,
        "dry_run": dry_run,
    }
    unknown = [
        {"column": column, "value": value, "rows": count, "config_key": log.unknown_keys.get(column, "")}
        for column, values in log.unknown.items()
        for value, count in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if as_json:
        emit_json(
            {
                **summary,
                "unknown_values": unknown,
                "bad": [{"line": b.line, "reason": b.reason} for b in log.bad],
            }
        )
    if not quiet:
        for bad in log.bad[:50]:
            say(f"line {bad.line}: {bad.reason} (skipped)")
        if len(log.bad) > 50:
            say(f"... and {len(log.bad) - 50} more bad records")
        verb = "would add" if dry_run else "added"
        say(
            f"{log.format}: {len(log.calls)} missed calls read, {log.ignored} ignored; "
            f"{verb} {len(plan.new_rows)} "
            f"new item(s), merged {plan.merged} repeat call(s), {plan.skipped_duplicates} already imported"
        )
    for column, values in log.unknown.items():
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{v!r} ({n})" for v, n in ranked[:12])
        more = f" and {len(values) - 12} more" if len(values) > 12 else ""
        key = log.unknown_keys.get(column, "missed_statuses")
        say(
            f"unknown {column} values, counted as ignored: {shown}{more}; to import them, map them with "
            f"[intake.mapping] {key} (with the generic format's column mapping)"
        )
    if log.unknown and log.recognised == 0:
        say(f"{file.name}: no call in it was recognised (nothing was imported)")
        raise click.exceptions.Exit(1)
