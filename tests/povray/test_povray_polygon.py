"""polygon (issue 17): 2D and 3D points, a hole, a star (even-odd), an outline left open,
tilted and transformed polygons (tests/data/scenes/lang/polygon.pov) against POV-Ray's
render; the distributed render byte-identical to the native one; the parser's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_polygon_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "polygon.pov", min_psnr_db=60.0, max_diff=8)


def test_distributed_polygon_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "polygon.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("polygon { 2, <0, 0>, <1, 0> }", ["polygon needs 3 to 65536 points, got 2"]),
    ("polygon { 3, <0, 0>, <1, 1>, <2, 2> }", ["polygon points are all on one line"]),
    ("polygon { 4, <0, 0, 0>, <1, 0, 0>, <1, 1, 0>, <0, 1, 1> }",
     ["polygon points are not in one plane"]),
    ('polygon { 3, <0, 0>, "a", <0, 1> }', ["a polygon point must be a vector"]),
])
def test_polygon_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg
