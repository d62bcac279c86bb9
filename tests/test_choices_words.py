"""A clinic whose [choices] translates the statuses, urgencies and outcomes gets the same behaviour as one
with the defaults: the code compares cells with the clinic's words (model.clinic_words), never English."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.config import Config, load_config
from tests.conftest import CLINIC_TOML, row
from tests.test_refresh import memory_queue

NOW = datetime.fromisoformat("2026-12-01T09:30-06:00")
RENAMED = {
    model.Status.BOOKED: "Agendado",
    model.Status.ESCALATED: "Escalado",
    model.Status.NEW: "Nuevo",
    model.Urgency.URGENT: "Dringend",
}
RENAMED_OUTCOMES = {model.Outcome.BOOKED: "Agendado", model.Outcome.REACHED: "Contactado"}


def _list(words: tuple[str, ...], renamed: dict[str, str]) -> str:
    return "[" + ", ".join(f'"{renamed.get(w, w)}"' for w in words) + "]"


def clinic(tmp_path: Path, *, renamed: bool, urgent_escalates: bool = True) -> Config:
    toml = CLINIC_TOML.replace(
        '[escalation]\nowner = "Nurse Patel"\n',
        f'[escalation]\nowner = "Nurse Patel"\nurgent_escalates = {str(urgent_escalates).lower()}\n',
    )
    if renamed:
        closed = sorted(model.CLOSED_STATUSES)
        toml += (
            "\n[choices]\n"
            f"statuses = {_list(model.STATUSES, RENAMED)}\n"
            f"closed_statuses = {_list(tuple(closed), RENAMED)}\n"
            f"outcomes = {_list(model.OUTCOMES, RENAMED_OUTCOMES)}\n"
            f"urgencies = {_list(model.URGENCIES, RENAMED)}\n"
        )
    (tmp_path / "callback_sheets.toml").write_text(toml, encoding="utf-8")
    return load_config(tmp_path / "callback_sheets.toml")


def word(renamed: bool, canonical: str, outcome: bool = False) -> str:
    table = RENAMED_OUTCOMES if outcome else RENAMED
    return table.get(canonical, canonical) if renamed else canonical


def test_the_words_come_from_the_choices(tmp_path: Path) -> None:
    words = model.clinic_words(clinic(tmp_path, renamed=True))
    assert words.status(model.Status.BOOKED) == "Agendado"
    assert words.status(model.Status.RESOLVED) == "Resolved"  # not renamed: itself
    assert words.outcome(model.Outcome.REACHED) == "Contactado"
    assert words.urgency_rank() == {"Dringend": 0, "Same day": 1, "Routine": 2}
    assert model.clinic_words(clinic(tmp_path, renamed=False)) is model.DEFAULT_WORDS


def test_a_dropped_word_is_not_taken_for_its_neighbour() -> None:
    dropped = tuple(s for s in model.STATUSES if s != model.Status.WAITING)
    assert model.translation(model.STATUSES, dropped)[model.Status.WAITING] == model.Status.WAITING


@pytest.mark.parametrize("renamed", [False, True])
def test_escalation_and_urgency_order(tmp_path: Path, renamed: bool) -> None:
    config = clinic(tmp_path, renamed=renamed)
    rows = [
        row("2026-12-01 08:10", Reason="Billing", Urgency="Routine"),
        row("2026-12-01 08:20", Reason="Billing", Urgency=word(renamed, model.Urgency.URGENT)),
        row("2026-12-01 08:15", Reason="Billing", Status=word(renamed, model.Status.ESCALATED)),
        row(
            "2026-12-01 08:05",
            Reason="Billing",
            Urgency=word(renamed, model.Urgency.URGENT),
            Attempts=1,
            Last_attempt=datetime(2026, 12, 1, 9, 0),
            Last_outcome=word(renamed, model.Outcome.REACHED, outcome=True),
        ),  # reached: no longer escalated
    ]
    backend = memory_queue(config, rows)
    result = service.refresh(config=config, backend=backend, now=NOW)
    esc = {view.item.received.minute: view.escalation for view in result.plan.views}  # type: ignore[union-attr]
    assert esc == {
        15: f"status {word(renamed, model.Status.ESCALATED)}",
        20: f"urgency {word(renamed, model.Urgency.URGENT)}",
        10: None,
        5: None,
    }
    assert [v.item.received.minute for v in result.plan.views] == [15, 20, 10, 5]  # type: ignore[union-attr]
    assert all(not v.problems for v in result.plan.views)

    config = clinic(tmp_path, renamed=renamed, urgent_escalates=False)
    rows = [
        row("2026-12-01 08:10", Reason="Billing", Urgency="Routine"),
        row("2026-12-01 08:20", Reason="Billing", Urgency=word(renamed, model.Urgency.URGENT)),
    ]
    result = service.refresh(config=config, backend=memory_queue(config, rows), now=NOW)
    assert [v.escalation for v in result.plan.views] == [None, None]
    assert [v.item.received.minute for v in result.plan.views] == [20, 10]  # urgent first: same due time  # type: ignore[union-attr]


@pytest.mark.parametrize("renamed", [False, True])
def test_closing_by_the_booked_outcome(tmp_path: Path, renamed: bool) -> None:
    config = clinic(tmp_path, renamed=renamed)
    backend = memory_queue(config, [row("2026-12-01 08:10", Reason="Billing")])
    service.refresh(config=config, backend=backend, now=NOW)
    [before] = backend.records()
    assert before[model.STATUS] is None  # an empty Status: the clinic's New
    booked = word(renamed, model.Outcome.BOOKED, outcome=True)
    _, plan = service.record_attempt(
        config=config, backend=backend, item_id=before[model.ID], outcome=booked, note=None, now=NOW
    )
    [after] = backend.records()
    assert after[model.STATUS] == word(renamed, model.Status.BOOKED)
    assert after[model.LAST_OUTCOME] == booked
    assert [v.item.closed for v in plan.views] == [True]
    assert after[model.CLOSED_AT] is not None and after[model.NEXT_ATTEMPT] is None

    backend = memory_queue(config, [row("2026-12-01 08:10", Reason="Billing")])
    service.refresh(config=config, backend=backend, now=NOW)
    [fresh] = backend.records()
    _, plan = service.record_attempt(
        config=config, backend=backend, item_id=fresh[model.ID], outcome="No answer", note=None, now=NOW
    )
    assert backend.records()[0][model.STATUS] == word(renamed, model.Status.IN_PROGRESS)  # New -> In progress


@pytest.mark.parametrize("renamed", [False, True])
def test_booked_outcome_on_an_open_status_is_a_problem(tmp_path: Path, renamed: bool) -> None:
    config = clinic(tmp_path, renamed=renamed)
    booked = word(renamed, model.Outcome.BOOKED, outcome=True)
    rows = [
        row(
            "2026-12-01 08:10",
            Reason="Billing",
            Status="In progress",
            Attempts=1,
            Last_attempt=datetime(2026, 12, 1, 9, 0),
            Last_outcome=booked,
        )
    ]
    result = service.refresh(config=config, backend=memory_queue(config, rows), now=NOW)
    [view] = result.plan.views
    assert view.problems == (f"Last outcome is {booked} but Status is still In progress",)
