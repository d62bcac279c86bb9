"""Queue commands: init, refresh, validate, queue, attempt, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from callback_sheets import model, service
from callback_sheets.cli import State, main
from callback_sheets.cli.options import csv_option, dry_run_option, json_option, now_option, quiet_option
from callback_sheets.cli.render import emit_csv, emit_json, emit_table, say
from callback_sheets.refresh import ItemView, RefreshPlan
from callback_sheets.times import short, to_cell

WORKLIST_COLUMNS = ("ID", "Due", "Owner", "Reason", "Urgency", "Attempts", "Flag", "Next step")


def _summary_line(plan: RefreshPlan, verb: str) -> str:
    s = plan.summary
    return (
        f"{verb}: {s.rows} rows, {s.open} open, {s.problems} with problems, {s.overdue} overdue, "
        f"{s.escalations} escalations, {s.new_ids} new IDs, {s.assigned} assigned, {s.changes} cell changes"
    )


def _summary_dict(plan: RefreshPlan) -> dict[str, Any]:
    s = plan.summary
    return {
        "rows": s.rows,
        "open": s.open,
        "problems": s.problems,
        "overdue": s.overdue,
        "escalations": s.escalations,
        "new_ids": s.new_ids,
        "assigned": s.assigned,
        "final_status_due": s.final_due,
        "changes": s.changes,
    }


@main.command()
@click.pass_obj
def init(state: State) -> None:
    """Create the queue workbook, or upgrade it without touching its rows.

    \b
    Example:
        callback-sheets --config clinic.toml init
    """
    for note in service.init(config=state.config, backend=state.backend()):
        say(note)


@main.command()
@now_option
@dry_run_option
@json_option
@quiet_option
@click.pass_obj
def refresh(state: State, now: str | None, dry_run: bool, as_json: bool, quiet: bool) -> None:
    """Assign IDs, validate rows, compute next attempts, flag overdue items and escalations.

    \b
    Example:
        callback-sheets refresh --now 2026-12-01T09:30 --dry-run
    """
    config = state.config
    outcome = service.refresh(config=config, backend=state.backend(), now=state.now(now), dry_run=dry_run)
    plan = outcome.plan
    if dry_run:
        changes = [
            {"row": c.position, "id": c.row_id, "column": c.column, "before": c.before, "after": c.value}
            for c in plan.changes.cells
        ]
        appends = {tab: len(rows) for tab, rows in plan.changes.tab_appends.items()}
        if as_json:
            emit_json(
                {"summary": _summary_dict(plan), "changes": changes, "appends": appends, "dry_run": True}
            )
        else:
            emit_table(changes, ("row", "id", "column", "before", "after"))
            for tab, count in appends.items():
                click.echo(f"+ {count} row(s) appended to {tab}")
    elif as_json:
        emit_json(
            {"summary": _summary_dict(plan), "written": outcome.result.written if outcome.result else 0}
        )
    if not quiet:
        say(_summary_line(plan, "dry run" if dry_run else "refreshed"))
        for why in outcome.result.skipped if outcome.result else ():
            say(f"kept a staff edit: {why}")


@main.command()
@now_option
@json_option
@click.pass_obj
def validate(state: State, now: str | None, as_json: bool) -> None:
    """Report rows with problems (writes nothing); exit code 1 if any row has one.

    \b
    Example:
        callback-sheets validate --json
    """
    plan = service.validate(config=state.config, backend=state.backend(), now=state.now(now))
    bad = sorted((v for v in plan.views if v.problems), key=lambda v: v.item.position)
    rows = [{"row": v.item.position, "id": v.id, "problems": "; ".join(v.problems)} for v in bad]
    if as_json:
        emit_json(
            {
                "rows": plan.summary.rows,
                "with_problems": len(bad),
                "problems": [{**r, "problems": list(v.problems)} for r, v in zip(rows, bad, strict=True)],
            }
        )
    else:
        emit_table(rows, ("row", "id", "problems"), max_width=140)
        say(
            f"{len(bad)} of {plan.summary.rows} rows have problems"
            if bad
            else f"all {plan.summary.rows} rows are fine"
        )
    if bad:
        raise click.exceptions.Exit(1)


def worklist_row(view: ItemView, tz: Any) -> dict[str, Any]:
    flag = "ESCALATED" if view.escalation else ("OVERDUE" if view.overdue else "")
    return {
        "ID": view.id,
        "Due": short(view.due),
        "Owner": view.owner or "",
        "Reason": view.item.reason or "",
        "Urgency": view.item.urgency or "",
        "Attempts": view.item.attempts,
        "Flag": flag,
        "Next step": view.next_step,
        "due_iso": to_cell(view.due, tz).isoformat() if view.due else None,
        "problems": list(view.problems),
    }


@main.command("queue")
@click.option("--owner", metavar="NAME", help="Only this owner's items.")
@click.option("--overdue", is_flag=True, help="Only overdue items.")
@now_option
@json_option
@csv_option
@click.pass_obj
def queue_cmd(
    state: State, owner: str | None, overdue: bool, now: str | None, as_json: bool, as_csv: bool
) -> None:
    """Show the work list, most urgent first, with what to do next (writes nothing).

    \b
    Example:
        callback-sheets queue --owner Maria --overdue
    """
    plan = service.validate(config=state.config, backend=state.backend(), now=state.now(now))
    views = service.queue_views(plan, owner=owner, overdue_only=overdue)
    rows = [worklist_row(v, state.config.tz) for v in views]
    if as_json:
        emit_json([{k.lower().replace(" ", "_"): v for k, v in r.items() if k != "Due"} for r in rows])
        return
    if as_csv:
        emit_csv([{**r, "Due": r["due_iso"]} for r in rows], WORKLIST_COLUMNS)
        return
    emit_table(rows, WORKLIST_COLUMNS)
    say(f"{len(rows)} open item(s)" + (f" for {owner}" if owner else "") + (" overdue" if overdue else ""))


@main.command()
@click.argument("item_id", metavar="ID")
@click.option(
    "--outcome", required=True, help="What happened: No answer, Voicemail left, Reached, Booked, ..."
)
@click.option("--note", metavar="TEXT", help="A note to add to the item's Notes (time-stamped).")
@click.option("--status", help="Set the status too (e.g. Resolved, No response).")
@click.option(
    "--reopen", is_flag=True, help="Record it on a closed item, setting Status back to In progress."
)
@now_option
@dry_run_option
@click.pass_obj
def attempt(
    state: State,
    item_id: str,
    outcome: str,
    note: str | None,
    status: str | None,
    reopen: bool,
    now: str | None,
    dry_run: bool,
) -> None:
    """Record a callback attempt on one item, as staff would in the sheet.

    \b
    Example:
        callback-sheets attempt CB-00042 --outcome "Voicemail left" --note "left callback number"
    """
    changes, _ = service.record_attempt(
        config=state.config,
        backend=state.backend(),
        item_id=item_id,
        outcome=outcome,
        note=note,
        now=state.now(now),
        status=status,
        dry_run=dry_run,
        reopen=reopen,
    )
    staff = {c.column: c.value for c in changes.cells if c.column in (model.ATTEMPTS, model.STATUS)}
    closed = state.config.closed_statuses
    reopened = [c for c in changes.cells if c.column == model.STATUS and c.before in closed]
    if reopened:
        verb = "would reopen" if dry_run else "reopened"
        say(f"{verb} {item_id}: Status {reopened[0].before} set back to {reopened[0].value}")
    verb = "would record" if dry_run else "recorded"
    say(
        f"{verb} attempt {staff.get(model.ATTEMPTS)} on {item_id} ({outcome})"
        + (f"; status {staff[model.STATUS]}" if model.STATUS in staff else "")
    )


@main.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@now_option
@click.option("--rows", default=200, show_default=True, help="How many missed calls to make up.")
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same demo).")
@click.option("--force", is_flag=True, help="Replace the config and workbook already in DIRECTORY.")
@click.pass_obj
def demo(state: State, directory: Path, now: str | None, rows: int, seed: int, force: bool) -> None:
    """Make a demo clinic: config + workbook with a synthetic fortnight of missed calls, refreshed.

    \b
    Example:
        callback-sheets demo demo/ --now 2026-12-04T15:00
    """
    from callback_sheets import demo as demo_mod

    config = demo_mod.write_demo(directory, now_text=now, rows=rows, seed=seed, force=force)
    state.config_path = str(config.path)
    state._config = config
    say(f"wrote {config.path} and {config.workbook}")
    outcome = service.refresh(config=config, backend=state.backend(), now=state.now(now))
    say(_summary_line(outcome.plan, "refreshed"))
    views = service.queue_views(outcome.plan)
    emit_table([worklist_row(v, config.tz) for v in views[:25]], WORKLIST_COLUMNS)
    say(f"showing the 25 most urgent of {len(views)} open items; open {config.workbook} to see them all")
