"""Writes the small PNG files the image_map and bump_map scenes use (run once; the files are
kept beside it): every PNG colour type, bit depths 4, 8 and 16, a gAMA and an sRGB chunk,
tRNS, Adam7 interlacing. Standard library only."""
import math
import struct
import zlib


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pack_row(samples: list[int], depth: int) -> bytes:
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out, acc, n = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        n += depth
        if n == 8:
            out.append(acc)
            acc, n = 0, 0
    if n:
        out.append(acc << (8 - n))
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def png(path, w, h, ctype, depth, pixel, extra=b"", interlace=False):
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = bytearray()
    passes = ADAM7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        _prev.clear()  # each pass's first row is filtered against zeros
        for y in range(y0, h, dy):
            row = []
            for x in range(x0, w, dx):
                px = pixel(x, y)
                row += list(px) if isinstance(px, tuple) else [px]
            assert len(row) % ch == 0
            ft = y % 5 if depth >= 8 else 0  # every filter type in turn
            raw += bytes([ft]) + filtered(pack_row(row, depth), ch, depth, ft)
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 1 if interlace else 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
    data += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)


_prev = {}


def filtered(row: bytes, ch: int, depth: int, ft: int) -> bytes:
    """Applies filter type ft (0..4) against the previous row of the same length."""
    if depth < 8:
        return row
    bpp = ch * depth // 8
    prev = _prev.get(len(row), bytes(len(row)))
    out = bytearray(len(row))
    for i, v in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pr = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
        pred = [0, a, b, (a + b) // 2, pr][ft]
        out[i] = (v - pred) & 255
    _prev[len(row)] = row
    return bytes(out)


def palette(n):
    cols = []
    for i in range(n):
        t = i / max(n - 1, 1)
        cols += [int(255 * t), int(255 * (1 - t) * 0.8), int(128 + 127 * math.sin(6 * t))]
    return chunk(b"PLTE", bytes(cols))


def main():
    png("pal4.png", 24, 16, 3, 4, lambda x, y: (x // 3 + 2 * (y // 4)) % 16,
        palette(16) + chunk(b"tRNS", bytes([255] * 3 + [0])))
    png("rgb8.png", 32, 20, 2, 8, lambda x, y: (x * 8 % 256, y * 12 % 256, (x * y) % 256),
        chunk(b"gAMA", struct.pack(">I", 45455)))
    png("grey16.png", 20, 20, 0, 16,
        lambda x, y: int(32767.5 + 32767 * math.sin(x / 3.0) * math.cos(y / 4.0)))
    png("rgba8i.png", 17, 13, 6, 8,
        lambda x, y: (255 - x * 15, y * 19, 128, 255 if (x + y) % 3 else 64),
        chunk(b"sRGB", b"\x00"), interlace=True)
    png("grey8.png", 40, 30, 0, 8, lambda x, y: int(127.5 + 127 * math.sin(x / 2.5 + y / 4.0)))


if __name__ == "__main__":
    main()
