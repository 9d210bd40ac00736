"""The image decoders of c/povray (image.c, image_*.c) through a small driver (image_dump.c).

PNM, TGA and GIF files are written here from known pixels by small encoders and must decode
exactly; the JPEG files in tests/data/images were made once with libjpeg, whose decodes sit
beside them (*.ref.ppm / *.ref.pgm). Hostile files (every truncation, absurd sizes, damaged
codes) must fail with a one-line error naming the format; the driver is built with the
address and undefined-behaviour sanitizers where gcc has them, so a read past the buffer fails.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
POVRAY_C = HERE.parent.parent / "c" / "povray"
IMAGES = HERE.parent / "data" / "images"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
SANITIZE = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
PNG_STUB = """#include "image.h"
#include <stdio.h>
int image_decode_png(const uint8_t *d, size_t n, pov_image *o, char *err, size_t err_len)
{
    (void)d; (void)n; (void)o;
    snprintf(err, err_len, "png: not in this test build");
    return -1;
}
"""

HYPO = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------- the driver

def _sources(tmp: Path) -> list[str]:
    src = sorted(POVRAY_C.glob("image_*.c")) + [POVRAY_C / "image.c", HERE / "image_dump.c"]
    if not (POVRAY_C / "image_png.c").is_file():  # the PNG decoder lives on another branch
        stub = tmp / "image_png_stub.c"
        stub.write_text(PNG_STUB)
        src.append(stub)
    return [str(p) for p in src]


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
