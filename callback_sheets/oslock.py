"""One small interface over the operating system's file locks, for the runner's lock file.

``try_lock(fd)`` takes an exclusive, non-blocking lock on an open file and says whether it got it;
``unlock(fd)`` frees it. The kernel drops the lock when the process ends, however it ends, so a crash
never leaves it stuck. Nothing POSIX-only is imported at module level: the mechanism is chosen on first
use, from what this Python has:

- ``fcntl.flock`` (Linux, macOS, BSD): a lock on the open file;
- ``msvcrt.locking`` (Windows): a byte-range lock on one byte far past the data, so the holder's note
  at the start of the file stays readable by whoever is refused;
- ``os.lockf`` (POSIX without the ``fcntl`` module): a record lock, per process, so a table of the
  files this process holds makes a second lock from the same process fail as the others do.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

# Windows: the locked byte (far past any holder note; locking past the end of a file is allowed).
_WINDOWS_LOCK_OFFSET = 1 << 20


@dataclass(frozen=True, slots=True)
class Mechanism:
    name: str
    lock: Callable[[int], bool]  # True when taken, False when another holder has it
    unlock: Callable[[int], None]
    close: Callable[[int], None] = os.close  # close a descriptor that try_lock refused


def _flock() -> Mechanism:
    import fcntl

    def lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError as exc:
            if exc.errno in (11, 13, 35):  # EAGAIN, EACCES, EWOULDBLOCK (macOS)
                return False
            raise
        return True

    return Mechanism("flock", lock, lambda fd: fcntl.flock(fd, fcntl.LOCK_UN))


def _msvcrt() -> Mechanism:
    import msvcrt

    # getattr: type checkers on other platforms see a msvcrt without these
    locking: Callable[[int, int, int], None] = getattr(msvcrt, "locking")  # noqa: B009
    try_mode: int = getattr(msvcrt, "LK_NBLCK")  # noqa: B009
    free_mode: int = getattr(msvcrt, "LK_UNLCK")  # noqa: B009

    def at_lock_byte(fd: int, mode: int) -> None:
        here = os.lseek(fd, 0, os.SEEK_CUR)
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            locking(fd, mode, 1)
        finally:
            os.lseek(fd, here, os.SEEK_SET)

    def lock(fd: int) -> bool:
        try:
            at_lock_byte(fd, try_mode)
        except OSError:  # "Permission denied" / "Resource deadlock avoided": someone else holds it
            return False
        return True

    return Mechanism("msvcrt", lock, lambda fd: at_lock_byte(fd, free_mode))


# os.lockf locks belong to the process, not to the file descriptor: keep which files this process holds.
_held: set[tuple[int, int]] = set()
_parked: dict[tuple[int, int], list[int]] = {}
_held_guard = threading.Lock()


def _identity(fd: int) -> tuple[int, int]:
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


def _lockf() -> Mechanism:
    lockf = os.lockf  # type: ignore[attr-defined,unused-ignore]

    def lock(fd: int) -> bool:
        ident = _identity(fd)
        with _held_guard:
            if ident in _held:
                return False
            os.lseek(fd, 0, os.SEEK_SET)
            try:
                lockf(fd, os.F_TLOCK, 0)  # type: ignore[attr-defined,unused-ignore]
            except OSError:
                return False
            _held.add(ident)
            return True

    def unlock(fd: int) -> None:
        with _held_guard:
            ident = _identity(fd)
            os.lseek(fd, 0, os.SEEK_SET)
            lockf(fd, os.F_ULOCK, 0)  # type: ignore[attr-defined,unused-ignore]
            _held.discard(ident)
            for parked in _parked.pop(ident, []):
                os.close(parked)

    def close(fd: int) -> None:
        # Closing any descriptor of a file drops this process's lockf locks on it: a refused descriptor
        # of a file this process holds stays open until the holder unlocks.
        with _held_guard:
            ident = _identity(fd)
            if ident in _held:
                _parked.setdefault(ident, []).append(fd)
                return
        os.close(fd)

    return Mechanism("lockf", lock, unlock, close)


def available() -> list[Mechanism]:
    """The mechanisms this Python can use, best first."""
    found: list[Mechanism] = []
    for make in (_flock, _msvcrt, _lockf):
        with contextlib.suppress(ImportError, AttributeError):
            found.append(make())
    return found


_chosen: Mechanism | None = None


def mechanism() -> Mechanism:
    """The mechanism in use (the first available); OSError when this platform has no file locks."""
    global _chosen
    if _chosen is None:
        found = available()
        if not found:
            raise OSError("this platform has no file locking (no fcntl, msvcrt or os.lockf)")
        _chosen = found[0]
    return _chosen


def try_lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when another holder has it."""
    return mechanism().lock(fd)


def unlock(fd: int) -> None:
    mechanism().unlock(fd)


def close_refused(fd: int) -> None:
    """Close a descriptor that :func:`try_lock` refused (without dropping this process's own lock)."""
    mechanism().close(fd)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running on this machine. On Windows ``os.kill(pid, 0)`` would end that
    process (it calls TerminateProcess), so there the process is opened and its exit code asked for."""
    if os.name == "nt":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    except OSError:
        return False
    return True


def _pid_alive_windows(pid: int) -> bool:
    import ctypes

    kernel32 = getattr(ctypes, "windll").kernel32  # noqa: B009  (Windows only)
    query_limited_information, still_active = 0x1000, 259
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: it exists, someone else's
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == still_active
    finally:
        kernel32.CloseHandle(handle)


def read_head(fd: int, size: int = 4096) -> bytes:
    """The first ``size`` bytes of ``fd`` (``os.pread`` is POSIX-only)."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, size)


__all__ = [
    "Mechanism",
    "available",
    "close_refused",
    "mechanism",
    "pid_alive",
    "read_head",
    "try_lock",
    "unlock",
]
