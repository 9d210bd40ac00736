"""POV-Ray 3.7's own sample scenes (Debian's povray-examples, installed by `make test` as
root on Debian: scripts/install-test-packages): the distributed render of scenes made of
issue 17's features -- CSG, the primitives, patterns, textures, area lights, a height_field
read from a PNG beside the scene -- gives the same bytes as the native render. (How close
each comes to POV-Ray's own picture is bench/povray_samples.py's measure.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import distributed_equals_native

SAMPLES = Path("/usr/share/povray-3.7/scenes")

pytestmark = pytest.mark.skipif(
    not (SAMPLES / "objects" / "primitiv.pov").exists(),
    reason="POV-Ray's sample scenes are not installed (as root on Debian: apt-get install "
           "povray povray-includes povray-examples; `make test` does it)")


@pytest.mark.parametrize("scene", ["objects/primitiv.pov", "advanced/drums2/drums.pov",
                                   "advanced/crater/crater.pov", "lights/circular.pov"])
def test_sample_scene_distributed_equals_native(render_bin, tmp_path, scene):
    distributed_equals_native(render_bin, tmp_path, SAMPLES / scene)
