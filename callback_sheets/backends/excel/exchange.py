"""``renameat2(RENAME_EXCHANGE)``: two names swapped in one step (Linux), through ctypes; where it is
missing the caller falls back to a checked ``os.replace``."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import platform
from collections.abc import Callable
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_SYSCALL_RENAMEAT2 = {"x86_64": 316, "aarch64": 276, "riscv64": 276, "i686": 353, "i386": 353,
                      "armv7l": 382, "ppc64le": 357, "ppc64": 357, "s390x": 347}  # fmt: skip


class Exchange:
    """``renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)`` through ctypes: libc's wrapper (glibc
    2.28+), else the raw system call by architecture; ``None`` where neither exists (not Linux)."""

    def __init__(self) -> None:
        self.call: Callable[[bytes, bytes], int] | None = None
        if platform.system() != "Linux":
            return
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        except OSError:
            return
        wrapper = getattr(libc, "renameat2", None)
        if wrapper is not None:
            wrapper.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            wrapper.restype = ctypes.c_int
            self.call = lambda a, b: int(wrapper(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE))
            return
        number = _SYSCALL_RENAMEAT2.get(platform.machine())
        syscall = getattr(libc, "syscall", None)
        if number is not None and syscall is not None:
            syscall.restype = ctypes.c_long
            self.call = lambda a, b: int(
                syscall(ctypes.c_long(number), ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(a),
                        ctypes.c_int(_AT_FDCWD), ctypes.c_char_p(b), ctypes.c_uint(_RENAME_EXCHANGE))
            )  # fmt: skip

    def __call__(self, a: Path, b: Path) -> bool:
        """Swaps the two names; False where the system or the file system cannot (then use the fallback)."""
        if self.call is None:
            return False
        if self.call(os.fsencode(a), os.fsencode(b)) == 0:
            return True
        err = ctypes.get_errno()
        if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            return False
        raise OSError(err, os.strerror(err), str(b))
