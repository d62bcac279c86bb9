"""Threaded zip member streams: parallel block deflate and decompression ahead of the reader."""

from __future__ import annotations

import random
import threading
import zipfile
import zlib
from collections.abc import Iterator

import pytest

from callback_sheets.backends.excel.xlsx import zip_streams
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated, prefetched


def _sheetlike(size: int) -> bytes:
    """Compressible XML-ish bytes with some randomness, ``size`` long."""
    rng = random.Random(7)
    rows = []
    total = 0
    number = 1
    while total < size:
        row = f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>{rng.random():.9f}</t></is></c></row>'
        rows.append(row)
        total += len(row)
        number += 1
    return "".join(rows).encode()[:size]


@pytest.mark.parametrize(
    "size", [0, 1, zip_streams.BLOCK - 1, zip_streams.BLOCK, 5 * zip_streams.BLOCK + 12345]
)
def test_blocks_join_into_one_valid_deflate_stream(size: int) -> None:
    data = _sheetlike(size)
    out = Deflated(zipfile.ZIP_DEFLATED)
    for start in range(0, len(data), 300_001):  # pieces that do not line up with the blocks
        out.write(data[start : start + 300_001])
    out.close()
    compressed = b"".join(out.data)
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(compressed) + inflater.flush() == data
    assert inflater.eof  # the stream ends with a final block, nothing after it
    assert out.crc == zlib.crc32(data) and out.size == len(data)
    if size > zip_streams.BLOCK:  # about what one zlib stream would give, not more than 1% larger
        assert len(compressed) <= len(zlib.compress(data, 6)) * 1.01 + 16


def test_stored_members_are_kept_as_written() -> None:
    out = Deflated(zipfile.ZIP_STORED)
    out.write(b"abc")
    out.write(b"def")
    out.close()
    assert b"".join(out.data) == b"abcdef" and out.crc == zlib.crc32(b"abcdef")


def test_a_failure_on_the_worker_is_raised_by_close() -> None:
    out = Deflated(zipfile.ZIP_DEFLATED)
    out.write("not bytes")  # type: ignore[arg-type]
    out.write(b"more")  # the producer is not blocked by the failure
    with pytest.raises(TypeError):
        out.close()


def test_prefetched_yields_every_piece_in_order() -> None:
    pieces = [bytes([n]) * 1000 for n in range(50)]
    assert list(prefetched(lambda: iter(pieces))) == pieces


def test_prefetched_raises_the_producers_error_after_the_pieces_before_it() -> None:
    def failing() -> Iterator[bytes]:
        yield b"one"
        raise zipfile.BadZipFile("Bad CRC-32")

    got = []
    with pytest.raises(zipfile.BadZipFile, match="CRC"):
        for piece in prefetched(failing):
            got.append(piece)
    assert got == [b"one"]


def test_leaving_early_stops_the_producer() -> None:
    produced = []

    def endless() -> Iterator[bytes]:
        n = 0
        while True:
            produced.append(n)
            yield b"x"
            n += 1

    before = threading.active_count()
    stream = prefetched(endless)
    assert next(stream) == b"x"
    stream.close()
    assert threading.active_count() == before
    assert len(produced) < 20  # it stopped a few pieces ahead, not at the end of the world
