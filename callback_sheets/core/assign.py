"""Who calls back: fill empty Owner cells fairly, never touching an owner staff typed.

Rules, in order, for each open row with an empty Owner (in row order, so the result is deterministic):

1. An escalation goes to the escalation owner (whatever their languages, reasons or cap: it must not
   wait). Without an escalation owner it is assigned like any other row.
2. The caller's language must be one the owner speaks, when at least one configured owner speaks it
   ("Spanish" callers go to Spanish speakers; "Other" or a language nobody lists goes to anyone). An
   empty Language cell counts as English.
3. An owner with a reasons list takes only those reasons; an owner at ``max_open`` takes no more.
4. Among those who fit: the fewest open items (counting items staff assigned by hand, and updated as
   rows are assigned), ties broken by the order owners are configured in.

A row nobody fits stays empty, with the reason in ``Assignment.unassigned``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from callback_sheets import model
from callback_sheets.cells import text as _text
from callback_sheets.core.validation import Item
from callback_sheets.errors import ConfigError

DEFAULT_LANGUAGE = "English"


class OwnerLike(Protocol):
    """What assignment needs to know about an owner (``config.OwnerConfig`` fits as is)."""

    @property
    def name(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def max_open(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class OwnerSpec:
    """One person who calls back: languages spoken, reasons handled (empty = all), cap on open items."""

    name: str
    languages: tuple[str, ...] = (DEFAULT_LANGUAGE,)
    reasons: tuple[str, ...] = ()
    max_open: int | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """Row ID -> owner for rows that got one; row ID -> why not for open rows left without one."""

    owners: dict[str, str] = field(default_factory=dict)
    unassigned: dict[str, str] = field(default_factory=dict)


def assign_owners(
    *,
    rows: Sequence[Mapping[str, object]],
    owners: Sequence[OwnerLike],
    escalation_owner: str | None,
    is_escalation: Callable[[Mapping[str, object]], bool],
    is_open: Callable[[Mapping[str, object]], bool],
) -> Assignment:
    """Choose an owner for every open row whose Owner cell is empty; nothing is written here.

    Rows without an ID, closed rows and rows with an owner already are left alone. Raises ConfigError
    when two owners share a name (their open items could not be told apart).
    """
    _check_unique(owners)
    load = _open_counts(rows, owners=owners, is_open=is_open)
    speakers = {_key(lang) for owner in owners for lang in owner.languages}
    escalation = (escalation_owner or "").strip()
    result = Assignment()
    for row in rows:
        row_id = _text(row.get(model.ID))
        if not row_id or _text(row.get(model.OWNER)) or not is_open(row):
            continue
        if row_id in result.owners or row_id in result.unassigned:
            continue  # a duplicated ID: the first row decides
        if escalation and is_escalation(row):
            result.owners[row_id] = escalation
            _bump(load, escalation)
            continue
        language = _text(row.get(model.LANGUAGE)) or DEFAULT_LANGUAGE
        reason = _text(row.get(model.REASON))
        needs = language if _key(language) in speakers else None
        pool = [o for o in owners if (needs is None or _speaks(o, needs)) and _handles(o, reason)]
        room = [o for o in pool if o.max_open is None or load.get(_key(o.name), 0) < o.max_open]
        if not room:
            result.unassigned[row_id] = _why_not(pool, language=needs, reason=reason, load=load)
            continue
        chosen = min(room, key=lambda o: load.get(_key(o.name), 0))  # min() keeps the first of equals
        result.owners[row_id] = chosen.name
        _bump(load, chosen.name)
    return result


def _open_counts(
    rows: Sequence[Mapping[str, object]],
    *,
    owners: Sequence[OwnerLike],
    is_open: Callable[[Mapping[str, object]], bool],
) -> dict[str, int]:
    """Open items per owner (by folded name), from the Owner cells staff and earlier runs filled."""
    load = {_key(o.name): 0 for o in owners}
    for row in rows:
        owner = _text(row.get(model.OWNER))
        if owner and is_open(row):
            _bump(load, owner)
    return load


def _why_not(pool: Sequence[OwnerLike], *, language: str | None, reason: str, load: Mapping[str, int]) -> str:
    """A one-line explanation staff can act on."""
    what = f"{reason!r} calls" if reason else "calls without a reason"
    if not pool:
        return f"no owner {'who speaks ' + language + ' ' if language else ''}takes {what}"
    full = ", ".join(f"{o.name} ({load.get(_key(o.name), 0)}/{o.max_open})" for o in pool)
    return f"everyone who could take it is at their cap: {full}"


def _check_unique(owners: Sequence[OwnerLike]) -> None:
    seen: set[str] = set()
    for owner in owners:
        if _key(owner.name) in seen:
            raise ConfigError(f"owners: {owner.name!r} is listed twice")
        seen.add(_key(owner.name))


def _speaks(owner: OwnerLike, language: str) -> bool:
    return _key(language) in {_key(lang) for lang in owner.languages}


def _handles(owner: OwnerLike, reason: str) -> bool:
    return not owner.reasons or _key(reason) in {_key(r) for r in owner.reasons}


def _bump(load: dict[str, int], name: str) -> None:
    load[_key(name)] = load.get(_key(name), 0) + 1


def _key(text: str) -> str:
    """Compare names, languages and reasons as staff mean them: case and spacing ignored."""
    return " ".join(text.split()).casefold()


def assign_items(
    items: Sequence[Item],
    ids: Mapping[int, str],
    owners: Sequence[OwnerLike],
    *,
    escalation_owner: str | None,
    is_escalation: Callable[[Item], object],
) -> Assignment:
    """:func:`assign_owners` for the queue's items (``ids``: the IDs a refresh gives rows without one,
    by position); ``is_escalation``: whether an item is escalated now."""
    if not any(item.is_open and not item.owner for item in items):
        return Assignment(owners={}, unassigned={})  # the usual refresh: every open item has an owner
    rows = []
    escalated: set[str] = set()
    open_ids: set[str] = set()
    for item in items:
        if item.closed:
            continue  # closed rows neither get an owner nor count toward anyone's open items
        item_id = item.id or ids[item.position]
        rows.append(
            {
                model.ID: item_id,
                model.OWNER: item.owner or "",
                model.LANGUAGE: item.language or "",
                model.REASON: item.reason or "",
                model.STATUS: item.status,
            }
        )
        open_ids.add(item_id)
        if is_escalation(item):
            escalated.add(item_id)
    return assign_owners(
        rows=rows,
        owners=owners,
        escalation_owner=escalation_owner,
        is_escalation=lambda r: r[model.ID] in escalated,
        is_open=lambda r: r[model.ID] in open_ids,
    )
