"""The runner trusts the clock only so far, bounds a failing API's wait, serves queues so a slow one does
not hold up the others, re-reads its config on SIGHUP, and refuses a queue listed twice."""

from __future__ import annotations

import io
import os
import select
import signal
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click.testing
import pytest

from callback_sheets.app import reports
from callback_sheets.app.demo import write_demo
from callback_sheets.app.runner.clock import Job
from callback_sheets.app.runner.jobs import JobContext, JobResult
from callback_sheets.app.runner.log import RunLog, RunState
from callback_sheets.app.runner.loop import Runner
from callback_sheets.app.runner.reload import ConfigReloader
from callback_sheets.backends.excel.backend import ExcelBackend
from callback_sheets.backends.google.backend import GoogleBackend
from callback_sheets.backends.google.http import RetryPolicy
from callback_sheets.cli import main
from callback_sheets.config import Config, parse_config
from callback_sheets.config.state_files import runner_files
from callback_sheets.errors import BackendError, ConfigError, UsageError
from tests.sheets_emulator import SheetsEmulator
from tests.sheets_emulator.client import emulator_session

CHICAGO = ZoneInfo("America/Chicago")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CHICAGO)


def clinic(tmp_path: Path, **extra: Any) -> Config:
    raw: dict[str, Any] = {"clinic": {"name": "Main", "timezone": "America/Chicago"}, **extra}
    return parse_config(raw, base=tmp_path, path=tmp_path / "callback_sheets.toml")


# --- the clock ----------------------------------------------------------------------------------------
def test_a_state_entry_from_the_future_is_ignored_and_logged(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    state = RunState(
        done={
            "refresh": local("2026-12-09T16:50"),
            "review": local("2026-12-09T17:15"),
            "daily": local("2026-12-09T17:15"),
        }
    )
    state.save(runner_files(config)[1])
    calls: list[str] = []

    def job(ctx: JobContext) -> JobResult:
        calls.append(ctx.slot.job.value)
        return JobResult()

    stream = io.StringIO()
    now = local("2026-12-01T17:20")
    runner = Runner(
        load_config=lambda: config, clock=lambda: now, log=RunLog(stream=stream), jobs=dict.fromkeys(Job, job)
    )
    with runner:
        runner.tick()
        assert calls == ["review", "daily"]  # today's close-of-day runs
        runner.tick()
        assert calls == ["review", "daily"]
    text = stream.getvalue()
    assert text.count("outcome=clock") == 3 and "clock problem" in text and "2026-12-09T17:15" in text
    saved = RunState.load(runner_files(config)[1])
    assert saved.done["daily"] == local("2026-12-01T17:15")


def test_a_few_minutes_ahead_is_not_a_clock_problem(tmp_path: Path) -> None:
    config = clinic(tmp_path)
    RunState(done={"refresh": local("2026-12-01T10:10")}).save(runner_files(config)[1])
    stream = io.StringIO()
    runner = Runner(
        load_config=lambda: config,
        clock=lambda: local("2026-12-01T10:07"),
        log=RunLog(stream=stream),
        jobs=dict.fromkeys(Job, lambda ctx: JobResult()),
    )
    with runner:
        assert runner.tick() == []
    assert "clock" not in stream.getvalue()


def test_a_report_for_a_date_after_now_is_never_written(tmp_path: Path) -> None:
    config = write_demo(tmp_path, now_text="2026-12-01T07:30", rows=10)
    backend = ExcelBackend(config.workbook)
    before = config.workbook.read_bytes()
    with pytest.raises(UsageError, match="after today"):
        reports.append_report(
            config=config,
            backend=backend,
            period="daily",
            now=local("2026-12-01T17:20"),
            on=date(2026, 12, 2),
        )
    assert config.workbook.read_bytes() == before
    result = click.testing.CliRunner().invoke(
        main,
        [
            "--config",
            str(config.path),
            "report",
            "daily",
            "--date",
            "2026-12-05",
            "--append",
            "--now",
            "2026-12-01T17:20",
        ],
    )
    assert result.exit_code != 0 and "after today" in result.output + (result.stderr or "")
    assert config.workbook.read_bytes() == before


# --- bounded waits ------------------------------------------------------------------------------------
class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_retry_after_longer_than_the_bound_gives_up_without_waiting() -> None:
    with SheetsEmulator() as emu:
        book = emu.store.create("Clinic")
        sleeps = Sleeps()
        backend = GoogleBackend(
            book.spreadsheet_id,
            session=emulator_session(emu.base_url),
            policy=RetryPolicy(max_wait=60, jitter=lambda: 1.0),
            sleep=sleeps,
        )
        emu.fail_next(10, status=429, retry_after=120)
        with pytest.raises(BackendError, match=r"gave up after waiting 0 s \(google.max_wait_seconds = 60\)"):
            backend.read()
        assert sleeps == []
        emu.plan.faults.clear()
        emu.fail_next(10, status=503, retry_after=25)
        with pytest.raises(BackendError, match="gave up after waiting 50 s"):
            backend.read()
        assert sleeps == [25, 25]  # a third wait would pass 60 s in all


def test_max_wait_seconds_config_key(tmp_path: Path) -> None:
    config = clinic(
        tmp_path, queue={"backend": "google"}, google={"spreadsheet": "abc", "max_wait_seconds": 20}
    )
    assert config.google is not None and config.google.max_wait_seconds == 20
    with pytest.raises(ConfigError, match=r"google\.max_wait_seconds"):
        clinic(tmp_path, queue={"backend": "google"}, google={"spreadsheet": "abc", "max_wait_seconds": 0})


def test_a_slow_queue_does_not_hold_up_the_others_beyond_the_bound(tmp_path: Path) -> None:
    config = clinic(
        tmp_path,
        queues=[{"name": "North", "workbook": "north.xlsx"}, {"name": "South", "workbook": "south.xlsx"}],
    )
    release = threading.Event()
    calls: list[tuple[str, str]] = []

    def job(ctx: JobContext) -> JobResult:
        calls.append((ctx.queue, ctx.slot.job.value))
        if ctx.queue == "North" and ctx.slot.job is Job.OPEN:
            release.wait(30)  # a Google outage on North's sheet
        return JobResult(rows=1, changes=0)

    now = [local("2026-12-01T08:00")]
    stream = io.StringIO()
    runner = Runner(
        load_config=lambda: config,
        clock=lambda: now[0],
        log=RunLog(stream=stream),
        jobs=dict.fromkeys(Job, job),
        job_deadline=0.3,
    )
    with runner:
        records = runner.tick()
        assert [(r.queue, r.outcome) for r in records] == [("South", "ok")]
        assert 'queue="North" job=open' in stream.getvalue() and "outcome=running" in stream.getvalue()
        now[0] = local("2026-12-01T08:10")
        assert [(r.queue, r.job) for r in runner.tick()] == [("South", "refresh")]  # North is still busy
        release.set()
        for _ in range(100):
            if stream.getvalue().count('queue="North" job=open') == 2:
                break
            threading.Event().wait(0.05)
        assert 'queue="North" job=open rows=1 changes=0' in stream.getvalue()  # it logged itself
        now[0] = local("2026-12-01T08:20")
        assert sorted((r.queue, r.job) for r in runner.tick()) == [("North", "refresh"), ("South", "refresh")]


# --- config -------------------------------------------------------------------------------------------
def test_duplicate_queues_are_refused_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        clinic(tmp_path, queues=[{"name": "A", "workbook": "a.xlsx"}, {"name": "B", "workbook": "./a.xlsx"}])
    message = str(caught.value)
    assert "\n" not in message and "queues" in message and "'B'" in message and "'A'" in message
    url = "https://docs.google.com/spreadsheets/d/1AbCdEf/edit#gid=0"
    with pytest.raises(ConfigError, match="same sheet"):
        clinic(
            tmp_path,
            queues=[
                {"name": "A", "backend": "google", "google": {"spreadsheet": url}},
                {"name": "B", "backend": "google", "google": {"spreadsheet": "1AbCdEf"}},
            ],
        )
    clinic(  # two tabs of one spreadsheet are two queues
        tmp_path,
        queues=[
            {"name": "A", "backend": "google", "google": {"spreadsheet": url}},
            {"name": "B", "backend": "google", "google": {"spreadsheet": "1AbCdEf", "worksheet": "South"}},
        ],
    )


def test_sighup_rereads_the_config_and_logs_it(tmp_path: Path) -> None:
    config = write_demo(tmp_path, now_text="2026-12-01T07:30", rows=10)
    assert config.path is not None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from callback_sheets.cli import main; main()",
            "--config",
            str(config.path),
            "run",
            "--now",
            "2026-12-01T08:00",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        for _ in range(5):  # the started line (long-running mode), then the opening refresh
            assert select.select([proc.stderr], [], [], 60)[0]
            if " job=open " in proc.stderr.readline():  # not the started line's next_job=open
                break
        else:
            raise AssertionError("no job=open line")
        proc.send_signal(signal.SIGHUP)
        assert select.select([proc.stderr], [], [], 90)[0], "nothing logged after SIGHUP"
        line = proc.stderr.readline()
        assert 'queue="*" job=reload' in line and "outcome=ok" in line
        assert proc.poll() is None  # still running
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_reloader_force_reads_an_unchanged_file(tmp_path: Path) -> None:
    config = write_demo(tmp_path, now_text="2026-12-01T07:30", rows=1)
    assert config.path is not None
    reloader = ConfigReloader(config.path)
    first = reloader()
    assert reloader() is first
    reloader.force()
    assert reloader() is not first
