"""bicubic_patch (issue 17): patches split to their flatness or until their steps are used
up, transformed (split in world space as POV-Ray does), type 0 and 1
(tests/data/scenes/lang/bicubic.pov) against POV-Ray's render; the distributed render
byte-identical to the native one; the parser's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render_source
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
ROW = "<0, 0, 0>, <1, 0, 0>, <2, 0, 0>, <3, 0, 0>, "


def test_bicubic_patch_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "bicubic.pov", min_psnr_db=55.0, max_diff=255)


def test_distributed_bicubic_patch_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "bicubic.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("bicubic_patch { type 2 " + ROW * 4 + "}", ["the bicubic_patch type must be from 0 to 1"]),
    ("bicubic_patch { u_steps 11 " + ROW * 4 + "}", ["u_steps must be from 0 to 10, got 11"]),
    ("bicubic_patch { " + ROW * 3 + "}", ["expected"]),
    ("bicubic_patch { " + (ROW * 4).rstrip(", ") + " uv_vectors <0, 0> <1, 0> <1, 1> <0, 1> }",
     ["unsupported: 'uv_vectors'"]),
])
def test_bicubic_patch_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg


def test_quick_color_is_read_and_dropped(render_bin, tmp_path):
    # POV-Ray uses quick_color only at +Q5 and below (objects/bezier.pov has one)
    base = HEAD + "sphere { 0, 1 pigment { checker rgb 1 rgb <1, 0, 0> QUICK } }\n"
    plain = render_source(render_bin, tmp_path, base.replace("QUICK", ""), name="plain")
    quick = render_source(render_bin, tmp_path, base.replace("QUICK", "quick_color rgb <0, 1, 0>"),
                          name="quick")
    assert plain == quick
