"""Writing the patched zip: unchanged members copied raw (same compressed bytes, headers and order),
changed ones recompressed in place, added ones after them, and the central directory rebuilt. Refuses
what it cannot copy faithfully (zip64, split archives, data around the central directory)."""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from callback_sheets.backends.excel.xlsx.cells import PatchRefused
from callback_sheets.backends.excel.xlsx.package import Content
from callback_sheets.backends.excel.xlsx.zip_streams import Deflated

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_DESCRIPTOR_SIG = b"PK\x07\x08"
_COPY_CHUNK = 1 << 24


def write_package(
    source: BinaryIO, changed: Mapping[str, Content], added: Mapping[str, bytes], dst: Path
) -> None:
    """Writes the zip: unchanged members copied raw, changed ones recompressed, original order kept;
    added members after them."""
    entries, comment = _central_directory(source)
    with open(dst, "wb") as out:
        central: list[bytes] = []
        for record, name in entries:
            fields = list(_CENTRAL.unpack_from(record))
            flags, method, csize, offset = fields[3], fields[4], fields[8], fields[16]
            source.seek(offset)
            local = source.read(_LOCAL.size)
            header = list(_LOCAL.unpack(local))
            if header[0] != b"PK\x03\x04":
                raise PatchRefused(f"zip member {name!r} has no local header")
            local += source.read(header[9] + header[10])
            fields[16] = out.tell()
            if name in changed:
                if method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise PatchRefused(f"zip member {name!r} uses an unsupported compression method")
                flags &= ~0x08
                content = changed[name]
                deflated = content if isinstance(content, Deflated) else Deflated(method)
                if isinstance(content, bytes):
                    deflated.write(content)
                    deflated.close()
                csize = sum(map(len, deflated.data))
                header[2], header[6], header[7], header[8] = flags, deflated.crc, csize, deflated.size
                out.write(_LOCAL.pack(*header) + local[_LOCAL.size :])
                for data in deflated.data:
                    out.write(data)
                fields[3], fields[7], fields[8], fields[9] = flags, deflated.crc, csize, deflated.size
            else:
                out.write(local)
                _copy(source, out, csize)
                if flags & 0x08:
                    descriptor = source.read(16)
                    out.write(descriptor if descriptor.startswith(_DESCRIPTOR_SIG) else descriptor[:12])
            central.append(_CENTRAL.pack(*fields) + record[_CENTRAL.size :])
        for name, data in added.items():
            central.append(_added_member(out, name, data))
        start = out.tell()
        out.write(b"".join(central))
        size = out.tell() - start
        out.write(_END.pack(b"PK\x05\x06", 0, 0, len(central), len(central), size, start, len(comment)))
        out.write(comment)


def _added_member(out: BinaryIO, name: str, data: bytes) -> bytes:
    """Writes a new deflated member at the current position; returns its central directory record."""
    deflated = Deflated(zipfile.ZIP_DEFLATED)
    deflated.write(data)
    deflated.close()
    csize = sum(map(len, deflated.data))
    raw_name = name.encode("utf-8")
    flags = 0x800 if not raw_name.isascii() else 0
    time, date = 0, (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01 00:00, as Excel writes
    offset = out.tell()
    out.write(_LOCAL.pack(b"PK\x03\x04", 20, flags, zipfile.ZIP_DEFLATED, time, date,
                          deflated.crc, csize, deflated.size, len(raw_name), 0) + raw_name)  # fmt: skip
    for piece in deflated.data:
        out.write(piece)
    return _CENTRAL.pack(b"PK\x01\x02", 20, 20, flags, zipfile.ZIP_DEFLATED, time, date, deflated.crc,
                         csize, deflated.size, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name  # fmt: skip


def _central_directory(source: BinaryIO) -> tuple[list[tuple[bytes, str]], bytes]:
    """(raw central record, member name) for each member, and the zip comment; refuses zip64."""
    source.seek(0, 2)
    length = source.tell()
    source.seek(max(0, length - (1 << 16) - _END.size))
    tail = source.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        raise PatchRefused("the zip package has no end-of-directory record")
    _sig, disk, cd_disk, _here, count, size, offset, comment_length = _END.unpack_from(tail, at)
    comment = tail[at + _END.size : at + _END.size + comment_length]
    if disk or cd_disk or 0xFFFF in (count,) or 0xFFFFFFFF in (size, offset):
        raise PatchRefused("the zip package is split or uses zip64")
    if offset + size != length - (len(tail) - at):
        raise PatchRefused("the zip package has data around its central directory")
    source.seek(offset)
    directory = source.read(size)
    entries: list[tuple[bytes, str]] = []
    pos = 0
    for _ in range(count):
        fields = _CENTRAL.unpack_from(directory, pos)
        if fields[0] != b"PK\x01\x02":
            raise PatchRefused("the zip package's central directory is damaged")
        end = pos + _CENTRAL.size + fields[10] + fields[11] + fields[12]
        raw_name = directory[pos + _CENTRAL.size : pos + _CENTRAL.size + fields[10]]
        name = raw_name.decode("utf-8" if fields[3] & 0x800 else "cp437")
        if 0xFFFFFFFF in (fields[8], fields[9], fields[16]):
            raise PatchRefused("the zip package uses zip64")
        entries.append((directory[pos:end], name))
        pos = end
    return entries, comment


def _copy(source: BinaryIO, out: BinaryIO, size: int) -> None:
    while size > 0:
        chunk = source.read(min(size, _COPY_CHUNK))
        if not chunk:
            raise PatchRefused("a zip member is truncated")
        out.write(chunk)
        size -= len(chunk)
