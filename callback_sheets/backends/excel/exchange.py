"""``renameat2(RENAME_EXCHANGE)``: two names swapped in one step (Linux), through ctypes; where it is
missing the caller falls back to a checked ``os.replace``."""

from __future__ import annotations

import errno
import functools
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
