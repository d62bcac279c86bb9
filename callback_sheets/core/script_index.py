"""Which Scripts tab block a queue row's Script cell links to, kept on disk between commands.

A row's Script link names its block and its first row on the Scripts tab (core.script_blocks). Those rows
depend on every call script rendered before the block (a block has a "Do not say" row or not), so
learning them means rendering the whole tab and loading the templates' machinery (core.scripts,
core.template_lint): about 10 ms of an `attempt`, for an answer that changes only when the templates do.
A command that finds the answer here renders nothing: ``scripts.txt`` in the cache folder of the holiday
cache (core.holiday_cache.cache_dir) holds, for the last few (clinic, templates) it was asked about, each
block's key, row and label, or that the tab could not be built (a template fails the lint: Script cells
stay empty, as without the file).

An entry is found by its stamp, everything the tab is built from: the package's version and the size and
modification time of the modules that build it, the clinic's name and callback number (the clinic's, not
a patient's), and the shipped templates folder and the clinic's override folder: each one's path and the
names, sizes and modification times of its files and of the files in its subfolders (the language
folders). Editing, adding or removing a template changes the stamp, and the tab is built anew. Nothing
in the file comes from a queue, by construction. A file that cannot be read or parsed is ignored and
written anew; a cache folder that cannot be written only costs the full time; a folder that cannot be
listed is not cached at all (the tab is built, as without the cache).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from callback_sheets.core.script_keys import Key, block_keys
from callback_sheets.core.script_stamp import stamp

_FORMAT = "callback-sheets script index 1"
_FILE = "scripts.txt"
_KEEP = 8  # entries (clinics x template versions) the file holds, the latest first
_STAGES = ("first", "later")

Links = Mapping[Key, tuple[str, int]]  # block key -> (label, title row)


class ScriptIndex:
    """The Scripts tab's blocks as a Script link needs them: each key's label and title row."""

    __slots__ = ("blocks",)

    def __init__(self, blocks: Links) -> None:
        self.blocks = dict(blocks)

    def link_for(self, language: object, reason: object, attempts: object) -> tuple[str, int] | None:
        """The (label, row) of the block a row's Script cell links to, as ScriptsTab.block_for picks it."""
        key, english = block_keys(language, reason, attempts)
        return self.blocks.get(key) or self.blocks.get(english)


def _path() -> str | None:
    from callback_sheets.core.holiday_cache import cache_dir

    folder = cache_dir()
    return os.path.join(folder, _FILE) if folder else None


def _entries(path: str) -> list[tuple[str, list[str]]]:
    """The file's entries: (stamp, lines) each ([] if it is missing, unreadable or not this format)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, ValueError):
        return []
    if not lines or lines[0] != _FORMAT:
        return []
    entries: list[tuple[str, list[str]]] = []
    for line in lines[1:]:
        if line.startswith("= "):
            entries.append((line[2:], []))
        elif entries:
            entries[-1][1].append(line)
        else:
            return []
    return entries


def _parse(lines: list[str]) -> ScriptIndex | bool | None:
    """An entry's index (None: the tab could not be built; False: the entry is corrupt)."""
    if lines == ["failed"]:
        return None
    blocks: dict[Key, tuple[str, int]] = {}
    for line in lines:
        parts = line.split(" ", 4)
        if len(parts) != 5 or parts[2] not in _STAGES or not parts[3].isdigit() or not parts[4]:
            return False
        blocks[(parts[0], parts[1], parts[2])] = (parts[4], int(parts[3]))
    return ScriptIndex(blocks) if blocks else False


def _lines(index: ScriptIndex | None) -> list[str] | None:
    """An index as its entry's lines (None when a key or label cannot be written on one line)."""
    if index is None:
        return ["failed"]
    lines = []
    for (code, stem, stage), (label, row) in index.blocks.items():
        if len(f"{code} {stem}".split()) != 2 or label != " ".join(label.split()) or not label:
            return None
        lines.append(f"{code} {stem} {stage} {row} {label}")
    return lines


def _keep(path: str, key: str, index: ScriptIndex | None) -> None:
    """Write the file with this entry first (and up to _KEEP - 1 others), whole or not at all."""
    lines = _lines(index)
    if lines is None:
        return
    out = [_FORMAT, f"= {key}", *lines]
    for other, body in [e for e in _entries(path) if e[0] != key][: _KEEP - 1]:
        out += [f"= {other}", *body]
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)  # this user's only
        with open(temp, "w", encoding="utf-8") as fh:
            fh.write("\n".join(out) + "\n")
        os.replace(temp, path)  # a reader never sees half a file
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def index_for(
    *, clinic_name: str, callback_number: str, override_dir: Path | None, templates_dir: Path | None = None
) -> ScriptIndex | None:
    """The Script links of this clinic's Scripts tab (None when a template cannot be rendered, as
    script_blocks.build raising), from the cache file when it holds them, else built and kept."""
    from callback_sheets.errors import ConfigError, UsageError
    from callback_sheets.resources import templates_dir as shipped

    templates = templates_dir or shipped()
    key, path = stamp(clinic_name, callback_number, override_dir, templates), _path()
    if key is not None and path is not None:
        found = next((_parse(body) for k, body in _entries(path) if k == key), False)
        if found is not False:
            assert not isinstance(found, bool)
            return found
    from callback_sheets.core import script_blocks

    try:
        tab = script_blocks.build(
            clinic_name=clinic_name, callback_number=callback_number, override_dir=override_dir,
            templates_dir=templates,
        )  # fmt: skip
        index: ScriptIndex | None = ScriptIndex({k: (b.label, b.row) for k, b in tab.blocks.items()})
    except (ConfigError, UsageError):
        index = None
    except OSError:  # a file that could not be read: perhaps not next time, so not kept
        return None
    after = stamp(clinic_name, callback_number, override_dir, templates)
    if key is not None and path is not None and after == key:  # not a template edited meanwhile
        _keep(path, key, index)
    return index
