"""Image helpers for the POV-Ray renderer: read PNG files, compare images.

Pure Python (zlib from the standard library). Reads 8-bit non-interlaced PNGs of colour
type RGB, RGBA, grey or grey+alpha, which covers POV-Ray's output and ours.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ImageError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


@dataclass(frozen=True)
class Image:
    """An RGB8 image: ``rgb`` holds width*height*3 bytes, rows top to bottom."""

    width: int
    height: int
    rgb: bytes

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        i = (y * self.width + x) * 3
        return self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> bytearray:
    stride = width * bpp
    if len(raw) != (stride + 1) * height:
        raise ImageError(f"PNG image data has {len(raw)} bytes, expected {(stride + 1) * height}")
    out = bytearray(stride * height)
    prev = bytearray(stride)
    for y in range(height):
        ft = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if ft == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 255
        elif ft == 2:
            for i in range(stride):
                row[i] = (row[i] + prev[i]) & 255
        elif ft == 3:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((a + prev[i]) >> 1)) & 255
        elif ft == 4:
            for i in range(stride):
                a = row[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                row[i] = (row[i] + pred) & 255
        elif ft != 0:
            raise ImageError(f"PNG row {y} has unknown filter type {ft}")
        out[y * stride : (y + 1) * stride] = row
        prev = row
    return out


def decode_png(data: bytes, name: str = "<png>") -> Image:
    """Decode PNG bytes to an RGB8 :class:`Image` (alpha dropped, grey expanded)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ImageError(f"{name}: not a PNG file (bad signature)")
    pos = len(PNG_SIGNATURE)
    header = None
    idat = []
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length or pos + 12 + length > len(data):
            raise ImageError(f"{name}: truncated {ctype!r} chunk")
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        if zlib.crc32(ctype + body) != crc:
            raise ImageError(f"{name}: CRC mismatch in {ctype!r} chunk")
        pos += 12 + length
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"IEND":
            break
    if header is None:
        raise ImageError(f"{name}: no IHDR chunk")
    width, height, depth, colour, _comp, _filt, interlace = header
    if depth != 8 or colour not in _CHANNELS or interlace != 0:
        raise ImageError(
            f"{name}: unsupported PNG (bit depth {depth}, colour type {colour}, "
            f"interlace {interlace}); only 8-bit non-interlaced images are read"
        )
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ImageError(f"{name}: corrupt image data: {exc}") from exc
    bpp = _CHANNELS[colour]
    px = _unfilter(raw, width, height, bpp)
    if bpp == 3:
        rgb = bytes(px)
    elif bpp == 4:
        rgb = bytes(b for i, b in enumerate(px) if i % 4 != 3)
    else:
        grey = px[::bpp]
        rgb = bytes(v for g in grey for v in (g, g, g))
    return Image(width, height, rgb)


def read_png(path: str | Path) -> Image:
    """Read a PNG file; raises :class:`ImageError` naming the file on any problem."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read: {exc.strerror}") from exc
    return decode_png(data, str(path))


def _check_same_size(a: Image, b: Image) -> None:
    if (a.width, a.height) != (b.width, b.height):
        raise ImageError(
            f"images differ in size: {a.width}x{a.height} vs {b.width}x{b.height}"
        )


def max_difference(a: Image, b: Image) -> int:
    """Largest absolute difference of any channel of any pixel (0..255)."""
    _check_same_size(a, b)
    return max((abs(x - y) for x, y in zip(a.rgb, b.rgb, strict=True)), default=0)


def psnr(a: Image, b: Image) -> float:
    """Peak signal-to-noise ratio in dB over all channels; ``math.inf`` when identical."""
    _check_same_size(a, b)
    if not a.rgb:
        return math.inf
    sq = sum((x - y) * (x - y) for x, y in zip(a.rgb, b.rgb, strict=True))
    if sq == 0:
        return math.inf
    mse = sq / len(a.rgb)
    return 10.0 * math.log10(255.0 * 255.0 / mse)


@dataclass(frozen=True)
class Comparison:
    psnr_db: float
    max_diff: int
    differing_pixels: int

    def summary(self) -> str:
        p = "inf" if math.isinf(self.psnr_db) else f"{self.psnr_db:.2f}"
        return f"PSNR {p} dB, max difference {self.max_diff}/255, {self.differing_pixels} pixels differ"


def compare(a: Image, b: Image) -> Comparison:
    """PSNR, max channel difference and number of differing pixels."""
    _check_same_size(a, b)
    differing = sum(1 for i in range(0, len(a.rgb), 3) if a.rgb[i : i + 3] != b.rgb[i : i + 3])
    return Comparison(psnr(a, b), max_difference(a, b), differing)
