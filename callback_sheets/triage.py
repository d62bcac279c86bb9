"""Escalation: which messages go to licensed staff. It flags; it never advises."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

CLINICAL_REASON = "Clinical concern"


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, so 'Hinchazón' matches 'hinchazon'."""
    if text.isascii():
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("’", "'")


def _pattern(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    words = sorted({_fold(k) for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


@lru_cache(maxsize=16)
def escalation_check(keywords: tuple[str, ...]) -> Callable[[str | None, str], str | None]:
    """``check(reason, notes)``: why an item needs licensed staff, in a few words, or None; the keyword
    pattern is compiled once per keyword list."""
    pattern = _pattern(keywords)
    search = pattern.search if pattern is not None else None

    def check(reason: str | None, notes: str) -> str | None:
        if reason == CLINICAL_REASON:
            return "clinical concern"
        if search is None or not notes:
            return None
        found = search(_fold(notes))
        return f"notes mention '{found.group(1)}'" if found else None

    return check
