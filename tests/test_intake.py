"""Reading call-log exports: presets, the generic mapping, messy files, bad records, time zones."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from callback_sheets.errors import ConfigError
from callback_sheets.intake import GENERIC_MAPPING_KEYS, CallLog, UnknownFormatError, read_call_log

UTC = ZoneInfo("UTC")
CHICAGO = ZoneInfo("America/Chicago")
NEW_YORK = ZoneInfo("America/New_York")
HYPERLINK = '=HYPERLINK("http://x","y")'


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def read(path: Path, **kwargs: object) -> CallLog:
    options: dict[str, object] = {"fmt": None, "export_tz": UTC, "clinic_tz": CHICAGO, "region": "US"}
    options.update(kwargs)
    return read_call_log(path, **options)  # type: ignore[arg-type]


TWILIO_CAMEL = """\
Sid,DateCreated,StartTime,EndTime,From,To,CallerName,Direction,Status,Duration
CA001,2026-12-01 15:10:00,2026-12-01 15:10:00,,+13125550142,+13125550100,JANE DOE,inbound,no-answer,0
CA002,2026-12-01 15:20:00,2026-12-01 15:20:00,,+13125550143,+13125550100,,inbound,completed,300
CA003,2026-12-01 15:30:00,2026-12-01 15:30:00,,+13125550100,+13125550144,,outbound-api,no-answer,0
CA004,2026-12-01 16:00:00Z,2026-12-01T16:00:00Z,,+13125550145,+13125550100,,inbound,canceled,0
CA005,2026-12-01 16:10:00,2026-12-01 16:10:00,,,+13125550100,,inbound,busy,0
CA006,2026-12-01 16:20:00,not a time,,+13125550146,+13125550100,,inbound,failed,0
CA007,2026-12-01 16:30:00,2026-12-01 16:30:00,,+13125550147,+13125550100,,outbound-dial,busy,0
CA008,2026-12-01 16:40:00,2026-12-01 16:40:00,,Anonymous,+13125550100,,inbound,no-answer,0
"""


def test_twilio_camelcase(tmp_path: Path) -> None:
    log = read(write(tmp_path, "calls.csv", TWILIO_CAMEL))
    assert log.format == "twilio"
    assert [c.key for c in log.calls] == ["twilio:CA001", "twilio:CA004"]
    first, second = log.calls
    assert first.received == datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO)  # UTC 15:10 -> CST
    assert first.received.tzinfo == CHICAGO
    assert (first.phone_raw, first.phone_key) == ("+13125550142", "+13125550142")
    assert first.caller_name == "JANE DOE"
    assert (first.line, first.kind) == (2, "missed")
    assert (second.line, second.kind) == (5, "abandoned")
    assert log.ignored == 3  # answered, outbound-api, outbound-dial
    assert [(b.line, b.reason) for b in log.bad] == [
        (6, "no phone number"),
        (7, "call time is not readable"),
        (9, "no phone number (caller ID withheld)"),
    ]


def test_twilio_export_tz_does_not_apply(tmp_path: Path) -> None:
    """Twilio writes UTC; a naive time is UTC even when the export time zone says otherwise."""
    log = read(write(tmp_path, "calls.csv", TWILIO_CAMEL), export_tz=NEW_YORK)
    assert log.calls[0].received == datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO)


def test_twilio_snake_case_rfc2822(tmp_path: Path) -> None:
    text = (
        "sid,date_created,date_updated,start_time,end_time,from,from_formatted,to,caller_name,direction,status\n"
        'CA1,"Tue, 01 Dec 2026 15:10:00 +0000",,"Tue, 01 Dec 2026 15:10:00 +0000",,+13125550142,'
        '"(312) 555-0142",+13125550100,,inbound,busy\n'
        'CA2,"Tue, 01 Dec 2026 10:12:00 -0500",,,,+13125550143,,+13125550100,"DOE, J",inbound,no-answer\n'
    )
    log = read(write(tmp_path, "api.csv", text))
    assert log.format == "twilio"
    assert [c.received for c in log.calls] == [
        datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO),
        datetime(2026, 12, 1, 9, 12, tzinfo=CHICAGO),  # start_time empty: date_created is used
    ]
    assert log.calls[1].caller_name == "DOE, J"


def test_utc_to_chicago_across_dst_changes(tmp_path: Path) -> None:
    rows = [
        ("CA1", "2026-03-08T07:59:00Z"),  # 01:59 CST, just before spring forward
        ("CA2", "2026-03-08T08:00:00Z"),  # 03:00 CDT
        ("CA3", "2026-11-01T06:30:00Z"),  # 01:30 CDT (first pass)
        ("CA4", "2026-11-01T07:30:00Z"),  # 01:30 CST (second pass)
    ]
    body = "".join(f"{sid},{ts},+1312555014{i},inbound,no-answer\n" for i, (sid, ts) in enumerate(rows))
    log = read(write(tmp_path, "dst.csv", "Sid,StartTime,From,Direction,Status\n" + body))
    got = [(c.received.strftime("%m-%d %H:%M"), c.received.utcoffset()) for c in log.calls]
    assert got == [
        ("03-08 01:59", timedelta(hours=-6)),
        ("03-08 03:00", timedelta(hours=-5)),
        ("11-01 01:30", timedelta(hours=-5)),
        ("11-01 01:30", timedelta(hours=-6)),
    ]
    # Same-zone arithmetic in Python ignores `fold`; the instants are an hour apart in UTC.
    assert log.calls[3].received.astimezone(UTC) - log.calls[2].received.astimezone(UTC) == timedelta(hours=1)


MESSY = (
    "Sid;StartTime;From;CallerName;Direction;Status;Annotation\n"
    "\n"
    'CA1;2026-12-01 15:10:00;"+1 312-555-0142 ext. 12";"Doe, Jane; Mrs";inbound;no-answer;plain\n'
    "\n"
    '"CA2";"2026-12-01 15:11:00";"+44 20 7946 0958";"=HYPERLINK(""http://x"",""y"")";inbound;busy;"two\n'
    'lines"\n'
    "CA3;2026-12-01 15:12:00;+52 55 1234 5678;+1-555-0100;inbound;no-answer;\n"
    "CA4;yesterday-ish;+13125550199;;inbound;no-answer;\n"
    "   \n"
    "CA5;2026-12-01 15:14:00;12;;inbound;no-answer;\n"
)


def test_messy_csv(tmp_path: Path) -> None:
    log = read(write(tmp_path, "messy.csv", MESSY, bom=True))
    assert log.format == "twilio"
    assert [(c.key, c.line) for c in log.calls] == [("twilio:CA1", 3), ("twilio:CA2", 5), ("twilio:CA3", 7)]
    one, two, three = log.calls
    assert one.phone_raw == "+1 312-555-0142 ext. 12"
    assert one.phone_key == "+13125550142;ext=12"
    assert one.caller_name == "Doe, Jane; Mrs"
    assert two.phone_key == "+442079460958"
    assert two.caller_name == HYPERLINK
    assert three.phone_key == "+525512345678"
    assert three.caller_name == "+1-555-0100"
    assert [(b.line, b.reason) for b in log.bad] == [
        (8, "call time is not readable"),
        (10, "phone number has the wrong number of digits"),
    ]


def test_bad_record_reasons_hold_no_patient_data(tmp_path: Path) -> None:
    log = read(write(tmp_path, "messy.csv", MESSY))
    for bad in log.bad:
        assert "3125550199" not in bad.reason and "yesterday" not in bad.reason and "12" not in bad.reason


RINGCENTRAL = """\
Type,Direction,From,From Name,To,Date,Time,Action,Action Result,Length
Voice,Inbound,(312) 555-0142,"SMITH, JANE",(312) 555-0100,Tue 12/01/2026,9:10 AM,Phone Call,Missed,0:00:00
Voice,Inbound,(312) 555-0143,,(312) 555-0100,Tue 12/01/2026,9:15 AM,Phone Call,Voicemail,0:00:41
Voice,Inbound,(312) 555-0144,WIRELESS CALLER,(312) 555-0100,Tue 12/01/2026,1:05 PM,Phone Call,Hang Up,0:00:05
Voice,Inbound,(312) 555-0145,,(312) 555-0100,Tue 12/01/2026,1:30 PM,Phone Call,Accepted,0:04:10
Voice,Outbound,(312) 555-0100,,(312) 555-0146,Tue 12/01/2026,2:00 PM,VoIP Call,Missed,0:00:00
Fax,Inbound,(312) 555-0147,,(312) 555-0100,Tue 12/01/2026,2:10 PM,Incoming Fax,Missed,0:00:00
Voice,Inbound,(312) 555-0148,,(312) 555-0100,Tue 13/45/2026,2:20 PM,Phone Call,Missed,0:00:00
"""


def test_ringcentral_call_log(tmp_path: Path) -> None:
    log = read(write(tmp_path, "rc.csv", RINGCENTRAL), export_tz=NEW_YORK)
    assert log.format == "ringcentral"
    assert [(c.kind, c.line, c.caller_name) for c in log.calls] == [
        ("missed", 2, "SMITH, JANE"),
        ("voicemail", 3, ""),
        ("abandoned", 4, "WIRELESS CALLER"),
    ]
    assert log.calls[0].received == datetime(2026, 12, 1, 8, 10, tzinfo=CHICAGO)  # 9:10 Eastern
    assert log.calls[2].received == datetime(2026, 12, 1, 12, 5, tzinfo=CHICAGO)
    assert log.calls[0].phone_raw == "(312) 555-0142"
    assert all(c.key.startswith("call:") for c in log.calls)  # no call id column: number + time
    assert log.ignored == 3
    assert [(b.line, b.reason) for b in log.bad] == [(8, "call time is not readable")]


def test_ringcentral_api_field_names(tmp_path: Path) -> None:
    text = (
        "id,sessionId,startTime,type,direction,action,result,from,fromName\n"
        "X1,S1,2026-12-01T15:10:00.000Z,Voice,Inbound,Phone Call,Missed,+13125550142,\n"
    )
    log = read(write(tmp_path, "rc-api.csv", text), fmt="ringcentral")
    assert [(c.key, c.received) for c in log.calls] == [
        ("ringcentral:X1", datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO))
    ]


def test_hash_keys_are_stable_across_files(tmp_path: Path) -> None:
    first = read(write(tmp_path, "a.csv", RINGCENTRAL), export_tz=NEW_YORK)
    lines = RINGCENTRAL.splitlines()
    overlap = write(tmp_path, "b.csv", "\n".join([lines[0], lines[3], lines[1]]) + "\n")
    second = read(overlap, export_tz=NEW_YORK)
    assert {c.key for c in second.calls} <= {c.key for c in first.calls}
    assert len({c.key for c in first.calls}) == 3


def test_generic_mapping(tmp_path: Path) -> None:
    text = (
        "Call ID,Day,Clock,Number,Who,Way,Outcome\n"
        "7,2026-12-01,09:10,312.555.0142,Jane,IN,No Answer\n"
        "8,2026-12-01,09:20,312.555.0143,,IN,Answered\n"
        "9,2026-12-01,09:30,312.555.0144,,OUT,No Answer\n"
        "10,2026-12-01,09:40,312.555.0145,,IN,VM left\n"
    )
    mapping = {
        "received": "Day + Clock",
        "phone": "Number",
        "caller_name": "Who",
        "direction": "Way",
        "status": "Outcome",
        "id": "Call ID",
        "missed_statuses": "No Answer, VM left",
        "inbound_values": "in",
        "timezone": "America/Chicago",
    }
    log = read(write(tmp_path, "pbx.csv", text), mapping=mapping)
    assert log.format == "generic"
    assert [(c.key, c.kind, c.received) for c in log.calls] == [
        ("generic:7", "missed", datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO)),
        ("generic:10", "voicemail", datetime(2026, 12, 1, 9, 40, tzinfo=CHICAGO)),
    ]
    assert log.ignored == 2


def test_generic_minimal_mapping_takes_every_row(tmp_path: Path) -> None:
    text = "When,Phone\n12/01/2026 3:10 PM,3125550142\n"
    mapping = {"received": "When", "phone": "Phone"}
    log = read(write(tmp_path, "missed.csv", text), fmt="generic", mapping=mapping)
    assert [(c.kind, c.received) for c in log.calls] == [
        ("missed", datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO))
    ]


def test_generic_mapping_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "x.csv", "When,Phone\n2026-12-01 09:00,3125550142\n")
    with pytest.raises(UnknownFormatError, match=r"phone = 'Number'.*Columns found: 'When', 'Phone'"):
        read(path, mapping={"received": "When", "phone": "Number"})
    with pytest.raises(ConfigError, match="unknown intake mapping key"):
        read(path, mapping={"received": "When", "phone": "Phone", "colour": "x"})
    with pytest.raises(ConfigError, match="time zone"):
        read(path, mapping={"received": "When", "phone": "Phone", "timezone": "Mars/Olympus"})


def test_unknown_format_lists_columns_and_mapping_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.csv", "Caller;When it rang;Outcome\nx;y;z\n")
    with pytest.raises(UnknownFormatError) as info:
        read(path)
    message = str(info.value)
    assert "'Caller', 'When it rang', 'Outcome'" in message
    for key in GENERIC_MAPPING_KEYS:
        assert key in message


def test_unknown_format_does_not_echo_a_headerless_data_row(tmp_path: Path) -> None:
    path = write(tmp_path, "noheader.csv", "2026-12-01 09:00,+13125550142,Jane Doe\n")
    with pytest.raises(UnknownFormatError) as info:
        read(path)
    assert "3125550142" not in str(info.value) and "2026" not in str(info.value)


def test_explicit_format_that_does_not_fit(tmp_path: Path) -> None:
    path = write(tmp_path, "rc.csv", RINGCENTRAL)
    with pytest.raises(UnknownFormatError, match=r"twilio export.*Columns found: 'Type'"):
        read(path, fmt="twilio")
    with pytest.raises(UnknownFormatError, match="known formats"):
        read(path, fmt="avaya")
    with pytest.raises(UnknownFormatError, match="generic format needs a column mapping"):
        read(path, fmt="generic")


def test_xlsx_export(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Sid", "StartTime", "From", "CallerName", "Direction", "Status"])
    sheet.append(["CA1", datetime(2026, 12, 1, 15, 10), 13125550142, HYPERLINK, "inbound", "no-answer"])
    sheet.append([None, None, None, None, None, None])
    sheet.append(["CA2", "2026-12-01 15:20:00", "+1-312-555-0143", "+1-555-0100", "inbound", "busy"])
    sheet.append(["CA3", "2026-12-01 15:30:00", None, None, "inbound", "busy"])
    sheet.cell(row=2, column=4).data_type = "s"  # a text cell that starts with "=", not a formula
    path = tmp_path / "calls.xlsx"
    book.save(path)
    log = read(path)
    assert [(c.key, c.line, c.phone_raw, c.caller_name) for c in log.calls] == [
        ("twilio:CA1", 2, "13125550142", HYPERLINK),
        ("twilio:CA2", 4, "+1-312-555-0143", "+1-555-0100"),
    ]
    assert log.calls[0].received == datetime(2026, 12, 1, 9, 10, tzinfo=CHICAGO)
    assert [(b.line, b.reason) for b in log.bad] == [(5, "no phone number")]


def test_progress_reports_the_end(tmp_path: Path) -> None:
    body = "".join(f"CA{i},2026-12-01 15:{i % 60:02d}:00,+1312555{i:04d},inbound,busy\n" for i in range(4500))
    seen: list[tuple[int, int]] = []
    log = read(
        write(tmp_path, "big.csv", "Sid,StartTime,From,Direction,Status\n" + body),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen[-1] == (4500, 4500)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 3
    assert len(log.calls) + len(log.bad) == 4500


def test_windows_1252_fallback(tmp_path: Path) -> None:
    path = tmp_path / "cp.csv"
    path.write_bytes(
        "Sid,StartTime,From,CallerName,Direction,Status\nCA1,2026-12-01 15:10,3125550142,"
        "Mu\u00f1oz,inbound,busy\n".encode("cp1252")
    )
    assert read(path).calls[0].caller_name == "Mu\u00f1oz"
