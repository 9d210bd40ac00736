"""The image decoders of c/povray (image.c, image_*.c) through a small driver (image_dump.c).

PNG, PNM, TGA and GIF files are written here from known pixels by small encoders and must decode
exactly; the JPEG files in tests/data/images were made once with libjpeg, whose decodes sit
beside them (*.ref.ppm / *.ref.pgm). Hostile files (every truncation, absurd sizes, damaged
codes) must fail with a one-line error naming the format; the driver is built with the
address and undefined-behaviour sanitizers where gcc has them, so a read past the buffer fails.
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
POVRAY_C = HERE.parent.parent / "c" / "povray"
IMAGES = HERE.parent / "data" / "images"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]

HYPO = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------- the driver

def _sources(tmp: Path) -> list[str]:
    # the PNG reader needs the inflater and png.c's CRC
    src = sorted(POVRAY_C.glob("image_*.c")) + [POVRAY_C / n for n in
                                                  ("image.c", "inflate.c", "png.c")]
    return [str(p) for p in src + [HERE / "image_dump.c"]]


@pytest.fixture(scope="module")
def dump(tmp_path_factory) -> Path:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    tmp = tmp_path_factory.mktemp("image_dump")
    exe = tmp / "image_dump"
    src = _sources(tmp)
    # warnings as errors with the plain optimised build first
    plain = subprocess.run([cc, *CFLAGS, f"-I{POVRAY_C}", *src, "-o", str(tmp / "plain"), "-lm"],
                           capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    san = subprocess.run([cc, *CFLAGS, *SANITIZE, f"-I{POVRAY_C}", *src, "-o", str(exe), "-lm"],
                         capture_output=True, text=True)
    return exe if san.returncode == 0 else tmp / "plain"


class Decoded:
    def __init__(self, text: str):
        lines = text.splitlines()
        self.w, self.h, self.channels, self.bits, self.palette_n = map(int, lines[0].split())
        self.palette = [tuple(map(int, ln.split())) for ln in lines[1:1 + self.palette_n]]
        self.px = [int(v) for ln in lines[1 + self.palette_n:] for v in ln.split()]


def decode(dump: Path, tmp_path: Path, data: bytes, fmt: str, name: str = "img") -> Decoded:
    p = tmp_path / name
    p.write_bytes(data)
    proc = subprocess.run([str(dump), fmt, str(p)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return Decoded(proc.stdout)


def decode_error(dump: Path, tmp_path: Path, data: bytes, fmt: str) -> str:
    p = tmp_path / "bad"
    p.write_bytes(data)
    proc = subprocess.run([str(dump), fmt, str(p)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1, proc.stdout[:300] + proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr  # one line (and no sanitizer report)
    return proc.stderr.strip()


def each_file(dump: Path, fmt: str, paths: list[Path]) -> list[str]:
    proc = subprocess.run([str(dump), fmt, "-e", *map(str, paths)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout[-500:] + proc.stderr[-3000:]
    return proc.stdout.splitlines()


def assert_every_truncation_fails(dump: Path, tmp_path: Path, data: bytes, fmt: str,
                                  prefixes: tuple[str, ...], ok_from: int | None = None):
    """Every prefix shorter than the file (shorter than ok_from, when given) fails cleanly."""
    p = tmp_path / "whole"
    p.write_bytes(data)
    proc = subprocess.run([str(dump), fmt, "-t", str(p)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout[-500:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    assert len(lines) == len(data) + 1
    limit = len(data) if ok_from is None else ok_from
    for n, line in enumerate(lines):
        head, rest = line.split(" ", 1)
        assert int(head) == n
        if n < limit:
            assert rest.startswith("error "), (n, rest)
            assert rest[6:].startswith(prefixes), (n, rest)
    assert lines[-1].split()[1] == "ok", lines[-1]


# ---------------------------------------------------------------------------- PNM

def pnm(kind: str, w: int, h: int, maxval: int, samples: list[int], comment: bool = True) -> bytes:
    head = f"{kind}\n# made by the test\n{w} {h}\n# maxval next\n{maxval}\n" if comment \
        else f"{kind} {w} {h} {maxval}\n"
    if kind in ("P2", "P3"):
        return (head + " ".join(map(str, samples)) + "\n").encode()
    width = 2 if maxval > 255 else 1
    return head.encode() + b"".join(v.to_bytes(width, "big") for v in samples)


def scaled(v: int, maxval: int) -> int:
    top = 255 if maxval <= 255 else 65535
    return (v * top + maxval // 2) // maxval


@pytest.mark.parametrize("kind", ["P2", "P3", "P5", "P6"])
@pytest.mark.parametrize("maxval", [1, 15, 255, 256, 1000, 65535])
def test_pnm_round_trip(dump, tmp_path, kind, maxval):
    w, h = 5, 3
    ch = 3 if kind in ("P3", "P6") else 1
    samples = [(i * 7919) % (maxval + 1) for i in range(w * h * ch)]
    d = decode(dump, tmp_path, pnm(kind, w, h, maxval, samples), "auto")
    assert (d.w, d.h, d.channels, d.palette_n) == (w, h, ch, 0)
    assert d.bits == (8 if maxval <= 255 else 16)
    assert d.px == [scaled(v, maxval) for v in samples]


def test_pnm_by_type_and_compact_header(dump, tmp_path):
    data = pnm("P6", 2, 2, 255, list(range(12)), comment=False)
    for fmt in ("ppm", "pgm", "auto"):
        assert decode(dump, tmp_path, data, fmt).px == list(range(12))


@pytest.mark.parametrize("data, words", [
    (b"P6\n2 2\n255\n" + bytes(11), "truncated"),
    (b"P6\n2 2\n256\n" + bytes(23), "truncated"),
    (b"P5\n2 2\n0\n" + bytes(4), "maxval 0"),
    (b"P5\n2 2\n70000\n" + bytes(4), "maxval 70000"),
    (b"P5\n99999999999999999999 2\n255\n", "width"),
    (b"P5\n0 2\n255\n", "0x2"),
    (b"P5\n60000 60000\n255\n", "60000x60000"),
    (b"P2\n2 1\n10\n3 11\n", "sample 11 above 10"),
    (b"P3\n1 1\n255\n1 2 x\n", "sample expected"),
    (b"P5\n2 2\n100\n\x00\x01\x02\x65", "sample 101 above the maxval 100"),
    (b"P2 1 1 255", "before its sample"),
    (b"P5 1 1 255", "no whitespace"),
])
def test_pnm_refused(dump, tmp_path, data, words):
    msg = decode_error(dump, tmp_path, data, "ppm")
    assert msg.startswith(("ppm: ", "pgm: ")) and words in msg, msg


def test_pnm_truncations(dump, tmp_path):
    data = pnm("P6", 3, 2, 1000, list(range(0, 1000, 56)))
    assert_every_truncation_fails(dump, tmp_path, data, "ppm", ("ppm: ",))
    data = pnm("P3", 3, 2, 255, list(range(18)))
    # an ASCII file cut inside its last number ("17\n") reads as a whole one ("1")
    assert_every_truncation_fails(dump, tmp_path, data, "ppm", ("ppm: ",), len(data) - 2)


# ---------------------------------------------------------------------------- TGA

def tga_pixel(rgba: tuple[int, int, int, int], bits: int) -> bytes:
    r, g, b, a = rgba
    if bits in (15, 16):
        return ((r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)).to_bytes(2, "little")
    return bytes([b, g, r, a][:bits // 8])


def tga_expected(rgba: tuple[int, int, int, int], bits: int) -> list[int]:
    r, g, b, a = rgba
    if bits in (15, 16):
        return [((v >> 3) * 255 + 15) // 31 for v in (r, g, b)]
    return [r, g, b, a][:bits // 8]


def tga_rle(pixels: list[bytes]) -> bytes:
    """Run-length packets: runs of equal pixels, raw packets between (across rows)."""
    out, i = bytearray(), 0
    while i < len(pixels):
        j = i
        while j < len(pixels) and j - i < 128 and pixels[j] == pixels[i]:
            j += 1
        if j - i >= 2:
            out += bytes([0x80 | (j - i - 1)]) + pixels[i]
            i = j
            continue
        j = i + 1
        while j < len(pixels) and j - i < 128 and (j + 1 >= len(pixels)
                                                   or pixels[j] != pixels[j + 1]):
            j += 1
        out += bytes([j - i - 1]) + b"".join(pixels[i:j])
        i = j
    return bytes(out)


def tga(img_type: int, w: int, h: int, bpp: int, rows: list[list[bytes]], top: bool,
        cmap: bytes = b"", cmap_first: int = 0, cmap_len: int = 0, cmap_bits: int = 0,
        ident: bytes = b"", right_to_left: bool = False) -> bytes:
    """rows: the image's rows from the top, each a list of file-format pixels."""
    order = rows if top else rows[::-1]
    if right_to_left:
        order = [r[::-1] for r in order]
    pixels = [p for r in order for p in r]
    body = tga_rle(pixels) if img_type & 8 else b"".join(pixels)
    desc = (0x20 if top else 0) | (0x10 if right_to_left else 0) | (8 if bpp == 32 else 0)
    head = bytes([len(ident), 1 if cmap_len else 0, img_type]) + cmap_first.to_bytes(2, "little") \
        + cmap_len.to_bytes(2, "little") + bytes([cmap_bits]) + bytes(4) \
        + w.to_bytes(2, "little") + h.to_bytes(2, "little") + bytes([bpp, desc])
    return head + ident + cmap + body


rgba_st = st.tuples(*[st.integers(0, 255)] * 4)


@settings(HYPO)
@given(w=st.integers(1, 12), h=st.integers(1, 9), bits=st.sampled_from([15, 16, 24, 32]),
       rle=st.booleans(), top=st.booleans(), rtl=st.booleans(),
       colours=st.lists(rgba_st, min_size=1, max_size=4), data=st.data())
def test_tga_truecolour_round_trip(dump, tmp_path, w, h, bits, rle, top, rtl, colours, data):
    # few colours, so that runs appear
    img = [[data.draw(st.sampled_from(colours)) for _ in range(w)] for _ in range(h)]
    rows = [[tga_pixel(p, bits) for p in row] for row in img]
    f = tga(10 if rle else 2, w, h, bits, rows, top, ident=b"test id", right_to_left=rtl)
    d = decode(dump, tmp_path, f, "tga")
    assert (d.w, d.h, d.channels, d.bits, d.palette_n) == (w, h, 4 if bits == 32 else 3, 8, 0)
    assert d.px == [v for row in img for p in row for v in tga_expected(p, bits)]


@settings(HYPO)
@given(w=st.integers(1, 10), h=st.integers(1, 8), rle=st.booleans(), top=st.booleans(),
       first=st.integers(0, 20), bits=st.sampled_from([15, 16, 24, 32]),
       pal=st.lists(rgba_st, min_size=1, max_size=40), data=st.data())
def test_tga_colour_mapped_round_trip(dump, tmp_path, w, h, rle, top, first, bits, pal, data):
    idx = [[first + data.draw(st.integers(0, min(len(pal) - 1, 3))) for _ in range(w)]
           for _ in range(h)]
    cmap = b"".join(tga_pixel(c, bits) for c in pal)
    f = tga(9 if rle else 1, w, h, 8, [[bytes([i]) for i in row] for row in idx], top,
            cmap=cmap, cmap_first=first, cmap_len=len(pal), cmap_bits=bits)
    d = decode(dump, tmp_path, f, "tga")
    assert (d.w, d.h, d.channels, d.palette_n) == (w, h, 1, first + len(pal))
    assert d.px == [i for row in idx for i in row]
    want = [(0, 0, 0, 255)] * first + [tuple((tga_expected(c, bits) + [255])[:4]) for c in pal]
    assert d.palette == want


@pytest.mark.parametrize("rle", [False, True])
@pytest.mark.parametrize("top", [False, True])
def test_tga_grayscale(dump, tmp_path, rle, top):
    img = [[(x * 40 + y) % 256 for x in range(6)] for y in range(4)]
    img[1] = [7] * 6  # a run
    f = tga(11 if rle else 3, 6, 4, 8, [[bytes([v]) for v in r] for r in img], top)
    d = decode(dump, tmp_path, f, "tga")
    assert (d.channels, d.bits, d.palette_n) == (1, 8, 0)
    assert d.px == [v for r in img for v in r]


def test_tga_rle_packet_across_rows(dump, tmp_path):
    px = [bytes([1, 2, 3])] * 6  # one packet of 6 for a 3x2 image
    f = tga(10, 3, 2, 24, [px[:3], px[3:]], True)
    assert f[18:] == bytes([0x85, 1, 2, 3])
    assert decode(dump, tmp_path, f, "tga").px == [3, 2, 1] * 6


def tga_small() -> bytes:
    rows = [[tga_pixel((x * 50, y * 60, 7, 200), 32) for x in range(3)] for y in range(3)]
    return tga(10, 3, 3, 32, rows, False, ident=b"id")


@pytest.mark.parametrize("data, words", [
    (b"\0" * 17, "shorter than the 18-byte header"),
    (bytes([0, 0, 0]) + bytes(15), "no image"),
    (bytes([0, 0, 32]) + bytes(15), "image type 32"),
    (bytes([0, 0, 1]) + bytes(9) + b"\1\0\1\0\x08\0", "without a colour map"),
    (bytes([0, 0, 2]) + bytes(9) + b"\1\0\1\0\x08\0", "8 bits per pixel"),
    (bytes([0, 0, 2]) + bytes(9) + b"\0\0\1\0\x18\0", "0x1"),
    (bytes([0, 0, 2]) + bytes(9) + b"\xff\xff\xff\xff\x18\0", "65535x65535"),
    (bytes([0, 0, 10]) + bytes(9) + b"\2\0\1\0\x18\0" + b"\xff\1\2\3", "past the image's end"),
    (bytes([0, 1, 1, 0, 0, 2, 0, 24]) + bytes(4) + b"\2\0\1\0\x08\0" + bytes(6) + b"\0\5",
     "colour index 5 beyond the 2-entry"),
    (bytes([0, 1, 1, 0, 0, 200, 0, 24]) + bytes(4) + b"\2\0\1\0\x08\0" + bytes(6), "colour map"),
    (bytes([0, 1, 1, 0, 0, 2, 0, 12]) + bytes(4) + b"\2\0\1\0\x08\0" + bytes(6), "12 bits"),
    (bytes([200, 0, 2]) + bytes(9) + b"\1\0\1\0\x18\0" + bytes(3), "ID field"),
])
def test_tga_refused(dump, tmp_path, data, words):
    msg = decode_error(dump, tmp_path, data, "tga")
    assert msg.startswith("tga: ") and words in msg, msg


def test_tga_truncations(dump, tmp_path):
    assert_every_truncation_fails(dump, tmp_path, tga_small(), "tga", ("tga: ",))
    pal = b"".join(tga_pixel((i, i, i, 255), 24) for i in range(5))
    f = tga(9, 4, 2, 8, [[bytes([i % 5]) for i in range(4)]] * 2, True, cmap=pal, cmap_len=5,
            cmap_bits=24)
    assert_every_truncation_fails(dump, tmp_path, f, "tga", ("tga: ",))


def test_tga_is_only_by_type(dump, tmp_path):
    msg = decode_error(dump, tmp_path, tga_small(), "auto")
    assert "not an image file" in msg


# ---------------------------------------------------------------------------- GIF

def lzw_encode(indices: list[int], min_size: int, clear_first: bool = True,
               clear_when_full: bool = True) -> bytes:
    """GIF's LZW: codes least significant bit first; a clear code when the table is full
    (else the full table goes on being used: a "deferred clear")."""
    clear, end = 1 << min_size, (1 << min_size) + 1
    acc = nbits = 0
    out = bytearray()

    def put(code: int, size: int):
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 255)
            acc >>= 8
            nbits -= 8

    def reset():
        return {(i,): i for i in range(clear)}, end + 1, min_size + 1

    table, nxt, size = reset()
    if clear_first:
        put(clear, size)
    w: tuple[int, ...] = ()
    for k in indices:
        if w + (k,) in table:
            w = w + (k,)
            continue
        put(table[w], size)
        if nxt < 4096:
            table[w + (k,)] = nxt
            if nxt == 1 << size and size < 12:
                size += 1
            nxt += 1
        elif clear_when_full:
            put(clear, size)
            table, nxt, size = reset()
        w = (k,)
    if w:
        put(table[w], size)
    put(end, size)
    if nbits:
        out.append(acc & 255)
    return bytes(out)


def sub_blocks(data: bytes, size: int = 255) -> bytes:
    return b"".join(bytes([len(data[i:i + size])]) + data[i:i + size]
                    for i in range(0, len(data), size)) + b"\0"


def table_bits(n: int) -> int:
    return max(1, (n - 1).bit_length()) - 1  # 2 << bits entries


def gif(frame: list[list[int]], palette: list[tuple[int, int, int]], *, screen=None,
        at=(0, 0), local=False, interlaced=False, transparent=None, background=0,
        min_size=None, lzw=None) -> bytes:
    h, w = len(frame), len(frame[0])
    sw, sh = screen or (w, h)
    bits = table_bits(len(palette))
    table = b"".join(bytes(c) for c in palette) + bytes(3 * ((2 << bits) - len(palette)))
    head = b"GIF89a" + sw.to_bytes(2, "little") + sh.to_bytes(2, "little")
    head += bytes([0 if local else 0x80 | 0x70 | bits, background, 0])
    if not local:
        head += table
    head += b"!\xfe" + sub_blocks(b"a comment")
    if transparent is not None:
        head += b"!\xf9\x04" + bytes([1, 0, 0, transparent, 0])
    rows = frame
    if interlaced:
        order = [y for start, step in ((0, 8), (4, 8), (2, 4), (1, 2)) for y in range(start, h, step)]
        rows = [frame[y] for y in order]
    desc = b"," + at[0].to_bytes(2, "little") + at[1].to_bytes(2, "little") \
        + w.to_bytes(2, "little") + h.to_bytes(2, "little")
    desc += bytes([(0x80 | bits if local else 0) | (0x40 if interlaced else 0)])
    if local:
        desc += table
    min_size = min_size or max(2, bits + 1)
    data = lzw if lzw is not None else lzw_encode([i for r in rows for i in r], min_size)
    return head + desc + bytes([min_size]) + sub_blocks(data) + b";"


def gif_canvas(frame, screen, at, background):
    sw, sh = screen
    canvas = [[background] * sw for _ in range(sh)]
    for y, row in enumerate(frame):
        canvas[at[1] + y][at[0]:at[0] + len(row)] = row
    return [i for r in canvas for i in r]


colour_st = st.tuples(*[st.integers(0, 255)] * 3)


@settings(HYPO)
@given(w=st.integers(1, 40), h=st.integers(1, 40), ncol=st.integers(1, 256),
       local=st.booleans(), interlaced=st.booleans(), seed=st.integers(0, 2**32 - 1),
       data=st.data())
def test_gif_round_trip(dump, tmp_path, w, h, ncol, local, interlaced, seed, data):
    palette = [((i * 37) & 255, (i * 91 + seed) & 255, (i * 13) & 255) for i in range(ncol)]
    # a few colours in runs, or noise: both exercise the table (and its clear when full)
    spread = data.draw(st.sampled_from([1, 2, ncol]))
    x = seed
    frame = []
    for _y in range(h):
        row = []
        for _x in range(w):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            row.append((x >> 16) % min(spread, ncol))
        frame.append(row)
    transparent = data.draw(st.one_of(st.none(), st.integers(0, ncol - 1)))
    f = gif(frame, palette, local=local, interlaced=interlaced, transparent=transparent)
    d = decode(dump, tmp_path, f, "auto")
    n = 2 << table_bits(ncol)
    assert (d.w, d.h, d.channels, d.bits, d.palette_n) == (w, h, 1, 8, n)
    assert d.px == [i for r in frame for i in r]
    want = [(*c, 0 if i == transparent else 255) for i, c in enumerate(palette)]
    assert d.palette[:ncol] == want


@pytest.mark.parametrize("interlaced", [False, True])
def test_gif_frame_on_a_larger_screen(dump, tmp_path, interlaced):
    frame = [[(x + y) % 4 for x in range(5)] for y in range(9)]
    pal = [(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]
    f = gif(frame, pal, screen=(8, 12), at=(2, 1), interlaced=interlaced, background=3)
    d = decode(dump, tmp_path, f, "gif")
    assert (d.w, d.h) == (8, 12)
    assert d.px == gif_canvas(frame, (8, 12), (2, 1), 3)
    # a frame reaching past the screen grows it
    d = decode(dump, tmp_path, gif(frame, pal, screen=(3, 3), at=(1, 2)), "gif")
    assert (d.w, d.h) == (6, 11)


def test_gif_without_initial_clear_and_long_runs(dump, tmp_path):
    frame = [[1] * 300 for _ in range(40)]  # strings up to the table's end (no clear needed)
    frame[5][7] = 0
    data = lzw_encode([i for r in frame for i in r], 2, clear_first=False)
    d = decode(dump, tmp_path, gif(frame, [(0, 0, 0), (9, 9, 9)], lzw=data), "gif")
    assert d.px == [i for r in frame for i in r]


@pytest.mark.parametrize("clear_when_full", [False, True])
def test_gif_full_table(dump, tmp_path, clear_when_full):
    x, frame = 1, []
    for _y in range(50):
        row = []
        for _x in range(300):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
            row.append((x >> 16) % 256)
        frame.append(row)
    pal = [(i, i, i) for i in range(256)]
    data = lzw_encode([i for r in frame for i in r], 8, clear_when_full=clear_when_full)
    d = decode(dump, tmp_path, gif(frame, pal, lzw=data), "gif")
    assert d.px == [i for r in frame for i in r]


def gif_small() -> bytes:
    frame = [[(x * y) % 3 for x in range(6)] for y in range(5)]
    return gif(frame, [(1, 2, 3), (4, 5, 6), (7, 8, 9)], transparent=2, interlaced=True)


def test_gif_truncations(dump, tmp_path):
    data = gif_small()
    # the trailer (;) and the last block's terminator are not needed
    assert_every_truncation_fails(dump, tmp_path, data, "gif", ("gif: ",), len(data) - 2)


def lzw_codes(codes: list[int], size: int) -> bytes:
    acc = sum(c << (size * i) for i, c in enumerate(codes))
    return acc.to_bytes((size * len(codes) + 7) // 8, "little")


@pytest.mark.parametrize("mutate, words", [
    (lambda f: f[:6], "shorter than its 13-byte header"),
    (lambda f: b"GIF90a" + f[6:], "not a GIF file"),
    (lambda f: f[:10] + b"\0" + f[11:13] + f[13 + 12:], "no colour table"),
    (lambda f: f[:13 + 12] + b";", "no image in the file"),
    (lambda f: f[:13 + 12] + b"\x99", "unknown block 0x99"),
])
def test_gif_refused(dump, tmp_path, mutate, words):
    msg = decode_error(dump, tmp_path, mutate(gif_small()), "gif")
    assert msg.startswith("gif: ") and words in msg, msg


@pytest.mark.parametrize("codes, min_size, words", [
    ([4, 6], 2, "LZW code 6 beyond the table"),        # the first code after a clear
    ([4, 1, 7], 2, "LZW code 7 beyond the table"),     # past the next free entry
    ([4, 1, 5], 2, "ends after 1 of 4 pixels"),         # the end code too soon
    ([4, 1], 2, "truncated"),
    ([4, 3], 2, "colour index 3 beyond the 2-entry"),
])
def test_gif_bad_codes(dump, tmp_path, codes, min_size, words):
    f = gif([[0, 1], [1, 0]], [(0, 0, 0), (1, 1, 1)], min_size=min_size,
            lzw=lzw_codes(codes, min_size + 1))
    msg = decode_error(dump, tmp_path, f, "gif")
    assert msg.startswith("gif: ") and words in msg, msg


@pytest.mark.parametrize("min_size", [1, 9, 12])
def test_gif_bad_code_size(dump, tmp_path, min_size):
    f = gif([[0]], [(0, 0, 0), (1, 1, 1)], min_size=min_size, lzw=b"\0")
    assert f"code size {min_size}" in decode_error(dump, tmp_path, f, "gif")


def test_gif_absurd_size(dump, tmp_path):
    f = bytearray(gif([[0]], [(0, 0, 0), (1, 1, 1)]))
    f[6:10] = b"\xff\xff\xff\xff"
    msg = decode_error(dump, tmp_path, bytes(f), "gif")
    assert msg.startswith("gif: image of 65535x65535"), msg


@settings(HYPO)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=8))
def test_gif_damaged_bytes(dump, tmp_path, hits):
    """Random bytes overwritten: a clean decode or a clean gif: error, never a crash."""
    base = bytearray(gif_small())
    files = []
    for k, (at, v) in enumerate(hits):
        f = bytearray(base)
        f[at % len(f)] = v
        files.append(tmp_path / f"d{k}.gif")
        files[-1].write_bytes(bytes(f))
    for line in each_file(dump, "gif", files):
        assert line.startswith(("ok ", "error gif: ")), line


# ---------------------------------------------------------------------------- JPEG

JPEGS = {  # file: what it covers (made with libjpeg 6.2-turbo; the .ref decodes by its islow)
    "s444": "4:4:4, 37x29 (no whole MCU at the edges)",
    "s420": "4:2:0, 37x29",
    "s422": "4:2:2, 41x23",
    "s440": "4:4:0 (vertical 2:1)",
    "gray": "grayscale 33x17",
    "restart420": "4:2:0 with a restart interval of 3 MCUs",
    "restartgray": "grayscale, a restart marker after every MCU (RST0..7 twice round)",
    "q16bit": "16-bit quantisation tables (SOF1)",
    "scans420": "4:2:0, one scan per component (non-interleaved) with restarts",
}


def read_pnm(data: bytes) -> tuple[int, int, list[int]]:
    _magic, size, _maxval, pixels = data.split(b"\n", 3)
    w, h = map(int, size.split())
    return w, h, list(pixels)


@pytest.mark.parametrize("name", sorted(JPEGS))
def test_jpeg_against_libjpeg(dump, tmp_path, name):
    data = (IMAGES / f"{name}.jpg").read_bytes()
    ref = next(IMAGES.glob(f"{name}.ref.p?m"))
    w, h, want = read_pnm(ref.read_bytes())
    d = decode(dump, tmp_path, data, "auto")
    assert (d.w, d.h, d.channels, d.bits, d.palette_n) == \
        (w, h, 1 if ref.suffix == ".pgm" else 3, 8, 0)
    diff = [abs(a - b) for a, b in zip(d.px, want, strict=True)]
    mse = sum(x * x for x in diff) / len(diff)
    psnr = 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)
    assert psnr >= 45 and max(diff) <= 4, (name, psnr, max(diff))


def jpeg_segments(data: bytes) -> dict[int, int]:
    """The offset of each marker before the first scan's data (the last of each kind)."""
    at, pos = {}, 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        at[data[pos + 1]] = pos
        if data[pos + 1] == 0xDA:
            break
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return at


def jpeg_patch(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new):]


def s420() -> bytes:
    return (IMAGES / "s420.jpg").read_bytes()


def sof_patch(offset: int, new: bytes):
    return lambda f: jpeg_patch(f, jpeg_segments(f)[0xC0] + offset, new)


def dht_counts(counts: bytes):
    return lambda f: jpeg_patch(f, jpeg_segments(f)[0xC4] + 5, counts)


def dht_overfull(f: bytes) -> bytes:
    """Three of the last Huffman table's codes moved to 1 bit: more than 1 bit can tell."""
    at = jpeg_segments(f)[0xC4] + 5
    counts = bytearray(f[at:at + 16])
    longest = max(i for i in range(16) if counts[i] >= 3)
    counts[longest] -= 3
    counts[0] += 3
    return jpeg_patch(f, at, bytes(counts))


@pytest.mark.parametrize("mutate, words", [
    (lambda f: (IMAGES / "progressive.jpg").read_bytes(),
     "jpeg: progressive JPEG is not supported; save it as baseline"),
    (sof_patch(1, b"\xc9"), "jpeg: arithmetic-coded JPEG is not supported"),
    (sof_patch(1, b"\xc3"), "jpeg: lossless JPEG"),
    (sof_patch(4, b"\x0c"), "12-bit samples"),
    (sof_patch(5, b"\xff\xff\xff\xff"), "jpeg: image of 65535x65535"),
    (sof_patch(5, b"\0\0"), "height 0"),
    (sof_patch(14, b"\x31"), "sampling factors 2x2 beside 3x2 are not supported"),
    (sof_patch(11, b"\x05"), "sampling factors 0x5"),
    (dht_overfull, "bad Huffman table (more codes of 1 bits than fit)"),
    (dht_counts(b"\0" * 3 + b"\xff"), "a Huffman table of"),
    (lambda f: f[:jpeg_segments(f)[0xC0]] + f[jpeg_segments(f)[0xDA]:], "before the frame"),
    (lambda f: f[:jpeg_segments(f)[0xDA]] + b"\xff\xd9", "no scan of component 1"),
    (lambda f: f[:2] + f[jpeg_segments(f)[0xC0]:], "quantisation table 0, which is not"),
    (lambda f: jpeg_patch(f, 4, b"\xff\xff"), "segment 0xe0 of 65535 bytes runs past"),
])
def test_jpeg_refused(dump, tmp_path, mutate, words):
    msg = decode_error(dump, tmp_path, mutate(s420()), "jpeg")
    assert msg.startswith("jpeg: ") and words in msg, msg


def test_jpeg_skips_app_and_comment_segments(dump, tmp_path):
    f = s420()
    exif = b"Exif\0\0" + bytes(range(256)) * 3
    extra = b"\xff\xe1" + (len(exif) + 2).to_bytes(2, "big") + exif \
        + b"\xff\xfe\0\x07hello" + b"\xff\xff"  # a fill byte before the next marker
    want = decode(dump, tmp_path, f, "jpeg").px
    assert decode(dump, tmp_path, f[:2] + extra + f[2:], "jpeg").px == want


def test_jpeg_bad_restart_marker(dump, tmp_path):
    f = (IMAGES / "restartgray.jpg").read_bytes()
    at = f.index(b"\xff\xd0", jpeg_segments(f)[0xDA])
    msg = decode_error(dump, tmp_path, jpeg_patch(f, at + 1, b"\xd3"), "jpeg")
    assert msg.startswith("jpeg: restart marker RST0 missing"), msg


def test_jpeg_not_jpeg(dump, tmp_path):
    assert decode_error(dump, tmp_path, b"\xff\xd8", "jpeg").startswith("jpeg: not a JPEG")


@pytest.mark.parametrize("name", ["s420", "restartgray", "scans420"])
def test_jpeg_truncations(dump, tmp_path, name):
    data = (IMAGES / f"{name}.jpg").read_bytes()
    # the image is whole without its EOI marker
    assert_every_truncation_fails(dump, tmp_path, data, "jpeg", ("jpeg: ",), len(data) - 2)


@settings(HYPO)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1,
                max_size=12))
def test_jpeg_damaged_bytes(dump, tmp_path, hits):
    """Random bytes overwritten: a clean decode or a clean jpeg: error, never a crash."""
    files = []
    for k, name in enumerate(["s420", "restart420", "s422"]):
        f = bytearray((IMAGES / f"{name}.jpg").read_bytes())
        for at, v in hits:
            f[at % len(f)] = v
        files.append(tmp_path / f"d{k}.jpg")
        files[-1].write_bytes(bytes(f))
    for line in each_file(dump, "jpeg", files):
        assert line.startswith(("ok ", "error jpeg: ")), line


# ---------------------------------------------------------------------------- PNG

PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
         (0, 1, 1, 2)]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_row(samples: list[int], depth: int) -> bytes:
    if depth == 16:
        return b"".join(struct.pack(">H", v) for v in samples)
    if depth == 8:
        return bytes(samples)
    bits = "".join(format(v, f"0{depth}b") for v in samples)
    bits += "0" * (-len(bits) % 8)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def png_filter(row: bytes, prev: bytes, bpp: int, ft: int) -> bytes:
    out = bytearray()
    for i, v in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else \
            b if abs(p - b) <= abs(p - c) else c
        out.append((v - (0, a, b, (a + b) // 2, paeth)[ft]) & 255)
    return bytes(out)


def png_file(w, h, ctype, depth, samples, interlace=False, extra=b"", level=6):
    """A PNG of these samples (rows from the top, channels interleaved), every filter type in
    turn, Adam7 when interlace."""
    ch = PNG_CHANNELS[ctype]
    bpp = max(1, ch * depth // 8)
    raw = bytearray()
    for x0, y0, dx, dy in ADAM7 if interlace else [(0, 0, 1, 1)]:
        prev = None
        for y in range(y0, h, dy):
            row = [samples[(y * w + x) * ch + k] for x in range(x0, w, dx) for k in range(ch)]
            if not row:
                continue
            packed = png_row(row, depth)
            ft = (x0 + y) % 5
            raw += bytes([ft]) + png_filter(packed, prev or bytes(len(packed)), bpp, ft)
            prev = packed
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra +
            png_chunk(b"IDAT", zlib.compress(bytes(raw), level)) + png_chunk(b"IEND", b""))


PNG_KINDS = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4),
             (3, 8), (4, 8), (4, 16), (6, 8), (6, 16)]


@settings(HYPO)
@given(st.sampled_from(PNG_KINDS), st.integers(1, 19), st.integers(1, 13), st.booleans(),
       st.sampled_from([0, 1, 9]), st.randoms(use_true_random=False))
def test_png_round_trip(dump, tmp_path, kind, w, h, interlace, level, rnd):
    """Every colour type and depth, both interlace methods, every filter, stored and
    compressed blocks: the samples come back exactly (grey below 8 bits widened to 8, as
    image_png.c keeps it)."""
    ctype, depth = kind
    ch = PNG_CHANNELS[ctype]
    top = (1 << depth) - 1
    samples = [rnd.randint(0, top) for _ in range(w * h * ch)]
    extra = b""
    if ctype == 3:
        n = rnd.randint(max(2, top // 2 + 1), top + 1)
        samples = [v % n for v in samples]
        extra = png_chunk(b"PLTE", bytes(rnd.randint(0, 255) for _ in range(3 * n)))
        extra += png_chunk(b"tRNS", bytes([7, 200]))
    got = decode(dump, tmp_path, png_file(w, h, ctype, depth, samples, interlace, extra, level),
                 "png")
    assert (got.w, got.h, got.channels, got.bits) == (w, h, ch, 16 if depth == 16 else 8)
    widen = 255 // top if ctype == 0 and depth < 8 else 1
    assert got.px == [v * widen for v in samples]
    if ctype == 3:
        assert got.palette_n == n and got.palette[0][3] == 7 and got.palette[1][3] == 200
        assert all(p[3] == 255 for p in got.palette[2:])


def png_small() -> bytes:
    return png_file(5, 4, 2, 8, [(i * 37) % 256 for i in range(60)], extra=png_chunk(
        b"gAMA", struct.pack(">I", 45455)))


def test_png_truncations(dump, tmp_path):
    assert_every_truncation_fails(dump, tmp_path, png_small(), "png", ("png: ",))


@pytest.mark.parametrize(("mutate", "words"), [
    (lambda f: f[:33] + png_chunk(b"ABCD", b"x") + f[33:], "critical chunk ABCD"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 3, 2, 0, 0, 0)) +
     f[33:], "colour type 2 with bit depth 3"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 70000, 4, 8, 2, 0, 0, 0)) +
     f[33:], "image of 70000x4 pixels"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 9000, 9000, 8, 2, 0, 0, 0)) +
     f[33:], "image of 9000x9000 pixels"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 9, 9, 8, 2, 0, 0, 0)) +
     f[33:], "image data ends early"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)) +
     f[33:], "more data than the image holds"),
    (lambda f: f[:8] + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 5, 4, 8, 3, 0, 0, 0)) +
     f[33:], "a palette image without PLTE"),
    (lambda f: f[:20] + bytes([f[20] ^ 0x40]) + f[21:], "chunk IHDR fails its CRC"),
    (lambda f: f[:8] + f[33:], "chunk gAMA before IHDR"),
])
def test_png_refused(dump, tmp_path, mutate, words):
    msg = decode_error(dump, tmp_path, mutate(png_small()), "png")
    assert msg.startswith("png: ") and words in msg, msg


def _idat(payload: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", 4, 2, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", payload) +
            png_chunk(b"IEND", b""))


def deflate_bits(*fields: tuple[int, int]) -> bytes:
    """A zlib header and then (value, nbits) fields, least significant bit first as deflate
    packs them (Huffman codes given bit-reversed by the caller)."""
    acc = n = 0
    for value, nbits in fields:
        acc |= value << n
        n += nbits
    return b"\x78\x9c" + acc.to_bytes((n + 7) // 8, "little")


@pytest.mark.parametrize(("payload", "words"), [
    (deflate_bits((1, 1), (3, 2)), "reserved type 3"),
    (b"\x78\x9c\x01\x0a\x00\xf0\xff", "length check fails"),  # stored: NLEN not ~LEN
    # fixed codes: length 3 (code 257 = 0000001, sent reversed) at distance 1, first thing
    (deflate_bits((1, 1), (1, 2), (0b1000000, 7), (0, 5)), "reaching before the data's start"),
    (b"\x79\x9c\x01", "not a zlib stream"),                 # the header check fails
    # dynamic: 19 code-length codes, all of length 1 (only two fit)
    (deflate_bits((1, 1), (2, 2), (0, 5), (0, 5), (15, 4), *[(1, 3)] * 19), "too many codes"),
])
def test_png_bad_deflate_data(dump, tmp_path, payload, words):
    msg = decode_error(dump, tmp_path, _idat(payload), "png")
    assert msg.startswith("png: ") and words in msg, msg


@settings(HYPO)
@given(st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), min_size=1, max_size=8))
def test_png_damaged_bytes(dump, tmp_path, hits):
    """Random bytes overwritten (chunk CRCs fixed up, so the inflater sees the damage): a
    clean decode or a clean png: error, never a crash."""
    base = png_file(9, 7, 6, 8, [(i * 53) % 256 for i in range(9 * 7 * 4)], level=9)
    start = base.index(b"IDAT") + 4
    end = start + struct.unpack(">I", base[start - 8:start - 4])[0]
    files = []
    for k, (at, v) in enumerate(hits):
        body = bytearray(base[start:end])
        body[at % len(body)] = v
        f = base[:start] + bytes(body) + struct.pack(">I", zlib.crc32(b"IDAT" + bytes(body)))
        f += base[end + 4:]
        files.append(tmp_path / f"d{k}.png")
        files[-1].write_bytes(f)
    for line in each_file(dump, "png", files):
        assert line.startswith(("ok ", "error png: ")), line


# ---------------------------------------------------------------------------- POT

@settings(HYPO)
@given(st.integers(1, 9), st.integers(1, 7), st.randoms(use_true_random=False))
def test_pot_round_trip(dump, tmp_path, w, h, rnd):
    """Fractint's POT: a palette GIF twice as wide, each left pixel the high byte of a 16-bit
    grey and the pixel w to its right the low byte (POV-Ray's gif.cpp)."""
    values = [[rnd.randint(0, 65535) for _ in range(w)] for _ in range(h)]
    frame = [[v >> 8 for v in row] + [v & 255 for v in row] for row in values]
    palette = [(i, i, i) for i in range(256)]
    got = decode(dump, tmp_path, gif(frame, palette), "pot")
    assert (got.w, got.h, got.channels, got.bits, got.palette_n) == (w, h, 1, 16, 0)
    assert got.px == [v for row in values for v in row]


def test_pot_of_odd_width_is_refused(dump, tmp_path):
    msg = decode_error(dump, tmp_path, gif([[1, 2, 3]], [(0, 0, 0)] * 4), "pot")
    assert msg.startswith("pot: ") and "even width" in msg, msg
