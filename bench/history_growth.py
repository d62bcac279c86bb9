"""Benchmark: what the queue costs as its closed history grows, before and after `archive`.

    python bench/history_growth.py [--sizes 5000,20000,50000,200000] [--repeat K]
    python bench/history_growth.py --google [--sizes 1000,20000]

Excel: builds queues of 200 open items at 150 calls a business day with SIZES total rows (5k, 20k, 50k,
200k: about 1.5 months, 6 months, 16 months and 5 years) and 1.66 History rows per item, then times in
fresh processes (median of K, CPU seconds) a steady `refresh` (10 minutes after the last), `queue` and
`attempt` before archiving, the first `archive` run, and the three commands again after it, beside
`python -c "import click"` measured in the same rounds (bytecode compiled and used, as installed). Prints a
table and the ratios the issue sets goals for: each command's cost at the largest size ÷ at the smallest,
after archiving (goal <= 1.3); the first archive of the largest ÷ one steady refresh of it before (goal
<= 3); `queue` and `attempt` on the smallest ÷ `import click` (goal <= 4).

--google: on the local Sheets emulator, bytes transferred (request + response bodies) per queue row by a
steady refresh (three cells changed) at each size, and, in the same run, what the former read (grid data
with formats) transfers for the same sheet: prints `bytes/row` and `ratio: lean ÷ grid`. Then the largest
queue is archived and the cells Google counts are projected (`projection:` lines): the years until a
spreadsheet reaches the 10 million cell limit at 150 calls a business day, for the archive in the queue's
spreadsheet, in one `[archive] spreadsheet`, and in one spreadsheet a year (`[archive] spreadsheets`),
and whether 20 years fit in one spreadsheet (the cells each archived item could take, against what it takes).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 12, 1, 15, 0)
CONFIG = """
[clinic]
timezone = "America/Chicago"
[queue]
workbook = "queue.xlsx"
[escalation]
owner = "Nurse Patel"
[[owners]]
name = "Nurse Patel"
reasons = ["Clinical concern"]
[[owners]]
name = "Maria"
languages = ["English", "Spanish"]
[[owners]]
name = "James"
"""
OPEN = 200
PER_DAY = 150
REASONS = ("New appointment", "Existing patient follow-up", "Billing", "Prescription question", "Other")
OUTCOMES = ("No answer", "Voicemail left", "Reached", "Booked")


def business_days_back(count: int) -> list[datetime]:
    days: list[datetime] = []
    day = NOW.replace(hour=0, minute=0)
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


def queue_rows(total: int) -> tuple[list[dict[str, object]], list[list[object]]]:
    """Rows as staff and earlier refreshes left them: IDs, closed items with their Closed at, History."""
    from callback_sheets import model

    rng = random.Random(17)
    days = business_days_back(total // PER_DAY + 1)
    received = sorted(
        day + timedelta(minutes=8 * 60 + rng.randrange(9 * 60)) for day in days for _ in range(PER_DAY)
    )[-total:]
    rows: list[dict[str, object]] = []
    history: list[list[object]] = []
    for n, when in enumerate(received, start=1):
        item = f"CB-{n:06d}"
        is_open = n > total - OPEN
        attempts = 0 if is_open and n % 2 else rng.choice((1, 1, 2, 2, 3))
        row: dict[str, object] = {
            model.ID: item,
            model.RECEIVED: when,
            model.CALLER: f"Caller {n}",
            model.PHONE: f"(312) 555-{n % 10000:04d}",
            model.PATIENT_TYPE: rng.choice(("New", "Existing")),
            model.LANGUAGE: rng.choice(("English", "English", "Spanish")),
            model.REASON: rng.choice(REASONS),
            model.URGENCY: "Routine",
            model.OWNER: rng.choice(("Maria", "James")),
            model.STATUS: "In progress" if is_open else rng.choice(("Resolved", "Booked", "No response")),
        }
        last = when
        for attempt in range(1, attempts + 1):
            last = last + timedelta(minutes=30 + rng.randrange(240))
            outcome = rng.choice(OUTCOMES)
            history.append([item, attempt, last, outcome, last, "sheet"])
        if attempts:
            row.update({model.ATTEMPTS: attempts, model.LAST_ATTEMPT: last, model.LAST_OUTCOME: outcome})
            row[model.FIRST_ATTEMPT] = history[-attempts][2]
        if not is_open:
            row[model.CLOSED_AT] = last + timedelta(minutes=5)
        rows.append(row)
    return rows, history


def build(folder: Path, total: int) -> Path:
    from callback_sheets import model
    from callback_sheets.app import service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.cells import Changeset
    from callback_sheets.config import load_config
    from callback_sheets.core.times import parse_now

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "callback_sheets.toml").write_text(CONFIG)
    config = load_config(folder / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    rows, history = queue_rows(total)
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=rows, tab_appends={model.HISTORY_TAB: history}))
    service.refresh(config=config, backend=backend, now=parse_now(NOW.isoformat(), config.tz))
    return folder


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def installed_env() -> dict[str, str]:
    """The environment of the timed processes: the package's bytecode compiled first and used, as an
    installed package runs (pip compiles it; PYTHONDONTWRITEBYTECODE would have every process compile
    every module it imports again, about 30 ms of a command here)."""
    import compileall
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    compileall.compile_dir(str(ROOT / "callback_sheets"), quiet=1)
    return env


ENV: dict[str, str] | None = None


def timed(folder: Path, *args: str) -> float:
    """CPU seconds (user + system) of one fresh process running the command: steadier than wall time
    on a shared machine, and what the issue's figures are. A command that fails stops the bench (a
    refusal would be timed as if it were the work)."""
    start = _cpu()
    done = subprocess.run(
        [sys.executable, "-c", "from callback_sheets.cli import main; main()", *args],
        cwd=folder,
        env=ENV,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    spent = _cpu() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return spent


def commands(folder: Path, repeat: int, minute: int, first: int = 0) -> dict[str, float]:
    """Each command ``repeat`` times; each `attempt` on another open item without attempts (an item's
    fourth attempt is refused), the ``first``-th onwards."""
    out: dict[str, list[float]] = {"refresh": [], "queue": [], "attempt": [], "click": []}
    for k in range(repeat):
        out["click"].append(_click_once())  # the baseline, in the same rounds as the commands
        at = (NOW + timedelta(minutes=minute + 10 * k)).isoformat(timespec="minutes")
        out["refresh"].append(timed(folder, "refresh", "--now", at))
        out["queue"].append(timed(folder, "queue", "--now", at))
        item = f"CB-{_last_open(folder) - 1 - 2 * (first + k):06d}"  # odd numbers: open, no attempt yet
        out["attempt"].append(timed(folder, "attempt", item, "--outcome", "No answer", "--now", at))
    return {name: statistics.median(values) for name, values in out.items()}


def _last_open(folder: Path) -> int:
    return int((folder / "total").read_text())


def excel(sizes: list[int], repeat: int) -> None:
    global ENV
    ENV = installed_env()
    base = Path(tempfile.mkdtemp(prefix="history-growth-"))
    table = []
    for total in sizes:
        folder = build(base / str(total), total)
        (folder / "total").write_text(str(total))
        before = commands(folder, repeat, 10)
        archive = timed(
            folder, "archive", "--now", (NOW + timedelta(minutes=100)).isoformat(timespec="minutes")
        )
        after = commands(folder, repeat, 110, first=repeat)
        table.append((total, before, archive, after))
        print(
            f"{total:>7,} rows: before refresh {before['refresh']:.2f} s, queue {before['queue']:.2f} s, "
            f"attempt {before['attempt']:.2f} s | archive {archive:.2f} s | after refresh "
            f"{after['refresh']:.2f} s, queue {after['queue']:.2f} s, attempt {after['attempt']:.2f} s",
            flush=True,
        )
    clicks = ", ".join(f"{after['click']:.3f} s" for _, _, _, after in table)
    print(f"python -c 'import click' (median of the rounds after archiving, by size): {clicks}")
    print(
        "| total rows | refresh before | queue before | attempt before | archive "
        "| refresh after | queue after | attempt after |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for total, before, archive, after in table:
        print(
            f"| {total:,} | {before['refresh']:.2f} s | {before['queue']:.2f} s "
            f"| {before['attempt']:.2f} s | {archive:.2f} s | {after['refresh']:.2f} s "
            f"| {after['queue']:.2f} s | {after['attempt']:.2f} s |"
        )
    small, large = table[0], table[-1]
    for name in ("refresh", "queue", "attempt"):
        print(
            f"ratio: {name} at {large[0]:,} / at {small[0]:,} after archiving = "
            f"{large[3][name] / small[3][name]:.2f} (goal <= 1.3)"
        )
    print(
        f"ratio: first archive of {large[0]:,} / its steady refresh = "
        f"{large[2] / large[1]['refresh']:.2f} (goal <= 3)"
    )
    for name in ("queue", "attempt"):
        ratio = small[3][name] / small[3]["click"]
        print(f"ratio: {name} at {small[0]:,} / import click = {ratio:.2f} (goal <= 4)")
    shutil.rmtree(base, ignore_errors=True)


def _click_once() -> float:
    start = _cpu()
    subprocess.run([sys.executable, "-c", "import click"], check=True, env=ENV)
    return _cpu() - start


def google(sizes: list[int]) -> None:
    import requests

    from callback_sheets import model
    from callback_sheets.app import service
    from callback_sheets.backends.google.backend import META_FIELDS, GoogleBackend
    from callback_sheets.cells import CellWrite, Changeset, WriteMode
    from callback_sheets.config import load_config
    from callback_sheets.core.times import parse_now
    from tests.sheets_emulator import SheetsEmulator
    from tests.sheets_emulator.client import emulator_session

    folder = Path(tempfile.mkdtemp(prefix="history-growth-google-"))
    (folder / "callback_sheets.toml").write_text(CONFIG)
    config = load_config(folder / "callback_sheets.toml")
    now = parse_now(NOW.isoformat(), config.tz)
    counted = [0]
    calls: list[tuple[str, int, int]] = []  # each request of the last refresh: what, sent, received

    def count(response: requests.Response, *args: object, **kwargs: object) -> None:
        counted[0] += len(response.content) + len(response.request.body or b"")
        calls.append((_call_name(response), len(response.request.body or b""), len(response.content)))

    for total in sizes:
        with SheetsEmulator() as emu:
            session = emulator_session(emu.base_url)
            session.hooks["response"].append(count)
            backend = GoogleBackend(emu.store.create("bench").spreadsheet_id, session=session)
            service.init(config=config, backend=backend)
            rows, history = queue_rows(total)
            backend.write(backend.read(), Changeset(new_rows=rows, tab_appends={model.HISTORY_TAB: history}))
            service.refresh(config=config, backend=backend, now=now)
            snapshot = backend.read()
            open_rows = [r for r in snapshot.rows if r.get(model.STATUS) == "In progress"][:3]
            counted[0] = 0
            service.refresh(
                config=config, backend=backend, now=now + timedelta(minutes=10)
            )  # nothing or little
            steady = counted[0]
            # three items closed by staff, as between two refreshes of a working day, then a refresh
            closing = [
                CellWrite(
                    r.position, str(r.get(model.ID)), model.STATUS, "Resolved", WriteMode.SET, "In progress"
                )
                for r in open_rows
            ]
            backend.write(snapshot, Changeset(cells=closing))
            counted[0] = 0
            calls.clear()
            service.refresh(config=config, backend=backend, now=now + timedelta(minutes=20))
            changed = counted[0]
            breakdown = "; ".join(
                f"{name} {sent + got:,} ({(sent + got) / total:.1f}/row)" for name, sent, got in calls
            )
            counted[0] = 0
            fields = (
                META_FIELDS[:-1]
                + ",data(rowData(values(effectiveValue,formattedValue,userEnteredFormat/numberFormat/type))))"
            )
            backend.http.fetch_sheet_metadata(
                backend.key,
                {
                    "includeGridData": "true",
                    "ranges": ["'Queue'", "'History'", "'Demand'", "'Metrics'"],
                    "fields": fields,
                    "prettyPrint": "true",  # as the former read asked (indented, Google's default)
                },
            )
            grid = counted[0]
            book = emu.store.get(backend.key)
            cells = sum(s.row_count * s.col_count for s in book.sheets)
            if total == sizes[-1]:
                projection(emu, backend, config, now, total)
        print(
            f"{total:>6,} rows: steady refresh {steady / total:.0f} bytes/row (nothing changed), "
            f"{changed / total:.0f} bytes/row (3 items closed: read, re-read, write); "
            f"former grid read {grid / total:.0f} bytes/row; "
            f"{cells:,} cells in the spreadsheet"
        )
        print(f"  per call of that refresh (request + response bodies): {breakdown}")
        print(f"bytes/row: {changed / total:.0f}")
        print(f"ratio: lean / grid = {changed / grid:.2f}")


def _call_name(response: object) -> str:
    """A request by what it does: the read, the lease claim, the re-read, the write..."""
    from urllib.parse import parse_qs, urlsplit

    request = response.request  # type: ignore[attr-defined]
    url = urlsplit(str(request.url))
    query = parse_qs(url.query)
    if url.path.endswith("values:batchGet"):
        ranges = query.get("ranges", [])
        return "re-read" if any("!" in r for r in ranges) else f"read ({len(ranges)} tabs)"
    if url.path.endswith(":append"):
        return "lease claim"
    if url.path.endswith("values:batchUpdate"):
        return "write"
    if url.path.endswith(":batchUpdate"):
        return "grid batchUpdate"
    return "metadata" if request.method == "GET" else request.method


LIMIT = 10_000_000  # Google's cells per spreadsheet (every tab's rows x columns)
ITEMS_A_YEAR = PER_DAY * 250  # 150 calls a business day, about 250 business days a year
YEARS = 20  # the goal for one spreadsheet


def projection(emu: object, backend: object, config: object, now: datetime, total: int) -> None:
    """Archives the queue on the emulator, counts the cells Google would count, and projects the years
    until a spreadsheet reaches the 10 million cell limit at 150 calls a business day."""
    from callback_sheets.app import archive
    from callback_sheets.backends.google.backend import GoogleBackend

    assert isinstance(backend, GoogleBackend)
    outcome = archive.archive(config=config, backend=backend, now=now + timedelta(minutes=100))  # type: ignore[arg-type]
    book = emu.store.get(backend.key)  # type: ignore[attr-defined]
    queue_cells = sum(s.row_count * s.col_count for s in book.sheets if not s.title.startswith("Archive "))
    archive_cells = sum(s.row_count * s.col_count for s in book.sheets if s.title.startswith("Archive "))
    per_item = archive_cells / len(outcome.moved)
    a_year = per_item * ITEMS_A_YEAR
    same = (LIMIT - queue_cells) / a_year
    print(
        f"{total:,} rows archived: {len(outcome.moved):,} items moved; the queue's tabs now hold "
        f"{queue_cells:,} cells (30 days of items, constant from then on); the archive "
        f"{per_item:.1f} cells per item (tabs as wide as their columns, History rows included), "
        f"{a_year:,.0f} cells a year at {PER_DAY} calls a business day"
    )
    print(f"projection: archive tabs in the queue's spreadsheet: the limit after {same:.1f} years")
    print(
        f"projection: [archive] spreadsheet: the queue's spreadsheet never fills ({queue_cells:,} cells); "
        f"the archive spreadsheet after {LIMIT / a_year:.1f} years"
    )
    print(
        f"projection: [archive] spreadsheets (one a year): no spreadsheet ever fills (the queue's "
        f"{queue_cells / LIMIT:.1%} of the limit, each year's archive {a_year / LIMIT:.1%})"
    )
    # 20 years in the queue's own spreadsheet would leave each archived item this many cells: fewer than
    # its Queue row's columns alone, so only one spreadsheet a year reaches 20 years
    room = (LIMIT - queue_cells) / (YEARS * ITEMS_A_YEAR)
    items_tabs = [s for s in book.sheets if s.title.startswith("Archive ") and "History" not in s.title]
    columns = max(s.col_count for s in items_tabs)
    print(
        f"projection: {YEARS} years in one spreadsheet need at most {room:.1f} cells per archived item; "
        f"the archive takes {per_item:.1f} ({columns} columns for its Queue row alone): "
        f"{'reachable' if per_item <= room else 'not reachable without [archive] spreadsheets'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--google", action="store_true")
    args = parser.parse_args()
    if args.google:
        google([int(s) for s in (args.sizes or "1000,20000").split(",")])
    else:
        excel([int(s) for s in (args.sizes or "5000,20000,50000,200000").split(",")], args.repeat)


if __name__ == "__main__":
    main()
