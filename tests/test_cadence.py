"""Cadence: the issue's worked examples exactly, per-kind rules, and properties of due times."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callback_sheets.core.cadence import (
    DEFAULT_RULES,
    CadenceKind,
    CadenceRule,
    Due,
    first_attempt_due,
    next_due,
)
from callback_sheets.core.calendar import BusinessCalendar
from callback_sheets.model import REASONS
from tests.test_calendar import CHICAGO, VARIED, at, clinic_calendar, night_calendar, saturday_calendar

CAL = clinic_calendar()
NEW = DEFAULT_RULES["New appointment"]
BILLING = DEFAULT_RULES["Billing"]
DOCS = DEFAULT_RULES["Document / referral"]
CLINICAL = DEFAULT_RULES["Clinical concern"]


def due(
    rule: CadenceRule,
    received: str,
    attempts: int = 0,
    last: str | None = None,
    cal: BusinessCalendar = CAL,
) -> Due:
    """next_due with clinic wall times as ISO text."""
    return next_due(
        cal,
        rule,
        received=datetime.fromisoformat(received),
        attempts=attempts,
        last_attempt=None if last is None else datetime.fromisoformat(last),
    )


# -- the worked examples (issue 2, "The cadence") ---------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        ("2026-12-01T09:10", "2026-12-01T12:00"),
        ("2026-12-01T11:50", "2026-12-01T17:00"),
        ("2026-12-01T18:30", "2026-12-02T12:00"),
        ("2026-12-04T16:55", "2026-12-07T12:00"),
        ("2026-11-25T16:45", "2026-11-27T12:00"),  # Thanksgiving skipped
    ],
)
def test_worked_examples_first_attempt(received: str, expected: str) -> None:
    assert due(NEW, received) == Due(at=at(expected), attempt=1, final=False)


@pytest.mark.parametrize(
    ("last", "expected"),
    [("2026-12-01T10:00", "2026-12-01T17:00"), ("2026-12-01T14:00", "2026-12-02T12:00")],
)
def test_worked_examples_second_attempt(last: str, expected: str) -> None:
    assert due(NEW, "2026-12-01T09:10", attempts=1, last=last) == Due(at=at(expected), attempt=2, final=False)


# -- first attempt -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "received", "expected"),
    [
        pytest.param(CAL, "2026-12-01T11:30", "2026-12-01T12:00", id="exactly-30-left"),
        pytest.param(CAL, "2026-12-01T11:31", "2026-12-01T17:00", id="29-left"),
        pytest.param(CAL, "2026-12-01T12:00", "2026-12-01T17:00", id="at-block-end"),
        pytest.param(CAL, "2026-12-01T12:30", "2026-12-01T17:00", id="lunch"),
        pytest.param(CAL, "2026-12-01T07:00", "2026-12-01T12:00", id="before-opening"),
        pytest.param(CAL, "2026-12-01T17:00", "2026-12-02T12:00", id="at-closing"),
        pytest.param(CAL, "2026-12-05T10:00", "2026-12-07T12:00", id="saturday-closed"),
        pytest.param(CAL, "2026-07-03T10:00", "2026-07-06T12:00", id="observed-holiday"),
        pytest.param(saturday_calendar(), "2026-12-04T16:55", "2026-12-05T13:00", id="saturday-open"),
        pytest.param(saturday_calendar(), "2026-12-05T12:45", "2026-12-07T12:00", id="saturday-late"),
        pytest.param(
            clinic_calendar(closures=[date(2026, 12, 2)]),
            "2026-12-01T18:30",
            "2026-12-03T12:00",
            id="closure",
        ),
        pytest.param(CAL, "2026-03-06T16:55", "2026-03-09T12:00", id="dst-spring"),
        pytest.param(CAL, "2026-10-30T16:55", "2026-11-02T12:00", id="dst-fall"),
    ],
)
def test_first_attempt_due(cal: BusinessCalendar, received: str, expected: str) -> None:
    assert first_attempt_due(cal, datetime.fromisoformat(received)) == at(expected)


def test_first_attempt_min_remaining_is_configurable() -> None:
    received = datetime(2026, 12, 1, 11, 0)
    assert first_attempt_due(CAL, received, min_remaining_minutes=60) == at("2026-12-01T12:00")
    assert first_attempt_due(CAL, received, min_remaining_minutes=61) == at("2026-12-01T17:00")
    rule = CadenceRule(CadenceKind.STANDARD, min_remaining_minutes=61)
    assert next_due(CAL, rule, received=received, attempts=0, last_attempt=None).at == at("2026-12-01T17:00")


def test_aware_and_naive_arrivals_agree() -> None:
    naive = datetime(2026, 12, 1, 11, 50)
    utc = naive.replace(tzinfo=CHICAGO).astimezone(UTC)
    assert first_attempt_due(CAL, utc) == first_attempt_due(CAL, naive) == at("2026-12-01T17:00")
    assert first_attempt_due(CAL, utc).tzinfo is CHICAGO


# -- standard: later attempts and the final one --------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "attempts", "last", "expected", "final"),
    [
        pytest.param(NEW, 2, "2026-12-01T14:00", "2026-12-02T12:00", True, id="new-appointment-exhausted"),
        pytest.param(BILLING, 2, "2026-12-01T14:00", "2026-12-02T12:00", False, id="billing-third"),
        pytest.param(BILLING, 3, "2026-12-02T09:00", "2026-12-02T17:00", True, id="billing-exhausted"),
        pytest.param(BILLING, 5, "2026-12-02T09:00", "2026-12-02T17:00", True, id="beyond-max"),
        pytest.param(BILLING, 1, "2026-12-01T12:30", "2026-12-01T17:00", False, id="last-in-lunch"),
        pytest.param(BILLING, 1, "2026-12-01T19:00", "2026-12-02T12:00", False, id="last-after-hours"),
        pytest.param(BILLING, 1, "2026-12-01T11:59", "2026-12-01T17:00", False, id="last-just-before-lunch"),
        pytest.param(BILLING, 1, "2026-12-04T15:00", "2026-12-07T12:00", False, id="last-friday"),
        pytest.param(BILLING, 1, None, "2026-12-01T17:00", False, id="missing-last-uses-received"),
        pytest.param(BILLING, 1, "2026-11-30T09:00", "2026-12-01T17:00", False, id="last-before-received"),
    ],
)
def test_standard_later_attempts(
    rule: CadenceRule, attempts: int, last: str | None, expected: str, final: bool
) -> None:
    result = due(rule, "2026-12-01T09:10", attempts=attempts, last=last)
    assert result == Due(at=at(expected), attempt=attempts + 1, final=final)


def test_standard_skips_thanksgiving() -> None:
    result = due(BILLING, "2026-11-25T09:00", attempts=1, last="2026-11-25T15:00")
    assert result == Due(at=at("2026-11-27T12:00"), attempt=2, final=False)


# -- daily --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last", "expected"),
    [
        pytest.param("2026-12-01T10:00", "2026-12-02T17:00", id="next-day"),
        pytest.param("2026-12-04T10:00", "2026-12-07T17:00", id="across-weekend"),
        pytest.param("2026-12-05T10:00", "2026-12-07T17:00", id="saturday-attempt"),
        pytest.param("2026-11-25T16:59", "2026-11-27T17:00", id="across-thanksgiving"),
        pytest.param("2026-12-01T19:30", "2026-12-02T17:00", id="after-hours"),
    ],
)
def test_daily_follow_up(last: str, expected: str) -> None:
    assert due(DOCS, "2026-11-20T09:00", attempts=1, last=last) == Due(
        at=at(expected), attempt=2, final=False
    )


def test_daily_first_attempt_is_standard_and_never_final() -> None:
    assert due(DOCS, "2026-12-01T11:50").at == at("2026-12-01T17:00")
    assert due(
        DEFAULT_RULES["Prior authorization"], "2026-12-04T16:00", attempts=9, last="2026-12-04T16:00"
    ) == Due(at=at("2026-12-07T17:00"), attempt=10, final=False)


# -- escalation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("received", "expected"),
    [
        pytest.param("2026-12-01T09:00", "2026-12-01T09:15", id="inside"),
        pytest.param("2026-12-01T11:50", "2026-12-01T13:05", id="across-lunch"),
        pytest.param("2026-12-01T12:20", "2026-12-01T13:15", id="during-lunch"),
        pytest.param("2026-12-01T16:50", "2026-12-02T08:05", id="overnight"),
        pytest.param("2026-12-01T18:30", "2026-12-02T08:15", id="after-hours"),
        pytest.param("2026-12-04T16:55", "2026-12-07T08:10", id="weekend"),
        pytest.param("2026-11-25T16:55", "2026-11-27T08:10", id="thanksgiving"),
    ],
)
def test_escalation_first_attempt(received: str, expected: str) -> None:
    assert due(CLINICAL, received) == Due(at=at(expected), attempt=1, final=False)


def test_escalation_later_attempts_every_retry_minutes() -> None:
    # issue 11: an unsuccessful attempt on an escalation is retried 30 business minutes later, not tomorrow
    assert due(CLINICAL, "2026-12-01T14:00", 1, "2026-12-01T14:10") == Due(at("2026-12-01T14:40"), 2, False)
    assert due(CLINICAL, "2026-12-01T09:00", 1, "2026-12-01T11:50") == Due(at("2026-12-01T13:20"), 2, False)
    assert due(CLINICAL, "2026-12-01T09:00", 3, "2026-12-01T14:00") == Due(at("2026-12-01T14:30"), 4, True)


# -- rules -------------------------------------------------------------------------------------------------


def test_default_rules_cover_every_reason() -> None:
    assert set(DEFAULT_RULES) == set(REASONS)
    assert DEFAULT_RULES["New appointment"].max_attempts == 2
    assert {r for r, rule in DEFAULT_RULES.items() if rule.kind is CadenceKind.DAILY} == {
        "Document / referral",
        "Prior authorization",
    }
    assert CLINICAL.kind is CadenceKind.ESCALATION and CLINICAL.escalation_minutes == 15


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"min_remaining_minutes": -1}, {"escalation_minutes": 0}, {"retry_minutes": 0}],
)
def test_invalid_rules_are_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CadenceRule(CadenceKind.STANDARD, **kwargs)


def test_negative_attempts_are_refused() -> None:
    with pytest.raises(ValueError, match="attempts"):
        due(BILLING, "2026-12-01T09:00", attempts=-1)


# -- properties ------------------------------------------------------------------------------------------

CALENDARS = [CAL, saturday_calendar(), night_calendar(), VARIED]
ARRIVALS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31))
GAPS = st.one_of(st.none(), st.timedeltas(timedelta(0), timedelta(days=10)))
PROPS = settings(max_examples=200, deadline=None)


def in_hours(cal: BusinessCalendar, moment: datetime) -> bool:
    """Inside a span, its end included."""
    ts = moment.timestamp()
    return any(s.start.timestamp() <= ts <= s.end.timestamp() for s in cal.spans_on(moment.date()))


@PROPS
@given(
    cal=st.sampled_from(CALENDARS),
    rule=st.sampled_from(sorted(set(DEFAULT_RULES.values()), key=repr)),
    received=ARRIVALS,
    attempts=st.integers(0, 4),
    gap=GAPS,
)
def test_due_is_in_hours_and_after_arrival_and_last_attempt(
    cal: BusinessCalendar, rule: CadenceRule, received: datetime, attempts: int, gap: timedelta | None
) -> None:
    arrival = cal.localize(received)
    last = None if gap is None or attempts == 0 else arrival + gap
    result = next_due(cal, rule, received=received, attempts=attempts, last_attempt=last)
    assert result.at.tzinfo is cal.tz
    assert in_hours(cal, result.at)
    assert result.at.timestamp() > arrival.timestamp()
    if last is not None:
        assert result.at.timestamp() > last.timestamp()
    assert result.attempt == attempts + 1


@PROPS
@given(
    cal=st.sampled_from(CALENDARS),
    rule=st.sampled_from(sorted(set(DEFAULT_RULES.values()), key=repr)),
    a=ARRIVALS,
    b=ARRIVALS,
    attempts=st.integers(0, 3),
)
def test_due_is_monotonic(
    cal: BusinessCalendar, rule: CadenceRule, a: datetime, b: datetime, attempts: int
) -> None:
    early, late = sorted((cal.localize(a), cal.localize(b)), key=datetime.timestamp)
    if attempts == 0:
        first = next_due(cal, rule, received=early, attempts=0, last_attempt=None)
        second = next_due(cal, rule, received=late, attempts=0, last_attempt=None)
    else:  # same arrival, a later last attempt is never due sooner
        first = next_due(cal, rule, received=early, attempts=attempts, last_attempt=early)
        second = next_due(cal, rule, received=early, attempts=attempts, last_attempt=late)
    assert first.at.timestamp() <= second.at.timestamp()
