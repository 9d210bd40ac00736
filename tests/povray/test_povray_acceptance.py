"""The three shared scenes at 640x480 agree with POV-Ray 3.7's own renders."""

from __future__ import annotations

import pytest
from conftest import render

from cpushare_mq.povray.image import compare, read_png


@pytest.mark.parametrize("name", ["simple", "medium", "heavy"])
def test_native_render_matches_povray(render_bin, scenes, tmp_path, name):
    img = render(render_bin, scenes / f"{name}.pov", tmp_path / f"{name}.png", 640, 480)
    ref = read_png(scenes / "ref" / f"{name}.png")
    cmp = compare(img, ref)
    assert cmp.psnr_db >= 50.0, cmp.summary()
    assert cmp.max_diff <= 2, cmp.summary()


def test_demo_scene_matches_povray(render_bin, scenes, tmp_path):
    """examples/demo.pov exercises the whole subset (declared textures and finishes,
    unions, rotate, non-uniform scale, cylinders, checker scale, reflection); its reference
    is POV-Ray 3.7's render at 320x240 (+FN -A +WT1)."""
    demo = scenes.parent.parent.parent / "examples" / "demo.pov"
    img = render(render_bin, demo, tmp_path / "demo.png", 320, 240)
    cmp = compare(img, read_png(scenes / "ref" / "demo_320x240.png"))
    assert cmp.psnr_db >= 50.0, cmp.summary()
    assert cmp.max_diff <= 2, cmp.summary()
