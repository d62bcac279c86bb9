"""The `callback-sheets` command: parses, calls the library, renders. The only place that turns the
library's exceptions into one-line messages and exit codes (1: refused, 2: bad usage or config).

Commands are loaded lazily: a command's module (and the library it needs) is imported only when that
command runs, and `--help` lists them from :data:`COMMANDS` without importing any (a test keeps that
table equal to the commands' own help)."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import Any

import click

from callback_sheets import __version__
from callback_sheets.cli.state import State, skip_last_collections, startup
from callback_sheets.errors import CallbackSheetsError

# Every command, listed once: name -> (its module in this package, the command object's name there, the
# first sentence of its help), so neither `--help` nor a command imports the others' modules. A new
# command: a function decorated with @click.command in a module of cli/, and a line here.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "archive": (
        "archive",
        "archive",
        "Move closed items older than [archive] after_days out of the queue, into the archive.",
    ),
    "attempt": (
        "queue",
        "attempt",
        "Record a callback attempt on one item, as staff would in the sheet.",
    ),
    "demo": (
        "queue",
        "demo",
        "Make a demo clinic: config + workbook with a synthetic fortnight of missed calls, refreshed.",
    ),
    "example-config": (
        "install",
        "example_config_cmd",
        "Print the example config: every key, documented, with its default.",
    ),
    "notify": (
        "notify",
        "notify_cmd",
        "Send the alerts that are due: new escalations, overdue escalations, the morning digest, the "
        "end-of-day review and the weekly summary. Each is sent once per channel; exit 1 if a channel "
        "failed.",
    ),
    "schedule-template": (
        "install",
        "schedule_template_cmd",
        "Print a ready cron, systemd or Windows Task Scheduler file that runs `run --once` every 5 "
        "minutes, with this installation's program and config paths filled in.",
    ),
    "doctor": (
        "doctor",
        "doctor",
        "Check the config, the credentials, access to the sheet and its headers, and say what to fix.",
    ),
    "import-calls": (
        "intake",
        "import_calls_cmd",
        "Add missed, abandoned and voicemail calls from a phone-system export to the queue.",
    ),
    "init": (
        "queue",
        "init",
        "Create the queue workbook, or upgrade it without touching its rows.",
    ),
    "lint-templates": (
        "scripts",
        "lint_templates_cmd",
        "Check script templates for privacy and syntax; exit code 1 with the offending lines.",
    ),
    "queue": (
        "queue",
        "queue_cmd",
        "Show the work list, most urgent first: who to call, the number, what to do next (writes nothing).",
    ),
    "refresh": (
        "queue",
        "refresh",
        "Assign IDs, validate rows, compute next attempts, flag overdue items and escalations.",
    ),
    "report": (
        "report",
        "report_cmd",
        "Print the daily or weekly figures: missed calls, recovery, callback times, escalations, demand.",
    ),
    "review": (
        "report",
        "review_cmd",
        "Run the end-of-day close: list what needs a person before the day ends (exit 1 if anything does).",
    ),
    "run": (
        "run",
        "run",
        "Keep every queue fresh on the clinic's clock: a refresh at opening and every N minutes of "
        "business hours, the end-of-day review and daily report at close, the weekly report on its "
        "day.",
    ),
    "script": (
        "scripts",
        "script",
        "Print the call, voicemail or secure-message script for one queue item.",
    ),
    "validate": (
        "queue",
        "validate",
        "Report rows with problems (writes nothing); exit code 1 if any row has one.",
    ),
}


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    """``--config`` given after the subcommand: it wins over one given before (or the environment)."""
    if value is not None:
        state = ctx.find_object(State)
        if state is not None:
            state.config_path = value
            state._config = None


def config_after_option() -> click.Option:
    return click.Option(
        ["--config"],
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_set_config,
        help="Config file (also accepted before the command).",
    )


def _quiet_broken_pipe() -> None:
    """stdout's reader went away (``| head``): stop quietly, as Unix tools do."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class CallbackSheetsGroup(click.Group):
    """Global options are accepted before or after the subcommand: every command added gets its own
    ``--config`` (see :func:`config_after_option`); ``--now`` given before the command becomes the
    default of the command's own ``--now``."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any("--config" in p.opts for p in cmd.params if isinstance(p, click.Option)):
            cmd.params.append(config_after_option())
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(_load(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from :data:`COMMANDS`, without importing the commands' modules."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            cmd = self.commands.get(name)
            if cmd is not None and cmd.hidden:
                continue
            first = COMMANDS[name][2] if name in COMMANDS else (cmd.get_short_help_str(limit) if cmd else "")
            rows.append((name, _shorten(first, limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()  # a closed pipe shows here, not as a warning at exit
        except BrokenPipeError:
            _quiet_broken_pipe()
            ctx.exit(0)
        except CallbackSheetsError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except click.exceptions.Exit as done:
            try:
                sys.stdout.flush()  # an exit code given with data still buffered (`review | head`)
            except BrokenPipeError:
                _quiet_broken_pipe()
            raise done from None
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if os.environ.get("CALLBACK_SHEETS_DEBUG") or (ctx.obj and ctx.obj.debug):
                raise
            click.echo(
                f"error: unexpected {type(exc).__name__}: {exc} "
                "(set CALLBACK_SHEETS_DEBUG=1 for the details)",
                err=True,
            )
            ctx.exit(1)


@click.group(
    cls=CallbackSheetsGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="callback-sheets")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="CALLBACK_SHEETS_CONFIG",
    help="Config file (default: ./callback_sheets.toml, or $CALLBACK_SHEETS_CONFIG).",
)
@click.option(
    "--now",
    metavar="ISO",
    help="Pretend it is this time, for every command that takes --now (also accepted after the command).",
)
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, now: str | None, debug: bool) -> None:
    """Keep a clinic's missed-call callback queue honest in Excel or Google Sheets.

    Options before the command (--config, --now) may also be given after it.

    \b
    Example:
        callback-sheets example-config > callback_sheets.toml
        callback-sheets init && callback-sheets refresh && callback-sheets queue --overdue
    """
    ctx.obj = State(config_path=config_path, debug=debug)
    # No logging.basicConfig (importing logging is 5 ms of every command): a warning a module logs goes
    # to stderr as its bare message through logging's last-resort handler, as basicConfig had it.
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
    if now is not None:
        command = main.get_command(ctx, ctx.invoked_subcommand)
        if command is None or not any(p.name == "now" for p in command.params):
            raise click.UsageError(f"--now does not apply to `{ctx.invoked_subcommand}`")
        ctx.default_map = {**(ctx.default_map or {}), ctx.invoked_subcommand: {"now": now}}


def _load(name: str) -> click.Command:
    """The command ``name`` from its module (an import error is an error: nothing is skipped)."""
    module, attribute, _ = COMMANDS[name]
    skip_last_collections()
    with startup():
        command = getattr(importlib.import_module(f"callback_sheets.cli.{module}"), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"callback_sheets.cli.{module}.{attribute} is not a click command")
    return command


def load_all_commands() -> dict[str, click.Command]:
    """Imports every command module (tests, docs): ``main.commands`` then holds every command."""
    for name in COMMANDS:
        main.get_command(click.Context(main), name)
    return dict(main.commands)


__all__ = ["COMMANDS", "State", "load_all_commands", "main"]


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at a word to fit ``limit`` characters, with "..." when cut (as click's own short help
    does; its helper for it is deprecated in click 8.2)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 3, 1)].rsplit(" ", 1)[0].rstrip(" .,;:")
    return cut + "..."
