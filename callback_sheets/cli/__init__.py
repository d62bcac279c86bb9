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
COMMAND_MODULES = ("queue", "scripts", "intake", "report", "run", "doctor")


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


SIGPIPE_EXIT = 128 + 13  # what a shell reports for a command ended by a closed pipe (`queue | head -3`)


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (`| head`): stop writing, without a message or a traceback at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


class CallbackSheetsGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
            return result
        except BrokenPipeError:
            _quiet_broken_pipe()
            ctx.exit(SIGPIPE_EXIT)
        except CallbackSheetsError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except click.exceptions.Exit:
            with contextlib.suppress(BrokenPipeError):
                sys.stdout.flush()
                raise
            _quiet_broken_pipe()
            ctx.exit(SIGPIPE_EXIT)
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


@click.group(cls=CallbackSheetsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="callback-sheets")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="CALLBACK_SHEETS_CONFIG",
    help="Config file (default: ./callback_sheets.toml, or $CALLBACK_SHEETS_CONFIG).",
)
@click.option("--debug", is_flag=True, hidden=True)
@click.pass_context
def main(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Keep a clinic's missed-call callback queue honest in Excel or Google Sheets.

    \b
    Example:
        callback-sheets init && callback-sheets refresh && callback-sheets queue --overdue
    """
    ctx.obj = State(config_path=config_path, debug=debug)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)


def _load_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            importlib.import_module(f"callback_sheets.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"callback_sheets.cli.{name}":
                raise


_load_commands()

__all__ = ["State", "main"]
