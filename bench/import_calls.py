"""Time a missed-call import: `python bench/import_calls.py N` (default 100000).

Writes an N-record Twilio call-log CSV (inbound and outbound calls, answered and missed, half the
times in ISO form and half in RFC 2822, a pool of N/4 numbers so callers repeat), then times
read_call_log and plan_import against an empty queue and against a 10,000-row queue. All numbers are
in the fictional 555-01xx range.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runs from a checkout without installing

from callback_sheets import model
from callback_sheets.intake import CallLog, plan_import, read_call_log

CLINIC_TZ = ZoneInfo("America/Chicago")
AREA_CODES = ("312", "773", "872", "630", "708", "847", "224", "331", "815", "779")
STATUSES = (("no-answer", 40), ("busy", 10), ("canceled", 10), ("failed", 5), ("completed", 35))


def number_pool(size: int, rng: random.Random) -> list[str]:
    """`size` distinct valid US numbers (xxx-555-01yy), written as a Twilio export writes them."""
    pool = [f"+1{area}55501{n:02d}" for area in AREA_CODES for n in range(100)]
    while len(pool) < size:  # beyond the 555-01xx block: other valid exchanges
        pool.append(f"+1{rng.choice(AREA_CODES)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}")
    return pool[:size]


def write_export(path: Path, n: int, rng: random.Random) -> list[str]:
    """Write the export; return the number pool used."""
    pool = number_pool(max(n // 4, 1), rng)
    statuses = [s for s, _ in STATUSES]
    weights = [w for _, w in STATUSES]
    start = datetime(2026, 10, 1, 13, 0, tzinfo=UTC)
    step = timedelta(days=60) / max(n, 1)
    header = ["Sid", "DateCreated", "StartTime", "EndTime", "From", "To", "CallerName", "Direction", "Status"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for i in range(n):
            at = start + step * i
            stamp = format_datetime(at) if i % 2 else at.strftime("%Y-%m-%dT%H:%M:%SZ")
            direction = "inbound" if rng.random() < 0.85 else "outbound-api"
            name = rng.choice(("", "", "WIRELESS CALLER", "CHICAGO IL", "DOE JANE"))
            number = rng.choice(pool)
            status = rng.choices(statuses, weights)[0]
            writer.writerow(
                [f"CA{i:032x}", stamp, stamp, "", number, "+13125550100", name, direction, status]
            )
    return pool


def make_queue(size: int, pool: list[str], rng: random.Random) -> list[dict[str, object]]:
    """A queue of `size` rows spread over the same 60 days, some closed, numbers from the pool."""
    first = datetime(2026, 10, 1, 8, 0, tzinfo=CLINIC_TZ)
    rows: list[dict[str, object]] = []
    for i in range(size):
        received = first + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        rows.append(
            {
                model.ID: f"CB-{i + 1:05d}",
                model.RECEIVED: received.replace(tzinfo=None),
                model.PHONE: rng.choice(pool),
                model.STATUS: rng.choice(model.STATUSES),
                model.CALLS: rng.choice((None, 1, 2)),
                model.LATEST_CALL: None,
            }
        )
    return rows


def window_end(start: datetime) -> datetime:
    """Two calendar days stand in for two business days here."""
    return start + timedelta(days=2)


def is_open(row: Mapping[str, object]) -> bool:
    return row.get(model.STATUS) not in model.CLOSED_STATUSES


def timed_plan(log: CallLog, queue: list[dict[str, object]]) -> tuple[float, str]:
    began = time.perf_counter()
    result = plan_import(
        calls=log.calls, queue=queue, imported_keys=set(), window_end=window_end, is_open=is_open, region="US"
    )
    took = time.perf_counter() - began
    summary = f"{len(result.new_rows)} new rows, {len(result.updates)} rows updated, {result.merged} merged"
    return took, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="?", default=100_000, help="call records to write")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.csv"
        pool = write_export(path, args.n, rng)
        size = path.stat().st_size
        print(f"export: {args.n:,} records, {size / 1e6:.1f} MB, {len(pool):,} distinct numbers")
        ticks = [0]

        def progress(done: int, total: int) -> None:
            ticks[0] += 1

        began = time.perf_counter()
        log = read_call_log(
            path, fmt=None, export_tz=ZoneInfo("UTC"), clinic_tz=CLINIC_TZ, region="US", progress=progress
        )
        read_s = time.perf_counter() - began
        print(
            f"read_call_log: {read_s:.2f} s ({args.n / read_s:,.0f} records/s); "
            f"{len(log.calls):,} missed calls, {log.ignored:,} ignored, {len(log.bad):,} bad, "
            f"{ticks[0]} progress calls"
        )
        for label, queue in (("empty queue", []), ("10,000-row queue", make_queue(10_000, pool, rng))):
            took, summary = timed_plan(log, queue)
            print(f"plan_import, {label}: {took:.2f} s; {summary}")
            print(f"total, {label}: {read_s + took:.2f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
