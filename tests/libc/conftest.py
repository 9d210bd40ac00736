"""Build helpers of the C library tests: programs built with cpushare-cc (for the sandbox)
and with the host's gcc and C library (the reference)."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from cpushare_mq.sandbox import Sandbox, SandboxLimits

PROGS = Path(__file__).parent / "progs"
LIMITS = SandboxLimits(cpu_s=60, wall_s=300)


def cpushare_cc(*args: str, cwd: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "cpushare_mq.cc", *args], cwd=cwd,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def host_cc(*args: str, cwd: Path) -> None:
    r = subprocess.run(["gcc", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def frame(kind: str, payload: bytes = b"") -> bytes:
    return struct.pack("<IB", len(payload), ord(kind)) + payload


def run_fragments(elf: Path, fragments: list[bytes], shared: bytes = b"") -> list:
    """Run fragments through one warm sandbox; returns (outcome record, output) pairs."""
    out = []
    with Sandbox(elf, shared_input=shared, limits=LIMITS) as sb:
        for f in fragments:
            rec = sb.run(f)
            out.append((rec, sb.last_output))
    return out


def args_fragment(*args: str, stdin: bytes = b"") -> bytes:
    return b"ARGV\0" + b"".join(a.encode() + b"\0" for a in args) + b"\0" + stdin


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("libc-build")


@pytest.fixture(scope="session")
def conv_programs(build_dir) -> tuple[Path, Path]:
    cpushare_cc("-O2", "-o", "conv.elf", str(PROGS / "conv.c"), cwd=build_dir)
    host_cc("-O2", "-o", "conv.native", str(PROGS / "conv.c"), cwd=build_dir)
    return build_dir / "conv.elf", build_dir / "conv.native"


@pytest.fixture(scope="session")
def ports() -> Path:
    """Build c/ports (fetches Debian's zlib and lua5.4 sources once; `make test` does it too)."""
    from cpushare_mq.native import C_DIR

    r = subprocess.run(["make", "-s", "-C", str(C_DIR / "ports")], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, f"building c/ports failed:\n{r.stdout}{r.stderr}"
    return C_DIR / "build" / "ports"
