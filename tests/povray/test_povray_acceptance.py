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
