"""Patterned textures (issue 17): checker, hexagon and brick textures and texture_map blending
whole lit textures (tests/data/scenes/lang/tmaps.pov), the old tiles { } texture (tiles.pov,
a layered tile) and patterned textures inside patterned textures, their entries evaluated at
their map's point (nesttex.pov) against POV-Ray's renders; the
distributed render byte-identical to the native one; the sandboxed client refusing a
patterned texture out of range; the parser's messages."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD, _client, _scene_bytes

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


@pytest.mark.parametrize("name", ["tmaps", "tiles", "nesttex"])
def test_patterned_textures_match_povray(render_bin, tmp_path, name):
    matches_povray(render_bin, tmp_path, LANG / f"{name}.pov")


@pytest.mark.parametrize("name", ["tmaps", "tiles", "nesttex"])
def test_distributed_patterned_textures_equal_native(render_bin, tmp_path, name):
    distributed_equals_native(render_bin, tmp_path, LANG / f"{name}.pov")


@pytest.mark.parametrize("tmap", [2, 0xFFFFFFFF])
def test_client_refuses_a_patterned_texture_out_of_range(render_bin, client_elf, tmp_path, tmap):
    good = _scene_bytes(render_bin, tmp_path, "sphere { 0, 0.8125 texture { checker "
                        "texture { pigment { rgb 1 } } texture { pigment { rgb 0 } } } }\n")
    # after the radius (0.8125), r2, cond_first, cond_n, data_first, data_n, bound,
    # layer_first, layer_n: the u32 tmap (1 + its index; scene format 6)
    at = good.index(struct.pack("<d", 0.8125)) + 8 + 8 + 4 * 7
    assert good[at:at + 4] == struct.pack("<I", 1)
    bad = good[:at] + struct.pack("<I", tmap) + good[at + 4:]
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, bad)
    assert frames[0][0] == b"X" and "patterned texture" in frames[0][1].decode()


def _nested(depth: int) -> str:
    """A checker texture whose first entry is a checker texture ... ``depth`` deep."""
    if depth == 0:
        return "texture { pigment { rgb 1 } }"
    return f"texture {{ checker {_nested(depth - 1)} texture {{ pigment {{ rgb 0 }} }} }}"


def test_patterned_textures_nest_sixteen_deep(render_bin, tmp_path):
    """The deepest nesting the scene reader takes renders (each map's entries name only maps
    before it)."""
    _scene_bytes(render_bin, tmp_path, f"sphere {{ 0, 1 {_nested(16)} }}\n")


@pytest.mark.parametrize("sub", [2, 3, 0xFFFFFFFF])
def test_client_refuses_a_nested_patterned_texture_that_is_not_before_its_map(
        render_bin, client_elf, tmp_path, sub):
    """Map 1's entry 0.3125 is map 0 (its tmap field 1): naming its own map (2, a cycle), a
    later one or none that exists is refused, never followed."""
    good = _scene_bytes(render_bin, tmp_path, "sphere { 0, 1 texture { gradient x texture_map { "
                        "[0.3125 gradient y texture_map { [0.1875 pigment { rgb 1 }] "
                        "[0.9375 pigment { rgb 0 }] }] [0.6875 pigment { rgb 1 }] } } }\n")
    # an entry ends with its u32 tmap (scene format 10): the one before entry 0.6875's value
    at = good.index(struct.pack("<d", 0.6875)) - 4
    assert good[at:at + 4] == struct.pack("<I", 1)
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, good[:at] + struct.pack("<I", sub) + good[at + 4:])
    assert frames[0][0] == b"X" and "patterned texture inside" in frames[0][1].decode()


@pytest.mark.parametrize(("src", "words"), [
    ("texture { gradient x texture_map { [0.6 pigment { rgb 1 }] [0.2 pigment { rgb 0 }] } }",
     ["texture_map values must not decrease"]),
    (_nested(17), ["patterned textures nested more than 16 deep"]),
    ("texture { gradient x scale 2 }", ["needs its textures"]),
    ("texture { pigment { rgb 1 } } texture { checker texture { pigment { rgb 1 } } "
     "texture { pigment { rgb 0 } } }", ["patterned texture", "layered texture"]),
    ("texture { average texture_map { [-1 pigment { rgb 1 }] } }",
     ["average's texture_map weights must not be negative"]),
    ("texture { tiles { texture { pigment { rgb 1 } } texture { pigment { rgb 0 } } } }",
     ["tiles needs 'tile2'"]),
    ("texture { tiles { texture { pigment { rgb 1 } } tile2 } }",
     ["tiles needs texture { } before and after tile2"]),
])
def test_patterned_texture_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + f"sphere {{ 0, 1\n{src}\n}}\n")
    assert "bad.pov:" in msg and all(w in msg for w in words), msg
