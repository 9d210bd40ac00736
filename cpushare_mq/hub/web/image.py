"""Jobs that are images: the povray tile format, seen by the dashboard.

A job is an image when every fragment's input is a tile record (``cpushare_mq.povray.tiles``:
32 bytes, "TILE", image width and height, the tile's rectangle) of one image; each accepted
result is then the rectangle's rows as RGB8 bytes (the povray client's answer). The
description is read from the job's own fragments in the store, so any buyer that speaks the
tile format gets the live picture, and nothing else has to be kept.

Pure helpers here; the queries are in :mod:`.reader`.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

from ...errors import TileError
from ...povray.tiles import TILE_MAGIC, TILE_SIZES, Tile

#: the most tiles the dashboard draws for one job (a bigger job is shown without its image)
MAX_TILES = 1_000_000


@dataclass(frozen=True, slots=True)
class ImageSpec:
    width: int
    height: int
    rects: tuple[tuple[int, int, int, int], ...]   # per fragment index: x0, y0, w, h

    def as_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "rects": self.rects}


def looks_like_tile(first_input: bytes | None) -> bool:
    return first_input is not None and len(first_input) in TILE_SIZES and \
        bytes(first_input[:4]) == TILE_MAGIC


def describe(inputs: list[bytes]) -> ImageSpec | None:
    """The image made by these fragment inputs (in index order), or None when they are not
    all tiles of one image."""
    if not inputs or len(inputs) > MAX_TILES or not looks_like_tile(inputs[0]):
        return None
    rects = []
    size = None
    for data in inputs:
        try:
            t = Tile.decode(bytes(data))
        except TileError:
            return None
        if size is None:
            size = (t.width, t.height)
        elif size != (t.width, t.height):
            return None
        rects.append((t.x0, t.y0, t.w, t.h))
    return ImageSpec(size[0], size[1], tuple(rects))


def tile_update(spec: ImageSpec, idx: int, ok: bool, rgb: bytes | None) -> dict:
    """One tile for the page: its pixels (base64 RGB8) when accepted and the right size,
    else marked failed (with why)."""
    if not 0 <= idx < len(spec.rects):
        return {"i": idx, "state": "failed", "why": "index outside the image"}
    x, y, w, h = spec.rects[idx]
    if not ok:
        return {"i": idx, "state": "failed", "why": "fragment failed"}
    if rgb is None or len(rgb) != w * h * 3:
        got = "no" if rgb is None else len(rgb)
        return {"i": idx, "state": "failed", "why": f"result has {got} bytes, expected {w * h * 3}"}
    return {"i": idx, "state": "done", "rgb": base64.b64encode(rgb).decode("ascii")}


def png_bytes(width: int, height: int, rgb: bytes) -> bytes:
    """An RGB8 PNG (no filtering) of ``rgb`` (width*height*3 bytes, rows top to bottom)."""
    row = width * 3
    raw = b"".join(b"\0" + rgb[y * row:(y + 1) * row] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                             8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def paste(canvas: bytearray, width: int, rect: tuple[int, int, int, int], rgb: bytes) -> None:
    x0, y0, w, h = rect
    row = w * 3
    for r in range(h):
        start = ((y0 + r) * width + x0) * 3
        canvas[start:start + row] = rgb[r * row:(r + 1) * row]
