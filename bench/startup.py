"""Start-up: `callback-sheets --help` against `python -c "import click"`, in the same run.

    python bench/startup.py [--repeat K]

CPU seconds (user + system) of fresh processes, median of K (default 15), with the package's bytecode
compiled first and used, as an installed package runs (see history_growth.installed_env). Also
`import callback_sheets.cli` alone. The last line is `ratio: X` = `--help` ÷ `import click` (goal: at
most 1.5).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from history_growth import installed_env  # noqa: E402

ENV: dict[str, str] | None = None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cost(args: list[str]) -> float:
    start = _cpu()
    subprocess.run(args, cwd=ROOT, stdout=subprocess.DEVNULL, check=True, env=ENV)
    return _cpu() - start


def main() -> None:
    global ENV
    ENV = installed_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    runs: dict[str, list[float]] = {"import click": [], "import callback_sheets.cli": [], "--help": []}
    for _ in range(args.repeat):  # each measured once per round, so the three see the same machine load
        runs["import click"].append(cost([sys.executable, "-c", "import click"]))
        runs["import callback_sheets.cli"].append(cost([sys.executable, "-c", "import callback_sheets.cli"]))
        runs["--help"].append(
            cost([sys.executable, "-c", "from callback_sheets.cli import main; main()", "--help"])
        )
    medians = {name: statistics.median(values) for name, values in runs.items()}
    for name, value in medians.items():
        print(f"{name}: {value * 1000:.0f} ms")
    print(f"ratio: {medians['--help'] / medians['import click']:.2f}")


if __name__ == "__main__":
    main()
