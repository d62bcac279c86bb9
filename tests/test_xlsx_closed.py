"""The zero-collateral patcher (`backends/excel/xlsx/`) is a closed group: it imports nothing of the
package outside itself but `errors`, so it can be read, tested and reused on its own."""

from __future__ import annotations

import ast
from pathlib import Path

import callback_sheets

XLSX = Path(callback_sheets.__file__).parent / "backends" / "excel" / "xlsx"
INSIDE = "callback_sheets.backends.excel.xlsx"
ALLOWED = {"callback_sheets.errors"}


def _imports(path: Path) -> set[str]:
    """Every module a file imports, function-level imports included (relative ones resolved)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = INSIDE.rsplit(".", node.level - 1)[0] if node.level > 1 else INSIDE
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


def test_the_xlsx_group_imports_nothing_else_of_the_package() -> None:
    files = sorted(XLSX.glob("*.py"))
    assert len(files) > 10
    outside = {
        (path.name, module)
        for path in files
        for module in _imports(path)
        if module.split(".")[0] == "callback_sheets"
        and not (module == INSIDE or module.startswith(INSIDE + "."))
        and module not in ALLOWED
    }
    assert not outside, f"the xlsx group reaches outside itself: {sorted(outside)}"


def test_the_check_sees_an_import_from_outside(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from callback_sheets.cells import Link\n")
    assert "callback_sheets.cells" in _imports(sample)
