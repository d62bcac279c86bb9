"""Benchmark: the Excel write of one `attempt` on the archived 5k queue, with the old member's
compressed blocks reused (the default) against every changed part compressed afresh, in the same run.

    python bench/excel_write.py [--repeat K]

Builds the queue as `bench/history_growth.py --sizes 5000` does and archives it, then, in fresh
processes, runs `attempt` on a copy of it (each round both ways, one after the other) and prints the CPU
seconds (user + system, every thread) of `ExcelBackend.write` alone and of the whole command (medians of
K rounds). Last line: `ratio:` write with reuse ÷ write without.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

ATTEMPT = ["attempt", "CB-004997", "--outcome", "No answer", "--now", "2026-12-01T15:20"]


def child(reuse: bool) -> None:
    """Runs the attempt in this process; prints the write's CPU seconds."""
    from callback_sheets.backends.excel import backend
    from callback_sheets.backends.excel.xlsx import blocks

    blocks.REUSE = reuse
    write = backend.ExcelBackend.write

    def timed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.process_time()
        try:
            return write(self, *args, **kwargs)
        finally:
            print(f"WRITE {time.process_time() - start:.6f}", file=sys.stderr)

    backend.ExcelBackend.write = timed  # type: ignore[method-assign]
    from callback_sheets.cli import main

    sys.argv = ["callback-sheets", *ATTEMPT]
    with contextlib.suppress(SystemExit):
        main(prog_name="callback-sheets")


def run(folder: Path, reuse: bool, work: Path) -> tuple[float, float]:
    """(write, whole command) CPU seconds of one attempt on a fresh copy of ``folder``."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(folder, work)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, __file__, "--child", "on" if reuse else "off"],
        cwd=work,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in done.stderr.splitlines() if line.startswith("WRITE ")]
    if done.returncode or not lines:
        raise SystemExit(done.stderr[-2000:])
    whole = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(lines[0].split()[1]), whole


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", choices=["on", "off"])
    args = parser.parse_args()
    if args.child:
        child(args.child == "on")
        return
    import history_growth

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "queue"
        history_growth.build(folder, 5000)
        subprocess.run(
            [sys.executable, "-m", "callback_sheets", "archive", "--now", "2026-12-01T15:05"],
            cwd=folder,
            check=True,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for _ in range(args.repeat):
            for reuse in (False, True):
                times[reuse].append(run(folder, reuse, Path(tmp) / "work"))
    for reuse, label in ((False, "compressed afresh"), (True, "blocks reused")):
        write = statistics.median(t[0] for t in times[reuse])
        whole = statistics.median(t[1] for t in times[reuse])
        print(f"{label:18} write {write * 1000:6.1f} ms   attempt {whole:.3f} s")
    on = statistics.median(t[0] for t in times[True])
    off = statistics.median(t[0] for t in times[False])
    print(f"ratio: {on / off:.2f}")


if __name__ == "__main__":
    main()
