"""The escalation definition and the keyword matcher (issue 11): what staff really type, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest

from callback_sheets.config import parse_config
from callback_sheets.config.escalation import DEFAULT_KEYWORDS
from callback_sheets.core.triage import KeywordMatcher, Triage, escalated_now
from callback_sheets.errors import ConfigError

MATCH = KeywordMatcher(DEFAULT_KEYWORDS)

# (what staff typed, the keyword it must match, or None when it must not escalate)
PHRASINGS: list[tuple[str, str | tuple[str, ...] | None]] = [
    # English: case, spacing, line breaks, apostrophes
    ("chest pain since this morning", "chest pain"),
    ("CHEST PAIN", "chest pain"),
    ("chest  pain", "chest pain"),
    ("chest\npain", "chest pain"),
    ("chest\r\n  pain", "chest pain"),
    ("chest-pain", "chest pain"),
    ("chest pains", "chest pain"),
    ("she can't breathe", "can't breathe"),
    ("she can’t breathe", "can't breathe"),
    ("cant breathe", "can't breathe"),
    ("can't breath", "can't breathe"),
    ("cannot breathe well", "cannot breathe"),
    ("short of breath? shortness of breath", "shortness of breath"),
    ("trouble breathing at night", "trouble breathing"),
    # English: plurals, inflections
    ("fevers all week", "fever"),
    ("feverish", "fever"),
    ("had two seizures", "seizure"),
    ("he vomits after eating", "vomiting"),
    ("vomited twice", "vomiting"),
    ("gums bleed a lot", "bleeding"),
    ("bled overnight", "bleeding"),
    ("swollen jaw", "swelling"),
    ("face swelled up", "swelling"),
    ("my daughter fainted", "fainted"),
    ("keeps fainting", "fainted"),
    ("infected tooth", ("infection", "infección")),
    ("allergic reactions before", "allergic reaction"),
    ("possible stroke", "stroke"),
    ("severe pains in the back", "severe pain"),
    ("there is pus", "pus"),
    ("pus, lots of it", "pus"),
    # English: one-letter typos of longer words
    ("bleding from gums", "bleeding"),
    ("Bleeeding", "bleeding"),
    ("seizrue yesterday", "seizure"),
    ("sucidal thoughts", ("suicidal", "suicida")),
    ("overdoes of pills", "overdose"),
    ("infction", "infection"),
    # Spanish: accents, plurals, inflections
    ("dolor de pecho", "dolor de pecho"),
    ("DOLORES DE PECHO", "dolor de pecho"),
    ("tiene fiebre alta", "fiebre"),
    ("fiebres", "fiebre"),
    ("está sangrando", "sangrado"),
    ("sangra mucho", "sangrado"),
    ("sangrar", "sangrado"),
    ("convulsiones", "convulsión"),
    ("tuvo una convulsion", "convulsión"),
    ("vómitos", ("vomiting", "vómito")),
    ("esta vomitando", ("vomiting", "vómito")),
    ("hinchazón en la cara", "hinchazón"),
    ("cara hinchada", "hinchado"),
    ("se desmayó", "desmayo"),
    ("desmayada", "desmayo"),
    ("no puede respirar", "no puedo respirar"),
    ("le falta el aire", "falta el aire"),
    ("reacción alérgica", "reacción alérgica"),
    ("reaccion alergica", "reacción alérgica"),
    ("infecciones", "infección"),
    ("diente infectado", ("infección", "infectado")),
    ("sobredosis", "sobredosis"),
    # must NOT escalate
    ("visited the campus clinic", None),
    ("paint on the wall", None),
    ("wants to repaint", None),
    ("confirm the spelling of her name", None),
    ("bill is overdue", None),
    ("needs a refill of her prescription", None),
    ("pain in the neck about billing", None),
    ("chest x-ray results", None),
    ("called about a fee", None),
    ("painted the office", None),
    ("prefers the morning", None),
    ("quiere una cita", None),
    ("pregunta por la factura", None),
    ("dolor de cabeza leve", None),
    ("pecho", None),
    ("the strike at the school", None),
    ("", None),
]


@pytest.mark.parametrize(("typed", "expected"), PHRASINGS, ids=[p[0][:30] or "empty" for p in PHRASINGS])
def test_phrasings(typed: str, expected: str | tuple[str, ...] | None) -> None:
    found = MATCH.find(typed)
    # a word two keywords share (EN "vomiting" / ES "vómito") may be credited to either
    assert found in expected if isinstance(expected, tuple) else found == expected


def test_table_is_large_and_covers_both_sides() -> None:
    assert len(PHRASINGS) >= 60
    assert sum(e is None for _, e in PHRASINGS) >= 15


RULE = Triage(DEFAULT_KEYWORDS, ("Notes", "Caller note"), urgent_escalates=True)


@pytest.mark.parametrize(
    ("kwargs", "why"),
    [
        ({"reason": "Clinical concern"}, "clinical concern"),
        ({"texts": (("Notes", "fevers"),)}, "notes mention 'fever'"),
        ({"texts": (("Notes", "ok"), ("Caller note", "fiebre"))}, "Caller note mentions 'fiebre'"),
        ({"status": "Escalated"}, "status Escalated"),
        ({"urgency": "Urgent"}, "urgency Urgent"),
        ({"urgency": "Same day", "status": "New", "reason": "Billing"}, None),
    ],
)
def test_one_definition(kwargs: dict[str, object], why: str | None) -> None:
    args: dict[str, object] = {"reason": None, "status": None, "urgency": None, "texts": ()} | kwargs
    assert RULE.why(**args) == why  # type: ignore[arg-type]


def test_urgent_escalates_can_be_turned_off() -> None:
    rule = Triage(DEFAULT_KEYWORDS, urgent_escalates=False)
    assert rule.why(reason=None, status=None, urgency="Urgent") is None


def test_escalated_until_reached_or_closed() -> None:
    assert escalated_now("x", closed=False, last_outcome="No answer", attempts=1)
    assert escalated_now("x", closed=False, last_outcome="Voicemail left", attempts=2)
    assert not escalated_now("x", closed=False, last_outcome="Reached", attempts=1)
    assert not escalated_now("x", closed=False, last_outcome="Booked", attempts=1)
    assert not escalated_now("x", closed=True, last_outcome=None, attempts=0)
    assert not escalated_now(None, closed=False, last_outcome=None, attempts=0)


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"keywords": "chest pain"}, "escalation.keywords"),
        ({"keywords": ["chest pain", 3]}, "escalation.keywords"),
        ({"columns": "Notes"}, "escalation.columns"),
        ({"urgent_escalates": "yes"}, "escalation.urgent_escalates"),
        ({"retry_minutes": 0}, "escalation.retry_minutes"),
    ],
)
def test_bad_escalation_config_is_refused_naming_the_key(table: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({"escalation": table}, base=Path("."))
    assert str(err.value).startswith(key + ":") and "\n" not in str(err.value)
