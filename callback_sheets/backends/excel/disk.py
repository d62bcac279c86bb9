"""Where a workbook's writes go, and what an OS error there means: the real file behind a symlink (the
link stays), and the messages for a read-only workbook or folder and a full disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from callback_sheets.errors import BackendError


class WorkbookReadOnlyError(BackendError):
    """The workbook (or its folder) may not be written: nothing was written."""


def real_path(path: Path) -> Path:
    """The file a (possibly symlinked) workbook path names: writes go there, so the link stays."""
    return Path(os.path.realpath(path))


def space_message(exc: OSError, where: Path) -> BackendError:
    if exc.errno == errno.ENOSPC:
        return BackendError(f"the disk holding {where} is full: free some space (nothing was written)")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WorkbookReadOnlyError(
            f"no permission to write in {where} ({exc.strerror}): nothing was written"
        )
    return BackendError(f"cannot write in {where}: {exc.strerror or exc} (nothing was written)")
