"""Optional macro parameters (issue 16): POV-Ray 3.7.1's `#macro M(A, optional B)`, where
a call may leave B out (empty or missing at the end) and B is then undefined in the macro.
POV-Ray 3.7.0 (the installed reference) has no `optional`, so the scene is compared with
POV-Ray's render of the same scene written with every argument given."""

from __future__ import annotations

from pathlib import Path

from conftest import parse_error, render

from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


def test_optional_parameters_match_povray_explicit_render(render_bin, tmp_path):
    img = render(render_bin, LANG / "optional.pov", tmp_path / "o.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "optional_explicit.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def test_leaving_out_a_required_parameter_is_an_error(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "#macro M(A, optional B, C) #end\nM(1, 2)\n")
    assert "bad.pov:2:" in msg and "parameter 3 ('C') is not optional" in msg
    msg = parse_error(render_bin, tmp_path, "#macro M(A, B) #end\nM(, 2)\n")
    assert "parameter 1 ('A') is not optional" in msg
