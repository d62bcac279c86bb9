"""The scheduled runner, driven by an injected clock: whole days and weeks in milliseconds, no sleeping.

Covers the exact job sequence (including daylight-saving changes and Thanksgiving), faults (a workbook
open in LibreOffice, a bad config edit, one failing queue among several), SIGTERM during a job, a second
runner refused, a crashed runner's lock, and a scan of a full simulated day's logs for patient data.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import datetime as real_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import schedule

from callback_sheets import model
from callback_sheets.app.demo import write_demo
from callback_sheets.app.runner.clock import Job
from callback_sheets.app.runner.jobs import JobContext, JobFn, JobResult, refresh_job
from callback_sheets.app.runner.lock import RunnerLock
from callback_sheets.app.runner.log import RunLog, RunState, format_json
from callback_sheets.app.runner.loop import Runner
from callback_sheets.app.runner.reload import ConfigReloader
from callback_sheets.cli.run import serve, stop_on_signals
from callback_sheets.config import Config, load_config, parse_config
from callback_sheets.config.state_files import runner_files
from callback_sheets.errors import WorkbookBusyError

CHICAGO = ZoneInfo("America/Chicago")
MINUTE = timedelta(minutes=1)


class FakeClock:
    """An injected clock: the test moves it; it answers in the clinic's zone."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now.astimezone(CHICAGO)


def local(text: str) -> datetime:
    """Clinic wall-clock time from ISO text (first occurrence in a fold)."""
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


def clinic(tmp_path: Path, **extra: Any) -> Config:
    raw: dict[str, Any] = {"clinic": {"name": "Main", "timezone": "America/Chicago"}, **extra}
    return parse_config(raw, base=tmp_path, path=tmp_path / "callback_sheets.toml")


Calls = list[tuple[str, str, datetime]]


def recording_jobs(calls: Calls, fail: Callable[[JobContext], bool] = lambda ctx: False) -> dict[Job, JobFn]:
    def job(ctx: JobContext) -> JobResult:
        calls.append((ctx.queue, ctx.slot.job.value, ctx.now))
        if fail(ctx):
            raise RuntimeError("Emma Miller (312) 555-0142 said chest pain")  # must never reach a log line
        return JobResult(rows=0, changes=0)

    return dict.fromkeys(Job, job)


def make_runner(
    config: Config | Callable[[], Config],
    clock: FakeClock,
    jobs: dict[Job, JobFn],
    *,
    stream: io.StringIO | None = None,
    stop: threading.Event | None = None,
    log: RunLog | None = None,
) -> Runner:
    load = config if callable(config) else (lambda: config)
    log = log or RunLog(stream=stream or io.StringIO())
    return Runner(load_config=load, clock=clock, log=log, jobs=jobs, stop=stop)


def drive(runner: Runner, clock: FakeClock, until: datetime, step: timedelta = MINUTE) -> None:
    """Tick every ``step`` of real (UTC) time, as the long-running loop would, up to ``until``."""
    end = until.astimezone(UTC)
    while clock.now <= end:
        runner.tick()
        clock.now += step


def business_day(day: date, *, weekly: bool = False) -> list[tuple[str, str]]:
    """The default config's jobs on a business day, as (clinic wall time, job)."""
    seq = [(f"{day} 08:00", "open")]
    for hour in range(8, 17):
        if hour == 12:
            continue
        for minute in range(0, 60, 10):
            if (hour, minute) != (8, 0):
                seq.append((f"{day} {hour:02d}:{minute:02d}", "refresh"))
    seq += [(f"{day} 17:15", "review"), (f"{day} 17:15", "daily")]
    if weekly:
        seq.append((f"{day} 17:30", "weekly"))
    return seq


def ran(calls: Calls) -> list[tuple[str, str]]:
    return [(f"{at:%Y-%m-%d %H:%M}", job) for _, job, at in calls]


# -- the schedule ---------------------------------------------------------------------------------------


def test_a_tuesday_runs_exactly_the_scheduled_jobs(tmp_path: Path) -> None:
    calls: Calls = []
    clock = FakeClock(local("2026-12-01T06:00"))
    with make_runner(clinic(tmp_path), clock, recording_jobs(calls)) as runner:
        drive(runner, clock, local("2026-12-02T07:59"))
    assert ran(calls) == business_day(date(2026, 12, 1))
    assert len(calls) == 1 + 47 + 2  # open, every 10 minutes of 8 business hours, review + daily


def test_a_week_across_the_fall_back_change_keeps_clinic_time(tmp_path: Path) -> None:
    """Sun 2026-11-01 02:00 CDT -> 01:00 CST: Friday opens at 13:00 UTC, Monday at 14:00 UTC."""
    calls: Calls = []
    clock = FakeClock(local("2026-10-30T00:00"))
    with make_runner(clinic(tmp_path), clock, recording_jobs(calls)) as runner:
        drive(runner, clock, local("2026-11-03T07:00"), step=timedelta(minutes=5))
    assert ran(calls) == business_day(date(2026, 10, 30), weekly=True) + business_day(date(2026, 11, 2))
    opens = [at.astimezone(UTC) for _, job, at in calls if job == "open"]
    assert [f"{t:%a %H:%M}" for t in opens] == ["Fri 13:00", "Mon 14:00"]


def test_a_week_across_spring_forward(tmp_path: Path) -> None:
    """Sun 2026-03-08 02:00 CST -> 03:00 CDT: Friday opens at 14:00 UTC, Monday at 13:00 UTC."""
    calls: Calls = []
    clock = FakeClock(local("2026-03-06T07:00"))
    with make_runner(clinic(tmp_path), clock, recording_jobs(calls)) as runner:
        drive(runner, clock, local("2026-03-10T07:00"), step=timedelta(minutes=5))
    assert ran(calls) == business_day(date(2026, 3, 6), weekly=True) + business_day(date(2026, 3, 9))
    opens = [at.astimezone(UTC) for _, job, at in calls if job == "open"]
    assert [f"{t:%a %H:%M}" for t in opens] == ["Fri 14:00", "Mon 13:00"]


def test_thanksgiving_week_skips_the_holiday_but_not_the_weekly_report(tmp_path: Path) -> None:
    calls: Calls = []
    clock = FakeClock(local("2026-11-23T00:00"))
    with make_runner(clinic(tmp_path), clock, recording_jobs(calls)) as runner:
        drive(runner, clock, local("2026-11-30T00:00"), step=timedelta(minutes=5))
    expected = [
        *business_day(date(2026, 11, 23)),
        *business_day(date(2026, 11, 24)),
        *business_day(date(2026, 11, 25)),
        *business_day(date(2026, 11, 27), weekly=True),
    ]
    assert ran(calls) == expected
    assert not [c for c in calls if c[2].date() == date(2026, 11, 26)]


def test_night_clinic_counts_real_minutes_through_the_gap_and_the_fold(tmp_path: Path) -> None:
    """A Sunday 00:30-03:30 block, every 30 minutes: 2 real hours on 2026-03-08, 4 on 2026-11-01.

    Close of day at 02:30 does not exist on the spring day (-> 03:30 CDT); the weekly report at 01:30
    runs at the first 01:30 of the fall-back night."""
    for night, expected in (
        (
            "2026-03-08",
            [
                "00:30-0600 open",
                "01:00-0600 refresh",
                "01:30-0600 refresh",
                "01:30-0600 weekly",
                "03:00-0500 refresh",
                "03:30-0500 review",
                "03:30-0500 daily",
            ],
        ),
        (
            "2026-11-01",
            [
                "00:30-0500 open",
                "01:00-0500 refresh",
                "01:30-0500 refresh",
                "01:30-0500 weekly",
                "01:00-0600 refresh",
                "01:30-0600 refresh",
                "02:00-0600 refresh",
                "02:30-0600 refresh",
                "02:30-0600 review",
                "02:30-0600 daily",
                "03:00-0600 refresh",
            ],
        ),
    ):
        (tmp_path / night).mkdir()
        config = clinic(
            tmp_path / night,
            hours={"sunday": [{"name": "night", "start": "00:30", "end": "03:30"}]},
            runner={
                "interval_minutes": 30,
                "close_of_day": "02:30",
                "weekly_day": "sunday",
                "weekly_time": "01:30",
            },
        )
        calls: Calls = []
        clock = FakeClock(local(f"{night}T00:00"))
        with make_runner(config, clock, recording_jobs(calls)) as runner:
            drive(runner, clock, local(f"{night}T05:00"))
        assert [f"{at:%H:%M%z} {job}" for _, job, at in calls] == expected, night


def test_cron_every_ten_minutes_runs_each_slot_once_and_catches_up_once(tmp_path: Path) -> None:
    """Fresh runners (as cron starts them) share the state file: each slot runs once; a gap runs once."""
    config = clinic(tmp_path)
    calls: Calls = []
    for at in ("08:02", "08:07", "08:12", "08:13", "10:41", "17:20", "17:25", "19:00"):
        clock = FakeClock(local(f"2026-12-01T{at}"))
        with make_runner(config, clock, recording_jobs(calls)) as runner:
            runner.tick()
    assert ran(calls) == [
        ("2026-12-01 08:02", "open"),
        ("2026-12-01 08:12", "refresh"),
        ("2026-12-01 10:41", "refresh"),
        ("2026-12-01 17:20", "review"),
        ("2026-12-01 17:20", "daily"),
    ]
    state = RunState.load(runner_files(config)[1])
    assert state.done["refresh"] == local("2026-12-01T10:40")
    assert state.done["daily"] == local("2026-12-01T17:15")


def test_a_missed_close_catches_up_in_the_evening_not_the_next_day(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    calls: Calls = []
    for at in ("2026-12-01T16:55", "2026-12-02T08:00"):  # down from 17:00 Tuesday to Wednesday opening
        clock = FakeClock(local(at))
        with make_runner(config, clock, recording_jobs(calls)) as runner:
            runner.tick()
    assert [job for _, job, _ in calls] == ["refresh", "open"]
    clock = FakeClock(local("2026-12-02T21:00"))
    with make_runner(config, clock, recording_jobs(calls)) as runner:
        runner.tick()
    assert [job for _, job, _ in calls[2:]] == ["review", "daily"]


# -- faults ---------------------------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Config:
    return write_demo(tmp_path, now_text="2026-12-01T07:30", rows=60)


def test_a_workbook_open_in_libreoffice_fails_one_tick_then_recovers(demo: Config) -> None:
    stream = io.StringIO()
    clock = FakeClock(local("2026-12-01T08:00"))
    office_lock = demo.workbook.parent / f".~lock.{demo.workbook.name}#"
    with make_runner(demo, clock, {}, stream=stream) as runner:
        office_lock.write_text("someone,at the front desk;")
        assert [r.outcome for r in runner.tick()] == ["failed"]
        office_lock.unlink()
        clock.now += MINUTE
        assert [r.outcome for r in runner.tick()] == ["ok"]
        clock.now += 9 * MINUTE
        assert [(r.job, r.outcome) for r in runner.tick()] == [("refresh", "ok")]
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert (
        "job=open" in lines[0] and "outcome=failed streak=1" in lines[0] and "open in LibreOffice" in lines[0]
    )
    assert "job=open" in lines[1] and "outcome=ok" in lines[1] and "recovered_after=1" in lines[1]
    assert "rows=60" in lines[1]


def test_a_bad_config_edit_is_logged_and_retried_until_fixed(tmp_path: Path) -> None:
    path = tmp_path / "callback_sheets.toml"
    good = '[clinic]\nname = "Main"\n'
    path.write_text(good)
    calls: Calls = []
    stream = io.StringIO()
    clock = FakeClock(local("2026-12-01T07:00"))
    with make_runner(ConfigReloader(path), clock, recording_jobs(calls), stream=stream) as runner:
        path.write_text(good + '[runner]\ninterval_minutes = "often"\n')
        assert runner.tick() == []  # nothing due before opening: nothing to say
        clock.now = local("2026-12-01T08:00").astimezone(UTC)
        assert [(r.job, r.streak) for r in runner.tick()] == [("config", 1)]
        clock.now += MINUTE
        assert [(r.job, r.streak) for r in runner.tick()] == [("config", 2)]
        path.write_text(good + "[runner]\ninterval_minutes = 15\n")
        clock.now += MINUTE
        assert [r.job for r in runner.tick()] == ["open"]
        drive(runner, clock, local("2026-12-01T08:40"))
    assert [f"{at:%H:%M}" for _, _, at in calls] == ["08:02", "08:15", "08:30"]
    lines = stream.getvalue().splitlines()
    assert "runner.interval_minutes" in lines[0] and "streak=1" in lines[0]


def test_one_failing_queue_does_not_stop_the_others_and_its_error_is_withheld(tmp_path: Path) -> None:
    config = clinic(
        tmp_path,
        queues=[{"name": "North", "workbook": "north.xlsx"}, {"name": "South", "workbook": "south.xlsx"}],
    )
    calls: Calls = []
    stream = io.StringIO()
    clock = FakeClock(local("2026-12-01T08:00"))
    jobs = recording_jobs(calls, fail=lambda ctx: ctx.queue == "North")
    with make_runner(config, clock, jobs, stream=stream) as runner:
        drive(runner, clock, local("2026-12-01T08:20"), step=10 * MINUTE)
    assert [(q, job) for q, job, _ in calls] == [
        ("North", "open"),
        ("South", "open"),
        ("North", "refresh"),
        ("South", "refresh"),
        ("North", "refresh"),
        ("South", "refresh"),
    ]
    text = stream.getvalue()
    assert 'queue="North" job=refresh' in text and "streak=3" in text
    assert "unexpected RuntimeError" in text
    assert "Emma" not in text and "555" not in text and "chest" not in text
    assert (tmp_path / ".callback-sheets-runner.north.xlsx.lock").exists()
    assert (tmp_path / ".callback-sheets-runner.south.xlsx.lock").exists()


# -- signals and locks ------------------------------------------------------------------------------------


def test_sigterm_during_a_job_finishes_it_then_exits_cleanly(demo: Config) -> None:
    """17:20 Friday: review, daily and weekly are due. SIGTERM arrives during the first job."""
    done: list[str] = []

    def review_then_terminated(ctx: JobContext) -> JobResult:
        os.kill(os.getpid(), signal.SIGTERM)
        result = refresh_job(ctx)  # a real write, after the signal arrived
        done.append("review")
        return result

    stop = threading.Event()
    clock = FakeClock(local("2026-12-04T17:20"))
    runner = make_runner(demo, clock, {Job.REVIEW: review_then_terminated}, stop=stop)
    waits: list[float] = []
    with stop_on_signals(stop), runner:
        serve(tick=runner.tick, stop=stop, wait=waits.append)
    assert done == ["review"] and stop.is_set() and waits == []
    state = RunState.load(runner_files(demo)[1])
    assert "review" in state.done and "daily" not in state.done and "weekly" not in state.done
    sheet = openpyxl.load_workbook(demo.workbook)[model.QUEUE_TAB]
    header = [c.value for c in sheet[1]]
    ids = [row[header.index(model.ID)] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(ids) == 60 and all(ids)
    again = RunnerLock(runner_files(demo)[0], queue="Main")
    again.acquire()  # the runner let go of its lock
    again.release()


def test_a_second_runner_is_refused_and_no_lock_is_kept(tmp_path: Path) -> None:
    config = clinic(
        tmp_path,
        queues=[{"name": "North", "workbook": "north.xlsx"}, {"name": "South", "workbook": "south.xlsx"}],
    )
    first = make_runner(config, FakeClock(local("2026-12-01T08:00")), {})
    first.start()
    lone = RunnerLock(runner_files(config.queues()[0][1])[0], queue="North")
    with pytest.raises(
        WorkbookBusyError, match="another callback-sheets runner is already serving queue 'North'"
    ):
        make_runner(config, FakeClock(local("2026-12-01T08:00")), {}).start()
    with pytest.raises(WorkbookBusyError, match=rf"pid {os.getpid()}"):
        lone.acquire()
    first.close()
    second = make_runner(config, FakeClock(local("2026-12-01T08:00")), {})
    second.start()
    second.close()


def test_a_crashed_runner_cannot_leave_its_lock_stuck(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    lock_path = runner_files(config)[0]
    code = (
        "import os, signal, sys; from pathlib import Path; "
        "from callback_sheets.app.runner.loop import RunnerLock;"
        f"RunnerLock(Path({str(lock_path)!r}), queue='Main').acquire(); os.kill(os.getpid(), signal.SIGKILL)"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -signal.SIGKILL
    assert json.loads(lock_path.read_text())["pid"] != os.getpid()  # the crashed runner's note is still there
    with make_runner(config, FakeClock(local("2026-12-01T08:00")), {}) as runner:
        assert [r.job for r in runner.tick()] == ["open"]


# -- schedule's own clock, verified -------------------------------------------------------------------------


class _ServerClock:
    """A server in America/Chicago: ``schedule`` sees naive local wall time, as datetime.now() gives it."""

    def __init__(self, start: datetime) -> None:
        self.utc = start.astimezone(UTC)
        self.mono = 0.0

    def advance(self, seconds: float) -> None:
        self.utc += timedelta(seconds=seconds)
        self.mono += seconds

    def naive_local(self) -> real_datetime:
        return self.utc.astimezone(CHICAGO).replace(tzinfo=None)


@pytest.fixture
def server_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[_ServerClock]:
    clock = _ServerClock(local("2026-11-01T00:30"))

    class Now(real_datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
            return clock.naive_local() if tz is None else clock.utc.astimezone(tz)

    fake = types.SimpleNamespace(
        **{k: getattr(__import__("datetime"), k) for k in ("timedelta", "time", "date")}
    )
    fake.datetime = Now
    monkeypatch.setattr(schedule, "datetime", fake)
    yield clock


def test_schedule_stalls_an_hour_at_a_server_fall_back_and_the_watchdog_keeps_ticking(
    server_clock: _ServerClock,
) -> None:
    """Verifies why the runner computes clinic times itself: schedule's naive next_run lies an hour ahead
    when the server's clock falls back, so a bare schedule job stops for an hour; serve()'s watchdog
    keeps ticking at most two periods apart."""
    probe: list[datetime] = []
    ticks: list[datetime] = []
    stop = threading.Event()
    scheduler = schedule.Scheduler()
    scheduler.every(60).seconds.do(lambda: probe.append(server_clock.utc))

    def tick() -> None:
        ticks.append(server_clock.utc)
        if server_clock.utc >= local("2026-11-01T03:30").astimezone(UTC):
            stop.set()

    serve(
        tick=tick,
        stop=stop,
        tick_seconds=60,
        wait=server_clock.advance,
        monotonic=lambda: server_clock.mono,
        scheduler=scheduler,
    )
    gap = max(b - a for a, b in itertools.pairwise(probe))
    assert gap >= timedelta(minutes=59)  # schedule alone: an hour without a tick
    assert max(b - a for a, b in itertools.pairwise(ticks)) <= timedelta(minutes=2)


# -- patient data never reaches a log line ----------------------------------------------------------------


def test_a_full_day_of_logs_holds_no_caller_name_phone_or_note(tmp_path: Path) -> None:
    config = write_demo(tmp_path, now_text="2026-12-01T07:00", rows=60)
    sheet = openpyxl.load_workbook(config.workbook, read_only=True)[model.QUEUE_TAB]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    secrets: set[str] = set()
    phones: set[str] = set()
    for row in rows[1:]:
        caller, phone, notes = (row[header.index(c)] for c in (model.CALLER, model.PHONE, model.NOTES))
        if caller:
            secrets.add(str(caller))
            secrets.update(part for part in str(caller).split() if len(part) >= 4)
        if notes:
            secrets.add(str(notes))
        if phone:
            secrets.add(str(phone))
            digits = "".join(ch for ch in str(phone) if ch.isdigit())
            phones.update({digits, digits[-7:]})
    assert len(secrets) > 60 and len(phones) > 40
    stream = io.StringIO()
    clock = FakeClock(local("2026-12-01T07:00"))
    office_lock = config.workbook.parent / f".~lock.{config.workbook.name}#"
    log = RunLog(stream=stream)
    with make_runner(config, clock, {}, log=log) as runner:
        drive(runner, clock, local("2026-12-01T11:00"), step=timedelta(minutes=5))
        office_lock.write_text("x")
        drive(runner, clock, local("2026-12-01T11:30"), step=timedelta(minutes=5))
        office_lock.unlink()
        drive(runner, clock, local("2026-12-01T18:00"), step=timedelta(minutes=5))
    records = log.records
    lines = stream.getvalue().splitlines() + [format_json(r) for r in records]
    assert [r.job for r in records].count("refresh") + 1 >= 48
    assert {r.job for r in records} >= {"open", "refresh", "review", "daily"}
    assert all(
        r.outcome == "ok" for r in records if r.job in ("open", "refresh") and "11:" not in f"{r.time:%H:}"
    )
    for line in lines:
        leaked = [s for s in secrets if s in line]
        assert not leaked, f"patient data in a log line: {line}"
        digits = "".join(ch for ch in line if ch.isdigit())
        assert not [p for p in phones if len(p) >= 10 and p in digits], line


def test_reloader_reads_the_file_again_only_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "callback_sheets.toml"
    path.write_text('[clinic]\nname = "One"\n')
    reload = ConfigReloader(path)
    first = reload()
    assert reload() is first
    path.write_text('[clinic]\nname = "Two, renamed"\n')
    assert reload().clinic_name == "Two, renamed"
    assert load_config(path).clinic_name == "Two, renamed"
