"""File safety for workbooks: who else has the file open, our own lock, and atomic replacement.

A write never replaces a file that changed since it was read (compare-and-swap): the workbook's identity
(inode, size, mtime_ns and a SHA-256 of its bytes) is taken when it is read and checked again when the new
version is put in place. On Linux the new file is put in place with ``renameat2(RENAME_EXCHANGE)``: the
two names swap in one step, then the file that came out is checked to be the version read; if a staff
save landed meanwhile, the names are swapped back and the caller reads, plans and writes again. Elsewhere
the check runs just before ``os.replace`` (a window of a few tens of microseconds; see the README).

A symlinked workbook is replaced at its target (the link stays); mode, owner and group are kept (or the
write is refused, when they cannot be); a read-only workbook is refused.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import platform
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from callback_sheets.errors import BackendError, WorkbookBusyError, WorkbookChangedError

STALE_AFTER_SECONDS = 30 * 60  # a lock older than this, from a process we cannot see, is a crash's leftover
STALE_TEMP_SECONDS = 5 * 60  # our own temporary file older than this is a killed run's leftover
TEMP_MARK = "cbs"  # in every temporary file's name: `.NAME.cbs-PID-XXXXXXXX.tmp.xlsx`


class WorkbookReadOnlyError(BackendError):
    """The workbook (or its folder) may not be written: nothing was written."""


@dataclass(frozen=True, slots=True)
class FileVersion:
    """Enough to notice that someone saved the file since we read it: its identity and its bytes' hash."""

    mtime_ns: int
    size: int
    inode: int
    digest: str = ""

    @classmethod
    def of(cls, path: Path, *, digest: bool = False) -> FileVersion:
        """The file's identity; with ``digest``, also the SHA-256 of its bytes, read from a handle whose
        identity is checked to be the path's before and after the hashing."""
        if not digest:
            st = os.stat(path)
            return cls(st.st_mtime_ns, st.st_size, st.st_ino)
        import hashlib  # only for a digest: not at every command's start (OpenSSL's load)

        for _ in range(5):
            with open(path, "rb") as fh:
                before = os.fstat(fh.fileno())
                hashed = hashlib.file_digest(fh, "sha256").hexdigest()
                after = os.fstat(fh.fileno())
            now = os.stat(path)
            same = (before.st_ino, before.st_size, before.st_mtime_ns)
            if (
                same
                == (after.st_ino, after.st_size, after.st_mtime_ns)
                == (
                    now.st_ino,
                    now.st_size,
                    now.st_mtime_ns,
                )
            ):
                return cls(now.st_mtime_ns, now.st_size, now.st_ino, hashed)
        raise WorkbookChangedError(f"{Path(path).name} kept changing while it was read")

    def same_file(self, other: FileVersion) -> bool:
        return (self.mtime_ns, self.size, self.inode) == (other.mtime_ns, other.size, other.inode)


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


def real_path(path: Path) -> Path:
    """The file a (possibly symlinked) workbook path names: writes go there, so the link stays."""
    return Path(os.path.realpath(path))


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


def _space_message(exc: OSError, where: Path) -> BackendError:
    if exc.errno == errno.ENOSPC:
        return BackendError(f"the disk holding {where} is full: free some space (nothing was written)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WorkbookReadOnlyError(
            f"no permission to write in {where} ({exc.strerror}): nothing was written"
        )
    return BackendError(f"cannot write in {where}: {exc.strerror or exc} (nothing was written)")


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
            raise _space_message(exc, path.parent) from None
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
        rf"(?:\.graft\.xlsx)?"  # the middle step of a write that adds tabs (ExcelBackend._apply)
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


# --- renameat2(RENAME_EXCHANGE) --------------------------------------------------------------------------
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_SYSCALL_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "i686": 353, "i386": 353,
                      "armv7l": 382, "ppc64le": 357, "ppc64": 357, "s390x": 347}  # fmt: skip


class _Exchange:
    """``renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)`` through ctypes: libc's wrapper (glibc
    2.28+), else the raw system call by architecture; ``None`` where neither exists (not Linux). Looked
    up on first use: a command that writes nothing does not load ctypes."""

    @functools.cached_property
    def call(self) -> Callable[[bytes, bytes], int] | None:
        if platform.system() != "Linux":
            return None
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's, no ldconfig run
        except OSError:
            return None
        wrapper = getattr(libc, "renameat2", None)
        if wrapper is not None:
            wrapper.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            wrapper.restype = ctypes.c_int
            return lambda a, b: int(wrapper(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE))
        number = _SYSCALL_RENAMEAT2.get(platform.machine())
        syscall = getattr(libc, "syscall", None)
        if number is None or syscall is None:
            return None
        syscall.restype = ctypes.c_long
        return lambda a, b: int(
            syscall(ctypes.c_long(number), ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(a),
                    ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(b), ctypes.c_uint(_RENAME_EXCHANGE))
        )  # fmt: skip

    def __call__(self, a: Path, b: Path) -> bool:
        """Swaps the two names; False where the system or the file system cannot (then use the fallback)."""
        call = self.call
        if call is None:
            return False
        if call(os.fsencode(a), os.fsencode(b)) == 0:
            return True
        import ctypes

        err = ctypes.get_errno()
        if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            return False
        raise OSError(err, os.strerror(err), str(b))


exchange = _Exchange()
USE_EXCHANGE = True  # tests turn it off to exercise the fallback


# --- the write -------------------------------------------------------------------------------------------
def check_writable(path: Path) -> os.stat_result | None:
    """Refuses (WorkbookReadOnlyError) a workbook we may not replace: read-only, in a folder we may not
    write, or owned by someone whose ownership a replace would not keep. Returns the target's stat."""
    target = real_path(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise WorkbookReadOnlyError(
                f"{path.name} is read-only (mode {st.st_mode & 0o777:04o}): nothing was written; "
                "make it writable (chmod u+w) if the tool should update it"
            )
        euid = os.geteuid() if hasattr(os, "geteuid") else None
        if euid not in (None, 0):
            if st.st_uid != euid:
                raise WorkbookReadOnlyError(
                    f"{path.name} belongs to user id {st.st_uid}: replacing it would hand it to you "
                    f"(user id {euid}); run callback-sheets as its owner (nothing was written)"
                )
            if st.st_gid != os.getegid() and st.st_gid not in os.getgroups():
                raise WorkbookReadOnlyError(
                    f"{path.name} belongs to group id {st.st_gid}, which you are not in: replacing it "
                    "would change its group; run callback-sheets as a member (nothing was written)"
                )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise WorkbookReadOnlyError(
            f"no permission to write in the folder {target.parent}: the workbook is replaced there "
            "(nothing was written)"
        )
    return st


def _keep_identity(tmp: Path, st: os.stat_result | None) -> None:
    """Gives the new file the old one's mode, owner and group (refusing when the owner cannot be kept)."""
    if st is None:
        os.chmod(tmp, 0o644 & ~_umask())
        return
    fd = os.open(tmp, os.O_RDONLY)
    try:
        if hasattr(os, "fchown"):
            cur = os.fstat(fd)
            if (cur.st_uid, cur.st_gid) != (st.st_uid, st.st_gid):
                try:
                    os.fchown(fd, st.st_uid, st.st_gid)
                except PermissionError:
                    raise WorkbookReadOnlyError(
                        f"cannot keep the owner/group ({st.st_uid}:{st.st_gid}) of {tmp.name[1:]}: "
                        "run callback-sheets as the workbook's owner (nothing was written)"
                    ) from None
        if hasattr(os, "fchmod"):
            os.fchmod(fd, st.st_mode & 0o7777)
    finally:
        os.close(fd)
    if not hasattr(os, "fchmod"):  # Windows before Python 3.13: only the read-only bit exists
        os.chmod(tmp, st.st_mode & 0o777)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@dataclass(slots=True)
class SwapStats:
    """What the compare-and-swap saw (for tests and the log)."""

    exchanged: int = 0
    swapped_back: int = 0
    refused_before: int = 0
    fallback: int = 0
    window: tuple[float, float] = (0.0, 0.0)  # perf_counter() span of the fallback's last stat + replace


swap_stats = SwapStats()


def atomic_write(path: Path, produce: Callable[[Path], None], *, expected: FileVersion | None = None) -> None:
    """Call produce(tmp) to write a complete file beside the workbook, then put it in place in one step.

    A process killed at any moment leaves either the old file or the new one, never a broken one; a
    failed produce() leaves the old file untouched and removes the temporary one. With `expected` (the
    version that was read), the file is only replaced if it is still that version; otherwise
    WorkbookChangedError (the caller reads again), and the staff's save stays as they made it.
    """
    target = real_path(path)
    st = check_writable(target)
    remove_stale_temps(target)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.{TEMP_MARK}-{os.getpid()}-", suffix=".tmp.xlsx", dir=target.parent
        )
    except OSError as exc:
        raise _space_message(exc, target.parent) from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            produce(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise _space_message(exc, target.parent) from None
            raise
        _keep_identity(tmp, st)
        if expected is None or st is None:
            os.replace(tmp, target)
        else:
            _swap(tmp, target, expected)
        _fsync_dir(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _changed(target: Path) -> WorkbookChangedError:
    return WorkbookChangedError(f"{target.name} was saved by someone else during the refresh")


def _swap(tmp: Path, target: Path, expected: FileVersion) -> None:
    """Puts `tmp` at `target` only if `target` is still `expected`; after it, `tmp` names the old file."""
    if not FileVersion.of(target).same_file(expected):  # cheap early look: no swap for a known change
        swap_stats.refused_before += 1
        raise _changed(target)
    if USE_EXCHANGE and exchange(tmp, target):
        ours = os.stat(target).st_ino
        try:
            out = FileVersion.of(tmp, digest=True)
        except FileNotFoundError:  # cannot happen while we hold the names; be safe
            out = None
        if out == expected:
            swap_stats.exchanged += 1
            return
        # A save landed between the look and the swap: put it back. If yet another save replaced our
        # file at `target` meanwhile, that one is newer than the one we took out: it stays there.
        for _ in range(8):
            if os.stat(target).st_ino != ours:
                break
            exchange(tmp, target)
            if os.stat(tmp).st_ino == ours:
                break
            # a newer save landed at `target` just before the swap back and is now at `tmp`: swap again
            # so the newest save is the one at `target` (the older one, superseded, goes).
            exchange(tmp, target)
            break
        swap_stats.swapped_back += 1
        raise _changed(target)
    swap_stats.fallback += 1
    if FileVersion.of(target, digest=True) != expected:
        swap_stats.refused_before += 1
        raise _changed(target)
    start = time.perf_counter()
    if not FileVersion.of(target).same_file(expected):  # the narrow window starts with this stat
        raise _changed(target)
    os.replace(tmp, target)
    swap_stats.window = (start, time.perf_counter())


def _hostname() -> str:
    import socket  # only for a lock file: not at every command's start

    return socket.gethostname()
