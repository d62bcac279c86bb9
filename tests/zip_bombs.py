"""Zip bombs made in the test, in a fraction of a second: a part's deflate stream is one small block,
compressed on its own and ended with a sync flush, repeated (such blocks concatenate into one valid
stream, the way pigz compresses in parallel), so a megabyte of package inflates to a gigabyte."""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path


def _block(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)


def _crc_repeat(crc: int, data: bytes, times: int) -> int:
    for _ in range(times):
        crc = zlib.crc32(data, crc)
    return crc


def bomb_member(head: bytes, unit: bytes, times: int, tail: bytes) -> tuple[bytes, int, int]:
    """(raw deflate data, crc32, uncompressed size) of head + unit * times + tail."""
    block = _block(unit)
    data = _block(head) + block * times + _block(tail) + b"\x03\x00"
    crc = zlib.crc32(tail, _crc_repeat(zlib.crc32(head), unit, times))
    return data, crc, len(head) + len(unit) * times + len(tail)


def write_zip(path: Path, members: list[tuple[str, bytes, int, int, int]]) -> None:
    """A zip of (name, raw data, crc, declared uncompressed size, method) members, written by hand so a
    member may hold pre-compressed data (and, for the lying-header case, a size that is not true)."""
    out = bytearray()
    central = bytearray()
    for name, data, crc, size, method in members:
        offset = len(out)
        encoded = name.encode()
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(data), size,
                           len(encoded), 0) + encoded + data  # fmt: skip
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc,
                               len(data), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded  # fmt: skip
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), start, 0)
    path.write_bytes(bytes(out))


def workbook_bomb(source: Path, dest: Path, sheet: str, *, megabytes: int = 1000, lie: bool = False) -> None:
    """`source` (a real workbook) with part `sheet` replaced by rows that inflate to `megabytes` MiB
    (every other part kept); with `lie`, the part declares a small size."""
    members = []
    with zipfile.ZipFile(source) as archive:
        for info in archive.infolist():
            if info.filename == sheet:
                head = (
                    b'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns='
                    b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                )
                row = b"<row>" + b"<c><v>1</v></c>" * 60 + b"</row>"
                unit = row * ((1 << 20) // len(row))
                data, crc, size = bomb_member(head, unit, megabytes, b"</sheetData></worksheet>")
                members.append((info.filename, data, crc, 5000 if lie else size, zipfile.ZIP_DEFLATED))
            else:
                raw = archive.read(info)
                c = zlib.compressobj(6, zlib.DEFLATED, -15)
                members.append((info.filename, c.compress(raw) + c.flush(), zlib.crc32(raw), len(raw), 8))
    write_zip(dest, members)
