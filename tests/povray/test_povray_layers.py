"""Layered textures (issue 17): texture { } texture { }, each layer on top of those before
it, lit as POV-Ray 3.7 lights them (tests/data/scenes/lang/layers.pov: in a transformed
identifier, on an object, on a union, filter and transmit layers with their own finishes
and normals, shadows through every layer) against POV-Ray's render; the distributed render
byte-identical to the native one; the sandboxed client refusing layers out of range; the
parser's limits."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render_source
from test_povray_patterns import HEAD, _client, _scene_bytes

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_layered_textures_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "layers.pov")


def test_distributed_layers_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "layers.pov")


def test_the_last_texture_is_on_top(render_bin, tmp_path):
    """An opaque top layer hides what is under it; under a clear one the lower shows."""
    def scene(textures: str) -> bytes:
        return render_source(render_bin, tmp_path, HEAD + f"sphere {{ 0, 1 {textures} }}\n",
                             name="s").rgb
    red, blue = "texture { pigment { rgb <1, 0, 0> } }", "texture { pigment { rgb <0, 0, 1> } }"
    clear = "texture { pigment { rgbt 1 } }"
    assert scene(red + blue) == scene(blue)
    assert scene(blue + red) == scene(red)
    assert scene(red + clear) == scene(red)


@pytest.mark.parametrize(("first", "count"), [(1, 1), (0, 2), (0xFFFFFFFF, 2)])
def test_client_refuses_layers_out_of_range(render_bin, client_elf, tmp_path, first, count):
    good = _scene_bytes(render_bin, tmp_path, "sphere { 0, 0.8125 texture { pigment { rgb 1 } } "
                        "texture { pigment { rgbt <1, 0, 0, 0.5> } } }\n")
    # the sphere's record: ... u32 bound, u32 layer_first, u32 layer_n (scene format 6),
    # after its radius (0.8125), r2 and cond_first, cond_n, data_first, data_n, bound
    at = good.index(struct.pack("<d", 0.8125)) + 8 + 8 + 4 * 5
    assert good[at:at + 8] == struct.pack("<II", 0, 1)
    bad = good[:at] + struct.pack("<II", first, count) + good[at + 8:]
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, bad)
    assert frames[0][0] == b"X" and "layers" in frames[0][1].decode()


def test_too_many_layers_is_an_error_naming_the_limit(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 " +
                      "texture { pigment { rgbt 0.5 } } " * 70 + "}\n")
    assert "more than 63 layers" in msg
