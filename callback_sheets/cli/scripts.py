"""Script commands: `script ID` prints what to say for one item; `lint-templates` checks privacy rules."""

from __future__ import annotations

from pathlib import Path

import click

from callback_sheets.app import service
from callback_sheets.cli.options import json_option
from callback_sheets.cli.render import emit_json, say
from callback_sheets.cli.state import State
from callback_sheets.errors import RefusedError


@click.command()
@click.argument("item_id", metavar="ID")
@click.option(
    "--voicemail", is_flag=True, help="The voicemail to leave (minimum necessary: no reason, no details)."
)
@click.option(
    "--secure-message", is_flag=True, help="The secure-message text (same privacy rules as voicemail)."
)
@click.option("--language", type=click.Choice(["en", "es"]), help="Override the caller's language.")
@click.option("--staff-name", metavar="NAME", help="Your name, as said on the call.")
@json_option
@click.pass_obj
def script(
    state: State,
    item_id: str,
    voicemail: bool,
    secure_message: bool,
    language: str | None,
    staff_name: str | None,
    as_json: bool,
) -> None:
    """Print the call, voicemail or secure-message script for one queue item.

    \b
    Example:
        callback-sheets script CB-00042 --voicemail --language es
    """
    from callback_sheets.core.scripts import render_script
    from callback_sheets.core.template_lint import default_templates_dir

    config = state.config
    snapshot = state.backend().read(rows_of=item_id)  # reading only: no lock needed
    row = service.find_row(snapshot, item_id)
    closed = service.closed_status(row, config)
    if closed is not None:
        raise RefusedError(
            f"{item_id} is closed (Status {closed}): no callback is due, so there is no script; "
            f"to call again, `callback-sheets attempt {item_id} --outcome ... --reopen` first"
        )
    rendered = render_script(
        templates_dir=default_templates_dir(),
        override_dir=config.templates,
        row=row.values,
        voicemail=voicemail,
        secure_message=secure_message,
        language=language,
        clinic_name=config.clinic_name,
        callback_number=config.callback_number,
        first_name_in_voicemail=config.first_name_in_voicemail,
        staff_name=staff_name,
    )
    if as_json:
        emit_json(
            {
                "id": item_id,
                "mode": rendered.mode,
                "script": rendered.script,
                "attempt": rendered.attempt,
                "language": rendered.language,
                "fell_back_to_english": rendered.fell_back_to_english,
                "text": rendered.text,
                "do_not_say": rendered.guardrails,
                "notes": list(rendered.notes),
            }
        )
        return
    click.echo(rendered.text.rstrip())
    click.echo()
    click.echo(rendered.guardrails.rstrip())
    for note in rendered.notes:
        say(f"note: {note}")


@click.command("lint-templates")
@click.argument("directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
def lint_templates_cmd(directory: Path | None) -> None:
    """Check script templates for privacy and syntax; exit code 1 with the offending lines.

    Voicemail and secure-message templates may use only {clinic_name}, {callback_number} and
    {first_name}, and no clinical words. DIRECTORY defaults to the shipped templates/.

    \b
    Example:
        callback-sheets lint-templates my_templates/
    """
    from callback_sheets.core.template_lint import default_templates_dir, lint_templates

    target = directory or default_templates_dir()
    problems = lint_templates(target)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        say(f"{len(problems)} problem(s) in {target}")
        raise click.exceptions.Exit(1)
    say(f"templates OK: {target}")
