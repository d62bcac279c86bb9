"""Planning an import: new rows, repeat callers, window edges, idempotence."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from callback_sheets import model
from callback_sheets.core.phones import phone_key
from callback_sheets.intake import CallKind, CallRecord, ImportPlan, plan_import, read_call_log

CHICAGO = ZoneInfo("America/Chicago")
UTC = ZoneInfo("UTC")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=CHICAGO)
JANE = "+1 312-555-0142"
OMAR = "(312) 555-0143"


def window_end(start: datetime) -> datetime:
    """A stand-in for "2 business days later" (the business calendar is not this module's)."""
    return start + timedelta(days=2)


def is_open(row: Mapping[str, object]) -> bool:
    return row.get(model.STATUS) not in model.CLOSED_STATUSES


def call(
    key: str, at: datetime, phone: str = JANE, *, name: str = "", kind: CallKind = "missed", line: int = 2
) -> CallRecord:
    found = phone_key(phone, "US")
    assert found is not None
    return CallRecord(
        key=key, received=at, phone_raw=phone, phone_key=found, caller_name=name, line=line, kind=kind
    )


def plan(
    calls: list[CallRecord], queue: list[dict[str, object]] | None = None, keys: set[str] | None = None
) -> ImportPlan:
    return plan_import(
        calls=calls,
        queue=queue or [],
        imported_keys=keys or set(),
        window_end=window_end,
        is_open=is_open,
        region="US",
    )


def row(row_id: str, at: datetime | None, phone: str = JANE, **extra: object) -> dict[str, object]:
    return {model.ID: row_id, model.RECEIVED: at, model.PHONE: phone, model.STATUS: "New", **extra}


def test_new_rows_keep_the_export_text() -> None:
    result = plan(
        [
            call("a", T0, name='=HYPERLINK("http://x","y")'),
            call("b", T0 + timedelta(minutes=5), OMAR, name="+1-555-0100", kind="voicemail"),
        ]
    )
    assert result.new_rows == [
        {
            model.RECEIVED: T0,
            model.CALLER: '=HYPERLINK("http://x","y")',
            model.PHONE: JANE,
            model.CALLS: 1,
            model.LATEST_CALL: T0,
            model.STATUS: "New",
            model.NOTES: "",
        },
        {
            model.RECEIVED: T0 + timedelta(minutes=5),
            model.CALLER: "+1-555-0100",
            model.PHONE: OMAR,
            model.CALLS: 1,
            model.LATEST_CALL: T0 + timedelta(minutes=5),
            model.STATUS: "New",
            model.NOTES: "Voicemail",
        },
    ]
    assert all(model.ID not in r for r in result.new_rows)
    assert (result.new_keys, result.updates, result.merged, result.skipped_duplicates) == (
        ["a", "b"],
        {},
        0,
        0,
    )


def test_repeat_callers_within_one_file_merge_in_time_order() -> None:
    calls = [
        call("c3", T0 + timedelta(days=1, hours=3), "312.555.0142", kind="voicemail", name="JANE D"),
        call("c1", T0),
        call("c2", T0 + timedelta(hours=1), "+13125550142"),
        call("o1", T0 + timedelta(hours=2), OMAR),
    ]
    result = plan(calls)
    assert len(result.new_rows) == 2 and result.merged == 2
    jane = result.new_rows[0]
    assert jane[model.RECEIVED] == T0 and jane[model.PHONE] == JANE  # the first call's text
    assert jane[model.CALLS] == 3
    assert jane[model.LATEST_CALL] == T0 + timedelta(days=1, hours=3)
    assert jane[model.CALLER] == "JANE D"  # filled from a later call when the first had no name
    assert jane[model.NOTES] == "Voicemail"
    assert result.new_keys == ["c1", "c2", "o1", "c3"]


def test_window_edges_are_measured_from_the_first_call() -> None:
    end = window_end(T0)
    result = plan(
        [
            call("a", T0),
            call("b", end - timedelta(seconds=1)),  # inside: merged
            call("c", end),  # the window is half-open: a new item
            call("d", end + timedelta(hours=1)),  # within the *new* item's window
        ]
    )
    assert [(r[model.RECEIVED], r[model.CALLS]) for r in result.new_rows] == [(T0, 2), (end, 2)]
    assert result.new_rows[0][model.LATEST_CALL] == end - timedelta(seconds=1)


def test_merge_into_an_open_queue_item() -> None:
    queue = [row("CB-0007", T0, "(312) 555-0142", **{model.CALLS: None, model.LATEST_CALL: None})]
    result = plan([call("x", T0 + timedelta(hours=5)), call("y", T0 + timedelta(hours=7))], queue)
    assert result.new_rows == []
    assert result.updates == {"CB-0007": {model.CALLS: 3, model.LATEST_CALL: T0 + timedelta(hours=7)}}
    assert result.merged == 2


def test_queue_rows_with_naive_clinic_times() -> None:
    naive = T0.replace(tzinfo=None)
    queue = [row("CB-1", naive, JANE, **{model.CALLS: 2, model.LATEST_CALL: naive + timedelta(hours=9)})]
    result = plan([call("x", T0 + timedelta(hours=4))], queue)  # earlier than the latest call so far
    assert result.updates == {"CB-1": {model.CALLS: 3, model.LATEST_CALL: T0 + timedelta(hours=9)}}


def test_not_merged_into_closed_expired_or_unidentified_items() -> None:
    queue = [
        row("CB-1", T0, **{model.STATUS: "Booked"}),
        row("CB-2", T0 - timedelta(days=3)),  # open, but its window has passed
        row("", T0),  # no ID yet: cannot be updated by ID
        row("CB-4", T0, "not a number"),
        row("CB-5", None),
    ]
    result = plan([call("x", T0 + timedelta(hours=1))], queue)
    assert len(result.new_rows) == 1 and result.updates == {} and result.merged == 0


def test_latest_open_item_wins_and_earlier_call_merges_without_moving_received() -> None:
    queue = [row("CB-1", T0 - timedelta(days=1)), row("CB-2", T0)]
    result = plan([call("x", T0 + timedelta(hours=1)), call("y", T0 - timedelta(days=1, minutes=1))], queue)
    # "x" is inside both windows: the later item takes it. "y" is 1 minute before CB-1 (and within two
    # days of CB-2 too): it merges into the nearest item after it, and Received stays.
    assert result.updates == {
        "CB-2": {model.CALLS: 2, model.LATEST_CALL: T0 + timedelta(hours=1)},
        "CB-1": {model.CALLS: 2, model.LATEST_CALL: T0 - timedelta(days=1)},
    }
    assert result.new_rows == []


def test_dst_fold_hour_orders_by_instant() -> None:
    first = datetime(2026, 11, 1, 6, 30, tzinfo=UTC).astimezone(CHICAGO)  # 01:30 CDT
    second = datetime(2026, 11, 1, 7, 10, tzinfo=UTC).astimezone(CHICAGO)  # 01:10 CST, 40 min later
    result = plan([call("b", second), call("a", first)])
    assert [r[model.RECEIVED] for r in result.new_rows] == [first]
    assert result.new_rows[0][model.LATEST_CALL] == second and result.new_rows[0][model.CALLS] == 2


def test_imported_keys_and_repeated_keys_are_skipped() -> None:
    result = plan([call("a", T0), call("a", T0), call("b", T0 + timedelta(hours=1))], keys={"b"})
    assert result.skipped_duplicates == 2 and result.new_keys == ["a"] and len(result.new_rows) == 1


TWILIO_HEADER = "Sid,StartTime,From,CallerName,Direction,Status\n"


def _file(tmp_path: Path, name: str, sids: range) -> Path:
    lines = [
        f"CA{i},2026-12-0{1 + i // 6} 15:{i:02d}:00,+1312555{100 + i % 3:04d},,inbound,busy\n" for i in sids
    ]
    path = tmp_path / name
    path.write_text(TWILIO_HEADER + "".join(lines), encoding="utf-8")
    return path


def _apply(queue: list[dict[str, object]], result: ImportPlan) -> None:
    """What the caller does with a plan: write new rows (with IDs) and apply the updates."""
    for r in queue:
        r.update(result.updates.get(str(r[model.ID]), {}))
    for r in result.new_rows:
        queue.append({model.ID: f"CB-{len(queue) + 1:04d}", **r})


def _import(path: Path, queue: list[dict[str, object]], keys: set[str]) -> ImportPlan:
    log = read_call_log(path, fmt=None, export_tz=UTC, clinic_tz=CHICAGO, region="US")
    result = plan_import(
        calls=log.calls, queue=queue, imported_keys=keys, window_end=window_end, is_open=is_open, region="US"
    )
    _apply(queue, result)
    keys.update(result.new_keys)
    return result


def test_importing_the_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    queue: list[dict[str, object]] = []
    keys: set[str] = set()
    path = _file(tmp_path, "a.csv", range(12))
    first = _import(path, queue, keys)
    assert len(first.new_rows) == 3 and first.merged == 9  # three numbers over two days
    snapshot = [dict(r) for r in queue]
    second = _import(path, queue, keys)
    assert (second.new_rows, second.updates, second.new_keys, second.skipped_duplicates) == ([], {}, [], 12)
    assert queue == snapshot


def test_an_overlapping_file_adds_only_the_new_calls(tmp_path: Path) -> None:
    queue: list[dict[str, object]] = []
    keys: set[str] = set()
    _import(_file(tmp_path, "a.csv", range(8)), queue, keys)
    result = _import(_file(tmp_path, "b.csv", range(4, 12)), queue, keys)
    assert result.skipped_duplicates == 4
    assert result.new_keys == [f"twilio:CA{i}" for i in range(8, 12)]
    assert sum(int(str(r[model.CALLS])) for r in queue) == 12
    assert len(queue) == 3


def test_no_calls_no_plan() -> None:
    assert plan([], [row("CB-1", T0)]) == ImportPlan()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 9), st.integers(0, 3), st.integers(0, 6 * 24 * 60)), min_size=1, max_size=40
    )
)
def test_every_new_call_is_counted_once(spec: list[tuple[int, int, int]]) -> None:
    """Calls in new rows plus merges into existing rows equal the calls not skipped; a re-run adds nothing."""
    phones = [f"+1312555010{n}" for n in range(4)]
    calls = [call(f"k{k}", T0 + timedelta(minutes=m), phones[p]) for k, p, m in spec]
    queue = [row("CB-1", T0 + timedelta(days=1), phones[0], **{model.CALLS: 1})]
    result = plan(calls, queue)
    unique = len({c.key for c in calls})
    merged_into_queue = sum(int(str(u[model.CALLS])) - 1 for u in result.updates.values())
    assert sum(int(str(r[model.CALLS])) for r in result.new_rows) + merged_into_queue == unique
    assert result.skipped_duplicates == len(calls) - unique
    for r in result.new_rows:
        first, latest = r[model.RECEIVED], r[model.LATEST_CALL]
        assert isinstance(first, datetime) and isinstance(latest, datetime)
        assert first <= latest < window_end(first)
    again = plan(calls, queue, keys=set(result.new_keys))
    assert again.new_rows == [] and again.updates == {} and again.skipped_duplicates == len(calls)
