"""The read-plan-write cycle every writing use case runs: under the backend's lock, with the garbage
collector paused, read, plan and write; read again and redo when staff saved in between."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from callback_sheets import model
from callback_sheets.backends.base import Backend
from callback_sheets.errors import WorkbookChangedError

READ_TABS = (model.HISTORY_TAB, model.STATE_TAB)  # what a refresh reads besides the Queue




RETRIES = 3


T = TypeVar("T")


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pauses Python's cyclic garbage collector for one read-plan-write.

    A read holds every cell of the queue (millions of objects at 100,000 rows) and the plan makes
    hundreds of thousands more; each full collection walks them all, and a refresh triggered a dozen,
    about a quarter of its time. Nothing here makes reference cycles worth collecting early: the memory is
    freed by reference counting as usual, and the collector runs again when the work is done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the work made and kept is aged into the oldest generation without a scan (freeze, then
            # unfreeze, merges the lists and resets the counts); re-enabling otherwise triggers at once a
            # collection walking all of it (~0.1-0.2 s at 100,000 rows). Cycles are still collected, at
            # the next full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def retrying(backend: Backend, step: Callable[[int], T], *, what: str) -> T:
    """Run ``step(try number)`` (read, plan, write) under the backend's lock; if the queue changed before
    its write (staff saved meanwhile), read again and redo, a few times, then give up with one line."""
    for attempt in range(1, RETRIES + 1):
        try:
            with backend.session(), bulk_work():
                return step(attempt)
        except WorkbookChangedError:
            if attempt == RETRIES:
                release = getattr(backend, "release", None)  # a write lease kept for the retries
                if release is not None:
                    release()
                raise WorkbookChangedError(
                    f"{backend.label} kept changing while {what} ran ({RETRIES} tries); "
                    "nothing was written — run it again in a minute"
                ) from None
    raise AssertionError("unreachable")

