"""Zip member data on other threads: a changed part compressed in parallel blocks as it is made, and a
part decompressed ahead of the code reading it.

zlib releases the GIL while it (de)compresses, so this work runs beside the Python that splices the
sheet XML. A part is compressed in independent blocks of :data:`BLOCK` bytes, each ended with a sync
flush (byte-aligned, not final) and the stream closed by an empty final block: the concatenation is one
valid deflate stream (the way pigz compresses in parallel), a few bytes larger than a single-threaded one.
"""

from __future__ import annotations

import queue
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from callback_sheets.backends.excel.xlsx.cells import PatchRefused

BLOCK = 1 << 20
"""Uncompressed bytes per independently compressed block."""
WORKERS = 2
"""Blocks compressed at once."""
_AHEAD = 4
"""Blocks (or decompressed pieces) allowed to wait, which bounds the memory held."""
_LEVEL = 6  # zlib's default, what zipfile and Excel use
_FINAL_EMPTY_BLOCK = b"\x03\x00"  # what a raw deflate stream finished on no input consists of


def _deflate(block: bytes) -> bytes:
    compressor = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
    return compressor.compress(block) + compressor.flush(zlib.Z_SYNC_FLUSH)


class Deflated:
    """A changed part compressed as it is made; only the compressed bytes are kept (:attr:`data`).

    :meth:`write` hands pieces to a feeder thread, which keeps the CRC and size and cuts blocks for a
    small pool of compressing threads. Errors surface in :meth:`close`, on the caller's thread.
    """

    def __init__(self, method: int) -> None:
        if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PatchRefused("a zip member uses an unsupported compression method")
        self._compress = method == zipfile.ZIP_DEFLATED
        self.data: list[bytes] = []
        self.crc = self.size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._failure: BaseException | None = None
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="xlsx-deflate")
        self._pending: list[Future[bytes]] = []
        self._feeder = threading.Thread(target=self._feed, name="xlsx-deflate-feed", daemon=True)
        self._feeder.start()

    def write(self, chunk: bytes) -> None:
        """Adds the next piece of the part."""
        if self._failure is None:
            self._queue.put(chunk)

    def close(self) -> Deflated:
        """Waits for the compression to end; the part is then complete in :attr:`data`."""
        self._queue.put(None)
        self._feeder.join()
        self._pool.shutdown(wait=True)
        if self._failure is not None:
            raise self._failure
        return self

    def _feed(self) -> None:
        buffer: list[bytes] = []
        buffered = 0
        try:
            while (chunk := self._queue.get()) is not None:
                self.crc = zlib.crc32(chunk, self.crc)
                self.size += len(chunk)
                buffer.append(chunk)
                buffered += len(chunk)
                if buffered >= BLOCK:
                    self._submit(b"".join(buffer))
                    buffer.clear()
                    buffered = 0
            if buffer:
                self._submit(b"".join(buffer))
            self._collect(0)
            if self._compress:
                self.data.append(_FINAL_EMPTY_BLOCK)
        except BaseException as exc:  # handed to close(), on the caller's thread
            self._failure = exc
            while self._queue.get() is not None:  # let the producer finish
                pass

    def _submit(self, block: bytes) -> None:
        if not self._compress:
            self.data.append(block)
            return
        self._pending.append(self._pool.submit(_deflate, block))
        self._collect(_AHEAD)

    def _collect(self, keep: int) -> None:
        """Moves finished blocks, in order, to :attr:`data` until at most ``keep`` are pending."""
        while len(self._pending) > keep:
            self.data.append(self._pending.pop(0).result())


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
