"""POV-Ray 3.7's omnimax camera (issue 16): its three aspect-ratio cases against POV-Ray's
own renders (tests/data/scenes/lang/README.md), and the distributed render's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import render

from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


@pytest.mark.parametrize("name", ["omnimax", "omnimax_narrow", "omnimax_tall"])
def test_omnimax_matches_povray(render_bin, tmp_path, name):
    img = render(render_bin, LANG / f"{name}.pov", tmp_path / "o.png", 160, 120)
    cmp = compare(img, read_png(LANG / "ref" / f"{name}.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()
    corner = img.rgb[:3]
    assert corner == b"\x00\x00\x00"  # outside the dome's circle: no ray, black
