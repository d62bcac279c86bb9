"""The script templates' small language, their layout on disk, and the privacy lint.

A template is a UTF-8 text file. Lines whose first non-blank character is ``#`` are notes for whoever
edits the file and are never shown. Everything else is the script, with ``{placeholder}`` fields that
are filled from the queue row and the configuration; ``{{`` and ``}}`` stand for literal braces.

Layout (the shipped ``templates/`` and a clinic's override directory alike)::

    <language>/<script>.first.txt   first attempt
    <language>/<script>.later.txt   second and later attempts
    <language>/guardrails.txt       the "do not say" list shown beside every script

where ``<language>`` is a two-letter code (``en``, ``es``) and ``<script>`` is one of the names in
``SCRIPTS``. Anything else under the directory (README, systemd units, cron examples) is not a template
and is left alone.

The lint: every template must have well-formed braces and known placeholders only. A voicemail or
secure-message template (left where others may hear or read it) may use only ``PRIVATE_PLACEHOLDERS``
and must not spell out clinical words.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

# Conversations staff have on a live call, keyed by file stem.
CALL_SCRIPTS = ("new_appointment", "follow_up", "document_referral", "other")
# Messages left where someone other than the patient may hear or read them.
PRIVATE_SCRIPTS = ("voicemail", "secure_message")
SCRIPTS = CALL_SCRIPTS + PRIVATE_SCRIPTS
ATTEMPTS = ("first", "later")
GUARDRAILS = "guardrails"

# Placeholders a voicemail or secure message may use (minimum necessary).
PRIVATE_PLACEHOLDERS = frozenset({"clinic_name", "callback_number", "first_name"})
# Placeholders a live-call script (or the guardrails) may use.
CALL_PLACEHOLDERS = PRIVATE_PLACEHOLDERS | {"staff_name", "last_attempt_day", "reason"}

# Clinical words that must never be typed into a voicemail or secure message. Matched as whole words,
# ignoring case and accents; longer phrases first so the message names the whole phrase.
CLINICAL_WORDS = (
    # English
    "test results",
    "test result",
    "symptom",
    "symptoms",
    "pain",
    "result",
    "results",
    "diagnosis",
    "diagnosed",
    "prescription",
    "prescriptions",
    "medication",
    "medications",
    "lab",
    "labs",
    "biopsy",
    "pregnancy",
    "pregnant",
    "hiv",
    "cancer",
    "tumor",
    "infection",
    "surgery",
    "x-ray",
    "mri",
    "scan",
    "referral",
    "std",
    "sti",
    # Spanish
    "síntoma",
    "síntomas",
    "dolor",
    "resultado",
    "resultados",
    "diagnóstico",
    "receta",
    "recetas",
    "medicamento",
    "medicamentos",
    "laboratorio",
    "biopsia",
    "embarazo",
    "embarazada",
    "vih",
    "cáncer",
    "infección",
    "cirugía",
    "radiografía",
    "referido",
    "remisión",
)

_LANGUAGE_DIR = re.compile(r"^[a-z]{2}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BRACE = re.compile(r"[{}]")


def _fold(text: str) -> str:
    """Lower-case and strip accents, so "Síntoma" and "sintoma" compare equal."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.cache
def _clinical() -> re.Pattern[str]:
    """The clinical words as one pattern, compiled when a voicemail or secure message is first linted."""
    return re.compile(
        r"(?<![\w-])("
        + "|".join(re.escape(_fold(w)) for w in sorted(set(CLINICAL_WORDS), key=len, reverse=True))
        + r")(?![\w-])"
    )


@dataclass(frozen=True, slots=True)
class LintProblem:
    """One thing wrong with a template file; ``line`` is 1-based (0 when it concerns the whole file)."""

    path: Path
    line: int
    text: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}" + (f"\n    {self.text.strip()}" if self.text.strip() else "")


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of literal text (``placeholder`` is None) or one ``{placeholder}``."""

    text: str
    placeholder: str | None = None


class TemplateSyntaxError(ValueError):
    """A line's braces do not form placeholders; the message says what to fix."""


def default_templates_dir() -> Path:
    """The templates shipped with callback-sheets (package data: ``callback_sheets/templates``)."""
    from callback_sheets.resources import templates_dir

    return templates_dir()


def is_comment(line: str) -> bool:
    """Whether a line is an editor's note (first non-blank character ``#``)."""
    return line.lstrip().startswith("#")


def parse_line(line: str) -> list[Piece]:
    """Split one line into literal text and placeholders; raise TemplateSyntaxError on bad braces."""
    if "{" not in line and "}" not in line:  # most lines: no placeholder at all
        return [Piece(line)] if line else []
    pieces: list[Piece] = []
    literal: list[str] = []
    i = 0
    for brace in _BRACE.finditer(line):
        j = brace.start()
        if j < i:  # inside a placeholder or a doubled brace already taken
            continue
        literal.append(line[i:j])
        ch = line[j]
        if line[j : j + 2] == ch * 2:
            literal.append(ch)
            i = j + 2
            continue
        if ch == "}":
            raise TemplateSyntaxError("a '}' without its '{' (write '}}' for a literal brace)")
        end = line.find("}", j + 1)
        inner = line[j + 1 : end] if end != -1 else ""
        if end == -1 or "{" in inner:
            raise TemplateSyntaxError("a '{' that is not closed by '}' on the same line")
        if not _NAME.match(inner):
            raise TemplateSyntaxError(
                f"{{{inner}}} is not a placeholder: use letters and underscores only, e.g. {{first_name}}"
            )
        text = "".join(literal)
        if text:
            pieces.append(Piece(text))
        literal = []
        pieces.append(Piece(line[j : end + 1], inner))
        i = end + 1
    literal.append(line[i:])
    text = "".join(literal)
    if text:
        pieces.append(Piece(text))
    return pieces


def template_file(directory: Path, language: str, script: str, attempt: str) -> Path:
    """Where a script's template lives: ``<directory>/<language>/<script>.<attempt>.txt``."""
    return directory / language / f"{script}.{attempt}.txt"


def guardrails_file(directory: Path, language: str) -> Path:
    """Where a language's guardrails live: ``<directory>/<language>/guardrails.txt``."""
    return directory / language / f"{GUARDRAILS}.txt"


def languages_in(directory: Path) -> tuple[str, ...]:
    """The language codes that have a directory under ``directory``, sorted."""
    if not directory.is_dir():
        return ()
    return tuple(sorted(p.name for p in directory.iterdir() if p.is_dir() and _LANGUAGE_DIR.match(p.name)))


def read_template(path: Path) -> list[str]:
    """A template's lines (UTF-8, a byte-order mark from Notepad tolerated)."""
    return path.read_text(encoding="utf-8-sig").splitlines()


_KNOWN_FILES = {f"{s}.{a}.txt" for s in SCRIPTS for a in ATTEMPTS} | {f"{GUARDRAILS}.txt"}


def lint_templates(directory: Path) -> list[LintProblem]:
    """Check every template under ``directory`` (shipped or a clinic's override); [] means all good."""
    problems: list[LintProblem] = []
    files = [f for lang in languages_in(directory) for f in sorted((directory / lang).glob("*.txt"))]
    if not files:
        return [LintProblem(directory, 0, "", "no templates here (expected e.g. en/voicemail.first.txt)")]
    for path in files:
        if path.name not in _KNOWN_FILES:
            problems.append(LintProblem(path, 0, "", _unknown_file_message(path.name)))
            continue
        problems.extend(lint_file(path))
    return problems


def lint_file(path: Path) -> list[LintProblem]:
    """Check one template file; whether it is private (voicemail, secure message) follows from its name."""
    private = path.name.split(".", 1)[0] in PRIVATE_SCRIPTS
    allowed = PRIVATE_PLACEHOLDERS if private else CALL_PLACEHOLDERS
    try:
        lines = read_template(path)
    except UnicodeDecodeError:
        return [LintProblem(path, 0, "", "not UTF-8 text: save the file as UTF-8")]
    except OSError as exc:
        return [LintProblem(path, 0, "", f"cannot be read: {exc.strerror or exc}")]
    problems: list[LintProblem] = []
    for number, line in enumerate(lines, start=1):
        if is_comment(line):
            continue
        try:
            pieces = parse_line(line)
        except TemplateSyntaxError as exc:
            problems.append(LintProblem(path, number, line, str(exc)))
            continue
        for piece in pieces:
            if piece.placeholder is not None and piece.placeholder not in allowed:
                message = _placeholder_message(piece.placeholder, allowed=allowed, private=private)
                problems.append(LintProblem(path, number, line, message))
        if private:
            literal = "".join(p.text for p in pieces if p.placeholder is None)
            found = sorted({m.group(1) for m in _clinical().finditer(_fold(literal))})
            if found:
                words = ", ".join(f'"{w}"' for w in found)
                message = f"clinical detail in a voicemail or secure message: {words}"
                problems.append(LintProblem(path, number, line, message))
    return problems


def _placeholder_message(name: str, *, allowed: frozenset[str], private: bool) -> str:
    listed = ", ".join(f"{{{n}}}" for n in sorted(allowed))
    if private and name in CALL_PLACEHOLDERS:
        return f"{{{name}}} is not allowed in a voicemail or secure message (only {listed})"
    import difflib  # only for a template with a mistake

    hint = difflib.get_close_matches(name, sorted(allowed), n=1)
    suggestion = f"; did you mean {{{hint[0]}}}?" if hint else ""
    return f"unknown placeholder {{{name}}} (known here: {listed}){suggestion}"


def _unknown_file_message(name: str) -> str:
    import difflib

    hint = difflib.get_close_matches(name, sorted(_KNOWN_FILES), n=1)
    suggestion = f"; did you mean {hint[0]}?" if hint else ""
    return f"not a template name callback-sheets uses, so it is never shown{suggestion}"
