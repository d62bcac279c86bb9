"""Export layouts: which column holds what, and which rows are missed inbound calls.

Headers are compared in a normalised form (lower case, letters and digits only), so `StartTime`,
`start_time` and `Start Time` are the same column.

Presets:

* ``twilio`` -- Twilio's Call resource (https://www.twilio.com/docs/voice/api/call-resource), its
  fields used as column headers, CamelCase (`Sid`, `DateCreated`, `StartTime`, `From`, `CallerName`,
  `Direction`, `Status`...) or the API's snake_case (`sid`, `start_time`, `caller_name`...). Only
  `Direction` = `inbound` counts (`outbound-api`, `outbound-dial` and trunking legs are ignored);
  `Status` `no-answer`, `busy` and `failed` are missed calls, `canceled` (the caller hung up before
  anyone answered) is abandoned; `completed`, `in-progress`, `ringing`, `queued` are ignored. Twilio
  writes times in UTC, so a time without an offset is read as UTC whatever the export time zone is.
* ``ringcentral`` -- RingCentral's call log. Values follow the Call Log API's call log record
  (https://developers.ringcentral.com/guide/voice/call-log/api and the API reference's
  CallLogRecord: `type` Voice/Fax, `direction` Inbound/Outbound, `result` such as "Missed",
  "Voicemail", "Hang Up", "Abandoned", "Accepted", "Call connected"). Headers are those of the admin
  portal's call log CSV download (`Type`, `Direction` or `Call Direction`, `From`, `From Name`, `To`,
  `Date`, `Time`, `Action`, `Action Result` or `Result`, `Length`), and the API field names
  (`startTime`, `sessionId`, `id`) are accepted too. Times without an offset are in the export time
  zone (the account's time zone in the portal).
* ``generic`` -- a column mapping from config; see `GENERIC_MAPPING_KEYS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callback_sheets.errors import ConfigError
from callback_sheets.intake.records import CallKind, UnknownFormatError

GENERIC_MAPPING_KEYS: dict[str, str] = {
    "received": "column with the call time (join a Date and a Time column with '+': 'Date + Time')",
    "phone": "column with the caller's number",
    "caller_name": "column with the caller-ID name (optional)",
    "direction": "column with the call direction (optional: without it every row is inbound)",
    "status": "column with the call result (optional: without it every row is a missed call)",
    "id": "column with the system's call id (optional: without it number + time identify a call)",
    "missed_statuses": "comma-separated results that need a callback (default: missed, no answer, "
    "no-answer, busy, failed, voicemail, abandoned, canceled, hang up)",
    "inbound_values": "comma-separated direction values meaning inbound (default: inbound, incoming, in)",
    "timezone": "IANA time zone of times without an offset (default: the export time zone)",
}
_COLUMN_KEYS = ("received", "phone", "caller_name", "direction", "status", "id")
_DEFAULT_MISSED = "missed, no answer, no-answer, busy, failed, voicemail, abandoned, canceled, hang up"
_DEFAULT_INBOUND = "inbound, incoming, in"

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def norm(header: str) -> str:
    """The comparison form of a header: lower case, letters and digits only."""
    return _NON_ALNUM.sub("", header.lower())


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each field is in a file's rows, and how to tell which rows are missed inbound calls."""

    name: str
    received: tuple[int, ...]  # joined with a space (a Date and a Time column)
    received_fallback: tuple[int, ...]  # used when `received` is empty (Twilio's DateCreated)
    phone: int
    caller_name: int | None
    direction: int | None
    inbound: frozenset[str]
    status: int | None
    kinds: Mapping[str, CallKind]  # lower-cased status -> kind; other statuses are ignored
    call_id: int | None
    call_type: int | None  # rows whose type is in `skip_types` are ignored (faxes, texts)
    skip_types: frozenset[str]
    naive_tz: tzinfo | None  # None: the export time zone


def _kind_of(status: str) -> CallKind:
    s = status.lower()
    if "voice" in s or "vm" in s.replace("-", " ").split():
        return "voicemail"
    if "abandon" in s or "hang" in s or "cancel" in s:
        return "abandoned"
    return "missed"


_TWILIO_KINDS: dict[str, CallKind] = {
    "no-answer": "missed",
    "busy": "missed",
    "failed": "missed",
    "canceled": "abandoned",
}
_RC_KINDS: dict[str, CallKind] = {
    "missed": "missed",
    "no answer": "missed",
    "busy": "missed",
    "voicemail": "voicemail",
    "voice mail": "voicemail",
    "hang up": "abandoned",
    "hangup": "abandoned",
    "abandoned": "abandoned",
}


def _find(index: Mapping[str, int], *names: str) -> int | None:
    for name in names:
        if name in index:
            return index[name]
    return None


def twilio(index: Mapping[str, int]) -> Layout | None:
    start, created = _find(index, "starttime"), _find(index, "datecreated")
    phone, direction, status = _find(index, "from"), _find(index, "direction"), _find(index, "status")
    if phone is None or direction is None or status is None or (start is None and created is None):
        return None
    primary = start if start is not None else created
    assert primary is not None
    return Layout(
        name="twilio",
        received=(primary,),
        received_fallback=(created,) if created is not None else (),
        phone=phone,
        caller_name=_find(index, "callername"),
        direction=direction,
        inbound=frozenset({"inbound"}),
        status=status,
        kinds=_TWILIO_KINDS,
        call_id=_find(index, "sid"),
        call_type=None,
        skip_types=frozenset(),
        naive_tz=UTC,
    )


def ringcentral(index: Mapping[str, int]) -> Layout | None:
    result = _find(index, "actionresult", "result")
    phone = _find(index, "from", "fromnumber", "fromphonenumber")
    direction = _find(index, "direction", "calldirection")
    start = _find(index, "starttime", "startdatetime", "datetime")
    day, clock = _find(index, "date"), _find(index, "time")
    received: tuple[int, ...] = ()
    if start is not None:
        received = (start,)
    elif day is not None and clock is not None:
        received = (day, clock)
    if result is None or phone is None or direction is None or not received:
        return None
    return Layout(
        name="ringcentral",
        received=received,
        received_fallback=(),
        phone=phone,
        caller_name=_find(index, "fromname", "callername"),
        direction=direction,
        inbound=frozenset({"inbound", "incoming"}),
        status=result,
        kinds=_RC_KINDS,
        call_id=_find(index, "id", "callid", "sessionid"),
        call_type=_find(index, "type"),
        skip_types=frozenset({"fax", "sms", "pager", "voicemail transcription"}),
        naive_tz=None,
    )


def _values(text: str) -> frozenset[str]:
    return frozenset(v.strip().lower() for v in text.split(",") if v.strip())


def _generic(header: Sequence[str], index: Mapping[str, int], mapping: Mapping[str, str]) -> Layout:
    unknown = sorted(set(mapping) - set(GENERIC_MAPPING_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown intake mapping key(s): {', '.join(unknown)}; known: {', '.join(GENERIC_MAPPING_KEYS)}"
        )
    exact = {h: i for i, h in enumerate(header)}
    columns: dict[str, tuple[int, ...]] = {}
    missing: list[str] = []
    for key in _COLUMN_KEYS:
        spec = mapping.get(key, "").strip()
        if not spec:
            continue
        found: list[int] = []
        for part in (p.strip() for p in spec.split("+")):
            i = exact.get(part, index.get(norm(part)))
            if i is None:
                missing.append(f"{key} = {part!r}")
            else:
                found.append(i)
        columns[key] = tuple(found)
    for key in ("received", "phone"):
        if key not in columns and not any(m.startswith(key + " ") for m in missing):
            missing.append(f"{key} (not set)")
    if missing:
        raise UnknownFormatError(
            f"the generic mapping does not fit this file: {'; '.join(missing)}. "
            f"Columns found: {describe_columns(header)}."
        )
    zone: tzinfo | None = None
    if mapping.get("timezone", "").strip():
        try:
            zone = ZoneInfo(mapping["timezone"].strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("intake mapping 'timezone' is not an IANA time zone name") from None
    statuses = _values(mapping.get("missed_statuses", "") or _DEFAULT_MISSED)

    def one(key: str) -> int | None:
        return columns[key][0] if key in columns else None

    return Layout(
        name="generic",
        received=columns["received"],
        received_fallback=(),
        phone=columns["phone"][0],
        caller_name=one("caller_name"),
        direction=one("direction"),
        inbound=_values(mapping.get("inbound_values", "") or _DEFAULT_INBOUND),
        status=one("status"),
        kinds={s: _kind_of(s) for s in statuses},
        call_id=one("id"),
        call_type=None,
        skip_types=frozenset(),
        naive_tz=zone,
    )


def describe_columns(header: Sequence[str]) -> str:
    """The header for a message; cells that look like data (many digits) are not echoed."""
    shown = []
    for i, h in enumerate(header, start=1):
        text = h.strip()
        if sum(c.isdigit() for c in text) >= 4 or "@" in text:
            shown.append(f"(column {i}: looks like data, not a header)")
        elif text:
            shown.append(repr(text[:40]))
    return ", ".join(shown) if shown else "(none)"


LayoutFinder = Callable[[Mapping[str, int]], Layout | None]  # a header's index -> its layout, or None
LayoutFor = Callable[[Sequence[str]], Layout]  # a header -> its layout, or UnknownFormatError


def header_index(header: Sequence[str]) -> dict[str, int]:
    """Each header's comparison form -> its first column."""
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(norm(h), i)
    return index


def fits(find: LayoutFinder, header: Sequence[str]) -> bool:
    return find(header_index(header)) is not None


def fixed_layout(name: str, find: LayoutFinder) -> LayoutFor:
    """The layout of a named header preset; UnknownFormatError naming the columns when it does not fit."""

    def layout(header: Sequence[str]) -> Layout:
        found = find(header_index(header))
        if found is None:
            raise UnknownFormatError(
                f"this file does not have the columns of a {name} export. Columns found: "
                f"{describe_columns(header)}. Use another --format, or set the generic mapping keys: "
                f"{', '.join(GENERIC_MAPPING_KEYS)}."
            )
        return found

    return layout


def generic_layout(mapping: Mapping[str, str] | None) -> LayoutFor:
    """The layout the config's column mapping gives; UnknownFormatError when there is no mapping."""

    def layout(header: Sequence[str]) -> Layout:
        if not mapping:
            raise UnknownFormatError(
                f"the generic format needs a column mapping in config with the keys: "
                f"{', '.join(GENERIC_MAPPING_KEYS)}. Columns found: {describe_columns(header)}."
            )
        return _generic(header, header_index(header), mapping)

    return layout
