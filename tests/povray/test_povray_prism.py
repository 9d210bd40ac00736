"""prism and lathe (issue 17): linear, quadratic, cubic and Bezier splines, linear and conic
sweeps, open, sub-curves and CSG (tests/data/scenes/lang/prism.pov, lathe.pov) against
POV-Ray's renders; the distributed renders byte-identical to the native ones; the parser's
messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_patterns import HEAD

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_prism_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "prism.pov")


def test_distributed_prism_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "prism.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("prism { 0, 1, 2, <0, 0>, <1, 0> }", ["prism needs 3..100000 points"]),
    ("prism { 1, 1, 4, <0, 0>, <1, 0>, <0, 1>, <0, 0> }", ["prism heights must differ"]),
    ("prism { cubic_spline 0, 1, 4, <0, 0>, <1, 0>, <0, 1>, <0, 0> }", ["too few points in prism"]),
])
def test_prism_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg


def test_lathe_matches_povray(render_bin, tmp_path):
    matches_povray(render_bin, tmp_path, LANG / "lathe.pov")


def test_distributed_lathe_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "lathe.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("lathe { 1, <0, 0> }", ["lathe with linear_spline needs 2..100000 points"]),
    ("lathe { cubic_spline 3, <0, 0>, <1, 0>, <0, 1> }", ["needs 4..100000 points"]),
    ("lathe { bezier_spline 6, <0, 0>, <1, 0>, <0, 1>, <1, 1>, <0, 2>, <1, 2> }",
     ["a multiple of 4"]),
])
def test_lathe_errors(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert "bad.pov:5:" in msg and all(w in msg for w in words), msg
