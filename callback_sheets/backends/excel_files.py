"""File safety for workbooks: who else has the file open, our own lock, and atomic replacement."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callback_sheets.errors import WorkbookBusyError

STALE_AFTER_SECONDS = 30 * 60  # a lock older than this, from a process we cannot see, is a crash's leftover


@dataclass(frozen=True, slots=True)
class FileVersion:
    """Enough to notice that someone saved the file since we read it."""

    mtime_ns: int
    size: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> FileVersion:
        st = path.stat()
        return cls(st.st_mtime_ns, st.st_size, st.st_ino)


def open_elsewhere(path: Path) -> str | None:
    """The program that has the workbook open, judged by the lock files it leaves beside it."""
    if (path.parent / f".~lock.{path.name}#").exists():
        return "LibreOffice"
    if (path.parent / f"~${path.name}").exists() or (path.parent / f"~${path.name[2:]}").exists():
        return "Excel"
    return None


def refuse_if_open(path: Path) -> None:
    who = open_elsewhere(path)
    if who:
        raise WorkbookBusyError(
            f"{path.name} is open in {who}: save and close it there, then run the command again "
            "(nothing was written)"
        )


def lock_path(path: Path) -> Path:
    return path.parent / f".~callback-sheets.{path.name}.lock"


def _alive(pid: int) -> bool:
    from callback_sheets.oslock import pid_alive  # os.kill(pid, 0) would end the process on Windows

    return pid_alive(pid)


def _stale(lock: Path) -> bool:
    try:
        info = json.loads(lock.read_text())
        age = time.time() - float(info["time"])
        if info.get("host") == socket.gethostname():
            return not _alive(int(info["pid"]))
        return age > STALE_AFTER_SECONDS
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return time.time() - lock.stat().st_mtime > STALE_AFTER_SECONDS
        except OSError:
            return True


@contextlib.contextmanager
def workbook_lock(path: Path, *, what: str = "callback-sheets") -> Iterator[None]:
    """Our own lock: two runs never work on one workbook at once; a crashed run's lock is taken over."""
    lock = lock_path(path)
    payload = json.dumps(
        {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time(), "what": what}
    )
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _stale(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            raise WorkbookBusyError(
                f"another callback-sheets run is working on {path.name} (lock {lock.name}); "
                "wait for it to finish, or delete the lock file if no run is going"
            ) from None
        with os.fdopen(fd, "w") as fh:
            fh.write(payload)
        break
    else:
        raise WorkbookBusyError(f"could not take the lock {lock.name}; delete it if no run is going")
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


def atomic_write(path: Path, produce: Callable[[Path], None]) -> None:
    """Call produce(tmp) to write a complete file beside `path`, then replace `path` in one step.

    A process killed at any moment leaves either the old file or the new one, never a broken one; a
    failed produce() leaves the old file untouched and removes the temporary one.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp.xlsx", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        produce(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
        with contextlib.suppress(OSError):  # make the rename itself durable
            dir_fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
