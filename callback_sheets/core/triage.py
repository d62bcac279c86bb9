"""Escalation: which messages go to licensed staff. It flags; it never advises.

One definition, used by the refresh planner, the work list, `review`, the reports and the alerts: an item
is flagged when its Reason is ``Clinical concern``, a keyword appears in Notes (or any column named in
``[escalation] columns``), its Status is ``Escalated``, or its Urgency is ``Urgent`` (when
``[escalation] urgent_escalates``). An open flagged item stays escalated until an attempt reaches the
patient (``Reached``, ``Booked``); :func:`escalated_now` says so.

Keywords are matched the way staff type: case, accents, any run of spaces or line breaks, dropped or
curly apostrophes, English and Spanish plurals and simple inflections ("pains", "vomits", "sangrando",
"convulsiones"), and one-letter typos of words of six letters or more ("bleding", "breath" for
"breathe"). Matching is on whole words, so "pus" never fires on "campus" nor "faint" on "paint".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from callback_sheets import model

CLINICAL_REASON = "Clinical concern"
ESCALATED_STATUS = model.Status.ESCALATED
URGENT = model.Urgency.URGENT
REACHED_OUTCOMES = frozenset({model.Outcome.REACHED, model.Outcome.BOOKED})
TYPO_MIN = 6  # keyword words this long or longer also match with one letter wrong, missing or extra

_APOSTROPHES = str.maketrans("", "", "'’‘ʼ`´")
_WORD = re.compile(r"[a-z0-9ñ]+")
# Real words one letter away from a default keyword: not typos (they would escalate ordinary notes).
NOT_TYPOS = frozenset(
    {
        "spelling",
        "smelling",
        "shelling",
        "selling",
        "dwelling",
        "breeding",
        "bleeping",
        "strike",
        "painted",
        "fainter",
        "infecting",
        "defection",
        "inflection",
        "overdone",
        "overdue",
    }
)


def fold(text: str) -> str:
    """Case-, accent- and apostrophe-insensitive form: 'Hinchazón' -> 'hinchazon', 'can’t' -> 'cant'."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return text.casefold().translate(_APOSTROPHES)


def words(text: str) -> list[str]:
    """The folded words of ``text``: any run of spaces, line breaks or punctuation separates them."""
    return _WORD.findall(fold(text))


def _forms(word: str) -> set[str]:
    """The word and its plural / simple inflected forms in English and Spanish (over-generating is
    harmless: a made-up form is never typed)."""
    out = {word}
    if len(word) < 4:
        return out  # "pus", "de", "of": exact only
    bases = {word}
    for suffix, keep in (
        ("ing", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
        ("ado", ""),
        ("ido", ""),
        ("ando", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            bases.add(word[: len(word) - len(suffix)] + keep)
    if word.endswith("e"):
        bases.add(word[:-1])  # breathe -> breath(ing)
    if word.endswith(("o", "a")):
        bases.add(word[:-1])  # vomito -> vomit(ar, ando), desmayo -> desmay(ado)
    if word.endswith("ion"):
        out.add(word + "es")  # convulsion -> convulsiones
        if len(word) > 6:
            bases.add(word[:-3])  # infection -> infect(ed)
    for base in bases:
        out.add(base)
        # English
        out.update(base + s for s in ("s", "es", "ed", "d", "ing", "e", "es", "ish"))
        if base.endswith("e"):
            out.add(base[:-1] + "ing")
        if base.endswith("y"):
            out.update((base[:-1] + "ies", base[:-1] + "ied"))
        # Spanish: nouns, adjectives and -ar / -er / -ir verbs
        out.update(
            base + s
            for s in ("o", "a", "os", "as", "e", "es", "an", "ar", "er", "ir", "ado", "ada", "ados", "adas")
        )
        out.update(base + s for s in ("ando", "ido", "ida", "iendo", "aba", "amos"))
    return {f for f in out if len(f) >= 3}


IRREGULAR = {"bleeding": ("bled",), "swelling": ("swollen",), "fainted": ("passed",)}


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class KeywordMatcher:
    """Finds the first configured keyword in a text; compiled once per keyword list (see module doc)."""

    def __init__(self, keywords: Iterable[str]) -> None:
        self.keywords: list[tuple[str, tuple[str, ...]]] = []
        seen: set[tuple[str, ...]] = set()
        for keyword in keywords:
            tokens = tuple(words(keyword))
            if tokens and tokens not in seen:
                seen.add(tokens)
                self.keywords.append((keyword.strip(), tokens))
        # exact and inflected forms -> (keyword index, word position); one-letter deletions likewise
        self._forms: dict[str, set[tuple[int, int]]] = {}
        self._typos: dict[str, set[tuple[int, int]]] = {}
        for k, (_, tokens) in enumerate(self.keywords):
            for p, token in enumerate(tokens):
                forms = _forms(token) | set(IRREGULAR.get(token, ()))
                for form in forms:
                    self._forms.setdefault(form, set()).add((k, p))
                if len(token) >= TYPO_MIN:
                    for form in forms:
                        if len(form) >= TYPO_MIN - 1 and form[0] == token[0]:
                            self._typos.setdefault(form, set()).add((k, p))
                            for d in _deletes(form):
                                self._typos.setdefault(d, set()).add((k, p))
        self._memo: dict[str, frozenset[tuple[int, int]]] = {}
        self._found: dict[str, str | None] = {}

    def _token(self, token: str) -> frozenset[tuple[int, int]]:
        found = self._memo.get(token)
        if found is not None:
            return found
        hits = set(self._forms.get(token, ()))
        if len(token) >= TYPO_MIN - 1 and token not in NOT_TYPOS:
            typos = self._typos
            for candidate in (token, *_deletes(token)):
                for k, p in typos.get(candidate, ()):
                    if self.keywords[k][1][p][0] == token[0]:
                        hits.add((k, p))
        if len(self._memo) > 200_000:
            self._memo.clear()
        found = self._memo[token] = frozenset(hits)
        return found

    def find(self, text: str) -> str | None:
        """The keyword (as configured) found in ``text``, or None."""
        if not text or not self.keywords:
            return None
        try:
            return self._found[text]  # queues repeat the same notes ("wants earliest opening") a lot
        except KeyError:
            pass
        found = self._find(text)
        if len(self._found) > 100_000:
            self._found.clear()
        self._found[text] = found
        return found

    def _find(self, text: str) -> str | None:
        tokens = words(text)
        memo = self._memo
        token_hits = self._token
        for i, token in enumerate(tokens):
            here = memo.get(token)
            if here is None:
                here = token_hits(token)
            if not here:
                continue  # the usual word: no keyword starts or continues here
            for k, p in here:
                if p:
                    continue
                kw = self.keywords[k][1]
                if i + len(kw) <= len(tokens) and all(
                    (k, j) in token_hits(tokens[i + j]) for j in range(1, len(kw))
                ):
                    return self.keywords[k][0]
        return None


@lru_cache(maxsize=16)
def matcher(keywords: tuple[str, ...]) -> KeywordMatcher:
    return KeywordMatcher(keywords)


@dataclass(frozen=True, slots=True)
class Triage:
    """The escalation rule of one config (see the module doc)."""

    keywords: tuple[str, ...]
    columns: tuple[str, ...] = ("Notes",)
    urgent_escalates: bool = True
    escalated_status: str = ESCALATED_STATUS  # the clinic's words for them ([choices] may translate)
    urgent: str = URGENT
    reached: frozenset[str] = REACHED_OUTCOMES  # outcomes of an attempt that reached the patient

    def why(
        self,
        *,
        reason: str | None,
        status: str | None,
        urgency: str | None,
        texts: Sequence[tuple[str, str]] = (),
    ) -> str | None:
        """Why the item needs licensed staff, in a few words (never advice), or None. ``texts``: (column,
        cell text) for each column searched for keywords."""
        if reason == CLINICAL_REASON:
            return "clinical concern"
        if texts and any(value for _, value in texts):  # the matcher is built on the first text
            find = matcher(self.keywords).find
            for column, value in texts:
                found = find(value) if value else None
                if found:
                    where = "notes mention" if column == "Notes" else f"{column} mentions"
                    return f"{where} '{found}'"
        if status == self.escalated_status:
            return f"status {self.escalated_status}"
        if self.urgent_escalates and urgency == self.urgent:
            return f"urgency {self.urgent}"
        return None


class _EscalationRule(Protocol):
    @property
    def keywords(self) -> tuple[str, ...]: ...
    @property
    def columns(self) -> tuple[str, ...]: ...
    @property
    def urgent_escalates(self) -> bool: ...


class TriageConfig(model.Choices, Protocol):
    """What :func:`triage_for` reads of a Config: ``[escalation]`` and the ``[choices]`` words."""

    @property
    def escalation(self) -> _EscalationRule: ...


def triage_for(config: TriageConfig) -> Triage:
    """The Triage of a Config."""
    esc = config.escalation
    words = model.clinic_words(config)
    return _triage(tuple(esc.keywords), tuple(esc.columns), bool(esc.urgent_escalates), words)


@lru_cache(maxsize=16)
def _triage(keywords: tuple[str, ...], columns: tuple[str, ...], urgent: bool, words: model.Words) -> Triage:
    reached = frozenset(words.outcome(o) for o in REACHED_OUTCOMES)
    return Triage(keywords, columns, urgent, words.status(ESCALATED_STATUS), words.urgency(URGENT), reached)


def escalated_now(
    why: str | None,
    *,
    closed: bool,
    last_outcome: str | None,
    attempts: int,
    reached: frozenset[str] = REACHED_OUTCOMES,
) -> bool:
    """A flagged item is escalated until it is closed or an attempt reached the patient (``reached``: the
    clinic's words for the outcomes that did)."""
    return bool(why) and not closed and not (attempts and last_outcome in reached)


@lru_cache(maxsize=16)
def escalation_check(keywords: tuple[str, ...]) -> Callable[[str | None, str], str | None]:
    """``check(reason, notes)`` for callers that only know those two (Reason and Notes only)."""
    rule = Triage(keywords, urgent_escalates=False)

    def check(reason: str | None, notes: str) -> str | None:
        return rule.why(reason=reason, status=None, urgency=None, texts=(("Notes", notes),))

    return check
