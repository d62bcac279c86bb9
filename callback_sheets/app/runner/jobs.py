"""The runner's jobs: what each slot of the clinic's day runs (refresh, review, daily and weekly report,
nightly archive, notify), each taking a :class:`JobContext` and returning a :class:`JobResult`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from callback_sheets.app.runner.clock import Job, Slot
from callback_sheets.app.watch import WatchedFile
from callback_sheets.backends.base import Backend
from callback_sheets.config import Config
from callback_sheets.core.refresh_plan import RefreshPlan
from callback_sheets.errors import CallbackSheetsError


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job gets: its queue, that queue's config, the slot it serves and the current time."""

    queue: str
    config: Config
    slot: Slot
    now: datetime
    plan: RefreshPlan | None = None  # for the notify job: the plan the tick's refresh just wrote

    def backend(self) -> Backend:
        from callback_sheets.backends.registry import open_backend

        return open_backend(self.config)


@dataclass(frozen=True, slots=True)
class JobResult:
    rows: int | None = None
    changes: int | None = None
    attention: bool | None = None
    plan: RefreshPlan | None = None  # a refresh's written plan, handed to the notify job (no second read)


JobFn = Callable[[JobContext], JobResult]


def watch_job(config: Config, now: datetime) -> list[WatchedFile]:
    """The watch folder's look at every tick (see `callback_sheets.app.watch`)."""
    from callback_sheets.app.watch import watch_folder
    from callback_sheets.backends.registry import open_backend

    return watch_folder(config=config, backend=lambda: open_backend(config), now=now)


def refresh_job(ctx: JobContext) -> JobResult:
    """``open`` and ``refresh``: the same refresh as ``callback-sheets refresh``."""
    from callback_sheets.app import service

    outcome = service.refresh(config=ctx.config, backend=ctx.backend(), now=ctx.now)
    summary = outcome.plan.summary
    return JobResult(rows=summary.rows, changes=summary.changes, plan=outcome.plan)


def review_job(ctx: JobContext) -> JobResult:
    """``review``: the end-of-day review of the queue."""
    from callback_sheets.app.review import end_of_day_review

    review = end_of_day_review(config=ctx.config, backend=ctx.backend(), now=ctx.now)
    return JobResult(attention=bool(review.needs_attention))


def daily_job(ctx: JobContext) -> JobResult:
    """``daily``: append the day's report (for the slot's date, even when run late)."""
    from callback_sheets.app import reports

    appended = reports.append_report(
        config=ctx.config, backend=ctx.backend(), period="daily", now=ctx.now, on=ctx.slot.on
    )
    return JobResult(changes=appended.added + appended.replaced + nightly_archive(ctx))


def nightly_archive(ctx: JobContext) -> int:
    """The night's archive run, after the close-of-day review and the daily report (the same job, so
    the schedule keeps its slots); a refusal is logged, never fails the report. Returns rows moved."""
    import logging

    from callback_sheets.app import archive

    try:
        return len(archive.archive(config=ctx.config, backend=ctx.backend(), now=ctx.now).moved)
    except CallbackSheetsError as exc:
        logging.getLogger(__name__).warning("%s archive: not done (%s)", ctx.queue, exc)
        return 0


def weekly_job(ctx: JobContext) -> JobResult:
    """``weekly``: append the week's report (the week of the slot's date)."""
    from callback_sheets.app import reports

    appended = reports.append_report(
        config=ctx.config, backend=ctx.backend(), period="weekly", now=ctx.now, on=ctx.slot.on
    )
    return JobResult(changes=appended.added + appended.replaced)


def notify_job(ctx: JobContext) -> JobResult:
    """After the jobs of a tick: send the alerts due (issue 11). ``changes`` counts the alerts sent;
    ``attention`` says a channel failed (it is retried at a later run; the log says why, without patient
    data, and `doctor` names the channel and the fix)."""
    from callback_sheets.app.notify import notify

    result = notify(config=ctx.config, backend=ctx.backend(), now=ctx.now, plan=ctx.plan)
    failures = [d.detail for d in result.deliveries if d.status == "failed"]
    if failures:
        raise NotifyFailed(failures[0] + (f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""))
    return JobResult(changes=result.count("sent"), attention=bool(result.count("deferred")) or None)


class NotifyFailed(CallbackSheetsError):
    """A channel did not accept an alert (the message names the channel and the fix)."""


DEFAULT_JOBS: Mapping[Job, JobFn] = {
    Job.OPEN: refresh_job,
    Job.REFRESH: refresh_job,
    Job.REVIEW: review_job,
    Job.DAILY: daily_job,
    Job.WEEKLY: weekly_job,
}
