"""The CLI's start and exit around a command: the collector paused while modules load and the config is
read, and skipped at exit (gc.freeze) once a command has loaded."""

from __future__ import annotations

import atexit
import gc
import subprocess
import sys
import textwrap
from pathlib import Path

from callback_sheets.cli import state


def test_startup_pauses_the_collector_and_restores_it() -> None:
    assert gc.isenabled()
    with state.startup():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with state.startup():
            pass
        assert not gc.isenabled()  # a caller's own pause is kept
    finally:
        gc.enable()


def test_the_exit_hook_is_registered_once() -> None:
    before = atexit._ncallbacks()
    state.skip_last_collections()
    state.skip_last_collections()
    assert atexit._ncallbacks() - before <= 1
    assert state._exit_registered


def test_a_command_process_freezes_at_exit_and_finishes_its_output(tmp_path: Path) -> None:
    """A real process: the command's output is complete, and gc.freeze ran at exit (the frozen count is
    printed by a handler registered before the command loaded: atexit runs handlers last in, first out,
    so it runs after the command's)."""
    script = textwrap.dedent(
        """
        import atexit, gc, sys
        atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, file=sys.stderr))
        from callback_sheets.cli import main
        main(["example-config"])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    shipped = Path(state.__file__).parent.parent / "data" / "callback_sheets.example.toml"
    assert done.stdout.strip() == shipped.read_text(encoding="utf-8").strip()
    assert "frozen True" in done.stderr
