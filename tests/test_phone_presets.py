"""The phone systems' real exports (../shared/phone-exports), imported end to end through the CLI.

Every expected item below was worked out by hand from the files (see the comments): which numbers,
how many calls each, which rows are ignored and why. The exports are read where they are; the tests
only write copies or variants of them into their own temp folders.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result

from callback_sheets import model
from callback_sheets.cli import main

EXPORTS = Path(__file__).resolve().parent.parent.parent / "shared" / "phone-exports"
needs_exports = pytest.mark.skipif(
    not (EXPORTS / "asterisk" / "Master.ring-groups.csv").is_file(),
    reason=f"the shared phone-system exports are not at {EXPORTS}",
)

TOML = """
[clinic]
name = "Test Clinic"
timezone = "America/Chicago"
phone_region = "{region}"

[holidays]
country = "US"

[queue]
workbook = "queue.xlsx"

[escalation]
owner = "Nurse Patel"
{extra}
"""


def clinic(tmp_path: Path, *, region: str = "US", extra: str = "") -> Path:
    path = tmp_path / "callback_sheets.toml"
    path.write_text(TOML.format(region=region, extra=extra), encoding="utf-8")
    result = invoke(path, "init")
    assert result.exit_code == 0, result.output
    return path


def invoke(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)


def imported(config: Path, export: Path, now: str = "2024-01-29T09:00") -> dict[str, Any]:
    result = invoke(config, "import-calls", str(export), "--json", "--now", now)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def rows(config: Path) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(config.parent / "queue.xlsx")[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    return [dict(zip(header, (c.value for c in r), strict=False)) for r in ws.iter_rows(min_row=2)]


def items(config: Path) -> list[tuple[str, str, int, str]]:
    """(phone, Received, Calls, Arrived) per row, in sheet order."""
    return [
        (r[model.PHONE], f"{r[model.RECEIVED]:%Y-%m-%d %H:%M}", r[model.CALLS], r[model.ARRIVED])
        for r in rows(config)
    ]


# --- Asterisk ------------------------------------------------------------------------------------------
# Master.ring-groups.csv, 84 rows in cdr_csv's default order, grouped by linkedid into 36 calls:
#   * 24 calls have a Dial leg ANSWERED with a dstchannel: ignored as answered (among them the third call
#     of 89085951008 at 03:39:25, and two from 6-digit local numbers 214943 / 214928);
#   * 6 calls are answered by the PBX's Hangup app only (an announcement, nobody on the line):
#     89245555937 at 15:07:24, 15:27:58, 15:31:16; 89834393618 at 01:13:18; 89085951008 at 03:34:03
#     and 03:34:43;
#   * 6 calls have Dial legs and none ANSWERED: 89245555937 at 15:33:20 (3 rows) and 16:16:36 (a ring
#     group through Local channels: 7 rows, one call); 89937383217 at 00:18:21 (7 rows);
#     89937360171 at 08:28:15 and 08:28:52; 89021675872 at 11:57:38 (BUSY, 0 s).
# Times are the PBX's local time (no usegmtime), read in the clinic's zone. 2024-01-27 is a Saturday,
# the 28th a Sunday: every call arrived on a closed day and is due Monday at the end of the morning.
RING_GROUP_ITEMS = [
    ("89245555937", "2024-01-27 15:07", 5, "Closed day"),  # 3 announcement-only + 2 unanswered
    ("89937383217", "2024-01-28 00:18", 1, "Closed day"),
    ("89834393618", "2024-01-28 01:13", 1, "Closed day"),
    ("89085951008", "2024-01-28 03:34", 2, "Closed day"),
    ("89937360171", "2024-01-28 08:28", 2, "Closed day"),
    ("89021675872", "2024-01-28 11:57", 1, "Closed day"),
]


@needs_exports
def test_asterisk_ring_groups_one_item_per_caller_legs_never_two(tmp_path: Path) -> None:
    config = clinic(tmp_path, region="RU")  # the PBX's callers dial Russian numbers (8 9xx ...)
    summary = imported(config, EXPORTS / "asterisk" / "Master.ring-groups.csv")
    assert summary["format"] == "asterisk"  # recognised without --format, from the rows' shape
    assert (summary["missed_calls"], summary["ignored"], summary["bad_records"]) == (12, 24, 0)
    assert summary["ignored_why"] == {"answered": 24}
    assert (summary["new_rows"], summary["merged"]) == (6, 6)
    assert summary["unknown_values"] == []
    assert items(config) == RING_GROUP_ITEMS
    first = rows(config)[0]
    assert f"{first[model.LATEST_CALL]:%H:%M}" == "16:16" and first[model.NOTES] == "Abandoned call"
    assert all(f"{r[model.NEXT_ATTEMPT]:%Y-%m-%d %H:%M}" == "2024-01-29 12:00" for r in rows(config))
    again = imported(config, EXPORTS / "asterisk" / "Master.ring-groups.csv")
    assert (again["new_rows"], again["merged"], again["already_imported"]) == (0, 0, 12)


@needs_exports
def test_asterisk_announcement_only_switch_and_short_calls(tmp_path: Path) -> None:
    extra = '[intake]\nignore_shorter_than_seconds = 5\n[intake.asterisk]\nannouncement_only = "answered"\n'
    config = clinic(tmp_path, region="RU", extra=extra)
    summary = imported(config, EXPORTS / "asterisk" / "Master.ring-groups.csv")
    # the 6 announcement-only calls are ignored now; the BUSY call rang 0 s (< 5): counted, not queued
    assert summary["ignored_why"] == {"answered": 24, "answered by an announcement only": 6}
    assert (summary["missed_calls"], summary["too_short"], summary["new_rows"]) == (5, 1, 3)
    assert items(config) == [
        ("89245555937", "2024-01-27 15:33", 2, "Closed day"),
        ("89937383217", "2024-01-28 00:18", 1, "Closed day"),
        ("89937360171", "2024-01-28 08:28", 2, "Closed day"),
    ]


@needs_exports
def test_asterisk_usegmtime_reads_utc(tmp_path: Path) -> None:
    config = clinic(tmp_path, region="RU", extra="[intake.asterisk]\nusegmtime = true\n")
    imported(config, EXPORTS / "asterisk" / "Master.ring-groups.csv")
    # 2024-01-27 15:07:24 UTC is 09:07 in Chicago (UTC-6 in January)
    assert items(config)[0][:2] == ("89245555937", "2024-01-27 09:07")


@needs_exports
def test_asterisk_cdr_custom_order(tmp_path: Path) -> None:
    # Master.cdr-custom.csv: 14 rows in the cdr_custom sample's order (clid first, no linkedid: one
    # uniqueid per row). Every call is between extensions client1 and client2: all 14 are internal.
    config = clinic(tmp_path)
    summary = imported(config, EXPORTS / "asterisk" / "Master.cdr-custom.csv")
    assert summary["format"] == "asterisk"
    assert (summary["missed_calls"], summary["ignored"]) == (0, 14)
    assert summary["ignored_why"] == {"internal call (from an extension)": 14}
    assert rows(config) == []
    # The same file with client2 calling from an outside number: its NO ANSWER calls (lines 2 and 5,
    # 01:52:11 and 02:23:06) are missed and merge into one item; its answered calls (lines 3, 13, 14)
    # are ignored; client1's calls stay internal (11 rows, one of them NO ANSWER at 02:53:44).
    text = (EXPORTS / "asterisk" / "Master.cdr-custom.csv").read_text(encoding="utf-8")
    variant = tmp_path / "Master.csv"
    variant.write_text(text.replace('"client2","1234"', '"3125550142","1234"'), encoding="utf-8")
    summary = imported(config, variant)
    assert summary["ignored_why"] == {"answered": 3, "internal call (from an extension)": 9}
    assert (summary["missed_calls"], summary["new_rows"], summary["merged"]) == (2, 1, 1)
    assert items(config) == [("3125550142", "2023-07-26 01:52", 2, "After hours")]


def test_asterisk_configured_columns_and_unknown_dispositions(tmp_path: Path) -> None:
    extra = (
        '[intake.asterisk]\ncolumns = ["start", "src", "lastapp", "disposition", "dstchannel", "uniqueid"]\n'
    )
    config = clinic(tmp_path, extra=extra)
    export = tmp_path / "Master.csv"
    export.write_text(
        '"2026-12-01 09:10:00","3125550142","Dial","NO ANSWER","SIP/200-1","a.1"\n'
        '"2026-12-01 09:20:00","3125550143","Dial","ANSWERED","SIP/200-2","a.2"\n'
        '"2026-12-01 09:30:00","3125550144","Dial","WEIRD","SIP/200-3","a.3"\n'
        '"2026-12-01 09:31:00","3125550145","Dial","WEIRD","SIP/200-4","a.4"\n',
        encoding="utf-8",
    )
    summary = imported(config, export, now="2026-12-01T10:00")
    assert summary["format"] == "asterisk" and summary["unknown_values"] == [
        {"column": "disposition", "value": "WEIRD", "rows": 2, "config_key": "intake.asterisk"}
    ]
    assert items(config) == [("3125550142", "2026-12-01 09:10", 1, "In hours")]


def test_asterisk_bad_columns_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "callback_sheets.toml"
    path.write_text(TOML.format(region="US", extra='[intake.asterisk]\ncolumns = ["src", "when"]\n'), "utf-8")
    result = invoke(path, "refresh")
    assert result.exit_code == 2 and "intake.asterisk.columns" in result.output


# --- Google Voice ------------------------------------------------------------------------------------
# takeout-wjcarpenter/Takeout/Voice/Calls: 10 event pages. Missed: +17323215555 on 2016-11-22
# 09:57:49-08:00. Voicemail: +12123214444 on 2014-05-16 19:54:27-07:00 and +15703214444 on
# 2016-04-30 17:16:43-07:00 (both "Edson Arantes do Nascimento"). Ignored: 4 Placed (two of them in
# files named without a type), 2 Received, 1 Recorded.
TAKEOUT = EXPORTS / "google-voice" / "takeout-wjcarpenter"
GV_ITEMS = [
    ("+12123214444", "2014-05-16 21:54", 1, "After hours"),  # a Friday, 21:54 Chicago
    ("+15703214444", "2016-04-30 19:16", 1, "Closed day"),  # a Saturday
    ("+17323215555", "2016-11-22 11:57", 1, "In hours"),  # a Tuesday
]


def _check_takeout(config: Path, summary: dict[str, Any]) -> None:
    assert summary["format"] == "google-voice"
    assert (summary["missed_calls"], summary["ignored"], summary["bad_records"]) == (3, 7, 0)
    assert summary["ignored_why"] == {"placed": 4, "received": 2, "recorded": 1}
    assert items(config) == GV_ITEMS
    found = rows(config)
    assert [r[model.NOTES] or None for r in found] == ["Voicemail", "Voicemail", None]
    assert found[0][model.CALLER] == "Edson Arantes do Nascimento"
    # the transcripts ("I'm just calling to say that I'm coming home", "sitting out in front") never
    # reach the workbook, in any cell of any tab
    book = openpyxl.load_workbook(config.parent / "queue.xlsx")
    words = {str(c.value) for ws in book for row in ws.iter_rows() for c in row if c.value is not None}
    assert not any("coming home" in w or "sitting out" in w or "Transcript" in w for w in words)


@needs_exports
def test_google_voice_takeout_folder(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    _check_takeout(config, imported(config, TAKEOUT))


@needs_exports
def test_google_voice_takeout_zip_and_twice(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    archive = tmp_path / "takeout-20240129T090000Z-001.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for page in sorted(TAKEOUT.rglob("*.html")):
            z.write(page, page.relative_to(TAKEOUT).as_posix())
        z.writestr("Takeout/archive_browser.html", "<html>not an event</html>")
    _check_takeout(config, imported(config, archive))
    again = imported(config, TAKEOUT)  # the same events, from the folder: nothing new
    assert (again["new_rows"], again["already_imported"]) == (0, 3)


@needs_exports
def test_google_voice_bad_numbers_are_named_by_event(tmp_path: Path) -> None:
    # psanford: a missed call from tel:+66666 (too short) and a voicemail from +1 111-111-1111 (no such
    # area code): both bad, named by their position, never by file name (it holds the caller's name).
    config = clinic(tmp_path)
    result = invoke(
        config, "import-calls", str(EXPORTS / "google-voice" / "psanford"), "--now", "2024-01-29T09:00"
    )
    assert result.exit_code == 0
    assert "event 1: phone number has the wrong number of digits (skipped)" in result.stderr
    assert "event 2: phone number does not exist" in result.stderr
    assert "Sleve" not in result.stderr and "Dwigt" not in result.stderr
    assert rows(config) == []


# --- 3CX and Aircall (from the published formats) ------------------------------------------------------


def test_3cx_cdr_log_without_header(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    export = tmp_path / "cdr.log"
    export.write_text(
        # historyid,callid,duration,time-start,time-answered,time-end,reason-terminated,from-no,to-no,...
        "1001,00000C1,00:00:20,2026/12/01 15:10:00,,2026/12/01 15:10:20,TerminatedBySrc,+13125550142,800\n"
        "1002,00000C2,00:01:40,2026/12/01 15:20:00,2026/12/01 15:20:05,2026/12/01 15:21:40,TerminatedByDst,"
        "+13125550143,800\n"
        "1003,00000C3,00:00:03,2026/12/01 15:30:00,,2026/12/01 15:30:03,Strange,+13125550144,800\n"
        "1004,00000C4,00:00:09,2026/12/01 15:40:00,,2026/12/01 15:40:09,TerminatedBySrc,Ext.101,"
        "+13125550145\n",
        encoding="utf-8",
    )
    summary = imported(config, export, now="2026-12-01T10:00")
    assert summary["format"] == "3cx"
    assert summary["ignored_why"] == {"answered": 1, "outbound or internal": 1}
    assert summary["unknown_values"] == [
        {"column": "reason-terminated", "value": "Strange", "rows": 1, "config_key": ""}
    ]
    assert items(config) == [
        ("+13125550142", "2026-12-01 09:10", 1, "In hours"),  # 15:10 UTC
        ("+13125550144", "2026-12-01 09:30", 1, "In hours"),
    ]


def test_aircall_export(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    export = tmp_path / "aircall.csv"
    export.write_text(
        "id,datetime (UTC),direction,answered,missed_call_reason,call type,from,to,duration (total)\n"
        "11,2026-12-01 15:10:00,inbound,No,agents_did_not_answer,Missed,+13125550142,+13125550100,20\n"
        "12,2026-12-01 23:30:00,inbound,No,out_of_opening_hours,Out of business hours,+13125550143,x,5\n"
        "13,2026-12-01 15:20:00,inbound,Yes,,Answered,+13125550144,x,200\n"
        "14,2026-12-01 15:25:00,outbound,Yes,,Outbound,+13125550100,+13125550145,60\n"
        "15,2026-12-01 15:26:00,inbound,No,short_abandoned,Abandoned,+13125550146,x,2\n"
        "16,2026-12-01 15:27:00,inbound,No,,Transferred away,+13125550147,x,2\n",
        encoding="utf-8",
    )
    summary = imported(config, export, now="2026-12-01T18:00")
    assert summary["format"] == "aircall"
    assert summary["ignored_why"] == {"answered": 1, "outbound": 1}
    assert summary["unknown_values"] == [
        {"column": "call type", "value": "transferred away", "rows": 1, "config_key": ""}
    ]
    assert items(config) == [
        ("+13125550142", "2026-12-01 09:10", 1, "In hours"),
        ("+13125550146", "2026-12-01 09:26", 1, "In hours"),
        ("+13125550143", "2026-12-01 17:30", 1, "After hours"),
    ]


def test_unknown_file_lists_every_preset(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    export = tmp_path / "what.csv"
    export.write_text("Foo,Bar\n1,2\n", encoding="utf-8")
    result = invoke(config, "import-calls", str(export))
    assert result.exit_code != 0
    for name in ("twilio", "ringcentral", "3cx", "aircall", "asterisk", "google-voice"):
        assert name in result.output


# --- Received is the earliest call ---------------------------------------------------------------------

TWILIO = "Sid,StartTime,From,Direction,Status\n"


def test_received_is_the_earliest_call_and_a_staff_row_gets_a_problem(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    # listed latest first: the new item's Received is the earliest (07:05 UTC+... 13:05Z = 07:05)
    export = tmp_path / "calls.csv"
    export.write_text(
        TWILIO + "CA2,2026-12-01T14:10:00Z,+13125550150,inbound,no-answer\n"
        "CA1,2026-12-01T13:05:00Z,+13125550150,inbound,no-answer\n",
        encoding="utf-8",
    )
    imported(config, export, now="2026-12-01T08:30")
    assert items(config) == [("+13125550150", "2026-12-01 07:05", 2, "After hours")]
    # a row staff typed at 08:10, then a call from that number at 07:05 comes in a later export
    staff = tmp_path / "staff.csv"
    staff.write_text(TWILIO + "CA3,2026-12-01T13:00:00Z,+13125550160,inbound,no-answer\n", encoding="utf-8")
    book = openpyxl.load_workbook(config.parent / "queue.xlsx")
    ws = book[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    row = [None] * len(header)
    row[header.index(model.RECEIVED)] = datetime(2026, 12, 1, 8, 10)
    row[header.index(model.PHONE)] = "(312) 555-0160"
    row[header.index(model.STATUS)] = "New"
    ws.append(row)
    book.save(config.parent / "queue.xlsx")
    assert invoke(config, "refresh", "--now", "2026-12-01T08:30").exit_code == 0
    imported(config, staff, now="2026-12-01T08:40")
    typed = rows(config)[1]
    assert f"{typed[model.RECEIVED]:%H:%M}" == "08:10" and typed[model.CALLS] == 2  # the staff cell stays
    assert "Earlier call from this number at 2026-12-01 07:00" in typed[model.PROBLEMS]
    assert invoke(config, "refresh", "--now", "2026-12-01T09:00").exit_code == 0  # kept by refresh
    assert "Earlier call from this number at 2026-12-01 07:00" in rows(config)[1][model.PROBLEMS]


def test_export_summary_on_a_terminal_names_ignored_and_unknown(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    export = tmp_path / "Master.csv"
    export.write_text(
        '"","3125550142","200","from-pstn","""Ann"" <3125550142>","SIP/t-1","SIP/200-2","Dial","SIP/200",'
        '"2026-12-01 09:10:00","","2026-12-01 09:10:30",30,0,"NO ANSWER","DOCUMENTATION",'
        '"1.1","","","1.1",1\n'
        '"","201","3125550100","from-internal","""Desk"" <201>","SIP/201-3","SIP/t-4","Dial","SIP/t",'
        '"2026-12-01 09:20:00","2026-12-01 09:20:05","2026-12-01 09:21:00",60,55,"ANSWERED","DOCUMENTATION",'
        '"1.2","","","1.2",2\n',
        encoding="utf-8",
    )
    result = invoke(config, "import-calls", str(export), "--now", "2026-12-01T10:00")
    assert result.exit_code == 0
    assert "asterisk: 1 missed calls read, 1 ignored (1 internal call (from an extension))" in result.stderr
    assert rows(config)[0][model.CALLER] == "Ann"


def _zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, body in files.items():
            z.writestr(name, body)
    return buffer.getvalue()


def test_a_zip_without_events_is_refused(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    archive = tmp_path / "other.zip"
    archive.write_bytes(_zip_bytes({"readme.txt": "hello"}))
    result = invoke(config, "import-calls", str(archive))
    assert result.exit_code == 1 and "no Google Voice call events" in result.output


def test_readme_and_help_list_the_registry() -> None:
    from callback_sheets.intake import REGISTRY

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing missed calls", 1)[1].split("\n## ", 1)[0]
    listed = [
        line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")
    ]
    assert sorted(listed) == sorted([*(p.name for p in REGISTRY), "generic"])
    help_text = CliRunner().invoke(main, ["import-calls", "--help"]).output
    assert all(f"{p.name}: {p.summary[:30]}" in " ".join(help_text.split()) for p in REGISTRY)


def test_nothing_recognised_exits_1(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    export = tmp_path / "Master.csv"
    export.write_text(
        '"","3125550142","200","from-pstn","","SIP/t-1","SIP/200-2","Dial","SIP/200",'
        '"2026-12-01 09:10:00","","2026-12-01 09:10:30",30,0,"LOST","DOCUMENTATION","1.1","","","1.1",1\n',
        encoding="utf-8",
    )
    result = invoke(config, "import-calls", str(export), "--now", "2026-12-01T10:00")
    assert result.exit_code == 1 and "unknown disposition values, not imported: 'LOST' (1)" in result.stderr


def test_an_import_created_item_moves_to_an_earlier_call_from_a_later_file(tmp_path: Path) -> None:
    # the case: an item the import made at 08:10, then a later export brings a 07:05 call
    config = clinic(tmp_path)
    first = tmp_path / "first.csv"
    first.write_text(TWILIO + "CA1,2026-12-01T14:10:00Z,+13125550150,inbound,no-answer\n", encoding="utf-8")
    imported(config, first, now="2026-12-01T08:20")
    assert items(config) == [("+13125550150", "2026-12-01 08:10", 1, "In hours")]
    second = tmp_path / "second.csv"
    second.write_text(TWILIO + "CA0,2026-12-01T13:05:00Z,+13125550150,inbound,no-answer\n", encoding="utf-8")
    imported(config, second, now="2026-12-01T08:30")
    row = rows(config)[0]
    assert items(config) == [("+13125550150", "2026-12-01 07:05", 2, "After hours")]
    assert f"{row[model.LATEST_CALL]:%H:%M}" == "08:10" and "Earlier call" not in row[model.PROBLEMS]
    # the deadline is measured from the earliest call: 07:05 is before opening -> end of the morning
    assert f"{row[model.NEXT_ATTEMPT]:%H:%M}" == "12:00"
    # still the import's own row for a third file, as long as staff leave number and Received alone
    third = tmp_path / "third.csv"
    third.write_text(TWILIO + "CA9,2026-12-01T12:50:00Z,+13125550150,inbound,busy\n", encoding="utf-8")
    imported(config, third, now="2026-12-01T08:40")
    assert items(config) == [("+13125550150", "2026-12-01 06:50", 3, "After hours")]
    # once staff retype Received, the row is theirs: an earlier call only adds a problem
    book = openpyxl.load_workbook(config.parent / "queue.xlsx")
    ws = book[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    ws.cell(2, header.index(model.RECEIVED) + 1).value = datetime(2026, 12, 1, 6, 55)
    book.save(config.parent / "queue.xlsx")
    fourth = tmp_path / "fourth.csv"
    fourth.write_text(TWILIO + "CA8,2026-12-01T12:40:00Z,+13125550150,inbound,busy\n", encoding="utf-8")
    imported(config, fourth, now="2026-12-01T08:50")
    row = rows(config)[0]
    assert f"{row[model.RECEIVED]:%H:%M}" == "06:55" and row[model.CALLS] == 4
    assert "Earlier call from this number at 2026-12-01 06:40" in row[model.PROBLEMS]
