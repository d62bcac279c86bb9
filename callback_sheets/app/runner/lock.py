"""One runner per queue: the lock file the runner holds while it runs (``oslock``: flock, or msvcrt)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from pathlib import Path

from callback_sheets.errors import BackendError, WorkbookBusyError


class RunnerLock:
    """One runner per queue: an exclusive OS lock on a lock file (``oslock``: flock, or msvcrt on
    Windows). The kernel drops it when the process ends, however it ends, so a crash cannot leave it
    stuck; the file itself stays and says who held it."""

    def __init__(self, path: Path, *, queue: str) -> None:
        self.path = path
        self.queue = queue
        self._fd: int | None = None

    def acquire(self) -> None:
        from callback_sheets import oslock

        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as exc:
            raise BackendError(f"cannot create the runner lock {self.path}: {exc.strerror}") from None
        try:
            taken = oslock.try_lock(fd)
        except OSError as exc:
            os.close(fd)
            raise BackendError(f"cannot lock the runner lock {self.path}: {exc.strerror or exc}") from None
        if not taken:
            holder = _holder(fd)
            oslock.close_refused(fd)
            raise WorkbookBusyError(
                f"another callback-sheets runner is already serving queue {self.queue!r}{holder}: "
                f"only one runs at a time, so this one stops (lock {self.path.name})"
            ) from None
        os.ftruncate(fd, 0)
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), "queue": self.queue}
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            from callback_sheets import oslock

            with contextlib.suppress(OSError):
                oslock.unlock(self._fd)
            os.close(self._fd)
            self._fd = None


def _holder(fd: int) -> str:
    from callback_sheets.oslock import read_head

    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        info = json.loads(read_head(fd) or b"{}")
        return f" (pid {int(info['pid'])} on {info['host']})"
    return ""
