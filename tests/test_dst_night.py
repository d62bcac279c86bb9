"""A clinic open at night, through both 2026 daylight-saving changes: every comparison of instants is
made on real time (aware datetimes of one zone compare by wall-clock time, which the fold repeats)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.app.cycle import READ_TABS
from callback_sheets.app.runner.clock import Job, JobClock
from callback_sheets.backends.memory import MemoryBackend
from callback_sheets.config import Config, load_config
from callback_sheets.core.refresh import Planner
from callback_sheets.errors import ConfigError
from tests.conftest import CLINIC_TOML, row

TZ = ZoneInfo("America/Chicago")
NIGHT = """
[hours]
saturday = [{ name = "evening", start = "18:00", end = "24:00" }]
sunday = [
    { name = "night", start = "00:00", end = "06:00" },
    { name = "evening", start = "18:00", end = "24:00" },
]
monday = [{ name = "night", start = "00:00", end = "06:00" }]
"""


@pytest.fixture
def night(tmp_path: Path) -> Config:
    (tmp_path / "callback_sheets.toml").write_text(CLINIC_TOML + NIGHT, encoding="utf-8")
    return load_config(tmp_path / "callback_sheets.toml")


def repeated_hour(day: datetime) -> list[datetime]:
    """Every minute of 01:00-01:59 on the fall-back date, both times round, in real order."""
    first = [day.replace(hour=1, minute=m, fold=0, tzinfo=TZ) for m in range(60)]
    second = [day.replace(hour=1, minute=m, fold=1, tzinfo=TZ) for m in range(60)]
    return first + second


def queue(config: Config, received: list[datetime]) -> MemoryBackend:
    backend = MemoryBackend()
    service.init(config=config, backend=backend)
    header = backend.sheets[model.QUEUE_TAB][0]
    for when in received:
        r = row(when.replace(tzinfo=None), Reason="Clinical concern")
        backend.sheets[model.QUEUE_TAB].append([r.get(h) for h in header])
    return backend


def test_overdue_in_the_repeated_hour_follows_real_time(night: Config) -> None:
    day = datetime(2026, 11, 1)
    received = [
        day.replace(hour=0, minute=50),
        day.replace(hour=1, minute=10),
        day.replace(hour=1, minute=40),
    ]
    backend = queue(night, received)
    snapshot = backend.read(tabs=READ_TABS)
    checked = 0
    for now in repeated_hour(day):
        plan = Planner(config=night, now=now).plan(snapshot)
        for view in plan.views:
            got_received = view.item.received
            assert got_received is not None and view.due is not None
            # 15 business minutes are 15 real minutes, the cell's wall time read as its first occurrence
            assert view.due.timestamp() - got_received.timestamp() == 15 * 60
            assert view.overdue is (now.timestamp() > view.due.timestamp()), (now, now.fold, view.due)
            checked += 1
    assert checked == 360
    # the case of the issue: due 01:25 CDT is overdue at 01:20 CST (55 real minutes later)
    late = datetime(2026, 11, 1, 1, 20, fold=1, tzinfo=TZ)
    [_, due_0125, _] = sorted(Planner(config=night, now=late).plan(snapshot).views, key=lambda v: v.due)
    assert due_0125.due.astimezone(UTC) == datetime(2026, 11, 1, 6, 25, tzinfo=UTC) and due_0125.overdue


def test_refresh_cells_through_the_repeated_hour(night: Config) -> None:
    backend = queue(night, [datetime(2026, 11, 1, 1, 10)])
    for now in repeated_hour(datetime(2026, 11, 1)):
        service.refresh(config=night, backend=backend, now=now)
        [out] = backend.records()
        due = datetime(2026, 11, 1, 1, 25, tzinfo=TZ)  # CDT, the first 01:25
        expected = now.timestamp() > due.timestamp()
        assert bool(out[model.OVERDUE]) is expected, (now, now.fold)


def test_spring_forward_night_hours(night: Config) -> None:
    # 2026-03-08 02:00 CST jumps to 03:00 CDT: the night block is five real hours long
    [span, _] = night.calendar().spans_on(datetime(2026, 3, 8).date())
    assert span.minutes == 5 * 60
    backend = queue(night, [datetime(2026, 3, 8, 1, 50)])
    snapshot = backend.read(tabs=READ_TABS)
    start = datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 01:00 CST
    for minute in range(180):
        now = (start + timedelta(minutes=minute)).astimezone(TZ)
        [view] = Planner(config=night, now=now).plan(snapshot).views
        assert view.due is not None and view.due.astimezone(UTC) == datetime(2026, 3, 8, 8, 5, tzinfo=UTC)
        assert view.overdue is (now.timestamp() > view.due.timestamp())


def test_blocks_may_end_at_midnight(night: Config) -> None:
    cal = night.calendar()
    sat = datetime(2026, 10, 31).date()  # the evening before the fall-back night
    [evening] = cal.spans_on(sat)
    assert evening.end == datetime(2026, 11, 1, 0, 0, tzinfo=TZ) and evening.minutes == 360
    # 23:50 + 15 business minutes: 10 before midnight, 5 in Sunday's night block
    due = cal.add_business_minutes(datetime(2026, 10, 31, 23, 50, tzinfo=TZ), 15)
    assert due == datetime(2026, 11, 1, 0, 5, tzinfo=TZ)
    assert cal.is_open(datetime(2026, 10, 31, 23, 59, tzinfo=TZ))
    clock = JobClock(calendar=cal, runner=night.runner)
    refreshes = [s for s in clock.slots_on(sat) if s.job in (Job.OPEN, Job.REFRESH)]
    assert refreshes[0].at.hour == 18 and refreshes[-1].at == datetime(2026, 10, 31, 23, 50, tzinfo=TZ)
    assert len(refreshes) == 36


def test_24_00_is_only_an_end(tmp_path: Path) -> None:
    bad = CLINIC_TOML + '[hours]\nmonday = [{ name = "x", start = "24:00", end = "24:00" }]\n'
    (tmp_path / "callback_sheets.toml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hours\.monday\[0\]\.start"):
        load_config(tmp_path / "callback_sheets.toml")
