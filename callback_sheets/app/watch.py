"""The watch folder: phone-system exports that arrive by themselves (`[intake] watch = "exports/"`).

At each look (every runner tick, and `import-calls --watch`), every new file directly in the folder is
imported once, then moved to `imported/YYYY-MM/` inside it (left in place with `keep_files = true`):

* a file still being written (its size or modification time changes between two looks `settle`
  seconds apart, or it is empty and younger than `EMPTY_GRACE` seconds) waits for the next look;
* a file is known by the SHA-256 of its content, kept in `.callback-sheets-imported` in the folder (hash
  and time only, no names): the same export saved twice or renamed is not imported again;
* a file that cannot be read as an export is moved to `failed/` with `NAME.why.txt` beside it saying
  why; it never stops the others or the refresh;
* a fault of the queue itself (the workbook open in Excel, a Google outage) leaves the file where it
  is, for the next look: it is not the file's fault.

Hidden files, temporary files of editors and browsers (`~$x.xlsx`, `.~lock.*`, `*.part`,
`*.crdownload`, `*.tmp`) and subfolders are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from callback_sheets.backends.base import Backend
from callback_sheets.config import Config
from callback_sheets.errors import CallbackSheetsError

if TYPE_CHECKING:  # the intake package (every reader) is loaded when a file is imported
    from callback_sheets.intake.records import CallLog

RECORD = ".callback-sheets-imported"
IMPORTED = "imported"
FAILED = "failed"
SETTLE_SECONDS = 2.0
EMPTY_GRACE = 300.0
_TEMP_SUFFIXES = (".part", ".crdownload", ".tmp", ".partial", ".download", ".swp")


@dataclass(frozen=True, slots=True)
class WatchedFile:
    name: str
    outcome: str  # "imported", "already imported", "failed", "waiting"
    why: str | None = None
    new_rows: int = 0
    merged: int = 0
    calls: int = 0
    moved_to: Path | None = None
    already: int = 0  # calls in it imported before (from another file)


def _candidates(folder: Path) -> list[Path]:
    out = []
    for p in sorted(folder.iterdir()):
        name = p.name
        if name.startswith((".", "~$")) or name.lower().endswith(_TEMP_SUFFIXES) or name.endswith(".why.txt"):
            continue
        if p.is_symlink() or p.is_file():
            out.append(p)
    return out


def _look(paths: list[Path]) -> dict[Path, tuple[int, int]]:
    seen = {}
    for p in paths:
        with contextlib.suppress(OSError):
            st = p.lstat()
            seen[p] = (st.st_size, st.st_mtime_ns)
    return seen


def known_hashes(folder: Path) -> set[str]:
    try:
        lines = (folder / RECORD).read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return set()
    return {line.split()[0] for line in lines if line.strip()}


def _remember(folder: Path, digest: str, now: datetime) -> None:
    with open(folder / RECORD, "a", encoding="ascii") as f:
        f.write(f"{digest} {now.isoformat(timespec='seconds')}\n")
        f.flush()
        os.fsync(f.fileno())


def _unique(target: Path) -> Path:
    if not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if not candidate.exists():
            return candidate
    raise OSError(f"too many files named like {target.name}")


def _move(path: Path, folder: Path) -> Path | None:
    """Move `path` into `folder` under a free name; None when it vanished meanwhile (another look
    moved it)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = _unique(folder / path.name)
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    return target


def _fail(path: Path, folder: Path, why: str) -> Path | None:
    target = _move(path, folder / FAILED)
    if target is not None:
        target.with_name(target.name + ".why.txt").write_text(why + "\n", encoding="utf-8")
    return target


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def watch_folder(
    *,
    config: Config,
    backend: Callable[[], Backend],
    now: datetime,
    settle: float = SETTLE_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    wall: Callable[[], float] = time.time,
) -> list[WatchedFile]:
    """Import the new files of the config's watch folder (see the module docstring); what happened to
    each. Raises what the queue's backend raises (the files then stay for the next look)."""
    from callback_sheets.app import service

    folder = config.intake.watch
    if folder is None:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    paths = _candidates(folder)
    if not paths:
        return []
    first = _look(paths)
    sleep(settle)
    second = _look(paths)
    batch = _Batch(config, folder, backend, now)
    results: list[WatchedFile] = []
    for path in paths:
        before, after = first.get(path), second.get(path)
        if before is None or after is None:
            continue  # gone meanwhile
        if before != after or (after[0] == 0 and wall() - after[1] / 1e9 < EMPTY_GRACE):
            results.append(WatchedFile(path.name, "waiting"))
            continue
        results.append(batch.take(path))
    if batch.written and batch.opened is not None:
        service.refresh(config=config, backend=batch.opened, now=now)
    return results


class _Batch:
    """One look's imports: the folder's known files, the queue opened on the first file to import."""

    def __init__(self, config: Config, folder: Path, backend: Callable[[], Backend], now: datetime):
        self.config, self.folder, self.backend, self.now = config, folder, backend, now
        self.known = known_hashes(folder)
        self.month = folder / IMPORTED / f"{config.calendar().localize(now):%Y-%m}"
        self.opened: Backend | None = None
        self.written = False

    def _done(self, path: Path) -> Path | None:
        return None if self.config.intake.keep_files else _move(path, self.month)

    def take(self, path: Path) -> WatchedFile:
        """Import one settled file (or set it aside, or leave it for the next look)."""
        from callback_sheets.app.intake import read_export

        folder = self.folder
        if path.is_symlink():
            target = _fail(path, folder, "a link, not a file: save the export itself in the folder")
            return WatchedFile(path.name, "failed", "a link, not a file", moved_to=target)
        try:
            digest = _digest(path)
        except OSError as exc:
            return WatchedFile(path.name, "waiting", f"not readable yet ({exc.strerror})")
        if digest in self.known:
            return WatchedFile(path.name, "already imported", moved_to=self._done(path))
        try:
            log = read_export(config=self.config, path=path, fmt=None)
        except CallbackSheetsError as exc:
            return WatchedFile(path.name, "failed", str(exc), moved_to=_fail(path, folder, str(exc)))
        except Exception as exc:  # a hostile or broken file must not stop the others
            why = f"the file could not be read ({type(exc).__name__})"
            return WatchedFile(path.name, "failed", why, moved_to=_fail(path, folder, why))
        return self._import(path, digest, log)

    def _import(self, path: Path, digest: str, log: CallLog) -> WatchedFile:
        from callback_sheets.app.intake import import_calls

        if self.opened is None:
            self.opened = self.backend()
        outcome = import_calls(
            config=self.config, backend=self.opened, path=path, fmt=None, now=self.now, log=log
        )
        self.written = self.written or outcome.written
        _remember(self.folder, digest, self.now)
        self.known.add(digest)
        return WatchedFile(
            path.name,
            "imported",
            new_rows=len(outcome.plan.new_rows),
            merged=outcome.plan.merged,
            calls=len(log.calls),
            moved_to=self._done(path),
            already=outcome.plan.skipped_duplicates,
        )
