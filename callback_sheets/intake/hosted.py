"""3CX and Aircall exports, read from their published formats (not yet checked against a clinic's file).

* ``3cx`` -- the CDR log 3CX writes (Reporting > CDR, "single file for all calls", `cdr.log`), by
  default without a header in the order `THREECX_COLUMNS` (`historyid, callid, duration, time-start,
  time-answered, time-end, reason-terminated, from-no, to-no, ...`); a file with those names as a
  header is read by its header. A call is every record sharing `callid` (else `historyid`). Inbound
  means `from-type` = `Line` (a trunk) where the file has that field, otherwise a `from-no` that is
  not an extension (`Ext.101`, or no more than 5 digits). An inbound call with no `time-answered` on
  any record is missed (a voicemail when `to-type`/`final-type` says so). Times without an offset are in
  `[intake] timezone` (3CX writes UTC, the default). Known `reason-terminated` values are
  `THREECX_REASONS`; others are listed with their counts.
* ``aircall`` -- the call history CSV export: `datetime (UTC)` (or `started_at`), `direction`,
  `answered` (Yes/No), `missed_call_reason`, `call type` (Answered, Missed, Abandoned, Voicemail,
  Out of business hours, Outbound, AI Call), the external number (`from`, `external number`,
  `raw_digits`...). An inbound call whose type is Missed or Out of business hours is missed, Voicemail
  a voicemail, Abandoned abandoned; without a call type, `answered` No is missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo

from callback_sheets.core.phones import PhoneError, parse_phone
from callback_sheets.intake.presets import norm
from callback_sheets.intake.records import (
    BadRecord,
    CallKind,
    CallLog,
    CallRecord,
    UnknownFormatError,
    call_key,
)
from callback_sheets.intake.times import parse_text

Rows = Sequence[tuple[int, Sequence[object]]]

THREECX_COLUMNS = (
    "historyid", "callid", "duration", "time-start", "time-answered", "time-end", "reason-terminated",
    "from-no", "to-no", "from-dn", "to-dn", "dial-no", "reason-changed", "final-number", "final-dn",
    "bill-code", "bill-rate", "bill-cost", "bill-name", "chain", "from-type", "to-type", "final-type",
    "from-dispname", "to-dispname", "final-dispname", "missed-queue-calls",
)  # fmt: skip
THREECX_REASONS = frozenset(
    {"terminatedbysrc", "terminatedbydst", "terminatedbyrule", "failed", "failedcancelled", "cancelled",
     "busy", "noanswer", "rejected", "timeout", ""}
)  # fmt: skip
AIRCALL_TYPES: dict[str, CallKind | None] = {
    "answered": None,
    "outbound": None,
    "ai call": None,
    "missed": "missed",
    "out of business hours": "missed",
    "voicemail": "voicemail",
    "abandoned": "abandoned",
}
AIRCALL_REASONS = frozenset(
    {"out_of_opening_hours", "short_abandoned", "abandoned_in_ivr", "abandoned_in_classic",
     "no_available_agent", "agents_did_not_answer", ""}
)  # fmt: skip
_WITHHELD = frozenset({"anonymous", "unknown", "restricted", "private", "blocked", "unavailable"})


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def seconds(value: object) -> float | None:
    """`75`, `75.0` or `00:01:15` as seconds; None when it is neither."""
    text = _text(value)
    if not text:
        return None
    if ":" in text:
        parts = text.split(":")
        try:
            total = 0.0
            for part in parts:
                total = total * 60 + float(part)
            return total
        except ValueError:
            return None
    try:
        return float(text)
    except ValueError:
        return None


def _when(value: object, naive_tz: tzinfo, clinic_tz: tzinfo) -> datetime | None:
    found = value if isinstance(value, datetime) else parse_text(_text(value)) if _text(value) else None
    if found is None:
        return None
    return (found if found.tzinfo is not None else found.replace(tzinfo=naive_tz)).astimezone(clinic_tz)


def _index(header: Sequence[object]) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(norm(_text(h)), i)
    return index


def _phone(raw: str, region: str) -> str | PhoneError:
    if not raw:
        return PhoneError("no phone number")
    if raw.lower() in _WITHHELD:
        return PhoneError("no phone number (caller ID withheld)")
    try:
        return parse_phone(raw, region).key
    except PhoneError as exc:
        return exc


# --- 3CX ------------------------------------------------------------------------------------------------


def _threecx_order(first: Sequence[object]) -> tuple[dict[str, int], bool] | None:
    index = _index(first)
    if {"timestart", "timeanswered", "fromno"} <= set(index):
        return index, True
    if (
        len(first) >= 9
        and parse_text(_text(first[3])) is not None
        and parse_text(_text(first[5])) is not None
    ):
        reason = norm(_text(first[6]))
        if reason.isalpha() or not reason:
            return {norm(c): i for i, c in enumerate(THREECX_COLUMNS[: len(first)])}, False
    return None


def detect_3cx(rows: Rows) -> bool:
    return bool(rows) and _threecx_order(rows[0][1]) is not None


def _extension(number: str) -> bool:
    digits = sum(c.isdigit() for c in number)
    return (
        number.lower().startswith("ext")
        or (0 < digits <= 5)
        or (digits == 0 and number.lower() not in _WITHHELD)
    )


def _get(at: Mapping[str, int], cells: Sequence[object], name: str) -> str:
    i = at.get(name)
    return _text(cells[i]) if i is not None and i < len(cells) else ""


def read_3cx(rows: Rows, *, export_tz: tzinfo, clinic_tz: tzinfo, region: str) -> CallLog:
    if not rows:
        raise UnknownFormatError("the file is empty")
    found = _threecx_order(rows[0][1])
    if found is None:
        raise UnknownFormatError(
            "this file does not look like a 3CX CDR log (historyid, callid, duration, time-start, "
            "time-answered, time-end, reason-terminated, from-no, to-no, ...)"
        )
    at, has_header = found
    log = CallLog(format="3cx")
    calls: dict[str, list[tuple[int, Sequence[object]]]] = {}
    for line, cells in rows[1:] if has_header else rows:
        group = _get(at, cells, "callid") or _get(at, cells, "historyid") or f"line-{line}"
        calls.setdefault(group, []).append((line, cells))
    for group, legs in calls.items():
        call = _threecx_call(group, legs, at, log, export_tz=export_tz, clinic_tz=clinic_tz, region=region)
        if call is not None:
            log.calls.append(call)
    return log


def _threecx_call(
    group: str,
    legs: list[tuple[int, Sequence[object]]],
    at: Mapping[str, int],
    log: CallLog,
    *,
    export_tz: tzinfo,
    clinic_tz: tzinfo,
    region: str,
) -> CallRecord | None:
    """One call from its legs (rows sharing a call id): a record, or None (counted in `log`)."""
    for _, cells in legs:
        reason = _get(at, cells, "reasonterminated")
        if norm(reason) not in THREECX_REASONS:
            log.unknown_value("reason-terminated", reason[:40])
    line, cells = legs[0]
    raw = _get(at, cells, "fromno")
    from_type = _get(at, cells, "fromtype").lower()
    if ("fromtype" in at and from_type and from_type != "line") or ("fromtype" not in at and _extension(raw)):
        log.ignore("outbound or internal")
        return None
    if any(_get(at, c, "timeanswered") for _, c in legs):
        log.ignore("answered")
        return None
    start = _when(_get(at, cells, "timestart"), export_tz, clinic_tz)
    if start is None:
        log.bad.append(BadRecord(line, "call time is not readable"))
        return None
    key = _phone(raw, region)
    if isinstance(key, PhoneError):
        log.bad.append(BadRecord(line, str(key)))
        return None
    types = " ".join(_get(at, c, n).lower() for _, c in legs for n in ("totype", "finaltype", "finaldn"))
    kind: CallKind = "voicemail" if "vmail" in types or "voicemail" in types else "missed"
    ends = (_when(_get(at, c, "timeend"), export_tz, clinic_tz) for _, c in legs)
    end = max((e for e in ends if e), default=None)
    return CallRecord(
        key=call_key(fmt="3cx", call_id=group, phone_key=key, received=start),
        received=start,
        phone_raw=raw,
        phone_key=key,
        caller_name=_get(at, cells, "fromdispname"),
        line=line,
        kind=kind,
        rang_seconds=(end - start).total_seconds() if end else seconds(_get(at, cells, "duration")),
    )


# --- Aircall --------------------------------------------------------------------------------------------

_AIRCALL_TIME = ("datetimeutc", "startedat", "dateutc", "datetime")
_AIRCALL_PHONE = (
    "externalnumber",
    "rawdigits",
    "from",
    "fromnumber",
    "contactnumber",
    "phonenumber",
    "caller",
)


def _aircall_columns(header: Sequence[object]) -> Mapping[str, int] | None:
    index = _index(header)
    has_time = any(k in index for k in _AIRCALL_TIME)
    has_outcome = "missedcallreason" in index or ("calltype" in index and "answered" in index)
    has_phone = any(k in index for k in _AIRCALL_PHONE)
    return index if has_time and has_outcome and has_phone else None


def detect_aircall(rows: Rows) -> bool:
    return bool(rows) and _aircall_columns(rows[0][1]) is not None


def _pick(at: Mapping[str, int], cells: Sequence[object], *names: str) -> object:
    """The first of the named columns the file has."""
    for name in names:
        i = at.get(name)
        if i is not None and i < len(cells):
            return cells[i]
    return None


def _aircall_kind(at: Mapping[str, int], cells: Sequence[object], log: CallLog) -> CallKind | None:
    """What a row is: a kind to import, or None (ignored or unknown: counted in `log`)."""
    direction = _text(_pick(at, cells, "direction")).lower()
    call_type = " ".join(_text(_pick(at, cells, "calltype")).lower().split())
    if call_type.startswith("inbound - "):
        call_type = call_type.removeprefix("inbound - ")
    reason = _text(_pick(at, cells, "missedcallreason")).lower()
    if reason not in AIRCALL_REASONS:
        log.unknown_value("missed_call_reason", reason[:40])
    if direction and direction not in ("inbound", "incoming", "in"):
        log.ignore("outbound")
        return None
    kind: CallKind | None
    if call_type:
        if call_type not in AIRCALL_TYPES:
            log.unknown_value("call type", call_type[:40])
            return None
        kind = AIRCALL_TYPES[call_type]
    else:
        answered = _text(_pick(at, cells, "answered")).lower()
        if answered in ("yes", "true", "1"):
            kind = None
        elif answered in ("no", "false", "0"):
            abandoned = reason.startswith("short_abandoned") or reason.startswith("abandoned")
            kind = "abandoned" if abandoned else "missed"
        else:
            log.unknown_value("answered", answered[:40])
            return None
    if kind is None:
        log.ignore(call_type or "answered")
    return kind


def read_aircall(rows: Rows, *, clinic_tz: tzinfo, region: str) -> CallLog:
    at = _aircall_columns(rows[0][1]) if rows else None
    if at is None:
        raise UnknownFormatError(
            "this file does not have the columns of an Aircall export (datetime (UTC), answered, "
            "missed_call_reason, call type, and the caller's number)"
        )
    log = CallLog(format="aircall")
    for line, cells in rows[1:]:
        kind = _aircall_kind(at, cells, log)
        if kind is None:
            continue
        when = _when(_pick(at, cells, *_AIRCALL_TIME), UTC, clinic_tz)
        if when is None:
            log.bad.append(BadRecord(line, "call time is not readable"))
            continue
        raw = _text(_pick(at, cells, *_AIRCALL_PHONE))
        key = _phone(raw, region)
        if isinstance(key, PhoneError):
            log.bad.append(BadRecord(line, str(key)))
            continue
        call_id = _text(_pick(at, cells, "id", "callid", "calluuid"))
        log.calls.append(
            CallRecord(
                key=call_key(fmt="aircall", call_id=call_id, phone_key=key, received=when),
                received=when,
                phone_raw=raw,
                phone_key=key,
                caller_name=_text(_pick(at, cells, "contact", "contactname", "callername")),
                line=line,
                kind=kind,
                rang_seconds=seconds(_pick(at, cells, "durationtotal", "duration")),
            )
        )
    return log
