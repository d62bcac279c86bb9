"""What a clinic's Scripts tab is built from, on one line: the stamp core.script_index keeps its blocks
by and core.script_blocks builds it once per process for.

The package's version and the size and modification time of the modules that build the tab, the clinic's
name and callback number, and for the shipped templates folder and the clinic's override folder: its path
and the name, size and modification time of each of its files and of each file in its subfolders (the
language folders, which hold the templates). Editing, adding or removing a template changes it.
"""

from __future__ import annotations

import os
from pathlib import Path

# the modules the Scripts tab is built by: a change of their code is a change of the stamp
_MODULES = (
    "script_blocks.py",
    "scripts.py",
    "template_lint.py",
    "script_keys.py",
    "script_index.py",
    "script_stamp.py",
)


def _listing(directory: Path) -> tuple[object, ...]:
    """A templates folder's files and its subfolders' files: (name, size, mtime) each, by name; a folder
    that does not exist (or is a file) as such. OSError when it cannot be listed."""
    try:
        top = sorted(os.scandir(directory), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return (str(directory), "absent")
    out: list[object] = [str(directory)]
    for entry in top:
        if entry.is_dir():
            out.append((entry.name, "dir"))
            for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                info = sub.stat()  # a symbolic link's target: editing it changes the stamp
                out.append((f"{entry.name}/{sub.name}", info.st_size, info.st_mtime_ns))
        else:
            info = entry.stat()
            out.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(out)


def stamp(
    clinic_name: str, callback_number: str, override_dir: Path | None, templates_dir: Path
) -> str | None:
    """What the Scripts tab of these arguments is built from, on one line (None when a folder or module
    cannot be looked at: such a tab is not cached)."""
    from callback_sheets import __version__

    here = os.path.dirname(os.path.abspath(__file__))
    try:
        modules = [(m, (i := os.stat(os.path.join(here, m))).st_size, i.st_mtime_ns) for m in _MODULES]
        folders = [None if d is None else _listing(d) for d in (override_dir, templates_dir)]
    except OSError:
        return None
    return repr((__version__, modules, clinic_name, callback_number, folders))  # repr: one line, escaped
