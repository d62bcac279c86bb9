"""Plan how imported calls change the queue: new rows, merges into open items, skipped repeats.

Rules:

* Idempotence: a call whose key was imported before (`imported_keys`) or appears twice in the batch
  is skipped and counted in `skipped_duplicates`.
* Repeat callers: calls are taken in time order. A call from a number (compared by phones.phone_key)
  that has an open item whose first call `received` satisfies
  ``received <= call < window_end(received)`` is merged into it: `Calls` + 1, `Latest call` = the
  later of the two; `Received` (what the deadline is measured from) stays. A call slightly *before*
  an existing item (``received < window_end(call)``; it can happen when an older file is imported
  late) is merged too, so the caller is not queued twice, and `Received` still stays. Of several
  items whose window holds the call, the one with the latest `Received` wins; otherwise the nearest
  item after the call. New rows made by this plan are open items
  too, so repeats within one file merge into them.
* Received is the earliest call: a row this plan creates gets the earliest time of its calls, whatever
  order the export lists them in. A row an earlier import created (its number and Received are still
  those the import wrote: `created_marks` holds a `created_mark` per such row) gets the earlier call's
  time too (`updates`). A row staff typed keeps its Received (a staff cell); when an earlier call merges
  into it, `earlier_calls` holds that call's time so the row's Problems can say so.
* Queue rows without an ID, without a readable number or received time, or closed (`is_open` false)
  are not merge targets.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from callback_sheets import model
from callback_sheets.core.phones import phone_key
from callback_sheets.intake.records import CallRecord

NOTES_BY_KIND = {"voicemail": "Voicemail", "abandoned": "Abandoned call", "missed": ""}


@dataclass(slots=True)
class ImportPlan:
    """What an import would change. New rows have no ID: the refresh assigns IDs."""

    new_rows: list[dict[str, object]] = field(default_factory=list)
    updates: dict[str, dict[str, object]] = field(default_factory=dict)  # row ID -> {Calls, Latest call}
    new_keys: list[str] = field(default_factory=list)
    skipped_duplicates: int = 0
    merged: int = 0
    earlier_calls: dict[str, datetime] = field(default_factory=dict)  # row ID -> earliest earlier call
    new_marks: list[str] = field(default_factory=list)  # created_mark of each row this plan wrote Received of


@dataclass(slots=True)
class _Item:
    """An open item a call can merge into. `start` and `end` are UTC: same-zone comparisons of aware
    datetimes in Python ignore `fold`, which would mix up the repeated hour when DST ends."""

    start: datetime
    end: datetime
    calls: int
    latest: datetime
    row_id: str | None  # an existing row
    row: dict[str, object] | None  # a new row of this plan
    imported: bool = False  # an existing row an import created, Received as the import wrote it
    phone: str = ""  # the comparison key of its number
    received: datetime | None = None  # its Received, as a call time (aware)


def created_mark(phone_key: str, received: datetime) -> str:
    """What the Intake tab keeps for a row an import created: a hash of its number and Received (to the
    minute, UTC), so a later import knows the row is its own while staff have not changed either."""
    stamp = received.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    digest = hashlib.sha1(f"row|{phone_key}|{stamp}".encode(), usedforsecurity=False).hexdigest()
    return f"row:{digest[:24]}"


def _aware(value: object, tz: tzinfo) -> datetime | None:
    if isinstance(value, str) and value.strip():
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def _count(value: object) -> int:
    if isinstance(value, bool):
        return 1
    if isinstance(value, int | float):
        return max(int(value), 1)
    if isinstance(value, str) and value.strip().isdigit():
        return max(int(value.strip()), 1)
    return 1


def _end(window_end: Callable[[datetime], datetime], start: datetime) -> datetime:
    """The end of the repeat window of a first call at `start`, in UTC."""
    end = window_end(start)
    return (end if end.tzinfo is not None else end.replace(tzinfo=start.tzinfo)).astimezone(UTC)


def _later(a: datetime, b: datetime) -> datetime:
    return b if b.astimezone(UTC) > a.astimezone(UTC) else a


def _existing_items(
    queue: Sequence[Mapping[str, object]],
    *,
    tz: tzinfo,
    window_end: Callable[[datetime], datetime],
    is_open: Callable[[Mapping[str, object]], bool],
    region: str,
    marks: Collection[str] = (),
) -> dict[str, list[_Item]]:
    items: dict[str, list[_Item]] = {}
    for row in queue:
        row_id = str(row.get(model.ID) or "").strip()
        received = _aware(row.get(model.RECEIVED), tz)
        if not row_id or received is None or not is_open(row):
            continue
        key = phone_key(row.get(model.PHONE), region)
        if key is None:
            continue
        latest = _aware(row.get(model.LATEST_CALL), tz) or received
        items.setdefault(key, []).append(
            _Item(
                received.astimezone(UTC),
                _end(window_end, received),
                _count(row.get(model.CALLS)),
                latest,
                row_id,
                None,
                imported=bool(marks) and created_mark(key, received) in marks,
                phone=key,
                received=received,
            )
        )
    return items


def _target(
    candidates: list[_Item], call: CallRecord, window_end: Callable[[datetime], datetime]
) -> _Item | None:
    """The item a call merges into: the latest one whose window holds it, else the nearest one that
    starts after it within the call's own window; None when there is none."""
    at = call.received.astimezone(UTC)
    inside = [item for item in candidates if item.start <= at < item.end]
    if inside:
        return max(inside, key=lambda item: item.start)
    later = [item for item in candidates if at < item.start]
    if later:
        nearest = min(later, key=lambda item: item.start)
        if nearest.start < _end(window_end, call.received):
            return nearest
    return None


def plan_import(
    *,
    calls: Sequence[CallRecord],
    queue: Sequence[Mapping[str, object]],
    imported_keys: Collection[str],
    window_end: Callable[[datetime], datetime],
    is_open: Callable[[Mapping[str, object]], bool],
    region: str,
    created_marks: Collection[str] = (),
) -> ImportPlan:
    """Plan the queue changes for `calls` (see the module docstring for the rules).

    `queue` rows are keyed by model column names; naive datetimes in them are clinic wall time.
    `window_end(first_call)` is the end of the repeat-caller window (the caller passes "2 business
    days later"). Nothing is modified: the caller writes `new_rows`, applies `updates` and stores
    `new_keys` with the imported keys.
    """
    plan = ImportPlan()
    if not calls:
        return plan
    tz = calls[0].received.tzinfo
    assert tz is not None, "CallRecord.received must be aware"
    marks = created_marks if isinstance(created_marks, set | frozenset) else set(created_marks)
    items = _existing_items(queue, tz=tz, window_end=window_end, is_open=is_open, region=region, marks=marks)
    seen = set(imported_keys) if not isinstance(imported_keys, set | frozenset) else imported_keys
    batch: set[str] = set()
    for call in sorted(calls, key=lambda c: (c.received.astimezone(UTC), c.line)):
        if call.key in seen or call.key in batch:
            plan.skipped_duplicates += 1
            continue
        batch.add(call.key)
        plan.new_keys.append(call.key)
        candidates = items.setdefault(call.phone_key, [])
        item = _target(candidates, call, window_end)
        if item is None:
            candidates.append(_new_item(plan, call, window_end))
        else:
            _merge(plan, item, call)
    _mark_created(plan, items)
    return plan


def _new_item(plan: ImportPlan, call: CallRecord, window_end: Callable[[datetime], datetime]) -> _Item:
    """A new queue row for `call` (added to the plan), as an item later calls can merge into."""
    row: dict[str, object] = {
        model.RECEIVED: call.received,
        model.CALLER: call.caller_name,
        model.PHONE: call.phone_raw,
        model.CALLS: 1,
        model.LATEST_CALL: call.received,
        model.STATUS: "New",
        model.NOTES: NOTES_BY_KIND[call.kind],
    }
    plan.new_rows.append(row)
    return _Item(call.received.astimezone(UTC), _end(window_end, call.received), 1, call.received, None, row)


def _merge(plan: ImportPlan, item: _Item, call: CallRecord) -> None:
    """A repeat call merged into `item`: a new row of this import, or a queue row (planned updates)."""
    plan.merged += 1
    item.calls += 1
    item.latest = _later(item.latest, call.received)
    if call.received.astimezone(UTC) < item.start:
        _earlier_call(plan, item, call)
    if item.row is not None:
        item.row[model.CALLS] = item.calls
        item.row[model.LATEST_CALL] = item.latest
        if not item.row[model.CALLER] and call.caller_name:
            item.row[model.CALLER] = call.caller_name
        note = NOTES_BY_KIND[call.kind]
        notes = str(item.row[model.NOTES])
        if note and note not in notes:
            item.row[model.NOTES] = f"{notes}; {note}" if notes else note
    else:
        assert item.row_id is not None
        plan.updates.setdefault(item.row_id, {}).update(
            {model.CALLS: item.calls, model.LATEST_CALL: item.latest}
        )


def _earlier_call(plan: ImportPlan, item: _Item, call: CallRecord) -> None:
    """A call before the item's first one: an imported item starts earlier; one typed by staff keeps
    its Received and the earlier call is reported (earlier_calls)."""
    at = call.received.astimezone(UTC)
    if item.row is not None:
        item.row[model.RECEIVED] = call.received
    elif item.imported:
        assert item.row_id is not None
        item.start = at
        item.received = call.received
        plan.updates.setdefault(item.row_id, {})[model.RECEIVED] = call.received
    else:
        assert item.row_id is not None
        known = plan.earlier_calls.get(item.row_id)
        if known is None or at < known.astimezone(UTC):
            plan.earlier_calls[item.row_id] = call.received


def _mark_created(plan: ImportPlan, items: Mapping[str, list[_Item]]) -> None:
    """The created marks of the items this import adds, or whose Received it moves earlier."""
    for key, found in items.items():
        for item in found:
            if item.row is not None:
                received = item.row[model.RECEIVED]
                assert isinstance(received, datetime)
                plan.new_marks.append(created_mark(key, received))
            elif (
                item.imported and item.row_id in plan.updates and model.RECEIVED in plan.updates[item.row_id]
            ):
                assert item.received is not None
                plan.new_marks.append(created_mark(key, item.received))
