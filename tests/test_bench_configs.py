"""The benchmarks' clinic configs load (a config check added later once broke `make bench` unnoticed)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

from callback_sheets.config import parse_config

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _configs() -> list[tuple[str, str]]:
    found = []
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id.endswith("CONFIG") for t in node.targets)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                found.append((script.name, node.value.value))
    return found


def test_the_benchmarks_have_configs() -> None:
    assert {name for name, _ in _configs()} >= {"excel_refresh.py", "history_growth.py"}


@pytest.mark.parametrize(("script", "text"), _configs(), ids=lambda v: v if v.endswith(".py") else "")
def test_each_benchmark_config_loads(script: str, text: str, tmp_path: Path) -> None:
    config = parse_config(tomllib.loads(text), base=tmp_path, path=tmp_path / "callback_sheets.toml")
    assert config.escalation_owner in {o.name for o in config.owners}, script
