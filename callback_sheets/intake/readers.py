"""Read a phone system's call-log export (CSV or a spreadsheet) into call records.

CSV: UTF-8 with or without a byte-order mark, UTF-16 (Excel's "Unicode Text") or UTF-32 with one (or
UTF-16 without; Windows-1252 as a fallback), `,`, `;` or tab separated
(sniffed from the header line), quoted fields, blank lines skipped. Spreadsheets (.xlsx, .xlsm, .xls,
.ods): the first sheet, read with python-calamine. Every text is kept literally; nothing is evaluated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import tzinfo
from pathlib import Path
from typing import Literal

from callback_sheets.cells import text as _text
from callback_sheets.core.phones import PhoneError, parse_phone
from callback_sheets.errors import BackendError
from callback_sheets.intake.presets import Layout, LayoutFor
from callback_sheets.intake.records import BadRecord, CallKind, CallLog, CallRecord, call_key
from callback_sheets.intake.times import is_blank, parse_when

SPREADSHEET_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"})
PROGRESS_EVERY = 2000
# Caller ID withheld (Twilio reports anonymous callers as +266696687).
_WITHHELD = frozenset(
    {"anonymous", "unknown", "restricted", "private", "blocked", "unavailable", "+266696687"}
)

Row = tuple[int, list[object]]  # (physical line of the row's first line, cells)


# Direction and status values known to mean "not a missed inbound call" in the supported systems'
# exports (answered, outbound, internal): rows with other values are listed as unknown, with their counts.
KNOWN_OTHER_DIRECTIONS = frozenset(
    {"outbound", "outgoing", "out", "outbound-api", "outbound-dial", "internal", "intercom",
     "trunking-originating", "trunking-terminating", "extension", "local"}
)  # fmt: skip
KNOWN_OTHER_STATUSES = frozenset(
    {"completed", "in-progress", "ringing", "queued", "answered", "accepted", "call connected",
     "connected", "received", "sent", "ok", "success", "answered elsewhere", "forwarded", "transferred",
     "call forwarded", "call transferred", "blocked", "rejected", "declined", "stopped", "unknown"}
)  # fmt: skip
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _decode(data: bytes) -> str:
    """The export's text: a byte-order mark decides (UTF-8, UTF-16 as Excel's "Unicode Text" writes, or
    UTF-32); UTF-16 without one is recognised by its zero bytes; otherwise UTF-8, else Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    head = data[:400]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        encoding = "utf-16-le" if odd_zeros > even_zeros else "utf-16-be"
        return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _sniff_delimiter(text: str) -> str:
    """The separator of the first non-blank line: the most frequent of `,`, `;` and tab outside quotes."""
    for line in text.splitlines():
        if line.strip():
            outside = "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)
            counts = {d: outside.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _csv_rows(path: Path) -> list[Row]:
    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    rows: list[Row] = []
    previous_end = 0
    try:
        for cells in reader:
            start = previous_end + 1
            previous_end = reader.line_num
            if cells and "".join(cells).strip():
                rows.append((start, list(cells)))
    except csv.Error as exc:
        raise BackendError(f"{path.name}: line {reader.line_num} is not valid CSV ({exc})") from None
    return rows


def _sheet_rows(path: Path) -> list[Row]:
    import python_calamine

    from callback_sheets.backends.excel.xlsx.read import PackageRefused, check_package

    try:
        check_package(path)
    except PackageRefused as exc:
        raise BackendError(str(exc)) from None
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        values = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several unrelated types
        raise BackendError(f"{path.name}: the spreadsheet could not be read ({type(exc).__name__})") from None
    return [(n, list(cells)) for n, cells in enumerate(values, start=1) if not is_blank(cells)]


def read_rows(path: Path) -> list[Row]:
    """Non-blank rows of the file (header first) with their physical line numbers."""
    if not path.is_file():
        raise BackendError(f"{path.name}: no such file")
    return _sheet_rows(path) if path.suffix.lower() in SPREADSHEET_SUFFIXES else _csv_rows(path)


class _PhoneCache:
    """phones.parse_phone with failures cached too (lru_cache does not keep exceptions)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.known: dict[str, str | PhoneError] = {}

    def key(self, raw: str) -> str | PhoneError:
        found = self.known.get(raw)
        if found is None:
            if raw.lower() in _WITHHELD:
                found = PhoneError("no phone number (caller ID withheld)")
            else:
                try:
                    found = parse_phone(raw, self.region).key
                except PhoneError as exc:
                    found = exc
            self.known[raw] = found
        return found


_Verdict = CallKind | Literal[False] | None  # a kind to record; None: ignored (known); False: unknown


def _width(layout: Layout) -> int:
    """How many cells a row needs for every column the layout reads."""
    columns = (
        *layout.received, *layout.received_fallback, layout.phone, layout.caller_name, layout.direction,
        layout.status, layout.call_id, layout.call_type,
    )  # fmt: skip
    return 1 + max(i for i in columns if i is not None)


class _Sorter:
    """Which rows are missed inbound calls, with the unknown directions and statuses reported."""

    def __init__(self, layout: Layout, header: list[object], unknown: Callable[[str, str, str], None]):
        self.layout, self.header, self.unknown = layout, header, unknown

    def label(self, index: int) -> str:
        return _text(self.header[index]) if index < len(self.header) else f"column {index + 1}"

    def _unknown_status(self, cells: list[object], *, known_kinds: bool) -> None:
        layout = self.layout
        assert layout.status is not None
        status = _text(cells[layout.status]).strip()
        low = status.lower()
        if (not known_kinds or low not in layout.kinds) and low not in KNOWN_OTHER_STATUSES:
            self.unknown(self.label(layout.status), status, "missed_statuses")

    def verdict(self, cells: list[object]) -> _Verdict:
        layout = self.layout
        if layout.direction is not None:
            direction = _text(cells[layout.direction]).strip()
            if direction.lower() not in layout.inbound:
                if direction.lower() in KNOWN_OTHER_DIRECTIONS:
                    return None
                self.unknown(self.label(layout.direction), direction, "inbound_values")
                if layout.status is not None:  # its status is worth naming too (`No Answer`)
                    self._unknown_status(cells, known_kinds=True)
                return False
        if layout.call_type is not None and _text(cells[layout.call_type]).lower() in layout.skip_types:
            return None
        if layout.status is None:
            return "missed"
        kind = layout.kinds.get(_text(cells[layout.status]).lower())
        if kind is not None:
            return kind
        status = _text(cells[layout.status]).strip().lower()
        if status in KNOWN_OTHER_STATUSES:
            return None
        self._unknown_status(cells, known_kinds=False)
        return False


def _record(
    line: int, cells: list[object], kind: CallKind, layout: Layout, *, naive_tz: tzinfo, clinic_tz: tzinfo,
    date_order: str, phones: _PhoneCache,
) -> CallRecord | BadRecord:  # fmt: skip
    reasons: list[str] = []
    parts = [cells[i] for i in layout.received]
    if is_blank(parts) and layout.received_fallback:
        parts = [cells[i] for i in layout.received_fallback]
    when = parse_when(parts, date_order)
    if when is None:
        reasons.append("no call time" if is_blank(parts) else "call time is not readable")
    raw = _text(cells[layout.phone])
    key = phones.key(raw) if raw else PhoneError("no phone number")
    if isinstance(key, PhoneError):
        reasons.append(str(key))
    if when is None or isinstance(key, PhoneError):
        return BadRecord(line=line, reason="; ".join(reasons))
    received = (when if when.tzinfo is not None else when.replace(tzinfo=naive_tz)).astimezone(clinic_tz)
    call_id = _text(cells[layout.call_id]) if layout.call_id is not None else ""
    return CallRecord(
        key=call_key(fmt=layout.name, call_id=call_id, phone_key=key, received=received),
        received=received,
        phone_raw=raw,
        phone_key=key,
        caller_name=_text(cells[layout.caller_name]) if layout.caller_name is not None else "",
        line=line,
        kind=kind,
    )


def _records(
    rows: list[Row],
    layout: Layout,
    *,
    export_tz: tzinfo,
    clinic_tz: tzinfo,
    region: str,
    progress: Callable[[int, int], None] | None,
    date_order: str = "MDY",
    unknown: Callable[[str, str, str], None] = lambda column, value, key: None,
) -> Iterator[CallRecord | BadRecord | Literal[False] | None]:
    """One item per data row: a record, a bad record, None for an ignored row with known values, or
    False for an ignored row with an unknown direction or status (reported through `unknown`)."""
    sorter = _Sorter(layout, rows[0][1] if rows else [], unknown)
    phones = _PhoneCache(region)
    naive_tz = layout.naive_tz or export_tz
    width = _width(layout)
    total = len(rows) - 1
    for done, (line, cells) in enumerate(rows[1:], start=1):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        kind = sorter.verdict(cells)
        if kind is None or kind is False:
            yield kind
            continue
        yield _record(
            line, cells, kind, layout, naive_tz=naive_tz, clinic_tz=clinic_tz, date_order=date_order,
            phones=phones,
        )  # fmt: skip
    if progress is not None:
        progress(total, total)


def read_call_log(
    path: Path,
    *,
    layout_for: LayoutFor,
    export_tz: tzinfo,
    clinic_tz: tzinfo,
    region: str,
    progress: Callable[[int, int], None] | None = None,
    date_order: str = "MDY",
    rows: list[Row] | None = None,
) -> CallLog:
    """Read an export and return its missed, abandoned and voicemail inbound calls.

    `layout_for` gives the file's layout from its header (`presets.fixed_layout` for a header preset,
    `presets.generic_layout` for the config's column mapping). Times without an
    offset are in `export_tz` (Twilio's always in UTC) and come back aware in `clinic_tz`. Answered,
    outbound and non-voice rows are counted in `ignored`; rows without a usable number or time are
    listed in `bad` with their line number and skipped. Raises UnknownFormatError when the columns fit
    no format, BackendError when the file cannot be read. `rows` are the file's rows when the caller
    has read them already (`read_rows`).
    """
    rows = read_rows(path) if rows is None else rows
    if not rows:
        raise BackendError(f"{path.name}: the file is empty")
    header = [_text(c) for c in rows[0][1]]
    layout = layout_for(header)
    log = CallLog(format=layout.name)

    def unknown(column: str, value: str, key: str) -> None:
        log.unknown_keys[column] = key
        values = log.unknown.setdefault(column, {})
        values[value] = values.get(value, 0) + 1

    items = _records(
        rows, layout, export_tz=export_tz, clinic_tz=clinic_tz, region=region, progress=progress,
        unknown=unknown, date_order=date_order,
    )  # fmt: skip
    for item in items:
        if isinstance(item, CallRecord):
            log.calls.append(item)
        elif isinstance(item, BadRecord):
            log.bad.append(item)
        else:
            log.ignored += 1
            log.recognised_ignored += item is None
    return log
