"""A small PNG reader (8-bit RGB/RGBA, non-interlaced: what Chromium writes) so the screenshot checks need
no imaging dependency."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def read_png(path: Path):
    """The image as a uint8 numpy array [height, width, 3]."""
    import numpy as np

    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif tag == b"IDAT":
            idat += chunk
        elif tag == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, f"unsupported PNG: depth {depth}, color {color}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    out = np.zeros((height, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.uint8)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=y * (stride + 1) + 1)
        if kind == 0:
            cur = line.copy()
        elif kind == 2:  # up: vectorised (the most common filter)
            cur = line + prev
        else:
            buf = bytearray(line.tobytes())
            _unfilter(kind, buf, prev.tobytes(), channels)
            cur = np.frombuffer(bytes(buf), dtype=np.uint8)
        out[y] = cur
        prev = cur
    return out.reshape(height, width, channels)[:, :, :3]


def _unfilter(kind: int, line: bytearray, prev: bytes, bpp: int) -> None:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = prev[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = prev[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            line[i] = (line[i] + pred) & 0xFF


def count_color(image, rgb: tuple[int, int, int], tolerance: int = 6) -> int:
    """Pixels within `tolerance` of a colour (anti-aliased edges differ; solid fills match exactly)."""
    import numpy as np

    diff = np.abs(image.astype(np.int16) - np.array(rgb, dtype=np.int16))
    return int((diff.max(axis=2) <= tolerance).sum())
