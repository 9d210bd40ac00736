"""interior_texture (issue 17): the texture seen where a surface faces away from the ray --
through a clip, through a clear part, on a union's parts, and in the shadows -- against
POV-Ray's render of tests/data/scenes/lang/insidetex.pov; the distributed render byte-identical
to the native one; the parser's message for what is not supported."""

from __future__ import annotations

from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_isosurface import HEAD, LANG


def test_interior_textures_match_povray(render_bin, tmp_path):
    # 4 pixels of 19,200 differ: grazing rays at the transparent box's corners, where the
    # side a shadow ray meets is decided by the last bits of the hit
    matches_povray(render_bin, tmp_path, LANG / "insidetex.pov", min_psnr_db=50.0, max_diff=255)


def test_distributed_interior_textures_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "insidetex.pov")


def test_a_patterned_interior_texture_is_refused(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 interior_texture { checker "
                      "texture { pigment { rgb 1 } } texture { pigment { rgb 0 } } } }\n")
    assert "bad.pov:4:" in msg and "a patterned interior_texture" in msg, msg
