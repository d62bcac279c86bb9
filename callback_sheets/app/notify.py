"""Sending what is due: read the queue, work out the alerts, send each on every channel at most once.

Never in the way: a channel that is down, slow or refuses is tried once per run (short timeouts), then
skipped for the rest of the run and retried at a later run with a bounded backoff; the log gets one line
without patient data. Called by `callback-sheets notify` and by the runner after every job.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from callback_sheets.backends.base import Backend
from callback_sheets.config import Config
from callback_sheets.core.refresh_plan import RefreshPlan
from callback_sheets.errors import BackendError
from callback_sheets.notify import alerts as A
from callback_sheets.notify.channels import Channel, ChannelError, channels_for, no_channel_note
from callback_sheets.notify.chart import weekly_chart
from callback_sheets.notify.message import Alert
from callback_sheets.notify.record import SentRecord, locked, record_path

log = logging.getLogger("callback_sheets.notify")


@dataclass(frozen=True, slots=True)
class Delivery:
    key: str
    kind: str
    channel: str
    to: tuple[str, ...]  # addresses (e-mail) or who it is for (webhook)
    status: str  # sent, would_send, failed, deferred (channel backing off or failed earlier this run)
    detail: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "kind": self.kind,
            "channel": self.channel,
            "to": list(self.to),
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(slots=True)
class NotifyResult:
    deliveries: list[Delivery] = field(default_factory=list)
    note: str = ""  # e.g. "no channel configured"

    def count(self, status: str) -> int:
        return sum(d.status == status for d in self.deliveries)

    @property
    def failed(self) -> bool:
        return any(d.status == "failed" for d in self.deliveries)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.count("sent"),
            "would_send": self.count("would_send"),
            "failed": self.count("failed"),
            "deferred": self.count("deferred"),
            "note": self.note,
            "deliveries": [d.as_dict() for d in self.deliveries],
        }


def due_alerts(
    config: Config, backend: Backend, now: datetime, record: SentRecord, plan: RefreshPlan | None = None
) -> list[Alert]:
    """Every alert due now (already-sent ones are filtered later, per channel). ``plan``: the plan a
    refresh has just written (the runner passes it: no second read of the queue), else the queue is read."""
    from callback_sheets.app import reports
    from callback_sheets.app.cases import CaseReader
    from callback_sheets.app.cycle import READ_TABS
    from callback_sheets.app.review import review_of
    from callback_sheets.core.refresh import Planner

    cal = config.calendar()
    snapshot = None
    written = plan is not None
    if plan is None:
        snapshot = backend.read(tabs=READ_TABS)
        plan = Planner(config=config, now=now, calendar=cal).plan(snapshot, assign=False)
    out = A.escalation_alerts(config, plan, now, written=written)
    out += A.digest_alerts(config, plan, now, cal, written=written)
    on = A.review_due(config, now, cal)
    if on is not None and not _all_sent(record, f"{A.END_OF_DAY_REVIEW}:{on.isoformat()}", config):
        alert = A.review_alert(config, review_of(plan, config=config, now=now), on)
        if alert is not None:
            out.append(alert)
    week = A.weekly_due(config, now)
    if week is not None and config.notify.weekly_to:
        if snapshot is None:
            snapshot = backend.read(tabs=READ_TABS)
        this = reports.build_report(config=config, snapshot=snapshot, period="weekly", now=now, on=week)
        if not _all_sent(record, f"{A.WEEKLY_SUMMARY}:{this.period.label}", config):
            last = reports.build_report(
                config=config, snapshot=snapshot, period="weekly", now=now, on=week - timedelta(days=7)
            )
            from callback_sheets.core import demand

            series = demand.weekly_series(CaseReader(config=config).cases(snapshot), now=now)
            alert = A.weekly_alert(
                config, this, last, [(t.value, t.missed_calls, t.recovered) for t in series], weekly_chart
            )
            if alert is not None:
                out.append(alert)
    return out


def _all_sent(record: SentRecord, key: str, config: Config) -> bool:
    names = [c.name for c in channels_for(config)]
    return all(record.was_sent(key, name) for name in names)


def deliver(
    alerts: Sequence[Alert],
    channels: Sequence[Channel],
    record: SentRecord,
    now: datetime,
    *,
    dry_run: bool = False,
) -> list[Delivery]:
    """Send each alert on each channel that has someone for it and has not sent it yet."""
    out: list[Delivery] = []
    down: dict[str, str] = {}  # channel -> why, once it failed in this run
    for alert in alerts:
        for channel in channels:
            if record.was_sent(alert.key, channel.name) or not channel.wants(alert):
                continue
            to = tuple(channel.recipients(alert))
            if dry_run:
                out.append(Delivery(alert.key, alert.kind, channel.name, to, "would_send"))
                continue
            waiting = record.waiting(channel.name, now)
            if channel.name in down or waiting is not None:
                why = down.get(channel.name) or (
                    f"backing off after {waiting.failures} failure(s) until "  # type: ignore[union-attr]
                    f"{waiting.next_try:%H:%M}"  # type: ignore[union-attr]
                )
                out.append(Delivery(alert.key, alert.kind, channel.name, to, "deferred", why))
                continue
            try:
                warning = channel.send(alert)
            except ChannelError as exc:
                state = record.failed(channel.name, str(exc), now, exc.retry_after)
                retry = f"{state.next_try.astimezone(now.tzinfo):%H:%M}" if state.next_try else "the next run"
                detail = f"{exc} (next try after {retry})"
                down[channel.name] = detail
                out.append(Delivery(alert.key, alert.kind, channel.name, to, "failed", detail))
                continue
            record.mark_sent(alert.key, channel.name, now)
            record.succeeded(channel.name)
            if warning:
                log.warning("notify: %s", warning)  # sent, but some recipients were refused
            out.append(Delivery(alert.key, alert.kind, channel.name, to, "sent", warning or ""))
    return out


def notify(
    *,
    config: Config,
    backend: Backend,
    now: datetime,
    dry_run: bool = False,
    plan: RefreshPlan | None = None,
) -> NotifyResult:
    """Send every alert due now, each (alert, channel) at most once (``plan``: see :func:`due_alerts`)."""
    channels = channels_for(config)
    if not channels:
        return NotifyResult(note=no_channel_note())
    path = record_path(config)
    if dry_run:
        record = SentRecord.load(path)
        return NotifyResult(
            deliver(due_alerts(config, backend, now, record, plan), channels, record, now, dry_run=True)
        )
    with locked(path) as record:
        alerts = due_alerts(config, backend, now, record, plan)
        record.prune(now)
        try:
            record.save()  # a record that cannot be written would resend every alert at every run
        except OSError as exc:
            raise BackendError(
                f"cannot write {path.name} in {path.parent} ({exc.strerror}): nothing sent; "
                "free some space or fix the folder's permissions"
            ) from None
        return NotifyResult(deliver(alerts, channels, record, now))


def send_test(*, config: Config, now: datetime) -> NotifyResult:
    """One test message on every configured channel (not recorded: it may be sent again)."""
    channels = channels_for(config)
    if not channels:
        return NotifyResult(note=no_channel_note())
    alert = A.test_alert(config, now)
    out = []
    for channel in channels:
        to = tuple(channel.recipients(alert))
        try:
            warning = channel.send(alert)
        except ChannelError as exc:
            out.append(Delivery(alert.key, alert.kind, channel.name, to, "failed", str(exc)))
        else:
            out.append(Delivery(alert.key, alert.kind, channel.name, to, "sent", warning or ""))
    return NotifyResult(out)


__all__ = ["Delivery", "NotifyResult", "channels_for", "deliver", "due_alerts", "notify", "send_test"]
