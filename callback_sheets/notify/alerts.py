"""Which alerts are due, and what they say: pure functions of the config, a refresh plan and ``now``.

Minimum necessary: an alert carries the clinic's name, item IDs, what happened, the due time, the owner
it is for and the configured link; never a caller's name, number, notes, reason or urgency. The person
alerted opens the queue, where those details are, behind the sheet's own access control.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from callback_sheets.config import Config
from callback_sheets.core.arrival import is_after_hours
from callback_sheets.core.calendar import BusinessCalendar
from callback_sheets.core.refresh_plan import ItemView, RefreshPlan
from callback_sheets.notify.message import Alert

NEW_ESCALATION = "new_escalation"
ESCALATION_OVERDUE = "escalation_overdue"
MORNING_DIGEST = "morning_digest"
END_OF_DAY_REVIEW = "end_of_day_review"
WEEKLY_SUMMARY = "weekly_summary"
TEST = "test"
KINDS = (NEW_ESCALATION, ESCALATION_OVERDUE, MORNING_DIGEST, END_OF_DAY_REVIEW, WEEKLY_SUMMARY, TEST)
DIGEST_WINDOW = timedelta(hours=1)


def _when(at: datetime | None, tz: object) -> str:
    return at.astimezone(tz).strftime("%a %m-%d %H:%M") if at else "-"  # type: ignore[arg-type]


def _hm(at: datetime, tz: object) -> str:
    return at.astimezone(tz).strftime("%H:%M")  # type: ignore[arg-type]


def sheet_id(view: ItemView, *, written: bool) -> str | None:
    """The item's ID as the sheet holds it: the one read, or (``written``: the plan was written) the one
    the refresh just gave it. An ID a refresh has yet to write is never put in an alert."""
    return view.id if written else view.item.id


def escalation_alerts(
    config: Config, plan: RefreshPlan, now: datetime, *, written: bool = False
) -> list[Alert]:
    """Events 1 and 2: a new escalation (to the escalation owner, at once) and an escalation whose due
    time passed with no attempt (to the escalation owner and the backup), once per attempt it waits for."""
    tz = config.tz
    clinic = config.clinic_name
    owner = config.escalation_owner or "licensed staff"
    backup = config.escalation.backup
    link = config.notify.link
    out: list[Alert] = []
    for view in plan.views:
        item_id = sheet_id(view, written=written)
        if not view.escalation or not item_id or view.item.closed:
            continue
        due = _when(view.due, tz)
        late = is_after_hours(view.arrived)
        also = config.escalation.after_hours_to if late else None
        to = (owner, also) if also and also != owner else (owner,)
        out.append(
            Alert(
                key=f"{item_id}:{NEW_ESCALATION}",
                kind=NEW_ESCALATION,
                to=to,
                subject=f"{clinic}: new escalation {item_id}, due {due}",
                lines=(
                    f"New escalation: {item_id}" + (" (message left after hours)" if late else ""),
                    f"For: {' and '.join(to)}",
                    f"Due: {due}",
                    "No clinical advice at the front desk: licensed staff call back.",
                ),
                items=(item_id,),
                due=view.due,
                link=link,
            )
        )
        if view.overdue and view.due is not None:
            attempt = view.item.attempts + 1
            since = _hm(view.due, tz)
            out.append(
                Alert(
                    key=f"{item_id}:{ESCALATION_OVERDUE}:{attempt}",
                    kind=ESCALATION_OVERDUE,
                    to=(owner, backup) if backup else (owner,),
                    subject=f"{clinic}: escalation {item_id} overdue since {since}",
                    lines=(
                        f"Escalation overdue: {item_id}",
                        f"Overdue since {due}, no attempt yet (attempt {attempt})",
                        f"For: {owner}" + (f"; backup: {backup}" if backup else ""),
                    ),
                    items=(item_id,),
                    due=view.due,
                    link=link,
                )
            )
    return out


def digest_alerts(
    config: Config, plan: RefreshPlan, now: datetime, cal: BusinessCalendar, *, written: bool = False
) -> list[Alert]:
    """Event 3: at the start of the day's first business block (within its first hour, so a runner that
    started late still sends it, but a mid-morning one does not), each owner with open items gets the
    count, the overdue count and their IDs."""
    local = now.astimezone(config.tz)
    spans = cal.spans_on(local.date())
    if not spans:
        return []
    start = spans[0].start
    if not (start <= local < min(spans[0].end, start + DIGEST_WINDOW)):
        return []
    names = [o.name for o in config.owners]
    if config.escalation_owner and config.escalation_owner.casefold() not in {n.casefold() for n in names}:
        names.append(config.escalation_owner)
    from callback_sheets.app.service import queue_views

    out = []
    day = local.date().isoformat()
    for name in names:
        views: Sequence[ItemView] = queue_views(plan, owner=name)
        if not views:
            continue
        ids = tuple(i for v in views if (i := sheet_id(v, written=written)))
        overdue = [i for v in views if v.overdue and (i := sheet_id(v, written=written))]
        escalated = [i for v in views if v.escalation and (i := sheet_id(v, written=written))]
        lines = [
            f"Good morning {name}: {len(views)} open item(s), {len(overdue)} overdue.",
            "Items: " + ", ".join(ids),
        ]
        if overdue:
            lines.append("Overdue: " + ", ".join(overdue))
        if escalated:
            lines.append("Escalated: " + ", ".join(escalated))
        out.append(
            Alert(
                key=f"{MORNING_DIGEST}:{day}:{name}",
                kind=MORNING_DIGEST,
                to=(name,),
                subject=f"{config.clinic_name}: {name}, {len(views)} open, {len(overdue)} overdue",
                lines=tuple(lines),
                items=ids,
                link=config.notify.link,
                facts={"owner": name, "open": len(views), "overdue": len(overdue)},
            )
        )
    return out


def review_due(config: Config, now: datetime, cal: BusinessCalendar) -> date | None:
    """The business date whose end-of-day review alert is due now (from close_of_day until midnight)."""
    local = now.astimezone(config.tz)
    if not cal.spans_on(local.date()) or local.time() < config.runner.close_of_day:
        return None
    return local.date()


def review_alert(config: Config, review: object, on: date) -> Alert | None:
    """Event 4: the end-of-day review, when it found something that needs a person -> review_to."""
    sections: dict[str, Sequence[object]] = review.sections  # type: ignore[attr-defined]
    if not any(sections.values()) or not config.notify.review_to:
        return None
    titles = {
        "urgent_not_escalated": "Urgent, not yet marked Escalated",
        "due_without_attempt_today": "Due, no attempt today",
        "without_next_step": "Without a next step",
        "ready_for_no_response": "Attempts used up",
    }
    lines = [f"End-of-day review {on:%a %m-%d}: these need a person before closing."]
    ids: list[str] = []
    for key, entries in sections.items():
        if entries:
            found = [str(getattr(e, "id", None) or "(no ID)") for e in entries]
            ids += found
            lines.append(f"{titles.get(key, key)} ({len(found)}): {', '.join(found)}")
    return Alert(
        key=f"{END_OF_DAY_REVIEW}:{on.isoformat()}",
        kind=END_OF_DAY_REVIEW,
        to=config.notify.review_to,
        subject=f"{config.clinic_name}: end-of-day review, {len(set(ids))} item(s) need a person",
        lines=tuple(lines),
        items=tuple(dict.fromkeys(ids)),
        link=config.notify.link,
        facts={k: len(v) for k, v in sections.items()},
    )


def weekly_due(config: Config, now: datetime) -> date | None:
    local = now.astimezone(config.tz)
    if local.weekday() != config.runner.weekly_day or local.time() < config.runner.weekly_time:
        return None
    return local.date()


def _minutes(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} min"


def weekly_alert(
    config: Config,
    this: object,
    last: object,
    series: Sequence[tuple[str, int, int]],
    chart: Callable[..., bytes],
) -> Alert | None:
    """Event 5: the five figures the clinic runs on, this week against last, and a 12-week chart."""
    if not config.notify.weekly_to:
        return None
    a = this.scopes[0].figures  # type: ignore[attr-defined]
    b = last.scopes[0].figures  # type: ignore[attr-defined]
    label = this.period.label  # type: ignore[attr-defined]
    rows = (
        ("Figure", "This week", "Last week"),
        ("Missed calls", str(a.missed_calls), str(b.missed_calls)),
        (
            "Average time to first callback (business min)",
            _minutes(a.first_callback.mean),
            _minutes(b.first_callback.mean),
        ),
        (
            "Unresolved > 1 business day",
            str(a.unresolved_over_1_business_day),
            str(b.unresolved_over_1_business_day),
        ),
        ("Booked from callbacks", str(a.booked), str(b.booked)),
        (
            "Escalations (average time to handle)",
            f"{a.escalations} ({_minutes(a.escalation_handling.mean)})",
            f"{b.escalations} ({_minutes(b.escalation_handling.mean)})",
        ),
    )
    lines = [f"Weekly summary {label}, this week against last:"]
    lines += [f"{name}: {now} (last week {before})" for name, now, before in rows[1:]]
    weeks = [(missed, recovered) for _, missed, recovered in series]
    lines.append("Missed calls per week, last 12: " + ", ".join(str(m) for m, _ in weeks))
    return Alert(
        key=f"{WEEKLY_SUMMARY}:{label}",
        kind=WEEKLY_SUMMARY,
        to=config.notify.weekly_to,
        subject=f"{config.clinic_name}: weekly summary {label}",
        lines=tuple(lines),
        link=config.notify.link,
        table=rows,
        image=chart(weeks),
        image_alt="Missed calls (blue) and recovered (green) per week, last 12 weeks",
        facts={"this_week": a.as_dict(), "last_week": b.as_dict(), "weeks": [list(w) for w in weeks]},
    )


def test_alert(config: Config, now: datetime) -> Alert:
    local = now.astimezone(config.tz)
    return Alert(
        key=f"{TEST}:{local.isoformat(timespec='seconds')}",
        kind=TEST,
        to=tuple(o.name for o in config.owners if o.email)
        + config.notify.review_to
        + config.notify.weekly_to,
        subject=f"{config.clinic_name}: callback-sheets test message",
        lines=(f"Test message sent {local:%a %m-%d %H:%M}: this channel reaches you.",),
        link=config.notify.link,
    )
