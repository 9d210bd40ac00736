"""Fixtures of the chaos suite: the slow test program (c/examples/spin.c), scenes, and a process registry that
kills everything a test started (sandboxes orphaned by SIGKILL included)."""

from __future__ import annotations

import ctypes
import subprocess
from pathlib import Path

import pytest
from chaoslib import Procs

from cpushare_mq.native import C_DIR, find_binary

HERE = Path(__file__).resolve().parent
SCENES = HERE.parent / "data" / "scenes"


@pytest.fixture(scope="session")
def slow_elf() -> Path:
    """The CPU-bound example program: fragment = u64 LE iterations + tag (``slow_fragment``),
    result = tag + u64 LE loop result, the same natively and in the sandbox."""
    return find_binary("examples/spin.elf")


@pytest.fixture(scope="session")
def scenes() -> Path:
    return SCENES


@pytest.fixture
def procs(tmp_path):
    registry = Procs(tmp_path)
    try:
        yield registry
    finally:
        registry.cleanup()


@pytest.fixture(scope="session")
def povray_bins() -> dict[str, Path]:
    return {"render": find_binary("povray-render"), "client": find_binary("povray-client.elf")}


@pytest.fixture(scope="session")
def write_png(tmp_path_factory):
    """The project's own PNG writer (c/povray/png.c, as povray-render and povray-server use
    it), so the buyer's assembled image becomes a PNG file comparable byte for byte."""
    lib_path = tmp_path_factory.mktemp("png") / "libchaospng.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-ffp-contract=off",
                    str(C_DIR / "povray" / "png.c"), "-o", str(lib_path)], check=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.png_write_file.restype = ctypes.c_int
    lib.png_write_file.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32,
                                   ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t]

    def write(path: Path, rgb: bytes, width: int, height: int) -> None:
        err = ctypes.create_string_buffer(256)
        if lib.png_write_file(str(path).encode(), rgb, width, height, err, 256) != 0:
            raise OSError(f"png_write_file {path}: {err.value.decode(errors='replace')}")

    return write
