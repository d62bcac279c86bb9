"""`import-calls`: missed calls from a phone system's call-log export into the queue."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from callback_sheets.app import service
from callback_sheets.cli.options import dry_run_option, json_option, now_option, quiet_option
from callback_sheets.cli.render import emit_json, say
from callback_sheets.cli.state import State
from callback_sheets.errors import UsageError

if TYPE_CHECKING:  # the intake package (every reader) is loaded when the command runs
    from callback_sheets.app.intake import ImportOutcome
    from callback_sheets.intake import CallLog


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


def _format_help() -> str:
    from callback_sheets.intake import GENERIC, preset_names

    return f"Export format: {', '.join(preset_names())} or {GENERIC.name} (default: detect)."


@click.command("import-calls")
@click.argument("file", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", metavar="NAME", help=_format_help())
@click.option(
    "--watch",
    is_flag=True,
    help="Import every new file of the [intake] watch folder (then move it to imported/YYYY-MM/).",
)
@dry_run_option
@now_option
@json_option
@quiet_option
@click.pass_obj
def import_calls_cmd(
    state: State,
    file: Path | None,
    fmt: str | None,
    watch: bool,
    dry_run: bool,
    now: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Add missed, abandoned and voicemail calls from a phone-system export to the queue.

    FILE is a CSV or .xlsx export, an Asterisk Master.csv, or a Google Voice Takeout (.zip or folder).
    Answered, outbound and internal calls are ignored; the legs of one call make one call; a repeat
    caller with an open item is merged into it; importing the same file twice adds nothing. The queue
    is refreshed afterwards.

    \b
    Formats (detected when --format is not given):
    """
    from callback_sheets.app.intake import import_calls

    if watch:
        if file is not None or fmt or dry_run:
            raise UsageError("--watch imports the [intake] watch folder: give no FILE, --format or --dry-run")
        _watch(state, now, as_json, quiet)
        return
    if file is None:
        raise UsageError("give the export FILE (or --watch for the [intake] watch folder)")
    config = state.config
    backend = state.backend()
    when = state.now(now)
    with progress_bar(not quiet and not as_json) as progress:
        outcome = import_calls(
            config=config, backend=backend, path=file, fmt=fmt, now=when, dry_run=dry_run, progress=progress
        )
    if outcome.written:
        service.refresh(config=config, backend=backend, now=when)
    if as_json:
        emit_json(_summary(outcome, dry_run))
    if not quiet:
        _say_outcome(outcome, dry_run, config.intake.ignore_shorter_than_seconds)
    if outcome.log.unknown and outcome.log.recognised == 0:
        say(f"{file.name}: no call in it was recognised (nothing was imported)")
        raise click.exceptions.Exit(1)


def _summary(outcome: ImportOutcome, dry_run: bool) -> dict[str, object]:
    """The --json summary of one import."""
    log, plan = outcome.log, outcome.plan
    return {
        "format": log.format,
        "missed_calls": len(log.calls),
        "ignored": log.ignored,
        "bad_records": len(log.bad),
        "new_rows": len(plan.new_rows),
        "merged": plan.merged,
        "already_imported": plan.skipped_duplicates,
        "dry_run": dry_run,
        "too_short": outcome.too_short,
        "ignored_why": dict(sorted(log.ignored_why.items())),
        "unknown_values": [
            {"column": column, "value": value, "rows": count, "config_key": log.unknown_keys.get(column, "")}
            for column, values in log.unknown.items()
            for value, count in sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "earlier_calls": len(plan.earlier_calls),
        "bad": [{"line": b.line, "reason": b.reason} for b in log.bad],
    }


def _say_problems(log: CallLog) -> None:
    """The bad records (the first 50) and the unknown values, with the config key that maps them."""
    for bad in log.bad[:50]:
        say(f"{log.unit} {bad.line}: {bad.reason} (skipped)")
    if len(log.bad) > 50:
        say(f"... and {len(log.bad) - 50} more bad records")
    for column, values in log.unknown.items():
        ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{v!r} ({n})" for v, n in ranked[:12])
        more = f" and {len(values) - 12} more" if len(values) > 12 else ""
        key = log.unknown_keys.get(column)
        hint = (
            f"; to import them, map them with [intake.mapping] {key} (with the generic format's "
            "column mapping)"
            if key
            else ""
        )
        say(f"unknown {column} values, not imported: {shown}{more}{hint}")


def _say_outcome(outcome: ImportOutcome, dry_run: bool, shorter_than: float) -> None:
    log, plan = outcome.log, outcome.plan
    _say_problems(log)
    verb = "would add" if dry_run else "added"
    why = ", ".join(f"{n} {w}" for w, n in sorted(log.ignored_why.items()))
    short = f", {outcome.too_short} rang under {shorter_than:g} s (not queued)" if outcome.too_short else ""
    say(
        f"{log.format}: {len(log.calls) + outcome.too_short} missed calls read{short}, "
        f"{log.ignored} ignored"
        f"{f' ({why})' if why else ''}; {verb} {len(plan.new_rows)} "
        f"new item(s), merged {plan.merged} repeat call(s), {plan.skipped_duplicates} already imported"
    )
    if plan.earlier_calls:
        say(
            f"{len(plan.earlier_calls)} item(s) typed by staff had an earlier call from the same number: "
            "see their Problems"
        )


def _watch(state: State, now: str | None, as_json: bool, quiet: bool) -> None:
    from callback_sheets.app.watch import watch_folder

    config = state.config
    if config.intake.watch is None:
        raise UsageError('no watch folder: set [intake] watch = "exports/" in the config')
    results = watch_folder(config=config, backend=state.backend, now=state.now(now))
    if as_json:
        emit_json(
            {
                "folder": str(config.intake.watch),
                "files": [
                    {
                        "name": r.name,
                        "outcome": r.outcome,
                        "why": r.why,
                        "calls": r.calls,
                        "new_rows": r.new_rows,
                        "merged": r.merged,
                        "already_imported": r.already,
                    }
                    for r in results
                ],
            }
        )
    if not quiet:
        for r in results:
            detail = (
                f"{r.calls} missed call(s), {r.new_rows} new item(s), {r.merged} merged, "
                f"{r.already} already imported"
                if r.outcome == "imported"
                else (r.why or "")
            )
            say(f"{r.name}: {r.outcome}{f' ({detail})' if detail else ''}")
        say(f"{config.intake.watch}: {len(results)} file(s) looked at" if results else "no new files")
    if any(r.outcome == "failed" for r in results):
        raise click.exceptions.Exit(1)


def _formats_epilog() -> None:
    import inspect

    from callback_sheets.intake import GENERIC, REGISTRY

    head = inspect.cleandoc(import_calls_cmd.help or "")
    lines = "".join(f"\n  {p.name}: {p.summary}" for p in (*REGISTRY, GENERIC))
    import_calls_cmd.help = (
        f"{head}{lines}\n\n"
        "\b\nExamples:\n    callback-sheets import-calls twilio-calls.csv --format twilio --dry-run\n"
        "    callback-sheets import-calls takeout-2026-12-01.zip\n    callback-sheets import-calls --watch"
    )


_formats_epilog()
