"""Where a worksheet part is cut into compressed blocks, so that the next small change finds most of
them as they were (:mod:`.blocks`): the head up to and including ``<sheetData>`` is a block of its own
(the ``<dimension>`` that grows with every append does not shift the rest), the rows are cut before
every row whose number starts a new bucket of ``K`` rows (a row growing in the middle moves no later
cut), and ``</sheetData>`` with what follows it is the last block. ``K`` is a power of two giving
blocks of about :data:`TARGET` bytes, taken from the size of the first rows. Where a cut falls never
changes the bytes of the part, only how much of it a later write can reuse.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from callback_sheets.backends.excel.xlsx.blocks import START, OldBlocks

TARGET = 1 << 18
"""About how many bytes of rows go in one block."""
MAX = 1 << 20
"""Past this, a block waiting for its row is cut before the first row after its bucket."""
_SAMPLE = 1 << 16
_ROW = re.compile(rb'<row r="([0-9]{1,7})"')
_HEAD, _ROWS, _PLAIN = 0, 1, 2


def bucket_rows(sample: bytes | bytearray) -> int:
    """Rows per block for rows like those of ``sample`` (a power of two, 16 to 65,536)."""
    count = sample.count(b"<row")
    size = len(sample) / count if count else TARGET
    rows = 16
    while rows < 1 << 16 and rows * size * 1.41 < TARGET:
        rows *= 2
    return rows


class RowCuts:
    """Cuts a worksheet part, given in pieces, into blocks handed to ``emit`` in order."""

    def __init__(self, emit: Callable[[bytes], None], rows: bool, old: OldBlocks | None = None) -> None:
        self._emit = emit
        self._old = old
        self._data = bytearray()  # what is not cut yet (appended to, and cut from the front, in place)
        self._state = _HEAD if rows else _PLAIN
        self._rows = 0  # rows per bucket, once the first rows are seen
        self._next = 0  # the row number that starts the next block
        self._searched = 0

    def write(self, piece: bytes) -> None:
        self._data += piece
        while self._data and self._cut(closing=False):
            pass

    def close(self) -> None:
        while self._data and self._cut(closing=True):
            pass
        end = self._data.rfind(b"</sheetData>") if self._state != _PLAIN else -1
        if end > 0:
            self._take(end)
        if self._data:
            self._take(len(self._data))

    def _cut(self, closing: bool) -> bool:
        """Emits the next block when its end is known; True when it did."""
        data = self._data
        if self._state == _PLAIN:
            if len(data) < MAX:
                return False
            return self._take(MAX)
        if self._state == _HEAD:
            at = data.find(b"<sheetData")
            close = data.find(b">", at) if at >= 0 else -1
            if close < 0:
                if len(data) > MAX:
                    self._state = _PLAIN
                return False
            self._state = _ROWS
            return self._take(close + 1)
        if not self._rows:
            if len(data) < _SAMPLE and not closing:
                return False
            first = _ROW.search(data)
            if first is None:
                self._state = _PLAIN
                return False
            self._rows = bucket_rows(data[:_SAMPLE])
            self._next = (int(first.group(1)) // self._rows + 1) * self._rows
        needle = b'<row r="%d"' % self._next
        known = self._known(data, needle, closing)
        if known is None:
            return False  # the rows so far are those of an old block: wait for the rest of it
        if isinstance(known, bytes):  # they are: handed on as the old block's own bytes (no copy)
            self._next = (self._next // self._rows + 1) * self._rows
            return self._take(len(known), known)
        at = data.find(needle, self._searched)
        if at < 0 and len(data) > MAX:
            at = next((m.start() for m in _ROW.finditer(data) if int(m.group(1)) >= self._next), -1)
        if at < 0:
            self._searched = max(0, len(data) - len(needle))
            return False
        number = int(_ROW.match(data, at).group(1))  # type: ignore[union-attr]  # found above
        self._next = (number // self._rows + 1) * self._rows
        return self._take(at) if at else True

    def _known(self, data: bytearray, needle: bytes, closing: bool) -> bytes | bool | None:
        """The old block the pending rows begin with, when the next bucket's row follows it (found
        without searching the rows); None while they could still be one, False otherwise."""
        if self._old is None:
            return False
        wait = False
        for content in self._old.starting(bytes(data[:START])):
            end = len(content)
            if len(data) < end + len(needle):
                wait = wait or (not closing and content.startswith(data))
            elif data.startswith(needle, end) and data.startswith(content):
                return content
        return None if wait else False

    def _take(self, size: int, block: bytes | None = None) -> bool:
        """Emits the first ``size`` bytes pending as a block (``block``: the same bytes, already made)."""
        if block is None:
            with memoryview(self._data) as data:
                block = data[:size].tobytes()
        del self._data[:size]
        self._searched = 0
        self._emit(block)
        return True


__all__ = ["MAX", "TARGET", "RowCuts", "bucket_rows"]
