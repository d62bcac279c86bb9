"""[escalation]: who takes clinical-symptom messages, which words count, and the cadence after an
attempt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_sheets import model
from callback_sheets.config.values import a_bool, a_string, no_unknown, positive_int, string_list
from callback_sheets.errors import ConfigError

DEFAULT_KEYWORDS = (
    # English
    "chest pain",
    "can't breathe",
    "cannot breathe",
    "shortness of breath",
    "trouble breathing",
    "bleeding",
    "swelling",
    "fever",
    "suicidal",
    "overdose",
    "allergic reaction",
    "faint",
    "fainted",
    "seizure",
    "stroke",
    "severe pain",
    "infection",
    "pus",
    "vomiting",
    # Spanish
    "dolor de pecho",
    "no puedo respirar",
    "falta de aire",
    "falta el aire",
    "sangrado",
    "hinchazón",
    "hinchazon",
    "hinchado",
    "fiebre",
    "suicida",
    "sobredosis",
    "reacción alérgica",
    "reaccion alergica",
    "desmayo",
    "convulsión",
    "convulsion",
    "dolor fuerte",
    "infección",
    "infeccion",
    "infectado",
    "vómito",
    "vomito",
)

DEFAULT_FINAL_STEP = "Attempts used up: route to the provider on call (no clinical advice at the front desk)"


@dataclass(frozen=True, slots=True)
class EscalationConfig:
    """[escalation]: who takes clinical-symptom messages, what counts, and the cadence after an attempt."""

    owner: str | None = None
    minutes: int = 15
    keywords: tuple[str, ...] = DEFAULT_KEYWORDS
    columns: tuple[str, ...] = (model.NOTES,)
    urgent_escalates: bool = True
    retry_minutes: int = 30
    final_step: str = DEFAULT_FINAL_STEP
    backup: str | None = None  # an owner's name or an e-mail address
    after_hours_to: str | None = None  # also told of an after-hours escalation (a name or an address)


def read_escalation(raw: Mapping[str, Any]) -> EscalationConfig:
    known = {
        "owner",
        "minutes",
        "keywords",
        "columns",
        "urgent_escalates",
        "retry_minutes",
        "final_step",
        "backup",
        "after_hours_to",
    }
    no_unknown(raw, known, "escalation")
    keywords = string_list(
        raw.get("keywords", list(DEFAULT_KEYWORDS)), "escalation.keywords", '["chest pain", "fiebre"]'
    )
    columns = string_list(raw.get("columns", [model.NOTES]), "escalation.columns", '["Notes"]')
    owner = raw.get("owner")
    backup = raw.get("backup")
    after_hours_to = raw.get("after_hours_to")
    if after_hours_to is not None and (not isinstance(after_hours_to, str) or not after_hours_to.strip()):
        raise ConfigError(
            'escalation.after_hours_to: must be an address or a name, e.g. "oncall@clinic.example"'
        )
    return EscalationConfig(
        owner=a_string(owner, "escalation.owner") if owner else None,
        minutes=positive_int(raw.get("minutes", 15), "escalation.minutes"),
        keywords=keywords,
        columns=columns or (model.NOTES,),
        urgent_escalates=a_bool(raw.get("urgent_escalates", True), "escalation.urgent_escalates"),
        retry_minutes=positive_int(raw.get("retry_minutes", 30), "escalation.retry_minutes"),
        final_step=a_string(raw.get("final_step", DEFAULT_FINAL_STEP), "escalation.final_step"),
        backup=a_string(backup, "escalation.backup") if backup else None,
        after_hours_to=after_hours_to.strip() if isinstance(after_hours_to, str) else None,
    )
