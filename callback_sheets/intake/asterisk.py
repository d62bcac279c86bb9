"""Asterisk (also FreePBX, Issabel) call detail records: `Master.csv` from cdr_csv or cdr_custom.

`Master.csv` has no header line. Two column orders are recognised by their shape (the number of
columns, a disposition and a start time where that order puts them):

* cdr_csv's default order, `DEFAULT_COLUMNS` (21 columns; older versions without `peeraccount`,
  `linkedid` and `sequence`, or without `uniqueid`/`userfield`, are recognised too);
* the `Master.csv` mapping of the shipped `cdr_custom.conf` sample, `CUSTOM_COLUMNS` (19 columns,
  starting with `clid`).

Any other order is given in config as `[intake.asterisk] columns = [...]`; a file whose first line is a
header naming `src`, `disposition` and `start` (or `calldate`, as FreePBX's CDR report download has)
is read by that header.

One call is every row sharing `linkedid` (or `uniqueid` where there is no linkedid): a ring group or a
Local channel makes many rows for one call. A call was answered when one of its `Dial` (or `Queue`)
legs was `ANSWERED` with someone on the other end (a `dstchannel`). Otherwise:

* a `VoiceMail` leg: the caller left a voicemail;
* a `Dial`/`Queue` leg `NO ANSWER`, `BUSY`, `FAILED` or `CONGESTION` (or a queue that answered with
  music on hold and no agent): missed;
* only announcement apps (`Hangup`, `Playback`, `BackGround`, ...): the PBX "answered" with a recording
  and nobody spoke to the caller. `announcement_only = "missed"` (the default) queues it as an
  abandoned call: a patient who rang and reached nobody needs a callback, and the after-hours message
  is the usual case; `"answered"` ignores such calls (for a PBX whose announcements are informational
  lines people call on purpose).

A call from an extension (a source with no more than `extension_max_digits` digits, or no digits at all)
is internal and ignored. Times are the PBX's local time (`usegmtime = no`, Asterisk's default), read in
`[intake] timezone` when it is set and otherwise in the clinic's time zone; with `usegmtime = true`
they are UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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

DEFAULT_COLUMNS = (
    "accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp", "lastdata",
    "start", "answer", "end", "duration", "billsec", "disposition", "amaflags", "uniqueid", "userfield",
    "peeraccount", "linkedid", "sequence",
)  # fmt: skip
CUSTOM_COLUMNS = (
    "clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start", "answer",
    "end", "duration", "billsec", "disposition", "amaflags", "accountcode", "uniqueid", "userfield",
    "sequence",
)  # fmt: skip
KNOWN_ORDERS = (
    DEFAULT_COLUMNS,
    CUSTOM_COLUMNS,
    DEFAULT_COLUMNS[:16],  # loguniqueid and loguserfield off
    DEFAULT_COLUMNS[:18],  # before Asterisk 1.8's peeraccount/linkedid/sequence
    CUSTOM_COLUMNS[:18],
)
FIELDS = frozenset(DEFAULT_COLUMNS) | {"calldate"}
ANSWERED = "ANSWERED"
MISSED_DISPOSITIONS = frozenset({"NO ANSWER", "BUSY", "FAILED", "CONGESTION"})
DISPOSITIONS = MISSED_DISPOSITIONS | {ANSWERED}
PERSON_APPS = frozenset({"dial", "queue"})
VOICEMAIL_APPS = frozenset({"voicemail"})
ANNOUNCEMENT_APPS = frozenset(
    {"hangup", "playback", "background", "wait", "answer", "read", "waitexten", "congestion", "busy",
     "playtones", "ringing", "progress", "saydigits", "saynumber", "morsecode", "noop"}
)  # fmt: skip
ANNOUNCEMENT_CHOICES = ("missed", "answered")


@dataclass(frozen=True, slots=True)
class AsteriskOptions:
    columns: tuple[str, ...] | None = None
    usegmtime: bool = False
    announcement_only: str = "missed"
    extension_max_digits: int = 5


def _order_fits(order: Sequence[str], row: Sequence[str]) -> bool:
    if len(row) != len(order):
        return False
    at = {name: i for i, name in enumerate(order)}
    disposition = row[at["disposition"]].strip().upper()
    start = parse_text(row[at["start"]]) if "start" in at else None
    return bool(disposition) and disposition.replace(" ", "").isalpha() and start is not None


def _header(row: Sequence[str]) -> tuple[str, ...] | None:
    names = tuple(norm(c) for c in row)
    if {"src", "disposition"} <= set(names) and ({"start", "calldate"} & set(names)):
        return tuple("start" if n == "calldate" else n for n in names)
    return None


def columns_for(
    rows: Sequence[Sequence[str]], configured: Sequence[str] | None
) -> tuple[tuple[str, ...], bool]:
    """The column order of a Master.csv and whether its first row is a header; raises
    UnknownFormatError when nothing fits."""
    if not rows:
        raise UnknownFormatError("the file is empty")
    first = rows[0]
    header = _header(first)
    if header is not None:
        return header, True
    if configured:
        order = tuple(norm(c) for c in configured)
        if len(first) < len(order) - 1:
            raise UnknownFormatError(
                f"intake.asterisk.columns names {len(order)} columns "
                f"but the file's first line has {len(first)}"
            )
        return order, False
    for order in KNOWN_ORDERS:
        if _order_fits(order, first):
            return order, False
    raise UnknownFormatError(
        f"this file is not an Asterisk Master.csv in a known column order (its first line has {len(first)} "
        f"columns; cdr_csv writes {len(DEFAULT_COLUMNS)}, the cdr_custom sample {len(CUSTOM_COLUMNS)}). "
        "Set [intake.asterisk] columns to the order of your cdr_custom.conf mapping."
    )


def detect(rows: Sequence[Sequence[str]]) -> bool:
    """True when the first line is a Master.csv row in a known order (or an Asterisk CDR header)."""
    if not rows:
        return False
    return _header(rows[0]) is not None or any(_order_fits(o, rows[0]) for o in KNOWN_ORDERS)


def _caller_name(clid: str, src: str) -> str:
    """The name part of `"Name" <number>`; empty when it is only the number again."""
    name = clid.split("<", 1)[0].strip().strip('"').strip() if "<" in clid else ""
    if not name or name == src or sum(c.isdigit() for c in name) >= 6:
        return ""
    return name


@dataclass(slots=True)
class _Leg:
    line: int
    src: str
    clid: str
    app: str
    disposition: str
    dstchannel: str
    start: datetime | None
    end: datetime | None
    duration: float | None


def _seconds(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read(
    rows: Sequence[tuple[int, Sequence[str]]],
    *,
    options: AsteriskOptions,
    export_tz: tzinfo | None,
    clinic_tz: tzinfo,
    region: str,
) -> CallLog:
    """Read Master.csv rows ((line, cells) pairs) into a CallLog of missed inbound calls.

    `export_tz` is `[intake] timezone` when set (None: the clinic's zone is the PBX's).
    """
    order, has_header = columns_for([cells for _, cells in rows], options.columns)
    at: Mapping[str, int] = {name: i for i, name in enumerate(order)}
    if "src" not in at or "disposition" not in at or "start" not in at:
        raise UnknownFormatError("intake.asterisk.columns must name at least src, start and disposition")
    naive_tz = UTC if options.usegmtime else (export_tz or clinic_tz)
    log = CallLog(format="asterisk")
    width = len(order)

    def cell(cells: Sequence[str], name: str) -> str:
        i = at.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    def when(text: str) -> datetime | None:
        found = parse_text(text) if text else None
        if found is None:
            return None
        return (found if found.tzinfo is not None else found.replace(tzinfo=naive_tz)).astimezone(clinic_tz)

    calls: dict[str, list[_Leg]] = {}
    for line, cells in rows[1:] if has_header else rows:
        if len(cells) < width - 1:
            log.bad.append(BadRecord(line, f"{len(cells)} columns where {width} were expected"))
            continue
        disposition = cell(cells, "disposition").upper()
        if disposition not in DISPOSITIONS:
            log.unknown_value("disposition", disposition[:40], "intake.asterisk")
        group = cell(cells, "linkedid") or cell(cells, "uniqueid") or f"line-{line}"
        calls.setdefault(group, []).append(
            _Leg(
                line=line,
                src=cell(cells, "src"),
                clid=cell(cells, "clid"),
                app=cell(cells, "lastapp").lower(),
                disposition=disposition,
                dstchannel=cell(cells, "dstchannel"),
                start=when(cell(cells, "start")),
                end=when(cell(cells, "end")),
                duration=_seconds(cell(cells, "duration")),
            )
        )
    for group, legs in calls.items():
        _call(log, group, legs, options=options, region=region)
    return log


def _kind(log: CallLog, legs: list[_Leg], options: AsteriskOptions) -> CallKind | None:
    """What the call was, from its legs; None when it needs no callback (counted in `log`)."""
    person = [leg for leg in legs if leg.app in PERSON_APPS]
    if any(leg.disposition == ANSWERED and leg.dstchannel for leg in person):
        log.ignore("answered")
        return None
    if any(leg.app in VOICEMAIL_APPS for leg in legs):
        return "voicemail"
    if any(leg.disposition in MISSED_DISPOSITIONS for leg in person):
        return "missed"
    if any(leg.disposition == ANSWERED and leg.app == "queue" for leg in person):
        return "abandoned"  # the queue answered with music on hold; no agent took it
    if all(leg.app in ANNOUNCEMENT_APPS for leg in legs):
        if options.announcement_only == "answered":
            log.ignore("answered by an announcement only")
            return None
        return "abandoned"
    if any(leg.disposition in DISPOSITIONS for leg in legs):  # else unknown dispositions only: listed in
        apps = sorted({leg.app or "(none)" for leg in legs})  # log.unknown, not counted as ignored
        log.ignore(f"no Dial leg (lastapp {', '.join(apps)[:40]})")
    return None


def _call(log: CallLog, group: str, legs: list[_Leg], *, options: AsteriskOptions, region: str) -> None:
    first = legs[0]
    src = next((leg.src for leg in legs if leg.src), "")
    digits = sum(c.isdigit() for c in src)
    if src and (digits == 0 or digits <= options.extension_max_digits) and src.lower() not in _WITHHELD:
        log.ignore("internal call (from an extension)")
        return
    kind = _kind(log, legs, options)
    if kind is None:
        return
    starts = [leg.start for leg in legs if leg.start is not None]
    if not starts:
        log.bad.append(BadRecord(first.line, "call time is not readable"))
        return
    received = min(starts)
    if not src or src.lower() in _WITHHELD:
        log.bad.append(
            BadRecord(first.line, "no phone number (caller ID withheld)" if src else "no phone number")
        )
        return
    try:
        key = parse_phone(src, region).key
    except PhoneError as exc:
        log.bad.append(BadRecord(first.line, str(exc)))
        return
    ends = [leg.end for leg in legs if leg.end is not None]
    rang = (
        (max(ends) - received).total_seconds()
        if ends
        else max((d for leg in legs if (d := leg.duration) is not None), default=None)
    )
    log.calls.append(
        CallRecord(
            key=call_key(fmt="asterisk", call_id=group, phone_key=key, received=received),
            received=received,
            phone_raw=src,
            phone_key=key,
            caller_name=_caller_name(first.clid, src),
            line=first.line,
            kind=kind,
            rang_seconds=rang,
        )
    )


_WITHHELD = frozenset({"anonymous", "unknown", "restricted", "private", "blocked", "unavailable"})
