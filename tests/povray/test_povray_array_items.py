"""Parser forms of POV-Ray 3.7 that real scenes use (issue 16): `array[N]` without ';'
followed by `#declare A[i] = ...`, arrays of objects and textures (`object { A[i] }`), initializers
without commas, a trailing comma in a vector, colour identifiers in a pattern's colour list
and checker's default colours (tests/data/scenes/lang/arrayitems.pov) against POV-Ray's
render; str()/vstr() formatting (vstr.pov); the distributed render byte-identical; the
parser's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_array_items_match_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "arrayitems.pov")


def test_distributed_array_items_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "arrayitems.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("#declare A = array[3] { 1 2 }", ["bad.pov:5:", "too few items in the array initializer"]),
    ("#declare A = array[2] { 1, 2, 3 }", ["bad.pov:5:", "too many items"]),
    ("#declare A = array[1] { 2 }\nobject { A[0] }", ["bad.pov:6:", "array element of 'A'",
                                                     "is a float, not an object"]),
    ("#declare A = array[1]\nobject { A[0] }", ["bad.pov:6:", "used before it was set"]),
])
def test_array_item_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg


def test_str_and_vstr_match_povray(render_bin, tmp_path):
    """vstr.pov turns a sphere red where our string differs from POV-Ray's."""
    matches_povray(render_bin, tmp_path, LANG / "vstr.pov")


def test_extents_match_povray(render_bin, tmp_path):
    """extent.pov marks the min_extent/max_extent corners of six kinds of object."""
    matches_povray(render_bin, tmp_path, LANG / "extent.pov")


def test_distributed_extents_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "extent.pov")


@pytest.mark.parametrize(("src", "words"), [
    ('#declare S = vstr(6, <1, 2, 3>, ",", 0, 1);', ["vstr needs 2..5 components, got 6"]),
    ('#declare S = vstr(3, "a", ",", 0, 1);', ["vstr needs a vector, got a string"]),
    ("#declare V = min_extent(3);", ["min_extent needs an object, got a float"]),
    ('#declare V = max_extent("s");', ["max_extent needs an object, got a string"]),
    ("global_settings { charset latin1 }", ["charset must be ascii, utf8 or sys", "latin1"]),
])
def test_vstr_extent_and_charset_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg
