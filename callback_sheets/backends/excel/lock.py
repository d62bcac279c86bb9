"""Who has the workbook: another program (judged by the lock files Excel and LibreOffice leave beside
it), or another run of ours (our own lock file, published atomically, a crashed run's taken over). While
we hold the lock, a killed run's temporary files are removed (only names of exactly our pattern)."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

from callback_sheets.backends.excel.disk import real_path, space_message
from callback_sheets.errors import WorkbookBusyError

STALE_AFTER_SECONDS = 30 * 60  # a lock older than this, from a process we cannot see, is a crash's leftover
STALE_TEMP_SECONDS = 5 * 60  # our own temporary file older than this is a killed run's leftover
TEMP_MARK = "cbs"  # in every temporary file's name: `.NAME.cbs-PID-XXXXXXXX.tmp.xlsx`


def open_elsewhere(path: Path) -> str | None:
    """The program that has the workbook open, judged by the lock files it leaves beside it."""
    if (path.parent / f".~lock.{path.name}#").exists():
        return "LibreOffice"
    if (path.parent / f"~${path.name}").exists() or (path.parent / f"~${path.name[2:]}").exists():
        return "Excel"
    return None


def refuse_if_open(path: Path) -> None:
    who = open_elsewhere(path) or (open_elsewhere(real_path(path)) if path.is_symlink() else None)
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
    """A lock is stale when its process is gone (same host), when it is older than STALE_AFTER_SECONDS
    (another host), or at once when it is empty or unreadable: a lock is only ever made visible with its
    content, so an empty one is a crash's (or a full disk's) leftover."""
    try:
        info = json.loads(lock.read_text())
        age = time.time() - float(info["time"])
        if info.get("host") == _hostname():
            return not _alive(int(info["pid"]))
        return age > STALE_AFTER_SECONDS
    except FileNotFoundError:
        return True
    except (OSError, ValueError, KeyError, TypeError):
        return True


def _publish_lock(lock: Path, payload: str) -> None:
    """Creates `lock` holding `payload`, atomically: the content is written (and synced) to a temporary
    file that is then hard-linked to the lock's name, which fails if the lock exists. Where hard links
    are not supported, O_EXCL creates it and the content is written at once (removed if that fails)."""
    tmp = lock.parent / f"{lock.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        try:
            os.write(fd, payload.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, lock)
            return
        except FileExistsError:
            raise
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    try:
        os.write(fd, payload.encode())
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        raise
    os.close(fd)


@contextlib.contextmanager
def workbook_lock(path: Path, *, what: str = "callback-sheets") -> Iterator[None]:
    """Our own lock: two runs never work on one workbook at once; a crashed run's lock is taken over."""
    path = real_path(path)
    lock = lock_path(path)
    payload = json.dumps({"pid": os.getpid(), "host": _hostname(), "time": time.time(), "what": what})
    for _ in range(3):
        try:
            _publish_lock(lock, payload)
        except FileExistsError:
            if _stale(lock):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            raise WorkbookBusyError(
                f"another callback-sheets run is working on {path.name} (lock {lock.name}); "
                "wait for it to finish, or delete the lock file if no run is going"
            ) from None
        except OSError as exc:
            raise space_message(exc, path.parent) from None
        break
    else:
        raise WorkbookBusyError(f"could not take the lock {lock.name}; delete it if no run is going")
    try:
        remove_stale_temps(path)  # a killed run's leftovers; nobody else writes while we hold the lock
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()


# --- our temporary files ---------------------------------------------------------------------------------
def _temp_pattern(target: Path) -> re.Pattern[str]:
    """Exactly the names :func:`atomic_write` gives its temporary files for `target` (and those of the
    versions before 0.2, `.STEM.XXXXXXXX.tmp.xlsx`, and the `.graft.xlsx` beside one while tabs are
    added), and those of the lock being published."""
    name, stem = re.escape(target.name), re.escape(target.stem)
    lock = re.escape(lock_path(target).name)
    return re.compile(
        rf"^(?:(?:\.{name}\.{TEMP_MARK}-(?P<pid>\d+)-[a-z0-9_]{{8}}|\.{stem}\.[a-z0-9_]{{8}})\.tmp\.xlsx"
        rf"(?:\.graft\.xlsx)?"  # the middle step of a write that adds tabs (ExcelBackend._patched)
        rf"|{lock}\.(?P<lock_pid>\d+)\.[0-9a-f]{{8}}\.tmp)$"
    )


def remove_stale_temps(target: Path, *, now: float | None = None) -> list[str]:
    """Removes our own leftover temporary files beside `target`: those of a process that is gone, or older
    than STALE_TEMP_SECONDS. Only names of exactly our pattern are touched. Returns the names removed."""
    pattern, removed = _temp_pattern(target), list[str]()
    now = time.time() if now is None else now
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        found = pattern.match(entry.name)
        if not found or not entry.is_file(follow_symlinks=False):
            continue
        try:
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_TEMP_SECONDS
        except OSError:
            continue
        pid = found.group("pid") or found.group("lock_pid")
        if old or (pid is not None and int(pid) != os.getpid() and not _alive(int(pid))):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.name)
    return removed


def _hostname() -> str:
    """This machine's name, as socket.gethostname() gives it (os.uname's nodename is the same call on
    POSIX, and costs no socket import at every write)."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket  # Windows

    return socket.gethostname()
