"""`callback-sheets run` end to end: cron's --once, JSON logs, exit codes, SIGTERM when long-running."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import click.testing
import openpyxl
import pytest

from callback_sheets import model
from callback_sheets.app.demo import write_demo
from callback_sheets.app.runner.lock import RunnerLock
from callback_sheets.cli import main
from callback_sheets.config import Config
from callback_sheets.config.state_files import runner_files


@pytest.fixture
def demo(tmp_path: Path) -> Config:
    return write_demo(tmp_path, now_text="2026-12-01T07:30", rows=30)


def run(config: Config, *args: str) -> click.testing.Result:
    assert config.path is not None
    return click.testing.CliRunner().invoke(main, ["--config", str(config.path), "run", *args])


def test_once_runs_what_is_due_and_cron_repeats_nothing(demo: Config) -> None:
    first = run(demo, "--once", "--now", "2026-12-01T08:01")
    assert first.exit_code == 0, first.output
    lines = first.stderr.splitlines()
    assert len(lines) == 1
    assert 'queue="Riverside Family Clinic" job=open rows=30' in lines[0]
    assert "outcome=ok" in lines[0] and lines[0].startswith("2026-12-01T08:01:00-06:00")
    again = run(demo, "--once", "--now", "2026-12-01T08:06")
    assert again.exit_code == 0 and again.stderr == ""  # cron every 5 minutes: nothing new is due
    later = run(demo, "--once", "--now", "2026-12-01T08:11")
    assert [re.search(r"job=(\w+)", line)[1] for line in later.stderr.splitlines()] == ["refresh"]  # type: ignore[index]


def test_log_json_lines(demo: Config) -> None:
    result = run(demo, "--once", "--now", "2026-12-04T17:31", "--log-json")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert [r["job"] for r in records] == ["review", "daily", "weekly"]
    assert {"time", "queue", "job", "rows", "changes", "duration_s", "outcome"} <= set(records[0])
    assert records[0]["time"] == "2026-12-04T17:31:00-06:00"
    assert records[2]["slot"] == "2026-12-04T17:30-06:00"


def test_a_job_fault_is_logged_and_once_exits_1(demo: Config) -> None:
    (demo.workbook.parent / f"~${demo.workbook.name}").write_text("")  # open in Excel
    result = run(demo, "--once", "--now", "2026-12-01T09:00")
    assert result.exit_code == 1  # cron mails it; systemd marks the unit failed
    assert "outcome=failed streak=1" in result.stderr and "open in Excel" in result.stderr
    assert "run --once: 1 job(s) failed: Riverside Family Clinic/refresh" in result.stderr
    (demo.workbook.parent / f"~${demo.workbook.name}").unlink()  # closed in Excel: the next run is fine
    result = run(demo, "--once", "--now", "2026-12-01T09:05")
    assert result.exit_code == 0, result.stderr


def test_a_second_runner_is_refused_with_exit_code_1(demo: Config) -> None:
    lock = RunnerLock(runner_files(demo)[0], queue="Riverside Family Clinic")
    lock.acquire()
    try:
        for args in (("--once",), ()):
            result = run(demo, *args, "--now", "2026-12-01T08:01")
            assert result.exit_code == 1
            assert "another callback-sheets runner is already serving queue 'Riverside Family Clinic'" in (
                result.stderr
            )
            assert len(result.stderr.splitlines()) == 1
    finally:
        lock.release()
    assert run(demo, "--once", "--now", "2026-12-01T08:01").exit_code == 0


def test_bad_config_and_bad_now_exit_2(demo: Config, tmp_path: Path) -> None:
    assert run(demo, "--once", "--now", "yesterday-ish").exit_code == 2
    assert demo.path is not None
    demo.path.write_text(demo.path.read_text() + '\n[runner]\nweekly_day = "someday"\n')
    result = run(demo, "--once")
    assert result.exit_code == 2
    assert "runner.weekly_day" in result.stderr


def test_long_running_mode_stops_cleanly_on_sigterm(demo: Config) -> None:
    """A real process: it logs its first job, gets SIGTERM, exits 0 and lets go of its lock."""
    assert demo.path is not None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from callback_sheets.cli import main; main()",
            "--config",
            str(demo.path),
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
        ready, _, _ = select.select([proc.stderr], [], [], 60)
        assert ready, "the runner logged nothing within a minute"
        start = proc.stderr.readline()
        assert "event=started" in start and 'queues="Riverside Family Clinic"' in start, start
        assert "next_job=open next_at=2026-12-01T08:00-06:00" in start, start
        first = proc.stderr.readline()
        assert "job=open" in first and "outcome=ok" in first
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        rest = proc.stderr.read()
        assert "event=stopped reason=SIGTERM" in rest, rest
    finally:
        if proc.poll() is None:
            proc.kill()
    lock = RunnerLock(runner_files(demo)[0], queue="check")
    lock.acquire()
    lock.release()
    sheet = openpyxl.load_workbook(demo.workbook)[model.QUEUE_TAB]
    assert sheet.max_row == 31


def test_the_daily_job_archives_old_closed_items_after_the_review(tmp_path: Path) -> None:
    config = write_demo(tmp_path, now_text="2026-10-20T16:00", rows=40)
    refreshed = click.testing.CliRunner().invoke(
        main, ["--config", str(config.path), "refresh", "--now", "2026-10-20T16:00"]
    )
    assert refreshed.exit_code == 0, refreshed.output
    result = run(config, "--once", "--now", "2026-12-01T17:16", "--log-json")
    assert result.exit_code == 0, result.output
    daily = [json.loads(line) for line in result.stderr.splitlines() if '"daily"' in line]
    archive = config.workbook.with_name(f"{config.workbook.stem}.archive-2026.xlsx")
    assert archive.exists() and daily and daily[0]["outcome"] == "ok"
