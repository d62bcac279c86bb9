"""The files shipped inside the package (script templates, the example config, the cron, systemd and
Task Scheduler files), found with ``importlib.resources`` so they are there however it was installed:
a wheel in a venv, pipx, an editable checkout."""

from __future__ import annotations

import atexit
import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importlib.resources is loaded when a file is not simply in the package's folder
    from importlib.abc import Traversable

_PACKAGE = "callback_sheets"
EXAMPLE_CONFIG = ("data", "callback_sheets.example.toml")
_stack = contextlib.ExitStack()
atexit.register(_stack.close)


def _traversable(*parts: str) -> Traversable:
    from importlib import resources

    node = resources.files(_PACKAGE)
    for part in parts:
        node = node.joinpath(part)
    return node


def package_path(*parts: str) -> Path:
    """A real filesystem path to a shipped file or folder (extracted for the process's lifetime in the
    rare case the package is imported from a zip)."""
    node = _traversable(*parts)
    if isinstance(node, Path):
        return node
    from importlib import resources

    return _stack.enter_context(resources.as_file(node))


@functools.cache
def templates_dir() -> Path:
    """The shipped script templates (``callback_sheets/templates``): the package's own folder when it is
    one (importing ``importlib.resources`` costs a command a few milliseconds), else as
    :func:`package_path` finds them."""
    here = Path(__file__).parent / "templates"
    if here.is_dir():
        return here
    return package_path("templates")


def read_text(*parts: str) -> str:
    """A shipped text file's content (UTF-8)."""
    return _traversable(*parts).read_text(encoding="utf-8")


def example_config() -> str:
    """The documented example config, as shipped (``callback-sheets example-config`` prints it)."""
    return read_text(*EXAMPLE_CONFIG)


__all__ = ["example_config", "package_path", "read_text", "templates_dir"]
