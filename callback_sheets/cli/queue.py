"""Queue commands: init, refresh, validate, queue, attempt, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.cli.options import (
    Output,
    dry_run_option,
    json_option,
    now_option,
    output_option,
    quiet_option,
)
from callback_sheets.cli.render import emit_json, emit_records, emit_table, say
from callback_sheets.cli.state import State
from callback_sheets.core.refresh_plan import ItemView, RefreshPlan
from callback_sheets.core.times import short, to_cell

WORKLIST_COLUMNS = ("ID", "Due", "Owner", "Reason", "Urgency", "Attempts", "Flag", "Next step")
# The work list people dial from: who to ask for and the number as staff typed it (on their own
# terminal and files; logs never carry them).
DIAL_COLUMNS = ("First name", "Phone")
TABLE_COLUMNS = ("ID", "Due", *DIAL_COLUMNS, "Owner", "Reason", "Urgency", "Attempts", "Flag", "Next step")
CSV_COLUMNS = (*WORKLIST_COLUMNS, *DIAL_COLUMNS)  # new columns go last: CSV readers keep their places


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
        "after_hours": s.after_hours,
        "after_hours_escalations": s.after_hours_escalations,
        "escalation_alerts": [
            {"id": a.id, "to": list(a.to), "after_hours": a.after_hours} for a in plan.alerts
        ],
    }


@click.command()
@click.pass_obj
def init(state: State) -> None:
    """Create the queue workbook, or upgrade it without touching its rows.

    \b
    Example:
        callback-sheets --config clinic.toml init
    """
    for note in service.init(config=state.config, backend=state.backend()):
        say(note)


@click.command()
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
                {
                    "summary": _summary_dict(plan),
                    "changes": changes,
                    "appends": appends,
                    "dry_run": True,
                    "sheet_problems": list(plan.sheet_problems),
                }
            )
        else:
            emit_table(changes, ("row", "id", "column", "before", "after"))
            for tab, count in appends.items():
                click.echo(f"+ {count} row(s) appended to {tab}")
    elif as_json:
        emit_json(
            {
                "summary": _summary_dict(plan),
                "written": outcome.result.written if outcome.result else 0,
                "sheet_problems": list(plan.sheet_problems),
            }
        )
    for problem in plan.sheet_problems:  # a problem of the sheet itself: said even with --quiet
        say(f"problem: {problem}")
    if not quiet:
        say(_summary_line(plan, "dry run" if dry_run else "refreshed"))
        for why in outcome.result.skipped if outcome.result else ():
            say(f"kept a staff edit: {why}")


@click.command()
@now_option
@output_option
@click.pass_obj
def validate(state: State, now: str | None, output: Output) -> None:
    """Report rows with problems (writes nothing); exit code 1 if any row has one.

    \b
    Example:
        callback-sheets validate --json
    """
    plan = service.validate(config=state.config, backend=state.backend(), now=state.now(now))
    bad = sorted((v for v in plan.views if v.problems), key=lambda v: v.item.position)
    rows = [{"row": v.item.position, "id": v.id, "problems": "; ".join(v.problems)} for v in bad]
    records = [{**r, "problems": list(v.problems)} for r, v in zip(rows, bad, strict=True)]
    emit_records(
        output,
        rows,
        ("row", "id", "problems"),
        document={"rows": plan.summary.rows, "with_problems": len(bad), "problems": records},
        records=records,
        max_width=140,
    )
    if output is Output.TABLE:
        say(
            f"{len(bad)} of {plan.summary.rows} rows have problems"
            if bad
            else f"all {plan.summary.rows} rows are fine"
        )
    if bad:
        raise click.exceptions.Exit(1)


def typed_text(value: object) -> str:
    """A cell as staff typed it, on one line: a number Excel stored as a number shows without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def worklist_row(view: ItemView, tz: Any, phone: object = None) -> dict[str, Any]:
    from callback_sheets.core.names import first_name

    flag = "ESCALATED" if view.escalation else ("OVERDUE" if view.overdue else "")
    due = to_cell(view.due, tz) if view.due else None
    return {
        "ID": view.id,
        "First name": first_name(view.item.caller),
        "Phone": typed_text(phone),
        "Due": short(view.due),
        "Owner": view.owner or "",
        "Reason": view.item.reason or "",
        "Urgency": view.item.urgency or "",
        "Attempts": view.item.attempts,
        "Flag": flag,
        "Next step": view.next_step,
        "due_iso": due.isoformat() if due else None,
        "problems": list(view.problems),
    }


@click.command("queue")
@click.option("--owner", metavar="NAME", help="Only this owner's items.")
@click.option("--overdue", is_flag=True, help="Only overdue items.")
@now_option
@output_option
@click.pass_obj
def queue_cmd(state: State, owner: str | None, overdue: bool, now: str | None, output: Output) -> None:
    """Show the work list, most urgent first: who to call, the number, what to do next (writes nothing).

    Next step wraps to the terminal's width; --json, --csv and --nl carry the same records.

    \b
    Example:
        callback-sheets queue --owner Maria --overdue
    """
    snapshot, plan = service.work_list(config=state.config, backend=state.backend(), now=state.now(now))
    views = service.queue_views(plan, owner=owner, overdue_only=overdue)
    typed = {r.position: r.get(model.PHONE) for r in snapshot.rows}
    rows = [worklist_row(v, state.config.tz, typed.get(v.item.position)) for v in views]
    records = [{k.lower().replace(" ", "_"): v for k, v in r.items() if k != "Due"} for r in rows]
    emit_records(
        output,
        rows,
        TABLE_COLUMNS,
        records=records,
        csv_rows=[{**r, "Due": r["due_iso"]} for r in rows],
        csv_columns=CSV_COLUMNS,
        wrap="Next step",
        shrink=("Reason", "Owner", "First name"),  # never the ID, the time or the number to dial
    )
    if output is not Output.TABLE:
        return
    say(f"{len(rows)} open item(s)" + (f" for {owner}" if owner else "") + (" overdue" if overdue else ""))


@click.command()
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
@json_option
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
    as_json: bool,
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
    if as_json:
        emit_json(
            {
                "id": item_id,
                "attempt": staff.get(model.ATTEMPTS),
                "outcome": outcome,
                "status": staff.get(model.STATUS),
                "dry_run": dry_run,
                "changes": [
                    {"column": c.column, "before": c.before, "after": c.value} for c in changes.cells
                ],
            }
        )
    say(
        f"{verb} attempt {staff.get(model.ATTEMPTS)} on {item_id} ({outcome})"
        + (f"; status {staff[model.STATUS]}" if model.STATUS in staff else "")
    )


@click.command()
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
    from callback_sheets.app import demo as demo_mod

    config = demo_mod.write_demo(directory, now_text=now, rows=rows, seed=seed, force=force)
    state.config_path = str(config.path)
    state._config = config
    say(f"wrote {config.path} and {config.workbook}")
    outcome = service.refresh(config=config, backend=state.backend(), now=state.now(now))
    say(_summary_line(outcome.plan, "refreshed"))
    views = service.queue_views(outcome.plan)
    emit_table([worklist_row(v, config.tz) for v in views[:25]], WORKLIST_COLUMNS, wrap="Next step")
    shown = f"the 25 most urgent of {len(views)}" if len(views) > 25 else f"all {len(views)}"
    say(f"showing {shown} open items; open {config.workbook} to see every row")
