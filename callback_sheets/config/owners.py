"""[[owners]]: who takes which callbacks, and the check that every name they refer to exists."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from callback_sheets.config.values import an_address, named_tables, names, positive_int
from callback_sheets.errors import ConfigError

if TYPE_CHECKING:
    from callback_sheets.config.choices import Reason


@dataclass(frozen=True, slots=True)
class OwnerConfig:
    """An [[owners]] entry: who takes which items."""

    name: str
    languages: tuple[str, ...] = ("English",)
    reasons: tuple[str, ...] = ()
    max_open: int | None = None
    email: str | None = None  # where this owner's alerts go (issue 11)


def read_owners(raw: object) -> tuple[OwnerConfig, ...]:
    owners = []
    known = {"name", "languages", "reasons", "max_open", "email"}
    for key, table in named_tables(raw, key="owners", known=known, needs_name="each owner needs a name"):
        max_open = table.get("max_open")
        owners.append(
            OwnerConfig(
                name=str(table["name"]).strip(),
                languages=names(table.get("languages", ["English"]), f"{key}.languages"),
                reasons=names(table.get("reasons", []), f"{key}.reasons", example='["Billing", "Other"]'),
                max_open=positive_int(max_open, f"{key}.max_open") if max_open is not None else None,
                email=an_address(table["email"], f"{key}.email") if table.get("email") else None,
            )
        )
    return tuple(owners)


def check_references(
    owners: tuple[OwnerConfig, ...],
    reasons: Mapping[str, Reason],
    languages: tuple[str, ...],
    escalation_owner: str | None,
) -> None:
    """Every name that refers to something else must exist: an owner's reasons and languages, and the
    escalation owner (one of the [[owners]], when owners are listed)."""
    for i, owner in enumerate(owners):
        for reason in owner.reasons:
            if reason not in reasons:
                raise ConfigError(
                    f"owners[{i}].reasons: {reason!r} is not a reason; known reasons: {', '.join(reasons)}"
                )
        for language in owner.languages:
            if language not in languages:
                raise ConfigError(
                    f"owners[{i}].languages: {language!r} is not one of the languages "
                    f"({', '.join(languages)}); add it to [choices] languages or fix the spelling"
                )
    who = escalation_owner
    if who and owners and who.strip() not in {o.name for o in owners}:
        raise ConfigError(
            f"escalation.owner: {who.strip()!r} is not one of the [[owners]] "
            f"({', '.join(o.name for o in owners)}); add an [[owners]] table for them or fix the spelling"
        )
