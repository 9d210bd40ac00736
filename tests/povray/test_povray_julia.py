"""julia_fractal (issue 17) against POV-Ray 3.7's render of tests/data/scenes/lang/julia.pov
(quaternion sqr and cube, hypercomplex sqr with a slice, transforms, a fractal cut by a box),
the distributed render byte-identical to the native one, and the parser's one-line errors."""

from __future__ import annotations

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error
from test_povray_isosurface import LANG

HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -5> look_at 0 }\n")


def test_julia_fractals_match_povray(render_bin, tmp_path):
    # a fractal's surface is chaotic: single pixels differ where the last bits of a step
    # decide between two folds (42 dB over the image)
    matches_povray(render_bin, tmp_path, LANG / "julia.pov", min_psnr_db=40.0, max_diff=255)


def test_distributed_julia_fractals_equal_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "julia.pov")


@pytest.mark.parametrize(("src", "words"), [
    ("julia_fractal { <0, 0, 0, 0> hypercomplex exp }",
     ["bad.pov:4:", "unsupported julia_fractal function 'exp'"]),
    ("julia_fractal { <0, 0, 0, 0> reciprocal }", ["unsupported julia_fractal function"]),
    ("julia_fractal { <0, 0, 0, 0> slice <0, 0, 1, 0>, 0 }",
     ["slice needs a non-zero 4th (t) component"]),
    ("julia_fractal { <0, 0, 0, 0> slice <0, 0, 0, 0>, 0 }", ["slice vector is zero"]),
    ("julia_fractal { <0, 0, 0> }", ["needs a vector of 4 numbers"]),
    ("julia_fractal { <0, 0, 0, 0> max_iteration 5000 }", ["max_iteration above 256"]),
])
def test_julia_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, HEAD + src + "\n")
    assert all(w in msg for w in words), msg
