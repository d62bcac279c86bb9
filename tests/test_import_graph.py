"""The package's import graph: no cycle among its modules (imports inside functions count, as they run
too), and the light entry points stay light: the CLI's start imports no spreadsheet or holiday library,
and the Google backend no openpyxl."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "callback_sheets"
HEAVY = ("openpyxl", "gspread", "google.auth", "holidays", "python_calamine")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imported(module: str, path: Path, modules: dict[str, Path]) -> Iterator[str]:
    """The package's modules that ``module`` imports anywhere in its code (top level or in a function)."""
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target in modules and target != module:
                yield target


def graph() -> dict[str, set[str]]:
    modules = _modules()
    return {m: set(_imported(m, p, modules)) for m, p in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), plus modules importing themselves."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_package_has_no_import_cycle() -> None:
    edges = graph()
    assert len(edges) > 50 and "callback_sheets.cli" in edges  # the walk saw the package
    assert cycles(edges) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    # the check itself, on a made-up module shaped like the service <-> reports cycle issue 16 removed
    made_up = tmp_path / "reports.py"
    made_up.write_text(
        "from callback_sheets import model\n\ndef later():\n    from callback_sheets.app import service\n"
    )
    modules = {**_modules(), "callback_sheets.madeup": made_up}
    assert set(_imported("callback_sheets.madeup", made_up, modules)) == {
        "callback_sheets.model",
        "callback_sheets.app.service",
    }
    edges = {"service": {"reports"}, "reports": {"service", "metrics"}, "metrics": set(), "cli": {"service"}}
    assert cycles(edges) == [["reports", "service"]]


@pytest.mark.parametrize(
    ("entry", "forbidden"),
    [
        ("callback_sheets.cli", HEAVY),
        ("callback_sheets.config", HEAVY),
        ("callback_sheets.backends.google.backend", ("openpyxl", "python_calamine")),
        ("callback_sheets.backends.registry", HEAVY),
    ],
)
def test_an_entry_point_imports_none_of_the_heavy_libraries(entry: str, forbidden: tuple[str, ...]) -> None:
    code = f"import json, sys, {entry}; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(run.stdout)
    heavy = sorted({n for n in loaded for lib in forbidden if n == lib or n.startswith(lib + ".")})
    assert heavy == [], f"importing {entry} loads {heavy}"
