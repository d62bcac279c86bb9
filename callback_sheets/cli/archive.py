"""`callback-sheets archive`: closed items older than [archive] after_days leave the queue."""

from __future__ import annotations

import click

from callback_sheets.cli.options import dry_run_option, json_option, now_option
from callback_sheets.cli.render import emit_json, say
from callback_sheets.cli.state import State


@click.command()
@click.option(
    "--older-than",
    "older_than",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Archive items closed more than DAYS days ago (default: [archive] after_days, 30).",
)
@dry_run_option
@json_option
@now_option
@click.pass_obj
def archive(state: State, older_than: int | None, dry_run: bool, as_json: bool, now: str | None) -> None:
    """Move closed items older than [archive] after_days out of the queue, into the archive.

    Their History rows go with them. Excel: into <workbook>.archive-YYYY.xlsx beside the queue (YYYY:
    the year the call was received); Google: into tabs "Archive YYYY" of [archive] spreadsheet, or of
    the queue's spreadsheet. The archive is written and flushed before the rows leave the Queue, by ID.
    Open items, items closed more recently and items with a problem stay. Reports read the archives.

    \b
    Example:
        callback-sheets archive --dry-run
        callback-sheets archive --older-than 60
    """
    from callback_sheets.app import archive as arc

    config = state.config
    outcome = arc.archive(
        config=config,
        backend=state.backend(),
        now=state.now(now),
        older_than_days=older_than,
        dry_run=dry_run,
    )
    if as_json:
        emit_json(
            {
                "moved": len(outcome.moved),
                "ids": outcome.moved,
                "by_year": {str(y): n for y, n in outcome.by_year.items()},
                "already_archived": outcome.already,
                "history_rows": outcome.history,
                "kept_back": outcome.kept_back,
                "dry_run": dry_run,
            }
        )
    years = ", ".join(f"{n} to {y}" for y, n in sorted(outcome.by_year.items())) or "nothing to move"
    verb = "would archive" if dry_run else "archived"
    say(f"{verb} {len(outcome.moved)} closed item(s) ({years})")
    if outcome.kept_back:
        say(
            f"kept {outcome.kept_back} old closed item(s) with a problem in the queue: fix them, then archive"
        )
