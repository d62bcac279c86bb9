"""Fast reading of an .xlsx sheet for a refresh, through python-calamine.

Measured on a 100,000-row × 23-column queue (see ``bench/xlsx_floor.py``): python-calamine reads the
sheet in about a second, a regex/streaming parse of the sheet XML in pure Python takes several times
longer, and openpyxl's read-only mode longer still, so calamine it is. This module only normalises what
calamine returns into the types the rest of the tool expects:

* empty cells (calamine's ``""``) are ``None``; strings are returned as stored;
* numbers with no fractional part are ``int``, other numbers ``float``; booleans are ``bool``;
* every cell with a date, time or duration number format is a naive ``datetime.datetime`` (wall-clock
  value; a date-only value is midnight; a time-only value or a duration is counted from Excel's day
  zero, 1899-12-30), so a datetime written by :func:`patch_workbook` reads back equal to itself;
* error cells (``#N/A``, ``#DIV/0!``...) come back as their text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from pathlib import Path

import python_calamine

TYPE_CHECKING = False  # a read alone does not import typing (see the floor of bench/excel_refresh.py)
if TYPE_CHECKING:
    from typing import Any
    from zipfile import ZipInfo

CellValue = str | int | float | bool | dt.datetime | dt.date | None
"""A cell's value. Naive datetimes are wall-clock values; the reader never returns a bare ``date``."""

EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)

# Limits on any zip package read (.xlsx, .xlsm, .ods...): a "zip bomb" of a megabyte can inflate to
# gigabytes. A 100,000-row queue has a sheet of about 120 MB, compressed about 10:1; the deflate format
# cannot exceed about 1032:1. The zip readers used (Python's zipfile, calamine's zip crate) stop at a
# member's declared size, so checking the declared sizes in the central directory bounds what is inflated.
MAX_TOTAL_BYTES = 1 << 30
"""Uncompressed size of all members together."""
MAX_MEMBER_BYTES = 512 << 20
"""Uncompressed size of any one member."""
MAX_RATIO = 100
"""Uncompressed ÷ compressed size of a member larger than :data:`RATIO_FROM_BYTES`."""
RATIO_FROM_BYTES = 4 << 20
"""Small members may compress better than :data:`MAX_RATIO` (an empty sheet's XML, a styles part)."""
MAX_MEMBERS = 10_000


class PackageRefused(ValueError):
    """A zip package over the limits: the message says which and by how much, in one line."""


def check_package(
    path: Path,
    *,
    max_total: int | None = None,
    max_member: int | None = None,
    max_ratio: float | None = None,
) -> None:
    """Refuses (PackageRefused) a zip package whose members would inflate beyond the limits. Call it
    before reading any package with calamine, openpyxl or zipfile. A file that is not a zip is left to
    the reader's own message. Only the central directory is read: cheap whatever the size."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    check_members(infos, Path(path).name, max_total=max_total, max_member=max_member, max_ratio=max_ratio)


def check_members(
    infos: Sequence[ZipInfo],
    name: str,
    *,
    max_total: int | None = None,
    max_member: int | None = None,
    max_ratio: float | None = None,
) -> None:
    """:func:`check_package` on the members of a zip already open (``name``: the file's, for messages)."""
    max_total = MAX_TOTAL_BYTES if max_total is None else max_total
    max_member = MAX_MEMBER_BYTES if max_member is None else max_member
    max_ratio = MAX_RATIO if max_ratio is None else max_ratio
    if len(infos) > MAX_MEMBERS:
        raise PackageRefused(
            f"{name} has {len(infos):,} parts (limit {MAX_MEMBERS:,}); refused as a zip bomb"
        )
    total = 0
    for info in infos:
        size = info.file_size
        total += size
        if size > max_member:
            raise PackageRefused(
                f"{name}: part {info.filename[-60:]} would inflate to {size / 2**20:,.0f} MB "
                f"(limit {max_member / 2**20:,.0f} MB); refused as a zip bomb (nothing was read)"
            )
        if size > RATIO_FROM_BYTES and size > max_ratio * max(info.compress_size, 1):
            ratio = size / max(info.compress_size, 1)
            raise PackageRefused(
                f"{name}: part {info.filename[-60:]} is compressed {ratio:,.0f}:1 "
                f"(limit {max_ratio:,.0f}:1); refused as a zip bomb (nothing was read)"
            )
    if total > max_total:
        raise PackageRefused(
            f"{name} would inflate to {total / 2**20:,.0f} MB (limit {max_total / 2**20:,.0f} MB); "
            "refused as a zip bomb (nothing was read)"
        )


def sheet_names(path: Path) -> list[str]:
    """The names of the workbook's sheets, in workbook order."""
    check_package(path)
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def read_sheet(path: Path, sheet: str) -> list[list[CellValue]]:
    """The sheet's used range as rows, anchored at A1.

    ``rows[r - 1][c - 1]`` is the cell at row ``r``, column ``c`` (1-based, as :func:`patch_workbook`
    counts), so the caller can address the cells it wants to change. Rows all have the same length;
    trailing rows and columns without any value are dropped. Raises ``KeyError`` for an unknown sheet.
    """
    found = read_sheets(path, [sheet])
    if sheet not in found:
        raise KeyError(f"no sheet named {sheet!r}")
    return found[sheet]


def read_sheets(path: Path, sheets: Sequence[str]) -> dict[str, list[list[CellValue]]]:
    """Several sheets at once, as :func:`read_sheet` reads each; sheets the workbook lacks are left out."""
    return read_workbook(path, sheets)[1]


def read_workbook(
    path: Path, sheets: Sequence[str], *, threaded: bool = True, checked: bool = False
) -> tuple[tuple[str, ...], dict[str, list[list[CellValue]]]]:
    """The names of all the workbook's sheets, and the named ones read (keyed as asked; a name matches
    a sheet whose name differs only in case, as in Excel).

    calamine parses a sheet without holding the GIL, so the first sheet named (the queue, the big one)
    is read here while the others are read on a second thread, each through its own handle on the file;
    without ``threaded`` (the others are small tabs: a thread and a second handle would cost more CPU
    than they save time) they are read after it, through the same handle. Raises PackageRefused for a
    package over the limits (see :func:`check_package`), unless the caller has ``checked`` it.
    """
    if not checked:
        check_package(path)
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        names = tuple(workbook.sheet_names)
        folded = {name.casefold(): name for name in reversed(names)}  # Excel's names ignore case
        actual: dict[str, str] = {}
        for name in dict.fromkeys(sheets):
            found = name if name in names else folded.get(name.casefold())
            if found is not None:
                actual[name] = found
        wanted = list(actual)
        if len(wanted) < 2 or not threaded:
            raw = _unmerged(path, [actual[n] for n in wanted]) or _read_raw(
                workbook, [actual[n] for n in wanted]
            )
        else:
            from concurrent.futures import ThreadPoolExecutor  # two tabs or more: not for `queue`

            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-read") as pool:
                rest = pool.submit(_read_path, path, [actual[n] for n in wanted[1:]])
                first = [actual[wanted[0]]]
                raw = _unmerged(path, first) or _read_raw(workbook, first)
                raw.update(rest.result())
    finally:
        workbook.close()
    return names, {name: _trimmed(_normalised(raw[actual[name]])) for name in wanted}


def _read_path(path: Path, sheets: Sequence[str]) -> dict[str, Sequence[Sequence[object]]]:
    found = _unmerged(path, sheets)
    if found is not None:
        return found
    workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        return _read_raw(workbook, sheets)
    finally:
        workbook.close()


def _unmerged(path: Path, sheets: Sequence[str]) -> dict[str, Sequence[Sequence[object]]] | None:
    """The sheets through :func:`.unmerged.read_raw` (big sheets, cheaper), or None to read the file."""
    if not sheets:
        return None
    from callback_sheets.backends.excel.xlsx import unmerged

    try:
        return dict(unmerged.read_raw(path, sheets) or {}) or None
    except Exception:  # anything it did not expect: the file is read as it is, with calamine's errors
        return None


def _read_raw(
    workbook: python_calamine.CalamineWorkbook, sheets: Sequence[str]
) -> dict[str, Sequence[Sequence[object]]]:
    return {name: workbook.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in sheets}


def _normalised(raw: Sequence[Sequence[Any]]) -> list[list[CellValue]]:
    """Every value of every row through :func:`_normalise`, with the common cases inline: this loop is
    most of the read time in Python (text, empty cells, whole numbers and plain date-times). The values
    are calamine's, typed ``Any``: the inline ``type(v) is`` tests are what narrows them."""
    datetime, normalise = dt.datetime, _normalise
    return [
        [
            v
            if (kind := type(v)) is str and v
            else None
            if kind is str
            else (int(v) if v.is_integer() else v)
            if kind is float
            else v
            if kind is datetime and v.tzinfo is None
            else normalise(v)
            for v in row
        ]
        for row in raw
    ]


def _normalise(value: object) -> CellValue:
    """Turns one calamine value into a :data:`CellValue`."""
    if isinstance(value, str):
        return value if value else None
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return int(value)
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.datetime.combine(EXCEL_DAY_ZERO.date(), value.replace(tzinfo=None))
    if isinstance(value, dt.timedelta):
        return EXCEL_DAY_ZERO + value
    if value is None:
        return None
    return str(value)


def _trimmed(rows: list[list[CellValue]]) -> list[list[CellValue]]:
    """Drops trailing empty rows and columns, and pads rows to one width."""
    while rows and all(value is None for value in rows[-1]):
        rows.pop()
    width = 0
    for row in rows:
        for index in range(len(row) - 1, width - 1, -1):
            if row[index] is not None:
                width = index + 1
                break
    return [row if len(row) == width else row[:width] + [None] * (width - len(row)) for row in rows]
