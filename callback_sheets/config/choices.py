"""[choices] (the sheet's dropdown words) and [reasons] (each reason's cadence, attempts and urgency)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callback_sheets import model
from callback_sheets.config.values import a_text, no_unknown, opt_text, positive_int
from callback_sheets.core.cadence import DEFAULT_RULES, CadenceKind, CadenceRule, kind_names
from callback_sheets.errors import ConfigError

DEFAULT_URGENCY = {"Clinical concern": "Urgent", "Prescription question": "Same day"}


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason for calling: its cadence and its default urgency."""

    name: str
    rule: CadenceRule
    urgency: str


def read_choices(raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    keys = {"statuses", "closed_statuses", "outcomes", "urgencies", "patient_types", "languages"}
    no_unknown(raw, keys, "choices")
    defaults = {
        "statuses": model.STATUSES,
        "closed_statuses": tuple(sorted(model.CLOSED_STATUSES)),
        "outcomes": model.OUTCOMES,
        "urgencies": model.URGENCIES,
        "patient_types": model.PATIENT_TYPES,
        "languages": model.LANGUAGES,
    }
    out: dict[str, tuple[str, ...]] = {}
    for key, default in defaults.items():
        value = raw.get(key, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConfigError(f"choices.{key}: must be a list of names")
        out[key] = tuple(value)
    unknown = set(out["closed_statuses"]) - set(out["statuses"])
    if unknown:
        raise ConfigError(f"choices.closed_statuses: {sorted(unknown)} are not in choices.statuses")
    return out


def read_reasons(raw: Mapping[str, Any], *, urgencies: tuple[str, ...]) -> dict[str, Reason]:
    reasons = {
        name: Reason(name, rule, DEFAULT_URGENCY.get(name, "Routine")) for name, rule in DEFAULT_RULES.items()
    }
    for name, table in raw.items():
        key = f"reasons.{name!r}" if " " in name else f"reasons.{name}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{key}: must be a table with cadence, max_attempts and urgency")
        no_unknown(table, {"cadence", "max_attempts", "urgency"}, key)
        base = reasons.get(name)
        if base is None and "cadence" not in table:
            raise ConfigError(f"{key}: a new reason needs a cadence (one of {kind_names()})")
        if "cadence" in table:
            a_text(table["cadence"], f"{key}.cadence", example='"standard"')
        try:
            kind = CadenceKind(table["cadence"]) if "cadence" in table else base.rule.kind  # type: ignore[union-attr]
        except ValueError:
            raise ConfigError(
                f"{key}.cadence: {table['cadence']!r} is not one of {kind_names()}"
            ) from None
        default_max = base.rule.max_attempts if base else 3
        max_attempts = positive_int(table.get("max_attempts", default_max), f"{key}.max_attempts")
        urgency = opt_text(table, "urgency", f"{key}.urgency", base.urgency if base else "Routine")
        if urgency not in urgencies:
            raise ConfigError(f"{key}.urgency: {urgency!r} is not one of {', '.join(urgencies)}")
        rule = CadenceRule(kind=kind, max_attempts=max_attempts)
        reasons[name] = Reason(name, rule, urgency)
    return reasons
