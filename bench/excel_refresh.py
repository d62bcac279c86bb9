"""Benchmark: a full refresh of an N-row Excel queue against the bare openpyxl load + save of it.

    python bench/excel_refresh.py ROWS [--repeat K]

Builds a ROWS-row queue workbook (synthetic calls, like the demo), then, in the same run, times (median
of K rounds, each op once per round, each run in a fresh process so peak memory is its own):
  - openpyxl: load_workbook + save of that workbook (the baseline issue 2 measures against);
  - floor: python-calamine read of the Queue sheet + re-zip of every part unchanged (issue 7's floor);
  - refresh: `service.refresh` from the un-refreshed file (IDs, validation, cadence, every tool cell);
  - steady: the refresh cron runs every 10 minutes: the same queue, already refreshed, 10 minutes later.
The last line is `ratio: X` = refresh ÷ openpyxl load+save.
"""

from __future__ import annotations

import importlib
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

NOW = "2026-12-04T15:00"
STEADY_NOW = "2026-12-04T15:10"
CONFIG = """
[clinic]
timezone = "America/Chicago"
[queue]
workbook = "queue.xlsx"
[escalation]
owner = "Maria"
[[owners]]
name = "Maria"
languages = ["English", "Spanish"]
[[owners]]
name = "James"
"""


def build(folder: Path, rows: int) -> Path:
    from callback_sheets.app import service
    from callback_sheets.app.demo import synthetic_rows
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.cells import Changeset
    from callback_sheets.config import load_config
    from callback_sheets.core.times import parse_now

    (folder / "callback_sheets.toml").write_text(CONFIG)
    config = load_config(folder / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook)
    service.init(config=config, backend=backend)
    data = synthetic_rows(config, parse_now(NOW, config.tz), rows, seed=1)
    with backend.session():
        backend.write(backend.read(), Changeset(new_rows=data))
    shutil.copy(config.workbook, folder / "base.xlsx")
    service.refresh(config=config, backend=backend, now=parse_now(NOW, config.tz))
    shutil.copy(config.workbook, folder / "refreshed.xlsx")
    return folder


def op_openpyxl(folder: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(folder / "queue.xlsx")
    wb.save(folder / "out.xlsx")


def op_floor(folder: Path) -> None:
    from xlsx_floor import floor_seconds  # bench/xlsx_floor.py: calamine read + re-zip of every part

    floor_seconds(folder / "queue.xlsx", "Queue")


def op_refresh(folder: Path, now: str = NOW) -> None:
    from callback_sheets.app import service
    from callback_sheets.backends.excel.backend import ExcelBackend
    from callback_sheets.config import load_config
    from callback_sheets.core.times import parse_now

    config = load_config(folder / "callback_sheets.toml")
    backend = ExcelBackend(config.workbook)
    outcome = service.refresh(config=config, backend=backend, now=parse_now(now, config.tz))
    print(
        f"# refresh wrote {outcome.result.written if outcome.result else 0} cells via "
        f"{backend.last_write_path}",
        file=sys.stderr,
    )


def op_steady(folder: Path) -> None:
    op_refresh(folder, now=STEADY_NOW)


OPS = {"openpyxl": op_openpyxl, "floor": op_floor, "refresh": op_refresh, "steady": op_steady}


# Modules each op needs, imported before its clock starts: the floor is timed without its imports too.
PRELOAD = {
    "openpyxl": ("openpyxl",),
    "floor": ("xlsx_floor", "callback_sheets.backends.excel.xlsx.read"),
    "refresh": (
        "callback_sheets.app.service",
        "callback_sheets.app.reports",
        "callback_sheets.backends.excel.backend",
        "callback_sheets.backends.excel.xlsx.read",
        "callback_sheets.backends.excel.xlsx.patch",
        "holidays",  # imported by the first config load that names a country (the default: US)
    ),
}
PRELOAD["steady"] = PRELOAD["refresh"]


def child(op: str, folder: Path) -> None:
    shutil.copy(folder / ("refreshed.xlsx" if op == "steady" else "base.xlsx"), folder / "queue.xlsx")
    for module in PRELOAD[op]:
        importlib.import_module(module)
    start = time.perf_counter()
    OPS[op](folder)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb}))


def run_once(op: str, folder: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", op, str(folder)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(folder: Path, repeat: int, rows: int) -> dict[str, list[dict[str, float]]]:
    """Runs every op once per round, ``repeat`` rounds, so the ops being compared are measured close
    together in time (this machine's speed drifts by ±30% over minutes). openpyxl, the slow baseline,
    runs once past 20,000 rows."""
    runs: dict[str, list[dict[str, float]]] = {op: [] for op in OPS}
    for round_ in range(repeat):
        ran = [op for op in OPS if not (op == "openpyxl" and rows > 20_000 and round_)]
        for op in ran:
            runs[op].append(run_once(op, folder))
        print(
            f"round {round_ + 1}: "
            + "  ".join(f"{op} {runs[op][-1]['seconds']:.2f}s" for op in ran)
            + f"  refresh/floor {runs['refresh'][-1]['seconds'] / runs['floor'][-1]['seconds']:.2f}",
            flush=True,
        )
    return runs


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(argv[1], Path(argv[2]))
        return
    if argv[:1] == ["--build"]:
        build(Path(argv[2]), int(argv[1]))
        return
    rows = int(argv[0]) if argv else 10_000
    repeat = int(argv[argv.index("--repeat") + 1]) if "--repeat" in argv else 3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        # built in a child too: a forked child's peak RSS starts at its parent's, so the parent stays small
        subprocess.run([sys.executable, __file__, "--build", str(rows), str(folder)], check=True)
        print(
            f"built {rows} rows in {time.perf_counter() - start:.1f}s "
            f"({(folder / 'base.xlsx').stat().st_size / 1e6:.1f} MB), {datetime.now():%H:%M:%S}"
        )
        runs = measure(folder, repeat, rows)
    median = {op: statistics.median(r["seconds"] for r in runs[op]) for op in OPS}
    for op in OPS:
        peak = max(r["peak_mb"] for r in runs[op])
        print(f"{op:9s} {median[op]:8.3f} s   peak {peak:7.1f} MB   (median of {len(runs[op])})")
    for op in ("refresh", "steady"):
        paired = statistics.median(
            r["seconds"] / f["seconds"] for r, f in zip(runs[op], runs["floor"], strict=True)
        )
        print(f"{op} / floor: {median[op] / median['floor']:.2f}  (median of per-round ratios {paired:.2f})")
    print(f"ratio: {median['refresh'] / median['openpyxl']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
