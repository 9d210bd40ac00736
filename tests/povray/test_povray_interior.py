"""Interiors, refraction and the finish features of issue 17 (c/povray/interior.c): each
small scene of tests/data/scenes/lang against POV-Ray 3.7's own render (ref/NAME.png, made
with the command in tests/data/scenes/lang/README.md); the distributed render of them
byte-identical to the native one; clear errors for what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error, render_source

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"

SCENES = ["adcbail"]


@pytest.mark.parametrize("name", SCENES)
def test_interior_scene_matches_povray(render_bin, tmp_path, name):
    matches_povray(render_bin, tmp_path, LANG / f"{name}.pov")


def test_adc_bailout_changes_the_picture(render_bin, tmp_path):
    """The stack of clear boxes looks different when the bailout stops rays early."""
    src = (LANG / "adcbail.pov").read_text()
    low = render_source(render_bin, tmp_path, src.replace("adc_bailout 0.3", "adc_bailout 0.001"),
                        160, 120, name="low")
    high = render_source(render_bin, tmp_path, src, 160, 120, name="high")
    assert low.rgb != high.rgb


def test_adc_bailout_out_of_range_is_an_error(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "global_settings { adc_bailout 2 }\n")
    assert "adc_bailout must be in 0..1, got 2" in msg


def test_distributed_adc_bailout_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "adcbail.pov")
