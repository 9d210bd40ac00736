"""Where the compiled parts live.

An installed package carries them in ``cpushare_mq/_bin/``; a development checkout builds
them into ``c/build/`` with ``make -C c``. ``CPUSHARE_NATIVE_DIR`` overrides both.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .errors import NativeBuildError

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
C_DIR = REPO_ROOT / "c"
C_BUILD_DIR = C_DIR / "build"


def native_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("CPUSHARE_NATIVE_DIR"):
        dirs.append(Path(os.environ["CPUSHARE_NATIVE_DIR"]))
    dirs += [C_BUILD_DIR, PACKAGE_DIR / "_bin"]
    return dirs


def find_binary(name: str, build: bool = True) -> Path:
    """Return the path of the compiled file ``name`` (e.g. ``cpushare-loader``).

    In a development checkout a missing file is built with ``make -C c`` first (when
    ``build`` is true). Raises :class:`NativeBuildError` naming what is missing and why.
    """
    for d in native_dirs():
        p = d / name
        if p.is_file():
            return p
    if build and (C_DIR / "Makefile").is_file():
        build_c()
        p = C_BUILD_DIR / name
        if p.is_file():
            return p
    raise NativeBuildError(
        f"compiled file {name!r} not found in {', '.join(str(d) for d in native_dirs())}; "
        f"build it with 'make -C {C_DIR}'"
    )


def build_c() -> None:
    """Run ``make -C c`` (quietly); raise :class:`NativeBuildError` with the compiler output."""
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        raise NativeBuildError("no C compiler found (cc/gcc); install gcc to build the sandbox loader")
    proc = subprocess.run(["make", "-s", "-C", str(C_DIR)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise NativeBuildError(f"'make -C {C_DIR}' failed:\n{proc.stdout}{proc.stderr}")
