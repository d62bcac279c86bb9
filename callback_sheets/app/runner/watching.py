"""The runner's log lines for the watch folder: one per file imported or set aside."""

from __future__ import annotations

from datetime import datetime

from callback_sheets.app.runner.log import JobRecord
from callback_sheets.app.watch import WatchedFile


def watch_record(
    result: WatchedFile, *, now: datetime, queue: str, duration: float, recovered: int
) -> JobRecord | None:
    """The log line for one file of a look (None for a file that waits or was imported before)."""
    if result.outcome == "imported":
        return JobRecord(
            time=now,
            queue=queue,
            job="watch",
            outcome="ok",
            duration=duration,
            rows=result.new_rows,
            changes=result.new_rows + result.merged,
            recovered_after=recovered,
        )
    if result.outcome == "failed":
        return JobRecord(
            time=now,
            queue=queue,
            job="watch",
            outcome="failed",
            duration=duration,
            streak=1,
            error="an export could not be imported: moved to failed/ (its .why.txt says: "
            f"{(result.why or '').replace(result.name, 'the file')})",
        )
    return None
