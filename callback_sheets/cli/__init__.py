"""The `callback-sheets` command: parses, calls the library, renders. The only place that turns the
library's exceptions into one-line messages and exit codes (1: refused, 2: bad usage or config)."""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import click

from callback_sheets import __version__
from callback_sheets.errors import CallbackSheetsError

# Command modules, each adding its commands to `main` (one idea per module).
COMMAND_MODULES = ("queue", "scripts", "intake", "report", "run", "doctor", "install", "notify")


@dataclass
class State:
    config_path: str | None
    debug: bool = False
    _config: Any = field(default=None, repr=False)

    @property
    def config(self):  # type: ignore[no-untyped-def]
        if self._config is None:
            from callback_sheets.config import find_config_path, load_config

            self._config = load_config(find_config_path(self.config_path))
        return self._config

    def backend(self):  # type: ignore[no-untyped-def]
        from callback_sheets.backends.registry import open_backend

        return open_backend(self.config)

    def now(self, text: str | None) -> datetime:
        from callback_sheets.times import parse_now

        try:
            return parse_now(text, self.config.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None


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
        except (click.exceptions.Exit, click.ClickException, click.Abort):
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
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
    if now is not None:
        command = main.get_command(ctx, ctx.invoked_subcommand)
        if command is None or not any(p.name == "now" for p in command.params):
            raise click.UsageError(f"--now does not apply to `{ctx.invoked_subcommand}`")
        ctx.default_map = {**(ctx.default_map or {}), ctx.invoked_subcommand: {"now": now}}


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(f"callback_sheets.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"callback_sheets.cli.{name}":
                raise


_load_commands()

__all__ = ["State", "main"]
