"""Start-up: `callback-sheets --help`, and `queue` and `attempt` on the archived 5k queue, against
`python -c "import click"`, in the same run.

    python bench/startup.py [--repeat K] [--commands] [--baseline DIR]

CPU seconds (user + system) of fresh processes, median of K (default 15), with the package's bytecode
compiled first and used, as an installed package runs (see history_growth.installed_env). Also
`import callback_sheets.cli` alone. The last line is `ratio: X` = `--help` ÷ `import click` (goal: at
most 1.5).

--commands also builds the queue `bench/history_growth.py --sizes 5000` times first (200 open items, 5,000
rows, then archived: about the last 30 days) and times `queue` and `attempt` (one `No answer` on an open
item, on a fresh copy of the folder each round, the copy not timed), printing `queue ratio:` and `attempt
ratio:` against `import click` (goal: at most 4 for both). One untimed `attempt` runs first, as on a
clinic's machine where the holiday cache (core/holiday_cache.py) was written by an earlier command.

--baseline DIR: the same commands, in the same rounds, of another copy of the package (DIR holds its
`callback_sheets` folder, e.g. `git worktree add /tmp/before HEAD~3` or `git archive`), run with
PYTHONPATH=DIR: the figures before and after a change, measured on the same machine load.
"""

from __future__ import annotations

import argparse
import compileall
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from history_growth import installed_env  # noqa: E402

ENV: dict[str, str] | None = None
CLI = "from callback_sheets.cli import main; main()"
NOW = "2026-12-01T15:20"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cost(args: list[str], *, cwd: Path | None = None, root: Path | None = None) -> float:
    """CPU seconds of one fresh process; ``root``: the package is imported from there (run outside the
    checkout, whose folder would come first on the path)."""
    env = dict(ENV or {})
    if root is not None:
        env["PYTHONPATH"] = str(root)
    start = _cpu()
    done = subprocess.run(
        args,
        cwd=cwd or tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    spent = _cpu() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return spent


def archived_queue(folder: Path) -> str:
    """The archived 5k queue of bench/history_growth.py, built in ``folder``; returns an open item's ID."""
    import history_growth

    history_growth.ENV = ENV
    history_growth.build(folder, 5000)
    history_growth.timed(folder, "archive", "--now", "2026-12-01T15:05")
    return f"CB-{5000 - 1:06d}"  # odd numbers: open, no attempt yet


def measures(args: argparse.Namespace, work: Path) -> dict[str, Callable[[Path | None], float]]:
    """Each measure by name, given the package root (None: this checkout)."""
    out: dict[str, Callable[[Path | None], float]] = {
        "import callback_sheets.cli": lambda root: cost(
            [sys.executable, "-c", "import callback_sheets.cli"], root=root
        ),
        "--help": lambda root: cost([sys.executable, "-c", CLI, "--help"], root=root),
    }
    if not args.commands:
        return out
    queue = work / "queue"
    item = archived_queue(queue)
    attempt = ["attempt", item, "--outcome", "No answer", "--now", NOW]

    def fresh() -> Path:
        copy = work / "attempt"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(queue, copy)
        return copy

    for root in (ROOT, args.baseline):  # the holiday cache written, as an earlier command would have
        cost([sys.executable, "-c", CLI, *attempt], cwd=fresh(), root=root)
    out["queue"] = lambda root: cost([sys.executable, "-c", CLI, "queue", "--now", NOW], cwd=queue, root=root)
    out["attempt"] = lambda root: cost([sys.executable, "-c", CLI, *attempt], cwd=fresh(), root=root)
    return out


def main() -> None:
    global ENV
    ENV = installed_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--commands", action="store_true", help="also `queue` and `attempt` on the 5k queue")
    parser.add_argument("--baseline", type=Path, help="another copy of the package, timed in the same rounds")
    args = parser.parse_args()
    if args.baseline is not None:
        compileall.compile_dir(str(args.baseline / "callback_sheets"), quiet=1)
    work = Path(tempfile.mkdtemp(prefix="startup-"))
    try:
        named = measures(args, work)
        roots: list[tuple[str, Path | None]] = [("", None)]
        if args.baseline is not None:  # both found the same way (PYTHONPATH), not one by the editable finder
            roots = [("", ROOT), ("baseline ", args.baseline)]
        runs: dict[str, list[float]] = {"import click": []}
        for _ in range(args.repeat):  # each measured once per round, so all see the same machine load
            runs["import click"].append(cost([sys.executable, "-c", "import click"]))
            for label, root in roots:
                for name, measure in named.items():
                    runs.setdefault(label + name, []).append(measure(root))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    click = medians["import click"]
    for name, value in medians.items():
        print(f"{name}: {value * 1000:.0f} ms ({value / click:.2f}x import click)")
    for label, _ in roots[1:] + roots[:1]:
        for name in ("queue", "attempt"):
            if label + name in medians:
                print(f"{label}{name} ratio: {medians[label + name] / click:.2f}")
    print(f"ratio: {medians['--help'] / click:.2f}")


if __name__ == "__main__":
    main()
