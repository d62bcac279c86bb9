"""render_script: every shipped template in both languages, fallbacks, first names, privacy."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callback_sheets import model
from callback_sheets.core.scripts import REASON_SCRIPTS, RenderedScript, first_name, render_script
from callback_sheets.core.template_lint import CALL_SCRIPTS, SCRIPTS, default_templates_dir
from callback_sheets.errors import ConfigError, UsageError

SHIPPED = default_templates_dir()
CLINIC = "Riverside Family Clinic"
NUMBER = "(312) 555-0100"
LAST = datetime(2026, 3, 3, 10, 30)  # a Tuesday
NOTES = "chest pain since Monday, wants results of biopsy"

REASON_FOR_SCRIPT = {script: reason for reason, script in REASON_SCRIPTS.items()} | {"other": "Billing"}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def make_row(
    *,
    reason: str = "New appointment",
    language: str = "English",
    attempts: int | None = None,
    caller: str = "Maria Elena Lopez",
    last: object = None,
) -> dict[str, object]:
    return {
        model.ID: "CB-00001",
        model.CALLER: caller,
        model.PHONE: "+13125550142",
        model.REASON: reason,
        model.LANGUAGE: language,
        model.URGENCY: "Urgent",
        model.ATTEMPTS: attempts,
        model.LAST_ATTEMPT: last,
        model.NOTES: NOTES,
    }


def render(row: dict[str, object], *, templates_dir: Path | None = None, **kwargs: object) -> RenderedScript:
    options: dict[str, object] = {
        "clinic_name": CLINIC,
        "callback_number": NUMBER,
        "first_name_in_voicemail": True,
    } | kwargs
    return render_script(templates_dir=templates_dir or SHIPPED, row=row, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("attempts", [None, 0, 1, 3])
@pytest.mark.parametrize("name_allowed", [True, False])
def test_every_template_renders(language: str, script: str, attempts: int | None, name_allowed: bool) -> None:
    mode = script if script not in CALL_SCRIPTS else "call"
    reason = REASON_FOR_SCRIPT.get(script, "Existing patient follow-up")
    row = make_row(reason=reason, language=LANGUAGE_NAMES[language], attempts=attempts, last=LAST)
    result = render(
        row,
        first_name_in_voicemail=name_allowed,
        staff_name="Ana",
        voicemail=mode == "voicemail",
        secure_message=mode == "secure_message",
    )

    later = bool(attempts)
    assert result.mode == mode
    assert result.script == (script if mode == "call" else mode)
    assert result.language == language and not result.fell_back_to_english
    assert result.attempt == (attempts or 0) + 1
    assert result.template_path == SHIPPED / language / f"{result.script}.{'later' if later else 'first'}.txt"
    text = result.text
    assert "{" not in text and "}" not in text and "#" not in text
    assert CLINIC in text and NUMBER in text
    assert "Lopez" not in text and "Elena" not in text  # first name only, ever
    assert ("Maria" in text) == (mode == "call" or name_allowed)
    assert " ," not in text and "  " not in text
    assert result.guardrails.strip() and "{" not in result.guardrails
    assert "911" in result.guardrails
    if mode == "call":
        assert "Ana" in text
        day = "martes 3 de marzo" if language == "es" else "Tuesday, March 3"
        assert (day in text) == later  # the second attempt refers to the first
    else:
        for leak in (reason, "Urgent", "chest", "biopsy", "Ana", "Tuesday", "martes", "+13125550142"):
            assert leak not in text


def test_staff_name_missing_leaves_a_prompt_to_say_it() -> None:
    assert "this is [your name] from" in render(make_row()).text
    assert "le habla [su nombre] de" in render(make_row(language="Spanish")).text


def test_later_attempt_without_a_date_still_reads() -> None:
    assert "my message from the other day" in render(make_row(reason="Other", attempts=1)).text
    spanish = render(make_row(reason="Other", attempts=1, language="Spanish")).text
    assert "mi mensaje del otro día" in spanish
    from_text = render(make_row(attempts=2, last="2026-03-05T09:00")).text
    assert "Thursday, March 5" in from_text
    assert "Thursday, March 5" in render(make_row(attempts=2, last=date(2026, 3, 5))).text


def test_reasons_pick_their_script() -> None:
    for reason, script in REASON_SCRIPTS.items():
        assert render(make_row(reason=reason)).script == script
    for reason in ("Billing", "Clinical concern", "", "  new   APPOINTMENT  "):
        expected = "new_appointment" if "appointment" in reason.casefold() else "other"
        assert render(make_row(reason=reason)).script == expected
    custom = render(make_row(reason="Cita nueva"), reason_scripts={"Cita nueva": "new_appointment"})
    assert custom.script == "new_appointment"


def test_language_override_and_other_languages() -> None:
    assert render(make_row(language="English"), language="es").language == "es"
    assert render(make_row(language="Spanish"), language="en").language == "en"
    assert render(make_row(language="Español")).language == "es"
    other = render(make_row(language="Other"))
    assert other.language == "en" and not other.fell_back_to_english
    assert any("interpreter" in note for note in other.notes)
    with pytest.raises(UsageError, match="fr"):
        render(make_row(), language="fr")


def test_voicemail_and_secure_message_together_is_refused() -> None:
    with pytest.raises(UsageError):
        render(make_row(), voicemail=True, secure_message=True)


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    shutil.copytree(SHIPPED / "en", target / "en")
    shutil.copytree(SHIPPED / "es", target / "es")
    return target


def test_spanish_row_falls_back_to_english_and_says_so(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    (templates / "es" / "voicemail.first.txt").unlink()
    result = render(make_row(language="Spanish"), templates_dir=templates, voicemail=True)
    assert result.language == "en" and result.fell_back_to_english
    assert result.template_path == templates / "en" / "voicemail.first.txt"
    assert result.text.startswith("Hello Maria,")
    assert any("No Spanish template for voicemail" in note for note in result.notes)
    # Only the missing file falls back; the rest stays Spanish.
    live = render(make_row(language="Spanish"), templates_dir=templates)
    assert live.language == "es" and not live.fell_back_to_english


def test_whole_language_missing_falls_back(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    shutil.rmtree(templates / "es")
    result = render(make_row(language="Spanish", attempts=1), templates_dir=templates)
    assert result.fell_back_to_english and result.language == "en"
    assert result.guardrails.startswith("DO NOT SAY")


def test_missing_template_is_a_config_error(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    (templates / "en" / "other.first.txt").unlink()
    with pytest.raises(ConfigError, match=r"other\.first\.txt"):
        render(make_row(reason="Billing"), templates_dir=templates)


def test_override_directory_wins_file_by_file(tmp_path: Path) -> None:
    override = tmp_path / "ours"
    (override / "en").mkdir(parents=True)
    (override / "en" / "voicemail.first.txt").write_text(
        "# ours\nHi {first_name}, {clinic_name} here. Call {callback_number}.\n", encoding="utf-8"
    )
    ours = render(make_row(), override_dir=override, voicemail=True)
    assert ours.text == f"Hi Maria, {CLINIC} here. Call {NUMBER}.\n"
    assert render(make_row(), override_dir=override).template_path.parent == SHIPPED / "en"


def test_private_template_that_leaks_is_refused_at_render_time(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    (templates / "en" / "voicemail.first.txt").write_text("Calling about {reason}.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"voicemail.first.txt:1: \{reason\} is not allowed"):
        render(make_row(), templates_dir=templates, voicemail=True)
    secure = templates / "en" / "secure_message.first.txt"
    secure.write_text("Your test results are in.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="clinical"):
        render(make_row(), templates_dir=templates, secure_message=True)


def test_blank_first_name_leaves_tidy_text() -> None:
    result = render(make_row(caller="WIRELESS CALLER"), voicemail=True)
    assert result.text.startswith(f"Hello, this is {CLINIC}")
    spanish = render(make_row(caller="", language="Spanish"))
    assert spanish.text.startswith("Hola, le habla [su nombre] de")


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("Maria Elena Lopez", "Maria"),
        ("Lopez, Maria", "Maria"),
        ("  MARIA   LOPEZ ", "Maria"),
        ("Dr. Ana Ruiz", "Ana"),
        ("Sra. Ana Ruiz", "Ana"),
        ("José", "José"),
        ("Mary-Jane O'Neil", "Mary-Jane"),
        ("WIRELESS CALLER", ""),
        ("Unknown", ""),
        ("+1 312 555 0142", ""),
        ("J. Smith", ""),
        ('=HYPERLINK("http://x","y")', ""),
        ("", ""),
        (None, ""),
    ],
)
def test_first_name(caller: object, expected: str) -> None:
    assert first_name(caller) == expected


def test_odd_attempts_cell_is_treated_as_first_attempt() -> None:
    result = render(make_row() | {model.ATTEMPTS: "two"})
    assert result.attempt == 1 and any("not a number" in note for note in result.notes)
    assert render(make_row() | {model.ATTEMPTS: 2.0}).attempt == 3
    assert render(make_row() | {model.ATTEMPTS: " 1 "}).attempt == 2


@given(st.text(max_size=60))
def test_any_caller_cell_renders_safely(caller: str) -> None:
    name = first_name(caller)
    assert name == "" or (name.casefold() in caller.casefold() and " " not in name and "{" not in name)
    text = render(make_row(caller=caller), voicemail=True).text
    assert text.startswith(f"Hello {name}, this is" if name else "Hello, this is")
