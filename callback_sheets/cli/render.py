"""Rendering: tables and JSON on stdout, chatter on stderr."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import click

from callback_sheets.cli.options import Output


def _default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def emit_json(data: object) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_default))


def emit_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    click.echo(buf.getvalue(), nl=False)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def emit_nl(records: Iterable[Mapping[str, Any]]) -> None:
    """Newline-delimited JSON: one compact object per line."""
    for record in records:
        import json

        click.echo(json.dumps(record, ensure_ascii=False, default=_default, separators=(",", ":")))


def emit_records(
    output: Output,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    document: object = None,
    records: Sequence[Mapping[str, Any]] | None = None,
    csv_rows: Sequence[Mapping[str, Any]] | None = None,
    csv_columns: Sequence[str] | None = None,
    **table: Any,
) -> None:
    """Print a listing in the chosen ``output`` (see ``options.output_option``).

    ``rows``/``columns``: the table (and, unless ``csv_rows``/``csv_columns`` say otherwise, the CSV);
    ``document``: what ``--json`` prints (default: ``records``); ``records``: the objects ``--nl`` prints,
    one per line (default: ``rows``). Extra keyword arguments go to :func:`emit_table`.
    """
    objects = list(records) if records is not None else list(rows)
    if output is Output.JSON:
        emit_json(objects if document is None else document)
    elif output is Output.NL:
        emit_nl(objects)
    elif output is Output.CSV:
        emit_csv(csv_rows if csv_rows is not None else rows, csv_columns or columns)
    else:
        emit_table(rows, columns, **table)


MIN_WRAP = 30  # the wrapped column keeps at least this many characters per line
MIN_CUT = 12  # other columns are shortened to no less than this (or their heading) on a narrow terminal


def terminal_width() -> int | None:
    """The width a table may use: the terminal's ($COLUMNS wins), or None when stdout is not a terminal
    (a pipe or a file gets whole lines, for grep)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    return None


def emit_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    max_width: int = 48,
    wrap: str | None = None,
    width: int | None = None,
    shrink: Sequence[str] = (),
) -> None:
    """A plain text table. Cells are cut at ``max_width``, except column ``wrap``, whose text is never
    cut: it wraps onto more lines to fit ``width`` (default: the terminal's; on a pipe, one long line).
    On a narrow terminal the ``shrink`` columns are shortened first (with an ellipsis), the others never."""
    if not rows:
        return
    cut = [None if c == wrap else max_width for c in columns]
    cells = [
        [_cell(r.get(c)).replace("\n", " ")[:n] for c, n in zip(columns, cut, strict=True)] for r in rows
    ]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines: list[list[list[str]]] = [[[v] for v in row] for row in cells]
    if wrap is not None and wrap in columns:
        at = list(columns).index(wrap)
        room = width if width is not None else terminal_width()
        if room is not None:
            gaps = 2 * (len(columns) - 1)
            want = min(widths[at], max(MIN_WRAP, len(wrap)))  # room the wrapped column should keep
            # a narrow terminal: shorten the widest other columns (with an ellipsis) before squeezing it
            may = [k for k, c in enumerate(columns) if c in shrink and k != at]
            while may and sum(widths) + gaps - widths[at] + want > room:
                i = max(may, key=lambda k: widths[k])
                if widths[i] <= max(MIN_CUT, len(columns[i])):
                    break
                widths[i] -= 1
            fit = max(room - (sum(widths) - widths[at]) - gaps, want)
            for row in lines:
                for i, w in enumerate(widths):
                    if i != at and len(row[i][0]) > w:
                        row[i] = [row[i][0][: w - 1] + "…"]
            if widths[at] > fit:
                widths[at] = fit
                for row in lines:
                    import textwrap

                    row[at] = textwrap.wrap(row[at][0], fit, break_on_hyphens=False) or [""]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for row in lines:
        for k in range(max(len(parts) for parts in row)):
            parts = [p[k] if k < len(p) else "" for p in row]
            click.echo("  ".join(v.ljust(w) for v, w in zip(parts, widths, strict=True)).rstrip())


def say(message: str) -> None:
    """Chatter for people: stderr, so stdout stays data."""
    click.echo(message, err=True)
