"""Figures commands: `report daily|weekly` (print, or append to the Metrics tab) and the end-of-day
`review`."""

from __future__ import annotations

from datetime import date, datetime

import click

from callback_sheets.app import reports
from callback_sheets.app.review import end_of_day_review
from callback_sheets.cli.options import Output, now_option, output_option
from callback_sheets.cli.render import emit_csv, emit_json, emit_nl, emit_records, emit_table, say
from callback_sheets.cli.state import State
from callback_sheets.core.demand import Tally, percent
from callback_sheets.core.metrics import SCOPE_DIMENSIONS
from callback_sheets.layout import METRICS_COLUMNS

SUMMARY_COLUMNS = (
    "Scope",
    "Missed calls",
    "Calls",
    "Recovered",
    "Recovery rate %",
    "First callback median",
    "First callback p90",
    "Same block %",
    "Same day %",
    "Booked",
    "Unresolved now",
    "Unresolved > 1 business day",
    "Escalations",
    "Escalation handled median",
    "No response",
)
HEADINGS = {
    "Scope": "Scope",
    "Missed calls": "Missed",
    "Recovery rate %": "Recov %",
    "First callback median": "1st cb med",
    "First callback p90": "1st cb p90",
    "Same block %": "Block %",
    "Same day %": "Day %",
    "Unresolved now": "Open",
    "Unresolved > 1 business day": "Open >1d",
    "Escalations": "Escal.",
    "Escalation handled median": "Esc. med",
    "No response": "No resp.",
}


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as YYYY-MM-DD") from None


@click.command("report")
@click.argument("period", type=click.Choice(["daily", "weekly"]))
@click.option(
    "--date",
    "on",
    metavar="YYYY-MM-DD",
    callback=_date,
    help="The day (daily) or a day of the Monday–Sunday week (weekly); default: today.",
)
@click.option("--by", type=click.Choice(SCOPE_DIMENSIONS), help="Also one set of figures per value of this.")
@output_option
@click.option("--append", is_flag=True, help="Write it to the Metrics tab (one row per period and scope).")
@now_option
@click.pass_obj
def report_cmd(
    state: State,
    period: str,
    on: date | None,
    by: str | None,
    output: Output,
    append: bool,
    now: str | None,
) -> None:
    """Print the daily or weekly figures: missed calls, recovery, callback times, escalations, demand.

    \b
    Examples:
        callback-sheets report weekly --by language
        callback-sheets report daily --date 2026-12-04 --append
    """
    config, backend, when = state.config, state.backend(), state.now(now)
    if append:
        result = reports.append_report(config=config, backend=backend, period=period, now=when, on=on, by=by)
        built = result.report
        say(f"Metrics tab: {result.added} row(s) added, {result.replaced} replaced for {built.period.label}")
    else:
        built = reports.report(config=config, backend=backend, period=period, now=when, on=on, by=by)
    if output is Output.JSON:
        emit_json(built.as_dict())
    elif output is Output.CSV:
        emit_csv(built.rows(), METRICS_COLUMNS)
    elif output is Output.NL:  # the CSV's records, one JSON object per line
        emit_nl(built.rows())
    else:
        _print(built)


def _print(built: reports.Report) -> None:
    p = built.period
    click.echo(
        f"{p.kind.capitalize()} report {p.label} ({p.start} to {p.end}), as of {built.now:%Y-%m-%d %H:%M}"
    )
    click.echo("Times are business minutes; % are shares of the items judged.")
    rows = [{HEADINGS.get(k, k): v for k, v in row.items()} for row in built.rows()]
    emit_table(rows, [HEADINGS.get(c, c) for c in SUMMARY_COLUMNS])
    d = built.demand
    for title, tallies in (
        ("Language", d.by_language),
        ("Patient type", d.by_patient_type),
        ("Reason", d.by_reason),
    ):
        if tallies:
            click.echo("")
            emit_table([_tally_row(title, t) for t in tallies], (title, "Missed", "Recovered", "Recovery %"))


def _tally_row(title: str, tally: Tally) -> dict[str, object]:
    return {
        title: tally.value,
        "Missed": tally.missed_calls,
        "Recovered": tally.recovered,
        "Recovery %": percent(tally.recovery_rate),
    }


@click.command("review")
@now_option
@output_option
@click.pass_obj
def review_cmd(state: State, now: str | None, output: Output) -> None:
    """Run the end-of-day close: list what needs a person before the day ends (exit 1 if anything does).

    \b
    Example:
        callback-sheets review --now 2026-12-04T17:15
    """
    config = state.config
    when: datetime = state.now(now)
    review = end_of_day_review(config=config, backend=state.backend(), now=when)
    if output is not Output.TABLE:  # --csv and --nl: one record per entry, its section beside it
        flat = [{"section": k, **e.as_dict()} for k, v in review.sections.items() for e in v]
        emit_records(
            output,
            flat,
            ("section", "id", "owner", "reason", "detail"),
            document={
                "now": when.isoformat(timespec="minutes"),
                "needs_attention": review.needs_attention,
                **{k: [e.as_dict() for e in v] for k, v in review.sections.items()},
            },
        )
    else:
        titles = {
            "urgent_not_escalated": "Urgent items not yet escalated",
            "due_without_attempt_today": "Due, with no attempt today",
            "without_next_step": "Without a next step (no owner, or a problem blocks the next attempt)",
            "ready_for_no_response": "Attempts used up: ready for a final No response",
        }
        for key, entries in review.sections.items():
            if entries:
                click.echo(f"{titles[key]} ({len(entries)})")
                emit_table([e.as_dict() for e in entries], ("id", "owner", "reason", "detail"), max_width=90)
                click.echo("")
        say("needs attention before the day closes" if review.needs_attention else "nothing left for today")
    if review.needs_attention:
        raise click.exceptions.Exit(1)
