"""blob and superellipsoid (issue 17): sphere and cylinder components, negative strengths,
the old component form, transforms and CSG (tests/data/scenes/lang/blob.pov), and
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
