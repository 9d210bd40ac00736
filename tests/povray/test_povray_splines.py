"""Splines (issue 16): spline { } of POV-Ray 3.7's four kinds, called while parsing, against
the values POV-Ray itself writes for tests/data/scenes/lang/splines.pov; the parser's
messages for bad splines."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import parse_error

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_spline_values_are_povrays(render_bin, tmp_path):
    scene = shutil.copy(LANG / "splines.pov", tmp_path / "splines.pov")
    proc = subprocess.run([str(render_bin), str(scene), "-W", "8", "-H", "8", "-o",
                           str(tmp_path / "o.png")], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "splines.txt").read_text() == (LANG / "ref" / "splines.txt").read_text()


@pytest.mark.parametrize(("src", "words"), [
    # a declaration that fails is an error where it is used, naming its own line
    ("#declare S = spline { }\n#declare V = S(0);",
     ["bad.pov:1:", "a spline needs at least one entry"]),
    ('#declare S = spline { 0, "a" }\n#declare V = S(0);',
     ["bad.pov:1:", "must be a float or vector, got a string"]),
    ("#declare S = spline { 0, 1 1, 2 }\n#declare V = S(0.5, bezier_spline);",
     ["bad.pov:2:", "expected a spline type", "'bezier_spline'"]),
    ("#declare S = function { spline { 0, 1 1, 2 } }\n"
     "sphere { 0, 1 pigment { function { S(x).x } } }",
     ["bad.pov:2:", "unsupported: the spline S in a function evaluated while rendering"]),
])
def test_spline_errors_name_the_line_and_word(render_bin, tmp_path, src, words):
    msg = parse_error(render_bin, tmp_path, src + "\n")
    assert all(w in msg for w in words), msg
