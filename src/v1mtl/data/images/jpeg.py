"""Can a JPEG file hold the image its header declares?

When a JPEG's data ends early at an end-of-image marker (say its frame header was altered to declare a
larger image), libjpeg fills the missing blocks in and PIL reports nothing. A Huffman-coded JPEG spends at
least one bit on every 8x8 block of every component (the DC code of a block is at least one bit long), and
a sequential one at least two (a DC code, then an end-of-block or AC code), all after the first
start-of-scan header. Coded data shorter than that cannot hold the image the header declares. The check
never rejects a sound file; it cannot see a small enlargement, whose blocks fit in the slack of the real
data. Arithmetic-coded and lossless files are not checked.
"""

from __future__ import annotations

import math
import os
import struct
from typing import BinaryIO

# Start-of-frame markers of Huffman-coded DCT JPEGs -> the fewest bits a block can take: baseline and
# extended sequential 2, progressive 1.
HUFFMAN_FRAMES = {0xC0: 2, 0xC1: 2, 0xC2: 1}
START_OF_SCAN = 0xDA
# Markers that are a frame header (the other SOFn: lossless, differential, arithmetic-coded).
OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length field.
STANDALONE = {0x01, 0xD8, *range(0xD0, 0xD8)}


def _headers(fh: BinaryIO) -> tuple[int, bytes, int] | None:
    """``(frame marker, frame header, offset where the coded data begins)``: the first start-of-frame
    segment and the end of the first start-of-scan header; None where the markers cannot be followed."""
    if fh.read(2) != b"\xff\xd8":
        return None
    frame = None
    while True:
        if fh.read(1) != b"\xff":
            return None
        marker = fh.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fh.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in STANDALONE:
            continue
        raw = fh.read(2)
        if len(raw) < 2 or code == 0xD9:
            return None
        length = struct.unpack(">H", raw)[0] - 2
        if code in HUFFMAN_FRAMES or code in OTHER_FRAMES:
            frame = code, fh.read(length)
        elif code == START_OF_SCAN:
            fh.seek(length, 1)
            return None if frame is None else (*frame, fh.tell())
        else:
            fh.seek(length, 1)


def min_coded_bytes(width: int, height: int, sampling: list[tuple[int, int]], bits_per_block: int) -> int:
    """The fewest bytes that can code a ``width`` x ``height`` image whose components have the sampling
    factors ``sampling`` ``[(h, v), ...]``, at ``bits_per_block`` per 8x8 block."""
    h_max = max(h for h, _ in sampling)
    v_max = max(v for _, v in sampling)
    blocks = sum(
        math.ceil(math.ceil(width * h / h_max) / 8) * math.ceil(math.ceil(height * v / v_max) / 8)
        for h, v in sampling
    )
    return blocks * bits_per_block // 8


def jpeg_can_hold_header(fh: BinaryIO) -> bool:
    """False if the JPEG in ``fh`` (at its start) is too short for the image its frame header declares.

    A file whose markers this parser does not follow (libjpeg tolerates, say, stray bytes between
    segments) or whose frame header is not sound is left to PIL: only a file known to be too short is
    rejected.
    """
    size = os.fstat(fh.fileno()).st_size
    headers = _headers(fh)
    if headers is None or headers[0] not in HUFFMAN_FRAMES:
        return True  # no bound known (arithmetic-coded and lossless data have none)
    code, frame, data_start = headers
    if len(frame) < 6:
        return True
    height, width, count = struct.unpack(">HHB", frame[1:6])
    fields = frame[6 : 6 + 3 * count]
    sampling = [(fields[3 * i + 1] >> 4, fields[3 * i + 1] & 15) for i in range(len(fields) // 3)]
    if not sampling or any(h == 0 or v == 0 for h, v in sampling):
        return True
    return size - data_start >= min_coded_bytes(width, height, sampling, HUFFMAN_FRAMES[code])
