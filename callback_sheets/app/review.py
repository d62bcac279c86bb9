"""The end-of-day review: what needs a person before the day ends (urgent, due today, stuck, final step)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callback_sheets import model
from callback_sheets.app.cycle import READ_TABS
from callback_sheets.backends.base import Backend
from callback_sheets.config import Config
from callback_sheets.core.refresh import Planner
from callback_sheets.core.refresh_plan import ItemView, RefreshPlan
from callback_sheets.core.times import to_cell


# --- the end-of-day review -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReviewEntry:
    id: str | None
    owner: str | None
    reason: str | None
    detail: str

    def as_dict(self) -> dict[str, str | None]:
        return {"id": self.id, "owner": self.owner, "reason": self.reason, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Review:
    """What needs a person before the day closes (README, "The end-of-day review")."""

    now: datetime
    urgent_not_escalated: tuple[ReviewEntry, ...]
    due_without_attempt_today: tuple[ReviewEntry, ...]
    without_next_step: tuple[ReviewEntry, ...]
    ready_for_no_response: tuple[ReviewEntry, ...]

    @property
    def sections(self) -> dict[str, tuple[ReviewEntry, ...]]:
        return {
            "urgent_not_escalated": self.urgent_not_escalated,
            "due_without_attempt_today": self.due_without_attempt_today,
            "without_next_step": self.without_next_step,
            "ready_for_no_response": self.ready_for_no_response,
        }

    @property
    def needs_attention(self) -> bool:
        return any(self.sections.values())


def end_of_day_review(*, config: Config, backend: Backend, now: datetime) -> Review:
    """Open items a person must deal with before the day closes. Writes nothing."""
    plan = Planner(config=config, now=now).plan(backend.read(tabs=READ_TABS), assign=False)
    return review_of(plan, config=config, now=now)


def review_of(plan: RefreshPlan, *, config: Config, now: datetime) -> Review:
    """The end-of-day review of an already-made plan (the notify alerts reuse their own plan)."""
    today = now.astimezone(config.tz).date()
    urgent, due, stuck, final = [], [], [], []
    words = model.clinic_words(config)
    urgent_word, escalated_word = words.urgency(model.Urgency.URGENT), words.status(model.Status.ESCALATED)
    for view in sorted(plan.views, key=lambda v: v.item.position):
        item = view.item
        if item.closed:
            continue

        def entry(detail: str, view: ItemView = view) -> ReviewEntry:
            return ReviewEntry(view.id, view.owner, view.item.reason, detail)

        if (
            (item.urgency == urgent_word or view.escalation)
            and item.status != escalated_word
            and not item.attempts
        ):
            urgent.append(entry(view.escalation or "urgency is Urgent"))
        if view.due is None or not view.owner:
            stuck.append(
                entry("no owner" if view.due is not None else "; ".join(view.problems) or "no next attempt")
            )
        if view.due is None:
            continue
        if view.final:
            final.append(entry(view.next_step))
        elif view.due.timestamp() <= now.timestamp() and (
            item.last_attempt is None or item.last_attempt.astimezone(config.tz).date() < today
        ):
            due.append(entry(f"due {to_cell(view.due, config.tz):%a %m-%d %H:%M}, no attempt today"))
    return Review(now, tuple(urgent), tuple(due), tuple(stuck), tuple(final))
