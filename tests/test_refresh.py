"""The refresh planner on the in-memory backend: what it computes and what it leaves alone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.backends.memory import MemoryBackend
from callback_sheets.config import Config
from callback_sheets.core.refresh import Planner
from tests.conftest import row

NOW = datetime.fromisoformat("2026-12-01T09:30-06:00")


def memory_queue(config: Config, rows: list[dict]) -> MemoryBackend:
    backend = MemoryBackend()
    service.init(config=config, backend=backend)
    header = backend.sheets[model.QUEUE_TAB][0]
    for r in rows:
        backend.sheets[model.QUEUE_TAB].append([r.get(h) for h in header])
    return backend


def refreshed(config: Config, rows: list[dict], now: datetime = NOW) -> list[dict]:
    backend = memory_queue(config, rows)
    service.refresh(config=config, backend=backend, now=now)
    return backend.records()


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-12-01 09:10", "2026-12-01 12:00"),
        ("2026-12-01 11:50", "2026-12-01 17:00"),
        ("2026-12-01 18:30", "2026-12-02 12:00"),
        ("2026-12-04 16:55", "2026-12-07 12:00"),
        ("2026-11-25 16:45", "2026-11-27 12:00"),
    ],
)
def test_worked_examples_first_attempt(config: Config, received: str, due: str) -> None:
    [out] = refreshed(config, [row(received)], now=datetime.fromisoformat("2026-12-08T07:00-06:00"))
    assert out[model.NEXT_ATTEMPT] == datetime.fromisoformat(due)


@pytest.mark.parametrize(
    ("last", "due"), [("2026-12-01 10:00", "2026-12-01 17:00"), ("2026-12-01 14:00", "2026-12-02 12:00")]
)
def test_worked_examples_second_attempt(config: Config, last: str, due: str) -> None:
    r = row(
        "2026-12-01 08:30", Attempts=1, Last_attempt=datetime.fromisoformat(last), Last_outcome="No answer"
    )
    [out] = refreshed(config, [r], now=datetime.fromisoformat("2026-12-01T15:00-06:00"))
    assert out[model.NEXT_ATTEMPT] == datetime.fromisoformat(due)
    assert out[model.FIRST_ATTEMPT] == datetime.fromisoformat(last)
    assert out[model.PROBLEMS] is None


def test_ids_are_assigned_once_and_stable(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10"), row("2026-12-01 08:20")])
    service.refresh(config=config, backend=backend, now=NOW)
    ids = [r[model.ID] for r in backend.records()]
    assert ids == ["CB-00001", "CB-00002"]
    backend.sheets[model.QUEUE_TAB].append([None] * len(backend.sheets[model.QUEUE_TAB][0]))
    header = backend.sheets[model.QUEUE_TAB][0]
    backend.sheets[model.QUEUE_TAB][-1] = [row("2026-12-01 08:40").get(h) for h in header]
    service.refresh(config=config, backend=backend, now=NOW)
    assert [r[model.ID] for r in backend.records()] == ["CB-00001", "CB-00002", "CB-00003"]


def test_second_refresh_at_same_now_changes_nothing(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10"), row("2026-11-30 08:10", Notes="chest pain")])
    first = service.refresh(config=config, backend=backend, now=NOW)
    assert first.plan.summary.changes > 0
    second = service.refresh(config=config, backend=backend, now=NOW)
    assert second.plan.summary.changes == 0
    assert not second.plan.changes


def test_staff_cells_never_overwritten(config: Config) -> None:
    r = row(
        "2026-12-01 08:10", ID="MY-7", Owner="Zoe", Status="weird", Phone="12", Notes="=cmd|' /C calc'!A0"
    )
    [out] = refreshed(config, [r])
    for column in (model.ID, model.OWNER, model.STATUS, model.PHONE, model.NOTES, model.CALLER):
        assert out[column] == r[column]
    assert "Status 'weird'" in out[model.PROBLEMS]
    assert "wrong number of digits" in out[model.PROBLEMS]


def test_escalation_by_reason_and_spanish_keyword(config: Config) -> None:
    rows = [
        row("2026-12-01 08:10", Reason="Clinical concern"),
        row("2026-12-01 08:10", Reason="Billing", Notes="Dice que tiene FIEBRE alta", Language="Spanish"),
        row("2026-12-01 08:10", Reason="Billing", Notes="asks about a fee"),
    ]
    clinical, keyword, plain = refreshed(config, rows, now=datetime.fromisoformat("2026-12-01T08:20-06:00"))
    assert clinical[model.ESCALATION].startswith("ESCALATED to Nurse Patel")
    assert clinical[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 8, 25)  # 15 business minutes
    assert clinical[model.OWNER] == "Nurse Patel" and keyword[model.OWNER] == "Nurse Patel"
    assert "fiebre" in keyword[model.ESCALATION]
    assert plain[model.ESCALATION] is None and plain[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 12, 0)


def test_overdue_and_unresolved_flags(config: Config) -> None:
    rows = [row("2026-11-30 08:10"), row("2026-12-01 09:10")]
    old, new = refreshed(config, rows, now=datetime.fromisoformat("2026-12-01T12:30-06:00"))
    assert old[model.OVERDUE].startswith("OVERDUE") and "open > 1 business day" in old[model.OVERDUE]
    assert new[model.OVERDUE].startswith("OVERDUE since Tue 12-01 12:00")
    [fresh] = refreshed(
        config, [row("2026-12-01 09:10")], now=datetime.fromisoformat("2026-12-01T11:00-06:00")
    )
    assert fresh[model.OVERDUE] is None


def test_closed_rows_have_no_next_attempt_and_a_closed_time(config: Config) -> None:
    r = row(
        "2026-12-01 08:10",
        Status="Booked",
        Attempts=1,
        Last_attempt=datetime(2026, 12, 1, 9, 0),
        Last_outcome="Booked",
    )
    [out] = refreshed(config, [r])
    assert out[model.NEXT_ATTEMPT] is None and out[model.OVERDUE] is None
    assert out[model.CLOSED_AT] == datetime(2026, 12, 1, 9, 0)


def test_final_status_pointed_out_after_last_attempt(config: Config) -> None:
    r = row(
        "2026-12-01 08:10", Attempts=2, Last_attempt=datetime(2026, 12, 1, 14, 0), Last_outcome="No answer"
    )
    [out] = refreshed(config, [r], now=datetime.fromisoformat("2026-12-01T15:00-06:00"))
    assert "No response" in out[model.NEXT_STEP]


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"Received": None}, "Received is empty"),
        ({"Received": "yesterday-ish"}, "Received is not a date"),
        ({"Received": datetime(2026, 12, 9, 9, 0)}, "Received is in the future"),
        ({"Phone": ""}, "Phone number is missing"),
        ({"Reason": "Teeth"}, "Reason 'Teeth' is not one of"),
        ({"Attempts": 2}, "Attempts is 2 but Last attempt is empty"),
        ({"Attempts": "two"}, "Attempts 'two' is not a whole number"),
        ({"Last outcome": "Reached"}, "Last outcome is filled in but Attempts is 0"),
        ({"Status": "Resolved"}, "Status is Resolved but no attempt outcome"),
    ],
)
def test_garbage_rows_get_problems_and_do_not_stop_others(config: Config, fields: dict, problem: str) -> None:
    bad = row("2026-12-01 08:10")
    bad.update(fields)
    good = row("2026-12-01 08:15")
    out_bad, out_good = refreshed(config, [bad, good])
    assert problem in (out_bad[model.PROBLEMS] or "")
    assert out_good[model.PROBLEMS] is None and out_good[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 12, 0)


def test_copied_row_with_duplicate_id_is_reported(config: Config) -> None:
    rows = [row("2026-12-01 08:10", ID="CB-00001"), row("2026-12-01 08:10", ID="CB-00001")]
    a, b = refreshed(config, rows)
    assert "also on row 3" in a[model.PROBLEMS] and "also on row 2" in b[model.PROBLEMS]


def test_history_keeps_each_attempt_once(config: Config) -> None:
    r = row(
        "2026-12-01 08:10", Attempts=1, Last_attempt=datetime(2026, 12, 1, 9, 0), Last_outcome="No answer"
    )
    backend = memory_queue(config, [r])
    service.refresh(config=config, backend=backend, now=NOW)
    service.refresh(config=config, backend=backend, now=NOW)
    history = backend.records(model.HISTORY_TAB)
    assert [(h["ID"], h["Attempt"], h["Outcome"]) for h in history] == [("CB-00001", 1, "No answer")]


def test_record_attempt_sets_staff_cells_and_next_due(config: Config) -> None:
    backend = memory_queue(config, [row("2026-12-01 08:10")])
    service.refresh(config=config, backend=backend, now=NOW)
    at = datetime.fromisoformat("2026-12-01T10:00-06:00")
    service.record_attempt(
        config=config,
        backend=backend,
        item_id="cb-00001",
        outcome="no answer",
        note="left no message",
        now=at,
    )
    [out] = backend.records()
    assert out[model.ATTEMPTS] == 1 and out[model.LAST_OUTCOME] == "No answer"
    assert out[model.STATUS] == "In progress" and out[model.NOTES].endswith("left no message")
    assert out[model.NEXT_ATTEMPT] == datetime(2026, 12, 1, 17, 0)
    assert out[model.FIRST_ATTEMPT] == datetime(2026, 12, 1, 10, 0)


def test_missing_columns_are_a_clear_error(config: Config) -> None:
    from callback_sheets.errors import UsageError

    backend = MemoryBackend(queue=[["ID", "Received"]])
    with pytest.raises(UsageError, match="run `callback-sheets init`"):
        Planner(config=config, now=NOW).plan(backend.read())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    received=st.datetimes(min_value=datetime(2026, 2, 20), max_value=datetime(2026, 12, 31)),
    wait=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
)
def test_unresolved_by_date_matches_the_exact_rule(
    config: Config, received: datetime, wait: timedelta
) -> None:
    """The per-date shortcut for 'open > 1 business day' gives the exact rule's answer, DST days too
    (both changes fall inside the range: 2026-03-08 and 2026-11-01)."""
    tz = config.tz
    arrived = config.calendar().localize(received)
    now = (arrived.astimezone(ZoneInfo("UTC")) + wait).astimezone(tz)
    planner = Planner(config=config, now=now)
    exact = now > planner.cal.add_business_days(arrived, 1)
    assert planner._unresolved(arrived) is exact
