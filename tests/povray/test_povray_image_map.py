"""image_map and bump_map (issue 17) against POV-Ray 3.7's renders of
tests/data/scenes/lang/imagemap.pov and bumpmap.pov (every PNG colour type, the four map types,
interpolation, once, repeat, offset, filter/transmit, gamma from the file, by default and
given), the distributed render byte-identical to the native one (the decoded images travel in
the scene), the parser's one-line errors, and the sandboxed client refusing image data that
points outside its pools."""

from __future__ import annotations

import shutil
import struct

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render
from test_povray_csg import _client
from test_povray_isosurface import LANG

HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -3> look_at 0 }\n")


@pytest.mark.parametrize("scene", ["imagemap.pov", "bumpmap.pov", "materialmap.pov"])
def test_image_bump_and_material_maps_match_povray(render_bin, tmp_path, scene):
    matches_povray(render_bin, tmp_path, LANG / scene)


@pytest.mark.parametrize("scene", ["imagemap.pov", "bumpmap.pov", "materialmap.pov"])
def test_distributed_image_maps_equal_native(render_bin, tmp_path, scene):
    distributed_equals_native(render_bin, tmp_path, LANG / scene)


def _with_images(tmp_path):
    shutil.copytree(LANG / "img", tmp_path / "img")


@pytest.mark.parametrize(("src", "words"), [
    ('plane { z, 0 pigment { image_map { png "img/none.png" } } }',
     ["bad.pov:4:", "cannot find image file 'img/none.png'", "--library-path"]),
    ('plane { z, 0 pigment { image_map { tiff "img/pal4.png" } } }',
     ["bad.pov:4:", "unsupported image type 'tiff'"]),
    ('plane { z, 0 pigment { image_map { "img/make_images.py" } } }',
     ["cannot tell the image type of 'img/make_images.py'"]),
    ('plane { z, 0 pigment { image_map { png "img/make_images.py" } } }',
     ["img/make_images.py': png: not a PNG file"]),
    ('plane { z, 0 pigment { image_map { png "img/rgb8.png" filter 1, 0.5 } } }',
     ["filter N, V needs an image with a palette"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" transmit 16, 0.5 } } }',
     ["transmit entry 16 is not in the image's palette of 16 colours"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" interpolate 1 } } }',
     ["interpolate must be 2, 3 or 4, got 1"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" map_type 3 } } }',
     ["map_type must be 0, 1, 2 or 5, got 3"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" repeat <0, 1> } } }',
     ["repeat needs two positive numbers"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" gamma 0 } } }',
     ["an image's gamma must be positive"]),
    ('plane { z, 0 pigment { image_map { png "img/pal4.png" bump_size 2 } } }',
     ["unsupported word 'bump_size' in image_map"]),
    ('plane { z, 0 normal { bump_map { png "img/pal4.png" filter all 1 } } }',
     ["unsupported word 'filter' in bump_map"]),
    ('plane { z, 0 pigment { image_map { function 10, 10 { x } } } }',
     ["unsupported: an image made by a function"]),
    ('plane { z, 0 normal { image_map { png "img/pal4.png" } } }',
     ["unsupported word 'image_map' in normal"]),
    ('plane { z, 0 texture { material_map { png "img/pal4.png" } } }',
     ["material_map needs at least one texture { }"]),
    ('plane { z, 0 texture { material_map { png "img/pal4.png" filter all 1 texture { } } } }',
     ["unsupported word 'filter' in material_map"]),
])
def test_image_map_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    _with_images(tmp_path)
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg
    assert msg.count("\n") == 1, msg


@pytest.mark.parametrize("cut", [8, 20, 33, 60, -13, -1])
def test_a_damaged_png_is_refused_with_its_reason(render_bin, tmp_path, cut):
    _with_images(tmp_path)
    data = (tmp_path / "img" / "rgb8.png").read_bytes()
    (tmp_path / "img" / "cut.png").write_bytes(data[:cut])
    msg = parse_error(render_bin, tmp_path, HEAD + 'plane { z, 0 pigment { image_map { png '
                      '"img/cut.png" } } }\n')
    assert "img/cut.png': png: " in msg and msg.count("\n") == 1, msg


def test_a_png_with_a_bad_crc_is_refused(render_bin, tmp_path):
    _with_images(tmp_path)
    data = bytearray((tmp_path / "img" / "rgb8.png").read_bytes())
    data[60] ^= 0x55  # inside the IDAT chunk (after the signature, IHDR and gAMA: 49 bytes)
    (tmp_path / "img" / "bad.png").write_bytes(bytes(data))
    msg = parse_error(render_bin, tmp_path, HEAD + 'plane { z, 0 pigment { image_map { png '
                      '"img/bad.png" } } }\n')
    assert "fails its CRC" in msg, msg


# The image record of img/pal4.png as the scene carries it (c/povray/serialize_image.c):
# u32 w, h, channels, indexed, max, px_first, lut_first, lut_n, map_type, interpolate, once,
# use_colour
RECORD = struct.pack("<8I", 24, 16, 1, 1, 255, 0, 0, 80)


@pytest.mark.parametrize(("field", "value", "message"), [
    (5, 1, "image beyond its pools"),          # px_first: the last sample past the pool
    (7, 50, "image sample beyond its colour table"),  # 10 entries; the image uses index 13
    (8, 3, "bad image mapping"),               # map_type 3
    (2, 5, "bad image size or samples"),       # 5 channels
])
def test_client_refuses_image_data_outside_its_pools(render_bin, client_elf, tmp_path, field,
                                                     value, message):
    _with_images(tmp_path)
    scene = tmp_path / "s.pov"
    scene.write_text(HEAD + 'light_source { <0, 5, -5> rgb 1 }\nplane { z, 0 pigment { '
                     'image_map { png "img/pal4.png" } } }\n')
    render(render_bin, scene, tmp_path / "s.png", 8, 6, "--dump-scene", str(tmp_path / "d"))
    good = (tmp_path / "d").read_bytes()
    at = good.find(RECORD)
    assert at > 0 and good.find(RECORD, at + 1) < 0
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    bad = bytearray(good)
    bad[at + 4 * field: at + 4 * field + 4] = struct.pack("<I", value)
    frames = _client(client_elf, bytes(bad))
    assert frames[0][0] == b"X" and message.encode() in frames[0][1], frames[0]
