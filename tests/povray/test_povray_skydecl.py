"""Sky spheres (issue 17): `#declare S = sky_sphere { ... }` used as `sky_sphere { S
transforms }` (skies.inc's S_Cloud1..5), a sky transform written before its pigment, and
several pigments layered over the background with POV-Ray 3.7's blend and, before #version
3.7, POV-Ray 3.6's, against POV-Ray 3.7's renders (tests/data/scenes/lang/skydecl.pov,
skyorder.pov, skylayers.pov, skylayers36.pov); the distributed render byte-identical to the
native one; the sandboxed reader refusing a sky count out of range; clear errors. Also
(avgnoweight.pov) an average pigment_map whose entries leave out their weights and
looks_like { IDENT }."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import _client, _scene_bytes

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


@pytest.mark.parametrize("name", ["skydecl", "skyorder", "skylayers", "skylayers36",
                                  "avgnoweight"])
def test_declared_sky_matches_povray(render_bin, tmp_path, name):
    matches_povray(render_bin, tmp_path, LANG / f"{name}.pov")


def test_distributed_declared_sky_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "skydecl.pov")


def test_distributed_layered_sky_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "skylayers.pov")


def test_client_refuses_a_sky_count_out_of_range(render_bin, client_elf, tmp_path):
    src = "sky_sphere { pigment { rgbt <0.25, 0.5, 0.75, 0.5> } }\n"
    good = _scene_bytes(render_bin, tmp_path, src)
    # has_sky (1), the blend flag (0: #version 3.7), the pigment: type 0 (solid), no
    # transform, its colour
    at = good.index(struct.pack("<IIII3d", 1, 0, 0, 0, 0.25, 0.5, 0.75))
    bad = good[:at] + struct.pack("<I", 9) + good[at + 4:]
    assert [k for k, _ in _client(client_elf, good)][-1] == b"E"
    frames = _client(client_elf, bad)
    assert frames[0][0] == b"X" and "sky" in frames[0][1].decode()


@pytest.mark.parametrize(("src", "words"), [
    # a sky_sphere identifier where a pigment is wanted
    ("#declare S = sky_sphere { pigment { rgb 1 } }\nsphere { 0, 1 pigment { S } }\n",
     [":3:", "S"]),
    ("#declare S = sky_sphere { rotate y*10 }\nsky_sphere { S }\n",
     ["sky_sphere without a pigment"]),
    ("sky_sphere {" + " pigment { rgbt 0.5 }" * 9 + " }\n",
     ["more than 8 pigments in sky_sphere"]),
    # POV-Ray wants an average's weight before a colour (as before an identifier)
    ("sky_sphere { pigment { average pigment_map {\n[bozo] [rgb 1] } } }\n",
     [":3:", "pigment_map value"]),
    # POV-Ray moves a looks_like object to the light before its modifiers: refused
    ("#declare B = sphere { 0, 1 }\nlight_source { 1, rgb 1 looks_like { B\nscale 2 } }\n",
     [":4:", "'scale' after an object in looks_like"]),
])
def test_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, "#version 3.7;\n" + src)
    assert all(w in msg for w in words), msg
