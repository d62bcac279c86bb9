"""After-hours marking (`Arrived`) across a weekend and a holiday, the work list at opening, the reports'
after_hours figures, and the after-hours escalation recipients."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from callback_sheets import model
from callback_sheets.cli import main
from callback_sheets.config import Config
from callback_sheets.core.arrival import AFTER_HOURS, CLOSED_DAY, IN_HOURS, arrival

# Thanksgiving 2026 is Thursday 2026-11-26 (US holidays); default hours Mon-Fri 08:00-12:00, 13:00-17:00.
CASES = [
    ("2026-11-25 07:59", AFTER_HOURS),  # Wednesday before opening
    ("2026-11-25 08:00", IN_HOURS),
    ("2026-11-25 12:30", IN_HOURS),  # the lunch gap: open day, between opening and closing
    ("2026-11-25 16:59", IN_HOURS),
    ("2026-11-25 17:00", AFTER_HOURS),  # block ends are exclusive
    ("2026-11-26 10:00", CLOSED_DAY),  # Thanksgiving
    ("2026-11-27 10:00", IN_HOURS),  # the Friday after is a business day
    ("2026-11-28 10:00", CLOSED_DAY),  # Saturday
    ("2026-11-29 23:59", CLOSED_DAY),  # Sunday
    ("2026-11-30 06:00", AFTER_HOURS),  # Monday before opening
]


@pytest.mark.parametrize(("when", "expected"), CASES)
def test_arrival_over_a_holiday_and_a_weekend(config: Config, when: str, expected: str) -> None:
    assert arrival(config.calendar(), datetime.fromisoformat(when)) == expected


def test_a_closure_date_is_a_closed_day(tmp_path: Path) -> None:
    from callback_sheets.config import parse_config

    raw = {"clinic": {"timezone": "America/Chicago"}, "holidays": {"closures": ["2026-12-02"]}}
    cal = parse_config(raw, base=tmp_path, path=tmp_path / "c.toml").calendar()
    assert arrival(cal, datetime(2026, 12, 2, 10)) == CLOSED_DAY
    assert arrival(cal, datetime(2026, 12, 3, 10)) == IN_HOURS


def _row(header: list[str], **values: object) -> list[object]:
    row: list[object] = [None] * len(header)
    for key, value in values.items():
        row[header.index(key)] = value
    return row


def test_work_list_at_opening_in_arrival_order_and_reports(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    make_queue([])
    book = openpyxl.load_workbook(config.workbook)
    ws = book[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    # typed out of order: Wednesday evening, Thanksgiving, Saturday, Friday 10:00 (in hours), Sunday night
    typed = [
        ("A", datetime(2026, 11, 28, 9, 0)),
        ("B", datetime(2026, 11, 25, 18, 30)),
        ("C", datetime(2026, 11, 29, 22, 0)),
        ("D", datetime(2026, 11, 26, 11, 0)),
        ("E", datetime(2026, 11, 27, 10, 0)),
    ]
    for n, (name, when) in enumerate(typed):
        ws.append(
            _row(
                header,
                **{
                    model.RECEIVED: when,
                    model.CALLER: name,
                    model.PHONE: f"(312) 555-01{40 + n}",
                    model.REASON: "New appointment",
                    model.STATUS: "New",
                },
            )
        )
    ws.append(  # an after-hours message with an escalation keyword
        _row(
            header,
            **{
                model.RECEIVED: datetime(2026, 11, 28, 20, 0),
                model.CALLER: "F",
                model.PHONE: "(312) 555-0150",
                model.REASON: "Other",
                model.NOTES: "chest pain since this morning",
                model.STATUS: "New",
            },
        )
    )
    book.save(config.workbook)
    runner = CliRunner()
    out = runner.invoke(
        main, ["--config", str(config.path), "refresh", "--json", "--now", "2026-11-30T08:00"]
    )
    assert out.exit_code == 0, out.output
    summary = json.loads(out.stdout)["summary"]
    assert summary["after_hours"] == 5 and summary["after_hours_escalations"] == 1
    assert summary["escalation_alerts"][0]["to"] == ["Nurse Patel"]  # no after_hours_to set
    wb = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
    got = {r[header.index(model.CALLER)]: r for r in wb.iter_rows(min_row=2, values_only=True)}
    arrived = {name: got[name][header.index(model.ARRIVED)] for name in "ABCDEF"}
    assert arrived == {
        "A": CLOSED_DAY,
        "B": AFTER_HOURS,
        "C": CLOSED_DAY,
        "D": CLOSED_DAY,
        "E": IN_HOURS,
        "F": CLOSED_DAY,
    }
    # the first-attempt rule is unchanged: the end of the first block after the call
    assert got["B"][header.index(model.NEXT_ATTEMPT)] == datetime(2026, 11, 27, 12, 0)
    assert got["A"][header.index(model.NEXT_ATTEMPT)] == datetime(2026, 11, 30, 12, 0)
    listed = runner.invoke(
        main, ["--config", str(config.path), "queue", "--json", "--now", "2026-11-30T08:00"]
    )
    ids = [r["id"] for r in json.loads(listed.stdout)]
    by_name = {name: got[name][header.index(model.ID)] for name in "ABCDEF"}
    # the escalation first; then the overdue ones (B, D, E were due Friday); then the weekend's calls,
    # all due Monday 12:00, in arrival order: Saturday 09:00, then Sunday 22:00
    assert ids == [by_name[n] for n in ("F", "B", "D", "E", "A", "C")]
    report = runner.invoke(
        main,
        [
            "--config",
            str(config.path),
            "report",
            "weekly",
            "--date",
            "2026-11-25",
            "--json",
            "--now",
            "2026-11-30T08:00",
        ],
    )
    figures = json.loads(report.stdout)["scopes"][0]["figures"]
    assert figures["missed_calls"] == 6
    assert figures["after_hours"] == {
        "missed_calls": 5,
        "closed_day": 4,
        "recovered": 0,
        "recovery_rate": 0.0,
    }
    demand = json.loads(report.stdout)["demand"]["by_arrival"]
    assert [(t["value"], t["missed_calls"]) for t in demand] == [
        (IN_HOURS, 1),
        (AFTER_HOURS, 1),
        (CLOSED_DAY, 4),
    ]


def test_after_hours_escalation_names_after_hours_to(config: Config, make_queue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = config.path.read_text(encoding="utf-8").replace(
        '[escalation]\nowner = "Nurse Patel"',
        '[escalation]\nowner = "Nurse Patel"\nafter_hours_to = "oncall@clinic.example"',
    )
    config.path.write_text(text, encoding="utf-8")
    make_queue(
        [
            {
                model.RECEIVED: datetime(2026, 12, 1, 19, 0),
                model.PHONE: "(312) 555-0142",
                model.NOTES: "chest pain",
                model.STATUS: "New",
            },
            {
                model.RECEIVED: datetime(2026, 12, 1, 10, 0),
                model.PHONE: "(312) 555-0143",
                model.NOTES: "chest pain",
                model.STATUS: "New",
            },
        ]
    )
    out = CliRunner().invoke(
        main, ["--config", str(config.path), "refresh", "--json", "--now", "2026-12-01T20:00"]
    )
    alerts = json.loads(out.stdout)["summary"]["escalation_alerts"]
    assert [(a["to"], a["after_hours"]) for a in alerts] == [
        (["Nurse Patel", "oncall@clinic.example"], True),
        (["Nurse Patel"], False),
    ]
    ws = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    cells = [r[header.index(model.ESCALATION)] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert cells[0].startswith("ESCALATED to Nurse Patel and oncall@clinic.example (after hours):")
    assert cells[1].startswith("ESCALATED to Nurse Patel:")


def test_metrics_and_demand_tabs_show_after_hours(config: Config, make_queue) -> None:  # type: ignore[no-untyped-def]
    from callback_sheets.app import reports

    make_queue(
        [
            {
                model.RECEIVED: datetime(2026, 11, 28, 9, 0),
                model.PHONE: "(312) 555-0142",
                model.STATUS: "Booked",
            },
            {
                model.RECEIVED: datetime(2026, 11, 25, 18, 30),
                model.PHONE: "(312) 555-0143",
                model.STATUS: "New",
            },
            {
                model.RECEIVED: datetime(2026, 11, 25, 10, 0),
                model.PHONE: "(312) 555-0144",
                model.STATUS: "New",
            },
        ]
    )
    runner = CliRunner()
    args = ["--config", str(config.path), "report", "weekly", "--date", "2026-11-25", "--append"]
    assert runner.invoke(main, [*args, "--now", "2026-11-30T08:00"]).exit_code == 0
    book = openpyxl.load_workbook(config.workbook)
    metrics = list(book[model.METRICS_TAB].iter_rows(min_row=reports.METRICS_TABLE_ROW, values_only=True))
    header, row = list(metrics[0]), list(metrics[1])
    got = {
        h: row[header.index(h)] for h in ("After hours", "After hours recovered", "After hours recovery %")
    }
    assert got == {"After hours": 2, "After hours recovered": 1, "After hours recovery %": 50.0}
    assert header.index("Updated") < header.index("After hours")  # added at the end of the table
    assert (
        runner.invoke(main, ["--config", str(config.path), "refresh", "--now", "2026-11-30T08:00"]).exit_code
        == 0
    )
    demand = openpyxl.load_workbook(config.workbook)[model.DEMAND_TAB]
    cells = {c.value: c for r in demand.iter_rows() for c in r if isinstance(c.value, str)}
    arrived = cells["Arrived"]
    table = [[demand.cell(arrived.row + i, arrived.column + j).value for j in range(3)] for i in range(1, 4)]
    assert table == [[IN_HOURS, 1, 0], [AFTER_HOURS, 1, 0], [CLOSED_DAY, 1, 1]]


def test_a_queue_without_the_arrived_column_still_refreshes_and_init_adds_it(
    config: Config, make_queue
) -> None:  # type: ignore[no-untyped-def]
    make_queue(
        [{model.RECEIVED: datetime(2026, 11, 28, 9, 0), model.PHONE: "(312) 555-0142", model.STATUS: "New"}]
    )
    book = openpyxl.load_workbook(config.workbook)
    ws = book[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    ws.delete_cols(header.index(model.ARRIVED) + 1)  # a queue made by 0.1.0
    book.save(config.workbook)
    runner = CliRunner()
    out = runner.invoke(main, ["--config", str(config.path), "refresh", "--now", "2026-11-30T08:00"])
    assert out.exit_code == 0, out.output
    assert model.ARRIVED not in [c.value for c in openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB][1]]
    assert runner.invoke(main, ["--config", str(config.path), "init"]).exit_code == 0
    runner.invoke(main, ["--config", str(config.path), "refresh", "--now", "2026-11-30T08:00"])
    ws = openpyxl.load_workbook(config.workbook)[model.QUEUE_TAB]
    header = [c.value for c in ws[1]]
    assert ws.cell(2, header.index(model.ARRIVED) + 1).value == CLOSED_DAY
