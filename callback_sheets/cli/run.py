"""`callback-sheets run`: the process around the runner — the clock, signals, the tick loop, exit codes.

Exit codes: 0 when it ran (the service: job faults are logged and retried, not fatal), 1 when another
runner already serves a queue or, with --once, when any job failed; 2 for a bad config or a bad --now.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
import schedule

from callback_sheets.cli.options import now_option
from callback_sheets.cli.state import State

if TYPE_CHECKING:
    from callback_sheets.app.runner.log import RunLog
    from callback_sheets.app.runner.loop import Runner


@click.command()
@click.option("--once", is_flag=True, help="Run what is due now, then exit (for cron or a systemd timer).")
@now_option
@click.option("--log-json", is_flag=True, help="Log one JSON object per job on stderr instead of text.")
@click.pass_obj
def run(state: State, once: bool, now: str | None, log_json: bool) -> None:
    """Keep every queue fresh on the clinic's clock: a refresh at opening and every N minutes of business
    hours, the end-of-day review and daily report at close, the weekly report on its day.

    Logs one line per job on stderr; the long-running mode also logs one line when it starts (the
    queues, the next job and its time) and one when it stops. SIGTERM or Ctrl-C lets the current job
    finish, then exits.

    \b
    Examples:
        callback-sheets run                      # long-running (systemd service)
        callback-sheets run --once --log-json    # from cron or a systemd timer, every 5 minutes
    """
    from callback_sheets.app.runner.log import RunLog
    from callback_sheets.app.runner.loop import Runner
    from callback_sheets.app.runner.reload import ConfigReloader
    from callback_sheets.config import find_config_path

    reloader = ConfigReloader(find_config_path(state.config_path))
    config = reloader()  # a bad config: ConfigError, exit code 2
    clock = make_clock(now, config.tz)
    stop = threading.Event()
    wake = threading.Event()  # SIGHUP (and a stop) ends the pause between ticks at once
    log = RunLog(as_json=log_json)
    runner = Runner(load_config=reloader, clock=clock, log=log, stop=stop)
    caught: list[str] = []

    def reload() -> None:
        runner.request_reload()
        wake.set()

    with stop_on_signals(stop, caught, reload=reload, wake=wake), runner:  # another runner: exit code 1
        if once:
            failed = [r for r in runner.tick() if r.outcome == "failed"]
            if failed:  # cron mails it, systemd marks the unit failed; the job lines above say why
                jobs = ", ".join(f"{r.queue}/{r.job}" for r in failed)
                click.echo(f"run --once: {len(failed)} job(s) failed: {jobs}", err=True)
                raise click.exceptions.Exit(1)
            return
        log_start(log, runner, clock())
        try:
            serve(tick=runner.tick, stop=stop, wake=wake)
        finally:
            log.event(clock(), "stopped", reason=caught[0] if caught else "exit", queues=runner.queue_names())


def log_start(log: RunLog, runner: Runner, now: datetime) -> None:
    """The long-running mode's first line: the queues it serves and its next job (and when)."""
    slot = runner.next_job(now)
    log.event(
        now,
        "started",
        queues=runner.queue_names(),
        next_job=slot.job.value if slot else None,
        next_at=(now if slot and slot.at <= now else slot.at).isoformat(timespec="minutes") if slot else None,
        pid=os.getpid(),
    )


def make_clock(now: str | None, tz: ZoneInfo) -> Callable[[], datetime]:
    """The real clock in the clinic's zone, or one that starts at --now and runs at real speed."""
    if now is None:
        return lambda: datetime.now(tz)
    from callback_sheets.core.times import parse_now

    try:
        start = parse_now(now, tz)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    origin = time.monotonic()
    return lambda: (start + timedelta(seconds=time.monotonic() - origin)).astimezone(tz)


@contextlib.contextmanager
def stop_on_signals(
    stop: threading.Event,
    caught: list[str] | None = None,
    *,
    reload: Callable[[], None] | None = None,
    wake: threading.Event | None = None,
) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop``: the current job finishes, then the runner exits cleanly. The
    signal's name is appended to ``caught`` (for the stop line). SIGHUP calls ``reload`` (the runner
    re-reads the config at its next tick and logs it), as daemons do."""

    def handler(signum: int, frame: object) -> None:
        if caught is not None:
            caught.append(signal.Signals(signum).name)
        stop.set()
        if wake is not None:
            wake.set()

    def hangup(signum: int, frame: object) -> None:
        if reload is not None:
            reload()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    if reload is not None and hasattr(signal, "SIGHUP"):
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, hangup)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def serve(
    *,
    tick: Callable[[], object],
    stop: threading.Event,
    tick_seconds: int = 60,
    wait: Callable[[float], object] | None = None,
    monotonic: Callable[[], float] = time.monotonic,
    scheduler: schedule.Scheduler | None = None,
    wake: threading.Event | None = None,
) -> None:
    """The long-running mode: tick now, then every ``tick_seconds`` until ``stop`` is set.

    ``schedule`` fires the ticks. It keeps its times as naive server-local wall time, so when the server's
    own clock falls back an hour its next run lies an hour ahead; a monotonic watchdog runs any tick that
    is more than one period late. ``wait`` (default ``stop.wait``) returns early when a signal sets ``stop``;
    with ``wake``, the pause waits on it instead, and a wake that is not a stop (SIGHUP) ticks at once.
    """
    pause = wait or (wake.wait if wake is not None else stop.wait)
    scheduler = scheduler or schedule.Scheduler()
    last = [monotonic()]

    def fire() -> None:
        last[0] = monotonic()
        tick()

    scheduler.every(tick_seconds).seconds.do(fire)
    fire()
    while not stop.is_set():
        scheduler.run_pending()
        if not stop.is_set() and monotonic() - last[0] >= 2 * tick_seconds:
            fire()
        if stop.is_set():
            break
        idle = scheduler.idle_seconds
        pause(min(max(idle if idle is not None else tick_seconds, 0.05), tick_seconds))
        if wake is not None and wake.is_set():
            wake.clear()
            if not stop.is_set():
                fire()
