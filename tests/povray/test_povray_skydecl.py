"""Declared sky_spheres (issue 17): `#declare S = sky_sphere { ... }` used as
`sky_sphere { S transforms }` (skies.inc's S_Cloud1..4), and a sky transform written before
its pigment, against POV-Ray 3.7's renders (tests/data/scenes/lang/skydecl.pov,
skyorder.pov); the distributed render byte-identical to the native one; a sky_sphere
identifier where another kind is wanted is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native, matches_povray, parse_error

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"


@pytest.mark.parametrize("name", ["skydecl", "skyorder"])
def test_declared_sky_matches_povray(render_bin, tmp_path, name):
    matches_povray(render_bin, tmp_path, LANG / f"{name}.pov")


def test_distributed_declared_sky_equals_native(render_bin, tmp_path):
    distributed_equals_native(render_bin, tmp_path, LANG / "skydecl.pov")


def test_sky_identifier_elsewhere_is_an_error(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path,
                      "#version 3.7;\n#declare S = sky_sphere { pigment { rgb 1 } }\n"
                      "sphere { 0, 1 pigment { S } }\n")
    assert "S" in msg and ":3:" in msg


def test_declared_sky_without_pigment_is_an_error(render_bin, tmp_path):
    msg = parse_error(render_bin, tmp_path,
                      "#version 3.7;\n#declare S = sky_sphere { rotate y*10 }\nsky_sphere { S }\n")
    assert "sky_sphere without a pigment" in msg
