"""`queue` does only what it shows: no call script is rendered for a work list (the Script link is
planned by `refresh` and `attempt`, which write it; `queue` writes nothing), and the views are those of a
full plan."""

from __future__ import annotations

from datetime import datetime

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.config import Config
from callback_sheets.core import script_blocks

NOW = datetime(2026, 12, 1, 10, 0)


def _rows() -> list[dict[str, object]]:
    return [
        {
            model.RECEIVED: datetime(2026, 11, 30, 9, n),
            model.CALLER: f"Caller {n}",
            model.PHONE: f"(312) 555-01{40 + n}",
            model.REASON: "New appointment" if n % 2 else "Billing",
            model.LANGUAGE: "Spanish" if n % 3 == 0 else "English",
            model.STATUS: "New",
        }
        for n in range(6)
    ]


def test_queue_renders_no_script_and_shows_what_a_full_plan_shows(
    config: Config, make_queue, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    backend = make_queue(_rows())
    now = NOW.replace(tzinfo=config.tz)
    service.refresh(config=config, backend=backend, now=now)
    full = service.validate(config=config, backend=backend, now=now)
    assert all(r.get(model.SCRIPT) for r in backend.read().rows)  # refresh wrote the Script links

    def no_render(**_: object) -> object:
        raise AssertionError("queue rendered the call scripts")

    monkeypatch.setattr(script_blocks, "build", no_render)
    _, plan = service.work_list(config=config, backend=backend, now=now)
    assert [(v.id, v.due, v.next_step, v.problems) for v in plan.views] == [
        (v.id, v.due, v.next_step, v.problems) for v in full.views
    ]
