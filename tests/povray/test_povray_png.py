"""Our PNG writer (own deflate) round-trips through the PNG reader (zlib); the reader
refuses broken files clearly."""

from __future__ import annotations

import ctypes
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpushare_mq.errors import ImageError
from cpushare_mq.povray.image import Image, compare, decode_png, max_difference, psnr

libc = ctypes.CDLL(None)
libc.free.argtypes = [ctypes.c_void_p]


def encode(povlib, img: Image) -> bytes:
    n = ctypes.c_size_t()
    ptr = povlib.png_encode_rgb(img.rgb, img.width, img.height, ctypes.byref(n))
    assert ptr
    try:
        return ctypes.string_at(ptr, n.value)
    finally:
        libc.free(ptr)


@st.composite
def images(draw):
    w = draw(st.integers(1, 40))
    h = draw(st.integers(1, 20))
    # runs and repeats exercise LZ77 matches; random bytes exercise literals
    palette = draw(st.lists(st.binary(min_size=3, max_size=3), min_size=1, max_size=4))
    noisy = draw(st.booleans())
    if noisy:
        rgb = draw(st.binary(min_size=w * h * 3, max_size=w * h * 3))
    else:
        rgb = b"".join(draw(st.sampled_from(palette)) for _ in range(w * h))
    return Image(w, h, rgb)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images())
def test_png_roundtrip(povlib, img):
    data = encode(povlib, img)
    assert decode_png(data) == img


def test_large_repetitive_image_compresses(povlib):
    img = Image(640, 480, bytes([10, 20, 30]) * (640 * 480))
    data = encode(povlib, img)
    assert decode_png(data) == img
    assert len(data) < len(img.rgb) // 50


def test_reader_errors():
    with pytest.raises(ImageError, match="not a PNG"):
        decode_png(b"GIF89a")
    good = bytearray(b"\x89PNG\r\n\x1a\n")
    ihdr = b"IHDR" + (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    good += (13).to_bytes(4, "big") + ihdr + zlib.crc32(ihdr).to_bytes(4, "big")
    bad_crc = bytes(good[:-1]) + bytes([good[-1] ^ 1])
    with pytest.raises(ImageError, match="CRC"):
        decode_png(bad_crc)
    with pytest.raises(ImageError, match="no IHDR|corrupt|expected"):
        decode_png(bytes(good))


def test_compare_helpers():
    a = Image(2, 1, bytes([0, 0, 0, 255, 255, 255]))
    b = Image(2, 1, bytes([0, 0, 1, 255, 255, 255]))
    assert max_difference(a, b) == 1
    assert psnr(a, a) == float("inf")
    cmp = compare(a, b)
    assert cmp.differing_pixels == 1 and cmp.max_diff == 1 and 50 < cmp.psnr_db < 60
    with pytest.raises(ImageError, match="differ in size"):
        compare(a, Image(1, 1, bytes(3)))
