"""Options shared by several commands, declared once (as pip-tools and sqlite-utils do)."""

from __future__ import annotations

from collections.abc import Callable
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
