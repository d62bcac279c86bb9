"""Business calendar: blocks, lunch gaps, holidays, closures, DST weeks, Saturday hours, properties."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callback_sheets.core.calendar import Block, BusinessCalendar
from callback_sheets.core.closed_days import build_closed_on

CHICAGO = ZoneInfo("America/Chicago")
WEEKDAY_BLOCKS = (Block("morning", time(8), time(12)), Block("afternoon", time(13), time(17)))


def clinic_calendar(
    *,
    hours: Mapping[int, Sequence[Block]] | None = None,
    closures: Iterable[date] = (),
    country: str | None = "US",
) -> BusinessCalendar:
    """The example config: America/Chicago, Mon-Fri morning 08-12 and afternoon 13-17, US holidays."""
    return BusinessCalendar(
        tz=CHICAGO,
        hours={day: WEEKDAY_BLOCKS for day in range(5)} if hours is None else hours,
        closed_on=build_closed_on(country=country, subdivision=None, closures=closures),
    )


def saturday_calendar() -> BusinessCalendar:
    """The example clinic, also open Saturday 09:00-13:00."""
    return clinic_calendar(
        hours={**{d: WEEKDAY_BLOCKS for d in range(5)}, 5: [Block("saturday", time(9), time(13))]}
    )


def night_calendar() -> BusinessCalendar:
    """A clinic open through the night on Sundays, to exercise the DST changes (02:00 local)."""
    return clinic_calendar(hours={6: [Block("night", time(0), time(6))], 0: WEEKDAY_BLOCKS}, country=None)


def at(text: str) -> datetime:
    """Clinic wall time from ISO text, aware."""
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


CAL = clinic_calendar()
CLOSED_WED = clinic_calendar(closures=[date(2026, 12, 2)])


# -- construction ------------------------------------------------------------------------------------


def test_block_must_start_before_it_ends() -> None:
    with pytest.raises(ValueError, match="must be before end"):
        Block("odd", time(12), time(8))


def test_overlapping_blocks_and_bad_weekday_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        clinic_calendar(hours={0: [Block("a", time(8), time(12)), Block("b", time(11), time(13))]})
    with pytest.raises(ValueError, match="weekday"):
        clinic_calendar(hours={7: WEEKDAY_BLOCKS})


def test_unknown_holiday_country_or_subdivision() -> None:
    with pytest.raises(ValueError, match="unknown holiday"):
        build_closed_on(country="XX", subdivision=None, closures=())
    with pytest.raises(ValueError, match="unknown holiday"):
        build_closed_on(country="US", subdivision="ZZ", closures=())
    with pytest.raises(ValueError, match="needs a country"):
        build_closed_on(country=None, subdivision="IL", closures=())


def test_closed_on_combines_holidays_and_closures() -> None:
    closed_on = build_closed_on(country="US", subdivision="IL", closures=[date(2026, 12, 2)])
    assert closed_on(date(2026, 11, 26))  # Thanksgiving
    assert closed_on(date(2026, 7, 3))  # Independence Day observed (the 4th is a Saturday)
    assert closed_on(date(2027, 12, 31))  # New Year's Day 2028 observed
    assert closed_on(date(2026, 12, 2))
    assert not closed_on(date(2026, 11, 27))


def test_spans_are_cached_per_date() -> None:
    calls: list[date] = []

    def closed_on(day: date) -> bool:
        calls.append(day)
        return False

    cal = BusinessCalendar(tz=CHICAGO, hours={0: WEEKDAY_BLOCKS}, closed_on=closed_on)
    first = cal.spans_on(date(2026, 12, 7))
    assert cal.spans_on(date(2026, 12, 7)) is first
    assert calls == [date(2026, 12, 7)]
    assert [s.name for s in first] == ["morning", "afternoon"]
    assert first[0].minutes == 240


# -- localize ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("naive", "expected"),
    [
        (datetime(2026, 12, 1, 9, 10), "2026-12-01T09:10:00-06:00"),
        (datetime(2026, 3, 8, 2, 30), "2026-03-08T03:30:00-05:00"),  # gap: moved forward
        (datetime(2026, 11, 1, 1, 30), "2026-11-01T01:30:00-05:00"),  # fold: first occurrence
        (datetime(2026, 11, 1, 1, 30, fold=1), "2026-11-01T01:30:00-06:00"),
    ],
)
def test_localize_naive_is_clinic_wall_time(naive: datetime, expected: str) -> None:
    assert CAL.localize(naive).isoformat() == expected


def test_localize_converts_aware() -> None:
    result = CAL.localize(datetime(2026, 12, 1, 15, 10, tzinfo=UTC))
    assert result.tzinfo is CHICAGO and result.isoformat() == "2026-12-01T09:10:00-06:00"


# -- queries -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "name"),
    [
        ("2026-12-01T08:00", "morning"),
        ("2026-12-01T11:59", "morning"),
        ("2026-12-01T12:00", None),  # a block's end is closed
        ("2026-12-01T12:30", None),  # lunch
        ("2026-12-01T13:00", "afternoon"),
        ("2026-12-01T17:00", None),
        ("2026-12-05T10:00", None),  # Saturday
        ("2026-11-26T10:00", None),  # Thanksgiving
    ],
)
def test_span_at(moment: str, name: str | None) -> None:
    span = CAL.span_at(datetime.fromisoformat(moment))
    assert (span.name if span else None) == name
    assert CAL.is_open(datetime.fromisoformat(moment)) is (name is not None)


def test_spans_from_skips_weekend_and_holiday() -> None:
    spans = CAL.spans_from(at("2026-11-25T14:00"))
    got = [(s.name, s.start.isoformat()) for s, _ in zip(spans, range(3), strict=False)]
    assert got == [
        ("afternoon", "2026-11-25T13:00:00-06:00"),
        ("morning", "2026-11-27T08:00:00-06:00"),
        ("afternoon", "2026-11-27T13:00:00-06:00"),
    ]


ALWAYS_CLOSED = BusinessCalendar(tz=CHICAGO, hours={0: WEEKDAY_BLOCKS}, closed_on=lambda day: True)


@pytest.mark.parametrize("cal", [clinic_calendar(hours={}), ALWAYS_CLOSED])
def test_no_business_hours_within_a_year_is_a_clear_error(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="no business hours"):
        next(iter(cal.spans_from(at("2026-12-01T09:00"))))
    with pytest.raises(ValueError, match="no business hours"):
        cal.add_business_minutes(at("2026-12-01T09:00"), 15)
    assert cal.business_minutes_between(at("2026-12-01T09:00"), at("2026-12-09T09:00")) == 0


def test_business_day_end_and_next_business_date() -> None:
    assert CAL.business_day_end(date(2026, 12, 1)) == at("2026-12-01T17:00")
    assert CAL.business_day_end(date(2026, 11, 26)) is None
    assert CAL.next_business_date(date(2026, 11, 25)) == date(2026, 11, 27)
    assert CAL.next_business_date(date(2026, 12, 4)) == date(2026, 12, 7)


# -- arithmetic: lunch, holidays, closures, Saturday hours, DST -------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "minutes", "expected"),
    [
        pytest.param(CAL, "2026-12-01T09:00", 15, "2026-12-01T09:15", id="inside"),
        pytest.param(CAL, "2026-12-01T11:50", 20, "2026-12-01T13:10", id="across-lunch"),
        pytest.param(CAL, "2026-12-01T11:45", 15, "2026-12-01T12:00", id="lands-on-end"),
        pytest.param(CAL, "2026-12-01T12:20", 15, "2026-12-01T13:15", id="from-lunch"),
        pytest.param(CAL, "2026-12-01T16:50", 15, "2026-12-02T08:05", id="overnight"),
        pytest.param(CAL, "2026-12-04T16:55", 15, "2026-12-07T08:10", id="weekend"),
        pytest.param(CAL, "2026-11-25T16:50", 20, "2026-11-27T08:10", id="thanksgiving"),
        pytest.param(CAL, "2026-07-02T16:30", 60, "2026-07-06T08:30", id="observed-holiday"),
        pytest.param(CLOSED_WED, "2026-12-01T16:50", 15, "2026-12-03T08:05", id="closure"),
        pytest.param(saturday_calendar(), "2026-12-04T16:30", 60, "2026-12-05T09:30", id="saturday"),
        pytest.param(
            saturday_calendar(), "2026-12-05T12:50", 20, "2026-12-07T08:10", id="saturday-to-monday"
        ),
        pytest.param(CAL, "2026-12-01T09:00", 0, "2026-12-01T09:00", id="zero"),
        pytest.param(CAL, "2026-12-01T08:00", 8 * 60, "2026-12-01T17:00", id="whole-day"),
        pytest.param(CAL, "2026-12-01T09:00", 8 * 60, "2026-12-02T09:00", id="one-day-later"),
    ],
)
def test_add_business_minutes(cal: BusinessCalendar, start: str, minutes: float, expected: str) -> None:
    assert cal.add_business_minutes(datetime.fromisoformat(start), minutes) == at(expected)


def test_add_business_minutes_refuses_negative() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        CAL.add_business_minutes(at("2026-12-01T09:00"), -1)


@pytest.mark.parametrize(
    ("cal", "start", "end", "minutes"),
    [
        pytest.param(CAL, "2026-12-01T11:00", "2026-12-01T14:00", 120, id="lunch"),
        pytest.param(CAL, "2026-12-01T14:00", "2026-12-01T09:00", 0, id="reversed"),
        pytest.param(CAL, "2026-11-25T16:00", "2026-11-27T09:00", 120, id="thanksgiving"),
        pytest.param(CAL, "2026-03-06T16:00", "2026-03-09T09:00", 120, id="dst-spring-week"),
        pytest.param(CAL, "2026-10-30T16:00", "2026-11-02T09:00", 120, id="dst-fall-week"),
        pytest.param(CAL, "2026-03-02T08:00", "2026-03-14T00:00", 10 * 8 * 60, id="dst-spring-fortnight"),
        pytest.param(saturday_calendar(), "2026-10-30T16:00", "2026-11-02T09:00", 360, id="saturday-dst"),
        pytest.param(
            night_calendar(), "2026-03-08T00:00", "2026-03-08T06:00", 300, id="night-spring-forward"
        ),
        pytest.param(night_calendar(), "2026-11-01T00:00", "2026-11-01T06:00", 420, id="night-fall-back"),
    ],
)
def test_business_minutes_between(cal: BusinessCalendar, start: str, end: str, minutes: float) -> None:
    assert cal.business_minutes_between(datetime.fromisoformat(start), datetime.fromisoformat(end)) == minutes


@pytest.mark.parametrize("day", [date(2026, 3, 6), date(2026, 3, 9), date(2026, 10, 30), date(2026, 11, 2)])
def test_spans_keep_wall_clock_times_across_dst(day: date) -> None:
    spans = CAL.spans_on(day)
    assert [(s.start.time(), s.end.time()) for s in spans] == [(time(8), time(12)), (time(13), time(17))]
    assert all(s.start.tzinfo is CHICAGO and s.minutes == 240 for s in spans)


def test_night_spans_on_dst_days_are_real_time() -> None:
    cal = night_calendar()
    (spring,) = cal.spans_on(date(2026, 3, 8))
    (fall,) = cal.spans_on(date(2026, 11, 1))
    assert (spring.start.isoformat(), spring.end.isoformat(), spring.minutes) == (
        "2026-03-08T00:00:00-06:00",
        "2026-03-08T06:00:00-05:00",
        300,
    )
    assert fall.minutes == 420
    assert (
        cal.add_business_minutes(datetime(2026, 3, 8, 1, 30), 60).isoformat() == "2026-03-08T03:30:00-05:00"
    )
    assert (
        cal.add_business_minutes(datetime(2026, 11, 1, 0, 30), 120).isoformat() == "2026-11-01T01:30:00-06:00"
    )


# -- business days --------------------------------------------------------------------------------------

VARIED = clinic_calendar(
    hours={
        0: [Block("early", time(7), time(12)), Block("late", time(12, 30), time(18))],
        1: [Block("a", time(9), time(11)), Block("b", time(14), time(16))],
        2: [Block("morning", time(8), time(12))],
    },
    country=None,
)


@pytest.mark.parametrize(
    ("cal", "start", "days", "expected"),
    [
        pytest.param(CAL, "2026-12-01T09:30", 1, "2026-12-02T09:30", id="same-time"),
        pytest.param(CAL, "2026-12-04T09:30", 1, "2026-12-07T09:30", id="weekend"),
        pytest.param(CAL, "2026-11-25T09:30", 1, "2026-11-27T09:30", id="holiday"),
        pytest.param(CAL, "2026-12-01T09:30", 0, "2026-12-01T09:30", id="zero"),
        pytest.param(CAL, "2026-12-01T18:30", 1, "2026-12-03T08:00", id="after-hours-starts-next-morning"),
        pytest.param(CAL, "2026-12-01T12:00", 1, "2026-12-02T13:00", id="lunch-starts-afternoon"),
        pytest.param(CAL, "2026-12-01T18:30", 0, "2026-12-02T08:00", id="zero-outside-hours"),
        pytest.param(VARIED, "2026-12-07T07:30", 1, "2026-12-08T09:00", id="clamp-before-first"),
        pytest.param(VARIED, "2026-12-07T12:45", 1, "2026-12-08T14:00", id="clamp-in-gap"),
        pytest.param(VARIED, "2026-12-07T10:00", 1, "2026-12-08T10:00", id="inside"),
        pytest.param(VARIED, "2026-12-07T17:00", 1, "2026-12-08T16:00", id="clamp-after-last"),
        pytest.param(VARIED, "2026-12-07T17:00", 2, "2026-12-09T12:00", id="two-days"),
        pytest.param(saturday_calendar(), "2026-12-04T16:00", 1, "2026-12-05T13:00", id="saturday-clamp"),
        pytest.param(CAL, "2026-03-06T09:30", 1, "2026-03-09T09:30", id="dst-spring"),
    ],
)
def test_add_business_days(cal: BusinessCalendar, start: str, days: int, expected: str) -> None:
    assert cal.add_business_days(datetime.fromisoformat(start), days) == at(expected)


# -- properties ----------------------------------------------------------------------------------------

CALENDARS = [CAL, saturday_calendar(), night_calendar(), VARIED]
MOMENTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31))
PROPS = settings(max_examples=150, deadline=None)


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=MOMENTS, minutes=st.floats(0, 5000))
def test_minutes_round_trip(cal: BusinessCalendar, start: datetime, minutes: float) -> None:
    end = cal.add_business_minutes(start, minutes)
    assert cal.business_minutes_between(start, end) == pytest.approx(minutes, abs=1e-6)
    assert end.tzinfo is cal.tz and end.timestamp() >= cal.localize(start).timestamp()


@PROPS
@given(
    cal=st.sampled_from(CALENDARS), a=MOMENTS, b=MOMENTS, minutes=st.floats(0, 5000), more=st.floats(0, 500)
)
def test_add_business_minutes_is_monotonic(
    cal: BusinessCalendar, a: datetime, b: datetime, minutes: float, more: float
) -> None:
    a, b = sorted((cal.localize(a), cal.localize(b)), key=datetime.timestamp)
    first = cal.add_business_minutes(a, minutes).timestamp()
    assert first <= cal.add_business_minutes(b, minutes).timestamp()
    assert first <= cal.add_business_minutes(a, minutes + more).timestamp()


@PROPS
@given(
    cal=st.sampled_from(CALENDARS),
    a=MOMENTS,
    step1=st.timedeltas(timedelta(0), timedelta(days=9)),
    step2=st.timedeltas(timedelta(0), timedelta(days=9)),
)
def test_business_minutes_between_is_additive(
    cal: BusinessCalendar, a: datetime, step1: timedelta, step2: timedelta
) -> None:
    start = cal.localize(a).astimezone(UTC)
    middle, end = start + step1, start + step1 + step2
    total = cal.business_minutes_between(start, end)
    parts = cal.business_minutes_between(start, middle) + cal.business_minutes_between(middle, end)
    assert total == pytest.approx(parts)
    assert 0 <= total <= (end - start) / timedelta(minutes=1)


@PROPS
@given(cal=st.sampled_from(CALENDARS), start=MOMENTS, days=st.integers(0, 12))
def test_add_business_days_lands_in_hours(cal: BusinessCalendar, start: datetime, days: int) -> None:
    result = cal.add_business_days(start, days)
    spans = cal.spans_on(result.date())
    assert any(s.start.timestamp() <= result.timestamp() <= s.end.timestamp() for s in spans)
    assert result.timestamp() >= cal.localize(start).timestamp()
