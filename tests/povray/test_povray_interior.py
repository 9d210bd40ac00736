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


def test_refraction_and_fading_match_povray(render_bin, tmp_path):
    """interior.pov: a glass sphere (ior 1.5), a faded box (ior 1.3, fade_power 2,
    fade_color) and a diamond-like cylinder (ior 2.4, exponential fade_power 1001) over a
    checker, their shadows faded where the shadow ray is inside; 74 dB against POV-Ray, a
    few edge pixels (where the refracted ray grazes a surface) differ by up to 6 codes."""
    matches_povray(render_bin, tmp_path, LANG / "interior.pov", max_diff=8)


def test_refraction_changes_the_picture(render_bin, tmp_path):
    src = (LANG / "interior.pov").read_text()
    bent = render_source(render_bin, tmp_path, src, 80, 60, name="bent").rgb
    straight = render_source(render_bin, tmp_path, src.replace("ior 1.5", "ior 1"), 80, 60,
                             name="straight").rgb
    assert bent != straight


def test_distributed_interior_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "interior.pov")


def test_dispersion_is_refused_by_name(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path,
                      "sphere { 0, 1 pigment { rgbf 1 } interior { ior 1.5 dispersion 1.1 } }\n")
    assert "unsupported dispersion 1.1" in msg


def test_unknown_interior_word_is_refused(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "sphere { 0, 1 interior { media { } } }\n")
    assert "unsupported word 'media' in interior" in msg


def test_material_is_its_texture_and_interior(render_bin, tmp_path):
    """material { texture { } interior { } } renders as the two given on the object."""
    src = (LANG / "interior.pov").read_text()
    tex = "pigment { rgbf <0.95, 0.98, 1, 0.95> }\n  finish { phong 0.8 reflection 0.1 }"
    assert tex in src
    inner = src.replace(tex, "material { texture { " + tex + " } interior { ior 1.5 } }")
    inner = inner.replace("  interior { ior 1.5 }\n", "", 1)
    assert inner.count("ior 1.5") == 1
    plain = render_source(render_bin, tmp_path, src, 80, 60, name="plain").rgb
    assert render_source(render_bin, tmp_path, inner, 80, 60, name="mat").rgb == plain


def test_unknown_material_word_is_refused(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path, "sphere { 0, 1 material { pigment { rgb 1 } } }\n")
    assert "unsupported word 'pigment' in material" in msg
