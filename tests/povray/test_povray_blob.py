"""blob and superellipsoid (issue 17): sphere and cylinder components, negative strengths,
the old component form, transforms and CSG (tests/data/scenes/lang/blob.pov), a blob of
3000 components (bigblob.pov), and
superellipsoids of several exponents (superel.pov) against POV-Ray's renders; the
distributed renders byte-identical to the native ones; the parser's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_blob_matches_povray(render_bin, tmp_path):
    # 43 dB: a few pixels on the edges of the blob cut out of the box differ
    matches_povray(render_bin, tmp_path, LANG / "blob.pov", min_psnr_db=42.0, max_diff=255)


def test_distributed_blob_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "blob.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("blob { threshold 0.5 }", ["blob needs at least one component"]),
    ("blob { sphere { 0, 0, 1 } }", ["blob component radius must be positive"]),
    ("blob { cylinder { 0, 0, 1, 1 } }", ["blob cylinder ends must differ"]),
    ("blob { sphere { 0, 1, 1 pigment { rgb 1 } } }", ["'pigment' in a blob component"]),
])
def test_blob_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg


def test_superellipsoid_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "superel.pov", min_psnr_db=55.0, max_diff=255)


def test_distributed_superellipsoid_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "superel.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("superellipsoid { <0, 1> }", ["superellipsoid exponents must be positive"]),
    ("superellipsoid { <1> }", ["superellipsoid needs <e, n>"]),
])
def test_superellipsoid_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg


def test_a_blob_of_thousands_of_components_matches_povray(render_bin, tmp_path):
    """3000 components (a blob took at most 1024 before): pixel-identical, and the sandboxed
    workers, whose buffer is sized by the scene's largest blob, give the native bytes."""
    matches_povray(render_bin, tmp_path, LANG / "bigblob.pov", min_psnr_db=99.0, max_diff=0)
    distributed_equals_native(render_bin, tmp_path, LANG / "bigblob.pov")


def test_transformed_blob_components_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "blobxf.pov")


def test_a_blob_component_sheared_is_refused(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "blob { sphere { 0, 1, 1 scale <1, 2, 1> } }\n")
    assert "bad.pov:5:" in msg and "translate, rotate and a uniform positive scale" in msg, msg


def test_inside_is_povrays(render_bin, tmp_path):
    # POV-Ray 3.7.0.10 prints 1001 for these four points (a sphere; a box minus a sphere)
    src = ("#version 3.7;\n#declare S = sphere { <1, 0, 0>, 1 }\n"
           "#declare U = difference { box { -1, 1 } sphere { 0, 0.8 } translate x*3 }\n"
           "#error concat(str(inside(S, <1, 0.5, 0>), 0, 0), str(inside(S, <2.5, 0, 0>), 0, 0),"
           " str(inside(U, <3, 0, 0>), 0, 0), str(inside(U, <3.9, 0.9, 0>), 0, 0))\n")
    assert "#error: 1001" in parse_error(render_bin, tmp_path, src)
    assert "inside() needs a declared object first, got 'Q'" in parse_error(
        render_bin, tmp_path, "#declare V = inside(Q, <0, 0, 0>);\n")
