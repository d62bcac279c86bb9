"""The scheduled runner: keeps every queue of a config fresh on the clinic's own clock.

A ``Runner`` holds one lock per queue (one runner at a time per queue) and, at each ``tick()``, runs the
jobs due now (see ``runner_clock``) for every queue, one log line per job. A job's fault (workbook open or
locked, API outage, bad config edit, any exception) is logged and retried at the next tick; it never stops
the runner or the other queues. The command (``cli/run.py``) drives it: once for cron, or ticking with
``schedule``. Collaborators (config loader, clock, jobs, stop flag) are injected, so tests drive a
whole week without sleeping.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from callback_sheets.app.runner.clock import Job, JobClock, Slot, drop_future_entries
from callback_sheets.app.runner.jobs import DEFAULT_JOBS, JobContext, JobFn, JobResult, notify_job, watch_job
from callback_sheets.app.runner.lock import RunnerLock
from callback_sheets.app.runner.log import JobRecord, RunLog, RunState, describe_error
from callback_sheets.app.runner.watching import watch_record
from callback_sheets.app.watch import WatchedFile
from callback_sheets.config import Config
from callback_sheets.config.state_files import runner_files
from callback_sheets.errors import CallbackSheetsError, ConfigError

if TYPE_CHECKING:
    from callback_sheets.core.refresh_plan import RefreshPlan


DEFAULT_JOB_DEADLINE = 60.0  # seconds; a queue's own [google] max_wait_seconds when it has one

WatchFn = Callable[[Config, datetime], list["WatchedFile"]]


@dataclass(slots=True)
class _Queue:
    name: str
    config: Config
    lock: RunnerLock
    state_path: Path
    state: RunState = field(default_factory=RunState)


class Runner:
    """Runs each queue's due jobs at every tick; use as a context manager (takes and frees the locks)."""

    def __init__(
        self,
        *,
        load_config: Callable[[], Config],
        clock: Callable[[], datetime],
        log: RunLog,
        jobs: Mapping[Job, JobFn] = DEFAULT_JOBS,
        stop: threading.Event | None = None,
        timer: Callable[[], float] = time.monotonic,
        job_deadline: float | None = None,
        notify: JobFn | None = notify_job,
        watch: WatchFn = watch_job,
    ) -> None:
        """``job_deadline``: how long (seconds) one queue's job may hold up the others before they go on
        without it; by default the queue's ``[google] max_wait_seconds`` (60)."""
        self._load = load_config
        self._clock = clock
        self._log = log
        self._jobs = {**DEFAULT_JOBS, **jobs}
        self.stop = stop or threading.Event()
        self._timer = timer
        self._notify = notify
        self._config: Config | None = None
        self._schedule: JobClock | None = None
        self._queues: dict[Path, _Queue] = {}
        self._config_streak = 0
        self._job_deadline = job_deadline
        self._busy: dict[Path, threading.Thread] = {}  # queues whose job outlived its deadline
        self._reload = threading.Event()
        self._watch = watch
        self._watch_streak = 0

    def request_reload(self) -> None:
        """Re-read the config at the next tick, changed or not, and log it (SIGHUP; safe in a handler)."""
        self._reload.set()

    def __enter__(self) -> Runner:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        """Load the config and lock every queue; raises ConfigError, or WorkbookBusyError if another runner
        serves any of them (then no lock is kept)."""
        config = self._load()
        try:
            self._use(config, strict=True)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for path, worker in list(self._busy.items()):  # a job still running finishes first (bounded)
            worker.join(self._deadline(self._queues[path]) if path in self._queues else DEFAULT_JOB_DEADLINE)
        self._busy.clear()
        for queue in self._queues.values():
            queue.lock.release()
        self._queues.clear()

    def tick(self) -> list[JobRecord]:
        """Run what is due now, queue by queue, until done or asked to stop; returns the records logged."""
        now = self._clock()
        reloading = self._reload.is_set()
        if reloading:
            self._reload.clear()
            force = getattr(self._load, "force", None)
            if force is not None:
                force()
        try:
            config = self._load()
        except ConfigError as exc:
            return self._config_failed(exc, now)
        if self._config_streak:
            self._config_streak = 0
        if config is not self._config:
            self._use(config, strict=False)
        assert self._schedule is not None
        records: list[JobRecord] = self._look(config, now)
        if reloading:
            records.append(self._emit(JobRecord(time=now, queue="*", job="reload", outcome="ok")))
        for path, queue in list(self._queues.items()):
            worker = self._busy.get(path)
            if worker is not None:
                if worker.is_alive():
                    continue  # its job is still running (and logs itself when it ends)
                del self._busy[path]
            records.extend(self._check_clock(queue, now))
            ran = False
            plan: RefreshPlan | None = None
            for slot in self._schedule.due(now, done=queue.state.done):
                if self.stop.is_set():
                    return records
                outcome = self._run_bounded(path, queue, slot)
                if outcome is None:
                    break  # still running past its deadline: the other queues go on
                record, result = outcome
                records.append(record)
                ran = True
                if result is not None and result.plan is not None:
                    plan = result.plan
            notify = ran and self._notify is not None and queue.config.notify.channels
            if notify and path not in self._busy and not self.stop.is_set():
                records.append(self._after(queue, plan))
        return records

    def queue_names(self) -> list[str]:
        """The queues this runner serves (holds the lock of)."""
        return [q.name for q in self._queues.values()]

    def next_job(self, now: datetime, *, days: int = 8) -> Slot | None:
        """The next job to run: one due now, else the first one after ``now`` (None when nothing is
        scheduled within ``days``). The queues share the clinic's calendar, so this is every queue's."""
        if self._schedule is None or not self._queues:
            return None
        due = [s for q in self._queues.values() for s in self._schedule.due(now, done=q.state.done)]
        if due:
            return due[0]
        later = self._schedule.between(now, now + timedelta(days=days))
        return later[0] if later else None

    def _after(self, queue: _Queue, plan: RefreshPlan | None) -> JobRecord:
        """The notify job after a queue's jobs: its faults are logged like any job's, never fatal."""
        assert self._notify is not None
        now = self._clock()
        started = self._timer()
        slot = Slot(Job.REFRESH, now, now, now.date())
        try:
            result = self._notify(JobContext(queue.name, queue.config, slot, now, plan))
        except Exception as exc:
            streak = queue.state.streaks.get("notify", 0) + 1
            queue.state.streaks["notify"] = streak
            record = JobRecord(
                time=now,
                queue=queue.name,
                job="notify",
                outcome="failed",
                duration=self._timer() - started,
                streak=streak,
                error=describe_error(exc),
            )
        else:
            recovered = queue.state.streaks.pop("notify", 0)
            record = JobRecord(
                time=now,
                queue=queue.name,
                job="notify",
                outcome="ok",
                duration=self._timer() - started,
                changes=result.changes,
                recovered_after=recovered,
            )
        with contextlib.suppress(OSError):
            queue.state.save(queue.state_path)
        self._log.emit(record)
        return record

    # -- internals ---------------------------------------------------------------------------------

    def _look(self, config: Config, now: datetime) -> list[JobRecord]:
        """The watch folder, at every tick: one line per file imported or failed. It feeds the first
        queue; a fault (workbook busy...) is logged and the files wait for the next tick."""
        if config.intake.watch is None or not self._queues or self.stop.is_set():
            return []
        queue = next(iter(self._queues.values()))
        started = self._timer()
        try:
            results = self._watch(queue.config, now)
        except Exception as exc:  # never stops the runner or the refresh
            self._watch_streak += 1
            record = JobRecord(
                time=now,
                queue=queue.name,
                job="watch",
                outcome="failed",
                duration=self._timer() - started,
                streak=self._watch_streak,
                error=describe_error(exc),
            )
            self._log.emit(record)
            return [record]
        recovered, self._watch_streak = self._watch_streak, 0
        records = []
        for result in results:
            line = watch_record(
                result, now=now, queue=queue.name, duration=self._timer() - started, recovered=recovered
            )
            if line is not None:
                records.append(self._emit(line))
        return records

    def _use(self, config: Config, *, strict: bool) -> None:
        """Serve ``config``'s queues: lock new ones, free the ones no longer listed."""
        wanted: dict[Path, tuple[str, Config, Path]] = {}
        for name, queue_config in config.queues():
            lock_path, state_path = runner_files(queue_config)
            wanted[lock_path] = (name, queue_config, state_path)
        for path in [p for p in self._queues if p not in wanted]:
            self._queues.pop(path).lock.release()
        for path, (name, queue_config, state_path) in wanted.items():
            held = self._queues.get(path)
            if held is not None:
                held.name, held.config = name, queue_config
                continue
            lock = RunnerLock(path, queue=name)
            try:
                lock.acquire()
            except CallbackSheetsError as exc:
                if strict:
                    raise
                self._log.emit(
                    JobRecord(
                        time=self._clock(),
                        queue=name,
                        job="lock",
                        outcome="failed",
                        streak=1,
                        error=describe_error(exc),
                    )
                )
                continue
            self._queues[path] = _Queue(name, queue_config, lock, state_path, RunState.load(state_path))
        self._config = config
        self._schedule = JobClock(calendar=config.calendar(), runner=config.runner)

    def _config_failed(self, exc: ConfigError, now: datetime) -> list[JobRecord]:
        """A bad config edit: if anything is due (by the last good config), log one line; retry next tick."""
        if self._config is None or self._schedule is None:
            raise exc
        schedule_ = self._schedule
        if not any(schedule_.due(now, done=q.state.done) for q in self._queues.values()):
            return []
        self._config_streak += 1
        record = JobRecord(
            time=now,
            queue="*",
            job="config",
            outcome="failed",
            streak=self._config_streak,
            error=describe_error(exc),
        )
        self._log.emit(record)
        return [record]

    def _emit(self, record: JobRecord) -> JobRecord:
        self._log.emit(record)
        return record

    def _deadline(self, queue: _Queue) -> float:
        if self._job_deadline is not None:
            return self._job_deadline
        google = queue.config.google
        return float(google.max_wait_seconds) if google is not None else DEFAULT_JOB_DEADLINE

    def _check_clock(self, queue: _Queue, now: datetime) -> list[JobRecord]:
        """A state entry later than now (beyond CLOCK_SLACK) is a clock problem: a run with a later --now,
        or a clock that was ahead. It is dropped and logged, so it never blocks today's jobs."""
        out = [
            self._emit(JobRecord(time=now, queue=queue.name, job=family, outcome="clock", error=error))
            for family, error in drop_future_entries(queue.state.done, now)
        ]
        if out:
            with contextlib.suppress(OSError):
                queue.state.save(queue.state_path)
        return out

    def _run_bounded(
        self, path: Path, queue: _Queue, slot: Slot
    ) -> tuple[JobRecord, JobResult | None] | None:
        """Run one job on a worker thread and wait for it at most the queue's deadline; a job still
        running then is left to finish (and log itself) while the other queues' jobs go on."""
        box: list[tuple[JobRecord, JobResult | None]] = []
        worker = threading.Thread(
            target=lambda: box.append(self._run(queue, slot)), name=f"callback-sheets job {queue.name}"
        )
        worker.daemon = True
        worker.start()
        deadline = self._deadline(queue)
        worker.join(deadline)
        if box:
            return box[0]
        self._busy[path] = worker
        self._emit(
            JobRecord(
                time=self._clock(),
                queue=queue.name,
                job=slot.job.value,
                outcome="running",
                duration=deadline,
                error=f"still running after {deadline:.0f} s: the other queues go on; it logs when it ends",
                slot=slot.at,
            )
        )
        return None

    def _run(self, queue: _Queue, slot: Slot) -> tuple[JobRecord, JobResult | None]:
        now = self._clock()
        result: JobResult | None = None
        started = self._timer()
        family = slot.family
        try:
            context = JobContext(queue=queue.name, config=queue.config, slot=slot, now=now)
            result = self._jobs[slot.job](context)
        except Exception as exc:  # a fault is logged and retried at the next tick, never fatal
            streak = queue.state.streaks.get(family, 0) + 1
            queue.state.streaks[family] = streak
            record = JobRecord(
                time=now,
                queue=queue.name,
                job=slot.job.value,
                outcome="failed",
                duration=self._timer() - started,
                streak=streak,
                error=describe_error(exc),
                slot=slot.at,
            )
        else:
            recovered = queue.state.streaks.pop(family, 0)
            queue.state.done[family] = slot.at
            record = JobRecord(
                time=now,
                queue=queue.name,
                job=slot.job.value,
                outcome="ok",
                duration=self._timer() - started,
                rows=result.rows,
                changes=result.changes,
                recovered_after=recovered,
                attention=result.attention,
                slot=slot.at,
            )
        try:
            queue.state.save(queue.state_path)
        except OSError as exc:
            record = replace(record, outcome="failed", error=f"state file not saved: {exc.strerror}")
        self._log.emit(record)
        return record, result
