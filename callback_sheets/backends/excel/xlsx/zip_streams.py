"""Zip member data: a changed part compressed in blocks as it is made (reusing the old member's
compressed blocks where the bytes are the same, see :mod:`.blocks`), and a part decompressed ahead of
the code reading it on another thread.

A part is compressed in blocks (a worksheet cut where :mod:`.cuts` says, anything else every
:data:`BLOCK` bytes), each ended with a sync flush (byte-aligned, not final) and the stream closed by an
empty final block: the concatenation is one valid deflate stream, the way pigz writes one. Each block is
primed with the 32 KiB before it (so the stream is no larger than one made in one go), except the first
two of a worksheet (its head, and the first rows after a head that changes with every append), which
decode alone. The first few new blocks of a part are compressed on the caller's thread (a small change
starts no thread); past them, on a small pool beside it (a big rewrite, whose time is its length).
"""

from __future__ import annotations

import queue
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from callback_sheets.backends.excel.xlsx.blocks import WINDOW, OldBlocks
from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.cuts import RowCuts

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

BLOCK = 1 << 20
"""Uncompressed bytes per block of a part that is not cut as a worksheet."""
_AHEAD = 4
"""Decompressed pieces allowed to wait, which bounds the memory held."""
WORKERS = 2
"""Blocks compressed at once in a big rewrite."""
_INLINE = 4  # new blocks of a part compressed on the caller's thread (a small change: no thread at all)
_LEVEL = 6  # zlib's default, what zipfile and Excel use
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # what a raw deflate stream finished on no input consists of


def _deflate(block: bytes, context: bytes) -> bytes:
    """One block, compressed after ``context`` (its dictionary; empty: the block decodes alone)."""
    if context:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, zdict=context)
    else:
        compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)


class Deflated:
    """A changed part compressed as it is made; only the compressed bytes are kept (:attr:`data`).

    ``rows``: the part is a worksheet, cut into blocks a later write can reuse; ``old``: the blocks of
    the member it replaces. Errors surface in :meth:`close`.
    """

    def __init__(self, method: int, *, old: OldBlocks | None = None, rows: bool = False) -> None:
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PatchRefused("a zip member uses an unsupported compression method")
        self._compress = method == zipfile.ZIP_DEFLATED
        self._old = old if self._compress else None
        self.data: list[bytes] = []
        self.crc = self.size = 0
        self.reused = self.blocks = 0
        self._context = b""
        self._alone = 2 if rows else 1  # blocks still to compress without the content before them
        self._cuts = RowCuts(self._block, rows and self._compress, self._old)
        self._failure: BaseException | None = None
        self._parts: list[bytes | Future[bytes]] = []
        self._pool: ThreadPoolExecutor | None = None  # once many blocks are new: a big rewrite

    def write(self, chunk: bytes) -> None:
        """Adds the next piece of the part."""
        if self._failure is None:
            try:
                self._cuts.write(chunk)
            except BaseException as exc:  # handed to close(), as the callers expect
                self._failure = exc

    def close(self) -> Deflated:
        """Ends the part; it is then complete in :attr:`data`."""
        if self._failure is None:
            try:
                self._cuts.close()
            except BaseException as exc:
                self._failure = exc
        try:
            done = [part if isinstance(part, bytes) else part.result() for part in self._parts]
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        if self._failure is not None:
            raise self._failure
        self.data = [*done, _FINAL_EMPTY_BLOCK] if self._compress else done
        return self

    def _block(self, block: bytes) -> None:
        self.crc = zlib.crc32(block, self.crc)
        self.size += len(block)
        self.blocks += 1
        if not self._compress:
            self._parts.append(block)
            return
        context = self._context
        found = self._old.find(block, context) if self._old is not None else None
        if found is not None:
            self._parts.append(found)
            self.reused += 1
        elif self.blocks - self.reused <= _INLINE:
            self._parts.append(_deflate(block, b"" if self._alone else context))
        else:  # many new blocks: the rest are compressed on a small pool (zlib lets the GIL go)
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor  # a big rewrite only

                self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="xlsx-deflate")
            self._parts.append(self._pool.submit(_deflate, block, b"" if self._alone else context))
            pending = [part for part in self._parts[-2 * _AHEAD :] if not isinstance(part, bytes)]
            if len(pending) >= 2 * _AHEAD:
                pending[0].result()  # bounds the blocks held waiting
        self._alone = max(0, self._alone - 1)
        self._context = block[-WINDOW:] if len(block) >= WINDOW else (context + block)[-WINDOW:]


def prefetched(open_pieces: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
    """The pieces ``open_pieces()`` yields, produced on another thread a few pieces ahead (a zip member's
    decompression then overlaps with the code consuming it). Errors are raised here, in order; leaving
    the loop early stops the thread."""
    pieces: queue.Queue[tuple[bytes | None, BaseException | None]] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in open_pieces():
                while not stop.is_set():
                    try:
                        pieces.put((piece, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            pieces.put((None, None))
        except BaseException as exc:
            pieces.put((None, exc))

    thread = threading.Thread(target=produce, name="xlsx-inflate", daemon=True)
    thread.start()
    try:
        while True:
            piece, failure = pieces.get()
            if failure is not None:
                raise failure
            if piece is None:
                return
            yield piece
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                pieces.get_nowait()
            except queue.Empty:
                thread.join(0.05)
