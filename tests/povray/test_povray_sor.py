"""sor (issue 17): closed and open surfaces of revolution, transformed, one in a difference
(tests/data/scenes/lang/sor.pov) against POV-Ray's render; the distributed render
byte-identical to the native one; the parser's messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_sor_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "sor.pov", min_psnr_db=55.0, max_diff=255)


def test_distributed_sor_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "sor.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("sor { 3, <0, 0>, <1, 1>, <1, 2> }", ["sor needs 4 to 65536 points, got 3"]),
    ("sor { 4, <0, 0>, <1, 1>, <1, 0.5>, <1, 2> }", ["incorrect point 3 in sor"]),
    ("sor { 4, <0, 0>, <-1, 1>, <1, 2>, <1, 3> }", ["incorrect point 2 in sor"]),
    ('sor { 4, <0, 0>, "a", <1, 2>, <1, 3> }', ["a sor point must be a 2D vector"]),
])
def test_sor_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg
