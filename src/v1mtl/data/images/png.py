"""Does the pixel data of a PNG match its header?

PIL raises for a PNG cut off inside its compressed data, but a PNG whose compressed stream ends cleanly
before the last row (a header declaring more rows than the data holds) decodes without an error, the
missing rows zero-filled; and data longer than the header implies (a header declaring fewer or narrower
rows) decodes as shifted rows. This module inflates the image data, without keeping it, and compares its
length with the length the header implies.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

SIGNATURE = b"\x89PNG\r\n\x1a\n"
# samples per pixel of each PNG colour type (PNG spec, table 11.1)
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# (x0, y0, dx, dy) of the seven Adam7 passes
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
BLOCK = 1 << 16


def _rows_bytes(width: int, height: int, bits_per_pixel: int) -> int:
    """Filtered bytes of ``height`` rows of ``width`` pixels: one filter byte plus the packed row each."""
    if width == 0 or height == 0:
        return 0
    return height * (1 + (width * bits_per_pixel + 7) // 8)


def expected_bytes(width: int, height: int, depth: int, color_type: int, interlaced: bool) -> int:
    """Length of the inflated image data the IHDR fields imply."""
    bpp = depth * CHANNELS[color_type]
    if not interlaced:
        return _rows_bytes(width, height, bpp)
    return sum(
        _rows_bytes((width - x0 + dx - 1) // dx, (height - y0 + dy - 1) // dy, bpp)
        for x0, y0, dx, dy in ADAM7
    )


def _idat_pieces(fh: BinaryIO) -> Iterator[bytes]:
    """The data of the first run of IDAT chunks (the one PIL decodes), in pieces of at most ``BLOCK``."""
    in_run = False
    while True:
        head = fh.read(8)
        if len(head) < 8:
            return
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IDAT":
            in_run = True
            left = length
            while left:
                piece = fh.read(min(left, BLOCK))
                if not piece:
                    return
                left -= len(piece)
                yield piece
        elif in_run or kind == b"IEND":
            return
        else:
            fh.seek(length, 1)
        fh.seek(4, 1)  # CRC


def _inflated_length(pieces: Iterator[bytes], cap: int) -> int:
    """Length of the zlib stream of ``pieces`` inflated, counted up to ``cap`` (output is never kept, and
    inflating stops at ``cap``, so a small file cannot make this inflate gigabytes); -1 if it is corrupt."""
    inflater = zlib.decompressobj()
    total = 0
    try:
        for piece in pieces:
            data = piece
            while data and total < cap:
                total += len(inflater.decompress(data, BLOCK))
                data = inflater.unconsumed_tail
            if total >= cap:
                return total
        total += len(inflater.flush())
    except zlib.error:
        return -1
    return total


def png_data_matches_header(fh: BinaryIO) -> bool:
    """True if the PNG in ``fh`` (at its start) holds exactly the rows its header declares."""
    head = fh.read(33)  # signature, IHDR length and type, 13 bytes of fields, CRC
    if len(head) < 33 or head[:8] != SIGNATURE or head[12:16] != b"IHDR":
        return False
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", head[16:29])
    if color_type not in CHANNELS:
        return False
    need = expected_bytes(width, height, depth, color_type, interlace == 1)
    return _inflated_length(_idat_pieces(fh), need + 1) == need
