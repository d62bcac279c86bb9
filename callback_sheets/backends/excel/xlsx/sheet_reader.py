"""Reading a worksheet part in one pass, in chunks of whole rows: the head up to ``<sheetData>``, the
rows, the tail after ``</sheetData>``; and the check that the part is one the splicer reads right
(UTF-8, the transitional main namespace, unprefixed)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from callback_sheets.backends.excel.xlsx.cells import PatchRefused

MAIN_NS = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet\b([^>]*)>")
_SHEET_DATA = re.compile(rb"<sheetData\b[^>]*?(/?)>")


def check_sheet_root(xml: bytes) -> None:
    """Refuses parts the splicer would misread: other encodings, prefixed or foreign namespaces."""
    if xml.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PatchRefused("the worksheet is not UTF-8 encoded")
    prolog = re.match(rb"(?:\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)?", xml)
    declaration = prolog.group(1) if prolog else None
    if declaration and re.search(rb"""encoding\s*=\s*["'](?!utf-8["'])""", declaration, re.IGNORECASE):
        raise PatchRefused("the worksheet is not UTF-8 encoded")
    root = _ROOT.search(xml)
    if root is None:
        raise PatchRefused("the worksheet part has no <worksheet> root")
    if root.group(1):
        raise PatchRefused("the worksheet uses a namespace prefix on the main namespace")
    if b'xmlns="' + MAIN_NS + b'"' not in root.group(2):
        raise PatchRefused("the worksheet is not in the transitional SpreadsheetML namespace")
    if re.search(rb"xmlns:[\w.-]+\s*=\s*[\"']" + re.escape(MAIN_NS), root.group(2)):
        raise PatchRefused("the worksheet binds a prefix to the main namespace")


class SheetReader:
    """One pass over a worksheet part: the head up to ``<sheetData>``, then the rows in chunks that
    each end with a row's end (so no element is cut), then the tail after ``</sheetData>``."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        buffer = b""
        match = None
        for piece in pieces:
            buffer += piece
            if (match := _SHEET_DATA.search(buffer)) is not None:
                break
        check_sheet_root(buffer if match is None else buffer[: match.end()])
        if match is None:
            raise PatchRefused("the worksheet has no <sheetData>")
        self.head = buffer[: match.start()]
        self.opening = match.group(0)
        self.empty = bool(match.group(1))  # <sheetData/>
        self._rest = buffer[match.end() :]
        self.tail = b""

    def chunks(self) -> Iterator[bytes]:
        """The inside of <sheetData>, in chunks ending on a row's end; :attr:`tail` is set at the end."""
        buffer, self._rest = self._rest, b""
        if self.empty:
            self.tail = buffer + b"".join(self._pieces)
            return
        while True:
            cut = buffer.rfind(b"</row>")  # rows end before </sheetData>: only what follows is searched
            close = buffer.find(b"</sheetData>", max(cut, 0))
            if close >= 0:
                yield buffer[:close]
                self.tail = buffer[close + len(b"</sheetData>") :] + b"".join(self._pieces)
                return
            if cut >= 0:
                cut += len(b"</row>")
                yield buffer[:cut]
                buffer = buffer[cut:]
            piece = next(self._pieces, None)
            if piece is None:
                raise PatchRefused("the worksheet's <sheetData> is not closed")
            buffer += piece
