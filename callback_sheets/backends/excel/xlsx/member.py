"""A zip member the patcher rewrites, read as its decompressed content in pieces, with its compressed
blocks kept for reuse (:mod:`.blocks`).

A member up to :data:`KEPT` bytes is decompressed once and its pieces kept: a second pass over it (the
survey before an append) costs no second decompression. A bigger one is decompressed afresh on each
pass; its old blocks are kept from the first pass only (the one the new part is made from), at most
:data:`BUDGET` bytes of them at a time. Past :data:`AHEAD` bytes, the decompression runs ahead of its
reader on another thread (:func:`.zip_streams.prefetched`).
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterator

from callback_sheets.backends.excel.xlsx import blocks as _blocks
from callback_sheets.backends.excel.xlsx.blocks import OldBlocks, inflate
from callback_sheets.backends.excel.xlsx.zip_streams import prefetched

KEPT = 1 << 26
"""Members up to this size (decompressed) are decompressed once per patch."""
BUDGET = 1 << 25
"""Bytes of old blocks held at a time for a bigger member."""
AHEAD = 1 << 24
"""Members bigger than this are decompressed on another thread, ahead of their reader (a big rewrite,
whose time is its length); smaller ones on the caller's (no thread for a small change)."""
_LOCAL = struct.Struct("<4s22xHH")


class Member:
    """Opens the member afresh on each call (``member()`` yields its content in pieces of at most
    ``piece`` bytes); :attr:`blocks` holds its old compressed blocks once a pass has read them."""

    def __init__(self, archive: zipfile.ZipFile, name: str, piece: int) -> None:
        self._archive = archive
        self._info = archive.getinfo(name)
        self._piece = piece
        deflated = self._info.compress_type == zipfile.ZIP_DEFLATED and _blocks.REUSE
        self._kept = self._info.file_size <= KEPT
        self.blocks: OldBlocks | None = OldBlocks(None if self._kept else BUDGET) if deflated else None
        self._pieces: list[bytes] = []
        self._stream: Iterator[bytes] | None = None
        self._done = False
        self._failure: BaseException | None = None
        self._passes = 0

    def __call__(self) -> Iterator[bytes]:
        if self._info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return self._zipfile_pieces()
        if self._kept:
            if self._stream is None:
                stream = self._open(self.blocks)
                self._stream = prefetched(lambda: stream) if self._info.file_size > AHEAD else stream
            return self._replayed()
        self._passes += 1
        stream = self._open(self.blocks if self._passes == 1 else None)
        return prefetched(lambda: stream)

    def _open(self, blocks: OldBlocks | None) -> Iterator[bytes]:
        raw = self._raw()  # read here, on the caller's thread: the archive's file is not shared
        info, piece = self._info, self._piece
        if info.compress_type == zipfile.ZIP_STORED:
            return (raw[start : start + piece] for start in range(0, len(raw), piece))
        return inflate(raw, info.file_size, info.CRC, blocks, piece, info.filename)

    def _replayed(self) -> Iterator[bytes]:
        """The kept pieces, then the next ones as they are decompressed (and kept)."""
        index = 0
        while True:
            if self._failure is not None:
                raise self._failure
            if index < len(self._pieces):
                yield self._pieces[index]
                index += 1
                continue
            if self._done or self._stream is None:
                return
            try:
                piece = next(self._stream, None)
            except BaseException as exc:  # every later pass fails the same way
                self._failure = exc
                raise
            if piece is None:
                self._done = True
                return
            self._pieces.append(piece)

    def _raw(self) -> bytes:
        """The member's compressed bytes, read from the archive's file."""
        fp = self._archive.fp
        if fp is None:
            raise ValueError("the zip archive is closed")
        fp.seek(self._info.header_offset)
        signature, name_length, extra_length = _LOCAL.unpack(fp.read(_LOCAL.size))
        if signature != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {self._info.filename!r}")
        fp.seek(self._info.header_offset + _LOCAL.size + name_length + extra_length)
        raw = fp.read(self._info.compress_size)
        if len(raw) != self._info.compress_size:
            raise zipfile.BadZipFile(f"{self._info.filename!r} is truncated")
        return raw

    def _zipfile_pieces(self) -> Iterator[bytes]:
        with self._archive.open(self._info) as stream:
            while piece := stream.read(self._piece):
                yield piece


__all__ = ["BUDGET", "KEPT", "Member"]
