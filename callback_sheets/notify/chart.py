"""A small PNG bar chart of weekly counts, drawn with the standard library (zlib + struct).

The weekly summary e-mail embeds it as an inline image (``cid:``), which Outlook and Gmail show. It
carries counts only: two bars per week (missed calls, recovered), a value axis with its top figure, and
each week's missed-call count above its bar in a tiny built-in digit font.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

WIDTH, HEIGHT = 480, 200
BACKGROUND = (255, 255, 255)
AXIS = (120, 120, 120)
MISSED = (54, 96, 146)  # the sheet's dark blue
RECOVERED = (84, 160, 84)
TEXT = (60, 60, 60)

# 3x5 digits, one string per row ("#" = ink)
_DIGITS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
}


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(BACKGROUND) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        """Fill [x0, x1) x [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1:
            return
        run = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def number(self, value: int, x: int, y: int, scale: int = 2) -> None:
        """Draw ``value`` with its left edge at x and top at y."""
        for glyph in str(value):
            for row, bits in enumerate(_DIGITS[glyph]):
                for col, bit in enumerate(bits):
                    if bit == "#":
                        px, py = x + col * scale, y + row * scale
                        self.rect(px, py, px + scale, py + scale, TEXT)
            x += 4 * scale

    def png(self) -> bytes:
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * self.width * 3 : (y + 1) * self.width * 3])
            for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)  # 8-bit RGB
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def weekly_chart(weeks: Sequence[tuple[int, int]], *, width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """PNG bytes: for each week (oldest first) a missed-calls bar and a recovered bar."""
    canvas = _Canvas(width, height)
    left, right, top, bottom = 34, width - 8, 22, height - 14
    top_value = max([1, *(max(w) for w in weeks)])
    canvas.rect(left, top, left + 1, bottom + 1, AXIS)  # value axis
    canvas.rect(left, bottom, right, bottom + 1, AXIS)  # baseline
    canvas.number(top_value, 4, top - 4)
    canvas.rect(left - 4, top, left, top + 1, AXIS)
    canvas.number(0, 18, bottom - 8)
    if not weeks:
        return canvas.png()
    slot = (right - left - 4) / len(weeks)
    bar = max(2, int(slot * 0.36))
    for i, (missed, recovered) in enumerate(weeks):
        x = left + 4 + int(i * slot)
        for offset, value, colour in ((0, missed, MISSED), (bar, recovered, RECOVERED)):
            h = round((bottom - top) * value / top_value)
            canvas.rect(x + offset, bottom - h, x + offset + bar, bottom, colour)
        label_y = bottom - round((bottom - top) * missed / top_value) - 12
        canvas.number(missed, x, max(2, label_y))
    return canvas.png()
