"""Options shared by several commands, declared once (as pip-tools and sqlite-utils do)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def now_option(f: F) -> F:
    return click.option(
        "--now",
        metavar="ISO",
        help="Pretend it is this time (ISO 8601; clinic time without an offset), for reproducible runs.",
    )(f)


def json_option(f: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout instead of a table.")(f)


def csv_option(f: F) -> F:
    return click.option("--csv", "as_csv", is_flag=True, help="Print CSV on stdout instead of a table.")(f)


def dry_run_option(f: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")(f)


def quiet_option(f: F) -> F:
    return click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")(f)


class Output(StrEnum):
    """How a listing command prints its records: a table for people, or data for programs."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    NL = "nl"


_OUTPUT_FLAGS = (
    ("json", "Print JSON on stdout instead of a table."),
    ("csv", "Print CSV on stdout instead of a table (one row per record, with a header)."),
    ("nl", "Print newline-delimited JSON on stdout: one object per record, one per line."),
)


def output_option(f: F) -> F:
    """``--json`` / ``--csv`` / ``--nl``, mutually exclusive, for every command that lists records.

    The command gets one ``output: Output`` argument (``Output.TABLE`` when none is given); two of the
    flags together are a usage error (exit 2). Render with ``render.emit_records``. Example::

        @click.command()
        @output_option
        @click.pass_obj
        def things(state: State, output: Output) -> None:
            emit_records(output, rows, COLUMNS, document={"things": rows})
    """

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        chosen = [name for name, _ in _OUTPUT_FLAGS if kwargs.pop(f"output_{name}", False)]
        if len(chosen) > 1:
            given = ", ".join("--" + c for c in chosen)
            raise click.UsageError(f"choose one of --json, --csv and --nl (got {given})")
        return f(*args, output=Output(chosen[0]) if chosen else Output.TABLE, **kwargs)

    decorated: Any = wrapper
    for name, text in reversed(_OUTPUT_FLAGS):
        decorated = click.option(f"--{name}", f"output_{name}", is_flag=True, help=text)(decorated)
    return decorated  # type: ignore[no-any-return]
