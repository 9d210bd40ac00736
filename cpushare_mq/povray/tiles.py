"""Tiles (the fragments of a render job) and the ABI v1 frames the client speaks.

A tile is 32 bytes: little-endian u32 {magic b"TILE", version 1, image W, image H, x0, y0,
w, h}; an anti-aliased render's tiles are 48 bytes, version 2, with the anti-aliasing
options after the rectangle (c/povray/scene.h; only the rectangle is read here). The client
answers with one 'D' frame per row (w*3 RGB8 bytes), then 'E'.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import TileError

TILE_MAGIC = b"TILE"
TILE_VERSION = 1
TILE_BYTES = 32
TILE_AA_VERSION = 2
TILE_AA_BYTES = 48
TILE_SIZES = {TILE_BYTES: TILE_VERSION, TILE_AA_BYTES: TILE_AA_VERSION}  # length -> version
MAX_DIM = 65536


@dataclass(frozen=True)
class Tile:
    width: int  # image size
    height: int
    x0: int
    y0: int
    w: int
    h: int

    def encode(self) -> bytes:
        self.validate()
        return TILE_MAGIC + struct.pack(
            "<7I", TILE_VERSION, self.width, self.height, self.x0, self.y0, self.w, self.h
        )

    def validate(self) -> None:
        if not (1 <= self.width <= MAX_DIM and 1 <= self.height <= MAX_DIM):
            raise TileError(f"image size {self.width}x{self.height} out of range 1..{MAX_DIM}")
        if self.w < 1 or self.h < 1 or self.x0 < 0 or self.y0 < 0:
            raise TileError(f"tile {self} is empty or has a negative origin")
        if self.x0 + self.w > self.width or self.y0 + self.h > self.height:
            raise TileError(f"tile {self} reaches outside the {self.width}x{self.height} image")

    @classmethod
    def decode(cls, data: bytes) -> Tile:
        if len(data) not in TILE_SIZES:
            raise TileError(f"a tile is {TILE_BYTES} or {TILE_AA_BYTES} bytes, got {len(data)}")
        if data[:4] != TILE_MAGIC:
            raise TileError(f"tile magic is {data[:4]!r}, expected {TILE_MAGIC!r}")
        version, *fields = struct.unpack("<7I", data[4:TILE_BYTES])
        if version != TILE_SIZES[len(data)]:
            raise TileError(f"tile version {version} unsupported for {len(data)} bytes "
                            f"(expected {TILE_SIZES[len(data)]})")
        tile = cls(*fields)
        tile.validate()
        return tile


def cut_tiles(width: int, height: int, size: int) -> list[Tile]:
    """Cut a width x height image into size x size tiles, row by row (edges smaller)."""
    if size < 1:
        raise TileError(f"tile size must be >= 1, got {size}")
    return [
        Tile(width, height, x0, y0, min(size, width - x0), min(size, height - y0))
        for y0 in range(0, height, size)
        for x0 in range(0, width, size)
    ]


def paste(image: bytearray, width: int, tile: Tile, rgb_rows: bytes) -> None:
    """Copy a tile's RGB8 rows into a width-wide RGB8 image buffer."""
    row_bytes = tile.w * 3
    if len(rgb_rows) != row_bytes * tile.h:
        raise TileError(f"tile {tile} result has {len(rgb_rows)} bytes, expected {row_bytes * tile.h}")
    for r in range(tile.h):
        start = ((tile.y0 + r) * width + tile.x0) * 3
        image[start : start + row_bytes] = rgb_rows[r * row_bytes : (r + 1) * row_bytes]


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    """One ABI v1 frame: u32 LE payload length | kind byte | payload."""
    return struct.pack("<I", len(payload)) + kind + payload


def split_frames(data: bytes) -> list[tuple[bytes, bytes]]:
    """Parse a stream of ABI v1 frames into (kind, payload) pairs; raises TileError."""
    out = []
    pos = 0
    while pos < len(data):
        if pos + 5 > len(data):
            raise TileError(f"truncated frame header at byte {pos}")
        (n,) = struct.unpack("<I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 5]
        if pos + 5 + n > len(data):
            raise TileError(f"truncated {kind!r} frame at byte {pos}")
        out.append((kind, data[pos + 5 : pos + 5 + n]))
        pos += 5 + n
    return out
