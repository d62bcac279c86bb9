"""File safety for workbooks: atomic replacement (who has the file open, and our own lock, are
:mod:`.lock`).

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
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from callback_sheets.backends.excel.disk import WorkbookReadOnlyError, real_path, space_message
from callback_sheets.backends.excel.exchange import Exchange
from callback_sheets.backends.excel.lock import TEMP_MARK, remove_stale_temps
from callback_sheets.errors import WorkbookChangedError


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


exchange = Exchange()
USE_EXCHANGE = True  # tests turn it off to exercise the fallback


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


def new_temp(folder: Path, prefix: str, suffix: str) -> Path:
    """A new empty file in ``folder`` that no one else has (created with O_EXCL, readable by its owner
    only), as ``tempfile.mkstemp`` makes one, without importing tempfile (and its shutil and random) at
    every write."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = folder / f"{prefix}{os.urandom(4).hex()}{suffix}"
        try:
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            continue
        return path
    raise FileExistsError(errno.EEXIST, "no unused temporary name", str(folder))


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
        tmp = new_temp(target.parent, f".{target.name}.{TEMP_MARK}-{os.getpid()}-", ".tmp.xlsx")
    except OSError as exc:
        raise space_message(exc, target.parent) from None
    try:
        try:
            produce(tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise space_message(exc, target.parent) from None
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
