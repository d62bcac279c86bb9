"""`queue` does only what it shows: no call script is rendered for a work list (the Script link is
planned by `refresh` and `attempt`, which write it; `queue` writes nothing), and the views are those of a
full plan."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from callback_sheets import model
from callback_sheets.app import service
from callback_sheets.config import Config
from callback_sheets.core import script_blocks

NOW = datetime(2026, 12, 1, 10, 0)
PHONE = "(312) 555-0100"


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


def _every_block_rendered(override_dir: Path | None) -> dict[object, tuple[tuple[str, str], ...]]:
    """Each block's lines as `script` renders them: all three modes for every block."""
    from callback_sheets.core.scripts import LANGUAGE_NAMES, REASON_SCRIPTS, render_script
    from callback_sheets.core.template_lint import default_templates_dir

    tab = script_blocks.build(clinic_name="Clinic", callback_number=PHONE, override_dir=override_dir)
    out: dict[object, tuple[tuple[str, str], ...]] = {}
    for code, stem, stage in tab.blocks:
        reason = next((r for r, s in REASON_SCRIPTS.items() if s == stem), "Other")
        row = {model.LANGUAGE: LANGUAGE_NAMES[code], model.REASON: reason, model.CALLER: "",
               model.ATTEMPTS: 0 if stage == "first" else 1, model.LAST_ATTEMPT: None}  # fmt: skip
        lines, guardrails = [], ""
        for what, voicemail, secure in (("Call", False, False), ("Voicemail", True, False),
                                        ("Secure message", False, True)):  # fmt: skip
            r = render_script(templates_dir=default_templates_dir(), override_dir=override_dir, row=row,
                              clinic_name="Clinic", callback_number=PHONE, first_name_in_voicemail=False,
                              voicemail=voicemail, secure_message=secure)  # fmt: skip
            lines.append((what, r.text.rstrip()))
            guardrails = guardrails or r.guardrails.rstrip()
        if guardrails:
            lines.append(("Do not say", guardrails))
        out[(code, stem, stage)] = tuple(lines)
    return out


@pytest.mark.parametrize("guardrails", [None, "# none\n", "Never promise anything about {reason}.\n"])
def test_the_scripts_tab_holds_what_script_renders_for_each_block(
    tmp_path: Path, guardrails: str | None
) -> None:
    """The voicemail and secure message are rendered once per language and stage: every block still
    holds what rendering all three modes gives, with a do-not-say list that is empty or takes the reason."""
    override = None
    if guardrails is not None:
        override = tmp_path / "templates"
        for code in ("en", "es"):
            (override / code).mkdir(parents=True)
            (override / code / "guardrails.txt").write_text(guardrails)
    tab = script_blocks.build(clinic_name="Clinic", callback_number=PHONE, override_dir=override)
    assert {k: b.lines for k, b in tab.blocks.items()} == _every_block_rendered(override)
    assert len(tab.blocks) == 16
