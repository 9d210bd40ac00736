"""Patterns (issue 17): agate, crackle (form, metric, offset, solid), cells and POV-Ray's
default colour maps against POV-Ray 3.7's render of tests/data/scenes/lang/patterns2.pov,
the distributed render of it byte-identical to the native one, and the parser's messages."""

from __future__ import annotations

from pathlib import Path

from conftest import parse_error, render, render_source

from cpushare_mq.povray.cli import main
from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
HEAD = ("#version 3.7;\nglobal_settings { assumed_gamma 1 }\n"
        "camera { location <0, 0, -5> look_at 0 angle 40 }\n"
        "light_source { <0, 0, -10> rgb 1 }\n")


def test_agate_crackle_cells_and_default_maps_match_povray(render_bin, tmp_path):
    img = render(render_bin, LANG / "patterns2.pov", tmp_path / "p.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / "patterns2.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def test_distributed_crackle_equals_native(render_bin, tmp_path, capsys):
    """crackle keeps the nuclei of the last cube it saw: tiles in any order give the same
    bytes as one process."""
    out = tmp_path / "d.png"
    rc = main(["render", str(LANG / "patterns2.pov"), "-W", "160", "-H", "120", "-o", str(out),
               "--tile", "16", "--workers", "2", "--no-progress"])
    assert rc == 0, capsys.readouterr()
    native = render(render_bin, LANG / "patterns2.pov", tmp_path / "n.png", 160, 120)
    assert read_png(out).rgb == native.rgb


def test_a_pattern_without_a_map_takes_povrays_default(render_bin, tmp_path):
    bare = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo scale 0.2 } }\n",
                         name="bare")
    given = render_source(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo color_map { "
                          "[0.4 rgb 1] [0.4 rgb <0, 1, 0>] [0.6 rgb <0, 1, 0>] [0.6 rgb <0, 0, 1>] "
                          "[0.8 rgb <0, 0, 1>] [0.8 rgb <1, 0, 0>] } scale 0.2 } }\n", name="given")
    assert bare.rgb == given.rgb


def test_pattern_keyword_errors(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { crackle metric 0 } }\n")
    assert "bad.pov:5:" in msg and "crackle metric must be positive" in msg
    msg = parse_error(render_bin, tmp_path, HEAD + "sphere { 0, 1 pigment { bozo form <1, 0, 0> } }\n")
    assert "bad.pov:5:" in msg and "'form'" in msg
