"""The template lint: shipped templates pass; planted violations are found on the right line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from callback_sheets.core.template_lint import (
    ATTEMPTS,
    SCRIPTS,
    LintProblem,
    TemplateSyntaxError,
    default_templates_dir,
    languages_in,
    lint_templates,
    parse_line,
)

SHIPPED = default_templates_dir()


def copy_templates(tmp_path: Path) -> Path:
    target = tmp_path / "templates"
    for language in languages_in(SHIPPED):
        shutil.copytree(SHIPPED / language, target / language)
    return target


def plant(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_templates_pass() -> None:
    assert lint_templates(SHIPPED) == []


def test_shipped_templates_are_complete() -> None:
    assert languages_in(SHIPPED) == ("en", "es")
    for language in ("en", "es"):
        for script in SCRIPTS:
            for attempt in ATTEMPTS:
                assert (SHIPPED / language / f"{script}.{attempt}.txt").is_file()
        assert (SHIPPED / language / "guardrails.txt").is_file()


def test_voicemail_with_reason_is_refused_on_its_line(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    path = plant(
        templates,
        "en/voicemail.first.txt",
        "# a note may say {reason}\nHello {first_name}.\nWe are calling about your {reason}.\n",
    )
    problems = lint_templates(templates)
    assert problems == [
        LintProblem(
            path,
            3,
            "We are calling about your {reason}.",
            "{reason} is not allowed in a voicemail or secure message "
            "(only {callback_number}, {clinic_name}, {first_name})",
        ),
    ]
    assert str(problems[0]).startswith(f"{path}:3: {{reason}} is not allowed")


def test_secure_message_with_test_results_is_refused(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    path = plant(
        templates,
        "es/secure_message.later.txt",
        "Hola {first_name}.\n\nYour Test Results are ready.\nSus resultados y el diagnostico.\n",
    )
    problems = lint_templates(templates)
    assert [(p.path, p.line) for p in problems] == [(path, 3), (path, 4)]
    assert problems[0].message.endswith('"test results"')
    assert '"diagnostico"' in problems[1].message and '"resultados"' in problems[1].message


def test_malformed_braces_are_refused(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    path = plant(
        templates,
        "en/other.first.txt",
        "Hello {first_name}.\nCall us at {callback_number.\n"
        "This is {staff name}.\nStray } here.\nFine {{literal}} braces.\n{first_name{x}}\n",
    )
    problems = lint_templates(templates)
    assert [(p.path, p.line) for p in problems] == [(path, 2), (path, 3), (path, 4), (path, 6)]
    assert "not closed" in problems[0].message
    assert "{staff name} is not a placeholder" in problems[1].message
    assert "'}' without its '{'" in problems[2].message


def test_unknown_placeholder_gets_a_suggestion(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    plant(templates, "en/follow_up.first.txt", "Hello {First_Name}, {notes}.\n")
    messages = [p.message for p in lint_templates(templates)]
    assert len(messages) == 2
    assert "unknown placeholder {First_Name}" in messages[0] and "did you mean {first_name}?" in messages[0]
    assert "unknown placeholder {notes}" in messages[1]


def test_call_scripts_may_use_reason_and_clinical_words(tmp_path: Path) -> None:
    templates = copy_templates(tmp_path)
    plant(templates, "en/other.later.txt", "About {reason} on {last_attempt_day}: symptoms, pain.\n")
    assert lint_templates(templates) == []


@pytest.mark.parametrize("word", ["HIV", "biopsia", "cáncer", "cancer", "Síntomas", "x-ray", "Lab"])
def test_clinical_words_in_voicemail(tmp_path: Path, word: str) -> None:
    templates = copy_templates(tmp_path)
    plant(templates, "en/voicemail.later.txt", f"Hello.\nAbout your {word} visit.\n")
    problems = lint_templates(templates)
    assert [p.line for p in problems] == [2]


@pytest.mark.parametrize("text", ["Dolores called.", "Painter Street office.", "Labor Day hours.", "Spain"])
def test_clinical_words_match_whole_words_only(tmp_path: Path, text: str) -> None:
    templates = copy_templates(tmp_path)
    plant(templates, "en/voicemail.later.txt", text + "\n")
    assert lint_templates(templates) == []


def test_override_directory_with_a_few_files(tmp_path: Path) -> None:
    override = tmp_path / "ours"
    plant(override, "en/voicemail.first.txt", "Hi {first_name}, {clinic_name}. {callback_number}.\n")
    plant(override, "README.md", "anything {goes} here\n")
    plant(override, "systemd/callback.service", "{whatever}\n")
    assert lint_templates(override) == []
    typo = plant(override, "es/voicemial.first.txt", "Hola.\n")
    [problem] = lint_templates(override)
    assert problem.path == typo and problem.line == 0 and "voicemail.first.txt" in problem.message


def test_empty_or_wrong_directory_is_a_problem(tmp_path: Path) -> None:
    [problem] = lint_templates(tmp_path / "nothing-here")
    assert "no templates" in problem.message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    override = tmp_path / "ours"
    (override / "es").mkdir(parents=True)
    (override / "es" / "voicemail.first.txt").write_bytes("Llámenos al {callback_number}.\n".encode("cp1252"))
    [problem] = lint_templates(override)
    assert "UTF-8" in problem.message


def test_parse_line() -> None:
    pieces = parse_line("Hi {first_name}, {{x}}")
    assert [(p.text, p.placeholder) for p in pieces] == [
        ("Hi ", None),
        ("{first_name}", "first_name"),
        (", {x}", None),
    ]
    with pytest.raises(TemplateSyntaxError):
        parse_line("{}")
