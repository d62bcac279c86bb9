"""Render the callback script for one queue row: right language, reason, attempt and channel.

The templates and their rules live in ``template_lint``; this module only picks a file and fills it.
Privacy is enforced twice: the lint refuses a voicemail or secure message that names anything but the
clinic, the callback number and the caller's first name, and rendering runs the same check on the file
it is about to use and only ever offers those three values to such a template.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from callback_sheets import model
from callback_sheets.core.names import first_name
from callback_sheets.core.script_keys import (
    ENGLISH,
    LANGUAGE_CODES,
    LANGUAGE_NAMES,
    REASON_SCRIPTS,
    attempts_made,
    attempts_so_far,
    language_code,
    script_for,
    script_stem,
)
from callback_sheets.core.template_lint import (
    PRIVATE_SCRIPTS,
    default_templates_dir,
    guardrails_file,
    is_comment,
    languages_in,
    lint_file,
    parse_line,
    read_template,
    template_file,
)
from callback_sheets.errors import ConfigError, UsageError

__all__ = [
    "LANGUAGE_NAMES",
    "REASON_SCRIPTS",
    "RenderedScript",
    "attempts_made",
    "default_templates_dir",
    "first_name",
    "language_code",
    "render_script",
    "script_stem",
]

CALL = "call"
VOICEMAIL = "voicemail"
SECURE_MESSAGE = "secure_message"

# Words filled in by the tool itself, per template language (English for any other language).
_YOUR_NAME = {"en": "[your name]", "es": "[su nombre]"}
_SOME_DAY = {"en": "the other day", "es": "otro día"}
_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}


@dataclass(frozen=True, slots=True)
class RenderedScript:
    """A filled-in script and what it was made from."""

    text: str
    language: str  # language of the template used: "en", "es"
    fell_back_to_english: bool  # the caller's language had no such template
    template_path: Path
    guardrails: str  # the "do not say" list, shown beside the script
    script: str  # "new_appointment", "follow_up", "document_referral", "other", "voicemail", ...
    mode: str  # "call", "voicemail" or "secure_message"
    attempt: int  # the attempt this script is for (Attempts + 1)
    notes: tuple[str, ...] = ()  # plain-language remarks for staff (fallbacks, odd cells)


def render_script(
    *,
    templates_dir: Path,
    row: Mapping[str, object],
    voicemail: bool = False,
    secure_message: bool = False,
    language: str | None = None,
    clinic_name: str,
    callback_number: str,
    first_name_in_voicemail: bool,
    staff_name: str | None = None,
    override_dir: Path | None = None,
    reason_scripts: Mapping[str, str] | None = None,
) -> RenderedScript:
    """Fill the script for ``row``; ``override_dir`` (a clinic's own templates) wins file by file.

    Raises UsageError for ``voicemail`` with ``secure_message`` or an unknown ``language``, and
    ConfigError when the template needed is missing or fails the lint.
    """
    if voicemail and secure_message:
        raise UsageError("choose a voicemail or a secure message, not both")
    mode = VOICEMAIL if voicemail else SECURE_MESSAGE if secure_message else CALL
    dirs = tuple(d for d in (override_dir, templates_dir) if d is not None)
    notes: list[str] = []
    wanted = _wanted_language(row, language, dirs=dirs, notes=notes)
    attempt = attempts_so_far(row.get(model.ATTEMPTS), notes=notes) + 1
    stage = "first" if attempt <= 1 else "later"
    script = mode if mode != CALL else script_for(row.get(model.REASON), reason_scripts or REASON_SCRIPTS)

    path = _checked_template(dirs, wanted, script, stage, notes)
    used = path.parent.name
    values, call_values = _values(
        row,
        used,
        name_allowed=mode == CALL or first_name_in_voicemail,
        clinic_name=clinic_name,
        callback_number=callback_number,
        staff_name=staff_name,
    )
    text = _fill(path, values if mode in PRIVATE_SCRIPTS else call_values)
    guardrails = _guardrails(dirs, used, call_values)
    return RenderedScript(
        text=text,
        language=used,
        fell_back_to_english=used != wanted,
        template_path=path,
        guardrails=guardrails,
        script=script,
        mode=mode,
        attempt=attempt,
        notes=tuple(notes),
    )


def _checked_template(dirs: tuple[Path, ...], wanted: str, script: str, stage: str, notes: list[str]) -> Path:
    """The template for ``script`` at ``stage`` in ``wanted`` (else English, with a note), lint-clean
    (ConfigError with the first problem otherwise)."""
    path = _find(dirs, wanted, lambda d, lang: template_file(d, lang, script, stage))
    used = path.parent.name
    if used != wanted:
        notes.append(
            f"No {LANGUAGE_NAMES.get(wanted, wanted)} template for {script.replace('_', ' ')} "
            f"({stage} attempt): showing the English one."
        )
    # The shipped templates are held to the lint by the tests (and `make test`'s lint-templates): only a
    # clinic's own are checked each time they are used.
    problems = [] if path.parent.parent == default_templates_dir() else lint_file(path)
    if problems:
        first = problems[0]
        raise ConfigError(f"{first.path}:{first.line}: {first.message} (run lint-templates)")
    return path


def _values(
    row: Mapping[str, object],
    used: str,
    *,
    name_allowed: bool,
    clinic_name: str,
    callback_number: str,
    staff_name: str | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """The placeholders' values: those a voicemail or secure message may hold (the first name only when
    ``name_allowed``), and those a call script has besides (in the template's language ``used``)."""
    values = {
        "clinic_name": clinic_name,
        "callback_number": callback_number,
        "first_name": first_name(row.get(model.CALLER)) if name_allowed else "",
    }
    call_values = values | {
        "staff_name": (staff_name or "").strip() or _YOUR_NAME.get(used, _YOUR_NAME[ENGLISH]),
        "last_attempt_day": _day_phrase(row.get(model.LAST_ATTEMPT), used),
        "reason": str(row.get(model.REASON) or "").strip(),
    }
    return values, call_values


def _wanted_language(
    row: Mapping[str, object], override: str | None, *, dirs: Sequence[Path], notes: list[str]
) -> str:
    available = {lang for d in dirs for lang in languages_in(d)}
    if override is not None:
        code = LANGUAGE_CODES.get(override.strip().casefold(), override.strip().casefold())
        if code not in available:
            listed = ", ".join(sorted(available)) or "none"
            raise UsageError(f"no templates for language {override!r} (available: {listed})")
        return code
    cell = str(row.get(model.LANGUAGE) or "").strip()
    if not cell:
        return ENGLISH
    known = LANGUAGE_CODES.get(cell.casefold())
    if known is None:
        notes.append(f"Caller's language is {cell!r}: showing English (use an interpreter line if needed).")
        return ENGLISH
    return known


def _find(dirs: Sequence[Path], language: str, where: Callable[[Path, str], Path]) -> Path:
    """The first existing file: caller's language (override, shipped), then English (same order)."""
    languages = (language,) if language == ENGLISH else (language, ENGLISH)
    candidates = [where(d, lang) for lang in languages for d in dirs]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError(f"template missing: {candidates[-1]} (restore it or check the templates setting)")


def _day_phrase(value: object, language: str) -> str:
    """ "Tuesday, March 4" / "martes 4 de marzo" for the last attempt, or a neutral phrase."""
    lang = language if language in _WEEKDAYS else ENGLISH
    day: date | None = None
    if isinstance(value, datetime | date):
        day = value.date() if isinstance(value, datetime) else value
    elif isinstance(value, str) and value.strip():
        try:
            day = datetime.fromisoformat(value.strip()).date()
        except ValueError:
            day = None
    if day is None:
        return _SOME_DAY[lang]
    weekday, month = _WEEKDAYS[lang][day.weekday()], _MONTHS[lang][day.month - 1]
    return f"{weekday} {day.day} de {month}" if lang == "es" else f"{weekday}, {month} {day.day}"


def _fill(path: Path, values: Mapping[str, str]) -> str:
    """The template's text with comments dropped and placeholders filled."""
    out: list[str] = []
    for number, line in enumerate(read_template(path), start=1):
        if is_comment(line):
            continue
        parts: list[str] = []
        blanked = False
        for piece in parse_line(line):
            if piece.placeholder is None:
                parts.append(piece.text)
            elif piece.placeholder in values:
                value = values[piece.placeholder]
                blanked = blanked or not value
                parts.append(value)
            else:  # the lint lets it through only where it is allowed; never guess a value
                raise ConfigError(f"{path}:{number}: {{{piece.placeholder}}} cannot be used here")
        filled = "".join(parts).rstrip()
        out.append(_tidy(filled) if blanked else filled)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out))
    return text.strip("\n") + "\n"


def _tidy(line: str) -> str:
    """Close the gap a blank value leaves: "Hello , this is" -> "Hello, this is"."""
    line = re.sub(r"(?<=\S)[ \t]+([,.;:!?])", r"\1", line)
    return re.sub(r"(?<=\S)[ \t]{2,}", " ", line)


def _guardrails(dirs: Sequence[Path], language: str, values: Mapping[str, str]) -> str:
    try:
        path = _find(dirs, language, guardrails_file)
    except ConfigError:
        return ""
    return _fill(path, values)
