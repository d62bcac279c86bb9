"""Which call script a queue row needs: its template language, its reason's script and its stage.

The names `script`, the Scripts tab (core.script_blocks) and its index (core.script_index) all choose
by, kept apart from the templates' machinery (core.scripts, core.template_lint) so a command that only
links a row to its block on the Scripts tab does not load it.
"""

from __future__ import annotations

from collections.abc import Mapping

ENGLISH = "en"

# Reason (as in the Reason column) -> script file stem; anything else uses the generic "other" script.
REASON_SCRIPTS: Mapping[str, str] = {
    "New appointment": "new_appointment",
    "Existing patient follow-up": "follow_up",
    "Document / referral": "document_referral",
    "Prior authorization": "document_referral",  # also a "where does my paperwork stand" conversation
}

# What the Language column (or --language) may say -> template directory.
LANGUAGE_CODES = {
    "english": "en",
    "en": "en",
    "ingles": "en",
    "inglés": "en",
    "spanish": "es",
    "es": "es",
    "espanol": "es",
    "español": "es",
}
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}

Key = tuple[str, str, str]  # a Scripts tab block: (language code, script stem, stage)


def attempts_so_far(cell: object, *, notes: list[str]) -> int:
    """The attempts an Attempts cell records (0 when empty, or not a number: with a note)."""
    if cell is None or cell == "":
        return 0
    try:
        count = int(float(str(cell).strip()))
    except ValueError:
        notes.append(f"Attempts {cell!r} is not a number: treating this as the first attempt.")
        return 0
    return max(count, 0)


def language_code(cell: object) -> str:
    """The template language a Language cell asks for ("es" for Spanish spellings, else "en")."""
    return LANGUAGE_CODES.get(str(cell or "").strip().casefold(), ENGLISH)


def script_for(reason: object, mapping: Mapping[str, str]) -> str:
    """The script file stem ``mapping`` gives a Reason cell (spaces and case aside), else "other"."""
    wanted = " ".join(str(reason or "").split()).casefold()
    for name, script in mapping.items():
        if " ".join(name.split()).casefold() == wanted:
            return script
    return "other"


def script_stem(reason: object) -> str:
    """The script file stem for a Reason cell ("other" for any reason without a script of its own)."""
    return script_for(reason, REASON_SCRIPTS)


def attempts_made(cell: object) -> int:
    """The attempts an Attempts cell records (0 when empty or not a number), as `script` counts them."""
    return attempts_so_far(cell, notes=[])


def block_keys(language: object, reason: object, attempts: object) -> tuple[Key, Key]:
    """The Scripts tab block a row's Script cell links to, and the English one used when the tab has
    none in its language."""
    stem, stage = script_stem(reason), "later" if attempts_made(attempts) >= 1 else "first"
    return (language_code(language), stem, stage), (ENGLISH, stem, stage)
