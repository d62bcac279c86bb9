"""Reusing the compressed blocks of a zip member: a small change to a big worksheet part recompresses
only the blocks it touches.

We write a part as a deflate stream of blocks, each ended by a sync flush (an empty stored block, the
bytes ``00 00 FF FF``, byte-aligned): a block decodes the same wherever it is placed, as long as the
32 KiB of content before it (the window its back-references may reach into) are the same, or it
reaches back to nothing before it at all. :func:`inflate` decompresses the old member, fed up to each
candidate marker in turn, and keeps as an :class:`OldBlock` every stretch between two places where the
decoder is proven to stand at a clean block boundary: a copy of the decoder, given an empty block
then a stored block of random bytes, must give back exactly those bytes and nothing else (inside
compressed data, or after a marker forged in it, the same bytes decode as something else). A new
block is copied from an old one (:meth:`OldBlocks.find`) only when its bytes equal the old block's bytes
and either the 32 KiB before it equal those before the old one, or the old block alone decodes, with a
fresh decoder, to exactly its bytes. Anything else is compressed afresh. A member Excel or LibreOffice
wrote (one stream, no markers) simply has no old blocks; once we have written it, the next write reuses.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

MARK = b"\x00\x00\xff\xff"
"""How a sync flush ends: LEN and NLEN of an empty stored block."""
WINDOW = 1 << 15
"""How far back a deflate back-reference reaches."""
_MAX_TESTS = 1 << 14  # candidate markers tested per member (a hostile member cannot make it slow)
_MAX_HELD = 1 << 22  # content held for one old block before it is given up (a member with no markers)
_PROBE = os.urandom(24)
REUSE = True
"""Old blocks are looked for (``bench/excel_write.py`` turns it off to measure the write without)."""

START = 48
"""How many first bytes of a block look it up."""
Key = tuple[int, bytes, bytes]


def _key(content: bytes) -> Key:
    return len(content), content[:START], content[-START:]


@dataclass(slots=True, eq=False)  # dropped from the index by identity
class OldBlock:
    """A stretch of the old member that starts and ends at a clean block boundary."""

    compressed: bytes
    content: bytes
    context: bytes  # the (up to) 32 KiB of content before it
    alone: bool | None = None  # decodes with a fresh decoder to exactly its content (None: not tried)

    def independent(self) -> bool:
        """True when the block decodes alone, to exactly its content: nothing before it is referred to."""
        if self.alone is None:
            decoder = zlib.decompressobj(-15)
            try:
                self.alone = decoder.decompress(self.compressed) == self.content and _clean(decoder)
            except zlib.error:
                self.alone = False
        return self.alone


class OldBlocks:
    """The old member's blocks by content, at most ``budget`` bytes of them (the oldest dropped)."""

    def __init__(self, budget: int | None = None) -> None:
        self._by_key: dict[Key, list[OldBlock]] = {}
        self._by_start: dict[bytes, list[bytes]] = {}  # the first bytes of each old block's content
        self._order: deque[OldBlock] = deque()
        self._held = 0
        self._budget = budget
        self.count = 0

    def add(self, block: OldBlock) -> None:
        self._by_key.setdefault(_key(block.content), []).append(block)
        self._by_start.setdefault(block.content[:START], []).append(block.content)
        self.count += 1
        if self._budget is None:
            return
        self._order.append(block)
        self._held += len(block.content)
        while self._held > self._budget and len(self._order) > 1:
            gone = self._order.popleft()
            self._held -= len(gone.content)
            self._by_key[_key(gone.content)].remove(gone)
            self._by_start[gone.content[:START]].remove(gone.content)

    def starting(self, start: bytes) -> list[bytes]:
        """The contents of the old blocks that begin with ``start`` (its first :data:`START` bytes)."""
        return self._by_start.get(start, [])

    def find(self, content: bytes, context: bytes) -> bytes | None:
        """The compressed bytes of an old block that decodes to ``content`` after ``context``."""
        for block in self._by_key.get(_key(content), ()):
            if block.content == content and (block.context == context or block.independent()):
                return block.compressed
        return None


def _clean(decoder: zlib._Decompress) -> bool:
    """True when ``decoder`` stands at a block boundary, byte-aligned, nothing pending: a copy of it is
    given an empty fixed-code block then a stored block of random bytes, and must give back exactly
    those bytes, the stream going on. (The empty block first: at a boundary a few bits into a byte,
    zero bits left there would otherwise read as the start of the stored block.)"""
    if decoder.eof or decoder.unused_data or decoder.unconsumed_tail:
        return False
    probe = decoder.copy()
    size = len(_PROBE)
    try:
        out = probe.decompress(bytes([2, 0, size, 0, 255 - size, 255]) + _PROBE)
    except zlib.error:
        return False
    return out == _PROBE and not probe.eof and not probe.unused_data and not probe.unconsumed_tail


def inflate(
    raw: bytes, size: int, crc: int, blocks: OldBlocks | None, piece: int, name: str
) -> Iterator[bytes]:
    """The content of a raw deflate member, in pieces of at most ``piece`` bytes; its old blocks go to
    ``blocks`` (when given), each before its content is handed on (so a writer following the reader
    finds it). Checks the declared size and CRC as zipfile does (BadZipFile)."""
    decoder = zlib.decompressobj(-15)
    total = check = start = pos = tests = held = 0
    parts: list[bytes] | None = []  # the current old block's content, not handed on yet (None: too long)
    context = recent = b""  # the 32 KiB before the current old block; the last 32 KiB inflated
    while pos < len(raw):
        mark = raw.find(MARK, pos) if blocks is not None and tests < _MAX_TESTS else -1
        end = len(raw) if mark < 0 else mark + len(MARK)
        data = raw[pos:end]
        while True:  # bounded output: the declared size is checked as the data comes
            out = decoder.decompress(data, piece)
            if out:
                total += len(out)
                if total > size:
                    raise zipfile.BadZipFile(f"{name} is larger than its zip entry says")
                check = zlib.crc32(out, check)
                if blocks is None or parts is None:
                    yield out
                else:
                    recent = out[-WINDOW:] if len(out) >= WINDOW else (recent + out)[-WINDOW:]
                    parts.append(out)
                    held += len(out)
                    if held > _MAX_HELD:  # no block this long is reused: hand it on
                        yield from parts
                        parts = None
            data = decoder.unconsumed_tail
            if not data and len(out) < piece:
                break
        pos = end
        if blocks is not None and mark >= 0 and not decoder.eof:
            tests += 1
            if _clean(decoder):
                if parts is not None:
                    blocks.add(OldBlock(raw[start:end], b"".join(parts), context))
                    yield from parts
                start, parts, held, context = end, [], 0, recent
    if parts:
        yield from parts
    if not decoder.eof or total != size or check != crc:
        raise zipfile.BadZipFile(f"Bad CRC-32 or size for file {name!r}")


__all__ = ["MARK", "WINDOW", "OldBlock", "OldBlocks", "inflate"]
