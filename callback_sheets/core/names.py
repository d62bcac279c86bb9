"""A caller's first name from the Caller cell, as scripts and the work list show it (a module of its
own: `queue` shows first names without loading the script templates' machinery)."""

from __future__ import annotations

import re

# Caller-ID labels that are not a person's name, and titles to skip before a first name.
_NOT_NAMES = frozenset(
    {
        "anonymous",
        "caller",
        "cell phone",
        "out of area",
        "private",
        "private caller",
        "restricted",
        "toll free",
        "unavailable",
        "unknown",
        "unknown caller",
        "wireless caller",
    }
)
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sr", "sra", "srta", "don", "doña"})
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def first_name(caller: object) -> str:
    """The caller's first name from the Caller cell, or "" when there is no usable one.

    "Maria Lopez" -> "Maria"; "Lopez, Maria" -> "Maria"; "Dr. Ana Ruiz" -> "Ana"; "MARIA LOPEZ" ->
    "Maria". Caller-ID labels ("WIRELESS CALLER"), numbers, initials and anything that is not plainly
    a name give "" so that nothing odd is ever read out or written.
    """
    text = " ".join(str(caller).split()) if caller is not None else ""
    if not text or any(ch.isdigit() for ch in text) or text.casefold() in _NOT_NAMES:
        return ""
    if "," in text:
        text = text.partition(",")[2]  # "Last, First"
    tokens = [t for t in text.split() if t.rstrip(".").casefold() not in _TITLES]
    if not tokens or not _NAME_TOKEN.fullmatch(tokens[0]):
        return ""
    name = tokens[0]
    return name.title() if name.isupper() and len(name) > 1 else name
