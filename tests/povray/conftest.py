"""Fixtures for the POV-Ray renderer tests: compiled binaries, scenes, helpers."""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import pytest

from cpushare_mq.native import C_DIR, find_binary
from cpushare_mq.povray.image import read_png

SCENES = Path(__file__).resolve().parent.parent / "data" / "scenes"


@pytest.fixture(scope="session")
def render_bin() -> Path:
    return find_binary("povray-render")


@pytest.fixture(scope="session")
def client_elf() -> Path:
    return find_binary("povray-client.elf")


@pytest.fixture(scope="session")
def scenes() -> Path:
    return SCENES


def core_sources() -> list[Path]:
    """The renderer's core as c/povray/Makefile lists it (CORE: what the sandboxed client
    links), so a new core file needs no second list here."""
    text = (C_DIR / "povray" / "Makefile").read_text()
    line = re.search(r"^CORE\s*:=\s*(.*)$", text, re.M)[1]
    return [C_DIR / "rt" / w.split("/", 1)[1] if w.startswith("$(RT)/") else C_DIR / "povray" / w
            for w in line.split()]


@pytest.fixture(scope="session")
def povlib(tmp_path_factory) -> ctypes.CDLL:
    """rt_math.c + png.c + serialize.c as a shared library, for ctypes tests."""
    out = tmp_path_factory.mktemp("povlib") / "libpovtest.so"
    src = [C_DIR / "povray" / "png.c", *core_sources()]
    subprocess.run(
        ["cc", "-O2", "-shared", "-fPIC", "-ffp-contract=off", f"-I{C_DIR / 'rt'}",
         *map(str, src), "-o", str(out)],
        check=True,
    )
    lib = ctypes.CDLL(str(out))
    for name in ("rt_sqrt", "rt_fabs", "rt_floor", "rt_ceil", "rt_exp", "rt_log", "rt_sin",
                 "rt_cos", "rt_tan"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_double]
    for name in ("rt_pow", "rt_fmin", "rt_fmax"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_double
        fn.argtypes = [ctypes.c_double, ctypes.c_double]
    lib.png_encode_rgb.restype = ctypes.c_void_p
    lib.png_encode_rgb.argtypes = [ctypes.c_char_p, ctypes.c_uint32, ctypes.c_uint32,
                                   ctypes.POINTER(ctypes.c_size_t)]
    return lib


def render(render_bin: Path, scene: Path | str, out: Path, w: int, h: int, *extra: str):
    """Run povray-render; return the decoded image."""
    proc = subprocess.run(
        [str(render_bin), str(scene), "-W", str(w), "-H", str(h), "-o", str(out), *extra],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return read_png(out)


def render_source(render_bin: Path, tmp_path: Path, src: str, w: int = 64, h: int = 48,
                  name: str = "scene"):
    p = tmp_path / f"{name}.pov"
    p.write_text(src)
    return render(render_bin, p, tmp_path / f"{name}.png", w, h)


def parse_error(render_bin: Path, tmp_path: Path, src: str) -> str:
    """Render a scene that must fail; return its error message."""
    p = tmp_path / "bad.pov"
    p.write_text(src)
    proc = subprocess.run(
        [str(render_bin), str(p), "-W", "8", "-H", "8", "-o", str(tmp_path / "bad.png")],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode != 0, "scene was accepted"
    assert not (tmp_path / "bad.png").exists()
    return proc.stderr


def distributed_equals_native(render_bin: Path, tmp_path: Path, scene: Path, *extra: str,
                              tile: str = "16") -> None:
    """``cpushare-povray render --tile T --workers 2`` (sandboxed workers, tiles in any
    order) gives the same bytes as ``povray-render`` in one process."""
    from cpushare_mq.povray.cli import main
    from cpushare_mq.povray.image import read_png
    out = tmp_path / "d.png"
    rc = main(["render", str(scene), "-W", "160", "-H", "120", "-o", str(out), "--tile", tile,
               "--workers", "2", "--no-progress", *extra])
    assert rc == 0, f"cpushare-povray render exited {rc}"
    native = render(render_bin, scene, tmp_path / "n.png", 160, 120, *extra)
    assert read_png(out).rgb == native.rgb


def matches_povray(render_bin: Path, tmp_path: Path, scene: Path, min_psnr_db: float = 50.0,
                   max_diff: int = 2) -> None:
    """povray-render's 160x120 image of ``scene`` against POV-Ray's own (ref/NAME.png beside
    it, made with the command in tests/data/scenes/lang/README.md)."""
    from cpushare_mq.povray.image import compare, read_png
    img = render(render_bin, scene, tmp_path / "ours.png", 160, 120)
    cmp = compare(img, read_png(scene.parent / "ref" / f"{scene.stem}.png"))
    assert cmp.psnr_db >= min_psnr_db and cmp.max_diff <= max_diff, cmp.summary()
